package pathval

import (
	"context"
	"crypto/x509"
	"time"

	"github.com/tagdij/tagdij/internal/sigcache"
)

// TSAVerifier validates time-stamping unit certificates; it satisfies the ChainVerifier interface
// of the timestamp package (VerifyTSA) without this package depending on it. Anchors must be
// PurposeTSA anchors.
type TSAVerifier struct {
	Anchors            *Anchors
	ExtraIntermediates []*x509.Certificate
	Algorithms         Algorithms
	// Revocation, when set, checks the TSA's chain at the timestamp time.
	Revocation RevocationChecker
	// SigCache, when set, remembers verified certificate signatures and paths (Options.SigCache).
	SigCache *sigcache.Cache
}

// VerifyTSA validates leaf as a TSA certificate at time at (the token's genTime): chain to a TSA
// anchor, EKU timeStamping critical and alone, algorithms, validity at at, and revocation when
// configured. Errors carry SPEC §7 codes (Code); the caller reports them under A007.
func (v TSAVerifier) VerifyTSA(ctx context.Context, leaf *x509.Certificate, intermediates []*x509.Certificate, at time.Time) error {
	_, err := Validate(ctx, leaf, intermediates, Options{
		Purpose:            PurposeTSA,
		Anchors:            v.Anchors,
		ExtraIntermediates: v.ExtraIntermediates,
		Time:               at,
		Algorithms:         v.Algorithms,
		Revocation:         v.Revocation,
		SigCache:           v.SigCache,
	})
	return err
}
