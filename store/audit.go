package store

import (
	"context"
	"time"
)

// Actor is who did something: a staff member, a customer (on the web) or the
// system (the CLI run by whoever has the database file, the outbox worker).
type Actor struct {
	Kind string // "staff", "customer" or "system"
	ID   int64
	Name string
}

// SystemActor names an action taken from the command line or by a worker.
func SystemActor(name string) Actor { return Actor{Kind: "system", Name: name} }

// StaffActor names an action taken by a staff member.
func StaffActor(s *Staff) Actor { return Actor{Kind: "staff", ID: s.ID, Name: s.Name} }

// CustomerActor names an action a customer took on the web (claim, sign-in,
// reset, profile edit).
func CustomerActor(c *Customer) Actor { return Actor{Kind: "customer", ID: c.ID, Name: c.Name()} }

// AuditEntry is one row of the audit log.
type AuditEntry struct {
	ID         int64
	OrgID      int64
	Actor      Actor
	Action     string
	CustomerID int64 // 0 when the action is not about one customer
	Detail     string
	CreatedAt  time.Time
}

// Audit appends an entry. Call it inside the transaction of the change it
// records so the two stand or fall together.
func (tx *Tx) Audit(ctx context.Context, orgID int64, actor Actor, action string, customerID int64, detail string) error {
	var cust, actorID any
	if customerID != 0 {
		cust = customerID
	}
	if actor.ID != 0 {
		actorID = actor.ID
	}
	_, err := tx.exec(ctx, `INSERT INTO audit (org_id, actor_kind, actor_id, actor_name, action, customer_id, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		orgID, actor.Kind, actorID, actor.Name, action, cust, detail, tx.now().Unix())
	return err
}

// AuditLog returns an organization's newest entries, only those about one
// customer when customerID is not 0.
func (q conn) AuditLog(ctx context.Context, orgID, customerID int64, limit int) ([]AuditEntry, error) {
	query := `SELECT id, org_id, actor_kind, coalesce(actor_id, 0), actor_name, action, coalesce(customer_id, 0), detail, created_at FROM audit WHERE org_id = ?`
	args := []any{orgID}
	if customerID != 0 {
		query += ` AND customer_id = ?`
		args = append(args, customerID)
	}
	query += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &e.OrgID, &e.Actor.Kind, &e.Actor.ID, &e.Actor.Name, &e.Action, &e.CustomerID, &e.Detail, &at); err != nil {
			return nil, err
		}
		e.CreatedAt = time.Unix(at, 0)
		out = append(out, e)
	}
	return out, rows.Err()
}
