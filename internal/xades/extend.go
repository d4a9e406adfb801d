package xades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/revocation"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/internal/tsp"
	"github.com/tagdij/tagdij/internal/xades/props"
	"github.com/tagdij/tagdij/internal/xmldsig"
	"github.com/tagdij/tagdij/internal/xmlsplice"
)

// ExtendOptions control Extend.
type ExtendOptions struct {
	// Verify are the options of the final check Extend runs first (Env online, Now after the grace
	// period). Mode must be es3.Strict.
	Verify VerifyOptions
	// TSA stamps the SigAndRefsTimeStamp and the ArchiveTimeStamp. Required.
	TSA *tsp.Client
	// Logger receives one line per extended signature; nil discards.
	Logger *slog.Logger
}

// ErrNotFinal is returned by Extend when the final check does not say TOTAL-PASSED: only a finally
// valid signature is worth preserving, and the evidence of an earlier check would prove nothing.
var ErrNotFinal = errors.New("xades: extend: the dossier is not finally valid (végleges ellenőrzés nem érvényes)")

// Extend is the processor's step after the grace period (PRC-06, SPEC §1 processor, DEF-11): it runs
// the final check (Verify with opts.Verify) and, only if every signature is TOTAL-PASSED, appends to
// each signature's UnsignedSignatureProperties, in this order:
//
//  1. xades:CompleteRevocationRefs — OCSPRef/CRLRef (SHA-256 digests) of the revocation evidence the
//     final check used for the signer's chain;
//  2. xades:CertificateValues — the signer's chain as validated (anchor included) and the OCSP
//     responder certificates of that evidence;
//  3. xades:RevocationValues — the DER OCSP responses and CRLs of that evidence;
//  4. xades:SigAndRefsTimeStamp (XAdES-X type 1) over SignatureValue, SignatureTimeStamp,
//     CompleteCertificateRefs and CompleteRevocationRefs, in document order;
//  5. xades141:TimeStampValidationData — the TSA's chain and the revocation evidence the final check
//     used for it. The time-stamp's validation data is kept apart from the signer's (rather than
//     merged into RevocationValues) because XAdES 1.4.1 defines this container for exactly that, and
//     a reader can then tell which evidence backs which verdict;
//  6. xades141:ArchiveTimeStamp (XAdES 1.4.1 §8.2): references' data after transforms, SignedInfo,
//     SignatureValue, KeyInfo, every preceding unsigned property and every ds:Object except the
//     QualifyingProperties one.
//
// Everything is inserted, nothing rewritten: every earlier signature, time-stamp and byte stays as it
// was and valid. A signature that already carries CompleteRevocationRefs or an ArchiveTimeStamp is
// left alone (use Renew). The report of the final check is returned in every case.
func Extend(ctx context.Context, dossier []byte, opts ExtendOptions) ([]byte, *report.Document, error) {
	if opts.TSA == nil {
		return nil, nil, errors.New("xades: extend: no TSA client")
	}
	if opts.Verify.Mode != es3.Strict {
		return nil, nil, errors.New("xades: extend: only Strict dossiers are extended")
	}
	rep, states, err := verifyDossier(ctx, dossier, opts.Verify)
	if err != nil {
		return nil, rep, err
	}
	if rep.Verdict.Indication != report.TotalPassed {
		return nil, rep, ErrNotFinal
	}
	log := logger(opts.Logger)
	limits := opts.Verify.Limits

	// Round 1: references and values.
	idx, err := xmlsplice.Index(dossier)
	if err != nil {
		return nil, rep, err
	}
	var ins []xmlsplice.Insertion
	var todo []*sigState
	for _, st := range states {
		if st.unsigned != nil && (len(st.unsigned.Of(props.KindCompleteRevocationRefs)) > 0 || len(st.unsigned.Of(props.KindArchiveTimeStamp)) > 0) {
			continue
		}
		if st.signerChain == nil || st.signerChain.Path == nil || st.tsaChain == nil || st.tsaChain.Path == nil {
			return nil, rep, fmt.Errorf("xades: extend: signature %q: no validated chain to embed", st.id)
		}
		usp, err := uspElement(idx, st.id)
		if err != nil {
			return nil, rep, err
		}
		path := st.signerChain.Path
		var crlRefs []props.CRLRef
		var ocspRefs []props.OCSPRef
		var crls, ocsps [][]byte
		certs := append([]*x509.Certificate(nil), path.Chain...)
		for _, ev := range path.Revocation {
			if ev == nil {
				continue
			}
			switch ev.Method {
			case revocation.MethodOCSP:
				r, err := props.NewOCSPRef(ev.Raw, crypto.SHA256)
				if err != nil {
					return nil, rep, fmt.Errorf("xades: extend: %w", err)
				}
				ocspRefs = append(ocspRefs, r)
				ocsps = append(ocsps, ev.Raw)
				if ev.OCSP != nil && ev.OCSP.Signer != nil && !ev.OCSP.CASigned {
					certs = append(certs, ev.OCSP.Signer)
				}
			case revocation.MethodCRL:
				r, err := props.NewCRLRef(ev.Raw, crypto.SHA256)
				if err != nil {
					return nil, rep, fmt.Errorf("xades: extend: %w", err)
				}
				crlRefs = append(crlRefs, r)
				crls = append(crls, ev.Raw)
			}
		}
		rr, err := props.CompleteRevocationRefsElement(st.id+suffixRevRefs, crlRefs, ocspRefs)
		if err != nil {
			return nil, rep, err
		}
		cv, err := props.CertificateValuesElement(st.id+suffixCertValues, dedupe(certs))
		if err != nil {
			return nil, rep, err
		}
		rv, err := props.RevocationValuesElement(st.id+suffixRevValues, crls, ocsps)
		if err != nil {
			return nil, rep, err
		}
		b, err := serializeAll(usp, rr, cv, rv)
		if err != nil {
			return nil, rep, err
		}
		ins = append(ins, xmlsplice.Insertion{At: usp.End, Text: b})
		todo = append(todo, st)
	}
	if len(todo) == 0 {
		return dossier, rep, nil
	}
	sortInsertions(ins)
	out, err := xmlsplice.Splice(dossier, ins...)
	if err != nil {
		return nil, rep, err
	}

	// Round 2: SigAndRefsTimeStamp and the TSA's validation data.
	out, err = appendStamped(ctx, out, todo, opts.TSA, limits, func(st *sigState, d *libxml.Document, p *sigParts, kinds []props.Kind) ([]*etree.Element, error) {
		parts, err := props.SigAndRefsTimeStampParts(kinds, len(kinds))
		if err != nil {
			return nil, err
		}
		digest, err := hashInput(crypto.SHA256, d, p, nil, parts, libxml.URIExcC14N)
		if err != nil {
			return nil, err
		}
		tok, err := opts.TSA.Stamp(ctx, digest, crypto.SHA256)
		if err != nil {
			return nil, err
		}
		ts, err := props.TimeStampElement(props.KindSigAndRefsTimeStamp, st.id+suffixSigAndRefsTS, libxml.URIExcC14N, tok.DER)
		if err != nil {
			return nil, err
		}
		var vdata validationData
		vdata.add(st.tsaChain.Path, st.tsaCerts, nil)
		vd, err := props.TimeStampValidationDataElement(st.id+suffixTSValidation, "", vdata.certs, vdata.crls, vdata.ocsps)
		if err != nil {
			return nil, err
		}
		return []*etree.Element{ts, vd}, nil
	})
	if err != nil {
		return nil, rep, err
	}
	// Round 3: the ArchiveTimeStamp over everything so far.
	out, err = addArchiveTimeStamps(ctx, out, todo, opts.TSA, limits)
	if err != nil {
		return nil, rep, err
	}
	for _, st := range todo {
		log.Info("signature extended", slog.String("event", "signature.extended"), slog.String("signature", st.id),
			slog.String("signer", st.report.Signer), slog.String("serial", st.report.Serial), slog.String("level", "A"))
	}
	return out, rep, nil
}

// RenewOptions control Renew.
type RenewOptions struct {
	// TSA stamps the new ArchiveTimeStamp. Required.
	TSA *tsp.Client
	// Env is the trust environment, online, that validates the TSA chains of the archive time-stamps
	// already there and fetches their current revocation evidence, which Renew adds before the new
	// time-stamp. Required.
	Env *trust.Env
	// Now is the time the TSA chains are checked at (their evidence must be current then); zero:
	// time.Now().
	Now    time.Time
	Logger *slog.Logger
	Limits libxml.Limits
}

// ErrRenewalEvidence is returned by Renew when the TSA chain of an archive time-stamp to be covered
// does not validate with current evidence (a source unreachable, the TSA revoked before its
// time-stamp): a new time-stamp over it could not later be shown to protect anything. The error
// names the time-stamp and the findings; retry when the sources answer.
var ErrRenewalEvidence = errors.New("xades: renew: the previous archive time-stamp's TSA cannot be validated " +
	"(az előző archív időbélyeg szolgáltatója nem ellenőrizhető)")

// Renew re-time-stamps every signature of dossier that already has an xades141:ArchiveTimeStamp
// (archive renewal, ADM-02: before the last time-stamp's TSA certificate expires or its algorithms
// weaken; RenewalDue says when). For each such signature it appends, in this order:
//
//  1. xades141:TimeStampValidationData (URI naming the archive time-stamp it serves) with the
//     validation data of the archive time-stamps already there — their TSAs' chains and the current
//     OCSP responses or CRLs that show them not revoked at their genTime — as far as the signature does
//     not carry them already; omitted when it carries everything. This is the evidence that lets a
//     verifier, years later and offline, accept the previous time-stamp after its TSA certificate has
//     expired (XAdES 1.4.1, ETSI TS 101 903: a time-stamp's validation data goes into a
//     TimeStampValidationData after it, before the archive time-stamp that covers it);
//  2. a new xades141:ArchiveTimeStamp over everything before it, the earlier archive time-stamps and
//     that validation data included.
//
// The TSA chains are checked with opts.Env at opts.Now under the grace rule (trust.CheckChain,
// PurposeTSA, T = each time-stamp's genTime): a chain that does not validate stops the renewal with
// ErrRenewalEvidence and nothing is added. Renew does not verify the signatures themselves:
// renewal preserves what is there; verification judges it. It returns the Ids of the renewed
// signatures.
func Renew(ctx context.Context, dossier []byte, opts RenewOptions) ([]byte, []string, error) {
	if opts.TSA == nil {
		return nil, nil, errors.New("xades: renew: no TSA client")
	}
	if opts.Env == nil || opts.Env.Policy == nil {
		return nil, nil, errors.New("xades: renew: no trust environment")
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	d, err := es3.Parse(dossier, es3.ParseOptions{Limits: opts.Limits})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	var todo []*sigState
	for _, s := range d.Signatures {
		p, err := locate(s.Node)
		if err != nil || p.usp.IsZero() {
			continue
		}
		for _, k := range kindsOf(p.usp) {
			if k == props.KindArchiveTimeStamp {
				todo = append(todo, &sigState{id: s.ID})
				break
			}
		}
	}
	d.Close()
	if len(todo) == 0 {
		return dossier, nil, nil
	}
	// Round 1: the validation data of the archive time-stamps there.
	out, err := appendStamped(ctx, dossier, todo, opts.TSA, opts.Limits, func(st *sigState, d *libxml.Document, p *sigParts, kinds []props.Kind) ([]*etree.Element, error) {
		vd, err := archiveValidationData(ctx, opts.Env, now, st.id, d, p)
		if err != nil || vd == nil {
			return nil, err
		}
		return []*etree.Element{vd}, nil
	})
	if err != nil {
		return nil, nil, err
	}
	// Round 2: the new archive time-stamp over everything, that data included.
	out, err = addArchiveTimeStamps(ctx, out, todo, opts.TSA, opts.Limits)
	if err != nil {
		return nil, nil, err
	}
	var ids []string
	for _, st := range todo {
		ids = append(ids, st.id)
		logger(opts.Logger).Info("archive time-stamp renewed", slog.String("event", "signature.renewed"), slog.String("signature", st.id))
	}
	return out, ids, nil
}

// archiveValidationData validates the TSA chain of every archive time-stamp of the signature p (at
// its genTime, evidence current at now, the signature's own validation data first) and returns a
// TimeStampValidationData with what the signature does not carry yet: chain certificates, delegated
// OCSP responders' certificates, fetched revocation evidence. nil when it carries everything.
func archiveValidationData(ctx context.Context, env *trust.Env, now time.Time, sigID string, d *libxml.Document, p *sigParts) (*etree.Element, error) {
	up, err := parseUnsigned(d, p)
	if err != nil || up == nil {
		return nil, err
	}
	emb, extra := embedded(up)
	var vdata validationData
	vdata.have = extra
	last, n := "", 0
	for _, prop := range up.Of(props.KindArchiveTimeStamp) {
		n++
		if prop.TimeStamp == nil {
			continue
		}
		last = prop.TimeStamp.ID
		for _, der := range prop.TimeStamp.Tokens {
			tok, err := tsp.ParseToken(der, extra...)
			if err != nil {
				return nil, fmt.Errorf("%w: ArchiveTimeStamp %d: %w", ErrRenewalEvidence, n, err)
			}
			cr := env.CheckChain(ctx, trust.ChainQuery{Purpose: pathval.PurposeTSA, Leaf: tok.TSA,
				Intermediates: append(append([]*x509.Certificate(nil), tok.Certificates...), extra...), T: tok.GenTime, Now: now, Embedded: emb})
			if cr.Verdict.Indication != report.TotalPassed || cr.Path == nil {
				var why []string
				for _, f := range cr.Verdict.Findings {
					why = append(why, string(f.Code)+" "+f.Location+": "+f.EN)
				}
				return nil, fmt.Errorf("%w: ArchiveTimeStamp %d (%s, %s): %s", ErrRenewalEvidence, n, tok.TSA.Subject,
					cr.Verdict.Indication, strings.Join(why, "; "))
			}
			vdata.add(cr.Path, append([]*x509.Certificate{tok.TSA}, tok.Certificates...), func(ev *revocation.Evidence) bool {
				return ev.URL == trust.EmbeddedURL
			})
		}
	}
	if vdata.empty() {
		return nil, nil
	}
	uri := ""
	if last != "" {
		uri = "#" + last
	}
	id := sigID + suffixTSValidation + "-" + strconv.Itoa(n)
	if _, taken := idsOf(d)[id]; taken {
		id += "-" + strconv.Itoa(len(up.Properties))
	}
	return props.TimeStampValidationDataElement(id, uri, vdata.certs, vdata.crls, vdata.ocsps)
}

// idsOf returns the document's Ids (empty on error: the caller only avoids collisions with them).
func idsOf(d *libxml.Document) map[string]libxml.Node {
	ids, err := d.IDs("Id", "ID", "id")
	if err != nil {
		return nil
	}
	return ids
}

// validationData collects the content of a TimeStampValidationData: certificates (deduplicated,
// leaving out those in have) and the DER of revocation evidence (deduplicated).
type validationData struct {
	have        []*x509.Certificate
	certs       []*x509.Certificate
	crls, ocsps [][]byte
}

// add takes what a validated TSA path rests on: its chain (anchor included), the token's own
// certificates, the certificates of delegated OCSP responders, and its revocation evidence except
// what skip says is there already.
func (v *validationData) add(path *pathval.Result, tokenCerts []*x509.Certificate, skip func(*revocation.Evidence) bool) {
	if path == nil {
		return
	}
	addCert := func(c *x509.Certificate) {
		if c == nil || slices.ContainsFunc(v.have, c.Equal) || slices.ContainsFunc(v.certs, c.Equal) {
			return
		}
		v.certs = append(v.certs, c)
	}
	addDER := func(list *[][]byte, der []byte) {
		if !slices.ContainsFunc(*list, func(b []byte) bool { return bytes.Equal(b, der) }) {
			*list = append(*list, der)
		}
	}
	for _, c := range path.Chain {
		addCert(c)
	}
	for _, c := range tokenCerts {
		addCert(c)
	}
	for _, ev := range path.Revocation {
		if ev == nil || skip != nil && skip(ev) {
			continue
		}
		if ev.Method == revocation.MethodCRL {
			addDER(&v.crls, ev.Raw)
			continue
		}
		addDER(&v.ocsps, ev.Raw)
		if ev.OCSP != nil && ev.OCSP.Signer != nil && !ev.OCSP.CASigned {
			addCert(ev.OCSP.Signer)
		}
	}
}

func (v *validationData) empty() bool {
	return len(v.certs) == 0 && len(v.crls) == 0 && len(v.ocsps) == 0
}

func addArchiveTimeStamps(ctx context.Context, data []byte, todo []*sigState, tsa *tsp.Client, limits libxml.Limits) ([]byte, error) {
	return appendStamped(ctx, data, todo, tsa, limits, func(st *sigState, d *libxml.Document, p *sigParts, kinds []props.Kind) ([]*etree.Element, error) {
		refs, err := referencesOf(d, p)
		if err != nil {
			return nil, err
		}
		l := props.Layout{References: len(refs), HasKeyInfo: !p.keyInfo.IsZero(), Objects: len(p.objects),
			QualifyingPropertiesObject: p.qpIndex, Unsigned: kinds}
		parts, err := props.ArchiveTimeStampParts(l, len(kinds))
		if err != nil {
			return nil, err
		}
		digest, err := hashInput(crypto.SHA256, d, p, refs, parts, libxml.URIExcC14N)
		if err != nil {
			return nil, err
		}
		tok, err := tsa.Stamp(ctx, digest, crypto.SHA256)
		if err != nil {
			return nil, err
		}
		n := 1
		for _, k := range kinds {
			if k == props.KindArchiveTimeStamp {
				n++
			}
		}
		ts, err := props.TimeStampElement(props.KindArchiveTimeStamp, st.id+suffixArchiveTS+strconv.Itoa(n), libxml.URIExcC14N, tok.DER)
		if err != nil {
			return nil, err
		}
		return []*etree.Element{ts}, nil
	})
}

// appendStamped parses data, asks build for the properties to append to each signature of todo (in
// the parsed document, so time-stamp inputs are computed over exactly what is there) and appends them.
func appendStamped(ctx context.Context, data []byte, todo []*sigState, tsa *tsp.Client, limits libxml.Limits,
	build func(*sigState, *libxml.Document, *sigParts, []props.Kind) ([]*etree.Element, error)) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d, err := es3.Parse(data, es3.ParseOptions{Limits: limits})
	if err != nil {
		return nil, fmt.Errorf("xades: extend: re-reading: %w", err)
	}
	defer d.Close()
	idx, err := xmlsplice.Index(data)
	if err != nil {
		return nil, err
	}
	var ins []xmlsplice.Insertion
	for _, st := range todo {
		n, ok := d.Lookup(st.id)
		if !ok {
			return nil, fmt.Errorf("xades: extend: signature %q lost", st.id)
		}
		p, err := locate(n)
		if err != nil {
			return nil, err
		}
		if p.usp.IsZero() {
			return nil, fmt.Errorf("xades: extend: signature %q has no UnsignedSignatureProperties", st.id)
		}
		els, err := build(st, d.Doc(), p, kindsOf(p.usp))
		if err != nil {
			return nil, fmt.Errorf("xades: extend: signature %q: %w", st.id, err)
		}
		if len(els) == 0 {
			continue
		}
		usp, err := uspElement(idx, st.id)
		if err != nil {
			return nil, err
		}
		b, err := serializeAll(usp, els...)
		if err != nil {
			return nil, err
		}
		ins = append(ins, xmlsplice.Insertion{At: usp.End, Text: b})
	}
	sortInsertions(ins)
	return xmlsplice.Splice(data, ins...)
}

// uspElement returns the scanner's UnsignedSignatureProperties of signature id.
func uspElement(idx *xmlsplice.Document, id string) (*xmlsplice.Element, error) {
	qp := findQP(idx, id)
	if qp == nil {
		return nil, fmt.Errorf("xades: signature %q: QualifyingProperties not found", id)
	}
	up := qp.Child(props.NS, "UnsignedProperties")
	if up == nil {
		return nil, fmt.Errorf("xades: signature %q has no UnsignedProperties (time-stamp it first)", id)
	}
	usp := up.Child(props.NS, "UnsignedSignatureProperties")
	if usp == nil || usp.SelfClosing {
		return nil, fmt.Errorf("xades: signature %q has no UnsignedSignatureProperties", id)
	}
	return usp, nil
}

// serializeAll serializes els for insertion at the end of at, declaring prefixes not in scope there.
func serializeAll(at *xmlsplice.Element, els ...*etree.Element) ([]byte, error) {
	var out []byte
	for _, el := range els {
		declareMissing(el, at)
		b, err := serialize(el)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}

func kindsOf(usp libxml.Node) []props.Kind {
	var out []props.Kind
	for _, c := range usp.Children() {
		out = append(out, props.KindOf(c.NamespaceURI(), c.LocalName()))
	}
	return out
}

// referencesOf resolves the references of a signature's SignedInfo without digesting: URI "#id" to
// its element, with the transform list, as the ArchiveTimeStamp input needs them.
func referencesOf(d *libxml.Document, p *sigParts) ([]*xmldsig.ReferenceResult, error) {
	ids, err := d.IDs("Id", "ID", "id")
	if err != nil {
		return nil, err
	}
	var out []*xmldsig.ReferenceResult
	for _, r := range p.signedInfo.Children() {
		if !r.Is(xmldsig.NSDSig, "Reference") {
			continue
		}
		uri, _ := r.Attr("URI")
		if !strings.HasPrefix(uri, "#") || strings.HasPrefix(uri, "#xpointer(") {
			return nil, fmt.Errorf("reference %q is not a same-document #Id reference", uri)
		}
		n, ok := ids[uri[1:]]
		if !ok {
			return nil, fmt.Errorf("reference %q does not resolve", uri)
		}
		rr := &xmldsig.ReferenceResult{URI: uri, Node: n}
		for _, c := range r.Children() {
			if c.Is(xmldsig.NSDSig, "Transforms") {
				for _, t := range c.Children() {
					if t.Is(xmldsig.NSDSig, "Transform") {
						a, _ := t.Attr("Algorithm")
						rr.Transforms = append(rr.Transforms, a)
					}
				}
			}
		}
		out = append(out, rr)
	}
	return out, nil
}

func dedupe(certs []*x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	for _, c := range certs {
		dup := false
		for _, o := range out {
			if o.Equal(c) {
				dup = true
				break
			}
		}
		if !dup && c != nil {
			out = append(out, c)
		}
	}
	return out
}
