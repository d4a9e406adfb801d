package trust

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/qc"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/revocation"
	"github.com/tagdij/tagdij/internal/revocation/revtest"
	"github.com/tagdij/tagdij/policy"
)

// A foreign hierarchy built entirely by `openssl` (req, ca, ca -gencrl, crl): root → issuing CA →
// signer and TSA. The root publishes an ARL (a CRL covering only CA certificates, issued rarely and
// valid for months); the issuing CA publishes a CRL. Every time is fixed (certificates 2030–2040,
// T in 2031) and every clock is injected: nothing here depends on the wall clock.

var (
	fT       = time.Date(2031, 6, 1, 10, 0, 0, 0, time.UTC) // the signature's time-stamp time
	arlThis  = time.Date(2031, 5, 1, 0, 0, 0, 0, time.UTC)  // the ARL: a month before T …
	arlNext  = time.Date(2031, 11, 1, 0, 0, 0, 0, time.UTC) // … valid for half a year
	afterCRL = fT.Add(25 * time.Hour)                       // the issuing CA's CRL after the 24 h grace
	fNow     = fT.Add(26 * time.Hour)                       // the final check
)

func requireOpenSSL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed (scripts/deps.sh installs it)")
	}
}

func openssl(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// gtime is OpenSSL's GeneralizedTime argument format; utime the UTCTime of its CA database.
func gtime(t time.Time) string { return t.UTC().Format("20060102150405Z") }
func utime(t time.Time) string { return t.UTC().Format("060102150405Z") }

// fileServer is a loopback HTTP server publishing CRLs by path; what a path serves can change.
type fileServer struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string][]byte
	hits  map[string]int
}

func newFileServer(t *testing.T) *fileServer {
	s := &fileServer{files: map[string][]byte{}, hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		b, ok := s.files[r.URL.Path]
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/pkix-crl")
		w.Write(b)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *fileServer) publish(path string, der []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if der == nil {
		delete(s.files, path)
		return
	}
	s.files[path] = der
}

// closedURL is an http URL on loopback where nothing listens: "cannot be reached".
func closedURL(t *testing.T, path string) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + path
}

// osslCA is one CA of the hierarchy with its OpenSSL CA directory.
type osslCA struct {
	dir, cnf, certFile, keyFile string
	cert                        *x509.Certificate
}

type foreignPKI struct {
	t                      *testing.T
	dir, ext               string
	srv                    *fileServer
	arlURL, crlURL         string
	root, issuing          *osslCA
	signer, tsa            *x509.Certificate
	signerFile, issuerFile string
}

// foreignOpts shapes the hierarchy: where the issuing CA certificate says its status is published.
type foreignOpts struct {
	// caCDP is the issuing CA certificate's CRL distribution point: "arl" the root's ARL on the
	// server, "none" no CRL DP and no AIA at all, "unreachable" a loopback port nobody listens on.
	caCDP string
}

const qcOID = "1.3.6.1.5.5.7.1.3"

func newForeignPKI(t *testing.T, o foreignOpts) *foreignPKI {
	t.Helper()
	requireOpenSSL(t)
	p := &foreignPKI{t: t, dir: t.TempDir(), srv: newFileServer(t)}
	p.arlURL, p.crlURL = p.srv.URL+"/root.arl", p.srv.URL+"/issuing.crl"
	caCDP := ""
	switch o.caCDP {
	case "arl":
		caCDP = "crlDistributionPoints = URI:" + p.arlURL
	case "unreachable":
		caCDP = "crlDistributionPoints = URI:" + closedURL(t, "/root.arl")
	case "none":
	default:
		t.Fatalf("caCDP %q", o.caCDP)
	}
	qcExt, err := qc.Extension(qc.Statements{Compliance: true, SSCD: true})
	if err != nil {
		t.Fatal(err)
	}
	p.ext = filepath.Join(p.dir, "ext.cnf")
	ext := fmt.Sprintf(`[ v3_root ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_issuing ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
%s
[ v3_signer ]
basicConstraints = critical, CA:false
keyUsage = critical, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:%s
%s = DER:%s
[ v3_tsa ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:%s
`, caCDP, p.crlURL, qcOID, hex.EncodeToString(qcExt.Value), p.crlURL)
	if err := os.WriteFile(p.ext, []byte(ext), 0o600); err != nil {
		t.Fatal(err)
	}
	p.root = p.newCA("root")
	p.issuing = p.newCA("issuing")
	from, to := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	openssl(t, "req", "-new", "-config", p.root.cnf, "-key", p.root.keyFile, "-subj", "/C=HU/O=Foreign Trust Services/CN=Foreign Root CA",
		"-out", filepath.Join(p.root.dir, "req.csr"))
	openssl(t, "ca", "-batch", "-config", p.root.cnf, "-selfsign", "-keyfile", p.root.keyFile, "-in", filepath.Join(p.root.dir, "req.csr"),
		"-out", p.root.certFile, "-startdate", gtime(from), "-enddate", gtime(to), "-extfile", p.ext, "-extensions", "v3_root", "-notext")
	p.root.cert = readCert(t, p.root.certFile)
	p.issuing.cert = p.issue(p.root, p.issuing.keyFile, "/C=HU/O=Foreign Trust Services/CN=Foreign Qualified Issuing CA", "v3_issuing",
		from, time.Date(2038, 1, 1, 0, 0, 0, 0, time.UTC), p.issuing.certFile)
	leafTo := time.Date(2033, 1, 1, 0, 0, 0, 0, time.UTC)
	p.signerFile = filepath.Join(p.dir, "signer.pem")
	p.signer = p.issue(p.issuing, p.newKey("signer"), "/C=HU/O=Pelda Kft./CN=Kovacs Anna", "v3_signer", from, leafTo, p.signerFile)
	p.tsa = p.issue(p.issuing, p.newKey("tsa"), "/C=HU/O=Foreign Trust Services/CN=Foreign TSA 1", "v3_tsa", from, leafTo,
		filepath.Join(p.dir, "tsa.pem"))
	p.issuerFile = p.issuing.certFile
	return p
}

func (p *foreignPKI) newKey(name string) string {
	k := filepath.Join(p.dir, name+".key")
	openssl(p.t, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", k)
	return k
}

func (p *foreignPKI) newCA(name string) *osslCA {
	t := p.t
	ca := &osslCA{dir: filepath.Join(p.dir, name)}
	if err := os.MkdirAll(filepath.Join(ca.dir, "newcerts"), 0o700); err != nil {
		t.Fatal(err)
	}
	for f, body := range map[string]string{"index.txt": "", "serial": "1000\n", "crlnumber": "01\n"} {
		if err := os.WriteFile(filepath.Join(ca.dir, f), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ca.cnf = filepath.Join(ca.dir, "ca.cnf")
	cnf := fmt.Sprintf(`[ ca ]
default_ca = CA_default
[ CA_default ]
dir = %s
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
policy = policy_any
unique_subject = no
[ policy_any ]
countryName = optional
organizationName = optional
commonName = supplied
[ req ]
distinguished_name = dn
[ dn ]
# CRL extensions (openssl ca -gencrl reads them from here, not from -extfile)
[ arl_ext ]
authorityKeyIdentifier = keyid:always
issuingDistributionPoint = critical, @arl_idp
[ arl_idp ]
onlyCA = TRUE
[ crl_ext ]
authorityKeyIdentifier = keyid:always
`, ca.dir)
	if err := os.WriteFile(ca.cnf, []byte(cnf), 0o600); err != nil {
		t.Fatal(err)
	}
	ca.keyFile = p.newKey(name + "-ca")
	ca.certFile = filepath.Join(ca.dir, "cert.pem")
	return ca
}

// issue has ca certify a new key with the given subject, extensions and validity.
func (p *foreignPKI) issue(ca *osslCA, key, subject, exts string, from, to time.Time, out string) *x509.Certificate {
	csr := out + ".csr"
	openssl(p.t, "req", "-new", "-config", ca.cnf, "-key", key, "-subj", subject, "-out", csr)
	openssl(p.t, "ca", "-batch", "-config", ca.cnf, "-cert", ca.certFile, "-keyfile", ca.keyFile, "-in", csr, "-out", out,
		"-startdate", gtime(from), "-enddate", gtime(to), "-extfile", p.ext, "-extensions", exts, "-notext")
	return readCert(p.t, out)
}

// revokeIssuing enters the issuing CA's revocation into the root's database, at the given time:
// `openssl ca -revoke` records the current time, so the date is set in the database afterwards.
func (p *foreignPKI) revokeIssuing(at time.Time) {
	openssl(p.t, "ca", "-config", p.root.cnf, "-cert", p.root.certFile, "-keyfile", p.root.keyFile,
		"-revoke", p.issuing.certFile, "-crl_reason", "keyCompromise")
	idx := filepath.Join(p.root.dir, "index.txt")
	b, err := os.ReadFile(idx)
	if err != nil {
		p.t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if f := strings.Split(l, "\t"); len(f) == 6 && f[0] == "R" {
			f[2] = utime(at) + ",keyCompromise"
			lines[i] = strings.Join(f, "\t")
		}
	}
	if err := os.WriteFile(idx, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		p.t.Fatal(err)
	}
}

// crl has ca issue a CRL (the root: an ARL, onlyContainsCACerts) with the given validity; it returns
// the PEM file openssl wrote and the DER.
func (p *foreignPKI) crl(ca *osslCA, name string, this, next time.Time) (string, []byte) {
	exts := "crl_ext"
	if ca == p.root {
		exts = "arl_ext"
	}
	pemFile := filepath.Join(p.dir, name+".pem")
	derFile := filepath.Join(p.dir, name+".der")
	openssl(p.t, "ca", "-batch", "-config", ca.cnf, "-cert", ca.certFile, "-keyfile", ca.keyFile, "-gencrl",
		"-crl_lastupdate", gtime(this), "-crl_nextupdate", gtime(next), "-crlexts", exts, "-out", pemFile)
	openssl(p.t, "crl", "-in", pemFile, "-outform", "DER", "-out", derFile)
	der, err := os.ReadFile(derFile)
	if err != nil {
		p.t.Fatal(err)
	}
	return pemFile, der
}

// publishARL and publishCRL put a fresh CRL on the server at the distribution points.
func (p *foreignPKI) publishARL(this, next time.Time) []byte {
	_, der := p.crl(p.root, fmt.Sprintf("arl-%d", this.Unix()), this, next)
	p.srv.publish("/root.arl", der)
	return der
}

func (p *foreignPKI) publishCRL(this, next time.Time) []byte {
	_, der := p.crl(p.issuing, fmt.Sprintf("crl-%d", this.Unix()), this, next)
	p.srv.publish("/issuing.crl", der)
	return der
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	cs, err := ReadCertificates(path)
	if err != nil || len(cs) != 1 {
		t.Fatalf("%s: %v (%d certificates)", path, err, len(cs))
	}
	return cs[0]
}

// env loads the trust configuration the way programs do (a JSON file beside the certificates), on
// the production policy (grace: OCSP 4 h, CRL 24 h), with the checker's clock at now.
func (p *foreignPKI) env(now time.Time, sources string) *Env {
	p.t.Helper()
	pol, err := policy.Production()
	if err != nil {
		p.t.Fatal(err)
	}
	js := fmt.Sprintf(`{"signerAnchors": [%q], "tsaAnchors": [%q]%s}`, p.root.certFile, p.root.certFile, sources)
	path := filepath.Join(p.dir, "trust.json")
	if err := os.WriteFile(path, []byte(js), 0o600); err != nil {
		p.t.Fatal(err)
	}
	env, err := LoadFile(path, pol, false, func() time.Time { return now })
	if err != nil {
		p.t.Fatalf("trust configuration %s: %v", js, err)
	}
	return env
}

func (p *foreignPKI) signerQuery(now time.Time) ChainQuery {
	return ChainQuery{Purpose: pathval.PurposeSigner, Leaf: p.signer, Intermediates: []*x509.Certificate{p.issuing.cert}, T: fT, Now: now}
}

// TestRevisedGraceRuleForeignHierarchy: SPEC §3 as revised — post-grace evidence for the signer
// certificate only; CA and TSA certificates need current evidence showing no revocation at or
// before T.
func TestRevisedGraceRuleForeignHierarchy(t *testing.T) {
	requireOpenSSL(t)
	ctx := context.Background()
	type want struct {
		ind  report.Indication
		sub  report.SubIndication
		code errcode.Code
		// loc, when set, must be contained in the first finding's location.
		loc string
		// reason, when set, is the reason of the first missing certificate.
		reason MissingReason
	}
	passed := want{ind: report.TotalPassed, sub: report.None}
	cases := []struct {
		name  string
		opts  foreignOpts
		setup func(p *foreignPKI) (sources string, q ChainQuery)
		want  want
		check func(t *testing.T, p *foreignPKI, r ChainResult)
	}{
		{
			name: "ARL issued a month before T is the issuing CA's evidence after the signer's grace period",
			opts: foreignOpts{caCDP: "arl"},
			setup: func(p *foreignPKI) (string, ChainQuery) {
				p.publishARL(arlThis, arlNext)
				p.publishCRL(afterCRL, afterCRL.Add(7*24*time.Hour))
				return "", p.signerQuery(fNow)
			},
			want: passed,
			check: func(t *testing.T, p *foreignPKI, r ChainResult) {
				ca := r.Path.Revocation[1]
				if ca == nil || ca.Method != revocation.MethodCRL || !ca.ThisUpdate().Equal(arlThis) || ca.URL != p.arlURL {
					t.Fatalf("the CA's evidence is not the ARL: %+v", ca)
				}
				if s := r.Path.Revocation[0]; s == nil || s.ThisUpdate().Before(fT.Add(24*time.Hour)) {
					t.Fatalf("the signer's evidence is not from after the grace period: %+v", s)
				}
			},
		},
		{
			name: "signer evidence from before T + grace stays TRY_LATER after the grace period, the CA's ARL is accepted",
			opts: foreignOpts{caCDP: "arl"},
			setup: func(p *foreignPKI) (string, ChainQuery) {
				p.publishARL(arlThis, arlNext)
				p.publishCRL(fT.Add(time.Hour), fT.Add(8*24*time.Hour)) // issued 1 h after T, still current
				return "", p.signerQuery(fNow)
			},
			want: want{ind: report.Indeterminate, sub: report.TryLater, code: errcode.A012, loc: "signer", reason: ReasonGraceNotOver},
			check: func(t *testing.T, p *foreignPKI, r ChainResult) {
				if r.Path == nil || r.Path.Revocation[1] == nil || r.Path.Revocation[1].Method != revocation.MethodCRL {
					t.Fatalf("the CA's ARL was not accepted: %+v", r.Path)
				}
				if len(r.Missing) != 1 || r.Missing[0].CA || len(r.Verdict.Findings) != 1 {
					t.Fatalf("only the signer should lack evidence: %+v %+v", r.Missing, r.Verdict.Findings)
				}
			},
		},
		{
			name: "CA naming no revocation location, per-issuer CRL file (openssl PEM ARL) configured",
			opts: foreignOpts{caCDP: "none"},
			setup: func(p *foreignPKI) (string, ChainQuery) {
				arl, _ := p.crl(p.root, "arl-local", arlThis, arlNext)
				p.publishCRL(afterCRL, afterCRL.Add(7*24*time.Hour))
				return fmt.Sprintf(`, "revocationSources": [{"issuer": %q, "crlFile": %q}]`, "root/cert.pem", filepath.Base(arl)), p.signerQuery(fNow)
			},
			want: passed,
			check: func(t *testing.T, p *foreignPKI, r ChainResult) {
				if ev := r.Path.Revocation[1]; ev == nil || !strings.HasPrefix(ev.URL, "file:") {
					t.Fatalf("the CA's evidence is not the configured file: %+v", ev)
				}
			},
		},
		{
			name: "CA naming no revocation location, nothing configured: A011 naming the CA",
			opts: foreignOpts{caCDP: "none"},
			setup: func(p *foreignPKI) (string, ChainQuery) {
				p.publishCRL(afterCRL, afterCRL.Add(7*24*time.Hour))
				return "", p.signerQuery(fNow)
			},
			want: want{ind: report.Indeterminate, sub: report.TryLater, code: errcode.A011, loc: "signer CA " + "CN=Foreign Qualified Issuing CA",
				reason: ReasonNoLocation},
			check: func(t *testing.T, p *foreignPKI, r ChainResult) {
				f := r.Verdict.Findings[0]
				for _, s := range []string{"names no revocation location", "nem nevez meg visszavonási helyet", "Foreign Qualified Issuing CA"} {
					if !strings.Contains(f.EN+f.HU, s) {
						t.Errorf("finding lacks %q: %+v", s, f)
					}
				}
				if m := r.Missing[0]; !m.CA || m.Configured || len(m.Locations) != 0 {
					t.Errorf("missing evidence: %+v", m)
				}
			},
		},
		{
			name: "inside the grace period with a CA naming no location: A012 for the signer and, at once, A011 naming the CA",
			opts: foreignOpts{caCDP: "none"},
			setup: func(p *foreignPKI) (string, ChainQuery) {
				p.publishCRL(fT.Add(time.Hour), fT.Add(8*24*time.Hour))
				return "", p.signerQuery(fT.Add(2 * time.Hour))
			},
			want: want{ind: report.Indeterminate, sub: report.TryLater, code: errcode.A012, loc: "signer", reason: ReasonGraceNotOver},
			check: func(t *testing.T, p *foreignPKI, r ChainResult) {
				f := r.Verdict.Findings
				if len(f) != 2 || f[1].Code != errcode.A011 || f[1].Location != "signer CA "+p.issuing.cert.Subject.String() ||
					len(r.Missing) != 2 || r.Missing[1].Reason != ReasonNoLocation {
					t.Fatalf("findings %+v, missing %+v", f, r.Missing)
				}
			},
		},
		{
			name: "the CA's own distribution point unreachable, per-issuer CRL URL configured",
			opts: foreignOpts{caCDP: "unreachable"},
			setup: func(p *foreignPKI) (string, ChainQuery) {
				_, der := p.crl(p.root, "arl-mirror", arlThis, arlNext)
				p.srv.publish("/mirror/root.arl", der)
				p.publishCRL(afterCRL, afterCRL.Add(7*24*time.Hour))
				return fmt.Sprintf(`, "revocationSources": [{"issuer": "root/cert.pem", "crlURL": %q}]`, p.srv.URL+"/mirror/root.arl"), p.signerQuery(fNow)
			},
			want: passed,
		},
		{
			name: "the CA's own distribution point unreachable, nothing configured: A011 unreachable naming the CA",
			opts: foreignOpts{caCDP: "unreachable"},
			setup: func(p *foreignPKI) (string, ChainQuery) {
				p.publishCRL(afterCRL, afterCRL.Add(7*24*time.Hour))
				return "", p.signerQuery(fNow)
			},
			want: want{ind: report.Indeterminate, sub: report.TryLater, code: errcode.A011, loc: "signer CA CN=Foreign Qualified Issuing CA", reason: ReasonUnreachable},
		},
		{
			name: "per-issuer OCSP responder configured for a CA naming no location",
			opts: foreignOpts{caCDP: "none"},
			setup: func(p *foreignPKI) (string, ChainQuery) {
				p.publishCRL(afterCRL, afterCRL.Add(7*24*time.Hour))
				root := &revtest.Identity{Cert: p.root.cert, Key: readKey(t, p.root.keyFile)}
				srv := revtest.NewOCSPServer(t)
				srv.Set(func(c *revtest.OCSPConfig) {
					*c = revtest.OCSPConfig{Issuer: root, Signer: root, Default: revtest.OCSPStatus{Status: ocsp.Good},
						ThisUpdate: fNow.Add(-time.Hour), NextUpdate: fNow.Add(24 * time.Hour), ProducedAt: fNow.Add(-time.Hour)}
				})
				return fmt.Sprintf(`, "revocationSources": [{"issuer": "root/cert.pem", "ocspURL": %q}]`, srv.URL), p.signerQuery(fNow)
			},
			want: passed,
			check: func(t *testing.T, p *foreignPKI, r ChainResult) {
				if ev := r.Path.Revocation[1]; ev == nil || ev.Method != revocation.MethodOCSP {
					t.Fatalf("the CA's evidence is not the configured responder's: %+v", ev)
				}
			},
		},
		{
			name: "CA revoked before T per the ARL in a configured CRL directory: A005",
			opts: foreignOpts{caCDP: "none"},
			setup: func(p *foreignPKI) (string, ChainQuery) {
				dir := filepath.Join(p.dir, "crls")
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				put := func(name string, der []byte) {
					if err := os.WriteFile(filepath.Join(dir, name), der, 0o600); err != nil {
						t.Fatal(err)
					}
				}
				_, older := p.crl(p.root, "arl-older", arlThis, arlNext) // does not list the CA yet
				put("a-older.arl", older)
				p.revokeIssuing(fT.Add(-48 * time.Hour))
				_, newer := p.crl(p.root, "arl-newer", fT.Add(-47*time.Hour), arlNext)
				put("b-newer.arl", newer)
				put("c-issuing.crl", p.publishCRL(afterCRL, afterCRL.Add(7*24*time.Hour))) // another issuer's
				put("README", []byte("CRLs of the foreign hierarchy, refreshed nightly"))
				return `, "revocationSources": [{"issuer": "root/cert.pem", "crlDir": "crls"}]`, p.signerQuery(fNow)
			},
			want: want{ind: report.TotalFailed, sub: report.RevokedNoPOE, code: errcode.A005, loc: "signer CA CN=Foreign Qualified Issuing CA"},
		},
		{
			name: "CA revoked after T does not invalidate the signature",
			opts: foreignOpts{caCDP: "arl"},
			setup: func(p *foreignPKI) (string, ChainQuery) {
				p.revokeIssuing(fT.Add(time.Hour))
				p.publishARL(fT.Add(2*time.Hour), arlNext)
				p.publishCRL(afterCRL, afterCRL.Add(7*24*time.Hour))
				return "", p.signerQuery(fNow)
			},
			want: passed,
			check: func(t *testing.T, p *foreignPKI, r ChainResult) {
				if len(r.Path.RevokedAfterT) != 1 || r.Path.RevokedAfterT[0] != 1 {
					t.Fatalf("the CA's revocation after T is not recorded: %v", r.Path.RevokedAfterT)
				}
			},
		},
		{
			name: "ARL past its nextUpdate at the validation time: A011 not current, naming the CA",
			opts: foreignOpts{caCDP: "arl"},
			setup: func(p *foreignPKI) (string, ChainQuery) {
				p.publishARL(arlThis, fT.Add(time.Hour))
				p.publishCRL(afterCRL, afterCRL.Add(7*24*time.Hour))
				return "", p.signerQuery(fNow)
			},
			want: want{ind: report.Indeterminate, sub: report.TryLater, code: errcode.A011, loc: "signer CA CN=Foreign Qualified Issuing CA", reason: ReasonNotCurrent},
		},
		{
			name: "TSA chain with current evidence, inside the grace period",
			opts: foreignOpts{caCDP: "arl"},
			setup: func(p *foreignPKI) (string, ChainQuery) {
				p.publishARL(arlThis, arlNext)
				p.publishCRL(fT.Add(-24*time.Hour), fT.Add(6*24*time.Hour)) // issued the day before T
				return "", ChainQuery{Purpose: pathval.PurposeTSA, Leaf: p.tsa, Intermediates: []*x509.Certificate{p.issuing.cert},
					T: fT, Now: fT.Add(time.Hour)}
			},
			want: passed,
		},
		{
			name: "TSA revoked before T per its CA's CRL: A005",
			opts: foreignOpts{caCDP: "arl"},
			setup: func(p *foreignPKI) (string, ChainQuery) {
				p.publishARL(arlThis, arlNext)
				openssl(t, "ca", "-config", p.issuing.cnf, "-cert", p.issuing.certFile, "-keyfile", p.issuing.keyFile,
					"-revoke", filepath.Join(p.dir, "tsa.pem"), "-crl_reason", "keyCompromise")
				idx := filepath.Join(p.issuing.dir, "index.txt")
				b, _ := os.ReadFile(idx)
				var out []string
				for _, l := range strings.Split(string(b), "\n") {
					if f := strings.Split(l, "\t"); len(f) == 6 && f[0] == "R" {
						f[2] = utime(fT.Add(-time.Hour)) + ",keyCompromise"
						l = strings.Join(f, "\t")
					}
					out = append(out, l)
				}
				os.WriteFile(idx, []byte(strings.Join(out, "\n")), 0o600)
				p.publishCRL(fT.Add(-30*time.Minute), fT.Add(6*24*time.Hour))
				return "", ChainQuery{Purpose: pathval.PurposeTSA, Leaf: p.tsa, Intermediates: []*x509.Certificate{p.issuing.cert},
					T: fT, Now: fT.Add(time.Hour)}
			},
			want: want{ind: report.TotalFailed, sub: report.RevokedNoPOE, code: errcode.A005, loc: "TSA"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newForeignPKI(t, tc.opts)
			sources, q := tc.setup(p)
			env := p.env(q.Now, sources)
			r := env.CheckChain(ctx, q)
			expect(t, tc.name, r, tc.want.ind, tc.want.sub, tc.want.code)
			if tc.want.loc != "" && (len(r.Verdict.Findings) == 0 || !strings.Contains(r.Verdict.Findings[0].Location, tc.want.loc)) {
				t.Fatalf("first finding's location does not name %q: %+v", tc.want.loc, r.Verdict.Findings)
			}
			if tc.want.reason != "" && (len(r.Missing) == 0 || r.Missing[0].Reason != tc.want.reason) {
				t.Fatalf("missing evidence %+v, want reason %s", r.Missing, tc.want.reason)
			}
			if tc.check != nil {
				tc.check(t, p, r)
			}
		})
	}
}

// TestEmbeddedCAEvidenceOffline: evidence a final check collected (the signer's post-grace CRL and
// the issuing CA's ARL from before T) carries the verdict offline years later, when the ARL is long
// past its nextUpdate; embedded CA evidence that had expired before T does not.
func TestEmbeddedCAEvidenceOffline(t *testing.T) {
	p := newForeignPKI(t, foreignOpts{caCDP: "arl"})
	ctx := context.Background()
	arl := p.publishARL(arlThis, arlNext)
	crl := p.publishCRL(afterCRL, afterCRL.Add(7*24*time.Hour))
	_, oldARL := p.crl(p.root, "arl-expired", arlThis.AddDate(0, -6, 0), arlThis.Add(-time.Hour))
	env := p.env(fNow, "")
	r := env.CheckChain(ctx, p.signerQuery(fNow))
	expect(t, "final check online", r, report.TotalPassed, report.None, "")

	offline := *env
	offline.Online = nil
	years := time.Date(2036, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		emb  Embedded
		ind  report.Indication
		code errcode.Code
		loc  string
	}{
		{"the evidence the final check used", Embedded{CRL: [][]byte{r.Path.Revocation[0].Raw, r.Path.Revocation[1].Raw}}, report.TotalPassed, "", ""},
		{"same, served by openssl's DER", Embedded{CRL: [][]byte{crl, arl}}, report.TotalPassed, "", ""},
		{"an ARL that expired before T", Embedded{CRL: [][]byte{crl, oldARL}}, report.Indeterminate, errcode.A011, "signer CA CN=Foreign Qualified Issuing CA"},
		{"no CA evidence", Embedded{CRL: [][]byte{crl}}, report.Indeterminate, errcode.A011, "signer CA CN=Foreign Qualified Issuing CA"},
		{"no signer evidence", Embedded{CRL: [][]byte{arl}}, report.Indeterminate, errcode.A011, "signer"},
	} {
		q := p.signerQuery(years)
		q.Embedded = tc.emb
		r := offline.CheckChain(ctx, q)
		if r.Verdict.Indication != tc.ind {
			t.Errorf("%s: %s %+v, want %s", tc.name, r.Verdict.Indication, r.Verdict.Findings, tc.ind)
			continue
		}
		if tc.code != "" && (r.Verdict.Findings[0].Code != tc.code || !strings.HasPrefix(r.Verdict.Findings[0].Location, tc.loc)) {
			t.Errorf("%s: findings %+v, want %s at %q", tc.name, r.Verdict.Findings, tc.code, tc.loc)
		}
	}
}

func readKey(t *testing.T, path string) crypto.Signer {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(crypto.Signer)
}
