package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"time"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/progress"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/trust"
)

var verifyCmd = &cli.Command{
	Name:    "verify",
	Summary: "kezdeti ellenőrzés: az aláírások érvényessége / initial check: are the signatures valid",
	Usage:   "PACKAGE.es3 [--config FILE] [--at TIME] [--json]",
	Help: "Kezdeti ellenőrzés az aláírás és az időbélyegzés után (DEF-09, SND-14): minden aláírás\n" +
		"formátuma, lefedettsége, tulajdonságai, időbélyege és a tanúsítványlánc visszavonási állapota a\n" +
		"szabályzat kivárási idejével (SPEC §3). Eredmény: érvényes (0), érvénytelen (1) vagy befejezetlen (2).\n" +
		"A kivárási idő (időbélyeg + 4 óra OCSP, 24 óra CRL; a sandboxban másodpercek) vége előtt az eredmény\n" +
		"befejezetlen (TRY_LATER): a parancs megmondja, mikor érdemes megismételni. A követelmény szerint\n" +
		"(SIG-23) bevallás csak érvényes állapotban küldhető be; a termék ezt így oldja fel: a feltöltés\n" +
		"(a későbbi `sender send`) érvényes állapotot követel, vagyis a kivárási idő után kell feltölteni;\n" +
		"a pénztár fogadója előellenőrzést végez, a végleges ellenőrzés a pénztárnál történik (DEF-10).\n" +
		"Érvénytelen aláírású csomagot beküldeni nem szabad (SND-14). Az ellenőrzés a\n" +
		"<stateDir>/signatures.log naplóba kerül (SIG-15). --at: az ellenőrzés időpontja (RFC 3339).\n" +
		"/ Initial check after signing and time-stamping (DEF-09, SND-14): each signature's format,\n" +
		"coverage, properties, time-stamp and the revocation status of its chain under the policy's grace\n" +
		"period (SPEC §3). Result: valid (0), invalid (1) or incomplete (2). Before the grace period ends\n" +
		"(time-stamp + 4 h with OCSP, 24 h with CRL; seconds in the sandbox) the result is incomplete\n" +
		"(TRY_LATER) and the command says when to try again. The requirement set says a declaration may be\n" +
		"uploaded only when the state is valid (SIG-23); the product resolves it so: uploading (the later\n" +
		"`sender send`) requires valid, i.e. upload after the grace period; the fund's receiver pre-checks\n" +
		"and the final check happens at the fund (DEF-10). A package with an invalid signature must never\n" +
		"be sent (SND-14). The check is logged to <stateDir>/signatures.log (SIG-15). --at: the validation\n" +
		"time (RFC 3339).",
	Flags: func(fs *flag.FlagSet) {
		configFlag(fs)
		fs.String("at", "", "az ellenőrzés időpontja (RFC 3339), alapértelmezés: most / validation `TIME` (RFC 3339), default now")
		fs.Bool("json", false, "géppel olvasható kimenet / machine-readable output")
	},
	Run: runVerify,
}

func runVerify(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("egy csomagfájl kell / exactly one package file is needed")
	}
	path := args[0]
	now := env.Now()
	if at := fs.Lookup("at").Value.String(); at != "" {
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			return cli.Usagef("--at: RFC 3339 időpont kell / an RFC 3339 time is needed: %v", err)
		}
		now = t
	}
	cfg, err := loadConfig(env, fs)
	if err != nil {
		return err
	}
	pol, err := configPolicy(cfg)
	if err != nil {
		return err
	}
	tenv, err := configTrust(cfg, pol, false, env.Now)
	if err != nil {
		return err
	}
	data, _, err := readPackage(path)
	if err != nil {
		return err
	}
	log, closer, err := signatureLog(cfg)
	if err != nil {
		return err
	}
	defer closer.Close()
	set, err := loadSchemas()
	if err != nil {
		return err
	}
	defer set.Close()
	// The shared verified-package result: the signed metadata and the file name (F010) are checked as
	// the fund's receiver will check them.
	stop := progress.Spin(env.Stderr, "ellenőrzés / verifying")
	v, err := pack.Verify(ctx, data, pack.VerifyOptions{Env: tenv, Schemas: set, Now: now, FileName: filepath.Base(path), Logger: log})
	stop()
	if err != nil {
		return err
	}
	rep := v.Report
	if fs.Lookup("json").Value.(flag.Getter).Get().(bool) {
		if err := report.WriteJSON(env.Stdout, *rep); err != nil {
			return err
		}
	} else {
		if err := report.WriteText(env.Stdout, *rep); err != nil {
			return err
		}
		writeVerifyAdvice(env, rep, path, cfg.File, now)
	}
	return cli.VerdictExit(rep.Verdict.Indication)
}

// writeVerifyAdvice says what the result means for sending (SIG-23, SND-14). For an incomplete
// result it says what is missing: the grace period still running (and until when), the signer's
// evidence still from inside an ended grace period, or a certificate without usable revocation
// evidence, named by its finding's location, with the reason and how the configuration's per-issuer
// revocation sources (trust.revocationSources in configFile) can supply it.
func writeVerifyAdvice(env *cli.Env, rep *report.Document, path, configFile string, now time.Time) {
	w := env.Stdout
	fmt.Fprintf(w, "\nTeendő / What to do:\n")
	switch rep.Verdict.Indication {
	case report.TotalPassed:
		fmt.Fprintf(w, "  A csomag érvényes, beküldhető. / The package is valid and may be uploaded.\n")
		return
	case report.TotalFailed:
		a := failedAdvice(rep, path)
		fmt.Fprintf(w, "  %s\n  %s\n", a.HU, a.EN)
		return
	}
	if a, ok := permanentAdvice(rep.Verdict.Sub); ok {
		fmt.Fprintf(w, "  %s\n  %s\n", a.HU, a.EN)
		fmt.Fprintf(w, "  Beküldeni csak érvényes állapotban lehet (SIG-23). / Upload only once the state is valid (SIG-23).\n")
		return
	}
	retry := retryText{HU: "így: sender verify " + path, EN: "with: sender verify " + path}
	cfgTrust := where{HU: configFile + ", trust rész", EN: configFile + ", trust section"}
	var out []advice
	seen := map[string]bool{}
	add := func(a advice) {
		if !seen[a.EN] {
			seen[a.EN] = true
			out = append(out, a)
		}
	}
	findings := append([]errcode.Finding(nil), rep.Verdict.Findings...)
	for _, sig := range rep.Signatures {
		findings = append(findings, sig.Verdict.Findings...)
	}
	for _, f := range findings {
		reason, ok := trust.ReasonOf(f)
		switch {
		case !ok:
			continue
		case reason == trust.ReasonGraceNotOver || f.Code == errcode.A012:
			add(verifyGraceAdvice(rep.EarliestFinal, now, path, retry))
		default:
			add(missingAdvice(missingCert{HU: "„" + f.Location + "”", EN: fmt.Sprintf("%q", f.Location), Reason: reason}, cfgTrust, retry,
				rep.EarliestFinal, now))
		}
	}
	if len(out) == 0 && rep.EarliestFinal.After(now) {
		add(verifyGraceAdvice(rep.EarliestFinal, now, path, retry))
	}
	if len(out) == 0 {
		add(advice{
			HU: "Befejezetlen: hiányzó ellenőrzési adat (lásd fent); próbálja újra később: sender verify " + path,
			EN: "Incomplete: validation data is missing (see above); try again later: sender verify " + path,
		})
	}
	for _, a := range out {
		fmt.Fprintf(w, "  %s\n  %s\n", a.HU, a.EN)
	}
	fmt.Fprintf(w, "  Beküldeni csak érvényes állapotban lehet (SIG-23). / Upload only once the state is valid (SIG-23).\n")
}

// timestampCurable are the codes of a signature that only lacks its time-stamp: the SignatureTimeStamp
// and the certificate references `sender timestamp` adds, and the revocation evidence that is not
// final yet.
var timestampCurable = map[errcode.Code]bool{errcode.F005: true, errcode.F006: true, errcode.A011: true, errcode.A012: true}

// failedAdvice is what to do with an invalid package: time-stamp it when a missing time-stamp is all
// that is wrong; sign it with another certificate when the signer's was revoked or is outside its
// validity; otherwise pack and sign it again. The package must not be uploaded as it is (SND-14).
func failedAdvice(rep *report.Document, path string) advice {
	stamped, onlyStamp, noStamp := false, true, false
	revoked := rep.Verdict.Sub == report.Revoked || rep.Verdict.Sub == report.RevokedNoPOE
	check := func(v report.Verdict) {
		for _, f := range v.Findings {
			if f.Severity == errcode.Error && !timestampCurable[f.Code] {
				onlyStamp = false
			}
			noStamp = noStamp || f.Code == errcode.F005
			revoked = revoked || (f.Code == errcode.A005 && f.Severity == errcode.Error)
		}
	}
	check(rep.Verdict)
	for _, s := range rep.Signatures {
		check(s.Verdict)
		if !s.TimestampTime.IsZero() || len(s.Timestamps) > 0 {
			stamped = true
		}
	}
	switch {
	case onlyStamp && noStamp && !stamped && len(rep.Signatures) > 0:
		return advice{
			HU: "A csomag még nem kapott időbélyeget, ezért most ÉRVÉNYTELEN. Ha minden aláíró aláírt, kérjen időbélyeget: sender timestamp " + path +
				", utána ellenőrizze újra: sender verify " + path + ". Így nem szabad beküldeni (SND-14).",
			EN: "The package has no time-stamp yet, so it is INVALID for now. Once every signer has signed, time-stamp it: sender timestamp " + path +
				", then check it again: sender verify " + path + ". It must not be uploaded as it is (SND-14).",
		}
	case revoked:
		return advice{
			HU: "A csomag ÉRVÉNYTELEN: az aláíró tanúsítványát visszavonták, ez az aláírás már nem lehet érvényes, nem szabad beküldeni (SND-14). " +
				"Csomagolja újra a bevallást (sender pack), és írja alá egy másik, érvényes tanúsítvánnyal (sender sign --key …).",
			EN: "The package is INVALID: the signer's certificate was revoked, this signature can never be valid, and it must not be uploaded (SND-14). " +
				"Pack the declaration again (sender pack) and sign it with another, valid certificate (sender sign --key …).",
		}
	case rep.Verdict.Sub == report.Expired || rep.Verdict.Sub == report.NotYetValid:
		return advice{
			HU: "A csomag ÉRVÉNYTELEN: az aláíró tanúsítványa az aláírás idején nem volt érvényes, nem szabad beküldeni (SND-14). " +
				"Csomagolja újra a bevallást (sender pack), és írja alá egy másik, érvényes tanúsítvánnyal (sender sign --key …).",
			EN: "The package is INVALID: the signer's certificate was not valid when it signed, and it must not be uploaded (SND-14). " +
				"Pack the declaration again (sender pack) and sign it with another, valid certificate (sender sign --key …).",
		}
	}
	return advice{
		HU: "A csomag ÉRVÉNYTELEN: nem szabad beküldeni (SND-14). Csomagolja és írja alá újra (sender pack, sender sign).",
		EN: "The package is INVALID and must not be uploaded (SND-14). Pack and sign it again (sender pack, sender sign).",
	}
}

// permanentAdvice is the advice for an incomplete result that waiting cannot make final: the cause is
// the certificate, the trust configuration or the policy, not the time. ok is false for the causes
// time or newer revocation evidence cure (TRY_LATER and missing evidence), whose advice says when to
// try again.
func permanentAdvice(sub report.SubIndication) (advice, bool) {
	var hu, en string
	switch sub {
	case report.NoCertificateChainFound, report.CertificateChainGeneralFailure:
		hu = "az aláíró tanúsítványa nem vezethető vissza a beállítás megbízható gyökereihez (trust.signerAnchors). Ellenőrizze a bizalmi beállítást, " +
			"vagy írjon alá a pénztár által elfogadott hitelesítés-szolgáltató tanúsítványával."
		en = "the signer's certificate does not chain to the configuration's trust anchors (trust.signerAnchors). Check the trust configuration, " +
			"or sign with a certificate of a CA the fund accepts."
	case report.ChainConstraintsFailure, report.SigConstraintsFailure, report.CryptoConstraintsFailure, report.CryptoConstraintsFailureNoPOE,
		report.PolicyProcessingError, report.SignaturePolicyNotAvailable, report.NoSigningCertificate, report.SignedDataNotFound,
		report.TimestampOrderFailure:
		hu = "az aláírás vagy a tanúsítvány nem felel meg az aláírási szabályzatnak (lásd a megállapításokat). Csomagolja újra, és írja alá megfelelő tanúsítvánnyal."
		en = "the signature or the certificate does not meet the signature policy (see the findings). Pack it again and sign it with a suitable certificate."
	case report.RevokedNoPOE, report.RevokedCANoPOE, report.OutOfBoundsNoPOE, report.OutOfBoundsNotRevoked, report.NoPOE:
		hu = "a tanúsítványt visszavonták, vagy lejárt, és az aláírás idejére nincs bizonyíték. Csomagolja újra, és írja alá egy másik, érvényes tanúsítvánnyal."
		en = "the certificate was revoked or has expired and there is no proof of the signature's time before that. Pack it again and sign it with another, valid certificate."
	default:
		return advice{}, false
	}
	return advice{
		HU: fmt.Sprintf("Befejezetlen (%s), és várakozással sem lesz végleges: %s", sub, hu),
		EN: fmt.Sprintf("Incomplete (%s), and waiting will not make it final: %s", sub, en),
	}, true
}

// verifyGraceAdvice: while the grace period runs, when it ends and how long that is; once it is over
// (and the signer's evidence still predates its end), that newer evidence is awaited.
func verifyGraceAdvice(final, now time.Time, path string, retry retryText) advice {
	final = final.UTC()
	if r := final.Truncate(time.Second); !r.Equal(final) {
		final = r.Add(time.Second)
	}
	if wait := final.Sub(now).Round(time.Second); wait > 0 {
		when := final.Format(time.RFC3339)
		return advice{
			HU: fmt.Sprintf("Befejezetlen: a kivárási idő %s-kor ér véget (még %s). Próbálja újra utána: sender verify %s", when, wait, path),
			EN: fmt.Sprintf("Incomplete: the grace period ends at %s (in %s). Try again after that: sender verify %s", when, wait, path),
		}
	}
	return graceAdvice(final, now, retry)
}
