package sandbox_test

import (
	"path/filepath"
	"testing"

	"github.com/tagdij/tagdij/internal/config"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
	"github.com/tagdij/tagdij/internal/trust"
)

// Init writes a receiver configuration that config.LoadReceiver accepts as it is (it once lacked the
// required tlsCert), whose tlsCert starts with the fund's TLS certificate, as `receiver serve`
// requires, and whose receipt key is not the TLS key.
func TestDemoReceiverConfig(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	cfg, err := config.LoadReceiver(filepath.Join(sb.Dir, sandbox.ReceiverConfigFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := trust.ReadCertificates(cfg.TLSCert)
	if err != nil || !certs[0].Equal(sb.World.MustEntity(sandbox.FundTLS).Cert) {
		t.Errorf("tlsCert %s does not start with the fund's TLS certificate: %v", cfg.TLSCert, err)
	}
	if cfg.TSAURL != sb.TSAURL || cfg.DataDir != filepath.Join(sb.Dir, "receiver-data") || cfg.TLSKey == cfg.ReceiptKey {
		t.Errorf("config %+v", cfg)
	}
}
