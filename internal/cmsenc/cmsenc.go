// Package cmsenc encrypts and decrypts the payload of a Tagdíj package (SPEC §2, SND-06, SND-18,
// PRC-10): CMS EnvelopedData (RFC 5652) with AES-256-CBC content encryption and one RSA key-transport
// recipient per certificate — the fund's encryption certificate and the sender's own.
//
// Writing uses RSAES-OAEP with SHA-256 and MGF1-SHA-256 (RFC 3560, parameters encoded as RFC 4055
// and OpenSSL do) unless PKCS#1 v1.5 is asked for. Reading accepts RSAES-OAEP (SHA-1/2 family) and
// RSA PKCS#1 v1.5 key transport; AES-128/192/256-CBC in EnvelopedData and AES-GCM in AuthEnvelopedData
// (RFC 5083/5084); DER and BER (indefinite lengths, chunked content, as streaming producers write).
// DES, triple DES and RC2 are refused as algorithms not accepted.
//
// Private keys are used only through crypto.Decrypter, so PKCS#11 tokens work. Every failure after the
// input has been parsed — no recipient for the certificate, a wrong key, a bad key-transport block, bad
// CBC padding, a failed GCM tag — returns the same error, ErrDecrypt, so that the errors are not a
// padding oracle. For PKCS#1 v1.5 the Decrypter is asked (rsa.PKCS1v15DecryptOptions.SessionKeyLen) to
// return a random key instead of an error on bad padding, the crypto/rsa countermeasure against
// Bleichenbacher's attack. AES-CBC carries no integrity: a wrong key goes unnoticed when the padding
// happens to be valid (about 1 in 256); the payload's ZIP CRC catches that case downstream.
//
// For the tax-authority export (SPEC §5) the content-encryption key can be recovered (ContentKey),
// wrapped for another certificate (WrapKeyFor) and used by that certificate's holder on the unchanged,
// signed ciphertext (DecryptWithRecipientInfo, DecryptWithContentKey).
package cmsenc

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"github.com/tagdij/tagdij/internal/errcode"
)

// MaxRecipients bounds the RecipientInfos accepted on read and written: Tagdíj packages have two.
const MaxRecipients = 32

// Object identifiers.
var (
	oidData              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEnvelopedData     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}
	oidAuthEnvelopedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 23}

	oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidRSAESOAEP     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 7}
	oidMGF1          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidPSpecified    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 9}

	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA224 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}

	oidAES128CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidAES128GCM = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 6}
	oidAES192GCM = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 26}
	oidAES256GCM = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 46}

	// Refused, but named in the error.
	oidDESCBC  = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 7}
	oidDESEDE3 = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	oidRC2CBC  = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 2}
	oidRC4     = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 4}
)

// Sentinel errors, reachable with errors.Is through an *Error.
var (
	// ErrDecrypt is the one error for every decryption failure: no RecipientInfo for the certificate,
	// a key that does not decrypt, bad key-transport or content padding, a GCM tag mismatch. Its text
	// never varies.
	ErrDecrypt = errors.New("cmsenc: cannot decrypt: no recipient for this certificate, wrong key, or corrupted data")
	// ErrAlgorithm: the message uses an algorithm Tagdíj does not accept (DES, 3DES, RC2, an unknown
	// key transport) or does not implement.
	ErrAlgorithm = errors.New("cmsenc: algorithm not accepted")
	// ErrMalformed: the input is not a well-formed CMS EnvelopedData/AuthEnvelopedData.
	ErrMalformed = errors.New("cmsenc: malformed CMS enveloped data")
	// ErrLimit: the input exceeds a structural limit (MaxRecipients).
	ErrLimit = errors.New("cmsenc: limit exceeded")
	// ErrKeyMismatch: the private key given does not belong to the certificate given (a configuration
	// error, detected before anything is decrypted).
	ErrKeyMismatch = errors.New("cmsenc: the key does not belong to the certificate")
)

// Error is a refusal of an enveloped message; its Code is D001. Detail, when set, names a structural
// problem or algorithm, never anything that depends on a secret.
type Error struct {
	Err    error // one of the sentinels above
	Detail string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + ": " + e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// Code is the SPEC §7 code of every refusal to decrypt.
func (e *Error) Code() errcode.Code { return errcode.D001 }

// ErrFinding is the refusal as a report finding, D001 with Detail (errcode.Carrier, for errcode.Of).
func (e *Error) ErrFinding() errcode.Finding { return errcode.New(errcode.D001, "", e.Detail) }

// Finding is ErrFinding, for a caller that already holds the *Error.
func (e *Error) Finding() errcode.Finding { return e.ErrFinding() }

var errDecrypt = &Error{Err: ErrDecrypt}

func malformed(where string) error { return &Error{Err: ErrMalformed, Detail: where} }

func notAccepted(format string, args ...any) error {
	return &Error{Err: ErrAlgorithm, Detail: fmt.Sprintf(format, args...)}
}

// RecipientID identifies one RecipientInfo of a message.
type RecipientID struct {
	// Issuer (raw DER Name) and SerialNumber are set for an IssuerAndSerialNumber identifier.
	Issuer       []byte
	SerialNumber *big.Int
	// SubjectKeyID is set for a SubjectKeyIdentifier identifier (KeyTransRecipientInfo version 2).
	SubjectKeyID []byte
	// KeyEncryption names the key-transport algorithm, e.g. "RSAES-OAEP SHA-256" or
	// "RSA PKCS#1 v1.5"; for a RecipientInfo that is not key transport it names the choice
	// ("kari", "kekri", "pwri", "ori") and nothing else is set.
	KeyEncryption string
}

// Matches reports whether cert is the certificate the RecipientInfo was made for.
func (id RecipientID) Matches(cert *x509.Certificate) bool {
	if cert == nil {
		return false
	}
	if id.SubjectKeyID != nil {
		return len(cert.SubjectKeyId) > 0 && string(cert.SubjectKeyId) == string(id.SubjectKeyID)
	}
	return id.SerialNumber != nil && cert.SerialNumber != nil &&
		string(id.Issuer) == string(cert.RawIssuer) && id.SerialNumber.Cmp(cert.SerialNumber) == 0
}

// String renders the identifier for logs and reports.
func (id RecipientID) String() string {
	switch {
	case id.SubjectKeyID != nil:
		return fmt.Sprintf("SKI %X (%s)", id.SubjectKeyID, id.KeyEncryption)
	case id.SerialNumber != nil:
		var rdn pkix.RDNSequence
		issuer := "?"
		if _, err := asn1.Unmarshal(id.Issuer, &rdn); err == nil {
			var n pkix.Name
			n.FillFromRDNSequence(&rdn)
			issuer = n.String()
		}
		return fmt.Sprintf("issuer %q serial %X (%s)", issuer, id.SerialNumber, id.KeyEncryption)
	default:
		return id.KeyEncryption
	}
}
