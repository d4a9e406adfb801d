module github.com/tagdij/tagdij

go 1.27

toolchain go1.27.4

require (
	github.com/beevik/etree v1.8.1
	github.com/digitorus/pkcs7 v0.0.0-20260914070511-d678ea5ea03f
	github.com/digitorus/timestamp v0.0.0-20260914073129-b4b58b92aa51
	github.com/google/uuid v1.6.0
	github.com/miekg/pkcs11 v1.1.2
	golang.org/x/crypto v0.58.0
	golang.org/x/sys v0.49.0
	golang.org/x/term v0.47.0
	golang.org/x/text v0.43.0
	software.sslmate.com/src/go-pkcs12 v0.7.4
)
