package registry

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
)

// testPKI is a CA and the certificates of the people in evalSheet, made with crypto/x509.
type testPKI struct {
	caName pkix.Name
	certs  map[string]*x509.Certificate // by person: ceo, d1, d2, fin, dep, boss, x, stranger, impostor, twin
}

func newCA(t *testing.T, name pkix.Name) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: name, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:  x509.KeyUsageCertSign,
		NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

func issue(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, serial int64, cn string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, Country: []string{"HU"}},
		KeyUsage:  x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		NotBefore: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newTestPKI(t *testing.T) *testPKI {
	name := pkix.Name{CommonName: "Teszt Minősített CA", Organization: []string{"Teszt Bizalmi Zrt."}, Country: []string{"HU"}}
	ca, caKey := newCA(t, name)
	other, otherKey := newCA(t, pkix.Name{CommonName: "Másik CA", Country: []string{"HU"}})
	p := &testPKI{caName: name, certs: map[string]*x509.Certificate{}}
	for i, who := range []string{"ceo", "d1", "d2", "fin", "dep", "boss", "x", "stranger"} {
		p.certs[who] = issue(t, ca, caKey, int64(1000+i), who)
	}
	// The impostor has the CEO's serial and name, from another CA.
	p.certs["impostor"] = issue(t, other, otherKey, 1000, "ceo")
	// The twin has d2's issuer and serial but is another certificate (d2 is registered with its
	// SHA-256 too). A CA never issues two certificates with one serial; this stands for a forgery.
	p.certs["twin"] = issue(t, ca, caKey, 1002, "d2")
	return p
}

func (p *testPKI) sha(who string) []byte {
	s := sha256.Sum256(p.certs[who].Raw)
	return s[:]
}

// evalSheet is the registration the Evaluate tests start from (each case may change it):
//
//	ceo   alone, identified by issuer (spelled differently from the DER) and serial
//	d1    jointly with d2, by SHA-256
//	d2    jointly with d1, by issuer, serial and SHA-256
//	fin   alone, deputy dep, valid 2026-01-01 … 2026-12-31
//	dep   alone, valid 2026-03-01 … 2026-06-30
//	boss  alone, deputy d1
//
// Nobody is mandatory unless a case says so.
func evalSheet(t *testing.T, p *testPKI) *Sheet {
	s := &Sheet{
		ID:        "5f0c2a8e-3b1d-4c6e-9f7a-0123456789ab",
		Declarant: Declarant{IDType: declaration.IDAdoszam, ID: "12345676241", Name: "Mintaker Kft.", Address: Address{PostalCode: "6720", City: "Szeged", Street: "Kárász utca 1."}},
		Fund:      "0123", FirstPeriod: declaration.Period{Year: 2026, Month: time.January}, Filed: d(2025, 12, 15),
		Contact:        Contact{Name: "Kovács Éva", Phone: "+36 62 123 456", Email: "ber@mintaker.example"},
		EncryptionCert: p.certs["stranger"].Raw,
		Signers: []Signer{
			{ID: "ceo", Name: "Nagy János", Role: Alone, ValidFrom: d(2026, 1, 1),
				Cert: CertID{IssuerDN: "2.5.4.3=teszt minősített CA, o=TESZT  Bizalmi Zrt., c=hu", Serial: "1000"}},
			{ID: "d1", Name: "Kiss Anna", Role: Jointly, CoSigner: "d2", ValidFrom: d(2026, 1, 1), Cert: CertID{SHA256: p.sha("d1")}},
			{ID: "d2", Name: "Tóth Béla", Role: Jointly, CoSigner: "d1", ValidFrom: d(2026, 1, 1),
				Cert: CertID{IssuerDN: "CN=Teszt Minősített CA,O=Teszt Bizalmi Zrt.,C=HU", Serial: "1002", SHA256: p.sha("d2")}},
			{ID: "fin", Name: "Varga Zsófia", Role: Alone, Deputy: "dep", ValidFrom: d(2026, 1, 1), ValidTo: d(2026, 12, 31), Cert: CertID{SHA256: p.sha("fin")}},
			{ID: "dep", Name: "Szabó Péter", Role: Alone, ValidFrom: d(2026, 3, 1), ValidTo: d(2026, 6, 30), Cert: CertID{SHA256: p.sha("dep")}},
			{ID: "boss", Name: "Fekete Ilona", Role: Alone, Deputy: "d1", ValidFrom: d(2026, 1, 1), Cert: CertID{SHA256: p.sha("boss")}},
		},
	}
	if err := s.Check(); err != nil {
		t.Fatalf("evalSheet: %v", err)
	}
	return s
}

func mandatory(ids ...string) func(*Sheet) {
	return func(s *Sheet) {
		for _, id := range ids {
			s.Signer(id).Mandatory = true
		}
	}
}

// want is one expected finding: code and location.
type want struct {
	code errcode.Code
	loc  string
}

// wantMatch is one expected match: signer id and role ("" and NotRegistered for none), and Valid.
type wantMatch struct {
	id    string
	role  Role
	valid bool
}

func TestEvaluate(t *testing.T) {
	p := newTestPKI(t)
	key := NewKey(declaration.IDAdoszam, "12345676", "0123")
	arrival := time.Date(2026, 4, 10, 10, 0, 0, 0, time.UTC)
	at := time.Date(2026, 4, 10, 9, 0, 0, 0, time.UTC)
	march := declaration.Period{Year: 2026, Month: time.March}
	sub := Submission{Declarant: key, Period: march, Arrival: arrival}
	sig := func(who string) Signature { return Signature{Cert: p.certs[who], At: at, Usable: true} }
	sigAt := func(who string, when time.Time) Signature {
		return Signature{Cert: p.certs[who], At: when, Usable: true}
	}
	unusable := func(who string) Signature { return Signature{Cert: p.certs[who], At: at, Usable: false} }
	const (
		ceo  = "Nagy János (ceo)"
		d1   = "Kiss Anna (d1)"
		fin  = "Varga Zsófia (fin)"
		dep  = "Szabó Péter (dep)"
		boss = "Fekete Ilona (boss)"
	)
	none := wantMatch{"", NotRegistered, false}
	keyLoc := key.String()

	tests := []struct {
		name    string
		change  func(s *Sheet) // nil: evalSheet as is
		noSheet bool
		sub     *Submission // nil: sub
		sigs    []Signature
		want    []want
		matches []wantMatch
	}{
		// The rules of SPEC §6.
		{name: "alone signer signs", sigs: []Signature{sig("ceo")}, matches: []wantMatch{{"ceo", Alone, true}}},
		{name: "jointly signers both sign", sigs: []Signature{sig("d1"), sig("d2")},
			matches: []wantMatch{{"d1", Jointly, true}, {"d2", Jointly, true}}},
		{name: "jointly signer without co-signer", sigs: []Signature{sig("d1")},
			want: []want{{errcode.B004, d1}}, matches: []wantMatch{{"d1", Jointly, true}}},
		{name: "jointly signer alone beside an alone signer", sigs: []Signature{sig("ceo"), sig("d1")},
			matches: []wantMatch{{"ceo", Alone, true}, {"d1", Jointly, true}}},
		{name: "mandatory signer signs", change: mandatory("fin"), sigs: []Signature{sig("fin")},
			matches: []wantMatch{{"fin", Alone, true}}},
		{name: "mandatory signer missing", change: mandatory("fin"), sigs: []Signature{sig("ceo")},
			want: []want{{errcode.B003, fin}}, matches: []wantMatch{{"ceo", Alone, true}}},
		{name: "two mandatory signers, one missing", change: mandatory("fin", "ceo"), sigs: []Signature{sig("fin")},
			want: []want{{errcode.B003, ceo}}, matches: []wantMatch{{"fin", Alone, true}}},
		{name: "deputy stands in for a mandatory signer", change: mandatory("fin"), sigs: []Signature{sig("dep")},
			matches: []wantMatch{{"dep", Alone, true}}},
		{name: "deputy outside its window cannot stand in", change: mandatory("fin"),
			sigs:    []Signature{sig("ceo"), sigAt("dep", time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC))},
			want:    []want{{errcode.B005, dep}, {errcode.B003, fin}},
			matches: []wantMatch{{"ceo", Alone, true}, {"dep", Alone, false}}},
		{name: "deputy of a mandatory signer is jointly and its co-signer signed", change: mandatory("boss"),
			sigs: []Signature{sig("d1"), sig("d2")}, matches: []wantMatch{{"d1", Jointly, true}, {"d2", Jointly, true}}},
		{name: "deputy of a mandatory signer is jointly and its co-signer did not sign", change: mandatory("boss"),
			sigs: []Signature{sig("d1")}, want: []want{{errcode.B004, d1}}, matches: []wantMatch{{"d1", Jointly, true}}},
		{name: "mandatory jointly signer without co-signer", change: mandatory("d1"), sigs: []Signature{sig("ceo"), sig("d1")},
			want: []want{{errcode.B004, d1}}, matches: []wantMatch{{"ceo", Alone, true}, {"d1", Jointly, true}}},
		{name: "mandatory signer not required after its window", change: mandatory("fin"),
			sub:  &Submission{Declarant: key, Period: declaration.Period{Year: 2026, Month: time.December}, Arrival: time.Date(2027, 1, 5, 9, 0, 0, 0, time.UTC)},
			sigs: []Signature{sigAt("ceo", time.Date(2027, 1, 5, 8, 0, 0, 0, time.UTC))}, matches: []wantMatch{{"ceo", Alone, true}}},
		{name: "no signatures", sigs: nil, want: []want{{errcode.B003, keyLoc}}, matches: []wantMatch{}},

		// B002: certificates not registered for the declarant.
		{name: "unregistered signer beside a valid one", sigs: []Signature{sig("ceo"), sig("stranger")},
			want: []want{{errcode.B002, p.certs["stranger"].Subject.String()}}, matches: []wantMatch{{"ceo", Alone, true}, none}},
		{name: "unregistered signer only", sigs: []Signature{sig("stranger")},
			want: []want{{errcode.B002, p.certs["stranger"].Subject.String()}, {errcode.B003, keyLoc}}, matches: []wantMatch{none}},
		{name: "same serial and subject from another CA", sigs: []Signature{sig("impostor")},
			want: []want{{errcode.B002, p.certs["impostor"].Subject.String()}, {errcode.B003, keyLoc}}, matches: []wantMatch{none}},
		{name: "issuer and serial right but SHA-256 differs", sigs: []Signature{sig("d1"), sig("twin")},
			want:    []want{{errcode.B002, p.certs["twin"].Subject.String()}, {errcode.B004, d1}},
			matches: []wantMatch{{"d1", Jointly, true}, none}},
		{name: "usable signature without certificate", sigs: []Signature{sig("ceo"), {At: at, Usable: true}},
			want: []want{{errcode.B002, "aláírás/signature 2"}}, matches: []wantMatch{{"ceo", Alone, true}, none}},

		// Unusable (TOTAL-FAILED) signatures never count and raise no registry finding of their own.
		{name: "unusable signature of the only signer", sigs: []Signature{unusable("ceo")},
			want: []want{{errcode.B003, keyLoc}}, matches: []wantMatch{{"ceo", Alone, true}}},
		{name: "unusable unregistered signature", sigs: []Signature{sig("ceo"), unusable("stranger"), {At: at}},
			matches: []wantMatch{{"ceo", Alone, true}, none, none}},
		{name: "unusable co-signature", sigs: []Signature{sig("d1"), unusable("d2")},
			want: []want{{errcode.B004, d1}}, matches: []wantMatch{{"d1", Jointly, true}, {"d2", Jointly, true}}},

		// B005 and the day boundary (dates are Europe/Budapest calendar days, inclusive).
		{name: "signed on the last day before ErvenyesTol", sigs: []Signature{sigAt("ceo", time.Date(2025, 12, 31, 22, 59, 59, 0, time.UTC))},
			want: []want{{errcode.B005, ceo}, {errcode.B003, keyLoc}}, matches: []wantMatch{{"ceo", Alone, false}}},
		{name: "signed at 00:00 Budapest on ErvenyesTol", sigs: []Signature{sigAt("ceo", time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC))},
			matches: []wantMatch{{"ceo", Alone, true}}},
		{name: "signed in the last second of ErvenyesIg (CET)",
			sub:  &Submission{Declarant: key, Period: declaration.Period{Year: 2026, Month: time.December}, Arrival: time.Date(2027, 1, 2, 9, 0, 0, 0, time.UTC)},
			sigs: []Signature{sigAt("fin", time.Date(2026, 12, 31, 22, 59, 59, 0, time.UTC))}, matches: []wantMatch{{"fin", Alone, true}}},
		{name: "signed at 00:00 Budapest after ErvenyesIg",
			sub:     &Submission{Declarant: key, Period: declaration.Period{Year: 2026, Month: time.December}, Arrival: time.Date(2027, 1, 2, 9, 0, 0, 0, time.UTC)},
			sigs:    []Signature{sigAt("fin", time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC))},
			want:    []want{{errcode.B005, fin}, {errcode.B003, keyLoc}},
			matches: []wantMatch{{"fin", Alone, false}}},
		{name: "deputy signs at 00:00 CEST after its ErvenyesIg", change: mandatory("fin"),
			sigs:    []Signature{sigAt("dep", time.Date(2026, 6, 30, 22, 0, 0, 0, time.UTC))},
			want:    []want{{errcode.B005, dep}, {errcode.B003, fin}, {errcode.B003, keyLoc}},
			matches: []wantMatch{{"dep", Alone, false}}},
		{name: "deputy signs in the last second of its ErvenyesIg (CEST)", change: mandatory("fin"),
			sigs: []Signature{sigAt("dep", time.Date(2026, 6, 30, 21, 59, 59, 0, time.UTC))}, matches: []wantMatch{{"dep", Alone, true}}},
		{name: "signer outside validity beside a valid one", sigs: []Signature{sig("ceo"), sigAt("dep", time.Date(2026, 2, 27, 12, 0, 0, 0, time.UTC))},
			want: []want{{errcode.B005, dep}}, matches: []wantMatch{{"ceo", Alone, true}, {"dep", Alone, false}}},
		{name: "no signing time", sigs: []Signature{{Cert: p.certs["ceo"], Usable: true}},
			want: []want{{errcode.B005, ceo}, {errcode.B003, keyLoc}}, matches: []wantMatch{{"ceo", Alone, false}}},
		{name: "one certificate, two registrations: the one valid at signing time counts",
			change: func(s *Sheet) {
				s.Signers = append(s.Signers,
					Signer{ID: "x.old", Name: "Kis Xénia", Role: Jointly, CoSigner: "d2", ValidFrom: d(2026, 1, 1), ValidTo: d(2026, 3, 31), Cert: CertID{SHA256: p.sha("x")}},
					Signer{ID: "x.new", Name: "Kis Xénia", Role: Alone, ValidFrom: d(2026, 4, 1), Cert: CertID{SHA256: p.sha("x")}})
			},
			sigs: []Signature{sig("x")}, matches: []wantMatch{{"x.new", Alone, true}}},
		{name: "one certificate, two registrations: the earlier one needs its co-signer",
			change: func(s *Sheet) {
				s.Signers = append(s.Signers,
					Signer{ID: "x.old", Name: "Kis Xénia", Role: Jointly, CoSigner: "d2", ValidFrom: d(2026, 1, 1), ValidTo: d(2026, 3, 31), Cert: CertID{SHA256: p.sha("x")}},
					Signer{ID: "x.new", Name: "Kis Xénia", Role: Alone, ValidFrom: d(2026, 4, 1), Cert: CertID{SHA256: p.sha("x")}})
			},
			sigs:    []Signature{sigAt("x", time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC))},
			want:    []want{{errcode.B004, "Kis Xénia (x.old)"}},
			matches: []wantMatch{{"x.old", Jointly, true}}},

		// Cycles terminate (Check refuses them; Evaluate must not hang on a sheet that bypassed it).
		{name: "deputy cycle, nobody in it signs", change: func(s *Sheet) {
			s.Signer("dep").Deputy = "fin"
			s.Signer("fin").Mandatory = true
		}, sigs: []Signature{sig("ceo")}, want: []want{{errcode.B003, fin}}, matches: []wantMatch{{"ceo", Alone, true}}},
		{name: "deputy cycle through a jointly signer", change: func(s *Sheet) {
			s.Signer("d1").Deputy = "boss"
			s.Signer("boss").Mandatory = true
		}, sigs: []Signature{sig("d1")}, want: []want{{errcode.B004, d1}}, matches: []wantMatch{{"d1", Jointly, true}}},
		{name: "deputy cycle, one in it signs", change: func(s *Sheet) {
			s.Signer("dep").Deputy = "fin"
			s.Signer("dep").Mandatory = true
		}, sigs: []Signature{sig("fin")}, matches: []wantMatch{{"fin", Alone, true}}},
		{name: "self deputy", change: func(s *Sheet) {
			s.Signer("boss").Deputy = "boss"
			s.Signer("boss").Mandatory = true
		}, sigs: []Signature{sig("ceo")}, want: []want{{errcode.B003, boss}}, matches: []wantMatch{{"ceo", Alone, true}}},

		// B001: the declarant is not registered for the period.
		{name: "no sheet", noSheet: true, sigs: []Signature{sig("ceo")}, want: []want{{errcode.B001, keyLoc}}, matches: []wantMatch{none}},
		{name: "other fund", sub: &Submission{Declarant: NewKey(declaration.IDAdoszam, "12345676", "0456"), Period: march, Arrival: arrival},
			sigs: []Signature{sig("ceo")}, want: []want{{errcode.B001, "adoszam:12345676@0456"}}, matches: []wantMatch{none}},
		{name: "other declarant", sub: &Submission{Declarant: NewKey(declaration.IDAdoszam, "10000001", "0123"), Period: march, Arrival: arrival},
			sigs: []Signature{sig("ceo")}, want: []want{{errcode.B001, "adoszam:10000001@0123"}}, matches: []wantMatch{none}},
		{name: "11-digit tax number in the package", sub: &Submission{Declarant: NewKey(declaration.IDAdoszam, "12345676241", "0123"), Period: march, Arrival: arrival},
			sigs: []Signature{sig("ceo")}, matches: []wantMatch{{"ceo", Alone, true}}},
		{name: "period before the first e-filed period", sub: &Submission{Declarant: key, Period: declaration.Period{Year: 2025, Month: time.December}, Arrival: arrival},
			sigs: []Signature{sig("ceo")}, want: []want{{errcode.B001, keyLoc}}, matches: []wantMatch{none}},
		{name: "the first e-filed period", sub: &Submission{Declarant: key, Period: declaration.Period{Year: 2026, Month: time.January}, Arrival: arrival},
			sigs: []Signature{sig("ceo")}, matches: []wantMatch{{"ceo", Alone, true}}},
		{name: "invalid period", sub: &Submission{Declarant: key, Arrival: arrival},
			sigs: []Signature{sig("ceo")}, want: []want{{errcode.B001, keyLoc}}, matches: []wantMatch{none}},
		{name: "arrival before the sheet was filed", sub: &Submission{Declarant: key, Period: march, Arrival: time.Date(2025, 12, 14, 22, 59, 59, 0, time.UTC)},
			sigs: []Signature{sig("ceo")}, want: []want{{errcode.B001, keyLoc}}, matches: []wantMatch{none}},
		{name: "no arrival time", sub: &Submission{Declarant: key, Period: march},
			sigs: []Signature{sig("ceo")}, want: []want{{errcode.B001, keyLoc}}, matches: []wantMatch{none}},
		{name: "withdrawn from the arrival day (00:00 CEST)", change: withdraw(d(2026, 4, 10)),
			sub:  &Submission{Declarant: key, Period: march, Arrival: time.Date(2026, 4, 9, 22, 0, 0, 0, time.UTC)},
			sigs: []Signature{sig("ceo")}, want: []want{{errcode.B001, keyLoc}}, matches: []wantMatch{none}},
		{name: "withdrawn from the day after the arrival", change: withdraw(d(2026, 4, 10)),
			sub:  &Submission{Declarant: key, Period: march, Arrival: time.Date(2026, 4, 9, 21, 59, 59, 0, time.UTC)},
			sigs: []Signature{sig("ceo")}, matches: []wantMatch{{"ceo", Alone, true}}},
		{name: "withdrawn from the period's first day", change: withdraw(d(2026, 3, 1)),
			sub:  &Submission{Declarant: key, Period: march, Arrival: time.Date(2026, 2, 20, 9, 0, 0, 0, time.UTC)},
			sigs: []Signature{sig("ceo")}, want: []want{{errcode.B001, keyLoc}}, matches: []wantMatch{none}},
		{name: "withdrawn within the period, arrival before", change: withdraw(d(2026, 3, 2)),
			sub:  &Submission{Declarant: key, Period: march, Arrival: time.Date(2026, 2, 20, 9, 0, 0, 0, time.UTC)},
			sigs: []Signature{sigAt("ceo", time.Date(2026, 2, 20, 8, 0, 0, 0, time.UTC))}, matches: []wantMatch{{"ceo", Alone, true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sheet *Sheet
			if !tc.noSheet {
				sheet = evalSheet(t, p)
				if tc.change != nil {
					tc.change(sheet)
				}
			}
			s := sub
			if tc.sub != nil {
				s = *tc.sub
			}
			dec := Evaluate(sheet, s, tc.sigs)
			var got []want
			for _, f := range dec.Findings {
				got = append(got, want{f.Code, f.Location})
				if f.Severity != errcode.Error || f.HU == "" || f.EN == "" || f.HU == f.EN || f.Location == "" {
					t.Errorf("finding not complete and bilingual: %+v", f)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("findings %v, want %v\n%s", got, tc.want, findingsText(dec.Findings))
			}
			if dec.Accepted() != (len(tc.want) == 0) {
				t.Errorf("Accepted() = %v with findings %v", dec.Accepted(), got)
			}
			if len(dec.Matches) != len(tc.sigs) {
				t.Fatalf("%d matches for %d signatures", len(dec.Matches), len(tc.sigs))
			}
			for i, m := range dec.Matches {
				w := tc.matches[i]
				if m.Signature != i || m.SignerID != w.id || m.Role != w.role || m.Valid != w.valid {
					t.Errorf("match %d = %+v, want %+v", i, m, w)
				}
				if (m.Role == NotRegistered) != (m.Name == "") {
					t.Errorf("match %d: name %q with role %s", i, m.Name, m.Role)
				}
			}
			if want := ""; sheet != nil {
				want = sheet.ID
				if dec.SheetID != want {
					t.Errorf("SheetID %q, want %q", dec.SheetID, want)
				}
			} else if dec.SheetID != want {
				t.Errorf("SheetID %q without a sheet", dec.SheetID)
			}
		})
	}
}

func withdraw(from declaration.Date) func(*Sheet) {
	return func(s *Sheet) { s.Withdrawal = &Withdrawal{Date: from, Reason: "megszűnik / ceases"} }
}

func findingsText(fs []errcode.Finding) string {
	var out string
	for _, f := range fs {
		out += fmt.Sprintln(f.Error())
	}
	return out
}

// Evaluate terminates on a deputy ring through all 64 signers of a sheet (which Check refuses), and
// evaluates ok() over it correctly.
func TestEvaluateCycleOfAllSigners(t *testing.T) {
	p := newTestPKI(t)
	s := evalSheet(t, p)
	s.Signers = s.Signers[:0]
	for i := 0; i < MaxSigners; i++ {
		s.Signers = append(s.Signers, Signer{ID: fmt.Sprintf("s%d", i), Name: fmt.Sprintf("Aláíró %d", i), Role: Alone, Mandatory: true,
			Deputy: fmt.Sprintf("s%d", (i+1)%MaxSigners), ValidFrom: d(2026, 1, 1), Cert: CertID{SHA256: make([]byte, 32)}})
	}
	s.Signers[0].Cert.SHA256 = p.sha("ceo")
	if err := s.Check(); err == nil {
		t.Fatal("Check accepted a deputy cycle")
	}
	sub := Submission{Declarant: s.Key(), Period: declaration.Period{Year: 2026, Month: time.March}, Arrival: time.Date(2026, 4, 10, 10, 0, 0, 0, time.UTC)}
	dec := Evaluate(s, sub, []Signature{{Cert: p.certs["ceo"], At: time.Date(2026, 4, 10, 9, 0, 0, 0, time.UTC), Usable: true}})
	if !dec.Accepted() {
		t.Fatalf("every signer reaches s0 over the cycle, so all are ok: %s", findingsText(dec.Findings))
	}
	dec = Evaluate(s, sub, nil)
	if len(dec.Findings) != MaxSigners+1 {
		t.Fatalf("%d findings, want one B003 per mandatory signer and one overall", len(dec.Findings))
	}
}

func TestCertIDMatches(t *testing.T) {
	p := newTestPKI(t)
	ceo := p.certs["ceo"]
	tests := []struct {
		name string
		id   CertID
		cert *x509.Certificate
		ok   bool
	}{
		{"issuer and serial", CertID{IssuerDN: "CN=Teszt Minősített CA,O=Teszt Bizalmi Zrt.,C=HU", Serial: "1000"}, ceo, true},
		{"issuer spelled with OIDs, case and spaces", CertID{IssuerDN: "2.5.4.3=teszt minősített ca , O = Teszt  Bizalmi Zrt. , c=hu", Serial: "1000"}, ceo, true},
		{"SHA-256 alone", CertID{SHA256: p.sha("ceo")}, ceo, true},
		{"all three", CertID{IssuerDN: "CN=Teszt Minősített CA,O=Teszt Bizalmi Zrt.,C=HU", Serial: "1000", SHA256: p.sha("ceo")}, ceo, true},
		{"other serial", CertID{IssuerDN: "CN=Teszt Minősített CA,O=Teszt Bizalmi Zrt.,C=HU", Serial: "1001"}, ceo, false},
		{"other issuer", CertID{IssuerDN: "CN=Másik CA,C=HU", Serial: "1000"}, ceo, false},
		{"RDNs in DER order", CertID{IssuerDN: "C=HU,O=Teszt Bizalmi Zrt.,CN=Teszt Minősített CA", Serial: "1000"}, ceo, false},
		{"other SHA-256", CertID{SHA256: p.sha("d1")}, ceo, false},
		{"right issuer and serial, other SHA-256", CertID{IssuerDN: "CN=Teszt Minősített CA,O=Teszt Bizalmi Zrt.,C=HU", Serial: "1000", SHA256: p.sha("d1")}, ceo, false},
		{"issuer with serial in hex", CertID{IssuerDN: "CN=Teszt Minősített CA,O=Teszt Bizalmi Zrt.,C=HU", Serial: "3e8"}, ceo, false},
		{"unparseable issuer", CertID{IssuerDN: "Teszt Minősített CA", Serial: "1000"}, ceo, false},
		{"empty identity", CertID{}, ceo, false},
		{"nil certificate", CertID{SHA256: p.sha("ceo")}, nil, false},
		{"another CA, same name and serial as the subject", CertID{IssuerDN: "CN=Teszt Minősített CA,O=Teszt Bizalmi Zrt.,C=HU", Serial: "1000"}, p.certs["impostor"], false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.id.Matches(tc.cert); got != tc.ok {
				t.Fatalf("Matches = %v, want %v", got, tc.ok)
			}
		})
	}
}

func TestNewKey(t *testing.T) {
	tests := []struct {
		idType   declaration.IDType
		id, want string
	}{
		{declaration.IDAdoszam, "12345676", "12345676"},
		{declaration.IDAdoszam, "12345676241", "12345676"},
		{declaration.IDAdoszam, "12345676-2-41", "12345676"},
		{declaration.IDAdoszam, "1234567", "1234567"},           // not a tax number: kept, matches nothing registered
		{declaration.IDAdoszam, "12345676-241", "12345676-241"}, // malformed: kept
		{declaration.IDTAJ, "123456788", "123456788"},
		{declaration.IDAdoazonosito, "8123456786", "8123456786"},
	}
	for _, tc := range tests {
		if got := NewKey(tc.idType, tc.id, "0123"); got != (Key{IDType: tc.idType, ID: tc.want, Fund: "0123"}) {
			t.Errorf("NewKey(%s, %s) = %+v, want id %s", tc.idType, tc.id, got, tc.want)
		}
	}
}

func TestLocalDate(t *testing.T) {
	tests := []struct {
		at   time.Time
		want declaration.Date
	}{
		{time.Date(2026, 1, 31, 22, 59, 59, 999999999, time.UTC), d(2026, 1, 31)}, // CET, UTC+1
		{time.Date(2026, 1, 31, 23, 0, 0, 0, time.UTC), d(2026, 2, 1)},
		{time.Date(2026, 7, 31, 21, 59, 59, 0, time.UTC), d(2026, 7, 31)}, // CEST, UTC+2
		{time.Date(2026, 7, 31, 22, 0, 0, 0, time.UTC), d(2026, 8, 1)},
		{time.Date(2026, 3, 29, 0, 59, 59, 0, time.UTC), d(2026, 3, 29)}, // the spring-forward day
		{time.Date(2026, 3, 29, 22, 0, 0, 0, time.UTC), d(2026, 3, 30)},
		{time.Date(2026, 8, 1, 0, 59, 59, 0, time.FixedZone("UTC+3", 3*3600)), d(2026, 7, 31)}, // the zone of t does not matter
		{time.Date(2026, 8, 1, 1, 0, 0, 0, time.FixedZone("UTC+3", 3*3600)), d(2026, 8, 1)},
	}
	for _, tc := range tests {
		got, err := LocalDate(tc.at)
		if err != nil || got != tc.want {
			t.Errorf("LocalDate(%s) = %v, %v; want %v", tc.at, got, err, tc.want)
		}
	}
}
