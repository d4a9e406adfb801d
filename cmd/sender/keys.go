package main

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/keys"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/sheet"
	"github.com/tagdij/tagdij/internal/xades"
	"github.com/tagdij/tagdij/policy"
)

// keysCmd groups the commands about the signer's keys and tokens (SIG-10).
var keysCmd = &cli.Command{
	Name:    "keys",
	Summary: "aláíró kulcsok és tokenek / signing keys and tokens",
	Sub:     []*cli.Command{keysListCmd},
}

// tokenEntry is one key or certificate on a token as `keys list` shows it.
type tokenEntry struct {
	Label         string    `json:"label"`
	ID            string    `json:"id"` // CKA_ID, hexadecimal
	HasPrivateKey bool      `json:"hasPrivateKey"`
	KeyType       string    `json:"keyType,omitempty"`
	CanSign       bool      `json:"canSign"`
	CanDecrypt    bool      `json:"canDecrypt"`
	SignerName    string    `json:"signerName,omitempty"`
	Subject       string    `json:"subject,omitempty"`
	Issuer        string    `json:"issuer,omitempty"`
	Serial        string    `json:"serial,omitempty"` // hexadecimal
	NotBefore     time.Time `json:"notBefore,omitzero"`
	NotAfter      time.Time `json:"notAfter,omitzero"`
	KeyUsage      []string  `json:"keyUsage,omitempty"`
	Qualified     bool      `json:"qualified"`
	CA            bool      `json:"ca,omitempty"`
	// Usable says whether the entry can sign a package now: a private key the token lets sign, with an
	// end-entity certificate the signature policy accepts for a package signer at this moment
	// (policy.CheckSigner, the judgement `sender sign` applies). NotUsable says why not, briefly;
	// PolicyFindings are the policy's findings in full. Chain and revocation are `cert check`'s job.
	Usable         bool             `json:"usableForQualifiedSigning"`
	NotUsable      []string         `json:"notUsable,omitempty"`
	PolicyFindings []policy.Finding `json:"policyFindings,omitempty"`
	// Spec selects this key for --key.
	Spec string `json:"spec,omitempty"`
}

// tokenListing is the JSON form of `keys list`.
type tokenListing struct {
	Token   string       `json:"token"`
	Module  string       `json:"module"`
	LoginOK bool         `json:"loggedIn"` // false: listed without a PIN, private keys are not visible
	Entries []tokenEntry `json:"entries"`
}

var keysListCmd = &cli.Command{
	Name:    "list",
	Summary: "a tokenen lévő kulcsok és tanúsítványok / the keys and certificates on a token",
	Usage:   "--key pkcs11:module=...;token=... [--pin SOURCE] [--policy production|sandbox|FILE] [--json]",
	Help: "Kilistázza a PKCS#11 token (intelligens kártya, HSM) kulcsait és tanúsítványait címkével,\n" +
		"azonosítóval, alannyal, sorozatszámmal, érvényességgel és kulcshasználattal, és megjelöli, melyik\n" +
		"használható most csomag aláírására az aláírási szabályzat szerint (--policy); a kiválasztáshoz\n" +
		"szükséges --key értéket is kiírja (SIG-10).\n" +
		"A --key kulcsválasztó részeit (key=, id=, subject=, serial=) figyelmen kívül hagyja. PIN nélkül\n" +
		"csak a tanúsítványok látszanak.\n" +
		"/ Lists the keys and certificates on a PKCS#11 token (smart card, HSM) with label, ID, subject,\n" +
		"serial, validity and key usage, marks which can sign a package now under the signature policy\n" +
		"(--policy), and prints the --key value that selects each (SIG-10). Key selectors in --key (key=,\n" +
		"id=, subject=, serial=) are ignored. Without a PIN only certificates are visible.",
	Flags: func(fs *flag.FlagSet) {
		keySourceFlags(fs)
		policyFlag(fs)
		fs.Bool("json", false, "JSON kimenet / JSON output")
	},
	Run: func(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
		if len(args) != 0 {
			return cli.Usagef("nem vár fájlnevet / takes no file names")
		}
		pol, err := selectedPolicy(fs)
		if err != nil {
			return err
		}
		raw := fs.Lookup("key").Value.String()
		if raw == "" {
			return cli.Usagef("--key pkcs11:module=...;token=... szükséges / --key pkcs11:module=...;token=... is required")
		}
		spec, err := keys.ParseKeySpec(raw)
		if err != nil {
			return cli.Usagef("--key: %v", err)
		}
		if spec.Kind != keys.KindPKCS11 {
			return cli.Usagef("--key: PKCS#11 token kell (pkcs11:...); PKCS#12 fájlhoz: sender cert show --key p12:... / " +
				"a PKCS#11 token is needed (pkcs11:...); for a PKCS#12 file: sender cert show --key p12:...")
		}
		var pin keys.Secret
		if flagSet(fs, "pin") {
			if pin, err = secretFromFlag(env, fs, "PIN"); err != nil {
				return err
			}
		}
		infos, err := keys.ListPKCS11(ctx, spec.PKCS11Config(pin))
		if err != nil {
			return err
		}
		token := spec.Token
		if token == "" && spec.Slot != nil {
			token = fmt.Sprintf("slot %d", *spec.Slot)
		}
		l := tokenListing{Token: token, Module: spec.Module, LoginOK: pin != nil, Entries: tokenEntries(spec, infos, pol, env.Now())}
		if fs.Lookup("json").Value.(flag.Getter).Get().(bool) {
			return cli.WriteJSON(env.Stdout, l)
		}
		return writeTokenListing(env.Stdout, l, env.Width())
	},
}

// tokenEntries describes infos, judging usability under pol at now, with a --key value for each usable
// key: by label when the label is unique on the token, else by ID and certificate serial.
func tokenEntries(spec keys.KeySpec, infos []keys.KeyInfo, pol *policy.Policy, now time.Time) []tokenEntry {
	labels := map[string]int{}
	for _, ki := range infos {
		if ki.HasPrivateKey {
			labels[ki.Label]++
		}
	}
	out := make([]tokenEntry, 0, len(infos))
	for _, ki := range infos {
		e := tokenEntry{Label: ki.Label, ID: hex.EncodeToString(ki.ID), HasPrivateKey: ki.HasPrivateKey,
			KeyType: ki.KeyType, CanSign: ki.CanSign, CanDecrypt: ki.CanDecrypt}
		c := ki.Certificate
		if c != nil {
			e.SignerName, e.Subject, e.Issuer, e.Serial = xades.SignerName(c), c.Subject.String(), c.Issuer.String(), c.SerialNumber.Text(16)
			e.NotBefore, e.NotAfter, e.KeyUsage = c.NotBefore.UTC(), c.NotAfter.UTC(), keyUsages(c.KeyUsage)
			e.CA = c.BasicConstraintsValid && c.IsCA
			if e.KeyType == "" {
				e.KeyType = keyType(c)
			}
			_, e.Qualified, _ = qcStatements(c)
			e.PolicyFindings = pol.CheckSigner(policy.KindPackage, c, now)
		}
		e.NotUsable = unusableReasons(ki, c, e.PolicyFindings)
		e.Usable = len(e.NotUsable) == 0
		if ki.HasPrivateKey {
			sel := spec
			sel.KeyLabel, sel.KeyID, sel.Subject, sel.Serial = "", nil, "", nil
			if ki.Label != "" && labels[ki.Label] == 1 {
				sel.KeyLabel = ki.Label
			} else {
				sel.KeyID = ki.ID
				if c != nil {
					sel.Serial = c.SerialNumber
				}
			}
			e.Spec = sel.String()
		}
		out = append(out, e)
	}
	// Token order is arbitrary: keys first, then certificates alone, each by label.
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].HasPrivateKey != out[j].HasPrivateKey {
			return out[i].HasPrivateKey
		}
		return out[i].Label < out[j].Label
	})
	return out
}

// unusableReasons lists why a token entry cannot sign a package now (empty: it can): what the token
// says of the key, and the policy's refusals of its certificate (signer, the entry's policy.CheckSigner
// findings), each briefly and once.
func unusableReasons(ki keys.KeyInfo, c *x509.Certificate, signer []policy.Finding) []string {
	var why []string
	if !ki.HasPrivateKey {
		why = append(why, "nincs (látható) magánkulcs / no (visible) private key")
	} else if !ki.CanSign {
		why = append(why, "a token nem enged vele aláírni / the token does not let it sign")
	}
	if c == nil {
		return append(why, "nincs tanúsítvány / no certificate")
	}
	if c.BasicConstraintsValid && c.IsCA {
		why = append(why, "CA tanúsítvány / CA certificate")
	}
	seen := map[string]bool{}
	for _, f := range signer {
		if f.Severity != policy.SeverityError {
			continue
		}
		r := refusalReason(f)
		if !seen[r] {
			seen[r] = true
			why = append(why, r)
		}
	}
	return why
}

// refusalReason words a policy refusal for the token listing: the validity period by itself, any
// other rule by its code's catalogue text (the finding's own text, naming the certificate, is in
// PolicyFindings).
func refusalReason(f policy.Finding) string {
	switch {
	case f.Code == policy.A006 && f.Sub == report.NotYetValid:
		return "még nem érvényes / not yet valid"
	case f.Code == policy.A006:
		return "lejárt / expired"
	}
	if i, ok := errcode.Lookup(f.Code); ok {
		return fmt.Sprintf("%s %s / %s", f.Code, i.HU, i.EN)
	}
	return fmt.Sprintf("%s %s / %s", f.Code, f.HU, f.EN)
}

// writeTokenListing prints the listing as a table when it fits width columns, else as one block per
// entry (a PKCS#11 token's subjects, validity and --key values take about 270 columns as a table).
func writeTokenListing(w io.Writer, l tokenListing, width int) error {
	table := tokenTable(l)
	if maxWidth(table) <= width {
		_, err := io.WriteString(w, table)
		return err
	}
	_, err := io.WriteString(w, tokenBlocks(l, width))
	return err
}

func maxWidth(s string) int {
	n := 0
	for _, line := range strings.Split(s, "\n") {
		n = max(n, sheet.Width(line))
	}
	return n
}

func tokenHeader(b *strings.Builder, l tokenListing) {
	fmt.Fprintf(b, "Token: %s\nModul / Module: %s\n", l.Token, l.Module)
	if !l.LoginOK {
		b.WriteString("PIN nélkül csak a tanúsítványok látszanak; a kulcsokhoz\nadja meg: --pin file:|env:|prompt:\n" +
			"Without a PIN only certificates are listed; for the keys\ngive --pin file:|env:|prompt:\n")
	}
}

func tokenKind(e tokenEntry) string {
	if !e.HasPrivateKey {
		return "tanúsítvány/certificate"
	}
	return e.KeyType
}

func tokenValidity(e tokenEntry) string {
	if e.NotAfter.IsZero() {
		return ""
	}
	return e.NotBefore.Format(time.DateOnly) + "…" + e.NotAfter.Format(time.DateOnly)
}

func tokenUsable(e tokenEntry) string {
	if e.Usable {
		return "igen/yes"
	}
	return "nem/no"
}

func tokenTable(l tokenListing) string {
	var b strings.Builder
	tokenHeader(&b, l)
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nCÍMKE/LABEL\tAZONOSÍTÓ/ID\tKULCS/KEY\tALANY/SUBJECT\tSOROZATSZÁM/SERIAL\tÉRVÉNYES/VALID\tHASZNÁLAT/USAGE\tMINŐSÍTETT ALÁÍRÁSRA/QUALIFIED SIGNING")
	for _, e := range l.Entries {
		id := e.ID
		if len(id) > 16 {
			id = id[:16] + "…"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Label, id, tokenKind(e), e.SignerName, e.Serial, tokenValidity(e),
			strings.Join(e.KeyUsage, ","), tokenUsable(e))
	}
	tw.Flush()
	var details []string
	for _, e := range l.Entries {
		switch {
		case e.Usable:
			details = append(details, fmt.Sprintf("  %s: --key '%s'", e.Label, e.Spec))
		case e.HasPrivateKey:
			details = append(details, fmt.Sprintf("  %s: %s", e.Label, strings.Join(e.NotUsable, "; ")))
		}
	}
	if len(details) > 0 {
		b.WriteString("\nKiválasztás / Selection:\n")
		b.WriteString(strings.Join(details, "\n"))
		b.WriteString("\n")
	}
	return b.String()
}

// tokenBlocks is the listing for a narrow terminal: per entry its fields one per line, long values
// wrapped, and the --key value split at its ";" into shell-quoted pieces joined by line continuations,
// so that it can still be pasted into a shell as one argument.
func tokenBlocks(l tokenListing, width int) string {
	var b strings.Builder
	tokenHeader(&b, l)
	for n, e := range l.Entries {
		fmt.Fprintf(&b, "\n%d. %s (%s)\n", n+1, e.Label, tokenKind(e))
		field := func(label, value string) {
			if value == "" {
				return
			}
			line := "   " + label + ": " + value
			if sheet.Width(line) <= width {
				b.WriteString(line + "\n")
				return
			}
			fmt.Fprintf(&b, "   %s:\n%s\n", label, wrapIndent(value, width-5, "     "))
		}
		field("Azonosító / ID", e.ID)
		field("Alany / Subject", e.SignerName)
		field("Sorozatszám / Serial", e.Serial)
		field("Érvényes / Valid", tokenValidity(e))
		field("Használat / Usage", strings.Join(e.KeyUsage, ","))
		field("Minősített aláírásra / Qualified signing", tokenUsable(e))
		switch {
		case e.Usable:
			b.WriteString("   --key " + shellPieces(e.Spec, width-11) + "\n")
		case e.HasPrivateKey:
			field("Nem használható / Not usable", strings.Join(e.NotUsable, "; "))
		}
	}
	return b.String()
}

// wrapIndent breaks s at spaces (or anywhere, for a word that is too long) into lines of at most n
// columns, each with prefix.
func wrapIndent(s string, n int, prefix string) string {
	n = max(n, 10)
	var lines []string
	var cur string
	for _, word := range strings.Fields(s) {
		for sheet.Width(word) > n {
			cut := len(sheet.Fit(word, n)) - len("…")
			if cur != "" {
				lines, cur = append(lines, cur), ""
			}
			lines = append(lines, word[:cut])
			word = word[cut:]
		}
		switch {
		case cur == "":
			cur = word
		case sheet.Width(cur)+1+sheet.Width(word) <= n:
			cur += " " + word
		default:
			lines, cur = append(lines, cur), word
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return prefix + strings.Join(lines, "\n"+prefix)
}

// shellPieces quotes spec for a shell, split after its ";" into pieces of at most n columns where it
// can be: 'a;'\<newline>'b' is one word to a POSIX shell (the continuation lines must not be indented,
// or the pieces would be separate words).
func shellPieces(spec string, n int) string {
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	if sheet.Width(quote(spec)) <= n {
		return quote(spec)
	}
	var pieces []string
	cur := ""
	for _, part := range strings.SplitAfter(spec, ";") {
		if cur != "" && sheet.Width(quote(cur+part))+2 > n {
			pieces, cur = append(pieces, quote(cur)), ""
		}
		cur += part
	}
	pieces = append(pieces, quote(cur))
	return strings.Join(pieces, "\\\n")
}
