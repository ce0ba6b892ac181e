package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"frontdesk/store"
	"frontdesk/store/csvio"
	"frontdesk/tui/inert"
)

func newCustomersCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "customers", Short: "Import, export and list customers"}
	cmd.AddCommand(newImportCmd(app), newExportCmd(app), newListCmd(app))
	return cmd
}

func newImportCmd(app *App) *cobra.Command {
	var dryRun, skipInvalid, update bool
	cmd := &cobra.Command{
		Use:   "import FILE.csv [--org SLUG] [--update] [--dry-run] [--skip-invalid]",
		Short: "Import customers from a CSV file, adding them or updating those on the roster",
		Long: `Import customers from a CSV file with a header row. first_name, last_name,
email and phone are known columns, also as people write them ("First Name",
"Surname", "E-mail", "Email address", "Mobile", "Phone number"…); every other
column becomes a custom field. id, status, invited_at and claimed_at (written
by export --with-status) are not imported.

Every row is checked first (names present, emails valid and not already on the
roster or elsewhere in the file). If any row is bad, each is listed as
FILE:LINE: reason and nothing is imported, unless --skip-invalid is given,
which imports the good rows. --dry-run checks without importing.

--update matches each row with a customer on the roster, by the id column
when the row has an id, else by email, and updates the columns the file has
(an empty cell clears a phone or a custom field); rows that match nobody are
added. Emails are never changed by an import: a row whose email differs from
its customer's is refused (change an email in the TUI, which cancels links
sent to the old address). An export --with-status imports back unchanged.`,
		Args: cobra.ExactArgs(1),
		RunE: withDB(app, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			o, err := app.Organization(ctx)
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			bar := newProgress(app.Stderr, "Importing")
			rep, err := csvio.Import(ctx, app.DB, o, bufio.NewReaderSize(f, 1<<16), csvio.ImportOptions{
				DryRun: dryRun, SkipInvalid: skipInvalid, Update: update, Actor: app.Actor(), Source: args[0], Progress: bar.Update,
			})
			bar.Done()
			// The report lists every bad row, whether or not the import went
			// ahead; err then says whether it did.
			for _, p := range rep.Problems {
				fmt.Fprintf(app.Stderr, "%s:%d: %s\n", args[0], p.Line, inert.String(p.Reason))
			}
			if more := rep.Skipped - len(rep.Problems); more > 0 {
				fmt.Fprintf(app.Stderr, "… and %d more rows with problems\n", more)
			}
			if len(rep.Ignored) > 0 {
				fmt.Fprintf(app.Stderr, "Not imported: column(s) %s (frontdesk's own", inert.String(strings.Join(rep.Ignored, ", ")))
				if !update && slices.ContainsFunc(rep.Ignored, func(c string) bool { return strings.EqualFold(c, "id") }) {
					fmt.Fprint(app.Stderr, "; ids are read with --update. To keep another system's ids, rename the column, e.g. \"Member ID\"")
				}
				fmt.Fprintln(app.Stderr, ").")
			}
			if err != nil {
				return err
			}
			if update {
				msg := fmt.Sprintf("Imported into %s: %d added, %d updated, %d unchanged", inert.String(o.Name), rep.Added, rep.Updated, rep.Unchanged)
				if dryRun {
					msg = fmt.Sprintf("Dry run: %d would be added, %d updated, %d unchanged; nothing was written", rep.Added, rep.Updated, rep.Unchanged)
				}
				if rep.Skipped > 0 {
					msg += fmt.Sprintf("; skipped %d rows with problems (listed above)", rep.Skipped)
				}
				fmt.Fprintln(app.Stdout, msg+".")
				return nil
			}
			switch {
			case dryRun && rep.Skipped > 0:
				fmt.Fprintf(app.Stdout, "Dry run: %d rows would be imported and %d skipped (listed above); nothing was imported.\n", rep.Imported, rep.Skipped)
			case dryRun:
				fmt.Fprintf(app.Stdout, "Dry run: all %d rows are good; nothing was imported. Run again without --dry-run to import them.\n", rep.Rows)
			case rep.Skipped > 0:
				fmt.Fprintf(app.Stdout, "Imported %d customers into %s; skipped %d rows with problems (listed above).\n", rep.Imported, o.Name, rep.Skipped)
			default:
				fmt.Fprintf(app.Stdout, "Imported %d customers into %s.\n", rep.Imported, o.Name)
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check the file and report problems without importing")
	cmd.Flags().BoolVar(&skipInvalid, "skip-invalid", false, "import the good rows and skip the bad ones")
	cmd.Flags().BoolVar(&update, "update", false, "update customers already on the roster (matched by id, else email) instead of refusing them")
	markNoEnv(cmd.Flags(), "dry-run", "skip-invalid", "update")
	return cmd
}

func newExportCmd(app *App) *cobra.Command {
	var force, withStatus bool
	cmd := &cobra.Command{
		Use:   "export [FILE.csv] [--with-status]",
		Short: "Export customers as CSV (to standard output without FILE), in the format import reads",
		Long: `Export the organization's customers as CSV (to standard output without FILE),
in the format import reads, so an export imports back unchanged.

Customers type their own names, phone and custom fields. So that a spreadsheet
never runs one as a formula (CSV injection), a cell starting with = + - @, a
tab or a carriage return is written behind a single quote ('=SUM(A1)), and so
is a cell that already starts with a quote; spreadsheets show it as text.
Import takes that one quote off again.

--with-status adds the customer's id first, and their status, the date of
the latest invite and the date they claimed their account last (in the
organization's time zone). Import does not read those three; import --update
matches rows by the id, so the file can be edited and imported back.`,
		Args: cobra.MaximumNArgs(1),
		RunE: withDB(app, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			o, err := app.Organization(ctx)
			if err != nil {
				return err
			}
			if len(args) == 0 {
				w := bufio.NewWriter(app.Stdout)
				if _, err := csvio.Export(ctx, app.DB, o, w, csvio.ExportOptions{WithStatus: withStatus}); err != nil {
					return err
				}
				return w.Flush()
			}
			dst := args[0]
			if _, err := os.Stat(dst); err == nil && !force {
				return store.Errorf(store.EINVALID, "%s already exists; choose another name or add --force to replace it", dst)
			}
			// Write beside the target and rename, so an interrupted export never
			// leaves a half file under the real name.
			tmp, err := os.CreateTemp(filepath.Dir(dst), ".frontdesk-export-*.csv")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name())
			w := bufio.NewWriter(tmp)
			n, err := csvio.Export(ctx, app.DB, o, w, csvio.ExportOptions{WithStatus: withStatus})
			if err == nil {
				err = w.Flush()
			}
			if err == nil {
				err = tmp.Close()
			} else {
				tmp.Close()
			}
			if err != nil {
				return err
			}
			if err := os.Rename(tmp.Name(), dst); err != nil {
				return err
			}
			fmt.Fprintf(app.Stderr, "Exported %d customers of %s to %s.\n", n, o.Name, dst)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace FILE if it exists")
	cmd.Flags().BoolVar(&withStatus, "with-status", false, "add the id, status, invited and claimed dates")
	markNoEnv(cmd.Flags(), "force", "with-status")
	return cmd
}

// customerJSON is one element of `customers list --json`.
type customerJSON struct {
	ID              int64      `json:"id"`
	FirstName       string     `json:"first_name"`
	LastName        string     `json:"last_name"`
	Email           string     `json:"email"`
	Phone           string     `json:"phone"`
	Status          string     `json:"status"`
	InviteSentAt    *time.Time `json:"invite_sent_at,omitempty"`
	InviteExpiresAt *time.Time `json:"invite_expires_at,omitempty"`
	ClaimedAt       *time.Time `json:"claimed_at,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// statusText words a roster row's status with the date that matters for it.
func statusText(r *store.RosterRow, loc *time.Location) string {
	const day = "Mon 2 Jan 2006"
	switch r.Status {
	case store.StatusInvited:
		return "Invited (expires " + r.InviteExpiresAt.In(loc).Format(day+" 15:04") + ")"
	case store.StatusExpired:
		return "Invite expired (" + r.InviteExpiresAt.In(loc).Format(day) + ")"
	case store.StatusClaimed:
		return "Claimed (" + r.ClaimedAt.In(loc).Format(day) + ")"
	case store.StatusFailed:
		return "Delivery failed (" + r.InviteSentAt.In(loc).Format(day) + ")"
	}
	return r.Status.Label()
}

func newListCmd(app *App) *cobra.Command {
	var search, status string
	var asJSON bool
	var limit int
	cmd := &cobra.Command{
		Use:   "list [--search Q] [--status S] [--json] [--limit N]",
		Short: "List customers, optionally searched and filtered by status",
		Long: `List customers. --search matches the start of any word of the name, email or
phone ("jan", "doe@", "0142"); --status is one of not-invited, invited,
expired, failed, claimed, no-email. --json prints a JSON array.`,
		Args: cobra.NoArgs,
		RunE: withDB(app, func(ctx context.Context, cmd *cobra.Command, _ []string) error {
			var st store.Status
			if status != "" {
				var err error
				if st, err = store.ParseStatus(status); err != nil {
					return usageError{err}
				}
			}
			if limit < 0 {
				return usageError{fmt.Errorf("--limit %d: give 0 (no limit) or more", limit)}
			}
			o, err := app.Organization(ctx)
			if err != nil {
				return err
			}
			out := bufio.NewWriter(app.Stdout)
			defer out.Flush()
			var tw *tabwriter.Writer
			if asJSON {
				io.WriteString(out, "[")
			} else {
				tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tEMAIL\tSTATUS")
			}
			enc := json.NewEncoder(out)
			enc.SetEscapeHTML(false)
			loc := o.Location()
			// Page through the roster so even a million customers stream in
			// constant memory.
			q := store.RosterQuery{Search: search, Status: st, Limit: 500}
			n := 0
			for {
				rows, err := app.DB.RosterPage(ctx, o.ID, q)
				if err != nil {
					return err
				}
				for i := range rows {
					if limit > 0 && n == limit {
						break
					}
					r := &rows[i]
					if asJSON {
						if n > 0 {
							io.WriteString(out, ",")
						}
						io.WriteString(out, "\n")
						if err := enc.Encode(customerJSON{ID: r.ID, FirstName: r.FirstName, LastName: r.LastName, Email: r.Email, Phone: r.Phone,
							Status: string(r.Status), InviteSentAt: timePtr(r.InviteSentAt), InviteExpiresAt: timePtr(r.InviteExpiresAt), ClaimedAt: timePtr(r.ClaimedAt)}); err != nil {
							return err
						}
					} else {
						email := r.Email
						if email == "" {
							email = "-"
						}
						fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", r.ID, inert.String(r.Name()), inert.String(email), statusText(r, loc))
					}
					n++
				}
				if len(rows) < q.Limit || (limit > 0 && n == limit) {
					break
				}
				c := rows[len(rows)-1].Cursor()
				q.After = &c
			}
			if asJSON {
				io.WriteString(out, "]\n")
				return nil
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if n == 0 {
				fmt.Fprintln(app.Stderr, "No customers match.")
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&search, "search", "", "words to find in name, email or phone")
	f.StringVar(&status, "status", "", "only customers with this status")
	f.BoolVar(&asJSON, "json", false, "print a JSON array")
	f.IntVar(&limit, "limit", 0, "print at most N customers (0: all)")
	markNoEnv(f, "search", "status", "json", "limit")
	return cmd
}
