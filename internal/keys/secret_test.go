package keys

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestParseSecretSource(t *testing.T) {
	tests := []struct {
		spec string
		want string // String() of the result; "" means an error
	}{
		{"", "prompt:"},
		{"prompt", "prompt:"},
		{"prompt:", "prompt:"},
		{"prompt:Token PIN", "prompt:"},
		{"file:/run/secrets/pin", "file:/run/secrets/pin"},
		{"file:relative/path:with:colons", "file:relative/path:with:colons"},
		{"env:TAGDIJ_PIN", "env:TAGDIJ_PIN"},
		{"file:", ""},
		{"env:", ""},
		{"env:A=B", ""},
		{"pass:hunter2", ""},
		{"hunter2", ""},
		{"FILE:/x", ""},
		{"stdin", ""},
	}
	for _, tc := range tests {
		s, err := ParseSecretSource(tc.spec)
		if tc.want == "" {
			if err == nil {
				t.Errorf("ParseSecretSource(%q) accepted", tc.spec)
			} else if strings.Contains(err.Error(), tc.spec) && tc.spec != "file:" && tc.spec != "env:" {
				t.Errorf("ParseSecretSource(%q): error echoes the input: %v", tc.spec, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSecretSource(%q): %v", tc.spec, err)
			continue
		}
		if s.String() != tc.want {
			t.Errorf("ParseSecretSource(%q) = %s, want %s", tc.spec, s, tc.want)
		}
	}
}

func TestSecretFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tests := []struct {
		name    string
		content []byte
		want    string
		ok      bool
	}{
		{"plain", []byte("titok"), "titok", true},
		{"newline", []byte("titok\n"), "titok", true},
		{"crlf", []byte("titok\r\n"), "titok", true},
		{"only one newline stripped", []byte("titok\n\n"), "titok\n", true},
		{"inner spaces kept", []byte(" ti tok \n"), " ti tok ", true},
		{"empty", []byte(""), "", true},
		{"too large", bytes.Repeat([]byte("a"), maxSecretFileSize+1), "", false},
		{"largest allowed", bytes.Repeat([]byte("a"), maxSecretFileSize), strings.Repeat("a", maxSecretFileSize), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			if err := os.WriteFile(p, tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := ParseSecretSource("file:" + p)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Read(ctx)
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, ok want %v", err, tc.ok)
			}
			if tc.ok && string(got) != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	s, _ := ParseSecretSource("file:" + filepath.Join(dir, "missing"))
	if _, err := s.Read(ctx); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestSecretEnv(t *testing.T) {
	ctx := context.Background()
	t.Setenv("KEYS_TEST_SECRET", "környezeti")
	t.Setenv("KEYS_TEST_EMPTY", "")
	for _, tc := range []struct {
		name, want string
		ok         bool
	}{
		{"KEYS_TEST_SECRET", "környezeti", true},
		{"KEYS_TEST_EMPTY", "", true},
		{"KEYS_TEST_UNSET_VARIABLE", "", false},
	} {
		s, err := ParseSecretSource("env:" + tc.name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Read(ctx)
		if tc.ok != (err == nil) || string(got) != tc.want {
			t.Errorf("env:%s = %q, %v", tc.name, got, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	s, _ := ParseSecretSource("env:KEYS_TEST_SECRET")
	if _, err := s.Read(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestSecretBytesCopies(t *testing.T) {
	orig := SecretBytes("abc")
	b, err := orig.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	Wipe(b)
	if string(orig) != "abc" {
		t.Error("wiping the returned secret changed the source")
	}
	if !bytes.Equal(b, make([]byte, 3)) {
		t.Error("Wipe did not zero")
	}
}

func TestSecretPromptNeedsTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	w.WriteString("titok\n")
	var out bytes.Buffer
	s, _ := ParseSecretSource("prompt:")
	if _, err := s.WithTerminal(r, &out).Read(context.Background()); err == nil || !strings.Contains(err.Error(), "terminal") {
		t.Fatalf("prompt on a pipe: err = %v, want a terminal error", err)
	}
	if out.Len() != 0 {
		t.Errorf("prompt written although no terminal: %q", out.String())
	}
}

// openPTY opens a pseudo-terminal pair with x/sys/unix.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Skipf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("open pts: %v", err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

func TestSecretPromptTerminal(t *testing.T) {
	master, slave := openPTY(t)
	var out bytes.Buffer
	s, _ := ParseSecretSource("")
	s = s.WithPrompt("Token PIN").WithTerminal(slave, &out)
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := s.Read(context.Background())
		done <- result{b, err}
	}()
	// Type only once the reader has switched echo off, as a person would
	// after seeing the prompt; typed earlier, the line discipline echoes.
	waitEchoOff(t, slave)
	if _, err := master.WriteString("1234-pin\n"); err != nil {
		t.Fatal(err)
	}
	r := <-done
	got, err := r.b, r.err
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "1234-pin" {
		t.Errorf("got %q", got)
	}
	if !strings.HasPrefix(out.String(), "Token PIN: ") {
		t.Errorf("prompt = %q", out.String())
	}
	// Echo was off: the terminal did not send the typed PIN back.
	// (Poll, not a read deadline: a pty master is not always pollable by
	// the Go runtime, and a plain Read would block for ever.)
	var echoed []byte
	fds := []unix.PollFd{{Fd: int32(master.Fd()), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 200)
		if err != nil || n == 0 || fds[0].Revents&unix.POLLIN == 0 {
			break
		}
		buf := make([]byte, 256)
		m, err := unix.Read(int(master.Fd()), buf)
		if err != nil || m <= 0 {
			break
		}
		echoed = append(echoed, buf[:m]...)
	}
	if bytes.Contains(echoed, []byte("1234-pin")) {
		t.Errorf("PIN echoed: %q", echoed)
	}

	// The specification's own prompt text wins over the program's.
	s2, _ := ParseSecretSource("prompt:Aláíró PIN")
	out.Reset()
	master.WriteString("x\n")
	if _, err := s2.WithPrompt("Token PIN").WithTerminal(slave, &out).Read(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "Aláíró PIN: ") {
		t.Errorf("prompt = %q", out.String())
	}
}

func waitEchoOff(t *testing.T, tty *os.File) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		if tio.Lflag&unix.ECHO == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("echo was never switched off")
}

func TestSecretPromptCancel(t *testing.T) {
	master, slave := openPTY(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	s, _ := ParseSecretSource("prompt:")
	start := time.Now()
	_, err := s.WithTerminal(slave, new(bytes.Buffer)).Read(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("cancellation took too long")
	}
	master.WriteString("\n") // release the pending reader
}

func FuzzParseSecretSource(f *testing.F) {
	for _, s := range []string{"", "prompt:", "file:/x", "env:X", "pass:y", "env:A=B", "file:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := ParseSecretSource(spec)
		if err != nil {
			return
		}
		// Only the three named forms are ever accepted.
		str := s.String()
		if !strings.HasPrefix(str, "file:") && !strings.HasPrefix(str, "env:") && str != "prompt:" {
			t.Fatalf("accepted %q as %q", spec, str)
		}
		if str != "prompt:" && str != spec {
			t.Fatalf("%q round-trips as %q", spec, str)
		}
	})
}
