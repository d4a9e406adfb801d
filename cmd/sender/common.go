package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/config"
	"github.com/tagdij/tagdij/internal/durable"
	"github.com/tagdij/tagdij/internal/keys"
	"github.com/tagdij/tagdij/internal/siglog"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/internal/tsp"
	"github.com/tagdij/tagdij/policy"
)

// This file holds what several sender commands share: the configuration (--config), the policy, trust
// environment and TSA client the configuration names, opening a key from a specification and a secret
// source, the signature log, and replacing a package file in place.

// envSenderConfig names the configuration file when --config is not given.
const envSenderConfig = "TAGDIJ_SENDER_CONFIG"

// configFlag declares --config. internal/cli has no global flags, so every command that needs the
// configuration declares it itself.
func configFlag(fs *flag.FlagSet) {
	fs.String("config", "", "a beküldő beállítófájlja (alapértelmezés: $"+envSenderConfig+") / the sender's configuration `FILE` (default: $"+envSenderConfig+")")
}

// loadConfig loads the configuration --config or TAGDIJ_SENDER_CONFIG names, with the TAGDIJ_SENDER_*
// overrides from env.
func loadConfig(env *cli.Env, fs *flag.FlagSet) (*config.Sender, error) {
	path := fs.Lookup("config").Value.String()
	if path == "" {
		path = env.Getenv(envSenderConfig)
	}
	if path == "" {
		return nil, cli.Usagef("nincs beállítófájl: --config FILE vagy $%s / no configuration: --config FILE or $%s", envSenderConfig, envSenderConfig)
	}
	return loadConfigFile(env, path)
}

// loadConfigFile loads the configuration at path. Every failure is a usage or system error (3) with a
// bilingual message naming the file: one that does not exist or cannot be read, and one with invalid
// fields (each listed).
func loadConfigFile(env *cli.Env, path string) (*config.Sender, error) {
	cfg, err := config.LoadEnv(path, env.Getenv)
	switch {
	case err == nil:
		return cfg, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, cli.Systemf("%s: a beállítófájl nem található / the configuration file was not found", path)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return nil, cli.Systemf("%s: a beállítófájl nem olvasható / the configuration file cannot be read: %s", path, cli.Describe(pe))
	}
	return nil, cli.Systemf("a beállítófájl hibás / the configuration file is invalid: %v", err)
}

// configPolicy is the signature policy the configuration names (production when empty).
func configPolicy(cfg *config.Sender) (*policy.Policy, error) {
	p, err := policy.Select(cfg.Policy)
	if err != nil {
		return nil, fmt.Errorf("config: %s: policy: %w", cfg.File, err)
	}
	return p, nil
}

// configTrust loads the configuration's trust section for pol. offline forces an offline environment
// (only embedded evidence), whatever the configuration says. Evidence freshness is judged by now, the
// command's clock, the same one that decides the validation time.
func configTrust(cfg *config.Sender, pol *policy.Policy, offline bool, now func() time.Time) (*trust.Env, error) {
	tc := cfg.Trust
	tc.Offline = tc.Offline || offline
	env, err := trust.Load(tc, cfg.Dir(), pol)
	if err != nil {
		return nil, fmt.Errorf("config: %s: trust: %w", cfg.File, err)
	}
	if env.Online != nil {
		env.Online.Now = now
	}
	return env, nil
}

// tsaClient is the RFC 3161 client for the configuration's TSA: a token is accepted only from a TSA
// that chains to the configuration's TSA anchors (SND-24). Its clock is the command's.
func tsaClient(cfg *config.Sender, tenv *trust.Env, now func() time.Time) (*tsp.Client, error) {
	if cfg.TSAURL == "" {
		return nil, cli.Usagef("a beállításban nincs időbélyeg-szolgáltató (tsaURL) / the configuration names no time-stamping service (tsaURL)")
	}
	return &tsp.Client{
		URL:   cfg.TSAURL,
		Trust: tenv.TSAVerifier(),
		Now:   now,
	}, nil
}

// openKey opens the key spec names with the secret from source (file:, env: or prompt:; never a literal
// secret, SEC-03). A prompt asks on env's terminal.
func openKey(ctx context.Context, env *cli.Env, spec, source, label string) (keys.Key, error) {
	in, _ := env.Stdin.(*os.File)
	k, err := keys.OpenSpecs(ctx, spec, source, in, env.Stderr, label)
	if errors.Is(err, keys.ErrKeySpec) || errors.Is(err, keys.ErrSecretSource) {
		return nil, cli.Usagef("%v", err)
	}
	return k, err
}

// signatureLog opens the sender's log of created and verified signatures (SIG-12, SIG-15) in the
// state directory. The caller closes it.
func signatureLog(cfg *config.Sender) (*slog.Logger, io.Closer, error) {
	return siglog.Open(cfg.StateDir, programName)
}

// maxPackageBytes bounds the package files the sender reads: the XML parser's own limit.
var maxPackageBytes = maxDeclarationBytes

// readPackage reads a package file and its SHA-256.
func readPackage(path string) ([]byte, [32]byte, error) {
	data, err := cli.ReadFile(path, maxPackageBytes)
	if err != nil {
		return nil, [32]byte{}, err
	}
	return data, sha256.Sum256(data), nil
}

func hexSum(s [32]byte) string { return hex.EncodeToString(s[:]) }

// errChanged is returned by replaceFile when the file no longer holds the bytes the command read.
var errChanged = errors.New("a csomagot közben más módosította; nem írom felül / the package was changed meanwhile; not overwritten")

// replaceFile replaces path with data atomically (a temporary file in the same directory, synced, then
// renamed over it), keeping the file's mode. It refuses when the file's content is no longer the one
// whose SHA-256 is was (another signer or command wrote it meanwhile): the new bytes were derived
// from the old ones and would silently drop the other change.
func replaceFile(path string, was [32]byte, data []byte) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	f, err := durable.Create(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp", st.Mode().Perm())
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return err
	}
	cur, _, err := readPackage(path)
	if err != nil {
		return err
	}
	if sha256.Sum256(cur) != was {
		return errChanged
	}
	return f.Commit(path)
}
