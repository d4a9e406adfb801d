package outbox

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tagdij/tagdij/internal/container"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/receiptpkg"
	"github.com/tagdij/tagdij/internal/report"
)

// Item is the re-verification of one stored item (Audit).
type Item struct {
	Kind   string // package, receipt, container, packed (a pack record)
	Name   string
	SHA256 [32]byte
	// Indication is the verdict now; Recorded the one recorded when the item was stored or last
	// checked ("" for containers).
	Indication report.Indication
	Sub        report.SubIndication
	Recorded   report.Indication
	// OK: the bytes hash to their name, and the verdict is the recorded one or better (a container:
	// consistent, its package as valid as recorded, its receipt as recorded or better).
	OK     bool
	Detail string
}

// rank orders indications: passed < indeterminate < failed.
func rank(i report.Indication) int {
	switch i {
	case report.TotalPassed:
		return 0
	case report.TotalFailed:
		return 2
	}
	return 1
}

// Audit re-verifies every package, receipt and container the workspace holds (and checks that every
// pack record's sign preview still decodes for its submission), from the workspace's
// bytes (each checked against its SHA-256) with the validation data kept for them as detached data, so
// that a restored backup proves itself (ADM-04). Nothing is written.
func (s *Sender) Audit(ctx context.Context) ([]Item, error) {
	var out []Item
	pkgs, err := s.WS.Packages(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range pkgs {
		it := Item{Kind: "package", Name: p.Name, SHA256: p.SHA256, Recorded: report.TotalPassed}
		data, err := s.WS.Blob(p.SHA256)
		if err != nil {
			it.Detail = err.Error()
			out = append(out, it)
			continue
		}
		opts := pack.VerifyOptions{Env: s.Env, Schemas: s.Schemas, Now: s.now(), FileName: p.Name}
		if chk, err := s.WS.PackageCheckOf(ctx, p.SHA256); err == nil {
			if opts.Detached, err = DecodeValidationData(chk.Validation); err != nil {
				return nil, err
			}
		}
		v, err := pack.Verify(ctx, data, opts)
		if err != nil {
			return nil, err
		}
		it.Indication, it.Sub = v.Report.Verdict.Indication, v.Report.Verdict.Sub
		it.OK = rank(it.Indication) <= rank(it.Recorded)
		out = append(out, it)
	}
	rcpts, err := s.WS.Receipts(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rcpts {
		it := Item{Kind: "receipt", Name: r.Name, SHA256: r.SHA256, Recorded: report.Indication(r.Indication)}
		data, err := s.WS.Blob(r.SHA256)
		if err != nil {
			it.Detail = err.Error()
			out = append(out, it)
			continue
		}
		vd, err := DecodeValidationData(r.Validation)
		if err != nil {
			return nil, err
		}
		_, rep, verr := receiptpkg.Verify(ctx, data, receiptpkg.VerifyOptions{Env: s.Env, Now: s.now(), Schemas: s.Schemas, FileName: r.Name, Detached: vd})
		if rep == nil {
			return nil, verr
		}
		it.Indication, it.Sub = rep.Verdict.Indication, rep.Verdict.Sub
		it.OK = rank(it.Indication) <= rank(it.Recorded)
		if r.Flagged() {
			it.Detail = "hibásként megjelölt, értesítve / flagged, notified: " + r.Problem
		}
		out = append(out, it)
	}
	cs, err := s.WS.Containers(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		it := Item{Kind: "container", Name: fmt.Sprintf("%s v%d", c.Name, c.Version), SHA256: c.SHA256}
		data, err := s.WS.Blob(c.SHA256)
		if err != nil {
			it.Detail = err.Error()
			out = append(out, it)
			continue
		}
		res, err := s.verifyContainer(ctx, data, c.Name)
		if err != nil {
			it.Detail = err.Error()
			out = append(out, it)
			continue
		}
		it.Indication, it.Sub = res.Report.Verdict.Indication, res.Report.Verdict.Sub
		it.OK = len(res.Parsed.Findings) == 0 && res.Package != nil && rank(res.Package.Verdict.Indication) == 0
		if res.Receipt != nil {
			if r, err := s.WS.ReceiptFor(ctx, c.Package); err == nil {
				it.Recorded = report.Indication(r.Indication)
				it.OK = it.OK && rank(res.Receipt.Verdict.Indication) <= rank(it.Recorded)
			}
		}
		out = append(out, it)
	}
	// Pack records: the sign preview must still describe the submission it was recorded for.
	recs, err := s.WS.PackedAll(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		it := Item{Kind: "packed", Name: r.Name, SHA256: r.PackageSHA256, Recorded: report.TotalPassed, Indication: report.TotalFailed}
		var e declaration.Excerpt
		switch err := json.Unmarshal(r.Preview, &e); {
		case err != nil:
			it.Detail = fmt.Sprintf("a csomagolási előnézet olvashatatlan / the pack preview does not decode: %v", err)
		case e.Header.ID != r.SubmissionID:
			it.Detail = "a csomagolási előnézet más beküldésé / the pack preview is of another submission"
		default:
			it.Indication, it.OK = report.TotalPassed, true
		}
		out = append(out, it)
	}
	return out, nil
}

// verifyContainer verifies container bytes as an auditor would (container.Verify).
func (s *Sender) verifyContainer(ctx context.Context, data []byte, name string) (*container.Result, error) {
	d, err := es3.Parse(data, es3.ParseOptions{Mode: es3.Strict})
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return container.Verify(ctx, d, data, container.VerifyOptions{Env: s.Env, Schemas: s.Schemas, Now: s.now(), FileName: name})
}
