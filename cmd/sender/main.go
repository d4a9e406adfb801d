// Command sender is the employer's program (SPEC §1): it builds a contribution declaration, shows it,
// packs, signs, timestamps, verifies and sends it, and keeps what comes back — receipts, containers,
// the send log — in its workspace (internal/workspace, internal/outbox), with backup and restore.
//
// Every subcommand lives in its own file and is registered in the commands table below.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/tagdij/tagdij/internal/cli"
)

// programName and programVersion go into the header of every declaration the sender assembles.
const (
	programName    = "tagdij-sender"
	programVersion = "0.1.0"
)

// commands is the sender's command table.
var commands = []*cli.Command{
	declarationCmd, // declaration.go: generate, validate, show
	policyCmd,      // policy.go: show
	certCmd,        // cert.go: show, check
	keysCmd,        // keys.go: list
	packCmd,        // pack.go: compress, encrypt, build the unsigned package
	signCmd,        // sign.go: show, confirm, sign (one signer per run)
	timestampCmd,   // timestamp.go: time-stamp after the last signer
	verifyCmd,      // verify.go: initial check
	initCmd,        // init.go: a new workspace (commented configuration, state directory)
	sendCmd,        // send.go: upload, receipt, container
	submitCmd,      // submit.go: pack → sign → timestamp → verify → send
	receiptsCmd,    // receipts.go: list, show, verify
	statusCmd,      // receipts.go: the receiver's status of a package
	evidenceCmd,    // backup.go: evidence for a third party
	backupCmd,      // backup.go: back up the workspace
	restoreCmd,     // backup.go: restore and re-verify
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, cli.OSEnv(), os.Args[1:])
	stop()
	os.Exit(code)
}

// run is main without the process: tests call it with buffers.
func run(ctx context.Context, env *cli.Env, args []string) int {
	return cli.Main(ctx, env, "sender", commands, args)
}
