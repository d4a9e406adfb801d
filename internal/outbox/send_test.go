package outbox_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/outbox"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
	"github.com/tagdij/tagdij/internal/workspace"
)

// otherSigner is a signer of another sandbox employer: registered, qualified, but not for pelda, so
// the fund rejects pelda's package it signs (B002) with a validly signed receipt.
func otherSigner(t *testing.T, f *fixture) *sandbox.Entity {
	t.Helper()
	for _, e := range f.stack.SB.World.Manifest.Employers {
		if e.Key != "pelda" {
			s, err := f.stack.SB.World.Signers(e.Key)
			if err != nil || len(s) == 0 {
				t.Fatalf("signers of %s: %v", e.Key, err)
			}
			return s[0]
		}
	}
	t.Fatal("the sandbox has one employer only")
	return nil
}

// TestSendRefusesDuplicates pins SND-15 and the submission-id rule: a package with a receipt, and
// another package with the same submission id whose predecessor was accepted or has an unknown fate,
// are refused before anything leaves; a predecessor the fund rejected (with a sound receipt) or that
// never left does not block the corrected package.
func TestSendRefusesDuplicates(t *testing.T) {
	f := newFixture(t, receivertest.Options{})
	ctx := context.Background()
	other := otherSigner(t, f)

	// first sends a package with the submission id of seed the way the case says, and returns it.
	type firstFn func(t *testing.T, seed uint64) []byte
	sendOK := func(t *testing.T, seed uint64) []byte {
		data, name := f.pkg(t, receivertest.PackageOptions{Seed: seed})
		res, err := f.sender.Send(ctx, data, name)
		if err != nil || res.Content == nil || res.Content.Result != receipt.Accepted {
			t.Fatalf("first send: %+v %v", res, err)
		}
		return data
	}
	cases := []struct {
		name  string
		first firstFn
		// same: the second package is the first's bytes (else a repack of the same declaration).
		same bool
		// want: nil (sent), "sent" (ErrAlreadySent), "dup" (ErrDuplicateSubmission with the first's
		// receipt), "dup-unknown" (ErrDuplicateSubmission without a receipt).
		want string
	}{
		{name: "the same package again", first: sendOK, same: true, want: "sent"},
		{name: "same id, the first accepted", first: sendOK, want: "dup"},
		{name: "same id, the first sent without a receipt coming back", want: "dup-unknown",
			first: func(t *testing.T, seed uint64) []byte {
				data, name := f.pkg(t, receivertest.PackageOptions{Seed: seed})
				f.front.plan(fault{status: http.StatusBadGateway, body: []byte("gateway down")})
				s := *f.sender
				s.Retry.Attempts = 1
				var later *outbox.ErrTryLater
				if _, err := s.Send(ctx, data, name); !errors.As(err, &later) {
					t.Fatalf("first send: %v", err)
				}
				return data
			}},
		{name: "same id, the first rejected by the fund", want: "",
			first: func(t *testing.T, seed uint64) []byte {
				data, name := f.pkg(t, receivertest.PackageOptions{Seed: seed, SignerEntities: []*sandbox.Entity{other}})
				res, err := f.sender.Send(ctx, data, name)
				if err != nil || res.Content == nil || res.Content.Result != receipt.Rejected || res.Receipt.Flagged() {
					t.Fatalf("first send: %+v %v", res, err)
				}
				return data
			}},
		{name: "same id, the first rejected by a receipt about another package", want: "dup",
			first: func(t *testing.T, seed uint64) []byte {
				// The fund's (sound, rejecting) receipt of another package comes back for the first.
				z, zName := f.pkg(t, receivertest.PackageOptions{Seed: seed + 1000, SignerEntities: []*sandbox.Entity{other}})
				if out := f.stack.Submit(t, z, zName); out.Receipt == nil {
					t.Fatalf("submit %s: %+v", zName, out)
				}
				data, name := f.pkg(t, receivertest.PackageOptions{Seed: seed, SignerEntities: []*sandbox.Entity{other}})
				f.front.plan(fault{swap: z})
				res, err := f.sender.Send(ctx, data, name)
				if err != nil || res.Content == nil || res.Content.Result != receipt.Rejected || !res.Receipt.Flagged() {
					t.Fatalf("first send: %+v %v", res, err)
				}
				return data
			}},
		{name: "same id, the first refused with 400 (never recorded by the fund)", want: "",
			first: func(t *testing.T, seed uint64) []byte {
				data, name := f.pkg(t, receivertest.PackageOptions{Seed: seed})
				f.front.plan(fault{status: http.StatusBadRequest, body: []byte("bad request")})
				var refused *outbox.ErrRefused
				if _, err := f.sender.Send(ctx, data, name); !errors.As(err, &refused) {
					t.Fatalf("first send: %v", err)
				}
				return data
			}},
		{name: "same id, the first answered only with R001 (its signature unchecked: it may be recorded)", want: "dup-unknown",
			first: func(t *testing.T, seed uint64) []byte {
				data, name := f.pkg(t, receivertest.PackageOptions{Seed: seed})
				f.stack.SB.Stop(sandboxtest.TSA)
				defer f.stack.SB.Resume(sandboxtest.TSA)
				s := *f.sender
				s.Retry.Attempts = 1
				var later *outbox.ErrTryLater
				if _, err := s.Send(ctx, data, name); !errors.As(err, &later) || later.Last.Answer == nil {
					t.Fatalf("first send: %v", err)
				}
				return data
			}},
		{name: "same id, the first's answer lost (it may be recorded)", want: "dup-unknown",
			first: func(t *testing.T, seed uint64) []byte {
				data, name := f.pkg(t, receivertest.PackageOptions{Seed: seed})
				f.front.plan(fault{cutAfter: 2048})
				s := *f.sender
				s.Retry.Attempts = 1
				var later *outbox.ErrTryLater
				if _, err := s.Send(ctx, data, name); !errors.As(err, &later) {
					t.Fatalf("first send: %v", err)
				}
				return data
			}},
		{name: "same id, the first recorded but never uploaded", want: "",
			first: func(t *testing.T, seed uint64) []byte {
				// What a crash between recording the package and its first upload leaves behind.
				data, name := f.pkg(t, receivertest.PackageOptions{Seed: seed})
				sub := submissionID(t, f, data, name)
				if err := f.ws.AddPackage(ctx, workspace.Package{SHA256: sha256.Sum256(data), Name: name, SubmissionID: sub,
					Size: int64(len(data)), Added: f.stack.SB.Clock.Now()}, data); err != nil {
					t.Fatal(err)
				}
				return data
			}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seed := uint64(100 + i)
			first := tc.first(t, seed)
			firstSum := sha256.Sum256(first)
			firstAtts, _ := f.ws.Attempts(ctx, firstSum)
			data, name := first, ""
			if p, err := f.ws.Package(ctx, firstSum); err == nil {
				name = p.Name
			}
			if !tc.same {
				data, name = f.pkg(t, receivertest.PackageOptions{Seed: seed})
			}
			sum := sha256.Sum256(data)
			f.front.plan()
			res, err := f.sender.Send(ctx, data, name)
			var already *outbox.ErrAlreadySent
			var dup *outbox.ErrDuplicateSubmission
			switch tc.want {
			case "":
				if err != nil || res.Content == nil || res.Content.Result != receipt.Accepted || len(res.Attempts) != 1 {
					t.Fatalf("the corrected package was not sent: %+v %v", res, err)
				}
				return
			case "sent":
				if !errors.As(err, &already) {
					t.Fatalf("want ErrAlreadySent, got %v", err)
				}
				r, _ := f.ws.ReceiptFor(ctx, sum)
				if r == nil || already.Receipt.SHA256 != r.SHA256 || already.Package.SHA256 != sum {
					t.Errorf("refusal names receipt %x of package %x, stored %+v", already.Receipt.SHA256[:4], already.Package.SHA256[:4], r)
				}
			case "dup", "dup-unknown":
				if !errors.As(err, &dup) {
					t.Fatalf("want ErrDuplicateSubmission, got %v", err)
				}
				if dup.Other.SHA256 != firstSum || dup.SubmissionID == "" || dup.SubmissionID != dup.Other.SubmissionID {
					t.Errorf("refusal names %+v", dup)
				}
				if r, _ := f.ws.ReceiptFor(ctx, firstSum); (tc.want == "dup") != (dup.Receipt != nil) || (r != nil && dup.Receipt != nil && r.SHA256 != dup.Receipt.SHA256) {
					t.Errorf("refusal's receipt %+v, the first's %+v", dup.Receipt, r)
				}
				// Not recorded: the package is not the workspace's.
				if _, err := f.ws.Package(ctx, sum); !errors.Is(err, workspace.ErrNotFound) {
					t.Errorf("the refused package was recorded: %v", err)
				}
			}
			if res != nil {
				t.Errorf("a refusal with a result: %+v", res)
			}
			// Refusals are bilingual, and nothing left: no upload, no new attempt.
			if msg := err.Error(); !strings.Contains(msg, " / ") || !strings.Contains(msg, "already sent") {
				t.Errorf("refusal text: %s", msg)
			}
			if n := len(f.front.uploads()); n != 0 {
				t.Errorf("%d uploads reached the receiver", n)
			}
			if atts, _ := f.ws.Attempts(ctx, firstSum); len(atts) != len(firstAtts) {
				t.Errorf("attempts of the first went from %d to %d", len(firstAtts), len(atts))
			}
			if !tc.same && f.receiverHas(t, data) {
				t.Error("the refused package reached the receiver")
			}
		})
	}
}

// submissionID reads a package's submission id from its signed metadata (pack.Verify).
func submissionID(t *testing.T, f *fixture, data []byte, name string) string {
	t.Helper()
	v, err := pack.Verify(context.Background(), data, pack.VerifyOptions{Env: f.sender.Env, Schemas: f.sender.Schemas, Now: f.stack.SB.Clock.Now(), FileName: name})
	if err != nil || v.Metadata == nil || v.Metadata.ID == "" {
		t.Fatalf("reading the submission id: %v", err)
	}
	return v.Metadata.ID
}

// TestSendRetries: every attempt uploads the same bytes; what is retried (no answer, 408, 429, 5xx,
// a 200 that is not a receipt package, a 503 R001 answer) is retried after the Retry-After the
// answer names or with doubling backoff, and the run ends with exactly one receipt, the receiver's.
func TestSendRetries(t *testing.T) {
	f := newFixture(t, receivertest.Options{})
	ctx := context.Background()
	const backoff = 3 * time.Second
	f.sender.Retry.Backoff = backoff
	cases := []struct {
		name  string
		plan  []fault
		setup func() // before the send (e.g. the TSA down)
		// outcomes are the send log's, in order; waits the waits (nil: Retry-After of the answers).
		outcomes []string
		waits    []time.Duration
		detail   string // the first attempt's detail contains it
	}{
		{name: "connection cut mid-upload", plan: []fault{{cutAfter: 2048}},
			outcomes: []string{workspace.OutcomeNetwork, workspace.OutcomeReceipt}, waits: []time.Duration{backoff}},
		{name: "answer lost after the receiver recorded the upload", plan: []fault{{dropAnswer: true}},
			outcomes: []string{workspace.OutcomeNetwork, workspace.OutcomeReceipt}, waits: []time.Duration{backoff}},
		{name: "503 with an unstamped R001 (the fund's TSA down)",
			setup: func() {
				f.stack.SB.Stop(sandboxtest.TSA)
				f.onWait = func(time.Duration) { f.stack.SB.Resume(sandboxtest.TSA) }
			},
			outcomes: []string{workspace.OutcomeHTTP, workspace.OutcomeReceipt}, detail: "R001"},
		{name: "200 that is not a receipt package", plan: []fault{{status: 200, body: []byte("<html>proxy login</html>")}},
			outcomes: []string{workspace.OutcomeBadResponse, workspace.OutcomeReceipt}, waits: []time.Duration{backoff}, detail: "proxy login"},
		{name: "429 with Retry-After", plan: []fault{{status: 429, retryAfter: "7", body: []byte("slow down")}},
			outcomes: []string{workspace.OutcomeHTTP, workspace.OutcomeReceipt}, detail: "Retry-After 7s"},
		{name: "408 then 500 without Retry-After: doubling backoff",
			plan:     []fault{{status: 408, body: []byte("timeout")}, {status: 500, body: []byte("oops")}},
			outcomes: []string{workspace.OutcomeHTTP, workspace.OutcomeHTTP, workspace.OutcomeReceipt}, waits: []time.Duration{backoff, 2 * backoff}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data, name := f.pkg(t, receivertest.PackageOptions{Seed: uint64(200 + i)})
			sum := sha256.Sum256(data)
			f.front.plan(tc.plan...)
			f.waits, f.onWait = nil, nil
			sentBefore := len(f.sent())
			if tc.setup != nil {
				tc.setup()
			}
			defer f.stack.SB.Resume(sandboxtest.TSA)
			res, err := f.sender.Send(ctx, data, name)
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			var got []string
			for _, a := range res.Attempts {
				got = append(got, a.Outcome)
			}
			if strings.Join(got, ",") != strings.Join(tc.outcomes, ",") {
				t.Fatalf("send log %v, want %v (%+v)", got, tc.outcomes, res.Attempts)
			}
			if tc.detail != "" && !strings.Contains(res.Attempts[0].Detail, tc.detail) {
				t.Errorf("first attempt's detail %q lacks %q", res.Attempts[0].Detail, tc.detail)
			}
			ups := f.front.uploads()
			if len(ups) != len(tc.outcomes) {
				t.Fatalf("%d uploads reached the front, want %d", len(ups), len(tc.outcomes))
			}
			// The waits: as planned, or what the answers' Retry-After said.
			want := tc.waits
			if want == nil {
				for _, u := range ups[:len(ups)-1] {
					n, err := strconv.Atoi(u.retryAfter)
					if err != nil {
						t.Fatalf("answer %d without a Retry-After: %q", u.status, u.retryAfter)
					}
					want = append(want, time.Duration(n)*time.Second)
				}
			}
			if len(f.waits) != len(want) {
				t.Fatalf("waits %v, want %v", f.waits, want)
			}
			for i := range want {
				if f.waits[i] != want[i] {
					t.Errorf("wait %d: %s, want %s", i, f.waits[i], want[i])
				}
			}
			// Every attempt handed over, and every complete upload received, the same bytes.
			sent := f.sent()[sentBefore:]
			if len(sent) != len(tc.outcomes) {
				t.Fatalf("%d uploads sent, want %d", len(sent), len(tc.outcomes))
			}
			for i, b := range sent {
				if !bytes.Equal(b, data) {
					t.Errorf("attempt %d sent other bytes", i+1)
				}
			}
			for i, u := range ups {
				if !bytes.HasPrefix(data, u.body) || (i == len(ups)-1 && len(u.body) != len(data)) {
					t.Errorf("upload %d: %d bytes arrived, not the package's", i+1, len(u.body))
				}
			}
			if tc.plan != nil && tc.plan[0].cutAfter > 0 && len(ups[0].body) >= len(data) {
				t.Errorf("the cut upload arrived whole")
			}
			// Exactly one receipt: the one the last answer carried, which is the receiver's.
			oneReceipt(t, f, sum, ups[len(ups)-1].answer)
			if res.Receipt.SHA256 != *res.Attempts[len(res.Attempts)-1].Answer {
				t.Error("the receipt is not the last attempt's answer")
			}
			for _, a := range res.Attempts[:len(res.Attempts)-1] {
				if a.Answer != nil && *a.Answer == res.Receipt.SHA256 {
					t.Errorf("a failed attempt's answer (%s) was the receipt", a.Outcome)
				}
			}
		})
	}

	t.Run("the lost answer's upload was recorded before the retry", func(t *testing.T) {
		data, name := f.pkg(t, receivertest.PackageOptions{Seed: 250})
		f.front.plan(fault{dropAnswer: true})
		f.waits, f.onWait = nil, func(time.Duration) {
			if !f.receiverHas(t, data) {
				t.Error("the receiver had not recorded the first upload")
			}
		}
		res, err := f.sender.Send(ctx, data, name)
		if err != nil {
			t.Fatal(err)
		}
		// The retry got the original receipt: its arrival is the first upload's.
		if res.Content == nil || !res.Content.Arrival.Before(res.Attempts[1].Started) {
			t.Errorf("receipt arrival %v, second attempt %v", res.Content, res.Attempts[1].Started)
		}
	})

	t.Run("the R001 answer is kept, unstamped, and is no receipt", func(t *testing.T) {
		data, name := f.pkg(t, receivertest.PackageOptions{Seed: 251})
		sum := sha256.Sum256(data)
		f.front.plan()
		f.waits, f.onWait = nil, nil
		f.stack.SB.Stop(sandboxtest.TSA)
		defer f.stack.SB.Resume(sandboxtest.TSA)
		s := *f.sender
		s.Retry.Attempts = 1
		_, err := s.Send(ctx, data, name)
		var later *outbox.ErrTryLater
		if !errors.As(err, &later) || later.Last.HTTPStatus != http.StatusServiceUnavailable {
			t.Fatalf("want ErrTryLater after a 503, got %v", err)
		}
		if _, err := f.ws.ReceiptFor(ctx, sum); !errors.Is(err, workspace.ErrNotFound) {
			t.Errorf("the R001 answer was stored as a receipt: %v", err)
		}
		atts, _ := f.ws.Attempts(ctx, sum)
		if len(atts) != 1 || atts[0].Answer == nil {
			t.Fatalf("send log %+v", atts)
		}
		kept, err := f.ws.Blob(*atts[0].Answer)
		if err != nil || !bytes.Equal(kept, f.front.uploads()[0].answer) {
			t.Fatalf("the kept answer is not the one received: %v", err)
		}
		if bytes.Contains(kept, []byte("SignatureTimeStamp")) {
			t.Error("the R001 answer carries a time-stamp")
		}
		r := readReceipt(t, f, kept)
		if r == nil || r.Result != receipt.Rejected || len(r.Errors) != 1 || r.Errors[0].Code != errcode.R001 {
			t.Errorf("the kept answer is not an R001 receipt: %+v", r)
		}
		if len(f.waits) != 0 {
			t.Errorf("waited %v with one attempt allowed", f.waits)
		}
		// Not a receipt: the package may (and must) be sent again, and then gets its receipt.
		f.stack.SB.Resume(sandboxtest.TSA)
		res, err := f.sender.Send(ctx, data, name)
		if err != nil || res.Content == nil || res.Content.Result != receipt.Accepted {
			t.Fatalf("the resend: %+v %v", res, err)
		}
		if atts, _ := f.ws.Attempts(ctx, sum); len(atts) != 2 {
			t.Errorf("send log after the resend: %+v", atts)
		}
	})
}

// readReceipt decodes the nyugta.xml of a receipt package without judging its signature.
func readReceipt(t *testing.T, f *fixture, b []byte) *receipt.Receipt {
	t.Helper()
	d, err := es3.Parse(b, es3.ParseOptions{Mode: es3.Strict})
	if err != nil {
		t.Fatalf("not a receipt package: %v", err)
	}
	defer d.Close()
	x, err := d.Payload(0)
	if err != nil {
		t.Fatal(err)
	}
	r, err := receipt.Parse(x, f.sender.Schemas)
	if err != nil {
		t.Fatalf("nyugta.xml: %v", err)
	}
	return r
}

// oneReceipt checks that the package has exactly one receipt, locally and at the receiver, the same
// bytes as the answer the sender got.
func oneReceipt(t *testing.T, f *fixture, sum [32]byte, answer []byte) {
	t.Helper()
	ctx := context.Background()
	r, err := f.ws.ReceiptFor(ctx, sum)
	if err != nil {
		t.Fatalf("no local receipt: %v", err)
	}
	st, err := f.stack.DB.PackageStatus(ctx, sum)
	if err != nil {
		t.Fatalf("not at the receiver: %v", err)
	}
	stored, err := f.stack.DB.ReceiptByID(ctx, st.ReceiptID)
	if err != nil || r.ReceiptID != st.ReceiptID || sha256.Sum256(stored.Bytes) != r.SHA256 || r.SHA256 != sha256.Sum256(answer) {
		t.Errorf("local receipt %s, the receiver's %s (%v)", r.ReceiptID, st.ReceiptID, err)
	}
	kept, err := f.ws.Blob(r.SHA256)
	if err != nil || !bytes.Equal(kept, answer) {
		t.Errorf("the stored receipt is not the answer received: %v", err)
	}
	rs, _ := f.ws.Receipts(ctx)
	n := 0
	for _, x := range rs {
		if x.Package == sum {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d local receipts", n)
	}
}

// TestSendGivesUp: answers that retrying cannot change end the run at once (ErrRefused); a wait
// beyond Retry.MaxWait, the last allowed attempt and a cancelled context end it with nothing
// acknowledged.
func TestSendGivesUp(t *testing.T) {
	f := newFixture(t, receivertest.Options{})
	const backoff = 2 * time.Second
	f.sender.Retry.Backoff = backoff
	unavailable := fault{status: 503, body: []byte("down")}
	cases := []struct {
		name     string
		plan     []fault
		attempts int
		cancel   bool // cancel the context at the first wait
		// want: "refused", "later", "cancelled"; waits the waits made.
		want  string
		waits []time.Duration
		// after is ErrTryLater.After's distance from the clock at the end.
		after time.Duration
	}{
		{name: "400", plan: []fault{{status: 400, body: []byte("bad request")}}, want: "refused"},
		{name: "403", plan: []fault{{status: 403, body: []byte("forbidden")}}, want: "refused"},
		{name: "Retry-After beyond MaxWait", plan: []fault{{status: 503, retryAfter: "3600", body: []byte("maintenance")}},
			want: "later", after: time.Hour},
		{name: "attempts used up", plan: []fault{unavailable, unavailable, unavailable}, attempts: 3,
			want: "later", waits: []time.Duration{backoff, 2 * backoff}, after: 4 * backoff},
		{name: "context cancelled while waiting", plan: []fault{unavailable}, cancel: true, want: "cancelled",
			waits: []time.Duration{backoff}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data, name := f.pkg(t, receivertest.PackageOptions{Seed: uint64(300 + i)})
			sum := sha256.Sum256(data)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f.front.plan(tc.plan...)
			f.waits, f.onWait = nil, nil
			if tc.cancel {
				f.onWait = func(time.Duration) { cancel() }
			}
			s := *f.sender
			s.Retry.Attempts = tc.attempts
			res, err := s.Send(ctx, data, name)
			var refused *outbox.ErrRefused
			var later *outbox.ErrTryLater
			switch tc.want {
			case "refused":
				if !errors.As(err, &refused) || refused.Last.HTTPStatus != tc.plan[0].status {
					t.Fatalf("want ErrRefused, got %v", err)
				}
				if !strings.Contains(err.Error(), string(tc.plan[0].body)) || !strings.Contains(err.Error(), " / ") {
					t.Errorf("refusal text %q", err)
				}
			case "later":
				if !errors.As(err, &later) {
					t.Fatalf("want ErrTryLater, got %v", err)
				}
				// The last attempt's time plus the wait it was told.
				last := res.Attempts[len(res.Attempts)-1].Started
				if d := later.After.Sub(last); d != tc.after {
					t.Errorf("try again %s after the last attempt, want %s", d, tc.after)
				}
				if later.Last.Seq != res.Attempts[len(res.Attempts)-1].Seq {
					t.Errorf("the refusal names attempt %d", later.Last.Seq)
				}
			case "cancelled":
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("want context.Canceled, got %v", err)
				}
			}
			wantAttempts := len(tc.plan)
			if res == nil || len(res.Attempts) != wantAttempts || len(f.front.uploads()) != wantAttempts {
				t.Fatalf("result %+v, %d uploads, want %d attempts", res, len(f.front.uploads()), wantAttempts)
			}
			if len(f.waits) != len(tc.waits) {
				t.Fatalf("waits %v, want %v", f.waits, tc.waits)
			}
			for i := range tc.waits {
				if f.waits[i] != tc.waits[i] {
					t.Errorf("wait %d: %s, want %s", i, f.waits[i], tc.waits[i])
				}
			}
			if atts, _ := f.ws.Attempts(context.Background(), sum); len(atts) != wantAttempts {
				t.Errorf("send log %+v", atts)
			}
			if _, err := f.ws.ReceiptFor(context.Background(), sum); !errors.Is(err, workspace.ErrNotFound) {
				t.Errorf("a receipt was stored: %v", err)
			}
			if f.receiverHas(t, data) {
				t.Error("the receiver has the package")
			}
		})
	}
}

// TestSendInitialCheck (SND-14, SIG-23): a package whose initial check is not valid is refused with
// its report; nothing is recorded and nothing leaves.
func TestSendInitialCheck(t *testing.T) {
	f := newFixture(t, receivertest.Options{})
	ctx := context.Background()
	cases := []struct {
		name string
		make func(t *testing.T) ([]byte, string)
		// indication is the refusal's verdict; "" when the package must go.
		indication report.Indication
	}{
		{name: "valid", make: func(t *testing.T) ([]byte, string) { return f.pkg(t, receivertest.PackageOptions{Seed: 400}) }},
		{name: "grace period not over", indication: report.Indeterminate, make: func(t *testing.T) ([]byte, string) {
			return f.stack.Package(t, receivertest.PackageOptions{Seed: 401})
		}},
		{name: "signature value changed", indication: report.TotalFailed, make: func(t *testing.T) ([]byte, string) {
			data, name := f.pkg(t, receivertest.PackageOptions{Seed: 402})
			return flipSignature(data), name
		}},
		{name: "no signature time-stamp", indication: report.TotalFailed, make: func(t *testing.T) ([]byte, string) {
			return f.pkg(t, receivertest.PackageOptions{Seed: 403, NoTimestamp: true})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data, name := tc.make(t)
			f.front.plan()
			res, err := f.sender.Send(ctx, data, name)
			if tc.indication == "" {
				if err != nil || res.Check.Verdict.Indication != report.TotalPassed {
					t.Fatalf("a valid package was refused: %v", err)
				}
				chk, err := f.ws.PackageCheckOf(ctx, sha256.Sum256(data))
				if err != nil || len(chk.Report) == 0 || len(chk.Validation) == 0 {
					t.Errorf("the initial check was not recorded: %+v %v", chk, err)
				}
				return
			}
			var nv *outbox.ErrNotValid
			if !errors.As(err, &nv) || nv.Report.Verdict.Indication != tc.indication {
				t.Fatalf("want ErrNotValid %s, got %v", tc.indication, err)
			}
			if !strings.Contains(err.Error(), "not sent") || !strings.Contains(err.Error(), "nem küldöm el") {
				t.Errorf("refusal text %q", err)
			}
			if _, err := f.ws.Package(ctx, sha256.Sum256(data)); !errors.Is(err, workspace.ErrNotFound) {
				t.Errorf("the refused package was recorded: %v", err)
			}
			if n := len(f.front.uploads()); n != 0 {
				t.Errorf("%d uploads", n)
			}
		})
	}
}

var sigValue = regexp.MustCompile(`<ds:SignatureValue[^>]*>([A-Za-z0-9+/=\s]{8})`)

// flipSignature changes one base64 character of the first ds:SignatureValue of a copy of b; b
// unchanged when it has none (the test then fails on what it expected of the change).
func flipSignature(b []byte) []byte {
	b = bytes.Clone(b)
	m := sigValue.FindSubmatchIndex(b)
	if m == nil {
		return b
	}
	i := m[2] + 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return b
}
