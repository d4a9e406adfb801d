package softhsm

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func TestNewToken(t *testing.T) {
	if err := Available(); err != nil {
		t.Skipf("SoftHSM2 not installed: %v", err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	a, err := NewToken(ctx, dir, "elso", "so-1234", "user-1234")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewToken(ctx, dir, "masodik", "so-1234", "user-1234")
	if err != nil {
		t.Fatal(err)
	}
	if a.ConfPath != b.ConfPath || a.Slot == b.Slot {
		t.Errorf("tokens in one dir: conf %s/%s, slots %d/%d", a.ConfPath, b.ConfPath, a.Slot, b.Slot)
	}
	if st, err := os.Stat(a.ModulePath); err != nil || !st.Mode().IsRegular() {
		t.Errorf("module %s: %v", a.ModulePath, err)
	}
	// softhsm2-util, given the token's environment, sees both tokens at
	// the reported slots.
	cmd := exec.Command("softhsm2-util", "--show-slots")
	cmd.Env = append(os.Environ(), a.Env())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []*Token{a, b} {
		if !hasLabel(string(out), tok.Label) || !strings.Contains(string(out), "Slot "+strconv.FormatUint(uint64(tok.Slot), 10)) {
			t.Errorf("token %s (slot %d) not listed", tok.Label, tok.Slot)
		}
	}

	for _, bad := range []string{"elso", "", strings.Repeat("x", 33)} {
		if _, err := NewToken(ctx, dir, bad, "so-1234", "user-1234"); err == nil {
			t.Errorf("NewToken accepted label %q", bad)
		}
	}
}
