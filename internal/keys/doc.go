// Package keys opens the private keys Tagdíj signs and decrypts with, from
// PKCS#12 files and from PKCS#11 tokens (smart cards, HSMs; SoftHSM2 in
// tests), and reads the passwords and PINs that unlock them.
//
// Every key is a [Key]: a [crypto.Signer] bound to its X.509 certificate and
// the CA certificates above it. RSA keys can also decrypt; [Decrypter] gives
// the [crypto.Decrypter] when the key and its certificate allow it. The fund's
// receipt-signing key and its decryption key are expected to be separate keys
// (SPEC §9): a key whose certificate carries a key usage extension only signs
// when that extension permits signing and only decrypts when it permits key or
// data encipherment, and keys imported with [ImportToPKCS11] carry the same
// restriction as token attributes (CKA_SIGN, CKA_DECRYPT) so the token itself
// enforces it.
//
// With PKCS#11 the signature and the decryption are computed inside the token
// (SIG-11); the private key never leaves it. When a token holds several keys,
// [PKCS11Config] selects one by key label or ID, or by certificate subject or
// serial number (SIG-10); an empty or ambiguous selection is an error that
// lists the candidates (see [SelectionError]).
//
// Secrets (PKCS#12 passwords, token PINs) come from a [Secret]. The only
// sources a user can name are a file, an environment variable or an
// interactive terminal prompt ([ParseSecretSource]); there is deliberately no
// way to pass a secret as a command-line literal (SEC-03). Secret bytes are
// wiped after use where the underlying library lets us.
//
// # Process-wide PKCS#11 state
//
// PKCS#11 allows one C_Initialize per module per process, and the login state
// of a token is shared by every session the process has on it. The package
// mirrors that in a single registry guarded by a mutex: a module is loaded
// once and finalised when the last key (or listing) using it is closed, and a
// token is logged in once. A second [OpenPKCS11] on a token that is already
// logged in must present the same PIN (compared through a keyed hash), so a
// wrong PIN is never silently accepted because another key logged in first.
// This registry is the package's only mutable global state; the PKCS#11
// standard forces it.
//
// SoftHSM2 reads its configuration file from the SOFTHSM2_CONF environment
// variable when the module is initialised, so callers using package
// [github.com/tagdij/tagdij/internal/keys/softhsm] must set that variable
// (t.Setenv in tests) before the first key on that module is opened.
package keys
