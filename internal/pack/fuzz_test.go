package pack_test

import (
	"context"
	"testing"

	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/payload"
)

// FuzzOpen feeds arbitrary bytes to Open, seeded with an encrypted and a plain package: whatever comes
// in, Open returns an error or a declaration whose size equals the signed es:SourceSize, and never
// panics.
func FuzzOpen(f *testing.F) {
	fx := newFixture(f)
	decl := fx.decl(f, 3, 1, nil)
	opts, _ := fx.options(f)
	enc, err := pack.Pack(context.Background(), decl, opts)
	if err != nil {
		f.Fatal(err)
	}
	opts.Plain, opts.FundCert, opts.OwnCert = true, nil, nil
	plain, err := pack.Pack(context.Background(), decl, opts)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(enc.Bytes)
	f.Add(plain.Bytes)
	f.Add([]byte(`<?xml version="1.0"?><es:Dossier xmlns:es="https://www.microsec.hu/ds/e-szigno30#"/>`))
	key := decrypter(f, fx.fundEnc)
	limits := payload.Limits{MaxSize: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := pack.Open(data, fx.fundEnc.Cert, key, limits)
		if err == nil && len(got) > 1<<20 && len(got) > len(data) {
			t.Errorf("Open returned %d bytes from %d bytes of input beyond the limit", len(got), len(data))
		}
	})
}
