package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"frontdesk/store"
	"frontdesk/store/brand"
	"frontdesk/tui/inert"
)

// readLogo reads --logo: a file checked and re-encoded by brand.CheckLogo,
// or nil for none.
func readLogo(path string) (*brand.Logo, error) {
	if strings.EqualFold(strings.TrimSpace(path), "none") {
		return nil, nil
	}
	if strings.TrimSpace(path) == "" {
		return nil, usageError{fmt.Errorf("--logo needs a PNG or JPEG file, or none to remove the logo")}
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, store.Errorf(store.EINVALID, "cannot read the logo %s: %v", path, err)
	}
	// Checked before reading, so a wrong path to a huge file is refused
	// without loading it.
	if st.Size() > brand.MaxLogoBytes {
		return nil, store.Errorf(store.EINVALID, "%s is %d KiB; a logo may be at most %d KiB: export it smaller", path, (st.Size()+1023)/1024, brand.MaxLogoBytes>>10)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, store.Errorf(store.EINVALID, "cannot read the logo %s: %v", path, err)
	}
	l, err := brand.CheckLogo(filepath.Base(path), data)
	if err != nil {
		return nil, store.Errorf(store.EINVALID, "%v", err)
	}
	return l, nil
}

// logoText describes the organization's logo for org set and the audit log.
func logoText(o *store.Org) string {
	if o.LogoHash == "" {
		return "none"
	}
	return fmt.Sprintf("%s %d×%d (sha256 %s…)", o.LogoType, o.LogoWidth, o.LogoHeight, o.LogoHash[:12])
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func newOrgFieldCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "field", Short: "Decide which custom fields customers may change on their account page"}
	cmd.AddCommand(newOrgFieldSetCmd(app), newOrgFieldListCmd(app))
	return cmd
}

func newOrgFieldSetCmd(app *App) *cobra.Command {
	var editable bool
	cmd := &cobra.Command{
		Use:   "set NAME --customer-editable[=true|false]",
		Short: "Let customers change a custom field on their account page, or keep it staff-only",
		Long: `Decide whether customers may change a custom field's value on their account
page. Every field is staff-only until opened here (fields come from imports
and the desk: what the studio keeps about its customers); a staff-only field
is shown to the customer as text.

  frontdesk org field set "Emergency contact" --customer-editable
  frontdesk org field set "Membership level" --customer-editable=false`,
		Args: cobra.ExactArgs(1),
		RunE: withDB(app, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("customer-editable") {
				return usageError{fmt.Errorf("say what to change: --customer-editable (customers may change it) or --customer-editable=false (staff-only)")}
			}
			o, err := app.Organization(ctx)
			if err != nil {
				return err
			}
			var field *store.CustomField
			err = app.DB.Tx(ctx, func(tx *store.Tx) error {
				if field, err = tx.SetCustomFieldEditable(ctx, o.ID, args[0], editable); err != nil {
					return err
				}
				return tx.Audit(ctx, o.ID, app.Actor(), "org.field", 0, fmt.Sprintf("custom field %q: %s", field.Name, fieldWho(field)))
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(app.Stdout, "%s: %s.\n", inert.String(field.Name), fieldWho(field))
			return nil
		}),
	}
	cmd.Flags().BoolVar(&editable, "customer-editable", false, "customers may change the field on their account page (=false: staff-only)")
	markNoEnv(cmd.Flags(), "customer-editable")
	return cmd
}

func fieldWho(f *store.CustomField) string {
	if f.CustomerEditable {
		return "customers may change it on their account page"
	}
	return "staff-only; customers see it on their account page but cannot change it"
}

func newOrgFieldListCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the organization's custom fields and who may change them",
		Args:  cobra.NoArgs,
		RunE: withDB(app, func(ctx context.Context, cmd *cobra.Command, _ []string) error {
			o, err := app.Organization(ctx)
			if err != nil {
				return err
			}
			fields, err := app.DB.CustomFields(ctx, o.ID)
			if err != nil {
				return err
			}
			if len(fields) == 0 {
				fmt.Fprintln(app.Stdout, "No custom fields yet; `frontdesk customers import` creates them from a CSV file's extra columns.")
				return nil
			}
			tw := tabwriter.NewWriter(app.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "FIELD\tCUSTOMERS")
			for _, f := range fields {
				who := "staff-only"
				if f.CustomerEditable {
					who = "may change it"
				}
				fmt.Fprintf(tw, "%s\t%s\n", inert.String(f.Name), who)
			}
			return tw.Flush()
		}),
	}
}
