// Package sigcache remembers successful public-key verifications of a long-running verifier, so
// that the receiver does not repeat the same ECDSA and RSA operations for every upload: the
// certificate signatures of the signer's and the time-stamping unit's chains, the OCSP responder
// certificates, the signatures of OCSP responses and CRLs it has seen before, and the certificate
// paths crypto/x509 built from the same certificates; and the parsed certificates themselves
// (ParseCertificate, ParseCertificates), which every package and time-stamp token carries again.
//
// A Cache never changes a verdict. It remembers only successes, each under a SHA-256 digest of every
// input that decided it, and answers a lookup either with what the uncached computation returned
// for exactly those inputs or by running that computation:
//
//   - CheckSignatureFrom and CheckCRLSignatureFrom are keyed by the signed bytes, the signature and
//     its algorithm, and the issuer's public key together with the issuer fields crypto/x509 checks
//     first (version, basic constraints, key usage, public-key algorithm);
//   - CheckSignature is keyed by the algorithm, the signed bytes, the signature and the signer's
//     public key;
//   - Verify (crypto/x509 path building) is keyed by the raw bytes of the certificate, of every
//     candidate intermediate in order and of every anchor in order, the key usages asked for, and
//     whether each of those certificates is inside its validity period at the validation time — the
//     only way the time enters crypto/x509's path building. Two validations that agree on all of it
//     take the same path through crypto/x509 and get the same chains.
//
// Failures are never remembered: they are recomputed, with crypto/x509's own error. Certificates
// must be as x509.ParseCertificate returned them (their parsed fields agree with Raw); every
// certificate of this project is. A certificate without Raw bytes bypasses the cache.
//
// A Cache is bounded (New's size) and safe for concurrent use. A nil *Cache is valid and caches
// nothing: every method then is the plain crypto/x509 call.
package sigcache

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"hash"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultSize is the number of entries New keeps when given a size ≤ 0: plenty for a fund's few
// CA, TSA and responder certificates and the signers of a busy day.
const DefaultSize = 8192

type key [32]byte

// entry is a remembered success: nothing for a signature, the chains as positions in the
// verification's certificate list for a path.
type entry struct {
	chains [][]int
}

// Cache remembers verified signatures and certificate paths. Create it with New.
type Cache struct {
	half int // entries per generation

	mu       sync.Mutex
	cur, old map[key]entry

	hits, misses atomic.Uint64

	certs certCache // parsed certificates (ParseCertificate), bounded on its own
}

// New returns a cache keeping at most size entries (DefaultSize when size ≤ 0). It keeps two
// generations of at most size/2 entries each; when the current one is full, the older one is
// dropped, so the entries used recently survive (an approximate LRU at map cost).
func New(size int) *Cache {
	if size <= 0 {
		size = DefaultSize
	}
	half := max(size/2, 1)
	return &Cache{half: half, cur: make(map[key]entry)}
}

// Stats are the cache counters.
type Stats struct {
	// Hits and Misses count lookups answered from the cache and lookups that ran the computation.
	Hits, Misses uint64
	// Entries is the number of entries held now.
	Entries int
}

// Stats returns the counters; zero for a nil cache.
func (c *Cache) Stats() Stats {
	if c == nil {
		return Stats{}
	}
	c.mu.Lock()
	n := len(c.cur) + len(c.old)
	c.mu.Unlock()
	return Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), Entries: n}
}

func (c *Cache) get(k key) (entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.cur[k]; ok {
		c.hits.Add(1)
		return e, true
	}
	if e, ok := c.old[k]; ok {
		c.hits.Add(1)
		c.putLocked(k, e)
		return e, true
	}
	c.misses.Add(1)
	return entry{}, false
}

func (c *Cache) put(k key, e entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(k, e)
}

func (c *Cache) putLocked(k key, e entry) {
	if _, ok := c.cur[k]; !ok && len(c.cur) >= c.half {
		c.old, c.cur = c.cur, make(map[key]entry, c.half)
	}
	c.cur[k] = e
}

// Domain tags keep the key spaces of the different checks apart.
const (
	tagCertSignature byte = iota + 1
	tagCRLSignature
	tagSignature
	tagChains
	tagCertificate
	tagCertificates
)

// digest hashes a tag and length-prefixed parts (so no two different part lists hash alike).
type digest struct{ h hash.Hash }

func newDigest(tag byte) digest {
	d := digest{sha256.New()}
	d.h.Write([]byte{tag})
	return d
}

func (d digest) bytes(b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	d.h.Write(n[:])
	d.h.Write(b)
}

func (d digest) int(v int64) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(v))
	d.h.Write(n[:])
}

func (d digest) bool(v bool) {
	if v {
		d.h.Write([]byte{1})
	} else {
		d.h.Write([]byte{0})
	}
}

func (d digest) sum() key {
	var k key
	d.h.Sum(k[:0])
	return k
}

// issuer writes what crypto/x509 reads of an issuer certificate before the signature itself: its
// version, basic constraints, key usage, public-key algorithm, and its public key.
func (d digest) issuer(parent *x509.Certificate) {
	d.int(int64(parent.Version))
	d.bool(parent.BasicConstraintsValid)
	d.bool(parent.IsCA)
	d.int(int64(parent.KeyUsage))
	d.int(int64(parent.PublicKeyAlgorithm))
	d.bytes(parent.RawSubjectPublicKeyInfo)
}

// CheckSignatureFrom is child.CheckSignatureFrom(parent): whether parent may issue certificates and
// its key signed child. A success is remembered for this child (algorithm, TBS bytes, signature) and
// this parent (the fields CheckSignatureFrom reads and its public key).
func (c *Cache) CheckSignatureFrom(child, parent *x509.Certificate) error {
	if c == nil || len(child.RawTBSCertificate) == 0 || len(parent.RawSubjectPublicKeyInfo) == 0 {
		return child.CheckSignatureFrom(parent)
	}
	d := newDigest(tagCertSignature)
	d.int(int64(child.SignatureAlgorithm))
	d.bytes(child.RawTBSCertificate)
	d.bytes(child.Signature)
	d.issuer(parent)
	k := d.sum()
	if _, ok := c.get(k); ok {
		return nil
	}
	if err := child.CheckSignatureFrom(parent); err != nil {
		return err
	}
	c.put(k, entry{})
	return nil
}

// CheckCRLSignatureFrom is crl.CheckSignatureFrom(parent): whether parent may sign CRLs and its key
// signed crl. A success is remembered as for CheckSignatureFrom.
func (c *Cache) CheckCRLSignatureFrom(crl *x509.RevocationList, parent *x509.Certificate) error {
	if c == nil || len(crl.RawTBSRevocationList) == 0 || len(parent.RawSubjectPublicKeyInfo) == 0 {
		return crl.CheckSignatureFrom(parent)
	}
	d := newDigest(tagCRLSignature)
	d.int(int64(crl.SignatureAlgorithm))
	d.bytes(crl.RawTBSRevocationList)
	d.bytes(crl.Signature)
	d.issuer(parent)
	k := d.sum()
	if _, ok := c.get(k); ok {
		return nil
	}
	if err := crl.CheckSignatureFrom(parent); err != nil {
		return err
	}
	c.put(k, entry{})
	return nil
}

// CheckSignature is signer.CheckSignature(alg, signed, signature): whether signature is signer's
// key's signature over signed (an OCSP response, a certificate in a path diagnosis). A success is
// remembered for the algorithm, the signed bytes, the signature and the public key.
func (c *Cache) CheckSignature(signer *x509.Certificate, alg x509.SignatureAlgorithm, signed, signature []byte) error {
	if c == nil || len(signer.RawSubjectPublicKeyInfo) == 0 {
		return signer.CheckSignature(alg, signed, signature)
	}
	d := newDigest(tagSignature)
	d.int(int64(alg))
	d.bytes(signed)
	d.bytes(signature)
	d.bytes(signer.RawSubjectPublicKeyInfo)
	k := d.sum()
	if _, ok := c.get(k); ok {
		return nil
	}
	if err := signer.CheckSignature(alg, signed, signature); err != nil {
		return err
	}
	c.put(k, entry{})
	return nil
}

// Roots is an immutable set of trust anchors for Verify: the pool crypto/x509 searches, built once,
// and a digest of the anchors in order.
type Roots struct {
	certs  []*x509.Certificate
	pool   *x509.CertPool
	digest key
	usable bool // every anchor has Raw bytes: the digest identifies them
}

// NewRoots returns the anchors certs (nil entries skipped), in this order.
func NewRoots(certs ...*x509.Certificate) *Roots {
	r := &Roots{pool: x509.NewCertPool(), usable: true}
	d := newDigest(tagChains)
	for _, c := range certs {
		if c == nil {
			continue
		}
		r.certs = append(r.certs, c)
		r.pool.AddCert(c)
		if len(c.Raw) == 0 {
			r.usable = false
		}
		d.bytes(c.Raw)
	}
	r.digest = d.sum()
	return r
}

// Certificates returns the anchors (the slice is shared; do not modify it).
func (r *Roots) Certificates() []*x509.Certificate { return r.certs }

// Verify is leaf.Verify with these options: Roots the anchors of roots, Intermediates a pool of
// intermediates (nil entries skipped) added in order, CurrentTime at (time.Now() when zero) and
// KeyUsages usages. It returns crypto/x509's chains, whose elements are leaf and the given
// intermediate and anchor certificates; a remembered result is mapped onto this call's certificate
// values. Errors are crypto/x509's, never remembered. roots is required (crypto/x509 would fall back
// to the system's anchors).
func (c *Cache) Verify(leaf *x509.Certificate, intermediates []*x509.Certificate, roots *Roots, at time.Time, usages []x509.ExtKeyUsage) ([][]*x509.Certificate, error) {
	if roots == nil {
		return nil, errors.New("sigcache: no trust anchors")
	}
	if at.IsZero() {
		at = time.Now()
	}
	// The certificates the chains can be made of, in a fixed order: leaf, intermediates, anchors.
	list := make([]*x509.Certificate, 0, 1+len(intermediates)+len(roots.certs))
	list = append(list, leaf)
	for _, ic := range intermediates {
		if ic != nil {
			list = append(list, ic)
		}
	}
	nOwn := len(list)
	list = append(list, roots.certs...)

	cacheable := c != nil && roots.usable
	var k key
	if cacheable {
		d := newDigest(tagChains)
		d.h.Write(roots.digest[:])
		d.int(int64(len(usages)))
		for _, u := range usages {
			d.int(int64(u))
		}
		d.int(int64(nOwn))
		for _, x := range list[:nOwn] {
			if len(x.Raw) == 0 {
				cacheable = false
				break
			}
			sum := sha256.Sum256(x.Raw)
			d.h.Write(sum[:])
		}
		// Validity at `at` of every certificate crypto/x509 may consider, exactly as it tests it.
		for _, x := range list {
			d.bool(!at.Before(x.NotBefore) && !at.After(x.NotAfter))
		}
		k = d.sum()
	}
	if cacheable {
		if e, ok := c.get(k); ok {
			out := make([][]*x509.Certificate, len(e.chains))
			for i, ch := range e.chains {
				out[i] = make([]*x509.Certificate, len(ch))
				for j, pos := range ch {
					out[i][j] = list[pos]
				}
			}
			return out, nil
		}
	}

	pool := x509.NewCertPool()
	for _, ic := range list[1:nOwn] {
		pool.AddCert(ic)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: roots.pool, Intermediates: pool, CurrentTime: at, KeyUsages: usages})
	if err != nil || !cacheable {
		return chains, err
	}
	e := entry{chains: make([][]int, len(chains))}
	for i, ch := range chains {
		e.chains[i] = make([]int, len(ch))
		for j, x := range ch {
			pos := -1
			for p, y := range list {
				if x == y {
					pos = p
					break
				}
			}
			if pos < 0 {
				// Not one of ours (cannot happen with the pools built here): do not remember.
				return chains, nil
			}
			e.chains[i][j] = pos
		}
	}
	c.put(k, e)
	return chains, nil
}
