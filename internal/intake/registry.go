package intake

import (
	"context"
	"errors"
	"fmt"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/registry"
	"github.com/tagdij/tagdij/internal/report"
)

// RegistrySigners applies the registry's signer rules (registry.Evaluate on the sheet in force at the
// arrival) through a registry.Store.
type RegistrySigners struct {
	Store registry.Store
}

// Decide implements Signers. Each signature is judged at its time-stamp's genTime T (the signer's
// SigningTime only where there is no verified time-stamp; the package is then rejected for F005
// anyway); a TOTAL-FAILED signature counts as not signed.
func (r *RegistrySigners) Decide(ctx context.Context, q SignerQuery) (*SignerDecision, error) {
	k := registry.NewKey(declaration.IDType(q.IDType), q.ID, q.Fund)
	sheet, err := r.Store.AsOf(ctx, k, q.Arrival)
	if errors.Is(err, registry.ErrNotFound) {
		sheet = nil
	} else if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	period, _ := declaration.ParsePeriod(q.Period) // an invalid period is B001 in Evaluate
	sigs := make([]registry.Signature, len(q.Signatures))
	for i, s := range q.Signatures {
		at := s.TimestampTime
		if at.IsZero() {
			at = s.SigningTime
		}
		sigs[i] = registry.Signature{Cert: s.Certificate, At: at, Usable: s.Verdict.Indication != report.TotalFailed}
	}
	d := registry.Evaluate(sheet, registry.Submission{Declarant: k, Period: period, Arrival: q.Arrival}, sigs)
	out := &SignerDecision{SheetID: d.SheetID, Findings: d.Findings, Roles: make([]receipt.Role, len(sigs))}
	for i := range out.Roles {
		out.Roles[i] = receipt.NotRegistered
	}
	for _, m := range d.Matches {
		if m.Signature >= 0 && m.Signature < len(out.Roles) {
			out.Roles[m.Signature] = receipt.Role(m.Role)
		}
	}
	return out, nil
}
