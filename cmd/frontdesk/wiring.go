package main

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"

	"frontdesk/claim"
	"frontdesk/mailer"
	"frontdesk/store"
	"frontdesk/tui"
)

// Service is the invite service configured from the command line. It
// delivers nothing itself (Mail is nil): links wait for a worker.
func (a *App) Service() *claim.Service {
	return &claim.Service{DB: a.DB, BaseURL: a.BaseURL, InviteTTL: a.InviteTTL, Resolver: a.resolver(), Metrics: a.metrics}
}

// DeskService is the invite service of a desk (a TUI, local or over SSH),
// whose first delivery attempts go through the desk's gate.
func (a *App) DeskService(desk *gatedDeliverer) *claim.Service {
	s := a.Service()
	s.Mail = desk
	return s
}

// Logger writes structured log lines to stderr: warnings and errors unless
// --log-level says otherwise.
func (a *App) Logger() *slog.Logger {
	return a.logger(a.Stderr, slog.LevelWarn)
}

// Transport is SMTP when --smtp-host is set, and otherwise the file transport
// under <data-dir>/outbox/: the embedded default. Either signs with DKIM
// when --dkim-key is set.
func (a *App) Transport(logger *slog.Logger) (mailer.Transport, error) {
	var dk *mailer.DKIM
	if a.DKIMKey != "" {
		var err error
		if dk, err = mailer.LoadDKIM(a.DKIMKey, a.DKIMSelector, a.MailFrom); err != nil {
			return nil, err
		}
		logger.Info("signing mail with DKIM", "domain", dk.Domain, "selector", dk.Selector, "dns_name", dk.DNSName(), "dns_txt", dk.DNSRecord())
	}
	if a.SMTPHost == "" {
		t := mailer.NewFileTransport(filepath.Join(a.DataDir, "outbox"), logger)
		t.From, t.DKIM = a.MailFrom, dk
		return t, nil
	}
	return mailer.NewSMTP(mailer.Config{
		Host: a.SMTPHost, Port: a.SMTPPort, Username: a.SMTPUsername, Password: a.SMTPPassword, Auth: a.SMTPAuth,
		TLS: a.SMTPTLS, From: a.MailFrom, Timeout: a.SMTPTimeout, DKIM: dk,
	})
}

// Worker is an outbox worker for this process.
func (a *App) Worker(logger *slog.Logger) (*mailer.Worker, error) {
	t, err := a.Transport(logger)
	if err != nil {
		return nil, err
	}
	return &mailer.Worker{DB: a.DB, Transport: t, Logger: logger}, nil
}

// TUIDeps are what the staff TUI talks to, locally or over SSH: the
// roster, the invite service whose first delivery attempts go through the
// desk's gate, and the change feed that keeps every screen live. Made once
// per process: its sessions share the reads a change causes.
func (a *App) TUIDeps(desk *gatedDeliverer) tui.Deps {
	return tui.Deps{Roster: a.DB, Invites: a.DeskService(desk), Now: a.DB.Now}.WithLive(a.DB)
}

// gatedDeliverer is the desk's "send now" (claim.Deliverer) over a worker,
// with a gate that Close shuts once the desk is gone. Deliveries run in TUI
// commands that nothing else waits for; Close waits for those under way
// (they end promptly once the desk's context is cancelled: the message is
// given back or its result recorded), so the database is never closed under
// one and no lease is left behind.
type gatedDeliverer struct {
	w      *mailer.Worker
	mu     sync.RWMutex
	closed bool
}

func (g *gatedDeliverer) Deliver(ctx context.Context, ids ...int64) ([]mailer.Outcome, error) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return nil, errors.New("frontdesk is closing; the invite stays queued")
	}
	return g.w.Deliver(ctx, ids...)
}

// Close shuts the gate and waits for deliveries under way.
func (g *gatedDeliverer) Close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// Staff resolves --as, or the organization's first owner.
func (a *App) Staff(ctx context.Context, org *store.Org, as string) (*store.Staff, error) {
	if as == "" {
		return a.DB.FirstOwner(ctx, org.ID)
	}
	s, err := a.DB.StaffByEmail(ctx, as)
	if err != nil {
		return nil, err
	}
	if s.OrgID != org.ID {
		return nil, store.Errorf(store.EUNAUTHORIZED, "%s is not on the staff of %s", as, org.Name)
	}
	return s, nil
}
