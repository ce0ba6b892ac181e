package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// customerUpdate is a customer's new names and phone, for updateCustomers.
type customerUpdate struct {
	ID                         int64
	FirstName, LastName, Phone string
}

// updateBatch is how many customers one statement of updateCustomers or
// rebuildSearchKeys changes (7 or 3 variables each). One statement per customer would make FTS5
// write a search-index segment per customer (see CustomerWriter).
const updateBatch = 1000

// updateCustomers is the one UPDATE of customers' names and phone: it
// writes the columns derived from them with them (sort name, name and phone
// search keys for the organization's country), so the roster's order and
// the search index cannot drift from what a customer is called. It changes
// the organization's live (unarchived) customers among rows, in batches,
// and returns how many it changed. Values are stored as given (callers trim
// and check them).
func (tx *Tx) updateCustomers(ctx context.Context, orgID int64, country string, rows []customerUpdate) (int64, error) {
	var changed int64
	now := tx.now().Truncate(time.Second).Unix()
	vals := make([]any, 0, 2+7*min(len(rows), updateBatch))
	for start := 0; start < len(rows); start += updateBatch {
		batch := rows[start:min(start+updateBatch, len(rows))]
		vals = append(vals[:0], now)
		for _, r := range batch {
			vals = append(vals, r.ID, r.FirstName, r.LastName, SortName(r.FirstName, r.LastName), NameKeys(r.FirstName, r.LastName),
				r.Phone, PhoneKeys(r.Phone, country))
		}
		vals = append(vals, orgID)
		n, err := tx.execBatch(ctx, customerUpdateSQL(len(batch)), len(batch) == updateBatch, vals)
		if err != nil {
			return changed, err
		}
		changed += n
	}
	return changed, nil
}

// customerUpdateSQL is updateCustomers' statement for rows customers. The
// ids are cast so that PostgreSQL types the VALUES column as the id it is
// compared with (it reads untyped parameters there as text).
func customerUpdateSQL(rows int) string {
	return `UPDATE customers SET first_name = v.column2, last_name = v.column3, sort_name = v.column4, name_keys = v.column5,
		phone = v.column6, phone_keys = v.column7, updated_at = ?
		FROM (VALUES ` + placeholders(`(CAST(? AS BIGINT), ?, ?, ?, ?, ?, ?)`, rows) + `) AS v
		WHERE customers.id = v.column1 AND customers.org_id = ? AND customers.archived = 0`
}

// searchKeysSQL is rebuildSearchKeys' statement for rows customers.
func searchKeysSQL(rows int) string {
	return `UPDATE customers SET name_keys = v.column2, phone_keys = v.column3
		FROM (VALUES ` + placeholders(`(CAST(? AS BIGINT), ?, ?)`, rows) + `) AS v WHERE customers.id = v.column1`
}

// execBatch runs one batch statement and returns the rows it changed. A full
// batch's statement is prepared on the transaction and reused; a shorter one
// runs once unprepared rather than holding a statement of its own until the
// transaction ends (as CustomerWriter.exec).
func (tx *Tx) execBatch(ctx context.Context, query string, full bool, vals []any) (int64, error) {
	var res sql.Result
	var err error
	if full {
		var st *sql.Stmt
		if st, err = tx.prepared(ctx, query); err == nil {
			res, err = st.ExecContext(ctx, vals...)
		}
	} else {
		res, err = tx.tx.ExecContext(ctx, query, vals...)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// orgCountry is the organization's country, for its customers' phone keys.
func (q conn) orgCountry(ctx context.Context, orgID int64) (string, error) {
	var c string
	err := q.queryRow(ctx, `SELECT country FROM orgs WHERE id = ?`, orgID).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", Errorf(ENOTFOUND, "organization %d not found", orgID)
	}
	return c, err
}

// rebuildBatch is how many customers rebuildSearchKeys reads per query,
// and re-indexes per statement.
const rebuildBatch = 10_000

// rebuildSearchKeys recomputes the name and phone search keys of every
// customer of the organization (orgID 0: of every organization, for the
// migration that introduced them), writes those that changed and re-indexes
// them for search. Archived customers are rebuilt too, so a restore finds
// them searchable as everyone else. It reads by id in pages, so the rows it
// writes never move under the page being read.
//
// Nearly every customer's keys change when a migration or a country
// changes how they are made, and through the update trigger each row's
// re-indexing is a statement of its own in FTS5's eyes: 6 minutes for a
// million customers on a loaded 2-core machine. So, as the bulk-load door
// does for inserts, the triggers are set aside while the keys are written
// and their work done in bulk: the changed rows are re-indexed ten thousand
// to a statement, with the index merging less often meanwhile, and the
// change log (migration 0009) gets one change of every customer per
// organization concerned rather than a row per customer, which would tell
// the screens no more than "search finds other people now". The triggers
// and the setting are put back before the transaction ends (a failure rolls
// all of it back).
func (tx *Tx) rebuildSearchKeys(ctx context.Context, orgID int64) error {
	countries := map[int64]string{}
	rows, err := tx.query(ctx, `SELECT id, country FROM orgs WHERE ?1 = 0 OR id = ?1`, orgID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var c string
		if err := rows.Scan(&id, &c); err != nil {
			rows.Close()
			return err
		}
		countries[id] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	restore, err := tx.setSearchAside(ctx)
	if err != nil {
		return err
	}

	var after int64
	var changes []any
	var changed []int64
	orgs := map[int64]bool{} // those with a customer whose keys changed
	for {
		changes = changes[:0]
		rows, err := tx.query(ctx, `SELECT id, org_id, first_name, last_name, phone, name_keys, phone_keys FROM customers
			WHERE id > ?1 AND (?2 = 0 OR +org_id = ?2) ORDER BY id LIMIT ?3`, after, orgID, rebuildBatch)
		if err != nil {
			return err
		}
		n := 0
		for rows.Next() {
			var id, org int64
			var first, last, phone, names, phones string
			if err := rows.Scan(&id, &org, &first, &last, &phone, &names, &phones); err != nil {
				rows.Close()
				return err
			}
			n++
			after = id
			nk, pk := NameKeys(first, last), PhoneKeys(phone, countries[org])
			if nk != names || pk != phones {
				changes = append(changes, id, nk, pk)
				changed = append(changed, id)
				orgs[org] = true
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for c := changes; len(c) > 0; {
			k := min(len(c)/3, updateBatch)
			if _, err := tx.execBatch(ctx, searchKeysSQL(k), k == updateBatch, c[:3*k]); err != nil {
				return err
			}
			c = c[3*k:]
		}
		if n < rebuildBatch {
			break
		}
	}
	var total int
	if err := tx.queryRow(ctx, `SELECT count(*) FROM customers`).Scan(&total); err != nil {
		return err
	}
	if err := tx.reindex(ctx, changed, orgID == 0 || len(changed)*4 > total); err != nil {
		return err
	}
	for org := range orgs {
		if _, err := tx.tx.ExecContext(ctx, `INSERT INTO changes (org_id, customer_id, kind) VALUES (?, 0, 'customer')`, org); err != nil {
			return err
		}
	}
	return restore()
}

// setSearchAside sets aside the triggers that fire when rebuildSearchKeys
// writes a customer's keys (rebuildSetAside), for the transaction, and
// returns what puts them back. On SQLite it drops them and recreates them
// from their recorded DDL, and has FTS5 merge its index less often
// meanwhile. On PostgreSQL it disables them (ALTER TABLE … DISABLE
// TRIGGER, transactional and not locking out readers, as the bulk-load
// door does).
func (tx *Tx) setSearchAside(ctx context.Context) (restore func() error, err error) {
	if tx.db.pg != nil {
		set := func(verb string) error {
			for _, name := range rebuildSetAside {
				if _, err := tx.tx.ExecContext(ctx, `ALTER TABLE customers `+verb+` TRIGGER `+pgSearchTrigger(name)); err != nil {
					return fmt.Errorf("store: %s trigger %s: %w", strings.ToLower(verb), pgSearchTrigger(name), err)
				}
			}
			return nil
		}
		if err := set("DISABLE"); err != nil {
			return nil, err
		}
		return func() error { return set("ENABLE") }, nil
	}
	var triggers []string
	for _, name := range rebuildSetAside {
		var ddl string
		if err := tx.queryRow(ctx, `SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = ?`, name).Scan(&ddl); err != nil {
			return nil, fmt.Errorf("store: reading trigger %s to set it aside: %w", name, err)
		}
		if _, err := tx.tx.ExecContext(ctx, `DROP TRIGGER `+name); err != nil {
			return nil, err
		}
		triggers = append(triggers, ddl)
	}
	automerge := 4 // FTS5's default, in force while the config table has no row
	if err := tx.queryRow(ctx, `SELECT v FROM customers_fts_config WHERE k = 'automerge'`).Scan(&automerge); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if _, err := tx.tx.ExecContext(ctx, `INSERT INTO customers_fts (customers_fts, rank) VALUES ('automerge', ?)`, bulkFTSAutomerge); err != nil {
		return nil, err
	}
	return func() error {
		for _, ddl := range triggers {
			if _, err := tx.tx.ExecContext(ctx, ddl); err != nil {
				return err
			}
		}
		_, err := tx.tx.ExecContext(ctx, `INSERT INTO customers_fts (customers_fts, rank) VALUES ('automerge', ?)`, automerge)
		return err
	}, nil
}

// pgSearchTrigger is the PostgreSQL name of a trigger of rebuildSetAside:
// SQLite's search index trigger is PostgreSQL's search document's.
func pgSearchTrigger(name string) string {
	if name == "customers_fts_update" {
		return "customers_search_update"
	}
	return name
}

// rebuildSetAside are the triggers that fire when rebuildSearchKeys writes
// a customer's keys, whose work it does in bulk instead.
var rebuildSetAside = []string{"customers_fts_update", "customers_change_edit"}

// reindex does the update trigger's work for the customers with the given
// ids (ascending), a page of them per statement. With all, it rebuilds the
// whole index instead, every customer of every organization: when most rows
// change that is faster, since deleting rows one by one leaves tombstones
// that every later merge has to read past.
func (tx *Tx) reindex(ctx context.Context, ids []int64, all bool) error {
	if tx.db.pg != nil {
		return tx.pgReindex(ctx, ids, all)
	}
	const insert = `INSERT INTO customers_fts (rowid, name, email, phone) ` + ftsRows + ` `
	if all {
		if _, err := tx.tx.ExecContext(ctx, `INSERT INTO customers_fts (customers_fts) VALUES ('delete-all')`); err != nil {
			return err
		}
		return tx.customerIDRanges(ctx, BulkTxCustomers, func(from, to int64) error {
			_, err := tx.tx.ExecContext(ctx, insert+`WHERE id BETWEEN ? AND ?`, from, to)
			return err
		})
	}
	return idLists(ids, func(list string) error {
		for _, q := range []string{
			`DELETE FROM customers_fts WHERE rowid IN (SELECT value FROM json_each(?))`,
			insert + `WHERE id IN (SELECT value FROM json_each(?))`,
		} {
			if _, err := tx.tx.ExecContext(ctx, q, list); err != nil {
				return err
			}
		}
		return nil
	})
}

// customerIDRanges calls fn for each range of step ids, from the smallest
// customer id to the largest (none without customers).
func (tx *Tx) customerIDRanges(ctx context.Context, step int64, fn func(from, to int64) error) error {
	var lo, hi int64
	if err := tx.tx.QueryRowContext(ctx, `SELECT coalesce(min(id), 0), coalesce(max(id), 0) FROM customers`).Scan(&lo, &hi); err != nil {
		return err
	}
	for from := lo; from <= hi && hi > 0; from += step {
		if err := fn(from, from+step-1); err != nil {
			return err
		}
	}
	return nil
}

// idLists calls fn with the ids, rebuildBatch at a time, as a JSON array.
func idLists(ids []int64, fn func(list string) error) error {
	for start := 0; start < len(ids); start += rebuildBatch {
		list, err := json.Marshal(ids[start:min(start+rebuildBatch, len(ids))])
		if err != nil {
			return err
		}
		if err := fn(string(list)); err != nil {
			return err
		}
	}
	return nil
}

// pgReindex is reindex on PostgreSQL: the search documents of the
// customers rewritten set-wise (customers_search_doc, as the update
// trigger writes one), ten thousand to a statement.
func (tx *Tx) pgReindex(ctx context.Context, ids []int64, all bool) error {
	const set = `INSERT INTO customers_search (id, doc)
		SELECT id, customers_search_doc(first_name, last_name, name_keys, email, phone_keys) FROM customers `
	const upsert = ` ON CONFLICT (id) DO UPDATE SET doc = excluded.doc`
	if all {
		return tx.customerIDRanges(ctx, rebuildBatch, func(from, to int64) error {
			_, err := tx.tx.ExecContext(ctx, set+`WHERE id BETWEEN ? AND ?`+upsert, from, to)
			return err
		})
	}
	return idLists(ids, func(list string) error {
		_, err := tx.tx.ExecContext(ctx, set+`WHERE id IN (`+tx.db.d.idList+`)`+upsert, list)
		return err
	})
}

// rebuildAllSearchKeys is migration 0017's Go step.
func rebuildAllSearchKeys(ctx context.Context, _ *DB, tx *Tx) error {
	return tx.rebuildSearchKeys(ctx, 0)
}
