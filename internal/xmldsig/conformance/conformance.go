// Package conformance is the table of the xmlsec test-suite samples Tagdíj's verifiers are compared
// against (shared/conformance/xmlsec/tests: merlin-xmldsig-twenty-three, merlin-exc-c14n-one,
// merlin-c14n-three, aleksey-xmldsig-01), with the verdict a Tagdíj verifier must reach on each when no
// key is supplied from outside the sample, and the xmlsec1 invocation that is the reference for it.
//
// The scope decisions restate internal/xmldsig's documentation independently of its code: RSA
// (PKCS#1 v1.5 and PSS) and ECDSA with SHA-1/2 are verified; HMAC, DSA, EdDSA, GOST, post-quantum,
// MD5/RIPEMD-160 and SHA-3 are unsupported by design; XPath/XSLT transforms, RetrievalMethod and
// references outside the document are unsupported by design; a DOCTYPE is refused by the hardened
// parser. Tests import it; it has no use in a program.
package conformance

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Suites are the sample directories under tests/.
var Suites = []string{"merlin-xmldsig-twenty-three", "merlin-exc-c14n-one", "merlin-c14n-three", "aleksey-xmldsig-01"}

// Outcome is the expected verdict of core validation on a sample.
type Outcome string

// Outcomes.
const (
	Valid       Outcome = "valid"       // core valid
	Unsupported Outcome = "unsupported" // refused by design; never valid
	NoKey       Outcome = "no key"      // the key is only named; nothing in the sample verifies it
	Invalid     Outcome = "invalid"     // digest or signature value does not verify
	Forbidden   Outcome = "forbidden"   // refused by the hardened parser (DOCTYPE)
)

// Sample is one conformance file.
type Sample struct {
	Suite  string // directory under tests/
	Name   string // Suite + "/" + file name
	Path   string // absolute path
	Method string // the first SignatureMethod Algorithm
	Want   Outcome
	Why    string
	// InScope is true when the signature method is RSA, RSA-PSS or ECDSA: the samples whose
	// verdict must agree with xmlsec1's (where xmlsec1 implements the method).
	InScope bool
	// PSS is true for RSA-PSS (xmlsec1 1.2.37 has no RSA-PSS: it cannot be the reference there).
	PSS bool
}

var contentRules = []struct {
	re   *regexp.Regexp
	want Outcome
	why  string
}{
	{regexp.MustCompile(`<!DOCTYPE`), Forbidden, "DOCTYPE: refused by the hardened parser"},
	{regexp.MustCompile(`<(\w+:)?RetrievalMethod\b`), Unsupported, "RetrievalMethod in KeyInfo: refused by design"},
	{regexp.MustCompile(`REC-xpath-19991116|xmldsig-filter2|REC-xslt-19991116`), Unsupported, "XPath / XPath Filter 2.0 / XSLT transform: unsupported by design"},
	{regexp.MustCompile(`<(\w+:)?Reference[^>]*URI="(http|file)`), Unsupported, "reference outside the document: never fetched"},
	{regexp.MustCompile(`RelationshipTransform`), Unsupported, "OOXML relationship transform over an external file: never fetched"},
	{regexp.MustCompile(`DEREncodedKeyValue`), NoKey, "key only as dsig11:DEREncodedKeyValue: not supported"},
}

func methodRule(uri string) (Outcome, string) {
	switch {
	case strings.Contains(uri, "hmac"):
		return Unsupported, "HMAC: unsupported by design (no shared-secret signatures)"
	case strings.Contains(uri, "dsa-sha") && !strings.Contains(uri, "ecdsa"):
		return Unsupported, "DSA: unsupported by design"
	case strings.Contains(uri, "eddsa"):
		return Unsupported, "EdDSA: not in the Tagdíj profile"
	case strings.Contains(uri, "gost"):
		return Unsupported, "GOST: not in the Tagdíj profile"
	case strings.Contains(uri, "ml-dsa"), strings.Contains(uri, "slh-dsa"):
		return Unsupported, "ML-DSA/SLH-DSA: not in the Tagdíj profile"
	case strings.Contains(uri, "md5"), strings.Contains(uri, "ripemd160"):
		return Unsupported, "MD5/RIPEMD-160: broken or out-of-profile hash"
	case strings.Contains(uri, "sha3-"):
		return Unsupported, "SHA-3: not in the Tagdíj profile"
	}
	return Valid, "RSA / RSA-PSS / ECDSA with SHA-1/2: in scope"
}

var overrides = map[string]struct {
	want Outcome
	why  string
}{
	"aleksey-xmldsig-01/enveloping-sha256-ecdsa-sha256_padded.xml":    {Invalid, "ECDSA value longer than r||s of the curve: rejected (xmlsec1 too)"},
	"aleksey-xmldsig-01/enveloping-sha512-ecdsa-sha512-with-asn1.xml": {Invalid, "ECDSA value DER-encoded instead of r||s: rejected (xmlsec1 too)"},
	"aleksey-xmldsig-01/enveloped-ecdsa-java-bug.xml":                 {Valid, "P-521 r||s of 65+65 bytes (a Java encoder dropped the leading zero byte): accepted like xmlsec1"},
}

var (
	reMethod   = regexp.MustCompile(`SignatureMethod Algorithm="([^"]*)"`)
	reKeyInMsg = regexp.MustCompile(`<(\w+:)?(X509Certificate|RSAKeyValue|ECKeyValue)\b`)
)

// ErrNotFound is returned by Root when the shared conformance material is not there.
var ErrNotFound = errors.New("conformance: shared/conformance/xmlsec/tests not found (set TAGDIJ_SHARED)")

// Root returns the tests/ directory: $TAGDIJ_SHARED/conformance/xmlsec/tests, else the first
// shared/conformance/xmlsec/tests found beside the working directory or one of its parents.
func Root() (string, error) {
	const rel = "conformance/xmlsec/tests"
	if d := os.Getenv("TAGDIJ_SHARED"); d != "" {
		p := filepath.Join(d, rel)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p, nil
		}
		return "", ErrNotFound
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "shared", rel)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNotFound
		}
		dir = parent
	}
}

// Samples lists every sample of the four suites under root, sorted by name, with its expected outcome
// for a verifier that has no keys besides those in the sample.
func Samples(root string) ([]Sample, error) {
	var out []Sample
	for _, suite := range Suites {
		files, err := filepath.Glob(filepath.Join(root, suite, "*.xml"))
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, errors.New("conformance: no samples in " + filepath.Join(root, suite))
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			abs, _ := filepath.Abs(f)
			s := Sample{Suite: suite, Name: suite + "/" + filepath.Base(f), Path: abs}
			if m := reMethod.FindSubmatch(data); m != nil {
				s.Method = string(m[1])
			}
			s.Want, s.Why = methodRule(s.Method)
			s.InScope = s.Method != "" && s.Want == Valid
			s.PSS = strings.Contains(s.Method, "rsa-MGF1") || strings.Contains(s.Method, "rsa-pss")
			if s.Method == "" {
				s.Want, s.Why = Invalid, "no SignatureMethod"
			}
			if s.Want == Valid || strings.Contains(string(data), "<!DOCTYPE") {
				for _, r := range contentRules {
					if r.re.Match(data) {
						s.Want, s.Why = r.want, r.why
						break
					}
				}
			}
			if o, ok := overrides[s.Name]; ok {
				s.Want, s.Why = o.want, o.why
			} else if s.Want == Valid && !reKeyInMsg.Match(data) {
				s.Want, s.Why = NoKey, "key only named (KeyName/X509 reference); no key is supplied from outside"
			}
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Xmlsec1Args are the xmlsec1 --verify arguments for core validity only, with nothing but the sample
// itself: --insecure (no chain building), same-document references only (never fetch). Run them in the
// sample's directory with the file's base name appended.
func Xmlsec1Args() []string {
	return []string{"--verify", "--insecure", "--enabled-reference-uris", "empty,same-doc"}
}
