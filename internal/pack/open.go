package pack

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/tagdij/tagdij/internal/cmsenc"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/payload"
)

// Open returns the declaration bytes inside a package: it parses the dossier strictly, and for an
// encrypted package decrypts the payload with key (the private key of cert, which must be one of the
// package's recipients) and decompresses it under limits, never beyond the signed es:SourceSize
// (PRC-07: decrypt first, then decompress). A plain package (SEC-01) needs no cert or key.
//
// Open does not verify signatures: callers that act on the content of a received package must verify
// first. Errors keep their packages' types and codes: *es3.Error (T/F codes) for the dossier,
// *cmsenc.Error (D001) for decryption, *payload.Error (D002) for decompression; a declaration whose size
// differs from the signed es:SourceSize is an *es3.Error with D002.
func Open(dossier []byte, cert *x509.Certificate, key crypto.Decrypter, limits payload.Limits) ([]byte, error) {
	d, err := es3.Parse(dossier, es3.ParseOptions{Mode: es3.Strict})
	if err != nil {
		return nil, fmt.Errorf("pack: open: %w", err)
	}
	defer d.Close()
	return OpenDossier(d, cert, key, limits)
}

// OpenDossier is Open for a package the caller already parsed strictly; d stays the caller's to close.
func OpenDossier(d *es3.Dossier, cert *x509.Certificate, key crypto.Decrypter, limits payload.Limits) ([]byte, error) {
	if d == nil || d.Mode() != es3.Strict {
		return nil, errors.New("pack: open: a strictly parsed dossier is needed")
	}
	if len(d.Documents) != 1 || d.Documents[0].Title != DocumentTitle {
		f := errcode.New(errcode.F011, "es:Documents", fmt.Sprintf("%d documents; want exactly one %s", len(d.Documents), DocumentTitle))
		return nil, &es3.Error{Finding: f, Err: errors.New("not a package")}
	}
	doc := &d.Documents[0]
	raw, err := d.Payload(0)
	if err != nil {
		return nil, fmt.Errorf("pack: open: %w", err)
	}
	var decl []byte
	if doc.Encrypted() {
		if cert == nil || key == nil {
			return nil, errors.New("pack: open: the package is encrypted; a recipient certificate and key are needed")
		}
		zipped, err := cmsenc.Decrypt(raw, cert, key)
		clear(raw)
		if err != nil {
			return nil, fmt.Errorf("pack: open: %w", err)
		}
		// The signed es:SourceSize is the declaration's size: nothing larger can be accepted, so nothing
		// larger is inflated (a bomb stops at the size it claims, not at the general limits).
		if want := max(doc.SourceSize, 1); limits.MaxSize <= 0 && want < payload.DefaultMaxSize || limits.MaxSize > want {
			limits.MaxSize = want
		}
		decl, err = payload.Unzip(bytes.NewReader(zipped), int64(len(zipped)), limits)
		if err != nil {
			return nil, fmt.Errorf("pack: open: %w", err)
		}
	} else {
		decl = raw // es3's strict parse admits only the two transform lists: this is base64 only
	}
	if int64(len(decl)) != doc.SourceSize {
		f := errcode.New(errcode.D002, DocumentTitle, fmt.Sprintf("%d bytes, es:SourceSize %d", len(decl), doc.SourceSize))
		return nil, &es3.Error{Finding: f, Err: errors.New("declaration size differs from es:SourceSize")}
	}
	return decl, nil
}
