package props

import (
	"strings"
	"testing"
)

func TestCheckNameString(t *testing.T) {
	tests := []struct {
		name string
		s    string
		ok   bool
	}{
		{"short names", "CN=Minta Minősített CA,O=Minta Bizalmi Szolgáltató Zrt.,C=HU", true},
		{"dotted OID and spaces", "2.5.4.3 = Teszt CA , C=HU", true},
		{"hex value", "CN=#0c0141", true},
		{"escapes", `O=Teszt\, Kft. \2B Társai,C=HU`, true},
		{"empty", "", false},
		{"spaces only", "   ", false},
		{"no equals sign", "CN", false},
		{"unknown descriptor", "FOO=bar", false},
		{"dangling escape", `CN=a\`, false},
		{"bad hex", "CN=#zz", false},
		{"escaped invalid UTF-8", `CN=\ff`, false},
		{"too long", "CN=" + strings.Repeat("a", maxDNLen), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckNameString(tc.s)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckNameString(%q) = %v, want ok=%v", tc.s, err, tc.ok)
			}
		})
	}
}
