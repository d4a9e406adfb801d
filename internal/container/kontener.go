// Package container builds, reads and verifies the sender container (TBK_….es3, SPEC §5, SND-31,
// SND-32): an e-akta dossier, in the strict shape internal/es3 writes, with three plain documents —
//
//	TBA_….es3     the package exactly as sent (application/vnd.eszigno3+xml)
//	TBN_….es3     the receipt package exactly as received (absent while no receipt came back)
//	kontener.xml  schema/kontener.xsd: which package and receipt (file name, SHA-256), the send log,
//	              the result of verifying the fund's signature on the receipt, the SND-30
//	              notifications, and the validation data of both (certificates, OCSP responses, CRLs,
//	              time-stamp tokens)
//
// The container itself is not signed: the sender has no seal of its own, and a qualified signature
// would need the signer at the keyboard for every receipt. It needs none: the package and the receipt
// carry their own signatures and time-stamps, kontener.xml binds them by SHA-256, and its validation
// data let both be verified offline years later (Verify hands them to the verifier as detached
// validation data). kontener.xml's own statements (send log, notifications) are the sender's record,
// as an unsigned log is.
//
// A container is written again (a new version, kontener.xml's Letrehozva saying when) whenever what it
// records changes: a later check of the receipt after its grace period, a notification.
package container

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"regexp"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/xades"
	"github.com/tagdij/tagdij/schema"
)

// DocumentTitle is the title of the container's metadata document.
const DocumentTitle = "kontener.xml"

// Namespace is kontener.xml's namespace.
const Namespace = "urn:x-mnyp:kontener:1"

// Bounds of kontener.xsd.
const (
	MaxAttempts      = 100
	MaxSignatures    = 8
	MaxFindings      = 256
	MaxNotifications = 20
	MaxCertificates  = 64
	MaxOCSP          = 64
	MaxCRLs          = 32
	MaxTimestamps    = 16
	MaxText          = 4000
	MaxAddress       = 320
)

// Ref names a file kept in the container.
type Ref struct {
	Name   string
	SHA256 [32]byte
	// ID is the submission id (package) or the receipt id (receipt; "" when it could not be read).
	ID string
}

// Attempt is one send-log entry (KiserletTipus).
type Attempt struct {
	Time       time.Time
	URL        string
	HTTPStatus int // 0: no HTTP response
	Outcome    string
	Detail     string
}

// Check is the verification of the fund's signature on the receipt (NyugtaEllenorzesTipus).
type Check struct {
	Time     time.Time
	Report   *report.Document
	Findings []errcode.Finding // besides the report's (e.g. a receipt about another package)
}

// Notification is one SND-30 notification (ErtesitesTipus).
type Notification struct {
	Time      time.Time
	Recipient string // PENZTAR or FELUGYELET
	Address   string
	Text      string
}

// Contents is what a container holds.
type Contents struct {
	Created       time.Time
	Package       Ref
	PackageBytes  []byte
	Receipt       *Ref // nil while no receipt came back
	ReceiptBytes  []byte
	SendLog       []Attempt
	ReceiptCheck  *Check
	Notifications []Notification
	PackageData   *xades.ValidationData
	ReceiptData   *xades.ValidationData
}

type wire struct {
	XMLName       xml.Name         `xml:"urn:x-mnyp:kontener:1 Kontener"`
	Created       string           `xml:"Letrehozva"`
	Package       wirePackage      `xml:"Csomag"`
	Receipt       *wireReceipt     `xml:"Nyugta"`
	SendLog       wireSendLog      `xml:"Kuldesnaplo"`
	Check         *wireCheck       `xml:"NyugtaEllenorzes"`
	Notifications *wireNotices     `xml:"Ertesitesek"`
	Data          *wireValidations `xml:"EllenorzesiAdatok"`
}

type wirePackage struct {
	Name   string `xml:"Fajlnev"`
	SHA256 string `xml:"SHA256"`
	ID     string `xml:"Azonosito"`
}

type wireReceipt struct {
	Name   string  `xml:"Fajlnev"`
	SHA256 string  `xml:"SHA256"`
	ID     *string `xml:"Azonosito"`
}

type wireSendLog struct {
	Attempts []wireAttempt `xml:"Kiserlet"`
}

type wireAttempt struct {
	Time    string  `xml:"Idopont"`
	URL     string  `xml:"URL"`
	Status  *int    `xml:"HTTPStatusz"`
	Outcome string  `xml:"Kimenet"`
	Detail  *string `xml:"Reszletek"`
}

type wireCheck struct {
	Time       string          `xml:"Idopont"`
	State      string          `xml:"Allapot"`
	Signatures []wireSignature `xml:"Alairas"`
	Errors     *wireErrors     `xml:"Hibak"`
}

type wireSignature struct {
	ID            *string `xml:"AlairasAzonosito"`
	Subject       *string `xml:"AlairoDN"`
	Issuer        *string `xml:"KiadoDN"`
	Serial        *string `xml:"Sorozatszam"`
	SigningTime   *string `xml:"AlairasIdeje"`
	TimestampTime *string `xml:"IdobelyegIdeje"`
	State         string  `xml:"Allapot"`
	Indication    string  `xml:"Indikacio"`
	SubIndication *string `xml:"AlIndikacio"`
}

type wireErrors struct {
	Errors []wireError `xml:"Hiba"`
}

type wireError struct {
	Code     string  `xml:"Kod"`
	Severity string  `xml:"Sulyossag"`
	Location *string `xml:"Hely"`
	HU       string  `xml:"SzovegHU"`
	EN       string  `xml:"SzovegEN"`
}

type wireNotices struct {
	Notices []wireNotice `xml:"Ertesites"`
}

type wireNotice struct {
	Time      string `xml:"Idopont"`
	Recipient string `xml:"Cimzett"`
	Address   string `xml:"Cim"`
	Text      string `xml:"Szoveg"`
}

type wireValidations struct {
	Package *wireData `xml:"Csomag"`
	Receipt *wireData `xml:"Nyugta"`
}

type wireData struct {
	Certificates []der `xml:"Tanusitvany"`
	OCSP         []der `xml:"OCSPValasz"`
	CRLs         []der `xml:"CRL"`
	Timestamps   []der `xml:"Idobelyeg"`
}

// der is DER data written as base64 (DERAdat).
type der []byte

func (d der) MarshalText() ([]byte, error) { return []byte(base64.StdEncoding.EncodeToString(d)), nil }

func (d *der) UnmarshalText(b []byte) error {
	clean := bytes.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, b)
	out, err := base64.StdEncoding.DecodeString(string(clean))
	if err != nil {
		return err
	}
	*d = out
	return nil
}

var (
	idPattern     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$`)
	serialPattern = regexp.MustCompile(`^(0|[1-9][0-9]{0,49})$`)
)

func instant(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// clip keeps s within n characters (runes), marking a cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Marshal writes kontener.xml for c and validates it against kontener.xsd (set), so every byte slice
// it returns is schema-valid. Lists longer than the schema admits keep their last entries (the send
// log: the attempt that brought the receipt) or their first (findings, validation data).
func Marshal(c *Contents, set *schema.Set) ([]byte, error) {
	w := wire{Created: instant(c.Created),
		Package: wirePackage{Name: c.Package.Name, SHA256: hex.EncodeToString(c.Package.SHA256[:]), ID: c.Package.ID}}
	if c.Receipt != nil {
		w.Receipt = &wireReceipt{Name: c.Receipt.Name, SHA256: hex.EncodeToString(c.Receipt.SHA256[:]), ID: opt(c.Receipt.ID)}
	}
	log := c.SendLog
	if len(log) > MaxAttempts {
		log = log[len(log)-MaxAttempts:]
	}
	for _, a := range log {
		wa := wireAttempt{Time: instant(a.Time), URL: a.URL, Outcome: a.Outcome, Detail: opt(clip(a.Detail, MaxText))}
		if a.HTTPStatus >= 100 && a.HTTPStatus <= 599 {
			s := a.HTTPStatus
			wa.Status = &s
		}
		w.SendLog.Attempts = append(w.SendLog.Attempts, wa)
	}
	if ch := c.ReceiptCheck; ch != nil && ch.Report != nil {
		wc := &wireCheck{Time: instant(ch.Time), State: ch.Report.Verdict.Indication.State()}
		findings := append([]errcode.Finding(nil), ch.Findings...)
		findings = append(findings, ch.Report.Verdict.Findings...)
		for i, s := range ch.Report.Signatures {
			if i == MaxSignatures {
				break
			}
			ws := wireSignature{State: s.Verdict.Indication.State(), Indication: string(s.Verdict.Indication)}
			if s.Verdict.Sub != "" {
				sub := string(s.Verdict.Sub)
				ws.SubIndication = &sub
			}
			if idPattern.MatchString(s.ID) {
				ws.ID = opt(s.ID)
			}
			if s.Signer != "" && s.Issuer != "" && serialPattern.MatchString(s.Serial) {
				ws.Subject, ws.Issuer, ws.Serial = opt(clip(s.Signer, 2048)), opt(clip(s.Issuer, 2048)), opt(s.Serial)
			}
			if !s.SigningTime.IsZero() {
				ws.SigningTime = opt(instant(s.SigningTime))
			}
			if !s.TimestampTime.IsZero() {
				ws.TimestampTime = opt(instant(s.TimestampTime))
			}
			wc.Signatures = append(wc.Signatures, ws)
			findings = append(findings, s.Verdict.Findings...)
		}
		if len(findings) > 0 {
			wc.Errors = &wireErrors{}
			for i, f := range findings {
				if i == MaxFindings {
					break
				}
				wc.Errors.Errors = append(wc.Errors.Errors, wireError{Code: string(f.Code), Severity: string(f.Severity),
					Location: opt(clip(f.Location, 1024)), HU: clip(nonEmpty(f.HU), MaxText), EN: clip(nonEmpty(f.EN), MaxText)})
			}
		}
		w.Check = wc
	}
	if len(c.Notifications) > 0 {
		w.Notifications = &wireNotices{}
		for i, n := range c.Notifications {
			if i == MaxNotifications {
				break
			}
			w.Notifications.Notices = append(w.Notifications.Notices, wireNotice{Time: instant(n.Time), Recipient: n.Recipient,
				Address: clip(nonEmpty(n.Address), MaxAddress), Text: clip(nonEmpty(n.Text), MaxText)})
		}
	}
	if !c.PackageData.Empty() || !c.ReceiptData.Empty() {
		w.Data = &wireValidations{Package: wireDataOf(c.PackageData), Receipt: wireDataOf(c.ReceiptData)}
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(w); err != nil {
		return nil, fmt.Errorf("container: kontener.xml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("container: kontener.xml: %w", err)
	}
	b.WriteByte('\n')
	if err := set.ValidateBytes(schema.Container, b.Bytes()); err != nil {
		return nil, fmt.Errorf("container: kontener.xml does not pass kontener.xsd: %w", err)
	}
	return b.Bytes(), nil
}

func nonEmpty(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func wireDataOf(v *xades.ValidationData) *wireData {
	if v.Empty() {
		return nil
	}
	d := &wireData{}
	for i, c := range v.Certificates {
		if i < MaxCertificates {
			d.Certificates = append(d.Certificates, der(c.Raw))
		}
	}
	d.OCSP = capList(v.OCSP, MaxOCSP)
	d.CRLs = capList(v.CRLs, MaxCRLs)
	d.Timestamps = capList(v.Timestamps, MaxTimestamps)
	return d
}

func capList(l [][]byte, n int) []der {
	var out []der
	for i, b := range l {
		if i == n {
			break
		}
		out = append(out, der(b))
	}
	return out
}
