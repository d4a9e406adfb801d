package registry

import (
	"crypto/x509"
	"fmt"
	"time"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
)

// Submission is what Evaluate needs to know of a package besides its signatures: the signed metadata
// (cs:Bevallo, cs:Penztar, cs:Idoszak) and the arrival time the receiver records.
type Submission struct {
	Declarant Key                // NewKey(cs:Bevallo/@azonositoTipus, @azonosito, cs:Penztar)
	Period    declaration.Period // cs:Idoszak
	Arrival   time.Time          // when the receiver received the package; must not be zero
}

// Signature is one verified signature of the package, as Evaluate needs it.
type Signature struct {
	// Cert is the signer certificate (the verified SigningCertificate); nil is tolerated and matches no
	// signer.
	Cert *x509.Certificate
	// At is the time the signer's validity window is checked at. The caller passes the genTime T of the
	// signature's SignatureTimeStamp: T is attested by a trusted third party, while SigningTime is the
	// signer's own claim; SigningTime stands in only where no time-stamp exists. A zero At falls in no
	// window.
	At time.Time
	// Usable is false when the signature's validation result is TOTAL-FAILED (invalid). INDETERMINATE
	// (incomplete, e.g. TRY_LATER within the grace period) counts as usable: at the receiver every
	// signature is still incomplete.
	Usable bool
}

// Match says which registered signer made one signature.
type Match struct {
	Signature int    // index into the signatures given to Evaluate
	SignerID  string // the registered signer's local id; "" when Role is NotRegistered
	Name      string // the registered signer's name; "" when Role is NotRegistered
	Role      Role   // Alone, Jointly, or NotRegistered; receipt.Role(Role) converts for the receipt
	// Valid reports whether the signer's validity window (ErvenyesTol..ErvenyesIg) includes the
	// signature's At. A matched signer outside it is still named (with Valid false and a B005 finding).
	Valid bool
}

// Decision is the outcome of the signer rules for one package: the registry findings (B001–B005, and
// R001 if the local time zone cannot be loaded; every finding has severity E0, so any finding rejects)
// and, for every signature in the order given, the registered signer it matched. SheetID names the
// sheet the decision used ("" when there was none), so that a later change of the registry never alters
// a decision already recorded.
type Decision struct {
	SheetID  string
	Findings []errcode.Finding
	Matches  []Match
}

// Accepted reports whether the registry admits the package: no finding of severity E0.
func (d Decision) Accepted() bool {
	for _, f := range d.Findings {
		if f.Severity == errcode.Error {
			return false
		}
	}
	return true
}

// Evaluate applies the signer rules of SPEC §6 (RCV-06…RCV-12) to a package. sheet is the sheet in force
// for the package's declarant and fund (Store.AsOf at the arrival), or nil when there is none; it must
// have passed Check (a Store only holds such sheets). Evaluate is a pure function of its arguments:
// it does no I/O and reads no clock.
//
// B001 (declarant not registered for the period), and nothing else, is found when: sheet is nil; the
// sheet's key differs from sub.Declarant (another declarant or fund); sub.Period is invalid or before
// the sheet's ElsoIdoszak; the sheet is withdrawn on or before the first day of sub.Period or on or
// before the arrival day (LocalDate(sub.Arrival) ≥ withdrawal date). Every
// signature then matches NotRegistered.
//
// Otherwise each signature is matched against the registered signers (CertID.Matches). A certificate
// may be registered for several signers (the same person with successive validity windows, or
// roles): a signature matches the first such signer, in sheet order, whose window includes LocalDate(At),
// or if none does, the first one at all. signed(S) holds when a usable signature matches S within S's
// window. Then
//
//	ok(S) = (signed(S) ∧ (no cosigner(S) ∨ signed(cosigner(S)))) ∨ (deputy(S) ∧ ok(deputy(S)))
//
// is evaluated by following S's deputy chain with a visited set, so it terminates even on a deputy cycle
// (which Check refuses anyway). Findings:
//
//   - B002 for each usable signature whose certificate no signer of the sheet has;
//   - B005 for each usable signature whose signer(s) are registered but none is valid on LocalDate(At);
//     such a signature counts as not signed;
//   - for each mandatory signer S that is not ok and whose window includes the arrival day (a mandatory
//     signer before or after its window is not required): B004 at the first signer on S's deputy chain
//     that signed but whose co-signer did not (the co-signer is missing), or else B003 at S;
//   - when no signer at all is ok: B004 at the first signer (sheet order) that signed but lacks its
//     co-signer's signature, unless already reported, or else B003 ("no registered signer's valid
//     signature").
//
// Unusable (TOTAL-FAILED) signatures are matched for the record but give no B002/B005 finding (their
// certificate is not proven to be the signer's; the package is rejected for the A finding anyway) and
// never count as signed. A jointly signer's lone signature on a package that is otherwise ok gives no
// finding: SPEC §6 admits the package.
func Evaluate(sheet *Sheet, sub Submission, sigs []Signature) Decision {
	var d Decision
	d.Matches = make([]Match, len(sigs))
	for i := range sigs {
		d.Matches[i] = Match{Signature: i, Role: NotRegistered}
	}
	if sheet == nil {
		d.Findings = append(d.Findings, errcode.New(errcode.B001, sub.Declarant.String(),
			"nincs bejelentkezési adatlap / no registration sheet"))
		return d
	}
	d.SheetID = sheet.ID
	loc, err := localZone()
	if err != nil {
		d.Findings = append(d.Findings, errcode.New(errcode.R001, "", err.Error()))
		return d
	}
	arrival := declaration.DateOf(sub.Arrival.In(loc))
	if f, bad := notRegistered(sheet, sub, arrival); bad {
		d.Findings = append(d.Findings, f)
		return d
	}

	e := evaluation{sheet: sheet, loc: loc, signed: make([]bool, len(sheet.Signers))}
	for i, sig := range sigs {
		m, f := e.match(i, sig)
		d.Matches[i] = m
		if f != nil {
			d.Findings = append(d.Findings, *f)
		}
	}

	reportedB004 := make(map[int]bool)
	for i := range sheet.Signers {
		s := &sheet.Signers[i]
		if !s.Mandatory || !s.ValidOn(arrival) || e.ok(i) {
			continue
		}
		if j, ok := e.lackingCoSigner(i); ok {
			reportedB004[j] = true
			d.Findings = append(d.Findings, e.b004(j, s))
			continue
		}
		detail := "kötelező aláíró / mandatory signer"
		if s.Deputy != "" {
			detail += "; helyettese sem írta alá / nor did the deputy sign"
		}
		d.Findings = append(d.Findings, errcode.New(errcode.B003, s.Label(), detail))
	}
	anyOK := false
	for i := range sheet.Signers {
		if e.ok(i) {
			anyOK = true
			break
		}
	}
	if !anyOK {
		found := false
		for j := range sheet.Signers {
			if e.signed[j] && !e.coSigned(j) {
				found = true
				if !reportedB004[j] {
					d.Findings = append(d.Findings, e.b004(j, nil))
				}
				break
			}
		}
		if !found {
			d.Findings = append(d.Findings, errcode.New(errcode.B003, sub.Declarant.String(),
				"egyetlen bejelentett aláíró érvényes aláírása sincs / no registered signer's valid signature"))
		}
	}
	return d
}

// notRegistered returns the B001 finding when the sheet does not register the declarant for the period
// at the arrival day.
func notRegistered(sheet *Sheet, sub Submission, arrival declaration.Date) (errcode.Finding, bool) {
	loc := sub.Declarant.String()
	b001 := func(detail string) (errcode.Finding, bool) { return errcode.New(errcode.B001, loc, detail), true }
	switch {
	case sheet.Key() != sub.Declarant:
		return b001("az adatlap más bevallóé vagy pénztáré / the sheet is another declarant's or fund's: " + sheet.Key().String())
	case sub.Arrival.IsZero():
		return b001("hiányzó érkezési idő / arrival time missing")
	case !sub.Period.Valid():
		return b001("érvénytelen időszak / invalid period")
	case arrival.Before(sheet.Filed):
		return b001("az adatlapot az érkezés után nyújtották be / the sheet was filed after the arrival: " + sheet.Filed.String())
	case sub.Period.FirstDay().Before(sheet.FirstPeriod.FirstDay()):
		return b001(fmt.Sprintf("az időszak (%s) korábbi az első elektronikus időszaknál (%s) / the period (%s) is before the first e-filed period (%s)",
			sub.Period, sheet.FirstPeriod, sub.Period, sheet.FirstPeriod))
	}
	if w := sheet.Withdrawal; w != nil {
		if !w.Date.After(sub.Period.FirstDay()) {
			return b001(fmt.Sprintf("a bejelentkezést %s hatállyal visszavonták, az időszak %s / registration withdrawn from %s, period %s",
				w.Date, sub.Period, w.Date, sub.Period))
		}
		if !w.Date.After(arrival) {
			return b001(fmt.Sprintf("a bejelentkezést %s hatállyal visszavonták, érkezés %s / registration withdrawn from %s, arrival %s",
				w.Date, arrival, w.Date, arrival))
		}
	}
	return errcode.Finding{}, false
}

// evaluation holds, for one package, which signers signed validly.
type evaluation struct {
	sheet  *Sheet
	loc    *time.Location // LocalZone
	signed []bool         // by signer index
}

// match finds the signer of one signature, marks it signed when the signature counts, and returns the
// finding the signature raises, if any.
func (e *evaluation) match(i int, sig Signature) (Match, *errcode.Finding) {
	m := Match{Signature: i, Role: NotRegistered}
	if sig.Cert == nil {
		if !sig.Usable {
			return m, nil
		}
		f := errcode.New(errcode.B002, fmt.Sprintf("aláírás/signature %d", i+1), "nincs aláíró tanúsítvány / no signer certificate")
		return m, &f
	}
	day, dayOK := declaration.Date{}, !sig.At.IsZero()
	if dayOK {
		day = declaration.DateOf(sig.At.In(e.loc))
	}
	first := -1
	for j := range e.sheet.Signers {
		s := &e.sheet.Signers[j]
		if !s.Cert.Matches(sig.Cert) {
			continue
		}
		if first < 0 {
			first = j
		}
		if dayOK && s.ValidOn(day) {
			m.SignerID, m.Name, m.Role, m.Valid = s.ID, s.Name, s.Role, true
			if sig.Usable {
				e.signed[j] = true
			}
			return m, nil
		}
	}
	if first < 0 {
		if !sig.Usable {
			return m, nil
		}
		f := errcode.New(errcode.B002, sig.Cert.Subject.String(), fmt.Sprintf("kiadó/issuer %s, sorozatszám/serial %s",
			sig.Cert.Issuer.String(), sig.Cert.SerialNumber))
		return m, &f
	}
	s := &e.sheet.Signers[first]
	m.SignerID, m.Name, m.Role = s.ID, s.Name, s.Role
	if !sig.Usable {
		return m, nil
	}
	when := "nincs időpont / no time"
	if dayOK {
		when = day.String()
	}
	to := "…"
	if !s.ValidTo.IsZero() {
		to = s.ValidTo.String()
	}
	f := errcode.New(errcode.B005, s.Label(), fmt.Sprintf("aláírás napja / signing day %s (%s), érvényes / valid %s – %s",
		when, LocalZone, s.ValidFrom, to))
	return m, &f
}

// coSigned reports whether signer j's co-signer condition holds: it has none, or the co-signer signed.
func (e *evaluation) coSigned(j int) bool {
	c := e.sheet.Signers[j].CoSigner
	if c == "" {
		return true
	}
	k := e.index(c)
	return k >= 0 && e.signed[k]
}

// ok evaluates ok(S) for signer i along its deputy chain; the visited set makes it terminate on cycles.
func (e *evaluation) ok(i int) bool {
	visited := make(map[int]bool)
	for j := i; j >= 0 && !visited[j]; j = e.index(e.sheet.Signers[j].Deputy) {
		visited[j] = true
		if e.signed[j] && e.coSigned(j) {
			return true
		}
	}
	return false
}

// lackingCoSigner returns the first signer on i's deputy chain that signed but whose co-signer did not.
func (e *evaluation) lackingCoSigner(i int) (int, bool) {
	visited := make(map[int]bool)
	for j := i; j >= 0 && !visited[j]; j = e.index(e.sheet.Signers[j].Deputy) {
		visited[j] = true
		if e.signed[j] && !e.coSigned(j) {
			return j, true
		}
	}
	return -1, false
}

// b004 is the finding for signer j lacking its co-signer; forSigner is the mandatory signer j stood for,
// or nil.
func (e *evaluation) b004(j int, forSigner *Signer) errcode.Finding {
	s := &e.sheet.Signers[j]
	co := s.CoSigner
	if k := e.index(co); k >= 0 {
		co = e.sheet.Signers[k].Label()
	}
	detail := "társaláíró / co-signer: " + co
	if forSigner != nil && forSigner.ID != s.ID {
		detail += "; helyettesként / as deputy of " + forSigner.Label()
	}
	return errcode.New(errcode.B004, s.Label(), detail)
}

// index returns the index of the signer with local id id, or -1 ("" included).
func (e *evaluation) index(id string) int {
	if id == "" {
		return -1
	}
	for j := range e.sheet.Signers {
		if e.sheet.Signers[j].ID == id {
			return j
		}
	}
	return -1
}
