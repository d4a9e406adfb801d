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

// Init writes a processor configuration that config.LoadProcessor accepts as it is: over the
// receiver's data, with the fund's decryption key (the certificate senders encrypt to) and a
// different key for the archive's tree heads.
func TestDemoProcessorConfig(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	cfg, err := config.LoadProcessor(filepath.Join(sb.Dir, sandbox.ProcessorConfigFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := config.LoadReceiver(filepath.Join(sb.Dir, sandbox.ReceiverConfigFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	enc := sb.World.MustEntity(sandbox.FundEncryption)
	if cfg.DataDir != rcv.DataDir || cfg.TSAURL != sb.TSAURL || cfg.DecryptionKey != "p12:"+sb.World.Path(enc.Files.PKCS12) ||
		cfg.ArchiveKey == cfg.DecryptionKey || cfg.ArchiveKey == rcv.TLSKey || cfg.HandOffDir == cfg.DataDir || cfg.Policy != "sandbox" {
		t.Errorf("config %+v", cfg)
	}
}
