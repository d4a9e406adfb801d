package xades

import (
	"regexp"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/policy"
)

var reToken = regexp.MustCompile(`(?s)<([a-zA-Z0-9]+):EncapsulatedTimeStamp[^>]*>.*?</[a-zA-Z0-9]+:EncapsulatedTimeStamp>`)

// TestEmptyTimeStampShell: the unsigned properties are not signed, so a real token can be swapped for
// an XMLTimeStamp shell. That must not count as a time-stamp — neither now nor for a validation time in
// the past (auditor --at), where the chain would otherwise be judged with no T at all.
func TestEmptyTimeStampShell(t *testing.T) {
	f := newFixture(t)
	start := f.sb.Clock.Now()
	data, _ := f.signedPackage(t, 1)
	if !reToken.Match(data) {
		t.Fatal("no token in the package")
	}
	shell := reToken.ReplaceAll(data, []byte(`<$1:XMLTimeStamp/>`))
	f.afterGrace()
	for _, now := range []time.Time{f.sb.Clock.Now(), start, start.Add(-time.Hour)} {
		d := f.verify(t, shell, policy.KindPackage, nil, now)
		if d.Verdict.Indication != report.TotalFailed || !hasCode(d.Signatures[0].Verdict, errcode.F005) {
			t.Fatalf("at %v: %s/%s %v, want TOTAL-FAILED with F005", now, d.Verdict.Indication, d.Verdict.Sub, codes(d.Signatures[0].Verdict))
		}
	}
}

// TestSignatureFlood: signatures, and references within a signature, are bounded before anything is
// hashed: fifty junk signatures of 64 references each to es:Documents once made a 1 MB package cost
// seconds of digesting (each reference hashes the whole payload).
func TestSignatureFlood(t *testing.T) {
	f := newFixture(t)
	data := f.encryptedPackage(t, 1<<20)
	data, _ = f.sign(t, data, f.signers(t, "pelda")[0], policy.KindPackage, nil)
	docsID := regexp.MustCompile(`<es:Documents Id="([^"]+)"`).FindSubmatch(data)[1]
	junk := func(id string, nrefs int) []byte {
		var refs []byte
		for i := 0; i < nrefs; i++ {
			refs = append(refs, `<ds:Reference URI="#`+string(docsID)+`"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha512"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference>`...)
		}
		return []byte(`<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="` + id + `"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>` +
			string(refs) + `</ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>`)
	}
	insert := func(sigs []byte) []byte {
		i := regexp.MustCompile(`</es:Dossier>\s*$`).FindIndex(data)[0]
		return append(append(append([]byte(nil), data[:i]...), sigs...), data[i:]...)
	}
	var many []byte
	for i := 0; i < 50; i++ {
		many = append(many, junk("evil"+string(rune('a'+i%26))+string(rune('a'+i/26)), 64)...)
	}
	start := time.Now()
	d := f.verify(t, insert(many), policy.KindPackage, nil, time.Time{})
	if d.Verdict.Indication != report.TotalFailed || !hasCode(d.Verdict, errcode.T006) {
		t.Fatalf("fifty signatures: %s %v, want TOTAL-FAILED with T006", d.Verdict.Indication, codes(d.Verdict))
	}
	// One junk signature with 64 references: refused by the reference count, not digested.
	d = f.verify(t, insert(junk("evil", 64)), policy.KindPackage, nil, time.Time{})
	if d.Verdict.Indication != report.TotalFailed {
		t.Fatalf("64 references: %s", d.Verdict.Indication)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("refusing the floods took %v", el)
	}
}
