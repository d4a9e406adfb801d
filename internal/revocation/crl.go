package revocation

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/tagdij/tagdij/internal/sigcache"
)

// CRL extension identifiers (RFC 5280 §5.2).
var (
	oidCRLNumber             = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidDeltaCRLIndicator     = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidIssuingDistribution   = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidAuthorityKeyID        = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidFreshestCRL           = asn1.ObjectIdentifier{2, 5, 29, 46}
	oidEntryCertificateIssue = asn1.ObjectIdentifier{2, 5, 29, 29}
	oidEntryReasonCode       = asn1.ObjectIdentifier{2, 5, 29, 21}
	oidEntryInvalidityDate   = asn1.ObjectIdentifier{2, 5, 29, 24}
)

// CRLVerifyOptions configures VerifyCRL.
type CRLVerifyOptions struct {
	// Now is the validation time the CRL must be fresh at (required).
	Now time.Time
	Freshness
	// URL is the distribution point the CRL was fetched from; when the CRL has an
	// issuingDistributionPoint naming URIs, URL must be one of them.
	URL string
	// AllowDelta accepts a delta CRL (flagged in CRLInfo.Delta). Off by default: a delta CRL alone
	// is not a complete statement and must never be used as one.
	AllowDelta bool
	// SigCache, when set, remembers verified CRL signatures, so the same CRL verifies again without
	// a public-key operation.
	SigCache *sigcache.Cache
}

// issuingDistributionPoint is the decoded IDP extension (RFC 5280 §5.2.5).
type issuingDistributionPoint struct {
	URIs                   []string
	HasDistributionPoint   bool
	OnlyUserCerts          bool
	OnlyCACerts            bool
	OnlySomeReasons        bool
	IndirectCRL            bool
	OnlyAttributeCerts     bool
	DistributionPointNamed bool // nameRelativeToCRLIssuer used
}

func parseIDP(der []byte) (issuingDistributionPoint, error) {
	var idp issuingDistributionPoint
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return idp, fmt.Errorf("issuingDistributionPoint is not a SEQUENCE")
	}
	// distributionPoint [0] DistributionPointName (constructed, the CHOICE is explicit by nature).
	var dpn cryptobyte.String
	var present bool
	if !seq.ReadOptionalASN1(&dpn, &present, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return idp, fmt.Errorf("issuingDistributionPoint: distributionPoint")
	}
	if present {
		idp.HasDistributionPoint = true
		var names cryptobyte.String
		var full bool
		if !dpn.ReadOptionalASN1(&names, &full, cbasn1.Tag(0).Constructed().ContextSpecific()) {
			return idp, fmt.Errorf("issuingDistributionPoint: fullName")
		}
		if full {
			for !names.Empty() {
				var gn cryptobyte.String
				var tag cbasn1.Tag
				if !names.ReadAnyASN1(&gn, &tag) {
					return idp, fmt.Errorf("issuingDistributionPoint: GeneralName")
				}
				if tag == cbasn1.Tag(6).ContextSpecific() { // uniformResourceIdentifier
					idp.URIs = append(idp.URIs, string(gn))
				}
			}
		} else {
			idp.DistributionPointNamed = true
		}
	}
	flags := []struct {
		tag int
		dst *bool
	}{{1, &idp.OnlyUserCerts}, {2, &idp.OnlyCACerts}, {4, &idp.IndirectCRL}, {5, &idp.OnlyAttributeCerts}}
	for _, f := range flags {
		if f.tag == 4 {
			// onlySomeReasons [3] ReasonFlags (BIT STRING, implicit).
			var reasons cryptobyte.String
			if !seq.ReadOptionalASN1(&reasons, &idp.OnlySomeReasons, cbasn1.Tag(3).ContextSpecific()) {
				return idp, fmt.Errorf("issuingDistributionPoint: onlySomeReasons")
			}
		}
		var v cryptobyte.String
		var ok bool
		if !seq.ReadOptionalASN1(&v, &ok, cbasn1.Tag(f.tag).ContextSpecific()) {
			return idp, fmt.Errorf("issuingDistributionPoint: flag [%d]", f.tag)
		}
		if ok {
			if len(v) != 1 || (v[0] != 0 && v[0] != 0xff) {
				return idp, fmt.Errorf("issuingDistributionPoint: flag [%d] is not a DER BOOLEAN", f.tag)
			}
			*f.dst = v[0] == 0xff
		}
	}
	if !seq.Empty() {
		return idp, fmt.Errorf("issuingDistributionPoint: trailing data")
	}
	return idp, nil
}

// isCA reports whether cert is a CA certificate for CRL scope purposes.
func isCA(c *x509.Certificate) bool { return c.BasicConstraintsValid && c.IsCA }

// VerifyCRL parses and verifies a DER CRL as evidence about cert, issued by issuer: the CRL issuer
// name (and authority key identifier, when both sides carry one) must be the certificate's issuer
// (ErrWrongIssuer), its signature must verify with the issuer's key, critical extensions must be
// understood, its issuingDistributionPoint must cover the certificate and not be indirect (ErrScope),
// a delta CRL is refused unless opts.AllowDelta (ErrDeltaCRL), and it must be fresh at opts.Now
// (ErrStale). The status is Revoked when the serial is listed. It never panics on any input.
func VerifyCRL(der []byte, cert, issuer *x509.Certificate, opts CRLVerifyOptions) (*Evidence, error) {
	url := opts.URL
	bad := func(reason error, format string, args ...any) (*Evidence, error) {
		return nil, invalid(MethodCRL, url, reason, format, args...)
	}
	if cert == nil || issuer == nil || cert.SerialNumber == nil {
		return bad(ErrMalformed, "certificate or issuer missing")
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return bad(ErrMalformed, "%v", err)
	}
	if !bytes.Equal(crl.RawIssuer, issuer.RawSubject) {
		return bad(ErrWrongIssuer, "CRL issuer %q, certificate issuer %q", crl.Issuer, issuer.Subject)
	}
	if len(crl.AuthorityKeyId) > 0 && len(issuer.SubjectKeyId) > 0 && !bytes.Equal(crl.AuthorityKeyId, issuer.SubjectKeyId) {
		return bad(ErrWrongIssuer, "CRL authority key identifier differs from the issuer's subject key identifier")
	}
	if err := opts.SigCache.CheckCRLSignatureFrom(crl, issuer); err != nil {
		return bad(ErrBadSignature, "%v", err)
	}

	info := &CRLInfo{Issuer: crl.Issuer, RawIssuer: crl.RawIssuer, ThisUpdate: crl.ThisUpdate, NextUpdate: crl.NextUpdate,
		Entries: len(crl.RevokedCertificateEntries)}
	for _, e := range crl.Extensions {
		switch {
		case e.Id.Equal(oidCRLNumber):
			info.Number = crl.Number
		case e.Id.Equal(oidDeltaCRLIndicator):
			info.Delta = true
			var base *big.Int
			if rest, err := asn1.Unmarshal(e.Value, &base); err != nil || len(rest) != 0 {
				return bad(ErrMalformed, "deltaCRLIndicator")
			}
			info.BaseCRLNumber = base
		case e.Id.Equal(oidIssuingDistribution):
			idp, err := parseIDP(e.Value)
			if err != nil {
				return bad(ErrMalformed, "%v", err)
			}
			if why := idpCovers(idp, cert); why != "" {
				return bad(ErrScope, "%s", why)
			}
		case e.Id.Equal(oidAuthorityKeyID), e.Id.Equal(oidFreshestCRL):
			// Understood: AKI is compared above; freshestCRL only points at delta CRLs.
		case e.Critical:
			return bad(ErrUnsupported, "CRL extension %v", e.Id)
		}
	}
	if info.Delta && !opts.AllowDelta {
		return bad(ErrDeltaCRL, "deltaCRLIndicator (base CRL number %v)", info.BaseCRLNumber)
	}

	if opts.Now.IsZero() {
		return bad(ErrStale, "no validation time given")
	}
	if why := opts.Freshness.check(opts.Now, crl.ThisUpdate, crl.NextUpdate); why != "" {
		return bad(ErrStale, "%s", why)
	}

	ev := &Evidence{Method: MethodCRL, Status: StatusGood, RevocationReason: NoReason, Serial: cert.SerialNumber,
		URL: url, Raw: der, CRL: info}
	for _, entry := range crl.RevokedCertificateEntries {
		for _, x := range entry.Extensions {
			switch {
			case x.Id.Equal(oidEntryCertificateIssue):
				// Only legal in indirect CRLs, which we refuse; its presence changes which issuer
				// the following entries belong to, so we cannot read this CRL correctly.
				return bad(ErrScope, "entry with certificateIssuer in a CRL we read as direct")
			case x.Id.Equal(oidEntryReasonCode), x.Id.Equal(oidEntryInvalidityDate):
			case x.Critical:
				return bad(ErrUnsupported, "CRL entry extension %v", x.Id)
			}
		}
		if entry.SerialNumber != nil && entry.SerialNumber.Cmp(cert.SerialNumber) == 0 {
			ev.Status = StatusRevoked
			ev.RevocationTime = entry.RevocationTime
			info.Listed = true
			if hasExtension(entry.Extensions, oidEntryReasonCode) {
				ev.RevocationReason = entry.ReasonCode
			}
		}
	}
	return ev, nil
}

// idpCovers returns why a CRL with this issuingDistributionPoint does not cover cert, or "".
func idpCovers(idp issuingDistributionPoint, cert *x509.Certificate) string {
	switch {
	case idp.IndirectCRL:
		return "indirect CRLs are not accepted"
	case idp.OnlyAttributeCerts:
		return "the CRL covers only attribute certificates"
	case idp.OnlySomeReasons:
		return "the CRL covers only some revocation reasons (partitioned by reason)"
	case idp.OnlyUserCerts && isCA(cert):
		return "the CRL covers only end-entity certificates, the certificate is a CA"
	case idp.OnlyCACerts && !isCA(cert):
		return "the CRL covers only CA certificates, the certificate is an end entity"
	case idp.DistributionPointNamed:
		return "distribution point given relative to the CRL issuer is not supported"
	}
	if len(idp.URIs) > 0 {
		// The CRL is partitioned by distribution point: it must be the one the certificate names.
		for _, u := range idp.URIs {
			for _, dp := range cert.CRLDistributionPoints {
				if u == dp {
					return ""
				}
			}
		}
		return fmt.Sprintf("the CRL's distribution point %v is not one of the certificate's %v", idp.URIs, cert.CRLDistributionPoints)
	}
	return ""
}
