package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/workspace"
)

// The pack record: what `sender pack` keeps of every package it builds, a row of the workspace
// database's packed table (internal/workspace, Packed), so that it is in every backup with the rest
// of the workspace and one query away for the commands that need it:
//
//   - `sender pack` warns when a submission id was packed before (the same declaration again: the
//     fund accepts one declaration per submission id), naming the earlier packages and whether each
//     was sent;
//   - `sender sign` shows the signer the summary sheet and first rows recorded when the declaration
//     was validated and packed (the row's preview), instead of decrypting, decompressing and
//     validating the whole declaration again: the record is found by the SHA-256 of the very payload
//     the signature will cover, so it describes exactly the bytes being signed, and it was written by
//     this sender from the plaintext it encrypted into that payload. Its trust is the state
//     directory's, like the sequence counters and the signature log: a person who can write there can
//     also change the configuration. A package without a record (packed elsewhere, or more rows asked
//     for than recorded) is decrypted and validated as before;
//   - `sender send` names the packages packed here with the same submission id when it refuses a
//     duplicate, and `sender status` recognises a package packed here that never reached the receiver.
//
// (Earlier builds wrote the record as <stateDir>/packed/<submission id>/<payload SHA-256>.json; those
// files are no longer read.)

// recordRows is how many items a pack record keeps: the sign preview's default (20) and then some.
const recordRows = 100

// writePackRecord records res, written to path, in the workspace database.
func writePackRecord(ctx context.Context, ws *workspace.Workspace, res *pack.Result, path string, now time.Time) error {
	if res.Excerpt == nil {
		return errors.New("pack: no excerpt to record")
	}
	preview, err := json.Marshal(res.Excerpt)
	if err != nil {
		return err
	}
	_, err = ws.AddPacked(ctx, workspace.Packed{PayloadSHA256: res.PayloadSHA256, PackageSHA256: res.SHA256,
		DeclarationSHA256: res.DeclarationSHA256, Name: res.Name.String(), SubmissionID: res.Summary.ID, Path: path, Packed: now.UTC(),
		Encrypted: !res.Plain, Preview: preview})
	return err
}

// readPackRecord returns the preview recorded for the package whose submission id and payload digest
// are given, or nil when there is none (or it is unreadable, or for another submission).
func readPackRecord(ctx context.Context, ws *workspace.Workspace, submission string, payload [32]byte) *declaration.Excerpt {
	rec, err := ws.PackedByPayload(ctx, payload)
	if err != nil || rec.SubmissionID != submission {
		return nil
	}
	return packedPreview(rec)
}

// packedPreview decodes a record's preview; nil when it does not decode or names another submission.
func packedPreview(rec *workspace.Packed) *declaration.Excerpt {
	var e declaration.Excerpt
	if json.Unmarshal(rec.Preview, &e) != nil || e.Header.ID != rec.SubmissionID {
		return nil
	}
	return &e
}

// packedState says, in both languages, what became of a package packed here: not sent, sent without
// a receipt, or sent with its receipt's result. Signing keeps the file name, so the sent package is
// found by name and submission id.
func packedState(ctx context.Context, ws *workspace.Workspace, rec workspace.Packed) string {
	p, err := ws.PackageByName(ctx, rec.Name)
	if err != nil || p.SubmissionID != rec.SubmissionID {
		return "nincs elküldve / not sent"
	}
	r, err := ws.ReceiptFor(ctx, p.SHA256)
	if err != nil {
		return "elküldve, nyugta nélkül / sent, no receipt"
	}
	switch {
	case r.Flagged():
		return "elküldve, hibás nyugta / sent, defective receipt"
	case r.Result == string(receipt.Accepted):
		return "elküldve, BEFOGADVA / sent, accepted"
	case r.Result == string(receipt.Rejected):
		return "elküldve, ELUTASITVA / sent, rejected"
	}
	return "elküldve / sent"
}

// packedList describes the pack records of a submission id: "NAME (packed TIME, STATE)", oldest first.
func packedList(ctx context.Context, ws *workspace.Workspace, recs []workspace.Packed) string {
	var parts []string
	for _, r := range recs {
		parts = append(parts, fmt.Sprintf("%s (csomagolva / packed %s, %s)", r.Name, fmtTime(r.Packed), packedState(ctx, ws, r)))
	}
	return strings.Join(parts, "; ")
}
