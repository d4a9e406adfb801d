package revtest

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// OCSPStatus is what the responder says about one serial.
type OCSPStatus struct {
	Status    int // ocsp.Good, ocsp.Revoked, ocsp.Unknown
	RevokedAt time.Time
	Reason    int
}

// NonceBehaviour is what the responder does with a request nonce.
type NonceBehaviour int

const (
	NonceEcho  NonceBehaviour = iota // copy the request nonce into the response
	NonceOmit                        // answer without nonce
	NonceWrong                       // answer with a different nonce
)

// OCSPConfig is the responder's behaviour; change it with OCSPServer.Set.
type OCSPConfig struct {
	Issuer *Identity // the CA whose certificates are answered for (CertID hashes)
	Signer *Identity // who signs: Issuer (CA-signed) or a delegated responder, embedded in the response
	// Statuses by serial; serials not listed get Default.
	Statuses map[string]OCSPStatus
	Default  OCSPStatus
	// ThisUpdate/NextUpdate of the single response; zero ThisUpdate means now-1m, zero NextUpdate
	// with NoNextUpdate false means ThisUpdate+1h.
	ThisUpdate   time.Time
	NextUpdate   time.Time
	NoNextUpdate bool
	// ProducedAt overrides producedAt (ocsp.CreateResponse sets now, truncated to the minute).
	ProducedAt time.Time
	Nonce      NonceBehaviour
	// Raw, when set, is sent instead of a generated response (garbage, oversize tests).
	Raw []byte
	// HTTPStatus, when set and not 200, is answered instead of a response.
	HTTPStatus int
	// Mutate rewrites the generated response before it is sent (tampering tests).
	Mutate func([]byte) []byte
}

// OCSPServer is a loopback OCSP responder.
type OCSPServer struct {
	*httptest.Server
	mu       sync.Mutex
	cfg      OCSPConfig
	Requests atomic.Int64
	// GETs counts requests that came by GET.
	GETs atomic.Int64
	tb   testing.TB
}

// NewOCSPServer starts a responder on 127.0.0.1; configure it with Set before use.
func NewOCSPServer(tb testing.TB) *OCSPServer {
	s := &OCSPServer{tb: tb}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// Set changes the configuration under the server's lock.
func (s *OCSPServer) Set(f func(*OCSPConfig)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.cfg)
}

// SetStatus sets the status of one serial.
func (s *OCSPServer) SetStatus(serial *big.Int, st OCSPStatus) {
	s.Set(func(c *OCSPConfig) {
		if c.Statuses == nil {
			c.Statuses = map[string]OCSPStatus{}
		}
		c.Statuses[serial.Text(16)] = st
	})
}

// Request structures, enough to read the CertID serial and the nonce.
type reqCertID struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	NameHash      []byte
	IssuerKeyHash []byte
	SerialNumber  *big.Int
}
type tbsReq struct {
	Version     int `asn1:"explicit,tag:0,default:0,optional"`
	RequestList []struct{ Cert reqCertID }
	Extensions  []pkix.Extension `asn1:"explicit,tag:2,optional"`
}
type ocspReq struct{ TBS tbsReq }

var oidNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}

func (s *OCSPServer) serve(w http.ResponseWriter, r *http.Request) {
	s.Requests.Add(1)
	var body []byte
	switch r.Method {
	case http.MethodPost:
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		body = b
	case http.MethodGet:
		s.GETs.Add(1)
		p := strings.TrimPrefix(r.URL.EscapedPath(), "/")
		p, err := url.PathUnescape(p)
		if err == nil {
			body, err = base64.StdEncoding.DecodeString(p)
		}
		if err != nil {
			http.Error(w, "bad GET", http.StatusBadRequest)
			return
		}
	default:
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	s.mu.Lock()
	cfg := s.cfg
	s.mu.Unlock()
	if cfg.HTTPStatus != 0 && cfg.HTTPStatus != http.StatusOK {
		http.Error(w, "configured failure", cfg.HTTPStatus)
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	if cfg.Raw != nil {
		w.Write(cfg.Raw)
		return
	}
	var req ocspReq
	if _, err := asn1.Unmarshal(body, &req); err != nil || len(req.TBS.RequestList) != 1 {
		w.Write(ocsp.MalformedRequestErrorResponse)
		return
	}
	serial := req.TBS.RequestList[0].Cert.SerialNumber
	st, ok := cfg.Statuses[serial.Text(16)]
	if !ok {
		st = cfg.Default
	}
	this := cfg.ThisUpdate
	if this.IsZero() {
		this = time.Now().Add(-time.Minute)
	}
	next := cfg.NextUpdate
	if next.IsZero() && !cfg.NoNextUpdate {
		next = this.Add(time.Hour)
	}
	tmpl := ocsp.Response{Status: st.Status, SerialNumber: serial, ThisUpdate: this, NextUpdate: next,
		RevokedAt: st.RevokedAt, RevocationReason: st.Reason}
	if cfg.Signer != cfg.Issuer {
		tmpl.Certificate = cfg.Signer.Cert
	}
	der, err := ocsp.CreateResponse(cfg.Issuer.Cert, cfg.Signer.Cert, tmpl, cfg.Signer.Key)
	if err != nil {
		s.tb.Errorf("revtest: CreateResponse: %v", err)
		w.Write(ocsp.InternalErrorErrorResponse)
		return
	}
	var nonceExt *pkix.Extension
	for _, e := range req.TBS.Extensions {
		if e.Id.Equal(oidNonce) {
			e := e
			switch cfg.Nonce {
			case NonceEcho:
				nonceExt = &e
			case NonceWrong:
				v, _ := asn1.Marshal([]byte("a nonce nobody asked for........"))
				nonceExt = &pkix.Extension{Id: oidNonce, Value: v}
			}
		}
	}
	if nonceExt != nil || !cfg.ProducedAt.IsZero() {
		der, err = Resign(der, cfg.Signer.Key, cfg.ProducedAt, nonceExt)
		if err != nil {
			s.tb.Errorf("revtest: re-signing response: %v", err)
			w.Write(ocsp.InternalErrorErrorResponse)
			return
		}
	}
	if cfg.Mutate != nil {
		der = cfg.Mutate(der)
	}
	w.Write(der)
}

// Structures to rewrite a response (x/crypto cannot add responseExtensions or set producedAt).
type respASN1 struct {
	Status   asn1.Enumerated
	Response struct {
		Type  asn1.ObjectIdentifier
		Bytes []byte
	} `asn1:"explicit,tag:0,optional"`
}
type basicASN1 struct {
	TBS          asn1.RawValue
	SigAlg       pkix.AlgorithmIdentifier
	Signature    asn1.BitString
	Certificates []asn1.RawValue `asn1:"explicit,tag:0,optional"`
}
type tbsASN1 struct {
	Version     int `asn1:"optional,default:0,explicit,tag:0"`
	ResponderID asn1.RawValue
	ProducedAt  time.Time `asn1:"generalized"`
	Responses   []asn1.RawValue
	Extensions  []pkix.Extension `asn1:"explicit,tag:1,optional"`
}

// Resign rewrites an OCSP response's producedAt (when not zero) and adds a response extension
// (when not nil), then signs it again with key using SHA-256 and the original algorithm identifier.
func Resign(der []byte, key crypto.Signer, producedAt time.Time, ext *pkix.Extension) ([]byte, error) {
	var resp respASN1
	if _, err := asn1.Unmarshal(der, &resp); err != nil {
		return nil, err
	}
	var basic basicASN1
	if _, err := asn1.Unmarshal(resp.Response.Bytes, &basic); err != nil {
		return nil, err
	}
	var tbs tbsASN1
	if _, err := asn1.Unmarshal(basic.TBS.FullBytes, &tbs); err != nil {
		return nil, err
	}
	if !producedAt.IsZero() {
		tbs.ProducedAt = producedAt.UTC().Truncate(time.Second)
	}
	if ext != nil {
		tbs.Extensions = append(tbs.Extensions, *ext)
	}
	tbsDER, err := asn1.Marshal(tbs)
	if err != nil {
		return nil, err
	}
	h := crypto.SHA256.New()
	h.Write(tbsDER)
	sig, err := key.Sign(rand.Reader, h.Sum(nil), crypto.SHA256)
	if err != nil {
		return nil, err
	}
	basic.TBS = asn1.RawValue{FullBytes: tbsDER}
	basic.Signature = asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}
	if resp.Response.Bytes, err = asn1.Marshal(basic); err != nil {
		return nil, err
	}
	return asn1.Marshal(resp)
}

// CRLConfig is a distribution point's behaviour; change it with CRLServer.Set.
type CRLConfig struct {
	Issuer  *Identity // signs the CRL and names its issuer
	Revoked []x509.RevocationListEntry
	// ThisUpdate zero means now-1m; NextUpdate zero means ThisUpdate+1h.
	ThisUpdate, NextUpdate time.Time
	Number                 int64
	Extensions             []pkix.Extension
	Raw                    []byte
	HTTPStatus             int
	Mutate                 func([]byte) []byte
}

// CRLServer is a loopback CRL distribution point serving one CRL at every path.
type CRLServer struct {
	*httptest.Server
	mu       sync.Mutex
	cfg      CRLConfig
	Requests atomic.Int64
	tb       testing.TB
}

// NewCRLServer starts a distribution point on 127.0.0.1; configure it with Set before use.
func NewCRLServer(tb testing.TB) *CRLServer {
	s := &CRLServer{tb: tb}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// Set changes the configuration under the server's lock.
func (s *CRLServer) Set(f func(*CRLConfig)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.cfg)
}

// Revoke lists serial with the given time and reason code.
func (s *CRLServer) Revoke(serial *big.Int, at time.Time, reason int) {
	s.Set(func(c *CRLConfig) {
		c.Revoked = append(c.Revoked, x509.RevocationListEntry{SerialNumber: serial, RevocationTime: at, ReasonCode: reason})
	})
}

func (s *CRLServer) serve(w http.ResponseWriter, r *http.Request) {
	s.Requests.Add(1)
	s.mu.Lock()
	cfg := s.cfg
	s.mu.Unlock()
	if cfg.HTTPStatus != 0 && cfg.HTTPStatus != http.StatusOK {
		http.Error(w, "configured failure", cfg.HTTPStatus)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	if cfg.Raw != nil {
		w.Write(cfg.Raw)
		return
	}
	der, err := BuildCRL(cfg)
	if err != nil {
		s.tb.Errorf("revtest: CreateRevocationList: %v", err)
		http.Error(w, "internal", http.StatusInternalServerError)
		return
	}
	if cfg.Mutate != nil {
		der = cfg.Mutate(der)
	}
	w.Write(der)
}

// BuildCRL creates the CRL a CRLConfig describes.
func BuildCRL(cfg CRLConfig) ([]byte, error) {
	this := cfg.ThisUpdate
	if this.IsZero() {
		this = time.Now().Add(-time.Minute)
	}
	next := cfg.NextUpdate
	if next.IsZero() {
		next = this.Add(time.Hour)
	}
	num := cfg.Number
	if num == 0 {
		num = 1
	}
	tmpl := &x509.RevocationList{
		Number:                    big.NewInt(num),
		ThisUpdate:                this,
		NextUpdate:                next,
		RevokedCertificateEntries: cfg.Revoked,
		ExtraExtensions:           cfg.Extensions,
	}
	return x509.CreateRevocationList(rand.Reader, tmpl, cfg.Issuer.Cert, cfg.Issuer.Key)
}

// DeltaCRLIndicator is the critical deltaCRLIndicator extension naming base.
func DeltaCRLIndicator(base int64) pkix.Extension {
	v, _ := asn1.Marshal(big.NewInt(base))
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 27}, Critical: true, Value: v}
}

// IDP is a critical issuingDistributionPoint extension with the given flags and full-name URIs.
func IDP(onlyUser, onlyCA, indirect bool, uris ...string) pkix.Extension {
	var content []byte
	if len(uris) > 0 {
		var names []byte
		for _, u := range uris {
			b, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 6, Bytes: []byte(u)})
			names = append(names, b...)
		}
		full, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: names})
		dp, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: full})
		content = append(content, dp...)
	}
	flag := func(tag int, on bool) {
		if on {
			b, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tag, Bytes: []byte{0xff}})
			content = append(content, b...)
		}
	}
	flag(1, onlyUser)
	flag(2, onlyCA)
	flag(4, indirect)
	v, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: content})
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 28}, Critical: true, Value: v}
}
