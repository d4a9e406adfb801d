package libxml_test

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"regexp"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/synth"
)

// TestRealDocumentsWithinDefaults parses, under DefaultLimits, the largest documents Tagdíj exchanges:
// a 100,000-member declaration as Tagdíj writes it, the same re-indented with tabs and with one space
// (denser in tree nodes per byte: 12.2 and 11.6 bytes a node against 13.1), and a package-shaped
// document carrying a 50 MB payload as base64. The limits against floods must leave them all through.
func TestRealDocumentsWithinDefaults(t *testing.T) {
	decl, err := synth.Generate(synth.Options{Members: 100_000, Seed: 1, Period: declaration.Period{Year: 2026, Month: time.October}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	indent := regexp.MustCompile(`\n +`)
	docs := map[string][]byte{
		"declaration of 100,000 members": decl,
		"the same indented with tabs": indent.ReplaceAllFunc(decl, func(m []byte) []byte {
			return append([]byte{'\n'}, bytes.Repeat([]byte{'\t'}, (len(m)-1)/2)...)
		}),
		"the same indented with one space": indent.ReplaceAll(decl, []byte("\n ")),
		"package with a 50 MB payload":     payloadPackage(50 << 20),
	}
	for name, data := range docs {
		t.Run(name, func(t *testing.T) {
			d, err := libxml.Parse(data)
			if err != nil {
				t.Fatalf("%d bytes refused: %v", len(data), err)
			}
			d.Close()
		})
	}
}

// payloadPackage is an e-akta-shaped dossier whose one document holds size bytes of random data as
// base64 in lines of 76 characters: few nodes, one very long text.
func payloadPackage(size int) []byte {
	raw := make([]byte, size)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range raw {
		raw[i] = byte(r.Uint32())
	}
	enc := base64.StdEncoding.EncodeToString(raw)
	var b bytes.Buffer
	b.Grow(len(enc) + len(enc)/76 + 1024)
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<es:Dossier xmlns:es="https://www.microsec.hu/ds/e-szigno30#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
<es:DossierProfile Id="P"><es:Title>TBA</es:Title></es:DossierProfile>
<es:Documents><es:Document Id="D"><es:DocumentProfile Id="DP"><es:Title>bevallas.xml</es:Title></es:DocumentProfile>
<es:Object Id="O">`)
	for len(enc) > 76 {
		b.WriteString(enc[:76])
		b.WriteByte('\n')
		enc = enc[76:]
	}
	b.WriteString(enc)
	b.WriteString("</es:Object></es:Document></es:Documents></es:Dossier>\n")
	return b.Bytes()
}
