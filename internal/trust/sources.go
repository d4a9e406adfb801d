package trust

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"

	"github.com/tagdij/tagdij/internal/boundedio"
	"github.com/tagdij/tagdij/internal/revocation"
)

// ErrSource is matched (errors.Is) by every error about Config.RevocationSources.
var ErrSource = errors.New("hibás visszavonási forrás / bad revocation source")

// loadSources checks the configured revocation sources and turns them into the checker's form.
// abs resolves a path of the configuration.
func loadSources(cfg []RevocationSource, abs func(string) string) ([]revocation.IssuerSource, error) {
	var out []revocation.IssuerSource
	for i, s := range cfg {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("trust: revocationSources[%d]: %w: %s", i, ErrSource, fmt.Sprintf(format, args...))
		}
		if s.Issuer == "" {
			return nil, bad("az issuer (a kibocsátó CA tanúsítványfájlja) kötelező / issuer (the issuing CA's certificate file) is required")
		}
		certs, err := ReadCertificates(abs(s.Issuer))
		if err != nil {
			return nil, bad("issuer: a tanúsítvány nem olvasható / the certificate cannot be read: %v", err)
		}
		if len(certs) != 1 {
			return nil, bad("issuer: %s: %d tanúsítványt tartalmaz, pontosan egy kell / holds %d certificates, exactly one is needed",
				s.Issuer, len(certs), len(certs))
		}
		issuer := certs[0]
		if s.OCSPURL == "" && s.CRLURL == "" && s.CRLFile == "" && s.CRLDir == "" {
			return nil, bad("ocspURL, crlURL, crlFile vagy crlDir közül legalább egy kell / at least one of ocspURL, crlURL, crlFile, crlDir is needed")
		}
		src := revocation.IssuerSource{Issuer: issuer}
		if s.OCSPURL != "" {
			if err := checkSourceURL(s.OCSPURL, "http", "https"); err != nil {
				return nil, bad("ocspURL %q: %v", s.OCSPURL, err)
			}
			src.OCSP = []string{s.OCSPURL}
		}
		if s.CRLURL != "" {
			if err := checkSourceURL(s.CRLURL, "http"); err != nil {
				return nil, bad("crlURL %q: %v", s.CRLURL, err)
			}
			src.CRL = []string{s.CRLURL}
		}
		if s.CRLFile != "" {
			p := abs(s.CRLFile)
			if err := checkCRLFile(p, issuer); err != nil {
				return nil, bad("crlFile %s: %v", s.CRLFile, err)
			}
			src.CRLFiles = []string{p}
		}
		if s.CRLDir != "" {
			p := abs(s.CRLDir)
			if st, err := os.Stat(p); err != nil {
				return nil, bad("crlDir: %v", err)
			} else if !st.IsDir() {
				return nil, bad("crlDir %s: nem könyvtár / not a directory", s.CRLDir)
			}
			src.CRLDirs = []string{p}
		}
		out = append(out, src)
	}
	return out, nil
}

// ErrProxy is matched (errors.Is) by every error about Config.Proxy.
var ErrProxy = errors.New("hibás proxy / bad proxy")

// parseProxy checks Config.Proxy: empty (no proxy) or an http(s) URL with a host and no user info
// (a password in the configuration would be a secret in a file that is not one).
func parseProxy(s string) (*url.URL, error) {
	if s == "" {
		return nil, nil
	}
	if err := checkSourceURL(s, "http", "https"); err != nil {
		return nil, fmt.Errorf("trust: proxy %q: %w: %v", s, ErrProxy, err)
	}
	u, _ := url.Parse(s)
	return u, nil
}

// checkSourceURL accepts an absolute URL with one of the schemes and a host, without user info.
func checkSourceURL(s string, schemes ...string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("érvénytelen URL / invalid URL")
	}
	ok := false
	for _, sc := range schemes {
		ok = ok || u.Scheme == sc
	}
	switch {
	case !ok && len(schemes) == 1:
		return fmt.Errorf("a séma csak %s lehet / the scheme must be %s", schemes[0], schemes[0])
	case !ok:
		return fmt.Errorf("a séma %s vagy %s lehet / the scheme must be %s or %s", schemes[0], schemes[1], schemes[0], schemes[1])
	case u.Host == "":
		return errors.New("hiányzik a gépnév / host missing")
	case u.User != nil:
		return errors.New("felhasználói adat nem lehet az URL-ben / no user info in the URL")
	}
	return nil
}

// checkCRLFile checks that path holds a CRL issued and signed by issuer. Its freshness is not
// checked here: it is judged at every use, and the fund may replace the file before then.
func checkCRLFile(path string, issuer *x509.Certificate) error {
	if st, err := os.Stat(path); err != nil {
		return err
	} else if !st.Mode().IsRegular() {
		return errors.New("nem közönséges fájl / not a regular file")
	}
	data, err := boundedio.ReadFile(path, revocation.DefaultMaxCRLBytes)
	if err != nil {
		return err
	}
	crl, err := x509.ParseRevocationList(revocation.DecodeCRL(data))
	if err != nil {
		return fmt.Errorf("nem CRL / not a CRL: %w", err)
	}
	if !bytes.Equal(crl.RawIssuer, issuer.RawSubject) {
		return fmt.Errorf("a CRL kibocsátója %q, nem az issuer %q / the CRL is issued by %q, not by the issuer %q",
			crl.Issuer, issuer.Subject, crl.Issuer, issuer.Subject)
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		return fmt.Errorf("a CRL aláírása nem az issuer kulcsával készült / the CRL is not signed by the issuer's key: %w", err)
	}
	return nil
}
