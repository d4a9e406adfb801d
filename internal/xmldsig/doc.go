// Package xmldsig implements the core of W3C XML-Signature Syntax and Processing 1.1 that Tagdíj needs:
// filling in a signature template (Sign) and verifying signatures (Verify, VerifyDocument), on top of
// the hardened libxml2 binding in internal/libxml.
//
// # What is supported
//
//   - References: "" (the whole document without comments), "#id" (the one element whose Id, ID, id or
//     xml:id attribute is id, without comments), "#xpointer(/)" and "#xpointer(id('id'))" (the same,
//     with comments). Nothing else: a reference with no URI or with any other URI (http:, file:, a
//     relative path, another XPointer) is refused with ErrUnsupported and never fetched.
//   - Transforms: enveloped-signature; Canonical XML 1.0 and 1.1 and Exclusive Canonical XML 1.0, each
//     with and without comments (exclusive with an InclusiveNamespaces PrefixList); base64 (decoding
//     the text of an element that has no child elements, or the octets of a previous transform). XPath,
//     XPath Filter 2.0, XSLT and every other transform are refused with ErrUnsupported. At most
//     VerifyOptions.MaxTransforms per reference.
//   - Digests: SHA-256, SHA-384 and SHA-512; SHA-1 and SHA-224 for verification only.
//   - Signatures: RSA PKCS#1 v1.5 and RSA-PSS (RFC 9231 "<hash>-rsa-MGF1" URIs, MGF1 with the same
//     hash, salt length equal to the hash length, trailer 1) and ECDSA on P-256, P-384 and P-521 with
//     the XMLDSig 1.1 encoding of the value (r and s, each big-endian and padded to the size of the
//     curve order, concatenated; never DER; a shorter even-length value is read as two equal halves,
//     as xmlsec1 does, because some Java encoders drop a leading zero byte). SHA-1 and SHA-224
//     variants for verification only. DSA,
//     EdDSA, GOST, ML-DSA, SLH-DSA, HMAC, MD5, RIPEMD-160 and SHA-3 are reported as
//     *UnsupportedAlgorithmError ("unsupported algorithm <URI>") and never valid.
//   - Keys: KeyInfo/X509Data/X509Certificate, KeyInfo/KeyValue (RSAKeyValue, dsig11:ECKeyValue with a
//     NamedCurve) and, through VerifyOptions.KeyResolver, anything else (KeyName, X509IssuerSerial,
//     X509SKI, X509SubjectName) resolved against certificates the caller supplies. RetrievalMethod is
//     refused: it is an indirection that can point anywhere.
//   - The base64 transform is supported because e-akta payload objects and the merlin samples use
//     it: over a node set it decodes the text of the referenced element, which must have no child
//     elements (XMLDSig's self::text() rule for that case); over octets it decodes them.
//   - Manifests are not followed: the references inside a ds:Manifest are not validated, and a Result
//     says so (Result.UnfollowedManifests).
//
// # Signature-wrapping defences
//
// Before any reference is resolved, every Id/ID/id/xml:id value in the document is indexed and a value
// carried twice is an error (ErrDuplicateID), so no reference can be answered by an element an attacker
// added beside the signed one. A reference resolves to exactly one element or fails. A Result lists the
// nodes its verified references cover (Result.Covered, Result.Covers): callers read only those, and may
// check where in the document each resolved node sits (Result.References[i].Node). The number of
// signatures, references and transforms is bounded (VerifyOptions).
//
// # Order of verdicts
//
// References are processed first and each is reported (ReferenceResult), even when the signature
// method is unsupported, so that a caller sees which digests match. The verdict (Result.Err) is, in
// this order: an unsupported signature method; a reference refused by design (external URI, XPath…);
// any other reference failure (unresolvable, digest mismatch); then the key (ErrKey) and the
// SignatureValue (ErrSignatureInvalid).
//
// # Editing the template
//
// Sign never re-serializes the document. It parses the template once with libxml2, computes the
// digests, and canonicalizes SignedInfo in its document context with the DigestValues still empty. The
// byte ranges of the DigestValue and SignatureValue contents come from xmlsplice, a linear scanner that
// copies no text, and are used only after the scanner's view of the signature (the element carrying
// the Id, the expanded names and children of SignedInfo and SignatureValue) has been checked to be
// libxml2's. The base64 DigestValues are put into the canonical SignedInfo (a start tag's canonical
// form does not depend on the content, and base64 needs no escaping), which is parsed again, small as
// it is, to check that libxml2 reads the values there; that is what is signed. Finally every value is
// spliced into the template in one output buffer of the final size; every other byte is written out
// unchanged, so what was digested is exactly what is written.
package xmldsig
