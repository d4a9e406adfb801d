package sandbox

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/tagdij/tagdij/internal/keys"
	"github.com/tagdij/tagdij/internal/qc"
)

// DefaultBaseURL is the base URL written into certificates when
// InitOptions.BaseURL is empty.
const DefaultBaseURL = "http://127.0.0.1:8901"

// InitOptions configure Init.
type InitOptions struct {
	// BaseURL is the URL the sandbox will be served at, e.g.
	// "http://127.0.0.1:8901"; it goes into the certificates' AIA (OCSP,
	// caIssuers) and CRL distribution points. Empty means DefaultBaseURL. It
	// must be an http URL on a loopback address or localhost.
	BaseURL string
	// Now is the instant the validity windows are computed from; zero means
	// time.Now(). A fixed Now (with a fixed KeySource) makes windows
	// reproducible.
	Now time.Time
	// Key algorithms of the fixed entities; zero values mean ECDSA P-384 for
	// the CAs, RSA-2048 for the TSA unit and ECDSA P-256 for the OCSP
	// responder. Signer keys are a fixed mix (RSA-2048, RSA-3072, ECDSA
	// P-256) so every consumer meets each kind.
	RootKey KeyAlg
	CAKey   KeyAlg
	TSAKey  KeyAlg
	OCSPKey KeyAlg
	// Keys produces the private keys; nil means GenerateKey. It may be
	// called from several goroutines at once, in any order.
	Keys KeySource
	// RankedKeys, when set, produces the keys instead of Keys: it is told
	// each key's rank among the sandbox's keys of the same algorithm (0, 1,
	// ... in the order of the entities), so a source that hands out stored
	// keys gives every entity the same key in every Init, whatever order the
	// concurrent calls come in. It may be called from several goroutines at
	// once.
	RankedKeys func(alg KeyAlg, rank int) (crypto.Signer, error)
	// Password protects the PKCS#12 files and is written to
	// dir/secrets/p12.pass; nil means a fresh random password.
	Password []byte
}

// spec describes one certificate to issue.
type spec struct {
	name, role, owner string
	subject           pkix.Name
	issuer            string // "" = self-signed
	alg               KeyAlg
	notBefore         time.Time
	notAfter          time.Time
	ca                bool
	maxPathLenZero    bool
	keyUsage          x509.KeyUsage
	extKeyUsage       []x509.ExtKeyUsage
	criticalEKU       []asn1.ObjectIdentifier // written as a critical EKU extension instead of extKeyUsage
	qualified         bool
	policies          []asn1.ObjectIdentifier
	extra             []pkix.Extension
	dns               []string
	ips               []net.IP
	tags              []string
	person            *Person
}

type demoSigner struct {
	given, surname string
	birth          string
	alg            KeyAlg
}

type demoOrg struct {
	key, name, taxPrefix string
	signers              []demoSigner
}

// The demo world. Tax-number cores are completed with their check digit.
var (
	demoEmployers = []demoOrg{
		{key: "pelda", name: "Példa Kft.", taxPrefix: "1234567", signers: []demoSigner{
			{"Anna", "Kovács", "1971-03-15", RSA2048},
			{"Béla", "Nagy", "1965-11-02", ECDSAP256},
			{"Csilla", "Szabó", "1980-07-23", RSA3072},
		}},
		{key: "minta", name: "Minta Bt.", taxPrefix: "2345678", signers: []demoSigner{
			{"Dávid", "Tóth", "1975-01-30", RSA2048},
			{"Eszter", "Horváth", "1988-05-09", ECDSAP256},
			{"Ferenc", "Kiss", "1959-12-12", RSA2048},
		}},
	}
	demoExpired     = demoSigner{"Gábor", "Varga", "1969-09-01", RSA2048}
	demoNotYetValid = demoSigner{"Hajnalka", "Molnár", "1990-02-14", ECDSAP256}
	demoFund        = demoOrg{key: "fund", name: "Tagdíj Sandbox Magánnyugdíjpénztár", taxPrefix: "1888888"}
	demoTax         = demoOrg{key: "tax", name: "Nemzeti Adó- és Vámhivatal (sandbox)", taxPrefix: "1578433"}
)

const demoFundCode = "0101"

// Init creates a new sandbox PKI in dir (created if missing; it must not
// already hold a manifest). On success dir holds sandbox.json, the
// certificates (certs/NAME.pem, certs/NAME.der), chains (chains/NAME.pem,
// leaf first, root last), PKCS#12 keys (keys/NAME.p12, mode 0600),
// ca-bundle.pem with every CA certificate, secrets/p12.pass (mode 0600), an
// empty revocation list and trust.json (see WriteTrustConfig). On failure the partly written files are left for
// inspection; the manifest is written last, so Load refuses such a directory.
func Init(dir string, opts InitOptions) error {
	if err := opts.normalize(); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err == nil {
		return fmt.Errorf("sandbox: init: %s already holds a sandbox (már létező sandbox)", dir)
	}
	for _, sub := range []string{"", "certs", "chains"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return fmt.Errorf("sandbox: init: %w", err)
		}
	}
	for _, sub := range []string{"keys", "secrets"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return fmt.Errorf("sandbox: init: %w", err)
		}
	}

	man, specs, err := buildSpecs(opts)
	if err != nil {
		return err
	}
	src := func(i int) (crypto.Signer, error) { return opts.Keys(specs[i].alg) }
	if opts.RankedKeys != nil {
		rank := make([]int, len(specs))
		seen := map[KeyAlg]int{}
		for i, s := range specs {
			rank[i] = seen[s.alg]
			seen[s.alg]++
		}
		src = func(i int) (crypto.Signer, error) { return opts.RankedKeys(specs[i].alg, rank[i]) }
	}
	keys, err := generateKeys(specs, src)
	if err != nil {
		return err
	}

	password := opts.Password
	if password == nil {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("sandbox: init: password: %w", err)
		}
		password = []byte(base64.RawURLEncoding.EncodeToString(b))
	}
	if err := os.WriteFile(filepath.Join(dir, "secrets", "p12.pass"), append(bytes.Clone(password), '\n'), 0o600); err != nil {
		return fmt.Errorf("sandbox: init: %w", err)
	}

	certs := map[string]*x509.Certificate{}
	var bundle bytes.Buffer
	for i, s := range specs {
		cert, err := issue(s, keys[i], specs, keys, certs, opts.BaseURL)
		if err != nil {
			return err
		}
		certs[s.name] = cert
		chain := chainOf(s.name, specs, certs)
		e, err := writeEntity(dir, s, cert, chain, keys[i], password)
		if err != nil {
			return err
		}
		man.Entities = append(man.Entities, e)
		if s.ca {
			pem.Encode(&bundle, &pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "ca-bundle.pem"), bundle.Bytes(), 0o644); err != nil {
		return fmt.Errorf("sandbox: init: %w", err)
	}
	if err := writeJSONAtomic(filepath.Join(dir, RevocationsFile), revocationFile{Version: 1, Revocations: []Revocation{}}, 0o644); err != nil {
		return err
	}
	if err := initTrustConfig(dir, man); err != nil {
		return err
	}
	if err := writeDemoConfigs(dir, man); err != nil {
		return err
	}
	if err := writeReceiverConfig(dir, man); err != nil {
		return err
	}
	if err := writeProcessorConfig(dir, man); err != nil {
		return err
	}
	return writeJSONAtomic(filepath.Join(dir, ManifestFile), man, 0o644)
}

func (o *InitOptions) normalize() error {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if err := checkBaseURL(o.BaseURL); err != nil {
		return err
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = o.Now.UTC().Truncate(time.Second)
	for _, p := range []struct {
		alg *KeyAlg
		def KeyAlg
	}{{&o.RootKey, ECDSAP384}, {&o.CAKey, ECDSAP384}, {&o.TSAKey, RSA2048}, {&o.OCSPKey, ECDSAP256}} {
		if *p.alg == "" {
			*p.alg = p.def
		}
		if !p.alg.Valid() {
			return fmt.Errorf("sandbox: init: unsupported key algorithm %q", *p.alg)
		}
	}
	if o.Keys == nil {
		o.Keys = GenerateKey
	}
	return nil
}

// checkBaseURL accepts only http(s) URLs whose host is a loopback address
// or localhost: the sandbox never points certificates at another machine.
func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("sandbox: base URL %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("sandbox: base URL %q: scheme must be http or https", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("sandbox: base URL %q: no query, fragment or user info allowed", s)
	}
	if !isLoopbackHost(u.Hostname()) {
		return fmt.Errorf("sandbox: base URL %q: host must be a loopback address (csak loopback cím)", s)
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// buildSpecs lays out the whole PKI. CAs come first so each certificate's
// issuer is issued before it.
func buildSpecs(o InitOptions) (*Manifest, []spec, error) {
	now := o.Now
	year := 365 * 24 * time.Hour
	day := 24 * time.Hour
	man := &Manifest{
		Version:      ManifestVersion,
		Created:      now,
		BaseURL:      o.BaseURL,
		PasswordFile: "secrets/p12.pass",
		TSAPolicy:    OIDSandboxTSAPolicy.String(),
	}
	caName := func(cn string) pkix.Name {
		return pkix.Name{Country: []string{"HU"}, Organization: []string{"Tagdij Sandbox CSP (TESZT)"}, CommonName: cn}
	}
	leaf := func() (time.Time, time.Time) { return now.Add(-time.Hour), now.Add(2 * year) }

	specs := []spec{
		{name: RootCA, role: RoleRootCA, subject: caName("Tagdij Sandbox Root CA"), alg: o.RootKey,
			notBefore: now.Add(-5 * year), notAfter: now.Add(20 * year), ca: true,
			keyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign},
		{name: QualifiedCA, role: RoleCA, subject: caName("Tagdij Sandbox Qualified CA"), issuer: RootCA, alg: o.CAKey,
			notBefore: now.Add(-5 * year), notAfter: now.Add(15 * year), ca: true, maxPathLenZero: true,
			keyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
			policies: []asn1.ObjectIdentifier{OIDETSIQCPnQSCD, OIDSandboxQualifiedPolicy}},
		{name: AdvancedCA, role: RoleCA, subject: caName("Tagdij Sandbox Advanced CA"), issuer: RootCA, alg: o.CAKey,
			notBefore: now.Add(-5 * year), notAfter: now.Add(15 * year), ca: true, maxPathLenZero: true,
			keyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
			policies: []asn1.ObjectIdentifier{OIDETSINCPPlus, OIDSandboxAdvancedPolicy}},
		{name: TSACA, role: RoleCA, subject: caName("Tagdij Sandbox TSA CA"), issuer: RootCA, alg: o.CAKey,
			notBefore: now.Add(-5 * year), notAfter: now.Add(15 * year), ca: true, maxPathLenZero: true,
			keyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign},
		{name: TLSCA, role: RoleRootCA, subject: caName("Tagdij Sandbox TLS CA"), alg: o.CAKey,
			notBefore: now.Add(-year), notAfter: now.Add(10 * year), ca: true,
			keyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign},
	}

	nb, na := leaf()
	specs = append(specs,
		spec{name: OCSPResponder, role: RoleOCSPResponder, subject: caName("Tagdij Sandbox Qualified CA OCSP Responder"),
			issuer: QualifiedCA, alg: o.OCSPKey, notBefore: nb, notAfter: now.Add(year),
			keyUsage: x509.KeyUsageDigitalSignature, extKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
			extra: []pkix.Extension{{Id: OIDOCSPNoCheck, Value: asn1.NullBytes}}},
		spec{name: TSAUnit, role: RoleTSA, subject: caName("Tagdij Sandbox TSA Unit 1"),
			issuer: TSACA, alg: o.TSAKey, notBefore: nb, notAfter: now.Add(5 * year),
			keyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
			criticalEKU: []asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}}},
	)

	orgSubject := func(org Organization, cn string) pkix.Name {
		return pkix.Name{
			Country: []string{"HU"}, Organization: []string{org.Name}, CommonName: cn,
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: OIDOrganizationIdentifier, Value: "VATHU-" + org.TaxNumber}},
		}
	}
	signerSpec := func(org Organization, name string, d demoSigner, seq int) (spec, error) {
		birth, err := time.Parse(time.DateOnly, d.birth)
		if err != nil {
			return spec{}, err
		}
		taxID, err := personalTaxID(birth, seq*37+101)
		if err != nil {
			return spec{}, err
		}
		p := &Person{GivenName: d.given, Surname: d.surname, TaxID: taxID}
		subj := orgSubject(org, p.Name())
		subj.SerialNumber = "PNOHU-" + taxID
		subj.ExtraNames = append(subj.ExtraNames,
			pkix.AttributeTypeAndValue{Type: OIDSurname, Value: d.surname},
			pkix.AttributeTypeAndValue{Type: OIDGivenName, Value: d.given})
		nb, na := leaf()
		return spec{name: name, role: RoleSigner, owner: org.Key, subject: subj, issuer: QualifiedCA, alg: d.alg,
			notBefore: nb, notAfter: na, qualified: true, person: p,
			keyUsage: x509.KeyUsageContentCommitment | x509.KeyUsageDigitalSignature,
			policies: []asn1.ObjectIdentifier{OIDETSIQCPnQSCD, OIDSandboxQualifiedPolicy}}, nil
	}
	encSpec := func(org Organization, name, cn string) spec {
		nb, na := leaf()
		return spec{name: name, role: RoleEncryption, owner: org.Key, subject: orgSubject(org, cn), issuer: AdvancedCA,
			alg: RSA2048, notBefore: nb, notAfter: na, keyUsage: x509.KeyUsageKeyEncipherment,
			policies: []asn1.ObjectIdentifier{OIDETSINCPPlus, OIDSandboxAdvancedPolicy}}
	}
	org := func(d demoOrg) (Organization, error) {
		check, ok := TaxNumberCheckDigit(d.taxPrefix)
		if !ok {
			return Organization{}, fmt.Errorf("sandbox: bad tax prefix %q", d.taxPrefix)
		}
		return Organization{Key: d.key, Name: d.name, TaxNumber: d.taxPrefix + string(check)}, nil
	}

	seq := 0
	for i, d := range demoEmployers {
		o, err := org(d)
		if err != nil {
			return nil, nil, err
		}
		for j, ds := range d.signers {
			seq++
			s, err := signerSpec(o, fmt.Sprintf("signer-%s-%d", d.key, j+1), ds, seq)
			if err != nil {
				return nil, nil, err
			}
			specs = append(specs, s)
			o.Signers = append(o.Signers, s.name)
		}
		o.Encryption = "enc-" + d.key
		specs = append(specs, encSpec(o, o.Encryption, o.Name+" titkosító tanúsítvány"))
		man.Employers = append(man.Employers, o)
		if i == 0 {
			s, err := signerSpec(o, ExpiredSigner, demoExpired, 90)
			if err != nil {
				return nil, nil, err
			}
			s.notBefore, s.notAfter, s.tags = now.Add(-2*year), now.Add(-30*day), []string{TagExpired}
			specs = append(specs, s)
		} else {
			s, err := signerSpec(o, NotYetValidSign, demoNotYetValid, 91)
			if err != nil {
				return nil, nil, err
			}
			s.notBefore, s.notAfter, s.tags = now.Add(30*day), now.Add(2*year+30*day), []string{TagNotYetValid}
			specs = append(specs, s)
		}
	}

	fund, err := org(demoFund)
	if err != nil {
		return nil, nil, err
	}
	fund.FundCode = demoFundCode
	fund.Encryption, fund.Receipt, fund.TLS = FundEncryption, FundReceipt, FundTLS
	specs = append(specs, encSpec(fund, FundEncryption, fund.Name+" titkosító tanúsítvány"))
	nb, na = leaf()
	specs = append(specs,
		spec{name: FundReceipt, role: RoleReceiptSigner, owner: fund.Key, subject: orgSubject(fund, fund.Name+" nyugtaaláíró"),
			issuer: AdvancedCA, alg: RSA2048, notBefore: nb, notAfter: na,
			keyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
			policies: []asn1.ObjectIdentifier{OIDETSINCPPlus, OIDSandboxAdvancedPolicy}},
		spec{name: FundTLS, role: RoleTLSServer, owner: fund.Key, subject: pkix.Name{Country: []string{"HU"},
			Organization: []string{fund.Name}, CommonName: "localhost"},
			issuer: TLSCA, alg: ECDSAP256, notBefore: nb, notAfter: now.Add(397 * day),
			keyUsage: x509.KeyUsageDigitalSignature, extKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			dns: []string{"localhost"}, ips: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}},
	)
	man.Fund = fund

	tax, err := org(demoTax)
	if err != nil {
		return nil, nil, err
	}
	tax.Encryption = TaxEncryption
	specs = append(specs, encSpec(tax, TaxEncryption, "NAV adatfogadó titkosító tanúsítvány (sandbox)"))
	man.TaxAuthority = tax
	return man, specs, nil
}

// generateKeys produces one key per spec, a few at a time (RSA generation
// dominates Init's run time).
func generateKeys(specs []spec, src func(i int) (crypto.Signer, error)) ([]crypto.Signer, error) {
	keys := make([]crypto.Signer, len(specs))
	errs := make([]error, len(specs))
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	var wg sync.WaitGroup
	for i := range specs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			k, err := src(i)
			if err == nil {
				if got, ok := keyAlgOf(k.Public()); !ok || got != specs[i].alg {
					err = fmt.Errorf("key source returned %T, want %s", k.Public(), specs[i].alg)
				}
			}
			keys[i], errs[i] = k, err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("sandbox: init: key for %s: %w", specs[i].name, err)
		}
	}
	seen := map[string]string{}
	for i, k := range keys {
		der, err := x509.MarshalPKIXPublicKey(k.Public())
		if err != nil {
			return nil, fmt.Errorf("sandbox: init: key for %s: %w", specs[i].name, err)
		}
		if other, dup := seen[string(der)]; dup {
			return nil, fmt.Errorf("sandbox: init: key source gave %s and %s the same key", other, specs[i].name)
		}
		seen[string(der)] = specs[i].name
	}
	return keys, nil
}

func randomSerial() (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	b[0] &= 0x7f
	b[0] |= 0x10 // never zero, always 16 bytes
	return new(big.Int).SetBytes(b), nil
}

func indexOf(specs []spec, name string) int {
	for i, s := range specs {
		if s.name == name {
			return i
		}
	}
	return -1
}

// issue creates the certificate of s.
func issue(s spec, key crypto.Signer, specs []spec, keys []crypto.Signer, certs map[string]*x509.Certificate, baseURL string) (*x509.Certificate, error) {
	serial, err := randomSerial()
	if err != nil {
		return nil, fmt.Errorf("sandbox: init: serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               s.subject,
		NotBefore:             s.notBefore,
		NotAfter:              s.notAfter,
		KeyUsage:              s.keyUsage,
		ExtKeyUsage:           s.extKeyUsage,
		BasicConstraintsValid: true,
		IsCA:                  s.ca,
		MaxPathLenZero:        s.maxPathLenZero,
		DNSNames:              s.dns,
		IPAddresses:           s.ips,
		ExtraExtensions:       append([]pkix.Extension(nil), s.extra...),
	}
	if !s.ca {
		tmpl.BasicConstraintsValid = false
	}
	if tmpl.SubjectKeyId, err = subjectKeyID(key.Public()); err != nil {
		return nil, fmt.Errorf("sandbox: init: %s: %w", s.name, err)
	}
	for _, p := range s.policies {
		oid, err := x509.OIDFromInts(oidUint64(p))
		if err != nil {
			return nil, fmt.Errorf("sandbox: init: policy %v: %w", p, err)
		}
		tmpl.Policies = append(tmpl.Policies, oid)
	}
	if len(s.criticalEKU) > 0 {
		v, err := asn1.Marshal(s.criticalEKU)
		if err != nil {
			return nil, fmt.Errorf("sandbox: init: EKU: %w", err)
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: v})
	}
	if s.qualified {
		ext, err := qc.Extension(qc.Statements{Compliance: true, SSCD: true, Types: []asn1.ObjectIdentifier{qc.OIDTypeESign}})
		if err != nil {
			return nil, fmt.Errorf("sandbox: init: %w", err)
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, ext)
	}
	parent, parentKey := tmpl, key
	if s.issuer != "" {
		i := indexOf(specs, s.issuer)
		if i < 0 || certs[s.issuer] == nil {
			return nil, fmt.Errorf("sandbox: init: issuer %s of %s not issued yet", s.issuer, s.name)
		}
		parent, parentKey = certs[s.issuer], keys[i]
		tmpl.CRLDistributionPoints = []string{baseURL + "/crl/" + s.issuer + ".crl"}
		tmpl.IssuingCertificateURL = []string{baseURL + "/ca/" + s.issuer + ".crt"}
		if s.role != RoleOCSPResponder {
			tmpl.OCSPServer = []string{baseURL + "/ocsp"}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return nil, fmt.Errorf("sandbox: init: issuing %s: %w", s.name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("sandbox: init: parsing %s: %w", s.name, err)
	}
	return cert, nil
}

// subjectKeyID is RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	bits, err := publicKeyBits(pub)
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(bits)
	return sum[:], nil
}

// publicKeyBits returns the content of the subjectPublicKey BIT STRING.
func publicKeyBits(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return spkiBits(der)
}

func spkiBits(spki []byte) ([]byte, error) {
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if rest, err := asn1.Unmarshal(spki, &info); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("malformed SubjectPublicKeyInfo")
	}
	return info.PublicKey.RightAlign(), nil
}

func oidUint64(o asn1.ObjectIdentifier) []uint64 {
	out := make([]uint64, len(o))
	for i, v := range o {
		out[i] = uint64(v)
	}
	return out
}

// chainOf returns the CA certificates above name, issuer first, root last.
func chainOf(name string, specs []spec, certs map[string]*x509.Certificate) []*x509.Certificate {
	var chain []*x509.Certificate
	for cur := specs[indexOf(specs, name)].issuer; cur != ""; cur = specs[indexOf(specs, cur)].issuer {
		chain = append(chain, certs[cur])
	}
	return chain
}

func writeEntity(dir string, s spec, cert *x509.Certificate, chain []*x509.Certificate, key crypto.Signer, password []byte) (*Entity, error) {
	sum := sha256.Sum256(cert.Raw)
	issuer := s.issuer
	if issuer == "" {
		issuer = s.name
	}
	e := &Entity{
		Name: s.name, Role: s.role, Owner: s.owner, Subject: cert.Subject.String(), Issuer: issuer,
		Serial: cert.SerialNumber.Text(16), SHA256: hex.EncodeToString(sum[:]), KeyAlgorithm: s.alg,
		NotBefore: cert.NotBefore.UTC(), NotAfter: cert.NotAfter.UTC(), Qualified: s.qualified, Tags: s.tags, Person: s.person,
		Files: Files{
			Cert:    "certs/" + s.name + ".pem",
			CertDER: "certs/" + s.name + ".der",
			Chain:   "chains/" + s.name + ".pem",
			PKCS12:  "keys/" + s.name + ".p12",
		},
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	chainPEM := bytes.Clone(certPEM)
	for _, c := range chain {
		chainPEM = append(chainPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	// keys.EncodePKCS12: go-pkcs12 Modern (PBES2/AES-256-CBC, PBKDF2, SHA-256 MAC), which OpenSSL 3
	// reads without the legacy provider, and the same writer the key store offers deployments.
	p12, err := keys.EncodePKCS12(key, cert, chain, password)
	if err != nil {
		return nil, fmt.Errorf("sandbox: init: %s: %w", s.name, err)
	}
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{e.Files.Cert, certPEM, 0o644},
		{e.Files.CertDER, cert.Raw, 0o644},
		{e.Files.Chain, chainPEM, 0o644},
		{e.Files.PKCS12, p12, 0o600},
	} {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(f.path)), f.data, f.mode); err != nil {
			return nil, fmt.Errorf("sandbox: init: %w", err)
		}
	}
	return e, nil
}

func writeJSONAtomic(path string, v any, mode os.FileMode) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("sandbox: encode %s: %w", filepath.Base(path), err)
	}
	data = append(data, '\n')
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("sandbox: write %s: %w", path, err)
	}
	name := f.Name()
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Chmod(mode)
	}
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(name, path)
	}
	if werr != nil {
		os.Remove(name)
		return fmt.Errorf("sandbox: write %s: %w", path, werr)
	}
	return nil
}
