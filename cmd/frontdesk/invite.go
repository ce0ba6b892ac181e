package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"frontdesk/claim"
	"frontdesk/mailer"
	"frontdesk/store"
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

  Jane Doe: sent to jane@example.com, link expires Mon 30 Nov 14:05 GMT
  Jane Doe: queued: <why the mail server is unreachable>; will retry
  Bo Chen: has no email address — fix the email first

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
			if all {
				return inviteAll(ctx, app, o, actor, w, status)
			}
			return inviteSome(ctx, app, o, actor, w, args)
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

// refusalText is a refusal with what to do about it.
func refusalText(err error) string {
	var r *claim.Refusal
	if errors.As(err, &r) {
		msg := strings.TrimSuffix(r.Message, ".")
		if h := r.Hint(); h != "" {
			msg += " — " + h
		}
		return msg
	}
	return errorText(err)
}

func inviteSome(ctx context.Context, app *App, o *store.Org, actor *store.Staff, w *mailer.Worker, args []string) error {
	svc := app.Service()
	failed := 0
	type queued struct {
		name string
		sent *claim.Sent
	}
	var pending []queued
	for _, arg := range args {
		c, err := resolveCustomer(ctx, app, o, arg)
		if err != nil {
			fmt.Fprintf(app.Stdout, "%s: %s\n", inert.String(arg), errorText(err))
			failed++
			continue
		}
		sent, err := svc.Invite(ctx, actor, c.ID)
		if err != nil {
			fmt.Fprintf(app.Stdout, "%s: %s\n", inert.String(c.Name()), inert.String(refusalText(err)))
			failed++
			continue
		}
		pending = append(pending, queued{c.Name(), sent})
	}
	if len(pending) > 0 {
		ids := make([]int64, len(pending))
		for i, p := range pending {
			ids[i] = p.sent.OutboxID
		}
		outcomes, err := w.Deliver(ctx, ids...)
		if err != nil {
			// Queued and committed: the invites exist and will go out.
			return fmt.Errorf("%d invite(s) queued but not delivered yet: %w", len(ids), stoppedText(err))
		}
		for i, out := range outcomes {
			p := pending[i]
			name := inert.String(p.name)
			expiry := claim.ExpiryText(p.sent.Invite.ExpiresAt, o.Location())
			switch out.Status {
			case store.OutboxSent:
				fmt.Fprintf(app.Stdout, "%s: sent to %s, link expires %s\n", name, inert.String(p.sent.Invite.Email), expiry)
				if p.sent.Superseded > 0 {
					fmt.Fprintf(app.Stdout, "%s: the earlier link no longer works\n", name)
				}
			case store.OutboxQueued:
				fmt.Fprintf(app.Stdout, "%s: queued: %s; will retry (link expires %s)\n", name, inert.String(orText(out.Err, "another worker is sending it")), expiry)
			default:
				fmt.Fprintf(app.Stdout, "%s: not delivered: %s — check the address; `frontdesk outbox retry %d` sends it again\n", name, inert.String(out.Err), out.ID)
				failed++
			}
		}
	}
	if ctx.Err() != nil {
		return errors.New("interrupted: invites not sent stay queued; frontdesk serve, or the next invite or tui, sends them")
	}
	if failed > 0 {
		return store.Errorf(store.EINVALID, "%d of %d customer(s) not invited", failed, len(args))
	}
	return nil
}

func countSent(outs []mailer.Outcome) int {
	n := 0
	for _, o := range outs {
		if o.Status == store.OutboxSent {
			n++
		}
	}
	return n
}

// stoppedText words why delivery stopped; a signal (the cancelled context)
// is named as such.
func stoppedText(err error) error {
	if errors.Is(err, context.Canceled) {
		return errors.New("interrupted")
	}
	return err
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func inviteAll(ctx context.Context, app *App, o *store.Org, actor *store.Staff, w *mailer.Worker, status string) error {
	statuses := []store.Status{store.StatusNotInvited, store.StatusExpired}
	if status != "" {
		st, err := store.ParseStatus(status)
		if err != nil || (st != store.StatusNotInvited && st != store.StatusExpired) {
			return usageError{fmt.Errorf("--status %q: use not-invited or expired", status)}
		}
		statuses = []store.Status{st}
	}
	if !actor.Role.CanManageCustomers() {
		return store.Errorf(store.EUNAUTHORIZED, "%s's role cannot manage customers; ask an owner or admin", actor.Email)
	}
	var ids []int64
	for _, st := range statuses {
		q := store.RosterQuery{Status: st, Limit: 1000}
		for {
			rows, err := app.DB.RosterPage(ctx, o.ID, q)
			if err != nil {
				return err
			}
			for _, r := range rows {
				ids = append(ids, r.ID)
			}
			if len(rows) < q.Limit {
				break
			}
			c := rows[len(rows)-1].Cursor()
			q.After = &c
		}
	}
	if len(ids) == 0 {
		fmt.Fprintln(app.Stdout, "Nobody to invite: no customer is waiting for an invite.")
		return nil
	}
	bar := newProgress(app.Stderr, "Queueing invites")
	results, err := app.Service().InviteMany(ctx, actor, ids, bar.Update)
	bar.Done()
	skipped := map[string]int{}
	var outbox []int64
	for _, r := range results {
		if r.Err != nil {
			var ref *claim.Refusal
			key := errorText(r.Err)
			if errors.As(r.Err, &ref) {
				key = string(ref.Reason)
			}
			skipped[key]++
			continue
		}
		outbox = append(outbox, r.Sent.OutboxID)
	}
	if err != nil {
		return fmt.Errorf("stopped after queueing %d invites: %w", len(outbox), err)
	}
	sent, queuedN, failed := 0, 0, 0
	lastErr := ""
	bar = newProgress(app.Stderr, "Sending")
	for start := 0; start < len(outbox); start += mailer.DefaultBatch {
		chunk := outbox[start:min(start+mailer.DefaultBatch, len(outbox))]
		outcomes, err := w.Deliver(ctx, chunk...)
		if err == nil && ctx.Err() != nil {
			err = ctx.Err()
		}
		if err != nil {
			bar.Done()
			return fmt.Errorf("queued %d invites; delivery stopped after %d sent (the rest stay queued and go out with the next worker): %w", len(outbox), sent+countSent(outcomes), stoppedText(err))
		}
		for _, out := range outcomes {
			switch out.Status {
			case store.OutboxSent:
				sent++
			case store.OutboxQueued:
				queuedN++
				lastErr = out.Err
			default:
				failed++
			}
		}
		bar.Update(start+len(chunk), len(outbox))
	}
	bar.Done()
	fmt.Fprintf(app.Stdout, "Invites: %d sent, %d queued for retry, %d failed, %d skipped.\n", sent, queuedN, failed, len(results)-len(outbox))
	if queuedN > 0 {
		fmt.Fprintf(app.Stdout, "Queued because: %s. They will be retried by the outbox worker.\n", inert.String(lastErr))
	}
	reasons := make([]string, 0, len(skipped))
	for k := range skipped {
		reasons = append(reasons, k)
	}
	sort.Strings(reasons)
	for _, k := range reasons {
		fmt.Fprintf(app.Stdout, "  skipped %d: %s\n", skipped[k], skipWords(k))
	}
	if failed > 0 {
		return store.Errorf(store.EINVALID, "%d invite(s) were refused by the mail server; `frontdesk outbox list` shows why", failed)
	}
	return nil
}

// skipWords names a skip reason for the bulk summary.
func skipWords(reason string) string {
	switch claim.Reason(reason) {
	case claim.ReasonNoEmail:
		return "no email address"
	case claim.ReasonInvalidEmail:
		return "invalid email address (fix it first)"
	case claim.ReasonClaimed:
		return "already claimed"
	case claim.ReasonArchived:
		return "archived"
	case claim.ReasonNotificationsOff:
		return "email notifications are off for the organization"
	case claim.ReasonForbidden:
		return "not allowed"
	}
	return reason
}
