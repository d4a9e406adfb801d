package libxml

import (
	"io"
	"os"
	"syscall"
	"testing"
)

// captureFD2 runs fn with file descriptor 2 redirected to a pipe and returns what was written to it.
// libxml2 prints through C stdio, which Go's os.Stderr redirection would not catch.
func captureFD2(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved, err := syscall.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Dup3(int(w.Fd()), 2, 0); err != nil {
		t.Fatal(err)
	}
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	fn()
	syscall.Dup3(saved, 2, 0)
	syscall.Close(saved)
	w.Close()
	out := <-done
	r.Close()
	return out
}

// TestNoStderrNoise: refusing hostile or broken input must not make libxml2 print to the process's
// standard error (a server would spray attacker-controlled text into its logs); every failure is
// reported through the returned error only.
func TestNoStderrNoise(t *testing.T) {
	out := captureFD2(t, func() {
		for _, doc := range []string{"<a>\n<b></a>", "<!DOCTYPE a><a/>", "<a>&x;</a>", "<a>\xff</a>", "<a xmlns:p='urn:p'><p:b xmlns:p=''/></a>"} {
			if d, err := Parse([]byte(doc)); err == nil {
				d.Close()
			}
		}
		if d, err := Parse([]byte(`<a xmlns="relative"><b/></a>`)); err == nil {
			for _, m := range []Method{C14N10, C14N11, ExcC14N10} {
				d.Canonicalize(C14N{Method: m})
				d.CanonicalizeTo(io.Discard, d.Root(), C14N{Method: m})
			}
			d.Close()
		}
		if s, err := CompileSchema("bad", []byte(`<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="a" type="nope"/></xs:schema>`)); err == nil {
			s.Close()
		}
		if s, err := CompileSchema("bad", []byte(`<xs:schema`)); err == nil {
			s.Close()
		}
		s, err := CompileSchema("ok", []byte(memXSD))
		if err == nil {
			if d, err := Parse([]byte(`<r xmlns="urn:r"><n>x</n></r>`)); err == nil {
				s.Validate(d)
				d.Close()
			}
			s.Close()
		}
	})
	if out != "" {
		t.Fatalf("libxml2 wrote to stderr:\n%s", out)
	}
}
