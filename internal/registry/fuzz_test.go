package registry

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tagdij/tagdij/schema"
)

// FuzzDecode: Decode never panics, and a sheet it accepts encodes to a schema-valid document that
// decodes to the same sheet (and encodes to the same bytes again).
func FuzzDecode(f *testing.F) {
	set := loadSet(f)
	files, err := filepath.Glob(filepath.Join(testdataDir, "*.xml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed instances: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(fullFixed(f))
	s, err := Decode(fullFixed(f), set)
	if err != nil {
		f.Fatal(err)
	}
	s.Withdrawal.Reason = "sor 1\r\nsor 2\n\t]]> &amp; < 'x'"
	s.Signers[0].Cert.IssuerDN = `CN=Minta\, CA,O=x` + "\t" + `y,C=HU`
	if b, err := Encode(s); err == nil {
		f.Add(b)
	} else {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Decode(data, set)
		if err != nil {
			if s != nil {
				t.Fatal("Decode returned a sheet with an error")
			}
			return
		}
		out, err := Encode(s)
		if err != nil {
			t.Fatalf("Encode of a decoded sheet: %v", err)
		}
		if err := set.ValidateBytes(schema.Registration, out); err != nil {
			t.Fatalf("Encode wrote a schema-invalid sheet: %v\n%s", err, out)
		}
		back, err := Decode(out, set)
		if err != nil {
			t.Fatalf("Decode(Encode(s)): %v\n%s", err, out)
		}
		if !reflect.DeepEqual(back, s) {
			t.Fatalf("round trip changed the sheet:\n%+v\nwant\n%+v", back, s)
		}
		again, err := Encode(back)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("Encode is not stable: %v", err)
		}
	})
}
