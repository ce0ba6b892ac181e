package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"frontdesk/claim"
	"frontdesk/store"
	"frontdesk/store/format"
	"frontdesk/tui/inert"
)

func newInviteCmd(app *App) *cobra.Command {
	var as string
	var all, asJSON bool
	var bulk inviteAllOptions
	cmd := &cobra.Command{
		Use:   "invite CUSTOMER... [--as EMAIL] | invite --all [--status not-invited|expired|failed] [--dry-run] [--yes]",
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
whose invite expired; --status picks one of them, or failed: those whose
last invite could not be delivered to the address they still have (send
again once the mailbox or the mail server is fixed). A customer whose email
was changed since is not invited again, so --all reaches them anyway.

On a terminal --all first asks, saying how many and who (a sample); --yes
sends without asking, and without a terminal --yes is required: a script
that mails the whole roster says so. --dry-run says who would get an invite
and who would be skipped and why, and sends and writes nothing.

--json prints, instead of these lines, a JSON array with one object per
customer: the outcome (sent, queued, failed, refused), the reason code of a
refusal, the mail server's reply or error, the next attempt and the link's
expiry (the README's "JSON output" lists the fields). The exit status is the
same.`,
		RunE: withExistingDB(app, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			if all == (len(args) > 0) {
				return usageError{errors.New("name the customers to invite, or give --all")}
			}
			for _, f := range []string{"status", "dry-run", "yes"} {
				if cmd.Flags().Changed(f) && !all {
					return usageError{fmt.Errorf("--%s goes with --all", f)}
				}
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
				if asJSON && bulk.dryRun {
					return usageError{errors.New("--dry-run says in sentences who would get an invite; leave out --json")}
				}
				return inviteAll(ctx, app, svc, o, actor, bulk, asJSON)
			}
			return inviteSome(ctx, app, svc, o, actor, args, asJSON)
		}),
	}
	cmd.Flags().StringVar(&as, "as", "", "staff member acting (default: the organization's first owner)")
	cmd.Flags().BoolVar(&all, "all", false, "invite every eligible customer")
	cmd.Flags().StringVar(&bulk.status, "status", "", "with --all: not-invited, expired or failed (default: not-invited and expired)")
	cmd.Flags().BoolVar(&bulk.dryRun, "dry-run", false, "with --all: say who would get an invite and who would be skipped, and send nothing")
	cmd.Flags().BoolVar(&bulk.yes, "yes", false, "with --all: send without asking (required without a terminal)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per customer with the outcome, instead of sentences")
	// Never from the environment: FRONTDESK_YES would answer every
	// question of every run for whoever set it.
	markNoEnv(cmd.Flags(), "all", "status", "dry-run", "yes", "json")
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
func inviteSome(ctx context.Context, app *App, svc *claim.Service, o *store.Org, actor *store.Staff, args []string, asJSON bool) error {
	words := cliWords(o)
	failed := 0
	var ids []int64
	var cs []*store.Customer
	names := map[int64]string{}
	// With --json, one element per argument, in their order: the customer
	// it named, or why it named nobody.
	var slots []inviteJSON
	for _, arg := range args {
		c, err := resolveCustomer(ctx, app, o, arg)
		if err != nil {
			if asJSON {
				slots = append(slots, inviteJSON{Result: resultWords[claim.Refused], Reason: "not_found", Message: errorText(err)})
			} else {
				// The sentence names the email or id already.
				fmt.Fprintln(app.Stdout, inert.String(errorText(err)))
			}
			failed++
			continue
		}
		ids = append(ids, c.ID)
		cs = append(cs, c)
		names[c.ID] = c.Name()
		slots = append(slots, inviteJSON{CustomerID: &c.ID})
	}
	warnAddresses(ctx, app, svc, cs)
	outs, err := svc.Send(ctx, actor, ids, claim.SendOptions{})
	if asJSON {
		byID := map[int64]*claim.Outcome{}
		for i := range outs {
			byID[outs[i].CustomerID] = &outs[i]
		}
		customers := map[int64]*store.Customer{}
		for _, c := range cs {
			customers[c.ID] = c
		}
		list := newJSONList(app.Stdout)
		for _, j := range slots {
			if j.CustomerID != nil {
				oc := byID[*j.CustomerID]
				if oc == nil {
					continue // not reached: the run stopped first (the error says so)
				}
				j = inviteElement(ctx, app, o, oc, customers[oc.CustomerID])
			}
			if jerr := list.Add(j); jerr != nil {
				return jerr
			}
		}
		if jerr := list.Close(); jerr != nil {
			return jerr
		}
	}
	for i := range outs {
		o := &outs[i]
		if !asJSON {
			text := words.Outcome(o)
			if o.Result == claim.Refused {
				text = words.Reason(o.Refusal)
			}
			fmt.Fprintf(app.Stdout, "%s: %s\n", inert.String(names[o.CustomerID]), inert.String(text))
		}
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

// inviteAllOptions are invite --all's flags.
type inviteAllOptions struct {
	status      string
	dryRun, yes bool
}

// sampleSize is how many names the question of invite --all shows.
const sampleSize = 5

// inviteAll invites every customer waiting for an invite: one query picks
// them, claim.CanInvite (the rule Send applies again as it goes) sorts them
// into who gets one and who is skipped and why, the person confirms, one
// call sends, and the tally names who was skipped and why.
func inviteAll(ctx context.Context, app *App, svc *claim.Service, o *store.Org, actor *store.Staff, opt inviteAllOptions, asJSON bool) error {
	statuses := []store.Status{store.StatusNotInvited, store.StatusExpired}
	if opt.status != "" {
		st, err := store.ParseStatus(opt.status)
		if err != nil || (st != store.StatusNotInvited && st != store.StatusExpired && st != store.StatusFailed) {
			return usageError{fmt.Errorf("--status %q: use not-invited, expired or failed", opt.status)}
		}
		statuses = []store.Status{st}
	}
	ids, err := app.DB.CustomerIDs(ctx, o.ID, "", statuses...)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		if asJSON {
			return newJSONList(app.Stdout).Close()
		}
		fmt.Fprintln(app.Stdout, "Nobody to invite: no customer is waiting for an invite.")
		return nil
	}
	words := cliWords(o)
	cs, err := app.DB.CustomersByID(ctx, o.ID, ids)
	if err != nil {
		return err
	}
	byID := make(map[int64]*store.Customer, len(cs))
	for _, c := range cs {
		byID[c.ID] = c
	}
	var will []*store.Customer
	var skipped skipGroups
	for _, id := range ids {
		c := byID[id]
		if c == nil {
			skipped.add(claim.ReasonGone, fmt.Sprintf("customer %d", id))
			continue
		}
		if r := claim.CanInvite(actor, o, c); r != nil {
			if r.Who == "" {
				// Not about this customer (the acting staff member may
				// not send; the organization turned email off): about all.
				code := store.EINVALID
				if r.Reason == claim.ReasonForbidden {
					code = store.EUNAUTHORIZED
				}
				return store.Errorf(code, "%s", words.Refusal(r))
			}
			skipped.add(r.Reason, r.Who)
			continue
		}
		will = append(will, c)
	}
	expiry := format.Expiry(svc.ExpiryFor(o), o.Location())
	if opt.dryRun {
		fmt.Fprintf(app.Stdout, "Dry run: %s would get an invite (links expiring %s); nothing was sent.\n", format.Count(len(will), "customer"), expiry)
		for _, c := range will {
			fmt.Fprintf(app.Stdout, "  %s <%s>\n", inert.String(c.Name()), inert.String(c.Email))
		}
		skipped.print(app.Stdout)
		return nil
	}
	if len(will) > 0 && !opt.yes {
		if err := confirmInviteAll(ctx, app, o, will, skipped.count(), expiry); err != nil {
			return err
		}
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
		return store.Errorf(store.EUNAUTHORIZED, "%s", words.Refusal(refusal))
	}
	if err != nil && len(outs) == 0 {
		return err
	}
	if asJSON {
		list := newJSONList(app.Stdout)
		for i := range outs {
			if jerr := list.Add(inviteElement(ctx, app, o, &outs[i], byID[outs[i].CustomerID])); jerr != nil {
				return jerr
			}
		}
		if jerr := list.Close(); jerr != nil {
			return jerr
		}
		return tallyError(outs, err)
	}
	return printTally(app, words, outs, err)
}

// confirmInviteAll asks the person at the terminal whether to send: how
// many, a sample of who, when the links expire, how many are skipped.
// Without a terminal it refuses: invites to the whole roster cannot be
// called back, and a script (or a mistyped cron line meant as --dry-run)
// that sends them should say so with --yes.
func confirmInviteAll(ctx context.Context, app *App, o *store.Org, will []*store.Customer, skipped int, expiry string) error {
	if !stdinIsTerminal(app) {
		return usageError{fmt.Errorf("invite --all would invite %s, and there is no terminal to ask on; add --yes to send them, or --dry-run to see who would get one", format.Count(len(will), "customer"))}
	}
	names := make([]string, 0, sampleSize)
	for _, c := range will[:min(sampleSize, len(will))] {
		names = append(names, inert.String(c.Name()))
	}
	sample := strings.Join(names, ", ")
	if more := len(will) - len(names); more > 0 {
		sample += fmt.Sprintf(" and %d more", more)
	}
	q := fmt.Sprintf("Invite %s of %s (%s)? Links expire %s.", format.Count(len(will), "customer"), inert.String(o.Name), sample, expiry)
	if skipped > 0 {
		q += fmt.Sprintf(" Skipping %s (--dry-run says who and why).", format.Count(skipped, "customer"))
	}
	fmt.Fprintf(app.Stderr, "%s [y/N] ", q)
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(app.Stdin).ReadString('\n')
		answer <- line
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(app.Stderr)
		return errors.New("interrupted; no invites sent")
	case a := <-answer:
		switch strings.ToLower(strings.TrimSpace(a)) {
		case "y", "yes":
			return nil
		}
	}
	return errors.New("no invites sent")
}

// stdinIsTerminal is whether a person can answer a question on stdin.
func stdinIsTerminal(app *App) bool {
	f, ok := app.Stdin.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// skipGroups are the customers a bulk run skips, grouped by the typed
// reason (never by sentences), in the order the reasons first came up.
type skipGroups struct {
	order []claim.Reason
	who   map[claim.Reason][]string
}

func (g *skipGroups) add(r claim.Reason, who string) {
	if g.who == nil {
		g.who = map[claim.Reason][]string{}
	}
	if _, ok := g.who[r]; !ok {
		g.order = append(g.order, r)
	}
	g.who[r] = append(g.who[r], who)
}

func (g *skipGroups) count() int {
	n := 0
	for _, w := range g.who {
		n += len(w)
	}
	return n
}

// print writes one line per reason, naming every customer: "  skipped 2,
// no email: Bo Chen, Cy Dee".
func (g *skipGroups) print(w io.Writer) {
	for _, r := range g.order {
		fmt.Fprintf(w, "  skipped %d, %s: %s\n", len(g.who[r]), r.Label(), inert.String(strings.Join(g.who[r], ", ")))
	}
}

// printTally is a bulk run's summary: how many went, what holds the rest,
// and every customer skipped, grouped by the reason.
func printTally(app *App, words claim.Words, outs []claim.Outcome, stopped error) error {
	var sent, queued, failed int
	lastWhy := ""
	var skipped skipGroups
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
			who := o.Refusal.Who
			if who == "" {
				who = fmt.Sprintf("customer %d", o.CustomerID)
			}
			skipped.add(o.Refusal.Reason, who)
		}
	}
	fmt.Fprintf(app.Stdout, "Invites: %d sent, %d queued for retry, %d failed, %d skipped.\n", sent, queued, failed, len(outs)-sent-queued-failed)
	if queued > 0 {
		fmt.Fprintf(app.Stdout, "Queued because: %s. The outbox worker retries them.\n", inert.String(strings.TrimSuffix(lastWhy, ".")))
	}
	skipped.print(app.Stdout)
	return tallyError(outs, stopped)
}

// tallyError is a bulk run's exit: an error when it stopped early or the
// mail server refused an invite for good.
func tallyError(outs []claim.Outcome, stopped error) error {
	if stopped != nil {
		return fmt.Errorf("stopped after %s; what was queued goes out with the next worker: %w", format.Count(len(outs), "customer"), stoppedText(stopped))
	}
	failed := 0
	for i := range outs {
		if outs[i].Result == claim.Failed {
			failed++
		}
	}
	if failed > 0 {
		return store.Errorf(store.EINVALID, "the mail server refused %s; `frontdesk outbox list` shows why", format.Count(failed, "invite"))
	}
	return nil
}
