// Command processor is the fund's processing side (SPEC §1): after the grace period it runs the final
// check of every accepted package, extends the signatures with validation data, decrypts and checks
// the declaration, archives everything and hands the declaration to the back office.
//
//	processor run  --config FILE          long-running: a pass on the configured schedule, admin /healthz, /metrics
//	processor once --config FILE          one pass (a systemd timer or cron), exit status per SPEC §9
//	processor renew --config FILE         one archive renewal pass (new archive time-stamps where due)
//	processor archive verify --config FILE  the whole tamper-evident archive, every package re-verified offline
//	processor archive show ID --config FILE one entry with its inclusion proof
//
// This file only wires: it loads the configuration, opens the keys and stores, builds the processor
// (internal/processor) and the archive (archive/) and runs them.
//
// Test-only: TAGDIJ_PROCESSOR_CRASH_AT=STEP[:N] kills the process with SIGKILL the N-th time (default
// the first) any job reaches STEP (claimed, validated, extended, decrypted, archived, handed-off), for
// the crash tests. Never set it in production.
package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/robfig/cron/v3"

	"github.com/tagdij/tagdij/archive"
	"github.com/tagdij/tagdij/internal/blob"
	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/config"
	"github.com/tagdij/tagdij/internal/keys"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/payload"
	"github.com/tagdij/tagdij/internal/processor"
	"github.com/tagdij/tagdij/internal/receiver"
	"github.com/tagdij/tagdij/internal/store/sqlite"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/internal/tsp"
	"github.com/tagdij/tagdij/policy"
	"github.com/tagdij/tagdij/schema"
)

// EnvCrashAt is the test-only crash-injection variable (see the command documentation).
const EnvCrashAt = "TAGDIJ_PROCESSOR_CRASH_AT"

var commands = []*cli.Command{runCmd, onceCmd, renewCmd, archiveCommand(archiveCmdFlags, configOpener)}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, cli.OSEnv(), os.Args[1:])
	stop()
	os.Exit(code)
}

// run is main without the process: tests call it with buffers.
func run(ctx context.Context, env *cli.Env, args []string) int {
	return cli.Main(ctx, env, "processor", commands, args)
}

func configFlag(fs *flag.FlagSet) {
	fs.String("config", "processor.json", "a feldolgozó beállításai / the processor's configuration `FILE`")
}

var runCmd = &cli.Command{
	Name:    "run",
	Summary: "folyamatos futás ütemezett menetekkel / run continuously, a pass on the schedule",
	Usage:   "[--config FILE]",
	Help: "Indításkor és az ütemezés (schedule) szerint feldolgozza az esedékes csomagokat: végleges ellenőrzés a\n" +
		"kivárási idő után, kiterjesztés, visszafejtés, tartalmi ellenőrzés, archiválás, átadás a back office-nak.\n" +
		"Adminisztrációs címen: /healthz, /readyz, /metrics. SIGTERM: befejezi a folyamatban lévő csomagokat, majd kilép.\n" +
		"/ At start and on the schedule it processes the due packages: the final check after the grace period,\n" +
		"extension, decryption, content check, archiving, hand-off to the back office. On the admin address:\n" +
		"/healthz, /readyz, /metrics. SIGTERM: finishes the packages in progress, then exits.",
	Flags: configFlag,
	Run:   runRun,
}

var onceCmd = &cli.Command{
	Name:    "once",
	Summary: "egy menet (systemd timer, cron) / one pass (a systemd timer or cron)",
	Usage:   "[--config FILE] [--json]",
	Help: "Feldolgozza az esedékes csomagokat, lezárja az archívum fa-fejét, majd kilép. Kilépési kód: 0 minden\n" +
		"feldolgozva, 1 volt érvénytelen vagy tartalmilag elutasított, 2 volt még nem végleges (később újra),\n" +
		"3 rendszerhiba (a csomag később újra).\n" +
		"/ Processes the due packages, seals the archive's tree head, then exits. Exit status: 0 all processed,\n" +
		"1 some final-invalid or rejected on content, 2 some not final yet (retried later), 3 a system error\n" +
		"(the package is retried later).",
	Flags: func(fs *flag.FlagSet) {
		configFlag(fs)
		fs.Bool("json", false, "összesítő JSON-ban / the summary as JSON")
	},
	Run: runOnce,
}

var renewCmd = &cli.Command{
	Name:    "renew",
	Summary: "archív időbélyegek megújítása, ahol esedékes / renew the archive time-stamps that are due",
	Usage:   "[--config FILE] [--json]",
	Help: "Minden archivált csomag legutóbbi kiterjesztett változatát megvizsgálja: ha az utolsó archív időbélyeg\n" +
		"szolgáltatójának tanúsítványa vagy algoritmusai a renewMargin-on belül lejárnak, új archív időbélyeget\n" +
		"kap (az eddigiek hitelesítési adataival), új archívumbejegyzésként; a régi megmarad. Kilépési kód: 0 rendben,\n" +
		"3 valamelyik megújítás nem sikerült (a következő menet újra próbálja).\n" +
		"/ Examines every archived package's newest extended version: when the last archive time-stamp's TSA\n" +
		"certificate or algorithms end within renewMargin, it gets a new archive time-stamp (with the earlier\n" +
		"ones' validation data) as a new archive entry; the old one stays. Exit status: 0 fine, 3 a renewal\n" +
		"failed (the next pass tries again).",
	Flags: func(fs *flag.FlagSet) {
		configFlag(fs)
		fs.Bool("json", false, "összesítő JSON-ban / the summary as JSON")
	},
	Run: runRenew,
}

func runRenew(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
	return withServices(ctx, env, fs, args, func(s *services) error {
		sum, err := s.renew(ctx)
		if fs.Lookup("json").Value.String() == "true" {
			if werr := cli.WriteJSON(env.Stdout, sum); werr != nil {
				return werr
			}
		} else {
			fmt.Fprintf(env.Stdout, "Megvizsgálva / checked: %d\nMegújítva / renewed:    %d\nHiba / errors:          %d\n", sum.Checked, sum.Renewed, sum.Errors)
			if !sum.Next.IsZero() {
				fmt.Fprintf(env.Stdout, "Következő esedékes / next due: %s\n", sum.Next.UTC().Format(time.RFC3339))
			}
		}
		if err != nil {
			return err
		}
		if sum.Errors > 0 {
			return cli.Exit(cli.ExitUsage)
		}
		return nil
	})
}

// renew runs one renewal pass and seals the archive over what it added.
func (s *services) renew(ctx context.Context) (processor.RenewalSummary, error) {
	sum, err := s.proc.RunRenewal(ctx, s.arch, time.Duration(s.cfg.RenewMargin))
	if err != nil {
		return sum, err
	}
	s.log.Info("renewal pass finished", slog.String("event", "processor.renewal"), slog.Int("checked", sum.Checked),
		slog.Int("renewed", sum.Renewed), slog.Int("errors", sum.Errors), slog.Time("next", sum.Next))
	if sum.Renewed > 0 {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if _, serr := s.arch.Seal(sctx); serr != nil {
			return sum, fmt.Errorf("archive seal: %w", serr)
		}
	}
	return sum, nil
}

// withServices runs fn with the services a command without arguments opens, and closes them.
func withServices(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string, fn func(*services) error) error {
	if len(args) != 0 {
		return cli.Usagef("nem vár argumentumot / takes no arguments")
	}
	s, err := open(ctx, env, fs)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

// services is what run, once and renew open.
type services struct {
	cfg     *config.Processor
	db      *sqlite.DB
	arch    *archive.Archive
	proc    *processor.Processor
	reg     *prometheus.Registry
	log     *slog.Logger
	tsa     *tsp.Client
	closers []func()
}

func (s *services) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

func open(ctx context.Context, env *cli.Env, fs *flag.FlagSet) (s *services, err error) {
	cfg, err := config.LoadProcessor(fs.Lookup("config").Value.String(), env.Getenv)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewJSONHandler(env.Stderr, nil)).With("program", "processor", "instance", cfg.Instance)
	s = &services{cfg: cfg, log: log, reg: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	pol, err := policy.Select(cfg.Policy)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{cfg.DataDir, cfg.ArchiveDir, cfg.HandOffDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	if s.db, err = sqlite.Open(ctx, cfg.DatabasePath()); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { s.db.Close() })
	// The processors share the revocation evidence any of them fetched, in the database.
	tcfg := cfg.Trust
	tcfg.RevocationStore = s.db.RevocationStore()
	tenv, err := trust.Load(tcfg, "", pol)
	if err != nil {
		return nil, err
	}
	s.tsa = &tsp.Client{URL: cfg.TSAURL, HTTP: tsp.NewHTTPClient(cmp.Or(cfg.Workers, runtime.NumCPU())), Trust: pathval.TSAVerifier{Anchors: tenv.TSAs, Algorithms: tenv.Algorithms(), SigCache: tenv.SigCache}}
	// The receiver writes the package store; the processor only reads it and must not clear the
	// receiver's uploads in progress, as blob.Open would (an hour-old temporary file is a crash's).
	blobs, err := blob.OpenShared(cfg.BlobDir(), time.Hour)
	if err != nil {
		return nil, fmt.Errorf("dataDir: the receiver's package store: %w", err)
	}
	schemas, err := schema.Load(libxml.Parser{})
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, schemas.Close)
	in, _ := env.Stdin.(*os.File)
	dkey, err := keys.OpenSpecs(ctx, cfg.DecryptionKey, cfg.DecryptionSecret, in, env.Stderr, "Visszafejtő kulcs jelszava/PIN / Decryption key password or PIN")
	if err != nil {
		return nil, fmt.Errorf("decryptionKey: %w", err)
	}
	s.closers = append(s.closers, func() { dkey.Close() })
	dec, ok := keys.Decrypter(dkey)
	if !ok {
		return nil, errors.New("decryptionKey: a kulcs nem alkalmas visszafejtésre (RSA, keyEncipherment) / the key cannot decrypt (RSA with keyEncipherment needed)")
	}
	akey, err := keys.OpenSpecs(ctx, cfg.ArchiveKey, cfg.ArchiveSecret, in, env.Stderr, "Archívumkulcs jelszava/PIN / Archive key password or PIN")
	if err != nil {
		return nil, fmt.Errorf("archiveKey: %w", err)
	}
	s.closers = append(s.closers, func() { akey.Close() })
	if s.arch, err = archive.New(cfg.ArchiveDir, s.db.ArchiveIndex(), archive.Options{Signer: akey, Certificate: akey.Certificate(),
		Chain: akey.Chain(), TSA: s.tsa}); err != nil {
		return nil, err
	}
	hook, err := crashHook(env.Getenv(EnvCrashAt), log)
	if err != nil {
		return nil, err
	}
	s.proc, err = processor.New(processor.Config{Queue: s.db, Receipts: s.db, Registry: s.db.Registry(), Blobs: blobs, Archive: s.arch,
		Env: tenv, Schemas: schemas, TSA: s.tsa, DecryptionCert: dkey.Certificate(), Decrypter: dec,
		PayloadLimits: payload.Limits{MaxSize: cfg.MaxDeclarationBytes}, HandOffDir: cfg.HandOffDir, Owner: leaseOwner(cfg.Instance),
		Lease: time.Duration(cfg.Lease), Workers: cfg.Workers,
		Backoff:     processor.Backoff{Min: time.Duration(cfg.BackoffMin), Max: time.Duration(cfg.BackoffMax)},
		AlertBefore: time.Duration(cfg.AlertBefore), JobTimeout: time.Duration(cfg.JobTimeout),
		Logger: log, Metrics: processor.NewMetrics(s.reg), Hook: hook})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// leaseOwner is the name this process leases jobs under: the instance name and a random suffix of this
// process. Leases are checked by owner, so two processes under one instance name (a cron `processor
// once` overlapping `processor run` on the same host) must not share one: the second one's start would
// release the first one's leases and both would work on the same jobs. The price: after a crash, the
// restarted process waits for the dead one's leases to expire (the lease setting) instead of taking
// them back at once.
func leaseOwner(instance string) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Sprintf("%s/%d", instance, os.Getpid())
	}
	return fmt.Sprintf("%s/%x", instance, b)
}

// crashHook turns TAGDIJ_PROCESSOR_CRASH_AT=STEP[:N] into a hook that SIGKILLs this process the N-th
// time a job reaches STEP. Test-only: the crash-matrix tests use it to prove every step resumable.
func crashHook(spec string, log *slog.Logger) (func(processor.Step, *processor.Job), error) {
	if spec == "" {
		return nil, nil
	}
	name, nth, _ := strings.Cut(spec, ":")
	n := 1
	if nth != "" {
		v, err := strconv.Atoi(nth)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%s=%q: STEP[:N] with N ≥ 1", EnvCrashAt, spec)
		}
		n = v
	}
	step := processor.Step(name)
	known := false
	for _, s := range processor.Steps {
		known = known || s == step
	}
	if !known {
		return nil, fmt.Errorf("%s=%q: unknown step (one of %v)", EnvCrashAt, spec, processor.Steps)
	}
	log.Warn("crash injection armed (test only)", slog.String("event", "processor.crash-armed"), slog.String("step", name), slog.Int("n", n))
	var seen atomic.Int64
	return func(s processor.Step, j *processor.Job) {
		if s == step && seen.Add(1) == int64(n) {
			log.Warn("crash injected", slog.String("event", "processor.crash"), slog.String("step", name))
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}, nil
}

// pass runs one pass and seals the archive's tree head over what it archived.
func (s *services) pass(ctx context.Context) (processor.Summary, error) {
	sum, err := s.proc.RunOnce(ctx)
	if err != nil {
		return sum, err
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if _, serr := s.arch.Seal(sctx); serr != nil {
		s.log.Error("archive not sealed; the next pass seals it", slog.String("event", "archive.seal-failed"), slog.String("error", serr.Error()))
		return sum, fmt.Errorf("archive seal: %w", serr)
	}
	return sum, nil
}

// exitFor maps a pass onto SPEC §9's exit statuses: a failure of the fund's side is 3, a package ended
// invalid or rejected 1, one not final yet 2, else 0.
func exitFor(s processor.Summary, err error) int {
	switch {
	case err != nil || s.Errors > 0:
		return cli.ExitUsage
	case s.FinalInvalid > 0 || s.ContentRejected > 0:
		return cli.ExitInvalid
	case s.TryLater > 0:
		return cli.ExitIncomplete
	}
	return cli.ExitOK
}

func runOnce(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
	return withServices(ctx, env, fs, args, func(s *services) error {
		sum, err := s.pass(ctx)
		if fs.Lookup("json").Value.String() == "true" {
			out := struct {
				processor.Summary
				Error string `json:"error,omitempty"`
			}{Summary: sum}
			if err != nil {
				out.Error = err.Error()
			}
			if werr := cli.WriteJSON(env.Stdout, out); werr != nil {
				return werr
			}
		} else {
			writeSummary(env.Stdout, sum, err)
		}
		if code := exitFor(sum, err); code != cli.ExitOK {
			return cli.Exit(code)
		}
		return nil
	})
}

func writeSummary(w io.Writer, s processor.Summary, err error) {
	fmt.Fprintf(w, "Feldolgozva / processed:                       %d\n", s.Processed)
	fmt.Fprintf(w, "Érvénytelen (végleges) / final-invalid:        %d\n", s.FinalInvalid)
	fmt.Fprintf(w, "Tartalmilag elutasítva / content-rejected:     %d\n", s.ContentRejected)
	fmt.Fprintf(w, "Még nem végleges / not final yet (retried):    %d\n", s.TryLater)
	fmt.Fprintf(w, "Hiba, később újra / errors (retried):          %d\n", s.Errors)
	if s.LeaseLost > 0 {
		fmt.Fprintf(w, "Más feldolgozó vette át / taken over:          %d\n", s.LeaseLost)
	}
	if s.Alerts > 0 {
		fmt.Fprintf(w, "RIASZTÁS: lejáró aláírói tanúsítvány / ALERT: signer certificate expiring: %d\n", s.Alerts)
	}
	if err != nil {
		fmt.Fprintf(w, "Hiba / error: %v\n", err)
	}
}

func runRun(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
	return withServices(ctx, env, fs, args, func(s *services) error {
		log := s.log
		s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		ln, err := net.Listen("tcp", s.cfg.AdminListen)
		if err != nil {
			return err
		}
		admin := &http.Server{Handler: receiver.Admin(s.reg, []receiver.Check{
			{Name: "store", Run: func(ctx context.Context) error { return s.db.Ping(ctx) }},
		}, log), ReadHeaderTimeout: 5 * time.Second}
		errs := make(chan error, 1)
		go func() { errs <- admin.Serve(ln) }()

		job := func() {
			if _, err := s.pass(ctx); err != nil && ctx.Err() == nil {
				log.Error("pass failed", slog.String("event", "processor.pass-failed"), slog.String("error", err.Error()))
			}
		}
		c := cron.New(cron.WithParser(config.CronParser), cron.WithChain(cron.SkipIfStillRunning(cron.DiscardLogger)))
		if _, err := c.AddFunc(s.cfg.Schedule, job); err != nil {
			ln.Close()
			return fmt.Errorf("schedule: %w", err)
		}
		if _, err := c.AddFunc(s.cfg.RenewSchedule, func() {
			if _, err := s.renew(ctx); err != nil && ctx.Err() == nil {
				log.Error("renewal pass failed", slog.String("event", "processor.renewal-failed"), slog.String("error", err.Error()))
			}
		}); err != nil {
			ln.Close()
			return fmt.Errorf("renewSchedule: %w", err)
		}
		log.Info("running", slog.String("event", "processor.started"), slog.String("admin", ln.Addr().String()),
			slog.String("schedule", s.cfg.Schedule), slog.String("renewSchedule", s.cfg.RenewSchedule), slog.String("data", s.cfg.DataDir), slog.String("handoff", s.cfg.HandOffDir))
		c.Start()
		// A pass at start, beside the schedule (SkipIfStillRunning does not see it: RunOnce serializes).
		var first sync.WaitGroup
		first.Add(1)
		go func() {
			defer first.Done()
			job()
		}()
		select {
		case <-ctx.Done():
		case err := <-errs:
			if !errors.Is(err, http.ErrServerClosed) {
				c.Stop()
				return err
			}
		}
		// Graceful stop: no new pass; the passes running stop claiming, finish their jobs and seal.
		log.Info("stopping", slog.String("event", "processor.stopping"))
		<-c.Stop().Done()
		first.Wait()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		admin.Shutdown(sctx)
		log.Info("stopped", slog.String("event", "processor.stopped"))
		return nil
	})
}
