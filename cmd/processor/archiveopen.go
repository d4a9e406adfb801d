package main

import (
	"context"
	"crypto/x509"
	"flag"
	"fmt"
	"os"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/config"
	"github.com/tagdij/tagdij/internal/keys"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/policy"
)

// archiveCmdFlags declares the archive subcommands' flags: the processor's --config, and the explicit
// flags of archiveFlags, which win when --dir or --db is given (an archive copied elsewhere, audited
// without the processor's configuration).
func archiveCmdFlags(fs *flag.FlagSet) {
	configFlag(fs)
	archiveFlags(fs)
}

// configOpener opens the archive of the processor's configuration: its archive directory, the
// database in its data directory, its trust section loaded offline (an archive verifies from what it
// holds) and the archive key's certificate as the tree-head signer. With --dir or --db it is
// flagOpener.
func configOpener(ctx context.Context, env *cli.Env, fs *flag.FlagSet) (*archiveSetup, error) {
	if fs.Lookup("dir").Value.String() != "" || fs.Lookup("db").Value.String() != "" {
		return flagOpener(ctx, env, fs)
	}
	cfg, err := config.LoadProcessor(fs.Lookup("config").Value.String(), env.Getenv)
	if err != nil {
		return nil, err
	}
	pol, err := policy.Select(cfg.Policy)
	if err != nil {
		return nil, err
	}
	tcfg := cfg.Trust
	tcfg.Offline = true
	tenv, err := trust.Load(tcfg, "", pol)
	if err != nil {
		return nil, err
	}
	// The tree heads' signer is the archive key's certificate; reading it opens the key (a PKCS#12
	// file needs its password), which is closed at once.
	in, _ := env.Stdin.(*os.File)
	k, err := keys.OpenSpecs(ctx, cfg.ArchiveKey, cfg.ArchiveSecret, in, env.Stderr, "Archívumkulcs jelszava/PIN / Archive key password or PIN")
	if err != nil {
		return nil, fmt.Errorf("archiveKey: %w", err)
	}
	cert := k.Certificate()
	k.Close()
	return openArchive(ctx, archiveParams{Dir: cfg.ArchiveDir, DBPath: cfg.DatabasePath(), Trust: tenv, Signers: []*x509.Certificate{cert}, Now: env.Now})
}
