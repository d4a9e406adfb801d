package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
)

// TrustConfigFile is the trust configuration Init writes into a sandbox
// directory, for every program's --trust flag:
//
//	sender cert check --trust DIR/trust.json --policy sandbox CERT.pem
const TrustConfigFile = "trust.json"

// TrustCacheDir is the revocation cache directory trust.json names,
// relative to the sandbox directory.
const TrustCacheDir = "cache"

// trustConfig is the JSON of internal/trust.Config. It is mirrored here
// rather than imported because internal/trust's tests (and those of the
// packages below it) use this package: importing trust from here would be
// an import cycle. The sandbox tests decode the file into trust.Config with
// unknown fields disallowed, so the two cannot drift apart unnoticed.
type trustConfig struct {
	SignerAnchors   []string `json:"signerAnchors"`
	TSAAnchors      []string `json:"tsaAnchors"`
	Intermediates   []string `json:"intermediates,omitempty"`
	RevocationCache string   `json:"revocationCache,omitempty"`
	Offline         bool     `json:"offline,omitempty"`
}

// WriteTrustConfig writes w.Dir/trust.json: the sandbox root CA as the only
// anchor for signers (packages, receipts, exports) and for time-stamping
// units, the sandbox's issuing CAs as configured intermediates (so a bare
// signer certificate without its chain still validates), and the
// revocation cache w.Dir/cache. Paths in the file are relative to w.Dir, as
// trust.Load resolves them, so the directory can be moved. Revocation
// evidence is fetched online (from the sandbox server at the base URL in
// the certificates). The file is replaced atomically.
func WriteTrustConfig(w *World) error {
	root, err := w.Entity(RootCA)
	if err != nil {
		return fmt.Errorf("sandbox: trust config: %w", err)
	}
	var inter []string
	for _, e := range w.ByRole(RoleCA) {
		inter = append(inter, e.Files.Cert)
	}
	return writeTrustConfig(w.Dir, root.Files.Cert, inter)
}

// writeTrustConfig is WriteTrustConfig for Init, which has no World yet.
// rootCert and intermediates are paths relative to dir.
func writeTrustConfig(dir, rootCert string, intermediates []string) error {
	if err := os.MkdirAll(filepath.Join(dir, TrustCacheDir), 0o755); err != nil {
		return fmt.Errorf("sandbox: trust config: %w", err)
	}
	cfg := trustConfig{
		SignerAnchors:   []string{rootCert},
		TSAAnchors:      []string{rootCert},
		Intermediates:   intermediates,
		RevocationCache: TrustCacheDir,
	}
	return writeJSONAtomic(filepath.Join(dir, TrustConfigFile), cfg, 0o644)
}

// initTrustConfig writes trust.json from the manifest Init is building.
func initTrustConfig(dir string, man *Manifest) error {
	var root string
	var inter []string
	for _, e := range man.Entities {
		switch {
		case e.Name == RootCA:
			root = e.Files.Cert
		case e.Role == RoleCA:
			inter = append(inter, e.Files.Cert)
		}
	}
	if root == "" {
		return fmt.Errorf("sandbox: trust config: %w: %s", ErrNotFound, RootCA)
	}
	return writeTrustConfig(dir, root, inter)
}
