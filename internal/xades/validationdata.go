package xades

import (
	"crypto/sha256"
	"crypto/x509"

	"github.com/tagdij/tagdij/internal/revocation"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/internal/xades/props"
)

// ValidationData is validation material kept beside a signed document rather than inside it: the
// certificates, OCSP responses and CRLs a check used, and the signatures' RFC 3161 time-stamp tokens
// (SND-32). The sender collects it when it verifies a package and a receipt (VerifyOptions.Collect)
// and keeps it in its container's kontener.xml; an auditor hands it back (VerifyOptions.Detached) to
// verify both offline years later, as if each signature carried it.
type ValidationData struct {
	Certificates []*x509.Certificate
	OCSP         [][]byte // DER OCSPResponse
	CRLs         [][]byte // DER CertificateList
	Timestamps   [][]byte // DER TimeStampToken (the signatures' SignatureTimeStamps)
}

// Empty reports whether v holds nothing.
func (v *ValidationData) Empty() bool {
	return v == nil || len(v.Certificates)+len(v.OCSP)+len(v.CRLs)+len(v.Timestamps) == 0
}

// Merge adds o's items to v, each at most once (by the SHA-256 of its DER).
func (v *ValidationData) Merge(o *ValidationData) {
	if o == nil {
		return
	}
	for _, c := range o.Certificates {
		v.addCert(c)
	}
	for _, b := range o.OCSP {
		v.OCSP = addDER(v.OCSP, b)
	}
	for _, b := range o.CRLs {
		v.CRLs = addDER(v.CRLs, b)
	}
	for _, b := range o.Timestamps {
		v.Timestamps = addDER(v.Timestamps, b)
	}
}

func (v *ValidationData) addCert(c *x509.Certificate) {
	if c == nil {
		return
	}
	for _, have := range v.Certificates {
		if have.Equal(c) {
			return
		}
	}
	v.Certificates = append(v.Certificates, c)
}

func addDER(list [][]byte, der []byte) [][]byte {
	if len(der) == 0 {
		return list
	}
	sum := sha256.Sum256(der)
	for _, have := range list {
		if sha256.Sum256(have) == sum {
			return list
		}
	}
	return append(list, der)
}

// addEvidence adds the chain and the revocation evidence of a validated path.
func (v *ValidationData) addChain(cr *trust.ChainResult) {
	if cr == nil || cr.Path == nil {
		return
	}
	for _, c := range cr.Path.Chain {
		v.addCert(c)
	}
	for _, ev := range cr.Path.Revocation {
		if ev == nil {
			continue
		}
		switch ev.Method {
		case revocation.MethodOCSP:
			v.OCSP = addDER(v.OCSP, ev.Raw)
			if ev.OCSP != nil && ev.OCSP.Signer != nil && !ev.OCSP.CASigned {
				v.addCert(ev.OCSP.Signer)
			}
		case revocation.MethodCRL:
			v.CRLs = addDER(v.CRLs, ev.Raw)
		}
	}
}

// collect gathers what the checks of states used: each signer's and each TSA's validated chain with
// its revocation evidence, and every SignatureTimeStamp token.
func collect(states []*sigState, into *ValidationData) {
	for _, st := range states {
		into.addChain(st.signerChain)
		into.addChain(st.tsaChain)
		if st.unsigned == nil {
			continue
		}
		for _, p := range st.unsigned.Of(props.KindSignatureTimeStamp) {
			if p.TimeStamp != nil {
				for _, tok := range p.TimeStamp.Tokens {
					into.Timestamps = addDER(into.Timestamps, tok)
				}
			}
		}
	}
}

// withDetached adds the detached validation data to what a signature embeds: its revocation evidence
// after the signature's own, its certificates to the candidates for path building.
func withDetached(emb trust.Embedded, extra []*x509.Certificate, d *ValidationData) (trust.Embedded, []*x509.Certificate) {
	if d == nil {
		return emb, extra
	}
	emb.OCSP = append(append([][]byte(nil), emb.OCSP...), d.OCSP...)
	emb.CRL = append(append([][]byte(nil), emb.CRL...), d.CRLs...)
	return emb, append(append([]*x509.Certificate(nil), extra...), d.Certificates...)
}
