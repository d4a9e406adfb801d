package archive

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// leafMagic opens every canonical leaf encoding: a domain separator, so that no other hashed
// structure of Tagdíj (tree heads, packages) can be mistaken for a leaf, and a version.
const leafMagic = "tagdij-archive-leaf-v1"

// Limits of the metadata an entry carries (hostile-input rule: every string is bounded).
const (
	maxField = 1024 // bytes of one metadata string
	maxCodes = 256  // finding codes of one entry
)

// EncodeLeaf returns the canonical leaf encoding of e: the bytes whose hash, SHA-256(0x00 ||
// encoding), is e's leaf in the Merkle tree. It covers every field of the entry except Index (the
// leaf's position is bound by the tree itself) and LeafHash (its result). The layout, all integers
// big-endian, every string as a uint32 length and its UTF-8 bytes:
//
//	string  "tagdij-archive-leaf-v1"
//	string  ID
//	int64   Archived, Unix nanoseconds (UTC)
//	string  Renews
//	[32]    PackageSHA256
//	string  PackageName, ReceiptName, SubmissionID, DeclarantType, DeclarantID, Fund, Period, DeclType, Outcome
//	uint32  number of codes, then each code as a string
//	4 ×     part in the order original, extended, receipt, report:
//	        uint8 0 (absent) or 1 (present), and when present [32] SHA-256 and uint64 size
//
// It refuses entries whose strings are not UTF-8 or exceed the limits.
func EncodeLeaf(e *Entry) ([]byte, error) {
	if e == nil {
		return nil, errors.New("archive: nil entry")
	}
	b := make([]byte, 0, 512)
	var err error
	str := func(s string) {
		if err != nil {
			return
		}
		if len(s) > maxField || !utf8.ValidString(s) {
			err = fmt.Errorf("archive: a metaadat túl hosszú vagy nem UTF-8 / metadata field too long or not UTF-8: %.40q", s)
			return
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	str(leafMagic)
	str(e.ID)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Archived.UnixNano()))
	str(e.Renews)
	b = append(b, e.PackageSHA256[:]...)
	for _, s := range []string{e.PackageName, e.ReceiptName, e.SubmissionID, e.DeclarantType, e.DeclarantID, e.Fund, e.Period, e.DeclType, e.Outcome} {
		str(s)
	}
	if len(e.Codes) > maxCodes {
		return nil, fmt.Errorf("archive: túl sok hibakód / too many codes: %d", len(e.Codes))
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(e.Codes)))
	for _, c := range e.Codes {
		str(c)
	}
	for _, p := range Parts {
		r, ok := e.Part(p)
		if !ok {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		b = append(b, r.SHA256[:]...)
		b = binary.BigEndian.AppendUint64(b, uint64(r.Size))
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// LeafHash is the RFC 9162 leaf hash of e: SHA-256(0x00 || EncodeLeaf(e)).
func LeafHash(e *Entry) ([32]byte, error) {
	enc, err := EncodeLeaf(e)
	if err != nil {
		return [32]byte{}, err
	}
	return hashLeafBytes(enc), nil
}

func hashLeafBytes(enc []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(enc)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// normalizeTime is the archive's one representation of an instant: UTC with nanosecond
// precision and no monotonic reading, so that a time read back from a store encodes identically.
func normalizeTime(t time.Time) time.Time { return time.Unix(0, t.UnixNano()).UTC() }

// maxLeafBytes bounds a leaf encoding: the strings and codes at their limits and the parts.
const maxLeafBytes = (4+maxField)*(13+maxCodes) + 4 + 32 + 8 + 4*41

// DecodeLeaf parses a canonical leaf encoding (EncodeLeaf) back into an entry (Index and LeafHash
// zero). It accepts exactly the encodings EncodeLeaf produces: EncodeLeaf(DecodeLeaf(b)) == b for
// every b it accepts; anything else is an error wrapping ErrMalformed.
func DecodeLeaf(b []byte) (*Entry, error) {
	if len(b) > maxLeafBytes {
		return nil, fmt.Errorf("%w: leaf of %d bytes", ErrMalformed, len(b))
	}
	r := &reader{b: b}
	if m := r.str("magic"); r.err == nil && m != leafMagic {
		return nil, fmt.Errorf("%w: not a leaf encoding", ErrMalformed)
	}
	e := &Entry{ID: r.str("id")}
	e.Archived = time.Unix(0, int64(r.u64("archived"))).UTC()
	e.Renews = r.str("renews")
	e.PackageSHA256 = r.hash("package hash")
	for _, p := range []*string{&e.PackageName, &e.ReceiptName, &e.SubmissionID, &e.DeclarantType, &e.DeclarantID, &e.Fund, &e.Period, &e.DeclType, &e.Outcome} {
		*p = r.str("metadata")
	}
	n := r.u32("codes")
	if r.err == nil && n > maxCodes {
		r.fail("%d codes", n)
	}
	for i := uint32(0); i < n && r.err == nil; i++ {
		e.Codes = append(e.Codes, r.str("code"))
	}
	for _, ref := range []**PartRef{&e.Original, &e.Extended, &e.Receipt, &e.Report} {
		switch r.u8("part flag") {
		case 0:
		case 1:
			p := &PartRef{SHA256: r.hash("part hash")}
			size := r.u64("part size")
			if size > 1<<62 {
				r.fail("part size %d", size)
			}
			p.Size = int64(size)
			*ref = p
		default:
			r.fail("part flag not 0 or 1")
		}
	}
	r.end("leaf")
	if r.err != nil {
		return nil, r.err
	}
	return e, nil
}
