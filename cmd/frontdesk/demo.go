package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"frontdesk/store/demo"
	"frontdesk/store/format"
)

func newDemoCmd(app *App) *cobra.Command {
	var n int
	var seed int64
	cmd := &cobra.Command{
		Use:   "demo [--customers N] [--seed N]",
		Short: "Create or refill the demo organization, Harbor Yoga",
		Long: `Create the demo organization, Harbor Yoga, with realistic customers in every
status (claimed, invited, invite expired, delivery failed, not invited, no
email), their bookings, payments and subscriptions, and three staff members:
owner@harbor-yoga.example (owner), admin@harbor-yoga.example (admin) and
desk@harbor-yoga.example (staff). Run again to replace its customers; the same
--seed gives the same people.`,
		Args: cobra.NoArgs,
		RunE: withDB(app, func(ctx context.Context, cmd *cobra.Command, _ []string) error {
			if n < 1 || n > 10_000_000 {
				return usageError{fmt.Errorf("--customers %d: give a number from 1 to 10000000", n)}
			}
			bar := newProgress(app.Stderr, "Generating customers")
			o, err := demo.Generate(ctx, app.DB, demo.Options{Customers: n, Seed: seed, Progress: bar.Update})
			bar.Done(err == nil)
			if err != nil {
				return err
			}
			// The demo archives a few (people who left, kept with their
			// history): say so, or the roster's smaller count looks wrong.
			live, err := rosterTotal(ctx, app, o)
			if err != nil {
				return err
			}
			archived := ""
			if n > live {
				archived = fmt.Sprintf(", %d of them archived (the roster shows the other %d)", n-live, live)
			}
			fmt.Fprintf(app.Stdout, "Demo organization %s (--org %s) has %s%s, in %s.\n", o.Name, o.Slug, format.Count(n, "customer"), archived, app.DBName())
			return nil
		}),
	}
	cmd.Flags().IntVar(&n, "customers", 500, "how many customers")
	cmd.Flags().Int64Var(&seed, "seed", 1, "random seed; the same seed gives the same data")
	return cmd
}
