// Package policy is Tagdíj's signature policy (aláírási szabályzat, SPEC §8, GEN-06): the versioned,
// human-readable XML documents that sender and fund both accept, their parsed form, and the one
// evaluation of its rules that every program uses.
//
// # Documents
//
// Two documents are embedded: the production policy (urn:x-mnyp:alairasi-szabalyzat:tagdij:1.0, grace
// periods 4 h for OCSP and 24 h for CRL) and the sandbox policy, whose identifier, title and text say
// that it is a TEST policy with no legal effect and whose grace periods are seconds. A deployment may
// load its own document with Load. Every document is validated against the embedded schema
// szabalyzat.xsd before it is decoded, so a Policy value always satisfies the schema's floors (SHA-2
// digests only, RSA ≥ 2048 bits, fixed-length durations) and the cross-field rules Parse adds.
//
// The SHA-256 of a document's exact bytes (Digest) is what XAdES SignaturePolicyIdentifier carries in
// SigPolicyHash; a published document therefore never changes, and a new rule is a new version with a
// new identifier.
//
// # Trust anchors
//
// The policy names certificate roles (signer CAs, the fund's receipt-key CAs, time-stamping
// authorities) and the requirements their certificates meet; the actual anchors — which differ between
// the sandbox's freshly generated PKI and production's trusted list — are supplied by a deployment's
// configuration at run time and checked against the role with CheckAnchor. A role may also pin anchors
// by SHA-256 fingerprint or subject; then only a pinned certificate is accepted.
//
// # Evaluation
//
// The Check methods and the grace-period arithmetic are pure: no I/O, no clock. They report problems
// as Findings: a finding of the SPEC §7 catalogue (internal/errcode: code, severity, Hungarian and
// English message) with the ETSI sub-indication it implies (internal/report's vocabulary), so that a
// finding goes into a report or a receipt without conversion.
//
// Signatures that are not Tagdíj's own are judged by the same algorithm rules with one difference
// (the *At methods): a hash or RSA key size the policy no longer accepts passes when the signature is
// proven to exist before the algorithm's sunset (Sunset, HashSunset, KeySunset), as ETSI EN 319 102-1
// does; the sunset dates are kept in Go, not in the documents, whose bytes never change.
package policy

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/tagdij/tagdij/internal/boundedio"
)

// Namespace is the XML namespace of policy documents, version 1 of the schema.
const Namespace = "urn:x-mnyp:alairasi-szabalyzat:1"

// MaxDocumentSize bounds the size of a policy document Parse and Load accept. Real documents are a
// few tens of kilobytes; the bound keeps a hostile file from costing more than that.
const MaxDocumentSize = 1 << 20

var (
	//go:embed tagdij-1.0.xml
	productionDoc []byte
	//go:embed tagdij-sandbox-1.0.xml
	sandboxDoc []byte
	//go:embed szabalyzat.xsd
	schemaDoc []byte
)

// Schema returns a copy of the XSD that every policy document must satisfy.
func Schema() []byte { return bytes.Clone(schemaDoc) }

// ProductionDocument returns a copy of the exact bytes of the embedded production policy.
func ProductionDocument() []byte { return bytes.Clone(productionDoc) }

// SandboxDocument returns a copy of the exact bytes of the embedded sandbox (test) policy.
func SandboxDocument() []byte { return bytes.Clone(sandboxDoc) }

// Production parses the embedded production policy. Each call returns a new, independent value.
func Production() (*Policy, error) { return Parse(productionDoc) }

// Sandbox parses the embedded sandbox policy: the TEST policy with short grace periods used by the
// local test PKI, demos and tests. Each call returns a new, independent value.
func Sandbox() (*Policy, error) { return Parse(sandboxDoc) }

// Load reads and parses a deployment's own policy document from path. The file's bytes are used as
// they are: its Digest is the SHA-256 of the file.
func Load(path string) (*Policy, error) {
	data, err := boundedio.ReadFile(path, MaxDocumentSize)
	if errors.Is(err, boundedio.ErrTooLarge) {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return p, nil
}

// ErrInvalid is matched (errors.Is) by every error Parse returns for a document that is not a valid
// policy: not well-formed, forbidden XML, schema-invalid, or breaking a cross-field rule.
var ErrInvalid = errors.New("policy: invalid policy document")

// Policy is a parsed, validated signature policy. Its exported fields describe what the document
// says, in typed form; treat them as read-only: Raw and Digest always describe the document the value
// was parsed from, and changing a field would make the value disagree with them.
type Policy struct {
	Version    string    // document version, e.g. "1.0"
	Title      Text      // name of the policy
	Issuer     Issuer    // who publishes it
	IssuedOn   time.Time // date of issue (UTC midnight)
	ValidFrom  time.Time // signatures made before this are not under this policy
	ValidUntil time.Time // zero: open-ended
	// Test is true for a policy with no legal effect (the sandbox). Parse guarantees that the
	// identifier of a test policy contains TEST or TESZT and that of a non-test policy does not.
	Test        bool
	Description Text // purpose and legal standing

	Scope       Text            // what the policy covers
	Documents   []DocumentRules // one per DocKind, in document order
	Authorities AuthorityRules  // certificate roles and how anchors are supplied
	Timestamp   TimestampRules  // how the time-stamping service is used (SND-13)
	Revocation  RevocationRules // OCSP/CRL use and grace periods (SND-23, DEF-12)
	Gaps        TimeGaps        // time gaps (SND-25, RCV-05)
	Algorithms  AlgorithmRules  // digests, signature schemes, key sizes
	Receipt     ReceiptRules    // receipt rules (RCV-02, SEC-14)

	id     string
	raw    []byte
	digest [sha256.Size]byte
}

// ID returns the policy's URN identifier, the SigPolicyId of XAdES SignaturePolicyIdentifier.
func (p *Policy) ID() string { return p.id }

// Raw returns a copy of the exact document bytes the policy was parsed from.
func (p *Policy) Raw() []byte { return bytes.Clone(p.raw) }

// Digest returns the SHA-256 of Raw: the SigPolicyHash value (DigestMethod
// http://www.w3.org/2001/04/xmlenc#sha256) of XAdES SignaturePolicyIdentifier.
func (p *Policy) Digest() []byte { return bytes.Clone(p.digest[:]) }

// DigestMethod is the XMLDSig digest algorithm URI of Digest.
const DigestMethod = "http://www.w3.org/2001/04/xmlenc#sha256"

// Text is a text in Hungarian and English.
type Text struct {
	HU string
	EN string
}

// In returns the text in lang ("hu" or "en"); any other value gives the Hungarian text, the
// authoritative language of the policy.
func (t Text) In(lang string) string {
	if lang == "en" {
		return t.EN
	}
	return t.HU
}

// Issuer is the publisher of the policy.
type Issuer struct {
	Name string
	URI  string // optional
}

// Select names a policy the way configuration files and the --policy flag do: "production" (the
// default when name is empty), "sandbox", or the path of a deployment's own policy document.
func Select(name string) (*Policy, error) {
	switch name {
	case "", "production":
		return Production()
	case "sandbox":
		return Sandbox()
	default:
		return Load(name)
	}
}
