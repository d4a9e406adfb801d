// Package config reads the configuration file of each Tagdíj program: one JSON file per program,
// checked strictly (unknown fields are errors, every problem names its field), with a few operational
// fields overridable from the environment.
//
// # The sender's file
//
// Sender is the employer's (or accountant's) configuration. Example (`sandbox init` writes one like
// it, DIR/sender-pelda.json, for its demo employer "pelda"):
//
//	{
//	  "employer": {"name": "Példa Kft.", "idType": "adoszam", "id": "12345676"},
//	  "contact": {"name": "Kovács Anna", "phone": "+36 1 555 0101", "address": "1111 Budapest, Minta utca 1."},
//	  "fund": {
//	    "code": "0101",
//	    "name": "Tagdíj Sandbox Magánnyugdíjpénztár",
//	    "encryptionCert": "certs/enc-fund.pem",
//	    "receiverURL": "https://127.0.0.1:8443/"
//	  },
//	  "encryptionCert": "certs/enc-pelda.pem",
//	  "signingKey": "p12:keys/signer-pelda-1.p12",
//	  "signingSecret": "file:secrets/p12.pass",
//	  "decryptionKey": "p12:keys/enc-pelda.p12",
//	  "decryptionSecret": "file:secrets/p12.pass",
//	  "tsaURL": "http://127.0.0.1:8901/tsa",
//	  "trust": {
//	    "signerAnchors": ["certs/root-ca.pem"],
//	    "tsaAnchors": ["certs/root-ca.pem"],
//	    "revocationCache": "cache"
//	  },
//	  "policy": "sandbox",
//	  "stateDir": "state-pelda"
//	}
//
// Fields:
//
//   - employer: the declarant (name; idType adoszam, adoazonosito or taj; id, digits, an adószám may be
//     written 12345678-2-41). A declarant identified by TAJ number can be configured but cannot be
//     named in a package (SPEC §4 has no field for it); packing refuses it.
//   - contact: the contact person carried in the signed metadata (SND-20): name, phone, address.
//   - fund: the pension fund: 4-digit code, name, its encryption certificate (PEM or DER; the first
//     certificate of the file), the receiver's HTTPS URL (needed only to send), and
//     directToSecureEnvironment — true only when the fund has confirmed in writing that uploads arrive
//     over TLS directly in its internal secure environment (SEC-01); only then may a package be built
//     without compression and encryption.
//   - encryptionCert: the employer's own encryption certificate; every package is encrypted to it as
//     well as to the fund, so the employer can read its own sent packages later (SND-06).
//   - signingKey: a key specification (keys.ParseKeySpec: p12:PATH or pkcs11:module=…;token=…;key=…);
//     signingSecret: where the password or PIN comes from, as a reference only — file:PATH, env:NAME or
//     prompt: (keys.ParseSecretSource). A secret value is never accepted in this file (SEC-03).
//   - decryptionKey, decryptionSecret: the key of encryptionCert, likewise; optional. With it the
//     sender can show the declaration inside a package before signing (SIG-20) and re-read its sent
//     packages; without it, the content of an encrypted package cannot be displayed.
//   - tsaURL: the RFC 3161 time-stamping service (http or https).
//   - trust: the trust anchors, revocation cache and per-issuer revocation sources (trust.Config).
//     revocationSources names, per issuing CA (the file of its certificate), an OCSP URL, a CRL
//     URL, a local CRL file or a directory of CRLs, used for certificates that name no revocation
//     location or whose own cannot be reached (SPEC §3), for example
//     "revocationSources": [{"issuer": "certs/foreign-root.pem", "crlFile": "crl/foreign-root.arl"}].
//     proxy is an HTTP proxy (http or https URL, no user info) every OCSP and CRL request goes
//     through, for a network that reaches them only through one (SEC-15).
//     The files are checked when the trust section is loaded (trust.Load).
//   - policy: the signature policy: production (default), sandbox, or the path of a policy document.
//   - stateDir: where the sender keeps what it built, sent and received (packages, receipts,
//     containers; SND-27, SND-31) and its sequence counters. Back this directory up (ADM-04): it holds
//     everything the employer must be able to produce later.
//   - sequenceFile: the package sequence counter file; default stateDir/sequence.json.
//   - fund.tlsCA: the CA certificate file (PEM or DER) the receiver's TLS certificate must chain to
//     (sender send checks it with no interaction, SND-26); empty: the system's roots.
//   - send: the upload's tuning, durations as Go duration strings: attempts (default 5), backoff (the
//     first wait after a failure, doubled after each; default 2s), maxWait (the longest single wait; a
//     Retry-After beyond it ends the send with "try later"; default 5m), timeout (one request; default
//     2m), finalWait (how long send and submit may wait for a grace period to end; default 0: never).
//   - notify: fund and supervisor, the addresses written into the SND-30 notification records about a
//     receipt whose signature is invalid (the sender writes the letters; the user delivers them).
//
// Comments are allowed: // to the end of a line and /* … */, outside strings (sender init writes a
// configuration that explains every field). They are blanked out before the strict JSON decoding,
// keeping line numbers for error messages.
//
// Relative paths in the file are resolved against the file's own directory, so a configuration and
// the files it names can be moved together. After Load every path field is absolute.
//
// # Environment overrides
//
// A few operational fields can be overridden per process, as TAGDIJ_SENDER_<FIELD>:
//
//	TAGDIJ_SENDER_RECEIVER_URL    fund.receiverURL
//	TAGDIJ_SENDER_TSA_URL         tsaURL
//	TAGDIJ_SENDER_SIGNING_KEY     signingKey (a key specification)
//	TAGDIJ_SENDER_SIGNING_SECRET  signingSecret (a reference: file:, env:, prompt:)
//	TAGDIJ_SENDER_POLICY          policy
//	TAGDIJ_SENDER_STATE_DIR       stateDir
//	TAGDIJ_SENDER_OFFLINE         trust.offline (true or false)
//
// Relative paths in an override are resolved against the working directory, as on a command line.
// An empty variable does not override. The overrides go through the same validation as the file.
package config

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tagdij/tagdij/internal/boundedio"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/hunid"
	"github.com/tagdij/tagdij/internal/keys"
	"github.com/tagdij/tagdij/internal/trust"
)

// MaxFileSize bounds a configuration file; a real one is well under 10 KiB.
const MaxFileSize = 1 << 20

// Policy names besides a file path.
const (
	PolicyProduction = "production"
	PolicySandbox    = "sandbox"
)

// DefaultSequenceFile is the sequence counter file inside the state directory when sequenceFile is
// not set.
const DefaultSequenceFile = "sequence.json"

// Sender is the sender program's configuration. Load returns it validated, with every path absolute.
type Sender struct {
	Employer       Employer `json:"employer"`
	Contact        Contact  `json:"contact"`
	Fund           Fund     `json:"fund"`
	EncryptionCert string   `json:"encryptionCert"`
	SigningKey     string   `json:"signingKey,omitempty"`
	SigningSecret  string   `json:"signingSecret,omitempty"`
	// DecryptionKey and DecryptionSecret name the key of EncryptionCert (optional).
	DecryptionKey    string       `json:"decryptionKey,omitempty"`
	DecryptionSecret string       `json:"decryptionSecret,omitempty"`
	TSAURL           string       `json:"tsaURL,omitempty"`
	Trust            trust.Config `json:"trust"`
	Policy           string       `json:"policy,omitempty"`
	StateDir         string       `json:"stateDir"`
	SequenceFile     string       `json:"sequenceFile,omitempty"`
	// Send tunes the upload (sender send, sender submit).
	Send SendOptions `json:"send,omitzero"`
	// Notify names where the SND-30 notifications about an invalid receipt go.
	Notify Notify `json:"notify,omitzero"`

	// File is the absolute path of the file the configuration was loaded from.
	File string `json:"-"`
}

// Employer is the declarant the sender files for.
type Employer struct {
	Name   string             `json:"name"`
	IDType declaration.IDType `json:"idType"` // adoszam, adoazonosito or taj
	ID     string             `json:"id"`
}

// Contact is the contact person of SND-20.
type Contact struct {
	Name    string `json:"name"`
	Phone   string `json:"phone"`
	Address string `json:"address"`
}

// Fund is the pension fund the sender files with.
type Fund struct {
	Code           string `json:"code"`
	Name           string `json:"name"`
	EncryptionCert string `json:"encryptionCert"`
	ReceiverURL    string `json:"receiverURL,omitempty"`
	// DirectToSecureEnvironment is the fund's written confirmation that uploads arrive over TLS directly
	// in its internal secure environment (SEC-01). Only then may packages skip compression and
	// encryption (sender pack --plain).
	DirectToSecureEnvironment bool `json:"directToSecureEnvironment,omitempty"`
	// TLSCA is the file of the CA certificate(s) (PEM or DER) the receiver's TLS server certificate
	// must chain to; empty: the system's roots.
	TLSCA string `json:"tlsCA,omitempty"`
}

// SendOptions tune the upload. Durations are Go duration strings ("2s", "5m"); empty fields take
// the defaults.
type SendOptions struct {
	// Attempts is the most uploads one send makes (default 5).
	Attempts int `json:"attempts,omitempty"`
	// Backoff is the wait after the first failed attempt, doubled after each further one (default 2s).
	Backoff string `json:"backoff,omitempty"`
	// MaxWait is the longest single wait; a Retry-After beyond it ends the send with "try later"
	// (default 5m).
	MaxWait string `json:"maxWait,omitempty"`
	// Timeout bounds one request, the body's upload included (default 2m).
	Timeout string `json:"timeout,omitempty"`
	// FinalWait is how long send and submit may wait for a grace period to end (the package's before
	// it can be sent, the receipt's so that its check is final); default 0: never wait, say when.
	FinalWait string `json:"finalWait,omitempty"`
}

// Durations returns the parsed durations (zero for empty fields). Load has validated them.
func (o SendOptions) Durations() (backoff, maxWait, timeout, finalWait time.Duration) {
	p := func(s string) time.Duration { d, _ := time.ParseDuration(s); return d }
	return p(o.Backoff), p(o.MaxWait), p(o.Timeout), p(o.FinalWait)
}

// Notify names the addresses of the SND-30 notifications (an e-mail or postal address, at most 320
// characters). The sender writes the notification letters; the user delivers them.
type Notify struct {
	Fund       string `json:"fund,omitempty"`
	Supervisor string `json:"supervisor,omitempty"`
}

// Problem is one invalid field.
type Problem struct {
	Field string // JSON path, e.g. "fund.code"
	Msg   string // what is wrong, bilingual where it reaches a user
}

// Error is a configuration file that cannot be used: it lists every invalid field.
type Error struct {
	File     string
	Problems []Problem
	Err      error // a read or JSON syntax error, when that is the cause
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	b.WriteString(e.File)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.Field)
		b.WriteString(": ")
		b.WriteString(p.Msg)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Field reports whether the error names field.
func (e *Error) Field(field string) bool {
	for _, p := range e.Problems {
		if p.Field == field {
			return true
		}
	}
	return false
}

// Load reads the sender configuration at path, applies the TAGDIJ_SENDER_* overrides from the
// process environment and validates the result.
func Load(path string) (*Sender, error) { return LoadEnv(path, os.Getenv) }

// LoadEnv is Load with the environment given as a lookup function (nil: no overrides).
func LoadEnv(path string, getenv func(string) string) (*Sender, error) {
	s := new(Sender)
	abs, err := readFile(path, s)
	if err != nil {
		return nil, err
	}
	s.File = abs
	dir := filepath.Dir(abs)
	s.resolve(dir)
	cwd, _ := os.Getwd()
	var problems []Problem
	if getenv != nil {
		problems = s.applyEnv(getenv, cwd)
	}
	problems = append(problems, s.validate()...)
	if len(problems) > 0 {
		return nil, &Error{File: path, Problems: problems}
	}
	return s, nil
}

// Dir is the directory of the configuration file.
func (s *Sender) Dir() string { return filepath.Dir(s.File) }

// SequencePath is the absolute path of the sequence counter file.
func (s *Sender) SequencePath() string {
	if s.SequenceFile != "" {
		return s.SequenceFile
	}
	return filepath.Join(s.StateDir, DefaultSequenceFile)
}

// PackagesDir is where packages are written by default: stateDir/packages.
func (s *Sender) PackagesDir() string { return filepath.Join(s.StateDir, "packages") }

// SigningKeySpec parses signingKey. It fails when none is configured.
func (s *Sender) SigningKeySpec() (keys.KeySpec, error) {
	if s.SigningKey == "" {
		return keys.KeySpec{}, fmt.Errorf("config: %s: signingKey: nincs megadva / not configured", s.File)
	}
	return keys.ParseKeySpec(s.SigningKey)
}

// SigningSecretSource parses signingSecret; with none configured the secret is asked for on the
// terminal.
func (s *Sender) SigningSecretSource() (keys.SecretSource, error) {
	return keys.ParseSecretSource(s.SigningSecret)
}

// FundCertificate reads the fund's encryption certificate (the first certificate of the file).
func (s *Sender) FundCertificate() (*x509.Certificate, error) {
	return readCert("fund.encryptionCert", s.Fund.EncryptionCert)
}

// OwnCertificate reads the employer's own encryption certificate (the first of the file).
func (s *Sender) OwnCertificate() (*x509.Certificate, error) {
	return readCert("encryptionCert", s.EncryptionCert)
}

func readCert(field, path string) (*x509.Certificate, error) {
	certs, err := trust.ReadCertificates(path)
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", field, err)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("config: %s: %s: nincs benne tanúsítvány / holds no certificate", field, path)
	}
	return certs[0], nil
}

// readFile reads the configuration file at path (bounded by MaxFileSize) into v, strictly, and returns
// the file's absolute path; errors are *Error naming the file.
func readFile(path string, v any) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", &Error{File: path, Err: err}
	}
	data, err := readLimited(abs, MaxFileSize)
	if err != nil {
		return "", &Error{File: path, Err: err}
	}
	if err := decodeStrict(data, v); err != nil {
		return "", &Error{File: path, Err: err}
	}
	return abs, nil
}

// decodeStrict decodes exactly one JSON value with unknown fields refused. Comments (// to the end of
// the line, /* … */) are allowed outside strings, so that a configuration can explain itself (sender
// init writes one that does); they are blanked out before decoding, keeping line numbers.
func decodeStrict(data []byte, v any) error {
	data = StripComments(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
			return fmt.Errorf("JSON hiba a(z) %d. sorban / JSON error on line %d: %w", line, line, err)
		}
		return fmt.Errorf("JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("JSON: további adat az objektum után / trailing data after the object")
	}
	return nil
}

// StripComments returns data with its JSON comments (// … end of line, /* … */ outside strings)
// replaced by spaces, line breaks kept. An unterminated block comment is blanked to the end (the JSON
// decoder then reports what is missing).
func StripComments(data []byte) []byte {
	out := make([]byte, len(data))
	copy(out, data)
	inString, escaped := false, false
	for i := 0; i < len(out); i++ {
		c := out[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '/' && i+1 < len(out) && out[i+1] == '/':
			for ; i < len(out) && out[i] != '\n'; i++ {
				out[i] = ' '
			}
		case c == '/' && i+1 < len(out) && out[i+1] == '*':
			out[i], out[i+1] = ' ', ' '
			for i += 2; i < len(out); i++ {
				if out[i] == '*' && i+1 < len(out) && out[i+1] == '/' {
					out[i], out[i+1] = ' ', ' '
					i++
					break
				}
				if out[i] != '\n' {
					out[i] = ' '
				}
			}
		}
	}
	return out
}

func readLimited(path string, limit int64) ([]byte, error) {
	data, err := boundedio.ReadFile(path, limit)
	if errors.Is(err, boundedio.ErrTooLarge) {
		return nil, fmt.Errorf("nagyobb mint %d bájt / larger than %d bytes", limit, limit)
	}
	return data, err
}

// resolvePath makes p absolute against dir; "" stays "".
func resolvePath(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// resolveRef resolves the path inside a "file:PATH" secret reference or a "p12:PATH" key spec; other
// forms are returned unchanged (pkcs11 module paths are normally absolute system paths, and a relative
// one is resolved by the dynamic loader's own rules, which we do not second-guess).
func resolveRef(dir, ref string) string {
	scheme, rest, ok := strings.Cut(ref, ":")
	if !ok || rest == "" {
		return ref
	}
	switch strings.ToLower(scheme) {
	case "file", "p12", "pkcs12":
		return scheme + ":" + resolvePath(dir, rest)
	}
	return ref
}

// resolve makes every path field absolute against dir.
func (s *Sender) resolve(dir string) {
	s.Fund.EncryptionCert = resolvePath(dir, s.Fund.EncryptionCert)
	s.Fund.TLSCA = resolvePath(dir, s.Fund.TLSCA)
	s.EncryptionCert = resolvePath(dir, s.EncryptionCert)
	s.SigningKey = resolveRef(dir, s.SigningKey)
	s.SigningSecret = resolveRef(dir, s.SigningSecret)
	s.DecryptionKey = resolveRef(dir, s.DecryptionKey)
	s.DecryptionSecret = resolveRef(dir, s.DecryptionSecret)
	s.StateDir = resolvePath(dir, s.StateDir)
	s.SequenceFile = resolvePath(dir, s.SequenceFile)
	s.Policy = resolvePolicy(dir, s.Policy)
	s.Trust = resolveTrust(dir, s.Trust)
}

func resolvePolicy(dir, p string) string {
	switch p {
	case "", PolicyProduction, PolicySandbox:
		return p
	}
	return resolvePath(dir, p)
}

func resolveTrust(dir string, t trust.Config) trust.Config {
	res := func(in []string) []string {
		if in == nil {
			return nil
		}
		out := make([]string, len(in))
		for i, p := range in {
			out[i] = resolvePath(dir, p)
		}
		return out
	}
	t.SignerAnchors = res(t.SignerAnchors)
	t.TSAAnchors = res(t.TSAAnchors)
	t.Intermediates = res(t.Intermediates)
	t.RevocationCache = resolvePath(dir, t.RevocationCache)
	if t.RevocationSources != nil {
		srcs := make([]trust.RevocationSource, len(t.RevocationSources))
		for i, s := range t.RevocationSources {
			s.Issuer = resolvePath(dir, s.Issuer)
			s.CRLFile = resolvePath(dir, s.CRLFile)
			s.CRLDir = resolvePath(dir, s.CRLDir)
			srcs[i] = s
		}
		t.RevocationSources = srcs
	}
	return t
}

// Environment variable names of the sender's overrides.
const (
	EnvSenderReceiverURL   = "TAGDIJ_SENDER_RECEIVER_URL"
	EnvSenderTSAURL        = "TAGDIJ_SENDER_TSA_URL"
	EnvSenderSigningKey    = "TAGDIJ_SENDER_SIGNING_KEY"
	EnvSenderSigningSecret = "TAGDIJ_SENDER_SIGNING_SECRET"
	EnvSenderPolicy        = "TAGDIJ_SENDER_POLICY"
	EnvSenderStateDir      = "TAGDIJ_SENDER_STATE_DIR"
	EnvSenderOffline       = "TAGDIJ_SENDER_OFFLINE"
)

// applyEnv applies the overrides; relative paths resolve against cwd.
func (s *Sender) applyEnv(getenv func(string) string, cwd string) []Problem {
	var out []Problem
	if v := getenv(EnvSenderReceiverURL); v != "" {
		s.Fund.ReceiverURL = v
	}
	if v := getenv(EnvSenderTSAURL); v != "" {
		s.TSAURL = v
	}
	if v := getenv(EnvSenderSigningKey); v != "" {
		s.SigningKey = resolveRef(cwd, v)
	}
	if v := getenv(EnvSenderSigningSecret); v != "" {
		s.SigningSecret = resolveRef(cwd, v)
	}
	if v := getenv(EnvSenderPolicy); v != "" {
		s.Policy = resolvePolicy(cwd, v)
	}
	if v := getenv(EnvSenderStateDir); v != "" {
		s.StateDir = resolvePath(cwd, v)
	}
	if v := getenv(EnvSenderOffline); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			out = append(out, Problem{EnvSenderOffline, "true vagy false kell / must be true or false"})
		} else {
			s.Trust.Offline = b
		}
	}
	return out
}

// phonePattern is csomag.xsd's Telefon type.
var phonePattern = regexp.MustCompile(`^\+?[0-9 ()/\-]{6,20}$`)

// fundCodePattern is csomag.xsd's PenztarKod.
var fundCodePattern = regexp.MustCompile(`^[0-9]{4}$`)

// maxText is csomag.xsd's Nev length.
const maxText = 200

func (s *Sender) validate() []Problem {
	var out []Problem
	bad := func(field, msg string) { out = append(out, Problem{field, msg}) }
	text := func(field, v string) {
		switch n := utf8.RuneCountInString(collapse(v)); {
		case !utf8.ValidString(v):
			bad(field, "érvénytelen UTF-8 / invalid UTF-8")
		case n == 0:
			bad(field, "kötelező / required")
		case n > maxText:
			bad(field, fmt.Sprintf("legfeljebb %d karakter / at most %d characters", maxText, maxText))
		case strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' || r == 0x7f }):
			bad(field, "vezérlőkaraktert tartalmaz / contains a control character")
		}
	}
	required := func(field, v string) {
		if v == "" {
			bad(field, "kötelező / required")
		}
	}

	text("employer.name", s.Employer.Name)
	switch s.Employer.IDType {
	case declaration.IDAdoszam:
		n, ok := hunid.NormalizeAdoszam(s.Employer.ID)
		if !ok || !hunid.ValidAdoszam(n) {
			bad("employer.id", "érvénytelen adószám (8 vagy 11 jegy, helyes ellenőrzőszámmal) / invalid tax number (8 or 11 digits, check digit)")
		} else {
			s.Employer.ID = n
		}
	case declaration.IDAdoazonosito:
		if !hunid.ValidAdoazonosito(s.Employer.ID) {
			bad("employer.id", "érvénytelen adóazonosító jel / invalid personal tax id")
		}
	case declaration.IDTAJ:
		if !hunid.ValidTAJ(s.Employer.ID) {
			bad("employer.id", "érvénytelen TAJ szám / invalid TAJ number")
		}
	case "":
		bad("employer.idType", "kötelező: adoszam, adoazonosito vagy taj / required: adoszam, adoazonosito or taj")
	default:
		bad("employer.idType", "adoszam, adoazonosito vagy taj lehet / must be adoszam, adoazonosito or taj")
	}

	text("contact.name", s.Contact.Name)
	if !phonePattern.MatchString(s.Contact.Phone) {
		bad("contact.phone", "telefonszám: +, majd 6–20 számjegy, szóköz, ( ) / - / phone: optional +, then 6–20 digits, spaces, ( ) / -")
	}
	text("contact.address", s.Contact.Address)

	if !fundCodePattern.MatchString(s.Fund.Code) {
		bad("fund.code", "négy számjegy kell / must be four digits")
	}
	text("fund.name", s.Fund.Name)
	required("fund.encryptionCert", s.Fund.EncryptionCert)
	if s.Fund.ReceiverURL != "" {
		if err := checkURL(s.Fund.ReceiverURL, "https"); err != nil {
			bad("fund.receiverURL", err.Error())
		}
	}
	required("encryptionCert", s.EncryptionCert)
	if s.EncryptionCert != "" && s.EncryptionCert == s.Fund.EncryptionCert {
		bad("encryptionCert", "nem lehet a pénztár tanúsítványa / must not be the fund's certificate")
	}

	if s.SigningKey != "" {
		if _, err := keys.ParseKeySpec(s.SigningKey); err != nil {
			bad("signingKey", err.Error())
		}
	}
	if s.SigningSecret != "" {
		// ParseSecretSource never echoes the value: a user may have typed the secret itself.
		if _, err := keys.ParseSecretSource(s.SigningSecret); err != nil {
			bad("signingSecret", err.Error())
		}
	}
	if s.DecryptionKey != "" {
		if _, err := keys.ParseKeySpec(s.DecryptionKey); err != nil {
			bad("decryptionKey", err.Error())
		}
	}
	if s.DecryptionSecret != "" {
		if _, err := keys.ParseSecretSource(s.DecryptionSecret); err != nil {
			bad("decryptionSecret", err.Error())
		}
	}
	if s.TSAURL != "" {
		if err := checkURL(s.TSAURL, "http", "https"); err != nil {
			bad("tsaURL", err.Error())
		}
	}

	switch s.Policy {
	case "", PolicyProduction, PolicySandbox:
	default:
		if st, err := os.Stat(s.Policy); err != nil || st.IsDir() {
			bad("policy", "production, sandbox, vagy egy létező szabályzatfájl / production, sandbox or an existing policy file")
		}
	}
	out = append(out, TrustProblems("trust", s.Trust)...)

	if s.Fund.TLSCA != "" {
		if st, err := os.Stat(s.Fund.TLSCA); err != nil || st.IsDir() {
			bad("fund.tlsCA", "nem olvasható fájl / not a readable file")
		}
	}
	if s.Send.Attempts < 0 || s.Send.Attempts > 100 {
		bad("send.attempts", "0…100")
	}
	for field, v := range map[string]string{"send.backoff": s.Send.Backoff, "send.maxWait": s.Send.MaxWait, "send.timeout": s.Send.Timeout,
		"send.finalWait": s.Send.FinalWait} {
		if v == "" {
			continue
		}
		if d, err := time.ParseDuration(v); err != nil || d < 0 || d > 48*time.Hour {
			bad(field, "időtartam kell, pl. 2s, 5m, legfeljebb 48h / a duration is needed, e.g. 2s, 5m, at most 48h")
		}
	}
	for field, v := range map[string]string{"notify.fund": s.Notify.Fund, "notify.supervisor": s.Notify.Supervisor} {
		if n := utf8.RuneCountInString(collapse(v)); n > 320 || !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 }) {
			bad(field, "legfeljebb 320 karakter, vezérlőkarakter nélkül / at most 320 characters, no control characters")
		}
	}

	required("stateDir", s.StateDir)
	if st, err := os.Stat(s.StateDir); s.StateDir != "" && err == nil && !st.IsDir() {
		bad("stateDir", "nem könyvtár / not a directory")
	}
	return out
}

// TrustProblems checks the trust section of a configuration file (a trust.Config under the JSON path
// field): no empty certificate path, every revocation source with an issuer and at least one location
// of the right scheme, the proxy an http(s) URL without user info. It does not read the files; trust.Load
// does, when the section is loaded. Every program's configuration checks its trust section with it.
func TrustProblems(field string, t trust.Config) []Problem {
	var out []Problem
	bad := func(f, msg string) { out = append(out, Problem{f, msg}) }
	required := func(f, v string) {
		if v == "" {
			bad(f, "kötelező / required")
		}
	}
	for i, p := range t.SignerAnchors {
		required(fmt.Sprintf("%s.signerAnchors[%d]", field, i), p)
	}
	for i, p := range t.TSAAnchors {
		required(fmt.Sprintf("%s.tsaAnchors[%d]", field, i), p)
	}
	for i, p := range t.Intermediates {
		required(fmt.Sprintf("%s.intermediates[%d]", field, i), p)
	}
	for i, src := range t.RevocationSources {
		f := fmt.Sprintf("%s.revocationSources[%d]", field, i)
		required(f+".issuer", src.Issuer)
		if src.OCSPURL == "" && src.CRLURL == "" && src.CRLFile == "" && src.CRLDir == "" {
			bad(f, "ocspURL, crlURL, crlFile vagy crlDir közül legalább egy kell / at least one of ocspURL, crlURL, crlFile, crlDir is needed")
		}
		if src.OCSPURL != "" {
			if err := checkURL(src.OCSPURL, "http", "https"); err != nil {
				bad(f+".ocspURL", err.Error())
			}
		}
		if src.CRLURL != "" {
			if err := checkURL(src.CRLURL, "http"); err != nil {
				bad(f+".crlURL", err.Error())
			}
		}
	}
	if t.Proxy != "" {
		if err := checkURL(t.Proxy, "http", "https"); err != nil {
			bad(field+".proxy", err.Error())
		}
	}
	return out
}

// checkURL accepts an absolute URL with one of the schemes and a host, without user info (a password
// in a URL would be a secret in the configuration file).
func checkURL(s string, schemes ...string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("érvénytelen URL / invalid URL")
	}
	ok := false
	for _, sc := range schemes {
		ok = ok || u.Scheme == sc
	}
	if !ok {
		return fmt.Errorf("a séma %s kell legyen / scheme must be %s", strings.Join(schemes, "|"), strings.Join(schemes, " or "))
	}
	if u.Host == "" {
		return errors.New("hiányzik a gépnév / host missing")
	}
	if u.User != nil {
		return errors.New("felhasználói adat nem lehet az URL-ben / no user info in the URL")
	}
	return nil
}

// collapse is XSD whitespace collapsing, for length checks as the schema counts.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }
