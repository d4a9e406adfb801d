package keys

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"github.com/miekg/pkcs11"
)

// ImportToPKCS11 stores key, its certificate cert and the CA certificates
// chain in the token cfg selects (logging in with cfg.PIN), for the sandbox
// and tests. It returns the CKA_ID used: the SHA-1 of the public key
// (the usual subject-key-identifier method), so renewed certificates for the
// same key share it.
//
// The private key object is a token object, private, sensitive and not
// extractable. CKA_SIGN and CKA_DECRYPT follow the certificate's key usage
// (see Decrypter), so that the token itself keeps a signing key from
// decrypting and a decryption key from signing. A public key object and a
// certificate object with the same CKA_ID and label are stored too; chain
// certificates already on the token (same DER) are not duplicated.
//
// Caveat: the key material passes through C memory allocated by the PKCS#11
// binding, which frees it without wiping. Import production keys with the
// token vendor's tools instead.
func ImportToPKCS11(ctx context.Context, cfg PKCS11Config, label string, key crypto.Signer, cert *x509.Certificate, chain ...*x509.Certificate) ([]byte, error) {
	return importToPKCS11(ctx, cfg, label, key, cert, false, chain)
}

// importToPKCS11 is ImportToPKCS11; alwaysAuth sets CKA_ALWAYS_AUTHENTICATE
// on the private key, as qualified-signature cards do (tests use it).
func importToPKCS11(ctx context.Context, cfg PKCS11Config, label string, key crypto.Signer, cert *x509.Certificate, alwaysAuth bool, chain []*x509.Certificate) ([]byte, error) {
	if cert == nil || key == nil || !samePublicKey(key.Public(), cert.PublicKey) {
		return nil, errors.New("keys: pkcs11 import: certificate does not match the private key")
	}
	if err := checkPublicKey(cert.PublicKey); err != nil {
		return nil, err
	}
	if cfg.PIN == nil {
		return nil, errors.New("keys: pkcs11 import: a PIN source is required")
	}
	spki, err := x509.MarshalPKIXPublicKey(cert.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("keys: pkcs11 import: %w", err)
	}
	var info struct {
		Algorithm asn1.RawValue
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(spki, &info); err != nil {
		return nil, fmt.Errorf("keys: pkcs11 import: %w", err)
	}
	sum := sha1.Sum(info.PublicKey.Bytes)
	id := sum[:]

	sign, decrypt := signAllowed(cert), decryptAllowed(cert)
	common := func(class uint) []*pkcs11.Attribute {
		return []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, class),
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_ID, id),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		}
	}
	var privT, pubT []*pkcs11.Attribute
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if len(k.Primes) != 2 {
			return nil, fmt.Errorf("%w: multi-prime RSA", ErrUnsupportedKey)
		}
		p, q := k.Primes[0], k.Primes[1]
		one := big.NewInt(1)
		dp := new(big.Int).Mod(k.D, new(big.Int).Sub(p, one))
		dq := new(big.Int).Mod(k.D, new(big.Int).Sub(q, one))
		qinv := new(big.Int).ModInverse(q, p)
		e := big.NewInt(int64(k.E)).Bytes()
		privT = append(common(pkcs11.CKO_PRIVATE_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS, k.N.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, e),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE_EXPONENT, k.D.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PRIME_1, p.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PRIME_2, q.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_EXPONENT_1, dp.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_EXPONENT_2, dq.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_COEFFICIENT, qinv.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, decrypt),
			pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, false),
		)
		pubT = append(common(pkcs11.CKO_PUBLIC_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS, k.N.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, e),
			pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, decrypt),
		)
	case *ecdsa.PrivateKey:
		params, err := curveParams(k.Curve)
		if err != nil {
			return nil, err
		}
		d, err := k.Bytes()
		if err != nil {
			return nil, fmt.Errorf("keys: pkcs11 import: %w", err)
		}
		defer Wipe(d)
		pt, err := k.PublicKey.Bytes()
		if err != nil {
			return nil, fmt.Errorf("keys: pkcs11 import: %w", err)
		}
		ecPoint, err := asn1.Marshal(pt)
		if err != nil {
			return nil, fmt.Errorf("keys: pkcs11 import: %w", err)
		}
		privT = append(common(pkcs11.CKO_PRIVATE_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC),
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, d),
			pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
		)
		pubT = append(common(pkcs11.CKO_PUBLIC_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC),
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params),
			pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, ecPoint),
		)
	default:
		return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, key)
	}
	privT = append(privT,
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, sign),
	)
	if alwaysAuth {
		privT = append(privT, pkcs11.NewAttribute(pkcs11.CKA_ALWAYS_AUTHENTICATE, true))
	}
	pubT = append(pubT,
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, false),
		pkcs11.NewAttribute(pkcs11.CKA_VERIFY, sign),
	)

	s, err := registry.openSession(ctx, &cfg, true)
	if err != nil {
		return nil, err
	}
	defer s.close()
	c := s.ctx()
	var created []pkcs11.ObjectHandle
	undo := func() {
		for _, h := range created {
			_ = c.DestroyObject(s.h, h)
		}
	}
	create := func(what string, t []*pkcs11.Attribute) error {
		h, err := c.CreateObject(s.h, t)
		if err != nil {
			undo()
			return fmt.Errorf("keys: pkcs11 import: creating %s: %w", what, err)
		}
		created = append(created, h)
		return nil
	}
	if err := create("private key", privT); err != nil {
		return nil, err
	}
	if err := create("public key", pubT); err != nil {
		return nil, err
	}
	if err := create("certificate", certTemplate(cert, id, label)); err != nil {
		return nil, err
	}
	for _, ca := range chain {
		hs, err := s.findObjects([]*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, ca.Raw),
		})
		if err != nil {
			undo()
			return nil, err
		}
		if len(hs) > 0 {
			continue
		}
		caID := sha1.Sum(ca.RawSubjectPublicKeyInfo)
		if err := create("CA certificate", certTemplate(ca, caID[:], ca.Subject.CommonName)); err != nil {
			return nil, err
		}
	}
	return bytes.Clone(id), nil
}

func certTemplate(cert *x509.Certificate, id []byte, label string) []*pkcs11.Attribute {
	serial, _ := asn1.Marshal(cert.SerialNumber)
	return []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE),
		pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, false),
		pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_SUBJECT, cert.RawSubject),
		pkcs11.NewAttribute(pkcs11.CKA_ISSUER, cert.RawIssuer),
		pkcs11.NewAttribute(pkcs11.CKA_SERIAL_NUMBER, serial),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, cert.Raw),
	}
}
