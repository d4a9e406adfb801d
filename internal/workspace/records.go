package workspace

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tagdij/tagdij/internal/blob"
)

// Send-log outcomes: kontener.xsd's Kimenet.
const (
	OutcomeReceipt      = "NYUGTA_ERKEZETT" // a receipt package came back (accepting or rejecting)
	OutcomeNetwork      = "HALOZATI_HIBA"   // no HTTP response: connection, TLS, timeout
	OutcomeHTTP         = "HTTP_HIBA"       // an HTTP response without a receipt (503 with an R001 answer included)
	OutcomeBadResponse  = "HIBAS_VALASZ"    // a response that is not a receipt package
	RecipientFund       = "PENZTAR"         // notification to the fund (SND-30)
	RecipientSupervisor = "FELUGYELET"      // notification to the supervisory authority (SND-30)
)

// Package is a package the sender sent (or is sending).
type Package struct {
	SHA256       [32]byte
	Name         string // the SPEC §4 file name it is sent under
	SubmissionID string // cs:Azonosito of its signed metadata
	Size         int64
	Added        time.Time
}

// PackageCheck is the last initial check of a package before it was sent: its report and the
// validation data it used (kept for the container, SND-32).
type PackageCheck struct {
	Checked    time.Time
	Report     []byte // report.Document JSON
	Validation []byte // validation data JSON
}

// SetPackageCheck records the initial check of a package.
func (w *Workspace) SetPackageCheck(ctx context.Context, sum [32]byte, c PackageCheck) error {
	res, err := w.db.ExecContext(ctx, `UPDATE packages SET checked = ?, report = ?, validation = ? WHERE sha256 = ?`,
		c.Checked.UnixNano(), c.Report, c.Validation, sum[:])
	if err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("%w: package %x", ErrNotFound, sum[:8])
	}
	return nil
}

// PackageCheckOf returns the recorded initial check of a package.
func (w *Workspace) PackageCheckOf(ctx context.Context, sum [32]byte) (*PackageCheck, error) {
	var c PackageCheck
	var checked sql.NullInt64
	err := w.db.QueryRowContext(ctx, `SELECT checked, report, validation FROM packages WHERE sha256 = ?`, sum[:]).Scan(&checked, &c.Report, &c.Validation)
	if err := notFound(err); err != nil {
		return nil, err
	}
	if !checked.Valid {
		return nil, fmt.Errorf("%w: no check of package %x", ErrNotFound, sum[:8])
	}
	c.Checked = time.Unix(0, checked.Int64).UTC()
	return &c, nil
}

// Attempt is one entry of the send log.
type Attempt struct {
	Seq        int64
	Package    [32]byte
	Started    time.Time
	URL        string
	HTTPStatus int // 0: no HTTP response
	Outcome    string
	Detail     string
	// Answer is the SHA-256 of the answer's body kept in the blob store (a receipt, an R001 answer);
	// nil when none was kept.
	Answer *[32]byte
}

// Receipt is a receipt package received for a package, with the result of verifying the fund's
// signature on it (SND-27, SND-29). It is stored whatever that result (SND-30).
type Receipt struct {
	SHA256    [32]byte
	Package   [32]byte
	Name      string // the receipt package's file name (its es:Title when readable)
	ReceiptID string // "" when the receipt could not be read
	Result    string // BEFOGADVA or ELUTASITVA; "" when not read
	Received  time.Time
	Checked   time.Time
	// State, Indication and SubIndication are the verdict on the fund's signature.
	State         string
	Indication    string
	SubIndication string
	// Problem says why the receipt is flagged (an invalid signature, a receipt about another
	// package); "" when it is not.
	Problem    string
	Report     []byte // report.Document JSON of the last check
	Validation []byte // the validation data of the last check, JSON
}

// Flagged reports whether the receipt is flagged.
func (r *Receipt) Flagged() bool { return r.Problem != "" }

// Notification is one SND-30 notification record.
type Notification struct {
	Seq       int64
	Receipt   [32]byte
	Created   time.Time
	Recipient string // RecipientFund or RecipientSupervisor
	Address   string
	Text      string
	File      string // the letter, relative to the state directory
}

// Container is one version of a package's sender container (TBK_….es3, SND-31).
type Container struct {
	SHA256  [32]byte
	Package [32]byte
	Name    string
	Version int
	Created time.Time
}

// PutBlob stores data in the blob store, durably, and returns its SHA-256.
func (w *Workspace) PutBlob(data []byte) ([32]byte, error) {
	sum := sha256.Sum256(data)
	if w.blobs.Has(sum) {
		return sum, nil
	}
	in, err := w.blobs.Receive(bytes.NewReader(data), MaxBlobBytes, int64(len(data)))
	if err != nil {
		in.Abort()
		return sum, fmt.Errorf("workspace: %w", err)
	}
	if err := in.Commit(); err != nil {
		return sum, fmt.Errorf("workspace: %w", err)
	}
	return sum, nil
}

// Blob returns stored bytes, checked against their hash.
func (w *Workspace) Blob(sum [32]byte) ([]byte, error) {
	b, err := w.blobs.Read(sum)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, fmt.Errorf("%w: blob %x", ErrNotFound, sum[:8])
	}
	return b, err
}

// AddPackage stores a package's bytes and its row; adding the same package again changes nothing.
func (w *Workspace) AddPackage(ctx context.Context, p Package, data []byte) error {
	if sha256.Sum256(data) != p.SHA256 {
		return errors.New("workspace: package bytes do not match their SHA-256")
	}
	if _, err := w.PutBlob(data); err != nil {
		return err
	}
	_, err := w.db.ExecContext(ctx, `INSERT INTO packages (sha256, name, submission_id, size, added) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (sha256) DO NOTHING`, p.SHA256[:], p.Name, p.SubmissionID, p.Size, p.Added.UnixNano())
	if err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	return nil
}

const packageCols = `sha256, name, submission_id, size, added`

func scanPackage(row interface{ Scan(...any) error }) (*Package, error) {
	var p Package
	var sum []byte
	var added int64
	if err := row.Scan(&sum, &p.Name, &p.SubmissionID, &p.Size, &added); err != nil {
		return nil, err
	}
	copy(p.SHA256[:], sum)
	p.Added = time.Unix(0, added).UTC()
	return &p, nil
}

// Package returns a package by its SHA-256.
func (w *Workspace) Package(ctx context.Context, sum [32]byte) (*Package, error) {
	p, err := scanPackage(w.db.QueryRowContext(ctx, `SELECT `+packageCols+` FROM packages WHERE sha256 = ?`, sum[:]))
	return p, notFound(err)
}

// PackageByName returns the package sent under a file name (the latest, should there be several).
func (w *Workspace) PackageByName(ctx context.Context, name string) (*Package, error) {
	p, err := scanPackage(w.db.QueryRowContext(ctx, `SELECT `+packageCols+` FROM packages WHERE name = ? ORDER BY added DESC LIMIT 1`, name))
	return p, notFound(err)
}

// PackagesBySubmission returns the packages with a submission id, oldest first.
func (w *Workspace) PackagesBySubmission(ctx context.Context, id string) ([]Package, error) {
	return w.packages(ctx, `SELECT `+packageCols+` FROM packages WHERE submission_id = ? ORDER BY added, name`, id)
}

// Packages returns every package, oldest first.
func (w *Workspace) Packages(ctx context.Context) ([]Package, error) {
	return w.packages(ctx, `SELECT `+packageCols+` FROM packages ORDER BY added, name`)
}

func (w *Workspace) packages(ctx context.Context, q string, args ...any) ([]Package, error) {
	rows, err := w.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	defer rows.Close()
	var out []Package
	for rows.Next() {
		p, err := scanPackage(rows)
		if err != nil {
			return nil, fmt.Errorf("workspace: %w", err)
		}
		out = append(out, *p)
	}
	return out, rows.Err()
}

// AddAttempt appends an entry to the send log and returns its sequence number. An answer body, when
// given, is stored in the blob store first.
func (w *Workspace) AddAttempt(ctx context.Context, a Attempt, answer []byte) (int64, error) {
	var ans any
	if answer != nil {
		sum, err := w.PutBlob(answer)
		if err != nil {
			return 0, err
		}
		ans = sum[:]
	}
	var status any
	if a.HTTPStatus != 0 {
		status = a.HTTPStatus
	}
	res, err := w.db.ExecContext(ctx, `INSERT INTO attempts (package_sha256, started, url, http_status, outcome, detail, answer_sha256)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, a.Package[:], a.Started.UnixNano(), a.URL, status, a.Outcome, a.Detail, ans)
	if err != nil {
		return 0, fmt.Errorf("workspace: %w", err)
	}
	return res.LastInsertId()
}

// Attempts returns a package's send log in order.
func (w *Workspace) Attempts(ctx context.Context, pkg [32]byte) ([]Attempt, error) {
	rows, err := w.db.QueryContext(ctx, `SELECT seq, started, url, http_status, outcome, detail, answer_sha256 FROM attempts
		WHERE package_sha256 = ? ORDER BY seq`, pkg[:])
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	defer rows.Close()
	var out []Attempt
	for rows.Next() {
		a := Attempt{Package: pkg}
		var started int64
		var status sql.NullInt64
		var ans []byte
		if err := rows.Scan(&a.Seq, &started, &a.URL, &status, &a.Outcome, &a.Detail, &ans); err != nil {
			return nil, fmt.Errorf("workspace: %w", err)
		}
		a.Started = time.Unix(0, started).UTC()
		a.HTTPStatus = int(status.Int64)
		if len(ans) == 32 {
			var s [32]byte
			copy(s[:], ans)
			a.Answer = &s
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// PutReceipt stores a receipt package's bytes and its row, or updates the row of the package's
// receipt after a new check (the bytes of a package's receipt never change: another receipt for the
// same package is refused).
func (w *Workspace) PutReceipt(ctx context.Context, r Receipt, data []byte) error {
	if sha256.Sum256(data) != r.SHA256 {
		return errors.New("workspace: receipt bytes do not match their SHA-256")
	}
	if _, err := w.PutBlob(data); err != nil {
		return err
	}
	null := func(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
	_, err := w.db.ExecContext(ctx, `INSERT INTO receipts (sha256, package_sha256, name, receipt_id, result, received, checked, state,
		indication, sub_indication, problem, report, validation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (sha256) DO UPDATE SET checked = excluded.checked, state = excluded.state, indication = excluded.indication,
		sub_indication = excluded.sub_indication, problem = excluded.problem, report = excluded.report, validation = excluded.validation,
		receipt_id = COALESCE(receipts.receipt_id, excluded.receipt_id), result = COALESCE(receipts.result, excluded.result)`,
		r.SHA256[:], r.Package[:], r.Name, null(r.ReceiptID), null(r.Result), r.Received.UnixNano(), r.Checked.UnixNano(), r.State,
		r.Indication, r.SubIndication, r.Problem, r.Report, r.Validation)
	if err != nil {
		return fmt.Errorf("workspace: receipt: %w", err)
	}
	return nil
}

const receiptCols = `sha256, package_sha256, name, receipt_id, result, received, checked, state, indication, sub_indication, problem, report, validation`

func scanReceipt(row interface{ Scan(...any) error }) (*Receipt, error) {
	var r Receipt
	var sum, pkg []byte
	var id, result sql.NullString
	var received, checked int64
	if err := row.Scan(&sum, &pkg, &r.Name, &id, &result, &received, &checked, &r.State, &r.Indication, &r.SubIndication, &r.Problem,
		&r.Report, &r.Validation); err != nil {
		return nil, err
	}
	copy(r.SHA256[:], sum)
	copy(r.Package[:], pkg)
	r.ReceiptID, r.Result = id.String, result.String
	r.Received, r.Checked = time.Unix(0, received).UTC(), time.Unix(0, checked).UTC()
	return &r, nil
}

// ReceiptFor returns the receipt of a package.
func (w *Workspace) ReceiptFor(ctx context.Context, pkg [32]byte) (*Receipt, error) {
	r, err := scanReceipt(w.db.QueryRowContext(ctx, `SELECT `+receiptCols+` FROM receipts WHERE package_sha256 = ?`, pkg[:]))
	return r, notFound(err)
}

// ReceiptByKey finds a receipt by its receipt id, its file name, or a prefix (at least 8 hex digits)
// of its SHA-256 or its package's SHA-256.
func (w *Workspace) ReceiptByKey(ctx context.Context, key string) (*Receipt, error) {
	rs, err := w.Receipts(ctx)
	if err != nil {
		return nil, err
	}
	var found []Receipt
	for _, r := range rs {
		if r.ReceiptID == key || r.Name == key || hexPrefix(r.SHA256, key) || hexPrefix(r.Package, key) {
			found = append(found, r)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%w: %q", ErrNotFound, key)
	case 1:
		return &found[0], nil
	}
	return nil, fmt.Errorf("workspace: %q több nyugtát is jelöl / names %d receipts", key, len(found))
}

func hexPrefix(sum [32]byte, key string) bool {
	if len(key) < 8 || len(key) > 64 {
		return false
	}
	return fmt.Sprintf("%x", sum[:])[:len(key)] == key
}

// Receipts returns every receipt, by arrival.
func (w *Workspace) Receipts(ctx context.Context) ([]Receipt, error) {
	rows, err := w.db.QueryContext(ctx, `SELECT `+receiptCols+` FROM receipts ORDER BY received, name`)
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	defer rows.Close()
	var out []Receipt
	for rows.Next() {
		r, err := scanReceipt(rows)
		if err != nil {
			return nil, fmt.Errorf("workspace: %w", err)
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// AddNotification records an SND-30 notification.
func (w *Workspace) AddNotification(ctx context.Context, n Notification) (int64, error) {
	res, err := w.db.ExecContext(ctx, `INSERT INTO notifications (receipt_sha256, created, recipient, address, text, file) VALUES (?, ?, ?, ?, ?, ?)`,
		n.Receipt[:], n.Created.UnixNano(), n.Recipient, n.Address, n.Text, n.File)
	if err != nil {
		return 0, fmt.Errorf("workspace: %w", err)
	}
	return res.LastInsertId()
}

// Notifications returns the notifications about a receipt, in order.
func (w *Workspace) Notifications(ctx context.Context, rcpt [32]byte) ([]Notification, error) {
	rows, err := w.db.QueryContext(ctx, `SELECT seq, created, recipient, address, text, file FROM notifications WHERE receipt_sha256 = ? ORDER BY seq`, rcpt[:])
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		n := Notification{Receipt: rcpt}
		var created int64
		if err := rows.Scan(&n.Seq, &created, &n.Recipient, &n.Address, &n.Text, &n.File); err != nil {
			return nil, fmt.Errorf("workspace: %w", err)
		}
		n.Created = time.Unix(0, created).UTC()
		out = append(out, n)
	}
	return out, rows.Err()
}

// AddContainer stores a new version of a package's container (bytes and row) and returns it.
func (w *Workspace) AddContainer(ctx context.Context, pkg [32]byte, name string, created time.Time, data []byte) (*Container, error) {
	sum, err := w.PutBlob(data)
	if err != nil {
		return nil, err
	}
	c := &Container{SHA256: sum, Package: pkg, Name: name, Created: created}
	err = inTx(ctx, w.db, func(tx *sql.Tx) error {
		var v sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM containers WHERE package_sha256 = ?`, pkg[:]).Scan(&v); err != nil {
			return err
		}
		c.Version = int(v.Int64) + 1
		_, err := tx.ExecContext(ctx, `INSERT INTO containers (sha256, package_sha256, name, version, created) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (sha256) DO NOTHING`, sum[:], pkg[:], name, c.Version, created.UnixNano())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("workspace: container: %w", err)
	}
	return c, nil
}

// LatestContainer returns the newest container version of a package.
func (w *Workspace) LatestContainer(ctx context.Context, pkg [32]byte) (*Container, error) {
	cs, err := w.containers(ctx, `SELECT sha256, package_sha256, name, version, created FROM containers WHERE package_sha256 = ? ORDER BY version DESC LIMIT 1`, pkg[:])
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("%w: container", ErrNotFound)
	}
	return &cs[0], nil
}

// Containers returns every container version, oldest first.
func (w *Workspace) Containers(ctx context.Context) ([]Container, error) {
	return w.containers(ctx, `SELECT sha256, package_sha256, name, version, created FROM containers ORDER BY created, version`)
}

func (w *Workspace) containers(ctx context.Context, q string, args ...any) ([]Container, error) {
	rows, err := w.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	defer rows.Close()
	var out []Container
	for rows.Next() {
		var c Container
		var sum, pkg []byte
		var created int64
		if err := rows.Scan(&sum, &pkg, &c.Name, &c.Version, &created); err != nil {
			return nil, fmt.Errorf("workspace: %w", err)
		}
		copy(c.SHA256[:], sum)
		copy(c.Package[:], pkg)
		c.Created = time.Unix(0, created).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	return nil
}
