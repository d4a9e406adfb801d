package xades

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/internal/tsp"
	"github.com/tagdij/tagdij/internal/xades/props"
	"github.com/tagdij/tagdij/internal/xmldsig"
	"github.com/tagdij/tagdij/policy"
)

// VerifyOptions control Verify and VerifyGeneric.
type VerifyOptions struct {
	// Env is the trust environment (anchors, policy, online revocation or nil for offline). Required.
	Env *trust.Env
	// Kind is the document kind the policy's rules are applied for (package or receipt).
	Kind policy.DocKind
	// Now is the validation time: it decides whether the grace period is over. Zero: time.Now().
	Now time.Time
	// Arrival is when the receiver got the file; zero skips the timestamp→arrival rule (A009).
	Arrival time.Time
	// FileName goes into the report.
	FileName string
	// Mode is es3.Strict for Tagdíj's own dossiers, es3.Generic for any e-akta dossier.
	Mode es3.Mode
	// Logger receives one line per verified signature (SIG-15, RCV-13); nil discards.
	Logger *slog.Logger
	// Limits are the XML parser limits (zero: libxml defaults).
	Limits libxml.Limits
	// Detached is validation data kept beside the document (a sender container's kontener.xml,
	// SND-32): used like every signature's own embedded data, after it, and judged the same way.
	Detached *ValidationData
	// Collect, when set, receives the validation data the check used (chains, revocation evidence,
	// SignatureTimeStamp tokens), for keeping beside the document.
	Collect *ValidationData
}

// sigState is what Verify learned about one signature that Extend needs.
type sigState struct {
	id          string
	report      *report.Signature
	cert        *x509.Certificate
	genTime     time.Time
	signerChain *trust.ChainResult
	tsaChain    *trust.ChainResult
	tsaCerts    []*x509.Certificate
	unsigned    *props.UnsignedProperties
}

// Verify validates every signature of a dossier and returns the report. The error is only for "could
// not run" (no input, no trust environment); every finding about the document is in the report.
//
// Per signature, in this order (SPEC §2, §3, §7; ETSI EN 319 102-1 indications):
//  1. es3.Parse in opts.Mode: a refused structure (T005, T006, F011) makes the document
//     TOTAL-FAILED/FORMAT_FAILURE;
//  2. XMLDSig core validation (xmldsig.VerifyDocument on the same parsed tree): a digest mismatch is
//     A002/HASH_FAILURE, a bad SignatureValue A001/SIG_CRYPTO_FAILURE, an algorithm, transform or
//     reference this verifier does not implement A013 or F012 (TOTAL-FAILED in a Tagdíj dossier,
//     INDETERMINATE in es3.Generic mode; see the package documentation's table of verdicts);
//  3. coverage (signature-wrapping defence): the verified references must resolve to exactly the
//     dossier's es:DossierProfile, es:Documents, every payload ds:Object, this signature's
//     es:SignatureProfile object and its own xades:SignedProperties (inside the QualifyingProperties
//     whose Target is this signature), compared by node identity; anything else is F012;
//  4. from here on only canonical bytes of covered elements are read: SignedProperties are parsed
//     from their exclusive canonical form; required properties (F001–F006, CommitmentTypeIndication
//     as F008) come from policy.CheckProperties; SigningCertificate must name the KeyInfo
//     certificate that verified the signature (F002, TOTAL-FAILED/SIG_CONSTRAINTS_FAILURE);
//     SignaturePolicyIdentifier must be the policy in force (A010); DataObjectFormat must describe
//     every payload reference with a MIME type the policy accepts (F004, F007); the commitment must be
//     the kind's (F008); algorithms and key sizes per policy (A013). In es3.Generic mode (a dossier
//     that is not Tagdíj's) none of these policy rules apply but SigningCertificate and the
//     algorithms, which are judged under the generic validation policy once T is known;
//  5. the SignatureTimeStamp: the token's imprint must be the hash of this signature's
//     ds:SignatureValue canonicalized as the time-stamp says (another signature's time-stamp: A007),
//     the TSA trusted at genTime, and the TSA chain's revocation judged under the grace rule;
//  6. time gaps (A008, TIMESTAMP_ORDER_FAILURE, A009);
//  7. the signer's chain at T = genTime under the grace rule (trust.CheckChain), with the evidence
//     the signature embeds (RevocationValues, CertificateValues, TimeStampValidationData); what a
//     revoked, expired or not yet valid certificate means for the signature depends on whether T is
//     proven (chainVerdict);
//  8. for extended signatures: SigAndRefsTimeStamp and ArchiveTimeStamp tokens over their inputs,
//     and the TSA chain, with revocation, of every ArchiveTimeStamp a later one covers (renewal).
//
// Unsigned properties are not covered by the signature; they are used only where they prove
// themselves (time-stamp tokens, signed revocation evidence, certificates that must chain).
func Verify(ctx context.Context, dossier []byte, opts VerifyOptions) (*report.Document, error) {
	doc, _, err := verifyDossier(ctx, dossier, opts)
	return doc, err
}

func checkOptions(data []byte, opts VerifyOptions) error {
	switch {
	case data == nil:
		return errors.New("xades: verify: no input")
	case opts.Env == nil || opts.Env.Policy == nil:
		return errors.New("xades: verify: no trust environment or policy")
	}
	return nil
}

func newReport(data []byte, opts VerifyOptions, now time.Time, kind string) *report.Document {
	sum := sha256.Sum256(data)
	return &report.Document{File: opts.FileName, SHA256: hex.EncodeToString(sum[:]), Kind: kind,
		ValidatedAt: now, Policy: opts.Env.Policy.ID(), Verdict: report.Passed()}
}

func verifyDossier(ctx context.Context, data []byte, opts VerifyOptions) (*report.Document, []*sigState, error) {
	if err := checkOptions(data, opts); err != nil {
		return nil, nil, err
	}
	d, err := es3.Parse(data, es3.ParseOptions{Mode: opts.Mode, Limits: opts.Limits})
	if err != nil {
		return refusedDossier(data, opts, err), nil, nil
	}
	defer d.Close()
	return verifyParsed(ctx, d, data, opts)
}

// VerifyDossier is Verify for a dossier the caller already parsed (es3.Parse or es3.FromDocument over
// exactly data, in opts.Mode): one parse serves detection, verification and the reading of what was
// verified. data are the bytes d was parsed from (the report's SHA-256 is theirs). d stays the
// caller's to close.
func VerifyDossier(ctx context.Context, d *es3.Dossier, data []byte, opts VerifyOptions) (*report.Document, error) {
	if err := checkOptions(data, opts); err != nil {
		return nil, err
	}
	if d == nil {
		return nil, errors.New("xades: verify: no dossier")
	}
	if d.Mode() != opts.Mode {
		return nil, fmt.Errorf("xades: verify: dossier parsed in %v mode, verification asked for %v", d.Mode(), opts.Mode)
	}
	doc, _, err := verifyParsed(ctx, d, data, opts)
	return doc, err
}

// VerifyRefused is the report Verify gives for bytes that es3 refused (err from es3.Parse or
// es3.FromDocument, or a libxml parse error): TOTAL-FAILED/FORMAT_FAILURE with the refusal's code.
func VerifyRefused(data []byte, opts VerifyOptions, err error) (*report.Document, error) {
	if cerr := checkOptions(data, opts); cerr != nil {
		return nil, cerr
	}
	return refusedDossier(data, opts, err), nil
}

func docKindName(k policy.DocKind) string {
	if k == policy.KindReceipt {
		return "receipt"
	}
	return "package"
}

func validationTime(opts VerifyOptions) time.Time {
	if opts.Now.IsZero() {
		return time.Now()
	}
	return opts.Now
}

// refusedDossier reports a dossier the parser refused.
func refusedDossier(data []byte, opts VerifyOptions, err error) *report.Document {
	doc := newReport(data, opts, validationTime(opts), docKindName(opts.Kind))
	f, ok := errcode.Of(err)
	var xe *libxml.Error
	if !ok && errors.As(err, &xe) {
		// A bare parse error: coded as es3.Parse codes it.
		f, ok = errcode.Of(es3.ParseRefusal(err))
	}
	if !ok {
		f = errcode.New(errcode.T005, "", err.Error())
	}
	doc.Verdict.Fail(report.FormatFailure, f)
	doc.Finish()
	logger(opts.Logger).Info("dossier refused", slog.String("event", "signature.verified"), slog.String("file", opts.FileName),
		slog.String("indication", string(doc.Verdict.Indication)), slog.String("error", err.Error()))
	return doc
}

// verifyParsed verifies every signature of a parsed dossier.
func verifyParsed(ctx context.Context, d *es3.Dossier, data []byte, opts VerifyOptions) (*report.Document, []*sigState, error) {
	now := validationTime(opts)
	doc := newReport(data, opts, now, docKindName(opts.Kind))
	log := logger(opts.Logger)
	if _, ok := opts.Env.Policy.Document(opts.Kind); !ok {
		// The caller asked for a kind the policy does not cover: nothing about the document is known.
		doc.Verdict.Incomplete(report.PolicyProcessingError, errcode.New(errcode.A010, "", "document kind "+string(opts.Kind)))
		doc.Finish()
		return doc, nil, nil
	}
	if len(d.Signatures) == 0 {
		doc.Verdict.Fail(report.SignedDataNotFound, errcode.New(errcode.F012, "", "no signature / nincs aláírás"))
	}
	if len(d.Signatures) > xmldsig.DefaultMaxSignatures {
		// Each signature may make the verifier digest the whole payload again: the count bounds the work.
		doc.Verdict.Fail(report.FormatFailure, errcode.New(errcode.T006, "", fmt.Sprintf("%d signatures, at most %d / túl sok aláírás",
			len(d.Signatures), xmldsig.DefaultMaxSignatures)))
		doc.Finish()
		return doc, nil, nil
	}
	v := &verifier{ctx: ctx, opts: opts, now: now, doc: d.Doc(), pol: opts.Env.Policy}
	var states []*sigState
	for _, s := range d.Signatures {
		st := v.signature(s.Node, &target{dossier: d, sig: s})
		doc.Signatures = append(doc.Signatures, *st.report)
		states = append(states, st)
	}
	doc.Finish()
	for i := range doc.Signatures {
		logVerified(log, opts.FileName, d.Title, &doc.Signatures[i])
		states[i].report = &doc.Signatures[i]
	}
	if opts.Collect != nil {
		collect(states, opts.Collect)
	}
	return doc, states, nil
}

func logVerified(log *slog.Logger, file, title string, s *report.Signature) {
	var codes []string
	for _, f := range s.Verdict.Findings {
		codes = append(codes, string(f.Code))
	}
	log.Info("signature verified",
		slog.String("event", "signature.verified"),
		slog.String("file", file),
		slog.String("dossier", title),
		slog.String("signature", s.ID),
		slog.String("signer", s.Signer),
		slog.String("serial", s.Serial),
		slog.String("indication", string(s.Verdict.Indication)),
		slog.String("subIndication", string(s.Verdict.Sub)),
		slog.String("codes", strings.Join(codes, ",")),
		slog.String("level", s.Level),
		slog.Time("timestampTime", s.TimestampTime))
}

// target is where a signature sits: in a dossier (with its position) or, for VerifyGeneric, nowhere
// in particular.
type target struct {
	dossier *es3.Dossier // nil for VerifyGeneric
	sig     es3.Signature
}

type verifier struct {
	ctx  context.Context
	opts VerifyOptions
	now  time.Time
	doc  *libxml.Document
	pol  *policy.Policy
}

// sigCheck carries one signature's verification.
type sigCheck struct {
	v   *verifier
	rs  *report.Signature
	st  *sigState
	p   *sigParts
	res *xmldsig.Result
	// generic: a signature that is not Tagdíj's own (VerifyGeneric, or a dossier read in es3.Generic
	// mode), judged under the generic validation policy: only the properties present are checked, the
	// policy's document rules (required properties, policy identifier, commitment, MIME types, signer
	// role, time gaps) do not apply, and what the standard calls INDETERMINATE is INDETERMINATE.
	generic bool
	// tsIndeterminate: a SignatureTimeStamp failed only for want of trust (its TSA chains to no
	// anchor), so the missing T is not the signature's fault.
	tsIndeterminate bool
	// certDigest is the digest algorithm of the matching SigningCertificate reference, checked with
	// the algorithms once T is known (generic only).
	certDigest crypto.Hash
}

func (c *sigCheck) fail(sub report.SubIndication, code errcode.Code, loc, detail string) {
	c.rs.Verdict.Fail(sub, errcode.New(code, loc, detail))
}

func (c *sigCheck) incomplete(sub report.SubIndication, code errcode.Code, loc, detail string) {
	c.rs.Verdict.Incomplete(sub, errcode.New(code, loc, detail))
}

// final records a finding that is TOTAL-FAILED for a Tagdíj signature, where the package format and
// the policy in force are fixed, and INDETERMINATE with the same sub-indication for a generic one,
// where the standard lists the sub-indication under INDETERMINATE (another verifier, with the data
// or the validation policy this one lacks, could accept it).
func (c *sigCheck) final(sub report.SubIndication, code errcode.Code, loc, detail string) {
	if c.generic {
		c.incomplete(sub, code, loc, detail)
		return
	}
	c.fail(sub, code, loc, detail)
}

// tsProblem records a time-stamp that proves nothing. A Tagdíj signature fails with sub (SPEC §2: the
// SignatureTimeStamp is part of the package); for a generic one the time-stamp is only disregarded, as
// EN 319 102-1 does with a time-stamp that does not validate: unsigned properties are not signed, so
// a broken one appended to a good signature must not make it invalid. The signature is then judged
// without the proof of existence the time-stamp would have given.
func (c *sigCheck) tsProblem(sub report.SubIndication, code errcode.Code, kind, detail string) {
	loc := c.rs.ID + " " + kind
	if !c.generic {
		c.fail(sub, code, loc, detail)
		return
	}
	c.rs.Verdict.Warn(errcode.New(code, loc, detail+" (az időbélyeg figyelmen kívül marad / the time-stamp is disregarded)"))
}

// constraint records a policy.Finding about a constraint: for a Tagdíj signature as policyFinding
// does (TOTAL-FAILED), for a generic one INDETERMINATE with the finding's sub-indication.
func (c *sigCheck) constraint(err error, loc string) {
	var f policy.Finding
	if err == nil {
		return
	}
	if !c.generic || !errors.As(err, &f) || f.Severity == errcode.Warning {
		c.policyFinding(err, loc)
		return
	}
	c.rs.Verdict.Incomplete(f.Sub, f.At(loc))
}

// policyFinding records a policy.Finding: its own bilingual text, its sub-indication.
func (c *sigCheck) policyFinding(err error, loc string) {
	var f policy.Finding
	if err == nil {
		return
	}
	if !errors.As(err, &f) {
		c.fail(report.PolicyProcessingError, errcode.A010, loc, err.Error())
		return
	}
	f.Record(&c.rs.Verdict, loc)
}

// signature verifies one ds:Signature.
func (v *verifier) signature(sigNode libxml.Node, t *target) *sigState {
	id, _ := sigNode.Attr("Id")
	rs := &report.Signature{ID: id, Verdict: report.Passed(), Level: "B"}
	st := &sigState{id: id, report: rs}
	c := &sigCheck{v: v, rs: rs, st: st}
	c.run(sigNode, t)
	if rs.Verdict.Indication != report.TotalPassed && rs.Level == "B" && len(rs.Covered) == 0 {
		rs.Level = ""
	}
	return st
}

func (c *sigCheck) run(sigNode libxml.Node, t *target) {
	v := c.v
	c.generic = t.dossier == nil || t.dossier.Mode() != es3.Strict
	p, err := locate(sigNode)
	c.p = p
	if err != nil {
		c.rs.Core = report.CoreInvalid
		c.fail(report.FormatFailure, errcode.F012, c.rs.ID, err.Error())
		return
	}
	vo := xmldsig.VerifyOptions{ParseCertificate: v.opts.Env.SigCache.ParseCertificate}
	if t.dossier != nil && t.dossier.Mode() == es3.Strict {
		// A Tagdíj signature references exactly the DossierProfile, the Documents, each payload object,
		// its profile object and its SignedProperties: more references can only repeat digests of the
		// payload, so they are refused before anything is hashed.
		vo.MaxReferences = len(t.dossier.Documents) + 4
	}
	res, err := xmldsig.VerifyDocument(v.doc, sigNode, vo)
	c.res = res
	if res != nil {
		c.rs.Algorithm = res.SignatureMethod
		if res.Certificate != nil {
			c.setSigner(res.Certificate)
		}
	}
	if err != nil || res == nil || !res.Valid {
		c.coreFailure(res, err)
		return
	}
	c.rs.Core = report.CoreValid
	for _, rr := range res.References {
		c.rs.Covered = append(c.rs.Covered, strings.TrimPrefix(rr.URI, "#"))
	}
	if !c.coverage(t) {
		return
	}
	if !c.generic {
		// A Tagdíj signature is newer than every sunset: the policy's rules as they stand.
		c.algorithms(time.Time{})
	}

	// Signed properties: only the canonical bytes of the covered element.
	var sp *props.SignedProperties
	if !p.signedProps.IsZero() && !res.Covers(p.signedProps) {
		// A reference resolved to them but a transform cut them out (enveloped-signature): nothing
		// signed them, and skipping them would skip every check they carry.
		c.fail(report.SignedDataNotFound, errcode.F012, c.rs.ID, "xades:SignedProperties not covered / nincs lefedve")
		return
	}
	if !p.signedProps.IsZero() {
		b, err := canon(v.doc, p.signedProps, excC14N)
		if err == nil {
			sp, err = props.ParseSignedProperties(b)
		}
		if err != nil {
			c.fail(report.FormatFailure, propertyCode(err), c.rs.ID, err.Error())
			return
		}
	}
	var up *props.UnsignedProperties
	if !p.unsignedProps.IsZero() {
		b, err := canon(v.doc, p.unsignedProps, excC14N)
		if err == nil {
			up, err = props.ParseUnsignedProperties(b)
		}
		if err != nil {
			c.fail(report.FormatFailure, propertyCode(err), c.rs.ID, err.Error())
			return
		}
		c.st.unsigned = up
	}
	if !c.generic {
		c.requiredProperties(sp, up)
	}
	if sp != nil {
		c.signedProperties(sp, t)
	}

	emb, extra := embedded(up)
	emb, extra = withDetached(emb, extra, v.opts.Detached)
	tsv := &tsp.Verifier{
		Chain:             v.opts.Env.TSAVerifier(extra...),
		ExtraCerts:        extra,
		ParseCertificates: v.opts.Env.SigCache.ParseCertificates,
	}
	T := c.signatureTimeStamps(up, tsv, emb, extra)
	if c.generic {
		// Under the generic validation policy an algorithm past its sunset passes with a proof of
		// existence from before the sunset: T is that proof.
		c.algorithms(T)
	}
	switch {
	case !T.IsZero() || c.generic:
	case c.tsIndeterminate:
		// There is a time-stamp, but its TSA chains to no accepted anchor (no trust configuration, a
		// TSA this deployment does not know): with the anchor it could date the signature.
		c.incomplete(report.NoPOE, errcode.F005, c.rs.ID,
			"no SignatureTimeStamp from a trusted TSA / nincs megbízható szolgáltatótól származó aláírási időbélyeg")
	default:
		// Without a verified time-stamp there is no T: the chain would be judged at the validation
		// time, which for a past --at would pass a signature nothing dates (SPEC §3, GEN-04).
		c.fail(report.FormatFailure, errcode.F005, c.rs.ID, "no verified SignatureTimeStamp / nincs ellenőrzött aláírási időbélyeg")
	}
	if sp != nil {
		c.timeGaps(sp.SigningTime, T)
	}
	c.signerChain(T, emb, extra)
	if up != nil {
		c.laterTimeStamps(up, tsv, emb, extra)
	}
}

// setSigner fills the report's signer fields from the certificate that verified the signature.
func (c *sigCheck) setSigner(cert *x509.Certificate) {
	c.st.cert = cert
	c.rs.Certificate = cert
	c.rs.Signer = cert.Subject.String()
	c.rs.SignerName = SignerName(cert)
	c.rs.Issuer = cert.Issuer.String()
	c.rs.Serial = cert.SerialNumber.String()
}

// coreFailure classifies an XMLDSig core-validation failure. What the signed bytes prove wrong — a
// digest (A002) or the signature value (A001), duplicate Ids (the wrapping defence), a malformed
// structure — is TOTAL-FAILED in every mode. What this verifier cannot evaluate — an algorithm,
// transform, reference or key form it does not implement, a reference it cannot resolve, a key it
// cannot use — is INDETERMINATE for a generic signature (a verifier that implements it might find the
// signature valid) and TOTAL-FAILED for a Tagdíj one, whose format (SPEC §2) allows none of it.
func (c *sigCheck) coreFailure(res *xmldsig.Result, err error) {
	if err == nil {
		err = errors.New("signature not valid")
	}
	loc := c.rs.ID
	var bad []string
	mismatch := false
	if res != nil {
		for _, rr := range res.References {
			if !rr.Valid {
				bad = append(bad, rr.URI)
			}
			mismatch = mismatch || errors.Is(rr.Err, xmldsig.ErrDigestMismatch)
		}
	}
	if len(bad) > 0 {
		loc += " " + strings.Join(bad, ",")
	}
	detail := err.Error()
	switch {
	case errors.Is(err, xmldsig.ErrUnsupported): // ErrUnsupportedAlgorithm matches it too
		c.rs.Core = report.CoreUnsupported
	case errors.Is(err, xmldsig.ErrKey):
		c.rs.Core = report.CoreNoKey
	default:
		c.rs.Core = report.CoreInvalid
	}
	if mismatch && !errors.Is(err, xmldsig.ErrDigestMismatch) {
		// Another reference is the reported error (an unsupported one is reported first), but a digest
		// that does not match is proof on its own.
		c.fail(report.HashFailure, errcode.A002, loc, "digest mismatch / lenyomateltérés; "+detail)
	}
	switch {
	case errors.Is(err, xmldsig.ErrDuplicateID):
		c.fail(report.FormatFailure, errcode.T005, loc, detail)
	case errors.Is(err, xmldsig.ErrUnsupported):
		c.unsupported(res, err, loc, detail)
	case errors.Is(err, xmldsig.ErrDigestMismatch):
		c.fail(report.HashFailure, errcode.A002, loc, detail)
	case errors.Is(err, xmldsig.ErrReference):
		// The referenced element is not in the document (or not once): the signed data is missing.
		c.final(report.SignedDataNotFound, errcode.F012, loc, detail)
	case errors.Is(err, xmldsig.ErrSignatureInvalid):
		c.fail(report.SigCryptoFailure, errcode.A001, loc, detail)
	case errors.Is(err, xmldsig.ErrKey):
		// No key in KeyInfo (only named), or one that does not fit the method or is too small to use.
		sub := report.CryptoConstraintsFailure
		if c.generic && (res == nil || res.PublicKey == nil) {
			sub = report.NoSigningCertificate
		}
		c.final(sub, errcode.A013, loc, detail)
	case errors.Is(err, xmldsig.ErrLimit):
		c.fail(report.FormatFailure, errcode.T006, loc, detail)
	default:
		c.fail(report.FormatFailure, errcode.T005, loc, detail)
	}
}

// unsupported classifies what this verifier does not implement (xmldsig.ErrUnsupported). For a
// generic signature: an unsupported transform or an unresolvable kind of reference means the signed
// data cannot be obtained (INDETERMINATE/SIGNED_DATA_NOT_FOUND), an unsupported signature, digest or
// canonicalization algorithm or curve is outside the validation constraints
// (INDETERMINATE/CRYPTO_CONSTRAINTS_FAILURE), key material this verifier cannot read (RetrievalMethod,
// explicit curve parameters) leaves no signing certificate (INDETERMINATE/NO_SIGNING_CERTIFICATE_FOUND).
// For a Tagdíj signature each is a violation of the package format: TOTAL-FAILED.
func (c *sigCheck) unsupported(res *xmldsig.Result, err error, loc, detail string) {
	code := errcode.F012
	if errors.Is(err, xmldsig.ErrUnsupportedAlgorithm) {
		code = errcode.A013
	}
	var ua *xmldsig.UnsupportedAlgorithmError
	refUnsupported := false
	if res != nil {
		for _, rr := range res.References {
			refUnsupported = refUnsupported || errors.Is(rr.Err, xmldsig.ErrUnsupported)
		}
	}
	sub := report.CryptoConstraintsFailure
	switch {
	case errors.As(err, &ua) && ua.Role == "transform":
		sub = report.SignedDataNotFound
	case errors.As(err, &ua):
		// signature, digest, canonicalization, curve
	case refUnsupported:
		sub = report.SignedDataNotFound
	case res == nil || res.PublicKey == nil:
		sub = report.NoSigningCertificate
	}
	if !c.generic && sub != report.CryptoConstraintsFailure {
		sub = report.FormatFailure
	}
	c.final(sub, code, loc, detail)
}

// coverage enforces the wrapping defence: which nodes the verified references must, and may, cover.
func (c *sigCheck) coverage(t *target) bool {
	p, res := c.p, c.res
	type want struct {
		node libxml.Node
		name string
		got  bool
	}
	var wants []*want
	add := func(n libxml.Node, name string) { wants = append(wants, &want{node: n, name: name}) }
	strict := t.dossier != nil && t.dossier.Mode() == es3.Strict
	d := t.dossier
	switch {
	case d != nil && t.sig.Document >= 0:
		doc := d.Documents[t.sig.Document]
		add(doc.Profile, "es:DocumentProfile")
		add(doc.Object, "ds:Object "+doc.ObjectID)
	case d != nil:
		add(d.Profile, "es:DossierProfile")
		add(d.DocumentsNode, "es:Documents")
		for _, doc := range d.Documents {
			add(doc.Object, "ds:Object "+doc.ObjectID)
		}
	}
	if strict || !p.profileObject.IsZero() {
		if p.profileObject.IsZero() {
			c.fail(report.SignedDataNotFound, errcode.F012, c.rs.ID, "no es:SignatureProfile object / nincs es:SignatureProfile")
			return false
		}
		add(p.profileObject, "es:SignatureProfile object")
	}
	if strict || !p.signedProps.IsZero() {
		if p.signedProps.IsZero() {
			c.fail(report.SignedDataNotFound, errcode.F012, c.rs.ID, "no xades:SignedProperties / nincs xades:SignedProperties")
			return false
		}
		add(p.signedProps, "xades:SignedProperties")
	}
	ok := true
	for _, rr := range res.References {
		if strict && !writtenTransforms(rr.Transforms) {
			// Only what Tagdíj writes: one canonicalization. A base64 or chained transform would make
			// the digested bytes differ from the bytes a reader takes out of the element.
			c.fail(report.FormatFailure, errcode.F012, c.rs.ID+" "+rr.URI, "transforms "+strings.Join(rr.Transforms, " ")+" are not accepted in a Tagdíj package")
			ok = false
			continue
		}
		if rr.WholeDocument && d != nil {
			c.fail(report.SignedDataNotFound, errcode.F012, c.rs.ID+" "+rr.URI, "whole-document reference in a frame signature")
			ok = false
			continue
		}
		matched := false
		for _, w := range wants {
			if rr.Node == w.node {
				w.got, matched = true, true
				if (w.node == p.signedProps) != (rr.Type == props.SignedPropertiesType) {
					c.fail(report.SignedDataNotFound, errcode.F012, c.rs.ID+" "+rr.URI,
						"the SignedProperties reference and only it must have Type "+props.SignedPropertiesType)
					ok = false
				}
			}
		}
		if !matched && (strict || !c.p.sig.Contains(rr.Node)) && d != nil {
			c.fail(report.SignedDataNotFound, errcode.F012, c.rs.ID+" "+rr.URI,
				"a reference covers an element outside the required set / a hivatkozás a kötelező körön kívüli elemre mutat")
			ok = false
		}
	}
	for _, w := range wants {
		if !w.got {
			c.fail(report.SignedDataNotFound, errcode.F012, c.rs.ID, "not covered / nincs lefedve: "+w.name)
			ok = false
		}
	}
	return ok
}

// algorithms applies the policy's algorithm rules (A013) to SignedInfo, every reference and, for a
// generic signature, the SigningCertificate digest. A Tagdíj signature is judged by the rules as they
// stand (poe zero) and fails; a generic one by the generic validation policy, where a hash or RSA key
// size past its sunset passes if poe (T) is before the sunset and is
// INDETERMINATE/CRYPTO_CONSTRAINTS_FAILURE_NO_POE if not (policy.CheckAlgorithmURIAt).
func (c *sigCheck) algorithms(poe time.Time) {
	pol, res := c.v.pol, c.res
	var err error
	if c.generic {
		_, err = pol.CheckAlgorithmURIAt(res.SignatureMethod, res.PublicKey, poe)
	} else {
		_, err = pol.CheckAlgorithmURI(res.SignatureMethod, res.PublicKey)
	}
	c.constraint(err, c.rs.ID+" SignatureMethod")
	c.constraint(pol.CheckCanonicalization(res.CanonicalizationMethod), c.rs.ID+" CanonicalizationMethod")
	for _, rr := range res.References {
		if c.generic {
			_, err = pol.CheckDigestURIAt(rr.DigestMethod, poe)
		} else {
			_, err = pol.CheckDigestURI(rr.DigestMethod)
		}
		c.constraint(err, c.rs.ID+" "+rr.URI)
		for _, tr := range rr.Transforms {
			if _, ok := libxml.ParseC14NURI(tr); ok {
				c.constraint(pol.CheckCanonicalization(tr), c.rs.ID+" "+rr.URI)
			}
		}
	}
	if c.generic && c.certDigest != 0 {
		c.constraint(pol.CheckDigestAt(c.certDigest, poe), c.rs.ID+" SigningCertificate")
	}
}

// propertyCode maps a malformed property to its SPEC §7 code.
func propertyCode(err error) errcode.Code {
	var pe *props.PropertyError
	if !errors.As(err, &pe) {
		return errcode.T005
	}
	for _, m := range []struct {
		name string
		code errcode.Code
	}{
		{"SigningTime", errcode.F001}, {"SigningCertificate", errcode.F002}, {"SignaturePolicyIdentifier", errcode.F003},
		{"DataObjectFormat", errcode.F004}, {"CommitmentTypeIndication", errcode.F008},
		{"SignatureTimeStamp", errcode.F005}, {"CompleteCertificateRefs", errcode.F006},
	} {
		if strings.Contains(pe.Property, m.name) {
			return m.code
		}
	}
	return errcode.T005
}

// requiredProperties reports every property the policy requires and the signature lacks.
func (c *sigCheck) requiredProperties(sp *props.SignedProperties, up *props.UnsignedProperties) {
	var signed, unsigned []string
	if sp != nil {
		if !sp.SigningTime.IsZero() {
			signed = append(signed, "SigningTime")
		}
		if sp.HasSigningCertificate {
			if sp.SigningCertificateV2 {
				signed = append(signed, "SigningCertificateV2")
			} else {
				signed = append(signed, "SigningCertificate")
			}
		}
		if sp.Policy != nil {
			signed = append(signed, "SignaturePolicyIdentifier")
		}
		if len(sp.DataObjectFormats) > 0 {
			signed = append(signed, "DataObjectFormat")
		}
		if len(sp.Commitments) > 0 {
			signed = append(signed, "CommitmentTypeIndication")
		}
	}
	for _, k := range up.Kinds() {
		if k != props.KindOther {
			unsigned = append(unsigned, k.String())
		}
	}
	for _, f := range c.v.pol.CheckProperties(c.v.opts.Kind, signed, unsigned) {
		c.policyFinding(f, c.rs.ID)
	}
}

// signedProperties checks SigningCertificate, the policy, DataObjectFormat and the commitment.
func (c *sigCheck) signedProperties(sp *props.SignedProperties, t *target) {
	pol, id := c.v.pol, c.rs.ID
	c.rs.SigningTime = sp.SigningTime
	if sp.HasSigningCertificate {
		cert := c.res.Certificate
		matched := false
		for _, ref := range sp.SigningCertificate {
			if cert != nil && props.CertDigestMatches(ref, cert) {
				matched = true
				if c.generic {
					c.certDigest = ref.Digest.Hash // checked with the algorithms, once T is known
				} else if err := pol.CheckDigest(ref.Digest.Hash); err != nil {
					c.policyFinding(err, id+" SigningCertificate")
				}
				break
			}
		}
		if !matched {
			c.fail(report.SigConstraintsFailure, errcode.F002, id,
				"a SigningCertificate nem a KeyInfo tanúsítványát azonosítja / SigningCertificate does not identify the KeyInfo certificate")
		}
	}
	if sp.Policy != nil && c.generic {
		// The generic validation policy does not evaluate the signer's signature policy: another
		// policy (or an implied one) is not a failure of a signature that is not Tagdíj's.
		c.rs.Policy = sp.Policy.Identifier
		switch {
		case sp.Policy.Implied:
			c.rs.Verdict.Warn(errcode.New(errcode.A010, id+" SignaturePolicyIdentifier",
				"SignaturePolicyImplied: not evaluated / nem értékelt"))
		case len(sp.Policy.Transforms) > 0:
			c.rs.Verdict.Warn(errcode.New(errcode.A010, id+" SignaturePolicyIdentifier",
				sp.Policy.Identifier+": transforms on the policy document are not applied; not evaluated / nem értékelt"))
		default:
			if err := pol.CheckSignaturePolicy(sp.Policy.Identifier, sp.Policy.Hash.Hash, sp.Policy.Hash.Value); err != nil {
				c.rs.Verdict.Warn(errcode.New(errcode.A010, id+" SignaturePolicyIdentifier", err.Error()+" (not evaluated / nem értékelt)"))
			}
		}
	}
	if sp.Policy != nil && !c.generic {
		switch {
		case sp.Policy.Implied:
			c.fail(report.PolicyProcessingError, errcode.A010, id, "SignaturePolicyImplied")
		case len(sp.Policy.Transforms) > 0:
			c.fail(report.PolicyProcessingError, errcode.A010, id, "transforms on the policy document are not applied")
		default:
			c.rs.Policy = sp.Policy.Identifier
			if err := pol.CheckSignaturePolicy(sp.Policy.Identifier, sp.Policy.Hash.Hash, sp.Policy.Hash.Value); err != nil {
				c.policyFinding(err, id+" SignaturePolicyIdentifier")
			}
		}
	}
	if c.generic {
		for i, cm := range sp.Commitments {
			if i == 0 {
				c.rs.Commitment = cm.Identifier
			}
		}
		return
	}
	if !sp.SigningTime.IsZero() {
		if err := pol.CheckValidAt(sp.SigningTime); err != nil {
			c.policyFinding(err, id+" SigningTime")
		}
	}
	// DataObjectFormat: every payload reference is described, with a MIME type the policy accepts.
	refIDs := map[string]*xmldsig.ReferenceResult{}
	for _, rr := range c.res.References {
		if rr.ID != "" {
			refIDs[rr.ID] = rr
		}
	}
	dofs := map[string]props.DataObjectFormat{}
	for _, f := range sp.DataObjectFormats {
		rr, ok := refIDs[strings.TrimPrefix(f.ObjectReference, "#")]
		if !strings.HasPrefix(f.ObjectReference, "#") || !ok || rr.Type == props.SignedPropertiesType {
			c.fail(report.FormatFailure, errcode.F004, id, "DataObjectFormat ObjectReference "+f.ObjectReference+" names no data reference")
			continue
		}
		dofs[rr.ID] = f
	}
	if t.dossier != nil {
		for _, doc := range t.dossier.Documents {
			for _, rr := range c.res.References {
				if rr.Node != doc.Object {
					continue
				}
				f, ok := dofs[rr.ID]
				if rr.ID == "" || !ok {
					c.fail(report.FormatFailure, errcode.F004, id+" "+rr.URI, "no DataObjectFormat for "+doc.Title)
					continue
				}
				if err := pol.CheckMIME(c.v.opts.Kind, f.MimeType, doc.Encrypted()); err != nil {
					c.policyFinding(err, id+" "+rr.URI)
				}
			}
		}
	}
	for i, cm := range sp.Commitments {
		if i == 0 {
			c.rs.Commitment = cm.Identifier
		}
		if err := pol.CheckCommitment(c.v.opts.Kind, cm.Identifier); err != nil {
			c.policyFinding(err, id+" CommitmentTypeIndication")
		}
	}
}

// embedded collects the validation data a signature carries: revocation values (its own and the
// time-stamps') and certificates.
func embedded(up *props.UnsignedProperties) (trust.Embedded, []*x509.Certificate) {
	var emb trust.Embedded
	var certs []*x509.Certificate
	if up == nil {
		return emb, nil
	}
	addRV := func(rv *props.RevocationValues) {
		if rv != nil {
			emb.OCSP = append(emb.OCSP, rv.OCSP...)
			emb.CRL = append(emb.CRL, rv.CRLs...)
		}
	}
	for _, p := range up.Properties {
		switch p.Kind {
		case props.KindRevocationValues:
			addRV(p.RevocationValues)
		case props.KindCertificateValues:
			if p.CertificateValues != nil {
				certs = append(certs, p.CertificateValues.Certs...)
			}
		case props.KindTimeStampValidationData:
			if vd := p.ValidationData; vd != nil {
				addRV(vd.RevocationValues)
				if vd.CertificateValues != nil {
					certs = append(certs, vd.CertificateValues.Certs...)
				}
			}
		}
	}
	return emb, certs
}

// tsFailure records a time-stamp token that did not verify. A TSA that chains to no accepted anchor
// is INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND in every mode (with the anchor the token could prove
// its time); anything else is tsProblem's: final for a Tagdíj signature, disregarded for a generic one.
func (c *sigCheck) tsFailure(kind string, err error) {
	switch {
	case errors.Is(err, tsp.ErrTSAUntrusted):
		c.incomplete(report.NoCertificateChainFound, errcode.A007, c.rs.ID+" "+kind, err.Error())
		if kind == "SignatureTimeStamp" {
			c.tsIndeterminate = true
		}
	case errors.Is(err, tsp.ErrImprintMismatch):
		c.tsProblem(report.HashFailure, errcode.A007, kind, err.Error())
	case tsp.Code(err) == tsp.CodeAlgorithm:
		c.tsProblem(report.CryptoConstraintsFailure, errcode.A013, kind, err.Error())
	default:
		c.tsProblem(report.FormatFailure, errcode.A007, kind, err.Error())
	}
}

// signatureTimeStamps verifies every SignatureTimeStamp and returns T, the genTime of the first valid
// one (zero if none).
func (c *sigCheck) signatureTimeStamps(up *props.UnsignedProperties, tsv *tsp.Verifier, emb trust.Embedded, extra []*x509.Certificate) time.Time {
	var T time.Time
	if up == nil {
		return T
	}
	v := c.v
	for _, ts := range up.SignatureTimeStamps() {
		cm, ok := c14nOf(ts.CanonicalizationMethod)
		if !ok {
			c.tsProblem(report.CryptoConstraintsFailure, errcode.A013, "SignatureTimeStamp", "canonicalization "+ts.CanonicalizationMethod+" not supported")
			continue
		}
		c.constraint(v.pol.CheckCanonicalization(cm.URI()), c.rs.ID+" SignatureTimeStamp")
		if len(ts.Includes) > 0 {
			c.tsProblem(report.FormatFailure, errcode.A007, "SignatureTimeStamp", "explicit Include inputs are not supported")
			continue
		}
		data, err := canon(v.doc, c.p.sigValue, cm)
		if err != nil {
			c.tsProblem(report.FormatFailure, errcode.A007, "SignatureTimeStamp", err.Error())
			continue
		}
		if len(ts.Tokens) == 0 {
			// An XMLTimeStamp, or nothing: the unsigned properties are not signed, so a real token can
			// be swapped for an empty shell; a time-stamp without a token proves no time.
			c.tsProblem(report.FormatFailure, errcode.F005, "SignatureTimeStamp", "no EncapsulatedTimeStamp / nincs időbélyeg-token")
			continue
		}
		for _, der := range ts.Tokens {
			tok, err := tsv.VerifyData(v.ctx, der, data)
			if err != nil {
				c.tsFailure("SignatureTimeStamp", err)
				c.rs.Timestamps = append(c.rs.Timestamps, report.Timestamp{Kind: "SignatureTimeStamp"})
				continue
			}
			for _, f := range v.pol.CheckCertificate(v.pol.Timestamp.Role, tok.TSA) {
				c.constraint(f, c.rs.ID+" SignatureTimeStamp TSA")
			}
			// A time-stamp from after the validation time proves nothing about that time: asked "was this
			// valid at X" (auditor --at X) for an X before T, the signature did not exist in this form yet.
			if tok.GenTime.After(v.now.Add(v.pol.Gaps.ClockSkew)) {
				c.tsProblem(report.TimestampOrderFailure, errcode.A007, "SignatureTimeStamp",
					"genTime "+tok.GenTime.UTC().Format(time.RFC3339)+" is after the validation time "+v.now.UTC().Format(time.RFC3339)+
						" / az időbélyeg későbbi az ellenőrzés időpontjánál")
				if c.generic {
					c.rs.Timestamps = append(c.rs.Timestamps, tsReport("SignatureTimeStamp", tok, false))
					continue
				}
			}
			c.rs.Timestamps = append(c.rs.Timestamps, tsReport("SignatureTimeStamp", tok, true))
			if T.IsZero() {
				T = tok.GenTime
				c.st.genTime = T
				c.st.tsaCerts = append([]*x509.Certificate{tok.TSA}, tok.Certificates...)
				// The TSA's own chain under the grace rule, with the evidence the signature embeds.
				cr := v.opts.Env.CheckChain(v.ctx, trust.ChainQuery{Purpose: pathval.PurposeTSA, Leaf: tok.TSA,
					Intermediates: append(append([]*x509.Certificate(nil), tok.Certificates...), extra...), T: T, Now: v.now, Embedded: emb})
				c.st.tsaChain = &cr
				// The token's genTime is what the TSA's chain is judged at; for a Tagdíj signature it
				// counts as proven (SPEC §3: the TSA chain is judged like the signer's).
				c.merge(c.chainVerdict(cr.Verdict, tok.TSA, T, !c.generic), "SignatureTimeStamp TSA")
				if cr.EarliestFinal.After(c.rs.EarliestFinal) {
					c.rs.EarliestFinal = cr.EarliestFinal
				}
				c.rs.Evidence = append(c.rs.Evidence, cr.ReportEvidence()...)
			}
		}
	}
	if !T.IsZero() {
		c.rs.TimestampTime = T
		c.rs.Level = "T"
	}
	return T
}

// merge folds a chain verdict in, prefixing the findings' locations.
func (c *sigCheck) merge(v report.Verdict, what string) {
	for i := range v.Findings {
		v.Findings[i].Location = strings.TrimSpace(c.rs.ID + " " + what + " " + v.Findings[i].Location)
	}
	c.rs.Verdict.Merge(v)
}

func tsReport(kind string, tok *tsp.Token, ok bool) report.Timestamp {
	r := report.Timestamp{Kind: kind, OK: ok}
	if tok != nil {
		r.GenTime = tok.GenTime
		if tok.TSA != nil {
			r.TSA = tok.TSA.Subject.String()
		}
		if tok.SerialNumber != nil {
			r.Serial = tok.SerialNumber.String()
		}
	}
	return r
}

// signerChain validates the signer's certificate at T (or now, when there is no time-stamp: a Tagdíj
// signature then already failed or is incomplete for F005, and the chain is reported for
// information; a generic one gets the basic validation of EN 319 102-1 §5.3, without proof of
// existence).
func (c *sigCheck) signerChain(T time.Time, emb trust.Embedded, extra []*x509.Certificate) {
	v := c.v
	cert := c.res.Certificate
	if cert == nil {
		// Verified with a bare KeyValue: nothing says whose key it is.
		c.final(report.NoSigningCertificate, errcode.F002, c.rs.ID, "KeyInfo has no certificate / a KeyInfo nem tartalmaz tanúsítványt")
		return
	}
	at := T
	if at.IsZero() {
		at = v.now
	}
	if !c.generic {
		// The role's requirements; validity at T is the chain check's (below), with its sub-indications.
		for _, f := range v.pol.CheckSigner(v.opts.Kind, cert, time.Time{}) {
			c.policyFinding(f, c.rs.ID+" signer")
		}
	}
	inter := append(append([]*x509.Certificate(nil), c.res.KeyInfoCertificates...), extra...)
	cr := v.opts.Env.CheckChain(v.ctx, trust.ChainQuery{Purpose: pathval.PurposeSigner, Leaf: cert, Intermediates: inter,
		T: at, Now: v.now, Embedded: emb, AllowNonQualified: c.generic || v.opts.Kind == policy.KindReceipt})
	c.st.signerChain = &cr
	c.merge(c.chainVerdict(cr.Verdict, cert, at, !T.IsZero()), "signer")
	if cr.EarliestFinal.After(c.rs.EarliestFinal) {
		c.rs.EarliestFinal = cr.EarliestFinal
	}
	c.rs.Chain = append(c.rs.Chain, cr.ReportChain()...)
	c.rs.Evidence = append(c.rs.Evidence, cr.ReportEvidence()...)
	// PRC-05: the final check must happen before the signer certificate expires. After that only
	// evidence the signature carries (collected by Extend) and its archive time-stamp can carry the
	// verdict; say so rather than hide it.
	if v.now.After(cert.NotAfter) && cr.Verdict.Indication == report.TotalPassed {
		c.rs.Verdict.Warn(errcode.New(errcode.A006, c.rs.ID+" signer",
			"the signer certificate expired "+cert.NotAfter.UTC().Format(time.RFC3339)+
				"; the verdict rests on the validation data embedded in the signature / a tanúsítvány lejárt, az eredmény az aláírásba ágyazott ellenőrzési adatokon alapul"))
	}
}

// chainVerdict turns trust.CheckChain's answer about a certificate at `at` into what it means for the
// signature (EN 319 102-1 §5.3, §5.5). CheckChain answers for the certificate alone — the sender's
// `cert check` relies on it — and calls a revoked, expired or weak certificate TOTAL-FAILED; for a
// signature that is final only where the signature cannot have been made while the certificate was
// good:
//
//   - revoked at or before `at` (A005): TOTAL-FAILED/REVOKED when `at` is proven (poe: the genTime of
//     a verified time-stamp; SPEC §3), INDETERMINATE/REVOKED_NO_POE when it is only the validation
//     time — the signature may predate the revocation;
//   - not valid at `at` (A006): TOTAL-FAILED/NOT_YET_VALID when the certificate's validity had not
//     begun (the signature existed at `at`, before the certificate did), INDETERMINATE/
//     OUT_OF_BOUNDS_NO_POE when it had ended — nothing proves the signature existed before expiry;
//   - an algorithm or key size of the chain (A013): INDETERMINATE/CRYPTO_CONSTRAINTS_FAILURE_NO_POE —
//     another path, or a proof of existence before the algorithm's sunset, may exist;
//   - a chain constraint (A003 key usage, A004 not qualified): final for a Tagdíj signature (the
//     policy requires the certificate to be so), INDETERMINATE/CHAIN_CONSTRAINTS_FAILURE for a
//     generic one.
//
// Every other answer (INDETERMINATE ones, and TOTAL-PASSED) is the signature's as it is.
func (c *sigCheck) chainVerdict(v report.Verdict, leaf *x509.Certificate, at time.Time, poe bool) report.Verdict {
	if v.Indication != report.TotalFailed || len(v.Findings) == 0 {
		return v
	}
	as := func(i report.Indication, sub report.SubIndication) report.Verdict {
		out := report.Passed()
		for _, f := range v.Findings {
			out.Record(i, sub, f)
		}
		return out
	}
	switch code := v.Findings[0].Code; {
	case code == errcode.A005 && poe:
		return as(report.TotalFailed, report.Revoked)
	case code == errcode.A005:
		return as(report.Indeterminate, report.RevokedNoPOE)
	case code == errcode.A006 && (v.Sub == report.NotYetValid || leaf != nil && at.Before(leaf.NotBefore)):
		return as(report.TotalFailed, report.NotYetValid)
	case code == errcode.A006:
		return as(report.Indeterminate, report.OutOfBoundsNoPOE)
	case code == errcode.A013:
		return as(report.Indeterminate, report.CryptoConstraintsFailureNoPOE)
	case v.Sub == report.ChainConstraintsFailure && c.generic:
		return as(report.Indeterminate, report.ChainConstraintsFailure)
	}
	return v
}

// timeGaps applies the policy's time-gap rules (SPEC §3, A008, A009). The gaps themselves are Tagdíj
// rules and do not apply to a generic signature; a time-stamp before the signing time (beyond the
// clock skew) is INDETERMINATE/TIMESTAMP_ORDER_FAILURE for it, as EN 319 102-1 lists it.
func (c *sigCheck) timeGaps(signingTime, T time.Time) {
	for _, f := range c.v.pol.CheckTimeGaps(signingTime, T, c.v.opts.Arrival) {
		switch {
		case !c.generic:
			c.policyFinding(f, c.rs.ID)
		case f.Sub == report.TimestampOrderFailure:
			c.constraint(f, c.rs.ID)
		}
	}
}

// laterTimeStamps verifies SigAndRefsTimeStamps and ArchiveTimeStamps over their inputs and sets the
// level reached. An ArchiveTimeStamp that a later one covers (renewal) has its TSA chain judged too,
// with revocation, at its genTime, on the validation data the signature carries (Renew adds it before
// the later time-stamp) and, online, fetched evidence: that is what keeps it a proof after its TSA
// certificate expired. The newest time-stamp is checked without revocation: no later evidence exists
// for it yet, which is what the next renewal adds.
func (c *sigCheck) laterTimeStamps(up *props.UnsignedProperties, tsv *tsp.Verifier, emb trust.Embedded, extra []*x509.Certificate) {
	kinds := up.Kinds()
	has := func(k props.Kind) bool { return len(up.Of(k)) > 0 }
	if c.rs.Level == "T" && has(props.KindCompleteCertificateRefs) && has(props.KindCompleteRevocationRefs) {
		c.rs.Level = "C"
	}
	uspKids := c.p.usp.Children()
	if len(uspKids) != len(kinds) {
		c.fail(report.FormatFailure, errcode.T005, c.rs.ID, "unsigned properties changed between readings")
		return
	}
	xOK, aOK := false, false
	lastArchive := -1
	for i, k := range kinds {
		if k == props.KindArchiveTimeStamp {
			lastArchive = i
		}
	}
	archiveN := 0
	for i, prop := range up.Properties {
		var parts []props.Part
		var err error
		var name string
		switch prop.Kind {
		case props.KindSigAndRefsTimeStamp:
			name = "SigAndRefsTimeStamp"
			parts, err = props.SigAndRefsTimeStampParts(kinds, i)
		case props.KindArchiveTimeStamp:
			name = "ArchiveTimeStamp"
			archiveN++
			parts, err = props.ArchiveTimeStampParts(c.layout(kinds), i)
		default:
			continue
		}
		if err == nil && len(prop.TimeStamp.Includes) > 0 {
			err = errors.New("explicit Include inputs are not supported")
		}
		if err != nil {
			c.tsProblem(report.FormatFailure, errcode.A007, name, err.Error())
			continue
		}
		good := 0
		for _, der := range prop.TimeStamp.Tokens {
			tok, err := c.verifyOver(der, parts, prop.TimeStamp.CanonicalizationMethod, tsv)
			if err != nil {
				c.tsFailure(name, err)
				c.rs.Timestamps = append(c.rs.Timestamps, report.Timestamp{Kind: name})
				continue
			}
			good++
			c.rs.Timestamps = append(c.rs.Timestamps, tsReport(name, tok, true))
			if prop.Kind == props.KindArchiveTimeStamp && i < lastArchive {
				c.coveredArchiveTSA(tok, archiveN, emb, extra)
			}
		}
		if good > 0 && good == len(prop.TimeStamp.Tokens) {
			if prop.Kind == props.KindSigAndRefsTimeStamp {
				xOK = true
			} else {
				aOK = true
			}
		}
	}
	if c.rs.Verdict.Indication == report.TotalFailed {
		return
	}
	switch {
	case aOK && (xOK || c.rs.Level == "C"):
		c.rs.Level = "A"
	case xOK && has(props.KindCertificateValues) && has(props.KindRevocationValues):
		c.rs.Level = "X-L"
	case xOK:
		c.rs.Level = "X"
	}
}

// coveredArchiveTSA judges the TSA chain of the n-th ArchiveTimeStamp, which a later one covers, at its
// genTime with revocation (trust.CheckChain, PurposeTSA: evidence current at some moment at or after
// the genTime, no post-grace date), like the SignatureTimeStamp's TSA, and reports the evidence. For a
// Tagdíj signature the verdict is the signature's (a TSA revoked at or before the time-stamp:
// TOTAL-FAILED/REVOKED; no usable evidence: INDETERMINATE/TRY_LATER, A011); for a generic one a
// verdict short of TOTAL-PASSED only disregards the time-stamp, with warnings.
func (c *sigCheck) coveredArchiveTSA(tok *tsp.Token, n int, emb trust.Embedded, extra []*x509.Certificate) {
	v := c.v
	cr := v.opts.Env.CheckChain(v.ctx, trust.ChainQuery{Purpose: pathval.PurposeTSA, Leaf: tok.TSA,
		Intermediates: append(append([]*x509.Certificate(nil), tok.Certificates...), extra...), T: tok.GenTime, Now: v.now, Embedded: emb})
	what := fmt.Sprintf("ArchiveTimeStamp %d TSA", n)
	c.rs.Evidence = append(c.rs.Evidence, cr.ReportEvidence()...)
	vd := c.chainVerdict(cr.Verdict, tok.TSA, tok.GenTime, !c.generic)
	if c.generic && vd.Indication != report.TotalPassed {
		// As with any time-stamp of a foreign signature that proves nothing: disregarded, reported.
		for _, f := range vd.Findings {
			f.Severity = errcode.Warning
			f.Location = strings.TrimSpace(c.rs.ID + " " + what + " " + f.Location)
			f.HU += " (az időbélyeg figyelmen kívül marad)"
			f.EN += " (the time-stamp is disregarded)"
			c.rs.Verdict.Warn(f)
		}
		return
	}
	c.merge(vd, what)
}

// layout describes this signature for the ArchiveTimeStamp input.
func (c *sigCheck) layout(kinds []props.Kind) props.Layout {
	return props.Layout{References: len(c.res.References), HasKeyInfo: !c.p.keyInfo.IsZero(), Objects: len(c.p.objects),
		QualifyingPropertiesObject: c.p.qpIndex, Unsigned: kinds}
}

// verifyOver verifies a token whose input is parts (hashed as they are produced, never held whole:
// an archive input contains the payload).
func (c *sigCheck) verifyOver(der []byte, parts []props.Part, c14nURI string, tsv *tsp.Verifier) (*tsp.Token, error) {
	tok, err := tsp.ParseToken(der, tsv.ExtraCerts...)
	if err != nil {
		return nil, err
	}
	h := tok.HashAlgorithm
	if !h.Available() {
		return nil, fmt.Errorf("%w: hash %v", tsp.ErrWeakAlgorithm, h)
	}
	sum := h.New()
	if err := writeInput(sum, c.v.doc, c.p, c.res.References, parts, c14nURI); err != nil {
		return nil, err
	}
	return tsv.Verify(c.v.ctx, der, sum.Sum(nil), h)
}

// writeInput writes the time-stamp input described by parts to w.
func writeInput(w io.Writer, d *libxml.Document, p *sigParts, refs []*xmldsig.ReferenceResult, parts []props.Part, c14nURI string) error {
	cm, ok := c14nOf(c14nURI)
	if !ok {
		return fmt.Errorf("xades: time-stamp canonicalization %q not supported", c14nURI)
	}
	uspKids := []libxml.Node(nil)
	if !p.usp.IsZero() {
		uspKids = p.usp.Children()
	}
	for _, part := range parts {
		var n libxml.Node
		how := cm
		switch part.Role {
		case props.RoleSignatureValue:
			n = p.sigValue
		case props.RoleSignedInfo:
			n = p.signedInfo
		case props.RoleKeyInfo:
			n = p.keyInfo
		case props.RoleUnsignedProperty:
			if part.Index >= len(uspKids) {
				return fmt.Errorf("xades: time-stamp input: unsigned property %d missing", part.Index)
			}
			n = uspKids[part.Index]
		case props.RoleObject:
			if part.Index >= len(p.objects) {
				return fmt.Errorf("xades: time-stamp input: object %d missing", part.Index)
			}
			n = p.objects[part.Index]
		case props.RoleReference:
			if part.Index >= len(refs) {
				return fmt.Errorf("xades: time-stamp input: reference %d missing", part.Index)
			}
			rr := refs[part.Index]
			if rr.WholeDocument || rr.Node.IsZero() {
				return errors.New("xades: time-stamp input: whole-document references are not supported")
			}
			n = rr.Node
			// The reference's output octets: a node set after its one canonicalization transform;
			// with no transform, the node set canonicalized with the time-stamp's method.
			switch len(rr.Transforms) {
			case 0:
			case 1:
				rc, ok := libxml.ParseC14NURI(rr.Transforms[0])
				if !ok {
					return fmt.Errorf("xades: time-stamp input: reference transform %s not supported", rr.Transforms[0])
				}
				how = rc
			default:
				return errors.New("xades: time-stamp input: references with several transforms are not supported")
			}
		default:
			return fmt.Errorf("xades: time-stamp input: role %v", part.Role)
		}
		if n.IsZero() {
			return fmt.Errorf("xades: time-stamp input: %v missing", part)
		}
		if err := d.CanonicalizeTo(w, n, how); err != nil {
			return fmt.Errorf("xades: time-stamp input %v: %w", part, err)
		}
	}
	return nil
}

// hashInput returns the digest with h of the time-stamp input.
func hashInput(h crypto.Hash, d *libxml.Document, p *sigParts, refs []*xmldsig.ReferenceResult, parts []props.Part, c14nURI string) ([]byte, error) {
	var hh hash.Hash = h.New()
	if err := writeInput(hh, d, p, refs, parts, c14nURI); err != nil {
		return nil, err
	}
	return hh.Sum(nil), nil
}

// writtenTransforms reports whether a reference's transforms are what Tagdíj's signer writes: none, or
// a single canonicalization.
func writtenTransforms(ts []string) bool {
	if len(ts) == 0 {
		return true
	}
	if len(ts) > 1 {
		return false
	}
	_, ok := libxml.ParseC14NURI(ts[0])
	return ok
}
