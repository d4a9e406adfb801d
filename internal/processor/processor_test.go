package processor_test

import (
	"bytes"
	"context"
	"crypto"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tagdij/tagdij/archive"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/payload"
	"github.com/tagdij/tagdij/internal/processor"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/internal/xades"
	"github.com/tagdij/tagdij/policy"
)

// TestProcessed: an accepted package waits until its grace period is over; then the final check
// finds it valid, the signatures are extended (XAdES-X-L + ArchiveTimeStamp) beside the unchanged
// original in the archive, the declaration is decrypted and checked, handed off with its summary, and
// the status says processed. A second pass does nothing.
func TestProcessed(t *testing.T) {
	r := newRig(t)
	sum, data := r.submit(t, receivertest.PackageOptions{Members: 4, Signers: []int{0, 1}})
	if s := r.run(t); s.Jobs() != 0 {
		t.Fatalf("a job ran before its grace period was over: %+v", s)
	}
	r.afterGrace()
	if s := r.run(t); s.Processed != 1 || s.Jobs() != 1 {
		t.Fatalf("summary %+v", s)
	}
	st := r.status(t, sum)
	p := st.Processing
	if st.Status != string(processor.Processed) || p == nil || !p.Done || p.FinalState != receipt.Valid || p.ArchiveID == "" {
		t.Fatalf("status %+v %+v", st, p)
	}
	e := r.entry(t, sum)
	if e.ID != p.ArchiveID || e.Outcome != string(processor.Processed) || e.Extended == nil {
		t.Fatalf("archive entry %+v", e)
	}
	ctx := context.Background()
	orig, err := r.Arch.Read(ctx, e, archive.Original)
	if err != nil || !bytes.Equal(orig, data) {
		t.Fatalf("the archived original differs from the package received (%v)", err)
	}
	ext, err := r.Arch.Read(ctx, e, archive.Extended)
	if err != nil {
		t.Fatal(err)
	}
	// The extended package verifies offline, a year later, on what it carries.
	checkExtendedOffline(t, r, ext, time.Hour*24*365)

	hs, dir := summaryOf(t, r.HandOff, sum)
	if hs.Outcome != string(processor.Processed) || hs.FinalState != string(receipt.Valid) || hs.Declaration == nil ||
		hs.Declaration.Items != 4 || hs.ArchiveID != e.ID || hs.SubmissionID == "" {
		t.Errorf("hand-off summary %+v", hs)
	}
	decl, err := os.ReadFile(filepath.Join(dir, processor.HandOffDeclaration))
	if err != nil {
		t.Fatal(err)
	}
	enc := r.SB.World.MustEntity(sandbox.FundEncryption)
	want, err := pack.Open(data, enc.Cert, enc.Key.(crypto.Decrypter), payload.Limits{})
	if err != nil || !bytes.Equal(decl, want) {
		t.Errorf("the handed-off declaration is not the package's (%v)", err)
	}
	if s := r.run(t); s.Jobs() != 0 {
		t.Errorf("a second pass ran %d jobs", s.Jobs())
	}
	if n := len(r.handOffs(t)); n != 1 {
		t.Errorf("%d hand-offs", n)
	}
}

// checkExtendedOffline verifies an extended package with an offline trust environment at now+later.
func checkExtendedOffline(t *testing.T, r *rig, ext []byte, later time.Duration) {
	t.Helper()
	root := r.SB.World.MustEntity(sandbox.RootCA)
	off, err := trust.Load(trust.Config{SignerAnchors: []string{root.Files.Cert}, TSAAnchors: []string{root.Files.Cert}, Offline: true}, r.SB.Dir, r.Policy)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := xades.Verify(context.Background(), ext, xades.VerifyOptions{Env: off, Kind: policy.KindPackage, Now: r.SB.Clock.Now().Add(later), Mode: es3.Strict})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict.Indication != report.TotalPassed {
		t.Fatalf("extended package offline: %s/%s %+v", rep.Verdict.Indication, rep.Verdict.Sub, rep.AllFindings())
	}
	for _, s := range rep.Signatures {
		if s.Level != "A" {
			t.Errorf("signature %s at level %q", s.ID, s.Level)
		}
	}
}

// TestRenewal: the renewal pass leaves an archive time-stamp alone while it is far from its end, and
// when it is due (here: a margin beyond the sandbox TSA certificate's life) archives a renewed
// extended package as a new entry naming its predecessor, which stays; the renewed package carries
// one more archive time-stamp and still verifies offline; the archive stays intact; a package that
// ended invalid (no extended package) is not touched.
func TestRenewal(t *testing.T) {
	r := newRig(t)
	sum, _ := r.submit(t, receivertest.PackageOptions{})
	other, _ := r.submit(t, receivertest.PackageOptions{})
	before := r.SB.Clock.Now().Add(-time.Second)
	invalid, _ := r.submit(t, receivertest.PackageOptions{Employer: "minta"})
	signer, _ := r.SB.World.Signers("minta")
	r.SB.Revoke(t, signer[0].Name, sandbox.ReasonKeyCompromise, before)
	r.afterGrace()
	if s := r.run(t); s.Processed != 2 || s.FinalInvalid != 1 {
		t.Fatalf("summary %+v", s)
	}
	ctx := context.Background()
	first := r.entry(t, sum)
	s, err := r.Proc.RunRenewal(ctx, r.Arch, time.Hour)
	if err != nil || s.Checked != 2 || s.Renewed != 0 || s.Errors != 0 || s.Next.IsZero() {
		t.Fatalf("far from the end: %+v %v", s, err)
	}
	tsa := r.SB.World.MustEntity(sandbox.TSAUnit)
	margin := tsa.Cert.NotAfter.Sub(r.SB.Clock.Now()) + 24*time.Hour
	s, err = r.Proc.RunRenewal(ctx, r.Arch, margin)
	if err != nil || s.Checked != 2 || s.Renewed != 2 || s.Errors != 0 {
		t.Fatalf("due: %+v %v", s, err)
	}
	for _, p := range [][32]byte{other, invalid} {
		vs, _ := r.Arch.Versions(ctx, p)
		if want := map[bool]int{true: 2, false: 1}[p == other]; len(vs) != want {
			t.Errorf("%x: %d versions, want %d", p[:4], len(vs), want)
		}
	}
	versions, err := r.Arch.Versions(ctx, sum)
	if err != nil || len(versions) != 2 || versions[0].ID != first.ID || versions[1].Renews != first.ID {
		t.Fatalf("versions %+v %v", versions, err)
	}
	old, _ := r.Arch.Read(ctx, versions[0], archive.Extended)
	renewed, err := r.Arch.Read(ctx, versions[1], archive.Extended)
	if err != nil {
		t.Fatal(err)
	}
	if n0, n1 := bytes.Count(old, []byte("ArchiveTimeStamp ")), bytes.Count(renewed, []byte("ArchiveTimeStamp ")); n1 <= n0 {
		t.Errorf("archive time-stamps: %d before, %d after renewal", n0, n1)
	}
	checkExtendedOffline(t, r, renewed, 24*time.Hour*365)
}
