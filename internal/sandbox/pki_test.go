package sandbox_test

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/qc"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
)

// rawEKU returns the EKU extension of c and whether it is critical.
func rawEKU(c *x509.Certificate) (present, critical bool) {
	for _, e := range c.Extensions {
		if e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 37}) {
			return true, e.Critical
		}
	}
	return false, false
}

func hasExt(c *x509.Certificate, id asn1.ObjectIdentifier) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(id) {
			return true
		}
	}
	return false
}

func TestPKIShape(t *testing.T) {
	env := sandboxtest.Start(t, sandboxtest.SharedKeys())
	w := env.World
	base := env.URL
	now := time.Now()

	type want struct {
		ku        x509.KeyUsage
		eku       []x509.ExtKeyUsage
		ekuCrit   bool
		ca        bool
		qualified bool
	}
	byRole := map[string]want{
		sandbox.RoleRootCA:        {ku: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, ca: true},
		sandbox.RoleCA:            {ku: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, ca: true},
		sandbox.RoleOCSPResponder: {ku: x509.KeyUsageDigitalSignature, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}},
		sandbox.RoleTSA:           {ku: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}, ekuCrit: true},
		sandbox.RoleSigner:        {ku: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment, qualified: true},
		sandbox.RoleEncryption:    {ku: x509.KeyUsageKeyEncipherment},
		sandbox.RoleReceiptSigner: {ku: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment},
		sandbox.RoleTLSServer:     {ku: x509.KeyUsageDigitalSignature, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
	}
	counts := map[string]int{}
	keys := map[string]string{}
	for _, e := range w.Entities() {
		t.Run(e.Name, func(t *testing.T) {
			c := e.Cert
			counts[e.Role]++
			wt, ok := byRole[e.Role]
			if !ok {
				t.Fatalf("unexpected role %q", e.Role)
			}
			if c.KeyUsage != wt.ku {
				t.Errorf("key usage %b, want %b", c.KeyUsage, wt.ku)
			}
			if !slices.Equal(c.ExtKeyUsage, wt.eku) {
				t.Errorf("EKU %v, want %v", c.ExtKeyUsage, wt.eku)
			}
			if present, crit := rawEKU(c); present && crit != wt.ekuCrit {
				t.Errorf("EKU critical=%v, want %v", crit, wt.ekuCrit)
			}
			if c.IsCA != wt.ca || (wt.ca && !c.BasicConstraintsValid) {
				t.Errorf("IsCA %v, want %v", c.IsCA, wt.ca)
			}
			st, present, err := qc.FromCertificate(c)
			if err != nil {
				t.Fatal(err)
			}
			if present != wt.qualified || e.Qualified != wt.qualified {
				t.Errorf("QcStatements present=%v manifest=%v, want %v", present, e.Qualified, wt.qualified)
			}
			if wt.qualified && (!st.Qualified() || !st.HasType(qc.OIDTypeESign)) {
				t.Errorf("QcStatements %+v lack QcCompliance/QcSSCD/esign", st)
			}
			if wt.qualified {
				pols := make([]string, 0, len(c.Policies))
				for _, p := range c.Policies {
					pols = append(pols, p.String())
				}
				if !slices.Contains(pols, sandbox.OIDETSIQCPnQSCD.String()) || !slices.Contains(pols, sandbox.OIDSandboxQualifiedPolicy.String()) {
					t.Errorf("policies %v", pols)
				}
			}
			if e.Role == sandbox.RoleOCSPResponder != hasExt(c, sandbox.OIDOCSPNoCheck) {
				t.Errorf("ocsp-nocheck present=%v for role %s", hasExt(c, sandbox.OIDOCSPNoCheck), e.Role)
			}
			if e.KeyAlgorithm.IsRSA() && e.Cert.PublicKeyAlgorithm != x509.RSA || !e.KeyAlgorithm.IsRSA() && e.Cert.PublicKeyAlgorithm != x509.ECDSA {
				t.Errorf("key algorithm %s vs certificate %v", e.KeyAlgorithm, e.Cert.PublicKeyAlgorithm)
			}
			if e.Role == sandbox.RoleEncryption && !e.KeyAlgorithm.IsRSA() {
				t.Errorf("encryption key %s is not RSA", e.KeyAlgorithm)
			}

			// AIA and CRL DP: every non-root points at its issuer on the base URL.
			if e.Role == sandbox.RoleRootCA {
				if len(c.CRLDistributionPoints)+len(c.OCSPServer)+len(c.IssuingCertificateURL) != 0 {
					t.Errorf("root carries AIA/CDP")
				}
			} else {
				if want := []string{base + "/crl/" + e.Issuer + ".crl"}; !slices.Equal(c.CRLDistributionPoints, want) {
					t.Errorf("CRL DP %v, want %v", c.CRLDistributionPoints, want)
				}
				if want := []string{base + "/ca/" + e.Issuer + ".crt"}; !slices.Equal(c.IssuingCertificateURL, want) {
					t.Errorf("caIssuers %v, want %v", c.IssuingCertificateURL, want)
				}
				wantOCSP := []string{base + "/ocsp"}
				if e.Role == sandbox.RoleOCSPResponder {
					wantOCSP = nil
				}
				if !slices.Equal(c.OCSPServer, wantOCSP) {
					t.Errorf("OCSP %v, want %v", c.OCSPServer, wantOCSP)
				}
			}

			// Validity windows.
			valid := !now.Before(c.NotBefore) && !now.After(c.NotAfter)
			switch {
			case e.HasTag(sandbox.TagExpired):
				if !now.After(c.NotAfter) {
					t.Errorf("expired signer valid until %v", c.NotAfter)
				}
			case e.HasTag(sandbox.TagNotYetValid):
				if !now.Before(c.NotBefore) {
					t.Errorf("not-yet-valid signer valid from %v", c.NotBefore)
				}
			case !valid:
				t.Errorf("not valid now: %v..%v", c.NotBefore, c.NotAfter)
			}

			// Chain: every certificate verifies to its root (at a time inside its window).
			roots := x509.NewCertPool()
			roots.AddCert(w.MustEntity(sandbox.RootCA).Cert)
			roots.AddCert(w.MustEntity(sandbox.TLSCA).Cert)
			at := c.NotBefore.Add(time.Hour)
			if _, err := c.Verify(x509.VerifyOptions{Roots: roots, Intermediates: w.IntermediatePool(), CurrentTime: at,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
				t.Errorf("chain: %v", err)
			}
			if e.Key == nil {
				t.Fatal("no key")
			}
			pk, _ := x509.MarshalPKIXPublicKey(e.Key.Public())
			if other, dup := keys[string(pk)]; dup {
				t.Errorf("shares its key with %s", other)
			}
			keys[string(pk)] = e.Name
		})
	}
	for role, n := range map[string]int{sandbox.RoleSigner: 8, sandbox.RoleEncryption: 4, sandbox.RoleCA: 3, sandbox.RoleRootCA: 2,
		sandbox.RoleTSA: 1, sandbox.RoleOCSPResponder: 1, sandbox.RoleTLSServer: 1, sandbox.RoleReceiptSigner: 1} {
		if counts[role] != n {
			t.Errorf("%d entities with role %s, want %d", counts[role], role, n)
		}
	}
}

func TestDemoWorld(t *testing.T) {
	env := sandboxtest.Start(t, sandboxtest.SharedKeys())
	w := env.World
	if len(w.Manifest.Employers) != 2 {
		t.Fatalf("%d employers", len(w.Manifest.Employers))
	}
	algs := map[sandbox.KeyAlg]bool{}
	for _, o := range w.Manifest.Employers {
		if !sandbox.ValidTaxNumberCore(o.TaxNumber) {
			t.Errorf("%s: tax number %s has a bad check digit", o.Name, o.TaxNumber)
		}
		signers, err := w.Signers(o.Key)
		if err != nil || len(signers) != 3 {
			t.Fatalf("%s: %d signers, %v", o.Name, len(signers), err)
		}
		for _, s := range signers {
			algs[s.KeyAlgorithm] = true
			if s.Owner != o.Key || s.Role != sandbox.RoleSigner || s.HasTag(sandbox.TagExpired) || s.HasTag(sandbox.TagNotYetValid) {
				t.Errorf("%s: bad signer entry %+v", o.Name, s)
			}
			c := s.Cert
			if len(c.Subject.Organization) != 1 || c.Subject.Organization[0] != o.Name {
				t.Errorf("%s: O=%v", s.Name, c.Subject.Organization)
			}
			if s.Person == nil || !sandbox.ValidPersonalTaxID(s.Person.TaxID) || c.Subject.SerialNumber != "PNOHU-"+s.Person.TaxID {
				t.Errorf("%s: person %+v serialNumber %q", s.Name, s.Person, c.Subject.SerialNumber)
			}
			if c.Subject.CommonName != s.Person.Name() {
				t.Errorf("%s: CN %q", s.Name, c.Subject.CommonName)
			}
			found := false
			for _, n := range c.Subject.Names {
				if n.Type.Equal(sandbox.OIDOrganizationIdentifier) && n.Value == "VATHU-"+o.TaxNumber {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: organizationIdentifier VATHU-%s missing", s.Name, o.TaxNumber)
			}
		}
		enc := w.MustEntity(o.Encryption)
		if enc.Role != sandbox.RoleEncryption || enc.Owner != o.Key {
			t.Errorf("%s: encryption entity %+v", o.Name, enc)
		}
	}
	for _, a := range []sandbox.KeyAlg{sandbox.RSA2048, sandbox.RSA3072, sandbox.ECDSAP256} {
		if !algs[a] {
			t.Errorf("no signer with %s", a)
		}
	}
	f := w.Manifest.Fund
	if !sandbox.ValidTaxNumberCore(f.TaxNumber) || len(f.FundCode) != 4 {
		t.Errorf("fund %+v", f)
	}
	receipt, tlsE := w.MustEntity(f.Receipt), w.MustEntity(f.TLS)
	if receipt.Role != sandbox.RoleReceiptSigner || tlsE.Role != sandbox.RoleTLSServer {
		t.Fatalf("fund receipt/tls roles %s/%s", receipt.Role, tlsE.Role)
	}
	rk, _ := x509.MarshalPKIXPublicKey(receipt.Key.Public())
	tk, _ := x509.MarshalPKIXPublicKey(tlsE.Key.Public())
	ek, _ := x509.MarshalPKIXPublicKey(w.MustEntity(f.Encryption).Key.Public())
	if bytes.Equal(rk, tk) || bytes.Equal(rk, ek) {
		t.Error("the receipt key is shared with the TLS or decryption key (SEC-14)")
	}
	if tlsE.Cert.Issuer.String() == receipt.Cert.Issuer.String() || tlsE.Issuer != sandbox.TLSCA {
		t.Errorf("TLS certificate not from the separate TLS CA")
	}
	if err := tlsE.Cert.VerifyHostname("127.0.0.1"); err != nil {
		t.Error(err)
	}
	if err := tlsE.Cert.VerifyHostname("localhost"); err != nil {
		t.Error(err)
	}
	if !slices.ContainsFunc(tlsE.Cert.IPAddresses, func(ip net.IP) bool { return ip.Equal(net.IPv6loopback) }) {
		t.Error("TLS certificate lacks ::1")
	}
	if _, err := tlsE.Cert.Verify(x509.VerifyOptions{Roots: w.TLSRootPool(), DNSName: "localhost"}); err != nil {
		t.Error(err)
	}
	if _, err := tlsE.Cert.Verify(x509.VerifyOptions{Roots: w.RootPool(), Intermediates: w.IntermediatePool()}); err == nil {
		t.Error("TLS certificate chains to the signature root; it must come from a separate TLS CA")
	}
	if tax := w.MustEntity(w.Manifest.TaxAuthority.Encryption); tax.Role != sandbox.RoleEncryption || !sandbox.ValidTaxNumberCore(w.Manifest.TaxAuthority.TaxNumber) {
		t.Errorf("tax authority %+v", tax)
	}
	if tc := w.TLSCertificate(); len(tc.Certificate) != 1 || tc.PrivateKey == nil {
		t.Errorf("TLSCertificate: %d certs", len(tc.Certificate))
	}
}

func TestFilesAndLoad(t *testing.T) {
	env := sandboxtest.Start(t, sandboxtest.SharedKeys())
	w := env.World
	st, err := os.Stat(w.PasswordFile())
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v %v", err, st)
	}
	for _, e := range w.Entities() {
		st, err := os.Stat(w.Path(e.Files.PKCS12))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: p12 %v", e.Name, err)
		}
		chain, err := os.ReadFile(w.Path(e.Files.Chain))
		if err != nil || bytes.Count(chain, []byte("BEGIN CERTIFICATE")) != 1+len(e.Chain) {
			t.Errorf("%s: chain file %v", e.Name, err)
		}
	}
	// Init refuses to overwrite.
	if err := sandbox.Init(env.Dir, sandbox.InitOptions{BaseURL: env.URL}); err == nil {
		t.Error("Init over an existing sandbox succeeded")
	}

	// Tampering is detected.
	copyDir := func(t *testing.T) string {
		dst := t.TempDir()
		filepath.Walk(env.Dir, func(p string, info os.FileInfo, err error) error {
			rel, _ := filepath.Rel(env.Dir, p)
			if info.IsDir() {
				return os.MkdirAll(filepath.Join(dst, rel), 0o700)
			}
			b, _ := os.ReadFile(p)
			return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
		})
		return dst
	}
	signer := w.MustEntity("signer-pelda-1")
	other := w.MustEntity("signer-pelda-2")
	cases := []struct {
		name   string
		mutate func(dir string)
		want   string
	}{
		{"intact", func(string) {}, ""},
		{"cert swapped", func(d string) {
			b, _ := os.ReadFile(filepath.Join(d, other.Files.CertDER))
			os.WriteFile(filepath.Join(d, signer.Files.CertDER), b, 0o600)
		}, "SHA-256"},
		{"key swapped", func(d string) {
			b, _ := os.ReadFile(filepath.Join(d, other.Files.PKCS12))
			os.WriteFile(filepath.Join(d, signer.Files.PKCS12), b, 0o600)
		}, "different certificate"},
		{"wrong password", func(d string) { os.WriteFile(filepath.Join(d, "secrets", "p12.pass"), []byte("nope\n"), 0o600) }, "PKCS#12"},
		{"manifest garbage", func(d string) { os.WriteFile(filepath.Join(d, sandbox.ManifestFile), []byte("{"), 0o600) }, sandbox.ManifestFile},
		{"no manifest", func(d string) { os.Remove(filepath.Join(d, sandbox.ManifestFile)) }, "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := copyDir(t)
			c.mutate(d)
			_, err := sandbox.Load(d)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err %v, want mention of %q", err, c.want)
			}
		})
	}
}

func TestInitOptions(t *testing.T) {
	fixed := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		opts sandbox.InitOptions
		ok   bool
	}{
		{"non-loopback base URL", sandbox.InitOptions{BaseURL: "http://192.0.2.1:8901"}, false},
		{"hostname", sandbox.InitOptions{BaseURL: "http://example.org"}, false},
		{"ftp", sandbox.InitOptions{BaseURL: "ftp://127.0.0.1"}, false},
		{"bad key alg", sandbox.InitOptions{CAKey: "DSA-1024"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := sandbox.Init(t.TempDir(), c.opts)
			if (err == nil) != c.ok {
				t.Errorf("err %v, ok want %v", err, c.ok)
			}
		})
	}

	// A fixed Now gives reproducible windows; RSA CAs work.
	env := sandboxtest.Start(t, sandboxtest.SharedKeys(), sandboxtest.WithInit(func(o *sandbox.InitOptions) {
		o.Now = fixed
		o.RootKey, o.CAKey = sandbox.RSA3072, sandbox.RSA2048
	}))
	w := env.World
	if !w.Manifest.Created.Equal(fixed) {
		t.Errorf("created %v", w.Manifest.Created)
	}
	s := w.MustEntity("signer-minta-1")
	if !s.Cert.NotBefore.Equal(fixed.Add(-time.Hour)) || !s.Cert.NotAfter.Equal(fixed.Add(2*365*24*time.Hour)) {
		t.Errorf("window %v..%v", s.Cert.NotBefore, s.Cert.NotAfter)
	}
	if w.MustEntity(sandbox.RootCA).KeyAlgorithm != sandbox.RSA3072 || w.MustEntity(sandbox.QualifiedCA).Cert.PublicKeyAlgorithm != x509.RSA {
		t.Error("CA key algorithm options ignored")
	}
	if _, err := w.Entity("nope"); !errors.Is(err, sandbox.ErrNotFound) {
		t.Errorf("Entity(nope): %v", err)
	}
	if e, err := w.BySerial(strings.ToUpper(s.Serial)); err != nil || e != s {
		t.Errorf("BySerial: %v", err)
	}
}

func TestListenLoopbackOnly(t *testing.T) {
	for _, c := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:0", true}, {"localhost:0", true},
		{"0.0.0.0:0", false}, {":0", false}, {"192.0.2.1:0", false}, {"[::]:0", false}, {"example.org:0", false}, {"nonsense", false},
	} {
		ln, err := sandbox.Listen(c.addr)
		if (err == nil) != c.ok {
			t.Errorf("Listen(%q): err %v, want ok=%v", c.addr, err, c.ok)
		}
		if ln != nil {
			if !ln.Addr().(*net.TCPAddr).IP.IsLoopback() {
				t.Errorf("%q bound to %v", c.addr, ln.Addr())
			}
			ln.Close()
		}
	}
}
