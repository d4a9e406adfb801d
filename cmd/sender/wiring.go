package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"time"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/config"
	"github.com/tagdij/tagdij/internal/outbox"
	"github.com/tagdij/tagdij/internal/upload"
	"github.com/tagdij/tagdij/internal/workspace"
	"github.com/tagdij/tagdij/schema"
)

// This file wires the commands of the sender's outgoing side (send, submit, receipts, status,
// evidence, backup, restore) from the configuration: the workspace in the state directory, the
// receiver client with the configured TLS trust, and internal/outbox.

// outboxStack is what those commands work with; close releases it.
type outboxStack struct {
	cfg     *config.Sender
	ws      *workspace.Workspace
	schemas *schema.Set
	client  *upload.Client // nil when not needed or no receiverURL
	sender  *outbox.Sender
	log     *slog.Logger
	closeFn []func()
}

func (s *outboxStack) close() {
	for i := len(s.closeFn) - 1; i >= 0; i-- {
		s.closeFn[i]()
	}
}

// openOutbox loads the configuration, opens the workspace and the trust environment and, with
// needClient, the receiver client (a usage error when no receiverURL is configured). offline forces
// an offline trust environment.
func openOutbox(ctx context.Context, env *cli.Env, fs *flag.FlagSet, needClient, offline bool) (*outboxStack, error) {
	cfg, err := loadConfig(env, fs)
	if err != nil {
		return nil, err
	}
	return openOutboxConfig(ctx, env, cfg, needClient, offline)
}

func openOutboxConfig(ctx context.Context, env *cli.Env, cfg *config.Sender, needClient, offline bool) (st *outboxStack, err error) {
	st = &outboxStack{cfg: cfg}
	defer func() {
		if err != nil {
			st.close()
		}
	}()
	pol, err := configPolicy(cfg)
	if err != nil {
		return nil, err
	}
	tenv, err := configTrust(cfg, pol, offline, env.Now)
	if err != nil {
		return nil, err
	}
	if st.schemas, err = loadSchemas(); err != nil {
		return nil, err
	}
	st.closeFn = append(st.closeFn, st.schemas.Close)
	if st.ws, err = workspace.Open(ctx, cfg.StateDir); err != nil {
		return nil, err
	}
	st.closeFn = append(st.closeFn, func() { st.ws.Close() })
	log, closer, err := signatureLog(cfg)
	if err != nil {
		return nil, err
	}
	st.log = log
	st.closeFn = append(st.closeFn, func() { closer.Close() })
	backoff, maxWait, timeout, finalWait := cfg.Send.Durations()
	st.sender = &outbox.Sender{WS: st.ws, Env: tenv, Schemas: st.schemas, Logger: log, Clock: env.Now, Sleep: env.SleepFor,
		Retry: outbox.Retry{Attempts: cfg.Send.Attempts, Backoff: backoff, MaxWait: maxWait, FinalWait: finalWait},
		Parties: outbox.Parties{Employer: cfg.Employer.Name, FundCode: cfg.Fund.Code, FundName: cfg.Fund.Name,
			FundAddress: cfg.Notify.Fund, SupervisorAddress: cfg.Notify.Supervisor}}
	if needClient {
		if cfg.Fund.ReceiverURL == "" {
			return nil, cli.Usagef("a beállításban nincs a pénztár fogadójának címe (fund.receiverURL) / the configuration names no receiver (fund.receiverURL)")
		}
		o := upload.Options{BaseURL: cfg.Fund.ReceiverURL, Timeout: timeout, UserAgent: programName + "/" + programVersion}
		if cfg.Fund.TLSCA != "" {
			if o.Roots, err = upload.RootsFromFile(cfg.Fund.TLSCA); err != nil {
				return nil, err
			}
		}
		if st.client, err = upload.New(o); err != nil {
			return nil, err
		}
		st.closeFn = append(st.closeFn, st.client.Close)
		st.sender.Transport = st.client
	}
	return st, nil
}

// notFoundExit turns the workspace's ErrNotFound into a bilingual usage error.
func notFoundExit(err error, what string) error {
	if errors.Is(err, workspace.ErrNotFound) {
		return &cli.ExitError{Code: cli.ExitUsage, Msg: "sender: nincs ilyen a helyi nyilvántartásban / not in the local records: " + what}
	}
	return err
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format(time.RFC3339)
}
