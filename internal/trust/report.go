package trust

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/revocation"
)

// ReportChain returns the certificates of r's validation path as a report lists them: end certificate
// first, each with its decimal serial and SHA-256, the end certificate marked qualified when the path
// found it so. It is nil when no path was built. Every program that shows a chain (the verifier's
// reports, the sender's certificate check) lists it through this.
func (r ChainResult) ReportChain() []report.Certificate {
	if r.Path == nil {
		return nil
	}
	out := make([]report.Certificate, 0, len(r.Path.Chain))
	for i, c := range r.Path.Chain {
		sum := sha256.Sum256(c.Raw)
		out = append(out, report.Certificate{Subject: c.Subject.String(), Issuer: c.Issuer.String(),
			Serial: c.SerialNumber.String(), SHA256: hex.EncodeToString(sum[:]), NotBefore: c.NotBefore.UTC(),
			NotAfter: c.NotAfter.UTC(), Qualified: i == 0 && r.Path.Qualified})
	}
	return out
}

// ReportEvidence returns the revocation evidence r's validation path rests on, as a report lists it:
// one entry per certificate of the path that has evidence, in path order, with where it came from
// (its URL, "embedded" or "cache") and, for a revocation, when. It is nil when there is none.
func (r ChainResult) ReportEvidence() []report.Evidence {
	if r.Path == nil {
		return nil
	}
	var out []report.Evidence
	for i, ev := range r.Path.Revocation {
		if ev == nil || i >= len(r.Path.Chain) {
			continue
		}
		src := ev.URL
		if ev.FromCache {
			src = "cache"
		}
		e := report.Evidence{About: r.Path.Chain[i].Subject.String(), Method: ev.Method.String(), Status: ev.Status.String(),
			ProducedAt: ev.ProducedAt().UTC(), Source: src}
		if ev.Status == revocation.StatusRevoked {
			e.RevokedAt = ev.RevocationTime.UTC()
		}
		out = append(out, e)
	}
	return out
}
