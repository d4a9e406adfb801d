package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"text/template"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/config"
	"github.com/tagdij/tagdij/internal/workspace"
)

var initCmd = &cli.Command{
	Name:    "init",
	Summary: "új munkaterület: magyarázó megjegyzésekkel ellátott beállítófájl és állapotkönyvtár / a new workspace: a commented configuration and the state directory",
	Usage:   "DIR [--from CONFIG]",
	Help: "Létrehozza a DIR/sender.json beállítófájlt (minden mezőhöz magyarázó megjegyzéssel) és a DIR/state állapotkönyvtárat\n" +
		"a helyi adatbázissal (csomagok, nyugták, konténerek, küldési napló; SQLite) és a fájltárral. --from: a mezők egy\n" +
		"meglévő beállításból (pl. a sandbox sender-pelda.json-jából) jönnek; enélkül a kitöltendő mezők helyén minta áll, és\n" +
		"a beállítás a kitöltésig nem tölthető be (a hibaüzenet megnevezi a mezőt). Meglévő beállítást nem ír felül.\n" +
		"/ Creates DIR/sender.json (with a comment on every field) and the state directory DIR/state with the local database\n" +
		"(packages, receipts, containers, send log; SQLite) and the file store. --from: the values come from an existing\n" +
		"configuration (e.g. the sandbox's sender-pelda.json); without it, placeholders stand where values are needed and the\n" +
		"configuration does not load until they are filled in (the error names the field). An existing file is never overwritten.",
	Flags: func(fs *flag.FlagSet) {
		fs.String("from", "", "a mezők ebből a beállításból / take the values from this configuration `FILE`")
	},
	Run: runInit,
}

// initValues fill the template; strings are JSON-encoded by the template's js function.
type initValues struct {
	Employer config.Employer
	Contact  config.Contact
	Fund     config.Fund
	Own      string
	Key      string
	Secret   string
	DecKey   string
	DecSec   string
	TSA      string
	Trust    string // JSON of the trust section, indented
	Policy   string
}

var configTemplate = template.Must(template.New("cfg").Funcs(template.FuncMap{
	"j": func(v any) string { b, _ := json.Marshal(v); return string(b) },
}).Parse(`// Tagdíj beküldő beállítása / Tagdíj sender configuration (sender init).
// JSON megjegyzésekkel: a // és /* */ megjegyzéseket a program figyelmen kívül hagyja.
// JSON with comments: // and /* */ comments are ignored. Relative paths are relative to this file.
// Felülírás környezeti változóval / overrides: TAGDIJ_SENDER_RECEIVER_URL, _TSA_URL, _SIGNING_KEY,
// _SIGNING_SECRET, _POLICY, _STATE_DIR, _OFFLINE.
{
  // A bevalló munkáltató. idType: adoszam (8 vagy 11 jegy), adoazonosito vagy taj.
  // The declaring employer. idType: adoszam (8 or 11 digits), adoazonosito or taj.
  "employer": {"name": {{j .Employer.Name}}, "idType": {{j .Employer.IDType}}, "id": {{j .Employer.ID}}},

  // Kapcsolattartó (az aláírt metaadatokba kerül, SND-20) / contact person (in the signed metadata, SND-20).
  "contact": {"name": {{j .Contact.Name}}, "phone": {{j .Contact.Phone}}, "address": {{j .Contact.Address}}},

  "fund": {
    // A pénztár négyjegyű kódja és neve / the fund's four-digit code and name.
    "code": {{j .Fund.Code}},
    "name": {{j .Fund.Name}},
    // A pénztár titkosító tanúsítványa (a csomag neki titkosítódik) / the fund's encryption certificate.
    "encryptionCert": {{j .Fund.EncryptionCert}},
    // A pénztár fogadójának HTTPS címe (sender send) / the fund receiver's HTTPS URL (sender send).
    "receiverURL": {{j .Fund.ReceiverURL}},
    // A fogadó TLS-tanúsítványának kibocsátója (CA, PEM); üres: a rendszer tanúsítványtára.
    // The CA (PEM) the receiver's TLS certificate must chain to; empty: the system's roots.
    "tlsCA": {{j .Fund.TLSCA}}
  },

  // A saját titkosító tanúsítvány: a csomag erre is titkosítódik, így később visszafejthető (SND-06).
  // The sender's own encryption certificate: packages are encrypted to it too (SND-06).
  "encryptionCert": {{j .Own}},

  // Aláíró kulcs: p12:ÚTVONAL vagy pkcs11:module=…;token=…;key=… — a jelszó/PIN forrása: file:, env: vagy prompt:
  // (titkot ebbe a fájlba írni nem lehet, SEC-03).
  // Signing key: p12:PATH or pkcs11:…; the password/PIN comes from file:, env: or prompt: (never the secret itself).
  "signingKey": {{j .Key}},
  "signingSecret": {{j .Secret}},
  // A saját titkosító kulcs (a bevallás megjelenítéséhez aláírás előtt, SIG-20); elhagyható.
  // The own encryption key (to show the declaration before signing, SIG-20); optional.
  "decryptionKey": {{j .DecKey}},
  "decryptionSecret": {{j .DecSec}},

  // RFC 3161 időbélyeg-szolgáltató / time-stamping service.
  "tsaURL": {{j .TSA}},

  // Bizalmi beállítások: horgonyok, köztes CA-k, visszavonási gyorsítótár és források (SPEC §3).
  // Trust: anchors, intermediates, revocation cache and per-issuer sources (SPEC §3).
  "trust": {{.Trust}},

  // Aláírási szabályzat: production, sandbox vagy egy fájl / signature policy: production, sandbox or a file.
  "policy": {{j .Policy}},

  // Állapotkönyvtár: adatbázis, csomagok, nyugták, konténerek, napló. MENTSE RENDSZERESEN: sender backup (ADM-04).
  // State directory: database, packages, receipts, containers, logs. BACK IT UP: sender backup (ADM-04).
  "stateDir": "state",

  // Feltöltés: kísérletek, várakozás, időkorlát; finalWait: mennyit várhat a send/submit egy kivárási időre.
  // Upload: attempts, backoff, per-request timeout; finalWait: how long send/submit may wait for a grace period.
  "send": {"attempts": 5, "backoff": "2s", "maxWait": "5m", "timeout": "2m", "finalWait": "0s"},

  // Hová szólnak az érvénytelen nyugta-aláírásról szóló értesítések (SND-30): a pénztár és a felügyelet címe.
  // Where notifications about an invalid receipt signature go (SND-30): the fund's and the supervisor's address.
  "notify": {"fund": "", "supervisor": ""}
}
`))

func runInit(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("egy könyvtár kell / exactly one directory is needed")
	}
	dir := args[0]
	cfgPath := filepath.Join(dir, "sender.json")
	if _, err := os.Lstat(cfgPath); err == nil {
		return &cli.ExitError{Code: cli.ExitUsage, Msg: fmt.Sprintf("sender: %s: már létezik, nem írom felül / already exists, not overwritten", cfgPath)}
	}
	v := initValues{
		Employer: config.Employer{Name: "ÍRJA ÁT: Munkáltató Kft. / EDIT: Employer Ltd.", IDType: "adoszam", ID: ""},
		Contact:  config.Contact{Name: "ÍRJA ÁT / EDIT", Phone: "", Address: "ÍRJA ÁT / EDIT"},
		Fund:     config.Fund{Code: "", Name: "ÍRJA ÁT / EDIT", EncryptionCert: "certs/enc-fund.pem", ReceiverURL: "https://fogado.penztar.example/"},
		Own:      "certs/enc-own.pem", Key: "p12:keys/signer.p12", Secret: "prompt:", TSA: "https://tsa.example/tsa",
		Trust:  `{"signerAnchors": ["certs/root-ca.pem"], "tsaAnchors": ["certs/root-ca.pem"], "revocationCache": "state/revocation-cache"}`,
		Policy: "production",
	}
	if from := fs.Lookup("from").Value.String(); from != "" {
		c, err := config.LoadEnv(from, env.Getenv)
		if err != nil {
			return err
		}
		v = initValues{Employer: c.Employer, Contact: c.Contact, Fund: c.Fund, Own: c.EncryptionCert, Key: c.SigningKey, Secret: c.SigningSecret,
			DecKey: c.DecryptionKey, DecSec: c.DecryptionSecret, TSA: c.TSAURL, Policy: c.Policy}
		t, _ := json.Marshal(c.Trust)
		v.Trust = string(t)
	}
	var buf bytes.Buffer
	if err := configTemplate.Execute(&buf, v); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	state := filepath.Join(dir, "state")
	if err := workspace.Init(ctx, state); err != nil {
		return err
	}
	if err := writeNew(cfgPath, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Beállítás / Configuration: %s\nÁllapotkönyvtár / State directory: %s\n", cfgPath, state)
	if _, err := config.LoadEnv(cfgPath, nil); err != nil {
		fmt.Fprintf(env.Stdout, "Töltse ki a beállítást; jelenleg / Fill in the configuration; now: %v\n", err)
		return nil
	}
	fmt.Fprintf(env.Stdout, "A beállítás betölthető. Következő lépés / The configuration loads. Next: sender declaration validate FILE; sender submit FILE --config %s\n", cfgPath)
	return nil
}
