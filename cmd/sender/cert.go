package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/keys"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/qc"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/internal/xades"
	"github.com/tagdij/tagdij/policy"
)

// certCmd groups the commands that inspect and check a signing certificate (SIG-06, SIG-16, SND-22).
var certCmd = &cli.Command{
	Name:    "cert",
	Summary: "aláíró tanúsítvány megtekintése és ellenőrzése / show and check a signing certificate",
	Help: "Az aláíró tanúsítvány megjelenítése (SIG-06, SIG-21) és érvényességének, láncának és\n" +
		"visszavonási állapotának ellenőrzése aláírás előtt (SND-22, SIG-16).\n" +
		"/ Show the signing certificate (SIG-06, SIG-21) and check its validity, chain and revocation\n" +
		"status before signing (SND-22, SIG-16).",
	Sub: []*cli.Command{certShowCmd, certCheckCmd},
}

// maxCertFileBytes bounds a certificate file: a chain of a few certificates is a few KiB.
const maxCertFileBytes = 1 << 20

// maxCertsPerFile bounds how many certificates one file may hold.
const maxCertsPerFile = 32

// keySourceFlags declares --key and --pin, shared by the commands that read a key's certificate.
func keySourceFlags(fs *flag.FlagSet) {
	fs.String("key", "", "kulcs megadása a fájl helyett: p12:ÚTVONAL vagy pkcs11:module=...;token=...;key=... / "+
		"key `SPEC` instead of a file: p12:PATH or pkcs11:module=...;token=...;key=...")
	fs.String("pin", "", "PIN-kód vagy PKCS#12 jelszó forrása: file:ÚTVONAL, env:NÉV vagy prompt: (soha nem közvetlenül) / "+
		"PIN or PKCS#12 password `SOURCE`: file:PATH, env:NAME or prompt: (never the secret itself)")
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// secretFromFlag reads the --pin flag as a secret source (ParseSecretSource refuses literal secrets,
// SEC-03). An empty flag prompts on the terminal.
func secretFromFlag(env *cli.Env, fs *flag.FlagSet, label string) (keys.Secret, error) {
	src, err := keys.ParseSecretSource(fs.Lookup("pin").Value.String())
	if err != nil {
		// ParseSecretSource never repeats what was typed: it may be the secret itself.
		return nil, cli.Usagef("--pin: %v", err)
	}
	if in, ok := env.Stdin.(*os.File); ok {
		src = src.WithTerminal(in, env.Stderr)
	}
	return src.WithPrompt(label), nil
}

// certSource is a certificate to show or check and the other certificates that came with it.
type certSource struct {
	Name  string              // file name or key description, for the output
	Leaf  *x509.Certificate   // the certificate itself
	Extra []*x509.Certificate // chain candidates that came with it (PEM after the leaf, PKCS#12 bags, token)
}

// loadCertSource reads the certificate a command names: FILE (PEM, leaf first, or DER) or --key SPEC.
func loadCertSource(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) (*certSource, error) {
	spec := fs.Lookup("key").Value.String()
	switch {
	case len(args) > 1:
		return nil, cli.Usagef("legfeljebb egy fájlnév adható meg / at most one file name")
	case len(args) == 1 && spec != "":
		return nil, cli.Usagef("fájl vagy --key, nem mindkettő / a file or --key, not both")
	case len(args) == 0 && spec == "":
		return nil, cli.Usagef("tanúsítványfájl vagy --key szükséges / a certificate file or --key is needed")
	}
	if len(args) == 1 {
		data, err := cli.ReadFile(args[0], maxCertFileBytes)
		if err != nil {
			return nil, err
		}
		certs, err := parseCertificates(data)
		if err != nil {
			return nil, cli.Invalidf("%s: %v", args[0], err)
		}
		return &certSource{Name: args[0], Leaf: certs[0], Extra: certs[1:]}, nil
	}
	ks, err := keys.ParseKeySpec(spec)
	if err != nil {
		return nil, cli.Usagef("--key: %v", err)
	}
	if ks.Kind == keys.KindPKCS11 && !flagSet(fs, "pin") {
		// Certificates are public token objects: no PIN is needed just to read one.
		return tokenCertificate(ctx, ks)
	}
	secret, err := secretFromFlag(env, fs, "Jelszó / PIN")
	if err != nil {
		return nil, err
	}
	k, err := keys.OpenKey(ctx, ks, secret)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	return &certSource{Name: k.Description(), Leaf: k.Certificate(), Extra: k.Chain()}, nil
}

// tokenCertificate finds the certificate spec selects among a token's public objects.
func tokenCertificate(ctx context.Context, spec keys.KeySpec) (*certSource, error) {
	list, err := keys.ListPKCS11(ctx, spec.PKCS11Config(nil))
	if err != nil {
		return nil, err
	}
	var match, others []*x509.Certificate
	var labels []string
	for _, ki := range list {
		c := ki.Certificate
		if c == nil {
			continue
		}
		others = append(others, c)
		if c.IsCA && c.BasicConstraintsValid {
			continue
		}
		switch {
		case spec.KeyLabel != "" && ki.Label != spec.KeyLabel,
			len(spec.KeyID) > 0 && !bytes.Equal(ki.ID, spec.KeyID),
			spec.Subject != "" && c.Subject.String() != spec.Subject && c.Subject.CommonName != spec.Subject,
			spec.Serial != nil && c.SerialNumber.Cmp(spec.Serial) != 0:
			continue
		}
		match = append(match, c)
		labels = append(labels, fmt.Sprintf("%q (%s)", ki.Label, c.Subject.CommonName))
	}
	switch len(match) {
	case 0:
		return nil, fmt.Errorf("%w: no certificate on the token matches (nincs megfelelő tanúsítvány a tokenen)", keys.ErrNoKey)
	case 1:
	default:
		return nil, fmt.Errorf("%w: %s", keys.ErrAmbiguous, strings.Join(labels, ", "))
	}
	leaf := match[0]
	var extra []*x509.Certificate
	for _, c := range others {
		if !c.Equal(leaf) {
			extra = append(extra, c)
		}
	}
	return &certSource{Name: spec.String(), Leaf: leaf, Extra: extra}, nil
}

// parseCertificates reads a DER certificate or the CERTIFICATE blocks of a PEM file in order (the
// leaf first, then its chain). Other PEM blocks are ignored and never printed (a private key may be
// among them).
func parseCertificates(data []byte) ([]*x509.Certificate, error) {
	if c, err := x509.ParseCertificate(data); err == nil {
		return []*x509.Certificate{c}, nil
	}
	var out []*x509.Certificate
	sawPEM := false
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		sawPEM = true
		if b.Type != "CERTIFICATE" {
			continue
		}
		if len(out) == maxCertsPerFile {
			return nil, fmt.Errorf("több mint %d tanúsítvány / more than %d certificates", maxCertsPerFile, maxCertsPerFile)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("hibás tanúsítvány / bad certificate #%d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		if sawPEM {
			return nil, errors.New("nincs CERTIFICATE blokk / no CERTIFICATE block")
		}
		return nil, errors.New("sem PEM, sem DER tanúsítvány / neither a PEM nor a DER certificate")
	}
	return out, nil
}

// ---- cert show ----

// certView is what `cert show` prints (SIG-06) and its JSON form.
type certView struct {
	Source       string      `json:"source"`
	SignerName   string      `json:"signerName"` // xades.SignerName: what es:SignerName will say (SIG-21)
	Organization string      `json:"organization,omitempty"`
	Subject      string      `json:"subject"`
	Issuer       string      `json:"issuer"`
	Serial       string      `json:"serial"`        // hexadecimal
	SerialDec    string      `json:"serialDecimal"` // decimal, as XMLDSig writes it
	NotBefore    time.Time   `json:"notBefore"`
	NotAfter     time.Time   `json:"notAfter"`
	ValidityNow  string      `json:"validityNow"` // valid, expired, not-yet-valid (at the command's clock)
	KeyType      string      `json:"keyType"`
	KeyUsage     []string    `json:"keyUsage"`
	ExtKeyUsage  []string    `json:"extKeyUsage,omitempty"`
	QCStatements []string    `json:"qcStatements,omitempty"`
	QCError      string      `json:"qcError,omitempty"`
	Qualified    bool        `json:"qualified"` // QcCompliance and QcSSCD (SPEC §8)
	Policies     []string    `json:"policies,omitempty"`
	OCSP         []string    `json:"ocsp,omitempty"`
	CAIssuers    []string    `json:"caIssuers,omitempty"`
	CRL          []string    `json:"crl,omitempty"`
	SHA256       string      `json:"sha256"`
	Chain        []chainCert `json:"chain,omitempty"`
}

type chainCert struct {
	Subject  string    `json:"subject"`
	Issuer   string    `json:"issuer"`
	Serial   string    `json:"serial"`
	NotAfter time.Time `json:"notAfter"`
	SHA256   string    `json:"sha256"`
}

var certShowCmd = &cli.Command{
	Name:    "show",
	Summary: "az aláíró tanúsítvány adatai / the signing certificate's details",
	Usage:   "[--json] FILE | --key SPEC [--pin SOURCE]",
	Help: "Megmutatja a tanúsítványt: az aláíró nevét a tanúsítvány megkülönböztető nevéből (SIG-21),\n" +
		"kibocsátót, sorozatszámot, érvényességet, kulcsot, kulcshasználatot, minősítettségi\n" +
		"nyilatkozatokat (QcStatements), szabályzatokat, OCSP/CRL címeket és az SHA-256 lenyomatot.\n" +
		"FILE PEM (a lánc a levéltanúsítvány után) vagy DER. PKCS#11 tokenen a tanúsítvány PIN nélkül is\n" +
		"olvasható; --pin megadásakor a kulcs is megnyílik.\n" +
		"/ Shows the certificate: the signer's name from the distinguished name (SIG-21), issuer, serial,\n" +
		"validity, key, key usage, qualified statements, policies, OCSP/CRL locations and the SHA-256\n" +
		"fingerprint. FILE is PEM (chain after the leaf) or DER. On a PKCS#11 token the certificate is read\n" +
		"without a PIN; with --pin the key itself is opened too.",
	Flags: func(fs *flag.FlagSet) {
		keySourceFlags(fs)
		fs.Bool("json", false, "JSON kimenet / JSON output")
	},
	Run: func(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
		src, err := loadCertSource(ctx, env, fs, args)
		if err != nil {
			return err
		}
		v := describeCert(src, env.Now())
		if fs.Lookup("json").Value.(flag.Getter).Get().(bool) {
			return cli.WriteJSON(env.Stdout, v)
		}
		return writeCertView(env.Stdout, v)
	},
}

func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

func keyType(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return c.PublicKeyAlgorithm.String()
}

var keyUsageNames = []struct {
	bit  x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, "digitalSignature"},
	{x509.KeyUsageContentCommitment, "nonRepudiation"},
	{x509.KeyUsageKeyEncipherment, "keyEncipherment"},
	{x509.KeyUsageDataEncipherment, "dataEncipherment"},
	{x509.KeyUsageKeyAgreement, "keyAgreement"},
	{x509.KeyUsageCertSign, "keyCertSign"},
	{x509.KeyUsageCRLSign, "cRLSign"},
	{x509.KeyUsageEncipherOnly, "encipherOnly"},
	{x509.KeyUsageDecipherOnly, "decipherOnly"},
}

func keyUsages(ku x509.KeyUsage) []string {
	out := []string{}
	for _, n := range keyUsageNames {
		if ku&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

var extKeyUsageNames = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageAny: "any", x509.ExtKeyUsageServerAuth: "serverAuth", x509.ExtKeyUsageClientAuth: "clientAuth",
	x509.ExtKeyUsageCodeSigning: "codeSigning", x509.ExtKeyUsageEmailProtection: "emailProtection",
	x509.ExtKeyUsageTimeStamping: "timeStamping", x509.ExtKeyUsageOCSPSigning: "OCSPSigning",
}

func extKeyUsages(c *x509.Certificate) []string {
	var out []string
	for _, u := range c.ExtKeyUsage {
		if n, ok := extKeyUsageNames[u]; ok {
			out = append(out, n)
		} else {
			out = append(out, fmt.Sprintf("eku(%d)", u))
		}
	}
	for _, o := range c.UnknownExtKeyUsage {
		out = append(out, o.String())
	}
	return out
}

// policyNames names the certificate policies people meet on Hungarian qualified certificates.
var policyNames = map[string]string{
	"0.4.0.194112.1.0": "QCP-n (ETSI EN 319 411-2)",
	"0.4.0.194112.1.1": "QCP-l (ETSI EN 319 411-2)",
	"0.4.0.194112.1.2": "QCP-n-qscd (ETSI EN 319 411-2)",
	"0.4.0.194112.1.3": "QCP-l-qscd (ETSI EN 319 411-2)",
	"0.4.0.2042.1.1":   "NCP (ETSI EN 319 411-1)",
	"0.4.0.2042.1.2":   "NCP+ (ETSI EN 319 411-1)",
	"0.4.0.2042.1.7":   "LCP (ETSI EN 319 411-1)",
}

func policies(c *x509.Certificate) []string {
	var out []string
	for _, p := range c.Policies {
		s := p.String()
		switch {
		case policyNames[s] != "":
			s += " " + policyNames[s]
		case strings.HasPrefix(s, "2.999."):
			s += " (példa/sandbox — TESZT / example arc — TEST)"
		}
		out = append(out, s)
	}
	return out
}

func qcStatements(c *x509.Certificate) (names []string, qualified bool, errText string) {
	st, present, err := qc.FromCertificate(c)
	if !present {
		return nil, false, ""
	}
	if err != nil {
		return nil, false, err.Error()
	}
	if st.Compliance {
		names = append(names, "QcCompliance")
	}
	if st.SSCD {
		names = append(names, "QcSSCD")
	}
	for _, t := range st.Types {
		switch {
		case t.Equal(qc.OIDTypeESign):
			names = append(names, "QcType esign")
		case t.Equal(qc.OIDTypeESeal):
			names = append(names, "QcType eseal")
		case t.Equal(qc.OIDTypeWeb):
			names = append(names, "QcType web")
		default:
			names = append(names, "QcType "+t.String())
		}
	}
	for _, o := range st.Others {
		names = append(names, o.String())
	}
	return names, st.Qualified(), ""
}

func validityAt(c *x509.Certificate, now time.Time) string {
	switch {
	case now.Before(c.NotBefore):
		return "not-yet-valid"
	case now.After(c.NotAfter):
		return "expired"
	}
	return "valid"
}

func describeCert(src *certSource, now time.Time) certView {
	c := src.Leaf
	v := certView{
		Source: src.Name, SignerName: xades.SignerName(c), Subject: c.Subject.String(), Issuer: c.Issuer.String(),
		Serial: c.SerialNumber.Text(16), SerialDec: c.SerialNumber.String(),
		NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), ValidityNow: validityAt(c, now),
		KeyType: keyType(c), KeyUsage: keyUsages(c.KeyUsage), ExtKeyUsage: extKeyUsages(c),
		Policies: policies(c), OCSP: c.OCSPServer, CAIssuers: c.IssuingCertificateURL, CRL: c.CRLDistributionPoints,
		SHA256: fingerprint(c),
	}
	if len(c.Subject.Organization) > 0 {
		v.Organization = c.Subject.Organization[0]
	}
	v.QCStatements, v.Qualified, v.QCError = qcStatements(c)
	for _, x := range src.Extra {
		v.Chain = append(v.Chain, chainCert{Subject: x.Subject.String(), Issuer: x.Issuer.String(),
			Serial: x.SerialNumber.Text(16), NotAfter: x.NotAfter.UTC(), SHA256: fingerprint(x)})
	}
	return v
}

var validityWords = map[string][2]string{
	"valid":         {"most érvényes", "valid now"},
	"expired":       {"LEJÁRT", "EXPIRED"},
	"not-yet-valid": {"MÉG NEM ÉRVÉNYES", "NOT YET VALID"},
}

func writeCertView(w io.Writer, v certView) error {
	var b strings.Builder
	line := func(label, value string) {
		if value != "" {
			fmt.Fprintf(&b, "  %-46s %s\n", label+":", value)
		}
	}
	list := func(xs []string) string { return strings.Join(xs, ", ") }
	fmt.Fprintf(&b, "Tanúsítvány / Certificate: %s\n", v.Source)
	line("Aláíró neve / Signer name", v.SignerName)
	line("Szervezet / Organisation", v.Organization)
	line("Alany / Subject", v.Subject)
	line("Kibocsátó / Issuer", v.Issuer)
	line("Sorozatszám / Serial", v.Serial+" ("+v.SerialDec+")")
	vw := validityWords[v.ValidityNow]
	line("Érvényesség / Validity", fmt.Sprintf("%s – %s (%s / %s)", v.NotBefore.Format(time.RFC3339), v.NotAfter.Format(time.RFC3339), vw[0], vw[1]))
	line("Kulcs / Key", v.KeyType)
	line("Kulcshasználat / Key usage", list(v.KeyUsage))
	line("Kiterjesztett kulcshasználat / Extended key usage", list(v.ExtKeyUsage))
	qcText := list(v.QCStatements)
	if qcText == "" {
		qcText = "nincs / none"
	}
	if v.QCError != "" {
		qcText = "HIBÁS / MALFORMED: " + v.QCError
	}
	line("Minősítettségi nyilatkozatok / QC statements", qcText)
	q := "nem (nincs QcCompliance és QcSSCD) / no (QcCompliance and QcSSCD missing)"
	if v.Qualified {
		q = "igen (QcCompliance, QcSSCD) / yes (QcCompliance, QcSSCD)"
	}
	line("Minősített aláírásra / Qualified signature", q)
	line("Szabályzatok / Policies", list(v.Policies))
	line("OCSP", list(v.OCSP))
	line("Kibocsátó tanúsítványa / CA issuers", list(v.CAIssuers))
	line("CRL", list(v.CRL))
	line("SHA-256", v.SHA256)
	if len(v.Chain) > 0 {
		fmt.Fprintf(&b, "  Mellékelt tanúsítványok / Accompanying certificates:\n")
		for i, c := range v.Chain {
			fmt.Fprintf(&b, "    %d. %s (%s, %s)\n", i+1, c.Subject, c.Serial, c.NotAfter.Format(time.DateOnly))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ---- cert check ----

var certCheckCmd = &cli.Command{
	Name:    "check",
	Summary: "az aláíró tanúsítvány ellenőrzése most (lánc, visszavonás) / check the signing certificate now (chain, revocation)",
	Usage:   "--trust trust.json [--policy production|sandbox|FILE] [--at TIME] [--json] FILE | --key SPEC [--pin SOURCE]",
	Help: "Kezdeti ellenőrzés (SND-22, SIG-16): a tanúsítványlánc egy elfogadott hitelesítés-szolgáltatóhoz\n" +
		"vezet-e, a tanúsítvány érvényes és minősített-e, és visszavonták-e, a szabályzat kivárási idejével\n" +
		"(SPEC §3). Eredmény: érvényes (0), érvénytelen (1) vagy befejezetlen (2); befejezetlen esetben a\n" +
		"parancs megmondja, mikor érdemes újra próbálni, vagy milyen adat hiányzik (SIG-23). --at a\n" +
		"vizsgált időpont (RFC 3339, alapértelmezés: most); ugyanarra az időpontra ismételve a kivárási idő\n" +
		"után véglegesíthető az eredmény. Ha egy tanúsítvány nem nevez meg visszavonási helyet, vagy az innen\n" +
		"nem érhető el, a bizalmi beállítás revocationSources listájában kibocsátónként adható meg forrás.\n" +
		"/ Initial check (SND-22, SIG-16): whether the chain leads to an accepted CA, the certificate is\n" +
		"valid and qualified, and whether it was revoked, under the policy's grace period (SPEC §3). The\n" +
		"result is valid (0), invalid (1) or incomplete (2); when incomplete the command says when to try\n" +
		"again or what evidence is missing (SIG-23). --at is the time checked (RFC 3339, default now);\n" +
		"repeated for the same time after the grace period, the result becomes final. Where a certificate\n" +
		"names no revocation location, or it cannot be reached from here, the trust configuration's\n" +
		"revocationSources can name one per issuer.",
	Flags: func(fs *flag.FlagSet) {
		keySourceFlags(fs)
		policyFlag(fs)
		fs.String("trust", "", "bizalmi beállítások (JSON) / trust configuration `FILE` (JSON), e.g. SANDBOX/trust.json")
		fs.String("at", "", "a vizsgált időpont (RFC 3339), alapértelmezés: most / the `TIME` to check (RFC 3339), default now")
		fs.Bool("json", false, "JSON kimenet / JSON output")
	},
	Run: runCertCheck,
}

// loadTrust reads a trust configuration file (trust.Config as JSON, paths relative to the file);
// fetched evidence is judged by the command's clock, the same one that decides T and Now.
func loadTrust(path string, fs *flag.FlagSet, now func() time.Time) (*trust.Env, error) {
	pol, err := selectedPolicy(fs)
	if err != nil {
		return nil, err
	}
	return trust.LoadFile(path, pol, false, now)
}

// advice is one suggestion of what to do, in both languages (SIG-23).
type advice struct {
	HU string `json:"hu"`
	EN string `json:"en"`
}

// certCheckResult is the JSON form of `cert check`.
type certCheckResult struct {
	Source        string               `json:"source"`
	SignerName    string               `json:"signerName"`
	Subject       string               `json:"subject"`
	Issuer        string               `json:"issuer"`
	Serial        string               `json:"serial"`
	SHA256        string               `json:"sha256"`
	Indication    report.Indication    `json:"indication"`
	SubIndication report.SubIndication `json:"subIndication,omitempty"`
	State         string               `json:"state"` // ERVENYES, ERVENYTELEN, BEFEJEZETLEN
	Verdict       report.Verdict       `json:"verdict"`
	T             time.Time            `json:"checkedFor"`  // the time the certificate was checked for
	ValidatedAt   time.Time            `json:"validatedAt"` // when the check ran
	Policy        string               `json:"policy"`
	EarliestFinal time.Time            `json:"earliestFinalCheck,omitzero"`
	Chain         []report.Certificate `json:"chain,omitempty"`
	Evidence      []report.Evidence    `json:"evidence,omitempty"`
	// Missing names the certificates without usable revocation evidence, and why.
	Missing []trust.MissingEvidence `json:"missingEvidence,omitempty"`
	Advice  []advice                `json:"advice,omitempty"`
}

func runCertCheck(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
	trustPath := fs.Lookup("trust").Value.String()
	if trustPath == "" {
		return cli.Usagef("--trust szükséges (pl. SANDBOX/trust.json) / --trust is required (e.g. SANDBOX/trust.json)")
	}
	now := env.Now()
	// Milliseconds are enough to pass the time back with --at; finer digits would only be noise.
	T := now.Truncate(time.Millisecond)
	if at := fs.Lookup("at").Value.String(); at != "" {
		var err error
		if T, err = time.Parse(time.RFC3339, at); err != nil {
			return cli.Usagef("--at: RFC 3339 időpont kell / an RFC 3339 time is needed: %v", err)
		}
		if T.After(now) {
			return cli.Usagef("--at: jövőbeli időpont nem ellenőrizhető / a future time cannot be checked")
		}
	}
	// The trust configuration first: a mistake there should not cost the user a PIN entry.
	tenv, err := loadTrust(trustPath, fs, env.Now)
	if err != nil {
		return err
	}
	src, err := loadCertSource(ctx, env, fs, args)
	if err != nil {
		return err
	}
	res := tenv.CheckChain(ctx, trust.ChainQuery{Purpose: pathval.PurposeSigner, Leaf: src.Leaf, Intermediates: src.Extra, T: T, Now: now})
	// The policy's requirements of a package signer, as sender sign and the verifier apply them (the
	// validity period at T is the chain check's, with its sub-indications).
	for _, f := range tenv.Policy.CheckSigner(policy.KindPackage, src.Leaf, time.Time{}) {
		f.Record(&res.Verdict, "signer")
	}
	c := src.Leaf
	out := certCheckResult{
		Source: src.Name, SignerName: xades.SignerName(c), Subject: c.Subject.String(), Issuer: c.Issuer.String(),
		Serial: c.SerialNumber.Text(16), SHA256: fingerprint(c),
		Indication: res.Verdict.Indication, SubIndication: res.Verdict.Sub, State: res.Verdict.Indication.State(),
		Verdict: res.Verdict, T: T.UTC(), ValidatedAt: now.UTC(), Policy: tenv.Policy.ID(),
	}
	if res.Verdict.Indication == report.Indeterminate {
		out.EarliestFinal = res.EarliestFinal.UTC()
	}
	out.Chain, out.Evidence = res.ReportChain(), res.ReportEvidence()
	out.Missing = res.Missing
	out.Advice = adviseCheck(res, c, T, now, fs)
	if fs.Lookup("json").Value.(flag.Getter).Get().(bool) {
		if err := cli.WriteJSON(env.Stdout, out); err != nil {
			return err
		}
	} else if err := writeCheckText(env.Stdout, out); err != nil {
		return err
	}
	return cli.VerdictExit(res.Verdict.Indication)
}

// adviseCheck says what to do about a result that is not valid (SIG-23): for an incomplete one,
// when to retry, or which certificate lacks revocation evidence, why, and how the trust
// configuration's per-issuer revocation sources can supply it; for an invalid one, not to sign.
func adviseCheck(res trust.ChainResult, c *x509.Certificate, T, now time.Time, fs *flag.FlagSet) []advice {
	v := res.Verdict
	switch v.Indication {
	case report.TotalPassed:
		return nil
	case report.TotalFailed:
		return []advice{{
			HU: "Ezzel a tanúsítvánnyal ne írjon alá: az aláírás érvénytelen lenne. Kérjen új tanúsítványt a hitelesítés-szolgáltatótól.",
			EN: "Do not sign with this certificate: the signature would be invalid. Obtain a new certificate from the CA.",
		}}
	}
	trustFile := fs.Lookup("trust").Value.String()
	atArg := "--at " + T.UTC().Format(time.RFC3339Nano)
	retry := retryText{HU: "ugyanarra az időpontra: " + atArg, EN: "for the same time: " + atArg}
	var out []advice
	seen := map[string]bool{}
	add := func(a advice) {
		if !seen[a.EN] {
			seen[a.EN] = true
			out = append(out, a)
		}
	}
	// Which certificate lacks evidence and why, when the check could tell.
	for _, m := range res.Missing {
		add(missingAdvice(missingCertOf(m), where{trustFile, trustFile}, retry, res.EarliestFinal, now))
	}
	for _, f := range v.Findings {
		switch f.Code {
		case errcode.A012:
			if len(res.Missing) == 0 {
				add(graceAdvice(res.EarliestFinal, now, retry))
			}
		case errcode.A011:
			if len(res.Missing) > 0 {
				continue
			}
			if v.Sub == report.OutOfBoundsNoPOE {
				add(expiredAdvice)
				continue
			}
			urls := append(append([]string(nil), c.OCSPServer...), c.CRLDistributionPoints...)
			add(advice{
				HU: fmt.Sprintf("Nem érhető el visszavonási adat (OCSP/CRL). Ellenőrizze a hálózati kapcsolatot ezekhez a címekhez, majd próbálja újra (%s): %s.", atArg, strings.Join(urls, ", ")),
				EN: fmt.Sprintf("No revocation evidence (OCSP/CRL) could be obtained. Check network access to these locations and try again (%s): %s.", atArg, strings.Join(urls, ", ")),
			})
		case errcode.A003:
			issuers := strings.Join(c.IssuingCertificateURL, ", ")
			if issuers == "" {
				issuers = "–"
			}
			add(advice{
				HU: fmt.Sprintf("A lánc nem építhető fel: tegye a kibocsátó CA tanúsítványait a fájlba a tanúsítvány után (PEM), vagy vegye fel őket a bizalmi beállítás (%s) intermediates listájába. A kibocsátó tanúsítványa: %s.", trustFile, issuers),
				EN: fmt.Sprintf("The chain cannot be built: append the issuing CA certificates to the file after the certificate (PEM), or list them under intermediates in the trust configuration (%s). The issuer's certificate: %s.", trustFile, issuers),
			})
		}
	}
	if len(out) == 0 {
		add(advice{HU: "Próbálja újra később: " + atArg + ".", EN: "Try again later: " + atArg + "."})
	}
	return out
}

func writeCheckText(w io.Writer, r certCheckResult) error {
	var b strings.Builder
	hu, en := r.Indication.Words()
	line := func(label, value string) { fmt.Fprintf(&b, "  %-41s %s\n", label+":", value) }
	fmt.Fprintf(&b, "Tanúsítvány-ellenőrzés / Certificate check: %s\n", r.Source)
	res := fmt.Sprintf("%s / %s (%s", strings.ToUpper(hu), strings.ToUpper(en), r.Indication)
	if r.SubIndication != report.None {
		res += ", " + string(r.SubIndication)
	}
	line("Eredmény / Result", res+")")
	line("Aláíró / Signer", r.SignerName)
	line("Alany / Subject", r.Subject)
	line("Kibocsátó / Issuer", r.Issuer)
	line("Sorozatszám / Serial", r.Serial)
	line("Vizsgált időpont / Checked for", r.T.Format(time.RFC3339))
	line("Ellenőrizve / Validated at", r.ValidatedAt.Format(time.RFC3339))
	line("Szabályzat / Policy", r.Policy)
	if !r.EarliestFinal.IsZero() {
		line("Végleges legkorábban / Final not before", r.EarliestFinal.Format(time.RFC3339))
	}
	if len(r.Chain) > 0 {
		b.WriteString("  Lánc / Chain:\n")
		for i, c := range r.Chain {
			q := ""
			if c.Qualified {
				q = " [minősített / qualified]"
			}
			fmt.Fprintf(&b, "    %d. %s%s\n", i+1, c.Subject, q)
		}
	}
	if len(r.Evidence) > 0 {
		b.WriteString("  Visszavonási adatok / Revocation evidence:\n")
		for _, e := range r.Evidence {
			fmt.Fprintf(&b, "    %s: %s %s, %s, %s\n", e.About, e.Method, e.Status, e.ProducedAt.Format(time.RFC3339), e.Source)
		}
	}
	if len(r.Verdict.Findings) > 0 {
		b.WriteString("\nMegállapítások / Findings:\n")
		if err := cli.WriteFindings(&b, r.Verdict.Findings); err != nil {
			return err
		}
	}
	if len(r.Advice) > 0 {
		b.WriteString("\nTeendő / What to do:\n")
		for _, a := range r.Advice {
			fmt.Fprintf(&b, "  - %s\n    %s\n", a.HU, a.EN)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
