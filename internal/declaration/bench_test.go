package declaration_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/synth"
	"github.com/tagdij/tagdij/schema"
)

// The 100,000-member document is built only when a benchmark asks for it, so `go test` stays fast.
var big = sync.OnceValues(func() ([]byte, error) {
	d := synth.Generate(synth.Options{Members: 100_000, Seed: 1, Period: declaration.Period{Year: 2026, Month: time.October}})
	return d.Marshal()
})

const declarationXSD = "../../schema/tagdijbevallas.xsd" // go test runs in the package directory

// BenchmarkValidate100k measures what the processor does with a decrypted declaration: hardened parse,
// XSD validation, decoding into the model, and the content rules (declaration.Validate).
//
// Peak memory cannot be read inside this process: every earlier iteration (and the generation of the
// document) leaves pages behind in the Go and C heaps. So after timing, one validation runs in a fresh
// process (this test binary re-executed) that reports its own peak RSS (peak-RSS-MiB), and where GNU
// time is installed, xmllint --noout --schema on the same file is measured the same way
// (xmllint-peak-RSS-MiB, mem-ratio = ours/xmllint). A child's rusage cannot be used for that: on Linux
// its ru_maxrss includes the parent's peak from before exec.
func BenchmarkValidate100k(b *testing.B) {
	data, err := big()
	if err != nil {
		b.Fatal(err)
	}
	set, err := schema.Load(libxml.Parser{})
	if err != nil {
		b.Fatal(err)
	}
	defer set.Close()
	ctx := declaration.CheckContext{Now: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}
	settle()
	b.ResetTimer()
	for b.Loop() {
		d, findings, err := declaration.Validate(data, set, ctx)
		if err != nil || d == nil || len(findings) != 0 {
			b.Fatalf("Validate: %v, %v", err, findings)
		}
	}
	b.ReportMetric(float64(len(data))/1e6/(b.Elapsed().Seconds()/float64(b.N)), "MB/s")
	b.StopTimer()

	file := filepath.Join(b.TempDir(), "bevallas.xml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		b.Fatal(err)
	}
	ours := peakOfHelper(b, file)
	if ours <= 0 {
		return
	}
	b.ReportMetric(float64(ours)/(1<<20), "peak-RSS-MiB")
	if ref := peakOfTool(b, "xmllint", "--noout", "--nonet", "--schema", declarationXSD, file); ref > 0 {
		b.ReportMetric(float64(ref)/(1<<20), "xmllint-peak-RSS-MiB")
		b.ReportMetric(float64(ours)/float64(ref), "mem-ratio")
	}
}

const peakEnv = "TAGDIJ_DECLARATION_PEAK_FILE"

// TestValidatePeakHelper is the fresh process of BenchmarkValidate100k: it reads the file named by
// $TAGDIJ_DECLARATION_PEAK_FILE as the sender's validate command does (whole file, schemas compiled,
// declaration.Validate) and prints its own peak RSS. Without that variable it does nothing.
func TestValidatePeakHelper(t *testing.T) {
	file := os.Getenv(peakEnv)
	if file == "" {
		t.Skip("helper process for BenchmarkValidate100k")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	set, err := schema.Load(libxml.Parser{})
	if err != nil {
		t.Fatal(err)
	}
	d, findings, err := declaration.Validate(data, set, declaration.CheckContext{Now: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)})
	if err != nil || d == nil || len(findings) != 0 {
		t.Fatalf("Validate: %v, %v", err, findings)
	}
	fmt.Printf("peak-rss-bytes %d\n", procStatus("VmHWM:"))
}

// peakOfHelper runs TestValidatePeakHelper in a new process; 0 where that or VmHWM is unavailable.
func peakOfHelper(b *testing.B, file string) int64 {
	cmd := exec.Command(os.Args[0], "-test.run=^TestValidatePeakHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), peakEnv+"="+file)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Logf("peak helper: %v\n%s", err, out)
		return 0
	}
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "peak-rss-bytes "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			return n
		}
	}
	return 0
}

// peakOfTool runs a command under GNU time and returns its peak RSS; 0 without GNU time or the tool.
func peakOfTool(b *testing.B, name string, args ...string) int64 {
	const gnuTime = "/usr/bin/time"
	if _, err := os.Stat(gnuTime); err != nil {
		return 0
	}
	if _, err := exec.LookPath(name); err != nil {
		return 0
	}
	report := filepath.Join(b.TempDir(), "time.out")
	cmd := exec.Command(gnuTime, append([]string{"-f", "%M", "-o", report, name}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Logf("%s: %v\n%s", name, err, out)
		return 0
	}
	raw, err := os.ReadFile(report)
	if err != nil {
		return 0
	}
	kb, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	if err != nil {
		return 0
	}
	return kb << 10
}

// BenchmarkXSD100k measures our schema validation alone (hardened parse + XSD, as schema.Set.ValidateBytes
// does it, tree freed) beside `xmllint --noout --schema` on the same bytes, run as a subprocess in the
// same iteration, so both see the same machine load. Metrics: MB/s and cpu-MB/s for each, and the
// ratios ours/xmllint of wall time and of CPU time (above 1: we are slower). ns/op covers both runs.
// Without xmllint only our figures are reported.
func BenchmarkXSD100k(b *testing.B) {
	data, err := big()
	if err != nil {
		b.Fatal(err)
	}
	set, err := schema.Load(libxml.Parser{})
	if err != nil {
		b.Fatal(err)
	}
	defer set.Close()
	xmllint, lookErr := exec.LookPath("xmllint")
	file := filepath.Join(b.TempDir(), "bevallas.xml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		b.Fatal(err)
	}
	if lookErr != nil {
		b.Logf("xmllint not found (%v): no reference figures", lookErr)
	}
	var ours, ref usage
	settle()
	b.ResetTimer()
	for b.Loop() {
		w0, c0 := time.Now(), cpuTime()
		if err := set.ValidateBytes(schema.Declaration, data); err != nil {
			b.Fatal(err)
		}
		ours.add(time.Since(w0), cpuTime()-c0)
		if lookErr == nil {
			ref.add(runReference(b, xmllint, "--noout", "--nonet", "--schema", declarationXSD, file))
		}
	}
	mb := float64(len(data)) / 1e6
	n := float64(b.N)
	b.ReportMetric(mb*n/ours.wall.Seconds(), "MB/s")
	b.ReportMetric(mb*n/ours.cpu.Seconds(), "cpu-MB/s")
	if ref.wall > 0 {
		b.ReportMetric(mb*n/ref.wall.Seconds(), "xmllint-MB/s")
		b.ReportMetric(mb*n/ref.cpu.Seconds(), "xmllint-cpu-MB/s")
		b.ReportMetric(ours.wall.Seconds()/ref.wall.Seconds(), "time-ratio")
		b.ReportMetric(ours.cpu.Seconds()/ref.cpu.Seconds(), "cpu-ratio")
	}
}

// settle collects the garbage generating the document left, so that a short run (-benchtime 1x) does
// not charge that collection to the code measured.
func settle() { debug.FreeOSMemory() }

type usage struct{ wall, cpu time.Duration }

func (u *usage) add(wall, cpu time.Duration) { u.wall += wall; u.cpu += cpu }

// runReference runs a reference tool and returns its wall-clock and CPU (user + system) time.
func runReference(b *testing.B, name string, args ...string) (wall, cpu time.Duration) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	wall = time.Since(t0)
	if err != nil {
		b.Fatalf("%s: %v\n%s", name, err, out)
	}
	return wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// cpuTime is this process's user + system CPU time (all threads: libxml2's and the Go runtime's).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procStatus reads a size field of /proc/self/status in bytes, 0 if unknown.
func procStatus(key string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), key); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// BenchmarkCheck100k isolates the content rules.
func BenchmarkCheck100k(b *testing.B) {
	d := synth.Generate(synth.Options{Members: 100_000, Seed: 1, Period: declaration.Period{Year: 2026, Month: time.October}})
	ctx := declaration.CheckContext{Now: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}
	for b.Loop() {
		declaration.Check(d, ctx)
	}
}
