// Package registrytest is the conformance suite of registry.Store: every backend (the in-memory
// registry.MemStore, the receiver's SQLite store, a later PostgreSQL store) must pass Run. It also
// provides Sample, a valid sheet for tests.
//
// The suite reads no clock: every time it uses is a fixed instant, chosen on both sides of a day
// boundary in Europe/Budapest, in winter and in summer time.
package registrytest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/registry"
)

// Identifiers the suite uses; their check digits are right.
const (
	taxCore = "12345676"   // adoszam core; 12345676-2-41 in full
	tajNo   = "123456788"  // taj
	taxID   = "8123456786" // adoazonosito
	fund    = "0123"
	fundAlt = "0456"
)

// The keys the suite uses: A, A at another fund, B, C.
func keyA() registry.Key { return registry.Key{IDType: declaration.IDAdoszam, ID: taxCore, Fund: fund} }
func keyAalt() registry.Key {
	return registry.Key{IDType: declaration.IDAdoszam, ID: taxCore, Fund: fundAlt}
}
func keyB() registry.Key { return registry.Key{IDType: declaration.IDTAJ, ID: tajNo, Fund: fund} }
func keyC() registry.Key {
	return registry.Key{IDType: declaration.IDAdoazonosito, ID: taxID, Fund: fund}
}

func date(y int, m time.Month, d int) declaration.Date {
	return declaration.Date{Year: y, Month: m, Day: d}
}

// Sample returns a new valid sheet for key k filed on filed: a fresh random id, one signer who may sign
// alone from filed on, identified by the SHA-256 of a throw-away certificate, and a freshly generated
// ECDSA P-256 encryption certificate. An 8-digit tax number in k is used as given.
func Sample(t testing.TB, k registry.Key, filed declaration.Date) *registry.Sheet {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "Teszt titkosító", Organization: []string{"Teszt Kft."}, Country: []string{"HU"}},
		NotBefore:    time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageKeyAgreement,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(append([]byte("signer of "), der...))
	return &registry.Sheet{
		ID: uuid.NewString(),
		Declarant: registry.Declarant{IDType: k.IDType, ID: k.ID, Name: "Teszt Kft.",
			Address: registry.Address{PostalCode: "1051", City: "Budapest", Street: "Nádor utca 7."}},
		Fund:           k.Fund,
		FirstPeriod:    declaration.Period{Year: filed.Year, Month: filed.Month},
		Filed:          filed,
		Contact:        registry.Contact{Name: "Kovács Éva", Phone: "+36 1 234 5678", Email: "ber@teszt.example"},
		EncryptionCert: der,
		Signers: []registry.Signer{{ID: "a1", Name: "Nagy János", Cert: registry.CertID{SHA256: digest[:]},
			Role: registry.Alone, Mandatory: true, ValidFrom: filed}},
	}
}

// Run runs the conformance suite against stores open returns; open must return a new, empty store
// each time it is called (the suite calls it once per subtest) and arrange its cleanup with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) registry.Store) {
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, open(t)) })
	t.Run("PutGet", func(t *testing.T) { testPutGet(t, open(t)) })
	t.Run("Isolation", func(t *testing.T) { testIsolation(t, open(t)) })
	t.Run("RefusesInvalid", func(t *testing.T) { testRefusesInvalid(t, open(t)) })
	t.Run("Duplicate", func(t *testing.T) { testDuplicate(t, open(t)) })
	t.Run("SupersedeHistory", func(t *testing.T) { testSupersede(t, open(t)) })
	t.Run("KeyNormalization", func(t *testing.T) { testKeyNormalization(t, open(t)) })
	t.Run("KeysSeparate", func(t *testing.T) { testKeysSeparate(t, open(t)) })
	t.Run("AsOf", func(t *testing.T) { testAsOf(t, open(t)) })
	t.Run("Withdraw", func(t *testing.T) { testWithdraw(t, open(t)) })
	t.Run("List", func(t *testing.T) { testList(t, open(t)) })
	t.Run("ConcurrentPuts", func(t *testing.T) { testConcurrentPuts(t, open(t)) })
	t.Run("Cancelled", func(t *testing.T) { testCancelled(t, open(t)) })
}

func put(t *testing.T, st registry.Store, s *registry.Sheet) {
	t.Helper()
	if err := st.Put(context.Background(), s); err != nil {
		t.Fatalf("Put(%s): %v", s.ID, err)
	}
}

func same(t *testing.T, what string, got, want *registry.Sheet) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: got sheet %+v\nwant %+v", what, got, want)
	}
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("%s: err = %v, want ErrNotFound", what, err)
	}
}

func testNotFound(t *testing.T, st registry.Store) {
	ctx := context.Background()
	_, err := st.Get(ctx, uuid.NewString())
	wantNotFound(t, "Get", err)
	_, err = st.Current(ctx, keyA())
	wantNotFound(t, "Current", err)
	_, err = st.AsOf(ctx, keyA(), time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	wantNotFound(t, "AsOf", err)
	_, err = st.History(ctx, keyA())
	wantNotFound(t, "History", err)
	_, err = st.Withdraw(ctx, keyA(), date(2026, 1, 1), "ok")
	wantNotFound(t, "Withdraw", err)
	l, err := st.List(ctx)
	if err != nil || len(l) != 0 {
		t.Fatalf("List on an empty store = %v, %v", l, err)
	}
	// A stored key does not make another one found.
	put(t, st, Sample(t, keyA(), date(2025, 12, 15)))
	_, err = st.Current(ctx, keyB())
	wantNotFound(t, "Current of another key", err)
}

func testPutGet(t *testing.T, st registry.Store) {
	ctx := context.Background()
	s := Sample(t, keyA(), date(2025, 12, 15))
	s.Contact.Address = "1051 Budapest, Nádor utca 7."
	s.Signers = append(s.Signers, registry.Signer{ID: "b.2", Name: "Kiss Anna",
		Cert: registry.CertID{IssuerDN: "CN=Teszt CA,O=Teszt Zrt.,C=HU", Serial: "4096"}, Role: registry.Jointly,
		CoSigner: "a1", ValidFrom: date(2026, 1, 1), ValidTo: date(2027, 12, 31)})
	s.Signers[0].Deputy = "b.2"
	put(t, st, s)
	got, err := st.Get(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "Get", got, s)
	got, err = st.Current(ctx, keyA())
	if err != nil {
		t.Fatal(err)
	}
	same(t, "Current", got, s)
	h, err := st.History(ctx, keyA())
	if err != nil || len(h) != 1 {
		t.Fatalf("History = %d versions, %v", len(h), err)
	}
	same(t, "History[0]", h[0], s)
}

func testIsolation(t *testing.T, st registry.Store) {
	ctx := context.Background()
	s := Sample(t, keyA(), date(2025, 12, 15))
	want := s.Clone()
	put(t, st, s)
	s.Declarant.Name = "Megváltozott Kft."
	s.Signers[0].Cert.SHA256[0] ^= 0xff
	s.EncryptionCert[0] ^= 0xff
	got, err := st.Current(ctx, keyA())
	if err != nil {
		t.Fatal(err)
	}
	same(t, "after changing the sheet given to Put", got, want)
	// Change every sheet each reading method returns, then read again.
	scribble := func(s *registry.Sheet) {
		s.Signers[0].Name = "Más Név"
		s.Signers[0].Cert.SHA256[1] ^= 0xff
		s.EncryptionCert[1] ^= 0xff
		s.Withdrawal = &registry.Withdrawal{Date: date(2030, 1, 1), Reason: "x"}
	}
	scribble(got)
	if g, err := st.Get(ctx, want.ID); err == nil {
		scribble(g)
	}
	if g, err := st.AsOf(ctx, keyA(), time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)); err == nil {
		scribble(g)
	}
	if h, err := st.History(ctx, keyA()); err == nil {
		for _, g := range h {
			scribble(g)
		}
	}
	read := map[string]func() (*registry.Sheet, error){
		"Get":     func() (*registry.Sheet, error) { return st.Get(ctx, want.ID) },
		"Current": func() (*registry.Sheet, error) { return st.Current(ctx, keyA()) },
		"AsOf": func() (*registry.Sheet, error) {
			return st.AsOf(ctx, keyA(), time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
		},
		"History": func() (*registry.Sheet, error) {
			h, err := st.History(ctx, keyA())
			if err != nil || len(h) != 1 {
				return nil, fmt.Errorf("History: %d versions, %v", len(h), err)
			}
			return h[0], nil
		},
	}
	for name, f := range read {
		again, err := f()
		if err != nil {
			t.Fatal(err)
		}
		same(t, name+" after changing sheets the store returned", again, want)
	}
}

func testRefusesInvalid(t *testing.T, st registry.Store) {
	ctx := context.Background()
	if err := st.Put(ctx, nil); err == nil {
		t.Fatal("Put(nil) succeeded")
	}
	bad := []struct {
		name   string
		change func(s *registry.Sheet)
	}{
		{"fund code", func(s *registry.Sheet) { s.Fund = "12" }},
		{"jointly without co-signer", func(s *registry.Sheet) { s.Signers[0].Role = registry.Jointly }},
		{"no signers", func(s *registry.Sheet) { s.Signers = nil }},
		{"encryption certificate", func(s *registry.Sheet) { s.EncryptionCert = []byte{0x30, 0x00} }},
	}
	for _, b := range bad {
		s := Sample(t, keyA(), date(2025, 12, 15))
		b.change(s)
		err := st.Put(ctx, s)
		var re *registry.Error
		if !errors.As(err, &re) {
			t.Errorf("%s: Put = %v, want a *registry.Error", b.name, err)
		}
		_, err = st.Get(ctx, s.ID)
		wantNotFound(t, b.name+": Get after a refused Put", err)
	}
	_, err := st.Current(ctx, keyA())
	wantNotFound(t, "Current after refused Puts", err)
}

func testDuplicate(t *testing.T, st registry.Store) {
	ctx := context.Background()
	s := Sample(t, keyA(), date(2025, 12, 15))
	put(t, st, s)
	if err := st.Put(ctx, s); !errors.Is(err, registry.ErrDuplicate) {
		t.Fatalf("second Put of the same sheet: %v, want ErrDuplicate", err)
	}
	other := Sample(t, keyB(), date(2025, 12, 15))
	other.ID = s.ID
	if err := st.Put(ctx, other); !errors.Is(err, registry.ErrDuplicate) {
		t.Fatalf("Put of another key's sheet with a used id: %v, want ErrDuplicate", err)
	}
	if h, err := st.History(ctx, keyA()); err != nil || len(h) != 1 {
		t.Fatalf("History = %d versions, %v; want 1", len(h), err)
	}
	_, err := st.Current(ctx, keyB())
	wantNotFound(t, "Current of the refused key", err)
}

func testSupersede(t *testing.T, st registry.Store) {
	ctx := context.Background()
	v1 := Sample(t, keyA(), date(2025, 12, 15))
	v2 := Sample(t, keyA(), date(2026, 3, 1))
	v3 := Sample(t, keyA(), date(2026, 2, 1)) // stored last, filed earlier than v2: still the newest version
	for _, v := range []*registry.Sheet{v1, v2, v3} {
		put(t, st, v)
	}
	cur, err := st.Current(ctx, keyA())
	if err != nil {
		t.Fatal(err)
	}
	same(t, "Current", cur, v3)
	h, err := st.History(ctx, keyA())
	if err != nil || len(h) != 3 {
		t.Fatalf("History = %d versions, %v; want 3", len(h), err)
	}
	for i, v := range []*registry.Sheet{v1, v2, v3} {
		same(t, fmt.Sprintf("History[%d]", i), h[i], v)
		got, err := st.Get(ctx, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "Get of a superseded version", got, v)
	}
}

func testKeyNormalization(t *testing.T, st registry.Store) {
	ctx := context.Background()
	s := Sample(t, keyA(), date(2025, 12, 15))
	s.Declarant.ID = "12345676241"
	put(t, st, s)
	for _, id := range []string{"12345676", "12345676241", "12345676-2-41", "12345676-2-42"} {
		got, err := st.Current(ctx, registry.Key{IDType: declaration.IDAdoszam, ID: id, Fund: keyA().Fund})
		if err != nil {
			t.Fatalf("Current with tax number %s: %v", id, err)
		}
		same(t, "Current with tax number "+id, got, s)
	}
	if _, err := st.Current(ctx, registry.Key{IDType: declaration.IDAdoszam, ID: "12345677", Fund: keyA().Fund}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("another tax number found the sheet: %v", err)
	}
	if _, err := st.Current(ctx, registry.Key{IDType: declaration.IDTAJ, ID: "12345676", Fund: keyA().Fund}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("another identifier type found the sheet: %v", err)
	}
	l, err := st.List(ctx)
	if err != nil || len(l) != 1 || l[0].Key != keyA() {
		t.Fatalf("List = %+v, %v; want one summary with key %v", l, err, keyA())
	}
}

func testKeysSeparate(t *testing.T, st registry.Store) {
	ctx := context.Background()
	sheets := map[registry.Key]*registry.Sheet{}
	for _, k := range []registry.Key{keyA(), keyAalt(), keyB(), keyC()} {
		sheets[k] = Sample(t, k, date(2025, 12, 15))
		put(t, st, sheets[k])
	}
	for k, want := range sheets {
		got, err := st.Current(ctx, k)
		if err != nil {
			t.Fatalf("Current(%v): %v", k, err)
		}
		same(t, "Current "+k.String(), got, want)
		if h, err := st.History(ctx, k); err != nil || len(h) != 1 {
			t.Fatalf("History(%v) = %d versions, %v; want 1", k, len(h), err)
		}
	}
}

func testAsOf(t *testing.T, st registry.Store) {
	ctx := context.Background()
	v1 := Sample(t, keyA(), date(2025, 12, 15))
	v2 := Sample(t, keyA(), date(2026, 3, 1))
	v3 := Sample(t, keyA(), date(2026, 7, 1))
	for _, v := range []*registry.Sheet{v1, v2, v3} {
		put(t, st, v)
	}
	cases := []struct {
		name string
		at   time.Time
		want *registry.Sheet // nil: ErrNotFound
	}{
		{"before the first filing", time.Date(2025, 12, 14, 22, 59, 59, 0, time.UTC), nil},
		{"first filing day starts in Budapest (CET)", time.Date(2025, 12, 14, 23, 0, 0, 0, time.UTC), v1},
		{"between", time.Date(2026, 2, 10, 12, 0, 0, 0, time.UTC), v1},
		{"last second of 28 February in Budapest", time.Date(2026, 2, 28, 22, 59, 59, 0, time.UTC), v1},
		{"1 March 00:00 in Budapest", time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC), v2},
		{"last second of 30 June in Budapest (CEST)", time.Date(2026, 6, 30, 21, 59, 59, 0, time.UTC), v2},
		{"1 July 00:00 in Budapest (CEST)", time.Date(2026, 6, 30, 22, 0, 0, 0, time.UTC), v3},
		{"same instant in another zone", time.Date(2026, 6, 30, 22, 0, 0, 0, time.FixedZone("X", -5*3600)), v3},
		{"far future", time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC), v3},
	}
	for _, c := range cases {
		got, err := st.AsOf(ctx, keyA(), c.at)
		if c.want == nil {
			wantNotFound(t, "AsOf "+c.name, err)
			continue
		}
		if err != nil {
			t.Fatalf("AsOf %s: %v", c.name, err)
		}
		same(t, "AsOf "+c.name, got, c.want)
	}
	// A version stored later with an earlier filing date is in force from its filing date.
	late := Sample(t, keyA(), date(2026, 2, 20))
	put(t, st, late)
	got, err := st.AsOf(ctx, keyA(), time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	same(t, "AsOf after a late version", got, late)
	got, err = st.AsOf(ctx, keyA(), time.Date(2026, 2, 10, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	same(t, "AsOf before the late version's filing date", got, v1)
	_, err = st.AsOf(ctx, keyB(), time.Date(2026, 2, 10, 12, 0, 0, 0, time.UTC))
	wantNotFound(t, "AsOf of another key", err)
}

func testWithdraw(t *testing.T, st registry.Store) {
	ctx := context.Background()
	v1 := Sample(t, keyA(), date(2025, 12, 15))
	put(t, st, v1)
	if _, err := st.Withdraw(ctx, keyA(), date(2027, 1, 1), ""); err == nil {
		t.Fatal("Withdraw with an empty reason succeeded")
	}
	if _, err := st.Withdraw(ctx, keyA(), date(2025, 12, 14), "korábbi / earlier"); err == nil {
		t.Fatal("Withdraw dated before the filing date succeeded")
	}
	if h, _ := st.History(ctx, keyA()); len(h) != 1 {
		t.Fatalf("refused withdrawals stored versions: %d", len(h))
	}
	w, err := st.Withdraw(ctx, registry.Key{IDType: declaration.IDAdoszam, ID: "12345676-2-41", Fund: keyA().Fund},
		date(2027, 1, 1), "A munkáltató megszűnik. / The employer ceases.")
	if err != nil {
		t.Fatal(err)
	}
	if w.ID == v1.ID || w.Withdrawal == nil || w.Withdrawal.Date != date(2027, 1, 1) || w.Filed != v1.Filed {
		t.Fatalf("withdrawn version = %+v", w)
	}
	want := v1.Clone()
	want.ID, want.Withdrawal = w.ID, w.Withdrawal
	same(t, "withdrawn version", w, want)
	cur, err := st.Current(ctx, keyA())
	if err != nil {
		t.Fatal(err)
	}
	same(t, "Current after Withdraw", cur, w)
	old, err := st.Get(ctx, v1.ID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "the version before the withdrawal", old, v1)
	asof, err := st.AsOf(ctx, keyA(), time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	same(t, "AsOf after Withdraw", asof, w)
	if _, err := st.Withdraw(ctx, keyA(), date(2027, 2, 1), "ismét / again"); !errors.Is(err, registry.ErrWithdrawn) {
		t.Fatalf("second Withdraw: %v, want ErrWithdrawn", err)
	}
	if h, err := st.History(ctx, keyA()); err != nil || len(h) != 2 {
		t.Fatalf("History = %d versions, %v; want 2", len(h), err)
	}
	// A new sheet after a withdrawal registers the declarant again.
	v3 := Sample(t, keyA(), date(2027, 3, 1))
	put(t, st, v3)
	cur, err = st.Current(ctx, keyA())
	if err != nil {
		t.Fatal(err)
	}
	same(t, "Current after re-registration", cur, v3)
}

func testList(t *testing.T, st registry.Store) {
	ctx := context.Background()
	c := Sample(t, keyC(), date(2025, 11, 2))
	b := Sample(t, keyB(), date(2025, 10, 3))
	a1 := Sample(t, keyA(), date(2025, 12, 15))
	aAlt := Sample(t, keyAalt(), date(2025, 12, 16))
	a2 := Sample(t, keyA(), date(2026, 1, 5))
	a2.Signers = append(a2.Signers, registry.Signer{ID: "x", Name: "Második Aláíró",
		Cert: registry.CertID{SHA256: make([]byte, 32)}, Role: registry.Alone, ValidFrom: date(2026, 1, 5)})
	for _, s := range []*registry.Sheet{c, b, a1, aAlt, a2} {
		put(t, st, s)
	}
	if _, err := st.Withdraw(ctx, keyB(), date(2026, 1, 1), "megszűnt / ceased"); err != nil {
		t.Fatal(err)
	}
	bw, err := st.Current(ctx, keyB())
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []registry.Summary{ // ordered by identifier type, identifier, fund
		registry.Summarize(c, 1),
		registry.Summarize(a2, 2),
		registry.Summarize(aAlt, 1),
		registry.Summarize(bw, 2),
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("List =\n%+v\nwant\n%+v", got, want)
	}
	if got[1].Signers != 2 || got[3].Withdrawn != date(2026, 1, 1) {
		t.Fatalf("summaries miss signers or withdrawal: %+v", got)
	}
}

func testConcurrentPuts(t *testing.T, st registry.Store) {
	ctx := context.Background()
	const workers, each = 8, 6
	keys := []registry.Key{keyA(), keyB()}
	sheets := make([][]*registry.Sheet, workers)
	for w := range sheets {
		for i := 0; i < each; i++ {
			sheets[w] = append(sheets[w], Sample(t, keys[(w+i)%len(keys)], date(2026, 1, 1+i)))
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for _, s := range sheets[w] {
				if err := st.Put(ctx, s); err != nil {
					errs <- err
				}
				if _, err := st.Current(ctx, s.Key()); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Put/Current: %v", err)
	}
	ids := map[string]bool{}
	for _, k := range keys {
		h, err := st.History(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != workers*each/len(keys) {
			t.Fatalf("History(%v) = %d versions, want %d", k, len(h), workers*each/len(keys))
		}
		for _, s := range h {
			if ids[s.ID] || s.Key() != k {
				t.Fatalf("History(%v) has a duplicate or foreign version %s", k, s.ID)
			}
			ids[s.ID] = true
		}
		cur, err := st.Current(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "Current is the last version of History", cur, h[len(h)-1])
	}
	for w := range sheets {
		for _, s := range sheets[w] {
			got, err := st.Get(ctx, s.ID)
			if err != nil {
				t.Fatalf("Get(%s) after concurrent puts: %v", s.ID, err)
			}
			same(t, "Get after concurrent puts", got, s)
		}
	}
}

func testCancelled(t *testing.T, st registry.Store) {
	put(t, st, Sample(t, keyA(), date(2025, 12, 15)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	checks := map[string]error{}
	checks["Put"] = st.Put(ctx, Sample(t, keyB(), date(2025, 12, 15)))
	_, checks["Get"] = st.Get(ctx, uuid.NewString())
	_, checks["Current"] = st.Current(ctx, keyA())
	_, checks["AsOf"] = st.AsOf(ctx, keyA(), at)
	_, checks["History"] = st.History(ctx, keyA())
	_, checks["List"] = st.List(ctx)
	_, checks["Withdraw"] = st.Withdraw(ctx, keyA(), date(2027, 1, 1), "x")
	for name, err := range checks {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v, want context.Canceled", name, err)
		}
	}
	if _, err := st.Current(context.Background(), keyB()); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("Put with a cancelled context stored the sheet: %v", err)
	}
	cur, err := st.Current(context.Background(), keyA())
	if err != nil || cur.Withdrawal != nil {
		t.Errorf("Withdraw with a cancelled context changed the registration: %+v, %v", cur, err)
	}
}
