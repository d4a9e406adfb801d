package tsp

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"math/big"
	"testing"

	"github.com/digitorus/timestamp"
)

// fuzzSeeds returns a good response, a rejection and a standalone token,
// with what is needed to check them.
func fuzzSeeds(f *testing.F) (*Client, request) {
	p := newPKI(f)
	cert, key := p.issue(f, certSpec{})
	digest := sha256.Sum256([]byte("seed"))
	nonce := big.NewInt(0).Lsh(big.NewInt(1), 80)
	s := &testTSA{cert: cert, key: key, chain: []*x509.Certificate{p.root}}
	q, err := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest[:], Certificates: true, Nonce: nonce}).Marshal()
	if err != nil {
		f.Fatal(err)
	}
	resp, err := s.respond(q)
	if err != nil {
		f.Fatal(err)
	}
	rejected, err := timestamp.CreateErrorResponse(timestamp.Rejection, timestamp.SystemFailure)
	if err != nil {
		f.Fatal(err)
	}
	token := buildToken(f, tokenSpec{cert: cert, key: key, imprint: digest[:], essV1: true, tsaName: cert})
	f.Add(resp)
	f.Add(rejected)
	f.Add(token)
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	c := &Client{Trust: PoolVerifier{Roots: p.roots}, MaxSkew: -1, AllowNoAccuracy: true}
	req := request{hash: crypto.SHA256, digest: digest[:], nonce: nonce}

	return c, req
}

// FuzzParse feeds arbitrary bytes to the structural parsers of responses and
// tokens. They must never panic and every error must be one of the
// package's kinds. Its seeds (a response, a rejection, a token) are files in
// testdata/fuzz/FuzzParse rather than generated here: under fuzzing
// instrumentation key generation and signing take seconds per worker.
func FuzzParse(f *testing.F) {
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		kinds := func(err error) {
			var re *RejectedError
			if err != nil && Code(err) == "" && !errors.As(err, &re) {
				t.Fatalf("error outside the package's kinds: %v", err)
			}
		}
		_, err := decodeToken(data)
		kinds(err)
		der, err := parseResponse(data)
		kinds(err)
		if err == nil {
			_, err = decodeToken(der)
			kinds(err)
		}
	})
}

// FuzzVerify runs the full token and response checks, signatures included,
// on arbitrary bytes. Slower than FuzzParse (the crypto is instrumented).
// A token it accepts must keep its guarantees.
func FuzzVerify(f *testing.F) {
	c, req := fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(tok *Token, err error) {
			if err != nil {
				var re *RejectedError
				if Code(err) == "" && !errors.As(err, &re) {
					t.Fatalf("error outside the package's kinds: %v", err)
				}
				return
			}
			if tok.TSA == nil || tok.SerialNumber == nil || len(tok.HashedMessage) != tok.HashAlgorithm.Size() {
				t.Fatalf("accepted token breaks its guarantees: %+v", tok)
			}
		}
		check(ParseToken(data))
		check(c.checkResponse(context.Background(), data, req))
		if der, err := parseResponse(data); err == nil {
			check(ParseToken(der))
		}
	})
}
