package main

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/processor"
)

// TestExitFor: `processor once` exits per SPEC §9 — a failure of the fund's side (3) before anything
// final-invalid or rejected (1), before anything not final yet (2); taken-over jobs do not count.
func TestExitFor(t *testing.T) {
	for _, c := range []struct {
		name string
		s    processor.Summary
		err  error
		want int
	}{
		{"nothing to do", processor.Summary{}, nil, cli.ExitOK},
		{"all processed", processor.Summary{Processed: 3, LeaseLost: 1}, nil, cli.ExitOK},
		{"not final yet", processor.Summary{Processed: 3, TryLater: 1}, nil, cli.ExitIncomplete},
		{"invalid", processor.Summary{FinalInvalid: 1, TryLater: 1}, nil, cli.ExitInvalid},
		{"rejected on content", processor.Summary{ContentRejected: 1}, nil, cli.ExitInvalid},
		{"a job failed", processor.Summary{Errors: 1, FinalInvalid: 1}, nil, cli.ExitUsage},
		{"the queue failed", processor.Summary{}, errors.New("store"), cli.ExitUsage},
	} {
		if got := exitFor(c.s, c.err); got != c.want {
			t.Errorf("%s: exit %d, want %d", c.name, got, c.want)
		}
	}
}

// TestCrashHookSpec: the test-only crash variable names a known step and an optional count.
func TestCrashHookSpec(t *testing.T) {
	for spec, ok := range map[string]bool{"": true, "claimed": true, "archived:3": true, "handed-off:1": true,
		"nowhere": false, "claimed:0": false, "claimed:x": false} {
		_, err := crashHook(spec, discard)
		if (err == nil) != ok {
			t.Errorf("%q: %v", spec, err)
		}
	}
}

var discard = slog.New(slog.DiscardHandler)

// TestLeaseOwnerPerProcess: two processes under one instance name lease under different owners (a
// second one's start would otherwise release the first one's leases, and both would work on the same
// jobs).
func TestLeaseOwnerPerProcess(t *testing.T) {
	a, b := leaseOwner("processor-1"), leaseOwner("processor-1")
	if a == b || !strings.HasPrefix(a, "processor-1/") || !strings.HasPrefix(b, "processor-1/") {
		t.Fatalf("lease owners %q and %q", a, b)
	}
}
