package pack_test

import (
	"bytes"
	"context"
	"crypto"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
	"github.com/tagdij/tagdij/internal/synth"
	"github.com/tagdij/tagdij/schema"
)

var (
	schemaOnce sync.Once
	schemaSet  *schema.Set
	schemaErr  error
)

func schemas(t testing.TB) *schema.Set {
	t.Helper()
	schemaOnce.Do(func() { schemaSet, schemaErr = schema.Load(libxml.Parser{}) })
	if schemaErr != nil {
		t.Fatal(schemaErr)
	}
	return schemaSet
}

// fixture is a sandbox with the demo employer "pelda" and the fund, and what packing needs.
type fixture struct {
	sb       *sandboxtest.Env
	employer sandbox.Organization
	fund     sandbox.Organization
	fundEnc  *sandbox.Entity
	ownEnc   *sandbox.Entity
	taxEnc   *sandbox.Entity
	// now is the packing time (the sandbox certificates are valid from an hour before the real now);
	// declarations cover period, the month before it.
	now    time.Time
	period declaration.Period
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	emp, err := sb.World.Employer("pelda")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{
		sb:       sb,
		employer: emp,
		fund:     sb.World.Manifest.Fund,
		fundEnc:  sb.World.MustEntity(sandbox.FundEncryption),
		ownEnc:   sb.World.MustEntity(emp.Encryption),
		taxEnc:   sb.World.MustEntity(sandbox.TaxEncryption),
		now:      time.Now().UTC().Truncate(time.Second),
	}
	f.period = declaration.PeriodOf(f.now).Prev()
	return f
}

// declarant is the employer as a declaration names it.
func (f *fixture) declarant() declaration.Declarant {
	return declaration.Declarant{
		Name:    f.employer.Name,
		ID:      declaration.DeclarantID{Type: declaration.IDAdoszam, Value: f.employer.TaxNumber},
		Address: declaration.Address{PostalCode: "1111", City: "Budapest", Street: "Minta utca 1."},
	}
}

// decl generates a valid declaration of the employer for the fund.
func (f *fixture) decl(t testing.TB, members int, seed uint64, mod func(*synth.Options)) []byte {
	t.Helper()
	o := synth.Options{
		Members:   members,
		Seed:      seed,
		Period:    f.period,
		Declarant: f.declarant(),
		Fund:      declaration.Fund{Code: f.fund.FundCode, Name: f.fund.Name},
	}
	if mod != nil {
		mod(&o)
	}
	var buf bytes.Buffer
	if _, err := synth.Generate(o).WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// options are the Options the sender would use, with a counting in-memory allocator.
func (f *fixture) options(t testing.TB) (pack.Options, *memSeq) {
	seq := &memSeq{last: map[pack.SeqKey]int{}}
	return pack.Options{
		Schemas:   schemas(t),
		Contact:   es3.Contact{Name: "Kovács Anna", Phone: "+36 1 555 0101", Address: "1111 Budapest, Minta utca 1."},
		FundCert:  f.fundEnc.Cert,
		OwnCert:   f.ownEnc.Cert,
		Declarant: &pack.Declarant{IDType: "adoszam", ID: f.employer.TaxNumber},
		FundCode:  f.fund.FundCode,
		Now:       f.now,
		Sequence:  seq,
		Rand:      nil,
	}, seq
}

// memSeq is an in-memory Allocator that counts its calls.
type memSeq struct {
	mu    sync.Mutex
	last  map[pack.SeqKey]int
	calls int
}

func (m *memSeq) Next(_ context.Context, k pack.SeqKey) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	m.last[k]++
	return m.last[k], nil
}

func decrypter(t testing.TB, e *sandbox.Entity) crypto.Decrypter {
	t.Helper()
	d, ok := e.Key.(crypto.Decrypter)
	if !ok {
		t.Fatalf("%s: key %T is not a crypto.Decrypter", e.Name, e.Key)
	}
	return d
}

// seeded is a deterministic byte stream for reproducible output.
type seeded struct{ r *rand.ChaCha8 }

func newSeeded(seed byte) *seeded {
	var s [32]byte
	s[0] = seed
	return &seeded{rand.NewChaCha8(s)}
}

func (s *seeded) Read(p []byte) (int, error) { return s.r.Read(p) }
