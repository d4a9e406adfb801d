// Package sandbox is Tagdíj's local test PKI and its test trust services
// (SPEC §1, sandbox row): an RFC 3161 time-stamping authority, an OCSP
// responder and CRL distribution, served over HTTP on the loopback interface
// only. Tests, the demo and the benchmarks use it instead of real
// certification and time-stamping service providers (SIG-25).
//
// [Init] writes a realistic, freshly keyed PKI into a directory: a root CA,
// a qualified issuing CA whose signer certificates carry QcStatements
// (QcCompliance, QcSSCD, QcType esign), an advanced (non-qualified) CA for
// encryption and receipt certificates, a TSA CA with one TSA unit, a
// delegated OCSP responder, a separate TLS CA with the fund's server
// certificate, two demo employers with three signers each, an expired and a
// not-yet-valid signer, and the encryption certificates of the employers, the
// fund and the tax authority. Every entity is listed in the manifest
// (dir/sandbox.json) with its role, subject, serial, SHA-256 fingerprint and
// files; keys are PKCS#12 files protected by the random password in
// dir/secrets/p12.pass. [Load] opens such a directory as a [World].
//
// [Revoke] records a revocation in dir/revocations.json. The HTTP handler
// ([World.Handler]) rereads that file when it changes, so a revocation made
// by another process (the `sandbox revoke` command) shows up in the next OCSP
// response and CRL of a running server.
//
// Everything here is for testing. The keys are on disk under a password
// stored next to them; the certificates use the ITU-T example OID arc 2.999
// for their sandbox policies so they cannot be mistaken for real ones.
package sandbox
