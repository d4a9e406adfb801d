package sandbox

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
)

// KeyAlg names a key type the sandbox generates.
type KeyAlg string

// Key algorithms. RSA keys are at least 2048 bits (SPEC §2).
const (
	RSA2048   KeyAlg = "RSA-2048"
	RSA3072   KeyAlg = "RSA-3072"
	RSA4096   KeyAlg = "RSA-4096"
	ECDSAP256 KeyAlg = "ECDSA-P256"
	ECDSAP384 KeyAlg = "ECDSA-P384"
)

// KeyAlgs lists every supported KeyAlg.
var KeyAlgs = []KeyAlg{RSA2048, RSA3072, RSA4096, ECDSAP256, ECDSAP384}

// Valid reports whether a is one of KeyAlgs.
func (a KeyAlg) Valid() bool {
	for _, k := range KeyAlgs {
		if a == k {
			return true
		}
	}
	return false
}

// IsRSA reports whether a is an RSA algorithm.
func (a KeyAlg) IsRSA() bool { return a == RSA2048 || a == RSA3072 || a == RSA4096 }

// KeySource produces a new private key of the given algorithm. Every call
// must return a key that the same Init has not received before, so that no
// two sandbox entities share a key.
type KeySource func(alg KeyAlg) (crypto.Signer, error)

// GenerateKey generates a fresh key of algorithm alg from crypto/rand. It is
// the default KeySource.
func GenerateKey(alg KeyAlg) (crypto.Signer, error) {
	switch alg {
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case RSA4096:
		return rsa.GenerateKey(rand.Reader, 4096)
	case ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	}
	return nil, fmt.Errorf("sandbox: unsupported key algorithm %q", alg)
}

// keyAlgOf describes a public key as a KeyAlg; ok is false for anything the
// sandbox does not generate.
func keyAlgOf(pub crypto.PublicKey) (KeyAlg, bool) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		switch p.N.BitLen() {
		case 2048:
			return RSA2048, true
		case 3072:
			return RSA3072, true
		case 4096:
			return RSA4096, true
		}
	case *ecdsa.PublicKey:
		switch p.Curve {
		case elliptic.P256():
			return ECDSAP256, true
		case elliptic.P384():
			return ECDSAP384, true
		}
	}
	return "", false
}
