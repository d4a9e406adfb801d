package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"

	"github.com/miekg/pkcs11"
)

// p11Key is a Key whose private key lives in a PKCS#11 token.
type p11Key struct {
	mu         sync.Mutex // serialises use of sess: a session is single-threaded
	sess       *p11Session
	handle     pkcs11.ObjectHandle
	keyType    uint
	cert       *x509.Certificate
	chain      []*x509.Certificate
	desc       string
	canSign    bool
	canDecrypt bool
	pin        Secret // set only for CKA_ALWAYS_AUTHENTICATE keys
}

func (k *p11Key) Public() crypto.PublicKey       { return k.cert.PublicKey }
func (k *p11Key) Certificate() *x509.Certificate { return k.cert }
func (k *p11Key) Chain() []*x509.Certificate     { return append([]*x509.Certificate(nil), k.chain...) }
func (k *p11Key) Description() string            { return k.desc }
func (k *p11Key) decrypter() (crypto.Decrypter, bool) {
	return p11Decrypter{k}, k.keyType == pkcs11.CKK_RSA
}

// Close closes the key's session. Idempotent.
func (k *p11Key) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.sess != nil {
		k.sess.close()
		k.sess = nil
	}
	return nil
}

// Sign signs digest inside the token. See Key for the accepted requests.
func (k *p11Key) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	h, err := checkSignRequest(k.cert.PublicKey, digest, opts)
	if err != nil {
		return nil, err
	}
	if !signAllowed(k.cert) || !k.canSign {
		return nil, fmt.Errorf("%w: signing is not permitted: %s", ErrKeyUsage, k.desc)
	}
	var mech *pkcs11.Mechanism
	var input []byte
	switch pub := k.cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			salt, err := pssSaltLength(pub, h, pss)
			if err != nil {
				return nil, err
			}
			hm, mgf := hashMechanisms(h)
			mech = pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_PSS, pkcs11.NewPSSParams(hm, mgf, uint(salt)))
			input = digest
		} else {
			mech = pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil)
			if input, err = digestInfo(h, digest); err != nil {
				return nil, err
			}
		}
	case *ecdsa.PublicKey:
		mech = pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil)
		input = digest
	default:
		return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
	}

	k.mu.Lock()
	defer k.mu.Unlock()
	if k.sess == nil {
		return nil, fmt.Errorf("%w: %s", ErrClosed, k.desc)
	}
	c, sh := k.sess.ctx(), k.sess.h
	if err := c.SignInit(sh, []*pkcs11.Mechanism{mech}, k.handle); err != nil {
		if isMechanismError(err) {
			return nil, fmt.Errorf("%w: %s: %v", ErrUnsupportedMechanism, k.desc, err)
		}
		return nil, k.opError("sign", err)
	}
	if err := k.contextLogin(); err != nil {
		// End the pending operation: C_Sign fails without the context
		// login, and a failing C_Sign terminates the operation.
		_, _ = c.Sign(sh, input)
		return nil, err
	}
	sig, err := c.Sign(sh, input)
	if err != nil {
		return nil, k.opError("sign", err)
	}
	if pub, ok := k.cert.PublicKey.(*ecdsa.PublicKey); ok {
		return ecdsaDER(pub, sig)
	}
	return sig, nil
}

// contextLogin performs the per-operation login CKA_ALWAYS_AUTHENTICATE keys
// require, right after the operation's Init call.
func (k *p11Key) contextLogin() error {
	if k.pin == nil {
		return nil
	}
	pin, err := k.pin.Read(context.Background())
	if err != nil {
		return fmt.Errorf("keys: pkcs11: reading PIN: %w", err)
	}
	defer Wipe(pin)
	if err := k.sess.ctx().Login(k.sess.h, pkcs11.CKU_CONTEXT_SPECIFIC, string(pin)); err != nil {
		return loginError(err, k.sess.tokenName())
	}
	return nil
}

func (k *p11Key) opError(op string, err error) error {
	if errors.Is(err, pkcs11.Error(pkcs11.CKR_KEY_FUNCTION_NOT_PERMITTED)) {
		return fmt.Errorf("%w: the token refuses to %s with %s", ErrKeyUsage, op, k.desc)
	}
	return fmt.Errorf("keys: pkcs11: %s with %s: %w", op, k.desc, err)
}

type p11Decrypter struct{ k *p11Key }

func (d p11Decrypter) Public() crypto.PublicKey { return d.k.cert.PublicKey }

// Decrypt decrypts inside the token. With *rsa.PKCS1v15DecryptOptions and
// SessionKeyLen > 0 it behaves like crypto/rsa: on any failure, or a
// plaintext of the wrong length, it returns random bytes of that length
// instead of an error (the token's own timing is beyond our control).
func (d p11Decrypter) Decrypt(rand io.Reader, ciphertext []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	k := d.k
	if err := checkDecryptOpts(opts); err != nil {
		return nil, err
	}
	if !decryptAllowed(k.cert) || !k.canDecrypt {
		return nil, fmt.Errorf("%w: decryption is not permitted: %s", ErrKeyUsage, k.desc)
	}
	pub := k.cert.PublicKey.(*rsa.PublicKey)
	if len(ciphertext) != pub.Size() {
		return nil, fmt.Errorf("keys: decrypt: ciphertext is %d bytes, the key needs %d", len(ciphertext), pub.Size())
	}
	var mech *pkcs11.Mechanism
	sessionKeyLen := 0
	switch o := opts.(type) {
	case nil:
		mech = pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil)
	case *rsa.PKCS1v15DecryptOptions:
		mech = pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil)
		sessionKeyLen = o.SessionKeyLen
	case *rsa.OAEPOptions:
		hm, _ := hashMechanisms(o.Hash)
		mgfHash := o.MGFHash
		if mgfHash == 0 {
			mgfHash = o.Hash
		}
		_, mgf := hashMechanisms(mgfHash)
		mech = pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_OAEP,
			pkcs11.NewOAEPParams(hm, mgf, pkcs11.CKZ_DATA_SPECIFIED, o.Label))
	}

	k.mu.Lock()
	defer k.mu.Unlock()
	if k.sess == nil {
		return nil, fmt.Errorf("%w: %s", ErrClosed, k.desc)
	}
	c, sh := k.sess.ctx(), k.sess.h
	err := c.DecryptInit(sh, []*pkcs11.Mechanism{mech}, k.handle)
	if isMechanismError(err) {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnsupportedMechanism, k.desc, err)
	}
	if err == nil {
		if err = k.contextLogin(); err != nil {
			_, _ = c.Decrypt(sh, ciphertext)
		}
	}
	var pt []byte
	if err == nil {
		pt, err = c.Decrypt(sh, ciphertext)
	}
	if sessionKeyLen > 0 && (err != nil || len(pt) != sessionKeyLen) {
		Wipe(pt)
		key := make([]byte, sessionKeyLen)
		if _, rerr := io.ReadFull(randOrDefault(rand), key); rerr != nil {
			return nil, fmt.Errorf("keys: decrypt: random session key: %w", rerr)
		}
		return key, nil
	}
	if err != nil {
		if errors.Is(err, pkcs11.Error(pkcs11.CKR_KEY_FUNCTION_NOT_PERMITTED)) {
			return nil, k.opError("decrypt", err)
		}
		if errors.Is(err, pkcs11.Error(pkcs11.CKR_ENCRYPTED_DATA_INVALID)) || errors.Is(err, pkcs11.Error(pkcs11.CKR_ENCRYPTED_DATA_LEN_RANGE)) {
			// Say no more than crypto/rsa does about padding failures.
			return nil, fmt.Errorf("keys: pkcs11: decryption with %s failed", k.desc)
		}
		return nil, k.opError("decrypt", err)
	}
	return pt, nil
}

// isMechanismError reports whether an Init call failed because the token
// does not support the mechanism or its parameters. (SoftHSM 2.6 answers
// CKR_ARGUMENTS_BAD to OAEP with anything but SHA-1.)
func isMechanismError(err error) bool {
	return errors.Is(err, pkcs11.Error(pkcs11.CKR_MECHANISM_INVALID)) ||
		errors.Is(err, pkcs11.Error(pkcs11.CKR_MECHANISM_PARAM_INVALID)) ||
		errors.Is(err, pkcs11.Error(pkcs11.CKR_ARGUMENTS_BAD))
}

// hashMechanisms maps a hash to its PKCS#11 digest mechanism and MGF1 type.
// Callers have validated h.
func hashMechanisms(h crypto.Hash) (hashMech, mgf uint) {
	switch h {
	case crypto.SHA1:
		return pkcs11.CKM_SHA_1, pkcs11.CKG_MGF1_SHA1
	case crypto.SHA224:
		return pkcs11.CKM_SHA224, pkcs11.CKG_MGF1_SHA224
	case crypto.SHA256:
		return pkcs11.CKM_SHA256, pkcs11.CKG_MGF1_SHA256
	case crypto.SHA384:
		return pkcs11.CKM_SHA384, pkcs11.CKG_MGF1_SHA384
	case crypto.SHA512:
		return pkcs11.CKM_SHA512, pkcs11.CKG_MGF1_SHA512
	}
	return 0, 0
}

var hashOIDs = map[crypto.Hash]asn1.ObjectIdentifier{
	crypto.SHA224: {2, 16, 840, 1, 101, 3, 4, 2, 4},
	crypto.SHA256: {2, 16, 840, 1, 101, 3, 4, 2, 1},
	crypto.SHA384: {2, 16, 840, 1, 101, 3, 4, 2, 2},
	crypto.SHA512: {2, 16, 840, 1, 101, 3, 4, 2, 3},
}

// digestInfo builds the DER DigestInfo that CKM_RSA_PKCS signs for a
// PKCS#1 v1.5 signature (RFC 8017 §9.2), with explicit NULL parameters as
// crypto/rsa produces.
func digestInfo(h crypto.Hash, digest []byte) ([]byte, error) {
	oid, ok := hashOIDs[h]
	if !ok {
		return nil, fmt.Errorf("keys: sign: hash %v is not accepted", h)
	}
	return asn1.Marshal(struct {
		Algorithm pkix.AlgorithmIdentifier
		Digest    []byte
	}{pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.NullRawValue}, digest})
}

// ecdsaDER converts the raw r||s that CKM_ECDSA returns into the ASN.1
// ECDSA-Sig-Value crypto/ecdsa produces.
func ecdsaDER(pub *ecdsa.PublicKey, sig []byte) ([]byte, error) {
	n := (pub.Curve.Params().BitSize + 7) / 8
	if len(sig) != 2*n {
		return nil, fmt.Errorf("keys: pkcs11: ECDSA signature is %d bytes, want %d", len(sig), 2*n)
	}
	return asn1.Marshal(struct{ R, S *big.Int }{
		new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:]),
	})
}
