package xmldsig

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"strings"

	"github.com/tagdij/tagdij/internal/libxml"
)

// KeyInfo is what a ds:KeyInfo says about the verification key, as handed to a KeyResolver.
type KeyInfo struct {
	KeyNames      []string
	IssuerSerials []IssuerSerial
	SKIs          [][]byte
	SubjectNames  []string
	// Certificates are the X509Certificate elements, in document order.
	Certificates []*x509.Certificate
}

// IssuerSerial is an X509IssuerSerial: the issuer's distinguished name as written (RFC 4514 form) and
// the serial number.
type IssuerSerial struct {
	IssuerName string
	Serial     *big.Int
}

// KeyResolver finds the verification key for a signature whose KeyInfo carries no key of its own
// (KeyName, X509IssuerSerial, X509SKI, X509SubjectName, or no KeyInfo at all). It must resolve only
// against keys and certificates the caller trusts to be candidates; it never fetches anything.
type KeyResolver interface {
	ResolveKey(info *KeyInfo) (crypto.PublicKey, *x509.Certificate, error)
}

// CertificateResolver resolves KeyInfo hints against the given certificates: X509SKI by subject key
// identifier, X509IssuerSerial by issuer name and serial number, X509SubjectName by subject name, and
// KeyName by subject common name or full subject name. Names are compared attribute by attribute,
// ignoring the order of attributes, the case of attribute types and white space around values.
func CertificateResolver(certs ...*x509.Certificate) KeyResolver {
	return certResolver(certs)
}

type certResolver []*x509.Certificate

func (cr certResolver) ResolveKey(info *KeyInfo) (crypto.PublicKey, *x509.Certificate, error) {
	for _, c := range cr {
		if c == nil {
			continue
		}
		match := false
		for _, ski := range info.SKIs {
			match = match || (len(c.SubjectKeyId) > 0 && bytes.Equal(c.SubjectKeyId, ski))
		}
		for _, is := range info.IssuerSerials {
			match = match || (is.Serial != nil && c.SerialNumber.Cmp(is.Serial) == 0 && sameDN(is.IssuerName, c.RawIssuer))
		}
		for _, sn := range info.SubjectNames {
			match = match || sameDN(sn, c.RawSubject)
		}
		for _, kn := range info.KeyNames {
			match = match || (kn != "" && (kn == c.Subject.CommonName || sameDN(kn, c.RawSubject)))
		}
		if match {
			return c.PublicKey, c, nil
		}
	}
	return nil, nil, fmt.Errorf("%w: no supplied certificate matches the KeyInfo", ErrKey)
}

// staticKey is a KeyResolver that always answers with one key.
type staticKey struct{ pub crypto.PublicKey }

// StaticKey is a KeyResolver that answers every KeyInfo with pub.
func StaticKey(pub crypto.PublicKey) KeyResolver { return staticKey{pub} }

func (s staticKey) ResolveKey(*KeyInfo) (crypto.PublicKey, *x509.Certificate, error) {
	return s.pub, nil, nil
}

// keyMaterial is what KeyInfo carries.
type keyMaterial struct {
	info  KeyInfo
	value crypto.PublicKey // from KeyValue
	leaf  *x509.Certificate
}

var oidNames = map[string]string{
	"2.5.4.3": "cn", "2.5.4.4": "sn", "2.5.4.5": "serialnumber", "2.5.4.6": "c", "2.5.4.7": "l",
	"2.5.4.8": "st", "2.5.4.9": "street", "2.5.4.10": "o", "2.5.4.11": "ou", "2.5.4.12": "title",
	"2.5.4.42": "gn", "1.2.840.113549.1.9.1": "emailaddress", "0.9.2342.19200300.100.1.25": "dc",
	"0.9.2342.19200300.100.1.1": "uid", "2.5.4.97": "organizationidentifier",
}

var typeAliases = map[string]string{"e": "emailaddress", "email": "emailaddress", "s": "st", "givenname": "gn", "surname": "sn"}

// sameDN compares a distinguished name string (RFC 4514 style, as written in XMLDSig) with a DER Name
// as a multiset of (type, value) pairs.
func sameDN(s string, raw []byte) bool {
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(raw, &seq); err != nil || len(rest) > 0 {
		return false
	}
	var want []string
	for _, rdn := range seq {
		for _, atv := range rdn {
			t := atv.Type.String()
			if n, ok := oidNames[t]; ok {
				t = n
			}
			v, ok := atv.Value.(string)
			if !ok {
				return false
			}
			want = append(want, t+"="+strings.ToLower(strings.TrimSpace(v)))
		}
	}
	got := splitDN(s)
	if len(got) != len(want) || len(got) == 0 {
		return false
	}
	used := make([]bool, len(want))
outer:
	for _, g := range got {
		for i, w := range want {
			if !used[i] && g == w {
				used[i] = true
				continue outer
			}
		}
		return false
	}
	return true
}

// splitDN splits "CN=a,O=b\,c" into normalized "cn=a", "o=b,c" (multi-valued RDNs joined with '+'
// are split too).
func splitDN(s string) []string {
	var parts []string
	var cur strings.Builder
	esc := false
	for _, r := range strings.TrimSpace(s) {
		switch {
		case esc:
			cur.WriteRune(r)
			esc = false
		case r == '\\':
			esc = true
		case r == ',' || r == ';' || r == '+':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	parts = append(parts, cur.String())
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if a, ok := typeAliases[k]; ok {
			k = a
		}
		out = append(out, k+"="+strings.ToLower(strings.TrimSpace(v)))
	}
	return out
}

// readKeyInfo reads the key material and hints of a ds:KeyInfo. RetrievalMethod anywhere in it is
// refused.
func readKeyInfo(ki libxml.Node, parse func([]byte) (*x509.Certificate, error)) (*keyMaterial, error) {
	if parse == nil {
		parse = x509.ParseCertificate
	}
	km := &keyMaterial{}
	if ki.IsZero() {
		return km, nil
	}
	var refused error
	walk(ki, func(n libxml.Node) {
		if refused == nil && n.Is(NSDSig, "RetrievalMethod") {
			refused = fmt.Errorf("%w: ds:RetrievalMethod in KeyInfo is refused (it points to key material elsewhere)", ErrUnsupported)
		}
	})
	if refused != nil {
		return nil, refused
	}
	for _, c := range ki.Children() {
		switch {
		case c.Is(NSDSig, "KeyName"):
			km.info.KeyNames = append(km.info.KeyNames, strings.TrimSpace(c.Text()))
		case c.Is(NSDSig, "KeyValue"):
			kv := c.Children()
			if len(kv) != 1 {
				return nil, malformed("ds:KeyValue must hold exactly one key")
			}
			if km.value != nil {
				return nil, malformed("more than one ds:KeyValue")
			}
			pub, err := readKeyValue(kv[0])
			if err != nil {
				return nil, err
			}
			km.value = pub
		case c.Is(NSDSig, "X509Data"):
			if err := readX509Data(c, &km.info, parse); err != nil {
				return nil, err
			}
		}
	}
	km.leaf = pickLeaf(km.info.Certificates)
	return km, nil
}

func walk(n libxml.Node, fn func(libxml.Node)) {
	fn(n)
	for _, c := range n.Children() {
		walk(c, fn)
	}
}

// pickLeaf chooses the signer's certificate among the KeyInfo certificates: the only one that issued
// none of the others; if that is ambiguous, the first.
func pickLeaf(certs []*x509.Certificate) *x509.Certificate {
	if len(certs) == 0 {
		return nil
	}
	var leaves []*x509.Certificate
	for _, c := range certs {
		issuer := false
		for _, o := range certs {
			if o != c && bytes.Equal(o.RawIssuer, c.RawSubject) && !bytes.Equal(o.RawSubject, o.RawIssuer) {
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
	return certs[0]
}

const maxCertificates = 16

func readX509Data(n libxml.Node, info *KeyInfo, parse func([]byte) (*x509.Certificate, error)) error {
	for _, c := range n.Children() {
		switch {
		case c.Is(NSDSig, "X509Certificate"):
			if len(info.Certificates) >= maxCertificates {
				return fmt.Errorf("%w: more than %d certificates in KeyInfo", ErrLimit, maxCertificates)
			}
			der, err := decodeBase64(c.Text())
			if err != nil {
				return malformed("X509Certificate: %v", err)
			}
			cert, err := parse(der)
			if err != nil {
				return malformed("X509Certificate: %v", err)
			}
			info.Certificates = append(info.Certificates, cert)
		case c.Is(NSDSig, "X509SKI"):
			ski, err := decodeBase64(c.Text())
			if err != nil {
				return malformed("X509SKI: %v", err)
			}
			info.SKIs = append(info.SKIs, ski)
		case c.Is(NSDSig, "X509SubjectName"):
			info.SubjectNames = append(info.SubjectNames, strings.TrimSpace(c.Text()))
		case c.Is(NSDSig, "X509IssuerSerial"):
			var is IssuerSerial
			for _, k := range c.Children() {
				switch {
				case k.Is(NSDSig, "X509IssuerName"):
					is.IssuerName = strings.TrimSpace(k.Text())
				case k.Is(NSDSig, "X509SerialNumber"):
					s := strings.TrimSpace(k.Text())
					if len(s) > 100 {
						return malformed("X509SerialNumber too long")
					}
					v, ok := new(big.Int).SetString(s, 10)
					if !ok {
						return malformed("X509SerialNumber %q is not a decimal integer", truncate(s))
					}
					is.Serial = v
				}
			}
			info.IssuerSerials = append(info.IssuerSerials, is)
		}
	}
	return nil
}

// readKeyValue reads an RSAKeyValue or a dsig11:ECKeyValue with a NamedCurve; every other key value
// (DSA, explicit EC parameters) is ErrUnsupported.
func readKeyValue(n libxml.Node) (crypto.PublicKey, error) {
	switch {
	case n.Is(NSDSig, "RSAKeyValue"):
		var mod, exp []byte
		for _, k := range n.Children() {
			var err error
			switch {
			case k.Is(NSDSig, "Modulus"):
				mod, err = decodeBase64(k.Text())
			case k.Is(NSDSig, "Exponent"):
				exp, err = decodeBase64(k.Text())
			}
			if err != nil {
				return nil, malformed("RSAKeyValue: %v", err)
			}
		}
		if len(mod) == 0 || len(exp) == 0 || len(exp) > 4 {
			return nil, malformed("RSAKeyValue needs a Modulus and a small Exponent")
		}
		e := new(big.Int).SetBytes(exp)
		if e.Int64() < 3 || e.Int64() > 1<<31-1 {
			return nil, malformed("RSAKeyValue exponent out of range")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(mod), E: int(e.Int64())}, nil
	case n.Is(NSDSig11, "ECKeyValue"):
		var curve elliptic.Curve
		var point []byte
		for _, k := range n.Children() {
			switch {
			case k.Is(NSDSig11, "NamedCurve"):
				uri, _ := k.Attr("URI")
				switch uri {
				case "urn:oid:1.2.840.10045.3.1.7":
					curve = elliptic.P256()
				case "urn:oid:1.3.132.0.34":
					curve = elliptic.P384()
				case "urn:oid:1.3.132.0.35":
					curve = elliptic.P521()
				default:
					return nil, &UnsupportedAlgorithmError{URI: uri, Role: "curve"}
				}
			case k.Is(NSDSig11, "PublicKey"):
				var err error
				if point, err = decodeBase64(k.Text()); err != nil {
					return nil, malformed("ECKeyValue: %v", err)
				}
			case k.Is(NSDSig11, "ECParameters"):
				return nil, fmt.Errorf("%w: explicit EC parameters", ErrUnsupported)
			}
		}
		if curve == nil || point == nil {
			return nil, malformed("ECKeyValue needs a NamedCurve and a PublicKey")
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return nil, malformed("ECKeyValue: %v", err)
		}
		return pub, nil
	}
	return nil, fmt.Errorf("%w: key value {%s}%s", ErrUnsupported, n.NamespaceURI(), n.LocalName())
}
