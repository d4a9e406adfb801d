package siglog

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestOpen: the log directory and file are created private, records are JSON lines naming the
// program, a second Open appends, and Close leaves the file closed.
func TestOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	for i, prog := range []string{"tagdij-sender", "tagdij-receiver"} {
		log, c, err := Open(dir, prog)
		if err != nil {
			t.Fatal(err)
		}
		log.Info("signature verified", "event", "signature.verified", "n", i)
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err == nil {
			t.Error("a second Close succeeded: the file was not closed")
		}
	}
	for name, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, FileName): 0o600} {
		st, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", name, st.Mode().Perm(), want)
		}
	}
	f, err := os.Open(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		lines = append(lines, rec)
	}
	if len(lines) != 2 || lines[0]["program"] != "tagdij-sender" || lines[1]["program"] != "tagdij-receiver" ||
		lines[1]["event"] != "signature.verified" || lines[1]["n"] != float64(1) {
		t.Fatalf("log lines %v", lines)
	}
}

// TestOpenError: a state directory that cannot be created is an error, not a silently lost log.
func TestOpenError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(filepath.Join(file, "state"), "p"); err == nil {
		t.Fatal("Open below a regular file succeeded")
	}
}
