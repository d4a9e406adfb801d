package archive

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/tagdij/tagdij/internal/tsp"
)

// Domain separators and versions of the two tree-head encodings.
const (
	headMagic       = "tagdij-archive-tree-head-v1"
	signedHeadMagic = "tagdij-archive-signed-tree-head-v1"
)

// Limits of a stored tree head.
const (
	maxSignatureBytes = 1024     // RSA-8192
	maxCertBytes      = 16 << 10 // one certificate
	maxCerts          = 8        // the signer and its chain
	maxProofHashes    = 128      // a consistency proof is at most 2·log2(size) hashes
	maxHeadBody       = 4 + len(signedHeadMagic) + 4 + headLen + 4 + 64 + 4 + maxSignatureBytes + 4 + maxCerts*(4+maxCertBytes) + 4 + tsp.MaxTokenSize + 4 + 32*maxProofHashes
	headLen           = 4 + len(headMagic) + 8 + 8 + 32 + 8 + 32
)

// Signature algorithms of tree heads; all over SHA-256 of the head encoding.
const (
	AlgRSAPKCS1SHA256 = "rsa-pkcs1v15-sha256"
	AlgECDSASHA256    = "ecdsa-sha256"
)

// TreeHead is what a signed tree head states: the archive held Size entries whose Merkle tree has
// root Root at Time. Seq numbers the heads 0, 1, 2, ...; Prev is the SHA-256 of the previous
// head's stored body (zero for Seq 0), so the heads form a hash chain as well as a sequence of
// consistent trees.
type TreeHead struct {
	Seq  uint64
	Size uint64
	Root [32]byte
	Time time.Time
	Prev [32]byte
}

// Encode returns the head's canonical encoding, the bytes that are signed: all big-endian,
//
//	string  "tagdij-archive-tree-head-v1" (uint32 length + bytes)
//	uint64  Seq
//	uint64  Size
//	[32]    Root
//	int64   Time, Unix nanoseconds
//	[32]    Prev
func (h *TreeHead) Encode() []byte {
	b := make([]byte, 0, headLen)
	b = appendBytes(b, []byte(headMagic))
	b = binary.BigEndian.AppendUint64(b, h.Seq)
	b = binary.BigEndian.AppendUint64(b, h.Size)
	b = append(b, h.Root[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(h.Time.UnixNano()))
	return append(b, h.Prev[:]...)
}

func decodeHead(b []byte) (TreeHead, error) {
	r := &reader{b: b}
	if m := r.bytes("head magic", 64); r.err == nil && string(m) != headMagic {
		return TreeHead{}, fmt.Errorf("%w: not a tree head", ErrMalformed)
	}
	h := TreeHead{Seq: r.u64("seq"), Size: r.u64("size"), Root: r.hash("root")}
	h.Time = time.Unix(0, int64(r.u64("time"))).UTC()
	h.Prev = r.hash("prev")
	r.end("tree head")
	return h, r.err
}

// SignedHead is a tree head with its signature, the signer's certificates and an RFC 3161
// time-stamp token over the signature value, as stored in the index.
type SignedHead struct {
	TreeHead
	// Algorithm is one of the Alg* constants.
	Algorithm string
	// Signature is over SHA-256(TreeHead.Encode()).
	Signature []byte
	// Certificates are DER: the signer's certificate first, then its chain.
	Certificates [][]byte
	// TimeStamp is the DER TimeStampToken over SHA-256(Signature).
	TimeStamp []byte
	// Consistency is the RFC 9162 consistency proof from the previous head's tree to this one's,
	// made when the head was sealed (empty for the first head). Checked against the two signed
	// roots, it shows that the signed history only ever grew, whatever the index holds now.
	Consistency [][32]byte
}

// Encode returns the stored body:
//
//	string  "tagdij-archive-signed-tree-head-v1"
//	bytes   TreeHead.Encode()
//	string  Algorithm
//	bytes   Signature
//	uint32  number of certificates, then each as bytes (DER)
//	bytes   TimeStamp (DER)
//	uint32  number of consistency proof hashes, then each [32]
//
// where bytes and string are a uint32 length and the bytes.
func (s *SignedHead) Encode() []byte {
	b := appendBytes(nil, []byte(signedHeadMagic))
	b = appendBytes(b, s.TreeHead.Encode())
	b = appendBytes(b, []byte(s.Algorithm))
	b = appendBytes(b, s.Signature)
	b = binary.BigEndian.AppendUint32(b, uint32(len(s.Certificates)))
	for _, c := range s.Certificates {
		b = appendBytes(b, c)
	}
	b = appendBytes(b, s.TimeStamp)
	b = binary.BigEndian.AppendUint32(b, uint32(len(s.Consistency)))
	for _, h := range s.Consistency {
		b = append(b, h[:]...)
	}
	return b
}

// Hash is the SHA-256 of the head's stored body: what the next head's Prev names.
func (s *SignedHead) Hash() [32]byte { return sha256.Sum256(s.Encode()) }

// DecodeSignedHead parses a stored tree head body. It accepts exactly the encodings Encode
// produces (Encode(DecodeSignedHead(b)) == b) within the size limits; anything else is an error
// wrapping ErrMalformed. It checks no signature: see Verify.
func DecodeSignedHead(body []byte) (*SignedHead, error) {
	if len(body) > maxHeadBody {
		return nil, fmt.Errorf("%w: tree head of %d bytes", ErrMalformed, len(body))
	}
	r := &reader{b: body}
	if m := r.bytes("magic", 64); r.err == nil && string(m) != signedHeadMagic {
		return nil, fmt.Errorf("%w: not a signed tree head", ErrMalformed)
	}
	raw := r.bytes("head", uint32(headLen))
	s := &SignedHead{}
	s.Algorithm = string(r.bytes("algorithm", 64))
	s.Signature = r.bytes("signature", maxSignatureBytes)
	n := r.u32("certificates")
	if r.err == nil && n > maxCerts {
		r.fail("%d certificates", n)
	}
	for i := uint32(0); i < n && r.err == nil; i++ {
		s.Certificates = append(s.Certificates, r.bytes("certificate", maxCertBytes))
	}
	s.TimeStamp = r.bytes("time-stamp", tsp.MaxTokenSize)
	np := r.u32("consistency proof")
	if r.err == nil && np > maxProofHashes {
		r.fail("consistency proof of %d hashes", np)
	}
	for i := uint32(0); i < np && r.err == nil; i++ {
		s.Consistency = append(s.Consistency, r.hash("consistency proof"))
	}
	r.end("signed tree head")
	if r.err != nil {
		return nil, r.err
	}
	h, err := decodeHead(raw)
	if err != nil {
		return nil, err
	}
	s.TreeHead = h
	return s, nil
}

// signHead signs h with key (whose certificate is cert) and returns the signed head without a
// time-stamp.
func signHead(key crypto.Signer, cert *x509.Certificate, chain []*x509.Certificate, h TreeHead) (*SignedHead, error) {
	digest := sha256.Sum256(h.Encode())
	var alg string
	switch key.Public().(type) {
	case *rsa.PublicKey:
		alg = AlgRSAPKCS1SHA256
	case *ecdsa.PublicKey:
		alg = AlgECDSASHA256
	default:
		return nil, fmt.Errorf("archive: nem támogatott kulcstípus / unsupported key type %T", key.Public())
	}
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("archive: a fa fejének aláírása sikertelen / signing the tree head: %w", err)
	}
	s := &SignedHead{TreeHead: h, Algorithm: alg, Signature: sig, Certificates: [][]byte{cert.Raw}}
	for _, c := range chain {
		s.Certificates = append(s.Certificates, c.Raw)
	}
	return s, nil
}

// Errors of tree-head checks.
var (
	// ErrHeadSignature: the signature does not verify, or the signer is not an accepted one.
	ErrHeadSignature = errors.New("archive: a fa fejének aláírása érvénytelen / the tree head's signature is invalid")
)

// checkSignature verifies the head's signature with its embedded signer certificate and that the
// certificate is one of trusted (by public key: a renewed certificate of the same key is still the
// archive's key).
func (s *SignedHead) checkSignature(trusted []*x509.Certificate) (*x509.Certificate, error) {
	if len(s.Certificates) == 0 {
		return nil, fmt.Errorf("%w: no signer certificate", ErrHeadSignature)
	}
	cert, err := x509.ParseCertificate(s.Certificates[0])
	if err != nil {
		return nil, fmt.Errorf("%w: signer certificate: %w", ErrHeadSignature, err)
	}
	known := false
	type equaler interface{ Equal(crypto.PublicKey) bool }
	for _, t := range trusted {
		if pk, ok := t.PublicKey.(equaler); ok && pk.Equal(cert.PublicKey) {
			known = true
			break
		}
	}
	if !known {
		return nil, fmt.Errorf("%w: signed by %q, not an accepted archive key", ErrHeadSignature, cert.Subject.String())
	}
	digest := sha256.Sum256(s.TreeHead.Encode())
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if s.Algorithm != AlgRSAPKCS1SHA256 {
			return nil, fmt.Errorf("%w: algorithm %q for an RSA key", ErrHeadSignature, s.Algorithm)
		}
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], s.Signature); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrHeadSignature, err)
		}
	case *ecdsa.PublicKey:
		if s.Algorithm != AlgECDSASHA256 {
			return nil, fmt.Errorf("%w: algorithm %q for an ECDSA key", ErrHeadSignature, s.Algorithm)
		}
		if !ecdsa.VerifyASN1(pub, digest[:], s.Signature) {
			return nil, fmt.Errorf("%w: ECDSA signature does not verify", ErrHeadSignature)
		}
	default:
		return nil, fmt.Errorf("%w: key type %T", ErrHeadSignature, cert.PublicKey)
	}
	return cert, nil
}
