package xades

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/tsp"
	"github.com/tagdij/tagdij/policy"
)

// blankValues removes what differs between two signings of the same bytes with the same Ids: the
// SignatureValue (ECDSA is randomized) and the time-stamp token (its own serial and time).
var blankValues = regexp.MustCompile(`(<ds:SignatureValue[^>]*>)[^<]*(</ds:SignatureValue>)|(<xades:EncapsulatedTimeStamp[^>]*>)[^<]*(</xades:EncapsulatedTimeStamp>)`)

func blanked(b []byte) []byte { return blankValues.ReplaceAll(b, []byte("$1$3…$2$4")) }

// TestSignWithTimestamp: SignOptions.Timestamp makes the bytes Sign followed by Timestamp makes (but
// for the randomized values), and the time-stamp covers the new SignatureValue.
func TestSignWithTimestamp(t *testing.T) {
	f := newFixture(t)
	s := f.signers(t, "pelda")
	rk := f.sb.World.MustEntity(sandbox.FundReceipt)
	stampedOnce := f.timestamp(t, func() []byte { b, _ := f.sign(t, f.encryptedPackage(t, 0), s[0], policy.KindPackage, nil); return b }())
	cases := []struct {
		name   string
		data   func() []byte
		signer *sandbox.Entity
		kind   policy.DocKind
	}{
		{"receipt", func() []byte { return f.receiptDossier(t) }, rk, policy.KindReceipt},
		{"package, first signature", func() []byte { return f.encryptedPackage(t, 0) }, s[0], policy.KindPackage},
		{"package, after a stamped signature", func() []byte { return stampedOnce }, s[1], policy.KindPackage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := c.data() // once: encrypting again would draw a new content key
			// One signing time for both: the sandbox clock follows the wall clock, and on a loaded
			// machine the two signings can fall into different seconds.
			at := f.sb.Clock.Now()
			twoStep, id1 := f.sign(t, data, c.signer, c.kind, func(o *SignOptions) { o.Rand, o.SigningTime = seeded(7), at })
			twoStep = f.timestamp(t, twoStep)
			onePass, id2 := f.sign(t, data, c.signer, c.kind, func(o *SignOptions) {
				o.Rand, o.SigningTime = seeded(7), at
				o.Timestamp = &TimestampOptions{TSA: f.tsa}
			})
			if id1 != id2 {
				t.Fatalf("Ids %s and %s from the same randomness", id1, id2)
			}
			if !bytes.Equal(blanked(onePass), blanked(twoStep)) {
				t.Fatalf("one pass differs from Sign+Timestamp:\n%s\n%s", blanked(onePass), blanked(twoStep))
			}
			if bytes.Equal(blanked(onePass), onePass) {
				t.Fatal("nothing blanked: the comparison compares nothing")
			}
			// Nothing is left to stamp, and the time-stamp verifies over the SignatureValue.
			if _, ids, err := Timestamp(context.Background(), onePass, TimestampOptions{TSA: f.tsa}); err != nil || len(ids) != 0 {
				t.Fatalf("Timestamp after the one pass: %v %v", ids, err)
			}
			f.afterGrace()
			d := f.verify(t, onePass, c.kind, nil, time.Time{})
			expect(t, c.name, d, report.TotalPassed, "", "")
			last := d.Signatures[len(d.Signatures)-1]
			if last.ID != id2 || last.TimestampTime.IsZero() || len(last.Timestamps) == 0 || !last.Timestamps[0].OK {
				t.Fatalf("signature %s: time-stamp %v %+v", last.ID, last.TimestampTime, last.Timestamps)
			}
		})
	}
}

func TestSignWithTimestampRefusals(t *testing.T) {
	f := newFixture(t)
	s := f.signers(t, "pelda")
	unstamped, _ := f.sign(t, f.encryptedPackage(t, 0), s[0], policy.KindPackage, nil)
	down := &tsp.Client{URL: "http://127.0.0.1:1/", Trust: f.tsa.Trust, Now: f.sb.Clock.Now}
	cases := []struct {
		name    string
		data    []byte
		ts      *TimestampOptions
		refused bool
	}{
		{"an earlier signature without a time-stamp", unstamped, &TimestampOptions{TSA: f.tsa}, true},
		{"no TSA client", f.encryptedPackage(t, 0), &TimestampOptions{}, false},
		{"TSA unreachable", f.encryptedPackage(t, 0), &TimestampOptions{TSA: down}, false},
	}
	for _, c := range cases {
		opts := SignOptions{Signer: s[1].Key, Certificate: s[1].Cert, Chain: s[1].Chain, Policy: f.pol,
			Kind: policy.KindPackage, SigningTime: f.sb.Clock.Now(), Timestamp: c.ts}
		out, _, err := Sign(context.Background(), c.data, opts)
		if err == nil || out != nil || errors.Is(err, ErrRefused) != c.refused {
			t.Errorf("%s: %d bytes, %v (refused %v)", c.name, len(out), err, c.refused)
		}
	}
}
