// Package wire holds the JSON bodies of the receiver's API (SPEC §9) that both sides read: the
// receiver writes them, the sender's client (internal/upload) decodes them. One definition, so the
// two cannot drift. No net/http here: these are plain data.
package wire

import "time"

// Status is the body of GET /v1/packages/{sha256}/status.
type Status struct {
	SHA256             string    `json:"sha256"`
	Received           time.Time `json:"received"`
	Result             string    `json:"result"`   // BEFOGADVA or ELUTASITVA
	PreCheck           string    `json:"preCheck"` // ERVENYES, ERVENYTELEN, BEFEJEZETLEN
	Status             string    `json:"status"`   // rejected, awaiting-final-check, then processed, final-invalid or content-rejected
	EarliestFinalCheck time.Time `json:"earliestFinalCheck,omitzero"`
	ReceiptID          string    `json:"receiptId"`
	SubmissionID       string    `json:"submissionId,omitempty"`
	Codes              []string  `json:"codes,omitempty"` // the receipt's
	// FinalCheck is the processor's record of an accepted package; absent for a rejected upload.
	FinalCheck *FinalCheck `json:"finalCheck,omitempty"`
}

// FinalCheck is the processor's part of the status: while waiting, the attempts so far, when the
// next is due, why the last did not end final and any alert (the signer certificate nears its notAfter);
// once done, the final check's state, the codes of the final and the content check, and when.
type FinalCheck struct {
	Done        bool      `json:"done"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"nextAttempt,omitzero"`
	LastError   string    `json:"lastError,omitempty"`
	Alert       string    `json:"alert,omitempty"`
	State       string    `json:"state,omitempty"` // ERVENYES, ERVENYTELEN, BEFEJEZETLEN
	Codes       []string  `json:"codes,omitempty"`
	Finished    time.Time `json:"finished,omitzero"`
	ArchiveID   string    `json:"archiveId,omitempty"`
}
