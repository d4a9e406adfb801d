package trust

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
	"github.com/tagdij/tagdij/policy"
)

// forwardProxy is a real HTTP forward proxy on loopback (absolute-URI requests forwarded by
// httputil.ReverseProxy) that counts what it forwards.
type forwardProxy struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // "METHOD host path" of every forwarded request
}

func newForwardProxy(t *testing.T) *forwardProxy {
	p := &forwardProxy{}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		// A proxy request names its target in the request line; the outgoing request goes there.
		pr.Out.URL.Scheme, pr.Out.URL.Host, pr.Out.Host = pr.In.URL.Scheme, pr.In.URL.Host, pr.In.URL.Host
	}}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !r.URL.IsAbs() {
			http.Error(w, "not a proxy request", http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		p.seen = append(p.seen, r.Method+" "+r.URL.Host+" "+r.URL.Path)
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *forwardProxy) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

// TestRevocationProxy: with trust.proxy set, every OCSP and CRL request goes through the proxy
// (SEC-15), the sandbox on loopback included; with the proxy down, the sandbox — reachable directly —
// is not asked behind its back: the check is TRY_LATER.
func TestRevocationProxy(t *testing.T) {
	ctx := context.Background()
	proxy := newForwardProxy(t)
	for _, tc := range []struct {
		name   string
		method string // "" OCSP first; "crl": the OCSP responder stopped, so CRLs are fetched
	}{{"OCSP through the proxy", ""}, {"CRL through the proxy", "crl"}} {
		t.Run(tc.name, func(t *testing.T) {
			sb, env := worldWith(t, func(_ *policy.Policy, c *Config) { c.Proxy = proxy.URL })
			if tc.method == "crl" {
				sb.Stop(sandboxtest.OCSP)
			}
			before := len(proxy.requests())
			s := signer(t, sb, 0)
			T := sb.Clock.Now()
			sb.Clock.Advance(6 * time.Second)
			r := env.CheckChain(ctx, ChainQuery{Purpose: pathval.PurposeSigner, Leaf: s.Cert, Intermediates: s.Chain, T: T, Now: sb.Clock.Now()})
			expect(t, tc.name, r, report.TotalPassed, report.None, "")
			seen := proxy.requests()[before:]
			host := strings.TrimPrefix(sb.URL, "http://")
			var ocsp, crl int
			for _, s := range seen {
				switch {
				case strings.HasPrefix(s, "POST "+host+" /ocsp"), strings.HasPrefix(s, "GET "+host+" /ocsp/"):
					ocsp++
				case strings.HasPrefix(s, "GET "+host+" /crl/"):
					crl++
				default:
					t.Errorf("unexpected request through the proxy: %s", s)
				}
			}
			// Every request the sandbox's revocation services saw came through the proxy.
			if got := int64(ocsp + crl); got == 0 || got != sb.Requests(sandboxtest.OCSP)+sb.Requests(sandboxtest.CRL) {
				t.Fatalf("proxy forwarded %d OCSP + %d CRL requests, the sandbox saw %d + %d: %v", ocsp, crl,
					sb.Requests(sandboxtest.OCSP), sb.Requests(sandboxtest.CRL), seen)
			}
			if tc.method == "crl" && crl == 0 {
				t.Fatalf("no CRL fetched through the proxy: %v", seen)
			}
		})
	}

	t.Run("proxy down", func(t *testing.T) {
		sb, env := worldWith(t, func(_ *policy.Policy, c *Config) { c.Proxy = closedURL(t, "") })
		s := signer(t, sb, 0)
		T := sb.Clock.Now()
		sb.Clock.Advance(6 * time.Second)
		r := env.CheckChain(ctx, ChainQuery{Purpose: pathval.PurposeSigner, Leaf: s.Cert, Intermediates: s.Chain, T: T, Now: sb.Clock.Now()})
		if r.Verdict.Indication != report.Indeterminate || r.Verdict.Sub != report.TryLater || len(r.Missing) == 0 ||
			r.Missing[0].Reason != ReasonUnreachable {
			t.Fatalf("with the proxy down: %s/%s %+v", r.Verdict.Indication, r.Verdict.Sub, r.Missing)
		}
		if n := sb.Requests(sandboxtest.OCSP) + sb.Requests(sandboxtest.CRL); n != 0 {
			t.Fatalf("%d requests reached the sandbox around the proxy", n)
		}
	})
}

// TestLoadProxy: the proxy setting is checked when the configuration loads.
func TestLoadProxy(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	pol, err := policy.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	root := sb.World.MustEntity(sandbox.RootCA).Files.Cert
	for _, tc := range []struct {
		proxy string
		ok    bool
	}{
		{"", true}, {"http://proxy.fund.local:3128", true}, {"https://proxy.fund.local", true},
		{"socks5://proxy.fund.local:1080", false}, {"http://user:secret@proxy.fund.local:3128", false},
		{"http://", false}, {"proxy.fund.local:3128", false}, {"://x", false},
	} {
		env, err := Load(Config{SignerAnchors: []string{root}, TSAAnchors: []string{root}, Proxy: tc.proxy}, sb.Dir, pol)
		switch {
		case tc.ok && err != nil:
			t.Errorf("proxy %q: %v", tc.proxy, err)
		case !tc.ok && (err == nil || !errors.Is(err, ErrProxy) || !strings.Contains(err.Error(), "hibás proxy / bad proxy")):
			t.Errorf("proxy %q: %v, want ErrProxy", tc.proxy, err)
		case tc.ok && tc.proxy != "" && (env.Online.OCSP.HTTP == nil || env.Online.OCSP.HTTP != env.Online.CRL.HTTP):
			t.Errorf("proxy %q: the OCSP and CRL clients do not share the proxy client", tc.proxy)
		case tc.ok && tc.proxy == "" && (env.Online.OCSP.HTTP != nil || env.Online.CRL.HTTP != nil):
			t.Errorf("no proxy: clients %v %v, want the defaults", env.Online.OCSP.HTTP, env.Online.CRL.HTTP)
		}
	}
}
