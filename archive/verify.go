package archive

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/tagdij/tagdij/archive/merkle"
	"github.com/tagdij/tagdij/internal/boundedio"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/tsp"
)

// VerifyOptions configures Verify.
type VerifyOptions struct {
	// TSA decides whether a tree head's time-stamp comes from a trusted TSA at its time (e.g.
	// pathval.TSAVerifier with the trust configuration's TSA anchors). Required.
	TSA tsp.ChainVerifier
	// Signers are the accepted tree-head signer certificates; nil means the archive's
	// Options.Certificate and Options.PreviousSigners.
	Signers []*x509.Certificate
	// VerifyPackage, when set, re-verifies an entry's extended package offline (the processor and
	// the CLI pass one that runs pack.Verify); an error names the entry. Entries without an
	// extended package (ended invalid) are not passed to it.
	VerifyPackage func(ctx context.Context, e *Entry, extended []byte) error
	// MaxHeadSkew bounds the difference between a tree head's own time and its time-stamp's; zero
	// means 10 minutes.
	MaxHeadSkew time.Duration
	// InFlight: a leaf record without an index row that was written less than this long before
	// Verify started (by the archive's clock) belongs to an archiving that may still be running in
	// another process, and is only a warning; an older one names a removed row. Zero means 10
	// minutes. (A removed row of a sealed entry is found by the tree heads whatever its age.)
	InFlight time.Duration
}

// ProblemKind names what Verify found wrong. The values are stable identifiers for machines.
type ProblemKind string

// The problems Verify reports.
const (
	PartMissing        ProblemKind = "part-missing"           // an archived file is gone
	PartChanged        ProblemKind = "part-changed"           // an archived file's bytes changed
	RecordMissing      ProblemKind = "record-missing"         // the entry's leaf record file is gone
	RecordChanged      ProblemKind = "record-changed"         // the entry's leaf record file changed
	EntryEdited        ProblemKind = "entry-edited"           // the index row no longer hashes to its leaf / differs from its record
	EntryInvalid       ProblemKind = "entry-invalid"          // the index row breaks the archive's rules
	EntryRemoved       ProblemKind = "entry-removed"          // an index row is missing
	PackageInvalid     ProblemKind = "package-invalid"        // VerifyPackage rejected the extended package
	HeadInvalid        ProblemKind = "tree-head-invalid"      // a tree head does not decode or its row disagrees with it
	HeadSignature      ProblemKind = "tree-head-signature"    // a tree head's signature is invalid or not the archive's
	HeadTimeStamp      ProblemKind = "tree-head-timestamp"    // a tree head's time-stamp is invalid, untrusted or off
	HeadMissing        ProblemKind = "tree-head-missing"      // a tree head is missing from the sequence or hash chain
	HeadInconsistent   ProblemKind = "tree-head-inconsistent" // two consecutive tree heads are not an append-only history
	HeadMismatch       ProblemKind = "tree-head-mismatch"     // the entries no longer have a signed tree head's root
	UnreferencedRecord ProblemKind = "unreferenced-record"    // a leaf record no index row uses (an interrupted Put): a warning
	IndexUnreadable    ProblemKind = "index-unreadable"       // the index could not be read to its end
)

// Problem is one finding of Verify: what, which entry / leaf / part / tree head, and why, in
// Hungarian and English. Code is the SPEC §7 code where one fits (A002 changed data, A001 a tree
// head's signature, A007 its time-stamp, a re-verification's own code).
type Problem struct {
	Kind     ProblemKind      `json:"kind"`
	Severity errcode.Severity `json:"severity"`
	Code     errcode.Code     `json:"code,omitempty"`
	Entry    string           `json:"entry,omitempty"`
	Leaf     *uint64          `json:"leaf,omitempty"`
	Part     Part             `json:"part,omitempty"`
	TreeHead *uint64          `json:"treeHead,omitempty"`
	HU       string           `json:"hu"`
	EN       string           `json:"en"`
}

// VerifyResult is what Verify found.
type VerifyResult struct {
	// Entries is the number of index rows read; Size the tree size (highest leaf index + 1).
	Entries, Size uint64
	// Root is the root of the tree of the stored leaves.
	Root [32]byte
	// TreeHeads is the number of stored tree heads; Sealed the size the latest one covers.
	TreeHeads int
	Sealed    uint64
	// Problems are every finding: entries in leaf order, then tree heads, then unreferenced leaf
	// records.
	Problems []Problem
}

// OK reports whether the archive verified: no problem of severity E0 (warnings allowed).
func (r *VerifyResult) OK() bool {
	for _, p := range r.Problems {
		if p.Severity == errcode.Error {
			return false
		}
	}
	return true
}

// BadEntries returns the IDs of the entries named by an error, each once, in order of finding.
func (r *VerifyResult) BadEntries() []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range r.Problems {
		if p.Severity == errcode.Error && p.Entry != "" && !seen[p.Entry] {
			seen[p.Entry] = true
			out = append(out, p.Entry)
		}
	}
	return out
}

func u64(v uint64) *uint64 { return &v }

// verifier carries one Verify run.
type verifier struct {
	a    *Archive
	opts VerifyOptions
	res  *VerifyResult
	tree *merkle.Tree
	// records are the leaf record files the index rows reference (by their file hash).
	records map[[32]byte]bool
	// unreferenced are the decodable leaf records no row read references.
	unreferenced []unreferencedRecord
	// start is when the run started, by the archive's clock.
	start time.Time
}

type unreferencedRecord struct {
	entry *Entry
	name  [32]byte
}

func (v *verifier) add(p Problem) {
	if p.Severity == "" {
		p.Severity = errcode.Error
	}
	v.res.Problems = append(v.res.Problems, p)
}

// Verify checks the whole archive and reports every problem it finds; the error is only for a
// failure to run (the index unreachable, a missing option, a cancelled context). It:
//   - reads every index row in leaf order, names missing rows (gaps), recomputes each entry's leaf
//     from its fields and compares it with the stored leaf hash (an edited row) and with the
//     entry's leaf record file (the independent copy written before the row);
//   - re-hashes every archived file of every entry (a changed or removed file);
//   - runs opts.VerifyPackage on every extended package;
//   - looks for leaf records no row references: an entry whose row was removed or edited is named
//     from its record; a record of an interrupted Put is only a warning;
//   - rebuilds the Merkle tree from the stored leaves and checks every stored tree head: that it
//     decodes and agrees with its row, the sequence and hash chain have no gap, the signature is
//     an accepted archive key's, the RFC 3161 time-stamp is valid, trusted and close to the head's
//     time, the head is consistent with the one before (its stored consistency proof) and with
//     the current tree (a consistency proof from the rebuilt tree).
func (a *Archive) Verify(ctx context.Context, opts VerifyOptions) (*VerifyResult, error) {
	if opts.TSA == nil {
		return nil, errors.New("archive: verify: VerifyOptions.TSA is required (the TSA trust)")
	}
	if opts.Signers == nil {
		opts.Signers = a.trustedSigners()
	}
	if len(opts.Signers) == 0 {
		return nil, errors.New("archive: verify: no accepted tree-head signer (Options.Certificate or VerifyOptions.Signers)")
	}
	if opts.MaxHeadSkew <= 0 {
		opts.MaxHeadSkew = 10 * time.Minute
	}
	if opts.InFlight <= 0 {
		opts.InFlight = 10 * time.Minute
	}
	v := &verifier{a: a, opts: opts, res: &VerifyResult{}, tree: &merkle.Tree{}, records: map[[32]byte]bool{}, start: a.opts.Now()}
	// The tree heads are read before the rows, so that a processor sealing meanwhile cannot make a
	// head cover rows this run did not read.
	heads, headErr := a.idx.TreeHeads(ctx)
	if err := v.entries(ctx); err != nil {
		return nil, err
	}
	if err := v.orphans(ctx); err != nil {
		return nil, err
	}
	v.res.Size, v.res.Root = v.tree.Size(), v.tree.Root()
	if err := v.heads(ctx, heads, headErr); err != nil {
		return nil, err
	}
	// Unreferenced leaf records are judged last: a Put running concurrently has had the whole
	// verification's time to append the row its record belongs to.
	for _, o := range v.unreferenced {
		v.orphan(ctx, o.entry, o.name)
	}
	return v.res, nil
}

// entries checks every index row and builds the tree of the stored leaves.
func (v *verifier) entries(ctx context.Context) error {
	single := 0 // rows still to read one at a time after an unreadable page
	for from := uint64(0); ; {
		limit := leafPage
		if single > 0 {
			limit, single = 1, single-1
		}
		page, err := v.a.idx.Scan(ctx, from, limit)
		if errors.Is(err, ErrCorrupt) {
			if limit > 1 {
				// Find the unreadable row: read this page again row by row.
				single = leafPage
				continue
			}
			// This row cannot be read; its leaf (index and stored hash) still can, so the tree and
			// the tree heads are judged on what was signed.
			leaves, lerr := v.a.idx.Leaves(ctx, from, 1)
			if lerr != nil || len(leaves) == 0 {
				v.add(Problem{Kind: IndexUnreadable, Leaf: u64(from),
					HU: fmt.Sprintf("Az archívum indexe a(z) %d. levéltől nem olvasható: %v", from, err),
					EN: fmt.Sprintf("The archive's index cannot be read from leaf %d on: %v", from, err)})
				return nil
			}
			l := leaves[0]
			v.gaps(l.Index)
			v.add(Problem{Kind: IndexUnreadable, Leaf: u64(l.Index), Code: errcode.A002,
				HU: fmt.Sprintf("A(z) %d. levél indexsora olvashatatlan (átírták): %v", l.Index, err),
				EN: fmt.Sprintf("The index row of leaf %d is unreadable (it was rewritten): %v", l.Index, err)})
			v.tree.Append(l.Hash)
			from = l.Index + 1
			continue
		}
		if err != nil {
			return fmt.Errorf("archive: verify: %w", err)
		}
		for _, e := range page {
			if err := ctx.Err(); err != nil {
				return err
			}
			v.gaps(e.Index)
			v.entry(ctx, e)
			v.tree.Append(e.LeafHash)
			v.res.Entries++
		}
		if len(page) < limit {
			if single > 0 {
				single = 0
				continue
			}
			return nil
		}
		from = page[len(page)-1].Index + 1
	}
}

// gaps names the leaves before index whose rows are missing: their rows were removed. Their places
// in the tree hold a hash no leaf can have, so every tree head covering them fails as well.
func (v *verifier) gaps(index uint64) {
	for v.tree.Size() < index {
		i := v.tree.Size()
		v.add(Problem{Kind: EntryRemoved, Leaf: u64(i),
			HU: fmt.Sprintf("A(z) %d. levél indexsora hiányzik (törölték).", i),
			EN: fmt.Sprintf("The index row of leaf %d is missing (removed).", i)})
		v.tree.Append([32]byte{})
	}
}

func (v *verifier) entry(ctx context.Context, e *Entry) {
	at := func(p Problem) Problem {
		p.Entry, p.Leaf = e.ID, u64(e.Index)
		return p
	}
	enc, err := EncodeLeaf(e)
	if err != nil {
		v.add(at(Problem{Kind: EntryInvalid, Code: errcode.A002,
			HU: fmt.Sprintf("A(z) %s bejegyzés indexsora érvénytelen: %v", e.ID, err),
			EN: fmt.Sprintf("The index row of entry %s is invalid: %v", e.ID, err)}))
		return
	}
	if hashLeafBytes(enc) != e.LeafHash {
		v.add(at(Problem{Kind: EntryEdited, Code: errcode.A002,
			HU: fmt.Sprintf("A(z) %s bejegyzés indexsorát módosították: adatai nem a tárolt levél lenyomatát adják.", e.ID),
			EN: fmt.Sprintf("The index row of entry %s was edited: its fields no longer hash to its stored leaf.", e.ID)}))
	}
	if e.Original == nil || e.Receipt == nil || e.Report == nil {
		v.add(at(Problem{Kind: EntryInvalid,
			HU: fmt.Sprintf("A(z) %s bejegyzésből hiányzik egy kötelező rész (eredeti, nyugta, jelentés).", e.ID),
			EN: fmt.Sprintf("Entry %s lacks a required part (original, receipt, report).", e.ID)}))
	}
	if e.Original != nil && e.Original.SHA256 != e.PackageSHA256 {
		v.add(at(Problem{Kind: EntryInvalid, Part: Original,
			HU: fmt.Sprintf("A(z) %s bejegyzés eredeti csomagjának lenyomata nem a csomag lenyomata.", e.ID),
			EN: fmt.Sprintf("Entry %s: the original part's hash is not the package hash.", e.ID)}))
	}
	if e.Renews != "" {
		prev, err := v.a.idx.Get(ctx, e.Renews)
		if err != nil || prev.PackageSHA256 != e.PackageSHA256 || prev.Index >= e.Index {
			v.add(at(Problem{Kind: EntryInvalid,
				HU: fmt.Sprintf("A(z) %s bejegyzés megújítottja (%s) hiányzik vagy nem ugyanannak a csomagnak korábbi bejegyzése.", e.ID, e.Renews),
				EN: fmt.Sprintf("Entry %s renews %s, which is missing or not an earlier entry of the same package.", e.ID, e.Renews)}))
		}
	}
	// The entry's leaf record, written before its row: it must be there with these very bytes.
	name := sha256.Sum256(enc)
	v.records[name] = true
	if _, err := v.a.readBlob(v.a.leaves, PartRef{SHA256: name, Size: int64(len(enc))}); err != nil {
		kind, hu, en := RecordChanged, "megváltozott", "was changed"
		if errors.Is(err, ErrTampered) && isMissing(v.a.leaves.Path(name)) {
			kind, hu, en = RecordMissing, "hiányzik (törölték, vagy az indexsort átírták)", "is missing (removed, or the index row was rewritten)"
		}
		v.add(at(Problem{Kind: kind, Code: errcode.A002,
			HU: fmt.Sprintf("A(z) %s bejegyzés levélrekordja %s.", e.ID, hu),
			EN: fmt.Sprintf("The leaf record of entry %s %s.", e.ID, en)}))
	}
	// Every archived file, re-hashed.
	for _, p := range Parts {
		r, ok := e.Part(p)
		if !ok {
			continue
		}
		err := hashFile(v.a.parts.Path(r.SHA256), r)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			v.add(at(Problem{Kind: PartMissing, Part: p,
				HU: fmt.Sprintf("A(z) %s bejegyzés %s része hiányzik (a fájlt törölték).", e.ID, p),
				EN: fmt.Sprintf("The %s part of entry %s is missing (its file was removed).", p, e.ID)}))
			continue
		case err != nil:
			v.add(at(Problem{Kind: PartChanged, Part: p, Code: errcode.A002,
				HU: fmt.Sprintf("A(z) %s bejegyzés %s részének tartalma megváltozott: %v", e.ID, p, err),
				EN: fmt.Sprintf("The content of the %s part of entry %s changed: %v", p, e.ID, err)}))
			continue
		}
		if p == Extended && v.opts.VerifyPackage != nil {
			v.pkg(ctx, e, r)
		}
	}
}

// pkg re-verifies an entry's extended package with the caller's verifier.
func (v *verifier) pkg(ctx context.Context, e *Entry, r PartRef) {
	b, err := v.a.readBlob(v.a.parts, r)
	if err == nil {
		err = v.opts.VerifyPackage(ctx, e, b)
	}
	if err == nil {
		return
	}
	p := Problem{Kind: PackageInvalid, Entry: e.ID, Leaf: u64(e.Index), Part: Extended,
		HU: fmt.Sprintf("A(z) %s bejegyzés kiterjesztett csomagja nem ellenőrizhető érvényesen: %v", e.ID, err),
		EN: fmt.Sprintf("The extended package of entry %s does not verify: %v", e.ID, err)}
	if f, ok := errcode.Of(err); ok {
		p.Code = f.Code
		p.HU = fmt.Sprintf("A(z) %s bejegyzés kiterjesztett csomagja: %s", e.ID, f.HU)
		p.EN = fmt.Sprintf("The extended package of entry %s: %s", e.ID, f.EN)
	}
	v.add(p)
}

func isMissing(path string) bool {
	_, err := os.Stat(path)
	return errors.Is(err, fs.ErrNotExist)
}

// hashFile streams a stored file through SHA-256, reading at most r.Size+1 bytes: nil when it is
// exactly the recorded bytes, fs.ErrNotExist (wrapped) when it is gone.
func hashFile(path string, r PartRef) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, r.Size+1))
	if err != nil {
		return err
	}
	if n != r.Size {
		return fmt.Errorf("%d bájt a rögzített %d helyett / %d bytes instead of the recorded %d", n, r.Size, n, r.Size)
	}
	if [32]byte(h.Sum(nil)) != r.SHA256 {
		return errors.New("a lenyomat nem egyezik / the hash does not match")
	}
	return nil
}

// orphans looks at the leaf records no index row references.
func (v *verifier) orphans(ctx context.Context) error {
	root := filepath.Join(v.a.dir, "leaves", "sha256")
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if d.IsDir() {
			return nil
		}
		raw, herr := hex.DecodeString(d.Name())
		if herr != nil || len(raw) != 32 {
			v.add(Problem{Kind: UnreferencedRecord, Severity: errcode.Warning,
				HU: fmt.Sprintf("Idegen fájl a levélrekordok között: %s", path),
				EN: fmt.Sprintf("A foreign file among the leaf records: %s", path)})
			return nil
		}
		name := [32]byte(raw)
		if v.records[name] {
			return nil
		}
		b, rerr := boundedio.ReadFile(path, maxLeafBytes)
		var o *Entry
		if rerr == nil && sha256.Sum256(b) == name {
			o, rerr = DecodeLeaf(b)
		} else if rerr == nil {
			rerr = errors.New("content does not match its name")
		}
		if rerr != nil {
			v.add(Problem{Kind: RecordChanged, Code: errcode.A002,
				HU: fmt.Sprintf("Egy indexsor nélküli levélrekord sérült (%x): %v", name[:8], rerr),
				EN: fmt.Sprintf("A leaf record no index row references is damaged (%x): %v", name[:8], rerr)})
			return nil
		}
		v.unreferenced = append(v.unreferenced, unreferencedRecord{o, name})
		return nil
	})
}

// orphan judges a leaf record no row references: the record of an entry whose row was edited (its
// ID is indexed, with other content), of an entry whose row was removed (its package version is
// not indexed), or of a Put interrupted before its index commit and repeated (harmless).
func (v *verifier) orphan(ctx context.Context, o *Entry, name [32]byte) {
	if e, err := v.a.idx.Get(ctx, o.ID); err == nil {
		if enc, err := EncodeLeaf(e); err == nil && sha256.Sum256(enc) == name {
			return // its row was appended after the rows were read
		}
		v.add(Problem{Kind: EntryEdited, Code: errcode.A002, Entry: o.ID, Leaf: u64(e.Index),
			HU: fmt.Sprintf("A(z) %s bejegyzés indexsora eltér az eredeti levélrekordjától (%s, archiválva %s): az indexet átírták.", o.ID, o.PackageName, o.Archived.Format(time.RFC3339)),
			EN: fmt.Sprintf("The index row of entry %s differs from its original leaf record (%s, archived %s): the index was rewritten.", o.ID, o.PackageName, o.Archived.Format(time.RFC3339))})
		return
	}
	if _, err := v.a.idx.Version(ctx, o.PackageSHA256, o.Renews); errors.Is(err, ErrNotFound) && v.start.Sub(o.Archived) < v.opts.InFlight {
		v.add(Problem{Kind: UnreferencedRecord, Severity: errcode.Warning, Entry: o.ID,
			HU: fmt.Sprintf("A(z) %s bejegyzés (%s) archiválása éppen folyik vagy az imént szakadt meg (%s): még nincs indexsora.", o.ID, o.PackageName, o.Archived.Format(time.RFC3339)),
			EN: fmt.Sprintf("Entry %s (%s) is being archived or its archiving was interrupted moments ago (%s): it has no index row yet.", o.ID, o.PackageName, o.Archived.Format(time.RFC3339))})
		return
	} else if errors.Is(err, ErrNotFound) {
		v.add(Problem{Kind: EntryRemoved, Entry: o.ID,
			HU: fmt.Sprintf("A(z) %s bejegyzés (%s, archiválva %s) levélrekordja megvan, de az indexből hiányzik: indexsorát törölték (vagy archiválása félbeszakadt és nem ismétlődött meg).", o.ID, o.PackageName, o.Archived.Format(time.RFC3339)),
			EN: fmt.Sprintf("Entry %s (%s, archived %s) has a leaf record but no index row: its row was removed (or its archiving was interrupted and never repeated).", o.ID, o.PackageName, o.Archived.Format(time.RFC3339))})
		return
	}
	v.add(Problem{Kind: UnreferencedRecord, Severity: errcode.Warning, Entry: o.ID,
		HU: fmt.Sprintf("Be nem fejezett archiválás maradványa (%s, %s): megszakadt, vagy egy másik folyamat ugyanezt a csomagot archiválta előbb; a csomag bejegyzése megvan, ez ártalmatlan.", o.PackageName, o.Archived.Format(time.RFC3339)),
		EN: fmt.Sprintf("The remnant of an archiving that did not complete (%s, %s): interrupted, or another process archived the same package first; the package's entry exists, this is harmless.", o.PackageName, o.Archived.Format(time.RFC3339))})
}

// heads checks every stored tree head against its neighbours and the rebuilt tree.
func (v *verifier) heads(ctx context.Context, stored []StoredHead, err error) error {
	if err != nil {
		if errors.Is(err, ErrCorrupt) {
			v.add(Problem{Kind: HeadInvalid, HU: fmt.Sprintf("A fafejek nem olvashatók: %v", err), EN: fmt.Sprintf("The tree heads cannot be read: %v", err)})
			return nil
		}
		return fmt.Errorf("archive: verify: %w", err)
	}
	v.res.TreeHeads = len(stored)
	tsv := &tsp.Verifier{Chain: v.opts.TSA}
	var prev *SignedHead  // the previous head that decoded
	var prevGen time.Time // its time-stamp's time
	var matched uint64    // the size of the latest head the tree still matches
	expect := uint64(0)
	for _, st := range stored {
		seq := u64(st.Seq)
		bad := func(kind ProblemKind, code errcode.Code, hu, en string) {
			v.add(Problem{Kind: kind, Code: code, TreeHead: seq,
				HU: fmt.Sprintf("A(z) %d. fafej: %s", st.Seq, hu), EN: fmt.Sprintf("Tree head %d: %s", st.Seq, en)})
		}
		if st.Seq != expect {
			for s := expect; s < st.Seq && s < expect+1000; s++ {
				v.add(Problem{Kind: HeadMissing, TreeHead: u64(s),
					HU: fmt.Sprintf("A(z) %d. fafej hiányzik.", s), EN: fmt.Sprintf("Tree head %d is missing.", s)})
			}
		}
		expect = st.Seq + 1
		h, err := DecodeSignedHead(st.Body)
		if err != nil {
			bad(HeadInvalid, errcode.A001, fmt.Sprintf("nem olvasható (%v).", err), fmt.Sprintf("unreadable (%v).", err))
			prev = nil
			continue
		}
		if h.Seq != st.Seq || h.Size != st.Size {
			bad(HeadInvalid, "", fmt.Sprintf("az indexsor (%d, %d elem) nem egyezik az aláírt fejjel (%d, %d elem).", st.Seq, st.Size, h.Seq, h.Size),
				fmt.Sprintf("the index row (%d, %d entries) disagrees with the signed head (%d, %d entries).", st.Seq, st.Size, h.Seq, h.Size))
		}
		signed := true
		if _, err := h.checkSignature(v.opts.Signers); err != nil {
			signed = false
			bad(HeadSignature, errcode.A001, fmt.Sprintf("az aláírás érvénytelen vagy nem az archívum kulcsáé (%v).", err),
				fmt.Sprintf("the signature is invalid or not the archive key's (%v).", err))
		}
		gen := v.timeStamp(ctx, tsv, h, bad)
		// The chain and the history: the previous head must be this one's Prev, and this head's
		// stored consistency proof must lead from the previous signed root to this one.
		switch {
		case h.Seq == 0 && h.Prev != ([32]byte{}):
			bad(HeadMissing, "", "az első fej elődöt nevez meg.", "the first head names a predecessor.")
		case prev != nil && prev.Seq+1 == h.Seq:
			if h.Prev != prev.Hash() {
				bad(HeadMissing, "", "nem az előző fejre hivatkozik (a fejek láncát megszakították).", "does not name the previous head (the chain of heads was broken).")
			}
			if h.Size < prev.Size {
				bad(HeadInconsistent, "", fmt.Sprintf("kevesebb elemet fed (%d), mint az előző (%d).", h.Size, prev.Size),
					fmt.Sprintf("covers fewer entries (%d) than the previous one (%d).", h.Size, prev.Size))
			} else if err := merkle.VerifyConsistency(prev.Size, h.Size, prev.Root, h.Root, h.Consistency); err != nil {
				bad(HeadInconsistent, "", fmt.Sprintf("nem az előző fej fájának bővítése (%v).", err),
					fmt.Sprintf("is not an extension of the previous head's tree (%v).", err))
			}
			if h.Time.Before(prev.Time) || (!gen.IsZero() && !prevGen.IsZero() && gen.Before(prevGen)) {
				bad(HeadInconsistent, "", "korábbi idejű, mint az előző fej.", "is dated before the previous head.")
			}
		}
		// Consistency with the current tree (RFC 9162 §2.1.4 against the rebuilt tree).
		if signed {
			v.current(h, &matched, bad)
		}
		prev, prevGen = h, gen
		v.res.Sealed = h.Size
	}
	return nil
}

// timeStamp checks a head's RFC 3161 token over its signature and returns the token's time (zero
// when it failed).
func (v *verifier) timeStamp(ctx context.Context, tsv *tsp.Verifier, h *SignedHead, bad func(ProblemKind, errcode.Code, string, string)) time.Time {
	tok, err := tsv.VerifyData(ctx, h.TimeStamp, h.Signature)
	if err != nil {
		hu, en := tsp.Messages(err)
		bad(HeadTimeStamp, errcode.Code(tsp.Code(err)), fmt.Sprintf("az időbélyeg érvénytelen: %s (%v)", hu, err), fmt.Sprintf("the time-stamp is invalid: %s (%v)", en, err))
		return time.Time{}
	}
	if d := tok.GenTime.Sub(h.Time); d > v.opts.MaxHeadSkew || d < -v.opts.MaxHeadSkew {
		bad(HeadTimeStamp, errcode.A007, fmt.Sprintf("az időbélyeg ideje (%s) messze esik a fej idejétől (%s).", tok.GenTime.Format(time.RFC3339), h.Time.Format(time.RFC3339)),
			fmt.Sprintf("the time-stamp's time (%s) is far from the head's time (%s).", tok.GenTime.Format(time.RFC3339), h.Time.Format(time.RFC3339)))
	}
	return tok.GenTime
}

// current checks that the rebuilt tree still extends the head's tree and names the range of
// leaves where the change must be: after the latest earlier head that still matches.
func (v *verifier) current(h *SignedHead, matched *uint64, bad func(ProblemKind, errcode.Code, string, string)) {
	size := v.tree.Size()
	if h.Size > size {
		bad(HeadMismatch, "", fmt.Sprintf("%d bejegyzést fed, az index csak %d-t tartalmaz: a(z) %d–%d. levelek hiányoznak (törölték).", h.Size, size, size, h.Size-1),
			fmt.Sprintf("covers %d entries, the index holds only %d: leaves %d–%d are missing (removed).", h.Size, size, size, h.Size-1))
		return
	}
	proof, err := v.tree.ConsistencyProof(h.Size, size)
	if err == nil {
		err = merkle.VerifyConsistency(h.Size, size, h.Root, v.tree.Root(), proof)
	}
	if err != nil {
		from := *matched
		if from > h.Size {
			from = 0
		}
		bad(HeadMismatch, errcode.A002, fmt.Sprintf("a jelenlegi fa nem az aláírt fa bővítése: a(z) %d–%d. levelek között módosítottak, töröltek vagy átrendeztek bejegyzést.", from, h.Size-1),
			fmt.Sprintf("the current tree does not extend the signed one: an entry among leaves %d–%d was changed, removed or reordered.", from, h.Size-1))
		return
	}
	*matched = h.Size
}
