package xades

import (
	"context"
	"errors"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/xmldsig"
)

// maxGenericSignatures bounds the signatures VerifyGeneric checks in one document.
const maxGenericSignatures = xmldsig.DefaultMaxSignatures

// VerifyGeneric verifies the XMLDSig/XAdES signatures of any XML document that is not a Tagdíj
// dossier — enveloped, enveloping or same-document detached — so that an auditor can point it at
// anything. Every ds:Signature that is not inside another signature is checked under the generic
// validation policy (the package documentation's table of verdicts, column "generic"):
//
//   - XMLDSig core validity (xmldsig.VerifyDocument), with the same failure codes as Verify; what the
//     bytes prove wrong is TOTAL-FAILED, what this verifier does not implement INDETERMINATE; no
//     dossier-coverage rules, but a signature's own XAdES SignedProperties and es:SignatureProfile,
//     when present, must be covered to be read;
//   - the XAdES properties that are present: SigningCertificate must name the KeyInfo certificate;
//     SignatureTimeStamp, SigAndRefsTimeStamp and ArchiveTimeStamp tokens prove their times, and a
//     token that does not verify is disregarded (a W0 warning) rather than held against the
//     signature; a SignaturePolicyIdentifier, implied or naming another policy, is not evaluated (W0);
//     a time-stamp before SigningTime is INDETERMINATE/TIMESTAMP_ORDER_FAILURE;
//   - the policy's algorithm rules with the sunset dates of policy.HashSunset and policy.KeySunset: an
//     algorithm past its sunset passes only if T, the time-stamp time, is before the sunset
//     (INDETERMINATE/CRYPTO_CONSTRAINTS_FAILURE_NO_POE otherwise);
//   - none of the policy's document rules (required properties, commitment, MIME types, qualified
//     signer, time gaps);
//   - the signer's chain at T (or at opts.Now without a time-stamp: the basic validation of
//     EN 319 102-1 §5.3, which stays INDETERMINATE/TRY_LATER until evidence issued after the grace
//     period exists) through opts.Env.
//
// A signature is TOTAL-PASSED only if it is core-valid and the trust checks pass; when no chain to an
// accepted anchor exists the verdict is INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND and the report still
// shows the core validity (no A001/A002 finding, the covered Ids and the algorithm).
func VerifyGeneric(ctx context.Context, doc []byte, opts VerifyOptions) (*report.Document, error) {
	if err := checkOptions(doc, opts); err != nil {
		return nil, err
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	d, err := libxml.Parser{Limits: opts.Limits.ForSigned()}.Parse(doc)
	if err != nil {
		rep := newReport(doc, opts, now, "xmldsig")
		code := errcode.T005
		if errors.Is(err, libxml.ErrForbidden) || errors.Is(err, libxml.ErrLimit) {
			code = errcode.T006
		}
		rep.Verdict.Fail(report.FormatFailure, errcode.New(code, "", err.Error()))
		rep.Finish()
		return rep, nil
	}
	defer d.Close()
	return verifyGenericParsed(ctx, d, doc, opts, now)
}

// VerifyGenericDocument is VerifyGeneric for a document the caller already parsed from data (with the
// hardened parser): one parse serves detection and verification. d stays the caller's to close.
func VerifyGenericDocument(ctx context.Context, d *libxml.Document, data []byte, opts VerifyOptions) (*report.Document, error) {
	if err := checkOptions(data, opts); err != nil {
		return nil, err
	}
	if d == nil {
		return nil, errors.New("xades: verify: no document")
	}
	return verifyGenericParsed(ctx, d, data, opts, validationTime(opts))
}

func verifyGenericParsed(ctx context.Context, d *libxml.Document, doc []byte, opts VerifyOptions, now time.Time) (*report.Document, error) {
	rep := newReport(doc, opts, now, "xmldsig")
	var sigs []libxml.Node
	tooMany := false
	d.Walk(func(n libxml.Node) bool {
		if n.Is(xmldsig.NSDSig, "Signature") && !insideSignature(n.Parent()) {
			if len(sigs) == maxGenericSignatures {
				tooMany = true
				return false
			}
			sigs = append(sigs, n)
		}
		return true
	})
	switch {
	case tooMany:
		rep.Verdict.Fail(report.FormatFailure, errcode.New(errcode.T006, "", "too many signatures / túl sok aláírás"))
	case len(sigs) == 0:
		rep.Verdict.Fail(report.SignedDataNotFound, errcode.New(errcode.F012, "", "no signature / nincs aláírás"))
	}
	v := &verifier{ctx: ctx, opts: opts, now: now, doc: d, pol: opts.Env.Policy}
	log := logger(opts.Logger)
	for _, s := range sigs {
		st := v.signature(s, &target{})
		rep.Signatures = append(rep.Signatures, *st.report)
	}
	rep.Finish()
	for i := range rep.Signatures {
		logVerified(log, opts.FileName, "", &rep.Signatures[i])
	}
	return rep, nil
}

func insideSignature(n libxml.Node) bool {
	for ; !n.IsZero(); n = n.Parent() {
		if n.Is(xmldsig.NSDSig, "Signature") {
			return true
		}
	}
	return false
}
