package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/sandbox"
)

// TestMain lets the test binary act as the sandbox command for the serve
// test (graceful shutdown needs a real process and a real signal).
func TestMain(m *testing.M) {
	if os.Getenv("SANDBOX_CMD_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

const (
	exitOK    = cli.ExitOK
	exitError = cli.ExitUsage
)

func runCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	env := &cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Now: time.Now}
	code := run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sb")
	addr := freePort(t)

	for _, c := range []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"no args", nil, exitError, ""},
		{"help", []string{"--help"}, exitOK, "Subcommands:"},
		{"unknown", []string{"frobnicate"}, exitError, ""},
		{"init help", []string{"init", "--help"}, exitOK, "-listen"},
		{"serve help", []string{"serve", "-h"}, exitOK, "SIGINT"},
		{"revoke help", []string{"revoke", "--help"}, exitOK, "-reason"},
		{"list help", []string{"list", "--help"}, exitOK, "-json"},
		{"init missing dir", []string{"init"}, exitError, ""},
		{"init non-loopback", []string{"init", filepath.Join(t.TempDir(), "x"), "--listen", "10.0.0.1:80"}, exitError, ""},
		{"init", []string{"init", dir, "--listen", addr}, exitOK, "created 21 certificates"},
		{"init again", []string{"init", dir, "--listen", addr}, exitError, ""},
		{"list", []string{"list", dir}, exitOK, "signer-pelda-1"},
		{"revoke unknown", []string{"revoke", dir, "signer-nobody", "--reason", "1"}, exitError, ""},
		{"revoke bad reason", []string{"revoke", dir, "signer-pelda-1", "--reason", "7"}, exitError, ""},
		{"revoke bad time", []string{"revoke", dir, "signer-pelda-1", "--at", "yesterday"}, exitError, ""},
		{"revoke", []string{"revoke", dir, "signer-pelda-1", "--reason", "keyCompromise", "--at", "2025-01-01T00:00:00Z"}, exitOK, "revoked signer-pelda-1"},
		{"list shows revoked", []string{"list", dir}, exitOK, "revoked 2025-01-01T00:00:00Z keyCompromise"},
		{"list json", []string{"list", "--json", dir}, exitOK, `"revocations"`},
		{"serve non-loopback", []string{"serve", dir, "--listen", "0.0.0.0:0"}, exitError, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCmd(c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.code, out, errOut)
			}
			if c.out != "" && !strings.Contains(out, c.out) {
				t.Errorf("stdout lacks %q:\n%s", c.out, out)
			}
			if code != exitOK && errOut == "" {
				t.Errorf("failure without a message on stderr")
			}
		})
	}
}

func TestServeGracefulShutdown(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sb")
	addr := freePort(t)
	if code, out, errOut := runCmd("init", dir, "--listen", addr); code != exitOK {
		t.Fatalf("init: %s %s", out, errOut)
	}
	pidFile := filepath.Join(t.TempDir(), "pid")
	cmd := exec.Command(os.Args[0], "serve", dir, "--pid-file", pidFile)
	cmd.Env = append(os.Environ(), "SANDBOX_CMD_MAIN=1")
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "sandbox: ready pid=") || !strings.Contains(line, "url=http://"+addr) {
		t.Fatalf("ready line %q: %v\n%s", line, err, stderr.String())
	}
	if b, err := os.ReadFile(pidFile); err != nil || strings.TrimSpace(string(b)) == "" {
		t.Fatalf("pid file: %v", err)
	}
	resp, err := http.Get("http://" + addr + "/crl/qualified-ca.crl")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(body) == 0 {
		t.Fatalf("CRL: HTTP %d", resp.StatusCode)
	}
	// A revocation made by another process shows up on the running server.
	if err := sandbox.Revoke(dir, "signer-minta-1", sandbox.ReasonSuperseded, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get("http://" + addr + "/crl/qualified-ca.crl")
	if err != nil {
		t.Fatal(err)
	}
	body2, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(body2) <= len(body) {
		t.Errorf("CRL did not grow after revoke (%d -> %d bytes)", len(body), len(body2))
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	if !strings.Contains(stderr.String(), "sandbox: stopped") {
		t.Errorf("no shutdown log:\n%s", stderr.String())
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("pid file not removed: %v", err)
	}
}
