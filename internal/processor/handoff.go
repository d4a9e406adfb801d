package processor

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tagdij/tagdij/archive"
	"github.com/tagdij/tagdij/internal/durable"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/pkgname"
)

// The files of a hand-off directory.
const (
	HandOffDeclaration = "bevallas.xml"   // the declaration, only for a processed package
	HandOffSummary     = "osszesito.json" // HandOffJSON
)

// HandOffJSON is the summary the back office gets with every finished package (osszesito.json).
type HandOffJSON struct {
	Package struct {
		SHA256   string    `json:"sha256"`
		FileName string    `json:"fileName"`
		Size     int64     `json:"size"`
		Arrival  time.Time `json:"arrival"`
	} `json:"package"`
	SubmissionID  string `json:"submissionId"`
	DeclarantType string `json:"declarantType"`
	DeclarantID   string `json:"declarantId"`
	Fund          string `json:"fund"`
	Period        string `json:"period"`
	Type          string `json:"type"`
	// Outcome is processed, final-invalid or content-rejected; only a processed package comes with its
	// declaration (bevallas.xml).
	Outcome    string            `json:"outcome"`
	FinalState string            `json:"finalState"` // ERVENYES, ERVENYTELEN, BEFEJEZETLEN
	Findings   []errcode.Finding `json:"findings,omitempty"`
	// Declaration summarises the declaration when it could be read.
	Declaration *declSummary `json:"declaration,omitempty"`
	ArchiveID   string       `json:"archiveId"`
	ReceiptID   string       `json:"receiptId"`
	HandedOff   time.Time    `json:"handedOff"`
}

// handOffName is the directory name of j's hand-off: the package name without .es3 and the start of
// its SHA-256 (two packages may share a name, never a hash).
func handOffName(j *Job) string {
	h := hex.EncodeToString(j.SHA256[:])[:16]
	if _, err := pkgname.Parse(j.FileName); err == nil {
		return strings.TrimSuffix(j.FileName, ".es3") + "_" + h
	}
	return hex.EncodeToString(j.SHA256[:])
}

func (p *Processor) handedOff(j *Job) bool {
	_, err := os.Lstat(filepath.Join(p.cfg.HandOffDir, handOffName(j)))
	return err == nil
}

// handOff publishes the outcome in the hand-off directory (durable.WriteDir: written under a
// temporary name, fsynced, renamed), once: a hand-off already there (an earlier attempt that
// crashed before the store update) is kept as it is. The declaration's plaintext is written here and
// nowhere else.
func (p *Processor) handOff(j *Job, e *archive.Entry, o *outcome) (string, error) {
	name := handOffName(j)
	if p.handedOff(j) {
		return name, nil
	}
	var s HandOffJSON
	s.Package.SHA256, s.Package.FileName, s.Package.Size, s.Package.Arrival = hex.EncodeToString(j.SHA256[:]), j.FileName, j.Size, j.Arrival
	s.SubmissionID, s.DeclarantType, s.DeclarantID, s.Fund, s.Period, s.Type = j.SubmissionID, j.DeclarantType, j.DeclarantID, j.Fund, j.Period, j.Type
	s.Outcome, s.FinalState, s.Findings, s.Declaration = string(o.kind), string(o.state), o.findings, o.summary
	s.ArchiveID, s.ReceiptID, s.HandedOff = e.ID, j.ReceiptID, p.cfg.Clock().UTC()
	js, err := json.MarshalIndent(&s, "", "  ")
	if err != nil {
		return "", err
	}
	files := []durable.DirFile{{Name: HandOffSummary, Data: append(js, '\n')}}
	if o.kind == Processed {
		if o.decl == nil {
			return "", errors.New("no declaration to hand off")
		}
		files = append([]durable.DirFile{{Name: HandOffDeclaration, Data: o.decl}}, files...)
	}
	err = durable.WriteDir(filepath.Join(p.cfg.HandOffDir, name), files, 0o640)
	if errors.Is(err, fs.ErrExist) {
		return name, nil
	}
	return name, err
}

// removeStaleHandOffs removes what a crash in the middle of a hand-off left (temporary directories
// older than before): nobody finishes them, and they may hold plaintext.
func removeStaleHandOffs(dir string, before time.Time) (int, error) {
	return durable.RemoveStale(dir, before)
}
