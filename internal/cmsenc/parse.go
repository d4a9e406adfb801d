package cmsenc

import (
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
)

// envelope is a parsed EnvelopedData or AuthEnvelopedData. All slices point into the input.
type envelope struct {
	auth        bool
	recipients  []elem // RecipientInfo elements, in input order
	contentType asn1.ObjectIdentifier
	alg         pkix.AlgorithmIdentifier // content-encryption algorithm (DER parameters)
	content     elem                     // [0] IMPLICIT encryptedContent
	hasContent  bool
	authAttrs   elem // AuthEnvelopedData [1] authAttrs
	hasAuth     bool
	mac         []byte
}

// parseEnvelope reads ContentInfo{envelopedData|authEnvelopedData}. It checks structure and limits
// only; algorithms are checked where they are used.
func parseEnvelope(der []byte) (*envelope, error) {
	top, rest, err := readElem(der, 0)
	if err != nil || !top.is(classUniversal, tagSequence) {
		return nil, malformed("ContentInfo")
	}
	if len(rest) != 0 {
		return nil, malformed("trailing data after ContentInfo")
	}
	ci, err := children(top, 0)
	if err != nil {
		return nil, malformed("ContentInfo")
	}
	oe, err := ci.next()
	if err != nil {
		return nil, malformed("ContentInfo.contentType")
	}
	ct, err := parseOID(oe)
	if err != nil {
		return nil, malformed("ContentInfo.contentType")
	}
	env := &envelope{}
	switch {
	case ct.Equal(oidEnvelopedData):
	case ct.Equal(oidAuthEnvelopedData):
		env.auth = true
	default:
		return nil, malformed("content type " + ct.String() + " is not enveloped data")
	}
	wrap, err := ci.expect(classContext, 0)
	if err != nil || ci.more() {
		return nil, malformed("ContentInfo.content")
	}
	w, err := children(wrap, 1)
	if err != nil {
		return nil, malformed("ContentInfo.content")
	}
	body, err := w.expect(classUniversal, tagSequence)
	if err != nil || w.more() {
		return nil, malformed("EnvelopedData")
	}
	s, err := children(body, 2)
	if err != nil {
		return nil, malformed("EnvelopedData")
	}
	ve, err := s.next()
	if err != nil {
		return nil, malformed("version")
	}
	if v, err := parseSmallInt(ve); err != nil || v < 0 || v > 4 {
		return nil, malformed("version")
	}
	if c, t, ok := s.peek(); ok && c == classContext && t == 0 {
		_, _ = s.next() // originatorInfo: certificates and CRLs we have no use for
	}
	set, err := s.expect(classUniversal, tagSet)
	if err != nil {
		return nil, malformed("RecipientInfos")
	}
	rs, err := children(set, 3)
	if err != nil {
		return nil, malformed("RecipientInfos")
	}
	for rs.more() {
		if len(env.recipients) == MaxRecipients {
			return nil, &Error{Err: ErrLimit, Detail: "more than 32 RecipientInfos"}
		}
		r, err := rs.next()
		if err != nil {
			return nil, malformed("RecipientInfo")
		}
		env.recipients = append(env.recipients, r)
	}
	if len(env.recipients) == 0 {
		return nil, malformed("no RecipientInfo")
	}
	eci, err := s.expect(classUniversal, tagSequence)
	if err != nil {
		return nil, malformed("EncryptedContentInfo")
	}
	if err := parseECI(eci, env); err != nil {
		return nil, err
	}
	if env.auth {
		if c, t, ok := s.peek(); ok && c == classContext && t == 1 {
			env.authAttrs, _ = s.next()
			env.hasAuth = true
		}
		me, err := s.expect(classUniversal, tagOctetString)
		if err != nil {
			return nil, malformed("AuthEnvelopedData.mac")
		}
		if env.mac, err = octets(me, 3); err != nil {
			return nil, malformed("AuthEnvelopedData.mac")
		}
		if c, t, ok := s.peek(); ok && c == classContext && t == 2 {
			_, _ = s.next() // unauthAttrs
		}
	} else if c, t, ok := s.peek(); ok && c == classContext && t == 1 {
		_, _ = s.next() // unprotectedAttrs
	}
	if s.more() {
		return nil, malformed("unexpected data in EnvelopedData")
	}
	return env, nil
}

func parseECI(eci elem, env *envelope) error {
	s, err := children(eci, 3)
	if err != nil {
		return malformed("EncryptedContentInfo")
	}
	oe, err := s.next()
	if err != nil {
		return malformed("EncryptedContentInfo.contentType")
	}
	if env.contentType, err = parseOID(oe); err != nil {
		return malformed("EncryptedContentInfo.contentType")
	}
	ae, err := s.expect(classUniversal, tagSequence)
	if err != nil || ae.indefinite {
		return malformed("contentEncryptionAlgorithm")
	}
	if rest, err := asn1.Unmarshal(ae.raw, &env.alg); err != nil || len(rest) != 0 {
		return malformed("contentEncryptionAlgorithm")
	}
	if s.more() {
		ce, err := s.expect(classContext, 0)
		if err != nil {
			return malformed("encryptedContent")
		}
		env.content, env.hasContent = ce, true
	}
	if s.more() {
		return malformed("unexpected data in EncryptedContentInfo")
	}
	return nil
}

// ktri is a parsed KeyTransRecipientInfo.
type ktri struct {
	id           RecipientID
	alg          pkix.AlgorithmIdentifier
	encryptedKey []byte
}

// parseRecipient reads one RecipientInfo. For the other RecipientInfo choices it returns ok == false
// with id.KeyEncryption naming the choice.
func parseRecipient(r elem) (k ktri, ok bool, err error) {
	if r.class == classContext {
		names := map[int]string{1: "kari", 2: "kekri", 3: "pwri", 4: "ori"}
		name, known := names[r.tag]
		if !known {
			return ktri{}, false, malformed("RecipientInfo choice")
		}
		return ktri{id: RecipientID{KeyEncryption: name}}, false, nil
	}
	if !r.is(classUniversal, tagSequence) {
		return ktri{}, false, malformed("RecipientInfo")
	}
	s, err := children(r, 4)
	if err != nil {
		return ktri{}, false, malformed("KeyTransRecipientInfo")
	}
	ve, err := s.next()
	if err != nil {
		return ktri{}, false, malformed("KeyTransRecipientInfo.version")
	}
	if v, err := parseSmallInt(ve); err != nil || (v != 0 && v != 2) {
		return ktri{}, false, malformed("KeyTransRecipientInfo.version")
	}
	rid, err := s.next()
	if err != nil {
		return ktri{}, false, malformed("RecipientIdentifier")
	}
	switch {
	case rid.is(classUniversal, tagSequence):
		is, err := children(rid, 5)
		if err != nil {
			return ktri{}, false, malformed("IssuerAndSerialNumber")
		}
		name, err1 := is.expect(classUniversal, tagSequence)
		serial, err2 := is.next()
		if err1 != nil || err2 != nil || is.more() {
			return ktri{}, false, malformed("IssuerAndSerialNumber")
		}
		k.id.Issuer = name.raw
		if k.id.SerialNumber, err = parseBigInt(serial); err != nil {
			return ktri{}, false, malformed("IssuerAndSerialNumber.serialNumber")
		}
	case rid.is(classContext, 0):
		ski, err := octets(rid, 5)
		if err != nil || len(ski) == 0 {
			return ktri{}, false, malformed("SubjectKeyIdentifier")
		}
		k.id.SubjectKeyID = ski
	default:
		return ktri{}, false, malformed("RecipientIdentifier")
	}
	ae, err := s.expect(classUniversal, tagSequence)
	if err != nil || ae.indefinite {
		return ktri{}, false, malformed("keyEncryptionAlgorithm")
	}
	if rest, err := asn1.Unmarshal(ae.raw, &k.alg); err != nil || len(rest) != 0 {
		return ktri{}, false, malformed("keyEncryptionAlgorithm")
	}
	ke, err := s.expect(classUniversal, tagOctetString)
	if err != nil || s.more() {
		return ktri{}, false, malformed("encryptedKey")
	}
	if k.encryptedKey, err = octets(ke, 5); err != nil || len(k.encryptedKey) == 0 {
		return ktri{}, false, malformed("encryptedKey")
	}
	k.id.KeyEncryption = describeKeyTransport(k.alg)
	return k, true, nil
}

// oaepParams is RSAES-OAEP-params (RFC 8017 A.2.1, RFC 4055 §3.1). Absent fields take the SHA-1
// defaults.
type oaepParams struct {
	Hash    pkix.AlgorithmIdentifier `asn1:"optional,explicit,tag:0"`
	MGF     pkix.AlgorithmIdentifier `asn1:"optional,explicit,tag:1"`
	PSource pkix.AlgorithmIdentifier `asn1:"optional,explicit,tag:2"`
}

// keyTransport is a decoded key-encryption algorithm.
type keyTransport struct {
	oaep    bool
	hash    crypto.Hash
	mgfHash crypto.Hash
	label   []byte
}

var hashByOID = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
	name string
}{
	{oidSHA1, crypto.SHA1, "SHA-1"},
	{oidSHA224, crypto.SHA224, "SHA-224"},
	{oidSHA256, crypto.SHA256, "SHA-256"},
	{oidSHA384, crypto.SHA384, "SHA-384"},
	{oidSHA512, crypto.SHA512, "SHA-512"},
}

// hashOf decodes a hash AlgorithmIdentifier; RFC 4055 §2.1: absent and NULL parameters are equivalent.
func hashOf(a pkix.AlgorithmIdentifier) (crypto.Hash, bool) {
	if len(a.Parameters.FullBytes) != 0 && !isNull(a.Parameters) {
		return 0, false
	}
	for _, h := range hashByOID {
		if a.Algorithm.Equal(h.oid) {
			return h.hash, true
		}
	}
	return 0, false
}

func isNull(v asn1.RawValue) bool {
	return v.Class == classUniversal && v.Tag == tagNull && len(v.Bytes) == 0
}

func decodeKeyTransport(a pkix.AlgorithmIdentifier) (keyTransport, error) {
	switch {
	case a.Algorithm.Equal(oidRSAEncryption):
		if len(a.Parameters.FullBytes) != 0 && !isNull(a.Parameters) {
			return keyTransport{}, malformed("rsaEncryption parameters")
		}
		return keyTransport{}, nil
	case a.Algorithm.Equal(oidRSAESOAEP):
		kt := keyTransport{oaep: true, hash: crypto.SHA1, mgfHash: crypto.SHA1}
		if len(a.Parameters.FullBytes) == 0 || isNull(a.Parameters) {
			return kt, nil // all defaults
		}
		var p oaepParams
		if rest, err := asn1.Unmarshal(a.Parameters.FullBytes, &p); err != nil || len(rest) != 0 {
			return keyTransport{}, malformed("RSAES-OAEP-params")
		}
		if p.Hash.Algorithm != nil {
			h, ok := hashOf(p.Hash)
			if !ok {
				return keyTransport{}, notAccepted("RSAES-OAEP hash %v", p.Hash.Algorithm)
			}
			kt.hash = h
		}
		if p.MGF.Algorithm != nil {
			if !p.MGF.Algorithm.Equal(oidMGF1) {
				return keyTransport{}, notAccepted("RSAES-OAEP mask generation %v", p.MGF.Algorithm)
			}
			var mh pkix.AlgorithmIdentifier
			if rest, err := asn1.Unmarshal(p.MGF.Parameters.FullBytes, &mh); err != nil || len(rest) != 0 {
				return keyTransport{}, malformed("MGF1 parameters")
			}
			h, ok := hashOf(mh)
			if !ok {
				return keyTransport{}, notAccepted("MGF1 hash %v", mh.Algorithm)
			}
			kt.mgfHash = h
		}
		if p.PSource.Algorithm != nil {
			if !p.PSource.Algorithm.Equal(oidPSpecified) {
				return keyTransport{}, notAccepted("RSAES-OAEP pSource %v", p.PSource.Algorithm)
			}
			var label []byte
			if rest, err := asn1.Unmarshal(p.PSource.Parameters.FullBytes, &label); err != nil || len(rest) != 0 {
				return keyTransport{}, malformed("pSpecified parameters")
			}
			kt.label = label
		}
		return kt, nil
	default:
		return keyTransport{}, notAccepted("key transport %v (RSA PKCS#1 v1.5 and RSAES-OAEP are)", a.Algorithm)
	}
}

func describeKeyTransport(a pkix.AlgorithmIdentifier) string {
	kt, err := decodeKeyTransport(a)
	switch {
	case err != nil:
		return a.Algorithm.String()
	case !kt.oaep:
		return "RSA PKCS#1 v1.5"
	}
	name := "RSAES-OAEP"
	for _, h := range hashByOID {
		if h.hash == kt.hash {
			name += " " + h.name
		}
	}
	if kt.mgfHash != kt.hash {
		for _, h := range hashByOID {
			if h.hash == kt.mgfHash {
				name += " MGF1-" + h.name
			}
		}
	}
	return name
}

// contentCipher is a decoded content-encryption algorithm.
type contentCipher struct {
	keyLen int
	gcm    bool
	iv     []byte // CBC IV or GCM nonce
	tagLen int    // GCM ICV length
}

// gcmParams is GCMParameters (RFC 5084 §3.2).
type gcmParams struct {
	Nonce  []byte
	ICVLen int `asn1:"optional,default:12"`
}

func decodeContentCipher(a pkix.AlgorithmIdentifier, auth bool) (contentCipher, error) {
	cbc := map[string]int{oidAES128CBC.String(): 16, oidAES192CBC.String(): 24, oidAES256CBC.String(): 32}
	gcm := map[string]int{oidAES128GCM.String(): 16, oidAES192GCM.String(): 24, oidAES256GCM.String(): 32}
	o := a.Algorithm
	if n, ok := cbc[o.String()]; ok {
		if auth {
			return contentCipher{}, notAccepted("AES-CBC in AuthEnvelopedData")
		}
		var iv []byte
		if rest, err := asn1.Unmarshal(a.Parameters.FullBytes, &iv); err != nil || len(rest) != 0 || len(iv) != 16 {
			return contentCipher{}, malformed("AES-CBC IV")
		}
		return contentCipher{keyLen: n, iv: iv}, nil
	}
	if n, ok := gcm[o.String()]; ok {
		if !auth {
			return contentCipher{}, notAccepted("AES-GCM outside AuthEnvelopedData (RFC 5083) has no place for its tag")
		}
		var p gcmParams
		if rest, err := asn1.Unmarshal(a.Parameters.FullBytes, &p); err != nil || len(rest) != 0 {
			return contentCipher{}, malformed("GCMParameters")
		}
		if len(p.Nonce) != 12 || p.ICVLen < 12 || p.ICVLen > 16 {
			return contentCipher{}, notAccepted("AES-GCM with a %d-byte nonce and %d-byte tag", len(p.Nonce), p.ICVLen)
		}
		return contentCipher{keyLen: n, gcm: true, iv: p.Nonce, tagLen: p.ICVLen}, nil
	}
	switch {
	case o.Equal(oidDESCBC):
		return contentCipher{}, notAccepted("DES-CBC is never accepted")
	case o.Equal(oidDESEDE3):
		return contentCipher{}, notAccepted("triple DES (des-ede3-cbc) is never accepted")
	case o.Equal(oidRC2CBC):
		return contentCipher{}, notAccepted("RC2-CBC (the 2006 text's algorithm) is not supported")
	case o.Equal(oidRC4):
		return contentCipher{}, notAccepted("RC4 is never accepted")
	}
	return contentCipher{}, notAccepted("content encryption %v (AES-CBC and AES-GCM are)", o)
}
