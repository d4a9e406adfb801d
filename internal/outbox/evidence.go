package outbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tagdij/tagdij/internal/durable"
	"github.com/tagdij/tagdij/internal/workspace"
)

// Evidence file names (besides the package, the receipt and the container, which keep theirs).
const (
	EvidencePackageReport = "csomag-ellenorzes.json" // the initial check before sending
	EvidenceReceiptReport = "nyugta-ellenorzes.json" // the last check of the fund's signature
	EvidenceSendLog       = "kuldesnaplo.json"       // every attempt
	EvidenceRoots         = "tanusitvanylancok.pem"  // the certificates the checks used
	EvidenceSums          = "SHA256SUMS"             // sha256sum -c format
	EvidenceReadme        = "OLVASSEL-README.txt"    // how to verify, both languages
	// EvidenceReceiptPage is reserved for the receipt's printable page (SND-28), which the caller
	// (`sender evidence`) adds: no record's name may take it.
	EvidenceReceiptPage = "nyugta.html"
	evidenceDirMode     = 0o700
)

// Evidence writes into dir (created; owner-only, SEC-05) everything needed to prove a package and its
// receipt to a third party (SND-32): the package and the receipt exactly as sent and received, the
// latest container, the reports of the checks, the send log, the notification letters, the
// certificates the checks used, SHA256SUMS and a README. It returns the file names written, relative
// to dir, in the order of SHA256SUMS. Every name is a plain file name written once (the records'
// names are checked, as the database may come from an untrusted backup). Extra files (a printable
// page) may be added by the caller, who then writes SHA256SUMS again with WriteSums.
func Evidence(ctx context.Context, s *Sender, pkgSum [32]byte, dir string) ([]string, error) {
	pkg, err := s.WS.Package(ctx, pkgSum)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, evidenceDirMode); err != nil {
		return nil, err
	}
	var names []string
	// Names are compared without case: a bundle copied to a case-insensitive volume (a USB stick)
	// must not have two names for one file.
	written := map[string]bool{strings.ToLower(EvidenceSums): true, strings.ToLower(EvidenceReceiptPage): true}
	put := func(name string, data []byte) error {
		// The names of the package, the receipt and the container come from the database, which may
		// come from a restored, untrusted backup: each must be a plain file name, written once, so that
		// nothing lands outside dir or in place of another part of the bundle.
		if !filepath.IsLocal(name) || filepath.Base(name) != name || written[strings.ToLower(name)] {
			return fmt.Errorf("outbox: evidence: érvénytelen vagy ismétlődő fájlnév / a file name that is not plain or is used twice: %q", name)
		}
		written[strings.ToLower(name)] = true
		if err := durable.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
		names = append(names, name)
		return nil
	}
	pb, err := s.WS.Blob(pkgSum)
	if err != nil {
		return nil, err
	}
	if err := put(pkg.Name, pb); err != nil {
		return nil, err
	}
	var readme strings.Builder
	fmt.Fprintf(&readme, "Tagdíj bizonyíték / evidence — %s\n\n", pkg.Name)
	fmt.Fprintf(&readme, "Csomag / Package: %s (SHA-256 %s, beküldési azonosító / submission id %s)\n", pkg.Name, hex.EncodeToString(pkgSum[:]), pkg.SubmissionID)
	if chk, err := s.WS.PackageCheckOf(ctx, pkgSum); err == nil {
		if err := put(EvidencePackageReport, indentJSON(chk.Report)); err != nil {
			return nil, err
		}
	}
	vdCerts := map[[32]byte][]byte{}
	if chk, err := s.WS.PackageCheckOf(ctx, pkgSum); err == nil {
		if vd, err := DecodeValidationData(chk.Validation); err == nil && vd != nil {
			for _, c := range vd.Certificates {
				vdCerts[sha256.Sum256(c.Raw)] = c.Raw
			}
		}
	}
	if r, err := s.WS.ReceiptFor(ctx, pkgSum); err == nil {
		rb, err := s.WS.Blob(r.SHA256)
		if err != nil {
			return nil, err
		}
		if err := put(r.Name, rb); err != nil {
			return nil, err
		}
		if err := put(EvidenceReceiptReport, indentJSON(r.Report)); err != nil {
			return nil, err
		}
		fmt.Fprintf(&readme, "Nyugta / Receipt: %s (SHA-256 %s, azonosító / id %s, %s), a pénztár aláírása / the fund's signature: %s %s\n",
			r.Name, hex.EncodeToString(r.SHA256[:]), r.ReceiptID, r.Result, r.Indication, r.SubIndication)
		if r.Flagged() {
			fmt.Fprintf(&readme, "!!! HIBÁS NYUGTA / DEFECTIVE RECEIPT: %s\n", r.Problem)
		}
		if vd, err := DecodeValidationData(r.Validation); err == nil && vd != nil {
			for _, c := range vd.Certificates {
				vdCerts[sha256.Sum256(c.Raw)] = c.Raw
			}
		}
		ns, err := s.WS.Notifications(ctx, r.SHA256)
		if err != nil {
			return nil, err
		}
		copied := map[string]bool{}
		for _, n := range ns {
			// The database may come from a restored, untrusted backup: read only a letter under
			// notifications/, never a path that leaves it, and only a file named as letters are, which
			// cannot replace another part of the bundle (the package, a report) under its name.
			rel := filepath.Clean(filepath.FromSlash(n.File))
			base := filepath.Base(rel)
			if filepath.IsAbs(rel) || filepath.Dir(rel) != workspace.NotificationsDir || !filepath.IsLocal(rel) || !isLetterName(base) {
				return nil, fmt.Errorf("outbox: evidence: az értesítés helye érvénytelen / the notification's path is not a letter (%s….txt) under %s/: %q",
					letterPrefix, workspace.NotificationsDir, n.File)
			}
			if copied[base] {
				continue
			}
			letter, err := os.ReadFile(filepath.Join(s.WS.Dir(), rel))
			if err != nil {
				return nil, fmt.Errorf("outbox: evidence: notification %s: %w", n.File, err)
			}
			if err := put(base, letter); err != nil {
				return nil, err
			}
			copied[base] = true
		}
	}
	atts, err := s.WS.Attempts(ctx, pkgSum)
	if err != nil {
		return nil, err
	}
	lb, _ := json.MarshalIndent(atts, "", "  ")
	if err := put(EvidenceSendLog, lb); err != nil {
		return nil, err
	}
	if c, err := s.WS.LatestContainer(ctx, pkgSum); err == nil {
		cb, err := s.WS.Blob(c.SHA256)
		if err != nil {
			return nil, err
		}
		if err := put(c.Name, cb); err != nil {
			return nil, err
		}
		fmt.Fprintf(&readme, "Konténer / Container: %s (v%d, SHA-256 %s)\n", c.Name, c.Version, hex.EncodeToString(c.SHA256[:]))
		fmt.Fprintf(&readme, "\nEllenőrzés / How to verify:\n  auditor verify --trust TRUST.json --policy POLICY %s\n", c.Name)
		fmt.Fprintf(&readme, "  A konténer a csomag és a nyugta ellenőrzési adatait is tartalmazza, így hálózat nélkül is ellenőrizhető;\n"+
			"  a bizalmi horgonyokat (TRUST.json) az ellenőrző a saját forrásából (bizalmi lista) vegye.\n"+
			"  The container carries the validation data of the package and the receipt, so it verifies offline; the\n"+
			"  verifier takes the trust anchors (TRUST.json) from its own source (the trusted list).\n")
	}
	if len(vdCerts) > 0 {
		keys := make([][32]byte, 0, len(vdCerts))
		for k := range vdCerts {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i][:], keys[j][:]) < 0 })
		var pb bytes.Buffer
		for _, k := range keys {
			pem.Encode(&pb, &pem.Block{Type: "CERTIFICATE", Bytes: vdCerts[k]})
		}
		if err := put(EvidenceRoots, pb.Bytes()); err != nil {
			return nil, err
		}
	}
	if err := put(EvidenceReadme, []byte(readme.String())); err != nil {
		return nil, err
	}
	if err := WriteSums(dir, names); err != nil {
		return nil, err
	}
	return append(names, EvidenceSums), nil
}

// WriteSums writes dir/SHA256SUMS over the named files (sha256sum -c format).
func WriteSums(dir string, names []string) error {
	var b strings.Builder
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%x  %s\n", sha256.Sum256(data), n)
	}
	return durable.WriteFile(filepath.Join(dir, EvidenceSums), []byte(b.String()), 0o600)
}

func indentJSON(b []byte) []byte {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return b
	}
	return out.Bytes()
}
