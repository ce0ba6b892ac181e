package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"frontdesk/store"
)

func newBackupCmd(app *App) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "backup FILE [--force]",
		Short: "Write a consistent copy of the database to FILE (safe while frontdesk serve runs)",
		Long: `Write a consistent copy of the database to FILE, a file readable by you alone
(0600). It is safe while frontdesk serve runs. An existing FILE is replaced
only with --force, and then only once the new copy is complete.

Email waiting in the outbox is in the copy only encrypted; the key that opens
it is the outbox key file (--outbox-key), which is not part of the copy. Keep
that file safe and apart from these backups.`,
		Args: cobra.ExactArgs(1),
		RunE: withExistingDB(app, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			dst := args[0]
			if err := refuseExisting(dst, force); err != nil {
				return err
			}
			// The copy is made under a new name beside FILE and then put in
			// its place: an interrupted backup never leaves a half copy
			// under the real name, nor destroys the one there.
			tmp := filepath.Join(filepath.Dir(dst), ".frontdesk-backup-"+rand.Text()+".db")
			if err := app.DB.Backup(ctx, tmp); err != nil {
				return err
			}
			defer os.Remove(tmp)
			var err error
			if force {
				err = os.Rename(tmp, dst)
			} else {
				// A link fails if FILE appeared meanwhile: never replaced
				// without --force.
				err = os.Link(tmp, dst)
				if errors.Is(err, fs.ErrExist) {
					err = refuseExisting(dst, false)
				}
			}
			if err != nil {
				return err
			}
			st, err := os.Stat(dst)
			if err != nil {
				return err
			}
			fmt.Fprintf(app.Stdout, "Backed up %s to %s (%.1f MB).\n", app.DBName(), dst, float64(st.Size())/1e6)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace FILE if it exists")
	markNoEnv(cmd.Flags(), "force")
	return cmd
}

// refuseExisting refuses to write over an existing file unless force, for
// every command that writes a file the user names (backup, customers
// export).
func refuseExisting(path string, force bool) error {
	if _, err := os.Lstat(path); err == nil && !force {
		return store.Errorf(store.EINVALID, "%s already exists; choose another name or add --force to replace it", path)
	}
	return nil
}
