package xades

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/revocation"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
	"github.com/tagdij/tagdij/internal/tsp"
	"github.com/tagdij/tagdij/internal/xades/props"
	"github.com/tagdij/tagdij/policy"
)

// archivedPackage is a package signed by the first n pelda signers, time-stamped and extended after
// the grace period (XAdES-A, one archive time-stamp per signature).
func (f *fixture) archivedPackage(t *testing.T, n int) ([]byte, []string) {
	t.Helper()
	pkg, ids := f.signedPackage(t, n)
	f.afterGrace()
	ext, rep, err := Extend(context.Background(), pkg, ExtendOptions{Verify: VerifyOptions{Env: f.env, Kind: policy.KindPackage, Now: f.sb.Clock.Now()}, TSA: f.tsa})
	if err != nil {
		t.Fatalf("Extend: %v %+v", err, rep)
	}
	return ext, ids
}

func (f *fixture) renew(t *testing.T, data []byte) []byte {
	t.Helper()
	out, ids, err := Renew(context.Background(), data, RenewOptions{TSA: f.tsa, Env: f.env, Now: f.sb.Clock.Now()})
	if err != nil || len(ids) == 0 {
		t.Fatalf("Renew: %v %v", ids, err)
	}
	return out
}

// unsignedOf parses the unsigned properties of every signature of data, by signature Id.
func unsignedOf(t *testing.T, data []byte) map[string]*props.UnsignedProperties {
	t.Helper()
	d, err := es3.Parse(data, es3.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	out := map[string]*props.UnsignedProperties{}
	for _, s := range d.Signatures {
		p, err := locate(s.Node)
		if err != nil {
			t.Fatal(err)
		}
		up, err := parseUnsigned(d.Doc(), p)
		if err != nil || up == nil {
			t.Fatalf("signature %s: unsigned properties %v", s.ID, err)
		}
		out[s.ID] = up
	}
	return out
}

func kindNames(up *props.UnsignedProperties) string {
	var s []string
	for _, k := range up.Kinds() {
		s = append(s, k.String())
	}
	return strings.Join(s, " ")
}

// archiveTokens returns the parsed tokens of the signature's archive time-stamps, in order.
func archiveTokens(t *testing.T, up *props.UnsignedProperties) []*tsp.Token {
	t.Helper()
	_, extra := embedded(up)
	var out []*tsp.Token
	for _, p := range up.Of(props.KindArchiveTimeStamp) {
		tok, err := tsp.ParseToken(p.TimeStamp.Tokens[0], extra...)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tok)
	}
	return out
}

// TestRenew: renewal adds, before each new archive time-stamp, the validation data of the archive
// time-stamps it covers that the signature does not carry yet; the renewed package verifies offline
// ten years later, when every TSA certificate in it has expired, for us, for the auditor and (its
// signatures) for xmlsec1; the data is what the verifier rests on: without it the covered time-stamp's
// TSA is unproven.
func TestRenew(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ext, ids := f.archivedPackage(t, 2)
	tsaUnit, tsaCA := f.sb.World.MustEntity(sandbox.TSAUnit), f.sb.World.MustEntity(sandbox.TSACA)

	// First renewal, two hours on. The first archive time-stamp was made seconds after Extend fetched
	// its TSA's evidence (the same sandbox TSA stamps everything), which was current at its genTime:
	// the signature carries all it needs, and only the time-stamp is added.
	f.sb.Clock.Advance(2 * time.Hour)
	r1 := f.renew(t, ext)
	if !isInsertionOf(ext, r1, len(ids)+1) {
		t.Fatal("Renew rewrote bytes instead of inserting")
	}
	for id, up := range unsignedOf(t, r1) {
		if got := kindNames(up); !strings.HasSuffix(got, "TimeStampValidationData ArchiveTimeStamp ArchiveTimeStamp") {
			t.Fatalf("%s after the first renewal: %s", id, got)
		}
	}

	// Second renewal, two hours later still: the second archive time-stamp postdates the nextUpdate of
	// every piece of evidence in the signature, so its TSA's current evidence is fetched and added.
	f.sb.Clock.Advance(2 * time.Hour)
	renewedAt := f.sb.Clock.Now()
	r2 := f.renew(t, r1)
	if !isInsertionOf(r1, r2, 2*len(ids)+1) {
		t.Fatal("the second Renew rewrote bytes instead of inserting")
	}
	for id, up := range unsignedOf(t, r2) {
		kinds := up.Kinds()
		if got := kindNames(up); !strings.HasSuffix(got, "ArchiveTimeStamp ArchiveTimeStamp TimeStampValidationData ArchiveTimeStamp") {
			t.Fatalf("%s after the second renewal: %s", id, got)
		}
		vd := up.Properties[len(kinds)-2].ValidationData
		ats := up.Of(props.KindArchiveTimeStamp)
		if vd == nil || vd.URI != "#"+ats[1].TimeStamp.ID {
			t.Fatalf("%s: the validation data does not name the archive time-stamp it serves: %+v", id, vd)
		}
		if vd.CertificateValues != nil {
			t.Errorf("%s: certificates the signature already carries were added again: %d", id, len(vd.CertificateValues.Certs))
		}
		// The evidence: current at the renewal, about the TSA unit and its CA, after the covered
		// time-stamp's genTime.
		prev := archiveTokens(t, up)[1]
		about := map[string]bool{}
		for _, der := range vd.RevocationValues.OCSP {
			for _, who := range []*sandbox.Entity{tsaUnit, tsaCA} {
				issuer := f.sb.World.MustEntity(who.Issuer)
				ev, err := revocation.VerifyOCSP(der, who.Cert, issuer.Cert, revocation.OCSPVerifyOptions{Now: renewedAt})
				if err == nil && ev.Status == revocation.StatusGood && !ev.ProducedAt().Before(prev.GenTime.Truncate(time.Minute)) {
					about[who.Name] = true
				}
			}
		}
		if !about[tsaUnit.Name] || !about[tsaCA.Name] || len(vd.RevocationValues.OCSP) != 2 {
			t.Fatalf("%s: evidence for %v in %d OCSP responses, want the TSA unit's and its CA's", id, about, len(vd.RevocationValues.OCSP))
		}
	}

	offline := *f.env
	offline.Online = nil
	later := f.sb.Clock.Now().AddDate(10, 0, 0)
	if !later.After(tsaUnit.Cert.NotAfter) {
		t.Fatalf("ten years later (%v) is not after the TSA certificate's notAfter (%v)", later, tsaUnit.Cert.NotAfter)
	}
	for name, data := range map[string][]byte{"renewed once": r1, "renewed twice": r2} {
		d := f.verify(t, data, policy.KindPackage, &offline, later)
		expect(t, name+", offline ten years later", d, report.TotalPassed, "", "")
		for _, s := range d.Signatures {
			if s.Level != "A" {
				t.Fatalf("%s: signature %s level %q", name, s.ID, s.Level)
			}
			n := 0
			for _, ts := range s.Timestamps {
				if ts.Kind == "ArchiveTimeStamp" && ts.OK {
					n++
				}
			}
			if want := map[string]int{"renewed once": 2, "renewed twice": 3}[name]; n != want {
				t.Fatalf("%s: %d verified archive time-stamps, want %d", name, n, want)
			}
			tsaEvidence := 0
			for _, ev := range s.Evidence {
				if ev.About == tsaUnit.Cert.Subject.String() && ev.Source == "embedded" {
					tsaEvidence++
				}
			}
			// The SignatureTimeStamp's TSA, and each covered archive time-stamp's.
			if want := map[string]int{"renewed once": 2, "renewed twice": 3}[name]; tsaEvidence != want {
				t.Fatalf("%s: %d pieces of embedded TSA evidence in the report, want %d: %+v", name, tsaEvidence, want, s.Evidence)
			}
		}
	}
	if acc, outs := f.xmlsecVerify(t, r2); len(acc) != len(ids) {
		t.Fatalf("xmlsec1 accepted %v of %v:\n%s", acc, ids, strings.Join(outs, "\n"))
	}
	auditorVerify(t, f, r2, later, 0, string(report.TotalPassed))

	// The old renewal, without the data: the covered time-stamp's TSA has nothing to rest on offline.
	var todo []*sigState
	for _, id := range ids {
		todo = append(todo, &sigState{id: id})
	}
	bare, err := addArchiveTimeStamps(ctx, r1, todo, f.tsa, libxml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	d := f.verify(t, bare, policy.KindPackage, &offline, later)
	expect(t, "renewed without validation data, offline", d, report.Indeterminate, report.TryLater, errcode.A011)
	if !slices.ContainsFunc(d.Signatures[0].Verdict.Findings, func(fd errcode.Finding) bool {
		return fd.Code == errcode.A011 && strings.Contains(fd.Location, "ArchiveTimeStamp 2 TSA")
	}) {
		t.Fatalf("no A011 naming the second archive time-stamp's TSA: %+v", d.Signatures[0].Verdict.Findings)
	}
	auditorVerify(t, f, bare, later, 2, string(report.Indeterminate))
	// Online, now, the verifier fetches what is missing.
	d = f.verify(t, bare, policy.KindPackage, nil, time.Time{})
	expect(t, "renewed without validation data, online", d, report.TotalPassed, "", "")
}

// TestRenewRefusals: renewal stops, adding nothing, when the TSA chain of a time-stamp it would cover
// cannot be validated now.
func TestRenewRefusals(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		setup func(f *fixture, prevGen time.Time)
		want  string // in the error, besides ErrRenewalEvidence
	}{
		{"TSA revoked before the covered time-stamp", func(f *fixture, prevGen time.Time) {
			f.sb.Revoke(t, sandbox.TSAUnit, sandbox.ReasonKeyCompromise, prevGen.Add(-time.Minute))
		}, "A005"},
		{"OCSP and CRLs down", func(f *fixture, _ time.Time) {
			f.sb.Stop(sandboxtest.OCSP)
			f.sb.Stop(sandboxtest.CRL)
		}, "A011"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ext, _ := f.archivedPackage(t, 1)
			f.sb.Clock.Advance(2 * time.Hour)
			r1 := f.renew(t, ext)
			var prevGen time.Time
			for _, up := range unsignedOf(t, r1) {
				prevGen = archiveTokens(t, up)[1].GenTime
			}
			tc.setup(f, prevGen)
			f.sb.Clock.Advance(2 * time.Hour)
			out, ids, err := Renew(ctx, r1, RenewOptions{TSA: f.tsa, Env: f.env, Now: f.sb.Clock.Now()})
			if !errors.Is(err, ErrRenewalEvidence) || !strings.Contains(err.Error(), tc.want) || out != nil || ids != nil {
				t.Fatalf("Renew: %v (%d bytes, %v), want ErrRenewalEvidence with %s", err, len(out), ids, tc.want)
			}
		})
	}
	f := newFixture(t)
	ext, _ := f.archivedPackage(t, 1)
	if _, _, err := Renew(ctx, ext, RenewOptions{TSA: f.tsa}); err == nil {
		t.Fatal("Renew without a trust environment")
	}
	// A package without archive time-stamps has nothing to renew.
	pkg, _ := f.signedPackage(t, 1)
	if out, ids, err := Renew(ctx, pkg, RenewOptions{TSA: f.tsa, Env: f.env}); err != nil || ids != nil || !bytes.Equal(out, pkg) {
		t.Fatalf("unextended package: %v %v", ids, err)
	}
}

// TestRenewalDue: when a dossier's archive time-stamps need renewing, under an injected clock, from
// the last archive time-stamp's TSA certificate (the sandbox TSA's expires five years after the
// sandbox was made); the algorithm sunsets are table-tested in package policy.
func TestRenewalDue(t *testing.T) {
	f := newFixture(t)
	ext, ids := f.archivedPackage(t, 2)
	f.sb.Clock.Advance(time.Hour)
	renewed := f.renew(t, ext)
	na := f.sb.World.MustEntity(sandbox.TSAUnit).Cert.NotAfter
	day := 24 * time.Hour
	for _, tc := range []struct {
		name   string
		data   []byte
		now    time.Time
		margin time.Duration
		due    bool
		at     time.Time
	}{
		{"extended, a year before the TSA expires", ext, na.AddDate(-1, 0, 0), 0, false, na.Add(-180 * day)},
		{"extended, a day before the default margin", ext, na.Add(-181 * day), 0, false, na.Add(-180 * day)},
		{"extended, at the default margin", ext, na.Add(-180 * day), 0, true, na.Add(-180 * day)},
		{"extended, inside the default margin", ext, na.Add(-10 * day), 0, true, na.Add(-180 * day)},
		{"extended, after the TSA expired", ext, na.Add(day), 0, true, na.Add(-180 * day)},
		{"a 30-day margin, 31 days before", ext, na.Add(-31 * day), 30 * day, false, na.Add(-30 * day)},
		{"a 30-day margin, 29 days before", ext, na.Add(-29 * day), 30 * day, true, na.Add(-30 * day)},
		{"renewed by the same TSA: the same deadline", renewed, na.Add(-179 * day), 0, true, na.Add(-180 * day)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := RenewalDue(tc.data, RenewalOptions{Policy: f.pol, Now: tc.now, Margin: tc.margin})
			if err != nil {
				t.Fatal(err)
			}
			if r.Due != tc.due || !r.At.Equal(tc.at) || !slices.Contains(ids, r.Signature) ||
				!strings.Contains(r.Reason.EN, "TSA certificate") || !strings.Contains(r.Reason.HU, "lejár") {
				t.Fatalf("%+v, want due %v at %v", r, tc.due, tc.at)
			}
		})
	}
	pkg, _ := f.signedPackage(t, 1)
	if _, err := RenewalDue(pkg, RenewalOptions{Policy: f.pol}); !errors.Is(err, ErrNotArchived) {
		t.Fatalf("unextended package: %v", err)
	}
	if _, err := RenewalDue(ext, RenewalOptions{}); err == nil {
		t.Fatal("no policy: no error")
	}
	if _, err := RenewalDue([]byte("<nem/>"), RenewalOptions{Policy: f.pol}); !errors.Is(err, ErrRefused) {
		t.Fatalf("not a dossier: %v", err)
	}
}

// auditorVerify runs `auditor verify` (built from this module) offline on data at time at with the
// sandbox's trust configuration, and checks its exit status and JSON verdict.
func auditorVerify(t *testing.T, f *fixture, data []byte, at time.Time, wantExit int, wantIndication string) {
	t.Helper()
	bin := buildAuditor(t)
	dir := t.TempDir()
	file := filepath.Join(dir, pkgTitle)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "verify", file, "--trust", filepath.Join(f.sb.Dir, sandbox.TrustConfigFile), "--policy", "sandbox",
		"--at", at.UTC().Format(time.RFC3339), "--format", "json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Verdict struct {
			Indication string `json:"indication"`
		} `json:"verdict"`
	}
	if jerr := json.Unmarshal(stdout.Bytes(), &res); jerr != nil || code != wantExit || res.Verdict.Indication != wantIndication {
		t.Fatalf("auditor verify: exit %d (want %d), indication %q (want %s), %v\n%s\n%s", code, wantExit,
			res.Verdict.Indication, wantIndication, jerr, stdout.String(), stderr.String())
	}
}

// buildAuditor builds cmd/auditor into a temporary directory with the toolchain running the test.
func buildAuditor(t *testing.T) string {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command to build the auditor with")
		}
	}
	bin := filepath.Join(t.TempDir(), "auditor")
	if out, err := exec.Command(goBin, "build", "-o", bin, "github.com/tagdij/tagdij/cmd/auditor").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
