package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"mime"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiver"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
	"github.com/tagdij/tagdij/internal/store/sqlite"
)

// killDeadline bounds every wait of the kill test (the receiver starting, a round's uploads): generous
// for a loaded 2-core machine, and a wait ends as soon as its condition holds.
const killDeadline = 45 * time.Second

// item is one upload of the kill test: a signed package, garbage (a T001 rejection) or an oversize
// body (413, T003).
type item struct {
	data []byte
	name string
}

// ledger is what the clients received: the first receipt of each item, and every mismatch seen.
type ledger struct {
	mu       sync.Mutex
	pending  []int
	receipts map[int][]byte
	problems []string
	// Counters for the log: uploads cut by a kill (or refused 503/429), fresh uploads answered
	// "replayed" (recorded by a process killed before its answer arrived), and idempotent re-sends.
	cut, unanswered, resent int
}

func (l *ledger) count(c *int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	*c++
}

func (l *ledger) take(rng func(int) int) (int, bool, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.pending); n > 0 {
		i := l.pending[n-1]
		l.pending = l.pending[:n-1]
		return i, true, true
	}
	// Nothing new to send: re-send one already answered (an idempotent retry), if any.
	if len(l.receipts) == 0 {
		return 0, false, false
	}
	k := rng(len(l.receipts))
	for i := range l.receipts {
		if k == 0 {
			return i, false, true
		}
		k--
	}
	return 0, false, false
}

func (l *ledger) giveBack(i int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = append(l.pending, i)
}

func (l *ledger) received(i int, body []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if prev, ok := l.receipts[i]; ok {
		if !bytes.Equal(prev, body) {
			l.problems = append(l.problems, fmt.Sprintf("item %d: a second receipt differs from the first", i))
		}
		return
	}
	l.receipts[i] = body
}

func (l *ledger) problem(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.problems = append(l.problems, fmt.Sprintf(format, args...))
}

func (l *ledger) counts() (pending, received int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending), len(l.receipts)
}

// TestKill9NothingAcknowledgedIsLost runs the receiver binary against the sandbox, has 8 HTTPS clients
// (HTTP/2 and HTTP/1.1) upload packages, garbage and oversize bodies, retrying on connection errors
// and 503, and kills the process with SIGKILL at a random moment, several times, restarting it each
// time. Every receipt a client received must then be backed by the store: the package's blob is in
// DATA_DIR/blobs (but for T003, whose body was cut off), the status endpoint names the same receipt,
// GET /v1/receipts/{id} returns the identical bytes and they verify; every re-upload (during the
// rounds, and a third of the items once more at the end) returned the identical receipt; and after a last SIGKILL the database opens, passes its integrity check and has
// no row without its receipt, receipt without its row, job without its package or accepted package
// without its job. The seed of the kill moments is logged; TAGDIJ_KILL_SEED replays it.
func TestKill9NothingAcknowledgedIsLost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the receiver binary")
	}
	start := time.Now()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("TAGDIJ_KILL_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (TAGDIJ_KILL_SEED=%d replays the kill moments)", seed, seed)
	rng := mrand.New(mrand.NewPCG(seed, seed^0x5eed))
	var rngMu sync.Mutex
	randN := func(n int) int {
		rngMu.Lock()
		defer rngMu.Unlock()
		return rng.IntN(n)
	}

	bin := buildReceiver(t)
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	b := receivertest.NewBuilder(t, sb)
	const maxBytes = 256 << 10
	cfg := writeKillConfig(t, sb.Dir, maxBytes)
	dataDir := t.TempDir()
	listen, admin := freeAddr(t), freeAddr(t)
	env := append(os.Environ(), "TAGDIJ_RECEIVER_LISTEN="+listen, "TAGDIJ_RECEIVER_ADMIN_LISTEN="+admin, "TAGDIJ_RECEIVER_DATA_DIR="+dataDir)

	imp := exec.Command(bin, "registry", "import", filepath.Join(sb.Dir, sandbox.RegistrationFile("pelda")), "--config", cfg)
	imp.Env = env
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("registry import: %v\n%s", err, out)
	}

	var items []item
	for range 44 {
		data, name := b.Package(t, receivertest.PackageOptions{})
		items = append(items, item{data, name})
	}
	for i := range 4 {
		items = append(items, item{[]byte(fmt.Sprintf("garbage %d %x", i, seed)), fmt.Sprintf("garbage-%d.es3", i)})
		big := make([]byte, maxBytes+64<<10)
		rand.Read(big)
		items = append(items, item{big, items[i].name})
	}
	t.Logf("%d uploads prepared in %s", len(items), time.Since(start).Round(time.Millisecond))
	l := &ledger{receipts: map[int][]byte{}}
	for i := range items {
		l.pending = append(l.pending, i)
	}
	mrand.New(mrand.NewPCG(seed, 1)).Shuffle(len(l.pending), func(i, j int) { l.pending[i], l.pending[j] = l.pending[j], l.pending[i] })

	tc := &tls.Config{RootCAs: sb.World.TLSRootPool(), ServerName: "localhost"}
	base := "https://" + listen
	const rounds = 4
	var proc *receiverProcess
	for round := 0; ; round++ {
		proc = startReceiver(t, bin, cfg, env, admin, round)
		kill := round < rounds
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for c := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				uploader(ctx, c, base, tc, items, l, randN, !kill)
			}()
		}
		if kill {
			delay := time.Duration(100+randN(1100)) * time.Millisecond
			select {
			case <-time.After(delay):
			case <-proc.exited:
				t.Fatalf("round %d: the receiver exited by itself:\n%s", round, proc.logTail())
			}
			proc.kill(t)
			cancel()
			wg.Wait()
			p, r := l.counts()
			t.Logf("round %d: SIGKILL after %s; %d receipts received, %d uploads not yet answered", round, delay, r, p)
			continue
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(killDeadline):
			cancel()
			p, r := l.counts()
			t.Fatalf("the last round did not finish: %d receipts, %d pending\n%s", r, p, proc.logTail())
		}
		cancel()
		break
	}
	p, r := l.counts()
	t.Logf("after %d kills: %d receipts for %d uploads (%d pending) in %s; %d uploads cut or refused and retried, %d recorded but unanswered before a kill (answered on retry), %d idempotent re-sends",
		rounds, r, len(items), p, time.Since(start).Round(time.Millisecond), l.cut, l.unanswered, l.resent)
	for _, m := range l.problems {
		t.Error(m)
	}
	if r != len(items) || p != 0 {
		t.Fatalf("%d receipts for %d uploads", r, len(items))
	}

	// Every receipt received is backed by the store, as the running receiver reports it.
	client := &http.Client{Timeout: killDeadline, Transport: &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: tc.Clone()}}
	defer client.CloseIdleConnections()
	kinds := map[string]int{}
	for i, body := range l.receipts {
		rc, err := b.CheckReceipt(body)
		if err != nil {
			t.Errorf("item %d: %v", i, err)
			continue
		}
		tooLarge := len(rc.Errors) > 0 && rc.Errors[0].Code == errcode.T003
		kinds[string(rc.Result)+map[bool]string{true: " T003", false: ""}[tooLarge]]++
		sum := sha256.Sum256(items[i].data)
		if tooLarge {
			sum = sha256.Sum256(items[i].data[:maxBytes+1])
		} else {
			blob := filepath.Join(dataDir, "blobs", "sha256", hex.EncodeToString(sum[:1]), hex.EncodeToString(sum[:]))
			if got, err := os.ReadFile(blob); err != nil || !bytes.Equal(got, items[i].data) {
				t.Errorf("item %d: blob %s: %v", i, blob, err)
			}
		}
		if rc.Package.SHA256 != sum {
			t.Errorf("item %d: the receipt names %x", i, rc.Package.SHA256[:6])
		}
		var st receiver.StatusJSON
		if code, b := get(t, client, base+"/v1/packages/"+hex.EncodeToString(sum[:])+"/status"); code != http.StatusOK || json.Unmarshal(b, &st) != nil || st.ReceiptID != rc.ID {
			t.Errorf("item %d: status %d %s, want receipt %s", i, code, b, rc.ID)
		}
		if code, b := get(t, client, base+"/v1/receipts/"+rc.ID); code != http.StatusOK || !bytes.Equal(b, body) {
			t.Errorf("item %d: GET /v1/receipts/%s: %d, identical %v", i, rc.ID, code, bytes.Equal(b, body))
		}
		// Every third item sent once more, after the restarts: the identical receipt.
		if i%3 == 0 {
			want := map[bool]int{true: http.StatusRequestEntityTooLarge, false: http.StatusOK}[tooLarge]
			req, _ := http.NewRequest(http.MethodPost, base+"/v1/packages", bytes.NewReader(items[i].data))
			req.Header.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": items[i].name}))
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want || !bytes.Equal(b, body) || resp.Header.Get("X-Tagdij-Result") != "replayed" {
				t.Errorf("item %d re-sent: %d %s, identical %v", i, resp.StatusCode, resp.Header.Get("X-Tagdij-Result"), bytes.Equal(b, body))
			}
		}
	}
	t.Logf("receipts: %v", kinds)
	if kinds[string(receipt.Accepted)] != 44 || kinds[string(receipt.Rejected)+" T003"] != 4 || kinds[string(receipt.Rejected)] != 4 {
		t.Errorf("receipts %v, want 44 accepted, 4 rejected and 4 T003", kinds)
	}

	// A last SIGKILL, then the database as the next start would find it.
	proc.kill(t)
	checkDatabase(t, filepath.Join(dataDir, "receiver.db"), dataDir, len(items))
	t.Logf("done in %s", time.Since(start).Round(time.Millisecond))
}

// uploader sends items until ctx ends or, with drain, until nothing is pending. A receipt counts only
// when the whole response was read; a connection error, a 503 or a 429 puts the item back.
func uploader(ctx context.Context, id int, base string, tc *tls.Config, items []item, l *ledger, randN func(int) int, drain bool) {
	tr := &http.Transport{TLSClientConfig: tc.Clone(), ForceAttemptHTTP2: true}
	if id%2 == 1 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{} // HTTP/1.1
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: killDeadline}
	for ctx.Err() == nil {
		i, fresh, ok := l.take(randN)
		if !ok || (!fresh && drain) {
			if fresh || drain {
				return
			}
			time.Sleep(20 * time.Millisecond) // nothing to send yet
			continue
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/packages", bytes.NewReader(items[i].data))
		req.Header.Set("Content-Type", receiver.MediaType)
		req.Header.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": items[i].name}))
		resp, err := client.Do(req)
		var body []byte
		if err == nil {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		switch {
		case err != nil, resp.StatusCode == http.StatusServiceUnavailable, resp.StatusCode == http.StatusTooManyRequests:
			if fresh {
				l.giveBack(i)
			}
			l.count(&l.cut)
			time.Sleep(time.Duration(10+randN(40)) * time.Millisecond) // back off a little before retrying
		case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusRequestEntityTooLarge:
			l.received(i, body)
			switch {
			case !fresh:
				l.count(&l.resent)
			case resp.Header.Get("X-Tagdij-Result") == "replayed":
				l.count(&l.unanswered)
			}
		default:
			l.problem("item %d: status %d: %.200s", i, resp.StatusCode, body)
			if fresh {
				l.giveBack(i)
			}
		}
	}
}

func get(t *testing.T, c *http.Client, url string) (int, []byte) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// checkDatabase opens the store as a restart would and checks it holds together.
func checkDatabase(t *testing.T, path, dataDir string, atLeast int) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("the database does not open after SIGKILL: %v", err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(30000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var integrity string
	if err := raw.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Errorf("integrity_check: %q %v", integrity, err)
	}
	for what, q := range map[string]string{
		"packages without their receipt":  `SELECT COUNT(*) FROM packages p LEFT JOIN receipts r ON r.id = p.receipt_id WHERE r.id IS NULL`,
		"receipts without their package":  `SELECT COUNT(*) FROM receipts r LEFT JOIN packages p ON p.sha256 = r.package_sha256 WHERE p.sha256 IS NULL`,
		"receipts of another package":     `SELECT COUNT(*) FROM packages p JOIN receipts r ON r.id = p.receipt_id WHERE r.package_sha256 != p.sha256`,
		"jobs without their package":      `SELECT COUNT(*) FROM jobs j LEFT JOIN packages p ON p.sha256 = j.package_sha256 WHERE p.sha256 IS NULL`,
		"accepted packages without a job": `SELECT COUNT(*) FROM packages p LEFT JOIN jobs j ON j.package_sha256 = p.sha256 WHERE p.accepted = 1 AND j.package_sha256 IS NULL`,
	} {
		var n int
		if err := raw.QueryRowContext(ctx, q).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: %d %v", what, n, err)
		}
	}
	rows, err := raw.QueryContext(ctx, `SELECT sha256 FROM packages WHERE blob_stored = 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var sum []byte
		if err := rows.Scan(&sum); err != nil {
			t.Fatal(err)
		}
		n++
		h := hex.EncodeToString(sum)
		if _, err := os.Stat(filepath.Join(dataDir, "blobs", "sha256", h[:2], h)); err != nil {
			t.Errorf("package %s…: row without its blob: %v", h[:12], err)
		}
	}
	var total int
	raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM packages`).Scan(&total)
	if total < atLeast {
		t.Errorf("%d package rows, want at least %d", total, atLeast)
	}
	t.Logf("database: %d package rows, %d with blobs, integrity %s", total, n, integrity)
}

// buildReceiver builds this command into a temporary directory with the toolchain running the test.
func buildReceiver(t *testing.T) string {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command to build the receiver with")
		}
	}
	bin := filepath.Join(t.TempDir(), "receiver")
	start := time.Now()
	out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built the receiver in %s", time.Since(start).Round(time.Millisecond))
	return bin
}

// writeKillConfig writes the sandbox's receiver configuration with limits that let 8 clients on one
// address through (the default per-address rate would answer most of them 429) and a small size
// limit, next to the original so that its relative paths resolve the same.
func writeKillConfig(t *testing.T, dir string, maxBytes int) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, sandbox.ReceiverConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["maxPackageBytes"] = maxBytes
	cfg["limits"] = map[string]any{"maxConcurrentUploads": 6, "perAddressRate": 1000, "perAddressBurst": 1000}
	out, _ := json.MarshalIndent(cfg, "", "  ")
	p := filepath.Join(dir, "receiver-kill.json")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// receiverProcess is one run of the receiver binary.
type receiverProcess struct {
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
}

// startReceiver starts `receiver serve` and waits until its admin /healthz answers.
func startReceiver(t *testing.T, bin, cfg string, env []string, admin string, round int) *receiverProcess {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), fmt.Sprintf("receiver-%d.log", round))
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--config", cfg)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &receiverProcess{cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	t.Cleanup(func() { p.kill(t) })
	end := time.Now().Add(killDeadline)
	for {
		resp, err := http.Get("http://" + admin + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("round %d: the receiver exited while starting:\n%s", round, p.logTail())
		default:
		}
		if time.Now().After(end) {
			t.Fatalf("round %d: /healthz did not answer within %s:\n%s", round, killDeadline, p.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL (once the process runs) and waits for it to be gone.
func (p *receiverProcess) kill(t *testing.T) {
	select {
	case <-p.exited:
		return
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("kill: %v", err)
	}
	select {
	case <-p.exited:
	case <-time.After(killDeadline):
		t.Errorf("the receiver (pid %d) did not die", p.cmd.Process.Pid)
	}
}

func (p *receiverProcess) logTail() string {
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(string(b), "\n")
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}
