package xades

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/xmldsig"
	"github.com/tagdij/tagdij/policy"
)

func TestVerifyGeneric(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s := f.signers(t, "pelda")[0]
	tmpl := `<?xml version="1.0" encoding="UTF-8"?><Adat xmlns="urn:x-test"><Tetel>1</Tetel>` +
		`<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="sig"><ds:SignedInfo>` +
		`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>` +
		`<ds:SignatureMethod Algorithm="` + xmldsig.RSASHA256 + `"/>` +
		`<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>` +
		`<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>` +
		`<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference></ds:SignedInfo>` +
		`<ds:SignatureValue/><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + base64.StdEncoding.EncodeToString(s.Cert.Raw) +
		`</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature></Adat>`
	signed, err := xmldsig.Sign([]byte(tmpl), "sig", s.Key, xmldsig.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	opts := VerifyOptions{Env: f.env, Kind: policy.KindPackage, Now: f.sb.Clock.Now()}
	d, err := VerifyGeneric(ctx, signed, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Core-valid, but without a time-stamp there is no T after which the grace period could end.
	if d.Verdict.Indication != report.Indeterminate || hasCode(d.Signatures[0].Verdict, errcode.A001) ||
		hasCode(d.Signatures[0].Verdict, errcode.A002) || len(d.Signatures[0].Covered) != 1 {
		t.Fatalf("enveloped: %+v", d)
	}
	bad := []byte(strings.Replace(string(signed), "<Tetel>1", "<Tetel>2", 1))
	d, _ = VerifyGeneric(ctx, bad, opts)
	expect(t, "enveloped, tampered", d, report.TotalFailed, report.HashFailure, errcode.A002)

	// Our own dossier through the generic path: valid after the grace period.
	pkg, _ := f.signedPackage(t, 2)
	f.afterGrace()
	opts.Now = f.sb.Clock.Now()
	d, _ = VerifyGeneric(ctx, pkg, opts)
	expect(t, "dossier, generic", d, report.TotalPassed, "", "")

	// The e-akta conformance sample: core-valid, but its root is no anchor of ours.
	sample, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "conformance", "es3-sample.es3"))
	if err != nil {
		t.Skipf("conformance sample unavailable: %v", err)
	}
	d, _ = VerifyGeneric(ctx, sample, VerifyOptions{Env: f.env, Now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)})
	expect(t, "conformance sample", d, report.Indeterminate, report.NoCertificateChainFound, errcode.A003)
	// Read as the e-akta dossier it is (es3.Generic, the auditor's "e-akta"): the generic validation
	// policy, not the Tagdíj package rules its document-level XMLDSig signature could never meet
	// (it was TOTAL-FAILED/FORMAT_FAILURE for the missing XAdES properties before issue 7).
	d, err = Verify(ctx, sample, VerifyOptions{Env: f.env, Kind: policy.KindPackage, Mode: es3.Generic, Now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "conformance sample as e-akta", d, report.Indeterminate, report.NoCertificateChainFound, errcode.A003)

	// Not XML, no signature.
	d, _ = VerifyGeneric(ctx, []byte("<a/>"), opts)
	expect(t, "no signature", d, report.TotalFailed, "", errcode.F012)
	d, _ = VerifyGeneric(ctx, []byte("<a"), opts)
	expect(t, "not XML", d, report.TotalFailed, "", errcode.T005)
	if _, err := VerifyGeneric(ctx, nil, opts); err == nil {
		t.Fatal("nil input accepted")
	}
}
