package pack

// LockFileForTest exposes lockFile to the external tests.
var LockFileForTest = lockFile
