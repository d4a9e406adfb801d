package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tagdij/tagdij/internal/keys"
	"github.com/tagdij/tagdij/internal/keys/softhsm"
)

// Files of the optional SoftHSM2 token, relative to the sandbox directory.
const (
	// SoftHSMDir holds the SoftHSM2 configuration (softhsm2.conf) and its
	// token directory.
	SoftHSMDir = "softhsm"
	// SoftHSMFile describes the token and the keys imported into it
	// (a [SoftHSMInfo] as JSON), beside the manifest.
	SoftHSMFile = "softhsm.json"
	// SoftHSMPINFile and SoftHSMSOPINFile hold the random user and security
	// officer PINs (mode 0600), usable as "file:" secret sources.
	SoftHSMPINFile   = "secrets/pkcs11.pin"
	SoftHSMSOPINFile = "secrets/pkcs11-so.pin"
	// DefaultSoftHSMLabel is the token label ImportToSoftHSM uses by default.
	DefaultSoftHSMLabel = "tagdij-sandbox"
)

// SoftHSMOptions configure ImportToSoftHSM.
type SoftHSMOptions struct {
	// Label is the token label (at most 32 bytes); empty means
	// DefaultSoftHSMLabel.
	Label string
	// Entities are the manifest names of the keys to import; nil means the
	// default set: every signer certificate of the demo employers (the
	// expired and not-yet-valid ones included, so token listings show them
	// as unusable), the fund's receipt-signing key and the fund's
	// decryption key.
	Entities []string
}

// SoftHSMInfo is the content of softhsm.json: where the token is and which
// key of the sandbox is stored under which label. Paths other than Module
// are relative to the sandbox directory. It holds no PIN, only where the
// PIN files are.
type SoftHSMInfo struct {
	Version int `json:"version"`
	// Module is the absolute path of the SoftHSM2 PKCS#11 library.
	Module string `json:"module"`
	// Conf is the softhsm2.conf that SOFTHSM2_CONF must name.
	Conf string `json:"conf"`
	// TokenLabel and Slot identify the token.
	TokenLabel string `json:"tokenLabel"`
	Slot       uint   `json:"slot"`
	// PINFile and SOPINFile hold the user and SO PINs.
	PINFile   string `json:"pinFile"`
	SOPINFile string `json:"soPinFile"`
	// Keys are the imported keys in import order.
	Keys []SoftHSMKey `json:"keys"`
}

// SoftHSMKey is one key imported into the token.
type SoftHSMKey struct {
	// Entity is the manifest name of the key's certificate.
	Entity string `json:"entity"`
	// Label is the CKA_LABEL of the private key, public key and certificate
	// objects (the entity name).
	Label string `json:"label"`
	// ID is the CKA_ID in hexadecimal (SHA-1 of the public key).
	ID string `json:"id"`
	// Spec is the key specification programs accept (keys.ParseKeySpec),
	// e.g. for `sender cert show --key SPEC --pin file:DIR/secrets/pkcs11.pin`.
	Spec string `json:"spec"`
}

// softhsmInfoVersion is the softhsm.json format this package writes.
const softhsmInfoVersion = 1

// SoftHSMConfPath is the absolute path of the sandbox's softhsm2.conf: the
// value SOFTHSM2_CONF must have in a process that uses the sandbox token.
func SoftHSMConfPath(w *World) string { return w.Path(SoftHSMDir + "/softhsm2.conf") }

// ErrSoftHSMConf reports that SOFTHSM2_CONF does not name the sandbox's
// softhsm2.conf.
var ErrSoftHSMConf = errors.New("sandbox: SOFTHSM2_CONF must name the sandbox's softhsm2.conf before the PKCS#11 module is used")

// ImportToSoftHSM creates a SoftHSM2 token in w.Dir/softhsm and imports the
// keys opts selects, each with its certificate and CA chain, so that the
// same keys the PKCS#12 files hold can be used through PKCS#11 (SPEC §9:
// SoftHSM2 in tests). The random user and SO PINs go to
// w.Dir/secrets/pkcs11.pin and pkcs11-so.pin (mode 0600); the token's
// description goes to w.Dir/softhsm.json, which is returned too.
//
// SOFTHSM2_CONF: the SoftHSM2 library reads that variable once, when the
// process initialises the module, and internal/keys keeps the module loaded
// process-wide while any key on it is open. Rather than run the imports in a
// child process (this package has no executable of its own to re-run), the
// caller must set the variable for its own process to SoftHSMConfPath(w)
// before calling, which every later use of the token in that process needs
// anyway; ImportToSoftHSM checks it and fails with ErrSoftHSMConf otherwise.
// The caller must also not hold open keys of a SoftHSM2 module configured
// differently, since the module would not be reinitialised.
//
// A sandbox gets at most one token: if w.Dir/softhsm exists the call fails.
// On failure after the token was created the directory is left for
// inspection; remove it to try again. It returns softhsm.ErrNotInstalled
// when SoftHSM2 is missing.
func ImportToSoftHSM(ctx context.Context, w *World, opts SoftHSMOptions) (*SoftHSMInfo, error) {
	if err := softhsm.Available(); err != nil {
		return nil, fmt.Errorf("sandbox: softhsm: %w", err)
	}
	conf := SoftHSMConfPath(w)
	if got := os.Getenv(softhsm.ConfEnv); got != conf {
		return nil, fmt.Errorf("%w: it is %q; run: export %s=%s", ErrSoftHSMConf, got, softhsm.ConfEnv, conf)
	}
	label := opts.Label
	if label == "" {
		label = DefaultSoftHSMLabel
	}
	names := opts.Entities
	if names == nil {
		names = defaultSoftHSMEntities(w)
	}
	entities := make([]*Entity, 0, len(names))
	for _, n := range names {
		e, err := w.Entity(n)
		if err != nil {
			return nil, fmt.Errorf("sandbox: softhsm: %w", err)
		}
		if e.Key == nil {
			return nil, fmt.Errorf("sandbox: softhsm: entity %s has no private key", n)
		}
		entities = append(entities, e)
	}
	if _, err := os.Stat(w.Path(SoftHSMDir)); err == nil {
		return nil, fmt.Errorf("sandbox: softhsm: %s already exists; remove it to create a new token (már létezik)", w.Path(SoftHSMDir))
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("sandbox: softhsm: %w", err)
	}

	userPIN, err := randomPIN()
	if err != nil {
		return nil, err
	}
	soPIN, err := randomPIN()
	if err != nil {
		return nil, err
	}
	for _, f := range []struct{ rel, pin string }{{SoftHSMPINFile, userPIN}, {SoftHSMSOPINFile, soPIN}} {
		if err := os.MkdirAll(filepath.Dir(w.Path(f.rel)), 0o700); err != nil {
			return nil, fmt.Errorf("sandbox: softhsm: %w", err)
		}
		if err := os.WriteFile(w.Path(f.rel), []byte(f.pin+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("sandbox: softhsm: %w", err)
		}
	}
	tok, err := softhsm.NewToken(ctx, w.Path(SoftHSMDir), label, soPIN, userPIN)
	if err != nil {
		return nil, fmt.Errorf("sandbox: softhsm: %w", err)
	}
	if tok.ConfPath != conf {
		return nil, fmt.Errorf("sandbox: softhsm: token configuration is %s, expected %s", tok.ConfPath, conf)
	}

	info := &SoftHSMInfo{Version: softhsmInfoVersion, Module: tok.ModulePath, Conf: SoftHSMDir + "/softhsm2.conf",
		TokenLabel: tok.Label, Slot: tok.Slot, PINFile: SoftHSMPINFile, SOPINFile: SoftHSMSOPINFile}
	cfg := keys.PKCS11Config{Module: tok.ModulePath, TokenLabel: tok.Label, PIN: keys.SecretBytes(userPIN)}
	for _, e := range entities {
		id, err := keys.ImportToPKCS11(ctx, cfg, e.Name, e.Key, e.Cert, e.Chain...)
		if err != nil {
			return nil, fmt.Errorf("sandbox: softhsm: importing %s: %w", e.Name, err)
		}
		spec := keys.KeySpec{Kind: keys.KindPKCS11, Module: tok.ModulePath, Token: tok.Label, KeyLabel: e.Name}
		info.Keys = append(info.Keys, SoftHSMKey{Entity: e.Name, Label: e.Name, ID: hex.EncodeToString(id), Spec: spec.String()})
	}
	if err := writeJSONAtomic(w.Path(SoftHSMFile), info, 0o644); err != nil {
		return nil, err
	}
	return info, nil
}

// defaultSoftHSMEntities is the default import set of ImportToSoftHSM.
func defaultSoftHSMEntities(w *World) []string {
	var out []string
	employers := map[string]bool{}
	for _, o := range w.Manifest.Employers {
		employers[o.Key] = true
	}
	for _, e := range w.ByRole(RoleSigner) {
		if employers[e.Owner] {
			out = append(out, e.Name)
		}
	}
	return append(out, w.Manifest.Fund.Receipt, w.Manifest.Fund.Encryption)
}

func randomPIN() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("sandbox: softhsm: PIN: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// LoadSoftHSM reads w.Dir/softhsm.json. It returns an error wrapping
// os.ErrNotExist when the sandbox has no token.
func LoadSoftHSM(w *World) (*SoftHSMInfo, error) {
	data, err := readLimited(w.Path(SoftHSMFile), 1<<20)
	if err != nil {
		return nil, fmt.Errorf("sandbox: softhsm: %w", err)
	}
	info := new(SoftHSMInfo)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(info); err != nil {
		return nil, fmt.Errorf("sandbox: softhsm: %s: %w", SoftHSMFile, err)
	}
	if info.Version != softhsmInfoVersion {
		return nil, fmt.Errorf("sandbox: softhsm: %s version %d, this program reads %d", SoftHSMFile, info.Version, softhsmInfoVersion)
	}
	return info, nil
}

// Key returns the imported key of entity name.
func (i *SoftHSMInfo) Key(name string) (SoftHSMKey, error) {
	for _, k := range i.Keys {
		if k.Entity == name {
			return k, nil
		}
	}
	return SoftHSMKey{}, fmt.Errorf("%w: %q is not on the token", ErrNotFound, name)
}
