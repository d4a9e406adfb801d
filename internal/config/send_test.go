package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStripComments(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a": 1} // c`, `{"a": 1}     `},
		{"// top\n{\"a\": \"//not a comment\"}", "      \n{\"a\": \"//not a comment\"}"},
		{`{"a": "x\"//y"} /* z */`, `{"a": "x\"//y"}        `},
		{"{/* a\nb */\"a\": 1}", "{    \n    \"a\": 1}"},
		{`{"a": "/* kept */"}`, `{"a": "/* kept */"}`},
		{`{"a": 1} /* open`, `{"a": 1}        `},
		{`{"a": "\\"}// c`, `{"a": "\\"}    `},
	} {
		if got := string(StripComments([]byte(tc.in))); got != tc.want {
			t.Errorf("StripComments(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A configuration with comments loads; a syntax error after a comment still names the right line.
func TestLoadWithComments(t *testing.T) {
	v := valid()
	data := `// sender init writes comments
{
  /* the employer */
  "employer": {"name": "Példa Kft.", "idType": "adoszam", "id": "12345676"}, // with its tax number
` + jsonBody(t, v) + `
}`
	s, err := LoadEnv(writeRaw(t, data), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Employer.ID != "12345676" || s.Fund.Code != "0101" {
		t.Errorf("loaded %+v", s)
	}
	_, err = LoadEnv(writeRaw(t, "// one\n// two\n{\"employer\": }"), nil)
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("syntax error: %v", err)
	}
}

// jsonBody is v without its braces and without employer, to follow a hand-written employer line.
func jsonBody(t *testing.T, v map[string]any) string {
	t.Helper()
	delete(v, "employer")
	path := write(t, v)
	b, _ := os.ReadFile(path)
	s := strings.TrimSpace(string(b))
	return s[1 : len(s)-1]
}

func TestSendAndNotifyFields(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "tls-ca.pem")
	os.WriteFile(ca, []byte("x"), 0o600)
	ok := valid()
	ok["fund"].(map[string]any)["tlsCA"] = ca
	ok["send"] = map[string]any{"attempts": 3, "backoff": "10ms", "maxWait": "1m", "timeout": "30s", "finalWait": "5m"}
	ok["notify"] = map[string]any{"fund": "ugyfel@penztar.example", "supervisor": "MNB, 1013 Budapest"}
	s, err := LoadEnv(write(t, ok), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, m, to, fw := s.Send.Durations()
	if s.Fund.TLSCA != ca || s.Send.Attempts != 3 || b != 10*time.Millisecond || m != time.Minute || to != 30*time.Second || fw != 5*time.Minute ||
		s.Notify.Fund == "" || s.Notify.Supervisor == "" {
		t.Errorf("loaded %+v %+v", s.Send, s.Notify)
	}
	for _, tc := range []struct {
		field string
		mod   func(map[string]any)
	}{
		{"fund.tlsCA", func(v map[string]any) { v["fund"].(map[string]any)["tlsCA"] = filepath.Join(dir, "missing.pem") }},
		{"fund.tlsCA", func(v map[string]any) { v["fund"].(map[string]any)["tlsCA"] = dir }},
		{"send.attempts", func(v map[string]any) { v["send"] = map[string]any{"attempts": 101} }},
		{"send.attempts", func(v map[string]any) { v["send"] = map[string]any{"attempts": -1} }},
		{"send.backoff", func(v map[string]any) { v["send"] = map[string]any{"backoff": "soon"} }},
		{"send.maxWait", func(v map[string]any) { v["send"] = map[string]any{"maxWait": "-1s"} }},
		{"send.finalWait", func(v map[string]any) { v["send"] = map[string]any{"finalWait": "49h"} }},
		{"notify.fund", func(v map[string]any) { v["notify"] = map[string]any{"fund": strings.Repeat("x", 321)} }},
		{"notify.supervisor", func(v map[string]any) { v["notify"] = map[string]any{"supervisor": "a\nb"} }},
	} {
		v := valid()
		tc.mod(v)
		_, err := LoadEnv(write(t, v), nil)
		var ce *Error
		if !asError(err, &ce) || !ce.Field(tc.field) {
			t.Errorf("%s: %v", tc.field, err)
		}
	}
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}
