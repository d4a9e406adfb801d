// Package archive is the fund's long-term, tamper-evident archive (SPEC §1; ADM-01, ADM-02,
// PRC-02, DEF-11): write-once, content-addressed storage of every finished package — the original
// bytes as received, the extended (XAdES-X-L + ArchiveTimeStamp) package, the signed receipt and
// the final validation report — with an index in the store.
//
// Guarantees:
//   - Write-once. Put never overwrites or deletes: an entry's files are content-addressed blobs
//     (internal/blob), its index row is appended once. A renewed extended package is a NEW entry
//     that names its predecessor (Input.Renews); the predecessor stays as it was.
//   - Durable and crash-safe. Put writes and fsyncs every blob (and the entry's canonical leaf
//     encoding) before it appends the index row, the entry's Merkle leaf, in one transaction. A
//     crash in between leaves only unreferenced content-addressed blobs that a repeated Put reuses.
//   - Idempotent. Put of the same content again returns the existing entry; other content for an
//     archived package (with the same predecessor) is ErrConflict.
//   - Tamper-evident. Every entry is a leaf of an append-only Merkle tree in the manner of RFC
//     9162 (leaf = SHA-256(0x00 || EncodeLeaf(entry)), node = SHA-256(0x01 || left || right)).
//     Seal signs the tree head with the fund's archive key and has it time-stamped by an RFC 3161
//     TSA; Verify recomputes every part hash, every leaf and the tree, checks every tree head's
//     signature, time-stamp and consistency, and names each entry found changed or removed.
//
// The package imports nothing above it: package re-verification is a callback
// (VerifyOptions.VerifyPackage) that the processor or the CLI supplies.
package archive

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/tagdij/tagdij/archive/merkle"
	"github.com/tagdij/tagdij/internal/blob"
	"github.com/tagdij/tagdij/internal/boundedio"
	"github.com/tagdij/tagdij/internal/tsp"
)

// Part names one stored file of an entry.
type Part string

// The parts of an entry. Every entry has Original, Receipt and Report; Extended is absent for a
// package that ended invalid (nothing to extend).
const (
	Original Part = "original" // the package exactly as received
	Extended Part = "extended" // the XAdES-X-L + ArchiveTimeStamp package
	Receipt  Part = "receipt"  // the signed receipt package the receiver returned
	Report   Part = "report"   // the final validation report (JSON of report.Document)
)

// Parts lists every part in canonical order (the order of the leaf encoding).
var Parts = []Part{Original, Extended, Receipt, Report}

// Input is one finished package handed to the archive by the processor.
type Input struct {
	PackageSHA256 [32]byte
	PackageName   string // the .es3 file name as received
	Original      []byte // the package exactly as received (kept unchanged)
	Extended      []byte // the extended (XAdES-X-L + ArchiveTimeStamp) package; may be nil for a package that ended invalid
	ReceiptName   string
	Receipt       []byte // the signed receipt package the receiver returned
	Report        []byte // the final validation report (JSON of report.Document)
	// Signed metadata of the package.
	SubmissionID, DeclarantType, DeclarantID, Fund, Period, DeclType string
	Outcome                                                          string   // final outcome, e.g. "valid", "invalid", "rejected-content"
	Codes                                                            []string // finding codes of the final outcome
	// Renews, when set, is the ID of the entry of the same package whose extended package this
	// entry's Extended renews (a new archive time-stamp). The new entry is appended; the
	// predecessor is never changed. Each entry has at most one successor.
	Renews string
}

// PartRef is the hash and size of a stored part: its blob is named by the hash.
type PartRef struct {
	SHA256 [32]byte
	Size   int64
}

// Entry is one archived package: what Put stored and where it sits in the Merkle tree. Every field
// but Index and LeafHash is covered by the leaf encoding (EncodeLeaf).
type Entry struct {
	// Index is the entry's Merkle leaf index (0, 1, 2, ... in the order of archiving).
	Index uint64
	// ID is the entry's identifier (a random UUID).
	ID string
	// Archived is when the archive stored the entry (UTC).
	Archived time.Time
	// Renews is the ID of the entry this one renews, "" for a package's first archiving.
	Renews string

	PackageSHA256                                                    [32]byte
	PackageName, ReceiptName                                         string
	SubmissionID, DeclarantType, DeclarantID, Fund, Period, DeclType string
	Outcome                                                          string
	Codes                                                            []string

	// The stored parts; nil when absent (only Extended may be).
	Original, Extended, Receipt, Report *PartRef

	// LeafHash is the leaf hash as the index stores it; Verify recomputes it from the fields.
	LeafHash [32]byte
}

// Part returns the reference of part p and whether the entry has it.
func (e *Entry) Part(p Part) (PartRef, bool) {
	var r *PartRef
	switch p {
	case Original:
		r = e.Original
	case Extended:
		r = e.Extended
	case Receipt:
		r = e.Receipt
	case Report:
		r = e.Report
	}
	if r == nil {
		return PartRef{}, false
	}
	return *r, true
}

// Clone returns a deep copy of e.
func (e *Entry) Clone() *Entry {
	if e == nil {
		return nil
	}
	c := *e
	c.Codes = slices.Clone(e.Codes)
	for _, p := range []**PartRef{&c.Original, &c.Extended, &c.Receipt, &c.Report} {
		if *p != nil {
			r := **p
			*p = &r
		}
	}
	return &c
}

// Stamper obtains an RFC 3161 time-stamp token over data; *tsp.Client is one (the fund's
// configured TSA).
type Stamper interface {
	StampData(ctx context.Context, data []byte) (*tsp.Token, error)
}

// Options configures an Archive.
type Options struct {
	// Signer signs tree heads (Seal): the fund's archive/receipt key from internal/keys, never the
	// TLS key. Certificate is its certificate (embedded in every tree head); Chain the CA
	// certificates above it. Required for Seal only.
	Signer      crypto.Signer
	Certificate *x509.Certificate
	Chain       []*x509.Certificate
	// PreviousSigners are the certificates of earlier archive keys: tree heads they signed are
	// still accepted (key rotation).
	PreviousSigners []*x509.Certificate
	// TSA time-stamps every tree head. Required for Seal only.
	TSA Stamper
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxPartBytes bounds one stored part; zero means DefaultMaxPartBytes.
	MaxPartBytes int64
	// ResealAfter: Seal makes a new tree head when entries were added since the latest one, or
	// when the latest is older than this; zero means DefaultResealAfter, negative means always.
	ResealAfter time.Duration
}

// staleTemporary is when a temporary file in the archive's blob stores counts as a crashed
// process's leftover.
const staleTemporary = 24 * time.Hour

// Defaults of Options.
const (
	DefaultMaxPartBytes = 1 << 30
	DefaultResealAfter  = 24 * time.Hour
)

// Archive is an archive directory with its index. It is safe for concurrent use, and several
// processes may share one directory and index: the index serializes appends.
type Archive struct {
	dir    string
	idx    Index
	parts  *blob.Store // the entries' files
	leaves *blob.Store // every entry's canonical leaf encoding, a second record beside the index
	opts   Options

	mu   sync.Mutex   // guards tree
	tree *merkle.Tree // the leaves read from the index so far (see syncTree)
}

// New opens (creating if needed) the archive in dir with its index idx.
func New(dir string, idx Index, opts Options) (*Archive, error) {
	if idx == nil {
		return nil, errors.New("archive: no index")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxPartBytes <= 0 {
		opts.MaxPartBytes = DefaultMaxPartBytes
	}
	if opts.ResealAfter == 0 {
		opts.ResealAfter = DefaultResealAfter
	}
	if opts.Signer != nil {
		if err := checkSigner(opts.Signer, opts.Certificate); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	// Several processors (and an auditor's verify) share the directory: opening it must not remove
	// another process's temporary files.
	parts, err := blob.OpenShared(filepath.Join(dir, "parts"), staleTemporary)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	leaves, err := blob.OpenShared(filepath.Join(dir, "leaves"), staleTemporary)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	return &Archive{dir: dir, idx: idx, parts: parts, leaves: leaves, opts: opts}, nil
}

// Index returns the archive's index.
func (a *Archive) Index() Index { return a.idx }

// Put archives in: write-once and idempotent per package. When the package (with the same
// predecessor, in.Renews) is archived already, Put returns the existing entry if its content is the
// same and an error wrapping ErrConflict if not. Otherwise it stores every part and the entry's
// leaf encoding as durable blobs, then appends the index row (the Merkle leaf) in one transaction.
// When Put returns an entry, the entry is durable.
func (a *Archive) Put(ctx context.Context, in Input) (*Entry, error) {
	want, data, err := a.entryOf(in)
	if err != nil {
		return nil, err
	}
	if have, err := a.idx.Version(ctx, in.PackageSHA256, in.Renews); err == nil {
		return sameOrConflict(have, want)
	} else if !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("archive: %w", err)
	}
	if in.Renews != "" {
		prev, err := a.idx.Get(ctx, in.Renews)
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("archive: a megújított bejegyzés nem található / the renewed entry %q does not exist: %w", in.Renews, ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
		if prev.PackageSHA256 != in.PackageSHA256 {
			return nil, fmt.Errorf("archive: a megújított bejegyzés másik csomagé / entry %s is of another package: %w", in.Renews, ErrConflict)
		}
	}
	e := want.Clone()
	e.ID = uuid.NewString()
	e.Archived = normalizeTime(a.opts.Now())
	enc, err := EncodeLeaf(e)
	if err != nil {
		return nil, err
	}
	e.LeafHash = hashLeafBytes(enc)
	// Blobs first: a crash after this leaves unreferenced content-addressed files, nothing else.
	// They are written concurrently: each is durable on its own (file and directory fsynced), and
	// concurrent fsyncs share the file system's journal commits, which makes a Put several times
	// faster than writing them one after another.
	var wg sync.WaitGroup
	errs := make([]error, len(Parts)+1)
	for i, p := range Parts {
		if b, ok := data[p]; ok {
			wg.Go(func() {
				if _, err := a.parts.Put(b); err != nil {
					errs[i] = fmt.Errorf("archive: storing %s: %w", p, err)
				}
			})
		}
	}
	wg.Go(func() {
		if _, err := a.leaves.Put(enc); err != nil {
			errs[len(Parts)] = fmt.Errorf("archive: storing the leaf record: %w", err)
		}
	})
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := a.idx.Append(ctx, e); err != nil {
		if errors.Is(err, ErrConflict) {
			// Another process archived this package in the meantime.
			if have, gerr := a.idx.Version(ctx, in.PackageSHA256, in.Renews); gerr == nil {
				return sameOrConflict(have, want)
			}
		}
		return nil, fmt.Errorf("archive: %w", err)
	}
	return e.Clone(), nil
}

// entryOf checks in and returns the entry it describes (without ID, time and leaf) and its parts'
// bytes.
func (a *Archive) entryOf(in Input) (*Entry, map[Part][]byte, error) {
	bad := func(hu, en string) error {
		return fmt.Errorf("archive: hibás bemenet: %s / bad input: %s", hu, en)
	}
	switch {
	case len(in.Original) == 0:
		return nil, nil, bad("nincs eredeti csomag", "no original package")
	case sha256.Sum256(in.Original) != in.PackageSHA256:
		return nil, nil, bad("az eredeti csomag lenyomata nem PackageSHA256", "the original package does not hash to PackageSHA256")
	case in.PackageName == "":
		return nil, nil, bad("nincs csomagnév", "no package name")
	case len(in.Receipt) == 0 || in.ReceiptName == "":
		return nil, nil, bad("nincs nyugta", "no receipt")
	case len(in.Report) == 0:
		return nil, nil, bad("nincs ellenőrzési jelentés", "no validation report")
	case in.Outcome == "":
		return nil, nil, bad("nincs végeredmény", "no outcome")
	case in.Renews != "" && len(in.Extended) == 0:
		return nil, nil, bad("a megújítás kiterjesztett csomag nélkül", "a renewal without an extended package")
	}
	e := &Entry{Renews: in.Renews, PackageSHA256: in.PackageSHA256, PackageName: in.PackageName, ReceiptName: in.ReceiptName,
		SubmissionID: in.SubmissionID, DeclarantType: in.DeclarantType, DeclarantID: in.DeclarantID, Fund: in.Fund,
		Period: in.Period, DeclType: in.DeclType, Outcome: in.Outcome, Codes: slices.Clone(in.Codes)}
	data := map[Part][]byte{Original: in.Original, Receipt: in.Receipt, Report: in.Report}
	if len(in.Extended) > 0 {
		data[Extended] = in.Extended
	}
	for p, b := range data {
		if int64(len(b)) > a.opts.MaxPartBytes {
			return nil, nil, bad(fmt.Sprintf("a(z) %s túl nagy", p), fmt.Sprintf("%s larger than %d bytes", p, a.opts.MaxPartBytes))
		}
		r := &PartRef{SHA256: sha256.Sum256(b), Size: int64(len(b))}
		switch p {
		case Original:
			e.Original = r
		case Extended:
			e.Extended = r
		case Receipt:
			e.Receipt = r
		case Report:
			e.Report = r
		}
	}
	// Validate the strings now (EncodeLeaf's limits) rather than after the blobs are written.
	if _, err := EncodeLeaf(e); err != nil {
		return nil, nil, err
	}
	return e, data, nil
}

// sameContent reports whether two entries archive the same content (all but ID, time, index and
// leaf).
func sameContent(a, b *Entry) bool {
	x, y := a.Clone(), b.Clone()
	for _, e := range []*Entry{x, y} {
		e.Index, e.ID, e.Archived, e.LeafHash = 0, "", time.Time{}, [32]byte{}
		if len(e.Codes) == 0 {
			e.Codes = nil
		}
	}
	ex, err1 := EncodeLeaf(x)
	ey, err2 := EncodeLeaf(y)
	return err1 == nil && err2 == nil && string(ex) == string(ey)
}

func sameOrConflict(have, want *Entry) (*Entry, error) {
	if sameContent(have, want) {
		return have, nil
	}
	return nil, fmt.Errorf("archive: %x (%s): %w", have.PackageSHA256[:8], have.ID, ErrConflict)
}

// ByPackage returns the newest entry of the package with this SHA-256 (its latest renewal, if
// any), or ErrNotFound.
func (a *Archive) ByPackage(ctx context.Context, sum [32]byte) (*Entry, error) {
	return a.idx.LatestByPackage(ctx, sum)
}

// Get returns the entry with this ID, or ErrNotFound.
func (a *Archive) Get(ctx context.Context, id string) (*Entry, error) {
	return a.idx.Get(ctx, id)
}

// FindSubmission returns the newest entry of the declarant's submission with this id (for the
// D008 predecessor check), or ErrNotFound.
func (a *Archive) FindSubmission(ctx context.Context, declarantType, declarantID, submissionID string) (*Entry, error) {
	return a.idx.LatestBySubmission(ctx, declarantType, declarantID, submissionID)
}

// Versions returns every entry of the package, first archiving first, following the renewal
// chain; ErrNotFound when the package is not archived.
func (a *Archive) Versions(ctx context.Context, sum [32]byte) ([]*Entry, error) {
	e, err := a.idx.Version(ctx, sum, "")
	if err != nil {
		return nil, err
	}
	out := []*Entry{e}
	// A chain is one renewal every few years; the bound only stops a corrupt index from looping.
	for len(out) < 1<<16 {
		next, err := a.idx.Version(ctx, sum, out[len(out)-1].ID)
		if errors.Is(err, ErrNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, next)
	}
	return out, nil
}

// ErrTampered: a stored file no longer matches the hash the entry records (or is gone).
var ErrTampered = errors.New("archive: az archivált fájl megváltozott vagy hiányzik / an archived file was changed or is missing")

// Read returns the bytes of part p of e, checked against the hash e records: an error wrapping
// ErrTampered when the file is missing or changed, ErrNotFound when e has no such part.
func (a *Archive) Read(ctx context.Context, e *Entry, p Part) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r, ok := e.Part(p)
	if !ok {
		return nil, fmt.Errorf("archive: %s has no %s part: %w", e.ID, p, ErrNotFound)
	}
	return a.readBlob(a.parts, r)
}

func (a *Archive) readBlob(s *blob.Store, r PartRef) ([]byte, error) {
	b, err := boundedio.ReadFile(s.Path(r.SHA256), r.Size)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("%w: %x: hiányzik / missing", ErrTampered, r.SHA256[:8])
	case errors.Is(err, boundedio.ErrTooLarge):
		return nil, fmt.Errorf("%w: %x: nagyobb a rögzítettnél / larger than recorded", ErrTampered, r.SHA256[:8])
	case err != nil:
		return nil, fmt.Errorf("archive: %w", err)
	case int64(len(b)) != r.Size || sha256.Sum256(b) != r.SHA256:
		return nil, fmt.Errorf("%w: %x: a tartalom nem egyezik a lenyomattal / content does not match its hash", ErrTampered, r.SHA256[:8])
	}
	return b, nil
}
