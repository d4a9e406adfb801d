package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/tagdij/tagdij/internal/keys"
	"github.com/tagdij/tagdij/internal/trust"
)

// Processor is the fund processor's configuration (`processor run|once --config FILE`). Example
// (`sandbox init` writes one like it, DIR/processor.json, beside receiver.json):
//
//	{
//	  "instance": "processor-1",
//	  "dataDir": "receiver-data",
//	  "archiveDir": "processor-data/archive",
//	  "handOffDir": "processor-data/handoff",
//	  "decryptionKey": "p12:keys/enc-fund.p12",
//	  "decryptionSecret": "file:secrets/p12.pass",
//	  "archiveKey": "p12:keys/fund-receipt.p12",
//	  "archiveSecret": "file:secrets/p12.pass",
//	  "tsaURL": "http://127.0.0.1:8901/tsa",
//	  "trust": {"signerAnchors": ["certs/root-ca.pem"], "tsaAnchors": ["certs/root-ca.pem"]},
//	  "policy": "sandbox",
//	  "adminListen": "127.0.0.1:9444",
//	  "schedule": "@every 1m",
//	  "workers": 2,
//	  "lease": "10m",
//	  "backoffMin": "1m",
//	  "backoffMax": "1h",
//	  "alertBefore": "168h",
//	  "jobTimeout": "10m",
//	  "renewSchedule": "@daily",
//	  "renewMargin": "4320h"
//	}
//
// Fields: instance (this processor's name, unique among the processors sharing the store; default
// the host name); dataDir (the receiver's data directory: its SQLite database receiver.db, which
// holds the job queue, the registry, the archive's index and the shared revocation cache, and the
// package blobs in blobs/); archiveDir (the archive's files); handOffDir (the back office's
// directory: one directory per finished package, the only place plaintext is written);
// decryptionKey and decryptionSecret (the fund's decryption key, PKCS#12 or PKCS#11, the key of the
// encryption certificate the senders encrypt to; never the receipt or TLS key); archiveKey and
// archiveSecret (signs the archive's tree heads); tsaURL (the extensions' and tree heads'
// time-stamps); trust and policy as for the receiver (trust.revocationCache is not used: the
// processors share the cache in the database); adminListen (/healthz and /metrics, loopback by
// default); schedule (when `processor run` makes a pass: a robfig/cron specification, five fields or
// a descriptor such as "@every 1m"); workers (jobs at once; default the CPUs); lease, backoffMin,
// backoffMax, alertBefore (raise the alert when a package is still not final this long before its
// signer certificate's notAfter), jobTimeout (Go durations); maxDeclarationBytes (the largest
// declaration decompressed; default the payload package's limit); renewSchedule (when `processor run`
// makes an archive renewal pass; default "@daily") and renewMargin (renew an archive time-stamp this
// long before its TSA certificate expires or its algorithms' sunset; default the policy's 180 days).
//
// Environment overrides, as TAGDIJ_PROCESSOR_<FIELD>: INSTANCE, DATA_DIR, ARCHIVE_DIR, HANDOFF_DIR,
// ADMIN_LISTEN, TSA_URL, DECRYPTION_KEY, DECRYPTION_SECRET, POLICY, SCHEDULE, WORKERS.
type Processor struct {
	Instance            string       `json:"instance,omitempty"`
	DataDir             string       `json:"dataDir"`
	ArchiveDir          string       `json:"archiveDir"`
	HandOffDir          string       `json:"handOffDir"`
	DecryptionKey       string       `json:"decryptionKey"`
	DecryptionSecret    string       `json:"decryptionSecret,omitempty"`
	ArchiveKey          string       `json:"archiveKey"`
	ArchiveSecret       string       `json:"archiveSecret,omitempty"`
	TSAURL              string       `json:"tsaURL"`
	Trust               trust.Config `json:"trust"`
	Policy              string       `json:"policy,omitempty"`
	AdminListen         string       `json:"adminListen,omitempty"`
	Schedule            string       `json:"schedule,omitempty"`
	Workers             int          `json:"workers,omitempty"`
	Lease               Duration     `json:"lease,omitempty"`
	BackoffMin          Duration     `json:"backoffMin,omitempty"`
	BackoffMax          Duration     `json:"backoffMax,omitempty"`
	AlertBefore         Duration     `json:"alertBefore,omitempty"`
	JobTimeout          Duration     `json:"jobTimeout,omitempty"`
	MaxDeclarationBytes int64        `json:"maxDeclarationBytes,omitempty"`
	RenewSchedule       string       `json:"renewSchedule,omitempty"`
	RenewMargin         Duration     `json:"renewMargin,omitempty"`

	// File is the absolute path of the file the configuration was loaded from.
	File string `json:"-"`
}

// Duration is a time.Duration written in JSON as a Go duration string ("90s", "10m", "168h").
type Duration time.Duration

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`időtartam kell, pl. "10m" / a duration is needed, e.g. "10m"`)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf(`érvénytelen időtartam / invalid duration %q (e.g. "90s", "10m", "168h")`, s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Defaults of the processor's configuration.
const (
	DefaultProcessorAdminListen = "127.0.0.1:9444"
	DefaultProcessorSchedule    = "@every 1m"
	DefaultRenewSchedule        = "@daily"
)

// Environment variable names of the processor's overrides.
const (
	EnvProcessorInstance         = "TAGDIJ_PROCESSOR_INSTANCE"
	EnvProcessorDataDir          = "TAGDIJ_PROCESSOR_DATA_DIR"
	EnvProcessorArchiveDir       = "TAGDIJ_PROCESSOR_ARCHIVE_DIR"
	EnvProcessorHandOffDir       = "TAGDIJ_PROCESSOR_HANDOFF_DIR"
	EnvProcessorAdminListen      = "TAGDIJ_PROCESSOR_ADMIN_LISTEN"
	EnvProcessorTSAURL           = "TAGDIJ_PROCESSOR_TSA_URL"
	EnvProcessorDecryptionKey    = "TAGDIJ_PROCESSOR_DECRYPTION_KEY"
	EnvProcessorDecryptionSecret = "TAGDIJ_PROCESSOR_DECRYPTION_SECRET"
	EnvProcessorPolicy           = "TAGDIJ_PROCESSOR_POLICY"
	EnvProcessorSchedule         = "TAGDIJ_PROCESSOR_SCHEDULE"
	EnvProcessorWorkers          = "TAGDIJ_PROCESSOR_WORKERS"
)

// CronParser parses the schedule: five fields (minute hour day-of-month month day-of-week) or a
// descriptor (@hourly, @every 5m).
var CronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// LoadProcessor reads the processor configuration at path, applies the TAGDIJ_PROCESSOR_* overrides
// from getenv (nil: none) and validates it; every path of the result is absolute.
func LoadProcessor(path string, getenv func(string) string) (*Processor, error) {
	p := new(Processor)
	abs, err := readFile(path, p)
	if err != nil {
		return nil, err
	}
	p.File = abs
	dir := filepath.Dir(abs)
	p.DataDir = resolvePath(dir, p.DataDir)
	p.ArchiveDir = resolvePath(dir, p.ArchiveDir)
	p.HandOffDir = resolvePath(dir, p.HandOffDir)
	p.DecryptionKey = resolveRef(dir, p.DecryptionKey)
	p.DecryptionSecret = resolveRef(dir, p.DecryptionSecret)
	p.ArchiveKey = resolveRef(dir, p.ArchiveKey)
	p.ArchiveSecret = resolveRef(dir, p.ArchiveSecret)
	p.Policy = resolvePolicy(dir, p.Policy)
	p.Trust = resolveTrust(dir, p.Trust)
	var problems []Problem
	if getenv != nil {
		cwd, _ := os.Getwd()
		set := func(name string, dst *string, f func(string) string) {
			if v := getenv(name); v != "" {
				*dst = f(v)
			}
		}
		same := func(s string) string { return s }
		rel := func(v string) string { return resolvePath(cwd, v) }
		ref := func(v string) string { return resolveRef(cwd, v) }
		set(EnvProcessorInstance, &p.Instance, same)
		set(EnvProcessorDataDir, &p.DataDir, rel)
		set(EnvProcessorArchiveDir, &p.ArchiveDir, rel)
		set(EnvProcessorHandOffDir, &p.HandOffDir, rel)
		set(EnvProcessorAdminListen, &p.AdminListen, same)
		set(EnvProcessorTSAURL, &p.TSAURL, same)
		set(EnvProcessorDecryptionKey, &p.DecryptionKey, ref)
		set(EnvProcessorDecryptionSecret, &p.DecryptionSecret, ref)
		set(EnvProcessorPolicy, &p.Policy, func(v string) string { return resolvePolicy(cwd, v) })
		set(EnvProcessorSchedule, &p.Schedule, same)
		if v := getenv(EnvProcessorWorkers); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				problems = append(problems, Problem{EnvProcessorWorkers, "egész szám kell / an integer is needed"})
			}
			p.Workers = n
		}
	}
	if p.Instance == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "localhost"
		}
		p.Instance = host
	}
	if p.AdminListen == "" {
		p.AdminListen = DefaultProcessorAdminListen
	}
	if p.Schedule == "" {
		p.Schedule = DefaultProcessorSchedule
	}
	if p.RenewSchedule == "" {
		p.RenewSchedule = DefaultRenewSchedule
	}
	problems = append(problems, p.validate()...)
	if len(problems) > 0 {
		return nil, &Error{File: path, Problems: problems}
	}
	return p, nil
}

func (p *Processor) validate() []Problem {
	var out []Problem
	bad := func(field, msg string) { out = append(out, Problem{field, msg}) }
	if n := len(p.Instance); n > 100 {
		bad("instance", "legfeljebb 100 karakter / at most 100 characters")
	}
	for field, v := range map[string]string{"dataDir": p.DataDir, "archiveDir": p.ArchiveDir, "handOffDir": p.HandOffDir} {
		if v == "" {
			bad(field, "kötelező / required")
		}
	}
	if p.HandOffDir != "" && (p.HandOffDir == p.DataDir || p.HandOffDir == p.ArchiveDir) {
		bad("handOffDir", "saját könyvtár kell (a nyílt szöveg csak ide kerül) / needs a directory of its own (the only place plaintext goes)")
	}
	for field, spec := range map[string]string{"decryptionKey": p.DecryptionKey, "archiveKey": p.ArchiveKey} {
		if _, err := keys.ParseKeySpec(spec); err != nil {
			bad(field, err.Error())
		}
	}
	for field, ref := range map[string]string{"decryptionSecret": p.DecryptionSecret, "archiveSecret": p.ArchiveSecret} {
		if ref == "" {
			continue
		}
		if _, err := keys.ParseSecretSource(ref); err != nil {
			bad(field, err.Error())
		}
	}
	if p.DecryptionKey != "" && p.DecryptionKey == p.ArchiveKey {
		bad("archiveKey", "a visszafejtő kulcs nem írhat alá / the decryption key must not sign")
	}
	if err := checkURL(p.TSAURL, "http", "https"); err != nil {
		bad("tsaURL", err.Error())
	}
	if len(p.Trust.SignerAnchors) == 0 || len(p.Trust.TSAAnchors) == 0 {
		bad("trust", "signerAnchors és tsaAnchors kötelező / signerAnchors and tsaAnchors are required")
	}
	if p.Trust.Offline {
		bad("trust.offline", "a végleges ellenőrzés online visszavonási adatot kér / the final check needs online revocation evidence")
	}
	out = append(out, TrustProblems("trust", p.Trust)...)
	if _, _, err := net.SplitHostPort(p.AdminListen); err != nil {
		bad("adminListen", "HOST:PORT kell / HOST:PORT is needed")
	}
	for field, spec := range map[string]string{"schedule": p.Schedule, "renewSchedule": p.RenewSchedule} {
		if _, err := CronParser.Parse(spec); err != nil {
			bad(field, fmt.Sprintf("érvénytelen ütemezés / invalid schedule: %v", err))
		}
	}
	if p.Workers < 0 || p.Workers > 256 {
		bad("workers", "0 és 256 között / between 0 and 256")
	}
	for field, d := range map[string]Duration{"lease": p.Lease, "backoffMin": p.BackoffMin, "backoffMax": p.BackoffMax,
		"alertBefore": p.AlertBefore, "jobTimeout": p.JobTimeout, "renewMargin": p.RenewMargin} {
		if d < 0 {
			bad(field, "nem lehet negatív / must not be negative")
		}
	}
	if p.Lease != 0 && time.Duration(p.Lease) < time.Second {
		bad("lease", "legalább 1s / at least 1s")
	}
	if p.BackoffMax != 0 && p.BackoffMax < p.BackoffMin {
		bad("backoffMax", "nem lehet kisebb a backoffMin-nél / must not be less than backoffMin")
	}
	if p.MaxDeclarationBytes < 0 || p.MaxDeclarationBytes > 4<<30 {
		bad("maxDeclarationBytes", "0 és 4 GiB között / between 0 and 4 GiB")
	}
	return out
}

// DatabasePath is the shared SQLite database in DataDir (the receiver's).
func (p *Processor) DatabasePath() string { return filepath.Join(p.DataDir, "receiver.db") }

// BlobDir is the receiver's content-addressed package store in DataDir.
func (p *Processor) BlobDir() string { return filepath.Join(p.DataDir, "blobs") }
