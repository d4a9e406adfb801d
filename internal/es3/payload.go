package es3

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/libxml"
)

// Payload decodes the base64 content of document i's ds:Object: the bytes the last BaseTransform
// (base64) encoded, that is the CMS EnvelopedData of an encrypted document or the source of a plain one.
// Whitespace between base64 characters is allowed; anything else that is not strict, padded base64
// (characters outside the alphabet, misplaced padding, non-zero pad bits, a truncated quantum, a
// processing instruction inside the object) is T005; more than ParseOptions.MaxPayloadBytes decoded
// bytes is T003; an empty payload is F011.
//
// The object is read from its canonical form, streamed in chunks, so the base64 text is never copied
// out of libxml2 whole; the only large allocation is the result.
func (d *Dossier) Payload(i int) ([]byte, error) {
	var buf bytes.Buffer
	if len(d.Documents) == 1 {
		// The payload is nearly the whole input: ¾ of its size bounds the decoded bytes, so one
		// allocation suffices.
		buf.Grow(int(min(int64(d.inputSize)/4*3+3, d.maxPayload)))
	}
	if err := d.PayloadTo(i, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// PayloadTo is Payload writing the decoded bytes to w as they are decoded. On error w may have received
// part of the payload.
func (d *Dossier) PayloadTo(i int, w io.Writer) error {
	if i < 0 || i >= len(d.Documents) {
		return fmt.Errorf("es3: payload: no document %d (dossier has %d)", i, len(d.Documents))
	}
	doc := &d.Documents[i]
	if n := len(doc.Transforms); n > 0 && doc.Transforms[n-1] != TransformBase64 {
		return refuse(errcode.F007, where(doc.Profile),
			fmt.Sprintf("az utolsó átalakítás %q, nem base64", doc.Transforms[n-1]),
			fmt.Sprintf("the last transform is %q, not base64", doc.Transforms[n-1]))
	}
	s := &b64Sink{out: w, max: d.maxPayload}
	err := d.doc.CanonicalizeTo(s, doc.Object, libxml.C14N{Method: libxml.ExcC14N10})
	if err == nil {
		err = s.finish()
	}
	if err != nil {
		var perr *payloadError
		if errors.As(err, &perr) {
			return &Error{Finding: bilingual(perr.code, where(doc.Object), perr.hu, perr.en), Err: err}
		}
		return &Error{Finding: bilingual(errcode.T005, where(doc.Object), err.Error(), err.Error()), Err: err}
	}
	if s.written == 0 {
		return refuse(errcode.F011, where(doc.Object), "üres ds:Object", "empty ds:Object")
	}
	return nil
}

type payloadError struct {
	code   errcode.Code
	hu, en string
}

func (e *payloadError) Error() string { return "es3: payload: " + e.en }

var errBadBase64 = &payloadError{errcode.T005, "érvénytelen base64 tartalom", "invalid base64 content"}

// b64Sink receives the exclusive canonical form of a ds:Object, <ds:Object …>text</ds:Object>, and
// decodes the text as strict base64. The start tag is skipped with attention to quoted values (a '>' may
// stand unescaped in a canonical attribute value); in the text, canonicalization escapes &, <, > and CR,
// so an '&' can only start an escape, never base64, and a '<' is either the end tag or a processing
// instruction, which is refused. Comments are not in the canonical form chosen.
type b64Sink struct {
	out     io.Writer
	max     int64
	written int64

	state  int  // 0 start tag, 1 text, 2 after '<' in text, 3 end tag (ignore the rest)
	quoted bool // inside an attribute value of the start tag
	padded bool // a quantum with '=' has been decoded: nothing but whitespace may follow
	chars  []byte
	n      int // base64 characters waiting in chars
	dec    []byte
}

const (
	sinkChunk = 64 << 10 // base64 characters decoded at a time; a multiple of 4
	sinkFirst = 4 << 10  // the first buffer, doubled up to sinkChunk; a multiple of 4
)

// Character classes of the text of a payload object.
const (
	clsOther = iota
	clsB64
	clsSpace
	clsLT
)

var b64Class = func() (t [256]uint8) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = clsB64
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = clsB64
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = clsB64
	}
	t['+'], t['/'], t['='] = clsB64, clsB64, clsB64
	t[' '], t['\t'], t['\n'] = clsSpace, clsSpace, clsSpace
	t['<'] = clsLT
	return t
}()

func (s *b64Sink) Write(p []byte) (int, error) {
	if s.chars == nil {
		s.chars = make([]byte, sinkFirst)
	}
	for i := 0; i < len(p); i++ {
		switch s.state {
		case 0:
			switch c := p[i]; {
			case c == '"':
				s.quoted = !s.quoted
			case c == '>' && !s.quoted:
				s.state = 1
			}
		case 1:
			// The hot loop: one table lookup per byte.
			for ; i < len(p); i++ {
				c := p[i]
				switch b64Class[c] {
				case clsB64:
					if s.padded {
						return i, errBadBase64
					}
					s.chars[s.n] = c
					s.n++
					if s.n == len(s.chars) {
						if len(s.chars) < sinkChunk {
							// Small payloads (the usual ones) never pay for a 64 KB chunk.
							s.chars = append(s.chars, make([]byte, len(s.chars))...)
							continue
						}
						if err := s.flush(false); err != nil {
							return i, err
						}
					}
					continue
				case clsSpace:
					continue
				case clsLT:
					s.state = 2
				default:
					return i, errBadBase64
				}
				break
			}
		case 2:
			if p[i] != '/' {
				return i, &payloadError{errcode.T005, "a ds:Object nem szöveget is tartalmaz", "the ds:Object holds more than text"}
			}
			s.state = 3
		case 3:
			return len(p), nil
		}
	}
	return len(p), nil
}

// flush decodes the complete quanta waiting in chars (all of them, which must be complete, when final)
// and keeps the rest.
func (s *b64Sink) flush(final bool) error {
	n := s.n - s.n%4
	if final && n != s.n {
		return errBadBase64
	}
	if n == 0 {
		return nil
	}
	if len(s.dec) < n/4*3 {
		s.dec = make([]byte, len(s.chars)/4*3)
	}
	k, err := base64.StdEncoding.Strict().Decode(s.dec, s.chars[:n])
	if err != nil {
		return errBadBase64
	}
	if s.chars[n-1] == '=' {
		s.padded = true
		if n != s.n { // characters after the padding
			return errBadBase64
		}
	}
	s.written += int64(k)
	if s.written > s.max {
		return &payloadError{errcode.T003,
			fmt.Sprintf("a dokumentum több mint %d bájt", s.max), fmt.Sprintf("the document exceeds %d bytes", s.max)}
	}
	if _, err := s.out.Write(s.dec[:k]); err != nil {
		return fmt.Errorf("es3: payload: writing: %w", err)
	}
	s.n = copy(s.chars, s.chars[n:s.n])
	return nil
}

// finish decodes what is left after the whole canonical form has arrived.
func (s *b64Sink) finish() error {
	if s.state != 3 {
		return errBadBase64
	}
	return s.flush(true)
}
