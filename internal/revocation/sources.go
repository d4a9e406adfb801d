package revocation

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tagdij/tagdij/internal/boundedio"
)

// IssuerSource names where revocation evidence about the certificates one CA issued can be found
// besides the locations the certificates name themselves: for a certificate that names none, or
// whose own locations cannot be reached from where the check runs (SPEC §3). Evidence from it is
// verified exactly like evidence from a certificate's own location (signed by the issuer or, for
// OCSP, by its authorised responder; fresh at the checker's clock; covering the certificate), so a
// wrong or stale source yields no evidence, never false evidence.
type IssuerSource struct {
	// Issuer is the CA certificate. The source applies to certificates whose issuer has Issuer's
	// name and public key (so a re-issued or cross-certified copy of the CA matches too).
	Issuer *x509.Certificate
	// OCSP are responder URLs (http or https) that answer for the issuer's certificates.
	OCSP []string
	// CRL are URLs (http) of complete CRLs (or ARLs) of the issuer.
	CRL []string
	// CRLFiles are local CRL files of the issuer (DER or PEM), read at every check so a file
	// replaced by the operator is used at once.
	CRLFiles []string
	// CRLDirs are local directories of CRLs (DER or PEM, one per file) kept current by the operator;
	// of the files issued by Issuer, the valid one with the latest thisUpdate is used. Files of other
	// issuers and files that are not CRLs are ignored.
	CRLDirs []string
}

// covers reports whether s applies to certificates issued by issuer.
func (s *IssuerSource) covers(issuer *x509.Certificate) bool {
	return s.Issuer != nil && issuer != nil && bytes.Equal(s.Issuer.RawSubject, issuer.RawSubject) &&
		bytes.Equal(s.Issuer.RawSubjectPublicKeyInfo, issuer.RawSubjectPublicKeyInfo)
}

// HasSourceFor reports whether the checker has a configured source for certificates issued by
// issuer.
func (c *Checker) HasSourceFor(issuer *x509.Certificate) bool {
	for i := range c.Sources {
		if c.Sources[i].covers(issuer) {
			return true
		}
	}
	return false
}

// ErrLocalCRL: a local CRL file or directory of a configured source could not be read, or the
// directory holds no CRL of the issuer (unavailable).
var ErrLocalCRL = errors.New("no usable local CRL")

// MaxCRLDirEntries bounds how many directory entries a CRL directory may hold; a larger directory is
// read only up to this many entries (in name order), so a runaway directory cannot stall checks.
const MaxCRLDirEntries = 4096

// FileURL is the Evidence.URL of evidence read from the local file path.
func FileURL(path string) string { return "file:" + path }

// DecodeCRL returns the DER of a CRL given as DER or as PEM ("X509 CRL" block); data that is
// neither is returned unchanged for the parser to reject.
func DecodeCRL(data []byte) []byte {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if !bytes.HasPrefix(trimmed, []byte("-----BEGIN")) {
		return data
	}
	for rest := trimmed; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return data
		}
		if b.Type == "X509 CRL" {
			return b.Bytes
		}
	}
}

func (c *Checker) crlLimit() int64 {
	if c.CRL.MaxBytes > 0 {
		return c.CRL.MaxBytes
	}
	return DefaultMaxCRLBytes
}

// readCRLFile reads one local CRL file, bounded by the CRL size limit.
func (c *Checker) readCRLFile(path string) ([]byte, error) {
	// Only regular files (or links to them): opening a FIFO or device would block or never end.
	if st, err := os.Stat(path); err != nil {
		return nil, unavailable(MethodCRL, FileURL(path), ErrLocalCRL, "%v", err)
	} else if !st.Mode().IsRegular() {
		return nil, unavailable(MethodCRL, FileURL(path), ErrLocalCRL, "not a regular file")
	}
	data, err := boundedio.ReadFile(path, c.crlLimit())
	if err != nil {
		if errors.Is(err, boundedio.ErrTooLarge) {
			return nil, unavailable(MethodCRL, FileURL(path), ErrTooLarge, "more than %d bytes", c.crlLimit())
		}
		return nil, unavailable(MethodCRL, FileURL(path), ErrLocalCRL, "%v", err)
	}
	return DecodeCRL(data), nil
}

// fileCRL verifies the local CRL file path as evidence for q at now.
func (c *Checker) fileCRL(path string, q Query, now time.Time) (*Evidence, error) {
	der, err := c.readCRLFile(path)
	if err != nil {
		return nil, err
	}
	return VerifyCRL(der, q.Cert, q.Issuer, CRLVerifyOptions{Now: now, Freshness: c.CRL.Freshness, URL: FileURL(path), SigCache: c.CRL.SigCache})
}

// dirCRL returns the freshest CRL of dir that verifies as evidence for q at now. Files issued by
// someone else, and files that are not CRLs, are skipped; when files of the issuer exist but none
// verifies, the error of the newest is returned.
func (c *Checker) dirCRL(dir string, q Query, now time.Time) (*Evidence, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, unavailable(MethodCRL, FileURL(dir), ErrLocalCRL, "%v", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	if len(entries) > MaxCRLDirEntries {
		entries = entries[:MaxCRLDirEntries]
	}
	var best *Evidence
	var bestErr error
	var bestErrTime time.Time
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		der, err := c.readCRLFile(p)
		if err != nil {
			continue
		}
		crl, err := x509.ParseRevocationList(der)
		if err != nil || !bytes.Equal(crl.RawIssuer, q.Issuer.RawSubject) {
			continue
		}
		ev, err := VerifyCRL(der, q.Cert, q.Issuer, CRLVerifyOptions{Now: now, Freshness: c.CRL.Freshness, URL: FileURL(p), SigCache: c.CRL.SigCache})
		if err != nil {
			if bestErr == nil || crl.ThisUpdate.After(bestErrTime) {
				bestErr, bestErrTime = err, crl.ThisUpdate
			}
			continue
		}
		if best == nil || newerCRL(ev, best) {
			best = ev
		}
	}
	switch {
	case best != nil:
		return best, nil
	case bestErr != nil:
		return nil, bestErr
	}
	return nil, unavailable(MethodCRL, FileURL(dir), ErrLocalCRL, "no CRL issued by %q in the directory", q.Issuer.Subject)
}

// newerCRL reports whether a is a later statement than b: a later thisUpdate, or the same with a
// higher CRL number.
func newerCRL(a, b *Evidence) bool {
	at, bt := a.ThisUpdate(), b.ThisUpdate()
	if !at.Equal(bt) {
		return at.After(bt)
	}
	return a.CRL != nil && b.CRL != nil && a.CRL.Number != nil && b.CRL.Number != nil && a.CRL.Number.Cmp(b.CRL.Number) > 0
}

// sourceLocation is one place a configured source offers evidence at.
type sourceLocation struct {
	kind string // "url", "file", "dir"
	loc  string
}

// sourceLocations lists what the configured sources offer for method m about certificates of
// issuer, in configuration order: URLs, then (for CRLs) files and directories.
func (c *Checker) sourceLocations(m Method, issuer *x509.Certificate) []sourceLocation {
	var out []sourceLocation
	for i := range c.Sources {
		s := &c.Sources[i]
		if !s.covers(issuer) {
			continue
		}
		switch m {
		case MethodOCSP:
			for _, u := range s.OCSP {
				out = append(out, sourceLocation{"url", u})
			}
		case MethodCRL:
			for _, u := range s.CRL {
				out = append(out, sourceLocation{"url", u})
			}
			for _, f := range s.CRLFiles {
				out = append(out, sourceLocation{"file", f})
			}
			for _, d := range s.CRLDirs {
				out = append(out, sourceLocation{"dir", d})
			}
		}
	}
	return out
}

// String is a short account of the location for logs.
func (l sourceLocation) String() string {
	if l.kind == "url" {
		return l.loc
	}
	return fmt.Sprintf("%s %s", l.kind, l.loc)
}
