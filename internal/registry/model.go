// Package registry is the fund's registry of employers registered for electronic filing and of the
// people who may sign for them (SPEC §5 "Registration", §6 "Signer rules", RCV-06…RCV-12, SEC-16).
//
// It has four parts, none of which does network or SQL I/O itself:
//
//   - the model of the registration sheet (bejelentkezési adatlap, schema/bejelentkezes.xsd, namespace
//     urn:x-mnyp:bejelentkezes:1): Sheet and its parts;
//   - reading and writing that sheet: Decode (hardened libxml2 parse, the XSD, then the rules the XSD
//     cannot express, see Sheet.Check) and Encode (schema-valid UTF-8, only for a sheet that passes
//     Check);
//   - the signer rules of SPEC §6: Evaluate turns the sheet in force, the package's declarant, fund,
//     period and arrival, and the verified signatures into a Decision (B001–B005 findings, and for each
//     signature the registered signer it matched and that signer's role);
//   - the Store interface the registry commands and the receiver's intake use, with NewMemStore (an
//     in-memory Store) and, in registrytest, the conformance suite every backend must pass.
//
// # Time
//
// The sheet's dates (BenyujtasDatuma, ErvenyesTol, ErvenyesIg, Visszavonas/Datum) are calendar dates
// without a zone. They are read as dates in Hungarian local time (LocalZone, Europe/Budapest): an
// instant t is on date d when t.In(Europe/Budapest) falls on d, so each day runs from 00:00:00 to
// 24:00:00 exclusive local time (23 or 25 hours on the daylight-saving change days). ErvenyesTol and
// ErvenyesIg are inclusive: a signer with ErvenyesTol 2026-01-01 and ErvenyesIg 2026-12-31 may sign from
// 2025-12-31T23:00:00Z to 2026-12-31T22:59:59.999999999Z. A withdrawal dated d takes effect at the start
// of d: d is the first day the declarant is no longer registered. LocalDate applies this rule; every
// Store backend must use it too.
//
// # Certificates
//
// A registered signer's certificate is identified (CertID) by issuer DN and serial number, optionally
// with the SHA-256 of its DER bytes, or by the SHA-256 alone; every part given must match. The issuer
// DN is compared with props.NameMatches (RFC 4514 string against the certificate's DER issuer, RDN by
// RDN, values case-insensitively after white-space folding), the serial as an integer. Issuer and
// serial identify a certificate only among certificates whose chain the caller verified to an accepted
// CA (A003): Evaluate trusts its caller for that.
package registry

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"fmt"
	"strings"
	"sync"
	"time"

	_ "time/tzdata" // LocalZone must load on hosts without a zoneinfo database

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/hunid"
	"github.com/tagdij/tagdij/internal/xades/props"
)

// Namespace is the registration sheet's XML namespace (schema.Namespace(schema.Registration)).
const Namespace = "urn:x-mnyp:bejelentkezes:1"

// LocalZone is the zone in which the sheet's calendar dates are read (see the package documentation).
const LocalZone = "Europe/Budapest"

// Bounds of bejelentkezes.xsd, repeated so that a sheet built in code is checked before it is written.
const (
	MaxSigners      = 64   // Alairok/Alairo
	MaxNameChars    = 200  // Nev: names, settlements, streets, contact address; after white-space collapse
	MaxDNChars      = 2048 // Tanusitvany/KiadoDN
	MaxSerialDigits = 50   // Tanusitvany/Sorozatszam, decimal
	MaxRefChars     = 64   // Alairo/@azonosito, Tarsalairo, Helyettes
	MaxEmailChars   = 254  // Kapcsolattarto/Email
	MaxReasonChars  = 4000 // Visszavonas/Indoklas
)

// MaxBytes is the largest sheet Decode reads. A schema-valid sheet with 64 signers, each with a
// 2048-character DN in four-byte UTF-8, and a large certificate stays well below it.
const MaxBytes = 4 << 20

// Sheet is one registration data sheet (bejelentkezési adatlap, annex 5.5). A Sheet that passes Check
// is exactly what Encode writes and Decode reads back. Field comments give the XML names.
type Sheet struct {
	ID          string             // Azonosito: UUID of this sheet, lower case; a later sheet supersedes it
	Declarant   Declarant          // Bevallo
	Fund        string             // Penztar: 4-digit fund code
	FirstPeriod declaration.Period // ElsoIdoszak: the first period filed electronically
	Filed       declaration.Date   // BenyujtasDatuma: the date the sheet was filed with the fund
	Contact     Contact            // Kapcsolattarto
	// EncryptionCert is TitkositoTanusitvany: the DER of the declarant's encryption certificate, the
	// second recipient of every package's EnvelopedData (SND-18).
	EncryptionCert []byte
	Signers        []Signer    // Alairok/Alairo, 1 to MaxSigners, in document order
	Withdrawal     *Withdrawal // Visszavonas; nil while the registration stands
}

// Declarant is the sheet's Bevallo: the employer registered for electronic filing.
type Declarant struct {
	IDType  declaration.IDType // @azonositoTipus: adoszam, adoazonosito or taj
	ID      string             // @azonosito: digits only
	Name    string             // @nev, white space collapsed
	Address Address            // Cim: the seat
}

// Address is a Hungarian postal address (Cim of Bevallo).
type Address struct {
	PostalCode string // Iranyitoszam: four digits, not starting with 0
	City       string // Telepules, white space collapsed
	Street     string // Kozterulet: street and number, white space collapsed
}

// Contact is Kapcsolattarto: name, phone and an e-mail address or a postal address (or both).
type Contact struct {
	Name    string // Nev, white space collapsed
	Phone   string // Telefon
	Email   string // Email; "" when absent
	Address string // Cim: one-line postal address, white space collapsed; "" when absent
}

// Role is a signer's representation right (RCV-08), or NotRegistered for a signature no registered
// signer made. The values are the strings of nyugta.xsd's role, so receipt.Role(r) converts.
type Role string

// The roles.
const (
	Alone         Role = "ONALLO"          // önálló: may sign alone
	Jointly       Role = "EGYUTTES"        // együttes: signs only together with the co-signer
	NotRegistered Role = "NEM_REGISZTRALT" // the signature's certificate is no registered signer's
)

// Signer is one Alairo: a person who may sign for the declarant.
type Signer struct {
	ID        string // @azonosito: local to the sheet, the target of CoSigner and Deputy
	Name      string // Nev, white space collapsed
	Cert      CertID // Tanusitvany
	Role      Role   // Szerep: Alone or Jointly
	Mandatory bool   // Kotelezo: this signer's valid signature is required in every package (RCV-10)
	CoSigner  string // Tarsalairo: local id; set exactly when Role is Jointly (RCV-11, logical AND)
	Deputy    string // Helyettes: local id; "" for none (RCV-12, logical OR)
	// ValidFrom and ValidTo (ErvenyesTol, ErvenyesIg) bound, inclusively and in LocalZone, the days on
	// which this signer may sign. A zero ValidTo means no end.
	ValidFrom declaration.Date
	ValidTo   declaration.Date
}

// CertID identifies a certificate (TanusitvanyAzonositoTipus): IssuerDN and Serial together, optionally
// with SHA256; or SHA256 alone. Matches states how a certificate is compared.
type CertID struct {
	IssuerDN string // KiadoDN: RFC 4514 string; "" when only SHA256 is given
	Serial   string // Sorozatszam: decimal without sign or leading zeros; "" exactly when IssuerDN is ""
	SHA256   []byte // SHA256: 32 bytes over the certificate's DER; nil when absent
}

// Withdrawal is Visszavonas: the registration ends at the start of Date (LocalZone), for Reason.
type Withdrawal struct {
	Date   declaration.Date // Datum: the first day the declarant is no longer registered
	Reason string           // Indoklas: free text, kept as written
}

// Matches reports whether cert is the certificate c identifies: when c has an issuer and serial, the
// serial equals cert's and the issuer DN string denotes cert's DER issuer (props.NameMatches); when c
// has a SHA-256, it equals the SHA-256 of cert.Raw. Every part present must match, and a CertID with
// neither part matches nothing. A nil cert matches nothing.
func (c CertID) Matches(cert *x509.Certificate) bool {
	if cert == nil || (c.IssuerDN == "" && len(c.SHA256) == 0) {
		return false
	}
	if len(c.SHA256) != 0 {
		sum := sha256.Sum256(cert.Raw)
		if subtle.ConstantTimeCompare(sum[:], c.SHA256) != 1 {
			return false
		}
	}
	if c.IssuerDN != "" {
		if cert.SerialNumber == nil || cert.SerialNumber.Sign() < 0 || cert.SerialNumber.String() != c.Serial {
			return false
		}
		if !props.NameMatches(c.IssuerDN, cert.RawIssuer) {
			return false
		}
	}
	return true
}

// String describes c for people, in neutral form.
func (c CertID) String() string {
	var parts []string
	if c.IssuerDN != "" {
		parts = append(parts, "kiadó/issuer "+c.IssuerDN, "sorozatszám/serial "+c.Serial)
	}
	if len(c.SHA256) != 0 {
		parts = append(parts, fmt.Sprintf("SHA-256 %x", c.SHA256))
	}
	return strings.Join(parts, ", ")
}

// ValidOn reports whether day is within s's validity (ValidFrom ≤ day ≤ ValidTo, ValidTo zero meaning
// no end).
func (s *Signer) ValidOn(day declaration.Date) bool {
	if day.Before(s.ValidFrom) {
		return false
	}
	return s.ValidTo.IsZero() || !day.After(s.ValidTo)
}

// Label is the signer as findings and reports name it: "Name (id)".
func (s *Signer) Label() string { return s.Name + " (" + s.ID + ")" }

// Signer returns the signer with local id id, or nil.
func (s *Sheet) Signer(id string) *Signer {
	for i := range s.Signers {
		if s.Signers[i].ID == id {
			return &s.Signers[i]
		}
	}
	return nil
}

// Key is the sheet's registry key: declarant and fund.
func (s *Sheet) Key() Key { return NewKey(s.Declarant.IDType, s.Declarant.ID, s.Fund) }

// Clone returns a deep copy of s that shares no memory with it (nil for nil).
func (s *Sheet) Clone() *Sheet {
	if s == nil {
		return nil
	}
	c := *s
	c.EncryptionCert = cloneBytes(s.EncryptionCert)
	if s.Signers != nil {
		c.Signers = make([]Signer, len(s.Signers))
		for i, sg := range s.Signers {
			sg.Cert.SHA256 = cloneBytes(sg.Cert.SHA256)
			c.Signers[i] = sg
		}
	}
	if s.Withdrawal != nil {
		w := *s.Withdrawal
		c.Withdrawal = &w
	}
	return &c
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// Key names one registration: the declarant (identifier type and identifier) and the fund. NewKey
// normalises it so that the keys of a sheet and of a package for the same declarant are equal.
type Key struct {
	IDType declaration.IDType
	ID     string
	Fund   string
}

// NewKey returns the key of declarant (idType, id) at fund. A tax number (adoszam) is reduced to its
// 8-digit core (törzsszám): the core identifies the taxpayer, while the VAT code and the territorial
// code of the 11-digit form may change, and package names carry the core (SPEC §4); "12345676-2-41",
// "12345676241" and "12345676" give the same key. Other identifiers are kept as given.
func NewKey(idType declaration.IDType, id, fund string) Key {
	if idType == declaration.IDAdoszam {
		if n, ok := hunid.NormalizeAdoszam(id); ok {
			id = n[:8]
		}
	}
	return Key{IDType: idType, ID: id, Fund: fund}
}

// String formats k as "adoszam:12345676@0123".
func (k Key) String() string { return string(k.IDType) + ":" + k.ID + "@" + k.Fund }

// LocalDate returns the calendar date of t in LocalZone, the day boundary every date of the sheet is
// read with. It fails only if the zone cannot be loaded (the time/tzdata database is embedded).
func LocalDate(t time.Time) (declaration.Date, error) {
	loc, err := localZone()
	if err != nil {
		return declaration.Date{}, err
	}
	return declaration.DateOf(t.In(loc)), nil
}

// localZone returns LocalZone. time.LoadLocation reads and decodes the zone's data on every call
// (twice per upload in the receiver's registry decision), so it is loaded once: the zone is a
// constant and the database is embedded, so the answer, success or failure, never changes.
var localZone = sync.OnceValues(func() (*time.Location, error) {
	loc, err := time.LoadLocation(LocalZone)
	if err != nil {
		return nil, fmt.Errorf("registry: loading %s: %w", LocalZone, err)
	}
	return loc, nil
})
