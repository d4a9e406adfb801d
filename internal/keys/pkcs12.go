package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/tagdij/tagdij/internal/ossl"
)

// maxPKCS12Size bounds the PKCS#12 files OpenPKCS12 reads.
const maxPKCS12Size = 1 << 20

// OpenPKCS12 opens the PKCS#12 file at path with the password from password.
//
// It reads files with a single private key and its certificate plus any CA
// certificates, protected by PBES2/AES with PBKDF2 (OpenSSL 3's default) or
// by the legacy PKCS#12 PBE schemes (3DES, RC2-40; `openssl pkcs12 -legacy`).
// The leaf certificate is the one whose public key matches the private key,
// wherever it sits in the file; the private key must be RSA (≥ 2048 bits) or
// ECDSA P-256/P-384/P-521. A wrong password yields an error matching
// ErrIncorrectPassword. The password bytes read from the Secret are wiped
// after decoding (go-pkcs12 takes a string, of which a copy remains in
// memory until collected).
func OpenPKCS12(ctx context.Context, path string, password Secret) (Key, error) {
	data, err := readLimited(path, maxPKCS12Size)
	if err != nil {
		return nil, fmt.Errorf("keys: pkcs12: %w", err)
	}
	pw, err := password.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: pkcs12 %s: reading password: %w", path, err)
	}
	defer Wipe(pw)
	return decodePKCS12(data, pw, path)
}

// decodePKCS12 is OpenPKCS12 after the file and password have been read.
func decodePKCS12(data, pw []byte, path string) (*softKey, error) {
	priv, leaf, certs, err := pkcs12.DecodeChain(data, string(pw))
	if err != nil {
		if errors.Is(err, pkcs12.ErrIncorrectPassword) {
			return nil, fmt.Errorf("%w: %s", ErrIncorrectPassword, path)
		}
		return nil, fmt.Errorf("keys: pkcs12 %s: %w", path, err)
	}
	return newSoftKey(priv, append([]*x509.Certificate{leaf}, certs...), "PKCS#12 "+path)
}

// NewSoftwareKey wraps an in-memory private key and its certificates as a
// Key, with the same checks and guarantees as OpenPKCS12: certs must contain
// the certificate of priv (in any position); the others become the chain as
// far as they form one. It is meant for the sandbox and tests.
func NewSoftwareKey(priv crypto.PrivateKey, certs []*x509.Certificate, description string) (Key, error) {
	return newSoftKey(priv, certs, description)
}

func newSoftKey(priv any, certs []*x509.Certificate, where string) (*softKey, error) {
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, priv)
	}
	switch signer.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey:
	default:
		return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, priv)
	}
	pub := signer.Public()
	if err := checkPublicKey(pub); err != nil {
		return nil, err
	}
	var leaf *x509.Certificate
	var others []*x509.Certificate
	for _, c := range certs {
		if c == nil {
			continue
		}
		if leaf == nil && samePublicKey(pub, c.PublicKey) {
			leaf = c
			continue
		}
		others = append(others, c)
	}
	if leaf == nil {
		return nil, fmt.Errorf("keys: %s: no certificate matches the private key (a tanúsítvány nem a kulcshoz tartozik)", where)
	}
	return &softKey{
		priv:  signer,
		fast:  ossl.Signer(signer),
		cert:  leaf,
		chain: buildChain(leaf, others),
		desc:  fmt.Sprintf("%s (%s, %s)", where, keyTypeName(pub), certSummary(leaf)),
	}, nil
}

// softKey is a Key whose private key is in process memory.
type softKey struct {
	mu   sync.RWMutex
	priv crypto.Signer // nil after Close
	// fast signs with priv's key: through OpenSSL for RSA (ossl: three times faster, every signature
	// checked by crypto/rsa), priv itself otherwise. nil after Close.
	fast   crypto.Signer
	cert   *x509.Certificate
	chain  []*x509.Certificate
	desc   string
	closed bool
}

func (k *softKey) Public() crypto.PublicKey            { return k.cert.PublicKey }
func (k *softKey) Certificate() *x509.Certificate      { return k.cert }
func (k *softKey) Chain() []*x509.Certificate          { return append([]*x509.Certificate(nil), k.chain...) }
func (k *softKey) Description() string                 { return k.desc }
func (k *softKey) decrypter() (crypto.Decrypter, bool) { return softDecrypter{k}, true }
func (k *softKey) closedErr() error                    { return fmt.Errorf("%w: %s", ErrClosed, k.desc) }
func (k *softKey) rlock() (unlock func(), closed bool) { k.mu.RLock(); return k.mu.RUnlock, k.closed }
func (k *softKey) pub() crypto.PublicKey               { return k.cert.PublicKey }
func (k *softKey) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if _, err := checkSignRequest(k.pub(), digest, opts); err != nil {
		return nil, err
	}
	if !signAllowed(k.cert) {
		return nil, fmt.Errorf("%w: certificate key usage forbids signing: %s", ErrKeyUsage, k.desc)
	}
	unlock, closed := k.rlock()
	defer unlock()
	if closed {
		return nil, k.closedErr()
	}
	return k.fast.Sign(rand, digest, opts)
}

// Close drops the key's references to the private key and frees OpenSSL's
// copy of an RSA key (which OpenSSL clears). Go gives no way to wipe the key
// material held inside crypto/rsa and crypto/ecdsa, so that memory is
// reclaimed by the garbage collector.
func (k *softKey) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if c, ok := k.fast.(io.Closer); ok && k.fast != k.priv {
		c.Close()
	}
	k.closed = true
	k.priv, k.fast = nil, nil
	return nil
}

type softDecrypter struct{ k *softKey }

func (d softDecrypter) Public() crypto.PublicKey { return d.k.cert.PublicKey }

func (d softDecrypter) Decrypt(rand io.Reader, ciphertext []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	if err := checkDecryptOpts(opts); err != nil {
		return nil, err
	}
	unlock, closed := d.k.rlock()
	defer unlock()
	if closed {
		return nil, d.k.closedErr()
	}
	rk, ok := d.k.priv.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: not an RSA key", ErrKeyUsage)
	}
	return rk.Decrypt(rand, ciphertext, opts)
}

// checkDecryptOpts accepts the option types both decrypters implement.
func checkDecryptOpts(opts crypto.DecrypterOpts) error {
	switch o := opts.(type) {
	case nil, *rsa.PKCS1v15DecryptOptions:
		return nil
	case *rsa.OAEPOptions:
		if _, err := oaepHash(o.Hash); err != nil {
			return err
		}
		if o.MGFHash != 0 {
			if _, err := oaepHash(o.MGFHash); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("keys: decrypt: unsupported options %T", opts)
}

// oaepHash checks that h is a hash OAEP may use here.
func oaepHash(h crypto.Hash) (crypto.Hash, error) {
	switch h {
	case crypto.SHA1, crypto.SHA224, crypto.SHA256, crypto.SHA384, crypto.SHA512:
		return h, nil
	}
	return 0, fmt.Errorf("keys: decrypt: OAEP hash %v is not supported", h)
}

// EncodePKCS12 encodes key, its certificate and the CA certificates as a
// PKCS#12 file protected by password, with go-pkcs12's Modern encoder
// (PBES2, AES-256-CBC, PBKDF2-HMAC-SHA-256, SHA-256 MAC) which OpenSSL 3
// reads without the legacy provider.
func EncodePKCS12(key crypto.PrivateKey, cert *x509.Certificate, chain []*x509.Certificate, password []byte) ([]byte, error) {
	if cert == nil {
		return nil, errors.New("keys: pkcs12: certificate is nil")
	}
	s, ok := key.(crypto.Signer)
	if !ok || !samePublicKey(s.Public(), cert.PublicKey) {
		return nil, errors.New("keys: pkcs12: certificate does not match the private key")
	}
	der, err := pkcs12.Modern.Encode(key, cert, chain, string(password))
	if err != nil {
		return nil, fmt.Errorf("keys: pkcs12: encode: %w", err)
	}
	return der, nil
}

// WritePKCS12 writes EncodePKCS12's output to path with mode 0600. The file
// appears atomically (written to a temporary file in the same directory,
// synced, then renamed), so a reader never sees a partial file; an existing
// file at path is replaced.
func WritePKCS12(path string, key crypto.PrivateKey, cert *x509.Certificate, chain []*x509.Certificate, password []byte) error {
	der, err := EncodePKCS12(key, cert, chain, password)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, der, 0o600)
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("keys: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(mode); err != nil {
		return fmt.Errorf("keys: write %s: %w", path, err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("keys: write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("keys: write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("keys: write %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("keys: write %s: %w", path, err)
	}
	return nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return b, nil
}
