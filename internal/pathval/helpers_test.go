package pathval

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"

	"github.com/tagdij/tagdij/internal/qc"
)

func pkixExt(id asn1.ObjectIdentifier, critical bool, value []byte) pkix.Extension {
	return pkix.Extension{Id: id, Critical: critical, Value: value}
}

func qcExt(t *testing.T, compliance, sscd bool) pkix.Extension {
	e, err := qc.Extension(qc.Statements{Compliance: compliance, SSCD: sscd})
	if err != nil {
		t.Fatal(err)
	}
	return e
}
