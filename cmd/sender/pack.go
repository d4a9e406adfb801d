package main

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/progress"
	"github.com/tagdij/tagdij/internal/workspace"
)

var packCmd = &cli.Command{
	Name:    "pack",
	Summary: "bevallás csomagolása: tömörítés, titkosítás, e-akta (.es3) / pack a declaration: compress, encrypt, e-akta (.es3)",
	Usage:   "DECL.xml [--config FILE] [--out DIR] [--plain] [--json]",
	Help: "Ellenőrzi a bevallást (hibás bevallást nem csomagol), ZIP-be tömöríti, a pénztár és a saját\n" +
		"titkosító tanúsítványra titkosítja (SND-06), és aláíratlan TBA_….es3 csomagot ír a metaadatokkal\n" +
		"(kapcsolattartó, bevalló; SND-20). A csomag a saját kulccsal később is visszafejthető.\n" +
		"--plain: tömörítés és titkosítás nélkül (SEC-01), csak ha a beállítás szerint a feltöltés közvetlenül\n" +
		"a pénztár biztonságos környezetébe érkezik (fund.directToSecureEnvironment).\n" +
		"Kilépési kód: 0 kész, 1 érvénytelen bevallás, 3 használati vagy rendszerhiba.\n" +
		"/ Validates the declaration (an invalid one is never packed), compresses it (ZIP), encrypts it for the\n" +
		"fund's and the sender's own encryption certificate (SND-06) and writes an unsigned TBA_….es3 package\n" +
		"with the signed-comment metadata (contact, declarant; SND-20). The sender can decrypt it later with\n" +
		"its own key. --plain: no compression or encryption (SEC-01), only when the configuration says uploads\n" +
		"arrive directly in the fund's secure environment (fund.directToSecureEnvironment).\n" +
		"Exit status: 0 packed, 1 invalid declaration, 3 usage or system error.\n" +
		"A csomag helye alapértelmezésben / default output directory: <stateDir>/packages.",
	Flags: func(fs *flag.FlagSet) {
		configFlag(fs)
		fs.String("out", "", "kimeneti `DIR` (alapértelmezés: <stateDir>/packages) / output directory (default: <stateDir>/packages)")
		fs.Bool("plain", false, "tömörítés és titkosítás nélkül (SEC-01) / without compression and encryption (SEC-01)")
		fs.Bool("json", false, "géppel olvasható kimenet / machine-readable output")
	},
	Run: runPack,
}

// packReport is the --json output.
type packReport struct {
	Package  string            `json:"package"`
	Path     string            `json:"path"`
	Size     int               `json:"size"`
	SHA256   string            `json:"sha256"`
	Plain    bool              `json:"plain"`
	Source   int64             `json:"declarationSize"`
	Zipped   int64             `json:"zippedSize,omitempty"`
	Cipher   int64             `json:"encryptedSize,omitempty"`
	Summary  *pack.Summary     `json:"summary,omitempty"`
	Valid    bool              `json:"valid"`
	Findings []errcode.Finding `json:"findings,omitempty"`
	// PackedBefore names the packages this sender built earlier with the same submission id.
	PackedBefore []string `json:"packedBefore,omitempty"`
}

func runPack(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("egy bevallásfájl kell / exactly one declaration file is needed")
	}
	asJSON := fs.Lookup("json").Value.(flag.Getter).Get().(bool)
	plain := fs.Lookup("plain").Value.(flag.Getter).Get().(bool)
	cfg, err := loadConfig(env, fs)
	if err != nil {
		return err
	}
	if plain && !cfg.Fund.DirectToSecureEnvironment {
		return cli.Usagef("--plain csak akkor, ha a beállítás szerint a feltöltés közvetlenül a pénztár biztonságos környezetébe érkezik " +
			"(fund.directToSecureEnvironment, SEC-01) / --plain only when the configuration says uploads arrive directly in the fund's " +
			"secure environment (fund.directToSecureEnvironment, SEC-01)")
	}
	data, err := cli.ReadFile(args[0], maxDeclarationBytes)
	if err != nil {
		return err
	}
	set, err := loadSchemas()
	if err != nil {
		return err
	}
	defer set.Close()

	opts := pack.Options{
		Schemas:   set,
		Contact:   es3.Contact{Name: cfg.Contact.Name, Phone: cfg.Contact.Phone, Address: cfg.Contact.Address},
		Declarant: &pack.Declarant{IDType: cfg.Employer.IDType, ID: cfg.Employer.ID},
		FundCode:  cfg.Fund.Code,
		Now:       env.Now(),
		Sequence:  pack.FileSequence{Path: cfg.SequencePath()},
		Plain:     plain,
		// The record's excerpt (packrecord.go): the sign preview's rows.
		ExcerptRows: recordRows,
	}
	var fundCert, ownCert *x509.Certificate
	if !plain {
		if fundCert, err = cfg.FundCertificate(); err != nil {
			return err
		}
		if ownCert, err = cfg.OwnCertificate(); err != nil {
			return err
		}
		opts.FundCert, opts.OwnCert = fundCert, ownCert
	}

	stop := progress.Spin(env.Stderr, "ellenőrzés, csomagolás / validating, packing")
	res, err := pack.Pack(ctx, data, opts)
	stop()
	var inv *pack.InvalidError
	if errors.As(err, &inv) {
		if asJSON {
			if werr := cli.WriteJSON(env.Stdout, packReport{Valid: false, Findings: inv.Findings}); werr != nil {
				return werr
			}
		} else {
			cli.WriteFindings(env.Stdout, inv.Findings)
			nerr, nwarn := declaration.Count(inv.Findings)
			fmt.Fprintf(env.Stdout, "%s: ÉRVÉNYTELEN, nem csomagolható / INVALID, not packed (%d hiba / errors, %d figyelmeztetés / warnings)\n",
				args[0], nerr, nwarn)
		}
		return cli.Exit(cli.ExitInvalid)
	}
	if err != nil {
		return err
	}

	outDir := fs.Lookup("out").Value.String()
	if outDir == "" {
		outDir = cfg.PackagesDir()
	}
	// SEC-05: packages hold personal data (in clear when plain); keep them from other users.
	if err := os.MkdirAll(outDir, 0o700); err != nil {
		return err
	}
	// The same declaration packed again: a warning, not a refusal. Packing again is how a package
	// that was never sent is replaced (another signer after the time-stamp, a wrong signer); sending
	// two packages with one submission id is what must not happen, and sending refuses that.
	ws, err := workspace.Open(ctx, cfg.StateDir)
	if err != nil {
		return err
	}
	defer ws.Close()
	earlier, err := ws.PackedBySubmission(ctx, res.Summary.ID)
	if err != nil {
		return err
	}
	var earlierNames []string
	for _, r := range earlier {
		earlierNames = append(earlierNames, r.Name)
	}
	path := filepath.Join(outDir, res.Name.String())
	if err := writeNew(path, res.Bytes); err != nil {
		return err
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	if err := writePackRecord(ctx, ws, res, path, env.Now()); err != nil {
		return fmt.Errorf("a csomagolás nyilvántartása nem írható / the pack record cannot be written: %w", err)
	}

	sum := hex.EncodeToString(res.SHA256[:])
	if asJSON {
		return cli.WriteJSON(env.Stdout, packReport{Package: res.Name.String(), Path: path, Size: len(res.Bytes), SHA256: sum,
			Plain: res.Plain, Source: res.Source, Zipped: res.Zipped, Cipher: res.Cipher, Summary: &res.Summary, Valid: true,
			PackedBefore: earlierNames})
	}
	w := env.Stdout
	cli.WriteFindings(w, res.Summary.Warnings)
	if len(earlier) > 0 {
		list := packedList(ctx, ws, earlier)
		fmt.Fprintf(w, "!! FIGYELEM: ezt a beküldési azonosítót (%s) már becsomagolta: %s. A pénztár egy azonosítóval egy bevallást fogad el: "+
			"csak az egyik csomagot küldje be (a beküldés a már beküldött azonosítót elutasítja).\n"+
			"!! WARNING: you packed this submission id (%s) before: %s. The fund accepts one declaration per submission id: send only one "+
			"of the packages with the same submission id (sending refuses an id already sent).\n",
			res.Summary.ID, list, res.Summary.ID, list)
	}
	fmt.Fprintf(w, "Csomag / Package:   %s\n", res.Name)
	fmt.Fprintf(w, "Fájl / File:        %s\n", path)
	fmt.Fprintf(w, "Méret / Size:       %d bájt / bytes\n", len(res.Bytes))
	fmt.Fprintf(w, "SHA-256:            %s\n", sum)
	if res.Plain {
		fmt.Fprintf(w, "Titkosítás / Encryption: NINCS (SEC-01) / NONE (SEC-01); bevallás / declaration %d bájt / bytes\n", res.Source)
	} else {
		fmt.Fprintf(w, "Titkosítva / Encrypted for: %s; %s\n", fundCert.Subject.CommonName, ownCert.Subject.CommonName)
		fmt.Fprintf(w, "Bevallás / Declaration: %d → ZIP %d → CMS %d bájt / bytes\n", res.Source, res.Zipped, res.Cipher)
	}
	writeSummary(w, &res.Summary)
	fmt.Fprintf(w, "A csomag még nincs aláírva. / The package is not signed yet.\n")
	return nil
}

func writeSummary(w io.Writer, s *pack.Summary) {
	fmt.Fprintf(w, "Beküldés / Submission: %s, %s, időszak / period %s\n", s.ID, declaration.Type(s.Type).Label(), s.Period)
	if s.PredecessorID != "" {
		fmt.Fprintf(w, "Előzmény / Predecessor: %s\n", s.PredecessorID)
	}
	fmt.Fprintf(w, "Bevalló / Declarant: %s (%s %s)\n", s.DeclarantName, s.DeclarantType.Label(), s.DeclarantID)
	fmt.Fprintf(w, "Pénztár / Fund:     %s %s\n", s.FundCode, s.FundName)
	fmt.Fprintf(w, "Létszám / Head count: %d; fizetendő / payable: %d Ft (tagdíj / member %d Ft, kiegészítés / supplement %d Ft)\n",
		s.Totals.HeadCount, s.Totals.PayableTotal, s.Totals.MemberTotal, s.Totals.SupplementTotal)
}

// writeNew writes data to a file that must not exist yet (a package name is never reused), readable
// by the owner only (SEC-05), synced before it is reported as written; a failure removes the file.
func writeNew(path string, data []byte) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	return f.Sync()
}
