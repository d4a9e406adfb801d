package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/receiver"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
)

// TestSIGTERMFinishesInFlightUploads: on SIGTERM the receiver stops accepting connections, lets an
// upload in progress finish (its receipt arrives and verifies), then exits with status 0.
func TestSIGTERMFinishesInFlightUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the receiver binary")
	}
	bin := buildReceiver(t)
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	b := receivertest.NewBuilder(t, sb)
	cfg := writeKillConfig(t, sb.Dir, 1<<20)
	listen, admin := freeAddr(t), freeAddr(t)
	env := append(os.Environ(), "TAGDIJ_RECEIVER_LISTEN="+listen, "TAGDIJ_RECEIVER_ADMIN_LISTEN="+admin, "TAGDIJ_RECEIVER_DATA_DIR="+t.TempDir())
	imp := exec.Command(bin, "registry", "import", filepath.Join(sb.Dir, sandbox.RegistrationFile("pelda")), "--config", cfg)
	imp.Env = env
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("registry import: %v\n%s", err, out)
	}
	data, name := b.Package(t, receivertest.PackageOptions{})
	proc := startReceiver(t, bin, cfg, env, admin, 0)

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: sb.World.TLSRootPool(), ServerName: "localhost"}}}
	pr, pw := io.Pipe()
	type answer struct {
		code int
		body []byte
		err  error
	}
	done := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, "https://"+listen+"/v1/packages", pr)
		req.ContentLength = int64(len(data))
		req.Header.Set("Content-Type", receiver.MediaType)
		req.Header.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
		resp, err := client.Do(req)
		if err != nil {
			done <- answer{err: err}
			return
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- answer{resp.StatusCode, body, err}
	}()
	pw.Write(data[:len(data)/2])
	// Wait until the upload is in the receiver's hands, then ask it to stop.
	deadline := time.Now().Add(killDeadline)
	for {
		resp, err := http.Get("http://" + admin + "/metrics")
		if err == nil {
			m, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(m), "tagdij_receiver_uploads_in_flight 1") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the upload never reached the receiver:\n%s", proc.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// New connections are refused once shutdown began.
	deadline = time.Now().Add(killDeadline)
	for {
		c, err := tls.Dial("tcp", listen, &tls.Config{RootCAs: sb.World.TLSRootPool(), ServerName: "localhost"})
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the receiver still accepts connections after SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case <-proc.exited:
		t.Fatalf("the receiver exited with an upload in flight:\n%s", proc.logTail())
	default:
	}
	pw.Write(data[len(data)/2:])
	pw.Close()
	a := <-done
	if a.err != nil || a.code != http.StatusOK {
		t.Fatalf("in-flight upload: %d %v\n%s", a.code, a.err, proc.logTail())
	}
	if _, err := b.CheckReceipt(a.body); err != nil {
		t.Errorf("its receipt: %v", err)
	}
	select {
	case <-proc.exited:
	case <-time.After(killDeadline):
		t.Fatalf("the receiver did not exit after the upload finished:\n%s", proc.logTail())
	}
	if code := proc.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit status %d:\n%s", code, proc.logTail())
	}
	if !strings.Contains(proc.logTail(), `"receiver.stopped"`) {
		t.Errorf("no stop line in the log:\n%s", proc.logTail())
	}
}
