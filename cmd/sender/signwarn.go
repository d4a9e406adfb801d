package main

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"strings"
	"time"

	"github.com/tagdij/tagdij/internal/config"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/keys"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/policy"
)

// signWarning is something the signer must read before confirming (issue 10): signing goes on only
// if the signer confirms (or passed --yes), because the sender cannot know everything the fund's
// registry knows, and a warning must not stop a legitimate signature.
type signWarning struct {
	Code string `json:"code"` // other-employer, certificate-invalid, revoked
	HU   string `json:"hu"`
	EN   string `json:"en"`
}

// oidOrganizationIdentifier is the X.520 organizationIdentifier (2.5.4.97) that qualified certificates
// of a legal person's representative carry (ETSI EN 319 412-1 §5.1.4: "VATHU-12345676").
var oidOrganizationIdentifier = asn1.ObjectIdentifier{2, 5, 4, 97}

// signWarnings are the warnings for signing a package with key now: a certificate that names another
// employer than the package's declarant (its organizationIdentifier against the package metadata
// meta, or the configured employer when the metadata cannot be read), and a certificate whose
// chain check fails now (revoked above all), checked online with the configuration's trust.
func signWarnings(ctx context.Context, cfg *config.Sender, pol *policy.Policy, meta *es3.Metadata, key keys.Key, now func() time.Time) []signWarning {
	var out []signWarning
	idType, id := cfg.Employer.IDType, cfg.Employer.ID
	if meta != nil {
		idType, id = declaration.IDType(meta.Declarant.IDType), meta.Declarant.ID
	}
	if w, ok := employerWarning(key.Certificate(), idType, id); ok {
		out = append(out, w)
	}
	if w, ok := chainWarning(ctx, cfg, pol, key, now); ok {
		out = append(out, w)
	}
	return out
}

// employerWarning compares the organisation a certificate names (VATHU-<tax number>) with the
// declarant. A certificate without an organizationIdentifier (a private person's) names no employer:
// nothing to compare.
func employerWarning(c *x509.Certificate, idType declaration.IDType, id string) (signWarning, bool) {
	var org string
	for _, n := range c.Subject.Names {
		if n.Type.Equal(oidOrganizationIdentifier) {
			org, _ = n.Value.(string)
		}
	}
	tax, ok := strings.CutPrefix(org, "VATHU-")
	if !ok || len(tax) < 8 {
		return signWarning{}, false
	}
	if idType == declaration.IDAdoszam && len(id) >= 8 && tax[:8] == id[:8] {
		return signWarning{}, false
	}
	who := c.Subject.Organization
	name := strings.Join(who, ", ")
	return signWarning{Code: "other-employer",
		HU: fmt.Sprintf("a tanúsítvány egy másik munkáltatóé (%s, adószám %s), a bevalló %s %s; a pénztár csak a bevallóhoz bejelentett aláíró aláírását fogadja el (SPEC §6)",
			name, tax, idType.Label(), id),
		EN: fmt.Sprintf("the certificate belongs to another employer (%s, tax number %s) than the declarant, %s %s; the fund accepts only signers registered for the declarant (SPEC §6)",
			name, tax, idType.Label(), id),
	}, true
}

// chainWarning checks the signer certificate's chain and revocation status now, online: a revoked
// certificate (or any other final failure) makes a signature that can never be valid. An incomplete
// result (evidence not reachable, grace period) is not a warning: the verification after signing says
// what to do.
func chainWarning(ctx context.Context, cfg *config.Sender, pol *policy.Policy, key keys.Key, now func() time.Time) (signWarning, bool) {
	tenv, err := configTrust(cfg, pol, false, now)
	if err != nil {
		return signWarning{}, false
	}
	t := now()
	res := tenv.CheckChain(ctx, trust.ChainQuery{Purpose: pathval.PurposeSigner, Leaf: key.Certificate(), Intermediates: key.Chain(), T: t, Now: t})
	if res.Verdict.Indication != report.TotalFailed {
		return signWarning{}, false
	}
	var hu, en []string
	revoked := res.Verdict.Sub == report.Revoked || res.Verdict.Sub == report.RevokedNoPOE
	for _, f := range res.Verdict.Findings {
		hu, en = append(hu, string(f.Code)+" "+f.HU), append(en, string(f.Code)+" "+f.EN)
		revoked = revoked || f.Code == errcode.A005
	}
	if revoked {
		return signWarning{Code: "revoked",
			HU: "a tanúsítványt VISSZAVONTÁK: az aláírás érvénytelen lesz; ne írjon alá vele (" + strings.Join(hu, "; ") + ")",
			EN: "the certificate has been REVOKED: the signature will be invalid; do not sign with it (" + strings.Join(en, "; ") + ")",
		}, true
	}
	return signWarning{Code: "certificate-invalid",
		HU: fmt.Sprintf("a tanúsítvány ellenőrzése ÉRVÉNYTELEN (%s): az aláírás érvénytelen lesz (%s)", res.Verdict.Sub, strings.Join(hu, "; ")),
		EN: fmt.Sprintf("the certificate check is INVALID (%s): the signature will be invalid (%s)", res.Verdict.Sub, strings.Join(en, "; ")),
	}, true
}
