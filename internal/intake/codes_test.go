package intake_test

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/intake"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiver"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/registry"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/xades"
	"github.com/tagdij/tagdij/policy"
)

// flip changes one base64 character inside the first element named open, skip bytes after its start tag.
func flip(t *testing.T, data []byte, open string, skip int) []byte {
	t.Helper()
	i := bytes.Index(data, []byte(open))
	if i < 0 {
		t.Fatalf("no %s", open)
	}
	i += bytes.IndexByte(data[i:], '>') + 1 + skip
	out := bytes.Clone(data)
	if out[i] == 'A' {
		out[i] = 'B'
	} else {
		out[i] = 'A'
	}
	return out
}

// cut removes the first element whose start tag begins with open (and its end tag close).
func cut(t *testing.T, data []byte, open, close string) []byte {
	t.Helper()
	i := bytes.Index(data, []byte(open))
	j := bytes.Index(data, []byte(close))
	if i < 0 || j < i {
		t.Fatalf("no %s…%s", open, close)
	}
	return append(bytes.Clone(data[:i]), data[j+len(close):]...)
}

type upload struct {
	data []byte
	name string
}

func codes(r *receipt.Receipt) []errcode.Code {
	var out []errcode.Code
	for _, f := range r.Errors {
		out = append(out, f.Code)
	}
	return out
}

// TestRejectionCodes: every T, F, A (and B001/B002) code the receiver raises from the upload itself,
// each uploaded over loopback TLS and answered with a signed rejection receipt that verifies
// (receiptpkg.Verify: signature and time-stamp); a byte-identical retry gets the identical receipt.
func TestRejectionCodes(t *testing.T) {
	s := receivertest.Start(t, receivertest.Options{})
	h := s.StartHTTP(t, receivertest.Options{Limits: receiver.Limits{PerAddressRate: 1000, PerAddressBurst: 1000}})
	ctx := context.Background()
	good, goodName := s.Package(t, receivertest.PackageOptions{})
	minta, _ := s.SB.World.Signers("minta")
	// A package signed under the production policy (A010), and one signed as a receipt (F008).
	signedAs := func(pol *policy.Policy, kind policy.DocKind, signingTime time.Time) ([]byte, string) {
		unsigned, name := s.Package(t, receivertest.PackageOptions{SignerEntities: []*sandbox.Entity{}, NoTimestamp: true})
		signers, _ := s.SB.World.Signers("pelda")
		e := signers[0]
		data, _, err := xades.Sign(ctx, unsigned, xades.SignOptions{Signer: e.Key, Certificate: e.Cert, Chain: e.Chain, Policy: pol, Kind: kind, SigningTime: signingTime})
		if err != nil {
			t.Fatal(err)
		}
		if data, _, err = xades.Timestamp(ctx, data, xades.TimestampOptions{TSA: s.TSA}); err != nil {
			t.Fatal(err)
		}
		return data, name
	}
	// lenient is the sandbox policy (same identifier and hash) with no requirement on the signer
	// certificate: it makes the signatures another product might send and our signer refuses.
	lenient, err := policy.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	for i := range lenient.Authorities.Roles {
		r := &lenient.Authorities.Roles[i]
		r.Qualified, r.QCStatements, r.KeyUsage, r.ExtKeyUsage = false, nil, 0, 0
	}
	signedBy := func(e *sandbox.Entity, signingTime time.Time) upload {
		unsigned, name := s.Package(t, receivertest.PackageOptions{SignerEntities: []*sandbox.Entity{}, NoTimestamp: true})
		data, _, err := xades.Sign(ctx, unsigned, xades.SignOptions{Signer: e.Key, Certificate: e.Cert, Chain: e.Chain, Policy: lenient,
			Kind: policy.KindPackage, SigningTime: signingTime})
		if err != nil {
			t.Fatal(err)
		}
		if data, _, err = xades.Timestamp(ctx, data, xades.TimestampOptions{TSA: s.TSA}); err != nil {
			t.Fatal(err)
		}
		return upload{data, name}
	}
	prod, err := policy.Production()
	if err != nil {
		t.Fatal(err)
	}
	pkg := func(o receivertest.PackageOptions) upload {
		d, n := s.Package(t, o)
		return upload{d, n}
	}
	renamed := strings.Replace(goodName, "_B001_", "_B009_", 1)
	if renamed == goodName {
		t.Fatalf("fixture name %s", goodName)
	}
	for _, c := range []struct {
		name string
		up   func() upload
		want errcode.Code
	}{
		{"T001 not a package name", func() upload { return upload{good, "bevallas.es3"} }, errcode.T001},
		{"T001 path traversal", func() upload { return upload{good, "../../" + goodName} }, errcode.T001},
		{"T002 wrong extension", func() upload { return upload{good, strings.TrimSuffix(goodName, ".es3") + ".xml"} }, errcode.T002},
		{"T005 not XML", func() upload { return upload{[]byte("hello, fund"), goodName} }, errcode.T005},
		{"T005 not a dossier", func() upload { return upload{[]byte(`<a xmlns="urn:x"/>`), goodName} }, errcode.T005},
		{"T006 DTD", func() upload {
			return upload{[]byte(`<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`), goodName}
		}, errcode.T006},
		{"F010 renamed", func() upload { return upload{good, renamed} }, errcode.F010},
		{"F005 no time-stamp", func() upload { return pkg(receivertest.PackageOptions{NoTimestamp: true}) }, errcode.F005},
		{"F006 CompleteCertificateRefs removed", func() upload {
			d, n := s.Package(t, receivertest.PackageOptions{})
			return upload{cut(t, d, "<xades:CompleteCertificateRefs", "</xades:CompleteCertificateRefs>"), n}
		}, errcode.F006},
		{"A001 signature value", func() upload {
			d, n := s.Package(t, receivertest.PackageOptions{})
			return upload{flip(t, d, "<ds:SignatureValue", 5), n}
		}, errcode.A001},
		{"A002 payload changed", func() upload {
			d, n := s.Package(t, receivertest.PackageOptions{})
			return upload{flip(t, d, "<ds:Object", 40), n}
		}, errcode.A002},
		{"A003 no chain to an accepted CA", func() upload {
			return signedBy(s.SB.World.MustEntity(sandbox.FundTLS), s.SB.Clock.Now())
		}, errcode.A003},
		{"A004 not qualified", func() upload {
			return signedBy(s.SB.World.MustEntity(sandbox.FundReceipt), s.SB.Clock.Now())
		}, errcode.A004},
		{"A006 signer expired", func() upload {
			e := s.SB.World.MustEntity(sandbox.ExpiredSigner)
			return signedBy(e, e.Cert.NotAfter.Add(-time.Hour))
		}, errcode.A006},
		{"A007 time-stamp token changed", func() upload {
			d, n := s.Package(t, receivertest.PackageOptions{})
			return upload{flip(t, d, "<xades:EncapsulatedTimeStamp", 200), n}
		}, errcode.A007},
		{"A008 signing long before the time-stamp", func() upload {
			d, n := signedAs(s.Policy, policy.KindPackage, s.SB.Clock.Now().Add(-45*time.Minute))
			return upload{d, n}
		}, errcode.A008},
		{"A010 another signature policy", func() upload { d, n := signedAs(prod, policy.KindPackage, s.SB.Clock.Now()); return upload{d, n} }, errcode.A010},
		{"B002 a signer not registered for the declarant", func() upload {
			signers, _ := s.SB.World.Signers("pelda")
			return pkg(receivertest.PackageOptions{SignerEntities: []*sandbox.Entity{signers[0], minta[0]}})
		}, errcode.B002},
		{"B001 period before the first e-filed period", func() upload {
			return pkg(receivertest.PackageOptions{Period: declaration.Period{Year: 2020, Month: time.March}})
		}, errcode.B001},
	} {
		t.Run(c.name, func(t *testing.T) {
			// Over the wire: the receiver on loopback TLS (HTTP/2), as a sender reaches it.
			up := c.up()
			resp, body, err := h.Upload(ctx, up.data, up.name)
			if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("X-Tagdij-Result") != string(intake.Rejected) {
				t.Fatalf("upload: %v %v %s, want a rejection with %s", err, resp, resp.Header.Get("X-Tagdij-Result"), c.want)
			}
			r := s.VerifyReceipt(t, body)
			if r.Result != receipt.Rejected || !slices.Contains(codes(r), c.want) {
				t.Errorf("receipt %s %v, want %s", r.Result, codes(r), c.want)
			}
			for _, f := range r.Errors {
				if f.HU == "" || f.EN == "" {
					t.Errorf("finding %s without both texts", f.Code)
				}
			}
			if _, again, err := h.Upload(ctx, up.data, up.name); err != nil || !bytes.Equal(again, body) {
				t.Errorf("re-upload: %v, identical receipt %v", err, bytes.Equal(again, body))
			}
		})
	}
}

// TestDuplicateSubmission: the same submission id with other bytes is T004; the original stays
// accepted, and a byte-identical re-upload of it returns its receipt unchanged.
func TestDuplicateSubmission(t *testing.T) {
	s := receivertest.Start(t, receivertest.Options{})
	a, an := s.Package(t, receivertest.PackageOptions{Seed: 77})
	b, bn := s.Package(t, receivertest.PackageOptions{Seed: 77, Signers: []int{1}})
	first := s.Submit(t, a, an)
	if first.Kind != intake.Accepted {
		t.Fatalf("first: %s %v", first.Kind, first.Codes)
	}
	second := s.Submit(t, b, bn)
	r := s.VerifyReceipt(t, second.Receipt)
	if second.Kind != intake.Rejected || !slices.Contains(codes(r), errcode.T004) {
		t.Fatalf("second: %s %v", second.Kind, codes(r))
	}
	again := s.Submit(t, a, an)
	if again.Kind != intake.Replayed || !bytes.Equal(again.Receipt, first.Receipt) || again.ReceiptID != first.ReceiptID {
		t.Errorf("replay: %s", again.Kind)
	}
}

// TestTooLarge: over the limit is T003 in a signed receipt; the cut-off body is not stored.
func TestTooLarge(t *testing.T) {
	s := receivertest.Start(t, receivertest.Options{MaxBytes: 4096})
	data, name := s.Package(t, receivertest.PackageOptions{})
	out := s.Submit(t, data, name)
	r := s.VerifyReceipt(t, out.Receipt)
	if out.Kind != intake.TooLarge || !slices.Contains(codes(r), errcode.T003) || out.Size != 4097 {
		t.Fatalf("%s %v size %d", out.Kind, codes(r), out.Size)
	}
	if s.Blobs.Has(out.SHA256) {
		t.Error("a cut-off body was stored as a package")
	}
}

// TestArrivalGapAndRevocation: A009 when the package arrives more than 72 h after its time-stamp; A005
// when the signer was revoked before T (judged after the grace period).
func TestArrivalGapAndRevocation(t *testing.T) {
	s := receivertest.Start(t, receivertest.Options{})
	late, lateName := s.Package(t, receivertest.PackageOptions{})
	signers, _ := s.SB.World.Signers("pelda")
	// Revoked an hour before the signature: A005, final at once.
	s.SB.Revoke(t, signers[2].Name, 1, s.SB.Clock.Now().Add(-time.Hour))
	revoked, revName := s.Package(t, receivertest.PackageOptions{Signers: []int{2}})
	s.SB.Clock.Advance(10 * time.Second)
	out := s.Submit(t, revoked, revName)
	r := s.VerifyReceipt(t, out.Receipt)
	if out.Kind != intake.Rejected || !slices.Contains(codes(r), errcode.A005) || r.PreCheck.State != receipt.Invalid {
		t.Errorf("revoked: %s %v %s", out.Kind, codes(r), r.PreCheck.State)
	}
	s.SB.Clock.Advance(73 * time.Hour)
	out = s.Submit(t, late, lateName)
	r = s.VerifyReceipt(t, out.Receipt)
	if out.Kind != intake.Rejected || !slices.Contains(codes(r), errcode.A009) {
		t.Errorf("late: %s %v", out.Kind, codes(r))
	}
}

// TestRegistryRules: SPEC §6 at the receiver, table-driven on versions of the employer's registration.
func TestRegistryRules(t *testing.T) {
	s := receivertest.Start(t, receivertest.Options{})
	ctx := context.Background()
	emp, _ := s.SB.World.Employer("pelda")
	key := registry.NewKey(declaration.IDAdoszam, emp.TaxNumber, s.Fund.Code)
	base, err := s.DB.Registry().Current(ctx, key)
	if err != nil || len(base.Signers) < 3 {
		t.Fatalf("registration: %v", err)
	}
	yesterday, _ := registry.LocalDate(s.SB.Clock.Now().Add(-24 * time.Hour))
	type edit func(ss []registry.Signer)
	alone := func(ss []registry.Signer) {}
	jointly := func(ss []registry.Signer) {
		ss[0].Role, ss[0].CoSigner = registry.Jointly, ss[1].ID
	}
	mandatory2 := func(ss []registry.Signer) { ss[1].Mandatory = true }
	mandatoryWithDeputy := func(ss []registry.Signer) { ss[0].Mandatory, ss[0].Deputy = true, ss[2].ID }
	expired1 := func(ss []registry.Signer) { ss[0].ValidTo = yesterday }
	withdrawn := func(sh *registry.Sheet) {
		sh.Withdrawal = &registry.Withdrawal{Date: yesterday, Reason: "teszt / test"}
	}
	for _, c := range []struct {
		name    string
		edit    edit
		sheet   func(*registry.Sheet)
		signers []int
		want    intake.Kind
		code    errcode.Code
		roles   []receipt.Role
	}{
		{"alone", alone, nil, []int{0}, intake.Accepted, "", []receipt.Role{receipt.Alone}},
		{"jointly with the co-signer", jointly, nil, []int{0, 1}, intake.Accepted, "", []receipt.Role{receipt.Jointly, receipt.Alone}},
		{"jointly without the co-signer", jointly, nil, []int{0}, intake.Rejected, errcode.B004, nil},
		{"mandatory signer missing", mandatory2, nil, []int{0}, intake.Rejected, errcode.B003, nil},
		{"mandatory signer present", mandatory2, nil, []int{1}, intake.Accepted, "", nil},
		{"deputy standing in for a mandatory signer", mandatoryWithDeputy, nil, []int{2}, intake.Accepted, "", nil},
		{"signer outside its validity period", expired1, nil, []int{0}, intake.Rejected, errcode.B005, nil},
		{"registration withdrawn", alone, withdrawn, []int{0}, intake.Rejected, errcode.B001, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			sh := base.Clone()
			sh.ID = uuid.NewString()
			c.edit(sh.Signers)
			if c.sheet != nil {
				c.sheet(sh)
			}
			if err := s.DB.Registry().Put(ctx, sh); err != nil {
				t.Fatal(err)
			}
			data, name := s.Package(t, receivertest.PackageOptions{Signers: c.signers})
			out := s.Submit(t, data, name)
			r := s.VerifyReceipt(t, out.Receipt)
			if out.Kind != c.want || (c.code != "" && !slices.Contains(codes(r), c.code)) {
				t.Fatalf("%s %v, want %s %s", out.Kind, codes(r), c.want, c.code)
			}
			for i, role := range c.roles {
				if i >= len(r.PreCheck.Signatures) || r.PreCheck.Signatures[i].Role != role {
					t.Errorf("roles %+v, want %v", r.PreCheck.Signatures, c.roles)
				}
			}
			st, err := s.DB.PackageStatus(ctx, out.SHA256)
			if err != nil || st.Accepted != (c.want == intake.Accepted) {
				t.Errorf("status %+v %v", st, err)
			}
		})
	}
}

// TestRegistryChangeKeepsDecisions: a registry change never alters a decision already made — after
// the registration is withdrawn, the accepted package's receipt and status are unchanged and a retry
// still gets its receipt, while a new package is now B001.
func TestRegistryChangeKeepsDecisions(t *testing.T) {
	s := receivertest.Start(t, receivertest.Options{})
	ctx := context.Background()
	data, name := s.Package(t, receivertest.PackageOptions{})
	first := s.Submit(t, data, name)
	if first.Kind != intake.Accepted {
		t.Fatalf("%s %v", first.Kind, first.Codes)
	}
	before, _ := s.DB.PackageStatus(ctx, first.SHA256)
	emp, _ := s.SB.World.Employer("pelda")
	yesterday, _ := registry.LocalDate(s.SB.Clock.Now().Add(-24 * time.Hour))
	if _, err := s.DB.Registry().Withdraw(ctx, registry.NewKey(declaration.IDAdoszam, emp.TaxNumber, s.Fund.Code), yesterday, "teszt / test"); err != nil {
		t.Fatal(err)
	}
	again := s.Submit(t, data, name)
	after, _ := s.DB.PackageStatus(ctx, first.SHA256)
	if again.Kind != intake.Replayed || !bytes.Equal(again.Receipt, first.Receipt) || after.Status != before.Status || !after.Accepted {
		t.Errorf("after the withdrawal: %s, same receipt %v, status %+v", again.Kind, bytes.Equal(again.Receipt, first.Receipt), after)
	}
	next, nextName := s.Package(t, receivertest.PackageOptions{})
	out := s.Submit(t, next, nextName)
	if r := s.VerifyReceipt(t, out.Receipt); out.Kind != intake.Rejected || !slices.Contains(codes(r), errcode.B001) {
		t.Errorf("a new package after the withdrawal: %s %v", out.Kind, codes(r))
	}
}
