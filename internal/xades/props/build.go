package props

import (
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/beevik/etree"
	"golang.org/x/crypto/ocsp"
)

// Element prefixes written by this package. The "ds" prefix is not declared by the builders: the
// QualifyingProperties element lives inside ds:Signature/ds:Object, where xmlns:ds is in scope, and a
// second declaration would be redundant (exclusive C14N re-emits it where it is used anyway). Call
// DeclareDS on a QualifyingProperties element that is serialized on its own.
const (
	prefix    = "xades"
	prefix141 = "xades141"
	prefixDS  = "ds"
)

// Signed is what the signed qualifying properties say. Zero fields are left out, except that
// SigningTime and SigningCertificates are required by Tagdíj's policy and so by BuildQualifyingProperties.
type Signed struct {
	// ID is the Id of xades:SignedProperties, referenced by the ds:Reference of Type SignedPropertiesType.
	ID string
	// SigningTime is written in UTC with second precision.
	SigningTime time.Time
	// SigningCertificates are the signer's certificate first, then optionally its CA certificates.
	SigningCertificates []*x509.Certificate
	// CertDigest is the hash for CertDigest; zero means SHA-256.
	CertDigest crypto.Hash
	// Policy is the explicit signature policy, nil to omit SignaturePolicyIdentifier.
	Policy *SignaturePolicy
	// DataObjectFormats: one per data reference, ObjectReference "#<ds:Reference Id>".
	DataObjectFormats []DataObjectFormat
	// Commitments: Tagdíj writes one, ProofOfOrigin (packages) or ProofOfReceipt (receipts), for all
	// signed data objects.
	Commitments []CommitmentTypeIndication
}

// BuildQualifyingProperties returns a new xades:QualifyingProperties element, Target "#"+signatureID,
// declaring xmlns:xades, holding xades:SignedProperties built from s. It has no UnsignedProperties:
// XAdES forbids an empty UnsignedSignatureProperties, so AppendUnsigned creates the container with the
// first unsigned property. The element is to be placed inside a ds:Object of the ds:Signature with Id
// signatureID.
func BuildQualifyingProperties(signatureID string, s Signed) (*etree.Element, error) {
	if err := checkID(signatureID); err != nil {
		return nil, fmt.Errorf("xades: signature id: %w", err)
	}
	sp, err := BuildSignedProperties(s)
	if err != nil {
		return nil, err
	}
	qp := etree.NewElement(prefix + ":QualifyingProperties")
	qp.CreateAttr("xmlns:"+prefix, NS)
	qp.CreateAttr("Target", "#"+signatureID)
	qp.AddChild(sp)
	return qp, nil
}

// DeclareDS adds xmlns:ds to el, for serializing a QualifyingProperties (or any element built here)
// outside a ds:Signature, e.g. in tests or when handing it to a validator on its own.
func DeclareDS(el *etree.Element) {
	if el.SelectAttr("xmlns:"+prefixDS) == nil {
		el.CreateAttr("xmlns:"+prefixDS, NSDS)
	}
}

// BuildSignedProperties builds xades:SignedProperties with its children in the order of the XAdES
// 1.3.2 schema: SignedSignatureProperties (SigningTime, SigningCertificate, SignaturePolicyIdentifier)
// then SignedDataObjectProperties (DataObjectFormat*, CommitmentTypeIndication*). It declares no
// namespaces itself.
func BuildSignedProperties(s Signed) (*etree.Element, error) {
	if err := checkID(s.ID); err != nil {
		return nil, fmt.Errorf("xades: SignedProperties id: %w", err)
	}
	if s.SigningTime.IsZero() {
		return nil, errors.New("xades: SigningTime is required")
	}
	if len(s.SigningCertificates) == 0 {
		return nil, errors.New("xades: SigningCertificate needs the signer's certificate")
	}
	h := s.CertDigest
	if h == 0 {
		h = crypto.SHA256
	}
	sp := etree.NewElement(prefix + ":SignedProperties")
	sp.CreateAttr("Id", s.ID)
	ssp := sp.CreateElement(prefix + ":SignedSignatureProperties")
	ssp.CreateElement(prefix + ":SigningTime").SetText(FormatTime(s.SigningTime))
	refs := make([]CertRef, 0, len(s.SigningCertificates))
	for i, c := range s.SigningCertificates {
		r, err := NewCertRef(c, h)
		if err != nil {
			return nil, fmt.Errorf("xades: SigningCertificate %d: %w", i, err)
		}
		refs = append(refs, r)
	}
	sc, err := certIDList(prefix+":SigningCertificate", refs)
	if err != nil {
		return nil, err
	}
	ssp.AddChild(sc)
	if s.Policy != nil {
		pe, err := policyElement(s.Policy)
		if err != nil {
			return nil, err
		}
		ssp.AddChild(pe)
	}
	if len(s.DataObjectFormats) > 0 || len(s.Commitments) > 0 {
		sdop := sp.CreateElement(prefix + ":SignedDataObjectProperties")
		for i, f := range s.DataObjectFormats {
			if f.ObjectReference == "" || !strings.HasPrefix(f.ObjectReference, "#") {
				return nil, fmt.Errorf("xades: DataObjectFormat %d: ObjectReference must be \"#<Reference Id>\"", i)
			}
			if f.MimeType == "" {
				return nil, fmt.Errorf("xades: DataObjectFormat %d: MimeType is required", i)
			}
			e := sdop.CreateElement(prefix + ":DataObjectFormat")
			e.CreateAttr("ObjectReference", f.ObjectReference)
			if f.Description != "" {
				e.CreateElement(prefix + ":Description").SetText(f.Description)
			}
			if f.ObjectIdentifier != "" {
				oi := e.CreateElement(prefix + ":ObjectIdentifier")
				identifier(oi, f.ObjectIdentifier, "")
			}
			e.CreateElement(prefix + ":MimeType").SetText(f.MimeType)
			if f.Encoding != "" {
				e.CreateElement(prefix + ":Encoding").SetText(f.Encoding)
			}
		}
		for i, c := range s.Commitments {
			if c.Identifier == "" {
				return nil, fmt.Errorf("xades: CommitmentTypeIndication %d: no identifier", i)
			}
			if c.AllSignedDataObjects == (len(c.ObjectReferences) > 0) {
				return nil, fmt.Errorf("xades: CommitmentTypeIndication %d: exactly one of AllSignedDataObjects and ObjectReferences", i)
			}
			e := sdop.CreateElement(prefix + ":CommitmentTypeIndication")
			id := e.CreateElement(prefix + ":CommitmentTypeId")
			identifier(id, c.Identifier, c.Qualifier)
			if c.Description != "" {
				id.CreateElement(prefix + ":Description").SetText(c.Description)
			}
			if c.AllSignedDataObjects {
				e.CreateElement(prefix + ":AllSignedDataObjects")
			}
			for _, r := range c.ObjectReferences {
				e.CreateElement(prefix + ":ObjectReference").SetText(r)
			}
		}
	}
	return sp, nil
}

// identifier writes an xades:Identifier into parent. A "urn:oid:" identifier gets Qualifier OIDAsURN
// unless q says otherwise; any other URI (such as Tagdíj's "urn:x-mnyp:…" policy ids) is written
// without Qualifier, which the schema defines as "the identifier is a URI".
func identifier(parent *etree.Element, id, q string) {
	e := parent.CreateElement(prefix + ":Identifier")
	if q == "" && strings.HasPrefix(strings.ToLower(id), "urn:oid:") {
		q = QualifierOIDAsURN
	}
	if q != "" {
		e.CreateAttr("Qualifier", q)
	}
	e.SetText(id)
}

func policyElement(p *SignaturePolicy) (*etree.Element, error) {
	e := etree.NewElement(prefix + ":SignaturePolicyIdentifier")
	if p.Implied {
		e.CreateElement(prefix + ":SignaturePolicyImplied")
		return e, nil
	}
	if p.Identifier == "" {
		return nil, errors.New("xades: SignaturePolicyIdentifier: no identifier")
	}
	if len(p.Transforms) > 0 {
		return nil, errors.New("xades: SignaturePolicyIdentifier: policy transforms are not written")
	}
	id := e.CreateElement(prefix + ":SignaturePolicyId")
	spid := id.CreateElement(prefix + ":SigPolicyId")
	identifier(spid, p.Identifier, p.Qualifier)
	if p.Description != "" {
		spid.CreateElement(prefix + ":Description").SetText(p.Description)
	}
	dv, err := digestElement(prefix+":SigPolicyHash", p.Hash)
	if err != nil {
		return nil, fmt.Errorf("xades: SigPolicyHash: %w", err)
	}
	id.AddChild(dv)
	if len(p.SPURIs) > 0 {
		q := id.CreateElement(prefix + ":SigPolicyQualifiers")
		for _, u := range p.SPURIs {
			q.CreateElement(prefix + ":SigPolicyQualifier").CreateElement(prefix + ":SPURI").SetText(u)
		}
	}
	return e, nil
}

// digestElement writes a DigestAlgAndValueType element named name.
func digestElement(name string, d Digest) (*etree.Element, error) {
	uri, err := DigestURI(d.Hash)
	if err != nil {
		return nil, err
	}
	if len(d.Value) != d.Hash.Size() {
		return nil, fmt.Errorf("xades: digest value has %d bytes, %v has %d", len(d.Value), d.Hash, d.Hash.Size())
	}
	e := etree.NewElement(name)
	e.CreateElement(prefixDS+":DigestMethod").CreateAttr("Algorithm", uri)
	e.CreateElement(prefixDS + ":DigestValue").SetText(base64.StdEncoding.EncodeToString(d.Value))
	return e, nil
}

// NewCertRef returns the v1 reference to cert with digest h: CertDigest over the DER and IssuerSerial
// from IssuerSerialOf.
func NewCertRef(cert *x509.Certificate, h crypto.Hash) (CertRef, error) {
	if cert == nil {
		return CertRef{}, errors.New("xades: nil certificate")
	}
	if _, err := DigestURI(h); err != nil {
		return CertRef{}, err
	}
	name, serial, err := IssuerSerialOf(cert)
	if err != nil {
		return CertRef{}, err
	}
	return CertRef{Digest: Sum(h, cert.Raw), IssuerName: name, SerialNumber: serial}, nil
}

// Sum is the Digest of data with h.
func Sum(h crypto.Hash, data []byte) Digest {
	w := h.New()
	w.Write(data)
	return Digest{Hash: h, Value: w.Sum(nil)}
}

// certIDList writes a CertIDListType element (SigningCertificate, CertRefs) with v1 Cert entries.
func certIDList(name string, refs []CertRef) (*etree.Element, error) {
	e := etree.NewElement(name)
	for i, r := range refs {
		if r.V2 {
			return nil, fmt.Errorf("xades: %s %d: v2 references are not written", name, i)
		}
		if r.SerialNumber == nil || r.IssuerName == "" {
			return nil, fmt.Errorf("xades: %s %d: IssuerSerial is incomplete", name, i)
		}
		c := e.CreateElement(prefix + ":Cert")
		if r.URI != "" {
			c.CreateAttr("URI", r.URI)
		}
		d, err := digestElement(prefix+":CertDigest", r.Digest)
		if err != nil {
			return nil, fmt.Errorf("xades: %s %d: %w", name, i, err)
		}
		c.AddChild(d)
		is := c.CreateElement(prefix + ":IssuerSerial")
		is.CreateElement(prefixDS + ":X509IssuerName").SetText(r.IssuerName)
		is.CreateElement(prefixDS + ":X509SerialNumber").SetText(r.SerialNumber.String())
	}
	return e, nil
}

// FormatTime writes t as an xsd:dateTime in UTC with second precision ("2006-01-02T15:04:05Z"), the
// form XAdES producers and verifiers agree on.
func FormatTime(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z")
}

// TimeStampElement builds a XAdESTimeStampType element of kind k (KindSignatureTimeStamp,
// KindSigAndRefsTimeStamp, KindRefsOnlyTimeStamp or KindArchiveTimeStamp) with Id id, a
// ds:CanonicalizationMethod with Algorithm c14n (the algorithm the caller used on the input), and one
// EncapsulatedTimeStamp holding the DER RFC 3161 token. An ArchiveTimeStamp is written in the 1.4.1
// namespace and declares xmlns:xades141 on itself.
func TimeStampElement(k Kind, id, c14n string, token []byte) (*etree.Element, error) {
	var e *etree.Element
	switch k {
	case KindSignatureTimeStamp, KindSigAndRefsTimeStamp, KindRefsOnlyTimeStamp:
		e = etree.NewElement(prefix + ":" + k.String())
	case KindArchiveTimeStamp:
		e = etree.NewElement(prefix141 + ":ArchiveTimeStamp")
		e.CreateAttr("xmlns:"+prefix141, NS141)
	default:
		return nil, fmt.Errorf("xades: %v is not a time-stamp property", k)
	}
	if id != "" {
		if err := checkID(id); err != nil {
			return nil, fmt.Errorf("xades: %v id: %w", k, err)
		}
		e.CreateAttr("Id", id)
	}
	if c14n == "" {
		return nil, fmt.Errorf("xades: %v: the canonicalization algorithm must be stated (EN 319 132-1 4.5)", k)
	}
	if len(token) == 0 {
		return nil, fmt.Errorf("xades: %v: empty time-stamp token", k)
	}
	e.CreateElement(prefixDS+":CanonicalizationMethod").CreateAttr("Algorithm", c14n)
	// The 1.4.1 ArchiveTimeStamp is of type xades:XAdESTimeStampType, whose children are in the
	// 1.3.2 namespace (elementFormDefault qualified, local elements of the 1.3.2 schema).
	et := e.CreateElement(prefix + ":EncapsulatedTimeStamp")
	et.SetText(base64.StdEncoding.EncodeToString(token))
	return e, nil
}

// CompleteCertificateRefsElement builds xades:CompleteCertificateRefs with one Cert per certificate
// (the CA certificates of the signer's chain; XAdES excludes the signer's own, which
// SigningCertificate already references), digest h (zero means SHA-256).
func CompleteCertificateRefsElement(id string, h crypto.Hash, certs []*x509.Certificate) (*etree.Element, error) {
	if h == 0 {
		h = crypto.SHA256
	}
	if len(certs) == 0 {
		return nil, errors.New("xades: CompleteCertificateRefs needs at least one certificate")
	}
	refs := make([]CertRef, 0, len(certs))
	for i, c := range certs {
		r, err := NewCertRef(c, h)
		if err != nil {
			return nil, fmt.Errorf("xades: CompleteCertificateRefs %d: %w", i, err)
		}
		refs = append(refs, r)
	}
	e := etree.NewElement(prefix + ":CompleteCertificateRefs")
	if id != "" {
		if err := checkID(id); err != nil {
			return nil, err
		}
		e.CreateAttr("Id", id)
	}
	l, err := certIDList(prefix+":CertRefs", refs)
	if err != nil {
		return nil, err
	}
	e.AddChild(l)
	return e, nil
}

// NewOCSPRef returns the reference to a DER OCSPResponse: its ResponderID, producedAt and digest h of
// the whole DER. The response's signature is not checked here (revocation checking does that); a
// response that x/crypto/ocsp cannot parse is an error.
func NewOCSPRef(der []byte, h crypto.Hash) (OCSPRef, error) {
	r, err := ocsp.ParseResponse(der, nil)
	if err != nil {
		return OCSPRef{}, fmt.Errorf("xades: OCSP response: %w", err)
	}
	ref := OCSPRef{ProducedAt: r.ProducedAt}
	if len(r.RawResponderName) > 0 {
		name, err := NameString(r.RawResponderName)
		if err != nil {
			return OCSPRef{}, fmt.Errorf("xades: OCSP responder name: %w", err)
		}
		ref.ResponderName = name
	} else {
		ref.ResponderKey = r.ResponderKeyHash
	}
	d := Sum(h, der)
	ref.Digest = &d
	return ref, nil
}

// NewCRLRef returns the reference to a DER CRL: digest h, issuer (NameString), thisUpdate and the CRL
// number when present.
func NewCRLRef(der []byte, h crypto.Hash) (CRLRef, error) {
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return CRLRef{}, fmt.Errorf("xades: CRL: %w", err)
	}
	name, err := NameString(rl.RawIssuer)
	if err != nil {
		return CRLRef{}, fmt.Errorf("xades: CRL issuer: %w", err)
	}
	ref := CRLRef{Digest: Sum(h, der), HasIdentifier: true, Issuer: name, IssueTime: rl.ThisUpdate}
	if rl.Number != nil {
		ref.Number = new(big.Int).Set(rl.Number)
	}
	return ref, nil
}

// CompleteRevocationRefsElement builds xades:CompleteRevocationRefs: CRLRefs before OCSPRefs, as the
// schema's sequence requires.
func CompleteRevocationRefsElement(id string, crls []CRLRef, ocsps []OCSPRef) (*etree.Element, error) {
	if len(crls) == 0 && len(ocsps) == 0 {
		return nil, errors.New("xades: CompleteRevocationRefs needs at least one reference")
	}
	e := etree.NewElement(prefix + ":CompleteRevocationRefs")
	if id != "" {
		if err := checkID(id); err != nil {
			return nil, err
		}
		e.CreateAttr("Id", id)
	}
	if len(crls) > 0 {
		l := e.CreateElement(prefix + ":CRLRefs")
		for i, c := range crls {
			r := l.CreateElement(prefix + ":CRLRef")
			d, err := digestElement(prefix+":DigestAlgAndValue", c.Digest)
			if err != nil {
				return nil, fmt.Errorf("xades: CRLRef %d: %w", i, err)
			}
			r.AddChild(d)
			if c.HasIdentifier {
				if c.Issuer == "" || c.IssueTime.IsZero() {
					return nil, fmt.Errorf("xades: CRLRef %d: CRLIdentifier needs Issuer and IssueTime", i)
				}
				ci := r.CreateElement(prefix + ":CRLIdentifier")
				if c.URI != "" {
					ci.CreateAttr("URI", c.URI)
				}
				ci.CreateElement(prefix + ":Issuer").SetText(c.Issuer)
				ci.CreateElement(prefix + ":IssueTime").SetText(FormatTime(c.IssueTime))
				if c.Number != nil {
					ci.CreateElement(prefix + ":Number").SetText(c.Number.String())
				}
			}
		}
	}
	if len(ocsps) > 0 {
		l := e.CreateElement(prefix + ":OCSPRefs")
		for i, o := range ocsps {
			if (o.ResponderName == "") == (len(o.ResponderKey) == 0) {
				return nil, fmt.Errorf("xades: OCSPRef %d: exactly one of ResponderName and ResponderKey", i)
			}
			if o.ProducedAt.IsZero() {
				return nil, fmt.Errorf("xades: OCSPRef %d: no ProducedAt", i)
			}
			r := l.CreateElement(prefix + ":OCSPRef")
			oi := r.CreateElement(prefix + ":OCSPIdentifier")
			if o.URI != "" {
				oi.CreateAttr("URI", o.URI)
			}
			rid := oi.CreateElement(prefix + ":ResponderID")
			if o.ResponderName != "" {
				rid.CreateElement(prefix + ":ByName").SetText(o.ResponderName)
			} else {
				rid.CreateElement(prefix + ":ByKey").SetText(base64.StdEncoding.EncodeToString(o.ResponderKey))
			}
			oi.CreateElement(prefix + ":ProducedAt").SetText(FormatTime(o.ProducedAt))
			if o.Digest != nil {
				d, err := digestElement(prefix+":DigestAlgAndValue", *o.Digest)
				if err != nil {
					return nil, fmt.Errorf("xades: OCSPRef %d: %w", i, err)
				}
				r.AddChild(d)
			}
		}
	}
	return e, nil
}

// CertificateValuesElement builds xades:CertificateValues with one EncapsulatedX509Certificate (base64
// DER, one line) per certificate.
func CertificateValuesElement(id string, certs []*x509.Certificate) (*etree.Element, error) {
	e := etree.NewElement(prefix + ":CertificateValues")
	if err := certValues(e, id, certs); err != nil {
		return nil, err
	}
	return e, nil
}

func certValues(e *etree.Element, id string, certs []*x509.Certificate) error {
	if id != "" {
		if err := checkID(id); err != nil {
			return err
		}
		e.CreateAttr("Id", id)
	}
	for i, c := range certs {
		if c == nil || len(c.Raw) == 0 {
			return fmt.Errorf("xades: CertificateValues %d: no certificate", i)
		}
		e.CreateElement(prefix + ":EncapsulatedX509Certificate").SetText(base64.StdEncoding.EncodeToString(c.Raw))
	}
	return nil
}

// RevocationValuesElement builds xades:RevocationValues: CRLValues (DER CRLs) before OCSPValues (DER
// OCSPResponses), the schema's order.
func RevocationValuesElement(id string, crls, ocsps [][]byte) (*etree.Element, error) {
	if len(crls) == 0 && len(ocsps) == 0 {
		return nil, errors.New("xades: RevocationValues needs at least one value")
	}
	e := etree.NewElement(prefix + ":RevocationValues")
	if err := revValues(e, id, crls, ocsps); err != nil {
		return nil, err
	}
	return e, nil
}

func revValues(e *etree.Element, id string, crls, ocsps [][]byte) error {
	if id != "" {
		if err := checkID(id); err != nil {
			return err
		}
		e.CreateAttr("Id", id)
	}
	if len(crls) > 0 {
		l := e.CreateElement(prefix + ":CRLValues")
		for i, c := range crls {
			if len(c) == 0 {
				return fmt.Errorf("xades: CRLValues %d: empty", i)
			}
			l.CreateElement(prefix + ":EncapsulatedCRLValue").SetText(base64.StdEncoding.EncodeToString(c))
		}
	}
	if len(ocsps) > 0 {
		l := e.CreateElement(prefix + ":OCSPValues")
		for i, o := range ocsps {
			if len(o) == 0 {
				return fmt.Errorf("xades: OCSPValues %d: empty", i)
			}
			l.CreateElement(prefix + ":EncapsulatedOCSPValue").SetText(base64.StdEncoding.EncodeToString(o))
		}
	}
	return nil
}

// TimeStampValidationDataElement builds xades141:TimeStampValidationData holding the certificates and
// revocation values needed to validate a time-stamp token (the TSA's chain and its status). It is
// placed after the time-stamp it serves; uri may name that time-stamp ("#<Id>").
func TimeStampValidationDataElement(id, uri string, certs []*x509.Certificate, crls, ocsps [][]byte) (*etree.Element, error) {
	if len(certs) == 0 && len(crls) == 0 && len(ocsps) == 0 {
		return nil, errors.New("xades: TimeStampValidationData needs certificates or revocation values")
	}
	e := etree.NewElement(prefix141 + ":TimeStampValidationData")
	e.CreateAttr("xmlns:"+prefix141, NS141)
	if id != "" {
		if err := checkID(id); err != nil {
			return nil, err
		}
		e.CreateAttr("Id", id)
	}
	if uri != "" {
		e.CreateAttr("URI", uri)
	}
	if len(certs) > 0 {
		if err := certValues(e.CreateElement(prefix+":CertificateValues"), "", certs); err != nil {
			return nil, err
		}
	}
	if len(crls) > 0 || len(ocsps) > 0 {
		if err := revValues(e.CreateElement(prefix+":RevocationValues"), "", crls, ocsps); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// AppendUnsigned appends prop as the last child of qp's UnsignedProperties/UnsignedSignatureProperties,
// creating the containers if needed, and never touches SignedProperties. qp must be a
// xades:QualifyingProperties element; prop must be an unsigned signature property built here.
//
// Order matters: XAdES lets unsigned signature properties appear in any order, but SigAndRefsTimeStamp
// and ArchiveTimeStamp cover the properties that precede them, in document order. Append in the order
// the properties come into being — SignatureTimeStamp, then CompleteCertificateRefs /
// CompleteRevocationRefs, then CertificateValues / RevocationValues, then SigAndRefsTimeStamp, then
// TimeStampValidationData for the time-stamps so far, and only then ArchiveTimeStamp — and never insert
// before an existing time-stamp.
func AppendUnsigned(qp *etree.Element, prop *etree.Element) error {
	if qp == nil || qp.Tag != "QualifyingProperties" || qp.NamespaceURI() != NS {
		return errors.New("xades: AppendUnsigned needs a xades:QualifyingProperties element")
	}
	if prop == nil {
		return errors.New("xades: AppendUnsigned: nil property")
	}
	up := childNS(qp, NS, "UnsignedProperties")
	if up == nil {
		up = qp.CreateElement(prefix + ":UnsignedProperties")
	}
	usp := childNS(up, NS, "UnsignedSignatureProperties")
	if usp == nil {
		usp = etree.NewElement(prefix + ":UnsignedSignatureProperties")
		// UnsignedSignatureProperties precedes UnsignedDataObjectProperties.
		if udop := childNS(up, NS, "UnsignedDataObjectProperties"); udop != nil {
			up.InsertChildAt(udop.Index(), usp)
		} else {
			up.AddChild(usp)
		}
	}
	usp.AddChild(prop)
	if prop.NamespaceURI() == "" {
		usp.RemoveChild(prop)
		return errors.New("xades: AppendUnsigned: property namespace does not resolve")
	}
	return nil
}

// childNS returns the first child element of e with namespace ns and local name local.
func childNS(e *etree.Element, ns, local string) *etree.Element {
	for _, c := range e.ChildElements() {
		if c.Tag == local && c.NamespaceURI() == ns {
			return c
		}
	}
	return nil
}

// checkID accepts an XML NCName-ish Id (letters, digits, '-', '_', '.', not starting with a digit, '-'
// or '.'), which is all Tagdíj generates and keeps "#id" references unambiguous.
func checkID(id string) error {
	if id == "" {
		return errors.New("empty Id")
	}
	if len(id) > 256 {
		return errors.New("Id too long")
	}
	for i, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case (c >= '0' && c <= '9') || c == '-' || c == '.':
			if i == 0 {
				return fmt.Errorf("Id %q must not start with %q", id, c)
			}
		default:
			return fmt.Errorf("Id %q has character %q", id, c)
		}
	}
	return nil
}
