// Package errcode is the catalogue of the error codes of SPEC §7: every code Tagdíj puts in a receipt, a
// validation report or a command's output, with its severity and its Hungarian and English text. Codes
// are stable identifiers: receipts carry them for years, so a code is never renumbered or reused.
package errcode

import (
	"errors"
	"fmt"
)

// Code is a SPEC §7 error code such as "A008".
type Code string

// Severity says whether a finding rejects (E0) or only warns (W0).
type Severity string

const (
	// Error rejects the package (E0).
	Error Severity = "E0"
	// Warning is reported but does not reject (W0).
	Warning Severity = "W0"
)

// Transport and format.
const (
	T001 Code = "T001" // bad file name
	T002 Code = "T002" // bad extension
	T003 Code = "T003" // too large
	T004 Code = "T004" // duplicate submission id
	T005 Code = "T005" // not a dossier / not well-formed
	T006 Code = "T006" // forbidden XML construct
)

// Missing or wrong signature properties: F001–F006 in the order SPEC §2 lists the required properties
// (signed SigningTime, SigningCertificate, SignaturePolicyIdentifier, DataObjectFormat; unsigned
// SignatureTimeStamp, CompleteCertificateRefs). SPEC wins over the SND-03 order of REQUIREMENTS.
const (
	F001 Code = "F001" // SigningTime
	F002 Code = "F002" // SigningCertificate
	F003 Code = "F003" // SignaturePolicyIdentifier
	F004 Code = "F004" // DataObjectFormat
	F005 Code = "F005" // SignatureTimeStamp
	F006 Code = "F006" // CompleteCertificateRefs
	F007 Code = "F007" // content format
	F008 Code = "F008" // commitment type
	F009 Code = "F009" // signed comments (cs:Csomag)
	F010 Code = "F010" // name differs from metadata
	F011 Code = "F011" // document missing
	F012 Code = "F012" // references do not cover the required elements
)

// Signature.
const (
	A001 Code = "A001" // signature value
	A002 Code = "A002" // digest
	A003 Code = "A003" // no chain to an accepted CA
	A004 Code = "A004" // not qualified
	A005 Code = "A005" // revoked before T
	A006 Code = "A006" // certificate not valid at T
	A007 Code = "A007" // timestamp invalid or untrusted
	A008 Code = "A008" // signing→timestamp gap
	A009 Code = "A009" // timestamp→arrival gap
	A010 Code = "A010" // policy
	A011 Code = "A011" // revocation data unavailable
	A012 Code = "A012" // grace period not over
	A013 Code = "A013" // algorithm or key size
)

// Registry of e-filing employers and their signers.
const (
	B001 Code = "B001" // declarant not registered
	B002 Code = "B002" // unregistered signer
	B003 Code = "B003" // mandatory signer missing
	B004 Code = "B004" // co-signer missing
	B005 Code = "B005" // signer not valid at signing time
)

// Content, checked by the processor after decryption.
const (
	D001 Code = "D001" // decrypt
	D002 Code = "D002" // decompress, decompression bomb
	D003 Code = "D003" // XSD
	D004 Code = "D004" // totals
	D005 Code = "D005" // TAJ
	D006 Code = "D006" // tax id
	D007 Code = "D007" // period
	D008 Code = "D008" // predecessor
	D009 Code = "D009" // declarant differs from registry
)

// R001 is a temporary failure on the fund's side: the sender should retry.
const R001 Code = "R001"

// Info is what the catalogue knows of a code.
type Info struct {
	Code     Code
	Severity Severity // default severity; a caller may downgrade a rule to a warning where policy says so
	HU       string
	EN       string
}

var catalogue = map[Code]Info{
	T001: {T001, Error, "Hibás csomagnév.", "Bad package file name."},
	T002: {T002, Error, "Hibás fájlkiterjesztés (.es3 az elvárt).", "Bad file extension (.es3 expected)."},
	T003: {T003, Error, "A csomag mérete meghaladja a megengedettet.", "The package exceeds the permitted size."},
	T004: {T004, Error, "Ismételt beküldés: ez a beküldési azonosító már beérkezett.", "Duplicate submission: this submission id has already been received."},
	T005: {T005, Error, "A csomag nem e-akta dosszié, vagy nem jól formált XML.", "The package is not an e-dossier or not well-formed XML."},
	T006: {T006, Error, "Tiltott XML szerkezet (DTD, entitás, mélység vagy méret).", "Forbidden XML construct (DTD, entity, depth or size)."},
	F001: {F001, Error, "Hiányzik vagy hibás az aláírás időpontja (SigningTime).", "SigningTime is missing or wrong."},
	F002: {F002, Error, "Hiányzik vagy hibás az aláíró tanúsítvány hivatkozása (SigningCertificate).", "SigningCertificate is missing or wrong."},
	F003: {F003, Error, "Hiányzik vagy hibás az aláírási szabályzat azonosítója (SignaturePolicyIdentifier).", "SignaturePolicyIdentifier is missing or wrong."},
	F004: {F004, Error, "Hiányzik vagy hibás a tartalomformátum (DataObjectFormat).", "DataObjectFormat is missing or wrong."},
	F005: {F005, Error, "Hiányzik vagy hibás az aláírási időbélyeg (SignatureTimeStamp).", "SignatureTimeStamp is missing or wrong."},
	F006: {F006, Error, "Hiányoznak vagy hibásak a tanúsítványhivatkozások (CompleteCertificateRefs).", "CompleteCertificateRefs is missing or wrong."},
	F007: {F007, Error, "Hibás tartalomformátum.", "Wrong content format."},
	F008: {F008, Error, "Hibás vagy hiányzó kötelezettségvállalás-típus.", "Wrong or missing commitment type."},
	F009: {F009, Error, "Hiányoznak vagy hibásak az aláírt megjegyzések (csomag metaadatai).", "The signed comments (package metadata) are missing or wrong."},
	F010: {F010, Error, "A csomagnév nem egyezik az aláírt metaadatokkal.", "The package name does not match the signed metadata."},
	F011: {F011, Error, "Hiányzik az aláírt dokumentum.", "The signed document is missing."},
	F012: {F012, Error, "Az aláírás hivatkozásai nem fedik le a kötelező elemeket.", "The signature's references do not cover the required elements."},
	A001: {A001, Error, "Az aláírás értéke érvénytelen.", "The signature value is invalid."},
	A002: {A002, Error, "Lenyomat-eltérés: az aláírt adat megváltozott.", "Digest mismatch: signed data has changed."},
	A003: {A003, Error, "A tanúsítványlánc nem vezet elfogadott hitelesítés-szolgáltatóhoz.", "The certificate chain does not lead to an accepted CA."},
	A004: {A004, Error, "Az aláíró tanúsítvány nem minősített.", "The signing certificate is not qualified."},
	A005: {A005, Error, "A tanúsítványt az időbélyeg időpontjában vagy előtte visszavonták.", "The certificate was revoked at or before the timestamp time."},
	A006: {A006, Error, "A tanúsítvány nem volt érvényes az időbélyeg időpontjában.", "The certificate was not valid at the timestamp time."},
	A007: {A007, Error, "Az időbélyeg érvénytelen vagy nem megbízható.", "The timestamp is invalid or untrusted."},
	A008: {A008, Error, "Túl nagy idő telt el az aláírás és az időbélyeg között.", "Too much time passed between signing and timestamping."},
	A009: {A009, Error, "Túl nagy idő telt el az időbélyeg és a beérkezés között.", "Too much time passed between the timestamp and arrival."},
	A010: {A010, Error, "Az aláírás nem felel meg az aláírási szabályzatnak.", "The signature does not meet the signature policy."},
	A011: {A011, Error, "A visszavonási információ nem érhető el (befejezetlen).", "Revocation information is unavailable (incomplete)."},
	A012: {A012, Error, "A kivárási idő még nem telt le (befejezetlen).", "The grace period is not over yet (incomplete)."},
	A013: {A013, Error, "Nem elfogadott algoritmus vagy kulcsméret.", "Algorithm or key size not accepted."},
	B001: {B001, Error, "A bevalló nincs bejelentkezve elektronikus adatszolgáltatásra.", "The declarant is not registered for electronic filing."},
	B002: {B002, Error, "Az aláíró nincs bejelentve a bevallónál.", "The signer is not registered for the declarant."},
	B003: {B003, Error, "Hiányzik egy kötelező aláíró aláírása.", "A mandatory signer's signature is missing."},
	B004: {B004, Error, "Hiányzik a társaláíró aláírása.", "The co-signer's signature is missing."},
	B005: {B005, Error, "Az aláíró jogosultsága nem volt érvényes az aláíráskor.", "The signer's authority was not valid at signing time."},
	D001: {D001, Error, "A bevallás nem fejthető vissza.", "The declaration cannot be decrypted."},
	D002: {D002, Error, "A bevallás nem tömöríthető ki, vagy tömörítési bomba.", "The declaration cannot be decompressed, or is a decompression bomb."},
	D003: {D003, Error, "A bevallás nem felel meg az XML sémának.", "The declaration does not conform to the XML schema."},
	D004: {D004, Error, "Az összesítő adatlap nem egyezik a tételek összegével.", "The summary sheet does not match the sum of the items."},
	D005: {D005, Error, "Hibás TAJ szám.", "Invalid TAJ (social security) number."},
	D006: {D006, Error, "Hibás adóazonosító jel vagy adószám.", "Invalid tax identifier or tax number."},
	D007: {D007, Error, "Hibás bevallási időszak.", "Invalid declaration period."},
	D008: {D008, Error, "Hiányzó vagy hibás előzmény (önellenőrzés/helyesbítés).", "Missing or wrong predecessor (self-revision/correction)."},
	D009: {D009, Error, "A bevalló adatai eltérnek a nyilvántartástól.", "The declarant's data differ from the registry."},
	R001: {R001, Error, "Átmeneti hiba a pénztárnál; kérjük, próbálja újra később.", "Temporary failure at the fund; please try again later."},
}

// Lookup returns the catalogue entry of c.
func Lookup(c Code) (Info, bool) {
	i, ok := catalogue[c]
	return i, ok
}

// All returns every catalogued code, for documentation and tests. The caller owns the slice.
func All() []Info {
	out := make([]Info, 0, len(catalogue))
	for _, i := range catalogue {
		out = append(out, i)
	}
	return out
}

// Finding is one coded observation about a document or signature: what rule, where, and in both
// languages. Detail carries specifics (a row number, an expected and found value) in neutral form.
type Finding struct {
	Code     Code     `json:"code"`
	Severity Severity `json:"severity"`
	Location string   `json:"location,omitempty"`
	HU       string   `json:"hu"`
	EN       string   `json:"en"`
}

// New builds a Finding for c with the catalogue's severity and texts, appending detail (if any) to both
// texts. An unknown code still yields a Finding (never a panic), marked as an error.
func New(c Code, location, detail string) Finding {
	i, ok := Lookup(c)
	if !ok {
		i = Info{Code: c, Severity: Error, HU: "Ismeretlen hibakód.", EN: "Unknown error code."}
	}
	f := Finding{Code: c, Severity: i.Severity, Location: location, HU: i.HU, EN: i.EN}
	if detail != "" {
		f.HU += " (" + detail + ")"
		f.EN += " (" + detail + ")"
	}
	return f
}

// Error makes a Finding usable as an error value.
func (f Finding) Error() string {
	if f.Location != "" {
		return fmt.Sprintf("%s %s: %s / %s", f.Code, f.Location, f.HU, f.EN)
	}
	return fmt.Sprintf("%s: %s / %s", f.Code, f.HU, f.EN)
}

// ErrFinding returns f itself: a Finding used as an error carries itself (Carrier).
func (f Finding) ErrFinding() Finding { return f }

// Carrier is an error that stands for one SPEC §7 finding. The refusals of es3, pkgname, cmsenc and
// payload, policy findings and Finding itself implement it; Of finds it in any error chain. The method
// is not called Finding so that an error type may keep a field of that name (es3.Error does).
type Carrier interface {
	error
	ErrFinding() Finding
}

// Of returns the finding of the first error in err's tree that is a Carrier (errors.As order), and
// false when there is none (err is nil, or only a plain error without a code).
func Of(err error) (Finding, bool) {
	var c Carrier
	if err == nil || !errors.As(err, &c) {
		return Finding{}, false
	}
	return c.ErrFinding(), true
}
