package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/tagdij/tagdij/internal/trust"
)

// missingCert describes, for advice, a certificate without usable revocation evidence.
type missingCert struct {
	// HU and EN name the certificate in a sentence ("a(z) „…” CA-tanúsítvány", `the CA certificate "…"`).
	HU, EN string
	// Issuer is the subject of its issuer, when known.
	Issuer string
	Reason trust.MissingReason
	// Locations are the revocation locations the certificate names, when known.
	Locations []string
}

// missingCertOf is the description of m.
func missingCertOf(m trust.MissingEvidence) missingCert {
	c := missingCert{Issuer: m.Issuer, Reason: m.Reason, Locations: m.Locations}
	if m.CA {
		c.HU, c.EN = fmt.Sprintf("a(z) „%s” CA-tanúsítvány", m.Subject), fmt.Sprintf("the CA certificate %q", m.Subject)
	} else {
		c.HU, c.EN = fmt.Sprintf("a(z) „%s” tanúsítvány", m.Subject), fmt.Sprintf("the certificate %q", m.Subject)
	}
	return c
}

// retryText is how to repeat the check, in both languages.
type retryText struct{ HU, EN string }

// where names the trust configuration in both languages: a file, or a section of one.
type where struct{ HU, EN string }

// sourceHint suggests a per-issuer revocation source in the trust configuration w.
func sourceHint(w where, issuer string) (hu, en string) {
	ih, ie := "", ""
	if issuer != "" {
		ih, ie = fmt.Sprintf(" („%s”)", issuer), fmt.Sprintf(" (%q)", issuer)
	}
	example := `{"issuer": "<CA-tanúsítvány fájlja>", "crlURL": "http://…"}`
	exampleEN := `{"issuer": "<the CA certificate's file>", "crlURL": "http://…"}`
	return fmt.Sprintf("Adjon meg visszavonási forrást a kibocsátójához%s a bizalmi beállításban (%s) a revocationSources listában, pl. %s; "+
			"a crlURL helyett ocspURL, crlFile (helyi CRL-fájl) vagy crlDir (a pénztár által frissen tartott CRL-könyvtár) is megadható.", ih, w.HU, example),
		fmt.Sprintf("Name a revocation source for its issuer%s in the trust configuration (%s) under revocationSources, e.g. %s; "+
			"instead of crlURL, ocspURL, crlFile (a local CRL file) or crlDir (a directory of CRLs the fund keeps current) can be given.", ie, w.EN, exampleEN)
}

// missingAdvice says what is missing for c, why, and what to do (SIG-23). w names the trust
// configuration; final is the end of the grace period, now the validation time.
func missingAdvice(c missingCert, w where, retry retryText, final, now time.Time) advice {
	hintHU, hintEN := sourceHint(w, c.Issuer)
	locs := strings.Join(c.Locations, ", ")
	if locs == "" {
		locs = "–"
	}
	switch c.Reason {
	case trust.ReasonNoLocation:
		return advice{
			HU: fmt.Sprintf("Nincs visszavonási adat: %s nem nevez meg visszavonási helyet (OCSP/CRL), és a bizalmi beállítás sem ad meg forrást a kibocsátójához, "+
				"így várakozással az eredmény nem lesz végleges. %s Utána próbálja újra %s.", c.HU, hintHU, retry.HU),
			EN: fmt.Sprintf("No revocation evidence: %s names no revocation location (OCSP/CRL) and the trust configuration names no source for its issuer, "+
				"so waiting will not make the result final. %s Then try again %s.", c.EN, hintEN, retry.EN),
		}
	case trust.ReasonUnreachable:
		return advice{
			HU: fmt.Sprintf("Nincs visszavonási adat – %s: a visszavonási forrása nem érhető el (%s). Ellenőrizze a hálózati kapcsolatot; "+
				"ha innen nem érhető el, %s Utána próbálja újra %s.", c.HU, locs, lowerFirst(hintHU), retry.HU),
			EN: fmt.Sprintf("No revocation evidence: the revocation source of %s could not be reached (%s). Check network access; "+
				"if it cannot be reached from here, %s Then try again %s.", c.EN, locs, lowerFirst(hintEN), retry.EN),
		}
	case trust.ReasonNotCurrent:
		return advice{
			HU: fmt.Sprintf("Nincs aktuális visszavonási adat – %s: a kapott adat lejárt (nextUpdate elmúlt), vagy a beállított helyi CRL elavult. "+
				"Frissítse a helyi CRL-t, vagy %s Utána próbálja újra %s.", c.HU, lowerFirst(hintHU), retry.HU),
			EN: fmt.Sprintf("No current revocation evidence: the evidence obtained for %s has expired (past its nextUpdate), or a configured local CRL is out of date. "+
				"Refresh the local CRL, or %s Then try again %s.", c.EN, lowerFirst(hintEN), retry.EN),
		}
	case trust.ReasonInvalid:
		return advice{
			HU: fmt.Sprintf("Hibás visszavonási adat – %s: a kapott adat ellenőrzése nem sikerült (lásd a megállapítást). "+
				"Ha a forrás hibás adatot ad, %s Utána próbálja újra %s.", c.HU, lowerFirst(hintHU), retry.HU),
			EN: fmt.Sprintf("Invalid revocation evidence: the evidence obtained for %s failed verification (see the finding). "+
				"If the source serves wrong data, %s Then try again %s.", c.EN, lowerFirst(hintEN), retry.EN),
		}
	case trust.ReasonGraceNotOver:
		return graceAdvice(final, now, retry)
	case trust.ReasonOffline:
		return advice{
			HU: fmt.Sprintf("Kapcsolat nélküli ellenőrzés – %s: a visszavonási adatát az aláírás nem tartalmazza. Ellenőrizze hálózattal "+
				"(a bizalmi beállításban ne legyen \"offline\": true), majd próbálja újra %s.", c.HU, retry.HU),
			EN: fmt.Sprintf("Offline check: the signature carries no revocation evidence for %s. Check online "+
				"(without \"offline\": true in the trust configuration), then try again %s.", c.EN, retry.EN),
		}
	case trust.ReasonExpired:
		return expiredAdvice
	}
	return advice{
		HU: fmt.Sprintf("Nincs használható visszavonási adat: %s (lásd a megállapítást). Próbálja újra később %s.", c.HU, retry.HU),
		EN: fmt.Sprintf("No usable revocation evidence: %s (see the finding). Try again later %s.", c.EN, retry.EN),
	}
}

var expiredAdvice = advice{
	HU: "A tanúsítvány lejárt, és nincs a lejárat előtti visszavonási adat; a hitelesítés-szolgáltató lejárt tanúsítványról nem köteles állapotot adni. Ezzel a tanúsítvánnyal már nem lehet aláírni.",
	EN: "The certificate has expired and there is no revocation evidence from before expiry; CAs need not report on expired certificates. It can no longer be used for signing.",
}

// graceAdvice is the advice for the signer certificate's evidence issued inside the grace period:
// when the grace period is still running, when it ends (rounded up to the second, so that "after" is
// never early) and how long that is; when it is already over, that newer evidence is awaited —
// never "in 0s".
func graceAdvice(final, now time.Time, retry retryText) advice {
	final = final.UTC()
	if r := final.Truncate(time.Second); !r.Equal(final) {
		final = r.Add(time.Second)
	}
	when := final.Format(time.RFC3339)
	if wait := final.Sub(now).Round(time.Second); wait > 0 {
		return advice{
			HU: fmt.Sprintf("A visszavonási adatok a kivárási idő végéig nem véglegesek. Próbálja újra %s után (még %s), %s.", when, wait, retry.HU),
			EN: fmt.Sprintf("Revocation evidence is not final until the grace period ends. Try again after %s (in %s) %s.", when, wait, retry.EN),
		}
	}
	return advice{
		HU: fmt.Sprintf("A kivárási idő %s-kor véget ért, de az aláíró tanúsítványáról a legfrissebb visszavonási adat még előtte keletkezett: "+
			"a hitelesítés-szolgáltató még nem adott ki újabbat. Próbálja újra később %s; az eredmény a kivárási idő utáni adattal lesz végleges.", when, retry.HU),
		EN: fmt.Sprintf("The grace period ended at %s, but the freshest revocation evidence for the signer certificate was issued before it: "+
			"the CA has not published newer evidence yet. Try again later %s; the result becomes final on evidence issued after the grace period.", when, retry.EN),
	}
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	return strings.ToLower(string(r[0])) + string(r[1:])
}
