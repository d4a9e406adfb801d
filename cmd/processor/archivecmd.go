package main

// The `processor archive …` subcommands: `archive verify` checks the whole tamper-evident archive
// (and re-verifies every extended package offline), `archive show ID` prints one entry with its
// inclusion proof against the latest signed tree head. archiveCommand builds them around an opener
// so that the processor's configuration (or, until it lands, explicit flags: archiveFlags) decides
// where the archive, its index and its trust are.

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/tagdij/tagdij/archive"
	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/store/sqlite"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/internal/tsp"
	"github.com/tagdij/tagdij/policy"
	"github.com/tagdij/tagdij/schema"
)

// archiveSetup is what the archive subcommands work on: the archive over its index, the options of
// its verification, and what to close afterwards.
type archiveSetup struct {
	Archive *archive.Archive
	Verify  archive.VerifyOptions
	// Now is the command's clock (package re-verification, the "verified at" line).
	Now     func() time.Time
	closers []func()
}

// Close releases what the setup opened, in reverse order.
func (s *archiveSetup) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// archiveOpener builds the setup from the command's parsed flags.
type archiveOpener func(ctx context.Context, env *cli.Env, fs *flag.FlagSet) (*archiveSetup, error)

// archiveParams are the places and trust an archive setup is opened with; the processor's
// configuration supplies them.
type archiveParams struct {
	// Dir is the archive directory; DBPath the SQLite store holding its index.
	Dir, DBPath string
	// Trust is the trust environment, loaded offline (an archive verifies from what it holds): its
	// TSA anchors judge tree-head time-stamps, its signer anchors the re-verified packages.
	Trust *trust.Env
	// Signers are the accepted tree-head signer certificates: the fund's archive key's first, then
	// those of earlier keys.
	Signers []*x509.Certificate
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// openArchive opens the store and the archive (Verify and Proof only read) and builds the
// verification options, with a VerifyPackage that re-verifies extended packages offline with
// pack.Verify.
func openArchive(ctx context.Context, p archiveParams) (*archiveSetup, error) {
	if p.Dir == "" || p.DBPath == "" {
		return nil, cli.Usagef("az archívum könyvtára és adatbázisa kell / the archive directory and database are needed")
	}
	if len(p.Signers) == 0 {
		return nil, cli.Usagef("a fafejek aláírójának tanúsítványa kell / the tree-head signer's certificate is needed")
	}
	if p.Trust == nil {
		return nil, cli.Usagef("bizalmi beállítás kell / a trust configuration is needed")
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	tenv := p.Trust
	s := &archiveSetup{Now: p.Now}
	db, err := sqlite.Open(ctx, p.DBPath)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { db.Close() })
	a, err := archive.New(p.Dir, db.ArchiveIndex(), archive.Options{Certificate: p.Signers[0], PreviousSigners: p.Signers[1:], Now: p.Now})
	if err != nil {
		s.Close()
		return nil, err
	}
	schemas, err := schema.Load(libxml.Parser{})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.closers = append(s.closers, schemas.Close)
	s.Archive = a
	s.Verify = archive.VerifyOptions{TSA: tenv.TSAVerifier(), Signers: p.Signers, VerifyPackage: packageVerifier(tenv, schemas, p.Now)}
	return s, nil
}

// packageVerifier re-verifies an archived extended package offline, from the validation data it
// carries (XAdES-X-L + ArchiveTimeStamp), as `auditor verify` would: anything but TOTAL-PASSED is an
// error carrying the first finding (its SPEC §7 code).
func packageVerifier(tenv *trust.Env, schemas *schema.Set, now func() time.Time) func(context.Context, *archive.Entry, []byte) error {
	return func(ctx context.Context, e *archive.Entry, extended []byte) error {
		v, err := pack.Verify(ctx, extended, pack.VerifyOptions{Env: tenv, Schemas: schemas, Now: now(), FileName: filepath.Base(e.PackageName)})
		if err != nil {
			return err
		}
		rep := v.Report
		if rep.Verdict.Indication == report.TotalPassed {
			return nil
		}
		findings := append([]errcode.Finding(nil), rep.Verdict.Findings...)
		for _, s := range rep.Signatures {
			findings = append(findings, s.Verdict.Findings...)
		}
		for _, f := range findings {
			if f.Severity == errcode.Error {
				return f
			}
		}
		return fmt.Errorf("a csomag ellenőrzése: %s / package verification: %s", rep.Verdict.Indication, rep.Verdict.Indication)
	}
}

// archiveFlags declares the explicit flags of the stand-alone opener (flagOpener).
func archiveFlags(fs *flag.FlagSet) {
	fs.String("dir", "", "az archívum könyvtára / the archive `DIR`")
	fs.String("db", "", "a tár SQLite-adatbázisa (az archívum indexe) / the store's SQLite `FILE` (the archive's index)")
	fs.String("trust", "", "bizalmi beállítás (JSON, trust rész) / trust configuration `FILE` (JSON, the trust section)")
	fs.String("policy", "", "aláírási szabályzat: production, sandbox vagy fájl / signature `POLICY`: production, sandbox or a file")
	fs.String("signer", "", "a fafejek aláírójának tanúsítványa(i), PEM / the tree-head signer's certificate(s) `FILE`, PEM")
}

// flagOpener opens the archive from archiveFlags.
func flagOpener(ctx context.Context, env *cli.Env, fs *flag.FlagSet) (*archiveSetup, error) {
	get := func(n string) string { return fs.Lookup(n).Value.String() }
	p := archiveParams{Dir: get("dir"), DBPath: get("db"), Now: env.Now}
	if get("signer") == "" || get("trust") == "" {
		return nil, cli.Usagef("--signer és --trust kell / --signer and --trust are needed")
	}
	certs, err := trust.ReadCertificates(get("signer"))
	if err != nil {
		return nil, cli.Usagef("--signer: %v", err)
	}
	p.Signers = certs
	pol, err := policy.Select(get("policy"))
	if err != nil {
		if pol, err = policy.Load(get("policy")); err != nil {
			return nil, cli.Usagef("--policy: %v", err)
		}
	}
	if p.Trust, err = trust.LoadFile(get("trust"), pol, true, env.Now); err != nil {
		return nil, err
	}
	return openArchive(ctx, p)
}

// archiveCommand returns the `archive` command group. flags declares what open reads (the
// processor's --config, or archiveFlags); every subcommand adds --json.
func archiveCommand(flags func(*flag.FlagSet), open archiveOpener) *cli.Command {
	jsonFlags := func(fs *flag.FlagSet) {
		flags(fs)
		fs.Bool("json", false, "géppel olvasható kimenet / machine-readable output")
	}
	verify := &cli.Command{
		Name:    "verify",
		Summary: "a teljes archívum ellenőrzése / verify the whole archive",
		Usage:   "[--json] [--no-packages]",
		Help: "Újraszámolja minden archivált fájl és bejegyzés lenyomatát és a Merkle-fát, ellenőrzi minden fafej aláírását,\n" +
			"időbélyegét és a fák egymásra épülését, és minden kiterjesztett csomagot offline újraellenőriz. Minden sérült,\n" +
			"törölt vagy átírt bejegyzést megnevez. Kilépési kód: 0 ép, 1 sérült, 3 használati vagy rendszerhiba.\n" +
			"/ Recomputes every archived file's and entry's hash and the Merkle tree, checks every tree head's signature,\n" +
			"time-stamp and consistency, and re-verifies every extended package offline. Names every damaged, removed\n" +
			"or rewritten entry. Exit status: 0 intact, 1 tampered, 3 usage or system error.",
		Flags: func(fs *flag.FlagSet) {
			jsonFlags(fs)
			fs.Bool("no-packages", false, "a csomagok újraellenőrzése nélkül / without re-verifying the packages")
		},
		Run: func(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
			if len(args) != 0 {
				return cli.Usagef("nem vár argumentumot / takes no arguments")
			}
			s, err := open(ctx, env, fs)
			if err != nil {
				return err
			}
			defer s.Close()
			opts := s.Verify
			if boolFlag(fs, "no-packages") {
				opts.VerifyPackage = nil
			}
			res, err := s.Archive.Verify(ctx, opts)
			if err != nil {
				return err
			}
			if boolFlag(fs, "json") {
				err = cli.WriteJSON(env.Stdout, verifyView(res))
			} else {
				err = writeVerify(env.Stdout, res)
			}
			if err != nil {
				return err
			}
			if !res.OK() {
				return cli.Exit(cli.ExitInvalid)
			}
			return nil
		},
	}
	show := &cli.Command{
		Name:    "show",
		Summary: "egy bejegyzés és bizonyítéka / one entry and its proof",
		Usage:   "ID [--json]",
		Help: "Kiírja a bejegyzést, a legutóbbi aláírt fafejet és a bejegyzés befoglalási bizonyítékát (RFC 9162), miután\n" +
			"ellenőrizte őket. Kilépési kód: 0 rendben, 1 a bejegyzés vagy a fafej sérült, 3 nincs ilyen bejegyzés.\n" +
			"/ Prints the entry, the latest signed tree head and the entry's inclusion proof (RFC 9162) after checking\n" +
			"them. Exit status: 0 fine, 1 the entry or the tree head is damaged, 3 no such entry.",
		Flags: jsonFlags,
		Run: func(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("egy bejegyzés-azonosító kell / exactly one entry ID is needed")
			}
			s, err := open(ctx, env, fs)
			if err != nil {
				return err
			}
			defer s.Close()
			p, err := s.Archive.Proof(ctx, args[0])
			switch {
			case errors.Is(err, archive.ErrNotFound):
				return &cli.ExitError{Code: cli.ExitUsage, Msg: fmt.Sprintf("nincs ilyen bejegyzés / no such entry: %s", args[0])}
			case errors.Is(err, archive.ErrTampered):
				return &cli.ExitError{Code: cli.ExitInvalid, Msg: fmt.Sprintf("SÉRÜLT / TAMPERED: %v", err)}
			case err != nil:
				return err
			}
			view := proofView(p)
			var tsErr error
			if p.Head != nil {
				tok, err := (&tsp.Verifier{Chain: s.Verify.TSA}).VerifyData(ctx, p.Head.TimeStamp, p.Head.Signature)
				if err != nil {
					tsErr = err
				} else {
					view.TreeHead.TimeStamped = tok.GenTime
				}
			}
			if boolFlag(fs, "json") {
				err = cli.WriteJSON(env.Stdout, view)
			} else {
				err = writeProof(env.Stdout, view)
			}
			if err != nil {
				return err
			}
			if tsErr != nil {
				hu, en := tsp.Messages(tsErr)
				return &cli.ExitError{Code: cli.ExitInvalid, Msg: fmt.Sprintf("A fafej időbélyege érvénytelen / the tree head's time-stamp is invalid: %s / %s (%v)", hu, en, tsErr)}
			}
			return nil
		},
	}
	return &cli.Command{
		Name:    "archive",
		Summary: "a hiteles hosszú távú archívum / the tamper-evident long-term archive",
		Sub:     []*cli.Command{verify, show},
	}
}

func boolFlag(fs *flag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	return f != nil && f.Value.(flag.Getter).Get().(bool)
}

// The --json views: hashes in hex, times in RFC 3339.

type partView struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

type entryView struct {
	ID            string                    `json:"id"`
	Index         uint64                    `json:"leafIndex"`
	Archived      time.Time                 `json:"archived"`
	Renews        string                    `json:"renews,omitempty"`
	PackageSHA256 string                    `json:"packageSha256"`
	PackageName   string                    `json:"packageName"`
	ReceiptName   string                    `json:"receiptName"`
	SubmissionID  string                    `json:"submissionId"`
	DeclarantType string                    `json:"declarantType"`
	DeclarantID   string                    `json:"declarantId"`
	Fund          string                    `json:"fund"`
	Period        string                    `json:"period"`
	DeclType      string                    `json:"declarationType"`
	Outcome       string                    `json:"outcome"`
	Codes         []string                  `json:"codes,omitempty"`
	Parts         map[archive.Part]partView `json:"parts"`
	LeafHash      string                    `json:"leafHash"`
	// LeafRecord is the SHA-256 of the entry's canonical leaf encoding: its record file is
	// DIR/leaves/sha256/<first two hex digits>/<LeafRecord>.
	LeafRecord string `json:"leafRecord"`
}

type headView struct {
	Seq         uint64    `json:"seq"`
	Size        uint64    `json:"size"`
	Root        string    `json:"root"`
	Time        time.Time `json:"time"`
	TimeStamped time.Time `json:"timeStamped,omitzero"`
	Signer      string    `json:"signer"`
	Prev        string    `json:"prev"`
}

type proofJSON struct {
	Entry    entryView `json:"entry"`
	Sealed   bool      `json:"sealed"`
	TreeHead *headView `json:"treeHead,omitempty"`
	Path     []string  `json:"inclusionPath,omitempty"`
}

func hx(b [32]byte) string { return hex.EncodeToString(b[:]) }

func entryViewOf(e *archive.Entry) entryView {
	v := entryView{ID: e.ID, Index: e.Index, Archived: e.Archived, Renews: e.Renews, PackageSHA256: hx(e.PackageSHA256),
		PackageName: e.PackageName, ReceiptName: e.ReceiptName, SubmissionID: e.SubmissionID, DeclarantType: e.DeclarantType,
		DeclarantID: e.DeclarantID, Fund: e.Fund, Period: e.Period, DeclType: e.DeclType, Outcome: e.Outcome, Codes: e.Codes,
		Parts: map[archive.Part]partView{}, LeafHash: hx(e.LeafHash)}
	for _, p := range archive.Parts {
		if r, ok := e.Part(p); ok {
			v.Parts[p] = partView{SHA256: hx(r.SHA256), Size: r.Size}
		}
	}
	if enc, err := archive.EncodeLeaf(e); err == nil {
		v.LeafRecord = hx(sha256.Sum256(enc))
	}
	return v
}

func proofView(p *archive.EntryProof) *proofJSON {
	v := &proofJSON{Entry: entryViewOf(p.Entry), Sealed: p.Head != nil}
	if p.Head != nil {
		h := p.Head
		hv := &headView{Seq: h.Seq, Size: h.Size, Root: hx(h.Root), Time: h.Time, Prev: hx(h.Prev)}
		if len(h.Certificates) > 0 {
			if c, err := x509.ParseCertificate(h.Certificates[0]); err == nil {
				hv.Signer = c.Subject.String()
			}
		}
		v.TreeHead = hv
		for _, x := range p.Path {
			v.Path = append(v.Path, hx(x))
		}
	}
	return v
}

func writeProof(w io.Writer, v *proofJSON) error {
	e := v.Entry
	fmt.Fprintf(w, "Bejegyzés / Entry:        %s (levél / leaf %d)\n", e.ID, e.Index)
	fmt.Fprintf(w, "Archiválva / Archived:    %s\n", e.Archived.Format(time.RFC3339))
	if e.Renews != "" {
		fmt.Fprintf(w, "Megújítja / Renews:       %s\n", e.Renews)
	}
	fmt.Fprintf(w, "Csomag / Package:         %s\n                          SHA-256 %s\n", e.PackageName, e.PackageSHA256)
	fmt.Fprintf(w, "Bevalló / Declarant:      %s:%s, pénztár / fund %s, időszak / period %s, típus / type %s\n", e.DeclarantType, e.DeclarantID, e.Fund, e.Period, e.DeclType)
	fmt.Fprintf(w, "Beküldés / Submission:    %s\n", e.SubmissionID)
	fmt.Fprintf(w, "Eredmény / Outcome:       %s", e.Outcome)
	if len(e.Codes) > 0 {
		fmt.Fprintf(w, " %v", e.Codes)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Nyugta / Receipt:         %s\n", e.ReceiptName)
	for _, p := range archive.Parts {
		if r, ok := e.Parts[p]; ok {
			fmt.Fprintf(w, "  %-9s %s  %d bájt / bytes\n", p, r.SHA256, r.Size)
		}
	}
	fmt.Fprintf(w, "Levél / Leaf hash:        %s\n", e.LeafHash)
	fmt.Fprintf(w, "Levélrekord / Leaf record: %s\n", e.LeafRecord)
	if v.TreeHead == nil {
		fmt.Fprintf(w, "\nMég nincs aláírt fafej, amely lefedné (a következő lezárás fogja). / No signed tree head covers it yet (the next Seal will).\n")
		return nil
	}
	h := v.TreeHead
	fmt.Fprintf(w, "\nFafej / Tree head %d: %d bejegyzés / entries, gyökér / root %s\n", h.Seq, h.Size, h.Root)
	fmt.Fprintf(w, "  aláírva / signed %s by %s\n", h.Time.Format(time.RFC3339), h.Signer)
	if !h.TimeStamped.IsZero() {
		fmt.Fprintf(w, "  időbélyeg / time-stamped %s\n", h.TimeStamped.Format(time.RFC3339))
	}
	fmt.Fprintf(w, "Befoglalási bizonyíték / Inclusion proof (RFC 9162, %d):\n", len(v.Path))
	for _, x := range v.Path {
		fmt.Fprintf(w, "  %s\n", x)
	}
	return nil
}

type verifyJSON struct {
	OK         bool              `json:"ok"`
	Entries    uint64            `json:"entries"`
	Size       uint64            `json:"treeSize"`
	Root       string            `json:"root"`
	TreeHeads  int               `json:"treeHeads"`
	Sealed     uint64            `json:"sealed"`
	BadEntries []string          `json:"badEntries"`
	Problems   []archive.Problem `json:"problems"`
}

func verifyView(r *archive.VerifyResult) verifyJSON {
	v := verifyJSON{OK: r.OK(), Entries: r.Entries, Size: r.Size, Root: hx(r.Root), TreeHeads: r.TreeHeads, Sealed: r.Sealed,
		BadEntries: r.BadEntries(), Problems: r.Problems}
	if v.BadEntries == nil {
		v.BadEntries = []string{}
	}
	if v.Problems == nil {
		v.Problems = []archive.Problem{}
	}
	return v
}

func writeVerify(w io.Writer, r *archive.VerifyResult) error {
	fmt.Fprintf(w, "Bejegyzések / Entries: %d, fa / tree: %d levél / leaves, gyökér / root %s\n", r.Entries, r.Size, hx(r.Root))
	fmt.Fprintf(w, "Fafejek / Tree heads: %d, a legutóbbi %d bejegyzést fed / the latest covers %d entries\n", r.TreeHeads, r.Sealed, r.Sealed)
	for _, p := range r.Problems {
		where := ""
		if p.Entry != "" {
			where += " bejegyzés / entry " + p.Entry
		}
		if p.Leaf != nil {
			where += fmt.Sprintf(" levél / leaf %d", *p.Leaf)
		}
		if p.Part != "" {
			where += " " + string(p.Part)
		}
		if p.TreeHead != nil {
			where += fmt.Sprintf(" fafej / tree head %d", *p.TreeHead)
		}
		code := ""
		if p.Code != "" {
			code = " " + string(p.Code)
		}
		fmt.Fprintf(w, "%s %s%s%s\n   %s\n   %s\n", p.Severity, p.Kind, code, where, p.HU, p.EN)
	}
	if r.OK() {
		_, err := fmt.Fprintf(w, "ÉP / INTACT: az archívum sértetlen. / the archive is intact.\n")
		return err
	}
	bad := r.BadEntries()
	_, err := fmt.Fprintf(w, "SÉRÜLT / TAMPERED: %d megnevezett bejegyzés / named entries: %v\n", len(bad), bad)
	return err
}
