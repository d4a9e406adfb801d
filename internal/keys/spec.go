package keys

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// KeyKind says where a key named by a KeySpec lives.
type KeyKind string

// The key kinds a KeySpec can name.
const (
	KindPKCS12 KeyKind = "p12"    // a PKCS#12 file
	KindPKCS11 KeyKind = "pkcs11" // a key in a PKCS#11 token
)

// KeySpec names a key in configuration files and on command lines. It never
// holds the secret that unlocks the key: that comes separately from a
// [Secret] (a file, an environment variable or a prompt; SEC-03).
//
// The textual form (see [ParseKeySpec]) is
//
//	p12:PATH
//	pkcs11:module=/usr/lib/softhsm/libsofthsm2.so;token=LABEL;key=LABEL
//
// A KeySpec's String method gives back a canonical text that ParseKeySpec
// reads to the same KeySpec.
type KeySpec struct {
	Kind KeyKind
	// Path is the PKCS#12 file (KindPKCS12).
	Path string

	// The rest is for KindPKCS11. Module is the PKCS#11 library; the token
	// is selected by Slot, Token (label) and TokenSerial, the key by
	// KeyLabel, KeyID, Subject and Serial, all with the meaning of the
	// PKCS11Config fields of the same role.
	Module      string
	Slot        *uint
	Token       string
	TokenSerial string
	KeyLabel    string
	KeyID       []byte
	Subject     string
	Serial      *big.Int
}

// ErrKeySpec is wrapped by every error ParseKeySpec returns.
var ErrKeySpec = errors.New("keys: invalid key specification (hibás kulcsmegadás)")

// pkcs11Attrs maps the attribute names ParseKeySpec accepts to canonical
// names. The RFC 7512 names for the same things are accepted as aliases.
var pkcs11Attrs = map[string]string{
	"module": "module", "module-path": "module",
	"slot": "slot", "slot-id": "slot",
	"token":        "token",
	"token-serial": "token-serial",
	"key":          "key", "object": "key",
	"id":      "id",
	"subject": "subject",
	"serial":  "serial",
}

// ParseKeySpec parses a key specification:
//
//	p12:PATH
//	    a PKCS#12 file (also "pkcs12:PATH"); PATH is taken literally.
//
//	pkcs11:ATTR=VALUE;ATTR=VALUE;...
//	    a key in a PKCS#11 token, in the spirit of RFC 7512 PKCS#11 URIs
//	    but simpler. Attributes (each at most once, any order):
//	      module=PATH       the PKCS#11 library (required; RFC 7512: module-path)
//	      slot=N            the slot ID, decimal (RFC 7512: slot-id)
//	      token=LABEL       the token label
//	      token-serial=S    the token serial number
//	      key=LABEL         the private key's CKA_LABEL (RFC 7512: object)
//	      id=HEX            the key's CKA_ID in hexadecimal, ':' separators allowed
//	      subject=NAME      the certificate subject: the whole DN as Go prints it
//	                        ("CN=Kiss Anna,O=Példa Kft.,C=HU") or only the CN
//	      serial=S          the certificate serial: decimal, 0x-hex or aa:bb:cc
//	    Values are percent-decoded (RFC 3986), so a ';' in a value is
//	    written %3B and a '%' is written %25; '=' needs no escaping (only
//	    the first '=' of an attribute separates name and value).
//	    Note: RFC 7512's "serial" is the token serial; here it is the
//	    certificate's, the one people read off a certificate viewer.
//
// A PIN or password can never be part of a spec: RFC 7512's pin-value and
// pin-source are refused, and errors never repeat attribute values (a user
// may have typed a PIN where a label belongs).
func ParseKeySpec(s string) (KeySpec, error) {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok {
		return KeySpec{}, fmt.Errorf("%w: must start with p12: or pkcs11: (p12:ÚTVONAL vagy pkcs11:module=...;token=...)", ErrKeySpec)
	}
	switch strings.ToLower(scheme) {
	case "p12", "pkcs12":
		if rest == "" {
			return KeySpec{}, fmt.Errorf("%w: p12: needs a file path (p12:ÚTVONAL / p12:PATH)", ErrKeySpec)
		}
		if strings.ContainsRune(rest, 0) {
			return KeySpec{}, fmt.Errorf("%w: p12: path contains a NUL byte", ErrKeySpec)
		}
		return KeySpec{Kind: KindPKCS12, Path: rest}, nil
	case "pkcs11":
		return parsePKCS11Spec(rest)
	}
	return KeySpec{}, fmt.Errorf("%w: unknown scheme; use p12: or pkcs11: (ismeretlen forma)", ErrKeySpec)
}

func parsePKCS11Spec(rest string) (KeySpec, error) {
	spec := KeySpec{Kind: KindPKCS11}
	seen := map[string]bool{}
	parts := strings.Split(rest, ";")
	if n := len(parts); n > 1 && parts[n-1] == "" {
		parts = parts[:n-1] // a trailing ';' is harmless
	}
	for _, part := range parts {
		if part == "" {
			if rest == "" {
				break // reported below: module is required
			}
			return KeySpec{}, fmt.Errorf("%w: pkcs11: empty attribute (üres attribútum)", ErrKeySpec)
		}
		rawName, rawValue, hasEq := strings.Cut(part, "=")
		name := strings.ToLower(strings.TrimSpace(rawName))
		if name == "pin-value" || name == "pin-source" || name == "pin" {
			return KeySpec{}, fmt.Errorf("%w: pkcs11: a PIN never goes into a key specification; use --pin file:, env: or prompt: "+
				"(a PIN-kód nem adható meg a kulcs megadásában)", ErrKeySpec)
		}
		canon, known := pkcs11Attrs[name]
		if !known {
			// Only the name is repeated, never the value.
			return KeySpec{}, fmt.Errorf("%w: pkcs11: unknown attribute %q (ismeretlen attribútum)", ErrKeySpec, truncate(name, 32))
		}
		if !hasEq {
			return KeySpec{}, fmt.Errorf("%w: pkcs11: attribute %s needs a value (%s=...)", ErrKeySpec, canon, canon)
		}
		if seen[canon] {
			return KeySpec{}, fmt.Errorf("%w: pkcs11: attribute %s given twice (kétszer megadva)", ErrKeySpec, canon)
		}
		seen[canon] = true
		value, err := url.PathUnescape(rawValue)
		if err != nil {
			return KeySpec{}, fmt.Errorf("%w: pkcs11: attribute %s: bad percent-encoding (hibás %%-kódolás)", ErrKeySpec, canon)
		}
		if value == "" {
			return KeySpec{}, fmt.Errorf("%w: pkcs11: attribute %s is empty (üres érték)", ErrKeySpec, canon)
		}
		if strings.ContainsRune(value, 0) {
			return KeySpec{}, fmt.Errorf("%w: pkcs11: attribute %s contains a NUL byte", ErrKeySpec, canon)
		}
		switch canon {
		case "module":
			spec.Module = value
		case "slot":
			n, err := strconv.ParseUint(value, 10, 32)
			if err != nil {
				return KeySpec{}, fmt.Errorf("%w: pkcs11: slot must be a decimal number (a slot decimális szám)", ErrKeySpec)
			}
			u := uint(n)
			spec.Slot = &u
		case "token":
			spec.Token = value
		case "token-serial":
			spec.TokenSerial = value
		case "key":
			spec.KeyLabel = value
		case "id":
			id, err := hex.DecodeString(strings.ReplaceAll(value, ":", ""))
			if err != nil || len(id) == 0 {
				return KeySpec{}, fmt.Errorf("%w: pkcs11: id must be hexadecimal (az id hexadecimális)", ErrKeySpec)
			}
			spec.KeyID = id
		case "subject":
			spec.Subject = value
		case "serial":
			n, err := ParseSerial(value)
			if err != nil {
				return KeySpec{}, fmt.Errorf("%w: pkcs11: serial must be decimal, 0x-hex or aa:bb hex (hibás sorozatszám)", ErrKeySpec)
			}
			spec.Serial = n
		}
	}
	if spec.Module == "" {
		return KeySpec{}, fmt.Errorf("%w: pkcs11: module=PATH is required (a PKCS#11 modul útvonala kötelező)", ErrKeySpec)
	}
	return spec, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// escapeValue percent-encodes what ParseKeySpec would otherwise split on or
// decode: '%', ';' and control characters.
func escapeValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '%' || c == ';' || c < 0x20 || c == 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// String returns the canonical text of s (attributes in a fixed order, the
// names ParseKeySpec documents first). It contains no secret, since a
// KeySpec holds none.
func (s KeySpec) String() string {
	switch s.Kind {
	case KindPKCS12:
		return "p12:" + s.Path
	case KindPKCS11:
		var parts []string
		add := func(name, v string) {
			if v != "" {
				parts = append(parts, name+"="+escapeValue(v))
			}
		}
		add("module", s.Module)
		if s.Slot != nil {
			add("slot", strconv.FormatUint(uint64(*s.Slot), 10))
		}
		add("token", s.Token)
		add("token-serial", s.TokenSerial)
		add("key", s.KeyLabel)
		if len(s.KeyID) > 0 {
			add("id", hex.EncodeToString(s.KeyID))
		}
		add("subject", s.Subject)
		if s.Serial != nil {
			add("serial", "0x"+s.Serial.Text(16))
		}
		return "pkcs11:" + strings.Join(parts, ";")
	}
	return ""
}

// Equal reports whether s and o name the same key in the same way.
func (s KeySpec) Equal(o KeySpec) bool {
	eqSlot := (s.Slot == nil) == (o.Slot == nil) && (s.Slot == nil || *s.Slot == *o.Slot)
	eqSerial := (s.Serial == nil) == (o.Serial == nil) && (s.Serial == nil || s.Serial.Cmp(o.Serial) == 0)
	return s.Kind == o.Kind && s.Path == o.Path && s.Module == o.Module && eqSlot && s.Token == o.Token &&
		s.TokenSerial == o.TokenSerial && s.KeyLabel == o.KeyLabel && bytes.Equal(s.KeyID, o.KeyID) &&
		s.Subject == o.Subject && eqSerial
}

// PKCS11Config returns the PKCS11Config that selects the token and key s
// names, unlocking with pin (nil: no login, for ListPKCS11 of public
// objects). It is the zero PKCS11Config for a non-PKCS#11 spec.
func (s KeySpec) PKCS11Config(pin Secret) PKCS11Config {
	if s.Kind != KindPKCS11 {
		return PKCS11Config{}
	}
	cfg := PKCS11Config{
		Module: s.Module, TokenLabel: s.Token, TokenSerial: s.TokenSerial, PIN: pin,
		KeyLabel: s.KeyLabel, KeyID: bytes.Clone(s.KeyID), CertSubject: s.Subject,
	}
	if s.Slot != nil {
		slot := *s.Slot
		cfg.Slot = &slot
	}
	if s.Serial != nil {
		cfg.CertSerial = new(big.Int).Set(s.Serial)
	}
	return cfg
}

// OpenKey opens the key spec names, unlocking it with secret (the PKCS#12
// password or the token PIN): OpenPKCS12 for p12: specs, OpenPKCS11 for
// pkcs11: specs, with all their guarantees. A *SecretSource, SecretBytes or
// any other Secret may be passed.
func OpenKey(ctx context.Context, spec KeySpec, secret Secret) (Key, error) {
	if secret == nil {
		return nil, errors.New("keys: open: a password or PIN source is required (jelszó vagy PIN-kód szükséges)")
	}
	switch spec.Kind {
	case KindPKCS12:
		if spec.Path == "" {
			return nil, fmt.Errorf("%w: p12: no path", ErrKeySpec)
		}
		return OpenPKCS12(ctx, spec.Path, secret)
	case KindPKCS11:
		if spec.Module == "" {
			return nil, fmt.Errorf("%w: pkcs11: no module", ErrKeySpec)
		}
		return OpenPKCS11(ctx, spec.PKCS11Config(secret))
	}
	return nil, fmt.Errorf("%w: unknown kind %q", ErrKeySpec, spec.Kind)
}

// ErrSecretSource marks a secret source string OpenSpecs could not parse.
var ErrSecretSource = errors.New("keys: invalid secret source (hibás titokforrás)")

// OpenSpecs opens the key named by a key specification string (p12:… or pkcs11:…) with the secret
// from a secret source string (file:…, env:…, prompt:). A prompt: source asks on in (when it is a
// terminal) and writes the label to out. Errors never repeat the secret source's text beyond its kind:
// it may have been the secret itself.
func OpenSpecs(ctx context.Context, spec, source string, in *os.File, out io.Writer, label string) (Key, error) {
	ks, err := ParseKeySpec(spec)
	if err != nil {
		return nil, fmt.Errorf("kulcs / key: %w", err)
	}
	src, err := ParseSecretSource(source)
	if err != nil {
		return nil, fmt.Errorf("titok forrása / secret source: %w: %w", ErrSecretSource, err)
	}
	if in != nil {
		src = src.WithTerminal(in, out)
	}
	return OpenKey(ctx, ks, src.WithPrompt(label))
}
