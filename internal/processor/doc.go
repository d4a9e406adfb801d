// Package processor is the fund's processing side (SPEC §1 processor, §3, §5; PRC-01…PRC-10,
// DEF-10…DEF-12, ADM-01, ADM-02, SEC-02, SEC-12): it takes the jobs the receiver queued — one per
// accepted package, due at its earliest final-check time — and brings each to a final outcome. It has
// no HTTP in it; cmd/processor wires it (schedule, admin listener, keys, stores).
//
// # The job pipeline
//
// Every job runs these steps in order; between two steps (Step, where Config.Hook is called) nothing
// is half-written, and each step is idempotent, so a processor killed anywhere leaves a job that the
// next attempt finishes:
//
//  1. claim: the Queue leases the job to this processor (Config.Owner) for Config.Lease, renewed while
//     the job runs; a crashed processor's job is taken over when its lease expires (cmd/processor
//     leases under a name of its own per process, so a restart waits for the expiry too, and two
//     processes under one instance name never release each other's leases);
//  2. resume: if the archive already holds the package (an earlier attempt crashed after archiving),
//     its archived outcome stands; only the hand-off and the store update remain;
//  3. final validation: pack.Verify of the stored package bytes at the current time with online
//     revocation evidence (OCSP preferred, CRL fallback, the processors' shared cache) under SPEC §3's
//     grace-period rule. Incomplete only for want of time (trust.OnlyWaiting: the grace period, evidence
//     unavailable) is TRY_LATER: the job is rescheduled with backoff, never later than the signer
//     certificate's notAfter, and when that nears (Config.AlertBefore, trust.FinalCheckAlert) an alert
//     is raised: a log line, the tagdij_processor_expiry_alerts_total metric, the package's status.
//     TOTAL-FAILED (revoked at or before T: A005), or incomplete for a reason time cannot cure, is
//     final-invalid: archived with its report, never decrypted;
//  4. extension: xades.Extend (XAdES-X-L and an ArchiveTimeStamp, with the TSA's validation data); the
//     original bytes are archived unchanged beside the extended package;
//  5. decryption: pack.OpenDossier with the fund's decryption key (PKCS#12 or PKCS#11), decompressed
//     under the bomb limits and never beyond the signed es:SourceSize (D001, D002). A key that does not
//     work (a token gone) is an error of the fund's side, retried, never a D001;
//  6. content: declaration.Validate (hardened parse, XSD: D003; rules D004–D008, D008's predecessor
//     from the archive, or waiting while it is still pending in the store), the declaration against
//     the signed metadata the receiver accepted it on (F009; the declarant D009) and the declarant
//     against the registry as of the arrival (D009; a different name or seat is a warning);
//  7. archive: archive.Put (write-once, idempotent per package): original, extended package, receipt,
//     final report, outcome and codes;
//  8. hand-off: one directory per package in Config.HandOffDir, published at once (durable.WriteDir):
//     osszesito.json (HandOffJSON) always, bevallas.xml for a processed package. The declaration's
//     plaintext is written nowhere else;
//  9. final state: Queue.Complete records the outcome (processed, final-invalid, content-rejected),
//     the final check's state and every code, and the package's status, in one transaction.
//
// A failure of the fund's side anywhere (TSA, archive, store, key) reschedules the job with backoff:
// nothing is lost, nothing is decided on it. Every time comes from Config.Clock.
package processor
