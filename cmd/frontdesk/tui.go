package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"frontdesk/store"
	"frontdesk/store/demo"
	"frontdesk/tui"
)

func newTUICmd(app *App) *cobra.Command {
	var as string
	var demo bool
	cmd := &cobra.Command{
		Use:   "tui [--as EMAIL] [--demo]",
		Short: "The staff front desk in this terminal: roster, profiles, emails, invites",
		Long: `Open the staff front desk in this terminal: browse and search the roster, open
a customer's profile, fix their email, invite them to claim their online
account, one at a time or in bulk. Press ? inside for the keys.

--as picks the staff member (default: the organization's first owner).
--demo creates the demo organization first when the database has none, so
"frontdesk tui --demo" works on a fresh machine.

The outbox worker runs alongside, so invites go out without "frontdesk serve";
its log is <data-dir>/frontdesk.log (the terminal belongs to the TUI).`,
		Args: cobra.NoArgs,
		RunE: withDB(app, func(ctx context.Context, _ *cobra.Command, _ []string) error {
			if demo {
				if err := ensureDemo(ctx, app); err != nil {
					return err
				}
			}
			org, err := app.Organization(ctx)
			if err != nil {
				return err
			}
			staff, err := app.Staff(ctx, org, as)
			if err != nil {
				return err
			}
			out, ok := app.Stdout.(*os.File)
			if !ok || !term.IsTerminal(out.Fd()) {
				return errors.New("the TUI needs a terminal; in scripts use `frontdesk customers list` and `frontdesk invite`")
			}
			return runTUI(ctx, app, org, staff, out)
		}),
	}
	cmd.Flags().StringVar(&as, "as", "", "staff member's email (default: the organization's first owner)")
	cmd.Flags().BoolVar(&demo, "demo", false, "create the demo organization first if the database has none")
	return cmd
}

// ensureDemo creates the demo organization when there is no organization at
// all; an existing one (demo or real) is left alone.
func ensureDemo(ctx context.Context, app *App) error {
	orgs, err := app.DB.Orgs(ctx)
	if err != nil || len(orgs) > 0 {
		return err
	}
	bar := newProgress(app.Stderr, "Creating the demo organization")
	_, err = demo.Generate(ctx, app.DB, demo.Options{Customers: 500, Seed: 1, Progress: bar.Update})
	bar.Done(err == nil)
	return err
}

func runTUI(ctx context.Context, app *App, org *store.Org, staff *store.Staff, out *os.File) error {
	// The terminal is the TUI's: the worker logs to a file.
	logf, err := os.OpenFile(filepath.Join(app.DataDir, "frontdesk.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("opening the log: %w", err)
	}
	defer logf.Close()
	logger := app.logger(logf, slog.LevelInfo)
	w, err := app.Worker(logger)
	if err != nil {
		return err
	}
	// The worker and whatever the desk started end with the program
	// (Ctrl-C, q) as well as with a signal: a send under way is cut and its
	// message stays queued for the next run or frontdesk serve.
	ctx, stop := context.WithCancel(ctx)
	desk := &gatedDeliverer{w: w}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.Run(ctx)
	}()
	defer func() {
		stop()
		desk.Close()
		wg.Wait()
	}()

	r := lipgloss.NewRenderer(out)
	// Ask the terminal for its background now: once the program runs, the
	// answer would arrive as key presses.
	r.HasDarkBackground()
	staffChanged := make(chan struct{}, 1)
	m := tui.New(tui.Common{Ctx: ctx, Styles: tui.NewStyles(r), Org: org, Staff: staff, StaffChanged: staffChanged},
		app.TUIDeps(desk))
	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithContext(ctx), tea.WithInput(app.Stdin), tea.WithOutput(out))
	revoked := watchAccess(ctx, app.DB, staff, staffChanged, p.Quit)
	if _, err := p.Run(); err != nil && ctx.Err() == nil {
		return err
	}
	if why := revoked(); why != "" {
		return store.Errorf(store.EUNAUTHORIZED, "your access changed: %s (%s), so the front desk closed; run `frontdesk tui --as EMAIL` again if you still have access", why, staff.Email)
	}
	return nil
}

// watchAccess closes the local TUI (quit) the moment its staff member is
// removed or given another role, as the SSH server does with its sessions
// (store.Staff.AccessLost is the rule for both): a desk left open must not
// go on with rights taken away. The TUI says when staff changed (changed,
// from the change feed); it watches until ctx ends, and revoked says why
// it closed the TUI, "" when it did not.
func watchAccess(ctx context.Context, db *store.DB, staff *store.Staff, changed <-chan struct{}, quit func()) (revoked func() string) {
	var why atomic.Value
	why.Store("")
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-changed:
			}
			now, err := db.StaffByID(ctx, staff.ID)
			// A local session holds no key: only the person and the role count.
			if loss, w := staff.AccessLost(now, err, true); loss != store.AccessKept {
				why.Store(w)
				quit()
				return
			}
		}
	}()
	return func() string { return why.Load().(string) }
}
