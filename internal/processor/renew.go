package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tagdij/tagdij/archive"
	"github.com/tagdij/tagdij/internal/xades"
)

// Renewing is the archive's part a renewal pass needs beyond Archive: the entries in leaf order.
type Renewing interface {
	Archive
	Index() archive.Index
}

// RenewalSummary counts what one renewal pass did.
type RenewalSummary struct {
	// Checked counts the packages whose newest extended package was examined.
	Checked int `json:"checked"`
	// Renewed counts the packages given a new archive time-stamp (a new archive entry naming its
	// predecessor).
	Renewed int `json:"renewed"`
	// Errors counts packages that were due but could not be renewed now (TSA, revocation evidence,
	// archive); the next pass tries again.
	Errors int `json:"errors"`
	// Next is the earliest time a package not renewed now becomes due (zero when none is known).
	Next time.Time `json:"next,omitzero"`
}

// renewPageSize is how many archive entries a renewal pass reads at once.
const renewPageSize = 500

// RunRenewal is the archive renewal pass (PRC-06, ADM-02; issue 9 point 3): for every archived
// package, its newest extended package is judged by xades.RenewalDue (its last archive time-stamps'
// TSA certificates nearing their notAfter, or their algorithms nearing their sunset, within margin;
// zero: the policy's default), and when due xades.Renew adds the covered time-stamps' validation
// data and a new ArchiveTimeStamp over everything, and the result is archived as a new entry that
// names its predecessor (the archive is write-once: the predecessor stays). Renewal of a package that
// another processor renewed meanwhile is left to that one. Packages that ended invalid have no
// extended package and are not renewed. The error is for an archive that cannot be read.
func (p *Processor) RunRenewal(ctx context.Context, arch Renewing, margin time.Duration) (RenewalSummary, error) {
	var sum RenewalSummary
	log := p.cfg.Logger
	idx := arch.Index()
	size, err := idx.Size(ctx)
	if err != nil {
		return sum, fmt.Errorf("processor: renewal: %w", err)
	}
	// The newest entry of every package: a later leaf renews an earlier one.
	newest := map[[32]byte]*archive.Entry{}
	var order [][32]byte
	for from := uint64(0); from < size; from += renewPageSize {
		page, err := idx.Scan(ctx, from, renewPageSize)
		if err != nil {
			return sum, fmt.Errorf("processor: renewal: %w", err)
		}
		for _, e := range page {
			if _, ok := newest[e.PackageSHA256]; !ok {
				order = append(order, e.PackageSHA256)
			}
			if prev, ok := newest[e.PackageSHA256]; !ok || e.Index > prev.Index {
				newest[e.PackageSHA256] = e
			}
		}
	}
	for _, pkg := range order {
		if ctx.Err() != nil {
			break
		}
		e := newest[pkg]
		if e.Extended == nil {
			continue
		}
		sum.Checked++
		now := p.cfg.Clock()
		ext, err := arch.Read(ctx, e, archive.Extended)
		if err != nil {
			sum.Errors++
			log.Error("archived package not readable for renewal", slog.String("event", "processor.renewal-failed"), slog.String("archive", e.ID),
				slog.String("error", err.Error()))
			continue
		}
		due, err := xades.RenewalDue(ext, xades.RenewalOptions{Policy: p.cfg.Env.Policy, Now: now, Margin: margin, Limits: p.cfg.XMLLimits})
		if err != nil {
			sum.Errors++
			log.Error("renewal not decidable", slog.String("event", "processor.renewal-failed"), slog.String("archive", e.ID), slog.String("error", err.Error()))
			continue
		}
		if !due.Due {
			if !due.At.IsZero() && (sum.Next.IsZero() || due.At.Before(sum.Next)) {
				sum.Next = due.At
			}
			continue
		}
		if err := p.renewOne(ctx, arch, e, ext, now, log); err != nil {
			sum.Errors++
			log.Error("renewal failed; the next pass tries again", slog.String("event", "processor.renewal-failed"), slog.String("archive", e.ID),
				slog.String("reason", due.Reason.EN), slog.String("error", err.Error()))
			continue
		}
		sum.Renewed++
		log.Info("archive time-stamp renewed", slog.String("event", "processor.renewed"), slog.String("archive", e.ID),
			slog.String("package", e.PackageName), slog.String("reason", due.Reason.EN))
	}
	return sum, nil
}

// renewOne renews one archived package and archives the result as e's successor.
func (p *Processor) renewOne(ctx context.Context, arch Renewing, e *archive.Entry, ext []byte, now time.Time, log *slog.Logger) error {
	renewed, _, err := xades.Renew(ctx, ext, xades.RenewOptions{TSA: p.cfg.TSA, Env: p.cfg.Env, Now: now, Logger: log, Limits: p.cfg.XMLLimits})
	if err != nil {
		return err
	}
	in := archive.Input{PackageSHA256: e.PackageSHA256, PackageName: e.PackageName, Extended: renewed, ReceiptName: e.ReceiptName,
		SubmissionID: e.SubmissionID, DeclarantType: e.DeclarantType, DeclarantID: e.DeclarantID, Fund: e.Fund, Period: e.Period,
		DeclType: e.DeclType, Outcome: e.Outcome, Codes: e.Codes, Renews: e.ID}
	for _, part := range []struct {
		p   archive.Part
		dst *[]byte
	}{{archive.Original, &in.Original}, {archive.Receipt, &in.Receipt}, {archive.Report, &in.Report}} {
		if *part.dst, err = arch.Read(ctx, e, part.p); err != nil {
			return err
		}
	}
	if _, err := arch.Put(ctx, in); errors.Is(err, archive.ErrConflict) {
		log.Info("renewed meanwhile by another processor", slog.String("event", "processor.renewal-skipped"), slog.String("archive", e.ID))
		return nil
	} else if err != nil {
		return err
	}
	return nil
}
