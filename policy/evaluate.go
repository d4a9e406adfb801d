package policy

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"mime"
	"slices"
	"strings"
	"time"

	"github.com/tagdij/tagdij/internal/qc"
	"github.com/tagdij/tagdij/internal/report"
)

// The evaluation methods below are pure: they read the policy and their arguments only, never the
// clock, the network or the disk, so every program reaches the same verdict on the same input
// (SIG-00b) and tests can pin every boundary.

// CheckValidAt reports (A010) whether t — the signing time of a signature made under the policy — lies
// outside the policy's validity [ValidFrom, ValidUntil).
func (p *Policy) CheckValidAt(t time.Time) error {
	if t.Before(p.ValidFrom) {
		return finding(A010, SubPolicy,
			fmt.Sprintf("A(z) %s szabályzat %s-tól érvényes; az aláírás ideje %s.", p.id, stamp(p.ValidFrom), stamp(t)),
			fmt.Sprintf("Policy %s is in force from %s; the signing time is %s.", p.id, stamp(p.ValidFrom), stamp(t)))
	}
	if !p.ValidUntil.IsZero() && !t.Before(p.ValidUntil) {
		return finding(A010, SubPolicy,
			fmt.Sprintf("A(z) %s szabályzat %s-kor lejárt; az aláírás ideje %s.", p.id, stamp(p.ValidUntil), stamp(t)),
			fmt.Sprintf("Policy %s expired at %s; the signing time is %s.", p.id, stamp(p.ValidUntil), stamp(t)))
	}
	return nil
}

// CheckSignaturePolicy reports (A010) whether a signature's SignaturePolicyIdentifier names this
// policy: id must equal ID and digest must be the hash h of the exact document bytes. h must be an
// accepted digest algorithm (else A013).
func (p *Policy) CheckSignaturePolicy(id string, h crypto.Hash, digest []byte) error {
	if id != p.id {
		return finding(A010, SubPolicy,
			fmt.Sprintf("Az aláírás a(z) %q szabályzatra hivatkozik, nem a(z) %q szabályzatra.", id, p.id),
			fmt.Sprintf("The signature refers to policy %q, not %q.", id, p.id))
	}
	if err := p.CheckDigest(h); err != nil {
		return err
	}
	if !h.Available() {
		return finding(A013, SubCryptoConstr, "A lenyomatalgoritmus nem érhető el.", "The digest algorithm is not available.")
	}
	hh := h.New()
	hh.Write(p.raw)
	if !bytes.Equal(hh.Sum(nil), digest) {
		return finding(A010, SubPolicy,
			fmt.Sprintf("Az aláírásban szereplő szabályzat-lenyomat nem egyezik a(z) %s szabályzat dokumentumának lenyomatával.", p.id),
			fmt.Sprintf("The policy digest in the signature does not match the document of policy %s.", p.id))
	}
	return nil
}

// --- Algorithms ----------------------------------------------------------------------------------

// CheckDigest reports (A013) whether h may be used: it must be accepted and not forbidden.
func (p *Policy) CheckDigest(h crypto.Hash) error {
	if slices.Contains(p.Algorithms.Forbidden, h) || !slices.Contains(p.Algorithms.Digests, h) {
		return finding(A013, SubCryptoConstr,
			fmt.Sprintf("A(z) %s lenyomatalgoritmust a szabályzat nem fogadja el (elfogadott: %s).", hashName(h), p.digestList()),
			fmt.Sprintf("Digest algorithm %s is not accepted by the policy (accepted: %s).", hashName(h), p.digestList()))
	}
	return nil
}

// digestURIs maps XMLDSig DigestMethod URIs (RFC 6931) to hashes, the forbidden ones included so
// that the error names them.
var digestURIs = map[string]crypto.Hash{
	"http://www.w3.org/2001/04/xmldsig-more#md5":    crypto.MD5,
	"http://www.w3.org/2000/09/xmldsig#sha1":        crypto.SHA1,
	"http://www.w3.org/2001/04/xmldsig-more#sha224": crypto.SHA224,
	"http://www.w3.org/2001/04/xmlenc#sha256":       crypto.SHA256,
	"http://www.w3.org/2001/04/xmldsig-more#sha384": crypto.SHA384,
	"http://www.w3.org/2001/04/xmlenc#sha512":       crypto.SHA512,
}

// CheckDigestURI maps an XMLDSig DigestMethod URI to its hash and checks it (A013).
func (p *Policy) CheckDigestURI(uri string) (crypto.Hash, error) {
	h, ok := digestURIs[uri]
	if !ok {
		return 0, finding(A013, SubCryptoConstr,
			fmt.Sprintf("Ismeretlen lenyomatalgoritmus: %q.", uri),
			fmt.Sprintf("Unknown digest algorithm %q.", uri))
	}
	return h, p.CheckDigest(h)
}

type sigAlg struct {
	scheme SignatureScheme
	hash   crypto.Hash
}

// signatureURIs maps XMLDSig SignatureMethod URIs (RFC 3275, RFC 6931) to scheme and hash.
var signatureURIs = map[string]sigAlg{
	"http://www.w3.org/2001/04/xmldsig-more#rsa-md5":           {RSAPKCS1v15, crypto.MD5},
	"http://www.w3.org/2000/09/xmldsig#rsa-sha1":               {RSAPKCS1v15, crypto.SHA1},
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha224":        {RSAPKCS1v15, crypto.SHA224},
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256":        {RSAPKCS1v15, crypto.SHA256},
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384":        {RSAPKCS1v15, crypto.SHA384},
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512":        {RSAPKCS1v15, crypto.SHA512},
	"http://www.w3.org/2007/05/xmldsig-more#sha1-rsa-MGF1":     {RSAPSS, crypto.SHA1},
	"http://www.w3.org/2007/05/xmldsig-more#sha224-rsa-MGF1":   {RSAPSS, crypto.SHA224},
	"http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1":   {RSAPSS, crypto.SHA256},
	"http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1":   {RSAPSS, crypto.SHA384},
	"http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1":   {RSAPSS, crypto.SHA512},
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1":        {ECDSA, crypto.SHA1},
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha224":      {ECDSA, crypto.SHA224},
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256":      {ECDSA, crypto.SHA256},
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384":      {ECDSA, crypto.SHA384},
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512":      {ECDSA, crypto.SHA512},
	"http://www.w3.org/2000/09/xmldsig#dsa-sha1":               {"DSA", crypto.SHA1},
	"http://www.w3.org/2009/xmldsig11#dsa-sha256":              {"DSA", crypto.SHA256},
	"http://www.w3.org/2007/05/xmldsig-more#sha3-256-rsa-MGF1": {RSAPSS, crypto.SHA3_256},
}

// x509Algs maps x509 signature algorithms to scheme and hash.
var x509Algs = map[x509.SignatureAlgorithm]sigAlg{
	x509.MD2WithRSA:       {RSAPKCS1v15, crypto.Hash(0)},
	x509.MD5WithRSA:       {RSAPKCS1v15, crypto.MD5},
	x509.SHA1WithRSA:      {RSAPKCS1v15, crypto.SHA1},
	x509.SHA256WithRSA:    {RSAPKCS1v15, crypto.SHA256},
	x509.SHA384WithRSA:    {RSAPKCS1v15, crypto.SHA384},
	x509.SHA512WithRSA:    {RSAPKCS1v15, crypto.SHA512},
	x509.SHA256WithRSAPSS: {RSAPSS, crypto.SHA256},
	x509.SHA384WithRSAPSS: {RSAPSS, crypto.SHA384},
	x509.SHA512WithRSAPSS: {RSAPSS, crypto.SHA512},
	x509.ECDSAWithSHA1:    {ECDSA, crypto.SHA1},
	x509.ECDSAWithSHA256:  {ECDSA, crypto.SHA256},
	x509.ECDSAWithSHA384:  {ECDSA, crypto.SHA384},
	x509.ECDSAWithSHA512:  {ECDSA, crypto.SHA512},
	x509.DSAWithSHA1:      {"DSA", crypto.SHA1},
	x509.DSAWithSHA256:    {"DSA", crypto.SHA256},
	x509.PureEd25519:      {"Ed25519", crypto.Hash(0)},
}

// CheckAlgorithm reports (A013) whether a signature made with alg by the key pub is acceptable: the
// hash is accepted and not forbidden, the scheme is accepted, the key fits the scheme and meets the
// size and curve rules. Use it for XAdES signatures, timestamp tokens, OCSP responses, CRLs and
// certificates alike.
func (p *Policy) CheckAlgorithm(alg x509.SignatureAlgorithm, pub crypto.PublicKey) error {
	a, ok := x509Algs[alg]
	if !ok {
		return finding(A013, SubCryptoConstr,
			fmt.Sprintf("Ismeretlen aláírási algoritmus: %v.", alg),
			fmt.Sprintf("Unknown signature algorithm %v.", alg))
	}
	return p.checkSig(a, alg.String(), pub)
}

// CheckAlgorithmURI is CheckAlgorithm for an XMLDSig SignatureMethod URI. It returns the hash the
// method uses.
func (p *Policy) CheckAlgorithmURI(uri string, pub crypto.PublicKey) (crypto.Hash, error) {
	a, ok := signatureURIs[uri]
	if !ok {
		return 0, finding(A013, SubCryptoConstr,
			fmt.Sprintf("Ismeretlen aláírási algoritmus: %q.", uri),
			fmt.Sprintf("Unknown signature algorithm %q.", uri))
	}
	return a.hash, p.checkSig(a, uri, pub)
}

func (p *Policy) checkScheme(a sigAlg, name string) error {
	if !slices.Contains(p.Algorithms.Schemes, a.scheme) {
		return finding(A013, SubCryptoConstr,
			fmt.Sprintf("A(z) %s aláírási séma (%s) nem elfogadott.", a.scheme, name),
			fmt.Sprintf("Signature scheme %s (%s) is not accepted.", a.scheme, name))
	}
	return p.CheckDigest(a.hash)
}

func (p *Policy) checkSig(a sigAlg, name string, pub crypto.PublicKey) error {
	if err := p.checkScheme(a, name); err != nil {
		return err
	}
	_, isRSA := pub.(*rsa.PublicKey)
	_, isEC := pub.(*ecdsa.PublicKey)
	if (a.scheme == ECDSA && !isEC) || ((a.scheme == RSAPKCS1v15 || a.scheme == RSAPSS) && !isRSA) {
		return finding(A013, SubCryptoConstr,
			fmt.Sprintf("A kulcs típusa (%s) nem illik a(z) %s aláírási sémához.", keyType(pub), a.scheme),
			fmt.Sprintf("The key type (%s) does not fit signature scheme %s.", keyType(pub), a.scheme))
	}
	return p.CheckPublicKey(pub)
}

// CheckPublicKey reports (A013) whether pub may sign under the policy: an RSA key of at least
// MinRSABits bits with an RSA scheme accepted, or an ECDSA key on an accepted curve with ECDSA
// accepted. Every other key type is refused.
func (p *Policy) CheckPublicKey(pub crypto.PublicKey) error {
	al := p.Algorithms
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if !slices.Contains(al.Schemes, RSAPKCS1v15) && !slices.Contains(al.Schemes, RSAPSS) {
			break
		}
		bits := 0
		if k != nil && k.N != nil {
			bits = k.N.BitLen()
		}
		if bits < al.MinRSABits {
			return finding(A013, SubCryptoConstr,
				fmt.Sprintf("Az RSA kulcs %d bites; a szabályzat legalább %d bitet kér.", bits, al.MinRSABits),
				fmt.Sprintf("The RSA key has %d bits; the policy requires at least %d.", bits, al.MinRSABits))
		}
		return nil
	case *ecdsa.PublicKey:
		if !slices.Contains(al.Schemes, ECDSA) {
			break
		}
		name := "?"
		if k != nil && k.Curve != nil {
			name = k.Curve.Params().Name
		}
		for _, c := range al.Curves {
			if c.Params().Name == name {
				return nil
			}
		}
		return finding(A013, SubCryptoConstr,
			fmt.Sprintf("A(z) %s görbe nem elfogadott (elfogadott: %s).", name, p.curveList()),
			fmt.Sprintf("Curve %s is not accepted (accepted: %s).", name, p.curveList()))
	}
	return finding(A013, SubCryptoConstr,
		fmt.Sprintf("A kulcs típusa (%s) nem elfogadott.", keyType(pub)),
		fmt.Sprintf("Key type %s is not accepted.", keyType(pub)))
}

// CheckCanonicalization reports (A013) whether the C14N method URI is accepted.
func (p *Policy) CheckCanonicalization(uri string) error {
	if slices.Contains(p.Algorithms.Canonicalization, uri) {
		return nil
	}
	return finding(A013, SubCryptoConstr,
		fmt.Sprintf("A(z) %q kanonizálási módszer nem elfogadott.", uri),
		fmt.Sprintf("Canonicalization method %q is not accepted.", uri))
}

func keyType(pub crypto.PublicKey) string {
	switch pub.(type) {
	case *rsa.PublicKey:
		return "RSA"
	case *ecdsa.PublicKey:
		return "ECDSA"
	case ed25519.PublicKey:
		return "Ed25519"
	case nil:
		return "nincs/none"
	}
	return fmt.Sprintf("%T", pub)
}

// --- Time gaps and grace period ------------------------------------------------------------------

// CheckTimeGaps applies SPEC §3's time-gap rules to one signature (SND-25, RCV-05):
//
//   - timestamp earlier than signingTime by more than ClockSkew: A008, TIMESTAMP_ORDER_FAILURE;
//   - timestamp later than signingTime by more than SigningToTimestamp: A008;
//   - arrival later than the timestamp by more than TimestampToArrival: A009;
//   - timestamp later than arrival by more than ClockSkew: A009, TIMESTAMP_ORDER_FAILURE.
//
// Each limit itself is allowed. A zero time skips the rules that need it: a missing SigningTime is
// F001 and a missing timestamp F005 elsewhere; a sender checking before upload passes the time it
// would send as arrival.
func (p *Policy) CheckTimeGaps(signingTime, timestampTime, arrival time.Time) []Finding {
	var out []Finding
	g := p.Gaps
	if !signingTime.IsZero() && !timestampTime.IsZero() {
		d := timestampTime.Sub(signingTime)
		switch {
		case d < -g.ClockSkew:
			out = append(out, finding(A008, SubTimestampOrder,
				fmt.Sprintf("Az időbélyeg ideje (%s) %s-szel korábbi az aláírás idejénél (%s); a megengedett óraeltérés %s.",
					stamp(timestampTime), FormatDuration(-d, "hu"), stamp(signingTime), FormatDuration(g.ClockSkew, "hu")),
				fmt.Sprintf("The timestamp time (%s) is %s earlier than the signing time (%s); the permitted clock skew is %s.",
					stamp(timestampTime), FormatDuration(-d, "en"), stamp(signingTime), FormatDuration(g.ClockSkew, "en"))))
		case d > g.SigningToTimestamp:
			out = append(out, finding(A008, SubSigConstraints,
				fmt.Sprintf("Az aláírás (%s) és az időbélyeg (%s) között %s telt el; a szabályzat legfeljebb %s időt enged. Az aláírást meg kell ismételni.",
					stamp(signingTime), stamp(timestampTime), FormatDuration(d, "hu"), FormatDuration(g.SigningToTimestamp, "hu")),
				fmt.Sprintf("%s passed between signing (%s) and the timestamp (%s); the policy allows at most %s. Signing must be repeated.",
					FormatDuration(d, "en"), stamp(signingTime), stamp(timestampTime), FormatDuration(g.SigningToTimestamp, "en"))))
		}
	}
	if !timestampTime.IsZero() && !arrival.IsZero() {
		d := arrival.Sub(timestampTime)
		switch {
		case d < -g.ClockSkew:
			out = append(out, finding(A009, SubTimestampOrder,
				fmt.Sprintf("Az időbélyeg ideje (%s) %s-szel későbbi a beérkezésnél (%s); a megengedett óraeltérés %s.",
					stamp(timestampTime), FormatDuration(-d, "hu"), stamp(arrival), FormatDuration(g.ClockSkew, "hu")),
				fmt.Sprintf("The timestamp time (%s) is %s later than arrival (%s); the permitted clock skew is %s.",
					stamp(timestampTime), FormatDuration(-d, "en"), stamp(arrival), FormatDuration(g.ClockSkew, "en"))))
		case d > g.TimestampToArrival:
			out = append(out, finding(A009, SubSigConstraints,
				fmt.Sprintf("Az időbélyeg (%s) és a beérkezés (%s) között %s telt el; a szabályzat legfeljebb %s időt enged. Az aláírást meg kell ismételni.",
					stamp(timestampTime), stamp(arrival), FormatDuration(d, "hu"), FormatDuration(g.TimestampToArrival, "hu")),
				fmt.Sprintf("%s passed between the timestamp (%s) and arrival (%s); the policy allows at most %s. Signing must be repeated.",
					FormatDuration(d, "en"), stamp(timestampTime), stamp(arrival), FormatDuration(g.TimestampToArrival, "en"))))
		}
	}
	return out
}

// Grace returns the grace period of method m; ok is false when the policy does not allow m.
func (p *Policy) Grace(m RevocationMethod) (grace time.Duration, ok bool) {
	r, ok := p.Revocation.Rule(m)
	return r.Grace, ok
}

// EarliestFinalCheck returns T + the grace period of m (SPEC §3: OCSP T+4 h, CRL T+24 h in
// production), where T is the genTime of the signature's timestamp: revocation evidence of method m
// issued before this instant cannot make the signature finally valid. For a method the policy does not
// allow it returns T + the longest grace period of the policy, the most cautious answer; GraceOver
// never accepts such a method.
func (p *Policy) EarliestFinalCheck(timestampTime time.Time, m RevocationMethod) time.Time {
	if g, ok := p.Grace(m); ok {
		return timestampTime.Add(g)
	}
	var longest time.Duration
	for _, r := range p.Revocation.Methods {
		longest = max(longest, r.Grace)
	}
	return timestampTime.Add(longest)
}

// EarliestFinalCheckAny returns the first instant at which some allowed method can yield usable
// evidence: T + the shortest grace period. It is the "earliest final-check time" a receipt states.
func (p *Policy) EarliestFinalCheckAny(timestampTime time.Time) time.Time {
	shortest := time.Duration(-1)
	for _, r := range p.Revocation.Methods {
		if shortest < 0 || r.Grace < shortest {
			shortest = r.Grace
		}
	}
	return timestampTime.Add(max(shortest, 0))
}

// GraceOver reports whether revocation evidence of method m issued at evidenceTime (OCSP producedAt,
// CRL thisUpdate) was issued after the grace period that follows the timestamp time T, that is
// evidenceTime ≥ T + grace(m) (DEF-12, SND-23). It is false for a method the policy does not allow.
func (p *Policy) GraceOver(timestampTime, evidenceTime time.Time, m RevocationMethod) bool {
	g, ok := p.Grace(m)
	return ok && !evidenceTime.Before(timestampTime.Add(g))
}

// EvidenceFresh reports whether evidence of method m issued at evidenceTime may still be used at the
// instant at: it is at most MaxAge old, and not from the future by more than the clock skew.
func (p *Policy) EvidenceFresh(m RevocationMethod, evidenceTime, at time.Time) bool {
	r, ok := p.Revocation.Rule(m)
	if !ok {
		return false
	}
	age := at.Sub(evidenceTime)
	return age <= r.MaxAge && age >= -p.Gaps.ClockSkew
}

// --- Document rules ------------------------------------------------------------------------------

func unknownKind(code Code, k DocKind) Finding {
	return finding(code, SubPolicy,
		fmt.Sprintf("A szabályzat nem ismeri a(z) %q dokumentumfajtát.", k),
		fmt.Sprintf("The policy does not cover document kind %q.", k))
}

// CheckCommitment reports (F008) whether uri is the commitment type the policy requires for kind:
// ProofOfOrigin for packages, ProofOfReceipt for receipts (SND-19).
func (p *Policy) CheckCommitment(kind DocKind, uri string) error {
	d, ok := p.Document(kind)
	if !ok {
		return unknownKind(F008, kind)
	}
	if uri == d.Commitment {
		return nil
	}
	if uri == "" {
		return finding(F008, SubFormat,
			fmt.Sprintf("Hiányzik a kötelezettségvállalás típusa; elvárt: %s.", d.Commitment),
			fmt.Sprintf("The commitment type is missing; expected %s.", d.Commitment))
	}
	return finding(F008, SubPolicy,
		fmt.Sprintf("A kötelezettségvállalás típusa %s; ehhez a dokumentumhoz (%s) %s szükséges.", uri, kind, d.Commitment),
		fmt.Sprintf("The commitment type is %s; this document (%s) requires %s.", uri, kind, d.Commitment))
}

// CheckMIME reports (F007) whether a DataObjectFormat MIME type is accepted for kind, for an
// encrypted (compressed and CMS-encrypted) or a plain data object. Read-only types are accepted;
// media-type parameters are ignored and the comparison is case-insensitive (RFC 2045).
func (p *Policy) CheckMIME(kind DocKind, mimeType string, encrypted bool) error {
	d, ok := p.Document(kind)
	if !ok {
		return unknownKind(F007, kind)
	}
	mt, _, err := mime.ParseMediaType(mimeType)
	if err == nil {
		for _, f := range d.Formats {
			if f.MIME == mt && f.Encrypted == encrypted {
				return nil
			}
		}
	}
	state := map[bool][2]string{true: {"titkosított", "an encrypted"}, false: {"nyílt", "a plain"}}[encrypted]
	want := d.mimeList(encrypted)
	return finding(F007, SubFormat,
		fmt.Sprintf("A(z) %q tartalomformátum %s adatobjektumhoz nem elfogadott (%s); elfogadott: %s.", mimeType, state[0], kind, want),
		fmt.Sprintf("Content format %q is not accepted for %s data object (%s); accepted: %s.", mimeType, state[1], kind, want))
}

func (d DocumentRules) mimeList(encrypted bool) string {
	var l []string
	for _, f := range d.Formats {
		if f.Encrypted == encrypted {
			l = append(l, f.MIME)
		}
	}
	if len(l) == 0 {
		return "—"
	}
	return strings.Join(l, ", ")
}

// WriteMIME returns the MIME type a signer writes in DataObjectFormat for kind: the first type of the
// policy that is not read-only.
func (p *Policy) WriteMIME(kind DocKind, encrypted bool) (string, error) {
	d, ok := p.Document(kind)
	if !ok {
		return "", unknownKind(F007, kind)
	}
	for _, f := range d.Formats {
		if f.Encrypted == encrypted && !f.ReadOnly {
			return f.MIME, nil
		}
	}
	return "", finding(F007, SubFormat,
		fmt.Sprintf("A szabályzat nem enged %s adatobjektumot ebben a dokumentumban (%s).", map[bool]string{true: "titkosított", false: "nyílt"}[encrypted], kind),
		fmt.Sprintf("The policy allows no %s data object in this document (%s).", map[bool]string{true: "encrypted", false: "plain"}[encrypted], kind))
}

// CheckSize reports (T003) whether a document of n bytes is larger than MaxSize of kind (RCV-16).
func (p *Policy) CheckSize(kind DocKind, n int64) error {
	d, ok := p.Document(kind)
	if !ok {
		return unknownKind(T003, kind)
	}
	if n <= d.MaxSize {
		return nil
	}
	return finding(T003, SubFormat,
		fmt.Sprintf("A dokumentum %d bájt; a megengedett legnagyobb méret %d bájt.", n, d.MaxSize),
		fmt.Sprintf("The document is %d bytes; the maximum permitted size is %d bytes.", n, d.MaxSize))
}

// RequiredSignedProperties returns the signed XAdES properties kind requires, each with the code of
// its absence; nil for a kind the policy does not cover. The slice is a copy.
func (p *Policy) RequiredSignedProperties(kind DocKind) []Property {
	d, _ := p.Document(kind)
	return cloneProps(d.Signed)
}

// RequiredUnsignedProperties returns the unsigned XAdES properties kind requires, each with the code
// of its absence; nil for a kind the policy does not cover. The slice is a copy.
func (p *Policy) RequiredUnsignedProperties(kind DocKind) []Property {
	d, _ := p.Document(kind)
	return cloneProps(d.Unsigned)
}

func cloneProps(ps []Property) []Property {
	out := slices.Clone(ps)
	for i := range out {
		out[i].Alternatives = slices.Clone(out[i].Alternatives)
	}
	return out
}

// CheckProperties reports every required property missing from a signature (RCV-04, PRC-04): signed
// lists the local names of the SignedSignatureProperties and SignedDataObjectProperties children,
// unsigned those of the UnsignedSignatureProperties children. A signed property found only among the
// unsigned ones (or vice versa) is missing. Findings come in the policy's order.
func (p *Policy) CheckProperties(kind DocKind, signed, unsigned []string) []Finding {
	d, ok := p.Document(kind)
	if !ok {
		return []Finding{unknownKind(A010, kind)}
	}
	var out []Finding
	check := func(req []Property, have []string, hu, en string) {
		for _, r := range req {
			if slices.Contains(have, r.Name) || slices.ContainsFunc(r.Alternatives, func(a string) bool { return slices.Contains(have, a) }) {
				continue
			}
			out = append(out, finding(r.Code, SubFormat,
				fmt.Sprintf("Hiányzik a kötelező %s aláírási tulajdonság: %s.", hu, r.Name),
				fmt.Sprintf("The required %s signature property %s is missing.", en, r.Name)))
		}
	}
	check(d.Signed, signed, "aláírt", "signed")
	check(d.Unsigned, unsigned, "aláíratlan", "unsigned")
	return out
}

// --- Certificates ------------------------------------------------------------------------------

// CheckAnchor reports (A003) whether cert may serve as a trust anchor of role: a deployment's
// configuration supplies the anchors, and when the role pins anchors the certificate must match one
// pin (SHA-256 of the DER certificate and/or subject, every given part). A role without pins accepts
// any anchor the deployment supplies. An unknown role is A010.
func (p *Policy) CheckAnchor(role Role, cert *x509.Certificate) error {
	r, ok := p.Authorities.Role(role)
	if !ok {
		return finding(A010, SubPolicy,
			fmt.Sprintf("A szabályzat nem ismeri a(z) %q szerepet.", role),
			fmt.Sprintf("The policy has no role %q.", role))
	}
	if cert == nil {
		return finding(A003, SubNoChain, "Hiányzik a bizalmi horgony tanúsítványa.", "The trust anchor certificate is missing.")
	}
	if len(r.Pins) == 0 {
		return nil
	}
	fp := sha256.Sum256(cert.Raw)
	for _, pin := range r.Pins {
		if (pin.SHA256 == nil || bytes.Equal(pin.SHA256, fp[:])) && (pin.Subject == "" || pin.Subject == cert.Subject.String()) {
			return nil
		}
	}
	return finding(A003, SubNoChain,
		fmt.Sprintf("A(z) %q tanúsítvány (SHA-256 %X) nem a(z) %q szerep rögzített horgonyainak egyike.", cert.Subject.String(), fp[:], role),
		fmt.Sprintf("Certificate %q (SHA-256 %X) is not one of the pinned anchors of role %q.", cert.Subject.String(), fp[:], role))
}

var oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}

// CheckCertificate applies role's requirements to an end-entity certificate: the key (A013), the
// hash of the certificate's own signature (A013), the QCStatements of a qualified role (A004, via
// internal/qc), the key usage (A010) and the extended key usage, exclusive and, where the role says,
// critical (A007 for the policy's time-stamping role, A010 otherwise). Chain building, validity
// periods and revocation are not policy matters and are not checked here.
func (p *Policy) CheckCertificate(role Role, cert *x509.Certificate) []Finding {
	r, ok := p.Authorities.Role(role)
	if !ok {
		return []Finding{finding(A010, SubPolicy,
			fmt.Sprintf("A szabályzat nem ismeri a(z) %q szerepet.", role),
			fmt.Sprintf("The policy has no role %q.", role))}
	}
	if cert == nil {
		return []Finding{finding(A003, SubNoChain, "Hiányzik a tanúsítvány.", "The certificate is missing.")}
	}
	var out []Finding
	add := func(err error) {
		if f, ok := err.(Finding); ok {
			out = append(out, f)
		}
	}
	// The subject's string form is only for findings: built when one is made (most checks pass, and
	// the receiver runs these for every signer and time-stamp).
	subject := func() string { return cert.Subject.String() }
	add(p.CheckPublicKey(cert.PublicKey))
	// The issuer's key is not at hand here; the chain builder checks it with CheckAlgorithm.
	if a, ok := x509Algs[cert.SignatureAlgorithm]; !ok {
		add(p.CheckAlgorithm(cert.SignatureAlgorithm, nil))
	} else {
		add(p.checkScheme(a, cert.SignatureAlgorithm.String()))
	}
	if r.Qualified && len(r.QCStatements) > 0 {
		st, present, err := qc.FromCertificate(cert)
		for _, want := range r.QCStatements {
			if err == nil && present && hasStatement(st, want.OID) {
				continue
			}
			out = append(out, finding(A004, SubChainConstraint,
				fmt.Sprintf("A(z) %q tanúsítványból hiányzik a(z) %s (%s) minősítési nyilatkozat.", subject(), want.Name, want.OID),
				fmt.Sprintf("Certificate %q lacks the %s (%s) qualified statement.", subject(), want.Name, want.OID)))
		}
	}
	if r.KeyUsage != 0 {
		have := cert.KeyUsage & r.KeyUsage
		if (r.KeyUsageAll && have != r.KeyUsage) || have == 0 {
			cond := map[bool][2]string{true: {"mindegyikét", "all of"}, false: {"legalább egyikét", "at least one of"}}[r.KeyUsageAll]
			out = append(out, finding(A010, SubChainConstraint,
				fmt.Sprintf("A(z) %q tanúsítvány kulcshasználata nem tartalmazza a következők %s: %s.", subject(), cond[0], keyUsageList(r.KeyUsage)),
				fmt.Sprintf("The key usage of certificate %q does not include %s: %s.", subject(), cond[1], keyUsageList(r.KeyUsage))))
		}
	}
	if r.ExtKeyUsage != 0 {
		code := A010
		if role == p.Timestamp.Role {
			code = A007
		}
		critical := false
		for _, e := range cert.Extensions {
			if e.Id.Equal(oidExtKeyUsage) {
				critical = e.Critical
			}
		}
		name := ekuName(r.ExtKeyUsage)
		switch {
		case len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != r.ExtKeyUsage || len(cert.UnknownExtKeyUsage) != 0:
			out = append(out, finding(code, SubChainConstraint,
				fmt.Sprintf("A(z) %q tanúsítvány kiterjesztett kulcshasználata nem kizárólag %s.", subject(), name),
				fmt.Sprintf("The extended key usage of certificate %q is not %s alone.", subject(), name)))
		case r.EKUCritical && !critical:
			out = append(out, finding(code, SubChainConstraint,
				fmt.Sprintf("A(z) %q tanúsítvány kiterjesztett kulcshasználata nincs kritikusnak jelölve.", subject()),
				fmt.Sprintf("The extended key usage of certificate %q is not marked critical.", subject())))
		}
	}
	return out
}

// CheckSigner judges whether cert may sign a document of kind at time at: the requirements of the
// kind's signer role (CheckCertificate) and, when at is not zero, the certificate's validity period
// (A006, NOT_YET_VALID before NotBefore, OUT_OF_BOUNDS_NO_POE after NotAfter). The policy lets cert
// make such a signature at at exactly when Refusal finds nothing. Chain building and revocation are
// not checked (trust.Env.CheckChain does that). Signing (xades.Sign) and every program that says
// whether a key can sign (the sender's preview, key listing and certificate check) judge by it.
func (p *Policy) CheckSigner(kind DocKind, cert *x509.Certificate, at time.Time) []Finding {
	rules, ok := p.Document(kind)
	if !ok {
		return []Finding{unknownKind(A010, kind)}
	}
	out := p.CheckCertificate(rules.SignerRole, cert)
	if cert == nil || at.IsZero() {
		return out
	}
	if !at.Before(cert.NotBefore) && !at.After(cert.NotAfter) {
		return out
	}
	subject, from, to := cert.Subject.String(), stamp(cert.NotBefore), stamp(cert.NotAfter)
	switch {
	case at.Before(cert.NotBefore):
		out = append(out, finding(A006, report.NotYetValid,
			fmt.Sprintf("A(z) %q tanúsítvány %s időpontban még nem érvényes (érvényes: %s – %s).", subject, stamp(at), from, to),
			fmt.Sprintf("Certificate %q is not yet valid at %s (valid %s to %s).", subject, stamp(at), from, to)))
	case at.After(cert.NotAfter):
		out = append(out, finding(A006, report.OutOfBoundsNoPOE,
			fmt.Sprintf("A(z) %q tanúsítvány %s időpontban már lejárt (érvényes: %s – %s).", subject, stamp(at), from, to),
			fmt.Sprintf("Certificate %q has expired at %s (valid %s to %s).", subject, stamp(at), from, to)))
	}
	return out
}

func hasStatement(s qc.Statements, oid asn1.ObjectIdentifier) bool {
	switch {
	case oid.Equal(qc.OIDCompliance):
		return s.Compliance
	case oid.Equal(qc.OIDSSCD):
		return s.SSCD
	case oid.Equal(qc.OIDType):
		return len(s.Types) > 0
	}
	return slices.ContainsFunc(s.Others, oid.Equal)
}

// CheckReceiptKey enforces SEC-14 (A010): the certificate of the fund's receipt key is not a TLS
// server certificate (no serverAuth extended key usage) and its key is none of the TLS server keys.
func (p *Policy) CheckReceiptKey(receiptCert *x509.Certificate, tlsCerts ...*x509.Certificate) error {
	if receiptCert == nil {
		return finding(A010, SubPolicy, "Hiányzik a nyugtakulcs tanúsítványa.", "The receipt key certificate is missing.")
	}
	if slices.Contains(receiptCert.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		return finding(A010, SubPolicy,
			"A nyugtát TLS-szervertanúsítvánnyal (serverAuth) írták alá; a szabályzat ezt tiltja.",
			"The receipt was signed with a TLS server certificate (serverAuth); the policy forbids this.")
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	rk, ok := receiptCert.PublicKey.(equaler)
	for _, t := range tlsCerts {
		if t == nil {
			continue
		}
		if (ok && rk.Equal(t.PublicKey)) || bytes.Equal(receiptCert.RawSubjectPublicKeyInfo, t.RawSubjectPublicKeyInfo) {
			return finding(A010, SubPolicy,
				"A nyugtakulcs azonos a TLS-szerver kulcsával; a szabályzat ezt tiltja.",
				"The receipt key is the TLS server key; the policy forbids this.")
		}
	}
	return nil
}

// --- helpers -------------------------------------------------------------------------------------

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func hashName(h crypto.Hash) string {
	for n, x := range hashNames {
		if x == h {
			return n
		}
	}
	if h == 0 {
		return "?"
	}
	return h.String()
}

func (p *Policy) digestList() string {
	var l []string
	for _, h := range p.Algorithms.Digests {
		l = append(l, hashName(h))
	}
	return strings.Join(l, ", ")
}

func (p *Policy) curveList() string {
	var l []string
	for _, c := range p.Algorithms.Curves {
		l = append(l, c.Params().Name)
	}
	return strings.Join(l, ", ")
}

func keyUsageList(ku x509.KeyUsage) string {
	var l []string
	if ku&x509.KeyUsageDigitalSignature != 0 {
		l = append(l, "digitalSignature")
	}
	if ku&x509.KeyUsageContentCommitment != 0 {
		l = append(l, "nonRepudiation")
	}
	return strings.Join(l, ", ")
}

func ekuName(e x509.ExtKeyUsage) string {
	switch e {
	case x509.ExtKeyUsageTimeStamping:
		return "timeStamping"
	case x509.ExtKeyUsageOCSPSigning:
		return "OCSPSigning"
	}
	return fmt.Sprintf("EKU(%d)", e)
}
