package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// valid is a complete sender configuration with relative paths.
func valid() map[string]any {
	return map[string]any{
		"employer": map[string]any{"name": "Példa Kft.", "idType": "adoszam", "id": "12345676"},
		"contact":  map[string]any{"name": "Kovács Anna", "phone": "+36 1 555 0101", "address": "1111 Budapest, Minta utca 1."},
		"fund": map[string]any{"code": "0101", "name": "Példa Pénztár", "encryptionCert": "certs/enc-fund.pem",
			"receiverURL": "https://127.0.0.1:8443/"},
		"encryptionCert": "certs/enc-pelda.pem",
		"signingKey":     "p12:keys/signer.p12",
		"signingSecret":  "file:secrets/p12.pass",
		"tsaURL":         "http://127.0.0.1:8901/tsa",
		"trust": map[string]any{"signerAnchors": []string{"certs/root.pem"}, "tsaAnchors": []string{"/etc/tagdij/root.pem"},
			"revocationCache": "cache", "proxy": "http://proxy.fund.local:3128",
			"revocationSources": []any{
				map[string]any{"issuer": "certs/foreign-root.pem", "crlFile": "crl/foreign-root.arl", "crlDir": "/var/lib/tagdij/crls"},
				map[string]any{"issuer": "certs/foreign-ca.pem", "ocspURL": "https://ocsp.example.hu/", "crlURL": "http://crl.example.hu/ca.crl"},
			}},
		"policy":   "sandbox",
		"stateDir": "state",
	}
}

func write(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return writeRaw(t, string(data))
}

func writeRaw(t *testing.T, s string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sender.json")
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadResolvesPaths(t *testing.T) {
	path := write(t, valid())
	dir := filepath.Dir(path)
	s, err := LoadEnv(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"fund.encryptionCert", s.Fund.EncryptionCert, filepath.Join(dir, "certs/enc-fund.pem")},
		{"encryptionCert", s.EncryptionCert, filepath.Join(dir, "certs/enc-pelda.pem")},
		{"signingKey", s.SigningKey, "p12:" + filepath.Join(dir, "keys/signer.p12")},
		{"signingSecret", s.SigningSecret, "file:" + filepath.Join(dir, "secrets/p12.pass")},
		{"stateDir", s.StateDir, filepath.Join(dir, "state")},
		{"sequence", s.SequencePath(), filepath.Join(dir, "state", DefaultSequenceFile)},
		{"packages", s.PackagesDir(), filepath.Join(dir, "state", "packages")},
		{"trust.signerAnchors", s.Trust.SignerAnchors[0], filepath.Join(dir, "certs/root.pem")},
		{"trust.tsaAnchors (absolute stays)", s.Trust.TSAAnchors[0], "/etc/tagdij/root.pem"},
		{"trust.revocationCache", s.Trust.RevocationCache, filepath.Join(dir, "cache")},
		{"trust.revocationSources[0].issuer", s.Trust.RevocationSources[0].Issuer, filepath.Join(dir, "certs/foreign-root.pem")},
		{"trust.revocationSources[0].crlFile", s.Trust.RevocationSources[0].CRLFile, filepath.Join(dir, "crl/foreign-root.arl")},
		{"trust.revocationSources[0].crlDir (absolute stays)", s.Trust.RevocationSources[0].CRLDir, "/var/lib/tagdij/crls"},
		{"trust.revocationSources[1].crlURL (a URL stays)", s.Trust.RevocationSources[1].CRLURL, "http://crl.example.hu/ca.crl"},
		{"trust.proxy (a URL stays)", s.Trust.Proxy, "http://proxy.fund.local:3128"},
		{"policy (a name stays)", s.Policy, "sandbox"},
		{"file", s.File, path},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	spec, err := s.SigningKeySpec()
	if err != nil || spec.Path != filepath.Join(dir, "keys/signer.p12") {
		t.Errorf("key spec %+v, %v", spec, err)
	}
	if _, err := s.SigningSecretSource(); err != nil {
		t.Error(err)
	}
}

func TestLoadNormalizesTaxNumber(t *testing.T) {
	v := valid()
	v["employer"] = map[string]any{"name": "Példa Kft.", "idType": "adoszam", "id": "12345676-2-41"}
	s, err := LoadEnv(write(t, v), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Employer.ID != "12345676241" {
		t.Errorf("id %q", s.Employer.ID)
	}
}

// TestLoadRefuses: each invalid field is named in the error.
func TestLoadRefuses(t *testing.T) {
	set := func(path string, val any) func(map[string]any) {
		return func(m map[string]any) {
			parts := strings.Split(path, ".")
			cur := m
			for _, p := range parts[:len(parts)-1] {
				cur = cur[p].(map[string]any)
			}
			if val == nil {
				delete(cur, parts[len(parts)-1])
			} else {
				cur[parts[len(parts)-1]] = val
			}
		}
	}
	cases := []struct {
		name  string
		mod   func(map[string]any)
		field string
	}{
		{"employer name missing", set("employer.name", ""), "employer.name"},
		{"employer name too long", set("employer.name", strings.Repeat("á", 201)), "employer.name"},
		{"employer name control char", set("employer.name", "Példa\x01Kft."), "employer.name"},
		{"id type", set("employer.idType", "vat"), "employer.idType"},
		{"id type missing", set("employer.idType", nil), "employer.idType"},
		{"tax number check digit", set("employer.id", "12345677"), "employer.id"},
		{"tax id", func(m map[string]any) {
			set("employer.idType", "adoazonosito")(m)
			set("employer.id", "8123456789")(m)
		}, "employer.id"},
		{"taj", func(m map[string]any) {
			set("employer.idType", "taj")(m)
			set("employer.id", "123456789")(m)
		}, "employer.id"},
		{"contact name", set("contact.name", " "), "contact.name"},
		{"phone letters", set("contact.phone", "call me"), "contact.phone"},
		{"phone short", set("contact.phone", "12345"), "contact.phone"},
		{"address", set("contact.address", nil), "contact.address"},
		{"fund code", set("fund.code", "101"), "fund.code"},
		{"fund code letters", set("fund.code", "01a1"), "fund.code"},
		{"fund name", set("fund.name", ""), "fund.name"},
		{"fund cert", set("fund.encryptionCert", ""), "fund.encryptionCert"},
		{"receiver http", set("fund.receiverURL", "http://127.0.0.1:8443/"), "fund.receiverURL"},
		{"receiver user info", set("fund.receiverURL", "https://user:pw@127.0.0.1/"), "fund.receiverURL"},
		{"receiver no host", set("fund.receiverURL", "https:///x"), "fund.receiverURL"},
		{"own cert", set("encryptionCert", nil), "encryptionCert"},
		{"own cert = fund cert", set("encryptionCert", "certs/enc-fund.pem"), "encryptionCert"},
		{"key spec", set("signingKey", "keys/signer.p12"), "signingKey"},
		{"key spec with pin", set("signingKey", "pkcs11:module=/x.so;pin-value=1234"), "signingKey"},
		{"literal secret", set("signingSecret", "hunter2"), "signingSecret"},
		{"pass: secret", set("signingSecret", "pass:hunter2"), "signingSecret"},
		{"tsa scheme", set("tsaURL", "ftp://127.0.0.1/tsa"), "tsaURL"},
		{"policy file missing", set("policy", "no-such-policy.xml"), "policy"},
		{"state dir", set("stateDir", ""), "stateDir"},
		{"empty anchor", set("trust.signerAnchors", []string{""}), "trust.signerAnchors[0]"},
		{"revocation source without issuer", set("trust.revocationSources", []any{map[string]any{"crlURL": "http://crl.example.hu/x.crl"}}),
			"trust.revocationSources[0].issuer"},
		{"revocation source without source", set("trust.revocationSources", []any{map[string]any{"issuer": "certs/ca.pem"}}),
			"trust.revocationSources[0]"},
		{"revocation source CRL over https", set("trust.revocationSources", []any{map[string]any{"issuer": "certs/ca.pem", "crlURL": "https://crl.example.hu/x.crl"}}),
			"trust.revocationSources[0].crlURL"},
		{"revocation source OCSP over ftp", set("trust.revocationSources", []any{map[string]any{"issuer": "certs/ca.pem", "ocspURL": "ftp://ocsp.example.hu/"}}),
			"trust.revocationSources[0].ocspURL"},
		{"proxy scheme", set("trust.proxy", "socks5://proxy.fund.local:1080"), "trust.proxy"},
		{"proxy with a password", set("trust.proxy", "http://u:secret@proxy.fund.local:3128"), "trust.proxy"},
		{"proxy without host", set("trust.proxy", "http://"), "trust.proxy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := valid()
			c.mod(v)
			_, err := LoadEnv(write(t, v), nil)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err %v, want *Error", err)
			}
			if !ce.Field(c.field) {
				t.Errorf("error does not name %s: %v", c.field, err)
			}
			if len(ce.Problems) != 1 {
				t.Errorf("%d problems, want 1: %v", len(ce.Problems), err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error repeats a secret: %v", err)
			}
		})
	}
}

func TestLoadRefusesBadFiles(t *testing.T) {
	cases := map[string]string{
		"unknown field":  `{"employer":{"name":"x","idType":"adoszam","id":"12345676","vat":"1"}}`,
		"unknown top":    strings.Replace(mustJSON(t, valid()), `"policy"`, `"signingPassword":"x","policy"`, 1),
		"syntax":         "{\n\"employer\": ,\n}",
		"trailing":       mustJSON(t, valid()) + "{}",
		"not an object":  `[]`,
		"wrong type":     strings.Replace(mustJSON(t, valid()), `"code":"0101"`, `"code":101`, 1),
		"too large":      `{"employer":{"name":"` + strings.Repeat("a", MaxFileSize) + `"}}`,
		"empty":          ``,
		"unknown nested": strings.Replace(mustJSON(t, valid()), `"revocationCache"`, `"ocsp":"x","revocationCache"`, 1),
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := LoadEnv(writeRaw(t, s), nil); err == nil {
				t.Fatal("loaded")
			}
		})
	}
	if _, err := LoadEnv(filepath.Join(t.TempDir(), "missing.json"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	// A syntax error names its line.
	_, err := LoadEnv(writeRaw(t, "{\n\"employer\": ,\n}"), nil)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("syntax error without line: %v", err)
	}
}

func mustJSON(t *testing.T, v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestEnvOverrides(t *testing.T) {
	path := write(t, valid())
	cwd, _ := os.Getwd()
	env := map[string]string{
		EnvSenderReceiverURL:   "https://fund.example.invalid/v1/",
		EnvSenderTSAURL:        "https://tsa.example.invalid/",
		EnvSenderSigningKey:    "p12:other.p12",
		EnvSenderSigningSecret: "env:P12_PASS",
		EnvSenderPolicy:        "production",
		EnvSenderStateDir:      "elsewhere",
		EnvSenderOffline:       "true",
	}
	s, err := LoadEnv(path, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if s.Fund.ReceiverURL != env[EnvSenderReceiverURL] || s.TSAURL != env[EnvSenderTSAURL] || s.Policy != "production" ||
		s.SigningSecret != "env:P12_PASS" || !s.Trust.Offline {
		t.Errorf("overrides not applied: %+v", s)
	}
	// Relative paths from the environment resolve against the working directory, not the file's.
	if s.SigningKey != "p12:"+filepath.Join(cwd, "other.p12") || s.StateDir != filepath.Join(cwd, "elsewhere") {
		t.Errorf("signingKey %q stateDir %q", s.SigningKey, s.StateDir)
	}
	// An empty variable does not override.
	s, err = LoadEnv(path, func(string) string { return "" })
	if err != nil || s.Policy != "sandbox" {
		t.Errorf("empty overrides: %v %q", err, s.Policy)
	}

	// Overrides are validated like the file, and named by their variable or field.
	for k, v := range map[string]string{
		EnvSenderOffline:       "maybe",
		EnvSenderSigningSecret: "hunter2",
		EnvSenderReceiverURL:   "http://plain.example.invalid/",
		EnvSenderSigningKey:    "nope",
	} {
		_, err := LoadEnv(path, func(name string) string {
			if name == k {
				return v
			}
			return ""
		})
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("%s=%s accepted", k, v)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error repeats the secret: %v", err)
		}
	}
}

func TestCertificates(t *testing.T) {
	path := write(t, valid())
	s, err := LoadEnv(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The files do not exist: the error names the field.
	if _, err := s.FundCertificate(); err == nil || !strings.Contains(err.Error(), "fund.encryptionCert") {
		t.Errorf("fund cert: %v", err)
	}
	os.MkdirAll(filepath.Join(s.Dir(), "certs"), 0o755)
	os.WriteFile(s.EncryptionCert, []byte("no PEM here"), 0o600)
	if _, err := s.OwnCertificate(); err == nil || !strings.Contains(err.Error(), "encryptionCert") {
		t.Errorf("own cert: %v", err)
	}
	v := valid()
	delete(v, "signingKey")
	s, err = LoadEnv(write(t, v), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SigningKeySpec(); err == nil {
		t.Error("SigningKeySpec without a key")
	}
}

// TestExampleInDoc keeps the package documentation's example loadable.
func TestExampleInDoc(t *testing.T) {
	src, err := os.ReadFile("config.go")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(src), "Example (`sandbox init`")
	_, rest, _ = strings.Cut(rest, "\n//\n")
	var lines []string
	for _, l := range strings.Split(rest, "\n") {
		if !strings.HasPrefix(l, "//\t") {
			break
		}
		lines = append(lines, strings.TrimPrefix(l, "//\t"))
	}
	if len(lines) < 10 {
		t.Fatalf("example not found (%d lines)", len(lines))
	}
	path := writeRaw(t, strings.Join(lines, "\n"))
	if _, err := LoadEnv(path, nil); err != nil {
		t.Errorf("the documented example does not load: %v", err)
	}
}

func FuzzLoad(f *testing.F) {
	f.Add(mustJSONF(valid()))
	f.Add(`{"employer":{}}`)
	f.Add(`{"fund":{"receiverURL":"https://[::1]:8443/"}}`)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, s string) {
		path := filepath.Join(dir, "fuzz.json")
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Skip()
		}
		cfg, err := LoadEnv(path, nil)
		if err == nil && (cfg.StateDir == "" || !filepath.IsAbs(cfg.StateDir) || cfg.Fund.EncryptionCert == "") {
			t.Errorf("accepted an incomplete configuration: %+v", cfg)
		}
	})
}

func mustJSONF(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}
