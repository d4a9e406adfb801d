package xmldsig

import (
	"crypto"
	// Registered for crypto.Hash.New: SHA-1 and SHA-224/256/384/512.
	_ "crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/sha512"

	"github.com/tagdij/tagdij/internal/libxml"
)

// Namespaces.
const (
	NSDSig   = "http://www.w3.org/2000/09/xmldsig#"
	NSDSig11 = "http://www.w3.org/2009/xmldsig11#"
	NSExcC14 = "http://www.w3.org/2001/10/xml-exc-c14n#"
)

// Digest method URIs.
const (
	DigestSHA1   = "http://www.w3.org/2000/09/xmldsig#sha1"
	DigestSHA224 = "http://www.w3.org/2001/04/xmldsig-more#sha224"
	DigestSHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
	DigestSHA384 = "http://www.w3.org/2001/04/xmldsig-more#sha384"
	DigestSHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"
)

// Signature method URIs.
const (
	RSASHA1   = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	RSASHA224 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha224"
	RSASHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	RSASHA384 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
	RSASHA512 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"

	RSAPSSSHA1   = "http://www.w3.org/2007/05/xmldsig-more#sha1-rsa-MGF1"
	RSAPSSSHA224 = "http://www.w3.org/2007/05/xmldsig-more#sha224-rsa-MGF1"
	RSAPSSSHA256 = "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1"
	RSAPSSSHA384 = "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1"
	RSAPSSSHA512 = "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1"

	ECDSASHA1   = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1"
	ECDSASHA224 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha224"
	ECDSASHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
	ECDSASHA384 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
	ECDSASHA512 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"
)

// Transform URIs (besides the canonicalization URIs of package libxml).
const (
	TransformEnveloped = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	TransformBase64    = "http://www.w3.org/2000/09/xmldsig#base64"
)

type digestAlg struct {
	hash     crypto.Hash
	signable bool // allowed when signing (SHA-1 and SHA-224 verify only)
}

var digestAlgs = map[string]digestAlg{
	DigestSHA1:   {crypto.SHA1, false},
	DigestSHA224: {crypto.SHA224, false},
	DigestSHA256: {crypto.SHA256, true},
	DigestSHA384: {crypto.SHA384, true},
	DigestSHA512: {crypto.SHA512, true},
}

// KeyType is the kind of public key a signature method needs.
type KeyType int

const (
	KeyRSA    KeyType = iota + 1 // RSA, PKCS#1 v1.5 padding
	KeyRSAPSS                    // RSA, PSS padding
	KeyECDSA                     // ECDSA, r||s encoding
)

type sigAlg struct {
	key      KeyType
	hash     crypto.Hash
	signable bool
}

var sigAlgs = map[string]sigAlg{
	RSASHA1:      {KeyRSA, crypto.SHA1, false},
	RSASHA224:    {KeyRSA, crypto.SHA224, false},
	RSASHA256:    {KeyRSA, crypto.SHA256, true},
	RSASHA384:    {KeyRSA, crypto.SHA384, true},
	RSASHA512:    {KeyRSA, crypto.SHA512, true},
	RSAPSSSHA1:   {KeyRSAPSS, crypto.SHA1, false},
	RSAPSSSHA224: {KeyRSAPSS, crypto.SHA224, false},
	RSAPSSSHA256: {KeyRSAPSS, crypto.SHA256, true},
	RSAPSSSHA384: {KeyRSAPSS, crypto.SHA384, true},
	RSAPSSSHA512: {KeyRSAPSS, crypto.SHA512, true},
	ECDSASHA1:    {KeyECDSA, crypto.SHA1, false},
	ECDSASHA224:  {KeyECDSA, crypto.SHA224, false},
	ECDSASHA256:  {KeyECDSA, crypto.SHA256, true},
	ECDSASHA384:  {KeyECDSA, crypto.SHA384, true},
	ECDSASHA512:  {KeyECDSA, crypto.SHA512, true},
}

// c14nAlg maps a canonicalization URI; transforms and CanonicalizationMethod share it.
func c14nAlg(uri string) (libxml.C14N, bool) { return libxml.ParseC14NURI(uri) }
