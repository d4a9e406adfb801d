package keys

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/miekg/pkcs11"
)

// PKCS11Config says which PKCS#11 module, token and key to use.
//
// The token is chosen by Slot, TokenLabel or TokenSerial (all given ones
// must match); with none given, the only initialised token is used, and
// several tokens are an ambiguity error.
//
// The key is chosen by the key selectors KeyLabel, KeyID, CertSubject and
// CertSerial (all given ones must match). With none given, the token must
// hold exactly one usable key (a private key with its certificate). A key
// whose certificate was renewed has one candidate per certificate; CertSerial
// picks one of them.
type PKCS11Config struct {
	// Module is the path of the PKCS#11 library (e.g.
	// /usr/lib/softhsm/libsofthsm2.so, /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so).
	Module string
	// Slot is the PKCS#11 slot ID, if the token is selected by slot.
	Slot *uint
	// TokenLabel selects the token by its label.
	TokenLabel string
	// TokenSerial selects the token by its serial number.
	TokenSerial string
	// PIN is the user PIN. Required to open keys; optional for ListPKCS11
	// (without it only certificates, which are public objects, are listed).
	PIN Secret

	// KeyLabel selects the private key by its CKA_LABEL.
	KeyLabel string
	// KeyID selects the private key by its CKA_ID.
	KeyID []byte
	// CertSubject selects by certificate subject: either the whole
	// distinguished name as x509's Subject.String() prints it
	// ("CN=Kiss Anna,O=Példa Kft.,C=HU") or exactly the common name.
	CertSubject string
	// CertSerial selects by certificate serial number.
	CertSerial *big.Int

	// Certificate, if set, is the key's certificate for tokens that do not
	// store it; only keys whose public key matches it are candidates.
	Certificate *x509.Certificate
	// Chain adds CA certificates to those found on the token for building
	// Key.Chain.
	Chain []*x509.Certificate
}

// KeyInfo describes one key (or certificate) found on a token.
type KeyInfo struct {
	// Label and ID are the private key's CKA_LABEL and CKA_ID (the
	// certificate's, when HasPrivateKey is false).
	Label string
	ID    []byte
	// HasPrivateKey is true when the private key object was seen. Private
	// keys are private objects: without a PIN only certificates are listed.
	HasPrivateKey bool
	// KeyType is e.g. "RSA-2048" or "ECDSA P-256".
	KeyType string
	// CanSign and CanDecrypt are the private key's CKA_SIGN and CKA_DECRYPT.
	CanSign, CanDecrypt bool
	// Certificate is the paired certificate, or nil when none was found.
	// Subject, Issuer, Serial, KeyUsage, NotBefore and NotAfter are copied
	// from it for convenience.
	Certificate         *x509.Certificate
	Subject, Issuer     string
	Serial              *big.Int
	KeyUsage            x509.KeyUsage
	NotBefore, NotAfter time.Time
}

// String is a one-line description, without secrets.
func (i KeyInfo) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "label=%q id=%s", i.Label, hex.EncodeToString(i.ID))
	if i.KeyType != "" {
		fmt.Fprintf(&b, " %s", i.KeyType)
	}
	if !i.HasPrivateKey {
		b.WriteString(" (certificate only)")
	}
	if i.Certificate != nil {
		fmt.Fprintf(&b, " subject=%q serial=%s notAfter=%s", i.Subject, i.Serial.Text(16), i.NotAfter.UTC().Format(time.RFC3339))
	} else {
		b.WriteString(" (no certificate)")
	}
	return b.String()
}

// SelectionError reports an empty or ambiguous key (or token) selection.
// Err is ErrNoKey or ErrAmbiguous; Candidates lists what the token offers so
// the user can refine the selection.
type SelectionError struct {
	Err        error
	Token      string
	Candidates []KeyInfo
}

func (e *SelectionError) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	if e.Token != "" {
		fmt.Fprintf(&b, " [token %s]", e.Token)
	}
	if len(e.Candidates) == 0 {
		b.WriteString("; the token offers no keys")
	}
	for _, c := range e.Candidates {
		b.WriteString("\n  - ")
		b.WriteString(c.String())
	}
	return b.String()
}

func (e *SelectionError) Unwrap() error { return e.Err }

// hasKeySelector reports whether any key selector is set.
func (c *PKCS11Config) hasKeySelector() bool {
	return c.KeyLabel != "" || len(c.KeyID) > 0 || c.CertSubject != "" || c.CertSerial != nil
}

// OpenPKCS11 logs in to the token cfg selects, with cfg.PIN, and opens the
// key cfg selects. The private key stays in the token: Sign and Decrypt run
// there (SIG-11).
//
// Guarantees: the key is a private key object with a certificate (from the
// token or cfg.Certificate) whose public key matches the public key the
// token reports for it; exactly one key matched the selection, otherwise a
// *SelectionError (ErrNoKey, ErrAmbiguous) lists the candidates; a wrong PIN
// yields ErrIncorrectPIN, a locked one ErrPINLocked, an unloadable module or
// missing token ErrModule. The Key owns one PKCS#11 session, released by
// Close (with the last session on the token the login ends, with the last
// on the module the module is finalised). Keys whose object has
// CKA_ALWAYS_AUTHENTICATE read cfg.PIN again for every signature or
// decryption (a prompt source then prompts each time).
func OpenPKCS11(ctx context.Context, cfg PKCS11Config) (Key, error) {
	if cfg.PIN == nil {
		return nil, errors.New("keys: pkcs11: a PIN source is required (PIN-kód szükséges)")
	}
	s, err := registry.openSession(ctx, &cfg, false)
	if err != nil {
		return nil, err
	}
	k, err := s.selectKey(ctx, &cfg)
	if err != nil {
		s.close()
		return nil, err
	}
	return k, nil
}

// ListPKCS11 lists the keys on the token cfg selects, each paired with its
// certificate, followed by certificates that belong to no visible private
// key (CA certificates, or all certificates when cfg.PIN is nil). The key
// selectors in cfg are ignored. The session is closed before returning.
func ListPKCS11(ctx context.Context, cfg PKCS11Config) ([]KeyInfo, error) {
	s, err := registry.openSession(ctx, &cfg, false)
	if err != nil {
		return nil, err
	}
	defer s.close()
	cands, extra, err := s.enumerate()
	if err != nil {
		return nil, err
	}
	out := make([]KeyInfo, 0, len(cands)+len(extra))
	for _, c := range cands {
		out = append(out, c.info())
	}
	for _, c := range extra {
		out = append(out, c.info())
	}
	return out, nil
}

// ---- process-wide module registry ----

// p11Registry mirrors the state PKCS#11 keeps per process: one initialised
// context per module, one login state per token.
type p11Registry struct {
	mu      sync.Mutex
	modules map[string]*p11Module
	pinKey  []byte // random key for the PIN MACs, created on first use
}

// registry is the package's only mutable global: the PKCS#11 standard makes
// module initialisation and token login process-wide, so the bookkeeping of
// them must be process-wide too.
var registry = &p11Registry{modules: map[string]*p11Module{}}

type p11Module struct {
	path     string
	ctx      *pkcs11.Ctx
	refs     int  // open sessions of ours on this module
	ownsInit bool // we called C_Initialize, so we call C_Finalize
	tokens   map[uint]*p11Token
}

type p11Token struct {
	sessions int
	// pinMAC is the HMAC of the PIN the token was logged in with; nil when
	// our sessions on the token are not logged in.
	pinMAC []byte
}

// p11Session is one open session of ours.
type p11Session struct {
	reg    *p11Registry
	mod    *p11Module
	slot   uint
	token  pkcs11.TokenInfo
	h      pkcs11.SessionHandle
	closed bool
}

func (s *p11Session) ctx() *pkcs11.Ctx { return s.mod.ctx }

func (s *p11Session) tokenName() string {
	return fmt.Sprintf("%q (slot %d, serial %s)", s.token.Label, s.slot, s.token.SerialNumber)
}

// openSession loads the module if needed, finds the token, opens a session
// and, when cfg.PIN is set, logs in (or checks the PIN against the existing
// login). rw asks for a read-write session.
func (r *p11Registry) openSession(ctx context.Context, cfg *PKCS11Config, rw bool) (*p11Session, error) {
	if cfg.Module == "" {
		return nil, fmt.Errorf("%w: no module path given (nincs megadva a PKCS#11 modul)", ErrModule)
	}
	path, err := filepath.Abs(cfg.Module)
	if err == nil {
		path, err = filepath.EvalSymlinks(path)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: module %s: %v", ErrModule, cfg.Module, err)
	}
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: module %s is not a readable file", ErrModule, cfg.Module)
	}
	// Read the PIN before taking the lock: a prompt may wait for the user.
	var pin []byte
	if cfg.PIN != nil {
		if pin, err = cfg.PIN.Read(ctx); err != nil {
			return nil, fmt.Errorf("keys: pkcs11: reading PIN: %w", err)
		}
		defer Wipe(pin)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	m, err := r.module(path)
	if err != nil {
		return nil, err
	}
	s, err := r.openLocked(m, cfg, rw, pin)
	if err != nil {
		r.releaseModuleLocked(m)
		return nil, err
	}
	return s, nil
}

// module returns the loaded module for path, loading and initialising it
// if needed, and takes a reference on it.
func (r *p11Registry) module(path string) (*p11Module, error) {
	if m, ok := r.modules[path]; ok {
		m.refs++
		return m, nil
	}
	c := pkcs11.New(path)
	if c == nil {
		return nil, fmt.Errorf("%w: cannot load %s as a PKCS#11 library", ErrModule, path)
	}
	owns := true
	if err := c.Initialize(); err != nil {
		if !errors.Is(err, pkcs11.Error(pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
			c.Destroy()
			return nil, fmt.Errorf("%w: initialising %s: %v", ErrModule, path, err)
		}
		// Someone else in this process initialised it; leave finalising
		// to them.
		owns = false
	}
	m := &p11Module{path: path, ctx: c, refs: 1, ownsInit: owns, tokens: map[uint]*p11Token{}}
	r.modules[path] = m
	return m, nil
}

func (r *p11Registry) releaseModuleLocked(m *p11Module) {
	m.refs--
	if m.refs > 0 {
		return
	}
	if m.ownsInit {
		_ = m.ctx.Finalize()
	}
	m.ctx.Destroy()
	delete(r.modules, m.path)
}

func (r *p11Registry) pinMAC(pin []byte) []byte {
	if r.pinKey == nil {
		r.pinKey = make([]byte, 32)
		_, _ = rand.Read(r.pinKey)
	}
	h := hmac.New(sha256.New, r.pinKey)
	h.Write(pin)
	return h.Sum(nil)
}

func (r *p11Registry) openLocked(m *p11Module, cfg *PKCS11Config, rw bool, pin []byte) (*p11Session, error) {
	slot, ti, err := findSlot(m.ctx, cfg)
	if err != nil {
		return nil, err
	}
	flags := uint(pkcs11.CKF_SERIAL_SESSION)
	if rw {
		flags |= pkcs11.CKF_RW_SESSION
	}
	h, err := m.ctx.OpenSession(slot, flags)
	if err != nil {
		return nil, fmt.Errorf("%w: opening session on token %q: %v", ErrModule, ti.Label, err)
	}
	tok := m.tokens[slot]
	if tok == nil {
		tok = &p11Token{}
		m.tokens[slot] = tok
	}
	s := &p11Session{reg: r, mod: m, slot: slot, token: ti, h: h}
	if pin != nil {
		if err := r.loginLocked(s, tok, pin); err != nil {
			_ = m.ctx.CloseSession(h)
			if tok.sessions == 0 {
				delete(m.tokens, slot)
			}
			return nil, err
		}
	}
	tok.sessions++
	return s, nil
}

func (r *p11Registry) loginLocked(s *p11Session, tok *p11Token, pin []byte) error {
	mac := r.pinMAC(pin)
	if tok.pinMAC != nil {
		// The token is already logged in for this process; C_Login would
		// not check the PIN, so compare with the one used then.
		if !hmac.Equal(mac, tok.pinMAC) {
			return fmt.Errorf("%w: token %s", ErrIncorrectPIN, s.tokenName())
		}
		return nil
	}
	err := s.ctx().Login(s.h, pkcs11.CKU_USER, string(pin))
	if errors.Is(err, pkcs11.Error(pkcs11.CKR_USER_ALREADY_LOGGED_IN)) {
		// Logged in by code outside this package: log out and in again so
		// that the PIN is actually verified.
		_ = s.ctx().Logout(s.h)
		err = s.ctx().Login(s.h, pkcs11.CKU_USER, string(pin))
	}
	if err != nil {
		return loginError(err, s.tokenName())
	}
	tok.pinMAC = mac
	return nil
}

func loginError(err error, token string) error {
	switch {
	case errors.Is(err, pkcs11.Error(pkcs11.CKR_PIN_INCORRECT)), errors.Is(err, pkcs11.Error(pkcs11.CKR_PIN_INVALID)),
		errors.Is(err, pkcs11.Error(pkcs11.CKR_PIN_LEN_RANGE)):
		return fmt.Errorf("%w: token %s", ErrIncorrectPIN, token)
	case errors.Is(err, pkcs11.Error(pkcs11.CKR_PIN_LOCKED)):
		return fmt.Errorf("%w: token %s", ErrPINLocked, token)
	}
	return fmt.Errorf("keys: pkcs11: login to token %s: %w", token, err)
}

// close closes the session; with the last one on the token the token's
// login state ends (PKCS#11 §5.6), with the last one on the module the
// module is finalised and unloaded.
func (s *p11Session) close() {
	r := s.reg
	r.mu.Lock()
	defer r.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	_ = s.ctx().CloseSession(s.h)
	if tok := s.mod.tokens[s.slot]; tok != nil {
		tok.sessions--
		if tok.sessions <= 0 {
			delete(s.mod.tokens, s.slot)
		}
	}
	r.releaseModuleLocked(s.mod)
}

func trimPadded(s string) string { return strings.TrimRight(s, " \x00") }

// findSlot picks the token cfg asks for.
func findSlot(c *pkcs11.Ctx, cfg *PKCS11Config) (uint, pkcs11.TokenInfo, error) {
	slots, err := c.GetSlotList(true)
	if err != nil {
		return 0, pkcs11.TokenInfo{}, fmt.Errorf("%w: listing slots: %v", ErrModule, err)
	}
	type tok struct {
		slot uint
		info pkcs11.TokenInfo
	}
	var all, match []tok
	for _, sl := range slots {
		ti, err := c.GetTokenInfo(sl)
		if err != nil {
			continue
		}
		ti.Label, ti.SerialNumber = trimPadded(ti.Label), trimPadded(ti.SerialNumber)
		if ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 && cfg.Slot == nil {
			continue
		}
		all = append(all, tok{sl, ti})
		if cfg.Slot != nil && sl != *cfg.Slot ||
			cfg.TokenLabel != "" && ti.Label != cfg.TokenLabel ||
			cfg.TokenSerial != "" && ti.SerialNumber != cfg.TokenSerial {
			continue
		}
		match = append(match, tok{sl, ti})
	}
	if len(match) == 1 {
		return match[0].slot, match[0].info, nil
	}
	var names []string
	for _, t := range all {
		names = append(names, fmt.Sprintf("%q (slot %d, serial %s)", t.info.Label, t.slot, t.info.SerialNumber))
	}
	avail := "none"
	if len(names) > 0 {
		avail = strings.Join(names, ", ")
	}
	if len(match) == 0 {
		return 0, pkcs11.TokenInfo{}, fmt.Errorf("%w: no token matches (nincs ilyen token); available tokens: %s", ErrModule, avail)
	}
	return 0, pkcs11.TokenInfo{}, fmt.Errorf("%w: several tokens match; select by label, serial or slot (több token felel meg); available tokens: %s", ErrAmbiguous, avail)
}

// ---- object enumeration ----

// p11Candidate is a private key (maybe) paired with a certificate, or a
// certificate without a visible private key.
type p11Candidate struct {
	hasKey      bool
	handle      pkcs11.ObjectHandle
	id          []byte
	label       string
	keyType     uint
	canSign     bool
	canDecrypt  bool
	alwaysAuth  bool
	pub         crypto.PublicKey // as reported by the token; nil if unknown
	cert        *x509.Certificate
	pubVerified bool // pub was compared with cert's public key
}

func (c *p11Candidate) info() KeyInfo {
	i := KeyInfo{
		Label: c.label, ID: bytes.Clone(c.id), HasPrivateKey: c.hasKey,
		CanSign: c.canSign, CanDecrypt: c.canDecrypt, Certificate: c.cert,
	}
	pub := c.pub
	if c.cert != nil {
		i.Subject, i.Issuer = c.cert.Subject.String(), c.cert.Issuer.String()
		i.Serial, i.KeyUsage = c.cert.SerialNumber, c.cert.KeyUsage
		i.NotBefore, i.NotAfter = c.cert.NotBefore, c.cert.NotAfter
		if pub == nil {
			pub = c.cert.PublicKey
		}
	}
	if pub != nil {
		i.KeyType = keyTypeName(pub)
	}
	return i
}

type p11Cert struct {
	id    []byte
	label string
	cert  *x509.Certificate
	used  bool
}

func (s *p11Session) findObjects(tmpl []*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
	c := s.ctx()
	if err := c.FindObjectsInit(s.h, tmpl); err != nil {
		return nil, fmt.Errorf("keys: pkcs11: find objects: %w", err)
	}
	var all []pkcs11.ObjectHandle
	for {
		hs, _, err := c.FindObjects(s.h, 64)
		if err != nil {
			_ = c.FindObjectsFinal(s.h)
			return nil, fmt.Errorf("keys: pkcs11: find objects: %w", err)
		}
		if len(hs) == 0 {
			break
		}
		all = append(all, hs...)
	}
	if err := c.FindObjectsFinal(s.h); err != nil {
		return nil, fmt.Errorf("keys: pkcs11: find objects: %w", err)
	}
	return all, nil
}

// attr reads one attribute; ok is false when the token does not have it.
func (s *p11Session) attr(o pkcs11.ObjectHandle, typ uint) ([]byte, bool) {
	a, err := s.ctx().GetAttributeValue(s.h, o, []*pkcs11.Attribute{pkcs11.NewAttribute(typ, nil)})
	if err != nil || len(a) != 1 {
		return nil, false
	}
	return a[0].Value, true
}

func (s *p11Session) boolAttr(o pkcs11.ObjectHandle, typ uint) bool {
	v, ok := s.attr(o, typ)
	return ok && len(v) == 1 && v[0] != 0
}

func (s *p11Session) ulongAttr(o pkcs11.ObjectHandle, typ uint) (uint, bool) {
	v, ok := s.attr(o, typ)
	if !ok || len(v) == 0 || len(v) > 8 {
		return 0, false
	}
	// CK_ULONG in host byte order; every platform we build for is little-endian.
	var n uint
	for i := len(v) - 1; i >= 0; i-- {
		n = n<<8 | uint(v[i])
	}
	return n, true
}

// enumerate lists the private keys (paired with certificates) and the
// certificates that belong to no private key.
func (s *p11Session) enumerate() (keys []*p11Candidate, certOnly []*p11Candidate, err error) {
	certHandles, err := s.findObjects([]*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE),
		pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509),
	})
	if err != nil {
		return nil, nil, err
	}
	var certs []*p11Cert
	for _, h := range certHandles {
		der, ok := s.attr(h, pkcs11.CKA_VALUE)
		if !ok {
			continue
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			continue // not ours to judge; it cannot be selected anyway
		}
		id, _ := s.attr(h, pkcs11.CKA_ID)
		label, _ := s.attr(h, pkcs11.CKA_LABEL)
		certs = append(certs, &p11Cert{id: id, label: string(label), cert: cert})
	}

	keyHandles, err := s.findObjects([]*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
	})
	if err != nil {
		return nil, nil, err
	}
	for _, h := range keyHandles {
		kt, ok := s.ulongAttr(h, pkcs11.CKA_KEY_TYPE)
		if !ok || (kt != pkcs11.CKK_RSA && kt != pkcs11.CKK_EC) {
			continue // DSA, EdDSA, secret keys: not supported here
		}
		id, _ := s.attr(h, pkcs11.CKA_ID)
		label, _ := s.attr(h, pkcs11.CKA_LABEL)
		k := &p11Candidate{
			hasKey: true, handle: h, id: id, label: string(label), keyType: kt,
			canSign:    s.boolAttr(h, pkcs11.CKA_SIGN),
			canDecrypt: kt == pkcs11.CKK_RSA && s.boolAttr(h, pkcs11.CKA_DECRYPT),
			alwaysAuth: s.boolAttr(h, pkcs11.CKA_ALWAYS_AUTHENTICATE),
			pub:        s.publicKeyFor(h, kt, id),
		}
		// Pair with certificates: same CKA_ID (or, for keys without an
		// ID, same label), or the same public key.
		var paired []*p11Cert
		for _, c := range certs {
			byRef := len(id) > 0 && bytes.Equal(c.id, id) || len(id) == 0 && len(label) > 0 && c.label == string(label)
			byKey := k.pub != nil && samePublicKey(k.pub, c.cert.PublicKey)
			if byKey || (byRef && k.pub == nil) {
				paired = append(paired, c)
			}
		}
		if len(paired) == 0 {
			keys = append(keys, k)
			continue
		}
		for _, c := range paired {
			c.used = true
			kc := *k
			kc.cert = c.cert
			kc.pubVerified = k.pub != nil
			keys = append(keys, &kc)
		}
	}
	for _, c := range certs {
		if !c.used {
			certOnly = append(certOnly, &p11Candidate{id: c.id, label: c.label, cert: c.cert})
		}
	}
	return keys, certOnly, nil
}

// publicKeyFor returns the public key of private key object h: for RSA from
// the private key's own public attributes, for EC from the public key
// object with the same CKA_ID. It returns nil when the token does not say.
func (s *p11Session) publicKeyFor(h pkcs11.ObjectHandle, kt uint, id []byte) crypto.PublicKey {
	switch kt {
	case pkcs11.CKK_RSA:
		n, ok1 := s.attr(h, pkcs11.CKA_MODULUS)
		e, ok2 := s.attr(h, pkcs11.CKA_PUBLIC_EXPONENT)
		if !ok1 || !ok2 || len(n) == 0 || len(e) == 0 || len(e) > 4 {
			return nil
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	case pkcs11.CKK_EC:
		if len(id) == 0 {
			return nil
		}
		hs, err := s.findObjects([]*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC),
			pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		})
		if err != nil || len(hs) != 1 {
			return nil
		}
		params, ok1 := s.attr(hs[0], pkcs11.CKA_EC_PARAMS)
		point, ok2 := s.attr(hs[0], pkcs11.CKA_EC_POINT)
		if !ok1 || !ok2 {
			return nil
		}
		pub, err := parseECPublic(params, point)
		if err != nil {
			return nil
		}
		return pub
	}
	return nil
}

var (
	oidP256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidP384 = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	oidP521 = asn1.ObjectIdentifier{1, 3, 132, 0, 35}
)

func curveFromParams(params []byte) (elliptic.Curve, error) {
	var oid asn1.ObjectIdentifier
	if rest, err := asn1.Unmarshal(params, &oid); err != nil || len(rest) > 0 {
		return nil, errors.New("keys: pkcs11: EC parameters are not a named curve")
	}
	switch {
	case oid.Equal(oidP256):
		return elliptic.P256(), nil
	case oid.Equal(oidP384):
		return elliptic.P384(), nil
	case oid.Equal(oidP521):
		return elliptic.P521(), nil
	}
	return nil, fmt.Errorf("%w: curve %v", ErrUnsupportedKey, oid)
}

func curveParams(c elliptic.Curve) ([]byte, error) {
	switch c {
	case elliptic.P256():
		return asn1.Marshal(oidP256)
	case elliptic.P384():
		return asn1.Marshal(oidP384)
	case elliptic.P521():
		return asn1.Marshal(oidP521)
	}
	return nil, fmt.Errorf("%w: curve %s", ErrUnsupportedKey, c.Params().Name)
}

// parseECPublic parses CKA_EC_PARAMS and CKA_EC_POINT. The point is a DER
// OCTET STRING holding the uncompressed point (PKCS#11 §2.3.3); some tokens
// store the raw point, which is accepted too.
func parseECPublic(params, point []byte) (*ecdsa.PublicKey, error) {
	curve, err := curveFromParams(params)
	if err != nil {
		return nil, err
	}
	var raw []byte
	if rest, err := asn1.Unmarshal(point, &raw); err != nil || len(rest) > 0 {
		raw = point
	}
	return ecdsa.ParseUncompressedPublicKey(curve, raw)
}

// selectKey applies cfg's selectors and turns the one match into a Key.
// On success the session belongs to the Key.
func (s *p11Session) selectKey(ctx context.Context, cfg *PKCS11Config) (Key, error) {
	keys, certOnly, err := s.enumerate()
	if err != nil {
		return nil, err
	}
	if cfg.Certificate != nil {
		keys = withExternalCert(keys, cfg.Certificate)
	}
	var all []KeyInfo
	var match []*p11Candidate
	for _, k := range keys {
		all = append(all, k.info())
		if k.cert == nil || !cfg.matches(k) {
			continue
		}
		match = append(match, k)
	}
	for _, c := range certOnly {
		all = append(all, c.info())
	}
	switch len(match) {
	case 0:
		return nil, &SelectionError{Err: ErrNoKey, Token: s.tokenName(), Candidates: all}
	case 1:
	default:
		var ms []KeyInfo
		for _, m := range match {
			ms = append(ms, m.info())
		}
		return nil, &SelectionError{Err: ErrAmbiguous, Token: s.tokenName(), Candidates: ms}
	}
	k := match[0]
	if err := checkPublicKey(k.cert.PublicKey); err != nil {
		return nil, err
	}
	pool := append([]*x509.Certificate(nil), cfg.Chain...)
	for _, c := range certOnly {
		pool = append(pool, c.cert)
	}
	for _, o := range keys {
		if o.cert != nil && o.cert != k.cert {
			pool = append(pool, o.cert)
		}
	}
	key := &p11Key{
		sess:       s,
		handle:     k.handle,
		keyType:    k.keyType,
		cert:       k.cert,
		chain:      buildChain(k.cert, pool),
		canSign:    k.canSign,
		canDecrypt: k.canDecrypt,
	}
	if k.alwaysAuth {
		key.pin = cfg.PIN
	}
	key.desc = fmt.Sprintf("PKCS#11 token %q key label %q id %s (%s, %s)", s.token.Label, k.label,
		hex.EncodeToString(k.id), keyTypeName(k.cert.PublicKey), certSummary(k.cert))
	return key, nil
}

// withExternalCert pairs keys with an externally supplied certificate:
// only keys whose reported public key matches it (or is unknown) remain,
// once each, carrying that certificate.
func withExternalCert(keys []*p11Candidate, cert *x509.Certificate) []*p11Candidate {
	var out []*p11Candidate
	seen := map[pkcs11.ObjectHandle]bool{}
	for _, k := range keys {
		if seen[k.handle] {
			continue
		}
		if k.pub != nil && !samePublicKey(k.pub, cert.PublicKey) {
			continue
		}
		seen[k.handle] = true
		kc := *k
		kc.cert = cert
		kc.pubVerified = k.pub != nil
		out = append(out, &kc)
	}
	return out
}

func (c *PKCS11Config) matches(k *p11Candidate) bool {
	if c.KeyLabel != "" && k.label != c.KeyLabel {
		return false
	}
	if len(c.KeyID) > 0 && !bytes.Equal(k.id, c.KeyID) {
		return false
	}
	if c.CertSubject != "" && (k.cert == nil ||
		k.cert.Subject.String() != c.CertSubject && k.cert.Subject.CommonName != c.CertSubject) {
		return false
	}
	if c.CertSerial != nil && (k.cert == nil || k.cert.SerialNumber.Cmp(c.CertSerial) != 0) {
		return false
	}
	return true
}

// ParseSerial parses a certificate serial number given as decimal, as hex
// with a "0x" prefix, or as colon-separated hex bytes ("01:a2:ff"), the
// forms openssl and certificate viewers print.
func ParseSerial(s string) (*big.Int, error) {
	s = strings.TrimSpace(s)
	n := new(big.Int)
	var ok bool
	switch {
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		_, ok = n.SetString(s[2:], 16)
	case strings.Contains(s, ":"):
		_, ok = n.SetString(strings.ReplaceAll(s, ":", ""), 16)
	default:
		_, ok = n.SetString(s, 10)
	}
	if !ok || n.Sign() < 0 {
		return nil, fmt.Errorf("keys: invalid serial number %q (érvénytelen sorozatszám)", s)
	}
	return n, nil
}
