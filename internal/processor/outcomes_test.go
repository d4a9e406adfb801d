package processor_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/memstat"
	"github.com/tagdij/tagdij/internal/processor"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
)

func marshal(t *testing.T, d *declaration.Declaration) []byte {
	t.Helper()
	b, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestContentOutcomes: packages whose signatures are finally valid but whose content is hostile or
// wrong end as content-rejected with the right code — a zip bomb (D002), a package the fund's key
// cannot open (D001), a declaration breaking the schema (D003), totals that do not add up (D004), a
// declarant other than the registered one and the signed metadata's (D009), a submission id other
// than the metadata's (F009), a self-revision naming no real predecessor (D008) — all in one pass of
// one processor, which then still processes a good package; a different company name is only a
// warning. Nothing rejected is handed off with plaintext.
func TestContentOutcomes(t *testing.T) {
	r := newRig(t)
	minta, err := r.SB.World.Employer("minta")
	if err != nil {
		t.Fatal(err)
	}
	tax := r.SB.World.MustEntity(sandbox.TaxEncryption)
	cases := []struct {
		name    string
		opts    receivertest.PackageOptions
		outcome processor.Outcome
		code    errcode.Code
	}{
		{"zip bomb", receivertest.PackageOptions{Zip: receivertest.ZipBomb(t, 2048)}, processor.ContentRejected, errcode.D002},
		{"not encrypted to the fund", receivertest.PackageOptions{Recipient: tax.Cert}, processor.ContentRejected, errcode.D001},
		{"schema", receivertest.PackageOptions{Content: func(d *declaration.Declaration) []byte {
			return bytes.Replace(marshal(t, d), []byte("<Letszam>"), []byte("<Letszam>sok"), 1)
		}}, processor.ContentRejected, errcode.D003},
		{"totals", receivertest.PackageOptions{Content: func(d *declaration.Declaration) []byte {
			d.Summary.BaseTotal++
			return marshal(t, d)
		}}, processor.ContentRejected, errcode.D004},
		{"declarant", receivertest.PackageOptions{Content: func(d *declaration.Declaration) []byte {
			d.Declarant.ID.Value = minta.TaxNumber
			return marshal(t, d)
		}}, processor.ContentRejected, errcode.D009},
		{"submission id", receivertest.PackageOptions{Content: func(d *declaration.Declaration) []byte {
			d.Header.ID = "11111111-2222-4333-8444-555555555555"
			return marshal(t, d)
		}}, processor.ContentRejected, errcode.F009},
		{"unknown predecessor", receivertest.PackageOptions{Type: declaration.SelfRevision}, processor.ContentRejected, errcode.D008},
		{"company name differs (warning)", receivertest.PackageOptions{Content: func(d *declaration.Declaration) []byte {
			d.Declarant.Name = "Példa Zrt."
			return marshal(t, d)
		}}, processor.Processed, errcode.D009},
		// More findings than an archive leaf holds codes (one D005 per item): still decided and archived.
		{"a finding per item", receivertest.PackageOptions{Members: 300, Content: func(d *declaration.Declaration) []byte {
			for i := range d.Items {
				d.Items[i].TAJ = "123456789" // wrong check digit
			}
			return marshal(t, d)
		}}, processor.ContentRejected, errcode.D005},
		{"good", receivertest.PackageOptions{}, processor.Processed, ""},
	}
	sums := make([][32]byte, len(cases))
	for i, c := range cases {
		sums[i], _ = r.submit(t, c.opts)
	}
	r.afterGrace()
	runtime.GC()
	before := memstat.HeapNow()
	hs := memstat.StartHeapSampler()
	s := r.run(t)
	peak := hs.Finish()
	if s.Jobs() != len(cases) || s.Errors != 0 || s.TryLater != 0 {
		t.Fatalf("summary %+v", s)
	}
	t.Logf("live heap: %d MiB before the pass, peak %d MiB", before>>20, peak>>20)
	// The bomb (2 GiB of zeros in about 2 MB) is inflated no further than its signed size.
	if grown := int64(peak) - int64(before); grown > 64<<20 {
		t.Errorf("the live heap grew by %d MiB at its peak", grown>>20)
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := r.status(t, sums[i])
			codes := codesOf(st)
			if st.Status != string(c.outcome) || st.Processing.FinalState != receipt.Valid {
				t.Errorf("status %q, final state %q, codes %v", st.Status, st.Processing.FinalState, codes)
			}
			if c.code != "" && !hasCode(codes, c.code) {
				t.Errorf("codes %v, want %s", codes, c.code)
			}
			e := r.entry(t, sums[i])
			if e.Outcome != string(c.outcome) || e.Extended == nil {
				t.Errorf("archive entry: outcome %q, extended %v", e.Outcome, e.Extended != nil)
			}
			hs, dir := summaryOf(t, r.HandOff, sums[i])
			_, err := os.Stat(filepath.Join(dir, processor.HandOffDeclaration))
			if c.outcome == processor.Processed && err != nil {
				t.Errorf("no declaration handed off: %v", err)
			}
			if c.outcome != processor.Processed && err == nil {
				t.Error("the declaration of a rejected package was handed off")
			}
			if hs.Outcome != string(c.outcome) {
				t.Errorf("hand-off outcome %q", hs.Outcome)
			}
			if c.code != "" {
				found := false
				for _, f := range hs.Findings {
					found = found || f.Code == c.code && f.HU != "" && f.EN != ""
				}
				if !found {
					t.Errorf("hand-off findings %+v lack a bilingual %s", hs.Findings, c.code)
				}
			}
		})
	}
}

// TestPredecessor: a self-revision (O) is processed when its predecessor was processed; while the
// predecessor's own final check is pending (here: held by another processor), the revision waits.
func TestPredecessor(t *testing.T) {
	r := newRig(t, func(c *processor.Config) { c.Workers = 1 })
	first, _ := r.submit(t, receivertest.PackageOptions{})
	pred := r.status(t, first).SubmissionID
	rev, _ := r.submit(t, receivertest.PackageOptions{Type: declaration.SelfRevision, Predecessor: pred})
	r.afterGrace()
	ctx := context.Background()
	held, err := r.DB.Claim(ctx, processor.Claim{Owner: "other", Now: r.SB.Clock.Now(), Lease: time.Hour, Limit: 1})
	if err != nil || len(held) != 1 || held[0].SHA256 != first {
		t.Fatalf("holding the predecessor: %v %v", held, err)
	}
	if s := r.run(t); s.TryLater != 1 || s.Jobs() != 1 {
		t.Fatalf("with the predecessor pending: %+v", s)
	}
	if st := r.status(t, rev); st.Status != "awaiting-final-check" || st.Processing.Attempts != 1 || !strings.Contains(st.Processing.LastError, "predecessor") {
		t.Fatalf("revision while its predecessor is pending: %+v %+v", st, st.Processing)
	}
	if _, err := r.DB.Release(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	r.SB.Clock.Advance(r.Cfg.Backoff.Max)
	if s := r.run(t); s.Processed != 2 {
		t.Fatalf("summary %+v", s)
	}
	if st := r.status(t, rev); st.Status != string(processor.Processed) {
		t.Errorf("revision: %q %v", st.Status, codesOf(st))
	}
}

// TestRevocationOutcomes: the final check at the processor — the signer certificate revoked at or
// before T makes the package final-invalid (A005), archived with its report but never decrypted;
// revoked after T it is processed; with the OCSP responder down the CRL decides (after the CRL grace
// period); with both down the job is retried later, its status says why, and once the services are
// back it is processed: nothing lost.
func TestRevocationOutcomes(t *testing.T) {
	t.Run("revoked before T", func(t *testing.T) {
		r := newRig(t)
		before := r.SB.Clock.Now().Add(-time.Second)
		sum, _ := r.submit(t, receivertest.PackageOptions{})
		signer, _ := r.SB.World.Signers("pelda")
		r.SB.Revoke(t, signer[0].Name, sandbox.ReasonKeyCompromise, before)
		r.afterGrace()
		if s := r.run(t); s.FinalInvalid != 1 {
			t.Fatalf("summary %+v", s)
		}
		st := r.status(t, sum)
		if st.Status != string(processor.FinalInvalid) || st.Processing.FinalState != receipt.Invalid || !hasCode(codesOf(st), errcode.A005) {
			t.Errorf("status %q %q %v", st.Status, st.Processing.FinalState, codesOf(st))
		}
		if e := r.entry(t, sum); e.Extended != nil || e.Outcome != string(processor.FinalInvalid) {
			t.Errorf("archive entry: extended %v, outcome %q", e.Extended != nil, e.Outcome)
		}
		hs, dir := summaryOf(t, r.HandOff, sum)
		if _, err := os.Stat(filepath.Join(dir, processor.HandOffDeclaration)); err == nil || hs.Declaration != nil {
			t.Error("an invalid package was decrypted")
		}
	})
	t.Run("revoked after T", func(t *testing.T) {
		r := newRig(t)
		sum, _ := r.submit(t, receivertest.PackageOptions{})
		r.SB.Clock.Advance(time.Second)
		signer, _ := r.SB.World.Signers("pelda")
		r.SB.Revoke(t, signer[0].Name, sandbox.ReasonKeyCompromise, time.Time{})
		r.afterGrace()
		if s := r.run(t); s.Processed != 1 {
			t.Fatalf("summary %+v %v", s, codesOf(r.status(t, sum)))
		}
	})
	t.Run("OCSP down: the CRL decides", func(t *testing.T) {
		r := newRig(t)
		sum, _ := r.submit(t, receivertest.PackageOptions{})
		r.SB.Stop(sandboxtest.OCSP)
		r.afterGrace()
		if s := r.run(t); s.Processed != 1 {
			t.Fatalf("summary %+v %+v", s, r.status(t, sum).Processing)
		}
		ext, err := r.Arch.Read(context.Background(), r.entry(t, sum), "report")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(ext, []byte(`"method": "CRL"`)) && !bytes.Contains(ext, []byte(`"method":"CRL"`)) {
			t.Errorf("the final report names no CRL evidence: %.600s", ext)
		}
	})
	t.Run("OCSP and CRL down: retried later, nothing lost", func(t *testing.T) {
		r := newRig(t)
		sum, _ := r.submit(t, receivertest.PackageOptions{})
		r.SB.Stop(sandboxtest.OCSP)
		r.SB.Stop(sandboxtest.CRL)
		r.afterGrace()
		if s := r.run(t); s.TryLater != 1 || s.Jobs() != 1 {
			t.Fatalf("summary %+v", s)
		}
		st := r.status(t, sum)
		if st.Status != "awaiting-final-check" || st.Processing.Done || st.Processing.Attempts != 1 || st.Processing.LastError == "" ||
			!st.Processing.NextAttempt.After(r.SB.Clock.Now()) || r.archived(t, sum) || len(r.handOffs(t)) != 0 {
			t.Fatalf("after the outage: %+v %+v", st, st.Processing)
		}
		if s := r.run(t); s.Jobs() != 0 {
			t.Errorf("retried before its backoff: %+v", s)
		}
		r.SB.Resume(sandboxtest.OCSP)
		r.SB.Resume(sandboxtest.CRL)
		r.SB.Clock.Advance(r.Cfg.Backoff.Max)
		if s := r.run(t); s.Processed != 1 {
			t.Fatalf("after the outage: %+v %+v", s, r.status(t, sum).Processing)
		}
	})
}

// TestExpiryAlert: a package that cannot become final while its signer certificate nears its
// notAfter raises the alert: a log line, the metric, and the status.
func TestExpiryAlert(t *testing.T) {
	var log syncLog
	reg := prometheus.NewRegistry()
	r := newRig(t, func(c *processor.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&log, nil))
		c.Metrics = processor.NewMetrics(reg)
	})
	signer, _ := r.SB.World.Signers("pelda")
	left := signer[0].Cert.NotAfter.Sub(r.SB.Clock.Now())
	// Two processors over the same store: one alerting only in the last day, one a day beyond the
	// certificate's remaining life.
	quiet, err := processor.New(withConfig(r.Cfg, func(c *processor.Config) { c.AlertBefore = 24 * time.Hour }))
	if err != nil {
		t.Fatal(err)
	}
	loud, err := processor.New(withConfig(r.Cfg, func(c *processor.Config) { c.AlertBefore = left + 24*time.Hour }))
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := r.submit(t, receivertest.PackageOptions{})
	r.SB.Stop(sandboxtest.OCSP)
	r.SB.Stop(sandboxtest.CRL)
	r.afterGrace()
	if s, err := quiet.RunOnce(context.Background()); err != nil || s.TryLater != 1 || s.Alerts != 0 {
		t.Fatalf("quiet: %+v %v", s, err)
	}
	if st := r.status(t, sum); st.Processing.Alert != "" {
		t.Errorf("alert far from the notAfter: %q", st.Processing.Alert)
	}
	r.SB.Clock.Advance(r.Cfg.Backoff.Max)
	if s, err := loud.RunOnce(context.Background()); err != nil || s.TryLater != 1 || s.Alerts != 1 {
		t.Fatalf("loud: %+v %v", s, err)
	}
	st := r.status(t, sum)
	if !strings.Contains(st.Processing.Alert, signer[0].Cert.NotAfter.UTC().Format(time.RFC3339)) {
		t.Errorf("status alert %q", st.Processing.Alert)
	}
	if got := metricValue(t, reg, "tagdij_processor_expiry_alerts_total"); got != 1 {
		t.Errorf("alert metric %v", got)
	}
	if !strings.Contains(log.String(), `"event":"processor.expiry-alert"`) {
		t.Errorf("no alert log line in %s", log.String())
	}
}

func withConfig(c processor.Config, f func(*processor.Config)) processor.Config {
	f(&c)
	return c
}

// metricValue reads a counter or gauge without labels from reg.
func metricValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestTSADownNearExpiry: with the TSA down the extension fails after a valid final check: the job is
// retried later (an error of the fund's side, nothing archived), and near the signer certificate's
// notAfter that raises the expiry alert too; with the TSA back the package is processed.
func TestTSADownNearExpiry(t *testing.T) {
	r := newRig(t)
	signer, _ := r.SB.World.Signers("pelda")
	left := signer[0].Cert.NotAfter.Sub(r.SB.Clock.Now())
	proc, err := processor.New(withConfig(r.Cfg, func(c *processor.Config) { c.AlertBefore = left + 24*time.Hour }))
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := r.submit(t, receivertest.PackageOptions{})
	r.afterGrace()
	r.SB.Stop(sandboxtest.TSA)
	s, err := proc.RunOnce(context.Background())
	if err != nil || s.Errors != 1 || s.Alerts != 1 {
		t.Fatalf("TSA down: %+v %v", s, err)
	}
	st := r.status(t, sum)
	if st.Processing.Done || st.Processing.Alert == "" || !strings.Contains(st.Processing.LastError, "extension") || r.archived(t, sum) {
		t.Fatalf("after the TSA outage: %+v", st.Processing)
	}
	r.SB.Resume(sandboxtest.TSA)
	r.SB.Clock.Advance(r.Cfg.Backoff.Max)
	if s, err := proc.RunOnce(context.Background()); err != nil || s.Processed != 1 {
		t.Fatalf("TSA back: %+v %v", s, err)
	}
}
