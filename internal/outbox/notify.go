package outbox

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/tagdij/tagdij/internal/container"
	"github.com/tagdij/tagdij/internal/durable"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/workspace"
	"github.com/tagdij/tagdij/internal/xades"
)

// The notification record (SND-30). When the fund's signature on a receipt is invalid (or the receipt
// names another package), the sender writes, for each of the fund (PENZTAR) and the supervisory
// authority (FELUGYELET):
//
//   - a row in the workspace's notifications table (time, recipient, address, text, file);
//   - a letter, notifications/ERTESITES_<recipient>_<receipt SHA-256, 16 hex>_<yyyyMMddTHHmmssZ>.txt,
//     in Hungarian and English: who writes (the declarant), about what (the package's name and
//     SHA-256, the receipt's name, SHA-256, id and time of arrival), what is wrong (the verification's
//     error codes), and that the receipt is kept unchanged and can be produced (sender evidence);
//   - an Ertesites entry in the container's kontener.xml (kontener.xsd's rule: an ERVENYTELEN receipt
//     check is followed by notifications to both).
//
// The sender does not send e-mail itself: the letters are the documented record, and the user
// delivers them (the command says so, loudly) to the addresses of the configuration's notify section
// (fund, supervisor). Without an address the record says "not configured".

// A letter's file name is letterPrefix + recipient, receipt and time + letterSuffix; no other file
// of an evidence bundle is named so.
const (
	letterPrefix = "ERTESITES_"
	letterSuffix = ".txt"
)

// isLetterName reports whether a base name has the letters' form.
func isLetterName(base string) bool {
	return len(base) > len(letterPrefix)+len(letterSuffix) && strings.HasPrefix(base, letterPrefix) && strings.HasSuffix(base, letterSuffix)
}

// notConfigured is the address written when the configuration names none.
const notConfigured = "nincs beállítva (notify a beállításban) / not configured (notify in the configuration)"

// notify writes the two SND-30 notification records for a flagged receipt.
func (s *Sender) notify(ctx context.Context, pkg workspace.Package, rec *workspace.Receipt) ([]workspace.Notification, error) {
	now := s.now().UTC()
	var out []workspace.Notification
	for _, to := range []struct{ who, addr, hu, en string }{
		{workspace.RecipientFund, s.Parties.FundAddress, "a pénztár", "the fund"},
		{workspace.RecipientSupervisor, s.Parties.SupervisorAddress, "a felügyeleti hatóság", "the supervisory authority"},
	} {
		addr := to.addr
		if addr == "" {
			addr = notConfigured
		}
		text := s.letter(pkg, rec, to.hu, to.en, now)
		file := filepath.Join(workspace.NotificationsDir, fmt.Sprintf(letterPrefix+"%s_%s_%s"+letterSuffix, to.who, hex.EncodeToString(rec.SHA256[:8]), now.Format("20060102T150405Z")))
		body := fmt.Sprintf("Címzett / To: %s (%s)\nCím / Address: %s\nIdőpont / Time: %s\n\n%s\n", to.hu, to.en, addr, now.Format(time.RFC3339), text)
		if err := durable.WriteFile(filepath.Join(s.WS.Dir(), file), []byte(body), 0o600); err != nil {
			return nil, err
		}
		n := workspace.Notification{Receipt: rec.SHA256, Created: now, Recipient: to.who, Address: addr, Text: text, File: file}
		seq, err := s.WS.AddNotification(ctx, n)
		if err != nil {
			return nil, err
		}
		n.Seq = seq
		out = append(out, n)
	}
	return out, nil
}

// letter is the notification's text, both languages.
func (s *Sender) letter(pkg workspace.Package, rec *workspace.Receipt, toHU, toEN string, now time.Time) string {
	p := s.Parties
	id := rec.ReceiptID
	if id == "" {
		id = "olvashatatlan / unreadable"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ÉRTESÍTÉS ÉRVÉNYTELEN PÉNZTÁRI NYUGTÁRÓL (SND-30)\n\n")
	fmt.Fprintf(&b, "Tisztelt Címzett (%s)!\n\n", toHU)
	fmt.Fprintf(&b, "A(z) %s bevalló nevében értesítjük, hogy a(z) %s %s pénztár fogadójától kapott nyugta ellenőrzése hibát talált: %s.\n",
		p.Employer, p.FundCode, p.FundName, rec.Problem)
	fmt.Fprintf(&b, "Csomag: %s (SHA-256 %s)\nNyugta: %s (SHA-256 %s, azonosító %s), érkezett %s\nEllenőrzés: %s, %s/%s\n",
		pkg.Name, hex.EncodeToString(pkg.SHA256[:]), rec.Name, hex.EncodeToString(rec.SHA256[:]), id, rec.Received.Format(time.RFC3339),
		rec.Checked.Format(time.RFC3339), rec.Indication, rec.SubIndication)
	fmt.Fprintf(&b, "A nyugtát változatlanul megőriztük; kérésre bemutatjuk (sender evidence).\n\n")
	fmt.Fprintf(&b, "NOTICE OF AN INVALID RECEIPT FROM THE FUND (SND-30)\n\n")
	fmt.Fprintf(&b, "Dear recipient (%s),\n\n", toEN)
	fmt.Fprintf(&b, "On behalf of the declarant %s we notify you that the check of the receipt received from the receiver of fund %s %s found a problem: %s.\n",
		p.Employer, p.FundCode, p.FundName, rec.Problem)
	fmt.Fprintf(&b, "Package: %s (SHA-256 %s)\nReceipt: %s (SHA-256 %s, id %s), received %s\nCheck: %s, %s/%s\n",
		pkg.Name, hex.EncodeToString(pkg.SHA256[:]), rec.Name, hex.EncodeToString(rec.SHA256[:]), id, rec.Received.Format(time.RFC3339),
		rec.Checked.Format(time.RFC3339), rec.Indication, rec.SubIndication)
	fmt.Fprintf(&b, "The receipt is kept unchanged and can be produced on request (sender evidence).\n")
	return b.String()
}

// BuildContainer builds a new version of a package's container from what the workspace holds and
// stores it.
func (s *Sender) BuildContainer(ctx context.Context, pkgSum [32]byte) (*workspace.Container, error) {
	name, data, err := s.ContainerBytes(ctx, pkgSum)
	if err != nil {
		return nil, err
	}
	return s.WS.AddContainer(ctx, pkgSum, name, s.now().UTC(), data)
}

// ContainerBytes assembles a package's container from the workspace without storing it.
func (s *Sender) ContainerBytes(ctx context.Context, pkgSum [32]byte) (string, []byte, error) {
	pkg, err := s.WS.Package(ctx, pkgSum)
	if err != nil {
		return "", nil, err
	}
	pb, err := s.WS.Blob(pkgSum)
	if err != nil {
		return "", nil, err
	}
	c := &container.Contents{Created: s.now().UTC(), Package: container.Ref{Name: pkg.Name, SHA256: pkgSum, ID: pkg.SubmissionID}, PackageBytes: pb}
	if chk, err := s.WS.PackageCheckOf(ctx, pkgSum); err == nil {
		if c.PackageData, err = DecodeValidationData(chk.Validation); err != nil {
			return "", nil, err
		}
	}
	atts, err := s.WS.Attempts(ctx, pkgSum)
	if err != nil {
		return "", nil, err
	}
	for _, a := range atts {
		c.SendLog = append(c.SendLog, container.Attempt{Time: a.Started, URL: a.URL, HTTPStatus: a.HTTPStatus, Outcome: a.Outcome, Detail: a.Detail})
	}
	if rec, err := s.WS.ReceiptFor(ctx, pkgSum); err == nil {
		rb, err := s.WS.Blob(rec.SHA256)
		if err != nil {
			return "", nil, err
		}
		c.Receipt = &container.Ref{Name: rec.Name, SHA256: rec.SHA256, ID: rec.ReceiptID}
		c.ReceiptBytes = rb
		var rep report.Document
		if err := json.Unmarshal(rec.Report, &rep); err == nil {
			c.ReceiptCheck = &container.Check{Time: rec.Checked, Report: &rep}
			if rec.Problem != "" && rep.Verdict.Indication != report.TotalFailed {
				// A receipt about another package: flagged although its signature is fine.
				c.ReceiptCheck.Findings = []errcode.Finding{errcode.New(errcode.F010, rec.Name, rec.Problem)}
			}
		}
		if c.ReceiptData, err = DecodeValidationData(rec.Validation); err != nil {
			return "", nil, err
		}
		ns, err := s.WS.Notifications(ctx, rec.SHA256)
		if err != nil {
			return "", nil, err
		}
		for _, n := range ns {
			c.Notifications = append(c.Notifications, container.Notification{Time: n.Created, Recipient: n.Recipient, Address: n.Address, Text: n.Text})
		}
	}
	return container.Build(c, s.Schemas)
}

// validationJSON is how validation data are kept in the workspace: DER, base64 in JSON.
type validationJSON struct {
	Certificates [][]byte `json:"certificates,omitempty"`
	OCSP         [][]byte `json:"ocsp,omitempty"`
	CRLs         [][]byte `json:"crls,omitempty"`
	Timestamps   [][]byte `json:"timestamps,omitempty"`
}

// EncodeValidationData is the workspace's form of validation data.
func EncodeValidationData(v *xades.ValidationData) []byte {
	var j validationJSON
	if v != nil {
		for _, c := range v.Certificates {
			j.Certificates = append(j.Certificates, c.Raw)
		}
		j.OCSP, j.CRLs, j.Timestamps = v.OCSP, v.CRLs, v.Timestamps
	}
	b, _ := json.Marshal(j)
	return b
}

// DecodeValidationData reads EncodeValidationData's form.
func DecodeValidationData(b []byte) (*xades.ValidationData, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var j validationJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("outbox: stored validation data: %w", err)
	}
	v := &xades.ValidationData{OCSP: j.OCSP, CRLs: j.CRLs, Timestamps: j.Timestamps}
	for _, der := range j.Certificates {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("outbox: stored validation data: %w", err)
		}
		v.Certificates = append(v.Certificates, c)
	}
	return v, nil
}
