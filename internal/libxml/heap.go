package libxml

// CHeapInUse reports the bytes the C allocator (glibc malloc, as mallinfo2 counts them: arena chunks
// in use plus mmap'd blocks) has handed out and not yet freed, in the whole process. libxml2 keeps
// every parsed Document, its text and its canonicalization buffers there, out of the Go runtime's sight,
// so a peak-memory measurement that reads only the Go heap misses them.
//
// It is a diagnostic for benchmarks and tests: it counts every C allocation of the process (not only
// libxml2's), it costs a walk of the allocator's bins (do not call it on a hot path), and it is no
// limit and no accounting of one Document.
func CHeapInUse() uint64 { return cHeapInUse() }
