package receipt

import (
	"bytes"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/schema"
)

// wire is the receipt as nyugta.xsd lays it out: element names and order are those of the schema's
// sequences, and every value is in its lexical form. The model converts to and from it. Only the root
// names the namespace: encoding/xml would otherwise repeat xmlns on every element when writing, and on
// reading an unqualified tag matches any namespace, which is safe because Parse decodes only bytes that
// nyugta.xsd has validated (every element in the receipt namespace).
type wire struct {
	XMLName            xml.Name       `xml:"urn:x-mnyp:nyugta:1 Nyugta"`
	ID                 string         `xml:"Azonosito"`
	Fund               wireFund       `xml:"Penztar"`
	Declarant          *wireDeclarant `xml:"Bevallo"`
	Package            wirePackage    `xml:"BeerkezettCsomag"`
	Arrival            string         `xml:"Erkezes"`
	Result             string         `xml:"Eredmeny"`
	PreCheck           wirePreCheck   `xml:"Elovizsgalat"`
	EarliestFinalCheck *string        `xml:"LegkorabbiVeglegesEllenorzes"`
	Errors             *wireErrors    `xml:"Hibak"`
}

type wireFund struct {
	Code string `xml:"Kod"`
	Name string `xml:"Nev"`
}

type wireDeclarant struct {
	IDType string `xml:"azonositoTipus,attr"`
	ID     string `xml:"azonosito,attr"`
	Name   string `xml:"nev,attr"`
}

type wirePackage struct {
	FileName     string  `xml:"Fajlnev"`
	Size         string  `xml:"Meret"`
	SHA256       string  `xml:"SHA256"`
	SubmissionID *string `xml:"Azonosito"`
	Period       *string `xml:"Idoszak"`
	Type         *string `xml:"Tipus"`
}

type wirePreCheck struct {
	State      string          `xml:"Allapot"`
	Policy     *wirePolicy     `xml:"Szabalyzat"`
	Signatures []wireSignature `xml:"Alairas"`
}

type wirePolicy struct {
	ID     string `xml:"Azonosito"`
	SHA256 string `xml:"SHA256"`
}

type wireSignature struct {
	ID            *string `xml:"AlairasAzonosito"`
	Subject       *string `xml:"AlairoDN"`
	Issuer        *string `xml:"KiadoDN"`
	Serial        *string `xml:"Sorozatszam"`
	Role          *string `xml:"Szerep"`
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

// Marshal writes r as indented UTF-8 XML with an XML declaration, in nyugta.xsd's element order, with
// the receipt namespace as the default namespace. It first runs Check and refuses, with its
// *CheckError, a receipt that breaks the schema or a consistency rule, so every byte slice it returns is
// a schema-valid, consistent receipt.
func (r *Receipt) Marshal() ([]byte, error) {
	if err := r.Check(); err != nil {
		return nil, err
	}
	w := r.toWire()
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(w); err != nil {
		return nil, fmt.Errorf("receipt: encoding: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("receipt: encoding: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// formatInstant writes a UTCIdopont: UTC, Z suffix, fraction only when non-zero (at most 9 digits).
func formatInstant(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func optInstant(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := formatInstant(t)
	return &s
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (r *Receipt) toWire() *wire {
	w := &wire{
		ID:   r.ID,
		Fund: wireFund{Code: r.Fund.Code, Name: r.Fund.Name},
		Package: wirePackage{
			FileName:     r.Package.FileName,
			Size:         strconv.FormatInt(r.Package.Size, 10),
			SHA256:       hex.EncodeToString(r.Package.SHA256[:]),
			SubmissionID: optString(r.Package.SubmissionID),
			Type:         optString(string(r.Package.Type)),
		},
		Arrival:            formatInstant(r.Arrival),
		Result:             string(r.Result),
		PreCheck:           wirePreCheck{State: string(r.PreCheck.State)},
		EarliestFinalCheck: optInstant(r.EarliestFinalCheck),
	}
	w.XMLName = xml.Name{Space: Namespace, Local: "Nyugta"}
	if d := r.Declarant; d != nil {
		w.Declarant = &wireDeclarant{IDType: string(d.IDType), ID: d.ID, Name: d.Name}
	}
	if p := r.Package.Period; p != (declaration.Period{}) {
		w.Package.Period = optString(p.String())
	}
	if p := r.PreCheck.Policy; p != nil {
		w.PreCheck.Policy = &wirePolicy{ID: p.ID, SHA256: hex.EncodeToString(p.SHA256[:])}
	}
	for _, s := range r.PreCheck.Signatures {
		ws := wireSignature{
			ID:            optString(s.ID),
			Role:          optString(string(s.Role)),
			SigningTime:   optInstant(s.SigningTime),
			TimestampTime: optInstant(s.TimestampTime),
			State:         string(s.State),
			Indication:    string(s.Indication),
			SubIndication: optString(string(s.SubIndication)),
		}
		if c := s.Certificate; c != nil {
			serial := c.Serial.String()
			ws.Subject, ws.Issuer, ws.Serial = &c.Subject, &c.Issuer, &serial
		}
		w.PreCheck.Signatures = append(w.PreCheck.Signatures, ws)
	}
	if len(r.Errors) > 0 {
		w.Errors = &wireErrors{}
		for _, e := range r.Errors {
			w.Errors.Errors = append(w.Errors.Errors, wireError{
				Code: string(e.Code), Severity: string(e.Severity), Location: optString(e.Location), HU: e.HU, EN: e.EN,
			})
		}
	}
	return w
}

// ErrTooLarge is Parse's refusal of more than MaxBytes.
var ErrTooLarge = errors.New("receipt: larger than MaxBytes")

// ParseError is why Parse refused a receipt. Err is ErrTooLarge, a *libxml.Error (not well-formed, a
// forbidden construct such as a DOCTYPE, a parser limit), a *libxml.ValidationError (not valid against
// nyugta.xsd), a decoding error, or a *CheckError (schema-valid but inconsistent); errors.Is and
// errors.As reach it.
type ParseError struct {
	Err error
}

func (e *ParseError) Error() string {
	return "receipt: nem olvasható nyugta / unreadable receipt: " + e.Err.Error()
}
func (e *ParseError) Unwrap() error { return e.Err }

// Parse reads a receipt from untrusted bytes (a receipt package's document, a stored file). In order:
// more than MaxBytes is refused unread; the bytes must pass the hardened libxml2 parser (no DOCTYPE, no
// entities, the set's limits) and nyugta.xsd; only then are they decoded, and the result must pass
// Check. Every refusal is a *ParseError. UTF-8 and ISO-8859-2 are read. Names are returned with their
// white space collapsed and times in UTC, as the schema reads them.
func Parse(data []byte, set *schema.Set) (*Receipt, error) {
	if set == nil {
		return nil, errors.New("receipt: Parse needs a schema set")
	}
	if len(data) > MaxBytes {
		return nil, &ParseError{Err: fmt.Errorf("%w (%d bytes, limit %d)", ErrTooLarge, len(data), MaxBytes)}
	}
	if err := set.ValidateBytes(schema.Receipt, data); err != nil {
		return nil, &ParseError{Err: err}
	}
	var w wire
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = charsetReader
	if err := dec.Decode(&w); err != nil {
		return nil, &ParseError{Err: fmt.Errorf("decoding a schema-valid receipt: %w", err)}
	}
	r, err := w.toModel()
	if err != nil {
		return nil, &ParseError{Err: fmt.Errorf("decoding a schema-valid receipt: %w", err)}
	}
	if err := r.Check(); err != nil {
		return nil, &ParseError{Err: err}
	}
	return r, nil
}

// charsetReader lets the decoder read the one non-UTF-8 encoding the hardened parser admits.
func charsetReader(label string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "iso-8859-2", "iso8859-2", "latin2", "l2", "iso_8859-2":
		return charmap.ISO8859_2.NewDecoder().Reader(input), nil
	}
	return nil, fmt.Errorf("receipt: unsupported encoding %q", label)
}

// parseInstant reads a schema-valid UTCIdopont. xs:dateTime collapses white space and, in XSD 1.0,
// allows 24:00:00 for the end of a day, which time.Parse does not: it is read as the next midnight.
func parseInstant(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, 'T'); i >= 0 && strings.HasPrefix(s[i+1:], "24:00:00") {
		rest := strings.TrimRight(strings.TrimPrefix(s[i+1:], "24:00:00"), "Z")
		if strings.Trim(rest, ".0") != "" {
			return time.Time{}, fmt.Errorf("time %q: hour 24 with a non-zero remainder", s)
		}
		d, err := time.Parse("2006-01-02", s[:i])
		if err != nil {
			return time.Time{}, fmt.Errorf("time %q: %w", s, err)
		}
		return d.AddDate(0, 0, 1), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: %w", s, err)
	}
	return t.UTC(), nil
}

func parseOptInstant(p *string) (time.Time, error) {
	if p == nil {
		return time.Time{}, nil
	}
	return parseInstant(*p)
}

func parseSHA256(s string) ([32]byte, error) {
	var out [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(out) {
		return out, fmt.Errorf("SHA-256 %q is not 64 hex digits", s)
	}
	copy(out[:], b)
	return out, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (w *wire) toModel() (*Receipt, error) {
	r := &Receipt{
		ID:     w.ID,
		Fund:   Fund{Code: w.Fund.Code, Name: collapseSpace(w.Fund.Name)},
		Result: Result(w.Result),
		Package: ReceivedPackage{
			FileName:     w.Package.FileName,
			SubmissionID: deref(w.Package.SubmissionID),
			Type:         declaration.Type(deref(w.Package.Type)),
		},
		PreCheck: PreCheck{State: State(w.PreCheck.State)},
	}
	if d := w.Declarant; d != nil {
		r.Declarant = &Declarant{IDType: declaration.IDType(d.IDType), ID: d.ID, Name: collapseSpace(d.Name)}
	}
	var err error
	// Meret is an xs:nonNegativeInteger: collapsed white space, an optional sign ("+7", "-0") and
	// leading zeros are lexically valid; ParseInt reads them all, and the schema bounds the value.
	if r.Package.Size, err = strconv.ParseInt(strings.TrimSpace(w.Package.Size), 10, 64); err != nil {
		return nil, fmt.Errorf("Meret: %w", err)
	}
	if r.Package.SHA256, err = parseSHA256(w.Package.SHA256); err != nil {
		return nil, fmt.Errorf("BeerkezettCsomag/SHA256: %w", err)
	}
	if w.Package.Period != nil {
		if r.Package.Period, err = declaration.ParsePeriod(*w.Package.Period); err != nil {
			return nil, err
		}
	}
	if r.Arrival, err = parseInstant(w.Arrival); err != nil {
		return nil, fmt.Errorf("Erkezes: %w", err)
	}
	if r.EarliestFinalCheck, err = parseOptInstant(w.EarliestFinalCheck); err != nil {
		return nil, fmt.Errorf("LegkorabbiVeglegesEllenorzes: %w", err)
	}
	if p := w.PreCheck.Policy; p != nil {
		pol := &PolicyRef{ID: collapseSpace(p.ID)}
		if pol.SHA256, err = parseSHA256(p.SHA256); err != nil {
			return nil, fmt.Errorf("Szabalyzat/SHA256: %w", err)
		}
		r.PreCheck.Policy = pol
	}
	for i, ws := range w.PreCheck.Signatures {
		s := SignatureResult{
			ID:            deref(ws.ID),
			Role:          Role(deref(ws.Role)),
			State:         State(ws.State),
			Indication:    Indication(ws.Indication),
			SubIndication: SubIndication(deref(ws.SubIndication)),
		}
		if ws.Subject != nil || ws.Issuer != nil || ws.Serial != nil {
			if ws.Subject == nil || ws.Issuer == nil || ws.Serial == nil {
				return nil, fmt.Errorf("Alairas[%d]: AlairoDN, KiadoDN and Sorozatszam come together", i+1)
			}
			serial, ok := new(big.Int).SetString(*ws.Serial, 10)
			if !ok {
				return nil, fmt.Errorf("Alairas[%d]/Sorozatszam %q is not a decimal number", i+1, *ws.Serial)
			}
			s.Certificate = &CertificateRef{Subject: *ws.Subject, Issuer: *ws.Issuer, Serial: serial}
		}
		if s.SigningTime, err = parseOptInstant(ws.SigningTime); err != nil {
			return nil, fmt.Errorf("Alairas[%d]/AlairasIdeje: %w", i+1, err)
		}
		if s.TimestampTime, err = parseOptInstant(ws.TimestampTime); err != nil {
			return nil, fmt.Errorf("Alairas[%d]/IdobelyegIdeje: %w", i+1, err)
		}
		r.PreCheck.Signatures = append(r.PreCheck.Signatures, s)
	}
	if w.Errors != nil {
		for _, e := range w.Errors.Errors {
			r.Errors = append(r.Errors, errcode.Finding{
				Code: errcode.Code(e.Code), Severity: errcode.Severity(e.Severity), Location: deref(e.Location), HU: e.HU, EN: e.EN,
			})
		}
	}
	return r, nil
}
