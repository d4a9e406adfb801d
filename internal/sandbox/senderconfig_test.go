package sandbox_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tagdij/tagdij/internal/config"
	"github.com/tagdij/tagdij/internal/keys"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
)

// Init writes a sender configuration per demo employer; config.Load (strict: unknown fields are errors)
// reads each, and everything it names exists and fits: the certificates are the fund's and the
// employer's encryption certificates, the key spec opens with the secret source.
func TestDemoSenderConfigs(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	w := sb.World
	for _, org := range w.Manifest.Employers {
		t.Run(org.Key, func(t *testing.T) {
			path := filepath.Join(sb.Dir, sandbox.SenderConfigFile(org.Key))
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("Init did not write %s: %v", path, err)
			}
			cfg, err := config.LoadEnv(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Employer.Name != org.Name || cfg.Employer.IDType != "adoszam" || cfg.Employer.ID != org.TaxNumber {
				t.Errorf("employer %+v, want %s %s", cfg.Employer, org.Name, org.TaxNumber)
			}
			if cfg.Fund.Code != w.Manifest.Fund.FundCode || cfg.Fund.Name != w.Manifest.Fund.Name {
				t.Errorf("fund %+v", cfg.Fund)
			}
			fundCert, err := cfg.FundCertificate()
			if err != nil || !fundCert.Equal(w.MustEntity(sandbox.FundEncryption).Cert) {
				t.Errorf("fund.encryptionCert is not enc-fund: %v", err)
			}
			own, err := cfg.OwnCertificate()
			if err != nil || !own.Equal(w.MustEntity("enc-"+org.Key).Cert) {
				t.Errorf("encryptionCert is not enc-%s: %v", org.Key, err)
			}
			if cfg.TSAURL != sb.TSAURL || cfg.Policy != "sandbox" {
				t.Errorf("tsaURL %q policy %q", cfg.TSAURL, cfg.Policy)
			}
			if cfg.StateDir != filepath.Join(sb.Dir, "state-"+org.Key) {
				t.Errorf("stateDir %q", cfg.StateDir)
			}
			root := w.MustEntity(sandbox.RootCA)
			if len(cfg.Trust.SignerAnchors) != 1 || cfg.Trust.SignerAnchors[0] != w.Path(root.Files.Cert) ||
				cfg.Trust.RevocationCache != filepath.Join(sb.Dir, sandbox.TrustCacheDir) {
				t.Errorf("trust %+v", cfg.Trust)
			}

			spec, err := cfg.SigningKeySpec()
			if err != nil {
				t.Fatal(err)
			}
			secret, err := cfg.SigningSecretSource()
			if err != nil {
				t.Fatal(err)
			}
			k, err := keys.OpenKey(context.Background(), spec, secret)
			if err != nil {
				t.Fatalf("the configured signing key does not open: %v", err)
			}
			defer k.Close()
			if !k.Certificate().Equal(w.MustEntity(org.Signers[0]).Cert) {
				t.Errorf("signing key is not %s", org.Signers[0])
			}

			// WriteDemoConfigs on the loaded world gives the same file.
			os.Remove(path)
			if err := sandbox.WriteDemoConfigs(w); err != nil {
				t.Fatal(err)
			}
			if again, _ := os.ReadFile(path); !bytes.Equal(again, data) {
				t.Errorf("WriteDemoConfigs differs from Init's file:\n%s\n%s", again, data)
			}
		})
	}
}
