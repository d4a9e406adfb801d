package sandbox

import (
	"fmt"
	"path/filepath"

	"github.com/tagdij/tagdij/internal/declaration"
)

// SenderConfigFile returns the name of the demo sender configuration of an employer
// ("sender-pelda.json"), inside the sandbox directory.
func SenderConfigFile(employer string) string { return "sender-" + employer + ".json" }

// DemoReceiverURL is the receiver URL written into the demo sender configurations: the fund's receiver
// on loopback, with the sandbox's fund-tls certificate (localhost, 127.0.0.1). Override it per process
// with TAGDIJ_SENDER_RECEIVER_URL when the receiver listens elsewhere.
const DemoReceiverURL = "https://127.0.0.1:8443/"

// senderConfig mirrors the JSON of internal/config.Sender, as trustConfig mirrors trust.Config and for
// the same reason (importing config would import trust: an import cycle with trust's tests). The
// sandbox tests load the written files with config.Load, which refuses unknown fields, so the two
// cannot drift apart unnoticed.
type senderConfig struct {
	Employer         senderEmployer `json:"employer"`
	Contact          senderContact  `json:"contact"`
	Fund             senderFund     `json:"fund"`
	EncryptionCert   string         `json:"encryptionCert"`
	SigningKey       string         `json:"signingKey,omitempty"`
	SigningSecret    string         `json:"signingSecret,omitempty"`
	DecryptionKey    string         `json:"decryptionKey,omitempty"`
	DecryptionSecret string         `json:"decryptionSecret,omitempty"`
	TSAURL           string         `json:"tsaURL,omitempty"`
	Trust            trustConfig    `json:"trust"`
	Policy           string         `json:"policy,omitempty"`
	StateDir         string         `json:"stateDir"`
}

type senderEmployer struct {
	Name   string             `json:"name"`
	IDType declaration.IDType `json:"idType"`
	ID     string             `json:"id"`
}

type senderContact struct {
	Name    string `json:"name"`
	Phone   string `json:"phone"`
	Address string `json:"address"`
}

type senderFund struct {
	Code           string `json:"code"`
	Name           string `json:"name"`
	EncryptionCert string `json:"encryptionCert"`
	ReceiverURL    string `json:"receiverURL,omitempty"`
	TLSCA          string `json:"tlsCA,omitempty"`
}

// demoContacts are invented contact details of the demo employers (the manifest has no addresses).
var demoContacts = map[string]senderContact{
	"pelda": {Phone: "+36 1 555 0101", Address: "1111 Budapest, Minta utca 1."},
	"minta": {Phone: "+36 62 555 0202", Address: "6720 Szeged, Példa tér 2."},
}

// WriteDemoConfigs writes a sender configuration for each demo employer into the sandbox directory,
// DIR/sender-<employer>.json (sender-pelda.json, sender-minta.json), so a demo can run
//
//	sender pack --config DIR/sender-pelda.json bevallas.xml
//
// Each names: the employer (tax number from the manifest), a contact person (the employer's first
// signer, with an invented phone and address), the sandbox fund with its encryption certificate
// (enc-fund), DemoReceiverURL and the sandbox TLS CA its certificate chains to, the employer's own encryption certificate (enc-<employer>), the first
// signer's PKCS#12 file with the sandbox password file as secret source, the sandbox TSA, the trust
// configuration of trust.json (sandbox root as anchor, issuing CAs, revocation cache), the sandbox
// policy, and the state directory DIR/state-<employer>. Paths are relative to DIR, so the directory can
// be moved. Files are replaced atomically.
func WriteDemoConfigs(w *World) error { return writeDemoConfigs(w.Dir, w.Manifest) }

// writeDemoConfigs is WriteDemoConfigs for Init, which has the manifest but no World yet.
func writeDemoConfigs(dir string, man *Manifest) error {
	byName := make(map[string]*Entity, len(man.Entities))
	var root string
	var inter []string
	for _, e := range man.Entities {
		byName[e.Name] = e
		switch {
		case e.Name == RootCA:
			root = e.Files.Cert
		case e.Role == RoleCA:
			inter = append(inter, e.Files.Cert)
		}
	}
	entity := func(name string) (*Entity, error) {
		if e, ok := byName[name]; ok {
			return e, nil
		}
		return nil, fmt.Errorf("sandbox: sender config: %w: %s", ErrNotFound, name)
	}
	if root == "" {
		return fmt.Errorf("sandbox: sender config: %w: %s", ErrNotFound, RootCA)
	}
	fundEnc, err := entity(FundEncryption)
	if err != nil {
		return err
	}
	tlsCA, err := entity(TLSCA)
	if err != nil {
		return err
	}
	for _, org := range man.Employers {
		if len(org.Signers) == 0 {
			return fmt.Errorf("sandbox: sender config: employer %s has no signer", org.Key)
		}
		signer, err := entity(org.Signers[0])
		if err != nil {
			return err
		}
		own, err := entity(org.Encryption)
		if err != nil {
			return err
		}
		if signer.Files.PKCS12 == "" {
			return fmt.Errorf("sandbox: sender config: signer %s has no PKCS#12 file", signer.Name)
		}
		contact := demoContacts[org.Key]
		if contact.Phone == "" {
			contact = senderContact{Phone: "+36 1 555 0000", Address: "1000 Budapest, Teszt utca 1."}
		}
		contact.Name = signer.Subject
		if signer.Person != nil {
			contact.Name = signer.Person.Name()
		}
		cfg := senderConfig{
			Employer: senderEmployer{Name: org.Name, IDType: declaration.IDAdoszam, ID: org.TaxNumber},
			Contact:  contact,
			Fund: senderFund{Code: man.Fund.FundCode, Name: man.Fund.Name, EncryptionCert: fundEnc.Files.Cert,
				ReceiverURL: DemoReceiverURL, TLSCA: tlsCA.Files.Cert},
			EncryptionCert:   own.Files.Cert,
			SigningKey:       "p12:" + signer.Files.PKCS12,
			SigningSecret:    "file:" + man.PasswordFile,
			DecryptionKey:    "p12:" + own.Files.PKCS12,
			DecryptionSecret: "file:" + man.PasswordFile,
			TSAURL:           man.BaseURL + "/tsa",
			Trust: trustConfig{SignerAnchors: []string{root}, TSAAnchors: []string{root}, Intermediates: inter,
				RevocationCache: TrustCacheDir},
			Policy:   "sandbox",
			StateDir: "state-" + org.Key,
		}
		if err := writeJSONAtomic(filepath.Join(dir, SenderConfigFile(org.Key)), cfg, 0o644); err != nil {
			return err
		}
	}
	return nil
}
