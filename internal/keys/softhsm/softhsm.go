// Package softhsm creates SoftHSM2 tokens for tests and the sandbox, so that
// PKCS#11 code paths run against a real PKCS#11 module.
//
// SoftHSM2 finds its configuration through the SOFTHSM2_CONF environment
// variable, which the library reads once, when a process first calls
// C_Initialize on it. NewToken passes the variable only to the
// softhsm2-util child it runs; a process that then loads the module must set
// it itself, before opening any key on the module:
//
//	tok, err := softhsm.NewToken(ctx, dir, "test", "so-pin", "user-pin")
//	t.Setenv(softhsm.ConfEnv, tok.ConfPath) // or os.Setenv in TestMain / main
//
// All tokens created in the same dir share one configuration file and one
// token directory, so one process can use all of them at once. Tokens in a
// different dir need a different SOFTHSM2_CONF, which takes effect only after
// every key on the module has been closed (the module is finalised then).
//
// The PINs are passed to softhsm2-util on its command line, visible in the
// process list: this package is for test and demonstration tokens only.
package softhsm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// ConfEnv is the environment variable SoftHSM2 reads its configuration
// file path from.
const ConfEnv = "SOFTHSM2_CONF"

// modulePaths are where distributions install the SoftHSM2 PKCS#11 module.
var modulePaths = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib64/pkcs11/libsofthsm2.so",
	"/usr/lib/pkcs11/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
}

// ErrNotInstalled reports that SoftHSM2 (module or softhsm2-util) is missing.
var ErrNotInstalled = errors.New("softhsm: SoftHSM2 is not installed (apt-get install softhsm2)")

// ModulePath returns the path of the installed SoftHSM2 PKCS#11 module, or
// ErrNotInstalled.
func ModulePath() (string, error) {
	for _, p := range modulePaths {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", ErrNotInstalled
}

// Available reports whether both the module and softhsm2-util are present;
// tests skip PKCS#11 cases when it returns an error.
func Available() error {
	if _, err := ModulePath(); err != nil {
		return err
	}
	if _, err := exec.LookPath("softhsm2-util"); err != nil {
		return fmt.Errorf("%w: softhsm2-util not found", ErrNotInstalled)
	}
	return nil
}

// Token is an initialised SoftHSM2 token.
type Token struct {
	// Dir holds the configuration file and the token directory.
	Dir string
	// ConfPath is the softhsm2.conf to put in SOFTHSM2_CONF.
	ConfPath string
	// ModulePath is the SoftHSM2 PKCS#11 module.
	ModulePath string
	// Label is the token label.
	Label string
	// Slot is the slot ID SoftHSM2 assigned to the token.
	Slot uint
	// SOPIN and UserPIN are the PINs the token was initialised with.
	SOPIN, UserPIN string
}

// Env returns the "SOFTHSM2_CONF=..." entry for a child process's
// environment.
func (t *Token) Env() string { return ConfEnv + "=" + t.ConfPath }

var slotRE = regexp.MustCompile(`reassigned to slot (\d+)`)

// NewToken initialises a new token labelled label in dir (created if
// needed), writing dir/softhsm2.conf with its token directory dir/tokens if
// it does not exist yet. It runs softhsm2-util --init-token --free and
// returns the token with the slot SoftHSM2 assigned. Labels must be unique
// within dir (at most 32 bytes); a duplicate label is an error.
func NewToken(ctx context.Context, dir, label, soPIN, userPIN string) (*Token, error) {
	module, err := ModulePath()
	if err != nil {
		return nil, err
	}
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		return nil, fmt.Errorf("%w: softhsm2-util not found", ErrNotInstalled)
	}
	if label == "" || len(label) > 32 {
		return nil, fmt.Errorf("softhsm: token label must be 1 to 32 bytes, got %q", label)
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("softhsm: %w", err)
	}
	tokens := filepath.Join(dir, "tokens")
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		return nil, fmt.Errorf("softhsm: %w", err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	if _, err := os.Stat(conf); errors.Is(err, os.ErrNotExist) {
		text := "# Written by tagdij internal/keys/softhsm for test tokens.\n" +
			"directories.tokendir = " + tokens + "\n" +
			"objectstore.backend = file\n" +
			"log.level = ERROR\n" +
			"slots.removable = false\n"
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			return nil, fmt.Errorf("softhsm: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("softhsm: %w", err)
	}

	// Refuse a duplicate label: softhsm2-util would create a second token
	// with the same label and leave selection by label ambiguous.
	show := exec.CommandContext(ctx, util, "--show-slots")
	show.Env = append(os.Environ(), ConfEnv+"="+conf)
	if out, err := show.CombinedOutput(); err == nil && hasLabel(string(out), label) {
		return nil, fmt.Errorf("softhsm: a token labelled %q already exists in %s", label, dir)
	}

	cmd := exec.CommandContext(ctx, util, "--init-token", "--free", "--label", label, "--so-pin", soPIN, "--pin", userPIN)
	cmd.Env = append(os.Environ(), ConfEnv+"="+conf)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("softhsm: softhsm2-util --init-token: %w: %s", err, strings.TrimSpace(string(out)))
	}
	m := slotRE.FindSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("softhsm: cannot find the slot in softhsm2-util output: %s", strings.TrimSpace(string(out)))
	}
	slot, err := strconv.ParseUint(string(m[1]), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("softhsm: slot number: %w", err)
	}
	return &Token{Dir: dir, ConfPath: conf, ModulePath: module, Label: label, Slot: uint(slot), SOPIN: soPIN, UserPIN: userPIN}, nil
}

// hasLabel reports whether softhsm2-util --show-slots output lists a token
// with exactly this label.
func hasLabel(out, label string) bool {
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && strings.TrimSpace(k) == "Label" && strings.TrimSpace(v) == label {
			return true
		}
	}
	return false
}
