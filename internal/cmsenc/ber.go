package cmsenc

import (
	"encoding/asn1"
	"errors"
	"math/big"
)

// A minimal BER reader for the outer layers of CMS. encoding/asn1 reads DER only, but CMS producers
// that stream (OpenSSL with -stream, Bouncy Castle) write indefinite lengths and chunked, constructed
// OCTET STRINGs for the encrypted content. Every read is bounded: lengths are checked against the
// bytes present, nesting is limited, and nothing is copied (elements are sub-slices of the input).

const maxDepth = 32

var errBER = errors.New("bad BER encoding")

// BER classes and the universal tags used here.
const (
	classUniversal = 0
	classContext   = 2

	tagInteger     = 2
	tagOctetString = 4
	tagNull        = 5
	tagOID         = 6
	tagSequence    = 16
	tagSet         = 17
)

// elem is one decoded TLV. body is the content octets (for an indefinite length, everything before
// the end-of-contents marker); raw is the whole encoding.
type elem struct {
	class       int
	tag         int
	constructed bool
	indefinite  bool
	body        []byte
	raw         []byte
}

func (e elem) is(class, tag int) bool { return e.class == class && e.tag == tag }

// readElem decodes the element at the start of b and returns it with the bytes after it.
func readElem(b []byte, depth int) (elem, []byte, error) {
	if depth > maxDepth {
		return elem{}, nil, errBER
	}
	if len(b) < 2 {
		return elem{}, nil, errBER
	}
	var e elem
	e.class = int(b[0] >> 6)
	e.constructed = b[0]&0x20 != 0
	e.tag = int(b[0] & 0x1f)
	i := 1
	if e.tag == 0x1f { // high tag number form
		e.tag = 0
		for {
			if i >= len(b) || i > 4 {
				return elem{}, nil, errBER
			}
			c := b[i]
			i++
			e.tag = e.tag<<7 | int(c&0x7f)
			if c&0x80 == 0 {
				break
			}
		}
		if e.tag < 0x1f {
			return elem{}, nil, errBER
		}
	}
	if i >= len(b) {
		return elem{}, nil, errBER
	}
	l := b[i]
	i++
	switch {
	case l < 0x80:
		return finish(e, b, i, int(l))
	case l == 0x80:
		if !e.constructed {
			return elem{}, nil, errBER
		}
		e.indefinite = true
		rest := b[i:]
		for {
			if len(rest) >= 2 && rest[0] == 0 && rest[1] == 0 {
				end := len(b) - len(rest)
				e.body = b[i:end]
				e.raw = b[:end+2]
				return e, rest[2:], nil
			}
			var err error
			if _, rest, err = readElem(rest, depth+1); err != nil {
				return elem{}, nil, err
			}
		}
	default:
		n := int(l & 0x7f)
		if n > 4 || i+n > len(b) { // 4 length octets: far beyond any size handled here
			return elem{}, nil, errBER
		}
		length := 0
		for _, c := range b[i : i+n] {
			length = length<<8 | int(c)
		}
		if length < 0 {
			return elem{}, nil, errBER
		}
		return finish(e, b, i+n, length)
	}
}

func finish(e elem, b []byte, start, length int) (elem, []byte, error) {
	if length > len(b)-start {
		return elem{}, nil, errBER
	}
	e.body = b[start : start+length]
	e.raw = b[:start+length]
	return e, b[start+length:], nil
}

// seq iterates over the children of a constructed element.
type seq struct {
	rest  []byte
	depth int
}

func children(e elem, depth int) (*seq, error) {
	if !e.constructed {
		return nil, errBER
	}
	return &seq{rest: e.body, depth: depth + 1}, nil
}

func (s *seq) more() bool { return len(s.rest) > 0 }

func (s *seq) next() (elem, error) {
	if len(s.rest) == 0 {
		return elem{}, errBER
	}
	e, rest, err := readElem(s.rest, s.depth)
	if err != nil {
		return elem{}, err
	}
	s.rest = rest
	return e, nil
}

// peek reports the class and tag of the next child without consuming it.
func (s *seq) peek() (class, tag int, ok bool) {
	if len(s.rest) == 0 {
		return 0, 0, false
	}
	e, _, err := readElem(s.rest, s.depth)
	if err != nil {
		return 0, 0, false
	}
	return e.class, e.tag, true
}

// expect reads the next child and checks its class and tag.
func (s *seq) expect(class, tag int) (elem, error) {
	e, err := s.next()
	if err != nil {
		return elem{}, err
	}
	if !e.is(class, tag) {
		return elem{}, errBER
	}
	return e, nil
}

func parseOID(e elem) (asn1.ObjectIdentifier, error) {
	if !e.is(classUniversal, tagOID) || e.constructed {
		return nil, errBER
	}
	var oid asn1.ObjectIdentifier
	if rest, err := asn1.Unmarshal(e.raw, &oid); err != nil || len(rest) != 0 {
		return nil, errBER
	}
	return oid, nil
}

func parseSmallInt(e elem) (int, error) {
	if !e.is(classUniversal, tagInteger) || e.constructed || len(e.body) == 0 || len(e.body) > 2 {
		return 0, errBER
	}
	var v int
	if rest, err := asn1.Unmarshal(e.raw, &v); err != nil || len(rest) != 0 {
		return 0, errBER
	}
	return v, nil
}

func parseBigInt(e elem) (*big.Int, error) {
	if !e.is(classUniversal, tagInteger) || e.constructed {
		return nil, errBER
	}
	v := new(big.Int)
	if rest, err := asn1.Unmarshal(e.raw, &v); err != nil || len(rest) != 0 {
		return nil, errBER
	}
	return v, nil
}

// octetsLen is the total length of an OCTET STRING's value, primitive or constructed (chunked).
func octetsLen(e elem, depth int) (int, error) {
	if !e.constructed {
		return len(e.body), nil
	}
	if depth > maxDepth {
		return 0, errBER
	}
	s, err := children(e, depth)
	if err != nil {
		return 0, err
	}
	total := 0
	for s.more() {
		c, err := s.next()
		if err != nil {
			return 0, err
		}
		if !c.is(classUniversal, tagOctetString) {
			return 0, errBER
		}
		n, err := octetsLen(c, depth+1)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// appendOctets appends an OCTET STRING's value to dst (which the caller sized with octetsLen).
func appendOctets(dst []byte, e elem, depth int) ([]byte, error) {
	if !e.constructed {
		return append(dst, e.body...), nil
	}
	s, err := children(e, depth)
	if err != nil {
		return nil, err
	}
	for s.more() {
		c, err := s.next()
		if err != nil {
			return nil, err
		}
		if dst, err = appendOctets(dst, c, depth+1); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

// octets returns an OCTET STRING's value: the input's own bytes when primitive (no copy), a new
// slice when constructed.
func octets(e elem, depth int) ([]byte, error) {
	if !e.constructed {
		return e.body, nil
	}
	n, err := octetsLen(e, depth)
	if err != nil {
		return nil, err
	}
	return appendOctets(make([]byte, 0, n), e, depth)
}

// DER writing helpers for Encrypt, which lays the whole structure out in one allocation.

func lenOfTL(n int) int {
	switch {
	case n < 0x80:
		return 2
	case n < 0x100:
		return 3
	case n < 0x10000:
		return 4
	case n < 0x1000000:
		return 5
	default:
		return 6
	}
}

func appendTL(dst []byte, tag byte, n int) []byte {
	dst = append(dst, tag)
	switch {
	case n < 0x80:
		return append(dst, byte(n))
	case n < 0x100:
		return append(dst, 0x81, byte(n))
	case n < 0x10000:
		return append(dst, 0x82, byte(n>>8), byte(n))
	case n < 0x1000000:
		return append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		return append(dst, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}
