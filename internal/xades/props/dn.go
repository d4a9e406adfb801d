package props

import (
	"bytes"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"unicode/utf8"
)

// maxDNLen bounds the RFC 4514 strings parsed for comparison.
const maxDNLen = 8 << 10

// NameString renders a DER-encoded X.501 Name (a certificate's RawIssuer or RawSubject, a CRL's issuer)
// as an RFC 4514 string, keeping the RDN order and multi-valued RDNs of the DER (the string lists the
// last RDN first, as RFC 4514 requires). The attribute types C, O, OU, CN, SERIALNUMBER, L, ST, STREET
// and POSTALCODE are written with these short names (the set Go's crypto/x509/pkix uses) and, when their
// value is a string type, as an escaped string; every other type is written as a dotted OID with the
// value as '#' and the hex of its DER, exactly as encoded (RFC 4514 section 2.4), so nothing is lost or
// re-encoded. The result is a pure function of the DER.
//
// It differs from pkix.Name.String (rebuilds the name from parsed fields and can reorder attributes;
// renders non-string values lossily) and from OpenSSL/xmlsec output (more short names such as
// emailAddress, GN, SN, organizationIdentifier; \XX escapes for non-ASCII). NameMatches accepts all these.
func NameString(der []byte) (string, error) {
	rdns, err := rawRDNs(der)
	if err != nil {
		return "", fmt.Errorf("xades: name: %w", err)
	}
	var b strings.Builder
	for i := len(rdns) - 1; i >= 0; i-- {
		if i != len(rdns)-1 {
			b.WriteByte(',')
		}
		for j, a := range rdns[i] {
			if j > 0 {
				b.WriteByte('+')
			}
			name, short := writeNames[a.oid]
			if !short {
				name = a.oid
			}
			b.WriteString(name)
			b.WriteByte('=')
			if short && a.isStr {
				writeEscaped(&b, a.str)
			} else {
				b.WriteByte('#')
				b.WriteString(hex.EncodeToString(a.der))
			}
		}
	}
	return b.String(), nil
}

// writeNames are the descriptors NameString writes.
var writeNames = map[string]string{
	"2.5.4.6": "C", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.3": "CN", "2.5.4.5": "SERIALNUMBER",
	"2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.9": "STREET", "2.5.4.17": "POSTALCODE",
}

// writeEscaped escapes a value per RFC 4514 section 2.4.
func writeEscaped(b *strings.Builder, v string) {
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == 0:
			b.WriteString(`\00`)
			continue
		case c == '"' || c == '+' || c == ',' || c == ';' || c == '<' || c == '>' || c == '\\',
			i == 0 && (c == ' ' || c == '#'),
			i == len(v)-1 && c == ' ':
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
}

type rawATV struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// rawRDNs decodes a DER Name keeping each value's exact encoding; string-typed values are also decoded.
func rawRDNs(der []byte) ([][]dnAttr, error) {
	var seq []asn1.RawValue
	rest, err := asn1.Unmarshal(der, &seq)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, errors.New("trailing data")
	}
	out := make([][]dnAttr, 0, len(seq))
	for _, set := range seq {
		if set.Class != asn1.ClassUniversal || set.Tag != asn1.TagSet {
			return nil, errors.New("RDN is not a SET")
		}
		var atvs []rawATV
		rest, err := asn1.UnmarshalWithParams(set.FullBytes, &atvs, "set")
		if err != nil || len(rest) != 0 || len(atvs) == 0 {
			return nil, errors.New("bad RDN")
		}
		rdn := make([]dnAttr, 0, len(atvs))
		for _, a := range atvs {
			rdn = append(rdn, valueAttr(a.Type.String(), a.Value.FullBytes))
		}
		out = append(out, rdn)
	}
	return out, nil
}

// valueAttr classifies a DER attribute value: a string type that decodes is compared as a string,
// anything else by its DER.
func valueAttr(oid string, der []byte) dnAttr {
	a := dnAttr{oid: oid, der: der}
	var v any
	if rest, err := asn1.Unmarshal(der, &v); err == nil && len(rest) == 0 {
		if s, ok := v.(string); ok && utf8.ValidString(s) {
			a.str, a.isStr = s, true
		}
	}
	return a
}

// IssuerSerialOf returns the ds:X509IssuerName string (NameString of the raw issuer) and the serial
// number Tagdíj writes for cert in SigningCertificate and CompleteCertificateRefs.
func IssuerSerialOf(cert *x509.Certificate) (string, *big.Int, error) {
	name, err := NameString(cert.RawIssuer)
	if err != nil {
		return "", nil, err
	}
	return name, new(big.Int).Set(cert.SerialNumber), nil
}

// CertDigestMatches reports whether ref identifies cert: the digest over the certificate's DER must
// equal ref's (SHA-1, SHA-224, SHA-256, SHA-384 or SHA-512; whether the algorithm is acceptable is the
// policy's decision), and, where ref carries them, the serial number must be equal and the issuer must
// match: for v1 by NameMatches on ref.IssuerName, for v2 by comparing the directoryName of the RFC 5035
// IssuerSerial with the certificate's raw issuer DER byte for byte.
//
// The digest alone already binds the certificate; the issuer and serial comparison exists because XAdES
// requires it and because a mismatch reveals a producer bug or a substitution attempt.
func CertDigestMatches(ref CertRef, cert *x509.Certificate) bool {
	if cert == nil || !ref.Digest.Hash.Available() || len(ref.Digest.Value) != ref.Digest.Hash.Size() {
		return false
	}
	h := ref.Digest.Hash.New()
	h.Write(cert.Raw)
	if subtle.ConstantTimeCompare(h.Sum(nil), ref.Digest.Value) != 1 {
		return false
	}
	if ref.V2 {
		if ref.IssuerSerialV2 == nil {
			return true
		}
		issuer, serial, err := parseIssuerSerialV2(ref.IssuerSerialV2)
		if err != nil {
			return false
		}
		return serial.Cmp(cert.SerialNumber) == 0 && bytes.Equal(issuer, cert.RawIssuer)
	}
	if ref.SerialNumber == nil || ref.SerialNumber.Cmp(cert.SerialNumber) != 0 {
		return false
	}
	return NameMatches(ref.IssuerName, cert.RawIssuer)
}

// issuerSerial is RFC 5035's IssuerSerial: GeneralNames and the serial number.
type issuerSerial struct {
	Issuer []asn1.RawValue
	Serial *big.Int
}

// parseIssuerSerialV2 decodes the DER of an IssuerSerialV2 and returns the DER Name of its single
// directoryName [4] and the serial.
func parseIssuerSerialV2(der []byte) ([]byte, *big.Int, error) {
	var is issuerSerial
	rest, err := asn1.Unmarshal(der, &is)
	if err != nil {
		return nil, nil, err
	}
	if len(rest) != 0 || is.Serial == nil {
		return nil, nil, errors.New("trailing data or no serial")
	}
	if len(is.Issuer) != 1 {
		return nil, nil, errors.New("issuer is not exactly one GeneralName")
	}
	gn := is.Issuer[0]
	if gn.Class != asn1.ClassContextSpecific || gn.Tag != 4 || !gn.IsCompound {
		return nil, nil, errors.New("issuer is not a directoryName")
	}
	// directoryName is EXPLICIT: its content is the DER Name itself.
	var name asn1.RawValue
	rest, err = asn1.Unmarshal(gn.Bytes, &name)
	if err != nil || len(rest) != 0 {
		return nil, nil, errors.New("bad directoryName")
	}
	return name.FullBytes, is.Serial, nil
}

// IssuerSerialV2Of returns the DER RFC 5035 IssuerSerial of cert, as SigningCertificateV2 carries it.
func IssuerSerialV2Of(cert *x509.Certificate) ([]byte, error) {
	dn := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 4, IsCompound: true, Bytes: cert.RawIssuer}
	return asn1.Marshal(issuerSerial{Issuer: []asn1.RawValue{dn}, Serial: cert.SerialNumber})
}

// shortNames maps the attribute descriptors seen in RFC 4514 / RFC 2253 strings (Go, OpenSSL, Java,
// .NET, xmlsec) to OIDs. Keys are upper case. "SN" is surname as in OpenSSL and RFC 4519.
var shortNames = map[string]string{
	"CN": "2.5.4.3", "C": "2.5.4.6", "L": "2.5.4.7", "ST": "2.5.4.8", "S": "2.5.4.8", "O": "2.5.4.10",
	"OU": "2.5.4.11", "STREET": "2.5.4.9", "POSTALCODE": "2.5.4.17", "SERIALNUMBER": "2.5.4.5",
	"SN": "2.5.4.4", "SURNAME": "2.5.4.4", "GN": "2.5.4.42", "GIVENNAME": "2.5.4.42", "T": "2.5.4.12",
	"TITLE": "2.5.4.12", "DC": "0.9.2342.19200300.100.1.25", "UID": "0.9.2342.19200300.100.1.1",
	"E": "1.2.840.113549.1.9.1", "EMAIL": "1.2.840.113549.1.9.1", "EMAILADDRESS": "1.2.840.113549.1.9.1",
	"ORGANIZATIONIDENTIFIER": "2.5.4.97", "DNQUALIFIER": "2.5.4.46", "PSEUDONYM": "2.5.4.65",
	"INITIALS": "2.5.4.43", "GENERATIONQUALIFIER": "2.5.4.44",
}

// dnAttr is one attribute of a parsed DN string: the OID and either a string value or the DER of a
// #hex value that is not a string.
type dnAttr struct {
	oid   string
	str   string
	isStr bool
	der   []byte
}

// parseDN parses an RFC 4514 (or RFC 2253) string into RDNs in DER order (the string lists the last
// RDN first). It accepts spaces around separators and ';' as an RDN separator (RFC 2253 legacy); it
// does not accept RFC 1779 quoted values or OpenSSL's "/C=HU/O=…" form.
func parseDN(s string) ([][]dnAttr, error) {
	if len(s) > maxDNLen || !utf8.ValidString(s) {
		return nil, errors.New("name too long or not UTF-8")
	}
	var rdns [][]dnAttr
	var cur []dnAttr
	i := 0
	skipSpace := func() {
		for i < len(s) && s[i] == ' ' {
			i++
		}
	}
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for {
		skipSpace()
		// attribute type
		start := i
		for i < len(s) && s[i] != '=' && s[i] != ',' && s[i] != '+' && s[i] != ';' {
			i++
		}
		if i >= len(s) || s[i] != '=' {
			return nil, errors.New("attribute without '='")
		}
		typ := strings.TrimSpace(s[start:i])
		i++
		oid, err := attrOID(typ)
		if err != nil {
			return nil, err
		}
		skipSpace()
		var a dnAttr
		a.oid = oid
		if i < len(s) && s[i] == '#' {
			i++
			start := i
			for i < len(s) && isHex(s[i]) {
				i++
			}
			der, err := hex.DecodeString(s[start:i])
			if err != nil || len(der) == 0 {
				return nil, errors.New("bad #hex value")
			}
			var raw asn1.RawValue
			if rest, err := asn1.Unmarshal(der, &raw); err != nil || len(rest) != 0 {
				return nil, errors.New("bad BER in #hex value")
			}
			a = valueAttr(oid, der)
			skipSpace()
		} else {
			var b strings.Builder
			lastSig := 0 // length of b up to the last escaped or non-space character
			for i < len(s) && s[i] != ',' && s[i] != '+' && s[i] != ';' {
				c := s[i]
				if c == '\\' {
					if i+1 >= len(s) {
						return nil, errors.New("dangling escape")
					}
					if isHex(s[i+1]) && i+2 < len(s) && isHex(s[i+2]) {
						v, _ := hex.DecodeString(s[i+1 : i+3])
						b.WriteByte(v[0])
						i += 3
					} else {
						b.WriteByte(s[i+1])
						i += 2
					}
					lastSig = b.Len()
					continue
				}
				b.WriteByte(c)
				if c != ' ' {
					lastSig = b.Len()
				}
				i++
			}
			v := b.String()[:lastSig]
			if !utf8.ValidString(v) {
				return nil, errors.New("escaped value is not UTF-8")
			}
			a.str, a.isStr = v, true
		}
		cur = append(cur, a)
		if i >= len(s) {
			rdns = append(rdns, cur)
			break
		}
		switch s[i] {
		case '+':
		case ',', ';':
			rdns = append(rdns, cur)
			cur = nil
		default:
			return nil, fmt.Errorf("unexpected %q", s[i])
		}
		i++
	}
	// The string form lists RDNs from the last to the first.
	for l, r := 0, len(rdns)-1; l < r; l, r = l+1, r-1 {
		rdns[l], rdns[r] = rdns[r], rdns[l]
	}
	return rdns, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func attrOID(typ string) (string, error) {
	if typ == "" {
		return "", errors.New("empty attribute type")
	}
	if oid, ok := shortNames[strings.ToUpper(typ)]; ok {
		return oid, nil
	}
	t := strings.TrimPrefix(strings.TrimPrefix(typ, "OID."), "oid.")
	parts := strings.Split(t, ".")
	if len(parts) < 2 {
		return "", fmt.Errorf("unknown attribute type %q", typ)
	}
	for _, p := range parts {
		if p == "" || len(p) > 20 || (len(p) > 1 && p[0] == '0') {
			return "", fmt.Errorf("bad attribute type %q", typ)
		}
		for _, c := range []byte(p) {
			if c < '0' || c > '9' {
				return "", fmt.Errorf("unknown attribute type %q", typ)
			}
		}
	}
	return t, nil
}

// NameMatches reports whether the RFC 4514 / RFC 2253 string s denotes the DER Name der. Both sides
// are reduced to RDNs of (OID, value); RDNs must appear in the same order, the attributes of a
// multi-valued RDN in any order. String values compare case-insensitively after trimming and
// collapsing internal white space (a simplification of RFC 4518's caseIgnoreMatch: no Unicode
// normalisation, no insignificant-character handling); non-string values compare by DER.
//
// Limitations: an attribute type spelled with a descriptor not in the table above does not match; a
// value that the producer transcoded differently (e.g. T61String bytes read as Latin-1) does not
// match; RFC 1779 quoting and OpenSSL's slash form are refused.
func NameMatches(s string, der []byte) bool {
	want, err := rawRDNs(der)
	if err != nil {
		return false
	}
	got, err := parseDN(s)
	if err != nil || len(got) != len(want) {
		return false
	}
	for i, rdn := range want {
		if len(rdn) != len(got[i]) {
			return false
		}
		used := make([]bool, len(rdn))
		for _, w := range rdn {
			found := false
			for j, a := range got[i] {
				if !used[j] && attrEqual(w, a) {
					used[j], found = true, true
					break
				}
			}
			if !found {
				return false
			}
		}
	}
	return true
}

// attrEqual compares an attribute from the DER (w) with one from a string (a).
func attrEqual(w, a dnAttr) bool {
	if w.oid != a.oid {
		return false
	}
	if w.isStr {
		return a.isStr && foldValue(w.str) == foldValue(a.str)
	}
	return !a.isStr && bytes.Equal(w.der, a.der)
}

func foldValue(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// CheckNameString reports whether s is a distinguished-name string NameMatches can compare: a
// non-empty RFC 4514 / RFC 2253 string whose attribute types are known descriptors or dotted OIDs and
// whose values are well-escaped UTF-8. A string it refuses never matches any name, so a registry or
// configuration that stores DN strings checks them with it when they are entered. It does not say that
// any certificate carries the name.
func CheckNameString(s string) error {
	rdns, err := parseDN(s)
	if err != nil {
		return fmt.Errorf("xades: name %q: %w", truncateDN(s), err)
	}
	if len(rdns) == 0 {
		return errors.New("xades: name is empty")
	}
	return nil
}

// truncateDN shortens s for an error message.
func truncateDN(s string) string {
	if r := []rune(s); len(r) > 80 {
		return string(r[:80]) + "…"
	}
	return s
}
