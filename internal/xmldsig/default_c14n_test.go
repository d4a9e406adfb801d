package xmldsig

import (
	"regexp"
	"testing"

	"github.com/tagdij/tagdij/internal/libxml"
)

// An #xpointer(/) node set keeps comments, but with no canonicalization transform the node set is
// turned into octets by Canonical XML 1.0 without comments (XMLDSig §4.4.3.2), so its digest equals
// that of URI="" (which drops comments when dereferenced). merlin-xmldsig-twenty-three's Reference 9
// relies on the same rule; xmlsec1 agrees.
func TestDefaultConversionDropsComments(t *testing.T) {
	k := key(t, "rsa2048")
	ts := tSig{ID: "sig-1", C14N: libxml.URIExcC14N, Method: RSASHA256, Certs: nil}
	ts.Certs = append(ts.Certs, k.cert)
	ts.Refs = []tRef{
		{URI: "", Transforms: []string{TransformEnveloped}},
		{URI: "#xpointer(/)", Transforms: []string{TransformEnveloped}},
		{URI: "#xpointer(/)", Transforms: []string{TransformEnveloped, libxml.URIC14N10WithComments}},
	}
	signed := mustSign(t, envelopedTemplate(t, interopBase, ts), "sig-1", k)
	digests := regexp.MustCompile(`<ds:DigestValue>([^<]*)</ds:DigestValue>`).FindAllStringSubmatch(string(signed), -1)
	if len(digests) != 3 {
		t.Fatalf("found %d digests", len(digests))
	}
	if digests[0][1] != digests[1][1] {
		t.Fatalf("#xpointer(/) without a c14n transform digested comments: %s vs %s", digests[0][1], digests[1][1])
	}
	if digests[1][1] == digests[2][1] {
		t.Fatal("an explicit #WithComments transform must keep the comment the document has")
	}
	if _, err := Verify(signed, VerifyOptions{}); err != nil {
		t.Fatalf("we reject our own signature: %v", err)
	}
	if _, err := lookXmlsec(); err != nil {
		t.Skip("xmlsec1 not installed; make test installs it")
	}
	if ok, out := xmlsecVerifySigned(t, signed, k.certPEM()); !ok {
		t.Fatalf("xmlsec1 rejects:\n%s", out)
	}
}
