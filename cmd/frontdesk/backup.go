package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func newBackupCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent copy of the database to FILE (safe while frontdesk serve runs)",
		Long: `Write a consistent copy of the database to FILE, a new file readable by you
alone (0600). It is safe while frontdesk serve runs.

Email waiting in the outbox is in the copy only encrypted; the key that opens
it is the outbox key file (--outbox-key), which is not part of the copy. Keep
that file safe and apart from these backups.`,
		Args: cobra.ExactArgs(1),
		RunE: withExistingDB(app, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			if err := app.DB.Backup(ctx, args[0]); err != nil {
				return err
			}
			st, err := os.Stat(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(app.Stdout, "Backed up %s to %s (%.1f MB).\n", app.DBPath(), args[0], float64(st.Size())/1e6)
			return nil
		}),
	}
}
