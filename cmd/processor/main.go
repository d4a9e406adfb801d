// Command processor is the fund's scheduled job (SPEC §1): final validation after the grace period,
// extension, decryption, content checks and the tamper-evident archive. This minimal main only
// registers `processor archive …` (archivecmd.go) with explicit flags; the processor's own main
// replaces flagOpener with one built from its configuration.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/tagdij/tagdij/internal/cli"
)

var commands = []*cli.Command{archiveCommand(archiveFlags, flagOpener)}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, cli.OSEnv(), os.Args[1:])
	stop()
	os.Exit(code)
}

// run is main without the process: tests call it with buffers.
func run(ctx context.Context, env *cli.Env, args []string) int {
	return cli.Main(ctx, env, "processor", commands, args)
}
