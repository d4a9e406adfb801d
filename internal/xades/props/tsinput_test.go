package props

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func TestSigAndRefsTimeStampParts(t *testing.T) {
	kinds := []Kind{KindSignatureTimeStamp, KindCertificateValues, KindCompleteCertificateRefs, KindSignatureTimeStamp,
		KindCompleteRevocationRefs, KindRevocationValues, KindSigAndRefsTimeStamp, KindSignatureTimeStamp}
	u := func(i int) Part { return Part{Role: RoleUnsignedProperty, Index: i, Kind: kinds[i]} }
	want := []Part{{Role: RoleSignatureValue}, u(0), u(2), u(3), u(4)}
	for _, at := range []int{6} {
		got, err := SigAndRefsTimeStampParts(kinds, at)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("at %d: %v, %v; want %v", at, got, err, want)
		}
	}
	// Appending a new one: the SignatureTimeStamp at 7 now counts, the earlier SigAndRefsTimeStamp not.
	got, err := SigAndRefsTimeStampParts(kinds, len(kinds))
	if want := append(append([]Part{}, want...), u(7)); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("append: %v, %v; want %v", got, err, want)
	}
	for _, at := range []int{-1, 9, 5 /* RevocationValues */} {
		if _, err := SigAndRefsTimeStampParts(kinds, at); err == nil {
			t.Errorf("at %d accepted", at)
		}
	}
	if _, err := SigAndRefsTimeStampParts([]Kind{KindSignatureTimeStamp, KindCompleteCertificateRefs}, 2); err == nil {
		t.Error("accepted without CompleteRevocationRefs")
	}
	if got := SignatureTimeStampParts(); !reflect.DeepEqual(got, []Part{{Role: RoleSignatureValue}}) {
		t.Errorf("SignatureTimeStampParts = %v", got)
	}
}

func TestArchiveTimeStampParts(t *testing.T) {
	l := Layout{References: 3, HasKeyInfo: true, Objects: 4, QualifyingPropertiesObject: 2,
		Unsigned: []Kind{KindSignatureTimeStamp, KindCompleteCertificateRefs, KindOther, KindTimeStampValidationData, KindArchiveTimeStamp, KindRevocationValues}}
	got, err := ArchiveTimeStampParts(l, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []Part{{RoleReference, 0, 0}, {RoleReference, 1, 0}, {RoleReference, 2, 0}, {Role: RoleSignedInfo}, {Role: RoleSignatureValue},
		{Role: RoleKeyInfo}, {RoleUnsignedProperty, 0, KindSignatureTimeStamp}, {RoleUnsignedProperty, 1, KindCompleteCertificateRefs},
		{RoleUnsignedProperty, 2, KindOther}, {RoleUnsignedProperty, 3, KindTimeStampValidationData},
		{RoleObject, 0, 0}, {RoleObject, 1, 0}, {RoleObject, 3, 0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	l.HasKeyInfo = false
	got, _ = ArchiveTimeStampParts(l, len(l.Unsigned))
	for _, p := range got {
		if p.Role == RoleKeyInfo {
			t.Error("KeyInfo part without KeyInfo")
		}
	}
	if n := len(got); n != 3+2+6+3 {
		t.Errorf("append: %d parts", n)
	}
	for name, bad := range map[string]func(*Layout) int{
		"wrong kind at":   func(l *Layout) int { return 0 },
		"no references":   func(l *Layout) int { l.References = 0; return 4 },
		"qp object range": func(l *Layout) int { l.QualifyingPropertiesObject = 4; return 4 },
		"at beyond":       func(l *Layout) int { return 7 },
	} {
		c := l
		at := bad(&c)
		if _, err := ArchiveTimeStampParts(c, at); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestAssembleInput(t *testing.T) {
	parts := []Part{{Role: RoleSignedInfo}, {Role: RoleReference, Index: 1}, {Role: RoleUnsignedProperty, Index: 2, Kind: KindSignatureTimeStamp}}
	got, err := AssembleInput(parts, func(p Part) ([]byte, error) { return []byte(p.String() + ";"), nil })
	if err != nil || string(got) != "SignedInfo;Reference[1];UnsignedProperty[2]=SignatureTimeStamp;" {
		t.Errorf("got %q, %v", got, err)
	}
	boom := errors.New("boom")
	_, err = AssembleInput(parts, func(p Part) ([]byte, error) {
		if p.Role == RoleReference {
			return nil, boom
		}
		return nil, nil
	})
	if !errors.Is(err, boom) || fmt.Sprint(err) == "boom" {
		t.Errorf("err = %v", err)
	}
}
