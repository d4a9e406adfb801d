package upload

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/receiver"
)

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"0", 0}, {"5", 5 * time.Second}, {" 60 ", time.Minute}, {"-3", 0}, {"soon", 0},
		{"999999999", 7 * 24 * time.Hour}, {"Mon, 02 Jan 2006 15:04:05 GMT", 0},
	} {
		if got := retryAfter(tc.in); got != tc.want {
			t.Errorf("retryAfter(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	if d := retryAfter(time.Now().AddDate(5, 0, 0).UTC().Format(http.TimeFormat)); d != maxRetryAfter {
		t.Errorf("a date five years away: %s, want the cap %s", d, maxRetryAfter)
	}
	if d := retryAfter("99999999999999999"); d != maxRetryAfter {
		t.Errorf("a huge number of seconds: %s, want the cap %s", d, maxRetryAfter)
	}
	if d := retryAfter(time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)); d < 59*time.Minute || d > time.Hour {
		t.Errorf("HTTP date an hour ahead: %s", d)
	}
}

func TestNewRefusesNonHTTPS(t *testing.T) {
	for _, u := range []string{"http://fund.example/", "fund.example", "https://user:pw@fund.example/", "https:///x", ""} {
		if _, err := New(Options{BaseURL: u}); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
}

// The receiver's certificate must chain to the configured roots: no prompt, no fallback.
func TestTLSTrust(t *testing.T) {
	var got struct {
		name, ctype string
		body        []byte
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/api/v1/packages":
			got.name, got.ctype = r.Header.Get("Content-Disposition"), r.Header.Get("Content-Type")
			got.body, _ = io.ReadAll(r.Body)
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "busy")
		case strings.HasSuffix(r.URL.Path, "/status"):
			sum := sha256.Sum256([]byte("pkg"))
			json.NewEncoder(w).Encode(receiver.StatusJSON{SHA256: hex.EncodeToString(sum[:]), Result: "BEFOGADVA", PreCheck: "ERVENYES",
				Status: "awaiting-final-check", ReceiptID: "r-1", SubmissionID: "s-1", Codes: []string{"W001"}, Received: time.Unix(1e9, 0).UTC()})
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	untrusted, err := New(Options{BaseURL: srv.URL + "/api"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := untrusted.Upload(context.Background(), "p.es3", []byte("pkg")); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("an untrusted server was accepted: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	c, err := New(Options{BaseURL: srv.URL + "/api", Roots: roots})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ans, err := c.Upload(context.Background(), "TBA_x.es3", []byte("pkg"))
	if err != nil || ans.Status != 503 || ans.RetryAfter != 7*time.Second || string(ans.Body) != "busy" {
		t.Fatalf("answer %+v %v", ans, err)
	}
	if got.name != `attachment; filename=TBA_x.es3` || got.ctype != MediaType || string(got.body) != "pkg" {
		t.Errorf("request %+v", got)
	}
	st, err := c.Status(context.Background(), sha256.Sum256([]byte("pkg")))
	if err != nil || st.Status != "awaiting-final-check" || st.ReceiptID != "r-1" || st.SubmissionID != "s-1" || len(st.Codes) != 1 || st.Received.IsZero() {
		t.Errorf("status %+v %v", st, err)
	}
	// An answer about another package is refused; an unknown package is ErrUnknown.
	if _, err := c.Status(context.Background(), sha256.Sum256([]byte("other"))); err == nil {
		t.Error("a status about another package was accepted")
	}
	if _, err := c.Receipt(context.Background(), "nope"); !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown receipt: %v", err)
	}
}
