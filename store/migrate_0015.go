package store

import (
	"context"
	"regexp"
	"strings"
)

// revokeReasons finds the list of reasons in invites' CHECK on
// revoke_reason, as migration 0001 wrote it (and SQLite keeps the text).
var revokeReasons = regexp.MustCompile(`(?s)(CHECK\s*\(\s*revoke_reason\s+IN\s*\()([^)]*)(\))`)

// allowWithdrawn rebuilds invites so that its revoke_reason CHECK allows
// 'withdrawn' (migration 0015). The new table's definition is the stored
// one with only that list changed, so the columns earlier migrations added
// stay as they are, in their order; the table's own indexes and triggers
// are read before the rebuild and created again after it, whichever
// migrations made them (an index or trigger dropped with the table and not
// recreated would fail silently: a slow query, a live screen that stops
// hearing of invites).
//
// The order is migration 0006's, for the same reason: a migration runs in a
// transaction, where foreign keys cannot be turned off, so the rows are kept
// aside, the table dropped and created again under its own name, and the
// rows inserted back in id order (a reminder's reminder_of names an earlier
// invite). The triggers come back after the rows, so copying the table is
// no change anyone hears of.
func allowWithdrawn(ctx context.Context, _ *DB, tx *Tx) error {
	var ddl string
	if err := tx.tx.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'invites'`).Scan(&ddl); err != nil {
		return err
	}
	m := revokeReasons.FindAllStringSubmatchIndex(ddl, -1)
	if len(m) != 1 {
		return Errorf(EINTERNAL, "store: migration 0015: invites has %d revoke_reason CHECKs, want 1:\n%s", len(m), ddl)
	}
	list := ddl[m[0][4]:m[0][5]]
	if strings.Contains(list, "'"+string(RevokeWithdrawn)+"'") {
		return nil
	}
	rebuilt := ddl[:m[0][5]] + ", '" + string(RevokeWithdrawn) + "'" + ddl[m[0][5]:]

	rows, err := tx.tx.QueryContext(ctx, `SELECT sql FROM sqlite_schema
		WHERE tbl_name = 'invites' AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type = 'trigger', rowid`)
	if err != nil {
		return err
	}
	var again []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return err
		}
		again = append(again, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	stmts := append([]string{
		`PRAGMA defer_foreign_keys = ON`,
		`CREATE TEMP TABLE invites_0015 AS SELECT * FROM invites`,
		`DROP TABLE invites`,
		rebuilt,
		`INSERT INTO invites SELECT * FROM invites_0015 ORDER BY id`,
		`DROP TABLE invites_0015`,
	}, again...)
	for _, s := range stmts {
		if _, err := tx.tx.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	return nil
}
