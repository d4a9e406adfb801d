package registry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/tagdij/tagdij/internal/declaration"
)

// Store errors; backends return them (wrapped or not) so that errors.Is finds them.
var (
	// ErrNotFound: no sheet with that id, or none for that key (at that time).
	ErrNotFound = errors.New("registry: nincs ilyen bejelentkezés / no such registration")
	// ErrDuplicate: a sheet with that id is already stored (sheets are immutable versions).
	ErrDuplicate = errors.New("registry: ilyen azonosítójú adatlap már létezik / a sheet with this id already exists")
	// ErrWithdrawn: the current sheet is already withdrawn.
	ErrWithdrawn = errors.New("registry: a bejelentkezést már visszavonták / the registration is already withdrawn")
)

// Store keeps the registry (SEC-16): for each Key (declarant and fund) every sheet version ever stored,
// in the order stored. Sheets are immutable: a change is a new sheet with a new id that supersedes the
// previous one, and the old versions stay readable, so a decision that recorded the id of the sheet it
// used (Decision.SheetID) can always be reproduced with Get.
//
// Every method honours ctx (a cancelled context yields an error wrapping ctx.Err()), never returns
// memory that aliases the store's own or the caller's arguments, and is safe for concurrent use.
// registrytest.Run is the conformance suite every implementation must pass.
type Store interface {
	// Put stores s as the newest version for s.Key(). It refuses (without storing) a nil sheet or one
	// that fails Check (the *Error), and a sheet whose id is already stored (ErrDuplicate).
	Put(ctx context.Context, s *Sheet) error
	// Get returns the sheet with id, whatever its key and whether or not superseded; ErrNotFound when
	// there is none.
	Get(ctx context.Context, id string) (*Sheet, error)
	// Current returns the newest version stored for k; ErrNotFound when there is none.
	Current(ctx context.Context, k Key) (*Sheet, error)
	// AsOf returns the sheet in force for k at instant at: the newest version (in storing order) whose
	// BenyujtasDatuma is on or before LocalDate(at); ErrNotFound when there is none. It answers from the
	// registry as it is now: a version stored later with an earlier filing date counts. To reproduce a
	// decision, Get the sheet id it recorded.
	AsOf(ctx context.Context, k Key, at time.Time) (*Sheet, error)
	// History returns every version for k, oldest first; ErrNotFound when there is none.
	History(ctx context.Context, k Key) ([]*Sheet, error)
	// List summarises the current version of every key, ordered by Key (IDType, ID, Fund).
	List(ctx context.Context) ([]Summary, error)
	// Withdraw atomically stores, as the newest version for k, WithdrawnCopy of the current version
	// and returns it. ErrNotFound when k has no version; ErrWithdrawn when the current version is
	// already withdrawn; WithdrawnCopy's *Error for a bad date or reason.
	Withdraw(ctx context.Context, k Key, date declaration.Date, reason string) (*Sheet, error)
}

// Summary describes the current version of one registration, for listings.
type Summary struct {
	Key         Key
	SheetID     string
	Name        string             // the declarant's name
	FirstPeriod declaration.Period // ElsoIdoszak
	Filed       declaration.Date   // BenyujtasDatuma
	Withdrawn   declaration.Date   // the withdrawal date; zero when not withdrawn
	Signers     int                // number of registered signers
	Versions    int                // number of versions stored for Key
}

// Summarize returns the Summary of s as the current version of versions versions.
func Summarize(s *Sheet, versions int) Summary {
	sum := Summary{Key: s.Key(), SheetID: s.ID, Name: s.Declarant.Name, FirstPeriod: s.FirstPeriod,
		Filed: s.Filed, Signers: len(s.Signers), Versions: versions}
	if s.Withdrawal != nil {
		sum.Withdrawn = s.Withdrawal.Date
	}
	return sum
}

// WithdrawnCopy returns the new version that withdraws cur's registration from date for reason: a copy
// of cur with a fresh random id and the withdrawal set (BenyujtasDatuma stays cur's, so that the copy is
// in force wherever cur was; the withdrawal date itself says from when the declarant is no longer
// registered). It fails with ErrWithdrawn if cur is already withdrawn, and with an *Error if the result
// does not pass Check (a reason that is empty or too long, a date before cur's filing date).
func WithdrawnCopy(cur *Sheet, date declaration.Date, reason string) (*Sheet, error) {
	if cur == nil {
		return nil, fmt.Errorf("registry: withdraw: %w", ErrNotFound)
	}
	if cur.Withdrawal != nil {
		return nil, fmt.Errorf("registry: withdraw %s: %w (%s)", cur.Key(), ErrWithdrawn, cur.Withdrawal.Date)
	}
	id, err := uuid.NewRandom()
	if err != nil {
		return nil, fmt.Errorf("registry: withdraw: new sheet id: %w", err)
	}
	w := cur.Clone()
	w.ID = id.String()
	w.Withdrawal = &Withdrawal{Date: date, Reason: reason}
	if err := w.Check(); err != nil {
		return nil, err
	}
	return w, nil
}

// WithSigner returns the new version of cur that also registers s (a signer joining the declarant's
// signers): a copy with a fresh id and s appended, checked like any sheet (a duplicate local id, a
// dangling co-signer or deputy reference, a deputy cycle are refused). A withdrawn registration takes
// no new signer.
func WithSigner(cur *Sheet, s Signer) (*Sheet, error) {
	if cur == nil {
		return nil, fmt.Errorf("registry: add signer: %w", ErrNotFound)
	}
	if cur.Withdrawal != nil {
		return nil, fmt.Errorf("registry: add signer to %s: %w", cur.Key(), ErrWithdrawn)
	}
	id, err := uuid.NewRandom()
	if err != nil {
		return nil, fmt.Errorf("registry: add signer: new sheet id: %w", err)
	}
	n := cur.Clone()
	n.ID = id.String()
	n.Signers = append(n.Signers, s)
	if err := n.Check(); err != nil {
		return nil, err
	}
	return n, nil
}
