package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"frontdesk/store"
	"frontdesk/store/brand"
	"frontdesk/store/format"
	"frontdesk/tui/inert"
)

func newOrgCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "org", Short: "Create, change and list organizations"}
	cmd.AddCommand(newOrgAddCmd(app), newOrgSetCmd(app), newOrgListCmd(app), newOrgFieldCmd(app))
	return cmd
}

func newOrgAddCmd(app *App) *cobra.Command {
	var name, slug string
	cmd := &cobra.Command{
		Use:   "add --name NAME [--slug SLUG]",
		Short: "Create an organization",
		Args:  cobra.NoArgs,
		RunE: withDB(app, func(ctx context.Context, cmd *cobra.Command, _ []string) error {
			o := &store.Org{Name: name, Slug: slug, Notifications: true}
			err := app.DB.Tx(ctx, func(tx *store.Tx) error {
				if err := tx.CreateOrg(ctx, o); err != nil {
					return err
				}
				return tx.Audit(ctx, o.ID, app.Actor(), "org.add", 0, fmt.Sprintf("created %q (%s)", o.Name, o.Slug))
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(app.Stdout, "Created organization %s (slug %s).\nNext: add an owner with `frontdesk staff add --org %s --role owner --email EMAIL --name NAME`.\n", o.Name, o.Slug, o.Slug)
			return nil
		}),
	}
	cmd.Flags().StringVar(&name, "name", "", "the organization's name, as customers see it in emails (required)")
	cmd.Flags().StringVar(&slug, "slug", "", "short identifier for --org (default: made from the name)")
	cmd.MarkFlagRequired("name")
	markNoEnv(cmd.Flags(), "name", "slug")
	return cmd
}

func newOrgSetCmd(app *App) *cobra.Command {
	var (
		name, walkthrough, payments, tz, notifications, replyTo, remind, country string
		ttl                                                                      time.Duration
		minPw                                                                    int
		logoFile, accent                                                         string
	)
	cmd := &cobra.Command{
		Use:   "set [--org SLUG] [--name N] [--invite-ttl D] [--walkthrough-url U] [--payments-url U] [--reply-to E] [--time-zone Z] [--min-password-length N] [--notifications on|off] [--remind-after D|off] [--country CC] [--logo FILE|none] [--accent '#RRGGBB'|none]",
		Short: "Change an organization's settings",
		Long: `Change an organization's settings. Only the flags you give change; the
environment does not supply these (FRONTDESK_INVITE_TTL configures a process's
override, not the organization's stored lifetime).

--remind-after D sends one reminder for an invite not claimed D after it went
(3d, 36h, 1d12h; at least 1h and shorter than the invite lifetime), while its
link still works for an hour more: a fresh link that replaces the first and
expires when it did. frontdesk serve sends them. off (the default) sends none.

--country CC is where the organization is, an ISO 3166 code (DE, GB, US; ""
for none). Phone numbers written without a +code are read as that country's,
so that a search finds "0151 62185557" by "+49 151 62185557" and the other way
round. Changing it re-reads every customer's number in one transaction, which
holds other writes meanwhile: about 7 s of CPU per 100,000 customers (on
PostgreSQL about 20 s, most of it the server's).

--logo FILE and --accent '#RRGGBB' brand the customers' pages and emails.
The logo is a PNG or JPEG (SVG is refused: it can carry scripts) of at most
256 KiB and 1024 pixels a side; it is stored re-encoded, so only the picture
is kept. The accent colours buttons and links and must have a contrast of
4.5:1 (WCAG AA) with white and with the page background; a colour that does
not is refused with its ratio. none removes either.`,
		Args: cobra.NoArgs,
		RunE: withExistingDB(app, func(ctx context.Context, cmd *cobra.Command, _ []string) error {
			o, err := app.Organization(ctx)
			if err != nil {
				return err
			}
			f := cmd.Flags()
			var changed []string
			set := func(flag string, apply func()) {
				if f.Changed(flag) {
					apply()
					changed = append(changed, flag)
				}
			}
			// A value out of range is a mistake in the command line (0
			// included: for a new organization the store reads it as
			// "the default", which here would change nothing and say
			// nothing). The ranges are the store's.
			if f.Changed("invite-ttl") {
				if err := store.CheckInviteTTL(ttl); err != nil {
					return usageError{fmt.Errorf("--invite-ttl: %s", store.ErrorMessage(err))}
				}
			}
			if f.Changed("min-password-length") {
				if err := store.CheckMinPasswordLength(minPw); err != nil {
					return usageError{fmt.Errorf("--min-password-length: %s", store.ErrorMessage(err))}
				}
			}
			set("name", func() { o.Name = name })
			set("invite-ttl", func() { o.InviteTTL = ttl })
			set("walkthrough-url", func() { o.WalkthroughURL = walkthrough })
			set("payments-url", func() { o.PaymentsURL = payments })
			set("reply-to", func() { o.ReplyTo = replyTo })
			set("time-zone", func() { o.TimeZone = tz })
			set("min-password-length", func() { o.MinPasswordLength = minPw })
			set("country", func() { o.Country = country })
			if f.Changed("remind-after") {
				d, err := parseRemindAfter(remind)
				if err != nil {
					return usageError{err}
				}
				o.RemindAfter = d
				changed = append(changed, "remind-after")
			}
			var logo *brand.Logo
			if f.Changed("logo") {
				if logo, err = readLogo(logoFile); err != nil {
					return err
				}
				changed = append(changed, "logo")
			}
			if f.Changed("accent") {
				o.Accent = accent
				if strings.EqualFold(strings.TrimSpace(accent), "none") {
					o.Accent = ""
				}
				changed = append(changed, "accent")
			}
			if f.Changed("notifications") {
				switch notifications {
				case "on":
					o.Notifications = true
				case "off":
					o.Notifications = false
				default:
					return usageError{fmt.Errorf("--notifications %q: use on or off", notifications)}
				}
				changed = append(changed, "notifications")
			}
			if len(changed) == 0 {
				return usageError{fmt.Errorf("nothing to change; give at least one setting, e.g. --walkthrough-url URL")}
			}
			err = app.DB.Tx(ctx, func(tx *store.Tx) error {
				if err := tx.UpdateOrg(ctx, o); err != nil {
					return err
				}
				detail := fmt.Sprintf("changed %v", changed)
				if f.Changed("logo") {
					if err := tx.SetOrgLogo(ctx, o, logo); err != nil {
						return err
					}
					detail += "; " + logoText(o)
				}
				if f.Changed("accent") {
					detail += "; accent " + orNone(o.Accent)
				}
				return tx.Audit(ctx, o.ID, app.Actor(), "org.set", 0, detail)
			})
			if err != nil {
				return err
			}
			printOrg(app, o)
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "new name")
	durationVar(f, &ttl, "invite-ttl", 0, "how long invite links work (e.g. 7d; 1h to 90d)")
	f.StringVar(&walkthrough, "walkthrough-url", "", "walk-through video link put in invite emails (empty removes it)")
	f.StringVar(&payments, "payments-url", "", "where customers manage payment methods (empty removes it)")
	f.StringVar(&replyTo, "reply-to", "", "address customers' replies to invite emails go to")
	f.StringVar(&tz, "time-zone", "", "IANA time zone for dates in emails (e.g. Europe/London)")
	f.IntVar(&minPw, "min-password-length", 0, "minimum customer password length (8 to 64; 15 recommended)")
	f.StringVar(&notifications, "notifications", "", "email notifications on or off (off: no invites can be sent)")
	f.StringVar(&remind, "remind-after", "", "send one reminder for an invite not claimed after this long (e.g. 3d; 1h up to the invite lifetime), or off")
	f.StringVar(&country, "country", "", `the organization's country, an ISO 3166 code (e.g. DE, GB; "" for none): how phone numbers without a +code are read`)
	f.StringVar(&logoFile, "logo", "", "logo on the customers' pages and emails: a PNG or JPEG file (at most 256 KiB, 1024 px a side), or none")
	f.StringVar(&accent, "accent", "", "accent colour of buttons and links, e.g. '#1f5fbf' (contrast 4.5:1 with white required), or none")
	markNoEnv(f, "name", "invite-ttl", "walkthrough-url", "payments-url", "reply-to", "time-zone", "min-password-length", "notifications", "remind-after", "country")
	markNoEnv(f, "logo", "accent")
	return cmd
}

// parseRemindAfter reads --remind-after: a duration (days allowed), or off.
// The range is the organization's rule (store.Org.Validate).
func parseRemindAfter(v string) (time.Duration, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "off", "0":
		return 0, nil
	}
	d, err := format.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("--remind-after: %v, or off", err)
	}
	return d, nil
}

// remindAfterText is the reminder setting as org list and org set print it.
func remindAfterText(o *store.Org) string {
	if o.RemindAfter <= 0 {
		return "off"
	}
	return format.DurationWords(o.RemindAfter)
}

func printOrg(app *App, o *store.Org) {
	onOff := map[bool]string{true: "on", false: "off"}
	tw := newTable(app.Stdout)
	// Stored text goes to the operator's terminal inert: a name or URL saved
	// before the text rule (or by hand) may hold an escape sequence.
	tw.Row("name", inert.String(o.Name))
	tw.Row("slug", inert.String(o.Slug))
	tw.Row("invite lifetime", format.DurationWords(o.InviteTTL))
	tw.Row("walk-through URL", inert.String(o.WalkthroughURL))
	tw.Row("payments URL", inert.String(o.PaymentsURL))
	tw.Row("reply-to", inert.String(o.ReplyTo))
	tw.Row("time zone", inert.String(o.TimeZone))
	tw.Row("min password length", strconv.Itoa(o.MinPasswordLength))
	tw.Row("notifications", onOff[o.Notifications])
	tw.Row("remind after", remindAfterText(o))
	tw.Row("country", inert.String(orNone(o.Country)))
	tw.Row("logo", logoText(o))
	tw.Row("accent", orNone(o.Accent))
	tw.Flush()
}

func newOrgListCmd(app *App) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List organizations",
		Args:  cobra.NoArgs,
		RunE: withExistingDB(app, func(ctx context.Context, cmd *cobra.Command, _ []string) error {
			orgs, err := app.DB.Orgs(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				list := newJSONList(app.Stdout)
				for _, o := range orgs {
					total, err := rosterTotal(ctx, app, o)
					if err != nil {
						return err
					}
					if err := list.Add(newOrgJSON(o, total)); err != nil {
						return err
					}
				}
				return list.Close()
			}
			if len(orgs) == 0 {
				fmt.Fprintln(app.Stdout, "No organizations yet. Create one with `frontdesk org add --name NAME`, or `frontdesk demo`.")
				return nil
			}
			tw := newTable(app.Stdout, "SLUG", "NAME", "CUSTOMERS", "INVITE TTL", "TIME ZONE", "NOTIFICATIONS", "REMIND AFTER")
			for _, o := range orgs {
				total, err := rosterTotal(ctx, app, o)
				if err != nil {
					return err
				}
				tw.Row(inert.String(o.Slug), inert.String(o.Name), strconv.Itoa(total), format.DurationWords(o.InviteTTL), inert.String(o.TimeZone),
					map[bool]string{true: "on", false: "off"}[o.Notifications], remindAfterText(o))
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array (fields in the README's \"JSON output\")")
	markNoEnv(cmd.Flags(), "json")
	return cmd
}

// rosterTotal is how many customers the organization's roster shows (the
// archived are not on it).
func rosterTotal(ctx context.Context, app *App, o *store.Org) (int, error) {
	counts, err := app.DB.RosterCounts(ctx, o.ID)
	total := 0
	for _, n := range counts {
		total += n
	}
	return total, err
}
