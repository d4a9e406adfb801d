package errcode_test

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"testing"

	"github.com/tagdij/tagdij/internal/cmsenc"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/payload"
	"github.com/tagdij/tagdij/internal/pkgname"
	"github.com/tagdij/tagdij/policy"
)

// TestOf: the refusals of every package that codes its errors yield their SPEC §7 finding through
// errcode.Of, also when wrapped; a plain error and nil yield none.
func TestOf(t *testing.T) {
	_, es3Err := es3.Parse([]byte("<nem-xml"), es3.ParseOptions{Mode: es3.Strict})
	_, nameErr := pkgname.Parse("rossz.txt")
	p, err := policy.Production()
	if err != nil {
		t.Fatal(err)
	}
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	polErr := p.CheckPublicKey(&weak.PublicKey)
	cases := []struct {
		name string
		err  error
		code errcode.Code
	}{
		{"es3", es3Err, errcode.T005},
		{"pkgname", nameErr, errcode.T002},
		{"cmsenc", &cmsenc.Error{Err: cmsenc.ErrDecrypt, Detail: "no recipient"}, errcode.D001},
		{"payload", &payload.Error{Reason: "ratio", Err: payload.ErrBomb}, errcode.D002},
		{"policy", polErr, errcode.A013},
		{"finding", errcode.New(errcode.B002, "signer", ""), errcode.B002},
	}
	for _, c := range cases {
		for _, e := range []error{c.err, fmt.Errorf("context: %w", c.err)} {
			f, ok := errcode.Of(e)
			if !ok || f.Code != c.code || f.HU == "" || f.EN == "" || f.Severity != errcode.Error {
				t.Errorf("%s: Of(%v) = %+v, %v; want %s", c.name, e, f, ok, c.code)
			}
		}
	}
	var pf policy.Finding
	if !errors.As(polErr, &pf) {
		t.Fatalf("policy error %T is not a policy.Finding", polErr)
	}
	if f, _ := errcode.Of(polErr); f != pf.Finding {
		t.Errorf("Of(policy finding) = %+v, want its catalogue finding %+v", f, pf.Finding)
	}
	for _, e := range []error{nil, errors.New("plain"), fmt.Errorf("wrapped: %w", errors.New("plain"))} {
		if f, ok := errcode.Of(e); ok {
			t.Errorf("Of(%v) = %+v, want none", e, f)
		}
	}
}
