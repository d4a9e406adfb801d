package policy

import (
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// FormatDuration writes d for people: hours, minutes and seconds ("4 h", "1 h 30 min", "2.5 s" in
// English; "4 óra", "1 óra 30 perc", "2,5 másodperc" in Hungarian). Days are not used, so the 72-hour
// gap reads as in SPEC §3. lang is "en" or, for anything else, Hungarian.
func FormatDuration(d time.Duration, lang string) string {
	en := lang == "en"
	unit := func(hu, e string) string {
		if en {
			return e
		}
		return hu
	}
	neg := d < 0
	if neg {
		d = -d // time.Duration's minimum has no positive twin; it is 292 years, never a policy value
	}
	var parts []string
	if h := d / time.Hour; h > 0 {
		parts = append(parts, strconv.FormatInt(int64(h), 10)+" "+unit("óra", "h"))
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		parts = append(parts, strconv.FormatInt(int64(m), 10)+" "+unit("perc", "min"))
		d -= m * time.Minute
	}
	if d > 0 || len(parts) == 0 {
		s := strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
		if !en {
			s = strings.Replace(s, ".", ",", 1)
		}
		parts = append(parts, s+" "+unit("másodperc", "s"))
	}
	out := strings.Join(parts, " ")
	if neg {
		out = "-" + out
	}
	return out
}

// RenderText writes the whole policy as plain text for a terminal or a printout (SIG-19): identity and
// SHA-256, scope and conditions, certificate roles, time-stamping, revocation and grace periods, time
// gaps, algorithms and receipt rules. lang is "hu", "en", or "" for both (Hungarian first).
func (p *Policy) RenderText(w io.Writer, lang string) error {
	langs, err := renderLangs(lang)
	if err != nil {
		return err
	}
	var b strings.Builder
	for i, l := range langs {
		if i > 0 {
			b.WriteString("\n" + strings.Repeat("=", 100) + "\n\n")
		}
		v := p.view(l)
		if v.Banner != "" {
			fmt.Fprintf(&b, "*** %s ***\n\n", v.Banner)
		}
		b.WriteString(v.Title + "\n" + strings.Repeat("-", utf8.RuneCountInString(v.Title)) + "\n")
		writeFacts(&b, v.Facts, "")
		for _, s := range v.Sections {
			writeSection(&b, s, "")
		}
	}
	_, err = io.WriteString(w, b.String())
	return err
}

func writeFacts(b *strings.Builder, facts []fact, indent string) {
	width := 0
	for _, f := range facts {
		width = max(width, utf8.RuneCountInString(f.Label))
	}
	for _, f := range facts {
		pad := strings.Repeat(" ", width-utf8.RuneCountInString(f.Label))
		lines := wrap(f.Value, 100-len(indent)-width-2)
		for i, l := range lines {
			if i == 0 {
				fmt.Fprintf(b, "%s%s:%s %s\n", indent, f.Label, pad, l)
			} else {
				fmt.Fprintf(b, "%s%s  %s\n", indent, strings.Repeat(" ", width), l)
			}
		}
	}
}

func writeSection(b *strings.Builder, s section, indent string) {
	fmt.Fprintf(b, "\n%s%s\n", indent, s.Heading)
	for _, para := range s.Paras {
		for _, l := range wrap(para, 100-len(indent)-2) {
			fmt.Fprintf(b, "%s  %s\n", indent, l)
		}
	}
	if len(s.Facts) > 0 {
		if len(s.Paras) > 0 {
			b.WriteString("\n")
		}
		writeFacts(b, s.Facts, indent+"  ")
	}
	for _, sub := range s.Subs {
		writeSection(b, sub, indent+"  ")
	}
}

// wrap breaks text into lines of at most width runes at spaces (longer words stay whole).
func wrap(text string, width int) []string {
	width = max(width, 20)
	var lines []string
	var cur strings.Builder
	n := 0
	for _, word := range strings.Fields(text) {
		wl := utf8.RuneCountInString(word)
		if n > 0 && n+1+wl > width {
			lines = append(lines, cur.String())
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteByte(' ')
			n++
		}
		cur.WriteString(word)
		n += wl
	}
	if n > 0 || len(lines) == 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

var htmlPage = template.Must(template.New("policy").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font-family: sans-serif; max-width: 60rem; margin: 2rem auto; line-height: 1.45; }
.banner { border: 3px solid #b00; color: #b00; font-weight: bold; padding: .5rem 1rem; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; }
dt { font-weight: bold; } dd { margin: 0; } code { word-break: break-all; }
article + article { border-top: 2px solid #444; margin-top: 3rem; }
@media print { article + article { page-break-before: always; } }
</style>
</head>
<body>
{{range .Views}}<article lang="{{.Lang}}">
{{if .Banner}}<p class="banner">{{.Banner}}</p>
{{end}}<h1>{{.Title}}</h1>
{{template "facts" .Facts}}{{range .Sections}}{{template "section" .}}{{end}}</article>
{{end}}</body>
</html>
{{define "facts"}}{{if .}}<dl>
{{range .}}<dt>{{.Label}}</dt><dd>{{.Value}}</dd>
{{end}}</dl>
{{end}}{{end}}
{{define "section"}}<section>
<h{{.Level}}>{{.Heading}}</h{{.Level}}>
{{range .Paras}}<p>{{.}}</p>
{{end}}{{template "facts" .Facts}}{{range .Subs}}{{template "section" .}}{{end}}</section>
{{end}}`))

// RenderHTML writes the policy as a self-contained, printable HTML page with the same content as
// RenderText. lang is "hu", "en", or "" for both (one article per language).
func (p *Policy) RenderHTML(w io.Writer, lang string) error {
	langs, err := renderLangs(lang)
	if err != nil {
		return err
	}
	data := struct {
		Lang  string
		Title string
		Views []view
	}{Lang: langs[0]}
	for _, l := range langs {
		data.Views = append(data.Views, p.view(l))
	}
	data.Title = data.Views[0].Title
	if err := htmlPage.Execute(w, data); err != nil {
		return fmt.Errorf("policy: rendering HTML: %w", err)
	}
	return nil
}

func renderLangs(lang string) ([]string, error) {
	switch lang {
	case "hu", "en":
		return []string{lang}, nil
	case "":
		return []string{"hu", "en"}, nil
	}
	return nil, fmt.Errorf("policy: language %q: want \"hu\", \"en\" or \"\" for both", lang)
}

// view is the language-specific content both renderers print.
type view struct {
	Lang     string
	Banner   string
	Title    string
	Facts    []fact
	Sections []section
}

type section struct {
	Level   int // HTML heading level
	Heading string
	Paras   []string
	Facts   []fact
	Subs    []section
}

type fact struct{ Label, Value string }

func (p *Policy) view(lang string) view {
	en := lang == "en"
	t := func(hu, e string) string {
		if en {
			return e
		}
		return hu
	}
	yes := func(b bool) string {
		if b {
			return t("igen", "yes")
		}
		return t("nem", "no")
	}
	dur := func(d time.Duration) string { return FormatDuration(d, lang) }

	v := view{Lang: lang, Title: p.Title.In(lang)}
	if p.Test {
		v.Banner = t("TESZT SZABÁLYZAT – JOGI HATÁLYA NINCS", "TEST POLICY – NO LEGAL EFFECT")
	}
	validity := stamp(p.ValidFrom) + " – "
	if p.ValidUntil.IsZero() {
		validity += t("visszavonásig", "until withdrawn")
	} else {
		validity += stamp(p.ValidUntil)
	}
	issuer := p.Issuer.Name
	if p.Issuer.URI != "" {
		issuer += " (" + p.Issuer.URI + ")"
	}
	v.Facts = []fact{
		{t("Azonosító", "Identifier"), p.id},
		{t("Verzió", "Version"), p.Version},
		{t("Kiadó", "Issuer"), issuer},
		{t("Kiadás dátuma", "Issued on"), p.IssuedOn.Format(time.DateOnly)},
		{t("Érvényesség", "Validity"), validity},
		{t("Teszt szabályzat", "Test policy"), yes(p.Test)},
		{"SHA-256", hex.EncodeToString(p.digest[:])},
		{t("Lenyomat-algoritmus (SigPolicyHash)", "Digest method (SigPolicyHash)"), DigestMethod},
	}

	num := 0
	sec := func(hu, e string, paras ...string) section {
		num++
		return section{Level: 2, Heading: fmt.Sprintf("%d. %s", num, t(hu, e)), Paras: paras}
	}

	desc := sec("Leírás", "Description", p.Description.In(lang))

	scope := sec("Hatókör és feltételek", "Scope and conditions", p.Scope.In(lang))
	for i, d := range p.Documents {
		name := map[DocKind][2]string{
			KindPackage: {"Adatszolgáltatás csomag", "Data package"},
			KindReceipt: {"Nyugtacsomag", "Receipt package"},
		}[d.Kind]
		level := map[Level][2]string{
			LevelQualified: {"minősített elektronikus aláírás", "qualified electronic signature"},
			LevelAdvanced:  {"legalább fokozott biztonságú elektronikus aláírás", "at least an advanced electronic signature"},
		}[d.Level]
		var formats []string
		for _, f := range d.Formats {
			var notes []string
			if f.Encrypted {
				notes = append(notes, t("titkosított", "encrypted"))
			} else {
				notes = append(notes, t("nyílt", "plain"))
			}
			if f.ReadOnly {
				notes = append(notes, t("csak olvasáskor", "accepted on read only"))
			}
			formats = append(formats, f.MIME+" ("+strings.Join(notes, ", ")+")")
		}
		sub := section{
			Level:   3,
			Heading: fmt.Sprintf("%d.%d. %s (%s)", num, i+1, t(name[0], name[1]), d.Kind),
			Paras:   []string{d.Description.In(lang)},
			Facts: []fact{
				{t("Aláírás szintje", "Signature level"), t(level[0], level[1])},
				{t("Tanúsító szerep", "Certificate role"), string(d.SignerRole)},
				{t("Kötelezettségvállalás típusa", "Commitment type"), d.Commitment},
				{t("Tartalomformátum", "Content format"), strings.Join(formats, "; ")},
				{t("Legnagyobb méret", "Maximum size"), fmt.Sprintf("%d %s (%s)", d.MaxSize, t("bájt", "bytes"), humanBytes(d.MaxSize))},
				{t("Kötelező aláírt tulajdonságok", "Required signed properties"), propList(d.Signed)},
				{t("Kötelező aláíratlan tulajdonságok", "Required unsigned properties"), propList(d.Unsigned)},
			},
		}
		scope.Subs = append(scope.Subs, sub)
	}

	auth := sec("Elfogadott hitelesítés-szolgáltatók és időbélyeg-szolgáltatók", "Accepted certification and time-stamping authorities",
		p.Authorities.Description.In(lang))
	for i, r := range p.Authorities.Roles {
		facts := []fact{{t("Minősített", "Qualified"), yes(r.Qualified)}}
		if len(r.QCStatements) > 0 {
			var l []string
			for _, q := range r.QCStatements {
				l = append(l, fmt.Sprintf("%s (%s)", q.Name, q.OID))
			}
			facts = append(facts, fact{t("Kötelező QcStatement", "Required QcStatements"), strings.Join(l, ", ")})
		}
		if r.KeyUsage != 0 {
			cond := t("legalább egy", "at least one of")
			if r.KeyUsageAll {
				cond = t("mind", "all of")
			}
			facts = append(facts, fact{t("Kulcshasználat", "Key usage"), fmt.Sprintf("%s: %s", cond, keyUsageList(r.KeyUsage))})
		}
		if r.ExtKeyUsage != 0 {
			eku := ekuName(r.ExtKeyUsage) + " " + t("(kizárólagos", "(exclusive")
			if r.EKUCritical {
				eku += t(", kritikus", ", critical")
			}
			facts = append(facts, fact{t("Kiterjesztett kulcshasználat", "Extended key usage"), eku + ")"})
		}
		anchors := t("a telepítés konfigurációja adja meg", "supplied by the deployment's configuration")
		if len(r.Pins) > 0 {
			var l []string
			for _, a := range r.Pins {
				s := a.Name
				if a.SHA256 != nil {
					s += " SHA-256 " + hex.EncodeToString(a.SHA256)
				}
				if a.Subject != "" {
					s += " " + t("alany", "subject") + " " + a.Subject
				}
				l = append(l, s)
			}
			anchors = t("csak a rögzítettek: ", "only the pinned ones: ") + strings.Join(l, "; ")
		}
		facts = append(facts, fact{t("Bizalmi horgonyok", "Trust anchors"), anchors})
		auth.Subs = append(auth.Subs, section{
			Level:   3,
			Heading: fmt.Sprintf("%d.%d. %s: %s", num, i+1, t("Szerep", "Role"), r.Name),
			Paras:   []string{r.Description.In(lang)},
			Facts:   facts,
		})
	}

	ts := sec("Időbélyegzés", "Time-stamping", p.Timestamp.Description.In(lang))
	ts.Facts = []fact{
		{t("Szolgáltató szerep", "Provider role"), string(p.Timestamp.Role)},
		{t("Kérés az utolsó aláírás után", "Requested after the last signature"), yes(p.Timestamp.AfterLastSigner)},
		{t("Nonce a kérésben", "Nonce in the request"), yes(p.Timestamp.Nonce)},
		{t("Szolgáltatói tanúsítvány kérése", "TSA certificate requested"), yes(p.Timestamp.CertReq)},
	}

	rev := sec("Visszavonási állapot és türelmi idő", "Revocation status and grace period", p.Revocation.Description.In(lang))
	for i, m := range p.Revocation.Methods {
		field := map[RevocationMethod]string{OCSP: "producedAt", CRL: "thisUpdate"}[m.Method]
		role := t("elsődleges", "primary")
		if i > 0 {
			role = t("tartalék", "fallback")
		}
		rev.Facts = append(rev.Facts, fact{
			fmt.Sprintf("%d. %s (%s)", i+1, m.Method, role),
			fmt.Sprintf(t("türelmi idő %s (%s ≥ T + %s); a bizonyíték legnagyobb kora %s", "grace period %s (%s ≥ T + %s); maximum age of evidence %s"),
				dur(m.Grace), field, dur(m.Grace), dur(m.MaxAge)),
		})
	}

	gaps := sec("Időközök", "Time gaps", p.Gaps.Description.In(lang))
	gaps.Facts = []fact{
		{t("Aláírás → időbélyeg", "Signing → timestamp"), t("legfeljebb ", "at most ") + dur(p.Gaps.SigningToTimestamp)},
		{t("Időbélyeg → beérkezés", "Timestamp → arrival"), t("legfeljebb ", "at most ") + dur(p.Gaps.TimestampToArrival)},
		{t("Óraeltérés tűrése", "Clock skew tolerance"), dur(p.Gaps.ClockSkew)},
	}

	alg := sec("Algoritmusok és kulcsméretek", "Algorithms and key sizes", p.Algorithms.Description.In(lang))
	var schemes, forbidden []string
	for _, s := range p.Algorithms.Schemes {
		schemes = append(schemes, string(s))
	}
	for _, h := range p.Algorithms.Forbidden {
		forbidden = append(forbidden, hashName(h))
	}
	alg.Facts = []fact{
		{t("Lenyomat", "Digests"), p.digestList()},
		{t("Aláírási séma", "Signature schemes"), strings.Join(schemes, ", ")},
		{t("RSA kulcsméret", "RSA key size"), fmt.Sprintf(t("legalább %d bit", "at least %d bits"), p.Algorithms.MinRSABits)},
		{t("Elliptikus görbék", "Elliptic curves"), p.curveList()},
		{t("Tiltott", "Forbidden"), strings.Join(forbidden, ", ")},
		{t("Kanonizálás", "Canonicalization"), strings.Join(p.Algorithms.Canonicalization, ", ")},
	}

	rcpt := sec("Nyugta", "Receipts", p.Receipt.Description.In(lang))
	rcpt.Facts = []fact{
		{t("TLS-szerver kulcsa nem írhat alá nyugtát", "The TLS server key never signs receipts"), yes(p.Receipt.TLSKeyForbidden)},
		{t("Időbélyeg a nyugtán", "Timestamp on the receipt"), yes(p.Receipt.Timestamp)},
		{t("Nyugta minden feltöltésre (elutasításra is)", "A receipt for every upload (rejections too)"), yes(p.Receipt.EveryUpload)},
	}
	if d, ok := p.Document(KindReceipt); ok {
		rcpt.Facts = append(rcpt.Facts, fact{t("Kötelezettségvállalás típusa", "Commitment type"), d.Commitment})
	}

	v.Sections = []section{desc, scope, auth, ts, rev, gaps, alg, rcpt}
	return v
}

func propList(ps []Property) string {
	var l []string
	for _, p := range ps {
		s := fmt.Sprintf("%s (%s)", p.Name, p.Code)
		if len(p.Alternatives) > 0 {
			s = fmt.Sprintf("%s / %s (%s)", p.Name, strings.Join(p.Alternatives, " / "), p.Code)
		}
		l = append(l, s)
	}
	return strings.Join(l, ", ")
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return strconv.FormatInt(n, 10) + " B"
}
