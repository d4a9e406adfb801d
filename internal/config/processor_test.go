package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const goodProcessor = `{
  "dataDir": "data",
  "archiveDir": "archive",
  "handOffDir": "handoff",
  "decryptionKey": "p12:keys/enc.p12", "decryptionSecret": "file:secrets/p",
  "archiveKey": "p12:keys/receipt.p12", "archiveSecret": "env:PIN",
  "tsaURL": "http://127.0.0.1:8901/tsa",
  "trust": {"signerAnchors": ["certs/root.pem"], "tsaAnchors": ["certs/root.pem"]},
  "lease": "2m", "backoffMin": "5s", "backoffMax": "10m", "alertBefore": "72h", "jobTimeout": "5m"
}`

func writeProcessorConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "processor.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadProcessor(t *testing.T) {
	p := writeProcessorConfig(t, goodProcessor)
	dir := filepath.Dir(p)
	c, err := LoadProcessor(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if c.Instance != host || c.AdminListen != DefaultProcessorAdminListen || c.Schedule != DefaultProcessorSchedule || c.Workers != 0 ||
		c.RenewSchedule != DefaultRenewSchedule || c.RenewMargin != 0 {
		t.Errorf("defaults: %+v", c)
	}
	if time.Duration(c.Lease) != 2*time.Minute || time.Duration(c.BackoffMin) != 5*time.Second || time.Duration(c.BackoffMax) != 10*time.Minute ||
		time.Duration(c.AlertBefore) != 72*time.Hour || time.Duration(c.JobTimeout) != 5*time.Minute {
		t.Errorf("durations: %+v", c)
	}
	if c.DataDir != filepath.Join(dir, "data") || c.ArchiveDir != filepath.Join(dir, "archive") || c.HandOffDir != filepath.Join(dir, "handoff") ||
		c.DecryptionKey != "p12:"+filepath.Join(dir, "keys/enc.p12") || c.DecryptionSecret != "file:"+filepath.Join(dir, "secrets/p") ||
		c.ArchiveSecret != "env:PIN" || c.Trust.SignerAnchors[0] != filepath.Join(dir, "certs/root.pem") {
		t.Errorf("paths not resolved against the file: %+v", c)
	}
	if c.DatabasePath() != filepath.Join(dir, "data", "receiver.db") || c.BlobDir() != filepath.Join(dir, "data", "blobs") {
		t.Errorf("data paths %s %s", c.DatabasePath(), c.BlobDir())
	}
	env := map[string]string{EnvProcessorInstance: "p-7", EnvProcessorDataDir: "/var/lib/x", EnvProcessorArchiveDir: "/var/lib/a",
		EnvProcessorHandOffDir: "/srv/backoffice", EnvProcessorAdminListen: "127.0.0.1:2", EnvProcessorTSAURL: "https://tsa.example/",
		EnvProcessorDecryptionKey: "pkcs11:module=/usr/lib/softhsm/libsofthsm2.so;token=t;key=k", EnvProcessorDecryptionSecret: "env:HSM_PIN",
		EnvProcessorPolicy: "sandbox", EnvProcessorSchedule: "*/5 * * * *", EnvProcessorWorkers: "3"}
	c, err = LoadProcessor(p, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Instance != "p-7" || c.DataDir != "/var/lib/x" || c.ArchiveDir != "/var/lib/a" || c.HandOffDir != "/srv/backoffice" ||
		c.AdminListen != "127.0.0.1:2" || c.TSAURL != "https://tsa.example/" || !strings.HasPrefix(c.DecryptionKey, "pkcs11:") ||
		c.DecryptionSecret != "env:HSM_PIN" || c.Policy != "sandbox" || c.Schedule != "*/5 * * * *" || c.Workers != 3 {
		t.Errorf("overrides: %+v", c)
	}
	if _, err := LoadProcessor(p, func(k string) string {
		if k == EnvProcessorWorkers {
			return "many"
		}
		return ""
	}); err == nil || !err.(*Error).Field(EnvProcessorWorkers) {
		t.Errorf("a bad %s: %v", EnvProcessorWorkers, err)
	}
}

func TestLoadProcessorRefusals(t *testing.T) {
	for _, c := range []struct {
		name, from, to, field string
	}{
		{"no data dir", `"dataDir": "data"`, `"dataDir": ""`, "dataDir"},
		{"no archive dir", `"archiveDir": "archive"`, `"archiveDir": ""`, "archiveDir"},
		{"hand-off in the data dir", `"handOffDir": "handoff"`, `"handOffDir": "data"`, "handOffDir"},
		{"key spec", `"decryptionKey": "p12:keys/enc.p12"`, `"decryptionKey": "keys/enc.p12"`, "decryptionKey"},
		{"decryption key signs the archive", `"archiveKey": "p12:keys/receipt.p12"`, `"archiveKey": "p12:keys/enc.p12"`, "archiveKey"},
		{"secret given as a value", `"decryptionSecret": "file:secrets/p"`, `"decryptionSecret": "hunter2"`, "decryptionSecret"},
		{"TSA URL", `"tsaURL": "http://127.0.0.1:8901/tsa"`, `"tsaURL": "ftp://x"`, "tsaURL"},
		{"no anchors", `"signerAnchors": ["certs/root.pem"], `, ``, "trust"},
		{"offline", `"tsaAnchors": ["certs/root.pem"]`, `"tsaAnchors": ["certs/root.pem"], "offline": true`, "trust.offline"},
		{"schedule", `"lease": "2m"`, `"lease": "2m", "schedule": "every minute"`, "schedule"},
		{"renewal schedule", `"lease": "2m"`, `"lease": "2m", "renewSchedule": "61 * * * *"`, "renewSchedule"},
		{"renewal margin", `"lease": "2m"`, `"lease": "2m", "renewMargin": "-5h"`, "renewMargin"},
		{"admin address", `"lease": "2m"`, `"lease": "2m", "adminListen": "9444"`, "adminListen"},
		{"workers", `"lease": "2m"`, `"lease": "2m", "workers": -1`, "workers"},
		{"lease too short", `"lease": "2m"`, `"lease": "10ms"`, "lease"},
		{"negative duration", `"alertBefore": "72h"`, `"alertBefore": "-1h"`, "alertBefore"},
		{"backoff order", `"backoffMax": "10m"`, `"backoffMax": "1s"`, "backoffMax"},
		{"declaration limit", `"lease": "2m"`, `"lease": "2m", "maxDeclarationBytes": -5`, "maxDeclarationBytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := strings.Replace(goodProcessor, c.from, c.to, 1)
			if body == goodProcessor {
				t.Fatal("the case changes nothing")
			}
			_, err := LoadProcessor(writeProcessorConfig(t, body), nil)
			ce, ok := err.(*Error)
			if !ok || !ce.Field(c.field) {
				t.Errorf("error %v, want a problem with %s", err, c.field)
			}
		})
	}
	// A duration that is no duration is a JSON error naming the value.
	_, err := LoadProcessor(writeProcessorConfig(t, strings.Replace(goodProcessor, `"lease": "2m"`, `"lease": 120`, 1)), nil)
	if err == nil || !strings.Contains(err.Error(), "duration") {
		t.Errorf("numeric lease: %v", err)
	}
}
