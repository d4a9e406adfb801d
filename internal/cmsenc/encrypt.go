package cmsenc

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"slices"
)

// KeyTransport selects how Encrypt and WrapKeyFor encrypt the content-encryption key.
type KeyTransport int

const (
	// OAEPSHA256 is RSAES-OAEP with SHA-256 and MGF1-SHA-256, empty label (the default).
	OAEPSHA256 KeyTransport = iota
	// PKCS1v15 is RSA PKCS#1 v1.5 encryption (rsaEncryption), for recipients that cannot do OAEP.
	PKCS1v15
)

// MinRSABits is the smallest recipient RSA key Encrypt and WrapKeyFor accept (SPEC §2: RSA ≥ 2048).
const MinRSABits = 2048

// Options tune Encrypt and WrapKeyFor. The zero value (or nil) is the Tagdíj default: AES-256-CBC,
// RSAES-OAEP-SHA-256, recipients identified by issuer and serial number.
type Options struct {
	KeyTransport KeyTransport
	// SubjectKeyID identifies recipients by their certificate's subject key identifier
	// (KeyTransRecipientInfo version 2) instead of issuer and serial number.
	SubjectKeyID bool
	// Rand is the randomness source for keys, IVs and RSA padding; nil means crypto/rand. (crypto/rsa
	// may ignore it; see its documentation.)
	Rand io.Reader
}

func (o *Options) rand() io.Reader {
	if o == nil || o.Rand == nil {
		return rand.Reader
	}
	return o.Rand
}

// Encrypt returns the DER encoding of a ContentInfo holding an EnvelopedData: plaintext (content type
// id-data) encrypted with a fresh AES-256-CBC key, and one KeyTransRecipientInfo per certificate. Each
// recipient certificate must hold an RSA key of at least MinRSABits and, if it has a key usage
// extension, allow keyEncipherment. RecipientInfos are written in DER SET OF order, not in the order
// given. The output is laid out in a single allocation of its final size; plaintext is not modified.
func Encrypt(plaintext []byte, recipients []*x509.Certificate, opts *Options) ([]byte, error) {
	if len(recipients) == 0 {
		return nil, errors.New("cmsenc: encrypt: no recipients")
	}
	if len(recipients) > MaxRecipients {
		return nil, fmt.Errorf("cmsenc: encrypt: %d recipients, at most %d", len(recipients), MaxRecipients)
	}
	for i, a := range recipients {
		for _, b := range recipients[:i] {
			if a.Equal(b) {
				return nil, fmt.Errorf("cmsenc: encrypt: recipient %q given twice", a.Subject)
			}
		}
	}
	rnd := opts.rand()
	key := make([]byte, 32)
	defer clear(key)
	iv := make([]byte, aes.BlockSize)
	if _, err := io.ReadFull(rnd, key); err != nil {
		return nil, fmt.Errorf("cmsenc: encrypt: generating the content key: %w", err)
	}
	if _, err := io.ReadFull(rnd, iv); err != nil {
		return nil, fmt.Errorf("cmsenc: encrypt: generating the IV: %w", err)
	}

	infos := make([][]byte, len(recipients))
	version := 0
	for i, cert := range recipients {
		ri, err := wrapKey(key, cert, opts)
		if err != nil {
			return nil, err
		}
		infos[i] = ri
	}
	if opts != nil && opts.SubjectKeyID {
		version = 2 // RFC 5652 §6.1: a RecipientInfo of version other than 0
	}
	slices.SortFunc(infos, bytes.Compare) // DER: SET OF in ascending order of the encodings
	riLen := 0
	for _, ri := range infos {
		riLen += len(ri)
	}

	algID, err := asn1.Marshal(pkix.AlgorithmIdentifier{Algorithm: oidAES256CBC,
		Parameters: asn1.RawValue{Class: classUniversal, Tag: tagOctetString, Bytes: iv}})
	if err != nil {
		return nil, fmt.Errorf("cmsenc: encrypt: %w", err)
	}
	oidDataDER, _ := asn1.Marshal(oidData)
	oidEnvDER, _ := asn1.Marshal(oidEnvelopedData)

	ctLen := (len(plaintext)/aes.BlockSize + 1) * aes.BlockSize
	eciLen := len(oidDataDER) + len(algID) + lenOfTL(ctLen) + ctLen
	edLen := 3 + lenOfTL(riLen) + riLen + lenOfTL(eciLen) + eciLen
	ciLen := len(oidEnvDER) + lenOfTL(edLen) + lenOfTL(edLen) + edLen
	total := lenOfTL(ciLen) + ciLen

	out := make([]byte, 0, total)
	out = appendTL(out, 0x30, ciLen) // ContentInfo
	out = append(out, oidEnvDER...)
	out = appendTL(out, 0xa0, lenOfTL(edLen)+edLen) // [0] EXPLICIT
	out = appendTL(out, 0x30, edLen)                // EnvelopedData
	out = append(out, 0x02, 0x01, byte(version))
	out = appendTL(out, 0x31, riLen)
	for _, ri := range infos {
		out = append(out, ri...)
	}
	out = appendTL(out, 0x30, eciLen) // EncryptedContentInfo
	out = append(out, oidDataDER...)
	out = append(out, algID...)
	out = appendTL(out, 0x80, ctLen) // [0] IMPLICIT OCTET STRING, primitive
	start := len(out)
	out = append(out, plaintext...)
	pad := byte(ctLen - len(plaintext))
	for range int(pad) {
		out = append(out, pad)
	}
	if len(out) != total {
		return nil, fmt.Errorf("cmsenc: encrypt: internal layout error (%d != %d)", len(out), total)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("cmsenc: encrypt: %w", err)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out[start:], out[start:])
	return out, nil
}

// WrapKeyFor returns the DER encoding of a KeyTransRecipientInfo that transports contentKey (16, 24
// or 32 bytes, as ContentKey returns it) to cert's RSA key. The tax-authority export (SPEC §5) stores
// it beside the unchanged package so the authority decrypts the signed ciphertext itself
// (DecryptWithRecipientInfo).
func WrapKeyFor(contentKey []byte, cert *x509.Certificate, opts *Options) ([]byte, error) {
	switch len(contentKey) {
	case 16, 24, 32:
	default:
		return nil, fmt.Errorf("cmsenc: wrap: a %d-byte content key is not an AES key", len(contentKey))
	}
	return wrapKey(contentKey, cert, opts)
}

func wrapKey(key []byte, cert *x509.Certificate, opts *Options) ([]byte, error) {
	if cert == nil {
		return nil, errors.New("cmsenc: nil recipient certificate")
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("cmsenc: recipient %q: key transport needs an RSA key, not %T", cert.Subject, cert.PublicKey)
	}
	if bits := pub.N.BitLen(); bits < MinRSABits {
		return nil, fmt.Errorf("cmsenc: recipient %q: RSA-%d is below the minimum of %d bits", cert.Subject, bits, MinRSABits)
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageKeyEncipherment == 0 {
		return nil, fmt.Errorf("cmsenc: recipient %q: the certificate's key usage does not allow keyEncipherment", cert.Subject)
	}
	transport, useSKI := OAEPSHA256, false
	if opts != nil {
		transport, useSKI = opts.KeyTransport, opts.SubjectKeyID
	}

	var (
		alg pkix.AlgorithmIdentifier
		ek  []byte
		err error
	)
	switch transport {
	case OAEPSHA256:
		ek, err = rsa.EncryptOAEP(sha256.New(), opts.rand(), pub, key, nil)
		alg = oaepSHA256Identifier()
	case PKCS1v15:
		ek, err = rsa.EncryptPKCS1v15(opts.rand(), pub, key) //nolint:staticcheck // asked for explicitly
		alg = pkix.AlgorithmIdentifier{Algorithm: oidRSAEncryption, Parameters: asn1.NullRawValue}
	default:
		return nil, fmt.Errorf("cmsenc: unknown key transport %d", transport)
	}
	if err != nil {
		return nil, fmt.Errorf("cmsenc: recipient %q: %w", cert.Subject, err)
	}

	var rid asn1.RawValue
	version := 0
	if useSKI {
		if len(cert.SubjectKeyId) == 0 {
			return nil, fmt.Errorf("cmsenc: recipient %q has no subject key identifier", cert.Subject)
		}
		rid = asn1.RawValue{Class: classContext, Tag: 0, Bytes: cert.SubjectKeyId}
		version = 2
	} else {
		serial, err := asn1.Marshal(cert.SerialNumber)
		if err != nil {
			return nil, fmt.Errorf("cmsenc: recipient %q: %w", cert.Subject, err)
		}
		isn := appendTL(nil, 0x30, len(cert.RawIssuer)+len(serial))
		isn = append(append(isn, cert.RawIssuer...), serial...)
		rid = asn1.RawValue{FullBytes: isn}
	}
	ri, err := asn1.Marshal(struct {
		Version int
		RID     asn1.RawValue
		Alg     pkix.AlgorithmIdentifier
		Key     []byte
	}{version, rid, alg, ek})
	if err != nil {
		return nil, fmt.Errorf("cmsenc: recipient %q: %w", cert.Subject, err)
	}
	return ri, nil
}

// oaepSHA256Identifier is id-RSAES-OAEP with SHA-256 and MGF1-SHA-256 and the default (empty) label,
// the SHA-256 identifiers without parameters as RFC 5754 §2 prefers and OpenSSL writes.
func oaepSHA256Identifier() pkix.AlgorithmIdentifier {
	sha := pkix.AlgorithmIdentifier{Algorithm: oidSHA256}
	shaDER, _ := asn1.Marshal(sha)
	params, _ := asn1.Marshal(oaepParams{
		Hash: sha,
		MGF:  pkix.AlgorithmIdentifier{Algorithm: oidMGF1, Parameters: asn1.RawValue{FullBytes: shaDER}},
	})
	return pkix.AlgorithmIdentifier{Algorithm: oidRSAESOAEP, Parameters: asn1.RawValue{FullBytes: params}}
}
