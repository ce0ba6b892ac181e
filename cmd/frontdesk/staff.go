package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"frontdesk/store"
	"frontdesk/tui/inert"
)

func newStaffCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "staff", Short: "Add, list and remove staff and their SSH keys"}
	key := &cobra.Command{Use: "key", Short: "Manage staff SSH keys"}
	key.AddCommand(newStaffKeyAddCmd(app))
	cmd.AddCommand(newStaffAddCmd(app), newStaffListCmd(app), newStaffRemoveCmd(app), key)
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
				fmt.Fprintf(app.Stdout, "To let them sign in over SSH: frontdesk staff key add %s \"$(cat their_key.pub)\"\n", s.Email)
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
