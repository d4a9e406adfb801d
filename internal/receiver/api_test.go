package receiver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/intake"
	"github.com/tagdij/tagdij/internal/memstat"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiptpkg"
	"github.com/tagdij/tagdij/internal/receiver"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/sandbox"
)

// TestHostileBodies: bodies that are not packages — garbage, empty, XML that is no dossier, a DTD
// with entities, an entity expansion bomb — are each answered 200 with a signed rejection receipt
// carrying T005 (not a dossier) or T006 (forbidden XML construct), and recorded.
func TestHostileBodies(t *testing.T) {
	s := receivertest.Start(t, receivertest.Options{})
	h := s.StartHTTP(t, receivertest.Options{Limits: receiver.Limits{PerAddressRate: 100, PerAddressBurst: 100}})
	// A well-formed package name, so that the body is what is judged.
	_, name := s.Package(t, receivertest.PackageOptions{})
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">` +
		`<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">` +
		`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>` +
		`<es:Dossier xmlns:es="https://www.microsec.hu/ds/e-szigno30#">&lol3;</es:Dossier>`
	for _, c := range []struct {
		name string
		body string
		want errcode.Code
	}{
		{"garbage", "\x00\x01\x02 this is not XML \xff\xfe", errcode.T005},
		{"empty", "", errcode.T005},
		{"XML but no dossier", `<?xml version="1.0"?><html><body>hello</body></html>`, errcode.T005},
		{"external entity", `<?xml version="1.0"?><!DOCTYPE es:Dossier [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
			`<es:Dossier xmlns:es="https://www.microsec.hu/ds/e-szigno30#">&xxe;</es:Dossier>`, errcode.T006},
		{"entity expansion", laughs, errcode.T006},
		{"bare DOCTYPE", `<?xml version="1.0"?><!DOCTYPE es:Dossier><es:Dossier xmlns:es="https://www.microsec.hu/ds/e-szigno30#"/>`, errcode.T006},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body, err := h.Post(t.Context(), h.Client, []byte(c.body), attachment(name))
			if err != nil {
				t.Fatal(err)
			}
			r := mustReceipt(t, s, resp, body, http.StatusOK)
			if r.Result != receipt.Rejected || !slices.Contains(codes(r), c.want) {
				t.Errorf("receipt %s %v, want ELUTASITVA with %s", r.Result, codes(r), c.want)
			}
			if bytes.Contains(body, []byte("root:")) {
				t.Error("the receipt carries /etc/passwd")
			}
			st, err := s.DB.PackageStatus(t.Context(), sha([]byte(c.body)))
			if err != nil || st.ReceiptID != r.ID || st.Accepted {
				t.Errorf("row %+v %v", st, err)
			}
		})
	}
}

// TestZipBombNeverInflated: a package whose encrypted payload is a ZIP that would inflate to 2 GiB,
// signed and time-stamped like any other, is answered with a normal receipt decided on the signatures
// and metadata alone: the receiver holds no decryption key and never decompresses, so the live Go heap
// grows by a few megabytes, not gigabytes.
func TestZipBombNeverInflated(t *testing.T) {
	const chunks = 2048 // MiB
	// The construction is a real bomb: a small one of the same making inflates in full.
	if n := inflated(t, zipBomb(t, 3)); n != 3<<20 {
		t.Fatalf("the bomb construction inflates to %d bytes, want %d", n, 3<<20)
	}
	bomb := zipBomb(t, chunks)
	t.Logf("ZIP of %d bytes inflating to %d MiB", len(bomb), chunks)
	s := receivertest.Start(t, receivertest.Options{})
	h := s.StartHTTP(t, receivertest.Options{})
	data, name := s.Package(t, receivertest.PackageOptions{Zip: bomb})

	// Warm the connection and the code paths, then measure one upload.
	if _, _, err := h.Post(t.Context(), h.Client, []byte("warm-up"), attachment("x.es3")); err != nil {
		t.Fatal(err)
	}
	before := memstat.HeapNow()
	hs := memstat.StartHeapSampler()
	start := time.Now()
	resp, body, err := h.Upload(t.Context(), data, name)
	took := time.Since(start)
	peak := hs.Finish()
	if err != nil {
		t.Fatal(err)
	}
	r := mustReceipt(t, s, resp, body, http.StatusOK)
	t.Logf("package %d bytes answered in %s, live heap %d MiB → peak %d MiB", len(data), took, before>>20, peak>>20)
	if r.Result != receipt.Accepted || r.Package.SHA256 != sha(data) {
		t.Errorf("receipt %s %v, want BEFOGADVA on the signatures", r.Result, codes(r))
	}
	for _, c := range codes(r) {
		if strings.HasPrefix(string(c), "D") {
			t.Errorf("the receiver looked into the payload: %s", c)
		}
	}
	// Generous: the package is under 3 MB and is held a few times over while parsed and verified;
	// inflating would need 2 GiB.
	if growth := int64(peak) - int64(before); growth > 256<<20 {
		t.Errorf("live heap grew by %d MiB during the upload", growth>>20)
	}
	if took > deadline {
		t.Errorf("the upload took %s", took)
	}
}

// TestPathTraversalFileNames: a file name with a directory part — relative, Windows-style, absolute,
// or RFC 2231-encoded — is rejected with a signed T001 receipt even on a valid package, and no file
// appears outside the blob store: the name is never used as a path.
func TestPathTraversalFileNames(t *testing.T) {
	s := receivertest.Start(t, receivertest.Options{})
	h := s.StartHTTP(t, receivertest.Options{})
	type upload struct {
		cd, name string
		data     []byte
	}
	var ups []upload
	for _, name := range []string{"../../etc/passwd.es3", `..\x.es3`, "/etc/passwd.es3", `C:\Windows\x.es3`, "../"} {
		data, valid := s.Package(t, receivertest.PackageOptions{})
		if name == "../" {
			name += valid
		}
		ups = append(ups, upload{attachment(name), name, data})
	}
	data, valid := s.Package(t, receivertest.PackageOptions{})
	ups = append(ups, upload{"attachment; filename*=UTF-8''..%2F..%2F" + valid, "../../" + valid, data})

	root := filepath.Dir(s.DataDir)
	before := files(t, root)
	for _, u := range ups {
		t.Run(u.name, func(t *testing.T) {
			resp, body, err := h.Post(t.Context(), h.Client, u.data, u.cd)
			if err != nil {
				t.Fatal(err)
			}
			r := mustReceipt(t, s, resp, body, http.StatusOK)
			if r.Result != receipt.Rejected || !slices.Equal(codes(r), []errcode.Code{errcode.T001}) {
				t.Errorf("receipt %s %v, want ELUTASITVA with T001 only", r.Result, codes(r))
			}
			if r.Package.FileName != u.name {
				t.Errorf("receipt names %q, want %q", r.Package.FileName, u.name)
			}
		})
	}
	dataRel, _ := filepath.Rel(root, s.DataDir)
	dataRel = filepath.ToSlash(dataRel)
	for _, f := range files(t, root) {
		if slices.Contains(before, f) {
			continue
		}
		base := path.Base(f)
		if strings.HasPrefix(f, dataRel+"/blobs/sha256/") && len(base) == 64 || strings.HasPrefix(f, dataRel+"/receiver.db") {
			continue
		}
		// The revocation cache (trust.Config.RevocationCache) names its files by hashes, never by input.
		if path.Base(path.Dir(f)) == "cache" && (strings.HasPrefix(base, "ocsp-") || strings.HasPrefix(base, "crl-")) && strings.HasSuffix(base, ".rev") {
			continue
		}
		t.Errorf("new file outside the blob store: %s", f)
	}
	for _, p := range []string{"/etc/passwd.es3", "/x.es3", filepath.Join(filepath.Dir(root), "passwd.es3")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s exists", p)
		}
	}
}

// TestMissingFileName: without a file name in Content-Disposition the upload is refused 400 with a
// bilingual text, over both protocols, and nothing is read or recorded.
func TestMissingFileName(t *testing.T) {
	s := receivertest.Start(t, receivertest.Options{})
	h := s.StartHTTP(t, receivertest.Options{Limits: receiver.Limits{PerAddressRate: 100, PerAddressBurst: 100}})
	body := []byte("a body without a name")
	for _, cd := range []string{"", "attachment", `attachment; filename=""`, `attachment; filename="unterminated`, "inline; name=x.es3"} {
		for _, c := range []struct {
			proto  string
			client *http.Client
		}{{"HTTP/2", h.Client}, {"HTTP/1.1", h.Client1}} {
			t.Run(c.proto+" "+cd, func(t *testing.T) {
				resp, rb, err := h.Post(t.Context(), c.client, body, cd)
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != http.StatusBadRequest {
					t.Fatalf("status %d, want 400: %s", resp.StatusCode, rb)
				}
				bilingual(t, resp, rb, "fájlnév", "file name")
			})
		}
	}
	if _, err := s.DB.PackageStatus(t.Context(), sha(body)); !errors.Is(err, intake.ErrNotFound) {
		t.Errorf("an upload without a name was recorded: %v", err)
	}
	if v := metric(t, h, "tagdij_receiver_uploads_total", `outcome="no-file-name"`); v != 10 {
		t.Errorf("no-file-name uploads counted %v, want 10", v)
	}
}

// panicky is a Submitter that panics: the only test double here, for the recovery middleware.
type panicky struct{}

func (panicky) Submit(context.Context, intake.Upload) (*intake.Outcome, error) {
	panic("submitter exploded")
}

// TestPanicRecovered: a panic while handling an upload is answered 500 with a body (an R001 receipt
// signed by the fund: not accepted, retry), logged with the request id, counted, and the process
// goes on serving.
func TestPanicRecovered(t *testing.T) {
	s := receivertest.Start(t, receivertest.Options{})
	var logs syncBuffer
	h := s.StartHTTP(t, receivertest.Options{Submitter: panicky{}, Logger: jsonLogger(&logs)})
	for _, client := range []*http.Client{h.Client, h.Client1} {
		resp, body, err := h.Post(t.Context(), client, []byte("anything"), attachment("x.es3"))
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusInternalServerError || len(body) == 0 {
			t.Fatalf("status %d, body %d bytes; want 500 with a body", resp.StatusCode, len(body))
		}
		if ct := resp.Header.Get("Content-Type"); ct != receiver.MediaType {
			t.Errorf("500 body (%s) is not a receipt: %.300s", ct, body)
		}
		// Signed by the receipt key but, like every R001 answer, not time-stamped: it acknowledges
		// nothing, so a receipt verifier refuses to read it (the time-stamp is missing); the
		// signature itself is intact.
		_, rep, err := receiptpkg.Verify(t.Context(), body, receiptpkg.VerifyOptions{Env: s.Env, Schemas: s.Schemas})
		if !errors.Is(err, receiptpkg.ErrNotDecoded) || len(rep.Signatures) != 1 || rep.Signatures[0].Core != report.CoreValid ||
			!rep.Signatures[0].Certificate.Equal(s.SB.World.MustEntity(sandbox.FundReceipt).Cert) {
			t.Errorf("500 body is not signed by the receipt key: %v %+v", err, rep)
		}
		id := resp.Header.Get("X-Request-Id")
		var found bool
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, `"event":"http.panic"`) && strings.Contains(line, id) && strings.Contains(line, "submitter exploded") {
				found = true
			}
		}
		if id == "" || !found {
			t.Errorf("no panic log line for request %q:\n%s", id, logs.String())
		}
	}
	if v := metric(t, h, "tagdij_receiver_panics_total", ""); v != 2 {
		t.Errorf("panics counted %v, want 2", v)
	}
	resp, _, err := h.Get(t.Context(), "/v1/packages/"+strings.Repeat("ab", 32)+"/status")
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("after the panics: %v %v", resp, err)
	}
}

// TestEndpoints: the status endpoint reveals nothing for an unknown hash (404) and refuses a
// malformed one (400); for a received package it returns the JSON fields; GET /v1/receipts/{id}
// returns the bytes the POST returned; a byte-identical re-upload returns the identical receipt; the
// same submission id with other bytes is rejected T004. /metrics counts the outcomes seen and /readyz
// reports its checks.
func TestEndpoints(t *testing.T) {
	s := receivertest.Start(t, receivertest.Options{})
	h := s.StartHTTP(t, receivertest.Options{})
	ctx := t.Context()

	unknown := "/v1/packages/" + strings.Repeat("0123456789abcdef", 4) + "/status"
	resp, body, err := h.Get(ctx, unknown)
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown hash: %v %v", resp, err)
	}
	if string(body) != "Ismeretlen csomag. / Unknown package.\n" || resp.Header.Get("X-Tagdij-Receipt-Id") != "" {
		t.Errorf("unknown hash reveals %q %v", body, resp.Header)
	}
	for _, bad := range []string{"abc", strings.Repeat("g", 64), strings.Repeat("a", 65), strings.Repeat("a", 62)} {
		resp, body, err := h.Get(ctx, "/v1/packages/"+bad+"/status")
		if err != nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("hash %q: %v %v", bad, resp, err)
			continue
		}
		bilingual(t, resp, body, "Hibás", "Malformed")
	}
	for _, c := range []struct {
		id   string
		code int
	}{{"not-a-uuid", http.StatusBadRequest}, {"00000000-0000-4000-8000-000000000000", http.StatusNotFound}} {
		if resp, _, err := h.Get(ctx, "/v1/receipts/"+c.id); err != nil || resp.StatusCode != c.code {
			t.Errorf("receipt %s: %v %v, want %d", c.id, resp, err, c.code)
		}
	}

	const seed = 4242
	data, name := s.Package(t, receivertest.PackageOptions{Seed: seed})
	resp, first, err := h.Upload(ctx, data, name)
	if err != nil {
		t.Fatal(err)
	}
	r := mustReceipt(t, s, resp, first, http.StatusOK)
	if r.Result != receipt.Accepted {
		t.Fatalf("%s %v", r.Result, codes(r))
	}

	resp, body, err = h.Get(ctx, "/v1/packages/"+strings.ToUpper(hexSum(data))+"/status")
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status: %v %v", resp, err)
	}
	var fields map[string]any
	if err := json.Unmarshal(body, &fields); err != nil {
		t.Fatal(err)
	}
	var st receiver.StatusJSON
	json.Unmarshal(body, &st)
	for _, f := range []string{"sha256", "received", "result", "preCheck", "status", "earliestFinalCheck", "receiptId", "submissionId"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("status JSON lacks %q: %s", f, body)
		}
	}
	if st.SHA256 != hexSum(data) || st.Result != "BEFOGADVA" || st.PreCheck != string(r.PreCheck.State) || st.Status != "awaiting-final-check" ||
		st.ReceiptID != r.ID || st.SubmissionID != r.Package.SubmissionID || !st.Received.Equal(r.Arrival) || !st.EarliestFinalCheck.Equal(r.EarliestFinalCheck) {
		t.Errorf("status %+v disagrees with the receipt %+v", st, r)
	}

	resp, body, err = h.Get(ctx, "/v1/receipts/"+r.ID)
	if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(body, first) || resp.Header.Get("Content-Type") != receiver.MediaType {
		t.Errorf("GET receipt: %v %v, identical %v", resp, err, bytes.Equal(body, first))
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "TBN_") {
		t.Errorf("GET receipt Content-Disposition %q", cd)
	}

	// An idempotent retry, over the other protocol.
	resp, body, err = h.Post(ctx, h.Client1, data, attachment(name))
	if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(body, first) || resp.Header.Get("X-Tagdij-Result") != string(intake.Replayed) {
		t.Errorf("re-upload: %v %v %s, identical %v", resp, err, resp.Header.Get("X-Tagdij-Result"), bytes.Equal(body, first))
	}

	// The same declaration packed again: same submission id, other bytes.
	dup, dupName := s.Package(t, receivertest.PackageOptions{Seed: seed})
	if bytes.Equal(dup, data) {
		t.Fatal("the second package has the same bytes")
	}
	resp, body, err = h.Upload(ctx, dup, dupName)
	if err != nil {
		t.Fatal(err)
	}
	r2 := mustReceipt(t, s, resp, body, http.StatusOK)
	if r2.Package.SubmissionID != r.Package.SubmissionID || r2.Result != receipt.Rejected || !slices.Contains(codes(r2), errcode.T004) {
		t.Errorf("same submission id: %s %s %v, want ELUTASITVA with T004", r2.Package.SubmissionID, r2.Result, codes(r2))
	}
	resp, body, _ = h.Get(ctx, "/v1/packages/"+hexSum(dup)+"/status")
	var dupSt receiver.StatusJSON
	json.Unmarshal(body, &dupSt)
	if resp.StatusCode != http.StatusOK || dupSt.Result != "ELUTASITVA" || dupSt.Status != "rejected" || !slices.Contains(dupSt.Codes, "T004") ||
		!dupSt.EarliestFinalCheck.IsZero() || dupSt.ReceiptID != r2.ID {
		t.Errorf("status of the duplicate: %s", body)
	}

	// A rejected upload too, then the metrics.
	if _, _, err := h.Post(ctx, h.Client, []byte("junk"), attachment("x.es3")); err != nil {
		t.Fatal(err)
	}
	_, text, err := h.Get(ctx, h.AdminURL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for outcome, want := range map[string]float64{"accepted": 1, "replayed": 1, "rejected": 2} {
		if v := metricIn(string(text), "tagdij_receiver_uploads_total", `outcome="`+outcome+`"`); v != want {
			t.Errorf("tagdij_receiver_uploads_total{outcome=%q} = %v, want %v", outcome, v, want)
		}
	}
	if v := metricIn(string(text), "tagdij_receiver_requests_total", `code="200",endpoint="upload"`); v != 4 {
		t.Errorf("upload requests with 200: %v, want 4", v)
	}
	resp, body, err = h.Get(ctx, h.AdminURL+"/readyz")
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("readyz: %v %v", resp, err)
	}
	var ready struct {
		Ready  bool              `json:"ready"`
		Checks map[string]string `json:"checks"`
	}
	if err := json.Unmarshal(body, &ready); err != nil || !ready.Ready || ready.Checks["store"] != "ok" || ready.Checks["blobs"] != "ok" {
		t.Errorf("readyz %s %v", body, err)
	}
	resp, body, err = h.Get(ctx, h.AdminURL+"/healthz")
	if err != nil || resp.StatusCode != http.StatusOK || string(body) != "ok\n" {
		t.Errorf("healthz: %v %v %q", resp, err, body)
	}
}

// TestReceiptInteropXmlsec1: xmlsec1 verifies the receipt's signature as received over HTTPS, with
// only the sandbox root as trust anchor, for an accepted and a rejected upload; a tampered copy is
// refused, so the check can fail.
func TestReceiptInteropXmlsec1(t *testing.T) {
	bin, err := exec.LookPath("xmlsec1")
	if err != nil {
		t.Skipf("xmlsec1 not installed (scripts/deps.sh installs it): %v", err)
	}
	s := receivertest.Start(t, receivertest.Options{})
	h := s.StartHTTP(t, receivertest.Options{})
	dir := t.TempDir()
	root := filepath.Join(dir, "root.pem")
	if err := os.WriteFile(root, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.SB.World.MustEntity(sandbox.RootCA).Cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	verify := func(t *testing.T, rcpt []byte) (bool, string) {
		d, err := es3.Parse(rcpt, es3.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, sig := range d.Signatures {
			ids = append(ids, sig.ID)
		}
		d.Close()
		if len(ids) != 1 {
			t.Fatalf("%d signatures on the receipt", len(ids))
		}
		f := filepath.Join(dir, "receipt.es3")
		if err := os.WriteFile(f, rcpt, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "--verify", "--trusted-pem", root, "--enabled-reference-uris", "same-doc",
			"--id-attr:Id", "Signature", "--id-attr:Id", "DossierProfile", "--id-attr:Id", "Documents",
			"--id-attr:Id", "Object", "--id-attr:Id", "SignedProperties", "--node-id", ids[0], f).CombinedOutput()
		return err == nil && bytes.Contains(out, []byte("OK")), string(out)
	}
	data, name := s.Package(t, receivertest.PackageOptions{})
	for _, c := range []struct {
		name   string
		data   []byte
		upname string
	}{{"accepted", data, name}, {"rejected", []byte("junk"), "x.es3"}} {
		t.Run(c.name, func(t *testing.T) {
			resp, rcpt, err := h.Upload(t.Context(), c.data, c.upname)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("%v %v", resp, err)
			}
			if ok, out := verify(t, rcpt); !ok {
				t.Fatalf("xmlsec1 refused the receipt:\n%s", out)
			}
			bad := bytes.Clone(rcpt)
			i := bytes.Index(bad, []byte("<ds:Object xmlns:ds")) + 200
			bad[i] ^= 0x01
			if ok, out := verify(t, bad); ok {
				t.Fatalf("xmlsec1 accepted a tampered receipt:\n%s", out)
			}
		})
	}
}
