// Package cli is the small shared plumbing of Tagdíj's command-line programs: the exit statuses of
// SPEC §9 and the one mapping of verdicts onto them, a usage-error type, nested subcommand dispatch with --help, flag parsing that accepts flags
// after positional arguments, JSON output, bilingual printing of findings, and a terminal check.
// Secrets are not handled here (internal/keys reads them from a prompt, a file or the environment).
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/tagdij/tagdij/internal/boundedio"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/policy"
)

// Exit statuses (SPEC §9).
const (
	ExitOK         = 0 // success; a document or signature is valid
	ExitInvalid    = 1 // invalid or rejected
	ExitIncomplete = 2 // incomplete (befejezetlen), e.g. revocation data not yet available
	ExitUsage      = 3 // usage or system error
)

// ExitFor is the exit status of a verdict (SPEC §9): ExitOK for TOTAL-PASSED, ExitInvalid for
// TOTAL-FAILED and ExitIncomplete for INDETERMINATE and anything else, so that an unknown indication
// never reads as success.
func ExitFor(i report.Indication) int {
	switch i {
	case report.TotalPassed:
		return ExitOK
	case report.TotalFailed:
		return ExitInvalid
	}
	return ExitIncomplete
}

// WorstExit is the exit status of several verdicts, the worst of their ExitFor: ExitInvalid if any is
// TOTAL-FAILED, else ExitIncomplete if any is not TOTAL-PASSED, else ExitOK (also for none).
func WorstExit(indications ...report.Indication) int {
	code := ExitOK
	for _, i := range indications {
		switch ExitFor(i) {
		case ExitInvalid:
			return ExitInvalid
		case ExitIncomplete:
			code = ExitIncomplete
		}
	}
	return code
}

// VerdictExit is what a command returns after printing verdicts: nil when WorstExit is ExitOK,
// otherwise an *ExitError with that status and no message.
func VerdictExit(indications ...report.Indication) error {
	if code := WorstExit(indications...); code != ExitOK {
		return Exit(code)
	}
	return nil
}

// UsageError is a mistake in the command line. It exits with ExitUsage and the command's usage is
// printed after it.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef builds a *UsageError; write the message bilingually ("hiányzó fájl / missing file").
func Usagef(format string, args ...any) error { return &UsageError{Msg: fmt.Sprintf(format, args...)} }

// ExitError ends a command with a given status after its output was written (e.g. ExitInvalid when a
// validated document has errors). Msg, if set, is printed to stderr.
type ExitError struct {
	Code int
	Msg  string
}

func (e *ExitError) Error() string {
	if e.Msg != "" {
		return e.Msg
	}
	return fmt.Sprintf("exit status %d", e.Code)
}

// Exit returns an *ExitError with code and no message.
func Exit(code int) error { return &ExitError{Code: code} }

// ExitCode maps a command's error to its exit status: nil → 0, *ExitError → its code, *UsageError → 3,
// anything else (I/O, system) → 3.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitUsage
}

// Env is what a command may touch of the outside world; tests pass buffers and a fixed clock.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	Now    func() time.Time
	// Sleep waits for d or until ctx ends (retries, grace periods); nil: a real timer. Tests pass one
	// that advances their clock instead of racing the wall clock.
	Sleep func(ctx context.Context, d time.Duration) error
}

// SleepFor is env.Sleep, or a real timer when it is nil.
func (e *Env) SleepFor(ctx context.Context, d time.Duration) error {
	if e.Sleep != nil {
		return e.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// OSEnv is the process's real environment.
func OSEnv() *Env {
	return &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Now: time.Now}
}

// StdoutIsTerminal reports whether the command's stdout is an interactive terminal (for progress bars
// and paging decisions). It is false for buffers, pipes and files.
func (e *Env) StdoutIsTerminal() bool { return IsTerminal(e.Stdout) }

// DefaultWidth is the width tables are laid out for when stdout is not a terminal or its size is
// unknown.
const DefaultWidth = 80

// Width is the number of columns tables written to stdout should fit: the terminal's width, or
// DefaultWidth when stdout is not a terminal (a pipe, a file, a test's buffer) or its size is unknown.
func (e *Env) Width() int {
	if f, ok := e.Stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	return DefaultWidth
}

// IsTerminal reports whether w is an *os.File connected to a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Command is one subcommand. A command has either Run (a leaf) or Sub (a group of subcommands).
type Command struct {
	Name    string
	Summary string // one line, bilingual
	Usage   string // the argument synopsis after the command path, e.g. "[--json] FILE"
	Help    string // longer description printed by --help
	// Flags declares the command's flags on fs; it is called once per invocation.
	Flags func(fs *flag.FlagSet)
	// Run executes the command with the flags parsed and the positional arguments.
	Run func(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error
	Sub []*Command
}

// Main dispatches args (without the program name) to the command tree under prog and returns the exit
// status. Errors are printed to env.Stderr; usage errors are followed by the command's usage.
func Main(ctx context.Context, env *Env, prog string, cmds []*Command, args []string) int {
	root := &Command{Name: prog, Sub: cmds}
	err := dispatch(ctx, env, root, prog, args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Msg != "" {
			fmt.Fprintln(env.Stderr, ee.Msg)
		}
		return ee.Code
	}
	fmt.Fprintf(env.Stderr, "%s: %s\n", prog, Describe(err))
	return ExitCode(err)
}

// Describe is the message of err for a person, in both languages where the error comes from the
// operating system: a file that does not exist, cannot be read or is a directory is said so in
// Hungarian and English, with its path, in place of the system's English text. Every other message is
// err.Error() (Tagdíj's own messages are bilingual already).
func Describe(err error) string {
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = strings.Replace(msg, pe.Error(), describePath(pe), 1)
	}
	return msg
}

func describePath(pe *fs.PathError) string {
	switch {
	case errors.Is(pe.Err, fs.ErrNotExist):
		return fmt.Sprintf("%s: a fájl nem található / file not found", pe.Path)
	case errors.Is(pe.Err, fs.ErrPermission):
		return fmt.Sprintf("%s: nincs jogosultság a fájlhoz / permission denied", pe.Path)
	case errors.Is(pe.Err, syscall.EISDIR):
		return fmt.Sprintf("%s: könyvtár, nem fájl / a directory, not a file", pe.Path)
	}
	return fmt.Sprintf("%s: a fájl nem olvasható / the file cannot be read (%s: %v)", pe.Path, pe.Op, pe.Err)
}

// Invalidf ends a command with ExitInvalid and a message: the input a user named is not what the
// command needs (not XML, not a package, not a certificate, a broken signature). Write it
// bilingually. One rule for every command (SPEC §9): such input is invalid (1); a file that cannot be
// read at all, a configuration that cannot be loaded and a service that cannot be reached are usage
// or system errors (3).
func Invalidf(format string, args ...any) error {
	return &ExitError{Code: ExitInvalid, Msg: fmt.Sprintf(format, args...)}
}

// Systemf ends a command with ExitUsage and a message: a usage or system error that is not the
// command line's fault (an unreachable service, a configuration that cannot be loaded), so no usage
// text follows it. Write it bilingually.
func Systemf(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Msg: fmt.Sprintf(format, args...)}
}

func dispatch(ctx context.Context, env *Env, c *Command, path string, args []string) error {
	if c.Run == nil {
		if len(args) == 0 {
			groupUsage(env.Stderr, c, path)
			return Usagef("hiányzó alparancs / missing subcommand")
		}
		if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			groupUsage(env.Stdout, c, path)
			return nil
		}
		for _, s := range c.Sub {
			if s.Name == args[0] {
				return dispatch(ctx, env, s, path+" "+s.Name, args[1:])
			}
		}
		groupUsage(env.Stderr, c, path)
		return Usagef("ismeretlen alparancs / unknown subcommand %q", args[0])
	}
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if c.Flags != nil {
		c.Flags(fs)
	}
	pos, err := ParseFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		leafUsage(env.Stdout, c, path, fs)
		return err
	}
	if err != nil {
		leafUsage(env.Stderr, c, path, fs)
		return &UsageError{Msg: err.Error()}
	}
	err = c.Run(ctx, env, fs, pos)
	var ue *UsageError
	if errors.As(err, &ue) {
		leafUsage(env.Stderr, c, path, fs)
	}
	return err
}

// ParseFlags parses flags anywhere among args ("validate FILE --json" as well as "validate --json
// FILE") and returns the positional arguments in order. Everything after "--" is positional.
func ParseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		// flag stops at "--" (consuming it) or at the first non-flag argument.
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func groupUsage(w io.Writer, c *Command, path string) {
	fmt.Fprintf(w, "Használat / Usage: %s <alparancs / subcommand> [--help]\n", path)
	if c.Help != "" {
		fmt.Fprintf(w, "\n%s\n", c.Help)
	}
	fmt.Fprintf(w, "\nAlparancsok / Subcommands:\n")
	width := 0
	for _, s := range c.Sub {
		width = max(width, len(s.Name))
	}
	for _, s := range c.Sub {
		fmt.Fprintf(w, "  %-*s  %s\n", width, s.Name, s.Summary)
	}
}

func leafUsage(w io.Writer, c *Command, path string, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Használat / Usage: %s %s\n", path, c.Usage)
	if c.Summary != "" {
		fmt.Fprintf(w, "\n%s\n", c.Summary)
	}
	if c.Help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(c.Help, "\n"))
	}
	var flags []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	if len(flags) == 0 {
		return
	}
	sort.Slice(flags, func(i, j int) bool { return flags[i].Name < flags[j].Name })
	fmt.Fprintf(w, "\nKapcsolók / Flags:\n")
	for _, f := range flags {
		name, usage := flag.UnquoteUsage(f)
		head := "  --" + f.Name
		if name != "" {
			head += " " + name
		}
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			def = fmt.Sprintf(" (alapértelmezés / default: %s)", f.DefValue)
		}
		fmt.Fprintf(w, "%s\n      %s%s\n", head, usage, def)
	}
}

// WriteJSON writes v as indented JSON followed by a newline, for machine readers (--json).
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("cli: writing JSON: %w", err)
	}
	return nil
}

// WriteFindings prints findings for people, one block per finding with both languages:
//
//	E0 D005 tétel 12 / item 12
//	   Hibás TAJ szám. (TAJ 123456789)
//	   Invalid TAJ (social security) number. (TAJ 123456789)
func WriteFindings(w io.Writer, findings []errcode.Finding) error {
	for _, f := range findings {
		loc := ""
		if f.Location != "" {
			loc = " " + f.Location
		}
		if _, err := fmt.Fprintf(w, "%s %s%s\n   %s\n   %s\n", f.Severity, f.Code, loc, f.HU, f.EN); err != nil {
			return err
		}
	}
	return nil
}

// ReadFile reads a file a user named, refusing more than max bytes (a declaration or package is never
// larger than the parser's limit, so reading further would only waste memory).
func ReadFile(path string, max int64) ([]byte, error) {
	data, err := boundedio.ReadFile(path, max)
	if errors.Is(err, boundedio.ErrTooLarge) {
		return nil, fmt.Errorf("%s: nagyobb mint %d bájt / larger than %d bytes", path, max, max)
	}
	return data, err
}

// CreateFile writes a new output file through write, removing it again if write fails, so that a
// failed command never leaves a truncated document behind.
func CreateFile(path string, write func(io.Writer) error) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	return f.Sync()
}

// ShowPolicy writes the signature policy for a person (SIG-19): the exact published bytes when raw
// (their SHA-256 is what signatures carry), otherwise the rendering in lang ("hu", "en", "" = both),
// and with htmlPath also a printable page, whose path it prints.
func ShowPolicy(env *Env, p *policy.Policy, lang string, raw bool, htmlPath string) error {
	if raw {
		_, err := env.Stdout.Write(p.Raw())
		return err
	}
	if err := p.RenderText(env.Stdout, lang); err != nil {
		return Usagef("%v", err)
	}
	if htmlPath == "" {
		return nil
	}
	if err := CreateFile(htmlPath, func(w io.Writer) error { return p.RenderHTML(w, lang) }); err != nil {
		return err
	}
	if abs, err := filepath.Abs(htmlPath); err == nil {
		htmlPath = abs
	}
	fmt.Fprintf(env.Stdout, "\nHTML: %s\n", htmlPath)
	return nil
}
