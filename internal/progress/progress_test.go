package progress

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestNothingOffTerminal: off a terminal New gives the do-nothing bar, and the wrapped reader and
// writer pass every byte unchanged.
func TestNothingOffTerminal(t *testing.T) {
	var out bytes.Buffer
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, w := range []io.Writer{&out, f, io.Discard} {
		if b := New(w, 100, "x", true); b != nil {
			t.Fatalf("a bar on %T", w)
		}
	}
	var b *Bar
	data := []byte(strings.Repeat("abc", 1000))
	var got bytes.Buffer
	n, err := io.Copy(b.Writer(&got), b.Reader(bytes.NewReader(data)))
	if err != nil || n != int64(len(data)) || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("copy through a nil bar: %d %v", n, err)
	}
	b.Add(5)
	b.Set(7)
	b.Finish()
	if out.Len() != 0 {
		t.Errorf("wrote %q off a terminal", out.String())
	}
}

// TestDrawsAndCounts: a bar counts the bytes that go through its reader and writer and draws on the
// terminal it was given.
func TestDrawsAndCounts(t *testing.T) {
	var screen bytes.Buffer
	b := newBar(&screen, 6000, "olvasás / reading", true)
	io.Copy(b.Writer(io.Discard), b.Reader(bytes.NewReader(make([]byte, 3000))))
	if got := b.bar.State().CurrentNum; got != 6000 {
		t.Errorf("counted %d bytes, want 6000 (read and written)", got)
	}
	b.Finish()
	if !strings.Contains(screen.String(), "olvasás / reading") {
		t.Errorf("screen: %q", screen.String())
	}
}

// TestOnAPseudoTerminal: New draws on a real terminal.
func TestOnAPseudoTerminal(t *testing.T) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	defer m.Close()
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pts: %v", err)
	}
	defer s.Close()
	if !IsTerminal(s) {
		t.Fatal("the pseudo-terminal is not a terminal")
	}
	b := New(s, 10, "munka / work", false)
	if b == nil {
		t.Fatal("no bar on a terminal")
	}
	b.Add(10)
	b.Finish()
	buf := make([]byte, 4096)
	m.SetReadDeadline(timeNowPlus())
	k, _ := m.Read(buf)
	if !strings.Contains(string(buf[:k]), "munka / work") {
		t.Errorf("terminal got %q", buf[:k])
	}
}

func timeNowPlus() time.Time { return time.Now().Add(5 * time.Second) }

// TestSpin: off a terminal the spinner does nothing; on one it draws its description and stop clears
// it (and may be called twice).
func TestSpin(t *testing.T) {
	var out bytes.Buffer
	stop := Spin(&out, "x")
	stop()
	if out.Len() != 0 {
		t.Errorf("spinner off a terminal wrote %q", out.String())
	}
	var screen syncBuffer
	stop = spin(&screen, "ellenőrzés / validating", time.Millisecond)
	for !strings.Contains(screen.String(), "ellenőrzés / validating") {
		time.Sleep(time.Millisecond) // waits for a condition, not for a time
	}
	stop()
	stop()
}

// syncBuffer is a bytes.Buffer safe for the spinner's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
