package merkle

import (
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
)

// The reference definitions of RFC 9162 §2.1, written as directly as the RFC states them, over a
// list of leaf inputs. The Tree under test must agree with them for every size and index.

func refMTH(d [][]byte) Hash {
	n := len(d)
	switch n {
	case 0:
		return EmptyRoot
	case 1:
		return LeafHash(d[0])
	}
	k := int(largestPow2Below(uint64(n)))
	return NodeHash(refMTH(d[:k]), refMTH(d[k:]))
}

func refPath(m int, d [][]byte) []Hash {
	n := len(d)
	if n == 1 {
		return nil
	}
	k := int(largestPow2Below(uint64(n)))
	if m < k {
		return append(refPath(m, d[:k]), refMTH(d[k:]))
	}
	return append(refPath(m-k, d[k:]), refMTH(d[:k]))
}

func refProof(m int, d [][]byte) []Hash { return refSubproof(m, d, true) }

func refSubproof(m int, d [][]byte, b bool) []Hash {
	n := len(d)
	if m == n {
		if b {
			return nil
		}
		return []Hash{refMTH(d)}
	}
	k := int(largestPow2Below(uint64(n)))
	if m <= k {
		return append(refSubproof(m, d[:k], b), refMTH(d[k:]))
	}
	return append(refSubproof(m-k, d[k:], false), refMTH(d[:k]))
}

func leafInputs(n int) [][]byte {
	d := make([][]byte, n)
	for i := range d {
		d[i] = fmt.Appendf(nil, "leaf %d", i)
	}
	return d
}

func treeOf(d [][]byte) *Tree {
	t := &Tree{}
	for _, x := range d {
		t.Append(LeafHash(x))
	}
	return t
}

func h(s string) Hash {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		panic(s)
	}
	return Hash(b)
}

// The RFC 6962 test vectors of the Certificate Transparency reference implementation
// (merkle_tree_test.cc): eight leaf inputs, the root of every prefix, some audit paths and
// consistency proofs. They check the hashing itself, independently of the reference above.
var (
	ctLeaves = []string{"", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"}
	ctRoots  = []string{
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	}
	ctPaths = []struct {
		index, size uint64
		path        []string
	}{
		{0, 1, nil},
		{0, 8, []string{"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
		{5, 8, []string{"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
		{2, 3, []string{"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
		{1, 5, []string{"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
	}
	ctProofs = []struct {
		m, n  uint64
		proof []string
	}{
		{1, 1, nil},
		{1, 8, []string{"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
		{6, 8, []string{"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
		{2, 5, []string{"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
	}
)

func TestVectors(t *testing.T) {
	var d [][]byte
	for _, s := range ctLeaves {
		b, _ := hex.DecodeString(s)
		d = append(d, b)
	}
	tr := treeOf(d)
	if got := (&Tree{}).Root(); got != h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") {
		t.Errorf("empty root %x", got)
	}
	for i, want := range ctRoots {
		got, err := tr.RootAt(uint64(i + 1))
		if err != nil || got != h(want) {
			t.Errorf("root of %d leaves: %x, %v", i+1, got, err)
		}
		if ref := refMTH(d[:i+1]); ref != h(want) {
			t.Errorf("reference root of %d leaves: %x", i+1, ref)
		}
	}
	for _, c := range ctPaths {
		got, err := tr.InclusionProof(c.index, c.size)
		if err != nil || !equalHashes(got, c.path) {
			t.Errorf("path %d/%d: %x, %v", c.index, c.size, got, err)
		}
		root, _ := tr.RootAt(c.size)
		if err := VerifyInclusion(c.index, c.size, LeafHash(d[c.index]), got, root); err != nil {
			t.Errorf("path %d/%d does not verify: %v", c.index, c.size, err)
		}
	}
	for _, c := range ctProofs {
		got, err := tr.ConsistencyProof(c.m, c.n)
		if err != nil || !equalHashes(got, c.proof) {
			t.Errorf("proof %d→%d: %x, %v", c.m, c.n, got, err)
		}
		r1, _ := tr.RootAt(c.m)
		r2, _ := tr.RootAt(c.n)
		if err := VerifyConsistency(c.m, c.n, r1, r2, got); err != nil {
			t.Errorf("proof %d→%d does not verify: %v", c.m, c.n, err)
		}
	}
}

func equalHashes(got []Hash, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != h(want[i]) {
			return false
		}
	}
	return true
}

// sizes are the tree sizes the table tests cover: every size up to 70 (all shapes of the first
// levels) and some around larger powers of two.
func sizes() []int {
	var s []int
	for n := 1; n <= 70; n++ {
		s = append(s, n)
	}
	return append(s, 127, 128, 129, 255, 256, 257)
}

// TestAgainstReference: roots, inclusion paths and consistency proofs equal the RFC's definitions
// for every size, index and prefix, and each verifies with the RFC's verification algorithms.
func TestAgainstReference(t *testing.T) {
	big := leafInputs(257)
	tr := treeOf(big)
	for _, n := range sizes() {
		d := big[:n]
		root := refMTH(d)
		if got, err := tr.RootAt(uint64(n)); err != nil || got != root {
			t.Fatalf("root of %d: %v", n, err)
		}
		if got := treeOf(d).Root(); got != root {
			t.Fatalf("root of a tree of %d built alone", n)
		}
		for m := range n {
			path, err := tr.InclusionProof(uint64(m), uint64(n))
			if err != nil || !sameHashes(path, refPath(m, d)) {
				t.Fatalf("path %d/%d differs from the RFC's PATH: %v", m, n, err)
			}
			if err := VerifyInclusion(uint64(m), uint64(n), LeafHash(d[m]), path, root); err != nil {
				t.Fatalf("path %d/%d: %v", m, n, err)
			}
		}
		for m := 1; m <= n; m++ {
			proof, err := tr.ConsistencyProof(uint64(m), uint64(n))
			if err != nil || !sameHashes(proof, refProof(m, d)) {
				t.Fatalf("proof %d→%d differs from the RFC's PROOF: %v", m, n, err)
			}
			if err := VerifyConsistency(uint64(m), uint64(n), refMTH(d[:m]), root, proof); err != nil {
				t.Fatalf("proof %d→%d: %v", m, n, err)
			}
		}
	}
}

func sameHashes(a, b []Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// mutations returns changed copies of a proof: each element with one bit flipped, the last element
// dropped, an element added, two neighbours swapped.
func mutations(p []Hash) map[string][]Hash {
	out := map[string][]Hash{}
	for i := range p {
		c := append([]Hash(nil), p...)
		c[i][i%32] ^= 0x40
		out[fmt.Sprintf("flip %d", i)] = c
	}
	if len(p) > 0 {
		out["truncated"] = append([]Hash(nil), p[:len(p)-1]...)
	}
	out["extended"] = append(append([]Hash(nil), p...), LeafHash([]byte("extra")))
	if len(p) > 1 && p[0] != p[1] {
		c := append([]Hash(nil), p...)
		c[0], c[1] = c[1], c[0]
		out["swapped"] = c
	}
	return out
}

// TestInclusionTampered: every modified inclusion proof, or a right proof for another leaf, index
// or root, fails.
func TestInclusionTampered(t *testing.T) {
	big := leafInputs(70)
	tr := treeOf(big)
	for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33, 70} {
		root, _ := tr.RootAt(uint64(n))
		for m := range n {
			path, _ := tr.InclusionProof(uint64(m), uint64(n))
			leaf := LeafHash(big[m])
			for name, p := range mutations(path) {
				if err := VerifyInclusion(uint64(m), uint64(n), leaf, p, root); !errors.Is(err, ErrProof) {
					t.Errorf("%d/%d %s: %v", m, n, name, err)
				}
			}
			if err := VerifyInclusion(uint64(m), uint64(n), LeafHash([]byte("other")), path, root); !errors.Is(err, ErrProof) {
				t.Errorf("%d/%d other leaf: %v", m, n, err)
			}
			wrongRoot := root
			wrongRoot[0] ^= 1
			if err := VerifyInclusion(uint64(m), uint64(n), leaf, path, wrongRoot); !errors.Is(err, ErrProof) {
				t.Errorf("%d/%d other root: %v", m, n, err)
			}
			for j := range n {
				if j != m {
					if err := VerifyInclusion(uint64(j), uint64(n), leaf, path, root); err == nil {
						t.Errorf("the path of %d/%d verifies as leaf %d", m, n, j)
					}
				}
			}
			if err := VerifyInclusion(uint64(n), uint64(n), leaf, path, root); !errors.Is(err, ErrRange) {
				t.Errorf("index = size: %v", err)
			}
		}
	}
	if _, err := tr.InclusionProof(5, 5); !errors.Is(err, ErrRange) {
		t.Errorf("proof of index 5 in 5: %v", err)
	}
	if _, err := tr.InclusionProof(0, 71); !errors.Is(err, ErrRange) {
		t.Errorf("proof in a tree larger than held: %v", err)
	}
}

// TestConsistencyTampered: every modified consistency proof, or a right proof with another root,
// fails; the special cases (equal sizes, the empty tree) behave as documented.
func TestConsistencyTampered(t *testing.T) {
	big := leafInputs(70)
	tr := treeOf(big)
	for _, n := range []int{2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33, 70} {
		r2, _ := tr.RootAt(uint64(n))
		for m := 1; m < n; m++ {
			r1, _ := tr.RootAt(uint64(m))
			proof, _ := tr.ConsistencyProof(uint64(m), uint64(n))
			for name, p := range mutations(proof) {
				if err := VerifyConsistency(uint64(m), uint64(n), r1, r2, p); !errors.Is(err, ErrProof) {
					t.Errorf("%d→%d %s: %v", m, n, name, err)
				}
			}
			bad1, bad2 := r1, r2
			bad1[31] ^= 1
			bad2[31] ^= 1
			if err := VerifyConsistency(uint64(m), uint64(n), bad1, r2, proof); !errors.Is(err, ErrProof) {
				t.Errorf("%d→%d other first root: %v", m, n, err)
			}
			if err := VerifyConsistency(uint64(m), uint64(n), r1, bad2, proof); !errors.Is(err, ErrProof) {
				t.Errorf("%d→%d other second root: %v", m, n, err)
			}
			// A tree that is not an extension: leaf m-1 changed.
			d := append([][]byte(nil), big[:n]...)
			d[m-1] = []byte("rewritten")
			forked := treeOf(d)
			if err := VerifyConsistency(uint64(m), uint64(n), r1, forked.Root(), proof); !errors.Is(err, ErrProof) {
				t.Errorf("%d→%d a rewritten history: %v", m, n, err)
			}
			if fp, _ := forked.ConsistencyProof(uint64(m), uint64(n)); VerifyConsistency(uint64(m), uint64(n), r1, forked.Root(), fp) == nil {
				t.Errorf("%d→%d the rewritten tree's own proof verifies against the old root", m, n)
			}
		}
		if err := VerifyConsistency(uint64(n), uint64(n), r2, r2, nil); err != nil {
			t.Errorf("equal sizes: %v", err)
		}
		if err := VerifyConsistency(uint64(n), uint64(n), r2, EmptyRoot, nil); !errors.Is(err, ErrProof) {
			t.Errorf("equal sizes, two roots: %v", err)
		}
		if err := VerifyConsistency(uint64(n), uint64(n), r2, r2, []Hash{r2}); !errors.Is(err, ErrProof) {
			t.Errorf("equal sizes, a proof: %v", err)
		}
		if err := VerifyConsistency(0, uint64(n), EmptyRoot, r2, nil); err != nil {
			t.Errorf("from the empty tree: %v", err)
		}
		if err := VerifyConsistency(uint64(n), uint64(n-1), r2, r2, nil); !errors.Is(err, ErrRange) {
			t.Errorf("shrinking: %v", err)
		}
	}
	if err := VerifyConsistency(1, 2, LeafHash(big[0]), treeOf(big[:2]).Root(), nil); !errors.Is(err, ErrProof) {
		t.Errorf("empty proof 1→2: %v", err)
	}
	if _, err := tr.ConsistencyProof(3, 2); !errors.Is(err, ErrRange) {
		t.Errorf("proof 3→2: %v", err)
	}
}

func BenchmarkAppendRoot(b *testing.B) {
	leaf := LeafHash([]byte("x"))
	for b.Loop() {
		var t Tree
		for range 100000 {
			t.Append(leaf)
		}
		_ = t.Root()
	}
}
