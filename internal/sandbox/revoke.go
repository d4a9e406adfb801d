package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// RevocationsFile is the name of the revocation list inside a sandbox
// directory.
const RevocationsFile = "revocations.json"

// Revocation is one revoked sandbox certificate.
type Revocation struct {
	Name      string    `json:"name"`      // manifest name of the certificate
	Issuer    string    `json:"issuer"`    // manifest name of its CA
	Serial    string    `json:"serial"`    // lowercase hex
	Reason    int       `json:"reason"`    // RFC 5280 CRLReason
	RevokedAt time.Time `json:"revokedAt"` // revocationDate / revocationTime
}

type revocationFile struct {
	Version     int          `json:"version"`
	Revocations []Revocation `json:"revocations"`
}

// Reason codes of RFC 5280 §5.3.1.
const (
	ReasonUnspecified          = 0
	ReasonKeyCompromise        = 1
	ReasonCACompromise         = 2
	ReasonAffiliationChanged   = 3
	ReasonSuperseded           = 4
	ReasonCessationOfOperation = 5
	ReasonCertificateHold      = 6
	ReasonRemoveFromCRL        = 8
	ReasonPrivilegeWithdrawn   = 9
	ReasonAACompromise         = 10
)

var reasonNames = map[int]string{
	0: "unspecified", 1: "keyCompromise", 2: "cACompromise", 3: "affiliationChanged", 4: "superseded",
	5: "cessationOfOperation", 6: "certificateHold", 8: "removeFromCRL", 9: "privilegeWithdrawn", 10: "aACompromise",
}

// ReasonName returns the RFC 5280 name of a CRLReason, or "" if r is not one.
func ReasonName(r int) string { return reasonNames[r] }

// ParseReason accepts a CRLReason as a number or an RFC 5280 name
// (case-insensitive).
func ParseReason(s string) (int, error) {
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err == nil && fmt.Sprint(n) == s {
		if _, ok := reasonNames[n]; ok {
			return n, nil
		}
		return 0, fmt.Errorf("sandbox: %d is not a CRL reason code", n)
	}
	for code, name := range reasonNames {
		if strings.EqualFold(name, s) {
			return code, nil
		}
	}
	return 0, fmt.Errorf("sandbox: unknown CRL reason %q", s)
}

// parseSerial parses a hexadecimal serial with optional "0x" and ':'.
func parseSerial(s string) (*big.Int, bool) {
	s = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	s = strings.ReplaceAll(s, ":", "")
	if s == "" {
		return nil, false
	}
	n, ok := new(big.Int).SetString(s, 16)
	if !ok || n.Sign() <= 0 {
		return nil, false
	}
	return n, true
}

// Revoke records that the certificate certRef (a manifest name or a
// hexadecimal serial) of the sandbox in dir was revoked at `at` for reason
// (an RFC 5280 CRLReason; removeFromCRL is refused — use a new Init instead).
// Revoking a certificate again replaces its entry. The file is updated
// atomically under an exclusive lock, so concurrent Revoke calls and a
// running server never see a partial list. A zero at means now. Revoking a
// root CA is refused: roots are not covered by any CRL or OCSP response.
func Revoke(dir, certRef string, reason int, at time.Time) error {
	if _, ok := reasonNames[reason]; !ok || reason == ReasonRemoveFromCRL {
		return fmt.Errorf("sandbox: revoke: %d is not a usable CRL reason code", reason)
	}
	w, err := loadManifestOnly(dir)
	if err != nil {
		return err
	}
	e, err := w.lookupNoCert(certRef)
	if err != nil {
		return fmt.Errorf("sandbox: revoke: %w", err)
	}
	if e.Role == RoleRootCA {
		return fmt.Errorf("sandbox: revoke: %s is a root CA; roots cannot be revoked", e.Name)
	}
	if at.IsZero() {
		at = time.Now()
	}
	at = at.UTC().Truncate(time.Second)

	unlock, err := lockDir(dir)
	if err != nil {
		return err
	}
	defer unlock()
	list, err := readRevocations(dir)
	if err != nil {
		return err
	}
	entry := Revocation{Name: e.Name, Issuer: e.Issuer, Serial: strings.ToLower(e.Serial), Reason: reason, RevokedAt: at}
	replaced := false
	for i := range list {
		if list[i].Name == e.Name {
			list[i], replaced = entry, true
		}
	}
	if !replaced {
		list = append(list, entry)
	}
	return writeJSONAtomic(filepath.Join(dir, RevocationsFile), revocationFile{Version: 1, Revocations: list}, 0o644)
}

// Revocations returns the revocations currently recorded for the sandbox.
func (w *World) Revocations() ([]Revocation, error) { return readRevocations(w.Dir) }

// ReadRevocations returns the revocations recorded in the sandbox dir.
func ReadRevocations(dir string) ([]Revocation, error) { return readRevocations(dir) }

func readRevocations(dir string) ([]Revocation, error) {
	data, err := readLimited(filepath.Join(dir, RevocationsFile), 16<<20)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox: revocations: %w", err)
	}
	var f revocationFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("sandbox: revocations: %w", err)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("sandbox: revocations: unsupported version %d", f.Version)
	}
	for _, r := range f.Revocations {
		if _, ok := parseSerial(r.Serial); !ok {
			return nil, fmt.Errorf("sandbox: revocations: bad serial %q", r.Serial)
		}
	}
	return f.Revocations, nil
}

// lockDir takes an exclusive advisory lock on dir/.revocations.lock.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, ".revocations.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sandbox: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("sandbox: lock: %w", err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// loadManifestOnly reads the manifest without decrypting keys (Revoke needs
// names and serials only).
func loadManifestOnly(dir string) (*World, error) {
	data, err := readLimited(filepath.Join(dir, ManifestFile), maxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	man := new(Manifest)
	if err := json.Unmarshal(data, man); err != nil {
		return nil, fmt.Errorf("sandbox: %s: %w", ManifestFile, err)
	}
	w := &World{Dir: dir, Manifest: man, byName: map[string]*Entity{}}
	for _, e := range man.Entities {
		w.byName[e.Name] = e
	}
	return w, nil
}

func (w *World) lookupNoCert(ref string) (*Entity, error) {
	if e, ok := w.byName[ref]; ok {
		return e, nil
	}
	n, ok := parseSerial(ref)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, ref)
	}
	var found *Entity
	for _, e := range w.Manifest.Entities {
		if m, ok := parseSerial(e.Serial); ok && m.Cmp(n) == 0 {
			if found != nil {
				return nil, fmt.Errorf("sandbox: serial %s is ambiguous (%s, %s); use the name", ref, found.Name, e.Name)
			}
			found = e
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, ref)
	}
	return found, nil
}
