package sandbox_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
)

func TestRevoke(t *testing.T) {
	env := sandboxtest.Start(t, sandboxtest.SharedKeys())
	w := env.World
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	s2 := w.MustEntity("signer-minta-2")
	colonSerial := func(hexs string) string {
		if len(hexs)%2 == 1 {
			hexs = "0" + hexs
		}
		var parts []string
		for i := 0; i < len(hexs); i += 2 {
			parts = append(parts, strings.ToUpper(hexs[i:i+2]))
		}
		return strings.Join(parts, ":")
	}
	cases := []struct {
		name    string
		ref     string
		reason  int
		wantErr error // nil = success; errAny = some error
		want    string
	}{
		{"by name", "signer-minta-1", sandbox.ReasonKeyCompromise, nil, "signer-minta-1"},
		{"by serial with colons", colonSerial(s2.Serial), sandbox.ReasonSuperseded, nil, "signer-minta-2"},
		{"by 0x serial", "0x" + w.MustEntity(sandbox.FundReceipt).Serial, sandbox.ReasonUnspecified, nil, sandbox.FundReceipt},
		{"unknown name", "signer-nobody", 1, sandbox.ErrNotFound, ""},
		{"unknown serial", "deadbeef", 1, sandbox.ErrNotFound, ""},
		{"bad reason 7", "signer-minta-3", 7, errAny, ""},
		{"removeFromCRL refused", "signer-minta-3", sandbox.ReasonRemoveFromCRL, errAny, ""},
		{"root refused", sandbox.RootCA, 1, errAny, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := sandbox.Revoke(env.Dir, c.ref, c.reason, at)
			switch {
			case c.wantErr == nil && err != nil:
				t.Fatal(err)
			case c.wantErr == errAny && err == nil, c.wantErr != nil && c.wantErr != errAny && !errors.Is(err, c.wantErr):
				t.Fatalf("err %v, want %v", err, c.wantErr)
			}
			if c.want == "" {
				return
			}
			revs, err := w.Revocations()
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, r := range revs {
				if r.Name == c.want {
					found = true
					if r.Reason != c.reason || !r.RevokedAt.Equal(at) || r.Serial != w.MustEntity(c.want).Serial {
						t.Errorf("entry %+v", r)
					}
				}
			}
			if !found {
				t.Errorf("%s not in revocations", c.want)
			}
		})
	}
	// Revoking again replaces the entry.
	if err := sandbox.Revoke(env.Dir, "signer-minta-1", sandbox.ReasonAffiliationChanged, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	revs, _ := w.Revocations()
	n := 0
	for _, r := range revs {
		if r.Name == "signer-minta-1" {
			n++
			if r.Reason != sandbox.ReasonAffiliationChanged {
				t.Errorf("not replaced: %+v", r)
			}
		}
	}
	if n != 1 || len(revs) != 3 {
		t.Errorf("%d entries for signer-minta-1, %d total", n, len(revs))
	}
}

var errAny = errors.New("any error")

func TestRevokeConcurrent(t *testing.T) {
	env := sandboxtest.Start(t, sandboxtest.SharedKeys())
	names := []string{"signer-pelda-1", "signer-pelda-2", "signer-pelda-3", "signer-minta-1", "signer-minta-2", "signer-minta-3", "enc-pelda", "enc-minta"}
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := sandbox.Revoke(env.Dir, n, sandbox.ReasonKeyCompromise, time.Time{}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	revs, err := sandbox.ReadRevocations(env.Dir)
	if err != nil || len(revs) != len(names) {
		t.Fatalf("%d revocations after %d concurrent Revoke calls: %v", len(revs), len(names), err)
	}
}

func TestParseReason(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"0", 0, true}, {"1", 1, true}, {"keyCompromise", 1, true}, {"KEYCOMPROMISE", 1, true}, {"certificateHold", 6, true},
		{"10", 10, true}, {"7", 0, false}, {"11", 0, false}, {"-1", 0, false}, {"", 0, false}, {"nope", 0, false}, {"01", 0, false},
	} {
		got, err := sandbox.ParseReason(c.in)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("ParseReason(%q) = %d, %v; want %d ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestTaxNumbers(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"12345676", true}, {"12345675", false}, {"23456787", true}, {"1234567", false}, {"123456760", false}, {"1234567a", false}, {"", false},
	} {
		if got := sandbox.ValidTaxNumberCore(c.in); got != c.ok {
			t.Errorf("ValidTaxNumberCore(%q) = %v", c.in, got)
		}
	}
	// Hand-computed: 1·9+2·7+3·3+4·1+5·9+6·7+7·3 = 144 → 6.
	if d, ok := sandbox.TaxNumberCheckDigit("1234567"); !ok || d != '6' {
		t.Errorf("check digit %c", d)
	}
	for _, c := range []struct {
		in string
		ok bool
	}{
		// 8·1+3·2+8·3+0·4+5·5+8·6+1·7+3·8+8·9 = 214 → 214 mod 11 = 5.
		{"8380581385", true}, {"8380581384", false}, {"7380581385", false}, {"838058138", false}, {"83805813x5", false},
	} {
		if got := sandbox.ValidPersonalTaxID(c.in); got != c.ok {
			t.Errorf("ValidPersonalTaxID(%q) = %v", c.in, got)
		}
	}
}
