package receipt

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
)

// NewRejection builds the receipt of a rejected upload (ELUTASITVA). It is meant for every rejection,
// down to an upload that could not even be parsed, where only received.FileName, Size and SHA256 and
// the arrival time are known; metadata fields of received (SubmissionID, Period, Type) are kept when
// they are well-formed and dropped otherwise. The caller may fill Declarant and PreCheck (policy,
// per-signature entries) when the upload was read that far, and may replace ID, which is a random
// UUID v4, by one of its own (the caller then owns its uniqueness).
//
// Because a rejection must always be answerable, NewRejection repairs what would make the receipt
// unwritable rather than fail: the file name and finding texts are made valid XML text (invalid bytes
// and characters become U+FFFD) and cut to the schema's lengths; a finding with a severity other than W0
// counts as E0; a finding with a malformed code becomes R001 naming it; past MaxErrors findings, E0
// findings are kept before W0 ones; and when no E0 finding is given at all, an R001 finding is added,
// since a rejection without a reason is the fund's own fault. Marshal still refuses the result if fund
// or arrival is unusable (zero time, bad fund code): those are the receiver's configuration or clock,
// not the upload.
func NewRejection(received ReceivedPackage, arrival time.Time, fund Fund, findings []errcode.Finding) *Receipt {
	p := received
	p.FileName = sanitize(p.FileName, MaxFileNameChars)
	if p.SubmissionID != "" && !uuidRE.MatchString(p.SubmissionID) {
		p.SubmissionID = ""
	}
	if p.Period != (declaration.Period{}) && !p.Period.Valid() {
		p.Period = declaration.Period{}
	}
	if p.Type != "" && !p.Type.Valid() {
		p.Type = ""
	}
	errs := sanitizeFindings(findings, true)
	if !HasE0(errs) {
		f := errcode.New(errcode.R001, "", "elutasítás ok nélkül / rejection without a recorded reason")
		if len(errs) >= MaxErrors {
			errs = errs[:MaxErrors-1]
		}
		errs = append([]errcode.Finding{f}, errs...)
	}
	return &Receipt{
		ID:       uuid.NewString(),
		Fund:     fund,
		Package:  p,
		Arrival:  instant(arrival),
		Result:   Rejected,
		PreCheck: PreCheck{State: Invalid},
		Errors:   errs,
	}
}

// NewAcceptance builds the receipt of an accepted upload (BEFOGADVA): the package passed the pre-check
// with state ERVENYES or (inside the grace period, the usual case) BEFEJEZETLEN, and its final check is
// due at earliestFinalCheck. warnings are W0 findings to report; received must carry the signed
// metadata (SubmissionID, Period, Type). The file name and finding texts are made valid XML text and
// cut to the schema's lengths, and times are normalized to UTC; nothing else is repaired. The result is
// checked: an error is a *CheckError naming each broken rule (for example an E0 finding, which makes
// the upload a rejection). ID is a random UUID v4; the caller may replace it.
func NewAcceptance(received ReceivedPackage, arrival time.Time, fund Fund, declarant Declarant, pre PreCheck,
	earliestFinalCheck time.Time, warnings []errcode.Finding) (*Receipt, error) {
	p := received
	p.FileName = sanitize(p.FileName, MaxFileNameChars)
	pc := PreCheck{State: pre.State}
	if pre.Policy != nil {
		pol := *pre.Policy
		pc.Policy = &pol
	}
	for _, s := range pre.Signatures {
		s.SigningTime = instant(s.SigningTime)
		s.TimestampTime = instant(s.TimestampTime)
		if s.Certificate != nil {
			c := *s.Certificate
			s.Certificate = &c
		}
		pc.Signatures = append(pc.Signatures, s)
	}
	r := &Receipt{
		ID:                 uuid.NewString(),
		Fund:               fund,
		Declarant:          &declarant,
		Package:            p,
		Arrival:            instant(arrival),
		Result:             Accepted,
		PreCheck:           pc,
		EarliestFinalCheck: instant(earliestFinalCheck),
		Errors:             sanitizeFindings(warnings, false),
	}
	if err := r.Check(); err != nil {
		return nil, err
	}
	return r, nil
}

// instant drops the monotonic reading and the location, so that a built receipt equals its parsed copy.
func instant(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Round(0).UTC()
}

// sanitize returns s as valid XML text of at most max characters: invalid UTF-8 and characters XML 1.0
// does not allow become U+FFFD, and a longer text is cut, ending in "…".
func sanitize(s string, max int) string {
	if !xmlText(s) {
		var b strings.Builder
		for len(s) > 0 {
			r, n := utf8.DecodeRuneInString(s)
			if (r == utf8.RuneError && n == 1) || !isXMLChar(r) {
				r = utf8.RuneError
			}
			b.WriteRune(r)
			s = s[n:]
		}
		s = b.String()
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// sanitizeFindings makes findings writable (see NewRejection). repairCodes replaces malformed codes by
// R001; otherwise they are left for Check to report.
func sanitizeFindings(findings []errcode.Finding, repairCodes bool) []errcode.Finding {
	if len(findings) == 0 {
		return nil
	}
	out := make([]errcode.Finding, 0, len(findings))
	for _, f := range findings {
		if f.Severity != errcode.Warning {
			f.Severity = errcode.Error
		}
		if repairCodes && !codeRE.MatchString(string(f.Code)) {
			orig := sanitize(string(f.Code), 32)
			f = errcode.New(errcode.R001, f.Location, fmt.Sprintf("hibás hibakód / malformed code %q", orig))
		}
		f.Location = sanitize(f.Location, MaxLocationChars)
		f.HU = sanitize(f.HU, MaxTextChars)
		f.EN = sanitize(f.EN, MaxTextChars)
		if f.HU == "" || f.EN == "" {
			info, ok := errcode.Lookup(f.Code)
			if !ok {
				info = errcode.Info{HU: "Ismeretlen hibakód.", EN: "Unknown error code."}
			}
			if f.HU == "" {
				f.HU = info.HU
			}
			if f.EN == "" {
				f.EN = info.EN
			}
		}
		out = append(out, f)
	}
	if len(out) > MaxErrors {
		// Keep every reason for rejecting before any warning, each group in the receiver's order.
		kept := make([]errcode.Finding, 0, MaxErrors)
		for _, sev := range []errcode.Severity{errcode.Error, errcode.Warning} {
			for _, f := range out {
				if f.Severity == sev && len(kept) < MaxErrors {
					kept = append(kept, f)
				}
			}
		}
		out = kept
	}
	return out
}
