package sandbox_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/sandbox"
)

func pkixExt(id asn1.ObjectIdentifier, critical bool) pkix.Extension {
	return pkix.Extension{Id: id, Critical: critical, Value: []byte{0x05, 0x00}}
}

func asErr(err error, target any) bool { return err != nil && errors.As(err, target) }

// addOCSPNonce re-encodes an OCSP request with a nonce request extension.
func addOCSPNonce(t testing.TB, req []byte, nonceValue []byte) []byte {
	t.Helper()
	var outer struct {
		TBS asn1.RawValue
	}
	if _, err := asn1.Unmarshal(req, &outer); err != nil {
		t.Fatal(err)
	}
	var tbs struct {
		RequestList asn1.RawValue
	}
	if _, err := asn1.Unmarshal(outer.TBS.FullBytes, &tbs); err != nil {
		t.Fatal(err)
	}
	type tbsWithExt struct {
		RequestList asn1.RawValue
		Extensions  []pkix.Extension `asn1:"explicit,tag:2"`
	}
	der, err := asn1.Marshal(struct{ TBS tbsWithExt }{tbsWithExt{tbs.RequestList,
		[]pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}, Value: nonceValue}}}})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// ocspResponseNonce returns the value of the nonce extension in the
// responseExtensions of a BasicOCSPResponse (golang.org/x/crypto/ocsp only
// exposes singleExtensions).
func ocspResponseNonce(t *testing.T, der []byte) []byte {
	t.Helper()
	var resp struct {
		Status asn1.Enumerated
		Bytes  struct {
			Type     asn1.ObjectIdentifier
			Response []byte
		} `asn1:"explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(der, &resp); err != nil {
		t.Fatal(err)
	}
	var basic struct {
		TBS asn1.RawValue
	}
	if _, err := asn1.Unmarshal(resp.Bytes.Response, &basic); err != nil {
		t.Fatal(err)
	}
	var data struct {
		Version     int `asn1:"explicit,tag:0,default:0,optional"`
		ResponderID asn1.RawValue
		ProducedAt  asn1.RawValue
		Responses   asn1.RawValue
		Extensions  []pkix.Extension `asn1:"explicit,tag:1,optional"`
	}
	if _, err := asn1.Unmarshal(basic.TBS.FullBytes, &data); err != nil {
		t.Fatal(err)
	}
	for _, e := range data.Extensions {
		if e.Id.Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}) {
			return e.Value
		}
	}
	return nil
}

// forgeSameIssuer writes (PEM) a certificate signed by the qualified CA that
// is not in the manifest: the responder must say "unknown" for it.
func forgeSameIssuer(t *testing.T, w *sandbox.World, path string) {
	t.Helper()
	ca := w.MustEntity(sandbox.QualifiedCA)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(424242), Subject: pkix.Name{CommonName: "Not Issued By The Sandbox"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
