package cmsenc

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
)

// Decrypt returns the content of an enveloped message (DER or BER ContentInfo with EnvelopedData or
// AuthEnvelopedData) for the RecipientInfo that names cert (by issuer and serial number, or by subject
// key identifier), using key — the private key of cert, through crypto.Decrypter only.
//
// Errors are *Error values with code D001: ErrMalformed and ErrLimit for a message that does not
// parse, ErrAlgorithm for algorithms not accepted (checked before the key is used), ErrKeyMismatch when
// key is not cert's key, and ErrDecrypt, with a constant text, for everything that depends on the
// key. The plaintext is the one allocation proportional to the input.
func Decrypt(der []byte, cert *x509.Certificate, key crypto.Decrypter) ([]byte, error) {
	env, cc, err := open(der)
	if err != nil {
		return nil, err
	}
	if err := checkKey(cert, key); err != nil {
		return nil, err
	}
	ck, err := unwrapMatching(env, cc, cert, key)
	if err != nil {
		return nil, err
	}
	defer clear(ck)
	return decryptContent(env, cc, ck)
}

// Recipients lists the RecipientInfos of a message in input order, so a caller can tell which of its
// keys to use and a report can say for whom a package was encrypted.
func Recipients(der []byte) ([]RecipientID, error) {
	env, err := parseEnvelope(der)
	if err != nil {
		return nil, err
	}
	ids := make([]RecipientID, 0, len(env.recipients))
	for _, r := range env.recipients {
		k, _, err := parseRecipient(r)
		if err != nil {
			return nil, err
		}
		ids = append(ids, k.id)
	}
	return ids, nil
}

// ContentKey recovers the content-encryption key of a message for cert's RecipientInfo, to be wrapped
// for another recipient with WrapKeyFor. It checks the key against the content before returning it: for
// AES-GCM by verifying the tag (decrypting everything), for AES-CBC by the padding of the last block,
// which rejects a wrong key with probability of about 255/256 only (CBC has no integrity; a caller
// needing certainty decrypts and checks the ZIP CRC). The caller should clear the key after use.
func ContentKey(der []byte, cert *x509.Certificate, key crypto.Decrypter) ([]byte, error) {
	env, cc, err := open(der)
	if err != nil {
		return nil, err
	}
	if err := checkKey(cert, key); err != nil {
		return nil, err
	}
	ck, err := unwrapMatching(env, cc, cert, key)
	if err != nil {
		return nil, err
	}
	if err := verifyKey(env, cc, ck); err != nil {
		clear(ck)
		return nil, err
	}
	return ck, nil
}

// DecryptWithContentKey decrypts a message with its content-encryption key directly (from ContentKey,
// or unwrapped from a RecipientInfo outside the message).
func DecryptWithContentKey(der, contentKey []byte) ([]byte, error) {
	env, cc, err := open(der)
	if err != nil {
		return nil, err
	}
	if len(contentKey) != cc.keyLen {
		return nil, errDecrypt
	}
	return decryptContent(env, cc, contentKey)
}

// DecryptWithRecipientInfo decrypts a message with a KeyTransRecipientInfo kept outside it (the
// tax-authority export of SPEC §5: WrapKeyFor's output beside the unchanged package). The
// RecipientInfo must name cert; key is cert's private key.
func DecryptWithRecipientInfo(der, recipientInfo []byte, cert *x509.Certificate, key crypto.Decrypter) ([]byte, error) {
	env, cc, err := open(der)
	if err != nil {
		return nil, err
	}
	if err := checkKey(cert, key); err != nil {
		return nil, err
	}
	r, rest, err := readElem(recipientInfo, 0)
	if err != nil || len(rest) != 0 {
		return nil, malformed("RecipientInfo")
	}
	k, isKT, err := parseRecipient(r)
	if err != nil {
		return nil, err
	}
	if !isKT {
		return nil, notAccepted("RecipientInfo type %s (only key transport is supported)", k.id.KeyEncryption)
	}
	if !k.id.Matches(cert) {
		return nil, errDecrypt
	}
	ck, err := unwrap(k, cc, key)
	if err != nil {
		return nil, err
	}
	defer clear(ck)
	return decryptContent(env, cc, ck)
}

// open parses a message and checks its algorithms and content type, before any key is involved.
func open(der []byte) (*envelope, contentCipher, error) {
	env, err := parseEnvelope(der)
	if err != nil {
		return nil, contentCipher{}, err
	}
	cc, err := decodeContentCipher(env.alg, env.auth)
	if err != nil {
		return nil, contentCipher{}, err
	}
	if !env.contentType.Equal(oidData) {
		return nil, contentCipher{}, malformed("encrypted content type " + env.contentType.String() + " is not id-data")
	}
	if !env.hasContent {
		return nil, contentCipher{}, malformed("detached encrypted content is not supported")
	}
	return env, cc, nil
}

func checkKey(cert *x509.Certificate, key crypto.Decrypter) error {
	if cert == nil || key == nil {
		return &Error{Err: ErrKeyMismatch, Detail: "certificate and key are both required"}
	}
	pub, ok := key.Public().(*rsa.PublicKey)
	if !ok || !pub.Equal(cert.PublicKey) {
		return &Error{Err: ErrKeyMismatch}
	}
	return nil
}

// unwrapMatching finds cert's KeyTransRecipientInfo and decrypts the content key from it.
func unwrapMatching(env *envelope, cc contentCipher, cert *x509.Certificate, key crypto.Decrypter) ([]byte, error) {
	for _, r := range env.recipients {
		k, isKT, err := parseRecipient(r)
		if err != nil {
			return nil, err
		}
		if isKT && k.id.Matches(cert) {
			return unwrap(k, cc, key)
		}
	}
	return nil, errDecrypt
}

func unwrap(k ktri, cc contentCipher, key crypto.Decrypter) ([]byte, error) {
	kt, err := decodeKeyTransport(k.alg)
	if err != nil {
		return nil, err
	}
	var opts crypto.DecrypterOpts
	if kt.oaep {
		opts = &rsa.OAEPOptions{Hash: kt.hash, MGFHash: kt.mgfHash, Label: kt.label}
	} else {
		// On bad padding crypto/rsa (and internal/keys for PKCS#11) return a random key of this length
		// instead of an error, so the failure shows only later, as ErrDecrypt, like any other.
		opts = &rsa.PKCS1v15DecryptOptions{SessionKeyLen: cc.keyLen}
	}
	ck, err := key.Decrypt(rand.Reader, k.encryptedKey, opts)
	if err != nil || len(ck) != cc.keyLen {
		clear(ck)
		return nil, errDecrypt
	}
	return ck, nil
}

// decryptContent decrypts the encrypted content into one new buffer.
func decryptContent(env *envelope, cc contentCipher, ck []byte) ([]byte, error) {
	block, err := aes.NewCipher(ck)
	if err != nil || len(ck) != cc.keyLen {
		return nil, errDecrypt
	}
	n, err := octetsLen(env.content, 4)
	if err != nil {
		return nil, malformed("encryptedContent")
	}
	if cc.gcm {
		if len(env.mac) != cc.tagLen {
			return nil, errDecrypt
		}
		aead, err := cipher.NewGCMWithTagSize(block, cc.tagLen)
		if err != nil {
			return nil, errDecrypt
		}
		buf := make([]byte, 0, n+cc.tagLen)
		if buf, err = appendOctets(buf, env.content, 4); err != nil {
			return nil, malformed("encryptedContent")
		}
		buf = append(buf, env.mac...)
		var aad []byte
		if env.hasAuth {
			// RFC 5083 §2.2: the MAC covers the DER of authAttrs with the SET OF tag, not [1].
			if env.authAttrs.indefinite {
				return nil, malformed("authAttrs must be DER")
			}
			aad = append([]byte{0x31}, env.authAttrs.raw[1:]...)
		}
		pt, err := aead.Open(buf[:0], cc.iv, buf, aad)
		if err != nil {
			return nil, errDecrypt
		}
		return pt, nil
	}
	if n == 0 || n%aes.BlockSize != 0 {
		return nil, errDecrypt
	}
	out := make([]byte, n)
	mode := cipher.NewCBCDecrypter(block, cc.iv)
	if env.content.constructed {
		if _, err := appendOctets(out[:0], env.content, 4); err != nil {
			return nil, malformed("encryptedContent")
		}
		mode.CryptBlocks(out, out)
	} else {
		mode.CryptBlocks(out, env.content.body)
	}
	pt, ok := unpad(out)
	if !ok {
		return nil, errDecrypt
	}
	return pt, nil
}

// verifyKey checks a content key against the content without keeping the plaintext where possible.
func verifyKey(env *envelope, cc contentCipher, ck []byte) error {
	if cc.gcm {
		pt, err := decryptContent(env, cc, ck)
		clear(pt)
		return err
	}
	ct, err := octets(env.content, 4)
	if err != nil {
		return malformed("encryptedContent")
	}
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return errDecrypt
	}
	block, err := aes.NewCipher(ck)
	if err != nil {
		return errDecrypt
	}
	iv := cc.iv
	if len(ct) > aes.BlockSize {
		iv = ct[len(ct)-2*aes.BlockSize : len(ct)-aes.BlockSize]
	}
	last := make([]byte, aes.BlockSize)
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(last, ct[len(ct)-aes.BlockSize:])
	if _, ok := unpad(last); !ok {
		return errDecrypt
	}
	return nil
}

// unpad strips PKCS#7 padding (RFC 5652 §6.3) in time independent of the padding's value.
func unpad(b []byte) ([]byte, bool) {
	n := len(b)
	if n < aes.BlockSize || n%aes.BlockSize != 0 {
		return nil, false
	}
	p := int(b[n-1])
	good := subtle.ConstantTimeLessOrEq(1, p) & subtle.ConstantTimeLessOrEq(p, aes.BlockSize)
	for i := 1; i <= aes.BlockSize; i++ {
		inPad := subtle.ConstantTimeLessOrEq(i, p)
		eq := subtle.ConstantTimeByteEq(b[n-i], byte(p))
		good &= subtle.ConstantTimeSelect(inPad, eq, 1)
	}
	if good != 1 {
		return nil, false
	}
	return b[:n-p], true
}
