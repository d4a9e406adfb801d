package receipt

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode"

	// The receipt shows arrival in Hungarian local time; the embedded database makes that work on
	// minimal systems (containers, Windows) that ship no zoneinfo.
	_ "time/tzdata"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/hunid"
	"github.com/tagdij/tagdij/internal/sheet"
)

// LocalZone is the zone in which Text and HTML show arrival and the earliest final check beside UTC.
const LocalZone = "Europe/Budapest"

// bi is a text in Hungarian and English.
type bi struct{ HU, EN string }

// in returns the text for lang: "hu", "en", or both ("" — Hungarian first).
func (b bi) in(lang string) string {
	switch lang {
	case "hu":
		return b.HU
	case "en":
		return b.EN
	}
	if b.HU == b.EN {
		return b.HU
	}
	return b.HU + " / " + b.EN
}

// fact is one labelled value, language-neutral (Value) or in both languages (Words); Extra lines follow
// the value (local time).
type fact struct {
	Label bi
	Value string
	Words bi
	Mono  bool // a digest or identifier: shown in a fixed-width font in HTML
	Extra []string
}

type sigView struct {
	N                                   int
	ID, Signer, Subject, Issuer, Serial string
	Role                                bi
	Signed, Stamped                     string
	State                               bi
	StateCode, StateClass               string
	Indication                          string
}

type errView struct {
	Severity, Code, Location string
	HU, EN                   string
	Error                    bool
}

// view is what both renderings show, with every document string already made safe to display.
type view struct {
	ID          string
	Result      bi
	ResultClass string
	Accepted    bool
	Facts       []fact
	Package     []fact
	State       bi
	StateClass  string
	Policy      []fact
	Signatures  []sigView
	Errors      []errView
	ZoneNote    bi // set when local time is unavailable
}

var (
	resultText = map[Result]bi{
		Accepted: {"BEFOGADVA – a csomagot feldolgozásra befogadtuk", "ACCEPTED for processing"},
		Rejected: {"ELUTASITVA – a csomagot elutasítottuk", "REJECTED"},
	}
	stateText = map[State]bi{
		Valid:      {"ERVENYES – érvényes", "valid"},
		Invalid:    {"ERVENYTELEN – érvénytelen", "invalid"},
		Incomplete: {"BEFEJEZETLEN – befejezetlen", "incomplete"},
	}
	roleText = map[Role]bi{
		Alone:         {"önálló", "alone"},
		Jointly:       {"együttes", "jointly"},
		NotRegistered: {"nem regisztrált", "not registered"},
	}
	typeText = map[declaration.Type]bi{
		declaration.Normal:       {"B – bevallás", "B – normal"},
		declaration.SelfRevision: {"O – önellenőrzés", "O – self-revision"},
		declaration.Correction:   {"H – helyesbítés", "H – correction"},
	}
	idTypeText = map[declaration.IDType]bi{
		declaration.IDAdoszam:      {"Adószám", "Tax number"},
		declaration.IDAdoazonosito: {"Adóazonosító jel", "Tax id"},
		declaration.IDTAJ:          {"TAJ szám", "Social security no."},
	}
)

func lookup[K comparable](m map[K]bi, k K) bi {
	if b, ok := m[k]; ok {
		return b
	}
	s := display(fmt.Sprint(k))
	return bi{s, s}
}

// text is the fact's value for lang.
func (f fact) text(lang string) string {
	if f.Words.HU != "" {
		return f.Words.in(lang)
	}
	return f.Value
}

func stateClass(s State) string {
	switch s {
	case Valid:
		return "ok"
	case Invalid:
		return "bad"
	}
	return "wait"
}

// display makes document text safe to show: NFC, no control characters (which could move a terminal's
// cursor) and no bidirectional formatting characters (which could make a name read as something else).
func display(s string) string {
	s = sheet.Fit(s, len(s)+1) // NFC and control characters removed, never cut
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F, r == 0x061C:
			return -1
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
}

const utcLayout = "2006-01-02 15:04:05.999999999"

// zoneTimes formats t in UTC and in loc (when loc is not nil).
func zoneTimes(t time.Time, loc *time.Location) (string, []string) {
	utc := t.UTC().Format(utcLayout) + " UTC"
	if loc == nil {
		return utc, nil
	}
	l := t.In(loc)
	return utc, []string{l.Format(utcLayout) + " " + l.Format("MST") + " (UTC" + l.Format("-07:00") + ", " + loc.String() + ")"}
}

func shortTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04:05.999999999Z")
}

// commonName returns the value of the first CN attribute of an RFC 4514 DN, or the whole DN.
func commonName(dn string) string {
	rest := dn
	for rest != "" {
		// Split off one RDN at an unescaped comma.
		end := len(rest)
		for i := 0; i < len(rest); i++ {
			if rest[i] == '\\' {
				i++
				continue
			}
			if rest[i] == ',' || rest[i] == '+' {
				end = i
				break
			}
		}
		attr := strings.TrimSpace(rest[:end])
		if k, v, ok := strings.Cut(attr, "="); ok && strings.EqualFold(strings.TrimSpace(k), "CN") {
			return unescapeDN(strings.TrimSpace(v))
		}
		if end == len(rest) {
			break
		}
		rest = rest[end+1:]
	}
	return dn
}

func unescapeDN(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			if i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]) {
				x, _ := hex.DecodeString(v[i+1 : i+3])
				b.Write(x)
				i += 2
				continue
			}
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func declarantID(d *Declarant) string {
	switch d.IDType {
	case declaration.IDAdoszam:
		return hunid.FormatAdoszam(d.ID)
	case declaration.IDTAJ:
		return hunid.FormatTAJ(d.ID)
	}
	return d.ID
}

// newView prepares r for display. loc is the local zone, nil when it could not be loaded (zoneErr).
func newView(r *Receipt, loc *time.Location, zoneErr error) view {
	v := view{
		ID:          display(r.ID),
		Result:      lookup(resultText, r.Result),
		ResultClass: map[bool]string{true: "ok", false: "bad"}[r.Result == Accepted],
		Accepted:    r.Result == Accepted,
		State:       lookup(stateText, r.PreCheck.State),
		StateClass:  stateClass(r.PreCheck.State),
	}
	if zoneErr != nil {
		msg := display(zoneErr.Error())
		v.ZoneNote = bi{"A helyi idő (" + LocalZone + ") nem állapítható meg, az időpontok UTC-ben: " + msg,
			"Local time (" + LocalZone + ") is unavailable; times are in UTC: " + msg}
	}
	v.Facts = append(v.Facts,
		fact{Label: bi{"Nyugta azonosító", "Receipt id"}, Value: display(r.ID), Mono: true},
		fact{Label: bi{"Pénztár", "Fund"}, Value: display(r.Fund.Code + " " + r.Fund.Name)})
	if d := r.Declarant; d != nil {
		v.Facts = append(v.Facts,
			fact{Label: bi{"Bevalló", "Declarant"}, Value: display(d.Name)},
			fact{Label: lookup(idTypeText, d.IDType), Value: display(declarantID(d))})
	}
	utc, local := zoneTimes(r.Arrival, loc)
	v.Facts = append(v.Facts, fact{Label: bi{"Beérkezés ideje", "Arrival"}, Value: utc, Extra: local})
	if !r.EarliestFinalCheck.IsZero() {
		utc, local := zoneTimes(r.EarliestFinalCheck, loc)
		v.Facts = append(v.Facts, fact{Label: bi{"Végleges ellenőrzés legkorábban", "Earliest final check"}, Value: utc, Extra: local})
	}

	p := r.Package
	name := display(p.FileName)
	if name == "" {
		name = "–"
	}
	v.Package = append(v.Package,
		fact{Label: bi{"Fájlnév", "File name"}, Value: name, Mono: true},
		fact{Label: bi{"Méret", "Size"}, Words: bi{sheet.Forint(p.Size, " ") + " bájt", sheet.Forint(p.Size, ",") + " bytes"}},
		fact{Label: bi{"SHA-256", "SHA-256"}, Value: hex.EncodeToString(p.SHA256[:]), Mono: true})
	if p.SubmissionID != "" {
		v.Package = append(v.Package, fact{Label: bi{"Beküldési azonosító", "Submission id"}, Value: display(p.SubmissionID), Mono: true})
	}
	if p.Period != (declaration.Period{}) {
		v.Package = append(v.Package, fact{Label: bi{"Időszak", "Period"}, Value: p.Period.String()})
	}
	if p.Type != "" {
		v.Package = append(v.Package, fact{Label: bi{"Típus", "Type"}, Words: lookup(typeText, p.Type)})
	}

	if pol := r.PreCheck.Policy; pol != nil {
		v.Policy = append(v.Policy,
			fact{Label: bi{"Aláírási szabályzat", "Signature policy"}, Value: display(pol.ID), Mono: true},
			fact{Label: bi{"Szabályzat SHA-256", "Policy SHA-256"}, Value: hex.EncodeToString(pol.SHA256[:]), Mono: true})
	}
	for i, s := range r.PreCheck.Signatures {
		sv := sigView{
			N: i + 1, ID: display(s.ID), Role: bi{"–", "–"},
			Signed: shortTime(s.SigningTime), Stamped: shortTime(s.TimestampTime),
			State: lookup(stateText, s.State), StateCode: display(string(s.State)), StateClass: stateClass(s.State),
			Indication: display(string(s.Indication)),
		}
		if sv.ID == "" {
			sv.ID = "–"
		}
		if s.SubIndication != "" {
			sv.Indication += " / " + display(string(s.SubIndication))
		}
		if s.Role != "" {
			sv.Role = lookup(roleText, s.Role)
		}
		if c := s.Certificate; c != nil {
			sv.Signer = display(commonName(c.Subject))
			sv.Subject, sv.Issuer = display(c.Subject), display(c.Issuer)
			if c.Serial != nil {
				sv.Serial = c.Serial.String()
			}
		} else {
			sv.Signer = "?"
		}
		v.Signatures = append(v.Signatures, sv)
	}
	for _, e := range r.Errors {
		v.Errors = append(v.Errors, errView{
			Severity: display(string(e.Severity)), Code: display(string(e.Code)), Location: display(e.Location),
			HU: display(e.HU), EN: display(e.EN), Error: e.Severity != errcode.Warning,
		})
	}
	return v
}

// localZone loads LocalZone. With time/tzdata embedded it fails only if the embedded database lacks the
// zone; Text and HTML then show UTC only, with a note.
func localZone() (*time.Location, error) {
	loc, err := time.LoadLocation(LocalZone)
	if err != nil {
		return nil, fmt.Errorf("receipt: loading %s: %w", LocalZone, err)
	}
	return loc, nil
}
