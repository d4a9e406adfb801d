package xades

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"

	"github.com/beevik/etree"

	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/tsp"
	"github.com/tagdij/tagdij/internal/xades/props"
	"github.com/tagdij/tagdij/internal/xmlsplice"
)

// TimestampOptions control Timestamp.
type TimestampOptions struct {
	// TSA asks the time-stamping authority; its Trust decides whether the TSA is accepted. Required.
	TSA *tsp.Client
	// Logger receives one line per time-stamped signature; nil discards.
	Logger *slog.Logger
	// Limits are the XML parser limits (zero: libxml defaults).
	Limits libxml.Limits
	// Stamped, when set, is called for every token that will be inserted, with the Id of the signature
	// it stamps: the caller reports genTime and TSA from the token itself.
	Stamped func(sigID string, tok *tsp.Token)
}

// Timestamp gives every signature of dossier that has no SignatureTimeStamp one, after all signers
// have signed (SND-12), and returns the new bytes and the Ids of the signatures it stamped.
//
// For each such signature it asks the TSA for a token over SHA-256 of the exclusive canonical form of
// that signature's ds:SignatureValue element, and appends to the signature's QualifyingProperties
//
//	<xades:UnsignedProperties><xades:UnsignedSignatureProperties>
//	  <xades:SignatureTimeStamp Id=…><ds:CanonicalizationMethod exc-c14n/><xades:EncapsulatedTimeStamp>…
//	  <xades:CompleteCertificateRefs Id=…>   the CA certificates of KeyInfo (SND-03)
//
// by inserting bytes only: nothing signed changes. The SignatureTimeStamp comes first because it
// exists first — it covers only the SignatureValue, while a later SigAndRefsTimeStamp covers both,
// in document order, and XAdES asks that properties be appended in the order they come into being.
// A signature whose QualifyingProperties already has unsigned properties (and no SignatureTimeStamp)
// is refused rather than guessed at.
func Timestamp(ctx context.Context, dossier []byte, opts TimestampOptions) ([]byte, []string, error) {
	if opts.TSA == nil {
		return nil, nil, errors.New("xades: timestamp: no TSA client")
	}
	if !isUTF8Doc(dossier) {
		return nil, nil, refused("only UTF-8 dossiers are time-stamped")
	}
	d, err := es3.Parse(dossier, es3.ParseOptions{Mode: es3.Strict, Limits: opts.Limits})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	type job struct {
		id       string
		digest   []byte
		caCerts  []*x509.Certificate
		hasUnsig bool
	}
	var jobs []job
	for _, s := range d.Signatures {
		p, err := locate(s.Node)
		if err != nil {
			d.Close()
			return nil, nil, fmt.Errorf("%w: signature %q: %w", ErrRefused, s.ID, err)
		}
		if p.qp.IsZero() || p.sigValue.IsZero() {
			d.Close()
			return nil, nil, refused("signature %q has no QualifyingProperties or SignatureValue", s.ID)
		}
		if !p.usp.IsZero() && hasChild(p.usp, props.NS, "SignatureTimeStamp") {
			continue
		}
		if !p.unsignedProps.IsZero() {
			d.Close()
			return nil, nil, refused("signature %q has unsigned properties but no SignatureTimeStamp", s.ID)
		}
		c, err := canon(d.Doc(), p.sigValue, excC14N)
		if err != nil {
			d.Close()
			return nil, nil, fmt.Errorf("xades: timestamp: canonicalizing SignatureValue of %q: %w", s.ID, err)
		}
		sum := sha256.Sum256(c)
		certs, err := keyInfoCertificates(p.keyInfo)
		if err != nil || len(certs) == 0 {
			d.Close()
			return nil, nil, refused("signature %q: KeyInfo carries no usable certificate", s.ID)
		}
		jobs = append(jobs, job{id: s.ID, digest: sum[:], caCerts: caCertificates(certs)})
	}
	d.Close()
	if len(jobs) == 0 {
		return dossier, nil, nil
	}

	idx, err := xmlsplice.Index(dossier)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	var ins []xmlsplice.Insertion
	var stamped []string
	for _, j := range jobs {
		qp := findQP(idx, j.id)
		if qp == nil {
			return nil, nil, fmt.Errorf("xades: timestamp: QualifyingProperties of %q not found by the scanner", j.id)
		}
		at, err := qp.ContentEnd()
		if err != nil {
			return nil, nil, err
		}
		in, err := stampOne(ctx, opts, j.id, j.digest, j.caCerts, qp, at)
		if err != nil {
			return nil, nil, err
		}
		ins = append(ins, in)
		stamped = append(stamped, j.id)
	}
	sortInsertions(ins)
	out, err := xmlsplice.Splice(dossier, ins...)
	if err != nil {
		return nil, nil, err
	}
	return out, stamped, nil
}

// stampOne asks the TSA for a token over digest (SHA-256 of the canonical SignatureValue of signature
// id) and returns the insertion of its UnsignedProperties (SignatureTimeStamp, CompleteCertificateRefs
// of caCerts) at offset at, the content end of its QualifyingProperties qp (whose scope decides which
// namespace declarations the new element needs).
func stampOne(ctx context.Context, opts TimestampOptions, id string, digest []byte, caCerts []*x509.Certificate, qp *xmlsplice.Element, at int) (xmlsplice.Insertion, error) {
	tok, err := opts.TSA.Stamp(ctx, digest, crypto.SHA256)
	if err != nil {
		return xmlsplice.Insertion{}, fmt.Errorf("xades: timestamp: signature %q: %w", id, err)
	}
	ts, err := props.TimeStampElement(props.KindSignatureTimeStamp, id+suffixSigTS, libxml.URIExcC14N, tok.DER)
	if err != nil {
		return xmlsplice.Insertion{}, err
	}
	refs, err := props.CompleteCertificateRefsElement(id+suffixCertRefs, crypto.SHA256, caCerts)
	if err != nil {
		return xmlsplice.Insertion{}, err
	}
	up := etree.NewElement("xades:UnsignedProperties")
	usp := up.CreateElement("xades:UnsignedSignatureProperties")
	usp.AddChild(ts)
	usp.AddChild(refs)
	declareMissing(up, qp)
	b, err := serialize(up)
	if err != nil {
		return xmlsplice.Insertion{}, err
	}
	logger(opts.Logger).Info("signature time-stamped",
		slog.String("event", "signature.timestamped"),
		slog.String("signature", id),
		slog.Time("genTime", tok.GenTime),
		slog.String("tsa", tok.TSA.Subject.String()),
		slog.String("tokenSerial", tok.SerialNumber.String()))
	if opts.Stamped != nil {
		opts.Stamped(id, tok)
	}
	return xmlsplice.Insertion{At: at, Text: b}, nil
}

func hasChild(n libxml.Node, ns, local string) bool {
	for _, c := range n.Children() {
		if c.Is(ns, local) {
			return true
		}
	}
	return false
}

// caCertificates returns the certificates of a KeyInfo other than the signer's: the leaf is the one
// that issued none of the others (the first when that is ambiguous), as xmldsig picks it.
func caCertificates(certs []*x509.Certificate) []*x509.Certificate {
	leaf := pickLeaf(certs)
	var out []*x509.Certificate
	for _, c := range certs {
		if c != leaf {
			out = append(out, c)
		}
	}
	return out
}

func pickLeaf(certs []*x509.Certificate) *x509.Certificate {
	var leaves []*x509.Certificate
	for _, c := range certs {
		issuer := false
		for _, o := range certs {
			if o != c && string(o.RawIssuer) == string(c.RawSubject) && string(o.RawSubject) != string(o.RawIssuer) {
				issuer = true
				break
			}
		}
		if !issuer {
			leaves = append(leaves, c)
		}
	}
	if len(leaves) == 1 {
		return leaves[0]
	}
	if len(certs) > 0 {
		return certs[0]
	}
	return nil
}

// findQP returns the scanner's element for the QualifyingProperties of signature sigID: a
// ds:Object child of the ds:Signature with that Id, holding QualifyingProperties with Target "#"+sigID.
func findQP(idx *xmlsplice.Document, sigID string) *xmlsplice.Element {
	sig, ok := idx.ByID(sigID)
	if !ok || !sig.Is(props.NSDS, "Signature") {
		return nil
	}
	for _, o := range sig.Children {
		if !o.Is(props.NSDS, "Object") {
			continue
		}
		for _, c := range o.Children {
			if t, _ := c.Attr("Target"); c.Is(props.NS, "QualifyingProperties") && t == "#"+sigID {
				return c
			}
		}
	}
	return nil
}

func sortInsertions(ins []xmlsplice.Insertion) {
	for i := 1; i < len(ins); i++ {
		for j := i; j > 0 && ins[j].At < ins[j-1].At; j-- {
			ins[j], ins[j-1] = ins[j-1], ins[j]
		}
	}
}
