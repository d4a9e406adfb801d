// Package archivetest is the conformance suite every archive.Index backend must pass: the in-memory
// archive.MemIndex and the SQLite store's ArchiveIndex run it today, a PostgreSQL store will. It
// checks the index on its own (rows, leaf indices, uniqueness, tree heads, concurrency, durability)
// and the archive's write-once API over it with real files in a temporary directory.
//
// The suite reads no clock: every time it uses is fixed.
package archivetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/tagdij/tagdij/archive"
)

// Opener returns an index and a function that closes it. The first call of a test's opener gives
// an empty index; Reopener opens the one the opener created last again (after its close), so that
// durability across a restart can be checked.
type Opener func(t *testing.T) (archive.Index, func())

// Fixed instants the suite uses.
var (
	t0 = time.Date(2026, 12, 3, 10, 0, 0, 123456789, time.UTC)
)

// Sample returns an entry as Put would build it for package n (not yet appended: Index 0, a
// deterministic ID and leaf hash). renews names the predecessor ("" for a first archiving).
func Sample(n int, renews string) *archive.Entry {
	sum := sha256.Sum256(fmt.Appendf(nil, "package %d", n))
	part := func(s string) *archive.PartRef {
		return &archive.PartRef{SHA256: sha256.Sum256([]byte(s)), Size: int64(len(s))}
	}
	e := &archive.Entry{
		ID:            fmt.Sprintf("00000000-0000-4000-8000-%012d", n),
		Archived:      t0.Add(time.Duration(n) * time.Minute),
		Renews:        renews,
		PackageSHA256: sum,
		PackageName:   fmt.Sprintf("TBA_12345676_0101_202611_B001_%08d.es3", n),
		ReceiptName:   fmt.Sprintf("TBN_%d.es3", n),
		SubmissionID:  fmt.Sprintf("11111111-1111-4111-8111-%012d", n),
		DeclarantType: "adoszam", DeclarantID: "12345676", Fund: "0101", Period: "2026-11", DeclType: "B",
		Outcome:  "valid",
		Original: part(fmt.Sprint("original ", n)), Extended: part(fmt.Sprint("extended ", n)),
		Receipt: part(fmt.Sprint("receipt ", n)), Report: part(fmt.Sprint("report ", n)),
	}
	if n%3 == 1 {
		// An invalid outcome: codes, and no extended package.
		e.Outcome, e.Codes, e.Extended = "invalid", []string{"A005", "A011"}, nil
	}
	if lh, err := archive.LeafHash(e); err == nil {
		e.LeafHash = lh
	}
	return e
}

// Run runs the suite. reopen may be nil for a backend without durability (MemIndex).
func Run(t *testing.T, open, reopen Opener) {
	ctx := context.Background()
	t.Run("AppendAndRead", func(t *testing.T) {
		x, done := open(t)
		defer done()
		if n, err := x.Size(ctx); err != nil || n != 0 {
			t.Fatalf("empty index: size %d, %v", n, err)
		}
		var all []*archive.Entry
		for i := range 5 {
			e := Sample(i, "")
			if err := x.Append(ctx, e); err != nil {
				t.Fatal(err)
			}
			if e.Index != uint64(i) {
				t.Fatalf("entry %d got leaf index %d", i, e.Index)
			}
			all = append(all, e)
		}
		if n, err := x.Size(ctx); err != nil || n != 5 {
			t.Fatalf("size %d, %v", n, err)
		}
		for _, want := range all {
			got, err := x.Get(ctx, want.ID)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("Get %s:\n got %+v, %v\nwant %+v", want.ID, got, err, want)
			}
			got, err = x.Version(ctx, want.PackageSHA256, "")
			if err != nil || got.ID != want.ID {
				t.Errorf("Version: %+v %v", got, err)
			}
			got, err = x.LatestByPackage(ctx, want.PackageSHA256)
			if err != nil || got.ID != want.ID {
				t.Errorf("LatestByPackage: %+v %v", got, err)
			}
			got, err = x.LatestBySubmission(ctx, want.DeclarantType, want.DeclarantID, want.SubmissionID)
			if err != nil || got.ID != want.ID {
				t.Errorf("LatestBySubmission: %+v %v", got, err)
			}
		}
		// Returned entries are copies.
		got, _ := x.Get(ctx, all[1].ID)
		got.Codes[0], got.Original.Size = "X", 0
		if again, _ := x.Get(ctx, all[1].ID); !reflect.DeepEqual(again, all[1]) {
			t.Error("changing a returned entry changed the index")
		}
		// Scan pages in leaf order.
		var scanned []*archive.Entry
		for from := uint64(0); ; {
			page, err := x.Scan(ctx, from, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			if len(page) > 2 {
				t.Fatalf("page of %d > limit 2", len(page))
			}
			scanned = append(scanned, page...)
			from = page[len(page)-1].Index + 1
		}
		if !reflect.DeepEqual(scanned, all) {
			t.Errorf("Scan returned %d entries, not the %d appended in order", len(scanned), len(all))
		}
		if page, err := x.Scan(ctx, 3, 100); err != nil || len(page) != 2 || page[0].Index != 3 {
			t.Errorf("Scan from 3: %d entries, %v", len(page), err)
		}
		leaves, err := x.Leaves(ctx, 1, 3)
		if err != nil || len(leaves) != 3 {
			t.Fatalf("Leaves: %d, %v", len(leaves), err)
		}
		for i, l := range leaves {
			if want := all[i+1]; l.Index != want.Index || l.Hash != want.LeafHash {
				t.Errorf("leaf %d: %+v", i+1, l)
			}
		}
		if leaves, err := x.Leaves(ctx, 5, 10); err != nil || len(leaves) != 0 {
			t.Errorf("Leaves past the end: %d, %v", len(leaves), err)
		}
	})
	t.Run("Renewals", func(t *testing.T) {
		x, done := open(t)
		defer done()
		first := Sample(2, "")
		other := Sample(3, "")
		second := Sample(2, first.ID)
		second.ID = "00000000-0000-4000-8000-100000000002"
		second.Extended = &archive.PartRef{SHA256: sha256.Sum256([]byte("renewed")), Size: 7}
		for _, e := range []*archive.Entry{first, other, second} {
			if err := x.Append(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := x.LatestByPackage(ctx, first.PackageSHA256); err != nil || got.ID != second.ID {
			t.Errorf("LatestByPackage must be the renewal: %+v %v", got, err)
		}
		if got, err := x.Version(ctx, first.PackageSHA256, ""); err != nil || got.ID != first.ID {
			t.Errorf("Version(\"\"): %+v %v", got, err)
		}
		if got, err := x.Version(ctx, first.PackageSHA256, first.ID); err != nil || got.ID != second.ID {
			t.Errorf("Version(first): %+v %v", got, err)
		}
		if got, err := x.LatestBySubmission(ctx, first.DeclarantType, first.DeclarantID, first.SubmissionID); err != nil || got.ID != second.ID {
			t.Errorf("LatestBySubmission must be the renewal: %+v %v", got, err)
		}
	})
	t.Run("Conflicts", func(t *testing.T) {
		x, done := open(t)
		defer done()
		e := Sample(4, "")
		if err := x.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
		sameID := Sample(5, "")
		sameID.ID = e.ID
		samePackage := Sample(4, "")
		samePackage.ID = "00000000-0000-4000-8000-200000000004"
		renewal := Sample(4, e.ID)
		renewal.ID = "00000000-0000-4000-8000-300000000004"
		secondRenewal := Sample(4, e.ID)
		secondRenewal.ID = "00000000-0000-4000-8000-400000000004"
		for name, c := range map[string]struct {
			e    *archive.Entry
			want error
		}{"same id": {sameID, archive.ErrConflict}, "same package": {samePackage, archive.ErrConflict}} {
			if err := x.Append(ctx, c.e); !errors.Is(err, c.want) {
				t.Errorf("%s: %v", name, err)
			}
		}
		if err := x.Append(ctx, renewal); err != nil {
			t.Fatalf("a renewal: %v", err)
		}
		if err := x.Append(ctx, secondRenewal); !errors.Is(err, archive.ErrConflict) {
			t.Errorf("a second renewal of the same entry: %v", err)
		}
		if n, _ := x.Size(ctx); n != 2 {
			t.Errorf("refused appends changed the size: %d", n)
		}
		if _, err := x.Get(ctx, samePackage.ID); !errors.Is(err, archive.ErrNotFound) {
			t.Errorf("a refused append left its row: %v", err)
		}
		// The next append still gets the next index.
		next := Sample(6, "")
		if err := x.Append(ctx, next); err != nil || next.Index != 2 {
			t.Errorf("append after conflicts: index %d, %v", next.Index, err)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		x, done := open(t)
		defer done()
		if err := x.Append(ctx, Sample(7, "")); err != nil {
			t.Fatal(err)
		}
		for name, err := range map[string]error{
			"Get":                errOf(x.Get(ctx, "nope")),
			"Version":            errOf(x.Version(ctx, [32]byte{1}, "")),
			"Version(renews)":    errOf(x.Version(ctx, Sample(7, "").PackageSHA256, "nope")),
			"LatestByPackage":    errOf(x.LatestByPackage(ctx, [32]byte{1})),
			"LatestBySubmission": errOf(x.LatestBySubmission(ctx, "adoszam", "12345676", "nope")),
		} {
			if !errors.Is(err, archive.ErrNotFound) {
				t.Errorf("%s: %v", name, err)
			}
		}
		if _, err := x.LatestTreeHead(ctx); !errors.Is(err, archive.ErrNotFound) {
			t.Errorf("LatestTreeHead of none: %v", err)
		}
		if page, err := x.Scan(ctx, 1, 10); err != nil || len(page) != 0 {
			t.Errorf("Scan past the end: %d, %v", len(page), err)
		}
	})
	t.Run("TreeHeads", func(t *testing.T) {
		x, done := open(t)
		defer done()
		for i := range 3 {
			if err := x.AppendTreeHead(ctx, archive.StoredHead{Seq: uint64(i), Size: uint64(10 * i), Body: []byte{byte(i), 1, 2}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := x.AppendTreeHead(ctx, archive.StoredHead{Seq: 1, Size: 99, Body: []byte("other")}); !errors.Is(err, archive.ErrConflict) {
			t.Errorf("a taken sequence number: %v", err)
		}
		hs, err := x.TreeHeads(ctx)
		if err != nil || len(hs) != 3 {
			t.Fatalf("TreeHeads: %d, %v", len(hs), err)
		}
		for i, h := range hs {
			if h.Seq != uint64(i) || h.Size != uint64(10*i) || !bytes.Equal(h.Body, []byte{byte(i), 1, 2}) {
				t.Errorf("head %d: %+v", i, h)
			}
		}
		if h, err := x.LatestTreeHead(ctx); err != nil || h.Seq != 2 || h.Size != 20 {
			t.Errorf("LatestTreeHead: %+v %v", h, err)
		}
	})
	t.Run("ConcurrentAppends", func(t *testing.T) {
		x, done := open(t)
		defer done()
		const workers, each = 4, 15
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					if err := x.Append(ctx, Sample(100+w*each+i, "")); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		page, err := x.Scan(ctx, 0, workers*each+1)
		if err != nil || len(page) != workers*each {
			t.Fatalf("Scan: %d, %v", len(page), err)
		}
		for i, e := range page {
			if e.Index != uint64(i) {
				t.Fatalf("leaf indices not contiguous: position %d has %d", i, e.Index)
			}
		}
	})
	if reopen != nil {
		t.Run("Durable", func(t *testing.T) {
			x, done := open(t)
			e := Sample(8, "")
			if err := x.Append(ctx, e); err != nil {
				t.Fatal(err)
			}
			if err := x.AppendTreeHead(ctx, archive.StoredHead{Seq: 0, Size: 1, Body: []byte("head")}); err != nil {
				t.Fatal(err)
			}
			done()
			y, done2 := reopen(t)
			defer done2()
			if got, err := y.Get(ctx, e.ID); err != nil || !reflect.DeepEqual(got, e) {
				t.Errorf("after reopen: %+v %v", got, err)
			}
			if h, err := y.LatestTreeHead(ctx); err != nil || string(h.Body) != "head" {
				t.Errorf("tree head after reopen: %+v %v", h, err)
			}
		})
	}
	t.Run("Archive", func(t *testing.T) { runArchive(t, open) })
}

func errOf(_ *archive.Entry, err error) error { return err }

// input is a finished package as the processor hands it over.
func input(n int) archive.Input {
	orig := fmt.Appendf(nil, "<es3 package %d/>", n)
	in := archive.Input{PackageSHA256: sha256.Sum256(orig), PackageName: fmt.Sprintf("TBA_12345676_0101_202611_B001_%08d.es3", n),
		Original: orig, Extended: fmt.Appendf(nil, "<es3 extended %d/>", n), ReceiptName: fmt.Sprintf("TBN_%d.es3", n),
		Receipt: fmt.Appendf(nil, "<receipt %d/>", n), Report: fmt.Appendf(nil, `{"report":%d}`, n),
		SubmissionID: fmt.Sprintf("22222222-2222-4222-8222-%012d", n), DeclarantType: "adoszam", DeclarantID: "12345676",
		Fund: "0101", Period: "2026-11", DeclType: "B", Outcome: "valid"}
	return in
}

// runArchive checks the archive's write-once API over the backend with real files.
func runArchive(t *testing.T, open Opener) {
	ctx := context.Background()
	x, done := open(t)
	defer done()
	now := t0
	a, err := archive.New(t.TempDir(), x, archive.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	in := input(1)
	e, err := a.Put(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if e.Index != 0 || e.ID == "" || !e.Archived.Equal(now) || e.PackageSHA256 != in.PackageSHA256 || e.SubmissionID != in.SubmissionID {
		t.Errorf("entry %+v", e)
	}
	if lh, err := archive.LeafHash(e); err != nil || lh != e.LeafHash {
		t.Errorf("the stored leaf hash is not the entry's: %v", err)
	}
	for p, want := range map[archive.Part][]byte{archive.Original: in.Original, archive.Extended: in.Extended, archive.Receipt: in.Receipt, archive.Report: in.Report} {
		got, err := a.Read(ctx, e, p)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("Read %s: %q %v", p, got, err)
		}
	}
	if got, err := a.ByPackage(ctx, in.PackageSHA256); err != nil || !reflect.DeepEqual(got, e) {
		t.Errorf("ByPackage: %+v %v", got, err)
	}
	if got, err := a.FindSubmission(ctx, "adoszam", "12345676", in.SubmissionID); err != nil || got.ID != e.ID {
		t.Errorf("FindSubmission: %+v %v", got, err)
	}
	for name, err := range map[string]error{
		"ByPackage":               errOf(a.ByPackage(ctx, [32]byte{7})),
		"FindSubmission":          errOf(a.FindSubmission(ctx, "adoszam", "12345676", "33333333-3333-4333-8333-333333333333")),
		"FindSubmission(another)": errOf(a.FindSubmission(ctx, "adoszam", "99999999", in.SubmissionID)),
	} {
		if !errors.Is(err, archive.ErrNotFound) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Idempotent: the same content later gives the same entry, nothing new.
	now = now.Add(time.Hour)
	again, err := a.Put(ctx, in)
	if err != nil || !reflect.DeepEqual(again, e) {
		t.Errorf("re-Put: %+v %v", again, err)
	}
	// Other content for the archived package: conflict, whatever differs.
	for name, change := range map[string]func(*archive.Input){
		"extended":    func(i *archive.Input) { i.Extended = []byte("other") },
		"no extended": func(i *archive.Input) { i.Extended = nil },
		"outcome":     func(i *archive.Input) { i.Outcome = "invalid" },
		"codes":       func(i *archive.Input) { i.Codes = []string{"A005"} },
		"report":      func(i *archive.Input) { i.Report = []byte("{}") },
		"name":        func(i *archive.Input) { i.PackageName = "other.es3" },
	} {
		c := input(1)
		change(&c)
		if _, err := a.Put(ctx, c); !errors.Is(err, archive.ErrConflict) {
			t.Errorf("%s changed: %v", name, err)
		}
	}
	if n, _ := x.Size(ctx); n != 1 {
		t.Errorf("size %d after refused Puts", n)
	}
	// Bad input is refused before anything is stored.
	for name, change := range map[string]func(*archive.Input){
		"hash":           func(i *archive.Input) { i.PackageSHA256[0] ^= 1 },
		"no original":    func(i *archive.Input) { i.Original = nil },
		"no receipt":     func(i *archive.Input) { i.Receipt = nil },
		"no report":      func(i *archive.Input) { i.Report = nil },
		"no name":        func(i *archive.Input) { i.PackageName = "" },
		"no outcome":     func(i *archive.Input) { i.Outcome = "" },
		"not UTF-8":      func(i *archive.Input) { i.Fund = "\xff" },
		"too long":       func(i *archive.Input) { i.Period = string(bytes.Repeat([]byte("x"), 5000)) },
		"renews nothing": func(i *archive.Input) { i.Renews = "00000000-0000-4000-8000-000000000000" },
	} {
		c := input(2)
		change(&c)
		if _, err := a.Put(ctx, c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A package that ended invalid: no extended package.
	inv := input(3)
	inv.Extended, inv.Outcome, inv.Codes = nil, "invalid", []string{"A005"}
	ie, err := a.Put(ctx, inv)
	if err != nil || ie.Extended != nil || ie.Index != 1 {
		t.Fatalf("invalid package: %+v %v", ie, err)
	}
	if _, err := a.Read(ctx, ie, archive.Extended); !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("Read of an absent part: %v", err)
	}
	// A renewal is a new entry naming its predecessor; the predecessor is unchanged.
	ren := input(1)
	ren.Extended, ren.Renews = []byte("<es3 extended 1, renewed/>"), e.ID
	re, err := a.Put(ctx, ren)
	if err != nil || re.Renews != e.ID || re.Index != 2 || re.ID == e.ID {
		t.Fatalf("renewal: %+v %v", re, err)
	}
	if got, err := a.ByPackage(ctx, in.PackageSHA256); err != nil || got.ID != re.ID {
		t.Errorf("ByPackage after renewal: %+v %v", got, err)
	}
	if got, err := a.Read(ctx, e, archive.Extended); err != nil || !bytes.Equal(got, in.Extended) {
		t.Errorf("the predecessor's extended package changed: %v", err)
	}
	if vs, err := a.Versions(ctx, in.PackageSHA256); err != nil || len(vs) != 2 || vs[0].ID != e.ID || vs[1].ID != re.ID {
		t.Errorf("Versions: %d %v", len(vs), err)
	}
	if again, err := a.Put(ctx, ren); err != nil || again.ID != re.ID {
		t.Errorf("re-Put of the renewal: %v", err)
	}
	// Re-Put of the first archiving still answers with the first entry.
	if again, err := a.Put(ctx, in); err != nil || again.ID != e.ID {
		t.Errorf("re-Put after a renewal: %+v %v", again, err)
	}
	fork := input(1)
	fork.Extended, fork.Renews = []byte("a fork"), e.ID
	if _, err := a.Put(ctx, fork); !errors.Is(err, archive.ErrConflict) {
		t.Errorf("a second renewal of the same entry: %v", err)
	}
	wrong := input(3)
	wrong.Renews = e.ID
	if _, err := a.Put(ctx, wrong); !errors.Is(err, archive.ErrConflict) {
		t.Errorf("a renewal naming another package's entry: %v", err)
	}
	// Concurrent Puts of one package give one entry.
	var wg sync.WaitGroup
	ids := make(chan string, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if e, err := a.Put(ctx, input(9)); err == nil {
				ids <- e.ID
			} else {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	close(ids)
	first := ""
	for id := range ids {
		if first == "" {
			first = id
		}
		if id != first {
			t.Errorf("concurrent Puts made two entries: %s, %s", first, id)
		}
	}
}
