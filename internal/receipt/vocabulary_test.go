package receipt

import (
	"encoding/xml"
	"slices"
	"testing"

	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/schema"
)

// enumeration returns the xs:enumeration values of the simple type name in nyugta.xsd.
func enumeration(t *testing.T, name string) []string {
	t.Helper()
	src, err := schema.Source(schema.Receipt)
	if err != nil {
		t.Fatal(err)
	}
	var xsd struct {
		Types []struct {
			Name   string `xml:"name,attr"`
			Values []struct {
				Value string `xml:"value,attr"`
			} `xml:"restriction>enumeration"`
		} `xml:"simpleType"`
	}
	if err := xml.Unmarshal(src, &xsd); err != nil {
		t.Fatal(err)
	}
	for _, st := range xsd.Types {
		if st.Name == name {
			var out []string
			for _, v := range st.Values {
				out = append(out, v.Value)
			}
			return out
		}
	}
	t.Fatalf("nyugta.xsd has no simple type %q", name)
	return nil
}

// TestVocabularyMatchesSchema: the receipt schema admits every indication and sub-indication a
// report can carry, spelled as report spells it, and nothing report does not know; Valid agrees with
// the schema.
func TestVocabularyMatchesSchema(t *testing.T) {
	ind := enumeration(t, "Indikacio")
	for _, i := range []report.Indication{report.TotalPassed, report.TotalFailed, report.Indeterminate} {
		if !slices.Contains(ind, string(i)) || !i.Valid() {
			t.Errorf("indication %q: in nyugta.xsd %v, Valid %v", i, slices.Contains(ind, string(i)), i.Valid())
		}
	}
	for _, v := range ind {
		if !Indication(v).Valid() {
			t.Errorf("nyugta.xsd indication %q is not a report indication", v)
		}
	}
	if len(ind) != 3 {
		t.Errorf("nyugta.xsd indications %v, want the three of EN 319 102-1", ind)
	}

	sub := enumeration(t, "AlIndikacio")
	all := report.SubIndications()
	for _, s := range all {
		if !slices.Contains(sub, string(s)) {
			t.Errorf("report sub-indication %q is not admitted by nyugta.xsd", s)
		}
		if !s.Under(report.TotalFailed) && !s.Under(report.Indeterminate) {
			t.Errorf("sub-indication %q is listed under no main indication", s)
		}
	}
	for _, v := range sub {
		if !SubIndication(v).Valid() || !slices.Contains(all, SubIndication(v)) {
			t.Errorf("nyugta.xsd sub-indication %q is not a report sub-indication", v)
		}
	}
	// The constants the verifier uses are among them.
	for _, s := range []report.SubIndication{report.FormatFailure, report.HashFailure, report.SigCryptoFailure,
		report.Revoked, report.NotYetValid, report.RevokedNoPOE, report.OutOfBoundsNoPOE, report.NoCertificateChainFound,
		report.ChainConstraintsFailure, report.CertificateChainGeneralFailure, report.CryptoConstraintsFailure,
		report.CryptoConstraintsFailureNoPOE, report.SigConstraintsFailure, report.PolicyProcessingError,
		report.TimestampOrderFailure, report.NoSigningCertificate, report.SignedDataNotFound, report.NoPOE, report.TryLater} {
		if !slices.Contains(all, s) || !s.Valid() {
			t.Errorf("%q missing from report.SubIndications or not Valid", s)
		}
	}
	if report.None.Valid() {
		t.Error("the empty sub-indication is Valid")
	}
}
