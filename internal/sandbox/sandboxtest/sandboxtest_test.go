package sandboxtest_test

import (
	"crypto"
	"net/http"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
)

func TestStartServesAndCleansUp(t *testing.T) {
	var url string
	t.Run("inner", func(t *testing.T) {
		start := time.Now()
		env := sandboxtest.Start(t)
		t.Logf("Start with fresh keys: %v", time.Since(start))
		url = env.URL
		if env.World.BaseURL() != env.URL || env.TSAURL != env.URL+"/tsa" || env.CRLURL("root-ca") != env.URL+"/crl/root-ca.crl" {
			t.Errorf("URLs: %+v", env)
		}
		// The qualified CA is issued by the root: caIssuers points at the root on this server.
		if got := env.World.MustEntity(sandbox.QualifiedCA).Cert.IssuingCertificateURL; len(got) != 1 || got[0] != env.CAURL(sandbox.RootCA) {
			t.Errorf("caIssuers %v", got)
		}
		resp, err := http.Get(env.URL + "/healthz")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("healthz: %v", err)
		}
		resp.Body.Close()
		before := env.Clock.Now()
		env.Clock.Advance(time.Hour)
		if d := env.Clock.Now().Sub(before); d < time.Hour || d > time.Hour+time.Second {
			t.Errorf("Advance: %v", d)
		}
	})
	// After the subtest's cleanup the server is gone.
	c := &http.Client{Timeout: 2 * time.Second}
	if resp, err := c.Get(url + "/healthz"); err == nil {
		resp.Body.Close()
		t.Errorf("server still answering after cleanup")
	}
}

func TestSharedKeysAreReusedAcrossSandboxes(t *testing.T) {
	start := time.Now()
	a := sandboxtest.Start(t, sandboxtest.SharedKeys())
	mid := time.Now()
	b := sandboxtest.Start(t, sandboxtest.SharedKeys())
	t.Logf("first shared Start %v, second %v", mid.Sub(start), time.Since(mid))
	ka := a.World.MustEntity("signer-pelda-1").Cert.PublicKey
	kb := b.World.MustEntity("signer-pelda-1").Cert.PublicKey
	if !ka.(interface{ Equal(crypto.PublicKey) bool }).Equal(kb) {
		t.Error("SharedKeys sandboxes got different keys for the same entity")
	}
	if a.World.MustEntity("signer-pelda-1").Serial == b.World.MustEntity("signer-pelda-1").Serial {
		t.Error("serials repeat across sandboxes")
	}
	f := sandboxtest.Start(t, sandboxtest.FreshKeys())
	if ka.(interface{ Equal(crypto.PublicKey) bool }).Equal(f.World.MustEntity("signer-pelda-1").Cert.PublicKey) {
		t.Error("FreshKeys sandbox reused a pooled key")
	}
}

// TestStopResume: a stopped service answers 503 and counts the request; the others keep answering;
// Resume brings it back.
func TestStopResume(t *testing.T) {
	env := sandboxtest.Start(t, sandboxtest.SharedKeys())
	get := func(path string) int {
		t.Helper()
		resp, err := http.Get(env.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	crl := "/crl/" + sandbox.RootCA + ".crl"
	if got := get(crl); got != http.StatusOK {
		t.Fatalf("CRL: %d", got)
	}
	env.Stop(sandboxtest.CRL)
	if got := get(crl); got != http.StatusServiceUnavailable {
		t.Fatalf("stopped CRL: %d", got)
	}
	if got := get("/healthz"); got != http.StatusOK {
		t.Fatalf("healthz with the CRL stopped: %d", got)
	}
	if got := get("/ocsp/x"); got == http.StatusServiceUnavailable {
		t.Fatalf("OCSP refused while only the CRL is stopped")
	}
	env.Resume(sandboxtest.CRL)
	if got := get(crl); got != http.StatusOK {
		t.Fatalf("resumed CRL: %d", got)
	}
	if n := env.Requests(sandboxtest.CRL); n != 3 {
		t.Fatalf("%d CRL requests counted, want 3", n)
	}
	if n := env.Requests(sandboxtest.OCSP); n != 1 {
		t.Fatalf("%d OCSP requests counted, want 1", n)
	}
}

// A frozen clock moves only with Advance; a running one moves with real time.
func TestClockFreeze(t *testing.T) {
	for _, frozen := range []bool{false, true} {
		c := &sandboxtest.Clock{}
		c.Advance(time.Hour)
		if frozen {
			c.Freeze()
		}
		a := c.Now()
		// Wait for real time to move (a condition, not a sleep).
		for r := time.Now(); !time.Now().After(r); {
		}
		if moved := !c.Now().Equal(a); moved == frozen {
			t.Errorf("frozen %v: the clock moved with real time: %v", frozen, moved)
		}
		if frozen {
			c.Advance(5 * time.Second)
			c.Freeze() // a second Freeze does nothing
			if got := c.Now().Sub(a); got != 5*time.Second {
				t.Errorf("Advance on a frozen clock: %v", got)
			}
		}
	}
}
