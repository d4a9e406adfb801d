package sandbox

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/tagdij/tagdij/internal/boundedio"
)

// World is a loaded sandbox: the manifest with every certificate parsed and
// every key decrypted. A World is read-only after Load and safe for
// concurrent use; revocations are not part of it (they change while a server
// runs) and are read from the directory by [World.Revocations] and the
// handler.
type World struct {
	// Dir is the sandbox directory (absolute).
	Dir string
	// Manifest is the parsed sandbox.json; its entities carry Cert, Key and
	// Chain.
	Manifest *Manifest

	password []byte
	byName   map[string]*Entity
}

// ErrNotFound is returned when a name or serial matches no sandbox entity.
var ErrNotFound = errors.New("sandbox: no such entity (nincs ilyen tanúsítvány)")

// maxManifestSize bounds sandbox.json; a real one is a few tens of KiB.
const maxManifestSize = 4 << 20

// Load opens the sandbox in dir. It checks that every certificate file
// matches the SHA-256 and serial recorded in the manifest, that every
// PKCS#12 key belongs to its certificate, and that every certificate is
// signed by the entity named as its issuer.
func Load(dir string) (*World, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("sandbox: load: %w", err)
	}
	data, err := readLimited(filepath.Join(abs, ManifestFile), maxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("sandbox: load: %w", err)
	}
	man := new(Manifest)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(man); err != nil {
		return nil, fmt.Errorf("sandbox: load: %s: %w", ManifestFile, err)
	}
	if man.Version != ManifestVersion {
		return nil, fmt.Errorf("sandbox: load: manifest version %d, this program reads %d", man.Version, ManifestVersion)
	}
	w := &World{Dir: abs, Manifest: man, byName: map[string]*Entity{}}
	pw, err := readLimited(w.Path(man.PasswordFile), 4096)
	if err != nil {
		return nil, fmt.Errorf("sandbox: load: password: %w", err)
	}
	w.password = bytes.TrimRight(pw, "\r\n")

	for _, e := range man.Entities {
		if e == nil || e.Name == "" {
			return nil, errors.New("sandbox: load: manifest has an entity without a name")
		}
		if _, dup := w.byName[e.Name]; dup {
			return nil, fmt.Errorf("sandbox: load: entity %s listed twice", e.Name)
		}
		if err := w.loadEntity(e); err != nil {
			return nil, err
		}
		w.byName[e.Name] = e
	}
	for _, e := range man.Entities {
		if err := w.linkChain(e); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{RootCA, QualifiedCA, AdvancedCA, TSACA, TLSCA, OCSPResponder, TSAUnit, FundReceipt, FundTLS, FundEncryption, TaxEncryption} {
		e, ok := w.byName[name]
		if !ok {
			return nil, fmt.Errorf("sandbox: load: %w: required entity %s", ErrNotFound, name)
		}
		if e.Key == nil {
			return nil, fmt.Errorf("sandbox: load: entity %s has no key", name)
		}
	}
	return w, nil
}

func (w *World) loadEntity(e *Entity) error {
	der, err := readLimited(w.Path(e.Files.CertDER), 1<<20)
	if err != nil {
		return fmt.Errorf("sandbox: load %s: %w", e.Name, err)
	}
	sum := sha256.Sum256(der)
	if hex.EncodeToString(sum[:]) != strings.ToLower(e.SHA256) {
		return fmt.Errorf("sandbox: load %s: certificate file does not match the manifest's SHA-256", e.Name)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("sandbox: load %s: %w", e.Name, err)
	}
	if cert.SerialNumber.Text(16) != strings.ToLower(e.Serial) {
		return fmt.Errorf("sandbox: load %s: serial %x differs from the manifest's %s", e.Name, cert.SerialNumber, e.Serial)
	}
	e.Cert = cert
	if e.Files.PKCS12 == "" {
		return nil
	}
	p12, err := readLimited(w.Path(e.Files.PKCS12), 1<<20)
	if err != nil {
		return fmt.Errorf("sandbox: load %s: %w", e.Name, err)
	}
	priv, p12cert, _, err := pkcs12.DecodeChain(p12, string(w.password))
	if err != nil {
		return fmt.Errorf("sandbox: load %s: PKCS#12: %w", e.Name, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok || !p12cert.Equal(cert) {
		return fmt.Errorf("sandbox: load %s: PKCS#12 holds a different certificate or key type", e.Name)
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if eq, ok := signer.Public().(equaler); !ok || !eq.Equal(cert.PublicKey) {
		return fmt.Errorf("sandbox: load %s: key does not match certificate", e.Name)
	}
	e.Key = signer
	return nil
}

func (w *World) linkChain(e *Entity) error {
	cur := e
	e.Chain = nil
	for range 10 {
		iss, ok := w.byName[cur.Issuer]
		if !ok {
			return fmt.Errorf("sandbox: load %s: issuer %q is not in the manifest", cur.Name, cur.Issuer)
		}
		if err := cur.Cert.CheckSignatureFrom(iss.Cert); err != nil {
			return fmt.Errorf("sandbox: load %s: not signed by %s: %w", cur.Name, iss.Name, err)
		}
		if iss == cur {
			return nil
		}
		e.Chain = append(e.Chain, iss.Cert)
		cur = iss
	}
	return fmt.Errorf("sandbox: load %s: issuer chain too long", e.Name)
}

func readLimited(path string, limit int64) ([]byte, error) {
	return boundedio.ReadFile(path, limit)
}

// Path returns the absolute path of a manifest-relative path.
func (w *World) Path(rel string) string { return filepath.Join(w.Dir, filepath.FromSlash(rel)) }

// BaseURL is the URL the certificates point at.
func (w *World) BaseURL() string { return w.Manifest.BaseURL }

// Password returns a copy of the PKCS#12 password.
func (w *World) Password() []byte { return bytes.Clone(w.password) }

// PasswordFile is the absolute path of the file holding the PKCS#12
// password (usable as a keys "file:" secret source).
func (w *World) PasswordFile() string { return w.Path(w.Manifest.PasswordFile) }

// Entity returns the entity with the given manifest name.
func (w *World) Entity(name string) (*Entity, error) {
	if e, ok := w.byName[name]; ok {
		return e, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
}

// MustEntity is Entity for names known to exist (the constants of this
// package, names read from the manifest); it panics otherwise. Meant for
// tests.
func (w *World) MustEntity(name string) *Entity {
	e, err := w.Entity(name)
	if err != nil {
		panic(err)
	}
	return e
}

// Entities returns every entity in manifest order.
func (w *World) Entities() []*Entity { return append([]*Entity(nil), w.Manifest.Entities...) }

// ByRole returns the entities with the given role, in manifest order.
func (w *World) ByRole(role string) []*Entity {
	var out []*Entity
	for _, e := range w.Manifest.Entities {
		if e.Role == role {
			out = append(out, e)
		}
	}
	return out
}

// ByOwner returns the entities of an organisation (Organization.Key).
func (w *World) ByOwner(owner string) []*Entity {
	var out []*Entity
	for _, e := range w.Manifest.Entities {
		if e.Owner == owner {
			out = append(out, e)
		}
	}
	return out
}

// Employer returns the demo employer with the given key ("pelda", "minta").
func (w *World) Employer(key string) (Organization, error) {
	for _, o := range w.Manifest.Employers {
		if o.Key == key {
			return o, nil
		}
	}
	return Organization{}, fmt.Errorf("%w: employer %q", ErrNotFound, key)
}

// Signers returns the currently valid signer entities of an employer, in
// manifest order.
func (w *World) Signers(employer string) ([]*Entity, error) {
	o, err := w.Employer(employer)
	if err != nil {
		return nil, err
	}
	out := make([]*Entity, 0, len(o.Signers))
	for _, n := range o.Signers {
		e, err := w.Entity(n)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Issuer returns the entity that issued e (e itself for a root).
func (w *World) Issuer(e *Entity) (*Entity, error) { return w.Entity(e.Issuer) }

// BySerial returns the entity whose certificate has the given serial
// (hexadecimal, any case, optional "0x" prefix and ':' separators).
func (w *World) BySerial(serial string) (*Entity, error) {
	n, ok := parseSerial(serial)
	if !ok {
		return nil, fmt.Errorf("%w: %q is not a hexadecimal serial", ErrNotFound, serial)
	}
	for _, e := range w.Manifest.Entities {
		if e.Cert.SerialNumber.Cmp(n) == 0 {
			return e, nil
		}
	}
	return nil, fmt.Errorf("%w: serial %s", ErrNotFound, serial)
}

// Lookup resolves a certificate reference: a manifest name, else a serial.
func (w *World) Lookup(ref string) (*Entity, error) {
	if e, ok := w.byName[ref]; ok {
		return e, nil
	}
	return w.BySerial(ref)
}

// RootPool returns a pool with the sandbox root CA (the trust anchor of
// signer, TSA, receipt, encryption and OCSP certificates).
func (w *World) RootPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(w.MustEntity(RootCA).Cert)
	return p
}

// IntermediatePool returns a pool with every non-root CA certificate.
func (w *World) IntermediatePool() *x509.CertPool {
	p := x509.NewCertPool()
	for _, e := range w.ByRole(RoleCA) {
		p.AddCert(e.Cert)
	}
	return p
}

// TLSRootPool returns a pool with the separate TLS CA that issued the fund's
// server certificate; HTTPS clients of the receiver trust this pool.
func (w *World) TLSRootPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(w.MustEntity(TLSCA).Cert)
	return p
}

// TLSCertificate returns the fund's TLS server certificate with its key,
// ready for tls.Config.Certificates.
func (w *World) TLSCertificate() tls.Certificate {
	e := w.MustEntity(FundTLS)
	c := tls.Certificate{Certificate: [][]byte{e.Cert.Raw}, PrivateKey: e.Key, Leaf: e.Cert}
	for _, ca := range e.Chain {
		if !bytes.Equal(ca.RawIssuer, ca.RawSubject) {
			c.Certificate = append(c.Certificate, ca.Raw)
		}
	}
	return c
}
