package libxml

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/memstat"
)

// floodUnits are the repeated pieces of flood documents: many cheap nodes, each costing libxml2 far
// more C heap than its bytes (see Limits).
var floodUnits = map[string]string{
	// 63 attributes per element, as reported in issue 7 (40 s and 7.6 GB for 100 MB in auditor verify).
	"attributes": func() string {
		var b strings.Builder
		b.WriteString("<e")
		for i := range 63 {
			fmt.Fprintf(&b, " a%d=\"\"", i)
		}
		b.WriteString("/>")
		return b.String()
	}(),
	"empty elements": "<e/>",
	"comments":       "<!---->",
	"PIs":            "<?p?>",
	"text nodes":     "<e/>x",
	// Every element name different: libxml2 2.9 interns names in a dictionary whose lookups slow
	// down as it grows (25 s for 1,000,000 names in 10 MB).
	"distinct names": "<a%d/>",
	// The densest shapes DefaultLimits accept: one tree node per 12 bytes.
	"elements and blanks":   "<e/>" + strings.Repeat(" ", 20),
	"attributes and blanks": `<e a="" b="" c=""/>` + strings.Repeat(" ", 77),
	// The densest shapes VerifierLimits accept: one tree node per 24 bytes.
	"elements and more blanks":   "<e/>" + strings.Repeat(" ", 44),
	"attributes and more blanks": `<e a="" b="" c=""/>` + strings.Repeat(" ", 173),
}

// floodDoc returns a document of at most size bytes: "<r>", unit repeated (with %d in unit replaced
// by the repetition's number), a comment of about pad bytes, "</r>". It is allocated once at its final
// size, so that building it leaves no garbage: a process holding it has the document resident and
// little else.
func floodDoc(unit string, size, pad int) []byte {
	const frame = len("<r></r><!---->")
	b := make([]byte, 0, max(size, frame+pad))
	b = append(b, "<r>"...)
	numbered := strings.Contains(unit, "%d")
	for i := 0; ; i++ {
		piece := unit
		if numbered {
			piece = fmt.Sprintf(unit, i)
		}
		if len(b)+len(piece)+frame+pad > cap(b) {
			break
		}
		b = append(b, piece...)
	}
	if pad > 0 {
		b = append(b, "<!--"...)
		for range pad {
			b = append(b, 'x')
		}
		b = append(b, "-->"...)
	}
	return append(b, "</r>"...)
}

// floodSpec names a flood document; the child process builds it from the spec alone.
type floodSpec struct {
	Unit     string // key of floodUnits
	Size     int    // bytes
	Pad      int    // bytes of comment padding
	Verifier bool   // parse under VerifierLimits instead of DefaultLimits
}

func (spec floodSpec) limits() Limits {
	if spec.Verifier {
		return VerifierLimits()
	}
	return DefaultLimits()
}

// build returns the document spec names: a flood, or for Unit "declaration" a declaration-shaped
// document of Size bytes (the shape the floods are compared with).
func (spec floodSpec) build() ([]byte, error) {
	if spec.Unit == "declaration" {
		return declaration(spec.Size), nil
	}
	unit, ok := floodUnits[spec.Unit]
	if !ok {
		return nil, fmt.Errorf("no flood unit %q", spec.Unit)
	}
	return floodDoc(unit, spec.Size, spec.Pad), nil
}

// floodResult is what the child measured around one Parse.
type floodResult struct {
	Bytes     int
	Err       string // "" when accepted
	Limit     bool   // refused with ErrLimit
	Prescan   bool   // the pre-scan alone refuses it the same way
	RSSBefore uint64 // resident set with the document built, before Parse
	PeakRSS   uint64 // peak resident set of the process (VmHWM), document included
	CPU       time.Duration
	Wall      time.Duration
}

const floodEnv = "TAGDIJ_LIBXML_FLOOD"

// TestFloodChild is the fresh process of TestFloodMemory and BenchmarkFlood: it builds the document
// named by $TAGDIJ_LIBXML_FLOOD (a JSON floodSpec), parses it once under DefaultLimits and prints a
// JSON floodResult. A fresh process is the only honest peak: in the test binary, earlier tests leave
// pages behind in both the Go and the C heap. Without the variable it does nothing.
func TestFloodChild(t *testing.T) {
	raw := os.Getenv(floodEnv)
	if raw == "" {
		t.Skip("helper process for TestFloodMemory")
	}
	var spec floodSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		t.Fatal(err)
	}
	data, err := spec.build()
	if err != nil {
		t.Fatal(err)
	}
	debug.FreeOSMemory()
	memstat.ResetPeakRSS()
	var res floodResult
	res.Bytes = len(data)
	res.RSSBefore, _ = memstat.PeakRSS()
	c0, w0 := cpuTime(), time.Now()
	d, err := Parser{Limits: spec.limits()}.Parse(data)
	res.CPU, res.Wall = cpuTime()-c0, time.Since(w0)
	res.PeakRSS, _ = memstat.PeakRSS()
	if err != nil {
		res.Err = err.Error()
		res.Limit = errors.Is(err, ErrLimit)
		pre := prescan(data, spec.limits())
		res.Prescan = pre != nil && pre.Error() == err.Error()
	} else {
		d.Close()
	}
	runtime.KeepAlive(data)
	out, _ := json.Marshal(res)
	fmt.Printf("flood-result %s\n", out)
}

// runFlood measures spec in a fresh process (this test binary re-executed).
func runFlood(t testing.TB, spec floodSpec) floodResult {
	t.Helper()
	raw, _ := json.Marshal(spec)
	cmd := exec.Command(os.Args[0], "-test.run=^TestFloodChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), floodEnv+"="+string(raw))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("flood child %s: %v\n%s", raw, err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "flood-result "); ok {
			var res floodResult
			if err := json.Unmarshal([]byte(rest), &res); err != nil {
				t.Fatal(err)
			}
			return res
		}
	}
	t.Fatalf("flood child %s printed no result:\n%s", raw, out)
	return floodResult{}
}

// memoryGoal is the peak resident set a parse of n bytes may reach, the document itself included:
// the tree bound of DefaultLimits (128 B per tree node: 128·BaseTreeNodes + 128/12 per input byte,
// that is 64 MiB + 10.7n), plus a margin of 1.5n for the document held in Go memory and copies of
// texts and comments, plus 32 MiB for the Go runtime and libxml2's parser state.
func memoryGoal(n int) uint64 {
	return uint64(12.2*float64(n)) + 96<<20
}

// verifierGoal is issue 7's goal for what the verifiers parse (VerifierLimits): 8 times the input plus
// 64 MiB, plus 32 MiB for the Go runtime and the test binary itself.
func verifierGoal(n int) uint64 {
	return 8*uint64(n) + 96<<20
}

// TestFloodMemory parses flood documents in a fresh process each and checks that every one is
// either refused with ErrLimit by the pre-scan (so before libxml2 allocates anything: the peak
// resident set grows by less than 16 MiB) or parsed within memoryGoal, and in at most 1 s of CPU
// per 10 MB plus 1 s. The floods of issue 7 (63 attributes per element at 30 and 100 MB, 7.9
// million empty elements, 7.9 million comments) cost 1 to 7.6 GB before the tree-node budget; the
// "and blanks" documents are the densest shapes the defaults accept.
func TestFloodMemory(t *testing.T) {
	if _, ok := memstat.PeakRSS(); !ok {
		t.Skip("no VmHWM in /proc/self/status: peak RSS cannot be measured here")
	}
	cases := []struct {
		spec   floodSpec
		accept bool
	}{
		{floodSpec{Unit: "attributes", Size: 30 << 20}, false},
		{floodSpec{Unit: "attributes", Size: 100 << 20}, false},
		{floodSpec{Unit: "empty elements", Size: 7_900_000 * 4}, false},
		{floodSpec{Unit: "comments", Size: 7_900_000 * 7}, false},
		{floodSpec{Unit: "PIs", Size: 40 << 20}, false},
		{floodSpec{Unit: "text nodes", Size: 40 << 20}, false},
		{floodSpec{Unit: "distinct names", Size: 10 << 20}, false},
		{floodSpec{Unit: "empty elements", Size: 30 << 20, Pad: 20 << 20}, true},
		{floodSpec{Unit: "elements and blanks", Size: 30 << 20}, true},
		{floodSpec{Unit: "attributes and blanks", Size: 30 << 20}, true},
		// What the receiver and the auditor parse: the same floods refused, the densest shapes the
		// verifier limits admit within 8× + 64 MiB.
		{floodSpec{Unit: "attributes", Size: 100 << 20, Verifier: true}, false},
		{floodSpec{Unit: "elements and blanks", Size: 30 << 20, Verifier: true}, false},
		{floodSpec{Unit: "elements and more blanks", Size: 30 << 20, Verifier: true}, true},
		{floodSpec{Unit: "attributes and more blanks", Size: 30 << 20, Verifier: true}, true},
		{floodSpec{Unit: "empty elements", Size: 30 << 20, Pad: 25 << 20, Verifier: true}, true},
	}
	for _, c := range cases {
		name := fmt.Sprintf("%s %d MB pad %d MB", c.spec.Unit, c.spec.Size>>20, c.spec.Pad>>20)
		goal := memoryGoal
		if c.spec.Verifier {
			name += " verifier"
			goal = verifierGoal
		}
		t.Run(name, func(t *testing.T) {
			res := runFlood(t, c.spec)
			grown := int64(res.PeakRSS) - int64(res.RSSBefore)
			t.Logf("%d bytes: %s; peak RSS %d MiB (%.1f× input), %d MiB before Parse; cpu %v, wall %v",
				res.Bytes, orAccepted(res.Err), res.PeakRSS>>20, float64(res.PeakRSS)/float64(res.Bytes), res.RSSBefore>>20, res.CPU, res.Wall)
			if res.Err != "" {
				if !res.Limit || !res.Prescan {
					t.Errorf("refused, but not for a limit by the pre-scan: %s", res.Err)
				}
				if grown > 16<<20 {
					t.Errorf("refusing grew the peak resident set by %d MiB", grown>>20)
				}
			} else if res.PeakRSS > goal(res.Bytes) {
				t.Errorf("accepted with a peak of %d MiB, above the goal of %d MiB", res.PeakRSS>>20, goal(res.Bytes)>>20)
			}
			if (res.Err == "") != c.accept {
				t.Errorf("accepted = %v, want %v: the defaults moved (update the case)", res.Err == "", c.accept)
			}
			if limit := time.Second + time.Duration(res.Bytes)*time.Second/10e6; res.CPU > limit {
				t.Errorf("took %v of CPU, more than %v", res.CPU, limit)
			}
		})
	}
}

func orAccepted(err string) string {
	if err == "" {
		return "accepted"
	}
	return err
}
