package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// storedBody is one outbox row's sealed bodies with what their seal names.
type storedBody struct {
	msg        OutboxMessage // ID, OrgID, CustomerID, Kind, To
	text, html string
}

// storedBodies returns every outbox row that still has a body.
func (tx *Tx) storedBodies(ctx context.Context) ([]storedBody, error) {
	rows, err := tx.tx.QueryContext(ctx, `SELECT id, org_id, coalesce(customer_id, 0), kind, to_addr, body_text, body_html FROM outbox WHERE body_text <> '' OR body_html <> '' ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storedBody
	for rows.Next() {
		var b storedBody
		if err := rows.Scan(&b.msg.ID, &b.msg.OrgID, &b.msg.CustomerID, &b.msg.Kind, &b.msg.To, &b.text, &b.html); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

func (b *storedBody) sealed() bool {
	_, t := sealedKeyID(b.text)
	_, h := sealedKeyID(b.html)
	return (t || b.text == "") && (h || b.html == "")
}

// sealPlainBodies is migration 8's Go step. The SQL cleared the bodies of
// messages done with and ended the links of failed ones; here the customers
// concerned get their state refreshed, the bodies still queued (written
// before bodies were sealed) are sealed, and, when the database held any
// mail, it is compacted after the migration (DB.scrub): an older frontdesk
// cleared sent bodies without secure_delete, so their links may still sit in
// free pages.
func sealPlainBodies(ctx context.Context, db *DB, tx *Tx) error {
	if err := tx.refreshState(ctx, `state = `+StateFailed.lit()); err != nil {
		return err
	}
	var anyMail bool
	if err := tx.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM outbox)`).Scan(&anyMail); err != nil || !anyMail {
		return err
	}
	db.scrub = true
	bodies, err := tx.storedBodies(ctx)
	if err != nil {
		return err
	}
	var key *outboxKey
	for _, b := range bodies {
		if b.sealed() {
			continue
		}
		if key == nil {
			// Nothing was sealed before this migration, so no other
			// machine can hold a key for this database yet: a named key
			// file that does not exist is made here too.
			k, err := db.keys.sealKeyOr(true)
			if err != nil {
				return err
			}
			key = &k
		}
		if _, err := tx.tx.ExecContext(ctx, `UPDATE outbox SET body_text = ?, body_html = ? WHERE id = ?`,
			key.seal(&b.msg, "text", b.text), key.seal(&b.msg, "html", b.html), b.msg.ID); err != nil {
			return err
		}
	}
	return nil
}

// KeyRotation is what RotateOutboxKey did.
type KeyRotation struct {
	KeyFile  string
	Key      string   // id of the new key
	Retired  []string // ids of the keys taken out of the key file
	Resealed int      // messages whose bodies were re-encrypted
	// Unreadable messages were left as they were: sealed with a key the key
	// file did not hold, or altered. They could not be sent before either.
	Unreadable int
}

// RotateOutboxKey puts a new key at the head of the outbox key file,
// re-encrypts every stored body under it in one transaction (audited in
// every organization), then retires the keys no stored body uses any more.
// Use it when the key file may have leaked: the old key then opens nothing
// stored from here on.
//
// Both steps run under the database's write lock, in this order, so that
// nothing is ever sealed with a key about to be retired and two rotations
// cannot interleave: whoever seals (EnqueueMessage) reads the key file
// inside its own write transaction. Until the second step has run, the file
// holds the old key too, so a crash in between loses nothing.
func (db *DB) RotateOutboxKey(ctx context.Context, actor Actor) (*KeyRotation, error) {
	r := &KeyRotation{KeyFile: db.keys.path}
	var retire []string
	err := db.Tx(ctx, func(tx *Tx) error {
		old, err := db.keys.load()
		if errors.Is(err, errNoKeyFile) {
			old = nil
		} else if err != nil {
			return err
		}
		key, err := generateKey(old)
		if err != nil {
			return err
		}
		if err := writeKeyFile(db.keys.path, append([]outboxKey{key}, old...), true); err != nil {
			return err
		}
		if _, err := db.keys.load(); err != nil {
			return err
		}
		r.Key = key.id
		bodies, err := tx.storedBodies(ctx)
		if err != nil {
			return err
		}
		perOrg := map[int64]int{}
		stillUsed := map[string]bool{}
		for _, b := range bodies {
			text, err := db.keys.open(&b.msg, "text", b.text)
			var html string
			if err == nil {
				html, err = db.keys.open(&b.msg, "html", b.html)
			}
			if err != nil {
				r.Unreadable++
				for _, v := range []string{b.text, b.html} {
					if id, ok := sealedKeyID(v); ok {
						stillUsed[id] = true
					}
				}
				continue
			}
			if _, err := tx.exec(ctx, `UPDATE outbox SET body_text = ?, body_html = ? WHERE id = ?`,
				key.seal(&b.msg, "text", text), key.seal(&b.msg, "html", html), b.msg.ID); err != nil {
				return err
			}
			r.Resealed++
			perOrg[b.msg.OrgID]++
		}
		for _, k := range old {
			if !stillUsed[k.id] {
				retire = append(retire, k.id)
			}
		}
		orgs, err := tx.Orgs(ctx)
		if err != nil {
			return err
		}
		retired := "no earlier key"
		if len(retire) > 0 {
			retired = "retired key " + strings.Join(retire, ", ")
		}
		for _, o := range orgs {
			detail := fmt.Sprintf("outbox key rotated to %s in %s; %d of this organization's queued message(s) re-encrypted; %s", key.id, db.keys.path, perOrg[o.ID], retired)
			if err := tx.Audit(ctx, o.ID, actor, "outbox.rotate_key", 0, detail); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.Retired, err = db.retireOutboxKeys(ctx)
	if err != nil {
		return r, fmt.Errorf("every stored message is re-encrypted under key %s, but the old key is still in %s: %w; run the rotation again", r.Key, db.keys.path, err)
	}
	return r, nil
}

// retireOutboxKeys removes from the key file every key but the first that no
// stored body is sealed with, under the write lock, and returns their ids.
func (db *DB) retireOutboxKeys(ctx context.Context) ([]string, error) {
	var retired []string
	err := db.Tx(ctx, func(tx *Tx) error {
		keys, err := db.keys.load()
		if err != nil {
			return err
		}
		bodies, err := tx.storedBodies(ctx)
		if err != nil {
			return err
		}
		used := map[string]bool{keys[0].id: true}
		for _, b := range bodies {
			for _, v := range []string{b.text, b.html} {
				if id, ok := sealedKeyID(v); ok {
					used[id] = true
				}
			}
		}
		var keep []outboxKey
		for _, k := range keys {
			if used[k.id] {
				keep = append(keep, k)
			} else {
				retired = append(retired, k.id)
			}
		}
		if len(retired) == 0 {
			return nil
		}
		if err := writeKeyFile(db.keys.path, keep, true); err != nil {
			return err
		}
		_, err = db.keys.load()
		return err
	})
	sort.Strings(retired)
	return retired, err
}

// OutboxKeyPath is the outbox key file this DB seals and opens bodies
// with (Options.OutboxKey, or OutboxKeyFile in the data directory); it may
// not exist yet.
func (db *DB) OutboxKeyPath() string { return db.keys.path }
