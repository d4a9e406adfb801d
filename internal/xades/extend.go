package xades

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/revocation"
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
		tp := st.tsaChain.Path
		var crls, ocsps [][]byte
		certs := append(append([]*x509.Certificate(nil), tp.Chain...), st.tsaCerts...)
		for _, ev := range tp.Revocation {
			if ev == nil {
				continue
			}
			if ev.Method == revocation.MethodCRL {
				crls = append(crls, ev.Raw)
			} else {
				ocsps = append(ocsps, ev.Raw)
				if ev.OCSP != nil && ev.OCSP.Signer != nil && !ev.OCSP.CASigned {
					certs = append(certs, ev.OCSP.Signer)
				}
			}
		}
		vd, err := props.TimeStampValidationDataElement(st.id+suffixTSValidation, "", dedupe(certs), crls, ocsps)
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
	TSA    *tsp.Client
	Logger *slog.Logger
	Limits libxml.Limits
}

// Renew appends another xades141:ArchiveTimeStamp to every signature of dossier that already has
// one (archive renewal before the algorithms or the last time-stamp's TSA certificate weaken). The
// new time-stamp covers everything before it, the earlier archive time-stamps included. It does not
// verify first: renewal preserves what is there; verification judges it. It returns the Ids of the
// renewed signatures.
func Renew(ctx context.Context, dossier []byte, opts RenewOptions) ([]byte, []string, error) {
	if opts.TSA == nil {
		return nil, nil, errors.New("xades: renew: no TSA client")
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
	out, err := addArchiveTimeStamps(ctx, dossier, todo, opts.TSA, opts.Limits)
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
