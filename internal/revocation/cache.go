package revocation

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

// Store is the storage behind a Cache: opaque values under keys made of [a-z0-9-] (ValidKey).
// Implementations must refuse an invalid key in Put, make Put atomic (a reader sees the old or the new
// value, never a mix) and, unless they are memory-only, durable when it returns. DirStore is the
// file-system implementation, MemoryStore the memory-only one, internal/store/sqlite's RevocationStore
// a table that several processes share; package revocationtest is the conformance suite every
// implementation passes.
type Store interface {
	// Get returns the value under key, or an error wrapping fs.ErrNotExist.
	Get(key string) ([]byte, error)
	Put(key string, value []byte) error
	Delete(key string) error
}

// DirStore keeps one file per key in a directory.
type DirStore struct {
	dir string
	// MaxValueBytes bounds what Get reads (DefaultMaxCRLBytes+1 KiB when zero), so a damaged or
	// planted huge file cannot exhaust memory.
	MaxValueBytes int64
}

// NewDirStore creates dir if needed and returns a store in it.
func NewDirStore(dir string) (*DirStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("revocation: cache directory: %w", err)
	}
	return &DirStore{dir: dir}, nil
}

// ValidKey reports whether key is a valid Store key: 1 to 200 characters of [a-z0-9-]. Every Store
// refuses other keys in Put, so a key can never name a path or carry SQL or a separator; the Cache
// only makes valid ones (OCSPCacheKey, CRLCacheKey).
func ValidKey(key string) bool {
	if key == "" || len(key) > 200 {
		return false
	}
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func (s *DirStore) path(key string) (string, error) {
	if !ValidKey(key) {
		return "", fmt.Errorf("revocation: invalid cache key %q", key)
	}
	return filepath.Join(s.dir, key+".rev"), nil
}

// Get reads the file of key.
func (s *DirStore) Get(key string) ([]byte, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	limit := s.MaxValueBytes
	if limit <= 0 {
		limit = DefaultMaxCRLBytes + 1<<10
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("revocation: cache file %s exceeds %d bytes", p, limit)
	}
	return b, nil
}

// Put writes value atomically and durably: temporary file, fsync, rename, fsync of the directory.
func (s *DirStore) Put(key string, value []byte) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.dir, ".tmp-"+key+"-*")
	if err != nil {
		return fmt.Errorf("revocation: cache write: %w", err)
	}
	clean := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("revocation: cache write %s: %w", key, err)
	}
	if _, err := tmp.Write(value); err != nil {
		return clean(err)
	}
	if err := tmp.Sync(); err != nil {
		return clean(err)
	}
	if err := tmp.Close(); err != nil {
		return clean(err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("revocation: cache write %s: %w", key, err)
	}
	d, err := os.Open(s.dir)
	if err != nil {
		return fmt.Errorf("revocation: cache write %s: syncing directory: %w", key, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("revocation: cache write %s: syncing directory: %w", key, err)
	}
	return nil
}

// Delete removes the file of key; a missing file is not an error.
func (s *DirStore) Delete(key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// MemoryStore keeps values in memory, bounded by a number of entries and a number of bytes: a
// Store for a process that fetches evidence without a cache directory, and the front of a
// LayeredStore over a DirStore. When full, it drops entries (arbitrary ones) to make room. Safe for
// concurrent use. Get returns the stored slice itself: callers must not modify it (the Cache does
// not).
type MemoryStore struct {
	maxEntries int
	maxBytes   int64

	mu    sync.Mutex
	m     map[string][]byte
	bytes int64
}

// Default bounds of a MemoryStore.
const (
	DefaultMemoryEntries = 1024
	DefaultMemoryBytes   = 64 << 20
)

// NewMemoryStore returns an empty store holding at most maxEntries values (DefaultMemoryEntries when
// ≤ 0) of at most maxBytes together (DefaultMemoryBytes when ≤ 0); a larger value is not kept.
func NewMemoryStore(maxEntries int, maxBytes int64) *MemoryStore {
	if maxEntries <= 0 {
		maxEntries = DefaultMemoryEntries
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMemoryBytes
	}
	return &MemoryStore{maxEntries: maxEntries, maxBytes: maxBytes, m: make(map[string][]byte)}
}

// Get returns the value under key, or an error wrapping fs.ErrNotExist.
func (s *MemoryStore) Get(key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.m[key]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("revocation: memory cache %s: %w", key, fs.ErrNotExist)
}

// Put keeps a copy of value under key, dropping other entries when the store is full. A value larger
// than the byte bound is not kept (and an older value under key is dropped).
func (s *MemoryStore) Put(key string, value []byte) error {
	if !ValidKey(key) {
		return fmt.Errorf("revocation: invalid cache key %q", key)
	}
	v := bytes.Clone(value)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteLocked(key)
	if int64(len(v)) > s.maxBytes {
		return nil
	}
	for k := range s.m {
		if len(s.m) < s.maxEntries && s.bytes+int64(len(v)) <= s.maxBytes {
			break
		}
		s.deleteLocked(k)
	}
	s.m[key] = v
	s.bytes += int64(len(v))
	return nil
}

// Delete removes the value under key; a missing key is not an error.
func (s *MemoryStore) Delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteLocked(key)
	return nil
}

func (s *MemoryStore) deleteLocked(key string) {
	if v, ok := s.m[key]; ok {
		s.bytes -= int64(len(v))
		delete(s.m, key)
	}
}

// Len is the number of values held.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// LayeredStore is a fast Store (a MemoryStore) in front of a durable one (a DirStore, or the SQLite
// store several processors share): Get answers from the front when it can, else from the back and
// keeps the value in front; Put and Delete go to both, the back first. An entry the Cache rejects
// (stale, corrupt) is a miss wherever it came from, so the front can only save reads, never serve
// what the back would not; when the Cache rejects the front's entry it reads the back again
// (Refresh), so evidence another process stored there since is used rather than fetched again.
type LayeredStore struct {
	Front, Back Store
}

// NewLayeredStore returns front in front of back.
func NewLayeredStore(front, back Store) *LayeredStore { return &LayeredStore{Front: front, Back: back} }

// Get implements Store.
func (s *LayeredStore) Get(key string) ([]byte, error) {
	if v, err := s.Front.Get(key); err == nil {
		return v, nil
	}
	v, err := s.Back.Get(key)
	if err != nil {
		return nil, err
	}
	_ = s.Front.Put(key, v) // only an optimisation
	return v, nil
}

// Refresh reads key from the back, past the front, and keeps the value in front (or drops the front's
// entry when the back has none): for a back that other processes write to, such as the SQLite store
// processors share, whose newer entries a front filled earlier would hide.
func (s *LayeredStore) Refresh(key string) ([]byte, error) {
	v, err := s.Back.Get(key)
	if err != nil {
		_ = s.Front.Delete(key)
		return nil, err
	}
	_ = s.Front.Put(key, v)
	return v, nil
}

// Put implements Store: durable in the back when it returns nil. The front keeps the value even when
// the back failed: it is verified evidence either way.
func (s *LayeredStore) Put(key string, value []byte) error {
	err := s.Back.Put(key, value)
	_ = s.Front.Put(key, value)
	return err
}

// Delete implements Store.
func (s *LayeredStore) Delete(key string) error {
	ferr := s.Front.Delete(key)
	if err := s.Back.Delete(key); err != nil {
		return err
	}
	return ferr
}

// Cache keeps verified revocation evidence as raw DER in a Store. It never trusts what it reads
// back: the Checker re-verifies every entry (signature, issuer, freshness at the validation time)
// before serving it, so a corrupt, stale or planted entry is a miss, not an answer. Entries are
// keyed by the SHA-256 of the issuer's SubjectPublicKeyInfo and the serial (OCSP) or the
// distribution point URL (CRL). Safe for concurrent use.
type Cache struct {
	store Store

	// verified memoizes the time-independent part of verification (parsing, signatures, responder
	// authorization, CertID, scope) by digest of the stored DER, the certificate and the issuer, so
	// a hit costs a file read and a freshness check instead of two signature verifications.
	mu       sync.Mutex
	verified map[[32]byte]*Evidence

	hits, misses, corrupt, writes, writeErrors atomic.Uint64
}

// NewCache returns a cache over store.
func NewCache(store Store) *Cache { return &Cache{store: store} }

// NewDirCache returns a cache keeping its entries as files in dir.
func NewDirCache(dir string) (*Cache, error) {
	s, err := NewDirStore(dir)
	if err != nil {
		return nil, err
	}
	return NewCache(s), nil
}

// NewMemoryCache returns a cache keeping its entries in memory, with the default bounds: for a
// process without a cache directory, so that the evidence fetched for one upload serves the next
// ones while it is fresh and answers their queries.
func NewMemoryCache() *Cache { return NewCache(NewMemoryStore(0, 0)) }

// NewLayeredDirCache returns a cache keeping its entries as files in dir, with a memory store in
// front that saves the file reads of repeated lookups.
func NewLayeredDirCache(dir string) (*Cache, error) {
	s, err := NewDirStore(dir)
	if err != nil {
		return nil, err
	}
	return NewCache(NewLayeredStore(NewMemoryStore(0, 0), s)), nil
}

// CacheStats are the cache counters, for metrics.
type CacheStats struct {
	Hits, Misses uint64
	// Corrupt counts entries that could not be decoded and were deleted.
	Corrupt uint64
	// Writes and WriteErrors count stores of fresh evidence.
	Writes, WriteErrors uint64
}

// Hits is the number of lookups served from the cache.
func (c *Cache) Hits() uint64 { return c.hits.Load() }

// Misses is the number of lookups the cache could not serve (absent, stale, corrupt, not fresh
// enough for the requested time).
func (c *Cache) Misses() uint64 { return c.misses.Load() }

// Stats returns all counters.
func (c *Cache) Stats() CacheStats {
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Corrupt: c.corrupt.Load(),
		Writes: c.writes.Load(), WriteErrors: c.writeErrors.Load()}
}

// HitRatio is Hits/(Hits+Misses), 0 before the first lookup.
func (c *Cache) HitRatio() float64 {
	h, m := c.hits.Load(), c.misses.Load()
	if h+m == 0 {
		return 0
	}
	return float64(h) / float64(h+m)
}

func issuerKeyID(issuer *x509.Certificate) string {
	sum := sha256.Sum256(issuer.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:])
}

// OCSPCacheKey is the key of OCSP evidence about serial under issuer.
func OCSPCacheKey(issuer *x509.Certificate, serial *big.Int) string {
	s := "n0"
	if serial != nil {
		s = hex.EncodeToString(serial.Bytes())
		if serial.Sign() < 0 {
			s = "n" + s
		}
	}
	return "ocsp-" + issuerKeyID(issuer) + "-" + s
}

// CRLCacheKey is the key of the CRL of issuer published at url.
func CRLCacheKey(issuer *x509.Certificate, url string) string {
	sum := sha256.Sum256([]byte(url))
	return "crl-" + issuerKeyID(issuer) + "-" + hex.EncodeToString(sum[:16])
}

// Entry format: magic line, URL line, raw DER.
var cacheMagic = []byte("tagdij-revocation-cache-1\n")

func encodeEntry(url string, der []byte) ([]byte, bool) {
	if strings.ContainsAny(url, "\r\n") {
		return nil, false
	}
	b := make([]byte, 0, len(cacheMagic)+len(url)+1+len(der))
	b = append(b, cacheMagic...)
	b = append(b, url...)
	b = append(b, '\n')
	return append(b, der...), true
}

func decodeEntry(b []byte) (url string, der []byte, ok bool) {
	rest, found := bytes.CutPrefix(b, cacheMagic)
	if !found {
		return "", nil, false
	}
	u, der, found := bytes.Cut(rest, []byte{'\n'})
	if !found || len(der) == 0 {
		return "", nil, false
	}
	return string(u), der, true
}

// refresher is a Store with a faster layer in front of a shared one (LayeredStore): Refresh reads key
// from the shared layer, past the front, and keeps what it read in front.
type refresher interface {
	Refresh(key string) ([]byte, error)
}

// lookup returns the evidence under key that serve accepts. serve verifies the stored DER; an
// entry it rejects counts as a miss. An undecodable entry is deleted. When the store is layered and
// the front's entry is rejected (stale in this process), the shared back is read once more: another
// process may have stored newer evidence there since this one's front was filled.
func (c *Cache) lookup(key string, serve func(url string, der []byte) (*Evidence, bool)) *Evidence {
	b, err := c.store.Get(key)
	if err != nil {
		c.misses.Add(1)
		return nil
	}
	ev := c.decodeServe(key, b, serve)
	if ev == nil {
		if r, ok := c.store.(refresher); ok {
			if nb, err := r.Refresh(key); err == nil && !bytes.Equal(nb, b) {
				ev = c.decodeServe(key, nb, serve)
			}
		}
	}
	if ev == nil {
		c.misses.Add(1)
		return nil
	}
	c.hits.Add(1)
	ev.FromCache = true
	return ev
}

// decodeServe decodes an entry and hands it to serve; an undecodable entry is counted and deleted.
func (c *Cache) decodeServe(key string, b []byte, serve func(url string, der []byte) (*Evidence, bool)) *Evidence {
	url, der, ok := decodeEntry(b)
	if !ok {
		c.corrupt.Add(1)
		_ = c.store.Delete(key)
		return nil
	}
	ev, ok := serve(url, der)
	if !ok {
		return nil
	}
	return ev
}

// put stores verified evidence; failures are counted, not returned: the cache is an optimisation.
func (c *Cache) put(key string, ev *Evidence) error {
	b, ok := encodeEntry(ev.URL, ev.Raw)
	if !ok {
		return nil
	}
	if err := c.store.Put(key, b); err != nil {
		c.writeErrors.Add(1)
		return err
	}
	c.writes.Add(1)
	return nil
}

// maxVerified bounds the verification memo; it is simply emptied when full.
const maxVerified = 4096

func verifiedKey(m Method, der []byte, cert, issuer *x509.Certificate) [32]byte {
	h := sha256.New()
	h.Write([]byte{byte(m)})
	c := sha256.Sum256(cert.Raw)
	i := sha256.Sum256(issuer.Raw)
	h.Write(c[:])
	h.Write(i[:])
	h.Write(der)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// memoGet returns a copy of evidence verified earlier from the same DER for the same certificate
// and issuer, or nil.
func (c *Cache) memoGet(k [32]byte) *Evidence {
	c.mu.Lock()
	ev := c.verified[k]
	c.mu.Unlock()
	if ev == nil {
		return nil
	}
	return ev.clone()
}

func (c *Cache) memoPut(k [32]byte, ev *Evidence) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.verified == nil || len(c.verified) >= maxVerified {
		c.verified = make(map[[32]byte]*Evidence)
	}
	c.verified[k] = ev.clone()
}
