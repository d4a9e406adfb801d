package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"github.com/tagdij/tagdij/internal/config"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/durable"
	"github.com/tagdij/tagdij/internal/pack"
)

// The pack record: what `sender pack` keeps of every package it builds, in
//
//	<stateDir>/packed/<submission id>/<payload SHA-256>.json   (0600, in 0700 directories: SEC-05)
//
// It serves two purposes. `sender pack` warns when a submission id was packed before (the same
// declaration again: the fund accepts one declaration per submission id). `sender sign` shows the
// signer the summary sheet and first rows recorded when the declaration was validated and packed,
// instead of decrypting, decompressing and validating the whole declaration again: the record is
// found by the SHA-256 of the very payload the signature will cover, so it describes exactly the
// bytes being signed, and it was written by this sender from the plaintext it encrypted into that
// payload. Its trust is the state directory's, like the sequence counters and the signature log: a
// person who can write there can also change the configuration. A package without a record (packed
// elsewhere, or more rows asked for than recorded) is decrypted and validated as before.
type packRecord struct {
	Version           int                  `json:"version"`
	Package           string               `json:"package"` // the file name (SPEC §4)
	Path              string               `json:"path"`    // where pack wrote it
	PackedAt          time.Time            `json:"packedAt"`
	SubmissionID      string               `json:"submissionId"`
	PayloadSHA256     string               `json:"payloadSha256"`     // hex, of the covered payload object
	DeclarationSHA256 string               `json:"declarationSha256"` // hex, of the declaration bytes
	Encrypted         bool                 `json:"encrypted"`
	Excerpt           *declaration.Excerpt `json:"excerpt"`
}

// recordRows is how many items a pack record keeps: the sign preview's default (20) and then some.
const recordRows = 100

// packRecordVersion is the format written; records of another version are ignored.
const packRecordVersion = 1

// uuidRE is the submission id's form (the schema's tb:UUID): it becomes a directory name.
var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func packedDir(cfg *config.Sender, submission string) (string, error) {
	if !uuidRE.MatchString(submission) {
		return "", fmt.Errorf("submission id %q is not a UUID", submission)
	}
	return filepath.Join(cfg.StateDir, "packed", submission), nil
}

// writePackRecord records res, written to path, durably.
func writePackRecord(cfg *config.Sender, res *pack.Result, path string, now time.Time) error {
	dir, err := packedDir(cfg, res.Summary.ID)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	rec := packRecord{Version: packRecordVersion, Package: res.Name.String(), Path: path, PackedAt: now.UTC(), SubmissionID: res.Summary.ID,
		PayloadSHA256: hex.EncodeToString(res.PayloadSHA256[:]), DeclarationSHA256: hex.EncodeToString(res.DeclarationSHA256[:]),
		Encrypted: !res.Plain, Excerpt: res.Excerpt}
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return durable.WriteFile(filepath.Join(dir, rec.PayloadSHA256+".json"), data, 0o600)
}

// readPackRecord returns the record of the package whose submission id and payload digest are given,
// or nil when there is none (or it is unreadable, or of another version, or for other bytes).
func readPackRecord(cfg *config.Sender, submission string, payload [32]byte) *packRecord {
	dir, err := packedDir(cfg, submission)
	if err != nil {
		return nil
	}
	sum := hex.EncodeToString(payload[:])
	data, err := os.ReadFile(filepath.Join(dir, sum+".json"))
	if err != nil {
		return nil
	}
	var rec packRecord
	if json.Unmarshal(data, &rec) != nil || rec.Version != packRecordVersion || rec.PayloadSHA256 != sum || rec.SubmissionID != submission ||
		rec.Excerpt == nil || rec.Excerpt.Header.ID != submission {
		return nil
	}
	return &rec
}

// packedBefore lists the packages recorded for a submission id, oldest first.
func packedBefore(cfg *config.Sender, submission string) ([]packRecord, error) {
	dir, err := packedDir(cfg, submission)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []packRecord
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".json" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		var rec packRecord
		if json.Unmarshal(data, &rec) == nil && rec.SubmissionID == submission {
			rec.Excerpt = nil
			out = append(out, rec)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PackedAt.Before(out[j].PackedAt) })
	return out, nil
}
