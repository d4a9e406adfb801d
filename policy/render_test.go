package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func render(t *testing.T, p *Policy, lang string, html bool) string {
	t.Helper()
	var b bytes.Buffer
	var err error
	if html {
		err = p.RenderHTML(&b, lang)
	} else {
		err = p.RenderText(&b, lang)
	}
	if err != nil {
		t.Fatalf("render %s: %v", lang, err)
	}
	return b.String()
}

func TestRenderTextFacts(t *testing.T) {
	p := mustProduction(t)
	digest := hex.EncodeToString(p.Digest())
	common := []string{p.ID(), digest, ProofOfOrigin, ProofOfReceipt, "2048", "P-256", "P-384", "SHA-1", "MD5",
		"application/pkcs7-mime", "application/xpkcs-7", "text/xml", "QcCompliance", "QcSSCD", "nonRepudiation",
		"timeStamping", "SigningTime (F001)", "SignatureTimeStamp (F005)", "producedAt", "thisUpdate"}
	cases := map[string]struct{ has, hasNot []string }{
		"hu": {
			has: append([]string{"türelmi idő 4 óra", "producedAt ≥ T + 4 óra", "türelmi idő 24 óra", "thisUpdate ≥ T + 24 óra",
				"legfeljebb 30 perc", "legfeljebb 72 óra", "Óraeltérés tűrése:", "5 perc", "Hatókör", "minősített elektronikus aláírás",
				"TLS-szerver kulcsa nem írhat alá nyugtát", "a telepítés konfigurációja adja meg", "kritikus"}, common...),
			hasNot: []string{"grace period", "4 h ", "TESZT", "TEST POLICY"},
		},
		"en": {
			has: append([]string{"grace period 4 h", "producedAt ≥ T + 4 h", "grace period 24 h", "thisUpdate ≥ T + 24 h",
				"at most 30 min", "at most 72 h", "Clock skew tolerance", "5 min", "Scope and conditions", "qualified electronic signature",
				"The TLS server key never signs receipts", "supplied by the deployment's configuration", "critical"}, common...),
			hasNot: []string{"türelmi", "óra", "TESZT", "TEST POLICY"},
		},
		"": {has: []string{"türelmi idő 4 óra", "grace period 4 h", "legfeljebb 72 óra", "at most 72 h"}},
	}
	for lang, c := range cases {
		out := render(t, p, lang, false)
		for _, s := range c.has {
			if !strings.Contains(out, s) {
				t.Errorf("lang %q: text lacks %q", lang, s)
			}
		}
		for _, s := range c.hasNot {
			if strings.Contains(out, s) {
				t.Errorf("lang %q: text contains %q", lang, s)
			}
		}
		for i, line := range strings.Split(out, "\n") {
			if n := utf8.RuneCountInString(line); n > 110 {
				t.Errorf("lang %q: line %d has %d characters: %q", lang, i+1, n, line)
			}
		}
	}
}

func TestRenderSandboxSaysTest(t *testing.T) {
	p := mustSandbox(t)
	for lang, want := range map[string][]string{
		"hu": {"*** TESZT SZABÁLYZAT – JOGI HATÁLYA NINCS ***", "türelmi idő 2 másodperc", "türelmi idő 5 másodperc", "Teszt szabályzat:", "igen"},
		"en": {"*** TEST POLICY – NO LEGAL EFFECT ***", "grace period 2 s", "grace period 5 s", "Test policy:", "yes"},
	} {
		text := render(t, p, lang, false)
		html := render(t, p, lang, true)
		for _, s := range want {
			if !strings.Contains(text, s) {
				t.Errorf("%s text lacks %q", lang, s)
			}
		}
		banner := strings.Trim(want[0], "* ")
		if !strings.Contains(html, `<p class="banner">`+banner+`</p>`) {
			t.Errorf("%s HTML lacks the banner %q", lang, banner)
		}
	}
}

func TestRenderHTML(t *testing.T) {
	p := mustProduction(t)
	out := render(t, p, "", true)
	for _, s := range []string{`<html lang="hu">`, `<article lang="hu">`, `<article lang="en">`, hex.EncodeToString(p.Digest()),
		"türelmi idő 4 óra", "grace period 4 h", "legfeljebb 30 perc", "at most 30 min", "</html>"} {
		if !strings.Contains(out, s) {
			t.Errorf("HTML lacks %q", s)
		}
	}
	if strings.Contains(render(t, p, "en", true), `lang="hu"`) {
		t.Error("English-only page has Hungarian parts")
	}
	// Text from the document is escaped: a policy is outside input to whoever renders it.
	doc := strings.Replace(string(ProductionDocument()), "<Nev>MNYP Tagdíj e-bevallási munkacsoport</Nev>",
		"<Nev>&lt;script&gt;alert(1)&lt;/script&gt;</Nev>", 1)
	q, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	html := render(t, q, "hu", true)
	if strings.Contains(html, "<script>") || !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("issuer name not escaped in HTML")
	}
}

type failWriter struct{}

var errWrite = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestRenderErrors(t *testing.T) {
	p := mustProduction(t)
	for _, lang := range []string{"de", "HU", "hu,en"} {
		if p.RenderText(&bytes.Buffer{}, lang) == nil || p.RenderHTML(&bytes.Buffer{}, lang) == nil {
			t.Errorf("language %q accepted", lang)
		}
	}
	if err := p.RenderText(failWriter{}, "hu"); !errors.Is(err, errWrite) {
		t.Errorf("text write error lost: %v", err)
	}
	if err := p.RenderHTML(failWriter{}, "hu"); !errors.Is(err, errWrite) {
		t.Errorf("HTML write error lost: %v", err)
	}
}

func TestFormatDuration(t *testing.T) {
	for _, c := range []struct {
		d      time.Duration
		hu, en string
	}{
		{4 * time.Hour, "4 óra", "4 h"},
		{24 * time.Hour, "24 óra", "24 h"},
		{72 * time.Hour, "72 óra", "72 h"},
		{30 * time.Minute, "30 perc", "30 min"},
		{90 * time.Minute, "1 óra 30 perc", "1 h 30 min"},
		{time.Hour + 2*time.Second, "1 óra 2 másodperc", "1 h 2 s"},
		{2 * time.Second, "2 másodperc", "2 s"},
		{2500 * time.Millisecond, "2,5 másodperc", "2.5 s"},
		{0, "0 másodperc", "0 s"},
		{-5 * time.Minute, "-5 perc", "-5 min"},
	} {
		if got := FormatDuration(c.d, "hu"); got != c.hu {
			t.Errorf("hu %v: %q, want %q", c.d, got, c.hu)
		}
		if got := FormatDuration(c.d, "en"); got != c.en {
			t.Errorf("en %v: %q, want %q", c.d, got, c.en)
		}
	}
}

// FuzzParse feeds arbitrary bytes to Parse. Whatever it accepts must be a consistent policy: the
// digest is the SHA-256 of the input, parsing again gives the same identity, and it renders.
func FuzzParse(f *testing.F) {
	f.Add(ProductionDocument())
	f.Add(SandboxDocument())
	f.Add([]byte(`<Szabalyzat xmlns="urn:x-mnyp:alairasi-szabalyzat:1"/>`))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`))
	f.Add(bytes.Replace(ProductionDocument(), []byte("PT4H"), []byte("PT4.5S"), 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not match ErrInvalid: %v", err)
			}
			return
		}
		if sum := sha256.Sum256(data); !bytes.Equal(p.Digest(), sum[:]) || !bytes.Equal(p.Raw(), data) {
			t.Fatal("digest or raw differs from the input")
		}
		q, err := Parse(p.Raw())
		if err != nil || q.ID() != p.ID() || q.Gaps != p.Gaps {
			t.Fatalf("second parse differs: %v", err)
		}
		if p.ID() == "" || len(p.Documents) != 2 || len(p.Revocation.Methods) == 0 {
			t.Fatalf("accepted an incomplete policy: %+v", p)
		}
		var b bytes.Buffer
		if err := p.RenderText(&b, ""); err != nil {
			t.Fatal(err)
		}
		if err := p.RenderHTML(&b, ""); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzParseDuration checks the duration parser on its own: no panic, never a negative result, and
// a round trip through the seconds form for what it accepts.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"PT4H", "P7D", "P1DT2H3M4.5S", "PT", "P1Y", "PT9223372037S", "PT1.000000001S"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("%q: negative %v", s, d)
		}
		back, err := ParseDuration("PT" + formatSeconds(d) + "S")
		if err != nil || back != d {
			t.Fatalf("%q = %v; round trip gives %v, %v", s, d, back, err)
		}
	})
}

func formatSeconds(d time.Duration) string {
	s := strconv.FormatInt(int64(d/time.Second), 10)
	if ns := d % time.Second; ns != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%09d", int64(ns)), "0")
	}
	return s
}
