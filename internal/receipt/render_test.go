package receipt

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/sheet"
)

func renderText(t *testing.T, r *Receipt, lang string) string {
	t.Helper()
	var b bytes.Buffer
	if err := Text(&b, r, lang); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestTextFacts(t *testing.T) {
	r := fullAcceptance()
	r.Errors = append(r.Errors, errcode.Finding{Code: errcode.B005, Severity: errcode.Warning, Location: "sig-2",
		HU: "Az aláíró jogosultsága lejár.", EN: "The signer's authority expires."})
	both := renderText(t, r, "")
	for _, want := range []string{
		"BEFOGADVA", "ACCEPTED", // result, both languages
		"7c9e6679-7425-40de-944b-e07fc1f90ae7",               // receipt id
		"TBA_12345676_0123_202601_B001_20260210T081200Z.es3", // package identity
		"48 213 bájt", "48,213 bytes", "3f2c8a4e-1b7d-4c9a-8e21-5d0f6a7b9c13", "2026-01",
		"2026-02-10 08:15:00.123 UTC",                              // arrival in UTC
		"2026-02-10 09:15:00.123 CET (UTC+01:00, Europe/Budapest)", // and in Budapest (winter: +1 h)
		"2026-02-11 09:11:41 CET",                                  // earliest final check, local
		"urn:x-mnyp:policy:tagdij:1.0",
		"Kovács Éva", "CN=Minta Minősített CA", "46531509088423167703827838132789149111794285545",
		"INDETERMINATE / TRY_LATER", "együttes / jointly",
		"2026-02-10 08:11:40.5Z", "2026-02-10 08:11:41.000000001Z", // signature times, uncut
		"A012", "B005", "W0", // codes and severities
		"A türelmi idő még nem telt le.", "The grace period is not over.",
		"Beérkezés ideje / Arrival",
	} {
		if !strings.Contains(both, want) {
			t.Errorf("bilingual text lacks %q", want)
		}
	}
	if sum := r.Package.SHA256; !strings.Contains(both, hex.EncodeToString(sum[:])) {
		t.Error("text lacks the package SHA-256")
	}
	// The result comes before everything else the receipt says.
	if strings.Index(both, "BEFOGADVA") > strings.Index(both, "7c9e6679") {
		t.Error("result is not shown first")
	}

	hu := renderText(t, r, "hu")
	en := renderText(t, r, "en")
	for _, tc := range []struct {
		out, lang   string
		has, hasNot []string
	}{
		{hu, "hu", []string{"BEFOGADVA", "A türelmi idő még nem telt le.", "Beérkezés ideje", "A012"}, []string{"The grace period is not over.", "Arrival", "ACCEPTED"}},
		{en, "en", []string{"ACCEPTED", "The grace period is not over.", "Arrival", "A012", "09:15:00.123 CET"}, []string{"A türelmi idő", "Beérkezés", "bájt"}},
	} {
		for _, s := range tc.has {
			if !strings.Contains(tc.out, s) {
				t.Errorf("%s text lacks %q", tc.lang, s)
			}
		}
		for _, s := range tc.hasNot {
			if strings.Contains(tc.out, s) {
				t.Errorf("%s text has %q", tc.lang, s)
			}
		}
	}
	if err := Text(&bytes.Buffer{}, r, "de"); err == nil {
		t.Error("Text accepted language de")
	}
	if err := Text(&bytes.Buffer{}, nil, ""); err == nil {
		t.Error("Text accepted a nil receipt")
	}
}

func TestTextSummerTimeAndRejection(t *testing.T) {
	r := minimalRejection()
	r.Arrival = time.Date(2026, 7, 1, 22, 30, 0, 0, time.UTC)
	out := renderText(t, r, "")
	for _, want := range []string{
		"ELUTASITVA", "REJECTED", "T005",
		"2026-07-01 22:30:00 UTC", "2026-07-02 00:30:00 CEST (UTC+02:00, Europe/Budapest)", // the local date differs
		"A csomag nem e-akta dosszié", "The package is not an e-dossier",
		"E0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rejection text lacks %q\n%s", want, out)
		}
	}
	if strings.Contains(out, "Végleges ellenőrzés") {
		t.Error("rejection shows a final-check time")
	}
}

// Without the zone database the receipt still shows every time, in UTC, with a note saying so.
func TestTextWithoutLocalZone(t *testing.T) {
	var b bytes.Buffer
	if err := writeText(&b, newView(fullAcceptance(), nil, errors.New("no zoneinfo")), ""); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "2026-02-10 08:15:00.123 UTC") || strings.Contains(out, "CET") ||
		!strings.Contains(out, "Local time (Europe/Budapest) is unavailable") || !strings.Contains(out, "no zoneinfo") {
		t.Errorf("fallback text:\n%s", out)
	}
	b.Reset()
	if err := writeHTML(&b, newView(fullAcceptance(), nil, errors.New("no zoneinfo"))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "A helyi idő (Europe/Budapest) nem állapítható meg") {
		t.Error("HTML lacks the fallback note")
	}
}

// Receipt text cannot drive the terminal: control characters and bidirectional overrides are removed.
func TestTextSanitizes(t *testing.T) {
	r := fullAcceptance()
	r.PreCheck.Signatures[0].Certificate.Subject = "CN=Evil\x1b[2J\u202eliam,O=X"
	r.Errors[0].HU = "szöveg\x07\x1b]0;title\x07"
	out := renderText(t, r, "")
	for _, bad := range []string{"\x1b", "\x07", "\u202e"} {
		if strings.Contains(out, bad) {
			t.Errorf("text contains %q", bad)
		}
	}
	if !strings.Contains(out, "CN=Evil[2Jliam,O=X") {
		t.Error("sanitized DN not shown")
	}
}

// Table lines have equal display width although accented names have more bytes than columns.
func TestTextTableAlignment(t *testing.T) {
	out := renderText(t, fullAcceptance(), "")
	lines := strings.Split(out, "\n")
	var table []string
	for i, l := range lines {
		if strings.HasPrefix(l, "  #  ") {
			table = lines[i : i+3]
			break
		}
	}
	if table == nil {
		t.Fatalf("no signature table in\n%s", out)
	}
	// Header lines (Hungarian, English) and the rule: column starts line up with the first data row.
	col := func(l, cell string) int { return sheet.Width(l[:strings.Index(l, cell)]) }
	var row string
	for _, l := range lines {
		if strings.HasPrefix(l, "  1  ") {
			row = l
		}
	}
	if col(table[0], "Szerep") != col(table[1], "Role") || col(table[0], "Szerep") != col(row, "együttes") ||
		col(table[0], "Jelzés") != col(row, "INDETERMINATE") {
		t.Errorf("columns do not line up:\n%s\n%s\n%s", table[0], table[1], row)
	}
}

func TestHTML(t *testing.T) {
	r := fullAcceptance()
	r.PreCheck.Signatures[0].Certificate.Subject = `CN=<script>alert(1)</script>,O="><img src=x onerror=alert(2)>`
	r.Errors[0].Location = `</td><td onclick=x>`
	var b bytes.Buffer
	if err := HTML(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, bad := range []string{"<script>", "<img", "onerror=alert(2)>", "<td onclick"} {
		if strings.Contains(out, bad) {
			t.Errorf("HTML contains unescaped %q", bad)
		}
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;", // escaped, still shown
		"<!DOCTYPE html>", `<p class="result ok">`, "BEFOGADVA", "ACCEPTED",
		"2026-02-10 09:15:00.123 CET (UTC&#43;01:00, Europe/Budapest)",
		"A012", "A türelmi idő még nem telt le.", "The grace period is not over.",
		"TBA_12345676_0123_202601_B001_20260210T081200Z.es3", hex.EncodeToString(r.Package.SHA256[:]),
		"46531509088423167703827838132789149111794285545",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(out, "http://") || strings.Contains(out, "https://") || strings.Contains(out, "src=\"") {
		t.Error("HTML refers to outside resources")
	}

	b.Reset()
	if err := HTML(&b, minimalRejection()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `<p class="result bad">`) || !strings.Contains(b.String(), "T005") {
		t.Error("rejection HTML lacks the result or the code")
	}
	if err := HTML(&b, nil); err == nil {
		t.Error("HTML of nil succeeded")
	}
}

// commonName finds the CN of RFC 4514 strings, with escapes.
func TestCommonName(t *testing.T) {
	for _, tc := range []struct{ dn, want string }{
		{"CN=Kovács Éva,O=Mintaker Kft.,C=HU", "Kovács Éva"},
		{"O=X,cn=Nagy\\, János,C=HU", "Nagy, János"},
		{"2.5.4.5=1234+CN=Multi,O=X", "Multi"},
		{"CN=\\C3\\89va", "Éva"},
		{"O=No Common Name", "O=No Common Name"},
		{"", ""},
		{"CN=trailing\\", "trailing\\"},
	} {
		if got := commonName(tc.dn); got != tc.want {
			t.Errorf("commonName(%q) = %q, want %q", tc.dn, got, tc.want)
		}
	}
}

// FuzzParse feeds Parse arbitrary bytes. Parse must never panic, and whatever it accepts must be stable:
// Marshal succeeds, the result is schema-valid, parses again to the same receipt, and renders.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"valid-full.xml", "valid-minimal.xml", "invalid-arrival-offset.xml", "invalid-duplicate-signature-id.xml"} {
		if b, err := os.ReadFile("../../schema/testdata/nyugta/" + name); err == nil {
			f.Add(b)
		}
	}
	for _, r := range []*Receipt{fullAcceptance(), minimalRejection()} {
		if b, err := r.Marshal(); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><x>&e;</x>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		set := schemas(t)
		r, err := Parse(data, set)
		if err != nil {
			var pe *ParseError
			if r != nil || !errors.As(err, &pe) {
				t.Fatalf("refusal %v is not a *ParseError (receipt %v)", err, r)
			}
			return
		}
		b, err := r.Marshal()
		if err != nil {
			t.Fatalf("accepted receipt does not marshal: %v", err)
		}
		r2, err := Parse(b, set)
		if err != nil {
			t.Fatalf("marshalled receipt does not parse: %v\n%s", err, b)
		}
		sameReceipt(t, r2, r)
		if err := Text(&bytes.Buffer{}, r, ""); err != nil {
			t.Fatal(err)
		}
		if err := HTML(&bytes.Buffer{}, r); err != nil {
			t.Fatal(err)
		}
	})
}
