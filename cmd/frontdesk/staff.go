package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"frontdesk/store"
	"frontdesk/store/format"
	"frontdesk/tui/inert"
)

func newStaffCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "staff", Short: "Add, list, change and remove staff and their SSH keys"}
	key := &cobra.Command{Use: "key", Short: "Add, list and remove staff SSH keys"}
	key.AddCommand(newStaffKeyAddCmd(app), newStaffKeyListCmd(app), newStaffKeyRemoveCmd(app))
	cmd.AddCommand(newStaffAddCmd(app), newStaffListCmd(app), newStaffSetCmd(app), newStaffRemoveCmd(app), key)
	return cmd
}

// readKey takes a public key given as text, or as the path of a .pub file.
func readKey(arg, file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--key-file: %w", err)
		}
		return string(b), nil
	}
	if !strings.HasPrefix(arg, "ssh-") && !strings.HasPrefix(arg, "ecdsa-") && !strings.HasPrefix(arg, "sk-") {
		if b, err := os.ReadFile(arg); err == nil {
			return string(b), nil
		}
	}
	return arg, nil
}

func newStaffAddCmd(app *App) *cobra.Command {
	var email, name, role, key, keyFile string
	cmd := &cobra.Command{
		Use:   "add --email E --name N --role owner|admin|staff [--key KEY | --key-file F] [--org SLUG]",
		Short: "Add a staff member (owners and admins can manage customers; staff can only look)",
		Args:  cobra.NoArgs,
		RunE: withExistingDB(app, func(ctx context.Context, cmd *cobra.Command, _ []string) error {
			r, err := store.ParseRole(role)
			if err != nil {
				return usageError{err}
			}
			if key != "" && keyFile != "" {
				return usageError{fmt.Errorf("give --key or --key-file, not both")}
			}
			o, err := app.Organization(ctx)
			if err != nil {
				return err
			}
			var keyText string
			if key != "" || keyFile != "" {
				if keyText, err = readKey(key, keyFile); err != nil {
					return err
				}
			}
			s := &store.Staff{OrgID: o.ID, Email: email, Name: name, Role: r}
			var k *store.StaffKey
			err = app.DB.Tx(ctx, func(tx *store.Tx) error {
				if err := tx.CreateStaff(ctx, s); err != nil {
					return err
				}
				detail := fmt.Sprintf("added %s <%s> as %s", s.Name, s.Email, s.Role)
				if keyText != "" {
					if k, err = tx.AddStaffKey(ctx, s.ID, keyText); err != nil {
						return err
					}
					detail += " with key " + k.Fingerprint
				}
				return tx.Audit(ctx, o.ID, app.Actor(), "staff.add", 0, detail)
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(app.Stdout, "Added %s <%s> to %s as %s.\n", s.Name, s.Email, o.Name, s.Role)
			if k != nil {
				fmt.Fprintf(app.Stdout, "SSH key %s registered.\n", k.Fingerprint)
			} else {
				fmt.Fprintf(app.Stdout, "To let them sign in over SSH: %s\n", app.Command("staff key add", s.Email, "their_key.pub"))
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&email, "email", "", "their email (also what --as takes)")
	f.StringVar(&name, "name", "", "their name")
	f.StringVar(&role, "role", "", "owner, admin or staff")
	f.StringVar(&key, "key", "", "SSH public key (\"ssh-ed25519 AAAA… name\") or the path of a .pub file")
	f.StringVar(&keyFile, "key-file", "", "file holding the SSH public key")
	cmd.MarkFlagRequired("email")
	cmd.MarkFlagRequired("name")
	cmd.MarkFlagRequired("role")
	markNoEnv(f, "email", "name", "role", "key", "key-file")
	return cmd
}

func newStaffListCmd(app *App) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--org SLUG] [--json]",
		Short: "List an organization's staff and their SSH keys",
		Args:  cobra.NoArgs,
		RunE: withExistingDB(app, func(ctx context.Context, cmd *cobra.Command, _ []string) error {
			o, err := app.Organization(ctx)
			if err != nil {
				return err
			}
			staff, err := app.DB.StaffList(ctx, o.ID)
			if err != nil {
				return err
			}
			if asJSON {
				list := newJSONList(app.Stdout)
				for _, s := range staff {
					keys, err := app.DB.StaffKeys(ctx, s.ID)
					if err != nil {
						return err
					}
					if err := list.Add(newStaffJSON(s, keys)); err != nil {
						return err
					}
				}
				return list.Close()
			}
			if len(staff) == 0 {
				fmt.Fprintf(app.Stdout, "%s has no staff yet. Add an owner with `frontdesk staff add --role owner --email EMAIL --name NAME`.\n", o.Name)
				return nil
			}
			tw := newTable(app.Stdout, "EMAIL", "NAME", "ROLE", "SSH KEYS")
			for _, s := range staff {
				keys, err := app.DB.StaffKeys(ctx, s.ID)
				if err != nil {
					return err
				}
				fps := make([]string, len(keys))
				for i, k := range keys {
					fps[i] = k.Fingerprint
				}
				if len(fps) == 0 {
					fps = []string{"-"}
				}
				tw.Row(inert.String(s.Email), inert.String(s.Name), string(s.Role), strings.Join(fps, " "))
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array (fields in the README's \"JSON output\")")
	markNoEnv(cmd.Flags(), "json")
	return cmd
}

func newStaffRemoveCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "remove EMAIL",
		Short: "Remove a staff member and their SSH keys (their past actions keep their name)",
		Args:  cobra.ExactArgs(1),
		RunE: withExistingDB(app, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			s, err := app.DB.StaffByEmail(ctx, args[0])
			if err != nil {
				return err
			}
			err = app.DB.Tx(ctx, func(tx *store.Tx) error {
				if err := tx.RemoveStaff(ctx, s.OrgID, s.ID); err != nil {
					return err
				}
				return tx.Audit(ctx, s.OrgID, app.Actor(), "staff.remove", 0, fmt.Sprintf("removed %s <%s>", s.Name, s.Email))
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(app.Stdout, "Removed %s <%s>; their SSH keys no longer work.\n", inert.String(s.Name), inert.String(s.Email))
			return nil
		}),
	}
}

func newStaffKeyAddCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "add EMAIL KEY",
		Short: "Register an SSH public key for a staff member (KEY is the key text or a .pub file)",
		Args:  cobra.ExactArgs(2),
		RunE: withExistingDB(app, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			s, err := app.DB.StaffByEmail(ctx, args[0])
			if err != nil {
				return err
			}
			text, err := readKey(args[1], "")
			if err != nil {
				return err
			}
			var k *store.StaffKey
			err = app.DB.Tx(ctx, func(tx *store.Tx) error {
				if k, err = tx.AddStaffKey(ctx, s.ID, text); err != nil {
					return err
				}
				return tx.Audit(ctx, s.OrgID, app.Actor(), "staff.key.add", 0, fmt.Sprintf("key %s for %s", k.Fingerprint, s.Email))
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(app.Stdout, "Registered key %s for %s.\n", k.Fingerprint, s.Email)
			return nil
		}),
	}
}

// staffByEmail is the active staff member with that email; with --org, one
// of that organization's (an email names one person across the database,
// but a command given --org must not reach past it).
func staffByEmail(ctx context.Context, app *App, email string) (*store.Staff, error) {
	s, err := app.DB.StaffByEmail(ctx, email)
	if err != nil || app.Org == "" {
		return s, err
	}
	o, err := app.DB.OrgBySlug(ctx, app.Org)
	if err != nil {
		return nil, err
	}
	if s.OrgID != o.ID {
		return nil, store.Errorf(store.ENOTFOUND, "%s is not on the staff of %s; `frontdesk staff list --org %s` shows who is", email, o.Name, o.Slug)
	}
	return s, nil
}

func newStaffSetCmd(app *App) *cobra.Command {
	var role, name string
	cmd := &cobra.Command{
		Use:   "set EMAIL [--role owner|admin|staff] [--name NAME]",
		Short: "Change a staff member's role or name (their open SSH sessions end when the role changes)",
		Long: `Change a staff member's role or name, or both.

A new role takes effect at once: their next write is checked against it, and
their open SSH sessions (and a local tui opened as them) close saying why,
so they connect again with the new role. The organization's last owner
cannot be made admin or staff: add another owner first.`,
		Args: cobra.ExactArgs(1),
		RunE: withExistingDB(app, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			if !f.Changed("role") && !f.Changed("name") {
				return usageError{fmt.Errorf("give what to change: --role, --name or both")}
			}
			var edit store.StaffEdit
			if f.Changed("role") {
				r, err := store.ParseRole(role)
				if err != nil {
					return usageError{err}
				}
				edit.Role = r
			}
			if f.Changed("name") {
				edit.Name = &name
			}
			s, err := staffByEmail(ctx, app, args[0])
			if err != nil {
				return err
			}
			var was, now *store.Staff
			err = app.DB.Tx(ctx, func(tx *store.Tx) error {
				if was, now, err = tx.EditStaff(ctx, s.OrgID, s.ID, edit); err != nil || *was == *now {
					return err
				}
				var changes []string
				if now.Role != was.Role {
					changes = append(changes, fmt.Sprintf("role %s → %s", was.Role, now.Role))
				}
				if now.Name != was.Name {
					changes = append(changes, fmt.Sprintf("name %q → %q", was.Name, now.Name))
				}
				return tx.Audit(ctx, s.OrgID, app.Actor(), "staff.set", 0, fmt.Sprintf("%s: %s", s.Email, strings.Join(changes, "; ")))
			})
			if err != nil {
				return err
			}
			who := fmt.Sprintf("%s <%s>", inert.String(now.Name), inert.String(now.Email))
			switch {
			case *was == *now:
				what := "role and name"
				if !f.Changed("name") {
					what = "role"
				} else if !f.Changed("role") {
					what = "name"
				}
				fmt.Fprintf(app.Stdout, "Nothing to change: %s has that %s already.\n", who, what)
			case now.Role != was.Role:
				fmt.Fprintf(app.Stdout, "%s is now %s (was %s). Their open SSH sessions close now, saying so; they connect again with the new role.\n", who, now.Role, was.Role)
			}
			if now.Name != was.Name {
				fmt.Fprintf(app.Stdout, "Renamed %s to %s.\n", inert.String(was.Name), inert.String(now.Name))
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&role, "role", "", "owner, admin or staff")
	f.StringVar(&name, "name", "", "their name")
	markNoEnv(f, "role", "name")
	return cmd
}

func newStaffKeyListCmd(app *App) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [EMAIL] [--org SLUG] [--json]",
		Short: "List SSH keys: fingerprint, comment, when added and last used, for one staff member or the organization",
		Args:  cobra.MaximumNArgs(1),
		RunE: withExistingDB(app, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			var staff []*store.Staff
			var o *store.Org
			var err error
			if len(args) == 1 {
				s, err := staffByEmail(ctx, app, args[0])
				if err != nil {
					return err
				}
				if o, err = app.DB.Org(ctx, s.OrgID); err != nil {
					return err
				}
				staff = []*store.Staff{s}
			} else {
				if o, err = app.Organization(ctx); err != nil {
					return err
				}
				if staff, err = app.DB.StaffList(ctx, o.ID); err != nil {
					return err
				}
			}
			type row struct {
				s *store.Staff
				k store.StaffKey
			}
			var rows []row
			for _, s := range staff {
				keys, err := app.DB.StaffKeys(ctx, s.ID)
				if err != nil {
					return err
				}
				for _, k := range keys {
					rows = append(rows, row{s, k})
				}
			}
			if asJSON {
				list := newJSONList(app.Stdout)
				for _, r := range rows {
					if err := list.Add(newKeyListJSON(r.s, &r.k)); err != nil {
						return err
					}
				}
				return list.Close()
			}
			if len(rows) == 0 {
				who := o.Name + "'s staff have"
				if len(args) == 1 {
					who = fmt.Sprintf("%s <%s> has", inert.String(staff[0].Name), inert.String(staff[0].Email))
				}
				fmt.Fprintf(app.Stdout, "%s no SSH keys. Register one with `%s`.\n", who, app.Command("staff key add", "EMAIL", "KEY.pub"))
				return nil
			}
			loc := o.Location()
			tw := newTable(app.Stdout, "EMAIL", "FINGERPRINT", "TYPE", "COMMENT", "ADDED", "LAST USED")
			for _, r := range rows {
				comment, used := r.k.Comment(), "never"
				if comment == "" {
					comment = "-"
				}
				if !r.k.LastUsedAt.IsZero() {
					used = format.DateTime(r.k.LastUsedAt, loc)
				}
				// The comment is whatever the key's maker typed: inert, like customer text.
				tw.Row(inert.String(r.s.Email), r.k.Fingerprint, r.k.Type(), inert.String(comment), format.DateTime(r.k.CreatedAt, loc), used)
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array (fields in the README's \"JSON output\")")
	markNoEnv(cmd.Flags(), "json")
	return cmd
}

func newStaffKeyRemoveCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "remove FINGERPRINT",
		Short: "Remove an SSH key (a lost laptop's): it signs nobody in, and a session open with it closes at once",
		Long: `Remove an SSH key by its fingerprint, as ` + "`frontdesk staff key list`" + ` prints it
(SHA256:…; the "SHA256:" may be left out, and the start of it is enough when
it is at least 8 characters and names one key only).

The key signs nobody in from then on, and an SSH session open with it closes
at once, saying why; the staff member's other keys go on working.`,
		Args: cobra.ExactArgs(1),
		RunE: withExistingDB(app, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			var k *store.StaffKey
			var s *store.Staff
			var left int
			err := app.DB.Tx(ctx, func(tx *store.Tx) error {
				var err error
				if k, err = tx.StaffKeyByFingerprint(ctx, args[0]); err != nil {
					return err
				}
				if s, err = tx.StaffByID(ctx, k.StaffID); err != nil {
					return err
				}
				if app.Org != "" {
					o, err := tx.OrgBySlug(ctx, app.Org)
					if err != nil {
						return err
					}
					if o.ID != s.OrgID {
						return store.Errorf(store.ENOTFOUND, "key %s is not registered to anyone on the staff of %s", k.Fingerprint, o.Name)
					}
				}
				if err := tx.RemoveStaffKey(ctx, k.ID); err != nil {
					return err
				}
				keys, err := tx.StaffKeys(ctx, s.ID)
				if err != nil {
					return err
				}
				left = len(keys)
				return tx.Audit(ctx, s.OrgID, app.Actor(), "staff.key.remove", 0,
					fmt.Sprintf("key %s (%s, comment %q) of %s removed", k.Fingerprint, k.Type(), k.Comment(), s.Email))
			})
			if err != nil {
				return err
			}
			who := fmt.Sprintf("%s <%s>", inert.String(s.Name), inert.String(s.Email))
			fmt.Fprintf(app.Stdout, "Removed key %s of %s: it signs nobody in, and an SSH session open with it closes now.\n", k.Fingerprint, who)
			if left == 0 {
				fmt.Fprintf(app.Stdout, "%s has no SSH key left; register a new one with `%s`.\n", who, app.Command("staff key add", s.Email, "KEY.pub"))
			}
			return nil
		}),
	}
}
