package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"frontdesk/claim"
	"frontdesk/store"
	"frontdesk/store/format"
	"frontdesk/tui/inert"
)

func newInviteCmd(app *App) *cobra.Command {
	var as, status string
	var all bool
	cmd := &cobra.Command{
		Use:   "invite CUSTOMER... [--as EMAIL] | invite --all [--status not-invited|expired]",
		Short: "Invite customers to claim their account (same rules as the TUI)",
		Long: `Invite customers to claim their online account. CUSTOMER is an email address or
a customer id (see customers list). Each invite is queued and then delivered
before the command returns:

  Jane Doe: Invite sent to jane@example.com — link expires Mon 30 Nov 2026 at 14:05 GMT.
  Ann Lee: Invite to ann@example.com is queued: <why>; it will retry at 14:10. …
  Bo Chen: has no email address — fix the email first.

A queued invite is not lost: the outbox of frontdesk serve (or the next
invite or tui run) delivers it. The exit status is 1 if any customer was
refused or any email permanently rejected.

--all invites every eligible customer: by default those not invited and those
whose invite expired; --status narrows it to one of them.`,
		RunE: withDB(app, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			if all == (len(args) > 0) {
				return usageError{errors.New("name the customers to invite, or give --all")}
			}
			if status != "" && !all {
				return usageError{errors.New("--status goes with --all")}
			}
			o, err := app.Organization(ctx)
			if err != nil {
				return err
			}
			actor, err := app.Staff(ctx, o, as)
			if err != nil {
				return err
			}
			w, err := app.Worker(app.Logger())
			if err != nil {
				return err
			}
			svc := app.Service()
			svc.Mail = w
			if all {
				return inviteAll(ctx, app, svc, o, actor, status)
			}
			return inviteSome(ctx, app, svc, o, actor, args)
		}),
	}
	cmd.Flags().StringVar(&as, "as", "", "staff member acting (default: the organization's first owner)")
	cmd.Flags().BoolVar(&all, "all", false, "invite every eligible customer")
	cmd.Flags().StringVar(&status, "status", "", "with --all: not-invited or expired (default: both)")
	markNoEnv(cmd.Flags(), "all", "status")
	return cmd
}

// resolveCustomer finds a customer by id or email within the organization.
func resolveCustomer(ctx context.Context, app *App, o *store.Org, arg string) (*store.Customer, error) {
	if id, err := strconv.ParseInt(arg, 10, 64); err == nil {
		return app.DB.Customer(ctx, o.ID, id)
	}
	if !strings.Contains(arg, "@") {
		return nil, store.Errorf(store.EINVALID, "%q is neither an email address nor a customer id; find them with `frontdesk customers list --search %s`", arg, arg)
	}
	return app.DB.CustomerByEmail(ctx, o.ID, arg)
}

// cliWords are the invite flow's words on the command line.
func cliWords(o *store.Org) claim.Words {
	return claim.Words{Place: claim.AtCommandLine, Dash: " — ", Loc: o.Location()}
}

// inviteSome invites the named customers, one line each: "Jane Doe: Invite
// sent to …", "Bo Chen: has no email address — fix the email first.".
func inviteSome(ctx context.Context, app *App, svc *claim.Service, o *store.Org, actor *store.Staff, args []string) error {
	words := cliWords(o)
	failed := 0
	var ids []int64
	var cs []*store.Customer
	names := map[int64]string{}
	for _, arg := range args {
		c, err := resolveCustomer(ctx, app, o, arg)
		if err != nil {
			// The sentence names the email or id already.
			fmt.Fprintln(app.Stdout, inert.String(errorText(err)))
			failed++
			continue
		}
		ids = append(ids, c.ID)
		cs = append(cs, c)
		names[c.ID] = c.Name()
	}
	warnAddresses(ctx, app, svc, cs)
	outs, err := svc.Send(ctx, actor, ids, claim.SendOptions{})
	for i := range outs {
		o := &outs[i]
		text := words.Outcome(o)
		if o.Result == claim.Refused {
			text = words.Reason(o.Refusal)
		}
		fmt.Fprintf(app.Stdout, "%s: %s\n", inert.String(names[o.CustomerID]), inert.String(text))
		if o.Result == claim.Refused || o.Result == claim.Failed {
			failed++
		}
	}
	var refusal *claim.Refusal
	switch {
	case errors.As(err, &refusal):
		// Not about a customer: the acting staff member may not send.
		return store.Errorf(store.EUNAUTHORIZED, "%s", words.Refusal(refusal))
	case err != nil:
		return fmt.Errorf("stopped after %d of %s: %w", len(outs), format.Count(len(ids), "customer"), stoppedText(err))
	case ctx.Err() != nil:
		return errors.New("interrupted: invites not sent stay queued; frontdesk serve, or the next invite or tui, sends them")
	case failed > 0:
		return store.Errorf(store.EINVALID, "%d of %s not invited", failed, format.Count(len(args), "customer"))
	}
	return nil
}

// checkParallel bounds the address checks under way at once.
const checkParallel = 8

// warnAddresses prints to stderr what the email check (the TUI's) finds in
// the addresses the invites go to: a likely typo, a domain that receives no
// email, DNS that could not say. Warnings only: the invites go regardless,
// as from the TUI's confirmation. The lookups run side by side, so the
// wait is at most one DNS timeout.
func warnAddresses(ctx context.Context, app *App, svc *claim.Service, cs []*store.Customer) {
	checks := make([]claim.AddressCheck, len(cs))
	sem := make(chan struct{}, checkParallel)
	var wg sync.WaitGroup
	for i, c := range cs {
		if c.Email == "" || !c.ClaimedAt.IsZero() {
			continue // refused anyway: nothing goes to the address
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			checks[i] = svc.CheckAddress(ctx, c.Email)
		}()
	}
	wg.Wait()
	for i, a := range checks {
		for _, w := range a.Warnings() {
			fmt.Fprintf(app.Stderr, "warning: %s: %s\n", inert.String(cs[i].Name()), inert.String(w))
		}
	}
}

// stoppedText words why a run stopped; a signal (the cancelled context) is
// named as such.
func stoppedText(err error) error {
	if errors.Is(err, context.Canceled) {
		return errors.New("interrupted")
	}
	return err
}

// inviteAll invites every customer waiting for an invite: one query picks
// them, one call sends, and the tally names who was skipped and why.
func inviteAll(ctx context.Context, app *App, svc *claim.Service, o *store.Org, actor *store.Staff, status string) error {
	statuses := []store.Status{store.StatusNotInvited, store.StatusExpired}
	if status != "" {
		st, err := store.ParseStatus(status)
		if err != nil || (st != store.StatusNotInvited && st != store.StatusExpired) {
			return usageError{fmt.Errorf("--status %q: use not-invited or expired", status)}
		}
		statuses = []store.Status{st}
	}
	ids, err := app.DB.CustomerIDs(ctx, o.ID, statuses...)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		fmt.Fprintln(app.Stdout, "Nobody to invite: no customer is waiting for an invite.")
		return nil
	}
	issuing, sending := newProgress(app.Stderr, "Queueing invites"), newProgress(app.Stderr, "Sending")
	outs, err := svc.Send(ctx, actor, ids, claim.SendOptions{Progress: func(p claim.Progress) {
		if p.Phase == claim.Issuing {
			issuing.Update(p.Done, p.Total)
			return
		}
		issuing.Done(true) // delivering: something was issued
		sending.Update(p.Done, p.Total)
	}})
	var issued, delivered bool
	for i := range outs {
		issued = issued || outs[i].Result != claim.Refused
		delivered = delivered || outs[i].Result == claim.Delivered
	}
	issuing.Done(issued)
	sending.Done(delivered)
	var refusal *claim.Refusal
	if errors.As(err, &refusal) {
		return store.Errorf(store.EUNAUTHORIZED, "%s", cliWords(o).Refusal(refusal))
	}
	if err != nil && len(outs) == 0 {
		return err
	}
	return printTally(app, cliWords(o), outs, err)
}

// printTally is a bulk run's summary: how many went, what holds the rest,
// and every customer skipped, grouped by the reason.
func printTally(app *App, words claim.Words, outs []claim.Outcome, stopped error) error {
	var sent, queued, failed int
	lastWhy := ""
	skipped := map[claim.Reason][]string{}
	var reasons []claim.Reason
	for i := range outs {
		switch o := &outs[i]; o.Result {
		case claim.Delivered:
			sent++
		case claim.Queued:
			queued++
			lastWhy = o.Why
		case claim.Failed:
			failed++
		case claim.Refused:
			if _, ok := skipped[o.Refusal.Reason]; !ok {
				reasons = append(reasons, o.Refusal.Reason)
			}
			who := o.Refusal.Who
			if who == "" {
				who = fmt.Sprintf("customer %d", o.CustomerID)
			}
			skipped[o.Refusal.Reason] = append(skipped[o.Refusal.Reason], who)
		}
	}
	fmt.Fprintf(app.Stdout, "Invites: %d sent, %d queued for retry, %d failed, %d skipped.\n", sent, queued, failed, len(outs)-sent-queued-failed)
	if queued > 0 {
		fmt.Fprintf(app.Stdout, "Queued because: %s. The outbox worker retries them.\n", inert.String(strings.TrimSuffix(lastWhy, ".")))
	}
	for _, r := range reasons {
		fmt.Fprintf(app.Stdout, "  skipped %d, %s: %s\n", len(skipped[r]), r.Label(), inert.String(strings.Join(skipped[r], ", ")))
	}
	if stopped != nil {
		return fmt.Errorf("stopped after %s; what was queued goes out with the next worker: %w", format.Count(len(outs), "customer"), stoppedText(stopped))
	}
	if failed > 0 {
		return store.Errorf(store.EINVALID, "the mail server refused %s; `frontdesk outbox list` shows why", format.Count(failed, "invite"))
	}
	return nil
}
