package config

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/tagdij/tagdij/internal/keys"
	"github.com/tagdij/tagdij/internal/trust"
)

// Receiver is the fund receiver's configuration (`receiver serve --config FILE`). Example (`sandbox
// init` writes one like it, DIR/receiver.json):
//
//	{
//	  "fund": {"code": "0101", "name": "Tagdíj Sandbox Magánnyugdíjpénztár"},
//	  "listen": "127.0.0.1:8443",
//	  "adminListen": "127.0.0.1:9443",
//	  "tlsKey": "p12:keys/fund-tls.p12",
//	  "tlsSecret": "file:secrets/p12.pass",
//	  "receiptKey": "p12:keys/fund-receipt.p12",
//	  "receiptSecret": "file:secrets/p12.pass",
//	  "tsaURL": "http://127.0.0.1:8901/tsa",
//	  "trust": {"signerAnchors": ["certs/root-ca.pem"], "tsaAnchors": ["certs/root-ca.pem"], "revocationCache": "receiver-data/cache"},
//	  "policy": "sandbox",
//	  "dataDir": "receiver-data",
//	  "maxPackageBytes": 67108864,
//	  "limits": {"maxConcurrentUploads": 64, "maxInFlightBytes": 536870912, "perAddressRate": 5, "perAddressBurst": 20, "minBodyRate": 16384}
//	}
//
// Fields: fund (the receiving fund's 4-digit code and name, written into every receipt); listen (the
// public HTTPS address); adminListen (the admin address for /healthz, /readyz and /metrics: loopback
// by default); tlsCert (optional PEM: the server certificate, then its CAs; default: the certificate and chain
// stored with the key) and tlsKey (a key specification,
// p12: or pkcs11:) with tlsSecret; receiptKey and receiptSecret (the receipt key, SEC-14: never the TLS
// key, the receiver refuses to start otherwise); tsaURL (the receipts' time-stamps); trust and policy
// as for the sender; dataDir (the SQLite database receiver.db and the blob store blobs/); maxPackageBytes
// (T003 beyond; default 64 MiB); limits (receiver.Limits; zero fields take the defaults).
//
// Environment overrides, as TAGDIJ_RECEIVER_<FIELD>: LISTEN, ADMIN_LISTEN, DATA_DIR, TSA_URL,
// RECEIPT_KEY, RECEIPT_SECRET, POLICY.
type Receiver struct {
	Fund            ReceiverFund   `json:"fund"`
	Listen          string         `json:"listen"`
	AdminListen     string         `json:"adminListen,omitempty"`
	TLSCert         string         `json:"tlsCert,omitempty"`
	TLSKey          string         `json:"tlsKey"`
	TLSSecret       string         `json:"tlsSecret,omitempty"`
	ReceiptKey      string         `json:"receiptKey"`
	ReceiptSecret   string         `json:"receiptSecret,omitempty"`
	TSAURL          string         `json:"tsaURL"`
	Trust           trust.Config   `json:"trust"`
	Policy          string         `json:"policy,omitempty"`
	DataDir         string         `json:"dataDir"`
	MaxPackageBytes int64          `json:"maxPackageBytes,omitempty"`
	Limits          ReceiverLimits `json:"limits,omitempty"`

	// File is the absolute path of the file the configuration was loaded from.
	File string `json:"-"`
}

// ReceiverFund is the receiving fund.
type ReceiverFund struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// ReceiverLimits are the operational limits (receiver.Limits); zero takes the default.
type ReceiverLimits struct {
	MaxConcurrentUploads int     `json:"maxConcurrentUploads,omitempty"`
	MaxInFlightBytes     int64   `json:"maxInFlightBytes,omitempty"`
	PerAddressRate       float64 `json:"perAddressRate,omitempty"`
	PerAddressBurst      int     `json:"perAddressBurst,omitempty"`
	MinBodyRate          int64   `json:"minBodyRate,omitempty"`
}

// DefaultMaxPackageBytes is the receiver's default size limit: a 50 MB payload as base64 in a dossier
// with room to spare.
const DefaultMaxPackageBytes = 96 << 20

// DefaultAdminListen is the admin listener's default: loopback only.
const DefaultAdminListen = "127.0.0.1:9443"

// Environment variable names of the receiver's overrides.
const (
	EnvReceiverListen        = "TAGDIJ_RECEIVER_LISTEN"
	EnvReceiverAdminListen   = "TAGDIJ_RECEIVER_ADMIN_LISTEN"
	EnvReceiverDataDir       = "TAGDIJ_RECEIVER_DATA_DIR"
	EnvReceiverTSAURL        = "TAGDIJ_RECEIVER_TSA_URL"
	EnvReceiverReceiptKey    = "TAGDIJ_RECEIVER_RECEIPT_KEY"
	EnvReceiverReceiptSecret = "TAGDIJ_RECEIVER_RECEIPT_SECRET"
	EnvReceiverPolicy        = "TAGDIJ_RECEIVER_POLICY"
)

// LoadReceiver reads the receiver configuration at path, applies the TAGDIJ_RECEIVER_* overrides from
// getenv (nil: none) and validates it; every path of the result is absolute.
func LoadReceiver(path string, getenv func(string) string) (*Receiver, error) {
	r := new(Receiver)
	abs, err := readFile(path, r)
	if err != nil {
		return nil, err
	}
	r.File = abs
	dir := filepath.Dir(abs)
	r.TLSCert = resolvePath(dir, r.TLSCert)
	r.TLSKey = resolveRef(dir, r.TLSKey)
	r.TLSSecret = resolveRef(dir, r.TLSSecret)
	r.ReceiptKey = resolveRef(dir, r.ReceiptKey)
	r.ReceiptSecret = resolveRef(dir, r.ReceiptSecret)
	r.DataDir = resolvePath(dir, r.DataDir)
	r.Policy = resolvePolicy(dir, r.Policy)
	r.Trust = resolveTrust(dir, r.Trust)
	if getenv != nil {
		cwd, _ := os.Getwd()
		set := func(name string, dst *string, f func(string) string) {
			if v := getenv(name); v != "" {
				*dst = f(v)
			}
		}
		same := func(s string) string { return s }
		set(EnvReceiverListen, &r.Listen, same)
		set(EnvReceiverAdminListen, &r.AdminListen, same)
		set(EnvReceiverDataDir, &r.DataDir, func(v string) string { return resolvePath(cwd, v) })
		set(EnvReceiverTSAURL, &r.TSAURL, same)
		set(EnvReceiverReceiptKey, &r.ReceiptKey, func(v string) string { return resolveRef(cwd, v) })
		set(EnvReceiverReceiptSecret, &r.ReceiptSecret, func(v string) string { return resolveRef(cwd, v) })
		set(EnvReceiverPolicy, &r.Policy, func(v string) string { return resolvePolicy(cwd, v) })
	}
	if r.AdminListen == "" {
		r.AdminListen = DefaultAdminListen
	}
	if r.MaxPackageBytes == 0 {
		r.MaxPackageBytes = DefaultMaxPackageBytes
	}
	if problems := r.validate(); len(problems) > 0 {
		return nil, &Error{File: path, Problems: problems}
	}
	return r, nil
}

func (r *Receiver) validate() []Problem {
	var out []Problem
	bad := func(field, msg string) { out = append(out, Problem{field, msg}) }
	if !fundCodePattern.MatchString(r.Fund.Code) {
		bad("fund.code", "négy számjegy kell / four digits are needed")
	}
	if n := len(collapse(r.Fund.Name)); n == 0 || n > maxText {
		bad("fund.name", fmt.Sprintf("1–%d karakter / 1–%d characters", maxText, maxText))
	}
	for field, addr := range map[string]string{"listen": r.Listen, "adminListen": r.AdminListen} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad(field, "HOST:PORT kell / HOST:PORT is needed")
		}
	}
	for field, spec := range map[string]string{"tlsKey": r.TLSKey, "receiptKey": r.ReceiptKey} {
		if _, err := keys.ParseKeySpec(spec); err != nil {
			bad(field, err.Error())
		}
	}
	for field, ref := range map[string]string{"tlsSecret": r.TLSSecret, "receiptSecret": r.ReceiptSecret} {
		if ref == "" {
			continue
		}
		if _, err := keys.ParseSecretSource(ref); err != nil {
			bad(field, err.Error())
		}
	}
	if r.TLSKey != "" && r.TLSKey == r.ReceiptKey {
		bad("receiptKey", "a nyugtakulcs nem lehet a TLS-kulcs (SEC-14) / the receipt key must not be the TLS key (SEC-14)")
	}
	if err := checkURL(r.TSAURL, "http", "https"); err != nil {
		bad("tsaURL", err.Error())
	}
	if r.DataDir == "" {
		bad("dataDir", "kötelező / required")
	}
	if r.MaxPackageBytes < 1<<10 || r.MaxPackageBytes > 1<<30 {
		bad("maxPackageBytes", "1 KiB és 1 GiB között / between 1 KiB and 1 GiB")
	}
	if len(r.Trust.SignerAnchors) == 0 || len(r.Trust.TSAAnchors) == 0 {
		bad("trust", "signerAnchors és tsaAnchors kötelező / signerAnchors and tsaAnchors are required")
	}
	return append(out, TrustProblems("trust", r.Trust)...)
}

// DatabasePath is the SQLite database in DataDir.
func (r *Receiver) DatabasePath() string { return filepath.Join(r.DataDir, "receiver.db") }

// BlobDir is the content-addressed package store in DataDir.
func (r *Receiver) BlobDir() string { return filepath.Join(r.DataDir, "blobs") }
