package keys

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// Secret produces a secret (a password or a PIN) on demand. Read returns a
// fresh slice each call; the caller owns it and should Wipe it after use.
type Secret interface {
	Read(ctx context.Context) ([]byte, error)
}

// SecretBytes is a Secret held in memory, for programs that already have the
// secret (the sandbox, tests). It is not reachable from a command line:
// ParseSecretSource never produces one. Read returns a copy.
type SecretBytes []byte

// Read returns a copy of s.
func (s SecretBytes) Read(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return bytes.Clone([]byte(s)), nil
}

// maxSecretFileSize bounds what a file: source reads; a password file larger
// than this is a mistake (a wrong path), not a password.
const maxSecretFileSize = 64 << 10

type secretKind int

const (
	secretPrompt secretKind = iota
	secretFile
	secretEnv
)

// SecretSource is a Secret named by the user: a file, an environment
// variable or an interactive terminal prompt. The zero value prompts.
type SecretSource struct {
	kind   secretKind
	arg    string // file path, variable name or prompt label
	in     *os.File
	out    io.Writer
	prompt string // default prompt label set by the program
}

// ParseSecretSource parses a secret specification:
//
//	file:PATH    the file's content, with one trailing "\n" (or "\r\n") removed
//	env:NAME     the value of environment variable NAME (it must be set)
//	prompt:      ask on the terminal without echo (also "prompt" and "");
//	prompt:TEXT  the same, showing TEXT as the prompt
//
// Anything else is rejected, and in particular a secret written literally
// (there is no "pass:" form), so that secrets never appear in a command line,
// the process list or shell history (SEC-03).
func ParseSecretSource(spec string) (SecretSource, error) {
	scheme, arg, hasColon := strings.Cut(spec, ":")
	switch {
	case spec == "" || spec == "prompt":
		return SecretSource{kind: secretPrompt}, nil
	case hasColon && scheme == "prompt":
		return SecretSource{kind: secretPrompt, arg: arg}, nil
	case hasColon && scheme == "file":
		if arg == "" {
			return SecretSource{}, errors.New("keys: secret source file: needs a path (file:ÚTVONAL / file:PATH)")
		}
		return SecretSource{kind: secretFile, arg: arg}, nil
	case hasColon && scheme == "env":
		if arg == "" || strings.ContainsAny(arg, "=\x00") {
			return SecretSource{}, errors.New("keys: secret source env: needs a variable name (env:NÉV / env:NAME)")
		}
		return SecretSource{kind: secretEnv, arg: arg}, nil
	}
	// Do not echo spec back: it may be the secret itself, typed by mistake.
	return SecretSource{}, errors.New("keys: secret source must be file:PATH, env:NAME or prompt: — secrets are never accepted literally " +
		"(a titkos adat forrása file:ÚTVONAL, env:NÉV vagy prompt: lehet; közvetlenül megadott titok nem fogadható el)")
}

// WithTerminal returns a copy of s that prompts on in (which must be a
// terminal) and writes the prompt to out, instead of standard input and
// standard error. It has no effect on file and environment sources.
func (s SecretSource) WithTerminal(in *os.File, out io.Writer) SecretSource {
	s.in, s.out = in, out
	return s
}

// WithPrompt returns a copy of s that shows label when prompting, unless the
// specification gave its own text (prompt:TEXT).
func (s SecretSource) WithPrompt(label string) SecretSource {
	s.prompt = label
	return s
}

// String describes the source without revealing the secret.
func (s SecretSource) String() string {
	switch s.kind {
	case secretFile:
		return "file:" + s.arg
	case secretEnv:
		return "env:" + s.arg
	}
	return "prompt:"
}

// Read returns the secret. For a prompt it requires the input to be a
// terminal, disables echo while reading, and returns ctx.Err() if ctx ends
// first (the terminal is restored when the pending read returns).
func (s SecretSource) Read(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch s.kind {
	case secretFile:
		return readSecretFile(s.arg)
	case secretEnv:
		v, ok := os.LookupEnv(s.arg)
		if !ok {
			return nil, fmt.Errorf("keys: secret: environment variable %s is not set (a(z) %s környezeti változó nincs beállítva)", s.arg, s.arg)
		}
		return []byte(v), nil
	}
	return s.readPrompt(ctx)
}

func readSecretFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keys: secret file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFileSize+1))
	if err != nil {
		Wipe(b)
		return nil, fmt.Errorf("keys: secret file %s: %w", path, err)
	}
	if len(b) > maxSecretFileSize {
		Wipe(b)
		return nil, fmt.Errorf("keys: secret file %s is larger than %d bytes", path, maxSecretFileSize)
	}
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b, nil
}

func (s SecretSource) readPrompt(ctx context.Context) ([]byte, error) {
	in, out := s.in, s.out
	if in == nil {
		in = os.Stdin
	}
	if out == nil {
		out = os.Stderr
	}
	fd := int(in.Fd())
	if !term.IsTerminal(fd) {
		return nil, errors.New("keys: secret: prompting needs a terminal; use file:PATH or env:NAME " +
			"(a bekéréshez terminál kell; használja a file:ÚTVONAL vagy env:NÉV formát)")
	}
	label := s.arg
	if label == "" {
		label = s.prompt
	}
	if label == "" {
		label = "Jelszó / Password"
	}
	if _, err := fmt.Fprintf(out, "%s: ", label); err != nil {
		return nil, fmt.Errorf("keys: secret: writing prompt: %w", err)
	}
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(out)
		if r.err != nil {
			return nil, fmt.Errorf("keys: secret: reading from terminal: %w", r.err)
		}
		return r.b, nil
	case <-ctx.Done():
		fmt.Fprintln(out)
		// The reader goroutine finishes (and restores the terminal) when
		// the user presses Enter; its result is wiped then.
		go func() { r := <-done; Wipe(r.b) }()
		return nil, ctx.Err()
	}
}
