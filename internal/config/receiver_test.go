package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeReceiverConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "receiver.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodReceiver = `{
  "fund": {"code": "0101", "name": "Próba Pénztár"},
  "listen": "127.0.0.1:8443",
  "tlsKey": "p12:keys/tls.p12", "tlsSecret": "file:secrets/p",
  "receiptKey": "p12:keys/receipt.p12", "receiptSecret": "env:RECEIPT_PIN",
  "tsaURL": "http://127.0.0.1:8901/tsa",
  "trust": {"signerAnchors": ["certs/root.pem"], "tsaAnchors": ["certs/root.pem"]},
  "dataDir": "data"
}`

func TestLoadReceiver(t *testing.T) {
	p := writeReceiverConfig(t, goodReceiver)
	dir := filepath.Dir(p)
	r, err := LoadReceiver(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.AdminListen != DefaultAdminListen || r.MaxPackageBytes != DefaultMaxPackageBytes {
		t.Errorf("defaults: %q %d", r.AdminListen, r.MaxPackageBytes)
	}
	if r.DataDir != filepath.Join(dir, "data") || r.TLSKey != "p12:"+filepath.Join(dir, "keys/tls.p12") ||
		r.TLSSecret != "file:"+filepath.Join(dir, "secrets/p") || r.ReceiptSecret != "env:RECEIPT_PIN" ||
		r.Trust.SignerAnchors[0] != filepath.Join(dir, "certs/root.pem") {
		t.Errorf("paths not resolved against the file: %+v", r)
	}
	if r.DatabasePath() != filepath.Join(dir, "data", "receiver.db") || r.BlobDir() != filepath.Join(dir, "data", "blobs") {
		t.Errorf("data paths %s %s", r.DatabasePath(), r.BlobDir())
	}
	env := map[string]string{EnvReceiverListen: "127.0.0.1:1", EnvReceiverAdminListen: "127.0.0.1:2", EnvReceiverDataDir: "/var/lib/x",
		EnvReceiverTSAURL: "https://tsa.example/", EnvReceiverPolicy: "sandbox"}
	r, err = LoadReceiver(p, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if r.Listen != "127.0.0.1:1" || r.AdminListen != "127.0.0.1:2" || r.DataDir != "/var/lib/x" || r.TSAURL != "https://tsa.example/" || r.Policy != "sandbox" {
		t.Errorf("overrides: %+v", r)
	}
}

func TestLoadReceiverRefusals(t *testing.T) {
	for _, c := range []struct {
		name, from, to, field string
	}{
		{"receipt key is the TLS key (SEC-14)", `"receiptKey": "p12:keys/receipt.p12"`, `"receiptKey": "p12:keys/tls.p12"`, "receiptKey"},
		{"fund code", `"code": "0101"`, `"code": "101"`, "fund.code"},
		{"listen address", `"listen": "127.0.0.1:8443"`, `"listen": "8443"`, "listen"},
		{"key spec", `"tlsKey": "p12:keys/tls.p12"`, `"tlsKey": "keys/tls.p12"`, "tlsKey"},
		{"secret given as a value", `"tlsSecret": "file:secrets/p"`, `"tlsSecret": "hunter2"`, "tlsSecret"},
		{"TSA URL", `"tsaURL": "http://127.0.0.1:8901/tsa"`, `"tsaURL": "ftp://x"`, "tsaURL"},
		{"no data dir", `"dataDir": "data"`, `"dataDir": ""`, "dataDir"},
		{"no anchors", `"signerAnchors": ["certs/root.pem"], `, ``, "trust"},
		{"size limit", `"dataDir": "data"`, `"dataDir": "data", "maxPackageBytes": 10`, "maxPackageBytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := strings.Replace(goodReceiver, c.from, c.to, 1)
			if body == goodReceiver {
				t.Fatal("the case changes nothing")
			}
			_, err := LoadReceiver(writeReceiverConfig(t, body), nil)
			ce, ok := err.(*Error)
			if !ok || !ce.Field(c.field) {
				t.Errorf("error %v, want a problem with %s", err, c.field)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Error("the error repeats a secret")
			}
		})
	}
	if _, err := LoadReceiver(writeReceiverConfig(t, `{"fund": {}, "unknown": 1}`), nil); err == nil {
		t.Error("unknown field accepted")
	}
}
