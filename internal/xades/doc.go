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
//	ext, ids, err = xades.Renew(ctx, ext, xades.RenewOptions{TSA: client}) // archive renewal
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
//	      SigAndRefsTimeStamp, xades141:TimeStampValidationData, xades141:ArchiveTimeStamp+
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
//     (another certificate's digest, a swapped KeyInfo) is F002, TOTAL_FAILED/SIG_CONSTRAINTS_FAILURE.
//     A KeyInfo certificate swapped for another key is caught earlier: the SignatureValue no longer
//     verifies (A001).
//   - A SignatureTimeStamp whose imprint is not this signature's canonical SignatureValue (for example
//     another signature's time-stamp) is A007, TOTAL_FAILED/HASH_FAILURE; an untrusted TSA is A007,
//     INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND.
//   - The TSA chain of the SignatureTimeStamp is judged under the grace rule like the signer's (its
//     evidence goes into TimeStampValidationData at extension). SigAndRefsTimeStamp and
//     ArchiveTimeStamp tokens are checked against the TSA anchors at their genTime without
//     revocation: there is no later evidence for the newest time-stamp, which is what renewal is for.
//   - The level reported is B (core-valid), T (valid SignatureTimeStamp), C (plus complete certificate
//     and revocation references), X (valid SigAndRefsTimeStamp), X-L (plus values), A (valid
//     ArchiveTimeStamp).
//   - After the signer certificate's notAfter, a TOTAL_PASSED verdict can only rest on evidence the
//     signature embeds; the report then carries an A006 warning saying so (PRC-05).
//
// # What is read
//
// Verify parses once (es3.Parse) and verifies on that tree. After XMLDSig core validation and the
// coverage check, only the canonical bytes of covered elements are interpreted (SignedProperties are
// parsed from their exclusive canonical form). Unsigned properties are read too, but only for what
// proves itself: time-stamp tokens over recomputed inputs, signed revocation evidence, certificates
// that must chain to an anchor.
package xades
