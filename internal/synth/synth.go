// Package synth generates realistic, deterministic synthetic contribution declarations for demos, tests
// and benchmarks. The same Options (seed included) always give the same Declaration, and so the same
// bytes from its WriteTo, on every platform and Go version: the generator uses the PCG algorithm of
// math/rand/v2 directly (its output is specified) and maps it to ranges with its own arithmetic.
//
// Every generated identifier passes its check digits, every adóazonosító jel encodes the member's birth
// date, TAJ numbers and tax ids are unique within a declaration, and the summary sheet is computed from
// the items, so a generated declaration passes declaration.Check (when its period is not in the future).
package synth

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"time"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/hunid"
)

// MemberRatePercent is the member-contribution rate the generator applies: 8 % of the contribution base,
// rounded half up to whole forints. It was the private-pension member contribution of the 2006 era the
// requirement set comes from; it is a property of the synthetic data only, never a validation rule.
const MemberRatePercent = 8

// Options control Generate. Zero fields take the documented defaults.
type Options struct {
	Members   int                   // number of items; 0 gives a nil declaration
	Seed      uint64                // the only source of variation
	Period    declaration.Period    // default: the month before Created's month
	Type      declaration.Type      // default: B; O and H get a predecessor id derived from Seed
	Fund      declaration.Fund      // default: DefaultFund
	Declarant declaration.Declarant // default: a company with an adószám derived from Seed
	// Created is the header's creation time. Default: the 5th of the month after Period, 08:00 UTC, so the
	// output does not depend on the clock, or Now when that would be later than Now (a declaration is
	// never created in the future). When Period is also zero, it is derived from Now.
	Created time.Time
	// Now anchors the default period when both Period and Created are zero, and caps the default
	// Created (zero: the default period uses time.Now(), Created is not capped). Only then does the
	// output depend on the clock.
	Now     time.Time
	Program declaration.Program // default: DefaultProgram
}

// DefaultFund is the fund used when Options.Fund is zero (a fictitious fund code).
var DefaultFund = declaration.Fund{Code: "9001", Name: "Példa Magánnyugdíjpénztár"}

// DefaultAddress is the declarant's address when Options.Declarant is zero (a fictitious one).
var DefaultAddress = declaration.Address{PostalCode: "1111", City: "Budapest", Street: "Minta utca 1."}

// DefaultProgram names this software in generated headers.
var DefaultProgram = declaration.Program{Name: "tagdij-synth", Version: "1.0"}

// Family and given names, the most frequent Hungarian ones plus a few with the rarer accented letters,
// so that display-width and encoding paths get exercised.
var (
	familyNames = []string{"Kovács", "Szabó", "Tóth", "Nagy", "Horváth", "Varga", "Kiss", "Molnár", "Németh",
		"Farkas", "Balogh", "Papp", "Takács", "Juhász", "Lakatos", "Mészáros", "Oláh", "Simon", "Rácz",
		"Fekete", "Szilágyi", "Török", "Fehér", "Balázs", "Gál", "Kis", "Szűcs", "Kocsis", "Orsós", "Pintér",
		"Fodor", "Szalai", "Sipos", "Magyar", "Lukács", "Gulyás", "Biró", "Király", "Balog", "László",
		"Katona", "Jakab", "Bogdán", "Sándor", "Boros", "Fazekas", "Kelemen", "Antal", "Somogyi", "Orosz",
		"Fülöp", "Vörös", "Bódis", "Győri", "Hegedűs", "Csűrös", "Ürögdi", "Őri"}
	maleGiven = []string{"László", "István", "József", "János", "Zoltán", "Sándor", "Gábor", "Ferenc",
		"Attila", "Péter", "Tamás", "Zsolt", "Tibor", "András", "Csaba", "Imre", "Lajos", "György", "Balázs",
		"Róbert", "Mihály", "Dávid", "Ádám", "Dániel", "Lőrinc", "Ödön", "Ürmös", "Örs", "Bendegúz", "Kristóf"}
	femaleGiven = []string{"Mária", "Erzsébet", "Katalin", "Éva", "Ilona", "Anna", "Zsuzsanna", "Margit",
		"Judit", "Ágnes", "Ildikó", "Krisztina", "Zsófia", "Dóra", "Andrea", "Erika", "Mónika", "Edit",
		"Gabriella", "Szilvia", "Anita", "Eszter", "Réka", "Boglárka", "Tünde", "Enikő", "Csilla", "Hajnalka",
		"Lilla", "Emőke", "Ünige", "Őzike"}
)

type rng struct{ p *rand.PCG }

// intn returns a number in [0, n) (multiply-shift; the bias is below 2⁻³² and irrelevant here).
func (r rng) intn(n int) int {
	hi, _ := bits.Mul64(r.p.Uint64(), uint64(n))
	return int(hi)
}

// between returns a number in [lo, hi].
func (r rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

func (r rng) uuid() string {
	a, b := r.p.Uint64(), r.p.Uint64()
	// Version 4, variant 10, as RFC 9562 §5.4 lays out a random UUID.
	a = a&^(0xf<<12) | 4<<12
	b = b&^(0x3<<62) | 0x2<<62
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

// Generate builds a declaration from opts. It never fails: out-of-range options are clamped (negative
// Members to 0, more than declaration.MaxItems to the maximum).
func Generate(opts Options) *declaration.Declaration {
	opts = withDefaults(opts)
	r := rng{rand.NewPCG(opts.Seed, 0x74616764696a) /* "tagdij" */}
	d := &declaration.Declaration{
		Version: declaration.Version,
		Header: declaration.Header{
			ID:      r.uuid(),
			Type:    opts.Type,
			Period:  opts.Period,
			Created: opts.Created,
			Program: opts.Program,
		},
		Fund: opts.Fund,
	}
	// The predecessor id is drawn even for B, so that changing only the type keeps every other value.
	pred := r.uuid()
	if opts.Type != declaration.Normal {
		d.Header.PredecessorID = pred
	}
	company := hunid.NewAdoszam(r.p)
	if opts.Declarant.Name == "" {
		d.Declarant = declaration.Declarant{
			Name:    "Példa Kereskedelmi és Szolgáltató Kft.",
			ID:      declaration.DeclarantID{Type: declaration.IDAdoszam, Value: company},
			Address: DefaultAddress,
		}
	} else {
		d.Declarant = opts.Declarant
	}
	d.Items = make([]declaration.Item, opts.Members)
	g := itemGen{r: r, period: opts.Period, usedTaxIDs: make(map[string]struct{}, opts.Members)}
	// TAJ serials walk a permutation of [0, 10⁸): start + i·stride with stride coprime to 10⁸, so the
	// numbers are distinct without remembering them.
	g.tajStart = uint64(r.intn(100_000_000))
	for i := range d.Items {
		g.item(&d.Items[i], i)
	}
	d.Summary = d.ComputeSummary()
	return d
}

func withDefaults(o Options) Options {
	if o.Members < 0 {
		o.Members = 0
	}
	if o.Members > declaration.MaxItems {
		o.Members = declaration.MaxItems
	}
	if o.Type == "" {
		o.Type = declaration.Normal
	}
	if o.Fund == (declaration.Fund{}) {
		o.Fund = DefaultFund
	}
	if o.Program == (declaration.Program{}) {
		o.Program = DefaultProgram
	}
	if o.Period == (declaration.Period{}) {
		anchor := o.Created
		if anchor.IsZero() {
			anchor = o.Now
			if anchor.IsZero() {
				anchor = time.Now()
			}
		}
		o.Period = declaration.PeriodOf(anchor.UTC()).Prev()
	}
	if o.Created.IsZero() {
		n := o.Period.Next()
		o.Created = time.Date(n.Year, n.Month, 5, 8, 0, 0, 0, time.UTC)
		if !o.Now.IsZero() && o.Created.After(o.Now) {
			o.Created = o.Now
		}
	}
	o.Created = o.Created.UTC().Truncate(time.Second)
	return o
}

type itemGen struct {
	r          rng
	period     declaration.Period
	tajStart   uint64
	usedTaxIDs map[string]struct{}
}

const tajStride = 7_919_993 // odd and not a multiple of 5, so coprime to 10⁸

func (g *itemGen) item(it *declaration.Item, i int) {
	r := g.r
	it.Row = i + 1

	female := r.intn(2) == 0
	given := maleGiven
	if female {
		given = femaleGiven
	}
	name := familyNames[r.intn(len(familyNames))] + " " + given[r.intn(len(given))]
	if r.intn(5) == 0 { // a second given name, as one in five Hungarians has
		name += " " + given[r.intn(len(given))]
	}
	it.Name = name

	// Aged 18–65 during the period.
	first, last := g.period.FirstDay().Time(), g.period.LastDay().Time()
	oldest := first.AddDate(-65, 0, 0)
	youngest := last.AddDate(-18, 0, 0)
	birth := oldest.AddDate(0, 0, r.intn(int(youngest.Sub(oldest).Hours()/24)+1))
	it.BirthDate = declaration.DateOf(birth)

	it.TAJ = hunid.TAJFromSerial(g.tajStart + uint64(i)*tajStride)
	for {
		id := hunid.NewAdoazonosito(r.p, birth)
		if _, dup := g.usedTaxIDs[id]; !dup {
			g.usedTaxIDs[id] = struct{}{}
			it.TaxID = id
			break
		}
	}

	// Employment: most started years ago (not before 18), one in ten this month; one in twelve ends
	// within the period. Every employment overlaps the period.
	adult := birth.AddDate(18, 0, 0)
	var from time.Time
	if r.intn(10) == 0 {
		from = first.AddDate(0, 0, r.intn(int(last.Sub(first).Hours()/24)+1))
	} else {
		span := int(first.Sub(adult).Hours() / 24)
		if span < 1 {
			span = 1
		}
		from = first.AddDate(0, 0, -r.intn(span))
	}
	if from.Before(adult) {
		from = adult
	}
	it.EmploymentFrom = declaration.DateOf(from)
	it.EmploymentTo = nil
	if r.intn(12) == 0 {
		lo := from
		if lo.Before(first) {
			lo = first
		}
		to := declaration.DateOf(lo.AddDate(0, 0, r.intn(int(last.Sub(lo).Hours()/24)+1)))
		it.EmploymentTo = &to
	}

	// Monthly contribution base 180,000–1,200,000 Ft, skewed towards lower earnings.
	u := r.intn(1_000_001)
	it.Base = 180_000 + int64(u)*int64(u)/1_000_000*1_020_000/1_000_000
	it.MemberContribution = (it.Base*MemberRatePercent + 50) / 100
	// One in three employers' members get a supplement of 1–3 % of the base, in hundreds of forints.
	it.Supplement = 0
	if r.intn(3) == 0 {
		pct := int64(r.between(1, 3))
		it.Supplement = (it.Base * pct / 100) / 100 * 100
	}
}
