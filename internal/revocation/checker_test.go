package revocation

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/tagdij/tagdij/internal/revocation/revtest"
)

func TestCheckerMethodsAndFallback(t *testing.T) {
	f := newFixture(t)
	noSource := f.root.Issue(t, revtest.Spec{Name: "no AIA, no CDP"})
	ldapOnly := f.root.Issue(t, revtest.Spec{Name: "ldap only", CRL: []string{"ldap://127.0.0.1/cn=x"}})
	ctx := context.Background()

	cases := []struct {
		name       string
		methods    []Method
		ocsp       func(*revtest.OCSPConfig)
		crl        func(*revtest.CRLConfig)
		cert       *revtest.Identity
		wantMethod Method
		wantStatus Status
		reason     error
		kind       error
	}{
		{name: "OCSP first", wantMethod: MethodOCSP, wantStatus: StatusGood},
		{name: "CRL first when configured", methods: []Method{MethodCRL, MethodOCSP}, wantMethod: MethodCRL, wantStatus: StatusGood},
		{name: "OCSP unavailable, CRL fallback", ocsp: func(c *revtest.OCSPConfig) { c.HTTPStatus = http.StatusInternalServerError },
			wantMethod: MethodCRL, wantStatus: StatusGood},
		{name: "OCSP invalid, CRL fallback", ocsp: func(c *revtest.OCSPConfig) { c.Raw = []byte("junk") },
			wantMethod: MethodCRL, wantStatus: StatusGood},
		{name: "OCSP only, unavailable", methods: []Method{MethodOCSP}, ocsp: func(c *revtest.OCSPConfig) { c.HTTPStatus = http.StatusServiceUnavailable },
			reason: ErrHTTP, kind: ErrUnavailable},
		{name: "OCSP unknown is an answer, no fallback", ocsp: func(c *revtest.OCSPConfig) { c.Default = revtest.OCSPStatus{Status: ocsp.Unknown} },
			wantMethod: MethodOCSP, wantStatus: StatusUnknown},
		{name: "both unavailable", ocsp: func(c *revtest.OCSPConfig) { c.HTTPStatus = 500 }, crl: func(c *revtest.CRLConfig) { c.HTTPStatus = 502 },
			reason: ErrHTTP, kind: ErrUnavailable},
		{name: "one invalid, one unavailable: invalid dominates", ocsp: func(c *revtest.OCSPConfig) { c.Nonce = revtest.NonceWrong },
			crl: func(c *revtest.CRLConfig) { c.HTTPStatus = 500 }, reason: ErrNonceMismatch, kind: ErrInvalidEvidence},
		{name: "no source", cert: noSource, reason: ErrNoSource, kind: ErrUnavailable},
		{name: "only an ldap CRL", cert: ldapOnly, reason: ErrNoSource, kind: ErrUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.ocsp.Set(func(c *revtest.OCSPConfig) {
				*c = revtest.OCSPConfig{Issuer: f.root, Signer: f.responder, Default: revtest.OCSPStatus{Status: ocsp.Good}}
				if tc.ocsp != nil {
					tc.ocsp(c)
				}
			})
			f.crl.Set(func(c *revtest.CRLConfig) {
				*c = revtest.CRLConfig{Issuer: f.root}
				if tc.crl != nil {
					tc.crl(c)
				}
			})
			cert := f.leaf
			if tc.cert != nil {
				cert = tc.cert
			}
			ch := &Checker{Methods: tc.methods}
			ev, err := ch.Check(ctx, cert.Cert, f.root.Cert, time.Now())
			wantErr(t, err, tc.reason, tc.kind)
			if err != nil {
				var ce *CheckError
				if !errors.As(err, &ce) || len(ce.Attempts) == 0 {
					t.Fatalf("error is not a CheckError with attempts: %v", err)
				}
				return
			}
			if ev.Method != tc.wantMethod || ev.Status != tc.wantStatus {
				t.Fatalf("got %v/%v, want %v/%v", ev.Method, ev.Status, tc.wantMethod, tc.wantStatus)
			}
		})
	}
	t.Run("certificate and issuer do not chain", func(t *testing.T) {
		other := revtest.NewRoot(t, revtest.Spec{Name: "Other"})
		_, err := (&Checker{}).Check(ctx, f.leaf.Cert, other.Cert, time.Now())
		wantErr(t, err, ErrWrongIssuer, ErrInvalidEvidence)
	})
}

// Revocation before, at and after the time of interest: the checker reports the time, the caller
// (pathval, policy) judges it.
func TestRevokedRelativeToT(t *testing.T) {
	f := newFixture(t)
	r := time.Now().Add(-time.Hour).Truncate(time.Second)
	f.ocsp.Set(func(c *revtest.OCSPConfig) { c.Default = revtest.OCSPStatus{Status: ocsp.Revoked, RevokedAt: r} })
	ch := &Checker{}
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{{r.Add(-time.Minute), false}, {r, true}, {r.Add(time.Minute), true}} {
		ev, err := ch.Check(context.Background(), f.leaf.Cert, f.root.Cert, tc.at)
		if err != nil {
			t.Fatal(err)
		}
		if got := ev.RevokedAtOrBefore(tc.at); got != tc.want {
			t.Errorf("at %v (revoked %v): RevokedAtOrBefore = %v", tc.at, r, got)
		}
	}
}

// cacheKinds are the cache constructors whose lookups must behave alike: on disk, in memory, and
// memory in front of disk.
var cacheKinds = []struct {
	name string
	mk   func(t *testing.T) *Cache
}{
	{"dir", func(t *testing.T) *Cache {
		c, err := NewDirCache(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}},
	{"memory", func(t *testing.T) *Cache { return NewMemoryCache() }},
	{"layered", func(t *testing.T) *Cache {
		c, err := NewLayeredDirCache(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}},
}

func TestCache(t *testing.T) {
	for _, k := range cacheKinds {
		t.Run(k.name, func(t *testing.T) { testCacheLookups(t, k.mk) })
	}
	testDirCache(t)
}

// testCacheLookups checks what a cache serves, whatever its store.
func testCacheLookups(t *testing.T, newCache func(t *testing.T) *Cache) {
	ctx := context.Background()
	t.Run("second lookup served without network", func(t *testing.T) {
		f := newFixture(t)
		cache := newCache(t)
		ch := &Checker{Cache: cache, Methods: []Method{MethodOCSP}}
		ev1, err := ch.Check(ctx, f.leaf.Cert, f.root.Cert, time.Now())
		if err != nil || ev1.FromCache {
			t.Fatalf("first: %v, cached %v", err, ev1 != nil && ev1.FromCache)
		}
		f.ocsp.Close()
		ev2, err := ch.Check(ctx, f.leaf.Cert, f.root.Cert, time.Now())
		if err != nil {
			t.Fatalf("second lookup needed the network: %v", err)
		}
		if !ev2.FromCache || ev2.Status != StatusGood || string(ev2.Raw) != string(ev1.Raw) || ev2.URL != ev1.URL {
			t.Fatalf("second: cached %v status %v", ev2.FromCache, ev2.Status)
		}
		if cache.Hits() != 1 || cache.Misses() != 1 || cache.Stats().Writes != 1 {
			t.Fatalf("stats %+v", cache.Stats())
		}
		// Another certificate of the same CA is another key: a miss, and with the responder gone, an error.
		other := f.root.Issue(t, revtest.Spec{Name: "other", OCSP: []string{f.ocsp.URL}})
		if _, err := ch.Check(ctx, other.Cert, f.root.Cert, time.Now()); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("other certificate: %v", err)
		}
	})
	t.Run("CRL cached per issuer and URL serves other certificates", func(t *testing.T) {
		f := newFixture(t)
		cache := newCache(t)
		ch := &Checker{Cache: cache, Methods: []Method{MethodCRL}}
		second := f.root.Issue(t, revtest.Spec{Name: "second", CRL: []string{f.crlURL}})
		f.crl.Revoke(second.Cert.SerialNumber, time.Now().Add(-time.Hour), 0)
		if _, err := ch.Check(ctx, f.leaf.Cert, f.root.Cert, time.Now()); err != nil {
			t.Fatal(err)
		}
		f.crl.Close()
		ev, err := ch.Check(ctx, second.Cert, f.root.Cert, time.Now())
		if err != nil || !ev.FromCache || ev.Status != StatusRevoked {
			t.Fatalf("second certificate from the cached CRL: %v %+v", err, ev)
		}
	})
	t.Run("entry past nextUpdate is not served", func(t *testing.T) {
		f := newFixture(t)
		cache := newCache(t)
		now := time.Now()
		ch := &Checker{Cache: cache, Methods: []Method{MethodOCSP}, Now: func() time.Time { return now }}
		if _, err := ch.Check(ctx, f.leaf.Cert, f.root.Cert, now); err != nil {
			t.Fatal(err)
		}
		before := f.ocsp.Requests.Load()
		// Two hours later the cached response (nextUpdate = thisUpdate + 1h) is stale; the new
		// response from the server is stale too at that clock, so the check fails, after asking.
		now = now.Add(2 * time.Hour)
		_, err := ch.Check(ctx, f.leaf.Cert, f.root.Cert, now)
		if !errors.Is(err, ErrStale) {
			t.Fatalf("want the fresh fetch to be judged stale at the moved clock, got %v", err)
		}
		if f.ocsp.Requests.Load() != before+1 || cache.Hits() != 0 || cache.Misses() != 2 {
			t.Fatalf("stale entry served? requests %d→%d, stats %+v", before, f.ocsp.Requests.Load(), cache.Stats())
		}
	})
	t.Run("entry not fresh enough for the query is not served", func(t *testing.T) {
		f := newFixture(t)
		cache := newCache(t)
		ch := &Checker{Cache: cache, Methods: []Method{MethodOCSP}, OCSP: OCSPClient{Freshness: Freshness{Skew: DefaultSkew}}}
		ev1, err := ch.Check(ctx, f.leaf.Cert, f.root.Cert, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		// Final check: evidence must be produced after T+grace; the cached one is older.
		f.ocsp.Set(func(c *revtest.OCSPConfig) { c.ProducedAt = ev1.ProducedAt().Add(2 * time.Minute) })
		ev2, err := ch.CheckQuery(ctx, Query{Cert: f.leaf.Cert, Issuer: f.root.Cert, At: time.Now(),
			OCSPProducedAfter: ev1.ProducedAt().Add(time.Minute)})
		if err != nil || ev2.FromCache {
			t.Fatalf("want a fresh fetch: %v cached=%v", err, ev2 != nil && ev2.FromCache)
		}
		// Asking about a time after the entry's nextUpdate is not answered from the cache either.
		ev3, err := ch.Check(ctx, f.leaf.Cert, f.root.Cert, ev2.NextUpdate().Add(time.Minute))
		if err != nil || ev3.FromCache {
			t.Fatalf("want a fresh fetch for a later T: %v", err)
		}
	})
}

// testDirCache checks what only a cache on disk does.
func testDirCache(t *testing.T) {
	ctx := context.Background()
	t.Run("survives a new Cache on the same directory", func(t *testing.T) {
		f := newFixture(t)
		dir := t.TempDir()
		c1, _ := NewDirCache(dir)
		if _, err := (&Checker{Cache: c1}).Check(ctx, f.leaf.Cert, f.root.Cert, time.Now()); err != nil {
			t.Fatal(err)
		}
		f.ocsp.Close()
		f.crl.Close()
		c2, _ := NewDirCache(dir)
		ev, err := (&Checker{Cache: c2}).Check(ctx, f.leaf.Cert, f.root.Cert, time.Now())
		if err != nil || !ev.FromCache || c2.Hits() != 1 {
			t.Fatalf("not persisted: %v", err)
		}
	})
	t.Run("corrupt cache file ignored", func(t *testing.T) {
		f := newFixture(t)
		dir := t.TempDir()
		cache, _ := NewDirCache(dir)
		ch := &Checker{Cache: cache, Methods: []Method{MethodOCSP}}
		if _, err := ch.Check(ctx, f.leaf.Cert, f.root.Cert, time.Now()); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, OCSPCacheKey(f.root.Cert, f.leaf.Cert.SerialNumber)+".rev")
		good, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range [][]byte{
			[]byte("garbage"),
			good[:len(good)/2], // valid header, truncated DER
			append(append([]byte{}, good[:len(good)-1]...), good[len(good)-1]^1), // flipped signature byte
		} {
			if err := os.WriteFile(file, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			before := f.ocsp.Requests.Load()
			ev, err := ch.Check(ctx, f.leaf.Cert, f.root.Cert, time.Now())
			if err != nil || ev.FromCache || f.ocsp.Requests.Load() != before+1 {
				t.Fatalf("corrupt entry not replaced by a fetch: %v", err)
			}
		}
		if cache.Stats().Corrupt != 1 || cache.Hits() != 0 {
			t.Fatalf("stats %+v", cache.Stats())
		}
		// After the refetch the entry is good again.
		if ev, err := ch.Check(ctx, f.leaf.Cert, f.root.Cert, time.Now()); err != nil || !ev.FromCache {
			t.Fatalf("entry not rewritten: %v", err)
		}
	})
	t.Run("layered caches of two processes share the back", func(t *testing.T) {
		// Two processors, each with a memory front over one shared store. A's front still holds the
		// response it fetched at t0, stale at t0+2h; B fetched a newer one since. A uses B's instead of
		// asking the (now unreachable) responder again.
		f := newFixture(t)
		dir := t.TempDir()
		cA, _ := NewLayeredDirCache(dir)
		cB, _ := NewLayeredDirCache(dir)
		t0 := time.Now().Truncate(time.Minute)
		now := t0
		clock := func() time.Time { return now }
		chA := &Checker{Cache: cA, Methods: []Method{MethodOCSP}, Now: clock}
		chB := &Checker{Cache: cB, Methods: []Method{MethodOCSP}, Now: clock}
		f.ocsp.Set(func(c *revtest.OCSPConfig) { c.ThisUpdate, c.NextUpdate, c.ProducedAt = t0, t0.Add(time.Hour), t0 })
		first, err := chA.Check(ctx, f.leaf.Cert, f.root.Cert, now)
		if err != nil || first.FromCache {
			t.Fatalf("A's first check: %v", err)
		}
		now = t0.Add(2 * time.Hour)
		f.ocsp.Set(func(c *revtest.OCSPConfig) {
			c.ThisUpdate, c.NextUpdate, c.ProducedAt = now.Add(-time.Minute), now.Add(time.Hour), now.Add(-time.Minute)
		})
		newer, err := chB.Check(ctx, f.leaf.Cert, f.root.Cert, now)
		if err != nil || newer.FromCache {
			t.Fatalf("B's check: %v", err)
		}
		f.ocsp.Close()
		ev, err := chA.Check(ctx, f.leaf.Cert, f.root.Cert, now)
		if err != nil || !ev.FromCache || string(ev.Raw) != string(newer.Raw) {
			t.Fatalf("A did not use B's evidence from the shared store: %v", err)
		}
		// And it is now in A's front: a second lookup is served without reading the back.
		if err := os.Remove(filepath.Join(dir, OCSPCacheKey(f.root.Cert, f.leaf.Cert.SerialNumber)+".rev")); err != nil {
			t.Fatal(err)
		}
		if ev, err := chA.Check(ctx, f.leaf.Cert, f.root.Cert, now); err != nil || !ev.FromCache {
			t.Fatalf("A's front did not keep the refreshed entry: %v", err)
		}
	})
	t.Run("store rejects path-like keys", func(t *testing.T) {
		s, _ := NewDirStore(t.TempDir())
		for _, k := range []string{"../x", "a/b", "", "A"} {
			if err := s.Put(k, []byte("x")); err == nil {
				t.Errorf("key %q accepted", k)
			}
		}
	})
}

// Concurrent checks share one cache (run with -race): every lookup is counted once, nothing fails.
func TestCacheConcurrent(t *testing.T) {
	for _, k := range cacheKinds {
		t.Run(k.name, func(t *testing.T) { testCacheConcurrent(t, k.mk(t)) })
	}
}

func testCacheConcurrent(t *testing.T, cache *Cache) {
	f := newFixture(t)
	ch := &Checker{Cache: cache, Methods: []Method{MethodOCSP}}
	certs := []*revtest.Identity{f.leaf, f.root.Issue(t, revtest.Spec{Name: "b", OCSP: []string{f.ocsp.URL}})}
	const workers, each = 6, 15
	errs := make(chan error, workers*each)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := ch.Check(context.Background(), certs[(w+i)%2].Cert, f.root.Cert, time.Now()); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if s := cache.Stats(); s.Hits+s.Misses != workers*each || s.Hits == 0 {
		t.Fatalf("stats %+v", s)
	}
}
