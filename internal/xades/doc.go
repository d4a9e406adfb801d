// Package xades is Tagdíj's signature engine: it signs e-akta (.es3) dossiers with XAdES frame
// signatures, time-stamps them after the last signer, verifies them under the signature policy with
// the grace-period rule, and extends them with validation data for verification years later
// (SPEC §2, §3, §7, §8; SND-02, SND-03, SND-12, SND-17, SND-19, SND-25, RCV-04, RCV-05, PRC-04–PRC-06,
// SIG-15, SIG-21, SIG-22, DEF-09–DEF-12).
//
// # Life of a package
//
//	out, id, err := xades.Sign(ctx, dossier, xades.SignOptions{...})   // once per signer
//	out, ids, err := xades.Timestamp(ctx, out, xades.TimestampOptions{TSA: client}) // after the last
//	rep, err := xades.Verify(ctx, out, xades.VerifyOptions{Env: env, Kind: policy.KindPackage, Now: t})
//	ext, rep, err := xades.Extend(ctx, out, xades.ExtendOptions{...})   // processor, after the grace period
//	r, err := xades.RenewalDue(ext, xades.RenewalOptions{Policy: pol, Now: t}) // archive: renew when r.Due
//	ext, ids, err = xades.Renew(ctx, ext, xades.RenewOptions{TSA: client, Env: env, Now: t}) // archive renewal
//
// # Bytes, never re-serialization
//
// A dossier is written once by es3. Every later step inserts bytes (internal/xmlsplice locates the
// insertion points; internal/xmldsig splices digests and the signature value into the template):
// a new ds:Signature goes before the end tag of es:Dossier, unsigned properties go at the end of their
// QualifyingProperties or UnsignedSignatureProperties. No byte that any signature or time-stamp covers
// ever changes, so earlier signatures stay valid for every verifier (xmlsec1 included), and the tests
// check it.
//
// # Shape of a signature
//
//	ds:Signature xmlns:ds Id=Signature-<uuid>
//	  ds:SignedInfo (exc-c14n; rsa-sha256 | ecdsa-sha256/384 | rsa-pss)
//	    ds:Reference Id=…-Ref-DossierProfile URI=#<DossierProfile>   exc-c14n, SHA-256
//	    ds:Reference Id=…-Ref-Documents      URI=#<Documents>
//	    ds:Reference Id=…-Ref-Object-<i>     URI=#<payload ds:Object>  (one per document)
//	    ds:Reference Id=…-Ref-SignatureProfile URI=#…-ProfileObject
//	    ds:Reference Id=…-Ref-SignedProperties URI=#…-SignedProperties Type=…#SignedProperties
//	  ds:SignatureValue Id=…-SigValue
//	  ds:KeyInfo/ds:X509Data: signer certificate, then its chain
//	  ds:Object Id=…-ProfileObject / es:SignatureProfile (SignerName, Type=signature, Generator)
//	  ds:Object Id=…-QualifyingPropertiesObject / xades:QualifyingProperties Target=#<sig>
//	    SignedProperties: SigningTime, SigningCertificate (signer only), SignaturePolicyIdentifier,
//	      DataObjectFormat per data reference, CommitmentTypeIndication (all data objects)
//	    UnsignedProperties/UnsignedSignatureProperties (Timestamp, then Extend):
//	      SignatureTimeStamp, CompleteCertificateRefs,
//	      CompleteRevocationRefs, CertificateValues, RevocationValues,
//	      SigAndRefsTimeStamp, xades141:TimeStampValidationData, xades141:ArchiveTimeStamp,
//	      then per renewal [xades141:TimeStampValidationData,] xades141:ArchiveTimeStamp
//
// Signatures are parallel: each covers the dossier's content and its own parts, not the other
// signatures. Removing one leaves the others valid; whether the remaining signers suffice is the
// receiver's registry rule (B003), not this package's.
//
// # Decisions
//
//   - SigningCertificate references only the signer's certificate; CA certificates are referenced by
//     CompleteCertificateRefs (SND-03) and carried by KeyInfo and, after Extend, CertificateValues.
//   - A SigningCertificate that does not identify the KeyInfo certificate that verified the signature
//     (another certificate's digest, a swapped KeyInfo) is F002, TOTAL-FAILED/SIG_CONSTRAINTS_FAILURE.
//     A KeyInfo certificate swapped for another key is caught earlier: the SignatureValue no longer
//     verifies (A001).
//   - A SignatureTimeStamp whose imprint is not this signature's canonical SignatureValue (for example
//     another signature's time-stamp) is A007, TOTAL-FAILED/HASH_FAILURE in a Tagdíj dossier (disregarded
//     on a foreign signature); an untrusted TSA is A007, INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND, and a
//     Tagdíj signature whose only time-stamps are untrusted is F005, INDETERMINATE/NO_POE (not the
//     FORMAT_FAILURE of a missing time-stamp).
//   - The TSA chain of the SignatureTimeStamp is judged under the grace rule like the signer's (its
//     evidence goes into TimeStampValidationData at extension). An ArchiveTimeStamp that a later one
//     covers has its TSA chain judged the same way, at its genTime, on the TimeStampValidationData
//     Renew added before the later one (or, online, on fetched evidence): that keeps it a proof after
//     its TSA certificate expired. The SigAndRefsTimeStamp and the newest ArchiveTimeStamp are checked
//     against the TSA anchors at their genTime without revocation: there is no later evidence for the
//     newest time-stamp, which is what the next renewal adds.
//   - The level reported is B (core-valid), T (valid SignatureTimeStamp), C (plus complete certificate
//     and revocation references), X (valid SigAndRefsTimeStamp), X-L (plus values), A (valid
//     ArchiveTimeStamp).
//   - After the signer certificate's notAfter, a TOTAL-PASSED verdict can only rest on evidence the
//     signature embeds; the report then carries an A006 warning saying so (PRC-05).
//
// # Verdicts
//
// Two validation policies: a Tagdíj dossier (es3.Strict: packages, receipts) is judged under the
// signature policy in force, whose rules are fixed; any other signature ("generic": VerifyGeneric, and
// Verify in es3.Generic mode) under the generic validation policy, which is ETSI EN 319 102-1's: only
// what can never become valid is TOTAL-FAILED, and whatever another verifier — with a trust anchor,
// revocation data, an implementation of an algorithm, a proof of existence this one lacks — could
// still accept is INDETERMINATE. The mapping of each class of finding (indication/sub-indication,
// SPEC §7 code; TF = TOTAL-FAILED, IND = INDETERMINATE):
//
//	finding                                     Tagdíj (strict)                     generic                             §7
//	digest of a reference differs               TF/HASH_FAILURE                     TF/HASH_FAILURE                     A002
//	SignatureValue does not verify              TF/SIG_CRYPTO_FAILURE               TF/SIG_CRYPTO_FAILURE               A001
//	not XML, forbidden construct, limit,        TF/FORMAT_FAILURE                   TF/FORMAT_FAILURE                   T005 T006
//	  duplicate Id, malformed signature
//	wrapping: a reference outside the required  TF/SIGNED_DATA_NOT_FOUND *          TF/SIGNED_DATA_NOT_FOUND *          F012
//	  set, SignedProperties not covered
//	SigningCertificate ≠ KeyInfo certificate    TF/SIG_CONSTRAINTS_FAILURE *        TF/SIG_CONSTRAINTS_FAILURE *        F002
//	revoked at or before T, T proven by a       TF/REVOKED                          TF/REVOKED                          A005
//	  verified time-stamp (SPEC §3)
//	revoked, no time-stamp (T = now)            (fails F005 anyway)                 IND/REVOKED_NO_POE                  A005
//	certificate not yet valid at T              TF/NOT_YET_VALID                    TF/NOT_YET_VALID                    A006
//	certificate expired at T (no proof the      IND/OUT_OF_BOUNDS_NO_POE            IND/OUT_OF_BOUNDS_NO_POE            A006
//	  signature existed before the expiry)
//	final check after expiry, no embedded       IND/OUT_OF_BOUNDS_NO_POE            IND/OUT_OF_BOUNDS_NO_POE            A011
//	  evidence (PRC-05)
//	no chain to an anchor (no anchors at all)   IND/NO_CERTIFICATE_CHAIN_FOUND      IND/NO_CERTIFICATE_CHAIN_FOUND      A003
//	TSA chains to no anchor                     IND/NO_CERTIFICATE_CHAIN_FOUND      IND/NO_CERTIFICATE_CHAIN_FOUND      A007
//	  and so no T                               IND/NO_POE                          (basic validation at now)           F005
//	grace period not over                       IND/TRY_LATER                       IND/TRY_LATER                       A012
//	covered ArchiveTimeStamp: TSA revoked at    TF/REVOKED or IND/TRY_LATER         W0, the time-stamp is disregarded   A005 A011
//	  or before it, or no evidence for its TSA
//	revocation data unavailable, unknown        IND/TRY_LATER                       IND/TRY_LATER                       A011
//	chain: algorithm or key size (pathval)      IND/CRYPTO_CONSTRAINTS_FAILURE_NO_POE  (same)                           A013
//	chain: key usage, not qualified             TF/CHAIN_CONSTRAINTS_FAILURE *      IND/CHAIN_CONSTRAINTS_FAILURE       A003 A004
//	chain: error of no known class              IND/CERTIFICATE_CHAIN_GENERAL_FAILURE  (same)                           A010
//	signature algorithm, digest, key size or    TF/CRYPTO_CONSTRAINTS_FAILURE *     with a sunset: passes if T is       A013
//	  C14N the policy does not accept                                                 before it, else IND/CRYPTO_
//	                                                                                  CONSTRAINTS_FAILURE_NO_POE;
//	                                                                                  no sunset: IND/CRYPTO_CONSTRAINTS_FAILURE
//	algorithm or curve not implemented          TF/CRYPTO_CONSTRAINTS_FAILURE *     IND/CRYPTO_CONSTRAINTS_FAILURE      A013
//	transform or kind of reference not          TF/FORMAT_FAILURE                   IND/SIGNED_DATA_NOT_FOUND           A013 F012
//	  implemented (XPath, XSLT, external URI)
//	reference resolves to no element            TF/SIGNED_DATA_NOT_FOUND *          IND/SIGNED_DATA_NOT_FOUND           F012
//	key not readable (only named,               TF/CRYPTO_CONSTRAINTS_FAILURE *     IND/NO_SIGNING_CERTIFICATE_FOUND    A013 F012
//	  RetrievalMethod) or not usable            or TF/FORMAT_FAILURE                or IND/CRYPTO_CONSTRAINTS_FAILURE
//	KeyInfo without a certificate               TF/NO_SIGNING_CERTIFICATE_FOUND *   IND/NO_SIGNING_CERTIFICATE_FOUND    F002
//	required property, DataObjectFormat, MIME   TF/FORMAT_FAILURE                   not a rule                          F001–F007
//	commitment type                             TF/FORMAT_FAILURE or                not a rule                          F008
//	                                              POLICY_PROCESSING_ERROR *
//	SignaturePolicyIdentifier: other policy,    TF/POLICY_PROCESSING_ERROR *        W0, not evaluated                   A010
//	  implied, wrong hash; policy validity
//	no SignatureTimeStamp                       TF/FORMAT_FAILURE                   not a rule (no T)                   F005
//	time-stamp that proves nothing (imprint,    TF/HASH_FAILURE, FORMAT_FAILURE,    W0, the time-stamp is disregarded   A007 A013
//	  token, algorithm, no token, after the       CRYPTO_CONSTRAINTS_FAILURE or *                                       F005
//	  validation time)                            TIMESTAMP_ORDER_FAILURE *
//	time-stamp before SigningTime (> skew)      TF/TIMESTAMP_ORDER_FAILURE *        IND/TIMESTAMP_ORDER_FAILURE         A008
//	SigningTime → T, T → arrival gaps           TF/SIG_CONSTRAINTS_FAILURE *        not a rule                          A008 A009
//	the policy does not cover the kind          IND/POLICY_PROCESSING_ERROR         —                                   A010
//
// Pairs marked * are Tagdíj's departures from EN 319 102-1 table 5, which lists those sub-indications
// under INDETERMINATE only (report.SubIndication.Under): for a Tagdíj dossier the policy is fixed and
// a violation can never be cured, so the receiver rejects it (ERVENYTELEN) rather than holding it for
// a final check (BEFEJEZETLEN); wrapping and a SigningCertificate that names another certificate are
// treated as proven manipulation in both columns. REVOKED with a time-stamp follows SPEC §3: the
// standard would want a proof that the signature was made after the revocation (a content
// time-stamp), Tagdíj takes the signature time-stamp, which the policy requires within 30 minutes of
// signing. trust.CheckChain answers for the certificate alone (the sender's `cert check` uses it as
// it is); chainVerdict in verify.go turns its answer into the signature's.
//
// # What is read
//
// Verify parses once (es3.Parse) and verifies on that tree. After XMLDSig core validation and the
// coverage check, only the canonical bytes of covered elements are interpreted (SignedProperties are
// parsed from their exclusive canonical form). Unsigned properties are read too, but only for what
// proves itself: time-stamp tokens over recomputed inputs, signed revocation evidence, certificates
// that must chain to an anchor.
package xades
