package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/tagdij/tagdij/internal/durable"
)

// ReceiverConfigFile is the demo receiver configuration inside the sandbox directory.
const ReceiverConfigFile = "receiver.json"

// RegistrationFile returns the name of an employer's demo registration sheet ("registration-pelda.xml").
func RegistrationFile(employer string) string { return "registration-" + employer + ".xml" }

// DemoReceiverListen is the listen address written into the demo receiver configuration (the
// address of DemoReceiverURL). Override it per process with TAGDIJ_RECEIVER_LISTEN.
const DemoReceiverListen = "127.0.0.1:8443"

// receiverConfig mirrors the JSON of internal/config.Receiver (see senderConfig for why it is mirrored).
type receiverConfig struct {
	Fund          receiverFund `json:"fund"`
	Listen        string       `json:"listen"`
	AdminListen   string       `json:"adminListen"`
	TLSCert       string       `json:"tlsCert"`
	TLSKey        string       `json:"tlsKey"`
	TLSSecret     string       `json:"tlsSecret"`
	ReceiptKey    string       `json:"receiptKey"`
	ReceiptSecret string       `json:"receiptSecret"`
	TSAURL        string       `json:"tsaURL"`
	Trust         trustConfig  `json:"trust"`
	Policy        string       `json:"policy"`
	DataDir       string       `json:"dataDir"`
}

type receiverFund struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// writeReceiverConfig writes DIR/receiver.json (the fund's receiver on DemoReceiverListen with the
// fund-tls key and its chain, the fund-receipt key, the sandbox TSA, the sandbox trust and policy, data in
// DIR/receiver-data) and, per demo employer, DIR/registration-<employer>.xml: a registration sheet
// (schema/bejelentkezes.xsd) with every currently valid signer of the employer, each allowed to sign
// alone, identified by the SHA-256 of the certificate, valid from the first day of the sandbox's year.
func writeReceiverConfig(dir string, man *Manifest) error {
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
	tlsE, rcpE := byName[man.Fund.TLS], byName[man.Fund.Receipt]
	if tlsE == nil || rcpE == nil || root == "" {
		return fmt.Errorf("sandbox: receiver config: %w: fund TLS or receipt entity, or root", ErrNotFound)
	}
	cfg := receiverConfig{
		Fund:   receiverFund{Code: man.Fund.FundCode, Name: man.Fund.Name},
		Listen: DemoReceiverListen, AdminListen: "127.0.0.1:9443",
		TLSCert: tlsE.Files.Chain, TLSKey: "p12:" + tlsE.Files.PKCS12, TLSSecret: "file:" + man.PasswordFile,
		ReceiptKey: "p12:" + rcpE.Files.PKCS12, ReceiptSecret: "file:" + man.PasswordFile,
		TSAURL: man.BaseURL + "/tsa",
		Trust: trustConfig{SignerAnchors: []string{root}, TSAAnchors: []string{root}, Intermediates: inter,
			RevocationCache: "receiver-data/" + TrustCacheDir},
		Policy:  "sandbox",
		DataDir: "receiver-data",
	}
	if err := writeJSONAtomic(filepath.Join(dir, ReceiverConfigFile), cfg, 0o644); err != nil {
		return err
	}
	for _, org := range man.Employers {
		enc := byName[org.Encryption]
		if enc == nil {
			return fmt.Errorf("sandbox: registration: %w: %s", ErrNotFound, org.Encryption)
		}
		der, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(enc.Files.CertDER)))
		if err != nil {
			return fmt.Errorf("sandbox: registration: %w", err)
		}
		sheet := regSheet{ID: registrationID(man.Fund.FundCode, org.TaxNumber), Name: org.Name, TaxNumber: org.TaxNumber,
			Fund: man.Fund.FundCode, First: fmt.Sprintf("%04d-01", man.Created.Year()-1), Filed: man.Created.AddDate(0, 0, -1).Format(time.DateOnly),
			From: fmt.Sprintf("%04d-01-01", man.Created.Year()-1), EncCert: base64.StdEncoding.EncodeToString(der)}
		contact := demoContacts[org.Key]
		sheet.Phone, sheet.Address = contact.Phone, contact.Address
		if sheet.Phone == "" {
			sheet.Phone, sheet.Address = "+36 1 555 0000", "1000 Budapest, Teszt utca 1."
		}
		for i, name := range org.Signers {
			e := byName[name]
			if e == nil {
				return fmt.Errorf("sandbox: registration: %w: %s", ErrNotFound, name)
			}
			display := e.Subject
			if e.Person != nil {
				display = e.Person.Name()
			}
			if i == 0 {
				sheet.Contact = display
			}
			sheet.Signers = append(sheet.Signers, regSigner{ID: fmt.Sprintf("alairo-%d", i+1), Name: display, SHA256: strings.ToLower(e.SHA256)})
		}
		var buf bytes.Buffer
		if err := registrationTemplate.Execute(&buf, sheet); err != nil {
			return fmt.Errorf("sandbox: registration: %w", err)
		}
		if err := durable.WriteFile(filepath.Join(dir, RegistrationFile(org.Key)), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// registrationID derives a stable UUID-shaped sheet id from the fund and the tax number.
func registrationID(fund, tax string) string {
	d := fmt.Sprintf("%08s%04s", tax, fund)
	return fmt.Sprintf("%s-0000-4000-8000-%s", d[:8], "0000"+d[8:12]+"0000")
}

// xmlText escapes s for XML character data and attribute values.
func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

type regSheet struct {
	ID, Name, TaxNumber, Fund, First, Filed, From, EncCert string
	Contact, Phone, Address                                string
	Signers                                                []regSigner
}

type regSigner struct{ ID, Name, SHA256 string }

var registrationTemplate = template.Must(template.New("reg").Funcs(template.FuncMap{"x": xmlText}).Parse(`<?xml version="1.0" encoding="UTF-8"?>
<Bejelentkezes xmlns="urn:x-mnyp:bejelentkezes:1">
  <Azonosito>{{x .ID}}</Azonosito>
  <Bevallo azonositoTipus="adoszam" azonosito="{{x .TaxNumber}}" nev="{{x .Name}}">
    <Cim><Iranyitoszam>1111</Iranyitoszam><Telepules>Budapest</Telepules><Kozterulet>Minta utca 1.</Kozterulet></Cim>
  </Bevallo>
  <Penztar>{{x .Fund}}</Penztar>
  <ElsoIdoszak>{{x .First}}</ElsoIdoszak>
  <BenyujtasDatuma>{{x .Filed}}</BenyujtasDatuma>
  <Kapcsolattarto>
    <Nev>{{x .Contact}}</Nev>
    <Telefon>{{x .Phone}}</Telefon>
    <Cim>{{x .Address}}</Cim>
  </Kapcsolattarto>
  <TitkositoTanusitvany>{{.EncCert}}</TitkositoTanusitvany>
  <Alairok>{{range .Signers}}
    <Alairo azonosito="{{x .ID}}">
      <Nev>{{x .Name}}</Nev>
      <Tanusitvany><SHA256>{{x .SHA256}}</SHA256></Tanusitvany>
      <Szerep>ONALLO</Szerep>
      <Kotelezo>false</Kotelezo>
      <ErvenyesTol>{{x $.From}}</ErvenyesTol>
    </Alairo>{{end}}
  </Alairok>
</Bejelentkezes>
`))
