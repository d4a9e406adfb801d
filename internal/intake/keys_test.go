package intake_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"testing"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/intake"
	"github.com/tagdij/tagdij/internal/keys"
	"github.com/tagdij/tagdij/internal/keys/softhsm"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/tsp"
	"github.com/tagdij/tagdij/internal/xades"
	"github.com/tagdij/tagdij/policy"
)

// TestReceiptKeyOnSoftHSM: the fund's receipt key on a PKCS#11 token (SoftHSM2) signs receipts that
// verify like any other.
func TestReceiptKeyOnSoftHSM(t *testing.T) {
	if err := softhsm.Available(); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	tok, err := softhsm.NewToken(ctx, t.TempDir(), "fund-receipt", "so-pin-1234", "user-pin-1234")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(softhsm.ConfEnv, tok.ConfPath)
	// The stack's receipt signer is set once the stack (and so its fund-receipt key) exists.
	lazy := &switchableSigner{}
	s := receivertest.Start(t, receivertest.Options{Receipt: lazy})
	rk := s.SB.World.MustEntity(sandbox.FundReceipt)
	cfg := keys.PKCS11Config{Module: tok.ModulePath, TokenLabel: tok.Label, PIN: keys.SecretBytes("user-pin-1234")}
	if _, err := keys.ImportToPKCS11(ctx, cfg, "receipt", rk.Key, rk.Cert, rk.Chain...); err != nil {
		t.Fatal(err)
	}
	cfg.KeyLabel = "receipt"
	hk, err := keys.OpenPKCS11(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer hk.Close()
	if !hk.Certificate().Equal(rk.Cert) {
		t.Fatal("the token key's certificate is not the receipt certificate")
	}
	onToken := *s.Signer
	onToken.Options.Signer = hk
	lazy.current = &onToken
	data, name := s.Package(t, receivertest.PackageOptions{})
	out := s.Submit(t, data, name)
	r := s.VerifyReceipt(t, out.Receipt)
	if out.Kind != intake.Accepted || r.Result != receipt.Accepted {
		t.Fatalf("%s %v", out.Kind, out.Codes)
	}
}

// TestTSADownNothingAcknowledged: with the TSA unreachable no receipt can be time-stamped, so nothing
// is acknowledged: ErrUnavailable with a retry time, an unstamped R001 receipt signed by the key ("not
// accepted, retry"), nothing stored; once the TSA answers, the same upload is accepted.
func TestTSADownNothingAcknowledged(t *testing.T) {
	// A port that refuses connections: listen, note the address, close.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/tsa"
	ln.Close()
	var s *receivertest.Stack
	down := &switchableSigner{}
	s = receivertest.Start(t, receivertest.Options{Receipt: down})
	deadTSA := &tsp.Client{URL: dead, Trust: pathval.TSAVerifier{Anchors: s.Env.TSAs, Algorithms: s.Env.Algorithms()}}
	broken := *s.Signer
	broken.Options.TSA = deadTSA
	down.current = &broken
	data, name := s.Package(t, receivertest.PackageOptions{})
	out, err := s.Service.Submit(context.Background(), intake.Upload{FileName: name, Body: bytes.NewReader(data), SizeHint: -1})
	if !errors.Is(err, intake.ErrUnavailable) || out == nil || out.RetryAfter <= 0 {
		t.Fatalf("err %v, outcome %+v", err, out)
	}
	if out.Unacknowledged == nil {
		t.Fatal("no R001 receipt although the key still signs")
	}
	// The R001 receipt: signed by the receipt key, core-valid, no time-stamp (so incomplete, F005),
	// saying R001.
	d, perr := es3.Parse(out.Unacknowledged, es3.ParseOptions{})
	if perr != nil {
		t.Fatal(perr)
	}
	rep, verr := xades.VerifyDossier(context.Background(), d, out.Unacknowledged, xades.VerifyOptions{Env: s.Env, Kind: policy.KindReceipt, Now: s.SB.Clock.Now()})
	body, berr := d.Payload(0)
	d.Close()
	if verr != nil || len(rep.Signatures) != 1 || rep.Signatures[0].Core != report.CoreValid {
		t.Fatalf("R001 receipt signature: %v %+v", verr, rep)
	}
	if rep.Verdict.Indication == report.TotalPassed {
		t.Error("an unstamped receipt verified as fully valid")
	}
	r001, rerr := receipt.Parse(body, s.Schemas)
	if berr != nil || rerr != nil || r001.Result != receipt.Rejected || len(r001.Errors) != 1 || r001.Errors[0].Code != errcode.R001 {
		t.Errorf("the unacknowledged receipt: %v %v %+v", berr, rerr, r001)
	}
	sum := sha256Of(data)
	if _, err := s.DB.PackageStatus(context.Background(), sum); !errors.Is(err, intake.ErrNotFound) {
		t.Errorf("an unacknowledged upload was recorded: %v", err)
	}
	if s.Blobs.Has(sum) {
		t.Error("an unacknowledged upload was stored")
	}
	// TSA back: the retry is accepted.
	down.current = s.Signer
	again := s.Submit(t, data, name)
	r := s.VerifyReceipt(t, again.Receipt)
	if again.Kind != intake.Accepted || r.Result != receipt.Accepted || slices.Contains(again.Codes, errcode.R001) {
		t.Errorf("retry: %s %v", again.Kind, again.Codes)
	}
}

// switchableSigner forwards to the current signer (a test switch between a TSA that is down and one
// that answers; both real).
type switchableSigner struct{ current *intake.KeySigner }

func (s *switchableSigner) Sign(ctx context.Context, r *receipt.Receipt) ([]byte, string, error) {
	return s.current.Sign(ctx, r)
}

func (s *switchableSigner) SignUnstamped(ctx context.Context, r *receipt.Receipt) ([]byte, string, error) {
	return s.current.SignUnstamped(ctx, r)
}
