package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/report"
)

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		pos  []string
		json bool
		n    int
	}{
		{[]string{"a.xml"}, []string{"a.xml"}, false, 0},
		{[]string{"a.xml", "--json"}, []string{"a.xml"}, true, 0},
		{[]string{"--json", "a.xml", "-n", "5", "b.xml"}, []string{"a.xml", "b.xml"}, true, 5},
		{[]string{"--", "--json"}, []string{"--json"}, false, 0},
		{[]string{"a", "--", "-n", "x"}, []string{"a", "-n", "x"}, false, 0},
		{nil, nil, false, 0},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		j := fs.Bool("json", false, "")
		n := fs.Int("n", 0, "")
		pos, err := ParseFlags(fs, tc.args)
		if err != nil || !reflect.DeepEqual(pos, tc.pos) || *j != tc.json || *n != tc.n {
			t.Errorf("ParseFlags(%q) = %q, %v; json=%v n=%d", tc.args, pos, err, *j, *n)
		}
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(new(bytes.Buffer))
	if _, err := ParseFlags(fs, []string{"a", "--nope"}); err == nil {
		t.Error("unknown flag accepted")
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
	}{
		{nil, 0},
		{Exit(ExitInvalid), 1},
		{fmt.Errorf("wrapped: %w", Exit(ExitIncomplete)), 2},
		{Usagef("bad"), 3},
		{errors.New("disk on fire"), 3},
	} {
		if got := ExitCode(tc.err); got != tc.code {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.code)
		}
	}
}

func TestMainDispatch(t *testing.T) {
	var ran []string
	leaf := &Command{Name: "leaf", Summary: "a leaf", Usage: "[--x] ARG",
		Flags: func(fs *flag.FlagSet) { fs.Bool("x", false, "the x flag") },
		Run: func(_ context.Context, env *Env, fs *flag.FlagSet, args []string) error {
			ran = append(ran, fs.Lookup("x").Value.String()+":"+strings.Join(args, ","))
			if len(args) == 0 {
				return Usagef("ARG missing")
			}
			if args[0] == "bad" {
				return &ExitError{Code: ExitInvalid, Msg: "it is bad"}
			}
			return nil
		}}
	cmds := []*Command{{Name: "grp", Summary: "a group", Sub: []*Command{leaf}}}
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"grp", "leaf", "a", "--x"}, 0, "", ""},
		{[]string{"grp", "leaf", "bad"}, 1, "", "it is bad"},
		{[]string{"grp", "leaf"}, 3, "", "ARG missing"},
		{[]string{"grp", "leaf", "--help"}, 0, "the x flag", ""},
		{[]string{"grp", "--help"}, 0, "a leaf", ""},
		{[]string{"grp", "other"}, 3, "", "unknown subcommand"},
		{[]string{}, 3, "", "missing subcommand"},
	} {
		var out, errb bytes.Buffer
		code := Main(context.Background(), &Env{Stdout: &out, Stderr: &errb}, "prog", cmds, tc.args)
		if code != tc.code || !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errb.String(), tc.stderr) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", tc.args, code, out.String(), errb.String())
		}
	}
	if len(ran) == 0 || ran[0] != "true:a" {
		t.Errorf("ran = %q", ran)
	}
}

func TestWriteJSONAndFindings(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, map[string]string{"név": "<Kovács>"}); err != nil {
		t.Fatal(err)
	}
	if b.String() != "{\n  \"név\": \"<Kovács>\"\n}\n" {
		t.Errorf("WriteJSON = %q", b.String())
	}
	b.Reset()
	WriteFindings(&b, []errcode.Finding{errcode.New(errcode.D005, "tétel 3 / item 3", "TAJ 1")})
	want := "E0 D005 tétel 3 / item 3\n   Hibás TAJ szám. (TAJ 1)\n   Invalid TAJ (social security) number. (TAJ 1)\n"
	if b.String() != want {
		t.Errorf("WriteFindings = %q", b.String())
	}
}

func TestIsTerminal(t *testing.T) {
	if IsTerminal(new(bytes.Buffer)) {
		t.Error("a buffer is not a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a regular file is not a terminal")
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out")
	if err := CreateFile(p, func(w io.Writer) error { _, err := w.Write([]byte("12345")); return err }); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(p, 5); err != nil || string(b) != "12345" {
		t.Errorf("ReadFile = %q, %v", b, err)
	}
	if _, err := ReadFile(p, 4); err == nil {
		t.Error("ReadFile ignored the size limit")
	}
	failed := filepath.Join(dir, "failed")
	if err := CreateFile(failed, func(w io.Writer) error { w.Write([]byte("partial")); return errors.New("boom") }); err == nil {
		t.Error("CreateFile hid the error")
	}
	if _, err := os.Stat(failed); !os.IsNotExist(err) {
		t.Error("a failed CreateFile left its file behind")
	}
}

// TestWorstExit: one verdict maps onto SPEC §9's statuses, several onto the worst of them (the
// auditor's rule for many files), and a command's error carries it.
func TestWorstExit(t *testing.T) {
	for _, c := range []struct {
		in   []report.Indication
		want int
	}{
		{nil, ExitOK},
		{[]report.Indication{report.TotalPassed}, ExitOK},
		{[]report.Indication{report.TotalFailed}, ExitInvalid},
		{[]report.Indication{report.Indeterminate}, ExitIncomplete},
		{[]report.Indication{""}, ExitIncomplete},
		{[]report.Indication{report.TotalPassed, report.Indeterminate}, ExitIncomplete},
		{[]report.Indication{report.Indeterminate, report.TotalFailed, report.TotalPassed}, ExitInvalid},
	} {
		if got := WorstExit(c.in...); got != c.want {
			t.Errorf("WorstExit(%v) = %d, want %d", c.in, got, c.want)
		}
		if len(c.in) == 1 && ExitFor(c.in[0]) != c.want {
			t.Errorf("ExitFor(%q) = %d, want %d", c.in[0], ExitFor(c.in[0]), c.want)
		}
		err := VerdictExit(c.in...)
		if got := ExitCode(err); got != c.want || (c.want == ExitOK) != (err == nil) {
			t.Errorf("VerdictExit(%v) = %v (status %d), want status %d", c.in, err, got, c.want)
		}
	}
}
