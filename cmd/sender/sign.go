package main

import (
	"bufio"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/config"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/keys"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/payload"
	"github.com/tagdij/tagdij/internal/progress"
	"github.com/tagdij/tagdij/internal/sheet"
	"github.com/tagdij/tagdij/internal/workspace"
	"github.com/tagdij/tagdij/internal/xades"
	"github.com/tagdij/tagdij/policy"
	"github.com/tagdij/tagdij/schema"
)

var signCmd = &cli.Command{
	Name:    "sign",
	Summary: "a csomag aláírása minősített elektronikus aláírással / sign the package with a qualified electronic signature",
	Usage:   "PACKAGE.es3 [--config FILE] [--key SPEC] [--secret SOURCE] [--decrypt-key SPEC [--decrypt-secret SOURCE]] [--yes] [--json]",
	Help: "Aláírás előtt megmutatja (SIG-05–SIG-07, SIG-19, SIG-20, SND-08–SND-10): a csomag nevét és SHA-256\n" +
		"lenyomatát, a bevallás összesítő adatlapját (a titkosított csomagot a beküldő SAJÁT titkosító kulcsával\n" +
		"fejti vissza: --decrypt-key, vagy az aláíró kulcs, ha az egyben a beállított titkosító tanúsítvány\n" +
		"kulcsa; enélkül kiírja, hogy a titkosított dokumentum nem jeleníthető meg), az aláíró tanúsítványt,\n" +
		"a szabályzatot, a beírandó aláírt tulajdonságokat és a csomagon már lévő aláírásokat; majd a\n" +
		"terminálon megerősítést kér. --yes nélkül és nem terminálról futtatva nem ír alá (3-as kód).\n" +
		"Több aláíró egymás után írhat alá (párhuzamos aláírások); időbélyeget az utolsó aláíró után kell\n" +
		"kérni (sender timestamp, SND-12): időbélyegzett csomagot a parancs nem ír alá.\n" +
		"A csomag helyben, atomikusan cserélődik; az aláírás a <stateDir>/signatures.log naplóba kerül (SIG-12).\n" +
		"Kilépési kód: 0 aláírva, 1 elutasítva (a felhasználó nemet mondott), 3 használati vagy rendszerhiba.\n" +
		"/ Before signing it shows the package name and SHA-256, the declaration's summary sheet (an encrypted\n" +
		"package is decrypted with the sender's OWN encryption key: --decrypt-key, or the signing key when it is\n" +
		"also the key of the configured encryption certificate; without one it says clearly that the encrypted\n" +
		"document cannot be shown), the signer certificate, the policy, the signed properties that will be\n" +
		"written and the signatures already on the package; then it asks for confirmation on the terminal.\n" +
		"Without --yes and with a non-terminal stdin it never signs (exit 3). Several signers may sign one\n" +
		"after the other (parallel signatures); time-stamps are requested after the last signer (sender\n" +
		"timestamp, SND-12), and a time-stamped package is not signed again. The package is replaced\n" +
		"atomically; the signature is logged to <stateDir>/signatures.log (SIG-12).\n" +
		"Exit status: 0 signed, 1 declined, 3 usage or system error.",
	Flags: func(fs *flag.FlagSet) {
		configFlag(fs)
		fs.String("key", "", "aláíró kulcs a beállítás helyett: p12:ÚTVONAL vagy pkcs11:... / signing key `SPEC` instead of the configuration's: p12:PATH or pkcs11:...")
		fs.String("secret", "", "jelszó/PIN forrása: file:ÚTVONAL, env:NÉV vagy prompt: / password or PIN `SOURCE`: file:PATH, env:NAME or prompt:")
		fs.String("decrypt-key", "", "a beküldő saját titkosító kulcsa a bevallás megjelenítéséhez / the sender's own encryption key `SPEC`, to show the declaration")
		fs.String("decrypt-secret", "", "a titkosító kulcs jelszavának forrása / the encryption key's password `SOURCE`")
		fs.Int("limit", 20, "legfeljebb ennyi tételsor az adatlapon, 0: mind / at most this many item rows, 0: all")
		fs.Bool("yes", false, "megerősítés kérdés nélkül (szkriptekhez) / confirm without asking (for scripts)")
		fs.Bool("json", false, "géppel olvasható kimenet / machine-readable output")
	},
	Run: runSign,
}

// signPreview is what the signer sees before confirming, and the --json output.
type signPreview struct {
	Package     string    `json:"package"`
	Path        string    `json:"path"`
	Size        int       `json:"size"`
	SHA256      string    `json:"sha256"`
	Encrypted   bool      `json:"encrypted"`
	Declaration *declView `json:"declaration,omitempty"`
	ShownNote   string    `json:"declarationNotShown,omitempty"` // why the declaration is not shown (SIG-20)
	// ShownFrom says where the shown declaration came from: "package" (decrypted and validated now) or
	// "pack-record" (recorded by sender pack for exactly this payload).
	ShownFrom  string           `json:"declarationShownFrom,omitempty"`
	Signer     certView         `json:"signer"`
	Policy     policyView       `json:"policy"`
	Properties []string         `json:"signedProperties"`
	Existing   []existingSig    `json:"existingSignatures"`
	Findings   []policy.Finding `json:"certificateFindings,omitempty"`
	// Warnings are what the signer must know before confirming: a certificate of another employer, a
	// revoked or otherwise failing certificate.
	Warnings    []signWarning `json:"warnings,omitempty"`
	SignatureID string        `json:"signatureId,omitempty"`
	SignedSHA   string        `json:"signedSha256,omitempty"`
}

// declView is the declaration summary of the --json preview.
type declView struct {
	ID        string              `json:"id"`
	Type      string              `json:"type"`
	Period    string              `json:"period"`
	Declarant string              `json:"declarant"`
	Items     int                 `json:"items"`
	Totals    declaration.Summary `json:"totals"`
}

// policyView identifies the policy and summarises its grace periods.
type policyView struct {
	ID      string `json:"id"`
	SHA256  string `json:"sha256"`
	Test    bool   `json:"test"`
	Summary string `json:"summary"`
}

// existingSig is a signature already on the package.
type existingSig struct {
	ID          string    `json:"id"`
	SignerName  string    `json:"signerName"`
	Signer      string    `json:"signer"`
	SigningTime time.Time `json:"signingTime,omitzero"`
	// Broken is the first error that no time-stamp or later revocation evidence can cure (a wrong
	// digest or signature value, a missing signed property, wrapping); empty for an intact signature.
	Broken string `json:"broken,omitempty"`
	cert   *x509.Certificate
}

// curable are the codes an untime-stamped signature checked offline is expected to have: the
// time-stamp and certificate references come with `sender timestamp`, the revocation evidence with time.
var curable = map[errcode.Code]bool{errcode.F005: true, errcode.F006: true, errcode.A011: true, errcode.A012: true}

func runSign(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("egy csomagfájl kell / exactly one package file is needed")
	}
	path := args[0]
	yes := fs.Lookup("yes").Value.(flag.Getter).Get().(bool)
	asJSON := fs.Lookup("json").Value.(flag.Getter).Get().(bool)
	limit := fs.Lookup("limit").Value.(flag.Getter).Get().(int)
	// Never sign silently (SIG-07, SND-10): without --yes the answer must come from a person.
	stdinFile, _ := env.Stdin.(*os.File)
	if !yes && (stdinFile == nil || !cli.IsTerminal(stdinFile)) {
		return cli.Usagef("a megerősítéshez terminál kell, vagy --yes / confirmation needs a terminal, or --yes")
	}
	cfg, err := loadConfig(env, fs)
	if err != nil {
		return err
	}
	pol, err := configPolicy(cfg)
	if err != nil {
		return err
	}
	data, sum, err := readPackage(path)
	if err != nil {
		return err
	}
	// One parse serves the inspection, the existing signatures' check, the display and the signing.
	parsed, err := es3.Parse(data, es3.ParseOptions{Mode: es3.Strict})
	if err != nil {
		return &cli.ExitError{Code: cli.ExitInvalid, Msg: fmt.Sprintf("%s: nem Tagdíj csomag / not a Tagdíj package: %v", path, err)}
	}
	defer parsed.Close()
	info, err := inspectPackage(parsed)
	if err != nil {
		return &cli.ExitError{Code: cli.ExitInvalid, Msg: fmt.Sprintf("%s: nem Tagdíj csomag / not a Tagdíj package: %v", path, err)}
	}
	if info.timestamped {
		return &cli.ExitError{Code: cli.ExitUsage, Msg: path + ": a csomag már időbélyeget kapott; az időbélyeget az utolsó aláíró után kell kérni " +
			"(SND-12), utána aláírni nem lehet. Ha további aláíró kell, csomagolja újra a bevallást (sender pack). " +
			"/ the package is already time-stamped; time-stamps are requested after the last signer (SND-12), so no one can sign " +
			"after that. If another signer is needed, pack the declaration again (sender pack)."}
	}

	spec, secret := cfg.SigningKey, cfg.SigningSecret
	if s := fs.Lookup("key").Value.String(); s != "" {
		spec, secret = s, ""
	}
	if s := fs.Lookup("secret").Value.String(); s != "" {
		secret = s
	}
	if spec == "" {
		return cli.Usagef("nincs aláíró kulcs: --key vagy signingKey a beállításban / no signing key: --key or signingKey in the configuration")
	}
	key, err := openKey(ctx, env, spec, secret, "Aláíró kulcs jelszava/PIN / Signing key password or PIN")
	if err != nil {
		return err
	}
	defer key.Close()

	abs, _ := filepath.Abs(path)
	pv := signPreview{Package: filepath.Base(path), Path: abs, Size: len(data), SHA256: hexSum(sum), Encrypted: info.encrypted}
	pv.Signer = describeCert(&certSource{Name: key.Description(), Leaf: key.Certificate(), Extra: key.Chain()}, env.Now())
	pv.Policy = describePolicy(pol)
	// The policy's judgement of the key for signing now: the one xades.Sign applies.
	pv.Findings = pol.CheckSigner(policy.KindPackage, key.Certificate(), env.Now())
	mime, err := pol.WriteMIME(policy.KindPackage, info.encrypted)
	if err != nil {
		return err
	}
	pv.Properties = signedProperties(key.Certificate(), pol, mime, env.Now())
	pv.Existing = existingSignatures(ctx, parsed, data, cfg, pol, env.Now())
	// One signer signs once: a second signature with the same certificate would count the same person
	// twice towards the employer's signing rules (SPEC §6).
	for _, e := range pv.Existing {
		if e.cert != nil && e.cert.Equal(key.Certificate()) {
			return cli.Invalidf("%s: ezzel a tanúsítvánnyal már aláírták a csomagot (%s, %s); ugyanaz az aláíró kétszer nem írhat alá / "+
				"this certificate already signed the package (%s, %s); the same signer cannot sign twice", path, e.ID, e.SignerName, e.ID, e.SignerName)
		}
	}
	set, err := loadSchemas()
	if err != nil {
		return err
	}
	defer set.Close()
	meta, mf := parsed.Metadata(set)
	if len(mf) > 0 {
		meta = nil
	}
	pv.Warnings = signWarnings(ctx, cfg, pol, meta, key, env.Now)
	var rec *declaration.Excerpt
	if meta != nil {
		if p, err := parsed.Payload(0); err == nil {
			if ws, err := workspace.Open(ctx, cfg.StateDir); err == nil {
				rec = readPackRecord(ctx, ws, meta.ID, sha256.Sum256(p))
				ws.Close()
			}
		}
	}

	var decl *declaration.Excerpt
	stop := progress.Spin(env.Stderr, "a bevallás megjelenítése / preparing the declaration")
	decl, pv.Declaration, pv.ShownNote, pv.ShownFrom = showDeclaration(ctx, env, fs, cfg, key, parsed, set, rec, limit)
	stop()
	if !asJSON {
		if err := writeSignPreview(env.Stdout, &pv, decl, limit, env.Width()); err != nil {
			return err
		}
	}
	if f, refused := policy.Refusal(pv.Findings); refused {
		if asJSON {
			cli.WriteJSON(env.Stdout, pv)
		}
		return &cli.ExitError{Code: cli.ExitInvalid, Msg: fmt.Sprintf("%s: ezzel a tanúsítvánnyal a szabályzat szerint nem lehet aláírni: %s %s / "+
			"the policy does not allow signing with this certificate: %s %s", path, f.Code, f.HU, f.Code, f.EN)}
	}

	for _, e := range pv.Existing {
		if e.Broken != "" {
			if asJSON {
				cli.WriteJSON(env.Stdout, pv)
			}
			return &cli.ExitError{Code: cli.ExitInvalid, Msg: fmt.Sprintf("%s: a csomagon hibás aláírás van (%s), a csomag így sosem lehet érvényes; "+
				"csomagolja újra / the package carries a broken signature (%s) and can never become valid; pack it again: %s", path, e.ID, e.ID, e.Broken)}
		}
	}
	if !yes {
		ok, err := confirm(stdinFile, env.Stderr)
		if err != nil {
			return err
		}
		if !ok {
			return &cli.ExitError{Code: cli.ExitInvalid, Msg: "Nem írt alá. / Not signed."}
		}
	}

	log, closer, err := signatureLog(cfg)
	if err != nil {
		return err
	}
	defer closer.Close()
	stop = progress.Spin(env.Stderr, "aláírás / signing")
	out, id, err := xades.Sign(ctx, data, xades.SignOptions{
		Signer: key, Certificate: key.Certificate(), Chain: key.Chain(), Policy: pol, Kind: policy.KindPackage,
		SigningTime: env.Now(), Generator: "Tagdíj sender " + programVersion, Logger: log.With("file", abs), Parsed: parsed,
	})
	stop()
	if err != nil {
		return err
	}
	if err := replaceFile(path, sum, out); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	pv.SignatureID = id
	pv.SignedSHA = hexSum(sha256Sum(out))
	if asJSON {
		return cli.WriteJSON(env.Stdout, pv)
	}
	fmt.Fprintf(env.Stdout, "\nAláírva / Signed: %s\n", id)
	fmt.Fprintf(env.Stdout, "Csomag / Package:  %s (SHA-256 %s)\n", abs, pv.SignedSHA)
	fmt.Fprintf(env.Stdout, "Ha több aláíró nincs, kérjen időbélyeget: sender timestamp %s / If there are no more signers, time-stamp it: sender timestamp %s\n", path, path)
	return nil
}

// packageInfo is what sign needs to know about the package before verifying anything.
type packageInfo struct {
	encrypted   bool
	timestamped bool
}

// inspectPackage reports whether the strictly parsed package's document is encrypted and whether any
// signature already carries a SignatureTimeStamp.
func inspectPackage(d *es3.Dossier) (packageInfo, error) {
	if len(d.Documents) != 1 || d.Documents[0].Title != pack.DocumentTitle {
		return packageInfo{}, fmt.Errorf("%d dokumentum, %s kell / %d documents, want one %s", len(d.Documents), pack.DocumentTitle, len(d.Documents), pack.DocumentTitle)
	}
	info := packageInfo{encrypted: d.Documents[0].Encrypted()}
	for _, s := range d.Signatures {
		if hasDescendant(s.Node, es3.NSXAdES, "SignatureTimeStamp") {
			info.timestamped = true
		}
	}
	return info, nil
}

// hasDescendant reports whether an element below n is {ns}local. The parser bounds the depth.
func hasDescendant(n libxml.Node, ns, local string) bool {
	for c := n.FirstChildElement(); !c.IsZero(); c = c.NextSiblingElement() {
		if c.Is(ns, local) || hasDescendant(c, ns, local) {
			return true
		}
	}
	return false
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }

// describePolicy identifies pol and summarises what a signer must know about it in one line: the
// grace periods and the signing-to-time-stamp gap.
func describePolicy(pol *policy.Policy) policyView {
	var grace []string
	for _, m := range pol.Revocation.Methods {
		grace = append(grace, fmt.Sprintf("%s %s", m.Method, policy.FormatDuration(m.Grace, "en")))
	}
	sum := fmt.Sprintf("kivárási idő / grace period: %s; aláírás → időbélyeg legfeljebb / signing → time-stamp at most %s",
		strings.Join(grace, ", "), policy.FormatDuration(pol.Gaps.SigningToTimestamp, "en"))
	if pol.Test {
		sum += "; TESZT szabályzat, jogi hatás nélkül / TEST policy, no legal effect"
	}
	return policyView{ID: pol.ID(), SHA256: hex.EncodeToString(pol.Digest()), Test: pol.Test, Summary: sum}
}

// signedProperties lists the signed properties Sign will write (SND-09), as the signer should read them.
func signedProperties(cert *x509.Certificate, pol *policy.Policy, mime string, now time.Time) []string {
	certSum := sha256Sum(cert.Raw)
	return []string{
		"SigningTime: " + now.UTC().Truncate(time.Second).Format(time.RFC3339) + " (az aláírás pillanata / the moment of signing)",
		fmt.Sprintf("SigningCertificate: SHA-256 %s, %s, sorozatszám / serial %s", hexSum(certSum), cert.Issuer, cert.SerialNumber),
		fmt.Sprintf("SignaturePolicyIdentifier: %s, SHA-256 %s", pol.ID(), hex.EncodeToString(pol.Digest())),
		"DataObjectFormat: " + mime + " (" + pack.DocumentTitle + ")",
		"CommitmentTypeIndication: ProofOfOrigin (" + policy.ProofOfOrigin + ")",
	}
}

// existingSignatures lists the signatures already on the package (parallel signers) with their verdict
// on embedded evidence only: the preview must not wait on the network, and a signature made minutes
// ago is inside its grace period anyway.
func existingSignatures(ctx context.Context, parsed *es3.Dossier, data []byte, cfg *config.Sender, pol *policy.Policy, now time.Time) []existingSig {
	out := []existingSig{}
	tenv, err := configTrust(cfg, pol, true, func() time.Time { return now })
	if err != nil {
		return out
	}
	rep, err := xades.VerifyDossier(ctx, parsed, data, xades.VerifyOptions{Env: tenv, Kind: policy.KindPackage, Now: now, Mode: es3.Strict})
	if err != nil {
		return out
	}
	for _, s := range rep.Signatures {
		e := existingSig{ID: s.ID, SignerName: s.SignerName, Signer: s.Signer, SigningTime: s.SigningTime, cert: s.Certificate}
		for _, f := range s.Verdict.Findings {
			if f.Severity == errcode.Error && !curable[f.Code] {
				e.Broken = string(f.Code) + " " + f.EN
				break
			}
		}
		out = append(out, e)
	}
	return out
}

// showDeclaration shows the declaration in the package when the sender's own encryption key is
// available (SIG-20): from the pack record of exactly this payload (packrecord.go) when it holds the
// rows asked for, otherwise by decrypting the package and validating the declaration. It returns the
// declaration (or the recorded excerpt of it), its summary and where it came from, or a note saying why
// it cannot be shown.
func showDeclaration(ctx context.Context, env *cli.Env, fs *flag.FlagSet, cfg *config.Sender, signing keys.Key, parsed *es3.Dossier,
	set *schema.Set, rec *declaration.Excerpt, limit int) (_ *declaration.Excerpt, _ *declView, note, from string) {
	var cert *x509.Certificate
	var dec crypto.Decrypter
	spec, secret := fs.Lookup("decrypt-key").Value.String(), fs.Lookup("decrypt-secret").Value.String()
	if spec == "" {
		spec, secret = cfg.DecryptionKey, cfg.DecryptionSecret
	}
	if spec != "" {
		k, err := openKey(ctx, env, spec, secret, "Titkosító kulcs jelszava / Encryption key password")
		if err != nil {
			return nil, nil, fmt.Sprintf("a titkosító kulcs nem nyitható meg / the encryption key cannot be opened: %v", err), ""
		}
		defer k.Close()
		d, ok := keys.Decrypter(k)
		if !ok {
			return nil, nil, "a megadott titkosító kulcs nem tud visszafejteni / the configured decryption key cannot decrypt", ""
		}
		cert, dec = k.Certificate(), d
	} else if own, err := cfg.OwnCertificate(); err == nil && own.Equal(signing.Certificate()) {
		// One key for signing and encryption: allowed by SND-04 only if the certificate permits both.
		if d, ok := keys.Decrypter(signing); ok {
			cert, dec = own, d
		}
	}
	view := func(e *declaration.Excerpt) *declView {
		return &declView{ID: e.Header.ID, Type: string(e.Header.Type), Period: e.Header.Period.String(), Declarant: e.Declarant.Name,
			Items: e.Count, Totals: e.Summary}
	}
	// The record stands in for decrypting only where decrypting is possible: without the key the
	// content is not shown, as SIG-20 has it, whatever the state directory holds.
	if cert != nil && rec != nil && (rec.Complete() || (limit > 0 && limit <= len(rec.Items))) {
		return rec, view(rec), "", "pack-record"
	}
	decl, err := pack.OpenDossier(parsed, cert, dec, payload.Limits{})
	if err != nil {
		if cert == nil {
			return nil, nil, "A bevallás tömörített és titkosított; a saját titkosító kulcs (--decrypt-key) nélkül a tartalma " +
				"NEM JELENÍTHETŐ MEG. Az aláírás a titkosított adatra vonatkozik (SND-07, SIG-20). Nézze meg a bevallást aláírás előtt " +
				"(sender declaration show). / The declaration is compressed and encrypted; without the sender's own encryption key " +
				"(--decrypt-key) its content CANNOT BE SHOWN. The signature covers the encrypted data (SND-07, SIG-20). Review the " +
				"declaration before signing (sender declaration show).", ""
		}
		return nil, nil, fmt.Sprintf("a csomag nem fejthető vissza, a tartalma NEM JELENÍTHETŐ MEG / the package cannot be decrypted, its content CANNOT BE SHOWN: %v", err), ""
	}
	d, _, err := declaration.Validate(decl, set, declaration.CheckContext{Now: env.Now()})
	if err != nil || d == nil {
		return nil, nil, "a csomagban lévő bevallás nem olvasható / the declaration in the package cannot be read", ""
	}
	e := d.Excerpt(-1)
	return e, view(e), "", "package"
}

// writeSignPreview prints what will be signed and how.
func writeSignPreview(w io.Writer, pv *signPreview, d *declaration.Excerpt, limit, width int) error {
	fmt.Fprintf(w, "ALÁÍRÁS ELŐTT / BEFORE SIGNING\n\n")
	fmt.Fprintf(w, "Csomag / Package:   %s\n", pv.Package)
	fmt.Fprintf(w, "Fájl / File:        %s\n", pv.Path)
	fmt.Fprintf(w, "Méret / Size:       %d bájt / bytes\n", pv.Size)
	fmt.Fprintf(w, "SHA-256:            %s\n\n", pv.SHA256)
	if d != nil {
		if err := sheet.TextExcerpt(w, d, sheet.Options{Limit: limit, Width: width}); err != nil {
			return err
		}
		if pv.ShownFrom == "pack-record" {
			fmt.Fprintf(w, "(A csomagoláskor ellenőrzött bevallásból: a csomag titkosított tartalmának SHA-256 lenyomata egyezik.\n"+
				" From the declaration validated when packing: the SHA-256 of the package's encrypted content matches.)\n")
		}
	} else {
		fmt.Fprintf(w, "!! %s\n", pv.ShownNote)
	}
	fmt.Fprintf(w, "\n")
	if err := writeCertView(w, pv.Signer); err != nil {
		return err
	}
	for _, f := range pv.Findings {
		fmt.Fprintf(w, "  %s %s: %s\n      %s\n", f.Severity, f.Code, f.HU, f.EN)
	}
	for _, wn := range pv.Warnings {
		fmt.Fprintf(w, "\n!! FIGYELEM / WARNING: %s\n   %s\n", wn.HU, wn.EN)
	}
	fmt.Fprintf(w, "\nAláírási szabályzat / Signature policy: %s\n  SHA-256: %s\n  %s\n  (teljes szöveg / full text: sender policy show)\n",
		pv.Policy.ID, pv.Policy.SHA256, pv.Policy.Summary)
	fmt.Fprintf(w, "\nAláírt tulajdonságok / Signed properties:\n")
	for _, p := range pv.Properties {
		fmt.Fprintf(w, "  %s\n", p)
	}
	if len(pv.Existing) == 0 {
		fmt.Fprintf(w, "\nMeglévő aláírások / Existing signatures: nincs / none (ön az első aláíró / you are the first signer)\n")
	} else {
		fmt.Fprintf(w, "\nMeglévő aláírások / Existing signatures (párhuzamos aláírók / parallel signers):\n")
		for _, s := range pv.Existing {
			state := "ép, időbélyegre vár / intact, awaiting the time-stamp"
			if s.Broken != "" {
				state = "HIBÁS / BROKEN: " + s.Broken
			}
			fmt.Fprintf(w, "  %s: %s, %s (%s)\n", s.ID, s.SignerName, s.SigningTime.UTC().Format(time.RFC3339), state)
		}
	}
	return nil
}

// confirm asks the SIG-07 question on the terminal and reads the answer.
func confirm(in *os.File, out io.Writer) (bool, error) {
	fmt.Fprint(out, "\nMinősített elektronikus aláírást hoz létre. Folytatja? [i/N] / You are about to create a QUALIFIED electronic signature. Continue? [y/N] ")
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "i", "igen", "y", "yes":
		return true, nil
	}
	return false, nil
}
