package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/config"
	"github.com/tagdij/tagdij/internal/container"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/intake"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/tsp"
	"github.com/tagdij/tagdij/internal/workspace"
)

// sendFixture is a receiver on loopback (real TLS, the sandbox's TSA/OCSP/CRL, SQLite) and a sender
// workspace made by `sender init --from` the sandbox's pelda configuration.
type sendFixture struct {
	stack *receivertest.Stack
	http  *receivertest.HTTP
	dir   string // the sender workspace
	cfg   string // DIR/sender.json
	url   string // the receiver URL the sender uses (the receiver's, or a proxy's)
	slept atomic.Int64
	// onSleep runs at every wait the sender makes (after the clock advanced).
	onSleep func()
}

func newSendFixture(t *testing.T, o receivertest.Options) *sendFixture {
	t.Helper()
	s := receivertest.Start(t, o)
	h := s.StartHTTP(t, o)
	f := &sendFixture{stack: s, http: h, dir: filepath.Join(t.TempDir(), "munka"), url: h.URL}
	f.cfg = filepath.Join(f.dir, "sender.json")
	code, out, errOut := f.run(t, "init", f.dir, "--from", filepath.Join(s.SB.Dir, sandbox.SenderConfigFile("pelda")))
	if code != 0 || !strings.Contains(out, "A beállítás betölthető") {
		t.Fatalf("init: exit %d\n%s\n%s", code, out, errOut)
	}
	// Short backoff, and waiting out the sandbox's grace periods (seconds) is allowed.
	b, _ := os.ReadFile(f.cfg)
	b = bytes.Replace(b, []byte(`"backoff": "2s"`), []byte(`"backoff": "10ms"`), 1)
	b = bytes.Replace(b, []byte(`"finalWait": "0s"`), []byte(`"finalWait": "1m"`), 1)
	if err := os.WriteFile(f.cfg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// run runs the sender on the sandbox's clock; a wait advances that clock instead of sleeping.
func (f *sendFixture) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string {
			if k == config.EnvSenderReceiverURL {
				return f.url
			}
			return ""
		},
		Now: f.stack.SB.Clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			f.stack.SB.Clock.Advance(d)
			f.slept.Add(int64(d))
			if f.onSleep != nil {
				f.onSleep()
			}
			return nil
		}}
	code := run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

// pkg builds a signed, time-stamped package of the sandbox employer pelda into the test's directory
// and returns its path; the clock is moved past the grace period so that it is valid to send.
func (f *sendFixture) pkg(t *testing.T, seed uint64) string {
	t.Helper()
	data, name := f.stack.Package(t, receivertest.PackageOptions{Seed: seed})
	f.stack.SB.Clock.Advance(3 * time.Second)
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *sendFixture) workspace(t *testing.T) *workspace.Workspace {
	t.Helper()
	ws, err := workspace.Open(context.Background(), filepath.Join(f.dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestSubmitEndToEnd: a declaration from the generator → sender submit against the receiver on loopback
// → a verified receipt in the local database → a container `auditor verify` accepts → sender status as
// the receiver reports it today (received, awaiting the final check) → evidence → backup, wipe,
// restore, every item re-verified.
func TestSubmitEndToEnd(t *testing.T) {
	f := newSendFixture(t, receivertest.Options{})
	decl := filepath.Join(t.TempDir(), "bevallas.xml")
	period := f.stack.SB.Clock.Now().UTC().AddDate(0, -1, 0).Format("2006-01")
	if code, _, errOut := f.run(t, "declaration", "generate", "--config", f.cfg, "--members", "7", "--seed", "42", "--period", period, "--out", decl); code != 0 {
		t.Fatalf("generate: %d %s", code, errOut)
	}
	code, out, errOut := f.run(t, "submit", decl, "--config", f.cfg, "--yes")
	if code != 0 {
		t.Fatalf("submit: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"1/5", "2/5", "3/5", "4/5", "5/5", "BEFOGADVA", "NYUGTA_ERKEZETT", "Konténer / Container: TBK_"} {
		if !strings.Contains(out, want) {
			t.Errorf("submit output lacks %q:\n%s", want, out)
		}
	}
	if f.slept.Load() == 0 {
		t.Error("submit never waited for a grace period")
	}

	// The local database: one package, its receipt verified valid, a container.
	ws := f.workspace(t)
	ctx := context.Background()
	pkgs, err := ws.Packages(ctx)
	if err != nil || len(pkgs) != 1 {
		t.Fatalf("packages %v %v", pkgs, err)
	}
	p := pkgs[0]
	r, err := ws.ReceiptFor(ctx, p.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if r.State != string(receipt.Valid) || r.Result != string(receipt.Accepted) || r.Flagged() || r.ReceiptID == "" {
		t.Errorf("stored receipt %+v", r)
	}
	atts, _ := ws.Attempts(ctx, p.SHA256)
	if len(atts) != 1 || atts[0].Outcome != workspace.OutcomeReceipt || atts[0].HTTPStatus != 200 {
		t.Errorf("send log %+v", atts)
	}
	c, err := ws.LatestContainer(ctx, p.SHA256)
	if err != nil || c.Version != 2 {
		// v1 when the receipt arrived (its check not final yet), v2 after its grace period.
		t.Errorf("container %+v %v", c, err)
	}

	// receipts list / show, with the printable page.
	code, out, _ = f.run(t, "receipts", "list", "--config", f.cfg, "--json")
	var list []receiptView
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0].ID != r.ReceiptID {
		t.Errorf("receipts list: %d %s", code, out)
	}
	page := filepath.Join(t.TempDir(), "nyugta.html")
	code, out, _ = f.run(t, "receipts", "show", r.ReceiptID, "--config", f.cfg, "--html", page)
	html, _ := os.ReadFile(page)
	if code != 0 || !strings.Contains(out, "BEFOGADVA") || !strings.Contains(out, "érvényes / valid") ||
		!bytes.Contains(html, []byte("Check of the fund's signature")) || !bytes.Contains(html, []byte(r.ReceiptID)) {
		t.Errorf("receipts show: %d\n%s\n%s", code, out, html)
	}

	// status: what the receiver says today.
	pkgFile := filepath.Join(f.dir, "state", "packages", p.Name)
	code, out, errOut = f.run(t, "status", pkgFile, "--config", f.cfg)
	if code != cli.ExitIncomplete || !strings.Contains(out, "awaiting-final-check") || !strings.Contains(out, "BEFOGADVA") ||
		!strings.Contains(out, r.ReceiptID) {
		t.Errorf("status: %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = f.run(t, "status", strings.Repeat("ab", 32), "--config", f.cfg)
	if code != cli.ExitUsage {
		t.Errorf("status of an unknown hash: %d %s", code, out)
	}

	// evidence, and the auditor on the container.
	ev := filepath.Join(t.TempDir(), "bizonyitek")
	code, out, errOut = f.run(t, "evidence", p.Name, "--config", f.cfg, "--out", ev)
	if code != 0 {
		t.Fatalf("evidence: %d %s %s", code, out, errOut)
	}
	for _, name := range []string{p.Name, r.Name, c.Name, "nyugta.html", "SHA256SUMS", "OLVASSEL-README.txt", "kuldesnaplo.json"} {
		if _, err := os.Stat(filepath.Join(ev, name)); err != nil {
			t.Errorf("evidence lacks %s: %v", name, err)
		}
	}
	auditor := buildAuditor(t)
	at := f.stack.SB.Clock.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	trustFile := filepath.Join(f.stack.SB.Dir, sandbox.TrustConfigFile)
	aout, err := exec.Command(auditor, "verify", "--trust", trustFile, "--policy", "sandbox", "--at", at, filepath.Join(ev, c.Name)).CombinedOutput()
	if err != nil || !strings.Contains(string(aout), "container") || !strings.Contains(string(aout), "TOTAL-PASSED") {
		t.Errorf("auditor verify of the container: %v\n%s", err, aout)
	}
	t.Logf("auditor verify %s:\n%s", c.Name, aout)
	// The package and the receipt alone, offline, lack the revocation evidence the container keeps.
	aout, err = exec.Command(auditor, "verify", "--trust", trustFile, "--policy", "sandbox", "--at", at, filepath.Join(ev, p.Name)).CombinedOutput()
	if err == nil {
		t.Errorf("the bare package verified offline without the container's validation data:\n%s", aout)
	}

	// Backup → wipe → restore → every item re-verifies.
	backupRestore(t, f, 1, 1, 2)
}

// backupRestore backs the workspace up, wipes it, refuses a damaged copy and a non-empty target,
// restores it and checks that every item re-verified.
func backupRestore(t *testing.T, f *sendFixture, packages, receipts, containers int) {
	t.Helper()
	tarFile := filepath.Join(t.TempDir(), "mentes.tar")
	if code, out, errOut := f.run(t, "backup", tarFile, "--config", f.cfg); code != 0 {
		t.Fatalf("backup: %d %s %s", code, out, errOut)
	}
	state := filepath.Join(f.dir, "state")
	// Restoring over the live workspace is refused.
	if code, _, errOut := f.run(t, "restore", tarFile, "--config", f.cfg); code != cli.ExitUsage || !strings.Contains(errOut, "not empty") {
		t.Errorf("restore over a non-empty state: %d %s", code, errOut)
	}
	if err := os.RemoveAll(state); err != nil {
		t.Fatal(err)
	}
	// A damaged copy (one byte of a blob changed) is refused and nothing is restored.
	data, _ := os.ReadFile(tarFile)
	i := bytes.Index(data, []byte("<es:Dossier"))
	if i < 0 {
		t.Fatal("no dossier in the backup")
	}
	bad := bytes.Clone(data)
	bad[i+5] ^= 1
	badFile := filepath.Join(t.TempDir(), "hibas.tar")
	os.WriteFile(badFile, bad, 0o600)
	if code, _, errOut := f.run(t, "restore", badFile, "--config", f.cfg); code != cli.ExitUsage || !strings.Contains(errOut, "damaged") {
		t.Errorf("damaged backup: %d %s", code, errOut)
	}
	if es, _ := os.ReadDir(state); len(es) != 0 {
		t.Errorf("a refused restore left %d entries", len(es))
	}
	code, out, errOut := f.run(t, "restore", tarFile, "--config", f.cfg, "--json")
	var items []itemView
	if err := json.Unmarshal([]byte(out), &items); err != nil || code != 0 {
		t.Fatalf("restore: %d %v\n%s\n%s", code, err, out, errOut)
	}
	count := map[string]int{}
	for _, it := range items {
		count[it.Kind]++
		if !it.OK {
			t.Errorf("restored item does not re-verify: %+v", it)
		}
	}
	if count["package"] != packages || count["receipt"] != receipts || count["container"] != containers {
		t.Errorf("restored items %v, want %d/%d/%d", count, packages, receipts, containers)
	}
}

// buildAuditor builds cmd/auditor with the toolchain running the test.
func buildAuditor(t *testing.T) string {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command to build the auditor with")
		}
	}
	bin := filepath.Join(t.TempDir(), "auditor")
	if out, err := exec.Command(goBin, "build", "-o", bin, "../auditor").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// cutProxy forwards TCP connections to target. On the first connection it misbehaves once: with
// cutAfter > 0 it forwards only that many bytes of the request and then closes both sides; with
// dropAnswer set it forwards the whole request but, once the receiver has recorded the upload
// (dropAnswer returns true), closes the client's side without the answer.
type cutProxy struct {
	ln         net.Listener
	target     string
	cutAfter   int64
	dropAnswer func() bool
	conns      atomic.Int32
	wg         sync.WaitGroup
}

func startCutProxy(t *testing.T, target string, cutAfter int64, dropAnswer func() bool) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, cutAfter: cutAfter, dropAnswer: dropAnswer}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		n := p.conns.Add(1)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer c.Close()
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				return
			}
			defer up.Close()
			switch {
			case n == 1 && p.cutAfter > 0:
				// The TLS handshake goes through; the request is cut after cutAfter bytes.
				go io.Copy(c, up)
				io.CopyN(up, c, p.cutAfter)
				return
			case n == 1 && p.dropAnswer != nil:
				// Everything goes through until the receiver has recorded the upload; what it sends after
				// that (its answer) is dropped with the connection. The receiver records before it answers,
				// so a chunk read once the record exists is never forwarded.
				go io.Copy(up, c)
				buf := make([]byte, 32<<10)
				for {
					k, err := up.Read(buf)
					if p.dropAnswer() {
						return
					}
					if k > 0 {
						if _, werr := c.Write(buf[:k]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}
			go func() { io.Copy(up, c); up.(*net.TCPConn).CloseWrite() }()
			io.Copy(c, up)
		}()
	}
}

func (p *cutProxy) URL() string { return "https://" + p.ln.Addr().String() + "/" }

// TestSendDuplicatesAndRetries: the same package twice and a repacked package with the same submission
// id are refused locally (nothing reaches the receiver); a connection cut mid-upload, and an answer
// lost after the receiver recorded the upload, each end in exactly one receipt; a 503 with an R001
// receipt (the fund's TSA down) is logged, not kept as a receipt, and retried after Retry-After.
func TestSendDuplicatesAndRetries(t *testing.T) {
	down := &switchSigner{}
	f := newSendFixture(t, receivertest.Options{Receipt: down})
	down.current = f.stack.Signer
	ctx := context.Background()
	ws := f.workspace(t)

	// Inside its grace period a package is not sent: incomplete, with the time to send it.
	early, earlyName := f.stack.Package(t, receivertest.PackageOptions{Seed: 100})
	earlyPath := filepath.Join(t.TempDir(), earlyName)
	os.WriteFile(earlyPath, early, 0o600)
	if code, _, errOut := f.run(t, "send", earlyPath, "--config", f.cfg); code != cli.ExitIncomplete || !strings.Contains(errOut, "grace period ends at") {
		t.Errorf("send inside the grace period: %d %s", code, errOut)
	}
	if _, err := f.stack.DB.PackageStatus(ctx, sha256.Sum256(early)); !errors.Is(err, intake.ErrNotFound) {
		t.Errorf("a package inside its grace period reached the receiver: %v", err)
	}

	a := f.pkg(t, 101)
	if code, out, errOut := f.run(t, "send", a, "--config", f.cfg); code != 0 {
		t.Fatalf("send a: %d\n%s\n%s", code, out, errOut)
	}
	// The same package again: refused before it leaves.
	code, _, errOut := f.run(t, "send", a, "--config", f.cfg)
	if code != cli.ExitInvalid || !strings.Contains(errOut, "already sent") {
		t.Errorf("same package again: %d %s", code, errOut)
	}
	if atts, _ := ws.Attempts(ctx, fileSum(t, a)); len(atts) != 1 {
		t.Errorf("the refused resend made an attempt: %+v", atts)
	}
	// A repacked package of the same declaration (same submission id): refused, never uploaded.
	b := f.pkg(t, 101)
	code, _, errOut = f.run(t, "send", b, "--config", f.cfg)
	if code != cli.ExitInvalid || !strings.Contains(errOut, "same submission id") {
		t.Errorf("repacked package: %d %s", code, errOut)
	}
	if _, err := f.stack.DB.PackageStatus(ctx, fileSum(t, b)); !errors.Is(err, intake.ErrNotFound) {
		t.Errorf("the repacked package reached the receiver: %v", err)
	}

	// A connection cut after 2 KiB of the first upload: retried with the same bytes, one receipt.
	cut := startCutProxy(t, f.http.Server.Listener.Addr().String(), 2048, nil)
	f.url = cut.URL()
	c := f.pkg(t, 102)
	code, out, errOut := f.run(t, "send", c, "--config", f.cfg, "--json")
	var rep sendReport
	json.Unmarshal([]byte(out), &rep)
	if code != 0 || len(rep.Attempts) != 2 || rep.Attempts[0].Outcome != workspace.OutcomeNetwork || rep.Attempts[1].Outcome != workspace.OutcomeReceipt {
		t.Errorf("cut upload: %d %+v\n%s", code, rep.Attempts, errOut)
	}
	oneReceipt(t, f, ws, c)

	// The answer lost after the receiver recorded the upload: the retry gets the original receipt.
	d := f.pkg(t, 103)
	dSum := fileSum(t, d)
	lost := startCutProxy(t, f.http.Server.Listener.Addr().String(), 0, func() bool {
		_, err := f.stack.DB.PackageStatus(ctx, dSum)
		return err == nil
	})
	f.url = lost.URL()
	code, out, errOut = f.run(t, "send", d, "--config", f.cfg, "--json")
	rep = sendReport{}
	json.Unmarshal([]byte(out), &rep)
	if code != 0 || len(rep.Attempts) != 2 || rep.Attempts[0].Outcome != workspace.OutcomeNetwork {
		t.Fatalf("lost answer: %d %+v\n%s", code, rep.Attempts, errOut)
	}
	// The first upload was recorded by the receiver (the retry got its original receipt back).
	if st, err := f.stack.DB.PackageStatus(ctx, dSum); err != nil || !st.Arrival.Before(rep.Attempts[1].Time) {
		t.Errorf("the receiver did not record the first upload: %+v %v", st, err)
	}
	oneReceipt(t, f, ws, d)

	// The fund's TSA down: 503 + Retry-After with an R001 receipt; the retry after the wait succeeds.
	f.url = f.http.URL
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/tsa"
	ln.Close()
	broken := *f.stack.Signer
	broken.Options.TSA = &tsp.Client{URL: dead, Trust: pathval.TSAVerifier{Anchors: f.stack.Env.TSAs, Algorithms: f.stack.Env.Algorithms()}}
	down.set(&broken)
	var waits []time.Duration
	f.onSleep = func() { down.set(f.stack.Signer) }
	before := f.slept.Load()
	e := f.pkg(t, 104)
	code, out, errOut = f.run(t, "send", e, "--config", f.cfg, "--json")
	rep = sendReport{}
	json.Unmarshal([]byte(out), &rep)
	waits = append(waits, time.Duration(f.slept.Load()-before))
	if code != 0 || len(rep.Attempts) != 2 || rep.Attempts[0].HTTPStatus != 503 || rep.Attempts[0].Outcome != workspace.OutcomeHTTP ||
		!strings.Contains(rep.Attempts[0].Detail, "R001") || !strings.Contains(rep.Attempts[0].Detail, "Retry-After 1m0s") {
		t.Errorf("TSA down: %d %+v\n%s", code, rep.Attempts, errOut)
	}
	if waits[0] < time.Minute {
		t.Errorf("Retry-After not honoured: waited %s", waits[0])
	}
	oneReceipt(t, f, ws, e)
	f.onSleep = nil
	atts, _ := ws.Attempts(ctx, fileSum(t, e))
	if len(atts) != 2 || atts[0].Answer == nil {
		t.Fatalf("the R001 answer was not kept: %+v", atts)
	}
	if r, _ := ws.ReceiptFor(ctx, fileSum(t, e)); r == nil || r.SHA256 == *atts[0].Answer {
		t.Error("the R001 answer was taken for the receipt")
	}

	// A 200 that is not a receipt package is logged (HIBAS_VALASZ) and retried; a 400 is not retried.
	var calls atomic.Int32
	odd := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			io.WriteString(w, "<html>proxy login</html>")
		default:
			relayTo(t, f.http, w, r, nil)
		}
	}))
	odd.TLS = f.http.Server.TLS.Clone()
	odd.StartTLS()
	t.Cleanup(odd.Close)
	f.url = odd.URL
	g := f.pkg(t, 105)
	code, out, errOut = f.run(t, "send", g, "--config", f.cfg, "--json")
	rep = sendReport{}
	json.Unmarshal([]byte(out), &rep)
	if code != 0 || len(rep.Attempts) != 2 || rep.Attempts[0].Outcome != workspace.OutcomeBadResponse || !strings.Contains(rep.Attempts[0].Detail, "proxy login") {
		t.Errorf("not a receipt: %d %+v\n%s", code, rep.Attempts, errOut)
	}
	oneReceipt(t, f, ws, g)
	refusing := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad request", http.StatusBadRequest)
	}))
	refusing.TLS = f.http.Server.TLS.Clone()
	refusing.StartTLS()
	t.Cleanup(refusing.Close)
	f.url = refusing.URL
	h := f.pkg(t, 106)
	code, _, errOut = f.run(t, "send", h, "--config", f.cfg)
	if atts, _ := ws.Attempts(ctx, fileSum(t, h)); code != cli.ExitUsage || len(atts) != 1 || !strings.Contains(errOut, "HTTP 400") {
		t.Errorf("400: %d %+v %s", code, atts, errOut)
	}
}

// relayTo forwards r to the receiver and its answer to w, through edit when set.
func relayTo(t *testing.T, h *receivertest.HTTP, w http.ResponseWriter, r *http.Request, edit func([]byte) []byte) {
	body, _ := io.ReadAll(r.Body)
	req, _ := http.NewRequestWithContext(r.Context(), r.Method, h.URL+r.URL.Path, bytes.NewReader(body))
	req.Header = r.Header.Clone()
	resp, err := h.Client.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if edit != nil {
		answer = edit(answer)
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(resp.StatusCode)
	w.Write(answer)
}

// oneReceipt checks that the package at path has exactly one receipt, locally and at the receiver,
// and that both are the same bytes.
func oneReceipt(t *testing.T, f *sendFixture, ws *workspace.Workspace, path string) {
	t.Helper()
	ctx := context.Background()
	sum := fileSum(t, path)
	r, err := ws.ReceiptFor(ctx, sum)
	if err != nil {
		t.Fatalf("%s: no local receipt: %v", filepath.Base(path), err)
	}
	st, err := f.stack.DB.PackageStatus(ctx, sum)
	if err != nil {
		t.Fatalf("%s: not at the receiver: %v", filepath.Base(path), err)
	}
	stored, err := f.stack.DB.ReceiptByID(ctx, st.ReceiptID)
	if err != nil || r.ReceiptID != st.ReceiptID || sha256.Sum256(stored.Bytes) != r.SHA256 {
		t.Errorf("%s: local receipt %s, receiver's %s (%v)", filepath.Base(path), r.ReceiptID, st.ReceiptID, err)
	}
	var n int
	rs, _ := ws.Receipts(ctx)
	for _, x := range rs {
		if x.Package == sum {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%s: %d local receipts", filepath.Base(path), n)
	}
}

// switchSigner forwards to the current receipt signer (both real: one whose TSA is down, one whose
// TSA answers).
type switchSigner struct {
	mu      sync.Mutex
	current *intake.KeySigner
}

func (s *switchSigner) set(k *intake.KeySigner) { s.mu.Lock(); s.current = k; s.mu.Unlock() }
func (s *switchSigner) get() *intake.KeySigner  { s.mu.Lock(); defer s.mu.Unlock(); return s.current }

func (s *switchSigner) Sign(ctx context.Context, r *receipt.Receipt) ([]byte, string, error) {
	return s.get().Sign(ctx, r)
}

func (s *switchSigner) SignUnstamped(ctx context.Context, r *receipt.Receipt) ([]byte, string, error) {
	return s.get().SignUnstamped(ctx, r)
}

var sigValue = regexp.MustCompile(`<ds:SignatureValue[^>]*>([A-Za-z0-9+/=\s]{8})`)

// TestBrokenReceiptSignature: a relay in front of the receiver flips a byte of the receipt's
// SignatureValue. The receipt is stored, flagged, the SND-30 notification records are written, the
// user is told loudly, the container records it, and a backup restores it as it was.
func TestBrokenReceiptSignature(t *testing.T) {
	f := newSendFixture(t, receivertest.Options{})
	relay := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		relayTo(t, f.http, w, r, func(answer []byte) []byte {
			if m := sigValue.FindSubmatchIndex(answer); m != nil {
				i := m[2] + 2
				if answer[i] == 'A' {
					answer[i] = 'B'
				} else {
					answer[i] = 'A'
				}
			}
			return answer
		})
	}))
	relay.TLS = f.http.Server.TLS.Clone()
	relay.StartTLS()
	t.Cleanup(relay.Close)
	f.url = relay.URL

	p := f.pkg(t, 201)
	code, out, errOut := f.run(t, "send", p, "--config", f.cfg)
	if code != cli.ExitInvalid {
		t.Fatalf("send: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"WARNING: DEFECTIVE RECEIPT", "FIGYELEM: HIBÁS NYUGTA", "PENZTAR", "FELUGYELET", "INVALID"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	ws := f.workspace(t)
	ctx := context.Background()
	sum := fileSum(t, p)
	r, err := ws.ReceiptFor(ctx, sum)
	if err != nil {
		t.Fatalf("the receipt was not stored: %v", err)
	}
	if !r.Flagged() || r.State != string(receipt.Invalid) || r.Indication != string(report.TotalFailed) {
		t.Errorf("stored receipt %+v", r)
	}
	body, _ := ws.Blob(r.SHA256)
	if m := sigValue.FindSubmatch(body); m == nil {
		t.Error("the stored receipt is not the one received")
	}
	ns, err := ws.Notifications(ctx, r.SHA256)
	if err != nil || len(ns) != 2 || ns[0].Recipient != workspace.RecipientFund || ns[1].Recipient != workspace.RecipientSupervisor {
		t.Fatalf("notifications %+v %v", ns, err)
	}
	for _, n := range ns {
		letter, err := os.ReadFile(filepath.Join(f.dir, "state", n.File))
		if err != nil || !bytes.Contains(letter, []byte("SND-30")) || !bytes.Contains(letter, []byte(filepath.Base(p))) ||
			!bytes.Contains(letter, []byte("Dear recipient")) || !bytes.Contains(letter, []byte("Tisztelt Címzett")) {
			t.Errorf("letter %s: %v\n%s", n.File, err, letter)
		}
	}
	// The container records the failed check and both notifications; it is consistent, and its verdict
	// is the receipt's.
	c, err := ws.LatestContainer(ctx, sum)
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := ws.Blob(c.SHA256)
	d, err := es3.Parse(cb, es3.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	parsed, err := container.Read(d, f.stack.Schemas)
	if err != nil || len(parsed.Findings) != 0 || parsed.CheckState != string(receipt.Invalid) || len(parsed.Notifications) != 2 {
		t.Errorf("container %+v %v", parsed, err)
	}
	// receipts show says so, with the codes.
	code, out, _ = f.run(t, "receipts", "show", r.Name, "--config", f.cfg)
	if code != cli.ExitInvalid || !strings.Contains(out, "DEFECTIVE RECEIPT") || !strings.Contains(out, "A001") {
		t.Errorf("receipts show: %d\n%s", code, out)
	}
	// The same package cannot go again: its (defective) receipt is the fund's answer on record.
	if code, _, errOut := f.run(t, "send", p, "--config", f.cfg); code != cli.ExitInvalid || !strings.Contains(errOut, "already sent") {
		t.Errorf("resend: %d %s", code, errOut)
	}
	backupRestore(t, f, 1, 1, 1)

	// The evidence bundle carries both letters; a notification row naming a file outside
	// notifications/ (a tampered database from a restored backup) is refused, not copied.
	ev := filepath.Join(t.TempDir(), "evidence")
	if code, out, errOut := f.run(t, "evidence", p, "--config", f.cfg, "--out", ev); code != 0 {
		t.Fatalf("evidence: %d %s %s", code, out, errOut)
	}
	letters, _ := filepath.Glob(filepath.Join(ev, "ERTESITES_*"))
	if len(letters) != 2 {
		t.Errorf("evidence letters: %v", letters)
	}
	secret := filepath.Join(f.dir, "secret.txt")
	os.WriteFile(secret, []byte("not for third parties"), 0o600)
	ws2, err := workspace.Open(ctx, filepath.Join(f.dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws2.AddNotification(ctx, workspace.Notification{Receipt: r.SHA256, Created: time.Now(), Recipient: "fund",
		Text: "x", File: "../secret.txt"}); err != nil {
		t.Fatal(err)
	}
	ws2.Close()
	ev2 := filepath.Join(t.TempDir(), "evidence")
	code, _, errOut = f.run(t, "evidence", p, "--config", f.cfg, "--out", ev2)
	if code == 0 || !strings.Contains(errOut, "notifications/") {
		t.Errorf("evidence with a notification outside notifications/: exit %d, %s", code, errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(ev2, "secret.txt")); b != nil {
		t.Error("a file outside the workspace went into the evidence bundle")
	}
}
