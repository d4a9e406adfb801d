package archive

import (
	"crypto"
	"crypto/x509"
	"errors"
	"slices"
)

// checkSigner refuses a tree-head key that does not match its certificate or whose certificate is
// a TLS server certificate: tree heads are signed with the fund's archive/receipt key, never the
// TLS key (SEC-14's separation of keys).
func checkSigner(s crypto.Signer, cert *x509.Certificate) error {
	if cert == nil {
		return errors.New("archive: a fastruktúra-aláíró kulcshoz tanúsítvány kell / the tree-head signer needs its certificate")
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	pub, ok := s.Public().(equaler)
	if !ok || !pub.Equal(cert.PublicKey) {
		return errors.New("archive: a kulcs nem a tanúsítványé / the signer's key is not the certificate's")
	}
	if slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		return errors.New("archive: TLS-kiszolgálókulccsal nem írható alá a fa feje / a TLS server key must not sign tree heads")
	}
	return nil
}
