package archive_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/tagdij/tagdij/archive"
	"github.com/tagdij/tagdij/archive/archivetest"
)

// FuzzDecodeSignedHead: the stored tree-head decoder never panics, refuses with ErrMalformed, and
// accepts only canonical encodings (re-encoding what it accepted gives the same bytes).
func FuzzDecodeSignedHead(f *testing.F) {
	h := &archive.SignedHead{TreeHead: archive.TreeHead{Seq: 3, Size: 17, Root: [32]byte{1, 2}, Time: time.Unix(0, 1780000000123456789).UTC(), Prev: [32]byte{9}},
		Algorithm: archive.AlgECDSASHA256, Signature: []byte("signature"), Certificates: [][]byte{[]byte("cert"), []byte("ca")},
		TimeStamp: []byte("token"), Consistency: [][32]byte{{4}, {5}}}
	f.Add(h.Encode())
	f.Add((&archive.SignedHead{}).Encode())
	f.Add([]byte{})
	f.Add(h.Encode()[:50])
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := archive.DecodeSignedHead(b)
		if err != nil {
			if !errors.Is(err, archive.ErrMalformed) {
				t.Fatalf("error not ErrMalformed: %v", err)
			}
			return
		}
		if !bytes.Equal(s.Encode(), b) {
			t.Fatalf("accepted a non-canonical encoding")
		}
		if _, err := archive.DecodeSignedHead(s.Encode()); err != nil {
			t.Fatalf("its own encoding refused: %v", err)
		}
	})
}

// FuzzDecodeLeaf: the leaf-record decoder never panics, refuses with ErrMalformed, and accepts
// only canonical encodings: EncodeLeaf(DecodeLeaf(b)) == b.
func FuzzDecodeLeaf(f *testing.F) {
	for _, n := range []int{1, 2} {
		enc, err := archive.EncodeLeaf(archivetest.Sample(n, ""))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc)
		f.Add(enc[:len(enc)-3])
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := archive.DecodeLeaf(b)
		if err != nil {
			if !errors.Is(err, archive.ErrMalformed) {
				t.Fatalf("error not ErrMalformed: %v", err)
			}
			return
		}
		enc, err := archive.EncodeLeaf(e)
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("not canonical: %v", err)
		}
	})
}
