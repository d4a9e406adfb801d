// Package declaration is the typed model of the contribution declaration (tagdíjbevallás, bevallas.xml,
// SPEC §5): reading it from bytes that first passed the hardened parser and the XML Schema, writing it as
// schema-valid UTF-8, and checking its content rules (Check), which report the D codes of SPEC §7.
//
// Amounts are whole forints held in int64. The schema bounds an item's amount below 10¹¹ and the item
// count at 10⁶, so no sum computed here can overflow; Check enforces the same bounds on declarations built
// in code.
package declaration

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Namespace is the declaration's XML namespace; Version the only document version this package writes
// and reads.
const (
	Namespace = "urn:x-mnyp:tagdijbevallas:1"
	Version   = "1.0"
)

// Limits the schema imposes, repeated for declarations built in code.
const (
	MaxItems      = 1_000_000
	MaxItemAmount = 99_999_999_999
)

// Type is the declaration's kind (SPEC §2 cs:Tipus).
type Type string

// The declaration types.
const (
	Normal       Type = "B" // bevallás: the first declaration for a period
	SelfRevision Type = "O" // önellenőrzés: the declarant revises an earlier declaration
	Correction   Type = "H" // helyesbítés: a correction requested by the fund
)

// Valid reports whether t is one of B, O, H.
func (t Type) Valid() bool { return t == Normal || t == SelfRevision || t == Correction }

// Label names t in Hungarian and English.
func (t Type) Label() string {
	switch t {
	case Normal:
		return "B – bevallás / normal"
	case SelfRevision:
		return "O – önellenőrzés / self-revision"
	case Correction:
		return "H – helyesbítés / correction"
	}
	return string(t)
}

// IDType says which identifier names the declarant.
type IDType string

// The declarant identifier types of the schema.
const (
	IDAdoszam      IDType = "adoszam"      // tax number (8-digit core or 11 digits)
	IDAdoazonosito IDType = "adoazonosito" // personal tax id (10 digits)
	IDTAJ          IDType = "taj"          // TAJ number (9 digits)
)

// Label names t in Hungarian and English.
func (t IDType) Label() string {
	switch t {
	case IDAdoszam:
		return "adószám / tax number"
	case IDAdoazonosito:
		return "adóazonosító jel / tax id"
	case IDTAJ:
		return "TAJ szám / social security no."
	}
	return string(t)
}

// Declaration is one bevallas.xml. The zero value is not a valid declaration; build one with the synth
// package or fill every field. Items are in document order.
type Declaration struct {
	XMLName   xml.Name  `xml:"urn:x-mnyp:tagdijbevallas:1 Bevallas"`
	Version   string    `xml:"verzio,attr"`
	Header    Header    `xml:"Fejlec"`
	Declarant Declarant `xml:"Bevallo"`
	Fund      Fund      `xml:"Penztar"`
	Summary   Summary   `xml:"Osszesito"`
	Items     []Item    `xml:"Tetelek>Tetel"`
}

// Header is the Fejlec element.
type Header struct {
	ID            string    `xml:"Azonosito"`                   // submission UUID, lower-case
	Type          Type      `xml:"Tipus"`                       // B, O or H
	PredecessorID string    `xml:"ElozmenyAzonosito,omitempty"` // O/H only: the declaration revised
	Period        Period    `xml:"Idoszak"`                     // the month declared
	Created       time.Time `xml:"Letrehozva"`                  // when the declaration was assembled
	Program       Program   `xml:"Program"`                     // the software that assembled it
}

// Program names the software that produced the declaration.
type Program struct {
	Name    string `xml:"Nev"`
	Version string `xml:"Verzio"`
}

// Declarant is the Bevallo element: the employer filing the declaration.
type Declarant struct {
	Name    string      `xml:"Nev"`
	ID      DeclarantID `xml:"Azonosito"`
	Address Address     `xml:"Cim"`
}

// DeclarantID is the declarant's identifier: digits only (an adószám without hyphens).
type DeclarantID struct {
	Type  IDType `xml:"tipus,attr"`
	Value string `xml:",chardata"`
}

// Address is a Hungarian postal address.
type Address struct {
	PostalCode string `xml:"Iranyitoszam"`
	City       string `xml:"Telepules"`
	Street     string `xml:"KozteruletHazszam"` // street, public-space type and house number
}

// String formats a in the Hungarian order "1111 Budapest, Minta utca 1.".
func (a Address) String() string { return a.PostalCode + " " + a.City + ", " + a.Street }

// Fund is the Penztar element: the pension fund the declaration is for.
type Fund struct {
	Code string `xml:"Kod"` // 4 digits
	Name string `xml:"Nev"`
}

// Summary is the summary sheet (összesítő adatlap). Payable = MemberTotal + SupplementTotal.
type Summary struct {
	HeadCount       int64 `xml:"Letszam"`
	BaseTotal       int64 `xml:"JarulekalapOsszesen"`
	MemberTotal     int64 `xml:"TagdijOsszesen"`
	SupplementTotal int64 `xml:"MunkaltatoiKiegeszitesOsszesen"`
	PayableTotal    int64 `xml:"FizetendoOsszesen"`
}

// Item is one member's row of the itemised list (tételes lista).
type Item struct {
	Row                int    `xml:"sorszam,attr"` // row number, unique in the declaration
	Name               string `xml:"Nev"`          // family name first, as in Hungarian
	BirthDate          Date   `xml:"SzuletesiDatum"`
	TAJ                string `xml:"TAJ"`
	TaxID              string `xml:"Adoazonosito"` // adóazonosító jel
	EmploymentFrom     Date   `xml:"JogviszonyKezdete"`
	EmploymentTo       *Date  `xml:"JogviszonyVege,omitempty"` // nil: still employed
	Base               int64  `xml:"Jarulekalap"`              // contribution base for the period
	MemberContribution int64  `xml:"Tagdij"`                   // member contribution withheld
	Supplement         int64  `xml:"MunkaltatoiKiegeszites"`   // employer's supplement
}

// Excerpt is a declaration with only its first items: what a view of the summary sheet and the first
// rows of the itemised list needs, kept without the rest (the sender records one when it packs, for the
// signer's preview). Count and Sums describe every item.
type Excerpt struct {
	Declaration         // Items holds the first items only
	Count       int     `json:"count"` // the number of items
	Sums        Summary `json:"sums"`  // ComputeSummary over every item
}

// Excerpt returns d with its first n items (all when n < 0 or n ≥ the count). A shorter excerpt has
// its own copy of its items, so it does not keep the rest of a large declaration alive; a complete one
// shares d's.
func (d *Declaration) Excerpt(n int) *Excerpt {
	e := &Excerpt{Declaration: *d, Count: len(d.Items), Sums: d.ComputeSummary()}
	if n >= 0 && n < len(d.Items) {
		e.Items = append([]Item(nil), d.Items[:n]...)
	}
	return e
}

// Complete reports whether the excerpt holds every item.
func (e *Excerpt) Complete() bool { return len(e.Items) == e.Count }

// ComputeSummary returns the summary sheet the items imply.
func (d *Declaration) ComputeSummary() Summary {
	var s Summary
	s.HeadCount = int64(len(d.Items))
	for i := range d.Items {
		it := &d.Items[i]
		s.BaseTotal += it.Base
		s.MemberTotal += it.MemberContribution
		s.SupplementTotal += it.Supplement
	}
	s.PayableTotal = s.MemberTotal + s.SupplementTotal
	return s
}

// Period is a calendar month, written YYYY-MM.
type Period struct {
	Year  int
	Month time.Month
}

// ParsePeriod parses "YYYY-MM" strictly (four-digit year, two-digit month 01–12).
func ParsePeriod(s string) (Period, error) {
	s = strings.TrimSpace(s)
	if len(s) != 7 || s[4] != '-' || !allDigits(s[:4]) || !allDigits(s[5:]) {
		return Period{}, fmt.Errorf("declaration: period %q is not YYYY-MM", s)
	}
	y, _ := strconv.Atoi(s[:4])
	m, _ := strconv.Atoi(s[5:])
	p := Period{Year: y, Month: time.Month(m)}
	if !p.Valid() {
		return Period{}, fmt.Errorf("declaration: period %q has no month %d", s, m)
	}
	return p, nil
}

// PeriodOf returns the month t falls in (in t's location).
func PeriodOf(t time.Time) Period { return Period{Year: t.Year(), Month: t.Month()} }

// Valid reports whether p is a real month with a four-digit year.
func (p Period) Valid() bool {
	return p.Year >= 1000 && p.Year <= 9999 && p.Month >= time.January && p.Month <= time.December
}

// Start is the period's first day, 00:00 UTC.
func (p Period) Start() time.Time { return time.Date(p.Year, p.Month, 1, 0, 0, 0, 0, time.UTC) }

// FirstDay and LastDay are the period's first and last calendar days.
func (p Period) FirstDay() Date { return Date{p.Year, p.Month, 1} }

// LastDay is the period's last calendar day.
func (p Period) LastDay() Date { return DateOf(p.Start().AddDate(0, 1, -1)) }

// Next is the following month.
func (p Period) Next() Period { return PeriodOf(p.Start().AddDate(0, 1, 0)) }

// Prev is the preceding month.
func (p Period) Prev() Period { return PeriodOf(p.Start().AddDate(0, -1, 0)) }

// String formats p as YYYY-MM.
func (p Period) String() string { return fmt.Sprintf("%04d-%02d", p.Year, int(p.Month)) }

// Compact formats p as YYYYMM, as in package names (SPEC §4).
func (p Period) Compact() string { return fmt.Sprintf("%04d%02d", p.Year, int(p.Month)) }

// MarshalText implements encoding.TextMarshaler.
func (p Period) MarshalText() ([]byte, error) {
	if !p.Valid() {
		return nil, fmt.Errorf("declaration: invalid period %d-%d", p.Year, p.Month)
	}
	return []byte(p.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Period) UnmarshalText(b []byte) error {
	v, err := ParsePeriod(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// Date is a calendar date without time zone (xs:date as the schema restricts it).
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date { return Date{t.Year(), t.Month(), t.Day()} }

// ParseDate parses "YYYY-MM-DD" strictly and rejects dates that do not exist (2023-02-29).
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	if len(s) != 10 || s[4] != '-' || s[7] != '-' || !allDigits(s[:4]) || !allDigits(s[5:7]) || !allDigits(s[8:]) {
		return Date{}, fmt.Errorf("declaration: date %q is not YYYY-MM-DD", s)
	}
	y, _ := strconv.Atoi(s[:4])
	m, _ := strconv.Atoi(s[5:7])
	dd, _ := strconv.Atoi(s[8:])
	d := Date{y, time.Month(m), dd}
	if !d.Valid() {
		return Date{}, fmt.Errorf("declaration: date %q does not exist", s)
	}
	return d, nil
}

// Valid reports whether d is a real calendar date with a four-digit year.
func (d Date) Valid() bool {
	if d.Year < 1000 || d.Year > 9999 || d.Month < 1 || d.Month > 12 || d.Day < 1 {
		return false
	}
	return DateOf(d.Time()) == d
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Time is d at 00:00 UTC.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// Before reports whether d is strictly earlier than e.
func (d Date) Before(e Date) bool { return d.Time().Before(e.Time()) }

// After reports whether d is strictly later than e.
func (d Date) After(e Date) bool { return d.Time().After(e.Time()) }

// String formats d as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// MarshalText implements encoding.TextMarshaler. The zero Date (an absent optional date, such as an
// open-ended validity) is the empty text.
func (d Date) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return []byte{}, nil
	}
	if !d.Valid() {
		return nil, fmt.Errorf("declaration: invalid date %04d-%02d-%02d", d.Year, int(d.Month), d.Day)
	}
	return []byte(d.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; the empty text is the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}
