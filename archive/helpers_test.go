package archive_test

import (
	"crypto/sha256"
	"fmt"

	"github.com/tagdij/tagdij/archive"
)

// sampleInput is a finished package as the processor hands it over (bytes that stand for the
// packages; the archive does not parse them, VerifyPackage does).
func sampleInput(n int) archive.Input {
	orig := fmt.Appendf(nil, "<es3 package %d/>", n)
	return archive.Input{PackageSHA256: sha256.Sum256(orig), PackageName: fmt.Sprintf("TBA_12345676_0101_202611_B001_%08d.es3", n),
		Original: orig, Extended: fmt.Appendf(nil, "<es3 extended %d/>", n), ReceiptName: fmt.Sprintf("TBN_%d.es3", n),
		Receipt: fmt.Appendf(nil, "<receipt %d/>", n), Report: fmt.Appendf(nil, `{"report":%d}`, n),
		SubmissionID: fmt.Sprintf("22222222-2222-4222-8222-%012d", n), DeclarantType: "adoszam", DeclarantID: "12345676",
		Fund: "0101", Period: "2026-11", DeclType: "B", Outcome: "valid"}
}
