package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"frontdesk/store"
)

func newMigrateDataCmd(app *App) *cobra.Command {
	var from, to string
	cmd := &cobra.Command{
		Use:   "migrate-data --from SQLITE_FILE --to postgres://…",
		Short: "Move a SQLite database whole into an empty PostgreSQL database",
		Long: `Move everything in a SQLite database (every organization, every table, ids
kept) into an empty PostgreSQL database, in one transaction: the PostgreSQL
database has all of it or, on any error, none. It refuses a database that
already holds anything. Every table is counted on both sides before the move
commits; the counts are printed.

Stop frontdesk serve on the SQLite file first: the move copies one snapshot,
and whatever is written after it stays behind.

Email waiting in the outbox stays encrypted with the same outbox key file
(the one beside SQLITE_FILE, or --outbox-key): give every node that serves
the PostgreSQL database a copy of it as --outbox-key.

Prefer FRONTDESK_TO to --to: a connection string may hold a password, and
flags show in ps.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || to == "" {
				return usageError{errors.New("migrate-data: give both --from SQLITE_FILE and --to postgres://…")}
			}
			if store.IsPostgres(from) {
				return usageError{errors.New("--from: give the SQLite file to move from (frontdesk.db in its data directory), not a connection string")}
			}
			if !store.IsPostgres(to) {
				return usageError{fmt.Errorf("--to: give the PostgreSQL database to move into, as postgres://USER:PASSWORD@HOST:PORT/DATABASE or host=HOST dbname=DATABASE")}
			}
			return migrateData(cmd.Context(), app, from, to)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the SQLite file to move (frontdesk.db in its data directory)")
	cmd.Flags().StringVar(&to, "to", "", "the empty PostgreSQL database to move into (prefer FRONTDESK_TO: flags show in ps)")
	return cmd
}

func migrateData(ctx context.Context, app *App, from, to string) error {
	// The source's outbox key file is the one that opens its sealed bodies
	// (beside the file unless --outbox-key says otherwise); the target is
	// opened with the same, so nothing is sealed there under another.
	src, err := store.OpenWith(from, store.Options{OutboxKey: app.OutboxKey, Existing: true})
	if errors.Is(err, store.ErrNoDatabase) {
		return store.Errorf(store.ENOTFOUND, "--from %s: there is no frontdesk database there", from)
	} else if err != nil {
		return err
	}
	defer src.Close()
	key := src.OutboxKeyPath()
	dst, err := store.OpenWith(to, store.Options{OutboxKey: key})
	if err != nil {
		return err
	}
	defer dst.Close()

	bars := map[string]*progress{}
	moved, err := store.MoveData(ctx, src, dst, store.MoveOptions{Progress: func(table string, done, total int64) {
		// Only long tables get a bar: short ones move in a moment.
		if total < 50_000 {
			return
		}
		b := bars[table]
		if b == nil {
			b = newProgress(app.Stderr, "Moving "+table)
			bars[table] = b
		}
		b.Update(int(done), int(total))
		if done >= total {
			b.Done(true)
		}
	}})
	for _, b := range bars {
		b.Done(err == nil)
	}
	if err != nil {
		return err
	}
	var parts []string
	for _, m := range moved {
		parts = append(parts, fmt.Sprintf("%s %d", m.Name, m.Rows))
	}
	fmt.Fprintf(app.Stdout, "Moved %s into %s; rows counted on both sides: %s.\n", from, store.Describe(to), strings.Join(parts, ", "))
	if _, err := os.Stat(key); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(app.Stdout, "There was no outbox key file (%s): nothing in the outbox was sealed.\n", key)
	} else {
		abs, _ := filepath.Abs(key)
		fmt.Fprintf(app.Stdout, "Email waiting in the outbox is still sealed with %s: give every node a copy of it as --outbox-key %s.\n", abs, abs)
	}
	return nil
}
