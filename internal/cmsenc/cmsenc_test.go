package cmsenc

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/tagdij/tagdij/internal/errcode"
)

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func wantCode(t *testing.T, err error, sentinel error) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("want %v, got %v", sentinel, err)
	}
	var ce *Error
	if !errors.As(err, &ce) || ce.Code() != errcode.D001 || ce.Finding().Code != errcode.D001 {
		t.Fatalf("want an *Error with D001, got %T %v", err, err)
	}
}

func TestRoundTrip(t *testing.T) {
	p := pki(t)
	modes := []struct {
		name string
		opts *Options
		alg  string
	}{
		{"default (OAEP)", nil, "RSAES-OAEP SHA-256"},
		{"PKCS#1 v1.5", &Options{KeyTransport: PKCS1v15}, "RSA PKCS#1 v1.5"},
		{"OAEP by SKI", &Options{SubjectKeyID: true}, "RSAES-OAEP SHA-256"},
	}
	for _, m := range modes {
		for _, size := range []int{0, 1, 15, 16, 17, 4096, 100_003} {
			t.Run(fmt.Sprintf("%s/%d", m.name, size), func(t *testing.T) {
				pt := randomBytes(t, size)
				orig := bytes.Clone(pt)
				der, err := Encrypt(pt, []*x509Cert{p.fund.cert, p.sender.cert}, m.opts)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(pt, orig) {
					t.Fatal("Encrypt modified its input")
				}
				if size > 64 && bytes.Contains(der, pt[:64]) {
					t.Fatal("plaintext visible in the output")
				}
				for _, who := range []*party{p.fund, p.sender} {
					got, err := Decrypt(der, who.cert, who.key)
					if err != nil {
						t.Fatalf("%s: %v", who.name, err)
					}
					if !bytes.Equal(got, pt) {
						t.Fatalf("%s: plaintext differs", who.name)
					}
				}
				ids, err := Recipients(der)
				if err != nil || len(ids) != 2 {
					t.Fatalf("Recipients: %v %v", ids, err)
				}
				for _, id := range ids {
					if id.KeyEncryption != m.alg {
						t.Errorf("recipient algorithm %q, want %q", id.KeyEncryption, m.alg)
					}
					if id.Matches(p.fund.cert) == id.Matches(p.sender.cert) || id.Matches(p.stranger.cert) {
						t.Errorf("recipient %v matches the wrong certificates", id)
					}
					if (m.opts != nil && m.opts.SubjectKeyID) != (id.SubjectKeyID != nil) {
						t.Errorf("identifier kind: %v", id)
					}
				}
			})
		}
	}
}

// x509Cert keeps the tables short.
type x509Cert = x509.Certificate

func TestOutputStructure(t *testing.T) {
	p := pki(t)
	der, err := Encrypt([]byte("x"), []*x509Cert{p.fund.cert, p.sender.cert}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The whole output is DER that encoding/asn1 (a DER parser) reads to the last byte.
	var ci struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue `asn1:"explicit,tag:0"`
	}
	if rest, err := asn1.Unmarshal(der, &ci); err != nil || len(rest) != 0 {
		t.Fatalf("not DER: %v (%d trailing)", err, len(rest))
	}
	var ed struct {
		Version    int
		Recipients []asn1.RawValue `asn1:"set"`
		ECI        struct {
			Type    asn1.ObjectIdentifier
			Alg     pkix.AlgorithmIdentifier
			Content asn1.RawValue `asn1:"tag:0"`
		}
	}
	if rest, err := asn1.Unmarshal(ci.Content.Bytes, &ed); err != nil || len(rest) != 0 {
		t.Fatalf("EnvelopedData not DER: %v", err)
	}
	if !ci.Type.Equal(oidEnvelopedData) || ed.Version != 0 || len(ed.Recipients) != 2 ||
		!ed.ECI.Type.Equal(oidData) || !ed.ECI.Alg.Algorithm.Equal(oidAES256CBC) || len(ed.ECI.Content.Bytes) != 16 {
		t.Fatalf("unexpected structure: %+v", ed)
	}
	if bytes.Compare(ed.Recipients[0].FullBytes, ed.Recipients[1].FullBytes) > 0 {
		t.Error("RecipientInfos not in DER SET OF order")
	}
	// SKI recipients make it version 2 (RFC 5652 §6.1).
	der, _ = Encrypt([]byte("x"), []*x509Cert{p.fund.cert}, &Options{SubjectKeyID: true})
	asn1.Unmarshal(der, &ci)
	asn1.Unmarshal(ci.Content.Bytes, &ed)
	if ed.Version != 2 {
		t.Errorf("SKI: EnvelopedData version %d, want 2", ed.Version)
	}
}

func TestEncryptRefusals(t *testing.T) {
	p := pki(t)
	cases := []struct {
		name  string
		certs []*x509Cert
		want  string
	}{
		{"no recipients", nil, "no recipients"},
		{"duplicate", []*x509Cert{p.fund.cert, p.fund.cert}, "twice"},
		{"signing-only certificate", []*x509Cert{p.fund.cert, p.signOnly.cert}, "keyEncipherment"},
		{"1024-bit key", []*x509Cert{p.small.cert}, "below the minimum"},
		{"nil certificate", []*x509Cert{nil}, "nil"},
	}
	for _, c := range cases {
		if _, err := Encrypt([]byte("x"), c.certs, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want an error containing %q, got %v", c.name, c.want, err)
		}
	}
	many := make([]*x509Cert, MaxRecipients+1)
	for i := range many {
		many[i] = p.fund.cert
	}
	if _, err := Encrypt([]byte("x"), many, nil); err == nil {
		t.Error("accepted more than MaxRecipients")
	}
	if _, err := Encrypt([]byte("x"), []*x509Cert{p.fund.cert}, &Options{KeyTransport: 7}); err == nil {
		t.Error("accepted an unknown key transport")
	}
	if _, err := Encrypt([]byte("x"), []*x509Cert{p.fund.cert}, &Options{SubjectKeyID: true, Rand: bytes.NewReader(nil)}); err == nil {
		t.Error("an exhausted randomness source did not fail")
	}
}

func TestOpaqueDecrypter(t *testing.T) {
	p := pki(t)
	pt := []byte("<Bevallas/>")
	for _, opts := range []*Options{nil, {KeyTransport: PKCS1v15}} {
		der, err := Encrypt(pt, []*x509Cert{p.fund.cert, p.sender.cert}, opts)
		if err != nil {
			t.Fatal(err)
		}
		calls := 0
		got, err := Decrypt(der, p.sender.cert, opaqueDecrypter{p.sender.key, &calls})
		if err != nil || !bytes.Equal(got, pt) || calls != 1 {
			t.Fatalf("opaque Decrypter: %q %v (calls %d)", got, err, calls)
		}
	}
}

// lastCiphertextBlocks returns the offset in der where the last ciphertext block starts: flipping a
// bit just before it flips the same bit of the last plaintext byte (the CBC padding length).
func lastCiphertextBlocks(t *testing.T, der []byte) int {
	t.Helper()
	env, err := parseEnvelope(der)
	if err != nil {
		t.Fatal(err)
	}
	body := env.content.body
	if len(body) < 32 {
		t.Fatal("need two ciphertext blocks")
	}
	return cap(der) - cap(body) + len(body) - 16 // body is a sub-slice of der
}

func TestDecryptFailuresAreUniform(t *testing.T) {
	p := pki(t)
	pt := bytes.Repeat([]byte("tétel;"), 1000) // a multiple of neither: padding 2..16
	for _, opts := range []*Options{nil, {KeyTransport: PKCS1v15}} {
		name := "OAEP"
		if opts != nil {
			name = "PKCS1v15"
		}
		t.Run(name, func(t *testing.T) {
			der, err := Encrypt(pt, []*x509Cert{p.fund.cert, p.sender.cert}, opts)
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			check := func(what string, err error) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s: decrypted", what)
				}
				wantCode(t, err, ErrDecrypt)
				msgs = append(msgs, err.Error())
			}

			// 1. Not a recipient.
			_, err = Decrypt(der, p.stranger.cert, p.stranger.key)
			check("stranger", err)

			// 2. The padding byte flipped far out of range: CBC makes the change deterministic.
			bad := bytes.Clone(der)
			bad[lastCiphertextBlocks(t, der)-1] ^= 0x80
			_, err = Decrypt(bad, p.fund.cert, p.fund.key)
			check("bad padding", err)

			// 3. The encrypted key of every recipient corrupted.
			env, _ := parseEnvelope(der)
			bad = bytes.Clone(der)
			for _, r := range env.recipients {
				k, _, _ := parseRecipient(r)
				off := cap(der) - cap(k.encryptedKey)
				bad[off+10] ^= 0xff
			}
			_, err = Decrypt(bad, p.fund.cert, p.fund.key)
			if opts == nil {
				check("bad OAEP block", err)
			} else if err == nil {
				// PKCS#1 v1.5 yields a random key, noticed only by the CBC padding (255/256).
				t.Log("corrupted PKCS#1 v1.5 block went unnoticed by the padding check (1 in 256)")
			} else {
				check("bad PKCS#1 v1.5 block", err)
			}

			// 4. A wrong key for the certificate is a configuration error, not a decryption failure.
			_, err = Decrypt(der, p.fund.cert, p.sender.key)
			if !errors.Is(err, ErrKeyMismatch) {
				t.Fatalf("mismatched key: %v", err)
			}
			for _, m := range msgs[1:] {
				if m != msgs[0] {
					t.Fatalf("decryption failures differ: %q vs %q", m, msgs[0])
				}
			}
		})
	}
}

func TestUnpad(t *testing.T) {
	block := func(tail ...byte) []byte {
		b := bytes.Repeat([]byte{'a'}, 32-len(tail))
		return append(b, tail...)
	}
	cases := []struct {
		in   []byte
		want int // length kept, -1 for refusal
	}{
		{block(1), 31},
		{block(2, 2), 30},
		{bytes.Repeat([]byte{16}, 32), 16},
		{block(0), -1},
		{block(17), -1},
		{block(1, 2), -1},
		{block(3, 2, 3), -1},
		{append(bytes.Repeat([]byte{'a'}, 16), bytes.Repeat([]byte{15}, 16)...), 17},
		{append(bytes.Repeat([]byte{'a'}, 18), bytes.Repeat([]byte{15}, 14)...), -1},
		{bytes.Repeat([]byte{1}, 15), -1},
	}
	for i, c := range cases {
		got, ok := unpad(c.in)
		if (c.want < 0) == ok || (ok && len(got) != c.want) {
			t.Errorf("case %d: got %d %v, want %d", i, len(got), ok, c.want)
		}
	}
}

// envelope builds a ContentInfo around an arbitrary EnvelopedData for refusal tests.
func buildEnvelope(t testing.TB, ctype asn1.ObjectIdentifier, version int, recipients []asn1.RawValue, alg pkix.AlgorithmIdentifier, content []byte) []byte {
	t.Helper()
	type eci struct {
		Type    asn1.ObjectIdentifier
		Alg     pkix.AlgorithmIdentifier
		Content []byte `asn1:"tag:0,optional"`
	}
	ed, err := asn1.Marshal(struct {
		Version    int
		Recipients []asn1.RawValue `asn1:"set"`
		ECI        eci
	}{version, recipients, eci{oidData, alg, content}})
	if err != nil {
		t.Fatal(err)
	}
	der, err := asn1.Marshal(struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue
	}{ctype, asn1.RawValue{Class: 2, Tag: 0, IsCompound: true, Bytes: ed}})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestRefusals(t *testing.T) {
	p := pki(t)
	good, err := Encrypt([]byte("payload"), []*x509Cert{p.fund.cert, p.sender.cert}, nil)
	if err != nil {
		t.Fatal(err)
	}
	env, _ := parseEnvelope(good)
	ri := []asn1.RawValue{{FullBytes: env.recipients[0].raw}, {FullBytes: env.recipients[1].raw}}
	iv, _ := asn1.Marshal(make([]byte, 8))
	iv16, _ := asn1.Marshal(make([]byte, 16))
	withAlg := func(oid asn1.ObjectIdentifier, params []byte) []byte {
		return buildEnvelope(t, oidEnvelopedData, 0, ri, pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.RawValue{FullBytes: params}}, make([]byte, 16))
	}
	many := make([]asn1.RawValue, MaxRecipients+1)
	for i := range many {
		many[i] = ri[i%2]
	}
	kari := []asn1.RawValue{{Class: 2, Tag: 1, IsCompound: true, Bytes: []byte{0x02, 0x01, 0x03}}}
	signedData := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}

	cases := []struct {
		name string
		der  []byte
		want error
		text string
	}{
		{"triple DES", withAlg(oidDESEDE3, iv), ErrAlgorithm, "triple DES"},
		{"DES", withAlg(oidDESCBC, iv), ErrAlgorithm, "DES-CBC"},
		{"RC2", withAlg(oidRC2CBC, iv), ErrAlgorithm, "RC2"},
		{"unknown cipher", withAlg(asn1.ObjectIdentifier{1, 2, 3, 4}, iv16), ErrAlgorithm, "1.2.3.4"},
		{"GCM in EnvelopedData", withAlg(oidAES256GCM, iv16), ErrAlgorithm, "AuthEnvelopedData"},
		{"short IV", withAlg(oidAES256CBC, iv), ErrMalformed, "IV"},
		{"no IV", withAlg(oidAES256CBC, nil), ErrMalformed, "IV"},
		{"signedData", buildEnvelope(t, signedData, 0, ri, env.alg, make([]byte, 16)), ErrMalformed, "not enveloped"},
		{"no recipients", buildEnvelope(t, oidEnvelopedData, 0, nil, env.alg, make([]byte, 16)), ErrMalformed, "no RecipientInfo"},
		{"too many recipients", buildEnvelope(t, oidEnvelopedData, 0, many, env.alg, make([]byte, 16)), ErrLimit, "32"},
		{"only kari", buildEnvelope(t, oidEnvelopedData, 2, kari, env.alg, make([]byte, 16)), ErrDecrypt, ""},
		{"detached content", buildEnvelope(t, oidEnvelopedData, 0, ri, env.alg, nil), ErrMalformed, "detached"},
		{"bad version", buildEnvelope(t, oidEnvelopedData, 9, ri, env.alg, make([]byte, 16)), ErrMalformed, "version"},
		{"trailing data", append(bytes.Clone(good), 0), ErrMalformed, "trailing"},
		{"truncated", good[:len(good)-1], ErrMalformed, ""},
		{"truncated header", good[:3], ErrMalformed, ""},
		{"empty", nil, ErrMalformed, ""},
		{"garbage", []byte("-----BEGIN PKCS7-----"), ErrMalformed, ""},
		{"indefinite primitive", []byte{0x04, 0x80, 0x01, 0x00, 0x00}, ErrMalformed, ""},
		{"huge length", []byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00}, ErrMalformed, ""},
		{"deep nesting", bytes.Repeat([]byte{0x30, 0x80}, 200), ErrMalformed, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decrypt(c.der, p.fund.cert, p.fund.key)
			wantCode(t, err, c.want)
			if !strings.Contains(err.Error(), c.text) {
				t.Fatalf("error %q does not mention %q", err, c.text)
			}
			if _, err := DecryptWithContentKey(c.der, make([]byte, 32)); err == nil {
				t.Fatal("DecryptWithContentKey accepted it")
			}
		})
	}
	// Control: the builder makes a message Decrypt accepts when nothing is wrong.
	ct, _ := octets(env.content, 0)
	ctrl := buildEnvelope(t, oidEnvelopedData, 0, ri, env.alg, ct)
	if got, err := Decrypt(ctrl, p.fund.cert, p.fund.key); err != nil || string(got) != "payload" {
		t.Fatalf("control: %q %v", got, err)
	}
	// Recipients reports non-key-transport choices by name.
	ids, err := Recipients(buildEnvelope(t, oidEnvelopedData, 2, append(kari, ri...), env.alg, ct))
	if err != nil || len(ids) != 3 || ids[2].KeyEncryption != "kari" || ids[2].Matches(p.fund.cert) { // DER sorts [1] last
		t.Fatalf("Recipients with kari: %v %v", ids, err)
	}
}

// addRecipient returns der with one more RecipientInfo, re-encoded (test helper for the export path).
func addRecipient(t testing.TB, der, ri []byte) []byte {
	t.Helper()
	env, err := parseEnvelope(der)
	if err != nil {
		t.Fatal(err)
	}
	var ris []asn1.RawValue
	for _, r := range env.recipients {
		ris = append(ris, asn1.RawValue{FullBytes: r.raw})
	}
	ris = append(ris, asn1.RawValue{FullBytes: ri})
	ct, _ := octets(env.content, 0)
	return buildEnvelope(t, oidEnvelopedData, 0, ris, env.alg, ct)
}

func TestTaxAuthorityExport(t *testing.T) {
	p := pki(t)
	pt := []byte("<Bevallas>titkos</Bevallas>")
	for _, opts := range []*Options{nil, {KeyTransport: PKCS1v15}} {
		der, err := Encrypt(pt, []*x509Cert{p.fund.cert, p.sender.cert}, opts)
		if err != nil {
			t.Fatal(err)
		}
		ck, err := ContentKey(der, p.fund.cert, opaqueDecrypter{k: p.fund.key})
		if err != nil || len(ck) != 32 {
			t.Fatalf("ContentKey: %d %v", len(ck), err)
		}
		if got, err := DecryptWithContentKey(der, ck); err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("DecryptWithContentKey: %v", err)
		}
		ri, err := WrapKeyFor(ck, p.authority.cert, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecryptWithRecipientInfo(der, ri, p.authority.cert, opaqueDecrypter{k: p.authority.key})
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("authority: %v", err)
		}
		// The RecipientInfo is for the authority only.
		_, err = DecryptWithRecipientInfo(der, ri, p.stranger.cert, p.stranger.key)
		wantCode(t, err, ErrDecrypt)
		// The package itself is unchanged and still has no recipient for the authority.
		_, err = Decrypt(der, p.authority.cert, p.authority.key)
		wantCode(t, err, ErrDecrypt)
		// A wrong content key is refused. CBC can only tell by the padding, so try keys until one fails
		// (each fails with probability 255/256), and make sure one does.
		wrong, refused := bytes.Clone(ck), false
		for i := 1; i < 64 && !refused; i++ {
			wrong[0] = ck[0] ^ byte(i)
			if _, err := DecryptWithContentKey(der, wrong); err != nil {
				wantCode(t, err, ErrDecrypt)
				refused = true
			}
		}
		if !refused {
			t.Fatal("63 wrong content keys all accepted")
		}
		if _, err := DecryptWithContentKey(der, ck[:16]); err == nil {
			t.Fatal("a 16-byte key accepted for AES-256")
		}
	}
	if _, err := WrapKeyFor(make([]byte, 20), p.authority.cert, nil); err == nil {
		t.Error("WrapKeyFor accepted a 20-byte key")
	}
	if _, err := ContentKey([]byte{0x30, 0}, p.fund.cert, p.fund.key); err == nil {
		t.Error("ContentKey accepted garbage")
	}
	if _, err := DecryptWithRecipientInfo(mustEncrypt(t, p), []byte{1, 2, 3}, p.authority.cert, p.authority.key); !errors.Is(err, ErrMalformed) {
		t.Errorf("garbage RecipientInfo: %v", err)
	}
}

func mustEncrypt(t testing.TB, p *testPKI) []byte {
	t.Helper()
	der, err := Encrypt([]byte("x"), []*x509Cert{p.fund.cert, p.sender.cert}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestLargeMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("50 MB payload")
	}
	p := pki(t)
	pt := randomBytes(t, 50<<20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	der, err := Encrypt(pt, []*x509Cert{p.fund.cert, p.sender.cert}, nil)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(len(pt))+1<<20 {
		t.Errorf("Encrypt of 50 MB allocated %d MB (want one output buffer)", alloc>>20)
	}
	runtime.ReadMemStats(&before)
	got, err := Decrypt(der, p.sender.cert, p.sender.key)
	runtime.ReadMemStats(&after)
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("Decrypt: %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(len(pt))+1<<20 {
		t.Errorf("Decrypt of 50 MB allocated %d MB (want one plaintext buffer)", alloc>>20)
	}
}

func FuzzDecrypt(f *testing.F) {
	p := pki(f)
	f.Add(mustEncrypt(f, p))
	if der, err := Encrypt([]byte("abc"), []*x509Cert{p.fund.cert}, &Options{KeyTransport: PKCS1v15, SubjectKeyID: true}); err == nil {
		f.Add(der)
	}
	f.Add([]byte{0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03, 0xa0, 0x80, 0x30, 0x80, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, der []byte) {
		if len(der) > 1<<16 {
			return
		}
		pt, err := Decrypt(der, p.sender.cert, p.sender.key)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || ce.Code() != errcode.D001 {
				t.Fatalf("error without D001: %T %v", err, err)
			}
		} else if len(pt) > len(der) {
			t.Fatalf("%d bytes of plaintext from %d bytes of input", len(pt), len(der))
		}
		if ids, err := Recipients(der); err == nil && len(ids) > MaxRecipients {
			t.Fatalf("%d recipients", len(ids))
		}
	})
}
