// Package qc reads and writes the qualified-certificate statements extension (RFC 3739 §3.2.6,
// ETSI EN 319 412-5) that marks a certificate as qualified (QcCompliance), its key as held in a
// qualified signature-creation device (QcSSCD), and its purpose (QcType: e-signature, e-seal, web).
package qc

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
)

// Object identifiers of the extension and of the statements Tagdíj uses.
var (
	OIDExtension  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 3} // id-pe-qcStatements
	OIDCompliance = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 1}       // id-etsi-qcs-QcCompliance
	OIDSSCD       = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 4}       // id-etsi-qcs-QcSSCD
	OIDType       = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6}       // id-etsi-qcs-QcType
	OIDTypeESign  = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 1}    // id-etsi-qct-esign
	OIDTypeESeal  = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 2}    // id-etsi-qct-eseal
	OIDTypeWeb    = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 3}    // id-etsi-qct-web
)

// Statements is the decoded content of the extension that Tagdíj's rules look at.
type Statements struct {
	Compliance bool                    // QcCompliance: issued as a qualified certificate
	SSCD       bool                    // QcSSCD: the private key is in a qualified device
	Types      []asn1.ObjectIdentifier // QcType values
	Others     []asn1.ObjectIdentifier // statements present but not interpreted here
}

// HasType reports whether t is among the QcType values.
func (s Statements) HasType(t asn1.ObjectIdentifier) bool {
	for _, x := range s.Types {
		if x.Equal(t) {
			return true
		}
	}
	return false
}

// Qualified reports the SPEC §8 condition for a qualified signer certificate: QcCompliance and QcSSCD.
func (s Statements) Qualified() bool { return s.Compliance && s.SSCD }

type statement struct {
	ID   asn1.ObjectIdentifier
	Info asn1.RawValue `asn1:"optional"`
}

// ErrMalformed reports an extension that is present but not DER of the RFC 3739 syntax.
var ErrMalformed = errors.New("qc: malformed qcStatements extension")

// FromCertificate decodes the extension of c; present is false when c has none.
func FromCertificate(c *x509.Certificate) (s Statements, present bool, err error) {
	for _, e := range c.Extensions {
		if e.Id.Equal(OIDExtension) {
			s, err = Parse(e.Value)
			return s, true, err
		}
	}
	return Statements{}, false, nil
}

// Parse decodes the DER value of a qcStatements extension.
func Parse(der []byte) (Statements, error) {
	var list []statement
	rest, err := asn1.Unmarshal(der, &list)
	if err != nil || len(rest) != 0 {
		return Statements{}, ErrMalformed
	}
	var s Statements
	for _, st := range list {
		switch {
		case st.ID.Equal(OIDCompliance):
			s.Compliance = true
		case st.ID.Equal(OIDSSCD):
			s.SSCD = true
		case st.ID.Equal(OIDType):
			var types []asn1.ObjectIdentifier
			if r, err := asn1.Unmarshal(st.Info.FullBytes, &types); err != nil || len(r) != 0 {
				return Statements{}, fmt.Errorf("%w: QcType", ErrMalformed)
			}
			s.Types = append(s.Types, types...)
		default:
			s.Others = append(s.Others, st.ID)
		}
	}
	return s, nil
}

// Extension encodes s as a non-critical certificate extension (RFC 3739 recommends non-critical).
// Others are written as statements without statementInfo.
func Extension(s Statements) (pkix.Extension, error) {
	var list []any
	type bare struct{ ID asn1.ObjectIdentifier }
	type typed struct {
		ID    asn1.ObjectIdentifier
		Types []asn1.ObjectIdentifier
	}
	if s.Compliance {
		list = append(list, bare{OIDCompliance})
	}
	if s.SSCD {
		list = append(list, bare{OIDSSCD})
	}
	if len(s.Types) > 0 {
		list = append(list, typed{OIDType, s.Types})
	}
	for _, o := range s.Others {
		list = append(list, bare{o})
	}
	der, err := asn1.Marshal(list)
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("qc: encoding statements: %w", err)
	}
	return pkix.Extension{Id: OIDExtension, Value: der}, nil
}
