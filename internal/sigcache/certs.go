package sigcache

import (
	"crypto/sha256"
	"crypto/x509"
	"slices"
	"sync"
)

// certsPerGeneration bounds the parsed certificates a Cache keeps (two generations of it): the CA,
// TSA and responder certificates that every package and token carries stay, a busy day's signer
// certificates come and go. A parsed certificate is a few KiB, so the bound is a few MiB.
const certsPerGeneration = 512

// certCache remembers parsed certificates under SHA-256 of their bytes (approximate LRU, as the
// verification cache).
type certCache struct {
	mu       sync.Mutex
	cur, old map[[32]byte][]*x509.Certificate
}

func (cc *certCache) get(k [32]byte) ([]*x509.Certificate, bool) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if v, ok := cc.cur[k]; ok {
		return v, true
	}
	if v, ok := cc.old[k]; ok {
		cc.putLocked(k, v)
		return v, true
	}
	return nil, false
}

func (cc *certCache) put(k [32]byte, v []*x509.Certificate) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.putLocked(k, v)
}

func (cc *certCache) putLocked(k [32]byte, v []*x509.Certificate) {
	if cc.cur == nil {
		cc.cur = make(map[[32]byte][]*x509.Certificate)
	}
	if _, ok := cc.cur[k]; !ok && len(cc.cur) >= certsPerGeneration {
		cc.old, cc.cur = cc.cur, make(map[[32]byte][]*x509.Certificate, certsPerGeneration)
	}
	cc.cur[k] = v
}

// ParseCertificate is x509.ParseCertificate(der) for certificates that arrive again and again (the
// chains in every KeyInfo): a success is remembered under SHA-256 of der, and the same bytes give
// the same *x509.Certificate, which callers must not modify (nothing in this project modifies a
// parsed certificate). A parse is a pure function of the bytes, so the answer is the uncached one.
// Failures are not remembered. A nil Cache parses every time.
func (c *Cache) ParseCertificate(der []byte) (*x509.Certificate, error) {
	if c == nil {
		return x509.ParseCertificate(der)
	}
	k := certKey(tagCertificate, der)
	if v, ok := c.certs.get(k); ok {
		c.hits.Add(1)
		return v[0], nil
	}
	c.misses.Add(1)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	c.certs.put(k, []*x509.Certificate{cert})
	return cert, nil
}

// ParseCertificates is x509.ParseCertificates(der) (concatenated DER certificates, as a CMS
// CertificateSet holds them: the same set in every token of a TSA), remembered as ParseCertificate
// does. The returned slice is the caller's; the certificates are shared and must not be modified.
func (c *Cache) ParseCertificates(der []byte) ([]*x509.Certificate, error) {
	if c == nil {
		return x509.ParseCertificates(der)
	}
	k := certKey(tagCertificates, der)
	if v, ok := c.certs.get(k); ok {
		c.hits.Add(1)
		return slices.Clone(v), nil
	}
	c.misses.Add(1)
	certs, err := x509.ParseCertificates(der)
	if err != nil {
		return nil, err
	}
	c.certs.put(k, slices.Clone(certs))
	return certs, nil
}

func certKey(tag byte, der []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte{tag})
	h.Write(der)
	var k [32]byte
	h.Sum(k[:0])
	return k
}
