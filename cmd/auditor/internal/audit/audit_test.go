package audit

import (
	"testing"

	"github.com/tagdij/tagdij/internal/report"
)

func TestParseKind(t *testing.T) {
	for in, want := range map[string]Kind{"": Auto, "auto": Auto, "package": Package, "receipt": Receipt, "e-akta": EAkta, "xmldsig": XMLDSig} {
		if got, err := ParseKind(in); err != nil || got != want {
			t.Errorf("%q: %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"Package", "tba", "x"} {
		if _, err := ParseKind(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestDetect(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		want Kind
	}{
		{"not XML", "hello", XMLDSig},
		{"other root", `<a xmlns="urn:x"/>`, XMLDSig},
		{"dossier, not strict", `<es:Dossier xmlns:es="https://www.microsec.hu/ds/e-szigno30#"/>`, EAkta},
		{"Dossier in another namespace (rebound prefix)", `<es:Dossier xmlns:es="urn:other"/>`, Refused},
		{"dossier under a foreign root", `<w xmlns="urn:x"><es:Dossier xmlns:es="https://www.microsec.hu/ds/e-szigno30#"/></w>`, Refused},
		{"signed metadata under a foreign root", `<w xmlns="urn:x"><cs:Csomag xmlns:cs="urn:x-mnyp:csomag:1"/></w>`, Refused},
		{"es:SignatureProfile in its place", `<a xmlns="urn:x"><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:Object>` +
			`<es:SignatureProfile xmlns:es="https://www.microsec.hu/ds/e-szigno30#"><es:Type>signature</es:Type></es:SignatureProfile></ds:Object></ds:Signature></a>`, XMLDSig},
		{"es:SignatureProfile outside a signature", `<a xmlns="urn:x"><es:SignatureProfile xmlns:es="https://www.microsec.hu/ds/e-szigno30#"/></a>`, Refused},
		{"ISO 20022 style Document root", `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"><Documents/></Document>`, XMLDSig},
		{"DOCTYPE", `<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`, XMLDSig},
	} {
		if got := Detect([]byte(c.in)); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

// TestCoreOf: the auditor reports the core validity the engine recorded; a signature the engine
// refused before core validation (no Core) is invalid, never valid by omission.
func TestCoreOf(t *testing.T) {
	for _, c := range []struct {
		name string
		s    report.Signature
		want Core
	}{
		{"recorded valid, chain missing", report.Signature{Core: report.CoreValid, Covered: []string{"a"}}, CoreValid},
		{"recorded unsupported", report.Signature{Core: report.CoreUnsupported}, CoreUnsupported},
		{"recorded no key", report.Signature{Core: report.CoreNoKey}, CoreNoKey},
		{"never validated, though something is listed as covered", report.Signature{Covered: []string{"a"}}, CoreInvalid},
	} {
		if got := CoreOf(c.s); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

// FuzzDetect: Detect reads outside input; it must never panic.
func FuzzDetect(f *testing.F) {
	f.Add([]byte(`<es:Dossier xmlns:es="https://www.microsec.hu/ds/e-szigno30#"><es:DossierProfile/></es:Dossier>`))
	f.Add([]byte(`<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>`))
	f.Fuzz(func(t *testing.T, in []byte) {
		switch Detect(in) {
		case Package, Receipt, EAkta, XMLDSig, Refused:
		default:
			t.Fatal("unknown kind")
		}
	})
}
