package intake_test

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/intake"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
)

// TestAcceptedInsideAndAfterGrace: a good package uploaded inside the grace period is accepted as
// BEFEJEZETLEN with its earliest final-check time; one uploaded after it is ERVENYES. Both receipts
// verify, both packages are stored with their rows and a processor job.
func TestAcceptedInsideAndAfterGrace(t *testing.T) {
	s := receivertest.Start(t, receivertest.Options{})
	data, name := s.Package(t, receivertest.PackageOptions{})
	out := s.Submit(t, data, name)
	if out.Kind != intake.Accepted {
		t.Fatalf("outcome %s %v", out.Kind, out.Codes)
	}
	r := s.VerifyReceipt(t, out.Receipt)
	if r.Result != receipt.Accepted || r.PreCheck.State != receipt.Incomplete || r.EarliestFinalCheck.IsZero() {
		t.Errorf("receipt %s %s final %v", r.Result, r.PreCheck.State, r.EarliestFinalCheck)
	}
	if len(r.PreCheck.Signatures) != 1 || r.PreCheck.Signatures[0].Role != receipt.Alone {
		t.Errorf("signature entries %+v", r.PreCheck.Signatures)
	}
	if !s.Blobs.Has(out.SHA256) {
		t.Error("package not in the blob store")
	}
	st, err := s.DB.PackageStatus(t.Context(), out.SHA256)
	if err != nil || !st.Accepted || st.Status != "awaiting-final-check" {
		t.Errorf("status %+v %v", st, err)
	}

	data2, name2 := s.Package(t, receivertest.PackageOptions{Signers: []int{0, 1}})
	s.SB.Clock.Advance(10 * time.Second)
	out2 := s.Submit(t, data2, name2)
	r2 := s.VerifyReceipt(t, out2.Receipt)
	if out2.Kind != intake.Accepted || r2.PreCheck.State != receipt.Valid {
		t.Errorf("after grace: %s %s %v", out2.Kind, r2.PreCheck.State, out2.Codes)
	}
	if n, _ := s.DB.PendingJobs(t.Context()); n != 2 {
		t.Errorf("%d jobs, want 2", n)
	}
}

func sha256Of(b []byte) [32]byte { return sha256.Sum256(b) }
