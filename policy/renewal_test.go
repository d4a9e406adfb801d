package policy

import (
	"crypto"
	"crypto/elliptic"
	"strings"
	"testing"
	"time"
)

func TestRenewalDue(t *testing.T) {
	p := mustProduction(t)
	day := 24 * time.Hour
	gen := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	notAfter := time.Date(2031, 3, 1, 0, 0, 0, 0, time.UTC)
	good := ArchiveStamp{GenTime: gen, TSANotAfter: notAfter, Imprint: crypto.SHA256, TSAKey: rsaPub(2048), TSACertHash: crypto.SHA256}
	with := func(f func(*ArchiveStamp)) ArchiveStamp {
		s := good
		f(&s)
		return s
	}
	for _, tc := range []struct {
		name   string
		s      ArchiveStamp
		now    time.Time
		margin time.Duration
		due    bool
		at     time.Time
		reason string // in the English reason
	}{
		{"TSA certificate far from expiry", good, notAfter.Add(-181 * day), 0, false, notAfter.Add(-180 * day), "TSA certificate"},
		{"exactly at notAfter - 180 days", good, notAfter.Add(-180 * day), 0, true, notAfter.Add(-180 * day), "expires at 2031-03-01"},
		{"inside the default margin", good, notAfter.Add(-30 * day), 0, true, notAfter.Add(-180 * day), "TSA certificate"},
		{"after the TSA certificate expired", good, notAfter.Add(day), 0, true, notAfter.Add(-180 * day), "TSA certificate"},
		{"a margin of 30 days, 31 days before", good, notAfter.Add(-31 * day), 30 * day, false, notAfter.Add(-30 * day), "TSA certificate"},
		{"a margin of 30 days, 29 days before", good, notAfter.Add(-29 * day), 30 * day, true, notAfter.Add(-30 * day), "TSA certificate"},
		{"ECDSA TSA", with(func(s *ArchiveStamp) { s.TSAKey = ecPub(elliptic.P256()) }), gen, 0, false, notAfter.Add(-180 * day), "TSA certificate"},
		{"SHA-1 imprint: the sunset, long past", with(func(s *ArchiveStamp) { s.Imprint = crypto.SHA1 }), gen, 0, true,
			sha1Sunset.Date.Add(-180 * day), "imprint uses SHA-1"},
		{"TSA certificate signed with SHA-1", with(func(s *ArchiveStamp) { s.TSACertHash = crypto.SHA1 }), gen, 0, true,
			sha1Sunset.Date.Add(-180 * day), "signature uses SHA-1"},
		{"RSA-1024 TSA key: the key-size sunset", with(func(s *ArchiveStamp) { s.TSAKey = rsaPub(1024) }), gen, 0, true,
			rsaSunset.Date.Add(-180 * day), "RSA < 2048 bits"},
		{"RSA-512 TSA key: no sunset, never accepted", with(func(s *ArchiveStamp) { s.TSAKey = rsaPub(512) }), gen, 0, true, gen, "does not accept the TSA's key (RSA 512 bits)"},
		{"MD5 imprint: no sunset, never accepted", with(func(s *ArchiveStamp) { s.Imprint = crypto.MD5 }), gen, 0, true, gen, "which the policy does not accept"},
		{"a TSA certificate expiring before a sunset decides", with(func(s *ArchiveStamp) {
			s.TSAKey, s.TSANotAfter = rsaPub(1024), rsaSunset.Date.Add(-365*day)
		}), gen, 0, true, rsaSunset.Date.Add(-545 * day), "TSA certificate"},
		{"nothing known", ArchiveStamp{GenTime: gen}, gen, 0, false, time.Time{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := p.RenewalDue(tc.s, tc.now, tc.margin)
			if r.Due != tc.due || !r.At.Equal(tc.at) {
				t.Fatalf("due %v at %v (%s), want %v at %v", r.Due, r.At, r.Reason.EN, tc.due, tc.at)
			}
			if !strings.Contains(r.Reason.EN, tc.reason) || (tc.reason != "" && r.Reason.HU == "") {
				t.Fatalf("reason %+v, want %q", r.Reason, tc.reason)
			}
		})
	}
}
