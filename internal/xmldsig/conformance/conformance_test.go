package conformance

import (
	"errors"
	"testing"
)

func TestMethodRule(t *testing.T) {
	for uri, want := range map[string]Outcome{
		"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256":        Valid,
		"http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1":   Valid,
		"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384":      Valid,
		"http://www.w3.org/2000/09/xmldsig#dsa-sha1":               Unsupported,
		"http://www.w3.org/2000/09/xmldsig#hmac-sha1":              Unsupported,
		"http://www.w3.org/2001/04/xmldsig-more#rsa-md5":           Unsupported,
		"http://www.w3.org/2007/05/xmldsig-more#sha3-256-rsa-MGF1": Unsupported,
	} {
		if got, _ := methodRule(uri); got != want {
			t.Errorf("%s: %s, want %s", uri, got, want)
		}
	}
}

func TestSamples(t *testing.T) {
	root, err := Root()
	if errors.Is(err, ErrNotFound) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	s, err := Samples(root)
	if err != nil {
		t.Fatal(err)
	}
	count := map[Outcome]int{}
	inScope := 0
	for _, x := range s {
		count[x.Want]++
		if x.InScope {
			inScope++
		}
	}
	if len(s) < 100 || count[Valid] < 10 || count[Unsupported] < 50 || inScope < 20 {
		t.Errorf("%d samples, %v, %d in scope", len(s), count, inScope)
	}
	if _, err := Samples(t.TempDir()); err == nil {
		t.Error("an empty directory gave samples")
	}
}
