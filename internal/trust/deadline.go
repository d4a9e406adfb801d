package trust

import (
	"time"

	"github.com/tagdij/tagdij/internal/report"
)

// DefaultFinalCheckMargin is how long before the final check's deadline a job that is still not final
// raises an alert when the caller configures no margin of its own: a week, long enough for an
// operator to restore an unreachable revocation source or to embed the evidence by hand, and far
// beyond the longest grace period (24 h in production).
const DefaultFinalCheckMargin = 7 * 24 * time.Hour

// FinalDeadline is the last moment at which the final check of doc can still succeed: the earliest
// notAfter among its signers' certificates (PRC-05, SPEC §3: the final check must happen before the
// signer certificate's notAfter; after it, CAs need not keep status information, and evidence fetched
// then proves nothing — CheckChain answers INDETERMINATE/OUT_OF_BOUNDS_NO_POE). Every signature
// counts, final or not: a retry checks the whole document again. The certificate is the one that
// verified the signature (report.Signature.Certificate) or, in a report read back from JSON, the end
// certificate of its chain. Zero when no signature names one (a refused or unsigned document, which
// has no deadline to miss).
func FinalDeadline(doc *report.Document) time.Time {
	var d time.Time
	if doc == nil {
		return d
	}
	for _, s := range doc.Signatures {
		var na time.Time
		switch {
		case s.Certificate != nil:
			na = s.Certificate.NotAfter
		case len(s.Chain) > 0:
			na = s.Chain[0].NotAfter
		default:
			continue
		}
		if d.IsZero() || na.Before(d) {
			d = na
		}
	}
	return d
}

// FinalCheckAlert says whether a job whose latest check gave doc "nears its signer certificate's
// notAfter without becoming final" (issue 9): doc is INDETERMINATE (TRY_LATER or any other reason
// it is not final yet) and now is within margin of FinalDeadline(doc), or past it. margin ≤ 0 means
// DefaultFinalCheckMargin. A final document (TOTAL-PASSED or TOTAL-FAILED) and one without a deadline
// never alert. deadline is FinalDeadline(doc), for the alert's text and for scheduling: a retry
// planned after it is a retry too late.
func FinalCheckAlert(doc *report.Document, now time.Time, margin time.Duration) (alert bool, deadline time.Time) {
	deadline = FinalDeadline(doc)
	if doc == nil || deadline.IsZero() || doc.Verdict.Indication != report.Indeterminate {
		return false, deadline
	}
	if margin <= 0 {
		margin = DefaultFinalCheckMargin
	}
	return !now.Before(deadline.Add(-margin)), deadline
}
