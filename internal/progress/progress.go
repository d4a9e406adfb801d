// Package progress shows how far long work has come (SPEC §9): a bar on the terminal, and nothing at
// all when the output is not a terminal (a pipe, a file, a log, a test's buffer), so that scripts and
// logs never see escape codes. The bar is github.com/schollz/progressbar/v3, throttled to a few
// redraws a second; the work's own output is unaffected.
//
// A nil *Bar is valid and does nothing: callers create one with New and use it without checking.
// Reader and Writer wrap an io.Reader or io.Writer so that the bytes going through advance the bar,
// which is how an upload or a file read reports progress.
package progress

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Bar is one progress bar. Not safe for concurrent use.
type Bar struct {
	bar *progressbar.ProgressBar
}

// IsTerminal reports whether w is an *os.File connected to a terminal: where a bar is drawn.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// New returns a bar for work of total units (bytes when bytes is true, items otherwise), described by
// what (bilingual and short, e.g. "ellenőrzés / validating"), drawn on w when w is a terminal. It
// returns nil, a bar that does nothing, when w is not a terminal or total is not positive.
func New(w io.Writer, total int64, what string, bytes bool) *Bar {
	if total <= 0 || !IsTerminal(w) {
		return nil
	}
	return newBar(w, total, what, bytes)
}

// newBar draws on w whatever it is (tests draw on a buffer).
func newBar(w io.Writer, total int64, what string, bytes bool) *Bar {
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(200 * time.Millisecond),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
	}
	if bytes {
		opts = append(opts, progressbar.OptionShowBytes(true))
	}
	return &Bar{bar: progressbar.NewOptions64(total, opts...)}
}

// Add advances the bar by n units.
func (b *Bar) Add(n int64) {
	if b != nil && n > 0 {
		_ = b.bar.Add64(n)
	}
}

// Set puts the bar at n units done.
func (b *Bar) Set(n int64) {
	if b != nil {
		_ = b.bar.Set64(n)
	}
}

// Finish completes the bar and clears it from the terminal.
func (b *Bar) Finish() {
	if b != nil {
		_ = b.bar.Finish()
	}
}

// Reader returns r, advancing the bar by every byte read from it.
func (b *Bar) Reader(r io.Reader) io.Reader {
	if b == nil {
		return r
	}
	return &reader{r: r, b: b}
}

// Writer returns w, advancing the bar by every byte written to it.
func (b *Bar) Writer(w io.Writer) io.Writer {
	if b == nil {
		return w
	}
	return &writer{w: w, b: b}
}

type reader struct {
	r io.Reader
	b *Bar
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.b.Add(int64(n))
	return n, err
}

type writer struct {
	w io.Writer
	b *Bar
}

func (w *writer) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.b.Add(int64(n))
	return n, err
}

// Spin shows a spinner described by what on w while work without a measurable size runs (an XSD
// validation inside libxml2, a signature); stop clears it. Off a terminal it does nothing.
func Spin(w io.Writer, what string) (stop func()) {
	if !IsTerminal(w) {
		return func() {}
	}
	return spin(w, what, 100*time.Millisecond)
}

func spin(w io.Writer, what string, every time.Duration) (stop func()) {
	bar := progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
	)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = bar.Add(1)
			}
		}
	}()
	var once bool
	return func() {
		if once {
			return
		}
		once = true
		close(done)
		<-finished
		_ = bar.Finish()
	}
}
