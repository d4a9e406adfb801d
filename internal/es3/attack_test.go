package es3

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/libxml"
)

// sig is a minimal dossier-level signature element: structure only, the signature layer's business.
const sig = `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="Sig-1"><ds:SignedInfo></ds:SignedInfo>` +
	`<ds:Object Id="SigObj-1"><es:SignatureProfile Id="SigProf-1"><es:SignerName>X</es:SignerName><es:Type>signature</es:Type>` +
	`<es:Generator>test</es:Generator></es:SignatureProfile></ds:Object></ds:Signature>`

// ids extracts the Ids of a built dossier: dossier profile, documents, then profile and object per document.
func ids(t *testing.T, data []byte) (dp, docs string, prof, obj []string) {
	t.Helper()
	get := func(re string) []string {
		var out []string
		for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(string(data), -1) {
			out = append(out, m[1])
		}
		return out
	}
	dp, docs = get(`<es:DossierProfile Id="([^"]+)"`)[0], get(`<es:Documents Id="([^"]+)"`)[0]
	return dp, docs, get(`<es:DocumentProfile Id="([^"]+)"`), get(`<ds:Object xmlns:ds="[^"]+" Id="([^"]+)"`)
}

func replace(s, old, new string) string {
	if !strings.Contains(s, old) {
		panic("test mutation does not apply: " + old)
	}
	return strings.Replace(s, old, new, 1)
}

func TestParseAttacks(t *testing.T) {
	pkg := string(written(t, packageSpec(pseudoPayload(300, 1))))
	rcpt := string(written(t, receiptSpec()))
	cont := string(written(t, containerSpec([]byte(pkg), []byte(rcpt))))
	dp, docs, prof, obj := ids(t, []byte(pkg))
	_, _, _, cobj := ids(t, []byte(cont))
	docsElem := regexp.MustCompile(`(?s)<es:Documents .*</es:Documents>`).FindString(pkg)
	objElem := regexp.MustCompile(`(?s)<ds:Object [^>]*>[^<]*</ds:Object>`).FindString(pkg)
	profElem := regexp.MustCompile(`(?s)<es:DocumentProfile .*</es:DocumentProfile>`).FindString(pkg)
	docElem := "<es:Document>" + profElem + objElem + "</es:Document>"
	end := "</es:Dossier>"
	decl := `<?xml version="1.0" encoding="UTF-8"?>`

	tests := []struct {
		name string
		in   string
		opts ParseOptions
		code errcode.Code
		en   string // substring of the English text
	}{
		// Not XML, or XML the hardened parser refuses.
		{"garbage", "not xml at all", ParseOptions{}, errcode.T005, "not well-formed"},
		{"truncated", pkg[:len(pkg)-10], ParseOptions{}, errcode.T005, "not well-formed"},
		{"DOCTYPE", replace(pkg, decl, decl+`<!DOCTYPE es:Dossier [<!ENTITY x "y">]>`), ParseOptions{}, errcode.T006, ""},
		{"external entity", replace(pkg, decl, decl+`<!DOCTYPE d SYSTEM "http://127.0.0.1:1/x.dtd">`), ParseOptions{}, errcode.T006, ""},
		{"undeclared entity", replace(pkg, "<es:Title>TBA", "<es:Title>&x;TBA"), ParseOptions{}, errcode.T006, ""},
		{"depth limit", pkg, ParseOptions{Limits: libxml.Limits{MaxDepth: 4}}, errcode.T006, ""},
		{"size limit", pkg, ParseOptions{Limits: libxml.Limits{MaxBytes: 1000}}, errcode.T006, ""},
		{"UTF-16", string(utf16le(strings.Replace(pkg, "UTF-8", "UTF-16", 1))), ParseOptions{}, errcode.T005, ""},

		// Not a dossier.
		{"other root", decl + `<Nyugta xmlns="urn:x-mnyp:nyugta:1"></Nyugta>`, ParseOptions{}, errcode.T005, "not es:Dossier"},
		{"root in wrong namespace", strings.ReplaceAll(pkg, `xmlns:es="https://www.microsec.hu/ds/e-szigno30#"`, `xmlns:es="https://www.microsec.hu/ds/e-szigno20#"`), ParseOptions{}, errcode.T005, "not es:Dossier"},
		{"no DossierProfile", regexp.MustCompile(`(?s)<es:DossierProfile .*</es:DossierProfile>`).ReplaceAllString(pkg, ""), ParseOptions{}, errcode.T005, "out of order"},
		{"no Documents", replace(pkg, docsElem, ""), ParseOptions{}, errcode.T005, "es:Documents is missing"},

		// Wrapping: a second copy of what signatures cover, anywhere.
		{"second Documents at root", replace(pkg, end, renamed(docsElem)+end), ParseOptions{}, errcode.T005, "a second es:Documents"},
		{"Documents inside metadata", replace(pkg, "</cs:Csomag>", "</cs:Csomag>"+renamed(docsElem)), ParseOptions{Mode: Generic}, errcode.T005, "not allowed inside es:Metadata"},
		{"Documents inside a signature object", replace(pkg, end, replace(sig, "</ds:Object>", renamed(docsElem)+"</ds:Object>")+end), ParseOptions{}, errcode.T005, "not allowed inside ds:Object"},
		{"second DossierProfile", replace(pkg, "<es:Documents ", `<es:DossierProfile Id="x" OBJREF="`+docs+`"><es:Title>x</es:Title><es:CreationDate>2026-01-01T00:00:00Z</es:CreationDate></es:DossierProfile><es:Documents `), ParseOptions{}, errcode.T005, "a second es:DossierProfile"},
		{"DossierProfile inside Documents", replace(pkg, "<es:Document>", `<es:DossierProfile Id="x"></es:DossierProfile><es:Document>`), ParseOptions{}, errcode.T005, "not allowed inside es:Documents"},
		{"duplicate Id", replace(pkg, `Id="`+obj[0]+`"`, `Id="`+prof[0]+`"`), ParseOptions{}, errcode.T005, "duplicate Id"},
		{"duplicate via ID attribute", replace(pkg, end, `<x:y xmlns:x="urn:x" ID="`+obj[0]+`"></x:y>`+end), ParseOptions{}, errcode.T005, "duplicate Id"},
		{"duplicate via xml:id", replace(pkg, "<es:Title>TBA", `<es:Title xml:id="`+docs+`">TBA`), ParseOptions{}, errcode.T005, "duplicate Id"},
		{"DossierProfile OBJREF elsewhere", replace(pkg, `OBJREF="`+docs+`"`, `OBJREF="`+obj[0]+`"`), ParseOptions{}, errcode.T005, "is not the Id of es:Documents"},
		{"DossierProfile without OBJREF", replace(pkg, ` OBJREF="`+docs+`"`, ""), ParseOptions{}, errcode.T005, "lacks the OBJREF"},
		{"DossierProfile without Id", replace(pkg, `<es:DossierProfile Id="`+dp+`"`, `<es:DossierProfile`), ParseOptions{}, errcode.T005, "lacks the Id"},
		{"Documents without Id", replace(pkg, `<es:Documents Id="`+docs+`"`, `<es:Documents`), ParseOptions{}, errcode.T005, "lacks the Id"},

		// Documents and their objects.
		{"OBJREF names nothing", replace(pkg, `OBJREF="`+obj[0]+`"`, `OBJREF="Object-missing"`), ParseOptions{}, errcode.F011, "names no element"},
		{"OBJREF names the profile", replace(pkg, `OBJREF="`+obj[0]+`"`, `OBJREF="`+prof[0]+`"`), ParseOptions{}, errcode.T005, "does not name the document's own"},
		{"OBJREF names another document's object", replace(cont, `OBJREF="`+cobj[0]+`"`, `OBJREF="`+cobj[1]+`"`), ParseOptions{}, errcode.T005, "does not name the document's own"},
		{"OBJREF names a signature object", replace(replace(pkg, end, sig+end), `OBJREF="`+obj[0]+`"`, `OBJREF="SigObj-1"`), ParseOptions{}, errcode.T005, "does not name the document's own"},
		{"object without profile", replace(pkg, "</ds:Object></es:Document>", `</ds:Object><ds:Object xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="extra">QUJD</ds:Object></es:Document>`), ParseOptions{Mode: Generic}, errcode.T005, "a ds:Object without a profile"},
		{"second object (strict)", replace(pkg, "</ds:Object></es:Document>", `</ds:Object><ds:Object xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="extra">QUJD</ds:Object></es:Document>`), ParseOptions{}, errcode.T005, "a second ds:Object"},
		{"object outside a document", replace(pkg, "</cs:Csomag>", `</cs:Csomag><ds:Object xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="z">QUJD</ds:Object>`), ParseOptions{Mode: Generic}, errcode.T005, "ds:Object is not allowed inside es:Metadata"},
		{"document without object", replace(pkg, objElem, ""), ParseOptions{}, errcode.F011, "has no ds:Object"},
		{"empty Documents", replace(pkg, docElem, ""), ParseOptions{}, errcode.F011, "holds no es:Document"},
		{"document without profile", replace(pkg, profElem, ""), ParseOptions{}, errcode.T005, "has no es:DocumentProfile"},
		{"second profile", replace(pkg, profElem, profElem+strings.ReplaceAll(profElem, prof[0], "P2")), ParseOptions{Mode: Generic}, errcode.T005, "a second es:DocumentProfile"},
		{"object before profile (strict)", replace(pkg, profElem+objElem, objElem+profElem), ParseOptions{}, errcode.T005, "must come first"},
		{"element inside payload object", replace(pkg, "</ds:Object>", "<x:y xmlns:x=\"urn:x\"></x:y></ds:Object>"), ParseOptions{}, errcode.T005, "base64 text only"},
		{"es element inside payload object", replace(pkg, "</ds:Object>", "<es:Title>x</es:Title></ds:Object>"), ParseOptions{}, errcode.T005, "not allowed inside ds:Object"},
		{"too many documents", cont, ParseOptions{MaxDocuments: 2}, errcode.T003, "at most 2"},
		{"foreign element in a document", replace(pkg, "</es:Document>", "<x:y xmlns:x=\"urn:x\"></x:y></es:Document>"), ParseOptions{}, errcode.T005, "unexpected element"},
		{"foreign element in Documents", replace(pkg, "</es:Documents>", "<x:y xmlns:x=\"urn:x\"></x:y></es:Documents>"), ParseOptions{}, errcode.T005, "unexpected element"},

		// Vocabulary and placement of es: elements.
		{"unknown es element", replace(pkg, "</es:DossierProfile>", "<es:Comment>x</es:Comment></es:DossierProfile>"), ParseOptions{Mode: Generic}, errcode.T005, "unknown e-dossier element es:Comment"},
		{"unknown es element in metadata", replace(pkg, "</cs:Csomag>", "<es:Foo></es:Foo></cs:Csomag>"), ParseOptions{}, errcode.T005, "unknown e-dossier element es:Foo"},
		{"es element in cs:Csomag", replace(pkg, "</cs:Csomag>", "<es:Title>x</es:Title></cs:Csomag>"), ParseOptions{}, errcode.T005, "not allowed inside cs:Csomag"},
		{"SignatureProfile outside a signature", replace(pkg, "</cs:Csomag>", "</cs:Csomag><es:SignatureProfile></es:SignatureProfile>"), ParseOptions{Mode: Generic}, errcode.T005, "es:SignatureProfile is not allowed"},
		{"Metadata in DocumentProfile (strict)", replace(pkg, "</es:BaseTransform>", "</es:BaseTransform><es:Metadata></es:Metadata>"), ParseOptions{}, errcode.T005, "es:Metadata is not allowed"},
		{"Title repeated", replace(pkg, "<es:CreationDate>", "<es:Title>x</es:Title><es:CreationDate>"), ParseOptions{}, errcode.T005, "repeated"},
		{"Title missing", regexp.MustCompile(`<es:Title>TBA[^<]*</es:Title>`).ReplaceAllString(pkg, ""), ParseOptions{}, errcode.T005, "lacks es:Title"},
		{"Title empty", regexp.MustCompile(`<es:Title>TBA[^<]*</es:Title>`).ReplaceAllString(pkg, "<es:Title> </es:Title>"), ParseOptions{}, errcode.T005, "empty es:Title"},
		{"Title with markup", replace(pkg, "<es:Title>TBA", "<es:Title><x:b xmlns:x=\"urn:x\">b</x:b>TBA"), ParseOptions{}, errcode.T005, "text only"},
		{"CreationDate after Metadata", replace(replace(pkg, "<es:CreationDate>2026-02-10T08:12:00Z</es:CreationDate><es:Metadata>", "<es:Metadata>"), "</es:Metadata>", "</es:Metadata><es:CreationDate>2026-02-10T08:12:00Z</es:CreationDate>"), ParseOptions{}, errcode.T005, "repeated or out of order"},
		{"foreign element in DossierProfile", replace(pkg, "</es:DossierProfile>", "<x:y xmlns:x=\"urn:x\"></x:y></es:DossierProfile>"), ParseOptions{}, errcode.T005, "unexpected element"},
		{"two metadata elements (strict)", replace(pkg, "</cs:Csomag>", "</cs:Csomag><x:y xmlns:x=\"urn:x\"></x:y>"), ParseOptions{}, errcode.T005, "exactly one element"},
		{"CreationDate with offset (strict)", replace(pkg, "<es:CreationDate>2026-02-10T08:12:00Z<", "<es:CreationDate>2026-02-10T09:12:00+01:00<"), ParseOptions{}, errcode.T005, "bad time"},
		{"CreationDate garbage", replace(pkg, "<es:CreationDate>2026-02-10T08:12:00Z<", "<es:CreationDate>yesterday<"), ParseOptions{Mode: Generic}, errcode.T005, "bad time"},
		{"CreationDate missing (strict)", replace(pkg, "<es:CreationDate>2026-02-10T08:12:00Z</es:CreationDate><es:Metadata>", "<es:Metadata>"), ParseOptions{}, errcode.T005, "lacks es:CreationDate"},
		{"transforms (strict)", replace(pkg, `<es:Transform Algorithm="encrypt"></es:Transform>`, ""), ParseOptions{}, errcode.T005, "unknown transform list"},
		{"transform without algorithm", replace(pkg, `<es:Transform Algorithm="encrypt">`, `<es:Transform>`), ParseOptions{Mode: Generic}, errcode.T005, "lacks the Algorithm"},
		{"SourceSize missing (strict)", regexp.MustCompile(`<es:SourceSize [^>]*></es:SourceSize>`).ReplaceAllString(pkg, ""), ParseOptions{}, errcode.T005, "lacks es:SourceSize"},
		{"SourceSize signed", regexp.MustCompile(`sizeValue="\d+"`).ReplaceAllString(pkg, `sizeValue="+5"`), ParseOptions{}, errcode.T005, "bad es:SourceSize"},
		{"SourceSize negative", regexp.MustCompile(`sizeValue="\d+"`).ReplaceAllString(pkg, `sizeValue="-5"`), ParseOptions{Mode: Generic}, errcode.T005, "bad es:SourceSize"},
		{"SourceSize in KB (strict)", replace(pkg, `sizeUnit="B"`, `sizeUnit="KB"`), ParseOptions{}, errcode.T005, "bad es:SourceSize"},
		{"MIME type without subtype", replace(pkg, ` subtype="xml"`, ""), ParseOptions{}, errcode.T005, "bad MIME type"},
		{"Format missing (strict)", regexp.MustCompile(`<es:Format>.*?</es:Format>`).ReplaceAllString(pkg, ""), ParseOptions{}, errcode.T005, "lacks es:Format"},

		// Signatures.
		{"signature inside a document (strict)", replace(pkg, "</ds:Object></es:Document>", "</ds:Object>"+sig+"</es:Document>"), ParseOptions{}, errcode.T005, "ds:Signature is not allowed inside es:Document"},
		{"signature without Id (strict)", replace(pkg, end, strings.Replace(sig, ` Id="Sig-1"`, "", 1)+end), ParseOptions{}, errcode.T005, "no Id attribute"},
		{"signature before Documents", replace(pkg, "<es:Documents ", sig+"<es:Documents "), ParseOptions{}, errcode.T005, "out of order"},
		{"signature inside metadata", replace(pkg, "</cs:Csomag>", "</cs:Csomag>"+sig), ParseOptions{Mode: Generic}, errcode.T005, "ds:Signature is not allowed inside es:Metadata"},
		{"foreign element at root", replace(pkg, end, "<x:y xmlns:x=\"urn:x\"></x:y>"+end), ParseOptions{}, errcode.T005, "unexpected element"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse([]byte(tc.in), tc.opts)
			if err == nil {
				d.Close()
				t.Fatal("Parse accepted it")
			}
			var e *Error
			if !asError(err, &e) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if e.Code() != tc.code || !strings.Contains(e.Finding.EN, tc.en) {
				t.Fatalf("got %v, want %s containing %q", err, tc.code, tc.en)
			}
			if e.Finding.HU == "" || e.Finding.HU == e.Finding.EN {
				t.Fatalf("no Hungarian text: %+v", e.Finding)
			}
		})
	}
}

// TestParseAccepts lists the variations each mode must accept, so the negative cases above cannot pass
// merely because Parse refuses everything.
func TestParseAccepts(t *testing.T) {
	pkg := string(written(t, packageSpec(pseudoPayload(300, 1))))
	end := "</es:Dossier>"
	nested := replace(sig, "</ds:SignedInfo>", "</ds:SignedInfo><ds:Object><xades:CounterSignature xmlns:xades=\"http://uri.etsi.org/01903/v1.3.2#\">"+
		strings.ReplaceAll(sig, "-1", "-2")+"</xades:CounterSignature></ds:Object>")
	tests := []struct {
		name  string
		in    string
		mode  Mode
		nsigs int
	}{
		{"as built", pkg, Strict, 0},
		{"as built, generic", pkg, Generic, 0},
		{"two dossier signatures", replace(pkg, end, sig+strings.ReplaceAll(sig, "-1", "-2")+end), Strict, 2},
		{"counter-signature nested in a signature", replace(pkg, end, nested+end), Strict, 1},
		{"signature inside a document (generic)", replace(pkg, "</ds:Object></es:Document>", "</ds:Object>"+sig+"</es:Document>"), Generic, 1},
		{"signature without Id (generic)", replace(pkg, end, strings.Replace(sig, ` Id="Sig-1"`, "", 1)+end), Generic, 1},
		{"CreationDate with offset (generic)", replace(pkg, "<es:CreationDate>2026-02-10T08:12:00Z<", "<es:CreationDate>2026-02-10T09:12:00+01:00<"), Generic, 0},
		{"any transforms (generic)", replace(pkg, `<es:Transform Algorithm="encrypt"></es:Transform>`, ""), Generic, 0},
		{"no SourceSize or Format (generic)", regexp.MustCompile(`<es:SourceSize [^>]*></es:SourceSize>|<es:Format>.*?</es:Format>`).ReplaceAllString(pkg, ""), Generic, 0},
		{"two metadata elements (generic)", replace(pkg, "</cs:Csomag>", "</cs:Csomag><x:y xmlns:x=\"urn:x\"></x:y>"), Generic, 0},
		{"whitespace between elements", strings.ReplaceAll(pkg, "><es:", ">\n  <es:"), Strict, 0},
		{"comments and PIs outside the payload", replace(pkg, "<es:Documents ", "<!-- c --><?pi x?><es:Documents "), Strict, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := mustParse(t, []byte(tc.in), ParseOptions{Mode: tc.mode})
			if len(d.Signatures) != tc.nsigs {
				t.Fatalf("%d signatures, want %d", len(d.Signatures), tc.nsigs)
			}
			if _, err := d.Payload(0); err != nil {
				t.Fatalf("Payload: %v", err)
			}
		})
	}
	// A CreationDate with an offset is normalised to UTC.
	d := mustParse(t, []byte(tests[6].in), ParseOptions{Mode: Generic})
	if !d.CreationDate.Equal(created) || d.CreationDate.Location().String() != "UTC" {
		t.Errorf("CreationDate %v", d.CreationDate)
	}
}

// renamed gives every Id and OBJREF in s a new value, so a copied subtree adds no duplicate Id.
func renamed(s string) string {
	return strings.NewReplacer(`Id="`, `Id="x`, `OBJREF="`, `OBJREF="x`).Replace(s)
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}

func utf16le(s string) []byte {
	out := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u), byte(u>>8))
	}
	return out
}
