package xades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/xades/props"
	"github.com/tagdij/tagdij/internal/xmldsig"
	"github.com/tagdij/tagdij/internal/xmlsplice"
	"github.com/tagdij/tagdij/policy"
)

// SignOptions control Sign.
type SignOptions struct {
	// Signer signs; only through crypto.Signer, so a PKCS#11 key works. Required.
	Signer crypto.Signer
	// Certificate is the signer's certificate; its key must be Signer's. Required.
	Certificate *x509.Certificate
	// Chain are the CA certificates above Certificate, issuer first (the root may be included). They
	// go into KeyInfo and, at time-stamping, into CompleteCertificateRefs.
	Chain []*x509.Certificate
	// Policy is the signature policy the signature is made under. Required.
	Policy *policy.Policy
	// Kind is policy.KindPackage (ProofOfOrigin) or policy.KindReceipt (ProofOfReceipt).
	Kind policy.DocKind
	// SigningTime is written to SigningTime (UTC, whole seconds); zero means time.Now().
	SigningTime time.Time
	// SignatureMethod is an XMLDSig SignatureMethod URI; empty chooses by key: RSA → rsa-sha256
	// (PKCS#1 v1.5), ECDSA P-256 → ecdsa-sha256, P-384 → ecdsa-sha384. RSA-PSS is selected with
	// xmldsig.RSAPSSSHA256 (or 384/512).
	SignatureMethod string
	// Generator goes to es:SignatureProfile/es:Generator (e.g. "Tagdíj sender 1.0").
	Generator string
	// Rand is the randomness for Ids, RSA-PSS and ECDSA (nil: crypto/rand).
	Rand io.Reader
	// Logger receives one line per created signature (SIG-12, SIG-15); nil discards.
	Logger *slog.Logger
	// Limits are the XML parser limits (zero: libxml defaults; raise MaxInput for 50 MB payloads).
	Limits libxml.Limits
	// Parsed is the strict es3 parse of exactly the dossier bytes passed to Sign, when the caller
	// already has it (the sender shows the package before signing and parses it once); nil: Sign
	// parses. Sign only reads it; it stays the caller's to close.
	Parsed *es3.Dossier
	// Timestamp, when set, also time-stamps the new signature as Timestamp does (a SignatureTimeStamp
	// over its SignatureValue, then the CompleteCertificateRefs of Chain), without parsing the signed
	// bytes again: for a signer who is also the last signer (the receiver's receipts). The result is
	// the bytes Timestamp would make of Sign's, with the TSA's token. Its Limits are not used.
	Timestamp *TimestampOptions
}

// DefaultGenerator is written to es:Generator when SignOptions.Generator is empty.
const DefaultGenerator = "Tagdíj"

// ErrRefused is wrapped by every error of Sign that is a refusal of the input or of the options (as
// opposed to a failure of the signer or of the system).
var ErrRefused = errors.New("xades: refused")

func refused(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, args...))
}

// Sign adds one frame signature to dossier, a Tagdíj dossier written by es3 (package or receipt), and
// returns the new bytes and the signature's Id.
//
// Guarantees:
//   - dossier is parsed with es3.Parse in Strict mode first; anything else (and any non-UTF-8 input) is
//     refused with ErrRefused, as are a certificate or algorithm the policy does not accept for the
//     kind's signer role, a certificate whose key is not Signer's, and a certificate not valid at
//     SigningTime;
//   - the new ds:Signature (declaring xmlns:ds itself) is inserted immediately before the end tag of
//     es:Dossier, so after es:Documents and after every existing signature; every byte of dossier
//     before that point and the end tag itself are unchanged (a parallel signature: it does not cover
//     earlier signatures, and earlier signatures stay valid);
//   - SignedInfo uses exclusive C14N; its references are same-document "#Id" references, each with one
//     exclusive C14N transform and SHA-256, to: es:DossierProfile, es:Documents, every payload
//     ds:Object, this signature's es:SignatureProfile object and its xades:SignedProperties (Type
//     props.SignedPropertiesType), in that order;
//   - KeyInfo carries Certificate first, then Chain; SigningCertificate references Certificate only
//     (the CA certificates are referenced by CompleteCertificateRefs at time-stamping, and the chain
//     a verifier builds may differ from the one the signer had);
//   - SignedProperties hold SigningTime, SigningCertificate (SHA-256 + IssuerSerial),
//     SignaturePolicyIdentifier (policy Id and SHA-256 of its document), one DataObjectFormat per
//     data reference and CommitmentTypeIndication (the kind's commitment, all signed data objects);
//     there are no unsigned properties yet (Timestamp adds them after the last signer).
func Sign(ctx context.Context, dossier []byte, opts SignOptions) ([]byte, string, error) {
	return sign(ctx, dossier, opts, nil)
}

// signHooks let tests build signatures Sign would never make (wrapping and substitution attacks).
type signHooks struct {
	shape  func(*dossierShape)
	signed func(*props.Signed)
}

func sign(ctx context.Context, dossier []byte, opts SignOptions, hooks *signHooks) ([]byte, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	switch {
	case opts.Signer == nil || opts.Certificate == nil:
		return nil, "", refused("no signer or certificate")
	case opts.Policy == nil:
		return nil, "", refused("no policy")
	}
	rules, ok := opts.Policy.Document(opts.Kind)
	if !ok {
		return nil, "", refused("the policy does not cover document kind %q", opts.Kind)
	}
	if !sameKey(opts.Signer.Public(), opts.Certificate.PublicKey) {
		return nil, "", refused("the signer's key is not the key of the certificate")
	}
	signingTime := opts.SigningTime
	if signingTime.IsZero() {
		signingTime = time.Now()
	}
	signingTime = signingTime.UTC().Truncate(time.Second)
	cert := opts.Certificate
	// The policy's judgement of the signer (role requirements, validity at the signing time): the
	// same one the sender shows before asking for confirmation.
	var refusals []string
	for _, f := range opts.Policy.CheckSigner(opts.Kind, cert, signingTime) {
		if f.Severity == policy.SeverityError {
			refusals = append(refusals, f.Error())
		}
	}
	if len(refusals) > 0 {
		return nil, "", refused("certificate: %s", strings.Join(refusals, "; "))
	}
	method := opts.SignatureMethod
	if method == "" {
		var err error
		if method, err = defaultMethod(cert.PublicKey); err != nil {
			return nil, "", err
		}
	}
	if _, err := opts.Policy.CheckAlgorithmURI(method, cert.PublicKey); err != nil {
		return nil, "", refused("%v", err)
	}
	if !isUTF8Doc(dossier) {
		return nil, "", refused("only UTF-8 dossiers are signed")
	}

	d := opts.Parsed
	if d == nil {
		var err error
		if d, err = es3.Parse(dossier, es3.ParseOptions{Mode: es3.Strict, Limits: opts.Limits}); err != nil {
			return nil, "", fmt.Errorf("%w: %w", ErrRefused, err)
		}
		defer d.Close()
	} else if d.Mode() != es3.Strict {
		return nil, "", refused("the parsed dossier is not strict")
	}
	shape := dossierShape{title: d.Title, profileID: d.ProfileID, documentsID: d.DocumentsID}
	for _, doc := range d.Documents {
		shape.objects = append(shape.objects, objectShape{id: doc.ObjectID, title: doc.Title, mime: doc.MIMEType, encrypted: doc.Encrypted()})
	}
	sigID, err := es3.NewID(opts.Rand, idPrefixSignature)
	if err != nil {
		return nil, "", err
	}
	for _, suffix := range []string{"", suffixSigValue, suffixProfileObject, suffixProfile, suffixQPObject, suffixSignedProperties} {
		if _, taken := d.Lookup(sigID + suffix); taken {
			return nil, "", fmt.Errorf("xades: sign: Id %q already in use", sigID+suffix)
		}
	}
	if opts.Timestamp != nil {
		// Timestamp stamps every signature still without a time-stamp; stamping only the new one
		// would leave an earlier signer's behind, so that is refused rather than done differently.
		for _, s := range d.Signatures {
			if p, err := locate(s.Node); err != nil || p.usp.IsZero() || !hasChild(p.usp, props.NS, "SignatureTimeStamp") {
				return nil, "", refused("signature %q has no time-stamp yet: sign, then Timestamp every signature", s.ID)
			}
		}
	}
	if hooks != nil && hooks.shape != nil {
		hooks.shape(&shape)
	}

	idx, err := xmlsplice.Index(dossier)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrRefused, err)
	}
	if !idx.Root.Is(es3.NSES, "Dossier") || idx.Root.SelfClosing {
		return nil, "", refused("the document element is not es:Dossier")
	}

	tmpl, err := buildTemplate(sigID, method, signingTime, shape, opts, rules, hooks)
	if err != nil {
		return nil, "", err
	}
	tb, err := serialize(tmpl)
	if err != nil {
		return nil, "", fmt.Errorf("xades: sign: serializing the template: %w", err)
	}
	withTemplate, err := xmlsplice.Splice(dossier, xmlsplice.Insertion{At: idx.Root.End, Text: tb})
	if err != nil {
		return nil, "", err
	}
	signed, err := xmldsig.SignDocument(withTemplate, sigID, opts.Signer, xmldsig.SignOptions{
		Rand: opts.Rand, MinRSABits: opts.Policy.Algorithms.MinRSABits, Limits: opts.Limits})
	if err != nil {
		return nil, "", fmt.Errorf("xades: sign: %w", err)
	}
	out := signed.Doc
	logger(opts.Logger).Info("signature created",
		slog.String("event", "signature.created"),
		slog.String("signature", sigID),
		slog.String("signer", cert.Subject.String()),
		slog.String("serial", cert.SerialNumber.String()),
		slog.String("issuer", cert.Issuer.String()),
		slog.Time("signingTime", signingTime),
		slog.String("dossier", shape.title),
		slog.String("kind", string(opts.Kind)),
		slog.String("method", method))
	if opts.Timestamp != nil {
		if out, err = stampSigned(ctx, out, withTemplate, tb, idx.Root.End, sigID, signed.CanonicalSignatureValue, opts); err != nil {
			return nil, "", err
		}
	}
	return out, sigID, nil
}

// stampSigned time-stamps the signature sigID that sign just made: out is xmldsig's result for
// withTemplate, in which the template tb was inserted at offset at. xmldsig changes only the contents
// of DigestValue and SignatureValue elements, which come before the signature's ds:Object elements, so
// the QualifyingProperties and everything after them are the same bytes in out as in withTemplate,
// shifted by the length difference (checked before anything is inserted). Their namespace scope is
// tb's own: ds:Signature declares ds, QualifyingProperties declares xades.
func stampSigned(ctx context.Context, out, withTemplate, tb []byte, at int, sigID string, canonicalSigValue []byte, opts SignOptions) ([]byte, error) {
	if opts.Timestamp.TSA == nil {
		return nil, errors.New("xades: timestamp: no TSA client")
	}
	ti, err := xmlsplice.Index(tb)
	if err != nil {
		return nil, fmt.Errorf("xades: timestamp: scanning the template: %w", err)
	}
	qp := findQP(ti, sigID)
	if qp == nil {
		return nil, fmt.Errorf("xades: timestamp: QualifyingProperties of %q not found by the scanner", sigID)
	}
	qpEnd, err := qp.ContentEnd()
	if err != nil {
		return nil, err
	}
	shift := len(out) - len(withTemplate)
	from := at + qp.Start
	if from+shift < 0 || !bytes.Equal(out[from+shift:], withTemplate[from:]) {
		return nil, fmt.Errorf("xades: timestamp: the QualifyingProperties of %q moved while signing", sigID)
	}
	sum := sha256.Sum256(canonicalSigValue)
	certs := append([]*x509.Certificate{opts.Certificate}, opts.Chain...)
	in, err := stampOne(ctx, *opts.Timestamp, sigID, sum[:], caCertificates(certs), qp, at+qpEnd+shift)
	if err != nil {
		return nil, err
	}
	return xmlsplice.Splice(out, in)
}

type objectShape struct {
	id, title, mime string
	encrypted       bool
}

type dossierShape struct {
	title, profileID, documentsID string
	objects                       []objectShape
}

func sameKey(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

// defaultMethod is the SignatureMethod for a key when none is named.
func defaultMethod(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return xmldsig.RSASHA256, nil
	case *ecdsa.PublicKey:
		switch k.Curve.Params().BitSize {
		case 256:
			return xmldsig.ECDSASHA256, nil
		case 384:
			return xmldsig.ECDSASHA384, nil
		}
		return "", refused("ECDSA curve %s has no default signature method", k.Curve.Params().Name)
	}
	return "", refused("key type %T is not supported", pub)
}

// SignerName is the signer's name for display and for es:SignerName (SIG-21): the certificate
// subject's common name, else surname and given name (Hungarian order), else the whole subject DN.
func SignerName(cert *x509.Certificate) string {
	if cert == nil {
		return ""
	}
	if cn := strings.TrimSpace(cert.Subject.CommonName); cn != "" {
		return cn
	}
	var surname, given string
	for _, atv := range cert.Subject.Names {
		s, _ := atv.Value.(string)
		switch {
		case atv.Type.Equal(oidSurname):
			surname = s
		case atv.Type.Equal(oidGivenName):
			given = s
		}
	}
	if n := strings.TrimSpace(surname + " " + given); n != "" {
		return n
	}
	return cert.Subject.String()
}

var (
	oidSurname   = asn1.ObjectIdentifier{2, 5, 4, 4}
	oidGivenName = asn1.ObjectIdentifier{2, 5, 4, 42}
)

// buildTemplate builds the ds:Signature with empty DigestValues and SignatureValue.
func buildTemplate(sigID, method string, signingTime time.Time, shape dossierShape, opts SignOptions, rules policy.DocumentRules, hooks *signHooks) (*etree.Element, error) {
	sig := etree.NewElement("ds:Signature")
	sig.CreateAttr("xmlns:ds", xmldsig.NSDSig)
	sig.CreateAttr("Id", sigID)
	si := sig.CreateElement("ds:SignedInfo")
	si.CreateElement("ds:CanonicalizationMethod").CreateAttr("Algorithm", libxml.URIExcC14N)
	si.CreateElement("ds:SignatureMethod").CreateAttr("Algorithm", method)
	ref := func(id, uri, typ string) {
		r := si.CreateElement("ds:Reference")
		r.CreateAttr("Id", id)
		if typ != "" {
			r.CreateAttr("Type", typ)
		}
		r.CreateAttr("URI", "#"+uri)
		r.CreateElement("ds:Transforms").CreateElement("ds:Transform").CreateAttr("Algorithm", libxml.URIExcC14N)
		r.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", xmldsig.DigestSHA256)
		r.CreateElement("ds:DigestValue")
	}
	var dofs []props.DataObjectFormat
	xmlFormat := func(refID, descr string) {
		dofs = append(dofs, props.DataObjectFormat{ObjectReference: "#" + refID, Description: descr, MimeType: es3.MIMEXML})
	}
	ref(sigID+suffixRefDossier, shape.profileID, "")
	xmlFormat(sigID+suffixRefDossier, "es:DossierProfile")
	ref(sigID+suffixRefDocuments, shape.documentsID, "")
	xmlFormat(sigID+suffixRefDocuments, "es:Documents")
	for i, o := range shape.objects {
		refID := sigID + suffixRefObject + strconv.Itoa(i)
		ref(refID, o.id, "")
		mt, err := opts.Policy.WriteMIME(opts.Kind, o.encrypted)
		if err != nil {
			return nil, refused("document %q: %v", o.title, err)
		}
		if !o.encrypted && !strings.EqualFold(o.mime, mt) {
			return nil, refused("document %q is %s; the policy's %s documents are %s", o.title, o.mime, opts.Kind, mt)
		}
		// The object holds base64 text in both cases (SPEC §2): Encoding says so.
		dofs = append(dofs, props.DataObjectFormat{ObjectReference: "#" + refID, Description: o.title,
			MimeType: mt, Encoding: props.EncodingBase64})
	}
	ref(sigID+suffixRefProfile, sigID+suffixProfileObject, "")
	xmlFormat(sigID+suffixRefProfile, "es:SignatureProfile")
	ref(sigID+suffixRefSignedProps, sigID+suffixSignedProperties, props.SignedPropertiesType)

	sig.CreateElement("ds:SignatureValue").CreateAttr("Id", sigID+suffixSigValue)
	xd := sig.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data")
	for _, c := range append([]*x509.Certificate{opts.Certificate}, opts.Chain...) {
		xd.CreateElement("ds:X509Certificate").SetText(base64.StdEncoding.EncodeToString(c.Raw))
	}

	po := sig.CreateElement("ds:Object")
	po.CreateAttr("Id", sigID+suffixProfileObject)
	sp := po.CreateElement("es:SignatureProfile")
	sp.CreateAttr("xmlns:es", es3.NSES)
	sp.CreateAttr("Id", sigID+suffixProfile)
	sp.CreateElement("es:SignerName").SetText(SignerName(opts.Certificate))
	sp.CreateElement("es:Type").SetText("signature")
	gen := opts.Generator
	if gen == "" {
		gen = DefaultGenerator
	}
	sp.CreateElement("es:Generator").SetText(gen)

	signed := props.Signed{
		ID:                  sigID + suffixSignedProperties,
		SigningTime:         signingTime,
		SigningCertificates: []*x509.Certificate{opts.Certificate},
		CertDigest:          crypto.SHA256,
		Policy: &props.SignaturePolicy{
			Identifier: opts.Policy.ID(),
			Hash:       props.Digest{Hash: crypto.SHA256, Value: opts.Policy.Digest()},
		},
		DataObjectFormats: dofs,
		Commitments:       []props.CommitmentTypeIndication{{Identifier: rules.Commitment, AllSignedDataObjects: true}},
	}
	if hooks != nil && hooks.signed != nil {
		hooks.signed(&signed)
	}
	qp, err := props.BuildQualifyingProperties(sigID, signed)
	if err != nil {
		return nil, fmt.Errorf("xades: sign: %w", err)
	}
	qo := sig.CreateElement("ds:Object")
	qo.CreateAttr("Id", sigID+suffixQPObject)
	qo.AddChild(qp)
	return sig, nil
}
