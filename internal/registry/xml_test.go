package registry

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/schema"
)

const testdataDir = "../../schema/testdata/bejelentkezes"

func loadSet(t testing.TB) *schema.Set {
	t.Helper()
	set, err := schema.Load(libxml.Parser{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(set.Close)
	return set
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdataDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fullFixed is valid-full.xml with the tax number's territorial code 01 (which NAV does not assign,
// so hunid and hence the import rules refuse it) replaced by 41.
func fullFixed(t testing.TB) []byte {
	return bytes.Replace(readTestdata(t, "valid-full.xml"), []byte(`azonosito="12345676201"`), []byte(`azonosito="12345676241"`), 1)
}

func d(y int, m time.Month, day int) declaration.Date {
	return declaration.Date{Year: y, Month: m, Day: day}
}

func problemPaths(err error) []string {
	var re *Error
	if !errors.As(err, &re) {
		return nil
	}
	var out []string
	for _, p := range re.Problems {
		out = append(out, p.Path)
	}
	return out
}

func TestDecodeValidMinimal(t *testing.T) {
	set := loadSet(t)
	s, err := Decode(readTestdata(t, "valid-minimal.xml"), set)
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != "d4c3b2a1-0f9e-4d8c-b7a6-958473625140" || s.Declarant.IDType != declaration.IDAdoszam ||
		s.Declarant.ID != "12345676" || s.Declarant.Name != "Mintaker Kft." || s.Fund != "0123" ||
		s.FirstPeriod != (declaration.Period{Year: 2026, Month: time.January}) || s.Filed != d(2025, 12, 15) ||
		s.Contact != (Contact{Name: "Kovács Éva", Phone: "+36 1 234 5678", Address: "1051 Budapest, Nádor utca 7."}) ||
		s.Declarant.Address != (Address{PostalCode: "1051", City: "Budapest", Street: "Nádor utca 7."}) ||
		s.Withdrawal != nil || len(s.Signers) != 1 || len(s.EncryptionCert) == 0 {
		t.Fatalf("decoded %+v", s)
	}
	g := s.Signers[0]
	if g.ID != "a1" || g.Role != Alone || g.Mandatory || g.CoSigner != "" || g.Deputy != "" ||
		g.ValidFrom != d(2026, 1, 1) || !g.ValidTo.IsZero() || g.Cert.IssuerDN != "" || len(g.Cert.SHA256) != 32 {
		t.Fatalf("signer %+v", g)
	}
	if s.Key() != (Key{IDType: declaration.IDAdoszam, ID: "12345676", Fund: "0123"}) {
		t.Fatalf("key %v", s.Key())
	}
}

// valid-full.xml is schema-valid, but its tax number 12345676201 has territorial code 01, which the
// import rules (hunid.ValidAdoszam, as the package metadata check) refuse; with 41 it decodes.
func TestDecodeValidFull(t *testing.T) {
	set := loadSet(t)
	_, err := Decode(readTestdata(t, "valid-full.xml"), set)
	if got := problemPaths(err); !reflect.DeepEqual(got, []string{"Bejelentkezes/Bevallo/@azonosito"}) {
		t.Fatalf("valid-full.xml: %v (paths %q), want only the tax-number problem", err, got)
	}
	s, err := Decode(fullFixed(t), set)
	if err != nil {
		t.Fatal(err)
	}
	if s.Declarant.ID != "12345676241" || s.Contact.Email != "berszamfejtes@mintaker.example" ||
		s.Contact.Address != "6720 Szeged, Kárász utca 1." || len(s.Signers) != 4 ||
		s.Withdrawal == nil || s.Withdrawal.Date != d(2027, 12, 31) ||
		s.Withdrawal.Reason != "A munkáltató jogutód nélkül megszűnik. / The employer ceases without a successor." {
		t.Fatalf("decoded %+v", s)
	}
	want := []Signer{
		{ID: "igazgato-1", Name: "Nagy János", Cert: CertID{IssuerDN: "CN=Minta Minősített CA,O=Minta Bizalmi Szolgáltató Zrt.,C=HU", Serial: "4096"},
			Role: Jointly, CoSigner: "igazgato-2", ValidFrom: d(2026, 1, 1), ValidTo: d(2027, 12, 31)},
		{ID: "igazgato-2", Name: "Kiss Anna", Cert: CertID{IssuerDN: "CN=Minta Minősített CA,O=Minta Bizalmi Szolgáltató Zrt.,C=HU",
			Serial: "46531509088423167703827838132789149111794285545", SHA256: mustHex("6dce8a85f147f13a915c7ed52c7256cd4b4ee23c270f2db1809c95ab6438759b")},
			Role: Jointly, CoSigner: "igazgato-1", ValidFrom: d(2026, 1, 1)},
		{ID: "penzugy", Name: "Tóth Gábor", Cert: CertID{SHA256: mustHex("2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae")},
			Role: Alone, Mandatory: true, Deputy: "penzugy.helyettes", ValidFrom: d(2026, 1, 1)},
		{ID: "penzugy.helyettes", Name: "Varga Zsófia", Cert: CertID{SHA256: mustHex("fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9")},
			Role: Alone, ValidFrom: d(2026, 3, 1), ValidTo: d(2026, 12, 31)},
	}
	if !reflect.DeepEqual(s.Signers, want) {
		t.Fatalf("signers\n%+v\nwant\n%+v", s.Signers, want)
	}
}

// Every invalid-*.xml instance is refused by the schema, with the message its "expect:" comment names.
func TestDecodeInvalidTestdata(t *testing.T) {
	set := loadSet(t)
	files, err := filepath.Glob(filepath.Join(testdataDir, "invalid-*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no invalid instances: %v", err)
	}
	expect := regexp.MustCompile(`<!-- expect: (.*?) -->`)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m := expect.FindSubmatch(data)
			if m == nil {
				t.Fatal("no expect comment")
			}
			_, err = Decode(data, set)
			var re *Error
			var ve *libxml.ValidationError
			if !errors.As(err, &re) || !errors.As(err, &ve) {
				t.Fatalf("Decode = %v, want a schema *Error", err)
			}
			if !strings.Contains(err.Error(), string(m[1])) {
				t.Fatalf("error %q lacks %q", err, m[1])
			}
			for _, p := range re.Problems {
				if p.HU == "" || p.EN == "" || p.HU == p.EN {
					t.Errorf("problem not bilingual: %+v", p)
				}
			}
		})
	}
}

// mutate returns the minimal valid instance with old replaced by new (exactly once).
func mutate(t *testing.T, base []byte, old, new string) []byte {
	t.Helper()
	if bytes.Count(base, []byte(old)) != 1 {
		t.Fatalf("%q does not occur exactly once", old)
	}
	return bytes.Replace(base, []byte(old), []byte(new), 1)
}

// One negative test per import rule (what the XSD cannot express), each located by element path.
func TestDecodeImportRules(t *testing.T) {
	set := loadSet(t)
	full := string(fullFixed(t))
	minimal := string(readTestdata(t, "valid-minimal.xml"))
	const signers = "Bejelentkezes/Alairok/Alairo"
	tests := []struct {
		name     string
		base     string
		old, new string
		path     string // the one problem's path
	}{
		{"EGYUTTES without Tarsalairo", full, "<Tarsalairo>igazgato-1</Tarsalairo>\n", "",
			signers + "[@azonosito='igazgato-2']/Tarsalairo"},
		{"ONALLO with Tarsalairo", full, "<Helyettes>penzugy.helyettes</Helyettes>", "<Tarsalairo>igazgato-1</Tarsalairo><Helyettes>penzugy.helyettes</Helyettes>",
			signers + "[@azonosito='penzugy']/Tarsalairo"},
		{"own co-signer", full, "<Tarsalairo>igazgato-2</Tarsalairo>", "<Tarsalairo>igazgato-1</Tarsalairo>",
			signers + "[@azonosito='igazgato-1']/Tarsalairo"},
		{"own deputy", full, "<Helyettes>penzugy.helyettes</Helyettes>", "<Helyettes>penzugy</Helyettes>",
			signers + "[@azonosito='penzugy']/Helyettes"},
		{"deputy cycle", full, "<Kotelezo>0</Kotelezo>", "<Kotelezo>0</Kotelezo><Helyettes>penzugy</Helyettes>",
			signers + "[@azonosito='penzugy']/Helyettes"},
		{"ErvenyesIg before ErvenyesTol", full, "<ErvenyesIg>2026-12-31</ErvenyesIg>", "<ErvenyesIg>2026-02-28</ErvenyesIg>",
			signers + "[@azonosito='penzugy.helyettes']/ErvenyesIg"},
		{"tax number check digit", minimal, `azonosito="12345676"`, `azonosito="12345675"`, "Bejelentkezes/Bevallo/@azonosito"},
		{"tax number VAT code", full, `azonosito="12345676241"`, `azonosito="12345676941"`, "Bejelentkezes/Bevallo/@azonosito"},
		{"tax number of 9 digits", minimal, `azonosito="12345676"`, `azonosito="123456788"`, "Bejelentkezes/Bevallo/@azonosito"},
		{"taj of 8 digits", minimal, `azonositoTipus="adoszam"`, `azonositoTipus="taj"`, "Bejelentkezes/Bevallo/@azonosito"},
		{"taj check digit", minimal, `azonositoTipus="adoszam" azonosito="12345676"`, `azonositoTipus="taj" azonosito="123456789"`, "Bejelentkezes/Bevallo/@azonosito"},
		{"personal tax id check digit", minimal, `azonositoTipus="adoszam" azonosito="12345676"`, `azonositoTipus="adoazonosito" azonosito="8123456787"`, "Bejelentkezes/Bevallo/@azonosito"},
		{"personal tax id of 11 digits", minimal, `azonositoTipus="adoszam" azonosito="12345676"`, `azonositoTipus="adoazonosito" azonosito="12345676241"`, "Bejelentkezes/Bevallo/@azonosito"},
		{"encryption certificate does not parse", minimal, "<b:TitkositoTanusitvany>", "<b:TitkositoTanusitvany>MAMCAQA=", "Bejelentkezes/TitkositoTanusitvany"},
		{"issuer DN does not parse", full, "<KiadoDN>CN=Minta Minősített CA,O=Minta Bizalmi Szolgáltató Zrt.,C=HU</KiadoDN>\n        <Sorozatszam>4096",
			"<KiadoDN>Minta Minősített CA</KiadoDN>\n        <Sorozatszam>4096", signers + "[@azonosito='igazgato-1']/Tanusitvany/KiadoDN"},
		{"withdrawal before filing", full, "<Datum>2027-12-31</Datum>", "<Datum>2025-12-14</Datum>", "Bejelentkezes/Visszavonas/Datum"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.base)
			if tc.name == "encryption certificate does not parse" {
				// Replace the whole certificate text by the base64 of a DER that is no certificate.
				data = regexp.MustCompile(`(?s)<b:TitkositoTanusitvany>.*</b:TitkositoTanusitvany>`).
					ReplaceAll(data, []byte("<b:TitkositoTanusitvany>MAMCAQA=</b:TitkositoTanusitvany>"))
			} else {
				data = mutate(t, data, tc.old, tc.new)
			}
			if err := set.ValidateBytes(schema.Registration, data); err != nil {
				t.Fatalf("the mutated instance must stay schema-valid: %v", err)
			}
			_, err := Decode(data, set)
			if got := problemPaths(err); !reflect.DeepEqual(got, []string{tc.path}) {
				t.Fatalf("Decode = %v\npaths %q, want [%q]", err, got, tc.path)
			}
			var re *Error
			errors.As(err, &re)
			if p := re.Problems[0]; p.HU == "" || p.EN == "" || p.HU == p.EN {
				t.Fatalf("problem not bilingual: %+v", p)
			}
		})
	}
}

func TestDecodeRefusals(t *testing.T) {
	set := loadSet(t)
	minimal := readTestdata(t, "valid-minimal.xml")
	tests := []struct {
		name string
		data []byte
		is   error // errors.Is target, or nil
	}{
		{"empty", nil, libxml.ErrMalformed},
		{"not well-formed", []byte("<b:Bejelentkezes xmlns:b='urn:x-mnyp:bejelentkezes:1'>"), libxml.ErrMalformed},
		{"DOCTYPE", append([]byte("<!DOCTYPE b:Bejelentkezes>\n"), minimal...), libxml.ErrForbidden},
		{"entity", []byte(`<!DOCTYPE x [<!ENTITY e "x">]><x>&e;</x>`), libxml.ErrForbidden},
		{"too large", append(bytes.Repeat([]byte(" "), MaxBytes), minimal...), ErrTooLarge},
		{"other namespace", bytes.ReplaceAll(minimal, []byte("urn:x-mnyp:bejelentkezes:1"), []byte("urn:x-mnyp:csomag:1")), nil},
		{"other document", []byte(`<Bevallas xmlns="urn:x-mnyp:tagdijbevallas:1"/>`), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Decode(tc.data, set)
			var re *Error
			if s != nil || !errors.As(err, &re) || len(re.Problems) == 0 {
				t.Fatalf("Decode = %v, %v; want an *Error", s, err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("Decode = %v, want errors.Is %v", err, tc.is)
			}
		})
	}
	if _, err := Decode(minimal, nil); err == nil {
		t.Fatal("Decode without a schema set succeeded")
	}
}

// An ISO-8859-2 sheet (the hardened parser reads that encoding too) decodes like its UTF-8 original.
func TestDecodeLatin2(t *testing.T) {
	set := loadSet(t)
	utf := readTestdata(t, "valid-minimal.xml")
	want, err := Decode(utf, set)
	if err != nil {
		t.Fatal(err)
	}
	var latin []byte
	latin = append(latin, `<?xml version="1.0" encoding="ISO-8859-2"?>`+"\n"...)
	for _, r := range string(utf) {
		switch r {
		case 'á':
			latin = append(latin, 0xE1)
		case 'é':
			latin = append(latin, 0xE9)
		case 'É':
			latin = append(latin, 0xC9)
		case 'ó':
			latin = append(latin, 0xF3)
		default:
			if r >= 0x80 {
				t.Fatalf("no ISO-8859-2 mapping for %q in the test", r)
			}
			latin = append(latin, byte(r))
		}
	}
	got, err := Decode(latin, set)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ISO-8859-2 decoded as %+v, want %+v", got, want)
	}
}

// tricky is a sheet built in code whose text needs escaping on the way out.
func tricky(t *testing.T, set *schema.Set) *Sheet {
	s, err := Decode(fullFixed(t), set)
	if err != nil {
		t.Fatal(err)
	}
	s.Declarant.Name = `Minta & "Társa" <Kft.>`
	s.Signers[0].Cert.IssuerDN = "CN=Minta\\, CA \\+ \"Társa\",O=x\ty,C=HU"
	s.Signers[0].Cert.Serial = "0"
	s.Withdrawal.Reason = "sor 1\r\nsor 2\n\ttabulátor ]]> &amp; < 'x' \u00a0 \U0001F600"
	s.Contact.Email = ""
	return s
}

func TestEncodeRoundTrip(t *testing.T) {
	set := loadSet(t)
	inputs := map[string]func(t *testing.T) *Sheet{
		"valid-minimal.xml": func(t *testing.T) *Sheet {
			s, err := Decode(readTestdata(t, "valid-minimal.xml"), set)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"valid-full.xml (territorial code 41)": func(t *testing.T) *Sheet {
			s, err := Decode(fullFixed(t), set)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"text that needs escaping": func(t *testing.T) *Sheet { return tricky(t, set) },
	}
	for name, build := range inputs {
		t.Run(name, func(t *testing.T) {
			s := build(t)
			out, err := Encode(s)
			if err != nil {
				t.Fatal(err)
			}
			if err := set.ValidateBytes(schema.Registration, out); err != nil {
				t.Fatalf("Encode wrote a schema-invalid sheet: %v\n%s", err, out)
			}
			back, err := Decode(out, set)
			if err != nil {
				t.Fatalf("Decode(Encode(s)): %v\n%s", err, out)
			}
			if !reflect.DeepEqual(back, s) {
				t.Fatalf("round trip changed the sheet:\n%+v\nwant\n%+v", back, s)
			}
			again, err := Encode(back)
			if err != nil || !bytes.Equal(again, out) {
				t.Fatalf("Encode is not stable: %v", err)
			}
		})
	}
}

func TestEncodeRefusesInvalid(t *testing.T) {
	set := loadSet(t)
	if _, err := Encode(nil); err == nil {
		t.Fatal("Encode(nil) succeeded")
	}
	tests := []struct {
		name   string
		change func(s *Sheet)
		path   string
	}{
		{"uncollapsed name", func(s *Sheet) { s.Declarant.Name = " Minta  Kft." }, "Bejelentkezes/Bevallo/@nev"},
		{"control character", func(s *Sheet) { s.Withdrawal.Reason = "a\x01b" }, "Bejelentkezes/Visszavonas/Indoklas"},
		{"invalid UTF-8", func(s *Sheet) { s.Contact.Name = "a\xffb" }, "Bejelentkezes/Kapcsolattarto/Nev"},
		{"name too long", func(s *Sheet) { s.Signers[0].Name = strings.Repeat("é", MaxNameChars+1) }, "Bejelentkezes/Alairok/Alairo[@azonosito='igazgato-1']/Nev"},
		{"reason too long", func(s *Sheet) { s.Withdrawal.Reason = strings.Repeat("x", MaxReasonChars+1) }, "Bejelentkezes/Visszavonas/Indoklas"},
		{"empty reason", func(s *Sheet) { s.Withdrawal.Reason = "" }, "Bejelentkezes/Visszavonas/Indoklas"},
		{"uppercase UUID", func(s *Sheet) { s.ID = strings.ToUpper(s.ID) }, "Bejelentkezes/Azonosito"},
		{"fund code", func(s *Sheet) { s.Fund = "123a" }, "Bejelentkezes/Penztar"},
		{"period", func(s *Sheet) { s.FirstPeriod.Month = 13 }, "Bejelentkezes/ElsoIdoszak"},
		{"filed date", func(s *Sheet) { s.Filed = d(2026, 2, 30) }, "Bejelentkezes/BenyujtasDatuma"},
		{"postcode", func(s *Sheet) { s.Declarant.Address.PostalCode = "0123" }, "Bejelentkezes/Bevallo/Cim/Iranyitoszam"},
		{"phone", func(s *Sheet) { s.Contact.Phone = "+36-1-abc" }, "Bejelentkezes/Kapcsolattarto/Telefon"},
		{"e-mail", func(s *Sheet) { s.Contact.Email = "nincs.kukac" }, "Bejelentkezes/Kapcsolattarto/Email"},
		{"no e-mail nor address", func(s *Sheet) { s.Contact.Email, s.Contact.Address = "", "" }, "Bejelentkezes/Kapcsolattarto"},
		{"no encryption certificate", func(s *Sheet) { s.EncryptionCert = nil }, "Bejelentkezes/TitkositoTanusitvany"},
		{"identifier type", func(s *Sheet) { s.Declarant.IDType = "szja" }, "Bejelentkezes/Bevallo/@azonositoTipus"},
		{"no signers", func(s *Sheet) { s.Signers = nil }, "Bejelentkezes/Alairok"},
		{"too many signers", func(s *Sheet) {
			for len(s.Signers) <= MaxSigners {
				g := s.Signers[3]
				g.ID = fmt.Sprintf("x%d", len(s.Signers))
				s.Signers = append(s.Signers, g)
			}
		}, "Bejelentkezes/Alairok"},
		{"bad local id", func(s *Sheet) { s.Signers[2].ID = "1abc" }, "Bejelentkezes/Alairok/Alairo[3]/@azonosito"},
		{"duplicate local id", func(s *Sheet) { s.Signers[3].ID = "penzugy"; s.Signers[2].Deputy = "" }, "Bejelentkezes/Alairok/Alairo[@azonosito='penzugy']/@azonosito"},
		{"dangling deputy", func(s *Sheet) { s.Signers[2].Deputy = "senki" }, "Bejelentkezes/Alairok/Alairo[@azonosito='penzugy']/Helyettes"},
		{"unknown role", func(s *Sheet) { s.Signers[2].Role = "ONALLO " }, "Bejelentkezes/Alairok/Alairo[@azonosito='penzugy']/Szerep"},
		{"no certificate identity", func(s *Sheet) { s.Signers[2].Cert = CertID{} }, "Bejelentkezes/Alairok/Alairo[@azonosito='penzugy']/Tanusitvany"},
		{"short SHA-256", func(s *Sheet) { s.Signers[2].Cert.SHA256 = s.Signers[2].Cert.SHA256[:31] }, "Bejelentkezes/Alairok/Alairo[@azonosito='penzugy']/Tanusitvany/SHA256"},
		{"serial with leading zero", func(s *Sheet) { s.Signers[0].Cert.Serial = "04096" }, "Bejelentkezes/Alairok/Alairo[@azonosito='igazgato-1']/Tanusitvany/Sorozatszam"},
		{"serial without issuer", func(s *Sheet) { s.Signers[2].Cert.Serial = "1" }, "Bejelentkezes/Alairok/Alairo[@azonosito='penzugy']/Tanusitvany/Sorozatszam"},
		{"DN too long", func(s *Sheet) { s.Signers[0].Cert.IssuerDN = "CN=" + strings.Repeat("a", MaxDNChars) }, "Bejelentkezes/Alairok/Alairo[@azonosito='igazgato-1']/Tanusitvany/KiadoDN"},
		{"invalid from date", func(s *Sheet) { s.Signers[0].ValidFrom = declaration.Date{} }, "Bejelentkezes/Alairok/Alairo[@azonosito='igazgato-1']/ErvenyesTol"},
		{"withdrawal date", func(s *Sheet) { s.Withdrawal.Date = d(2027, 2, 29) }, "Bejelentkezes/Visszavonas/Datum"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Decode(fullFixed(t), set)
			if err != nil {
				t.Fatal(err)
			}
			tc.change(s)
			out, err := Encode(s)
			if out != nil {
				t.Fatal("Encode wrote an invalid sheet")
			}
			if got := problemPaths(err); !reflect.DeepEqual(got, []string{tc.path}) {
				t.Fatalf("Encode = %v\npaths %q, want [%q]", err, got, tc.path)
			}
		})
	}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		return []byte("not hex: " + s) // fails the comparison that uses it
	}
	return b
}
