package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"frontdesk/store"
	"frontdesk/store/csvio"
	"frontdesk/store/format"
	"frontdesk/tui/inert"
)

func newCustomersCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "customers", Short: "Import, export, list, add, change, archive and restore customers"}
	cmd.AddCommand(newImportCmd(app), newExportCmd(app), newListCmd(app),
		newAddCustomerCmd(app), newSetCustomerCmd(app), newArchiveCustomerCmd(app), newRestoreCustomerCmd(app))
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
		RunE: withExistingDB(app, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			o, err := app.Organization(ctx)
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			label := "Importing"
			if dryRun {
				label = "Checking"
			}
			bar := newProgress(app.Stderr, label)
			rep, err := csvio.Import(ctx, app.DB, o, bufio.NewReaderSize(f, 1<<16), csvio.ImportOptions{
				DryRun: dryRun, SkipInvalid: skipInvalid, Update: update, Actor: app.Actor(), Source: args[0], Progress: bar.Update,
			})
			bar.Done(err == nil)
			// The report lists every bad row, whether or not the import went
			// ahead; err then says whether it did.
			for _, p := range rep.Problems {
				fmt.Fprintf(app.Stderr, "%s:%d: %s\n", args[0], p.Line, inert.String(p.Reason))
			}
			if more := rep.Skipped - len(rep.Problems); more > 0 {
				fmt.Fprintf(app.Stderr, "… and %s with problems\n", format.Count(more, "more row"))
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
					msg += fmt.Sprintf("; skipped %s with problems (listed above)", format.Count(rep.Skipped, "row"))
				}
				fmt.Fprintln(app.Stdout, msg+".")
				return nil
			}
			switch {
			case dryRun && rep.Skipped > 0:
				fmt.Fprintf(app.Stdout, "Dry run: %s would be imported and %s skipped (listed above); nothing was imported.\n", format.Count(rep.Imported, "row"), format.Count(rep.Skipped, "row"))
			case dryRun:
				fmt.Fprintf(app.Stdout, "Dry run: %s, all good; nothing was imported. Run again without --dry-run to import them.\n", format.Count(rep.Rows, "row"))
			case rep.Skipped > 0:
				fmt.Fprintf(app.Stdout, "Imported %s into %s; skipped %s with problems (listed above).\n", format.Count(rep.Imported, "customer"), o.Name, format.Count(rep.Skipped, "row"))
			default:
				fmt.Fprintf(app.Stdout, "Imported %s into %s.\n", format.Count(rep.Imported, "customer"), o.Name)
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
		RunE: withExistingDB(app, func(ctx context.Context, cmd *cobra.Command, args []string) error {
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
			if err := refuseExisting(dst, force); err != nil {
				return err
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
			fmt.Fprintf(app.Stderr, "Exported %s of %s to %s.\n", format.Count(n, "customer"), o.Name, dst)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace FILE if it exists")
	cmd.Flags().BoolVar(&withStatus, "with-status", false, "add the id, status, invited and claimed dates")
	markNoEnv(cmd.Flags(), "force", "with-status")
	return cmd
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
	var asJSON, archived bool
	var limit int
	cmd := &cobra.Command{
		Use:   "list [--search Q] [--status S] [--archived] [--json] [--limit N]",
		Short: "List customers, optionally searched and filtered by status",
		Long: `List customers. --search matches the start of any word of the name, email or
phone ("jan", "doe@", "0142"); --status is one of not-invited, invited,
expired, failed, claimed, no-email. --archived lists the archived customers
instead of the roster. --json prints a JSON array, whose status values are
those same words (the README's "JSON output" lists the fields).`,
		Args: cobra.NoArgs,
		RunE: withExistingDB(app, func(ctx context.Context, cmd *cobra.Command, _ []string) error {
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
			var tw *table
			var list *jsonList
			if asJSON {
				list = newJSONList(app.Stdout)
			} else {
				tw = newTable(out, "ID", "NAME", "EMAIL", "STATUS")
			}
			loc := o.Location()
			// Page through the roster so even a million customers stream in
			// constant memory.
			q := store.RosterQuery{Search: search, Status: st, Archived: archived, Limit: 500}
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
						if err := list.Add(newCustomerJSON(r)); err != nil {
							return err
						}
					} else {
						email := r.Email
						if email == "" {
							email = "-"
						}
						tw.Row(strconv.FormatInt(r.ID, 10), inert.String(r.Name()), inert.String(email), statusText(r, loc))
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
				return list.Close()
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
	f.BoolVar(&archived, "archived", false, "list the archived customers instead")
	f.IntVar(&limit, "limit", 0, "print at most N customers (0: all)")
	markNoEnv(f, "search", "status", "json", "limit", "archived")
	return cmd
}
