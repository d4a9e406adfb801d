// Package merkle is the Merkle tree of RFC 9162 §2.1 (the Certificate Transparency tree of RFC
// 6962) with SHA-256: leaf hash SHA-256(0x00 || data), node hash SHA-256(0x01 || left || right),
// the tree of n leaves split at the largest power of two below n. It builds trees incrementally,
// produces inclusion proofs (§2.1.3.1) and consistency proofs (§2.1.4.1), and verifies them with
// the algorithms of §2.1.3.2 and §2.1.4.2. The archive's tamper evidence rests on it.
package merkle

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/bits"
)

// Hash is a SHA-256 value.
type Hash = [32]byte

// EmptyRoot is the root of the empty tree, SHA-256 of the empty string (RFC 9162 §2.1.1).
var EmptyRoot = Hash(sha256.Sum256(nil))

// LeafHash is SHA-256(0x00 || data).
func LeafHash(data []byte) Hash {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(data)
	var out Hash
	h.Sum(out[:0])
	return out
}

// NodeHash is SHA-256(0x01 || left || right).
func NodeHash(left, right Hash) Hash {
	var buf [65]byte
	buf[0] = 1
	copy(buf[1:33], left[:])
	copy(buf[33:], right[:])
	return sha256.Sum256(buf[:])
}

// Errors of proof generation and verification.
var (
	// ErrRange: an index or size outside the tree or the proof's parameters.
	ErrRange = errors.New("merkle: index or size out of range")
	// ErrProof: the proof does not prove what it is checked for.
	ErrProof = errors.New("merkle: proof does not verify")
)

// Tree is an append-only Merkle tree over leaf hashes. It keeps every complete (perfect, aligned)
// subtree's hash, 2n hashes for n leaves, so that the root of any prefix and any proof costs
// O(log² n). The zero value is an empty tree. A Tree is not safe for concurrent use.
type Tree struct {
	// levels[0] are the leaf hashes; levels[l][i] is the hash of leaves [i·2^l, (i+1)·2^l).
	levels [][]Hash
}

// NewTree returns the tree of the given leaf hashes.
func NewTree(leaves []Hash) *Tree {
	t := &Tree{}
	for _, l := range leaves {
		t.Append(l)
	}
	return t
}

// Size is the number of leaves.
func (t *Tree) Size() uint64 {
	if len(t.levels) == 0 {
		return 0
	}
	return uint64(len(t.levels[0]))
}

// Append adds a leaf hash (already SHA-256(0x00 || data)) as the next leaf.
func (t *Tree) Append(leaf Hash) {
	if len(t.levels) == 0 {
		t.levels = append(t.levels, nil)
	}
	t.levels[0] = append(t.levels[0], leaf)
	i := len(t.levels[0]) - 1
	for l := 0; i%2 == 1; l++ {
		if len(t.levels) == l+1 {
			t.levels = append(t.levels, nil)
		}
		t.levels[l+1] = append(t.levels[l+1], NodeHash(t.levels[l][i-1], t.levels[l][i]))
		i /= 2
	}
}

// Leaf returns leaf hash i.
func (t *Tree) Leaf(i uint64) (Hash, error) {
	if i >= t.Size() {
		return Hash{}, fmt.Errorf("%w: leaf %d of %d", ErrRange, i, t.Size())
	}
	return t.levels[0][i], nil
}

// Root is the root of the whole tree (EmptyRoot when it is empty).
func (t *Tree) Root() Hash {
	r, _ := t.RootAt(t.Size())
	return r
}

// RootAt is the root of the tree of the first n leaves, MTH(D[0:n]).
func (t *Tree) RootAt(n uint64) (Hash, error) {
	if n > t.Size() {
		return Hash{}, fmt.Errorf("%w: size %d of %d", ErrRange, n, t.Size())
	}
	if n == 0 {
		return EmptyRoot, nil
	}
	return t.mth(0, n), nil
}

// mth is MTH(D[a:b]) for 0 ≤ a < b ≤ Size.
func (t *Tree) mth(a, b uint64) Hash {
	n := b - a
	if n&(n-1) == 0 && a%n == 0 {
		// A complete subtree: stored.
		return t.levels[bits.TrailingZeros64(n)][a/n]
	}
	k := largestPow2Below(n)
	return NodeHash(t.mth(a, a+k), t.mth(a+k, b))
}

// largestPow2Below is the largest power of two k with k < n, for n ≥ 2.
func largestPow2Below(n uint64) uint64 {
	return 1 << (bits.Len64(n-1) - 1)
}

// InclusionProof is PATH(index, D[0:size]) of RFC 9162 §2.1.3.1: the audit path proving that leaf
// index is in the tree of the first size leaves.
func (t *Tree) InclusionProof(index, size uint64) ([]Hash, error) {
	if size > t.Size() || index >= size {
		return nil, fmt.Errorf("%w: leaf %d in a tree of %d (of %d)", ErrRange, index, size, t.Size())
	}
	return t.path(index, 0, size), nil
}

// path is PATH(m, D[a:b]), leaves ordered from the bottom of the tree up.
func (t *Tree) path(m, a, b uint64) []Hash {
	n := b - a
	if n == 1 {
		return nil
	}
	k := largestPow2Below(n)
	if m < k {
		return append(t.path(m, a, a+k), t.mth(a+k, b))
	}
	return append(t.path(m-k, a+k, b), t.mth(a, a+k))
}

// ConsistencyProof is PROOF(m, D[0:n]) of RFC 9162 §2.1.4.1: proof that the tree of the first m
// leaves is a prefix of the tree of the first n. For m == n and for m == 0 the proof is empty.
func (t *Tree) ConsistencyProof(m, n uint64) ([]Hash, error) {
	if n > t.Size() || m > n {
		return nil, fmt.Errorf("%w: consistency of %d with %d (of %d)", ErrRange, m, n, t.Size())
	}
	if m == 0 || m == n {
		return nil, nil
	}
	return t.subproof(m, 0, n, true), nil
}

// subproof is SUBPROOF(m, D[a:b], start).
func (t *Tree) subproof(m, a, b uint64, start bool) []Hash {
	n := b - a
	if m == n {
		if start {
			return nil
		}
		return []Hash{t.mth(a, b)}
	}
	k := largestPow2Below(n)
	if m <= k {
		return append(t.subproof(m, a, a+k, start), t.mth(a+k, b))
	}
	return append(t.subproof(m-k, a+k, b, false), t.mth(a, a+k))
}

// VerifyInclusion checks an inclusion proof with the algorithm of RFC 9162 §2.1.3.2: that leaf is
// leaf index of the tree of size leaves whose root is root. It returns nil or an error wrapping
// ErrProof (ErrRange for index ≥ size).
func VerifyInclusion(index, size uint64, leaf Hash, proof []Hash, root Hash) error {
	if index >= size {
		return fmt.Errorf("%w: leaf %d in a tree of %d", ErrRange, index, size)
	}
	fn, sn := index, size-1
	r := leaf
	for _, p := range proof {
		if sn == 0 {
			return fmt.Errorf("%w: inclusion path longer than the tree is deep", ErrProof)
		}
		if fn&1 == 1 || fn == sn {
			r = NodeHash(p, r)
			if fn&1 == 0 {
				for fn&1 == 0 && fn != 0 {
					fn >>= 1
					sn >>= 1
				}
			}
		} else {
			r = NodeHash(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 {
		return fmt.Errorf("%w: inclusion path too short", ErrProof)
	}
	if r != root {
		return fmt.Errorf("%w: inclusion path leads to another root", ErrProof)
	}
	return nil
}

// VerifyConsistency checks a consistency proof with the algorithm of RFC 9162 §2.1.4.2: that the
// tree of size first with root firstRoot is a prefix of the tree of size second with root
// secondRoot. Two cases the RFC's algorithm leaves to its caller are decided here: equal sizes
// need an empty proof and equal roots; first == 0 (the empty tree is a prefix of every tree) needs
// an empty proof.
func VerifyConsistency(first, second uint64, firstRoot, secondRoot Hash, proof []Hash) error {
	switch {
	case first > second:
		return fmt.Errorf("%w: consistency of %d with the smaller %d", ErrRange, first, second)
	case first == second:
		if len(proof) != 0 {
			return fmt.Errorf("%w: a proof between equal sizes must be empty", ErrProof)
		}
		if firstRoot != secondRoot {
			return fmt.Errorf("%w: two roots for one size", ErrProof)
		}
		return nil
	case first == 0:
		if len(proof) != 0 {
			return fmt.Errorf("%w: a proof from the empty tree must be empty", ErrProof)
		}
		return nil
	case len(proof) == 0:
		return fmt.Errorf("%w: empty consistency proof", ErrProof)
	}
	path := proof
	if first&(first-1) == 0 {
		path = append([]Hash{firstRoot}, proof...)
	}
	fn, sn := first-1, second-1
	for fn&1 == 1 {
		fn >>= 1
		sn >>= 1
	}
	fr, sr := path[0], path[0]
	for _, c := range path[1:] {
		if sn == 0 {
			return fmt.Errorf("%w: consistency proof too long", ErrProof)
		}
		if fn&1 == 1 || fn == sn {
			fr = NodeHash(c, fr)
			sr = NodeHash(c, sr)
			if fn&1 == 0 {
				for fn&1 == 0 && fn != 0 {
					fn >>= 1
					sn >>= 1
				}
			}
		} else {
			sr = NodeHash(sr, c)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 {
		return fmt.Errorf("%w: consistency proof too short", ErrProof)
	}
	if fr != firstRoot {
		return fmt.Errorf("%w: the proof does not lead to the first root", ErrProof)
	}
	if sr != secondRoot {
		return fmt.Errorf("%w: the proof does not lead to the second root", ErrProof)
	}
	return nil
}
