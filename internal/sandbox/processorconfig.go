package sandbox

import (
	"fmt"
	"path/filepath"
)

// ProcessorConfigFile is the demo processor configuration inside the sandbox directory.
const ProcessorConfigFile = "processor.json"

// DemoProcessorAdminListen is the admin address written into the demo processor configuration.
// Override it per process with TAGDIJ_PROCESSOR_ADMIN_LISTEN.
const DemoProcessorAdminListen = "127.0.0.1:9444"

// processorConfig mirrors the JSON of internal/config.Processor (see senderConfig for why it is
// mirrored).
type processorConfig struct {
	Instance         string      `json:"instance"`
	DataDir          string      `json:"dataDir"`
	ArchiveDir       string      `json:"archiveDir"`
	HandOffDir       string      `json:"handOffDir"`
	DecryptionKey    string      `json:"decryptionKey"`
	DecryptionSecret string      `json:"decryptionSecret"`
	ArchiveKey       string      `json:"archiveKey"`
	ArchiveSecret    string      `json:"archiveSecret"`
	TSAURL           string      `json:"tsaURL"`
	Trust            trustConfig `json:"trust"`
	Policy           string      `json:"policy"`
	AdminListen      string      `json:"adminListen"`
	Schedule         string      `json:"schedule"`
	Lease            string      `json:"lease"`
	BackoffMin       string      `json:"backoffMin"`
	BackoffMax       string      `json:"backoffMax"`
}

// writeProcessorConfig writes DIR/processor.json: the fund's processor over the receiver's data
// (receiver-data: the database with the job queue and the package blobs), the archive and the
// back-office hand-off directory in DIR/processor-data, the fund's decryption key (enc-fund, the
// certificate every sender encrypts to), the fund-receipt key for the archive's tree heads, the
// sandbox TSA, trust and policy, a pass every 10 seconds and retries after seconds (the sandbox's
// grace periods are seconds too).
func writeProcessorConfig(dir string, man *Manifest) error {
	var root, encP12, archiveP12 string
	var inter []string
	for _, e := range man.Entities {
		switch {
		case e.Name == RootCA:
			root = e.Files.Cert
		case e.Role == RoleCA:
			inter = append(inter, e.Files.Cert)
		}
		switch e.Name {
		case man.Fund.Encryption:
			encP12 = e.Files.PKCS12
		case man.Fund.Receipt:
			archiveP12 = e.Files.PKCS12
		}
	}
	if root == "" || encP12 == "" || archiveP12 == "" {
		return fmt.Errorf("sandbox: processor config: %w: root, the fund's encryption or receipt key", ErrNotFound)
	}
	cfg := processorConfig{
		Instance: "processor-1", DataDir: "receiver-data", ArchiveDir: "processor-data/archive", HandOffDir: "processor-data/handoff",
		DecryptionKey: "p12:" + encP12, DecryptionSecret: "file:" + man.PasswordFile,
		ArchiveKey: "p12:" + archiveP12, ArchiveSecret: "file:" + man.PasswordFile,
		TSAURL: man.BaseURL + "/tsa",
		Trust:  trustConfig{SignerAnchors: []string{root}, TSAAnchors: []string{root}, Intermediates: inter},
		Policy: "sandbox", AdminListen: DemoProcessorAdminListen, Schedule: "@every 10s", Lease: "1m", BackoffMin: "1s", BackoffMax: "30s",
	}
	return writeJSONAtomic(filepath.Join(dir, ProcessorConfigFile), cfg, 0o644)
}
