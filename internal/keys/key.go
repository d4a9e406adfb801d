package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	cryptorand "crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
)

// Key is a private key Tagdíj can sign with, bound to its certificate.
//
// Guarantees for every Key returned by this package:
//   - Public() returns the certificate's public key, and the private key was
//     checked to belong to that certificate when the Key was opened (for PKCS#11
//     keys: by comparing the public key the token reports, or, where the token
//     reports none, by the CKA_ID pairing of key and certificate objects);
//   - Sign accepts only pre-hashed digests of SHA-224, SHA-256, SHA-384 or
//     SHA-512 whose length matches the hash; RSA keys sign with PKCS#1 v1.5 or,
//     when opts is a *rsa.PSSOptions, with RSA-PSS; ECDSA keys (P-256, P-384,
//     P-521) return an ASN.1 DER ECDSA-Sig-Value exactly like crypto/ecdsa;
//   - Sign refuses with ErrKeyUsage when the certificate has a key usage
//     extension that permits no signing (digitalSignature, contentCommitment,
//     keyCertSign or cRLSign);
//   - methods are safe for concurrent use; PKCS#11 operations on one Key are
//     serialised because a PKCS#11 session must not be used concurrently;
//   - after Close, Sign and Decrypt return ErrClosed.
type Key interface {
	crypto.Signer
	// Certificate returns the key's own (leaf) certificate. Never nil.
	Certificate() *x509.Certificate
	// Chain returns the CA certificates above the leaf, issuer first, as far
	// as the path could be built from the certificates stored with the key
	// (PKCS#12 bags, token certificate objects, PKCS11Config.Chain).
	// Certificates not on that path are left out. It may be empty.
	Chain() []*x509.Certificate
	// Description is a short human-readable description of where the key
	// lives and whose it is, for logs and error messages. It holds no secret.
	Description() string
	// Close releases what the key holds: PKCS#11 sessions (and, with the
	// last one, the login and the module), references to software key
	// material. Close is idempotent.
	Close() error
}

// decrypterKey is implemented by keys that may be able to decrypt.
type decrypterKey interface {
	decrypter() (crypto.Decrypter, bool)
}

// Decrypter returns k as a crypto.Decrypter when k is an RSA key whose
// certificate permits decryption (no key usage extension, or one with
// keyEncipherment or dataEncipherment). The Decrypter accepts nil or
// *rsa.PKCS1v15DecryptOptions (PKCS#1 v1.5, including the SessionKeyLen
// countermeasure of crypto/rsa) and *rsa.OAEPOptions with SHA-1, SHA-224,
// SHA-256, SHA-384 or SHA-512 (MGF1 with the same or the given MGFHash, and
// the optional label). The second result is false for ECDSA keys, for
// certificates restricted to signing, and for keys not from this package.
func Decrypter(k Key) (crypto.Decrypter, bool) {
	dk, ok := k.(decrypterKey)
	if !ok {
		return nil, false
	}
	if _, isRSA := k.Public().(*rsa.PublicKey); !isRSA {
		return nil, false
	}
	if !decryptAllowed(k.Certificate()) {
		return nil, false
	}
	return dk.decrypter()
}

var (
	// ErrClosed is returned by operations on a closed Key.
	ErrClosed = errors.New("keys: key is closed (a kulcs le van zárva)")
	// ErrKeyUsage is returned when the certificate's key usage, or the
	// token's key attributes, forbid the operation.
	ErrKeyUsage = errors.New("keys: operation not permitted for this key (a kulcs erre nem használható)")
	// ErrIncorrectPassword is returned when a PKCS#12 password is wrong.
	ErrIncorrectPassword = errors.New("keys: incorrect PKCS#12 password (hibás jelszó)")
	// ErrIncorrectPIN is returned when a token PIN is wrong.
	ErrIncorrectPIN = errors.New("keys: incorrect PIN (hibás PIN-kód)")
	// ErrPINLocked is returned when the token has locked the PIN.
	ErrPINLocked = errors.New("keys: PIN is locked (a PIN-kód zárolva van)")
	// ErrNoKey is returned (wrapped in a *SelectionError) when no key matches
	// the selection.
	ErrNoKey = errors.New("keys: no matching key (nincs a feltételeknek megfelelő kulcs)")
	// ErrAmbiguous is returned (wrapped in a *SelectionError) when several
	// keys match the selection.
	ErrAmbiguous = errors.New("keys: several keys match; select one by label, ID, certificate subject or serial (több kulcs felel meg; válasszon címke, azonosító, tanúsítványalany vagy sorozatszám alapján)")
	// ErrModule is returned when a PKCS#11 module cannot be loaded or
	// initialised, or the token cannot be found.
	ErrModule = errors.New("keys: PKCS#11 module or token unavailable (a PKCS#11 modul vagy token nem érhető el)")
	// ErrUnsupportedMechanism is returned when a token does not support the
	// requested signature or decryption scheme (for example SoftHSM 2.6
	// implements RSA-OAEP only with SHA-1 and MGF1-SHA-1).
	ErrUnsupportedMechanism = errors.New("keys: the token does not support this algorithm (a token nem támogatja ezt az algoritmust)")
	// ErrUnsupportedKey is returned for key types other than RSA and ECDSA
	// P-256/P-384/P-521, or RSA keys shorter than 2048 bits.
	ErrUnsupportedKey = errors.New("keys: unsupported key type (nem támogatott kulcstípus)")
)

// MinRSABits is the smallest RSA modulus this package opens or imports.
const MinRSABits = 2048

// signAllowed reports whether cert's key usage permits producing signatures.
func signAllowed(cert *x509.Certificate) bool {
	if cert.KeyUsage == 0 {
		return true
	}
	return cert.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment|x509.KeyUsageCertSign|x509.KeyUsageCRLSign) != 0
}

// decryptAllowed reports whether cert's key usage permits RSA decryption.
func decryptAllowed(cert *x509.Certificate) bool {
	if cert.KeyUsage == 0 {
		return true
	}
	return cert.KeyUsage&(x509.KeyUsageKeyEncipherment|x509.KeyUsageDataEncipherment) != 0
}

// checkPublicKey verifies that pub is an RSA (≥ MinRSABits) or ECDSA
// P-256/P-384/P-521 public key.
func checkPublicKey(pub crypto.PublicKey) error {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p.N.BitLen() < MinRSABits {
			return fmt.Errorf("%w: RSA-%d is shorter than %d bits", ErrUnsupportedKey, p.N.BitLen(), MinRSABits)
		}
		return nil
	case *ecdsa.PublicKey:
		switch p.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("%w: ECDSA curve %s", ErrUnsupportedKey, p.Curve.Params().Name)
	}
	return fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
}

// keyTypeName describes a public key as e.g. "RSA-2048" or "ECDSA P-256".
func keyTypeName(pub crypto.PublicKey) string {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", p.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + p.Curve.Params().Name
	case nil:
		return "unknown"
	}
	return fmt.Sprintf("%T", pub)
}

// samePublicKey reports whether a and b are the same public key.
func samePublicKey(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && b != nil && e.Equal(b)
}

// checkSignRequest validates a Sign call against pub and returns the hash.
// Both software and token keys go through it, so they accept exactly the
// same requests.
func checkSignRequest(pub crypto.PublicKey, digest []byte, opts crypto.SignerOpts) (crypto.Hash, error) {
	if opts == nil {
		return 0, errors.New("keys: sign: nil SignerOpts")
	}
	h := opts.HashFunc()
	switch h {
	case crypto.SHA224, crypto.SHA256, crypto.SHA384, crypto.SHA512:
	case 0:
		return 0, errors.New("keys: sign: a hash function is required (raw signing is not supported)")
	default:
		return 0, fmt.Errorf("keys: sign: hash %v is not accepted", h)
	}
	if len(digest) != h.Size() {
		return 0, fmt.Errorf("keys: sign: digest is %d bytes, %v needs %d", len(digest), h, h.Size())
	}
	if _, pss := opts.(*rsa.PSSOptions); pss {
		if _, isRSA := pub.(*rsa.PublicKey); !isRSA {
			return 0, fmt.Errorf("keys: sign: RSA-PSS requested for a %s key", keyTypeName(pub))
		}
	}
	return h, nil
}

// pssSaltLength resolves opts.SaltLength the way crypto/rsa does when
// signing: PSSSaltLengthAuto means as long as possible, EqualsHash means the
// hash length.
func pssSaltLength(pub *rsa.PublicKey, h crypto.Hash, opts *rsa.PSSOptions) (int, error) {
	emLen := (pub.N.BitLen() - 1 + 7) / 8
	maxSalt := emLen - 2 - h.Size()
	if maxSalt < 0 {
		return 0, errors.New("keys: sign: RSA key too short for PSS with this hash")
	}
	switch s := opts.SaltLength; {
	case s == rsa.PSSSaltLengthAuto:
		return maxSalt, nil
	case s == rsa.PSSSaltLengthEqualsHash:
		return h.Size(), nil
	case s > 0 && s <= maxSalt:
		return s, nil
	default:
		return 0, fmt.Errorf("keys: sign: invalid PSS salt length %d", s)
	}
}

// buildChain orders the CA certificates above leaf, issuer first, choosing
// from pool. It follows subject/issuer names and verifies each signature, so
// an unrelated certificate cannot be put on the path. It stops at a
// self-signed certificate, when no issuer is found, or after 10 steps.
func buildChain(leaf *x509.Certificate, pool []*x509.Certificate) []*x509.Certificate {
	var chain []*x509.Certificate
	used := map[*x509.Certificate]bool{}
	cur := leaf
	for range 10 {
		if bytes.Equal(cur.RawSubject, cur.RawIssuer) && cur.CheckSignatureFrom(cur) == nil {
			break
		}
		var next *x509.Certificate
		for _, c := range pool {
			if used[c] || c.Equal(leaf) || !bytes.Equal(c.RawSubject, cur.RawIssuer) {
				continue
			}
			if cur.CheckSignatureFrom(c) == nil {
				next = c
				break
			}
		}
		if next == nil {
			break
		}
		used[next] = true
		chain = append(chain, next)
		cur = next
	}
	return chain
}

// certSummary is a short description of cert for messages.
func certSummary(cert *x509.Certificate) string {
	if cert == nil {
		return "no certificate"
	}
	return fmt.Sprintf("%s, serial %s", cert.Subject.String(), cert.SerialNumber.Text(16))
}

// Wipe overwrites b with zeros. Use it on secrets returned by Secret.Read
// once they are no longer needed.
func Wipe(b []byte) {
	clear(b)
}

// randOrDefault returns r, or crypto/rand.Reader when r is nil.
func randOrDefault(r io.Reader) io.Reader {
	if r == nil {
		return cryptorand.Reader
	}
	return r
}
