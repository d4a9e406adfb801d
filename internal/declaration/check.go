package declaration

import (
	"errors"
	"fmt"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/hunid"
	"github.com/tagdij/tagdij/schema"
)

// FirstPeriod is the earliest period a declaration may cover: the mandatory private pension fund system
// (1997. évi LXXXII. törvény a magánnyugdíjról és a magánnyugdíjpénztárakról) took its first members'
// contributions for January 1998.
var FirstPeriod = Period{Year: 1998, Month: time.January}

// CheckContext is what Check needs from outside the document.
type CheckContext struct {
	// Now is the reference time for "period not in the future"; the period may be Now's month (in Now's
	// location) or earlier. The zero value means time.Now().
	Now time.Time
	// PredecessorExists says whether a declaration with the given submission id was received earlier for
	// the same declarant (the receiver's or processor's store). Nil means existence is not checked (the
	// sender, which has no store, checks only that an O/H declaration names a predecessor). An error is
	// reported as R001 (temporary failure), never as a rejection of the content. Callers that need a
	// context.Context close over it.
	PredecessorExists func(id string) (bool, error)
}

// Locations used in findings, bilingual like the texts.
const (
	LocHeader    = "fejléc / header"
	LocDeclarant = "bevalló / declarant"
	LocSummary   = "összesítő / summary"
)

// LocItem is the location of the item with row number row: "tétel 12 / item 12".
func LocItem(row int) string { return fmt.Sprintf("tétel %d / item %d", row, row) }

// ItemOf returns the row number of an item location LocItem wrote, and false for any other location.
func ItemOf(loc string) (int, bool) {
	var a, b int
	if n, err := fmt.Sscanf(loc, "tétel %d / item %d", &a, &b); err != nil || n != 2 || a != b || LocItem(a) != loc {
		return 0, false
	}
	return a, true
}

// Check applies the content rules of SPEC §5 to d and returns every finding, in document order (header,
// declarant, summary, then items by position). It never stops at the first problem, so one report lists
// everything a payroll clerk has to fix.
//
// Rules and codes:
//   - D008: type B must not name a predecessor; O and H must, it must differ from the declaration's own
//     id, and it must exist when ctx.PredecessorExists is set (a lookup error gives R001 instead).
//   - D007: the period must be a real month, not before FirstPeriod and not after Now's month.
//   - D006 / D005: the declarant's identifier must pass its check digits (D005 when it is a TAJ number).
//   - D004: the head count must equal the number of items, and each summary total (base, member
//     contribution, employer supplement, payable = member + supplement) must equal the items' sum; one
//     finding per mismatching figure. Amounts must be whole forints in [0, MaxItemAmount] (D004 with the
//     item's row).
//   - D005: each item's TAJ number must pass its check digit.
//   - D006: each item's adóazonosító jel must pass its check digit, and the birth date it encodes must
//     equal the item's birth date.
//   - D007 (error): an employment that ends before it starts.
//   - D007 (warning, W0): an employment that does not overlap the declared period. It is only a warning
//     because back payments for a relationship that ended earlier are legitimately declared in a later
//     month; the fund's back office decides.
//
// Contribution rates are deliberately not checked: the member-contribution rate and any employer
// supplement are set by law and by the fund's rules for each period, and a rate table here would turn a
// change of law into false rejections.
func Check(d *Declaration, ctx CheckContext) []errcode.Finding {
	now := ctx.Now
	if now.IsZero() {
		now = time.Now()
	}
	var out []errcode.Finding
	add := func(code errcode.Code, loc, detail string) {
		out = append(out, errcode.New(code, loc, detail))
	}
	warn := func(code errcode.Code, loc, detail string) {
		f := errcode.New(code, loc, detail)
		f.Severity = errcode.Warning
		out = append(out, f)
	}

	// Header: type and predecessor.
	h := &d.Header
	switch h.Type {
	case Normal:
		if h.PredecessorID != "" {
			add(errcode.D008, LocHeader, "B: ElozmenyAzonosito "+h.PredecessorID)
		}
	case SelfRevision, Correction:
		switch {
		case h.PredecessorID == "":
			add(errcode.D008, LocHeader, string(h.Type)+": ElozmenyAzonosito —")
		case h.PredecessorID == h.ID:
			add(errcode.D008, LocHeader, "ElozmenyAzonosito = Azonosito "+h.ID)
		case ctx.PredecessorExists != nil:
			ok, err := ctx.PredecessorExists(h.PredecessorID)
			if err != nil {
				add(errcode.R001, LocHeader, "ElozmenyAzonosito "+h.PredecessorID)
			} else if !ok {
				add(errcode.D008, LocHeader, "ElozmenyAzonosito "+h.PredecessorID+" ∉")
			}
		}
	default:
		add(errcode.D003, LocHeader, fmt.Sprintf("Tipus %q", string(h.Type)))
	}

	// Header: period.
	switch p := h.Period; {
	case !p.Valid():
		add(errcode.D007, LocHeader, fmt.Sprintf("Idoszak %04d-%02d", p.Year, int(p.Month)))
	case p.Start().Before(FirstPeriod.Start()):
		add(errcode.D007, LocHeader, "Idoszak "+p.String()+" < "+FirstPeriod.String())
	case p.Start().After(PeriodOf(now).Start()):
		add(errcode.D007, LocHeader, "Idoszak "+p.String()+" > "+PeriodOf(now).String())
	}

	// Declarant identifier.
	id := d.Declarant.ID
	switch id.Type {
	case IDAdoszam:
		if !(len(id.Value) == 8 || len(id.Value) == 11) || !hunid.ValidAdoszam(id.Value) {
			add(errcode.D006, LocDeclarant, "adoszam "+id.Value)
		}
	case IDAdoazonosito:
		if !hunid.ValidAdoazonosito(id.Value) {
			add(errcode.D006, LocDeclarant, "adoazonosito "+id.Value)
		}
	case IDTAJ:
		if !hunid.ValidTAJ(id.Value) {
			add(errcode.D005, LocDeclarant, "taj "+id.Value)
		}
	default:
		add(errcode.D006, LocDeclarant, fmt.Sprintf("tipus %q", string(id.Type)))
	}

	// Summary against the items. Out-of-range amounts are reported per item below and left out of the
	// sums, so the sums cannot overflow.
	var sum Summary
	sum.HeadCount = int64(len(d.Items))
	for i := range d.Items {
		it := &d.Items[i]
		sum.BaseTotal += inRange(it.Base)
		sum.MemberTotal += inRange(it.MemberContribution)
		sum.SupplementTotal += inRange(it.Supplement)
	}
	sum.PayableTotal = sum.MemberTotal + sum.SupplementTotal
	if len(d.Items) > MaxItems {
		add(errcode.D004, LocSummary, fmt.Sprintf("Tetel: %d > %d", len(d.Items), MaxItems))
	}
	s := d.Summary
	for _, c := range []struct {
		name          string
		stated, items int64
	}{
		{"Letszam", s.HeadCount, sum.HeadCount},
		{"JarulekalapOsszesen", s.BaseTotal, sum.BaseTotal},
		{"TagdijOsszesen", s.MemberTotal, sum.MemberTotal},
		{"MunkaltatoiKiegeszitesOsszesen", s.SupplementTotal, sum.SupplementTotal},
		{"FizetendoOsszesen", s.PayableTotal, sum.PayableTotal},
	} {
		if c.stated != c.items {
			add(errcode.D004, LocSummary, fmt.Sprintf("%s: %d ≠ Σ %d", c.name, c.stated, c.items))
		}
	}

	// Items.
	first, last := h.Period.FirstDay(), h.Period.LastDay()
	periodOK := h.Period.Valid()
	for i := range d.Items {
		it := &d.Items[i]
		loc := LocItem(it.Row)
		for _, a := range []struct {
			name string
			v    int64
		}{{"Jarulekalap", it.Base}, {"Tagdij", it.MemberContribution}, {"MunkaltatoiKiegeszites", it.Supplement}} {
			if a.v < 0 || a.v > MaxItemAmount {
				add(errcode.D004, loc, fmt.Sprintf("%s: %d", a.name, a.v))
			}
		}
		if !hunid.ValidTAJ(it.TAJ) {
			add(errcode.D005, loc, "TAJ "+it.TAJ)
		}
		if !hunid.ValidAdoazonosito(it.TaxID) {
			add(errcode.D006, loc, "Adoazonosito "+it.TaxID)
		} else if b, _ := hunid.BirthDate(it.TaxID); DateOf(b) != it.BirthDate {
			add(errcode.D006, loc, fmt.Sprintf("SzuletesiDatum %s ≠ %s (Adoazonosito)", it.BirthDate, DateOf(b)))
		}
		if it.EmploymentTo != nil && it.EmploymentTo.Before(it.EmploymentFrom) {
			add(errcode.D007, loc, fmt.Sprintf("JogviszonyVege %s < JogviszonyKezdete %s", it.EmploymentTo, it.EmploymentFrom))
		} else if periodOK && (it.EmploymentFrom.After(last) || (it.EmploymentTo != nil && it.EmploymentTo.Before(first))) {
			to := "…"
			if it.EmploymentTo != nil {
				to = it.EmploymentTo.String()
			}
			warn(errcode.D007, loc, fmt.Sprintf("Jogviszony %s – %s ∩ Idoszak %s = ∅", it.EmploymentFrom, to, h.Period))
		}
	}
	return out
}

func inRange(v int64) int64 {
	if v < 0 || v > MaxItemAmount {
		return 0
	}
	return v
}

// Rejects reports whether any finding has error severity (E0), which rejects the declaration.
func Rejects(findings []errcode.Finding) bool {
	for _, f := range findings {
		if f.Severity == errcode.Error {
			return true
		}
	}
	return false
}

// Count returns the number of error (E0) and warning (W0) findings.
func Count(findings []errcode.Finding) (errors, warnings int) {
	for _, f := range findings {
		if f.Severity == errcode.Warning {
			warnings++
		} else {
			errors++
		}
	}
	return errors, warnings
}

// Validate is the whole check of a declaration file's bytes: hardened parse, XSD, then Check. It returns
// the parsed declaration (nil when the bytes did not get past the parser or the schema) and every
// finding; the declaration is acceptable when !Rejects(findings).
func Validate(data []byte, schemas *schema.Set, ctx CheckContext) (*Declaration, []errcode.Finding, error) {
	d, err := Parse(data, schemas)
	var pe *ParseError
	if errors.As(err, &pe) {
		return nil, pe.Findings, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return d, Check(d, ctx), nil
}
