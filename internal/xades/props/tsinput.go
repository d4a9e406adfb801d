package props

import (
	"bytes"
	"errors"
	"fmt"
)

// Role names one piece of the input of a XAdES time-stamp. The engine (internal/xades) resolves each
// Part to an element of the signature, canonicalizes it with libxml2 using the time-stamp's
// ds:CanonicalizationMethod, and concatenates the results in Part order (AssembleInput). This package
// does no XML processing for time-stamp inputs: it only says what goes in, and in which order.
type Role int

const (
	// RoleSignatureValue is the ds:SignatureValue element, canonicalized.
	RoleSignatureValue Role = iota + 1
	// RoleSignedInfo is the ds:SignedInfo element, canonicalized.
	RoleSignedInfo
	// RoleKeyInfo is the ds:KeyInfo element, canonicalized.
	RoleKeyInfo
	// RoleReference is the data object of the ds:Reference at Part.Index (0-based, in SignedInfo order)
	// after the reference's transforms: octets as they are, a node-set canonicalized.
	RoleReference
	// RoleUnsignedProperty is the child of UnsignedSignatureProperties at Part.Index (0-based), whose kind
	// is Part.Kind, canonicalized.
	RoleUnsignedProperty
	// RoleObject is the ds:Object child of ds:Signature at Part.Index (0-based among the ds:Object
	// children), canonicalized.
	RoleObject
)

func (r Role) String() string {
	switch r {
	case RoleSignatureValue:
		return "SignatureValue"
	case RoleSignedInfo:
		return "SignedInfo"
	case RoleKeyInfo:
		return "KeyInfo"
	case RoleReference:
		return "Reference"
	case RoleUnsignedProperty:
		return "UnsignedProperty"
	case RoleObject:
		return "Object"
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

// Part is one piece of a time-stamp's input.
type Part struct {
	Role  Role
	Index int  // for RoleReference, RoleUnsignedProperty, RoleObject
	Kind  Kind // for RoleUnsignedProperty
}

func (p Part) String() string {
	switch p.Role {
	case RoleReference, RoleObject:
		return fmt.Sprintf("%v[%d]", p.Role, p.Index)
	case RoleUnsignedProperty:
		return fmt.Sprintf("%v[%d]=%v", p.Role, p.Index, p.Kind)
	}
	return p.Role.String()
}

// SignatureTimeStampParts is the input of a SignatureTimeStamp (TS 101 903 7.3, EN 319 132-1 5.3):
// the ds:SignatureValue element canonicalized with the time-stamp's ds:CanonicalizationMethod. Nothing
// else: several signers' SignatureTimeStamps are independent of each other and of other unsigned
// properties.
func SignatureTimeStampParts() []Part {
	return []Part{{Role: RoleSignatureValue}}
}

// SigAndRefsTimeStampParts is the input of the implicit-mechanism SigAndRefsTimeStamp (TS 101 903
// 7.5.1, XAdES-X type 1): ds:SignatureValue, then — in their order of appearance within
// UnsignedSignatureProperties — every SignatureTimeStamp, CompleteCertificateRefs,
// CompleteRevocationRefs, AttributeCertificateRefs and AttributeRevocationRefs, each canonicalized,
// concatenated. Other properties (CertificateValues, RevocationValues, earlier SigAndRefsTimeStamps,
// foreign elements) do not contribute.
//
// kinds are the kinds of the UnsignedSignatureProperties children in document order and at is the
// position of the SigAndRefsTimeStamp: the index of the existing one when verifying it, len(kinds)
// when creating one to append. Only properties before at are covered: a property added after the
// time-stamp was made cannot have been time-stamped, and counting it would make the time-stamp fail.
// The caller must make sure CompleteCertificateRefs and CompleteRevocationRefs exist before at; their
// absence is an error here because the time-stamp would then not be of type XAdES-X.
func SigAndRefsTimeStampParts(kinds []Kind, at int) ([]Part, error) {
	if err := checkAt(kinds, at, KindSigAndRefsTimeStamp); err != nil {
		return nil, err
	}
	parts := []Part{{Role: RoleSignatureValue}}
	var haveCert, haveRev bool
	for i, k := range kinds[:at] {
		switch k {
		case KindSignatureTimeStamp, KindCompleteCertificateRefs, KindCompleteRevocationRefs,
			KindAttributeCertificateRefs, KindAttributeRevocationRefs:
			parts = append(parts, Part{Role: RoleUnsignedProperty, Index: i, Kind: k})
		}
		haveCert = haveCert || k == KindCompleteCertificateRefs
		haveRev = haveRev || k == KindCompleteRevocationRefs
	}
	if !haveCert || !haveRev {
		return nil, errors.New("xades: SigAndRefsTimeStamp needs CompleteCertificateRefs and CompleteRevocationRefs before it")
	}
	return parts, nil
}

// Layout describes the parts of a ds:Signature that an ArchiveTimeStamp covers.
type Layout struct {
	// References is the number of ds:Reference elements in ds:SignedInfo.
	References int
	// HasKeyInfo reports a ds:KeyInfo element.
	HasKeyInfo bool
	// Objects is the number of ds:Object children of ds:Signature.
	Objects int
	// QualifyingPropertiesObject is the index (among the ds:Object children) of the object holding
	// xades:QualifyingProperties.
	QualifyingPropertiesObject int
	// Unsigned are the kinds of the UnsignedSignatureProperties children in document order.
	Unsigned []Kind
}

// ArchiveTimeStampParts is the input of a xades141:ArchiveTimeStamp (TS 101 903 v1.4.1 clause 8.2.1,
// "not distributed" case; EN 319 132-1 5.5.2), in this order:
//
//  1. for each ds:Reference in SignedInfo order (including the one covering SignedProperties): the
//     data object after the reference's transforms; if that is a node-set it is canonicalized with the
//     time-stamp's ds:CanonicalizationMethod, if octets they are used as they are;
//  2. ds:SignedInfo, ds:SignatureValue and, if present, ds:KeyInfo, each canonicalized;
//  3. every unsigned signature property that precedes the ArchiveTimeStamp, in document order,
//     whatever its kind (SignatureTimeStamp, refs, values, SigAndRefsTimeStamp, earlier
//     ArchiveTimeStamps, TimeStampValidationData, CounterSignature, foreign elements), canonicalized;
//  4. every ds:Object of the signature except the one holding QualifyingProperties, in document order,
//     canonicalized.
//
// at is the position of the ArchiveTimeStamp among the UnsignedSignatureProperties children (its index
// when verifying, len(l.Unsigned) when creating one to append). The standard also requires that
// CertificateValues and RevocationValues with the complete validation data be present before the first
// ArchiveTimeStamp unless KeyInfo carries it; that is the engine's responsibility, not checked here.
func ArchiveTimeStampParts(l Layout, at int) ([]Part, error) {
	if err := checkAt(l.Unsigned, at, KindArchiveTimeStamp); err != nil {
		return nil, err
	}
	if l.References <= 0 {
		return nil, errors.New("xades: ArchiveTimeStamp: a signature has at least one reference")
	}
	if l.Objects <= 0 || l.QualifyingPropertiesObject < 0 || l.QualifyingPropertiesObject >= l.Objects {
		return nil, errors.New("xades: ArchiveTimeStamp: QualifyingPropertiesObject is not one of the objects")
	}
	parts := make([]Part, 0, l.References+3+at+l.Objects)
	for i := 0; i < l.References; i++ {
		parts = append(parts, Part{Role: RoleReference, Index: i})
	}
	parts = append(parts, Part{Role: RoleSignedInfo}, Part{Role: RoleSignatureValue})
	if l.HasKeyInfo {
		parts = append(parts, Part{Role: RoleKeyInfo})
	}
	for i, k := range l.Unsigned[:at] {
		parts = append(parts, Part{Role: RoleUnsignedProperty, Index: i, Kind: k})
	}
	for i := 0; i < l.Objects; i++ {
		if i != l.QualifyingPropertiesObject {
			parts = append(parts, Part{Role: RoleObject, Index: i})
		}
	}
	return parts, nil
}

// checkAt validates the position of a time-stamp of kind want among kinds.
func checkAt(kinds []Kind, at int, want Kind) error {
	if at < 0 || at > len(kinds) {
		return fmt.Errorf("xades: %v position %d outside 0..%d", want, at, len(kinds))
	}
	if at < len(kinds) && kinds[at] != want {
		return fmt.Errorf("xades: property %d is %v, not %v", at, kinds[at], want)
	}
	return nil
}

// AssembleInput concatenates, in order, the octets that resolve returns for each part; resolve does
// the canonicalization (or reference processing) with libxml2. The first error stops assembly and is
// returned with the part it concerns.
func AssembleInput(parts []Part, resolve func(Part) ([]byte, error)) ([]byte, error) {
	var buf bytes.Buffer
	for _, p := range parts {
		b, err := resolve(p)
		if err != nil {
			return nil, fmt.Errorf("xades: time-stamp input %v: %w", p, err)
		}
		buf.Write(b)
	}
	return buf.Bytes(), nil
}
