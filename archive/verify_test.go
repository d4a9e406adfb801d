package archive_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/archive"
	"github.com/tagdij/tagdij/archive/merkle"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/tsp"
)

func partPath(f *fixture, sum [32]byte) string {
	h := strings.ToLower(strings.TrimSpace(hexOf(sum)))
	return filepath.Join(f.dir, "parts", "sha256", h[:2], h)
}

func recordPath(f *fixture, e *archive.Entry) string {
	enc, err := archive.EncodeLeaf(e)
	if err != nil {
		panic(err)
	}
	h := hexOf(sha256.Sum256(enc))
	return filepath.Join(f.dir, "leaves", "sha256", h[:2], h)
}

func hexOf(b [32]byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 64)
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

func flipByte(t *testing.T, path string, at int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[at%len(b)] ^= 0x20
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// has reports whether res holds an error problem of kind about entry id (any when ""), part (any
// when "") and tree head seq (any when < 0).
func has(res *archive.VerifyResult, kind archive.ProblemKind, id string, part archive.Part, seq int) bool {
	for _, p := range res.Problems {
		if p.Kind == kind && p.Severity == errcode.Error && (id == "" || p.Entry == id) && (part == "" || p.Part == part) &&
			(seq < 0 || (p.TreeHead != nil && *p.TreeHead == uint64(seq))) && p.HU != "" && p.EN != "" {
			return true
		}
	}
	return false
}

func dump(t *testing.T, res *archive.VerifyResult) {
	t.Helper()
	for _, p := range res.Problems {
		t.Logf("  %s %s %s entry=%s part=%s: %s", p.Severity, p.Kind, p.Code, p.Entry, p.Part, p.EN)
	}
}

// TestVerifyGoodAndSeals: several Seals with entries added between them; every head extends the
// one before (its stored consistency proof verifies), every entry has a valid inclusion proof,
// Verify finds nothing; a Seal with nothing new keeps the head until ResealAfter has passed.
func TestVerifyGoodAndSeals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var all []*archive.Entry
	var heads []*archive.SignedHead
	for round, ns := range [][]int{{1, 2, 3}, {4}, {5, 6, 7, 8, 9}, {10, 11}} {
		all = append(all, f.put(t, ns...)...)
		h := f.seal(t)
		if h.Seq != uint64(round) || h.Size != uint64(len(all)) {
			t.Fatalf("round %d: head %d of size %d", round, h.Seq, h.Size)
		}
		heads = append(heads, h)
		if round == 1 {
			// A restart between runs: the new process reads the tree back from the index.
			f.open(t)
		}
	}
	for i := 1; i < len(heads); i++ {
		if err := merkle.VerifyConsistency(heads[i-1].Size, heads[i].Size, heads[i-1].Root, heads[i].Root, heads[i].Consistency); err != nil {
			t.Errorf("head %d does not extend head %d: %v", i, i-1, err)
		}
		if heads[i].Prev != heads[i-1].Hash() {
			t.Errorf("head %d does not chain to head %d", i, i-1)
		}
	}
	// Nothing new: the same head.
	if h := f.seal(t); h.Seq != 3 {
		t.Errorf("Seal without new entries made head %d", h.Seq)
	}
	for _, e := range all {
		p, err := f.a.Proof(ctx, e.ID)
		if err != nil || p.Head == nil || p.Head.Seq != 3 {
			t.Fatalf("Proof %s: %+v %v", e.ID, p, err)
		}
		if err := p.Check([]*x509.Certificate{f.opts.Certificate}); err != nil {
			t.Errorf("proof of %s: %v", e.ID, err)
		}
		bad := *p
		bad.Path = slices.Clone(p.Path)
		if len(bad.Path) > 0 {
			bad.Path[0][0] ^= 1
			if bad.Check([]*x509.Certificate{f.opts.Certificate}) == nil {
				t.Errorf("a changed proof of %s checks", e.ID)
			}
		}
	}
	res := f.verify(t)
	if !res.OK() || len(res.Problems) != 0 || res.Entries != 11 || res.Size != 11 || res.TreeHeads != 4 || res.Sealed != 11 || res.Root != heads[3].Root {
		dump(t, res)
		t.Fatalf("a good archive: %+v", res)
	}
	// An entry after the latest head: Proof answers without a head; Verify is still fine.
	late := f.put(t, 12)[0]
	if p, err := f.a.Proof(ctx, late.ID); err != nil || p.Head != nil {
		t.Errorf("Proof of an unsealed entry: %+v %v", p, err)
	}
	if res := f.verify(t); !res.OK() || res.Sealed != 11 || res.Size != 12 {
		t.Errorf("with an unsealed entry: %+v", res)
	}
	// After ResealAfter a head is made even without new entries... here with one.
	f.sb.Clock.Advance(25 * time.Hour)
	if h := f.seal(t); h.Seq != 4 || h.Size != 12 {
		t.Errorf("Seal after a day: head %d size %d", h.Seq, h.Size)
	}
	f.sb.Clock.Advance(25 * time.Hour)
	if h := f.seal(t); h.Seq != 5 || h.Size != 12 {
		t.Errorf("Seal after another day without entries: head %d size %d", h.Seq, h.Size)
	}
	if res := f.verify(t); !res.OK() || res.TreeHeads != 6 {
		dump(t, res)
		t.Errorf("after resealing: %+v", res)
	}
	if _, err := f.a.Proof(ctx, "nope"); !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("Proof of an unknown id: %v", err)
	}
}

// tamperCase damages a sealed archive of six entries (heads 0 over four, 1 over six); victim is
// the entry at leaf 2 (covered by both heads) unless the case says otherwise.
type tamperCase struct {
	name   string
	victim int
	damage func(t *testing.T, f *fixture, e *archive.Entry)
	// want checks the result; the victim must be the only entry named in any case.
	want func(res *archive.VerifyResult, e *archive.Entry) bool
}

// TestVerifyNamesTampering: after each kind of damage Verify fails and names the damaged entry,
// part or tree head, and no other entry.
func TestVerifyNamesTampering(t *testing.T) {
	base := newFixture(t)
	var cases []tamperCase
	for _, p := range archive.Parts {
		cases = append(cases, tamperCase{name: "one byte of " + string(p), victim: 2,
			damage: func(t *testing.T, f *fixture, e *archive.Entry) {
				r, _ := e.Part(p)
				flipByte(t, partPath(f, r.SHA256), int(r.Size)/2)
			},
			want: func(res *archive.VerifyResult, e *archive.Entry) bool {
				return has(res, archive.PartChanged, e.ID, p, -1) && !has(res, archive.HeadMismatch, "", "", -1)
			}})
	}
	cases = append(cases, []tamperCase{
		{name: "a file removed", victim: 2,
			damage: func(t *testing.T, f *fixture, e *archive.Entry) {
				if err := os.Remove(partPath(f, e.Original.SHA256)); err != nil {
					t.Fatal(err)
				}
			},
			want: func(res *archive.VerifyResult, e *archive.Entry) bool {
				return has(res, archive.PartMissing, e.ID, archive.Original, -1)
			}},
		{name: "a file grown", victim: 4,
			damage: func(t *testing.T, f *fixture, e *archive.Entry) {
				p := partPath(f, e.Report.SHA256)
				b, _ := os.ReadFile(p)
				os.WriteFile(p, append(b, ' '), 0o600)
			},
			want: func(res *archive.VerifyResult, e *archive.Entry) bool {
				return has(res, archive.PartChanged, e.ID, archive.Report, -1)
			}},
		{name: "all the entry's files removed", victim: 2,
			damage: func(t *testing.T, f *fixture, e *archive.Entry) {
				for _, p := range archive.Parts {
					r, _ := e.Part(p)
					os.Remove(partPath(f, r.SHA256))
				}
				if err := os.Remove(recordPath(f, e)); err != nil {
					t.Fatal(err)
				}
			},
			want: func(res *archive.VerifyResult, e *archive.Entry) bool {
				return has(res, archive.PartMissing, e.ID, archive.Extended, -1) && has(res, archive.PartMissing, e.ID, archive.Report, -1) &&
					has(res, archive.RecordMissing, e.ID, "", -1)
			}},
		{name: "the leaf record changed", victim: 1,
			damage: func(t *testing.T, f *fixture, e *archive.Entry) { flipByte(t, recordPath(f, e), 40) },
			want: func(res *archive.VerifyResult, e *archive.Entry) bool {
				return has(res, archive.RecordChanged, e.ID, "", -1)
			}},
		{name: "the index row removed", victim: 2,
			damage: func(t *testing.T, f *fixture, e *archive.Entry) {
				f.sql(t, `DELETE FROM archive_entries WHERE id = ?`, e.ID)
			},
			want: func(res *archive.VerifyResult, e *archive.Entry) bool {
				gap := false
				for _, p := range res.Problems {
					gap = gap || (p.Kind == archive.EntryRemoved && p.Leaf != nil && *p.Leaf == 2)
				}
				return gap && has(res, archive.EntryRemoved, e.ID, "", -1) && has(res, archive.HeadMismatch, "", "", 0) && has(res, archive.HeadMismatch, "", "", 1)
			}},
		{name: "the last index row removed", victim: 5,
			damage: func(t *testing.T, f *fixture, e *archive.Entry) {
				f.sql(t, `DELETE FROM archive_entries WHERE id = ?`, e.ID)
			},
			want: func(res *archive.VerifyResult, e *archive.Entry) bool {
				return has(res, archive.EntryRemoved, e.ID, "", -1) && has(res, archive.HeadMismatch, "", "", 1) && !has(res, archive.HeadMismatch, "", "", 0)
			}},
		{name: "index metadata edited", victim: 2,
			damage: func(t *testing.T, f *fixture, e *archive.Entry) {
				f.sql(t, `UPDATE archive_entries SET outcome = 'invalid', codes = '["A005"]' WHERE id = ?`, e.ID)
			},
			want: func(res *archive.VerifyResult, e *archive.Entry) bool {
				return has(res, archive.EntryEdited, e.ID, "", -1) && !has(res, archive.HeadMismatch, "", "", -1)
			}},
		{name: "index part hash edited to another file", victim: 3,
			damage: func(t *testing.T, f *fixture, e *archive.Entry) {
				other := sha256.Sum256(sampleInput(1).Report)
				f.sql(t, `UPDATE archive_entries SET report_sha256 = ?, report_size = ? WHERE id = ?`, other[:], len(sampleInput(1).Report), e.ID)
			},
			want: func(res *archive.VerifyResult, e *archive.Entry) bool {
				return has(res, archive.EntryEdited, e.ID, "", -1)
			}},
		{name: "index row and its leaf hash rewritten", victim: 2,
			damage: func(t *testing.T, f *fixture, e *archive.Entry) {
				c := e.Clone()
				c.Outcome = "invalid"
				lh, err := archive.LeafHash(c)
				if err != nil {
					t.Fatal(err)
				}
				f.sql(t, `UPDATE archive_entries SET outcome = 'invalid', leaf_hash = ? WHERE id = ?`, lh[:], e.ID)
			},
			want: func(res *archive.VerifyResult, e *archive.Entry) bool {
				return has(res, archive.EntryEdited, e.ID, "", -1) && has(res, archive.RecordMissing, e.ID, "", -1) &&
					has(res, archive.HeadMismatch, "", "", 0) && has(res, archive.HeadMismatch, "", "", 1)
			}},
		{name: "two rows swapped", victim: -1,
			damage: func(t *testing.T, f *fixture, _ *archive.Entry) {
				f.sql(t, `UPDATE archive_entries SET leaf_index = 100 WHERE leaf_index = 0`)
				f.sql(t, `UPDATE archive_entries SET leaf_index = 0 WHERE leaf_index = 1`)
				f.sql(t, `UPDATE archive_entries SET leaf_index = 1 WHERE leaf_index = 100`)
			},
			want: func(res *archive.VerifyResult, _ *archive.Entry) bool {
				return has(res, archive.HeadMismatch, "", "", 0) && has(res, archive.HeadMismatch, "", "", 1)
			}},
		{name: "an index row made unreadable", victim: -1,
			damage: func(t *testing.T, f *fixture, _ *archive.Entry) {
				f.sql(t, `UPDATE archive_entries SET archived = 'yesterday' WHERE leaf_index = 3`)
			},
			want: func(res *archive.VerifyResult, _ *archive.Entry) bool {
				// Named by its leaf; the rows after it are still read, the signed tree still holds.
				unreadable := false
				for _, p := range res.Problems {
					unreadable = unreadable || (p.Kind == archive.IndexUnreadable && p.Leaf != nil && *p.Leaf == 3)
				}
				return unreadable && res.Entries == 5 && !has(res, archive.HeadMismatch, "", "", -1)
			}},
		{name: "a tree head's root altered", victim: -1,
			damage: func(t *testing.T, f *fixture, _ *archive.Entry) {
				h := storedHead(t, f, 0)
				h.Root[0] ^= 1
				f.sql(t, `UPDATE archive_tree_heads SET body = ? WHERE seq = 0`, h.Encode())
			},
			want: func(res *archive.VerifyResult, _ *archive.Entry) bool {
				// Its signature fails, and the next head no longer chains to it.
				return has(res, archive.HeadSignature, "", "", 0) && has(res, archive.HeadMissing, "", "", 1)
			}},
		{name: "a tree head's size altered in its row", victim: -1,
			damage: func(t *testing.T, f *fixture, _ *archive.Entry) {
				f.sql(t, `UPDATE archive_tree_heads SET tree_size = 5 WHERE seq = 1`)
			},
			want: func(res *archive.VerifyResult, _ *archive.Entry) bool {
				return has(res, archive.HeadInvalid, "", "", 1)
			}},
		{name: "a tree head removed", victim: -1,
			damage: func(t *testing.T, f *fixture, _ *archive.Entry) {
				f.sql(t, `DELETE FROM archive_tree_heads WHERE seq = 0`)
			},
			want: func(res *archive.VerifyResult, _ *archive.Entry) bool {
				return has(res, archive.HeadMissing, "", "", 0)
			}},
		{name: "a tree head's body truncated", victim: -1,
			damage: func(t *testing.T, f *fixture, _ *archive.Entry) {
				f.sql(t, `UPDATE archive_tree_heads SET body = substr(body, 1, 100) WHERE seq = 1`)
			},
			want: func(res *archive.VerifyResult, _ *archive.Entry) bool {
				return has(res, archive.HeadInvalid, "", "", 1)
			}},
		{name: "a tree head's time-stamp altered", victim: -1,
			damage: func(t *testing.T, f *fixture, _ *archive.Entry) {
				h := storedHead(t, f, 1)
				h.TimeStamp[len(h.TimeStamp)-10] ^= 1
				f.sql(t, `UPDATE archive_tree_heads SET body = ? WHERE seq = 1`, h.Encode())
			},
			want: func(res *archive.VerifyResult, _ *archive.Entry) bool {
				return has(res, archive.HeadTimeStamp, "", "", 1)
			}},
		{name: "a tree head forged with another key after a row was removed", victim: 5,
			damage: func(t *testing.T, f *fixture, e *archive.Entry) {
				f.sql(t, `DELETE FROM archive_entries WHERE id = ?`, e.ID)
				forge(t, f, 1, 5)
			},
			want: func(res *archive.VerifyResult, e *archive.Entry) bool {
				return has(res, archive.HeadSignature, "", "", 1) && has(res, archive.EntryRemoved, e.ID, "", -1)
			}},
	}...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := base.fresh(t)
			es := f.put(t, 1, 2, 3, 4)
			f.seal(t)
			es = append(es, f.put(t, 5, 6)...)
			f.seal(t)
			if res := f.verify(t); !res.OK() {
				dump(t, res)
				t.Fatal("not good before the damage")
			}
			var victim *archive.Entry
			if c.victim >= 0 {
				victim = es[c.victim]
			}
			c.damage(t, f, victim)
			// A fresh process verifies, an hour later (a leaf record without a row is then no
			// longer an archiving in progress).
			f.sb.Clock.Advance(time.Hour)
			f.open(t)
			res := f.verify(t)
			if res.OK() || !c.want(res, victim) {
				dump(t, res)
				t.Fatalf("the damage is not named as expected")
			}
			if victim != nil {
				if bad := res.BadEntries(); len(bad) != 1 || bad[0] != victim.ID {
					dump(t, res)
					t.Errorf("entries named: %v, want only %s", bad, victim.ID)
				}
			}
			// Seal refuses to sign over a tampered tree or latest head. (Damaged files and edited
			// rows leave the stored leaves whole: a new head signs the original leaves.)
			if _, err := f.a.Seal(context.Background()); err == nil && (has(res, archive.HeadMismatch, "", "", -1) || has(res, archive.HeadSignature, "", "", 1)) {
				t.Error("Seal signed a tampered archive")
			}
		})
	}
}

// fresh returns a fixture on the same sandbox with an empty archive and database.
func (f *fixture) fresh(t *testing.T) *fixture {
	g := &fixture{sb: f.sb, dir: t.TempDir(), dbPath: filepath.Join(t.TempDir(), "store.db"), tsaVer: f.tsaVer, opts: f.opts}
	g.open(t)
	return g
}

func storedHead(t *testing.T, f *fixture, seq int) *archive.SignedHead {
	t.Helper()
	hs, err := f.db.ArchiveIndex().TreeHeads(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range hs {
		if st.Seq == uint64(seq) {
			h, err := archive.DecodeSignedHead(st.Body)
			if err != nil {
				t.Fatal(err)
			}
			return h
		}
	}
	t.Fatalf("no head %d", seq)
	return nil
}

// forge replaces tree head seq with one over the first size stored leaves, signed by an attacker's
// key and time-stamped by the real TSA: everything right but the key.
func forge(t *testing.T, f *fixture, seq, size int) {
	t.Helper()
	ctx := context.Background()
	leaves, err := f.db.ArchiveIndex().Leaves(ctx, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	var tr merkle.Tree
	for _, l := range leaves {
		tr.Append(l.Hash)
	}
	old := storedHead(t, f, seq)
	prev := storedHead(t, f, seq-1)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Tagdíj archívum (hamis)"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	h := &archive.SignedHead{TreeHead: archive.TreeHead{Seq: uint64(seq), Size: uint64(size), Root: tr.Root(), Time: old.Time, Prev: prev.Hash()},
		Algorithm: archive.AlgECDSASHA256, Certificates: [][]byte{der}}
	h.Consistency, _ = tr.ConsistencyProof(prev.Size, uint64(size))
	digest := sha256.Sum256(h.TreeHead.Encode())
	if h.Signature, err = key.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
		t.Fatal(err)
	}
	tok, err := f.opts.TSA.(*tsp.Client).StampData(ctx, h.Signature)
	if err != nil {
		t.Fatal(err)
	}
	h.TimeStamp = tok.DER
	f.sql(t, `UPDATE archive_tree_heads SET body = ?, tree_size = ? WHERE seq = ?`, h.Encode(), size, seq)
}

// TestVerifyHeadTimeSkew: a head whose own time is far from its time-stamp's is named.
func TestVerifyHeadTimeSkew(t *testing.T) {
	f := newFixture(t)
	f.opts.Now = func() time.Time { return f.sb.Clock.Now().Add(2 * time.Hour) }
	f.open(t)
	f.put(t, 1)
	f.seal(t)
	res := f.verify(t)
	if res.OK() || !has(res, archive.HeadTimeStamp, "", "", 0) {
		dump(t, res)
		t.Fatal("a head dated two hours after its time-stamp passed")
	}
}

// TestVerifyPackageCallback: the caller's re-verification runs on every extended package and its
// finding names the entry with its code.
func TestVerifyPackageCallback(t *testing.T) {
	f := newFixture(t)
	es := f.put(t, 1, 2, 3)
	f.seal(t)
	var seen []string
	res, err := f.a.Verify(context.Background(), archive.VerifyOptions{TSA: f.tsaVer,
		VerifyPackage: func(_ context.Context, e *archive.Entry, ext []byte) error {
			seen = append(seen, e.ID)
			if string(ext) != string(sampleInput(2).Extended) && e.ID == es[1].ID {
				t.Errorf("VerifyPackage got other bytes for %s", e.ID)
			}
			if e.ID == es[1].ID {
				return errcode.New(errcode.A005, "", "revoked")
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 3 {
		t.Errorf("VerifyPackage ran on %d packages", len(seen))
	}
	var p *archive.Problem
	for i := range res.Problems {
		if res.Problems[i].Kind == archive.PackageInvalid {
			p = &res.Problems[i]
		}
	}
	if res.OK() || p == nil || p.Entry != es[1].ID || p.Code != errcode.A005 || !strings.Contains(p.HU, "visszavon") {
		dump(t, res)
		t.Fatalf("the re-verification's finding: %+v", p)
	}
}

// TestVerifyCrashRemnant: a Put interrupted before its index commit and then repeated leaves an
// unreferenced leaf record: a warning, not tampering.
func TestVerifyCrashRemnant(t *testing.T) {
	f := newFixture(t)
	fi := &failingIndex{Index: f.db.ArchiveIndex(), fail: true}
	crashed, err := archive.New(f.dir, fi, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crashed.Put(context.Background(), sampleInput(1)); !errors.Is(err, errCrash) {
		t.Fatal(err)
	}
	f.put(t, 1, 2)
	f.seal(t)
	res := f.verify(t)
	warned := false
	for _, p := range res.Problems {
		warned = warned || (p.Kind == archive.UnreferencedRecord && p.Severity == errcode.Warning)
	}
	if !res.OK() || !warned {
		dump(t, res)
		t.Fatal("a crash remnant must be a warning only")
	}
	// A Put that failed and was never repeated: while recent it may be an archiving in progress
	// in another process (a warning); an hour later its record without a row names a lost entry.
	lost, err := crashed.Put(context.Background(), sampleInput(7))
	if !errors.Is(err, errCrash) || lost != nil {
		t.Fatal(err)
	}
	if res := f.verify(t); !res.OK() {
		dump(t, res)
		t.Fatal("a record of an archiving in progress is an error")
	}
	f.sb.Clock.Advance(time.Hour)
	res = f.verify(t)
	named := false
	for _, p := range res.Problems {
		named = named || (p.Kind == archive.EntryRemoved && strings.Contains(p.EN, sampleInput(7).PackageName))
	}
	if res.OK() || !named {
		dump(t, res)
		t.Fatal("an old record without a row is not named")
	}
}

// TestSealNeedsKeyAndTSA: without a signer or TSA Seal refuses; a TLS server key is refused as the
// tree-head key.
func TestSealNeedsKeyAndTSA(t *testing.T) {
	a, err := archive.New(t.TempDir(), archive.NewMemIndex(), archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Seal(context.Background()); err == nil {
		t.Error("Seal without a key")
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "tls"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	cert, _ := x509.ParseCertificate(der)
	if _, err := archive.New(t.TempDir(), archive.NewMemIndex(), archive.Options{Signer: key, Certificate: cert}); err == nil {
		t.Error("a TLS server key was accepted for tree heads")
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl.ExtKeyUsage = nil
	der, _ = x509.CreateCertificate(rand.Reader, tmpl, tmpl, other.Public(), other)
	cert, _ = x509.ParseCertificate(der)
	if _, err := archive.New(t.TempDir(), archive.NewMemIndex(), archive.Options{Signer: key, Certificate: cert}); err == nil {
		t.Error("a key that is not its certificate's was accepted")
	}
}

// TestConcurrentProcessors: two processes (two Archive values over one directory and one SQLite
// database) archive and seal at the same time; every head extends the one before and the archive
// verifies.
func TestConcurrentProcessors(t *testing.T) {
	f := newFixture(t)
	other, err := archive.New(f.dir, openDB(t, f.dbPath).ArchiveIndex(), f.opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	done := make(chan error, 2)
	for w, a := range []*archive.Archive{f.a, other} {
		go func() {
			for i := range 6 {
				// Both archive package 100+i (the same job claimed twice after a lease expired)
				// and one of their own.
				for _, n := range []int{100 + i, 200 + 10*w + i} {
					if _, err := a.Put(ctx, sampleInput(n)); err != nil {
						done <- err
						return
					}
				}
				if i%2 == 1 {
					if _, err := a.Seal(ctx); err != nil {
						done <- err
						return
					}
				}
			}
			done <- nil
		}()
	}
	// Meanwhile an auditor verifies, again and again: a consistent state every time.
	stop := make(chan struct{})
	audits := make(chan *archive.VerifyResult, 100)
	go func() {
		defer close(audits)
		for {
			select {
			case <-stop:
				return
			default:
			}
			res, err := f.a.Verify(ctx, archive.VerifyOptions{TSA: f.tsaVer})
			if err != nil {
				t.Error(err)
				return
			}
			audits <- res
		}
	}()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	n := 0
	for res := range audits {
		n++
		if !res.OK() {
			dump(t, res)
			t.Error("a verification during the work found tampering")
		}
	}
	t.Logf("%d verifications ran during the work", n)
	h := f.seal(t)
	if h.Size != 18 {
		t.Errorf("final head covers %d entries, want 6 shared + 12 own", h.Size)
	}
	res := f.verify(t)
	if !res.OK() || res.Entries != 18 {
		dump(t, res)
		t.Fatalf("after concurrent processors: %+v", res)
	}
	// The loser of a race to archive the same package leaves its leaf record: a warning at most
	// once per shared package.
	for _, p := range res.Problems {
		if p.Kind != archive.UnreferencedRecord {
			t.Errorf("unexpected problem %s: %s", p.Kind, p.EN)
		}
	}
	if len(res.Problems) > 6 {
		t.Errorf("%d warnings for 6 shared packages", len(res.Problems))
	}
}
