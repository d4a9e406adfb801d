// Package ossl signs with in-memory RSA private keys through OpenSSL's libcrypto.
//
// Why: Go's crypto/rsa does the private-key operation with its constant-time bigmod arithmetic, which
// on the amd64 machines the fund runs on takes 1.1–1.7 ms for an RSA-2048 signature, three to four
// times OpenSSL's (`openssl speed rsa2048`). The receiver signs one receipt per upload and the sandbox
// TSA one token per receipt, so on deadline day that difference is a third of a receiver's CPU. OpenSSL's
// RSA is constant-time too and blinds every private operation.
//
// Every signature made here is verified with crypto/rsa before it is returned, so a fault in the
// private-key operation (the Bellcore attack on CRT) or a disagreement between the two libraries can
// never leave the process: the caller gets an error instead. Only what OpenSSL and Go agree on is
// offloaded: PKCS #1 v1.5 and PSS signatures over SHA-224/256/384/512 digests; anything else (a
// raw PKCS #1 v1.5 signature without a hash, MD5+SHA1, SHA-1) goes to Go's implementation unchanged.
package ossl

/*
#cgo pkg-config: libcrypto
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/err.h>

// tg_rsa_load decodes a PKCS #1 RSAPrivateKey; NULL on any error.
static EVP_PKEY *tg_rsa_load(const unsigned char *der, long len) {
	const unsigned char *p = der;
	EVP_PKEY *k = d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, len);
	if (k == NULL || p != der + len) {
		EVP_PKEY_free(k);
		ERR_clear_error();
		return NULL;
	}
	return k;
}

static const EVP_MD *tg_md(int id) {
	switch (id) {
	case 224: return EVP_sha224();
	case 256: return EVP_sha256();
	case 384: return EVP_sha384();
	case 512: return EVP_sha512();
	}
	return NULL;
}

// tg_rsa_sign signs the digest dgst (made with the hash mdid) with k: PKCS #1 v1.5 when saltlen is
// below -100, else PSS with MGF1 over the same hash and the OpenSSL salt length saltlen. *siglen holds
// the size of sig on entry and the signature's length on return. 1 on success; on failure errbuf
// receives OpenSSL's last error text (when it has one). The OpenSSL error queue of this thread is
// cleared either way.
static int tg_rsa_sign(EVP_PKEY *k, int mdid, int saltlen, const unsigned char *dgst, size_t dlen,
		unsigned char *sig, size_t *siglen, char *errbuf, size_t errlen) {
	int ok = 0;
	const EVP_MD *md = tg_md(mdid);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k, NULL);
	if (md == NULL || ctx == NULL) goto done;
	if (EVP_PKEY_sign_init(ctx) <= 0) goto done;
	if (saltlen < -100) {
		if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0) goto done;
	} else {
		if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0) goto done;
		if (EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, saltlen) <= 0) goto done;
		if (EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) <= 0) goto done;
	}
	if (EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0) goto done;
	if (EVP_PKEY_sign(ctx, sig, siglen, dgst, dlen) <= 0) goto done;
	ok = 1;
done:
	if (!ok) {
		unsigned long e = ERR_peek_last_error();
		if (e != 0) ERR_error_string_n(e, errbuf, errlen);
	}
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}
*/
import "C"

import (
	"bytes"
	"cmp"
	"crypto"
	"crypto/fips140"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"unsafe"
)

// pkcs1 is the salt-length argument of tg_rsa_sign that selects PKCS #1 v1.5 padding.
const pkcs1 = -1000

// OpenSSL's special PSS salt lengths for signing (openssl/rsa.h).
const (
	saltLenDigest = -1 // RSA_PSS_SALTLEN_DIGEST
	saltLenMax    = -3 // RSA_PSS_SALTLEN_MAX
)

// RSASigner is a crypto.Signer for one RSA private key whose PKCS #1 v1.5 and PSS signatures over
// SHA-2 digests are made by OpenSSL and checked by crypto/rsa; every other request is signed by the
// crypto/rsa key itself. It is safe for concurrent use: OpenSSL 3 allows concurrent private-key
// operations on one EVP_PKEY, each Sign uses its own context.
type RSASigner struct {
	priv *rsa.PrivateKey
	h    *handle
}

// handle owns the OpenSSL copy of the key. Close frees it; a cleanup frees it once the RSASigner is
// unreachable if Close was never called. The lock keeps Close from freeing it under a running Sign.
type handle struct {
	mu sync.RWMutex
	k  *C.EVP_PKEY // nil once freed
}

func (h *handle) free() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.k != nil {
		C.EVP_PKEY_free(h.k) // RSA_free clears the key's numbers before releasing them
		h.k = nil
	}
}

// NewRSASigner copies priv into OpenSSL. The returned signer keeps priv for the fallback and the
// check of every signature; priv must not be modified afterwards.
func NewRSASigner(priv *rsa.PrivateKey) (*RSASigner, error) {
	if priv == nil {
		return nil, errors.New("ossl: nil RSA key")
	}
	if err := priv.Validate(); err != nil {
		return nil, fmt.Errorf("ossl: invalid RSA key: %w", err)
	}
	der := x509.MarshalPKCS1PrivateKey(priv)
	cder := C.CBytes(der)
	k := C.tg_rsa_load((*C.uchar)(cder), C.long(len(der)))
	// The DER copies hold the private key: wipe them before they are released (what
	// x509.MarshalPKCS1PrivateKey's encoder held on the way is out of reach, left to the collector).
	clear(der)
	C.memset(cder, 0, C.size_t(len(der)))
	C.free(cder)
	if k == nil {
		return nil, errors.New("ossl: OpenSSL did not accept the RSA key")
	}
	h := &handle{k: k}
	s := &RSASigner{priv: priv, h: h}
	runtime.AddCleanup(s, (*handle).free, h)
	return s, nil
}

func (s *RSASigner) closed() bool {
	s.h.mu.RLock()
	defer s.h.mu.RUnlock()
	return s.h.k == nil
}

// Close frees OpenSSL's copy of the key. Later calls of Sign fail; Close is idempotent.
func (s *RSASigner) Close() error {
	s.h.free()
	return nil
}

// ErrClosed is returned by Sign after Close.
var ErrClosed = errors.New("ossl: the key was closed")

// Public returns the public key.
func (s *RSASigner) Public() crypto.PublicKey { return s.priv.Public() }

// Sign signs digest as crypto/rsa's PrivateKey.Sign does (PSS when opts is *rsa.PSSOptions, PKCS #1
// v1.5 otherwise); rnd is used only on the crypto/rsa fallback (OpenSSL draws from its own DRBG). A
// signature is returned only after crypto/rsa has verified it.
func (s *RSASigner) Sign(rnd io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if s.closed() {
		return nil, ErrClosed
	}
	if fips140.Enabled() {
		// In FIPS 140-3 mode every signature goes through Go's validated module.
		return s.priv.Sign(rnd, digest, opts)
	}
	h := opts.HashFunc()
	mdid := 0
	switch h {
	case crypto.SHA224:
		mdid = 224
	case crypto.SHA256:
		mdid = 256
	case crypto.SHA384:
		mdid = 384
	case crypto.SHA512:
		mdid = 512
	default:
		return s.priv.Sign(rnd, digest, opts)
	}
	if len(digest) != h.Size() {
		return nil, fmt.Errorf("ossl: digest of %d bytes for %v", len(digest), h)
	}
	salt := pkcs1
	pss, isPSS := opts.(*rsa.PSSOptions)
	if isPSS {
		switch n := pss.SaltLength; {
		case n == rsa.PSSSaltLengthAuto:
			salt = saltLenMax
		case n == rsa.PSSSaltLengthEqualsHash:
			salt = saltLenDigest
		case n > 0:
			salt = n
		default:
			return s.priv.Sign(rnd, digest, opts)
		}
	}
	sig := make([]byte, s.priv.Size())
	n := C.size_t(len(sig))
	var errbuf [256]byte
	s.h.mu.RLock()
	if s.h.k == nil {
		s.h.mu.RUnlock()
		return nil, ErrClosed
	}
	ok := C.tg_rsa_sign(s.h.k, C.int(mdid), C.int(salt), (*C.uchar)(unsafe.Pointer(&digest[0])), C.size_t(len(digest)),
		(*C.uchar)(unsafe.Pointer(&sig[0])), &n, (*C.char)(unsafe.Pointer(&errbuf[0])), C.size_t(len(errbuf)))
	s.h.mu.RUnlock()
	runtime.KeepAlive(s)
	if ok != 1 || int(n) != len(sig) {
		msg := string(errbuf[:max(0, bytes.IndexByte(errbuf[:], 0))])
		return nil, fmt.Errorf("ossl: OpenSSL could not sign: %s", cmp.Or(msg, "no error text"))
	}
	var err error
	if isPSS {
		vo := *pss
		if salt == saltLenMax {
			vo.SaltLength = rsa.PSSSaltLengthAuto
		}
		err = rsa.VerifyPSS(&s.priv.PublicKey, h, digest, sig, &vo)
	} else {
		err = rsa.VerifyPKCS1v15(&s.priv.PublicKey, h, digest, sig)
	}
	if err != nil {
		return nil, fmt.Errorf("ossl: OpenSSL's signature does not verify: %w", err)
	}
	return sig, nil
}

// Signer returns an RSASigner for an *rsa.PrivateKey, and key itself for any other signer or when
// OpenSSL refuses the key (the caller still signs, with Go's implementation).
func Signer(key crypto.Signer) crypto.Signer {
	if rk, ok := key.(*rsa.PrivateKey); ok {
		if s, err := NewRSASigner(rk); err == nil {
			return s
		}
	}
	return key
}
