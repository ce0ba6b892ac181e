package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"frontdesk/claim"
	"frontdesk/store"
	"frontdesk/tui/inert"
)

// customerFlags are the values of `customers add` and `customers set`.
type customerFlags struct {
	first, last, email, phone string
	fields                    []string // NAME=VALUE
	as                        string
	asJSON                    bool
}

func (cf *customerFlags) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&cf.first, "first-name", "", "first name")
	f.StringVar(&cf.last, "last-name", "", "last name")
	f.StringVar(&cf.email, "email", "", "email address (\"\" removes it)")
	f.StringVar(&cf.phone, "phone", "", "phone number")
	f.StringArrayVar(&cf.fields, "field", nil, `a custom field's value, NAME=VALUE (again for another field; "NAME=" clears it)`)
	bindActing(cmd, &cf.as, &cf.asJSON)
	markNoEnv(f, "first-name", "last-name", "email", "phone", "field")
}

// bindActing adds --as (like invite) and --json.
func bindActing(cmd *cobra.Command, as *string, asJSON *bool) {
	cmd.Flags().StringVar(as, "as", "", "staff member acting (default: the organization's first owner)")
	cmd.Flags().BoolVar(asJSON, "json", false, "print the customer as JSON (the sentence goes to stderr)")
	markNoEnv(cmd.Flags(), "json")
}

// parseFields reads --field NAME=VALUE flags.
func parseFields(flags []string) ([]store.Field, error) {
	var out []store.Field
	for _, f := range flags {
		name, value, ok := strings.Cut(f, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, usageError{fmt.Errorf("--field %q: give NAME=VALUE, such as --field \"Membership level=Gold\"", f)}
		}
		out = append(out, store.Field{Name: name, Value: value})
	}
	return out, nil
}

// flagOf names the flag a claim.FieldErrors key came from.
func flagOf(key string, fields []store.Field) string {
	switch key {
	case claim.KeyFirstName:
		return "--first-name"
	case claim.KeyLastName:
		return "--last-name"
	case claim.KeyEmail:
		return "--email"
	case claim.KeyPhone:
		return "--phone"
	}
	for i, f := range fields {
		if claim.FieldKey(i) == key {
			return fmt.Sprintf("--field %q", f.Name)
		}
	}
	return "--field"
}

// refused turns what the invite service refused into the command's error:
// each value refused with its flag, a refusal in the command line's words.
func refused(err error, o *store.Org, fields []store.Field) error {
	var fe claim.FieldErrors
	var r *claim.Refusal
	switch {
	case errors.As(err, &fe):
		var parts []string
		for _, e := range fe {
			parts = append(parts, flagOf(e.Field, fields)+": "+e.Message)
		}
		return store.Errorf(store.EINVALID, "%s", strings.Join(parts, " "))
	case errors.As(err, &r):
		code := store.EINVALID
		if r.Reason == claim.ReasonForbidden {
			code = store.EUNAUTHORIZED
		}
		return store.Errorf(code, "%s", cliWords(o).Refusal(r))
	}
	return err
}

// customerDetailJSON is the --json of add, set, archive and restore: the
// customer as `customers list --json` shows one, with whether they are
// archived and their custom fields.
type customerDetailJSON struct {
	customerJSON
	Archived bool              `json:"archived"`
	Fields   map[string]string `json:"fields"`
}

// said prints what a command did: the sentence on stdout, or with --json
// the customer on stdout and the sentence on stderr.
func said(app *App, asJSON bool, c *store.Customer, sentence string) error {
	if !asJSON {
		fmt.Fprintln(app.Stdout, inert.String(sentence))
		return nil
	}
	fmt.Fprintln(app.Stderr, inert.String(sentence))
	fields := map[string]string{}
	for _, f := range c.Fields {
		fields[f.Name] = f.Value
	}
	enc := json.NewEncoder(app.Stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(customerDetailJSON{
		customerJSON: customerJSON{ID: c.ID, FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Phone: c.Phone, Status: string(c.Status),
			InviteSentAt: timePtr(c.InviteSentAt), InviteExpiresAt: timePtr(c.InviteExpiresAt), ClaimedAt: timePtr(c.ClaimedAt)},
		Archived: c.Archived, Fields: fields,
	})
}

// acting resolves the organization and the staff member a command acts as.
func acting(ctx context.Context, app *App, as string) (*store.Org, *store.Staff, error) {
	o, err := app.Organization(ctx)
	if err != nil {
		return nil, nil, err
	}
	actor, err := app.Staff(ctx, o, as)
	if err != nil {
		return nil, nil, err
	}
	return o, actor, nil
}

func newAddCustomerCmd(app *App) *cobra.Command {
	var cf customerFlags
	cmd := &cobra.Command{
		Use:   "add --first-name F --last-name L [--email E] [--phone P] [--field NAME=VALUE]... [--as EMAIL] [--json]",
		Short: "Add a customer (same rules as the TUI's customer form)",
		Long: `Add a customer to the roster, as a (the TUI's customer form) does at the desk.
A first or last name is needed; the email, when given, must be valid and not
another customer's (archived customers included); --field sets one of the
organization's custom fields (a CSV import declares them). The change is
audited as the staff member --as names (default: the first owner).`,
		Args: cobra.NoArgs,
		RunE: withDB(app, func(ctx context.Context, cmd *cobra.Command, _ []string) error {
			fields, err := parseFields(cf.fields)
			if err != nil {
				return err
			}
			o, actor, err := acting(ctx, app, cf.as)
			if err != nil {
				return err
			}
			c, err := app.Service().AddCustomer(ctx, actor, claim.CustomerValues{FirstName: cf.first, LastName: cf.last, Email: cf.email, Phone: cf.phone, Fields: fields})
			if err != nil {
				return refused(err, o, fields)
			}
			return said(app, cf.asJSON, c, cliWords(o).Added(c))
		}),
	}
	cf.bind(cmd)
	return cmd
}

func newSetCustomerCmd(app *App) *cobra.Command {
	var cf customerFlags
	cmd := &cobra.Command{
		Use:   "set ID|EMAIL [--first-name F] [--last-name L] [--email E] [--phone P] [--field NAME=VALUE]... [--as EMAIL] [--json]",
		Short: "Change a customer's details; only the flags given change",
		Long: `Change a customer's details, as E on a profile does at the desk: only the
values of the flags given change. A new email revokes the links sent to the
old one and, for a customer who has claimed their account (it is their
sign-in), sends a notice to both addresses; a claimed customer's email cannot
be removed. An archived customer is restored first (customers restore).`,
		Args: cobra.ExactArgs(1),
		RunE: withDB(app, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			fields, err := parseFields(cf.fields)
			if err != nil {
				return err
			}
			var ch claim.CustomerChange
			for _, v := range []struct {
				flag string
				dst  **string
				val  *string
			}{{"first-name", &ch.FirstName, &cf.first}, {"last-name", &ch.LastName, &cf.last}, {"email", &ch.Email, &cf.email}, {"phone", &ch.Phone, &cf.phone}} {
				if cmd.Flags().Changed(v.flag) {
					*v.dst = v.val
				}
			}
			ch.Fields = fields
			if ch.FirstName == nil && ch.LastName == nil && ch.Email == nil && ch.Phone == nil && len(fields) == 0 {
				return usageError{errors.New("customers set: give what to change: --first-name, --last-name, --email, --phone or --field")}
			}
			o, actor, err := acting(ctx, app, cf.as)
			if err != nil {
				return err
			}
			c, err := resolveCustomer(ctx, app, o, args[0])
			if err != nil {
				return err
			}
			svc := app.Service()
			edit, err := svc.UpdateCustomer(ctx, actor, c.ID, ch)
			if err != nil {
				return refused(err, o, fields)
			}
			c = edit.Customer
			if edit.Unchanged() {
				return said(app, cf.asJSON, c, fmt.Sprintf("Nothing to change: %s (id %d) already has these details.", c.Name(), c.ID))
			}
			var parts []string
			if len(edit.Changed) > 0 {
				parts = append(parts, fmt.Sprintf("Saved %s (id %d): %s.", c.Name(), c.ID, strings.Join(edit.Changed, ", ")))
			}
			if e := edit.Email; e != nil {
				parts = append(parts, emailChanged(ctx, app, svc, c, e))
			}
			return said(app, cf.asJSON, c, strings.Join(parts, " "))
		}),
	}
	cf.bind(cmd)
	return cmd
}

// emailChanged says what a new address did, delivering a claimed
// customer's notices first (one attempt; the outbox keeps what is left).
func emailChanged(ctx context.Context, app *App, svc *claim.Service, c *store.Customer, e *claim.EmailChange) string {
	t := fmt.Sprintf("Email of %s (id %d) changed to %s", c.Name(), c.ID, e.Email)
	if e.Email == "" {
		t = fmt.Sprintf("Email of %s (id %d) removed", c.Name(), c.ID)
	}
	if n := e.Revoked(); n > 0 {
		t += fmt.Sprintf("; %d outstanding link(s) stopped working", n)
	}
	t += "."
	if len(e.Notices) == 0 {
		return t
	}
	t += " They sign in with the new address; a notice of the change goes to both addresses"
	w, err := app.Worker(app.Logger())
	if err != nil {
		return t + " (queued: " + err.Error() + "; frontdesk serve sends it)."
	}
	svc.Mail = w
	outs, _, err := svc.DeliverNow(ctx, 0, e.Notices...)
	sent := 0
	for _, o := range outs {
		if o.Status == store.OutboxSent {
			sent++
		}
	}
	switch {
	case err != nil:
		return t + " (queued: " + err.Error() + "; frontdesk serve sends them)."
	case sent == len(e.Notices):
		return t + " (sent)."
	}
	return t + fmt.Sprintf(" (%d of %d sent; the outbox keeps trying the rest: frontdesk outbox list).", sent, len(e.Notices))
}

func newArchiveCustomerCmd(app *App) *cobra.Command {
	return oneCustomerCmd(app, "archive ID|EMAIL [--as EMAIL] [--json]",
		"Take a customer off the roster; their links stop working and they are signed out",
		`Archive a customer, as A on a profile does: they leave the roster (customers
list --archived lists them), every link they hold stops working, and they are
signed out of the customers' site and cannot sign in until restored. Nothing
is deleted: customers restore brings them back with their history.`,
		(*claim.Service).ArchiveCustomer,
		func(o *store.Org, a *claim.Archived) (*store.Customer, string) {
			return a.Customer, cliWords(o).Archived(a)
		})
}

func newRestoreCustomerCmd(app *App) *cobra.Command {
	return oneCustomerCmd(app, "restore ID|EMAIL [--as EMAIL] [--json]",
		"Bring an archived customer back to the roster, with their history",
		`Restore an archived customer, as R does in the TUI: back on the roster with
their bookings, payments, invites and account. Links that stopped working when
they were archived stay dead; send a new invite.`,
		(*claim.Service).RestoreCustomer,
		func(o *store.Org, r *claim.Restored) (*store.Customer, string) {
			return r.Customer, cliWords(o).Restored(r)
		})
}

// oneCustomerCmd is a command that does one thing to one customer, named by
// id or email, as a staff member (--as), saying what it did (or --json).
func oneCustomerCmd[R any](app *App, use, short, long string,
	act func(s *claim.Service, ctx context.Context, actor *store.Staff, customerID int64) (R, error),
	words func(o *store.Org, r R) (*store.Customer, string)) *cobra.Command {
	var as string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args:  cobra.ExactArgs(1),
		RunE: withDB(app, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			o, actor, err := acting(ctx, app, as)
			if err != nil {
				return err
			}
			c, err := resolveCustomer(ctx, app, o, args[0])
			if err != nil {
				return err
			}
			r, err := act(app.Service(), ctx, actor, c.ID)
			if err != nil {
				return refused(err, o, nil)
			}
			cust, sentence := words(o, r)
			return said(app, asJSON, cust, sentence)
		}),
	}
	bindActing(cmd, &as, &asJSON)
	return cmd
}
