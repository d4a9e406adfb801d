package libxml

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

const (
	nsDSig               = "http://www.w3.org/2000/09/xmldsig#"
	nsExcC14N            = "http://www.w3.org/2001/10/xml-exc-c14n#"
	algEnvelopedSig      = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	algXPath             = "http://www.w3.org/TR/1999/REC-xpath-19991116"
	conformanceTestsPath = "conformance/xmlsec/tests"
)

// dsigReference is one ds:Reference read from a signature file.
type dsigReference struct {
	node       Node
	uri        string
	transforms []dsigTransform
	digestAlg  string
	digest     string // base64 as written
}

type dsigTransform struct {
	alg      string
	xpath    string   // ds:XPath expression, white space collapsed
	prefixes []string // InclusiveNamespaces PrefixList, nil when absent
}

func childrenNamed(n Node, ns, local string) []Node {
	var out []Node
	for _, c := range n.Children() {
		if c.Is(ns, local) {
			out = append(out, c)
		}
	}
	return out
}

func firstChild(n Node, ns, local string) Node {
	if cs := childrenNamed(n, ns, local); len(cs) > 0 {
		return cs[0]
	}
	return Node{}
}

// readReferences returns the ds:Reference elements of d in document order.
func readReferences(t *testing.T, d *Document) []dsigReference {
	t.Helper()
	refs := readReferencesOrNone(d)
	if len(refs) == 0 {
		t.Fatal("no ds:Reference found")
	}
	return refs
}

var (
	doctypeRE      = regexp.MustCompile(`(?s)<!DOCTYPE[^\[>]*\[(.*?)\]>`)
	entityDeclRE   = regexp.MustCompile(`<!ENTITY\s+(\w+)\s`)
	markupDeclRE   = regexp.MustCompile(`(?s)<!(ENTITY|ATTLIST)[^>]*>`)
	attlistDeclRE  = regexp.MustCompile(`<!ATTLIST[^>]*>`)
	inertAttlistRE = regexp.MustCompile(`^<!ATTLIST\s+\S+\s+\S+\s+\S+\s+#(IMPLIED|REQUIRED)\s*>$`)
)

// stripInertDoctype removes an internal DTD subset made only of ATTLIST declarations and general
// entity declarations that the rest of the document never references; ok is false otherwise.
func stripInertDoctype(data []byte) (out []byte, ok bool) {
	m := doctypeRE.FindSubmatchIndex(data)
	if m == nil {
		return nil, false
	}
	subset := data[m[2]:m[3]]
	if len(bytes.TrimSpace(markupDeclRE.ReplaceAll(subset, nil))) != 0 {
		return nil, false
	}
	rest := append(append([]byte{}, data[:m[0]]...), data[m[1]:]...)
	for _, e := range entityDeclRE.FindAllSubmatch(subset, -1) {
		if bytes.Contains(rest, []byte("&"+string(e[1])+";")) {
			return nil, false
		}
	}
	// Defaulted attributes would change the canonical form: only #IMPLIED/#REQUIRED are inert.
	for _, decl := range attlistDeclRE.FindAll(subset, -1) {
		if !inertAttlistRE.Match(decl) {
			return nil, false
		}
	}
	return rest, true
}

var xpointerID = regexp.MustCompile(`^#xpointer\(id\('([^']*)'\)\)$`)

// referenceOctets dereferences a same-document reference and applies its transforms, the way an
// XMLDSig verifier built on this package does: the URI selects the root of the subset and whether
// comments belong to it, enveloped-signature adds an exclusion, and the last transform (or the
// default Canonical XML 1.0 without comments) canonicalizes. It returns a non-empty skip reason for anything outside
// that (XPath filters, XSLT, base64, external URIs, several canonicalizations in a row).
func referenceOctets(d *Document, ids map[string]Node, r dsigReference) (out []byte, skip string, err error) {
	var (
		root     Node
		comments bool
	)
	switch {
	case r.uri == "":
		comments = false
	case r.uri == "#xpointer(/)":
		comments = true
	case xpointerID.MatchString(r.uri):
		id := xpointerID.FindStringSubmatch(r.uri)[1]
		n, ok := ids[id]
		if !ok {
			return nil, "", fmt.Errorf("id %q not found", id)
		}
		root, comments = n, true
	case strings.HasPrefix(r.uri, "#xpointer("):
		return nil, "XPointer expression other than / and id() is not supported", nil
	case strings.HasPrefix(r.uri, "#"):
		n, ok := ids[r.uri[1:]]
		if !ok {
			return nil, "", fmt.Errorf("id %q not found", r.uri[1:])
		}
		root = n
	default:
		return nil, "external (non same-document) URI " + r.uri, nil
	}
	var exclude []Node
	// Without a canonicalization transform the node-set becomes octets by Canonical XML 1.0
	// omitting comments (XMLDSig §4.3.3.2): comments kept by an XPointer URI survive only an
	// explicit "#WithComments" transform. merlin-xmldsig-twenty-three pins this.
	c := C14N{Method: C14N10}
	seenC14N := false
	for _, tr := range r.transforms {
		if seenC14N {
			return nil, "a transform after canonicalization (octet-stream input) is not supported", nil
		}
		// Two XPath filters are expressible with CanonicalizeTo. One is a subtree in disguise: over a comment-free document ("" URI),
		// ancestor-or-self::bar:Something keeps exactly the nodes (elements, attributes, namespace
		// nodes, text) of the first bar:Something's subtree, since every nested bar:Something lies
		// inside it.
		if tr.alg == algXPath && tr.xpath == "ancestor-or-self::bar:Something" && r.uri == "" && root.IsZero() && len(exclude) == 0 {
			d.Walk(func(n Node) bool {
				if n.Is("http://example.org/bar", "Something") {
					root = n
					return false
				}
				return true
			})
			if root.IsZero() {
				return nil, "", errors.New("no bar:Something element")
			}
			continue
		}
		// The other is the enveloped-signature transform written as XPath (xmlsec's templates): it
		// drops every ds:Signature subtree, which is what excluding each of them does.
		if tr.alg == algXPath && tr.xpath == "not(ancestor-or-self::dsig:Signature)" {
			d.Walk(func(n Node) bool {
				if n.Is(nsDSig, "Signature") {
					exclude = append(exclude, n)
				}
				return true
			})
			continue
		}
		if tr.alg == algXPath {
			return nil, "XPath filter transform (general node-set filtering is not supported)", nil
		}
		if tr.alg == algEnvelopedSig {
			sig := r.node
			for !sig.IsZero() && !sig.Is(nsDSig, "Signature") {
				sig = sig.Parent()
			}
			if sig.IsZero() {
				return nil, "", errors.New("enveloped-signature outside a Signature")
			}
			exclude = append(exclude, sig)
			continue
		}
		cc, ok := ParseC14NURI(tr.alg)
		if !ok {
			return nil, "unsupported transform " + tr.alg, nil
		}
		// A "#WithComments" algorithm cannot restore comments the URI already removed.
		cc.WithComments = cc.WithComments && comments
		if tr.prefixes != nil {
			if cc.Method != ExcC14N10 {
				return nil, "", errors.New("InclusiveNamespaces on a non-exclusive method")
			}
			cc.InclusivePrefixes = tr.prefixes
		}
		c, seenC14N = cc, true
	}
	var b bytes.Buffer
	if err := d.CanonicalizeTo(&b, root, c, exclude...); err != nil {
		return nil, "", err
	}
	return b.Bytes(), "", nil
}

func newDigest(alg string) hash.Hash {
	switch alg {
	case "http://www.w3.org/2000/09/xmldsig#sha1":
		return sha1.New()
	case "http://www.w3.org/2001/04/xmldsig-more#sha224":
		return sha256.New224()
	case "http://www.w3.org/2001/04/xmlenc#sha256":
		return sha256.New()
	case "http://www.w3.org/2001/04/xmldsig-more#sha384":
		return sha512.New384()
	case "http://www.w3.org/2001/04/xmlenc#sha512":
		return sha512.New()
	case "http://www.w3.org/2001/04/xmldsig-more#md5":
		return md5.New()
	case "http://www.w3.org/2007/05/xmldsig-more#sha3-224":
		return sha3.New224()
	case "http://www.w3.org/2007/05/xmldsig-more#sha3-256":
		return sha3.New256()
	case "http://www.w3.org/2007/05/xmldsig-more#sha3-384":
		return sha3.New384()
	case "http://www.w3.org/2007/05/xmldsig-more#sha3-512":
		return sha3.New512()
	}
	return nil
}

func digestB64(h hash.Hash, data []byte) string {
	h.Write(data)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// TestMerlinC14NThree checks the intermediate canonical outputs of the merlin-c14n-three vectors byte
// for byte. signature.xml has 27 References (c14n-0 … c14n-26, in order) and its SignedInfo
// canonicalized with its CanonicalizationMethod is c14n-27. Each c14n-N.txt is first tied to its
// Reference by its SHA-1 DigestValue, so the file-to-reference mapping is proven, not assumed.
func TestMerlinC14NThree(t *testing.T) {
	dir := filepath.Join(sharedDir(t), conformanceTestsPath, "merlin-c14n-three")
	sig, err := os.ReadFile(filepath.Join(dir, "signature.xml"))
	if err != nil {
		t.Skipf("merlin-c14n-three vectors not present: %v", err)
	}
	d := mustParse(t, sig)
	ids, err := d.IDs("Id", "ID", "id")
	if err != nil {
		t.Fatal(err)
	}
	refs := readReferences(t, d)
	if len(refs) != 27 {
		t.Fatalf("signature.xml has %d References, want 27", len(refs))
	}
	var passed, skipped []string
	for i, r := range refs {
		name := fmt.Sprintf("c14n-%d.txt", i)
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := digestB64(newDigest(r.digestAlg), want); got != r.digest {
			t.Fatalf("%s is not the output of Reference %d: digest %s, DigestValue %s", name, i, got, r.digest)
		}
		out, skip, err := referenceOctets(d, ids, r)
		switch {
		case err != nil:
			t.Errorf("%s: %v", name, err)
		case skip != "":
			skipped = append(skipped, name+": "+skip)
		case !bytes.Equal(out, want):
			t.Errorf("%s: canonical form differs\n got: %q\nwant: %q", name, out, want)
		default:
			passed = append(passed, name)
		}
	}
	// c14n-27: SignedInfo under its CanonicalizationMethod.
	si := firstChild(firstChild(d.Root(), nsDSig, "Signature"), nsDSig, "SignedInfo")
	alg, _ := firstChild(si, nsDSig, "CanonicalizationMethod").Attr("Algorithm")
	c, ok := ParseC14NURI(alg)
	if !ok {
		t.Fatalf("SignedInfo CanonicalizationMethod %q", alg)
	}
	want, err := os.ReadFile(filepath.Join(dir, "c14n-27.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := canon(t, d, si, c); !bytes.Equal(got, want) {
		t.Errorf("c14n-27.txt (SignedInfo): canonical form differs\n got: %q\nwant: %q", got, want)
	} else {
		passed = append(passed, "c14n-27.txt")
	}
	// The comparison can fail: exclusive canonicalization of the same SignedInfo gives other bytes.
	if bytes.Equal(canon(t, d, si, C14N{Method: ExcC14N10}), want) {
		t.Error("exclusive c14n of SignedInfo equals the inclusive vector: the check cannot discriminate")
	}
	for _, s := range skipped {
		t.Logf("skipped %s", s)
	}
	t.Logf("merlin-c14n-three: %d passed byte-exact, %d skipped (listed above), %d vectors", len(passed), len(skipped), len(refs)+1)
	if len(passed)+len(skipped) != len(refs)+1 && !t.Failed() {
		t.Fatal("vector accounting does not add up")
	}
}

// TestXMLDSigReferenceDigests recomputes the DigestValue of every ds:Reference in the xmlsec test
// signatures whose URI and transforms this package supports (same-document references, enveloped
// signature, the six canonicalizations) and compares it with the value the signer wrote. A digest
// match proves the canonical octets byte-exact. Everything else is listed as skipped with the reason.
// merlin-exc-c14n-one ships no c14n output files, so its References are checked this way.
func TestXMLDSigReferenceDigests(t *testing.T) {
	base := filepath.Join(sharedDir(t), conformanceTestsPath)
	dirs := []string{"merlin-exc-c14n-one", "merlin-c14n-three", "merlin-xmldsig-twenty-three", "aleksey-xmldsig-01"}
	total := map[string]int{}
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(base, dir, "*.xml"))
		sort.Strings(files)
		if len(files) == 0 {
			t.Logf("%s: no signature files", dir)
			continue
		}
		var pass, skip, fail int
		var skipped []string
		for _, f := range files {
			rel := dir + "/" + filepath.Base(f)
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			d, err := Parse(data)
			if errors.Is(err, ErrForbidden) {
				// A DOCTYPE is refused by design. Two vectors use one only to declare ID attributes
				// and entities the body never references; the canonical forms do not depend on it
				// (C14N drops the DTD), so they are checked with it cut out. Any other use of the
				// DTD would make the digests below fail, not pass.
				stripped, ok := stripInertDoctype(data)
				if !ok {
					skipped = append(skipped, rel+": document refused by the hardened parser: "+err.Error())
					skip++
					continue
				}
				t.Logf("%s: DOCTYPE removed (declares only ID attributes and unreferenced entities)", rel)
				d, err = Parse(stripped)
			}
			if err != nil {
				t.Errorf("%s: %v", rel, err)
				fail++
				continue
			}
			func() {
				defer d.Close()
				ids, err := d.IDs("Id", "ID", "id")
				if err != nil {
					t.Errorf("%s: %v", rel, err)
					fail++
					return
				}
				refs := readReferencesOrNone(d)
				for i, r := range refs {
					where := fmt.Sprintf("%s Reference[%d] URI=%q", rel, i, r.uri)
					h := newDigest(r.digestAlg)
					if h == nil {
						skipped = append(skipped, where+": digest "+r.digestAlg+" not available")
						skip++
						continue
					}
					out, why, err := referenceOctets(d, ids, r)
					switch {
					case err != nil:
						t.Errorf("%s: %v", where, err)
						fail++
					case why != "":
						skipped = append(skipped, where+": "+why)
						skip++
					default:
						if got := digestB64(h, out); got != r.digest {
							t.Errorf("%s: digest %s, want %s; octets %q", where, got, r.digest, out)
							fail++
						} else {
							pass++
						}
					}
				}
			}()
		}
		for _, s := range skipped {
			t.Logf("skipped %s", s)
		}
		t.Logf("%s: %d references verified by digest, %d skipped, %d failed", dir, pass, skip, fail)
		total["pass"] += pass
		total["skip"] += skip
		total["fail"] += fail
	}
	t.Logf("total: %d verified, %d skipped, %d failed", total["pass"], total["skip"], total["fail"])
	if total["pass"] == 0 {
		t.Fatal("no reference verified: the vectors or the harness are broken")
	}
}

// readReferencesOrNone reads every ds:Reference (SignedInfo and Manifest alike) in document order.
func readReferencesOrNone(d *Document) []dsigReference {
	var refs []dsigReference
	d.Walk(func(n Node) bool {
		if n.Is(nsDSig, "Reference") {
			refs = append(refs, dsigReference{node: n})
		}
		return true
	})
	for i := range refs {
		n := refs[i].node
		refs[i].uri, _ = n.Attr("URI")
		if ts := firstChild(n, nsDSig, "Transforms"); !ts.IsZero() {
			for _, tr := range childrenNamed(ts, nsDSig, "Transform") {
				alg, _ := tr.Attr("Algorithm")
				x := dsigTransform{alg: alg}
				if xp := firstChild(tr, nsDSig, "XPath"); !xp.IsZero() {
					x.xpath = strings.Join(strings.Fields(xp.Text()), " ")
				}
				if inc := firstChild(tr, nsExcC14N, "InclusiveNamespaces"); !inc.IsZero() {
					pl, _ := inc.Attr("PrefixList")
					x.prefixes = append([]string{}, strings.Fields(pl)...)
				}
				refs[i].transforms = append(refs[i].transforms, x)
			}
		}
		refs[i].digestAlg, _ = firstChild(n, nsDSig, "DigestMethod").Attr("Algorithm")
		refs[i].digest = strings.Join(strings.Fields(firstChild(n, nsDSig, "DigestValue").Text()), "")
	}
	return refs
}
