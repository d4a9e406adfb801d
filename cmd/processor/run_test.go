package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/processor"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
)

// TestRunScheduleAdminSIGTERM: `processor run` processes a package queued while it runs, on its
// schedule (every second); its admin listener answers /healthz, /readyz and /metrics (the job counted);
// SIGTERM stops it with exit status 0 after a graceful stop.
func TestRunScheduleAdminSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the processor binary")
	}
	bin := buildProcessor(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	admin := ln.Addr().String()
	ln.Close()
	w := newProcWorld(t, map[string]any{"schedule": "@every 1s", "adminListen": admin})
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "run", "--config", w.Config)
	var log bytes.Buffer
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + admin + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			select {
			case err := <-exited:
				t.Fatalf("the processor exited (%v) while waiting for %s\n%s", err, what, log.String())
			case <-ctx.Done():
				t.Fatalf("timed out waiting for %s\n%s", what, log.String())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	waitFor("/healthz", func() bool { code, _ := get("/healthz"); return code == http.StatusOK })
	if code, body := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz: %d %s", code, body)
	}
	sums := w.submit(t, 1, receivertest.PackageOptions{})
	waitFor("the package processed on the schedule", func() bool { return allDone(t, w, sums) })
	if st, _ := w.DB.PackageStatus(ctx, sums[0]); st.Status != string(processor.Processed) {
		t.Errorf("status %q", st.Status)
	}
	waitFor("the metrics", func() bool {
		_, body := get("/metrics")
		return strings.Contains(body, `tagdij_processor_jobs_total{result="processed"} 1`) && strings.Contains(body, "go_goroutines")
	})
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, log.String())
		}
	case <-ctx.Done():
		t.Fatal("no exit after SIGTERM")
	}
	if !strings.Contains(log.String(), `"event":"processor.stopped"`) {
		t.Errorf("no graceful stop in the log:\n%s", log.String())
	}
}
