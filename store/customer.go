package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// Status is a customer's account status as staff see it in the roster.
type Status string

const (
	StatusClaimed    Status = "claimed"
	StatusInvited    Status = "invited"
	StatusExpired    Status = "expired"
	StatusFailed     Status = "failed"
	StatusNotInvited Status = "not_invited"
	StatusNoEmail    Status = "no_email"
)

// Statuses in the order the roster's filters cycle through them.
var Statuses = []Status{StatusNotInvited, StatusInvited, StatusExpired, StatusFailed, StatusClaimed, StatusNoEmail}

// Label is the status as DESIGN §4 words it.
func (s Status) Label() string {
	switch s {
	case StatusClaimed:
		return "Claimed"
	case StatusInvited:
		return "Invited"
	case StatusExpired:
		return "Invite expired"
	case StatusFailed:
		return "Delivery failed"
	case StatusNotInvited:
		return "Not invited"
	case StatusNoEmail:
		return "No email"
	}
	return string(s)
}

// ParseStatus accepts a status in any of the forms people type: "not-invited",
// "not_invited", "Not invited".
func ParseStatus(s string) (Status, error) {
	k := strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToLower(strings.TrimSpace(s)))
	if k == "invite_expired" {
		k = "expired"
	}
	if k == "delivery_failed" {
		k = "failed"
	}
	for _, st := range Statuses {
		if string(st) == k {
			return st, nil
		}
	}
	return "", Errorf(EINVALID, "unknown status %q; use one of not-invited, invited, expired, failed, claimed, no-email", s)
}

// statusOf derives the roster status from the stored state column (see the
// customers table) and the clock.
func statusOf(state string, expiresAt sql.NullInt64, now time.Time) Status {
	switch state {
	case "claimed":
		return StatusClaimed
	case "no_email":
		return StatusNoEmail
	case "failed":
		return StatusFailed
	case "pending":
		if expiresAt.Valid && expiresAt.Int64 > now.Unix() {
			return StatusInvited
		}
		return StatusExpired
	}
	return StatusNotInvited
}

// statusWhere is the SQL condition (on alias c) selecting one status, with its
// arguments.
func statusWhere(s Status, now time.Time) (string, []any) {
	switch s {
	case StatusClaimed:
		return `c.state = 'claimed'`, nil
	case StatusNoEmail:
		return `c.state = 'no_email'`, nil
	case StatusFailed:
		return `c.state = 'failed'`, nil
	case StatusInvited:
		return `c.state = 'pending' AND c.invite_expires_at > ?`, []any{now.Unix()}
	case StatusExpired:
		return `c.state = 'pending' AND c.invite_expires_at <= ?`, []any{now.Unix()}
	}
	return `c.state = 'none'`, nil
}

// Field is one custom field value ("Membership level: Gold").
type Field struct {
	Name  string
	Value string
}

// Customer is a person on an organization's roster.
type Customer struct {
	ID              int64
	OrgID           int64
	FirstName       string
	LastName        string
	Email           string
	Phone           string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	ClaimedAt       time.Time // zero until the customer claims the account
	PasswordHash    string
	Archived        bool
	Status          Status
	InviteSentAt    time.Time // of the latest live claim invite
	InviteExpiresAt time.Time
	Fields          []Field
}

// Name is the customer's full name as shown to people.
func (c *Customer) Name() string {
	return strings.TrimSpace(c.FirstName + " " + c.LastName)
}

// SortName is the key the roster is ordered by.
func SortName(first, last string) string {
	return strings.ToLower(strings.TrimSpace(first + " " + last))
}

// CustomerStore reads and writes customers.
type CustomerStore interface {
	CreateCustomer(ctx context.Context, q Queryer, c *Customer) error
	Customer(ctx context.Context, q Queryer, orgID, id int64) (*Customer, error)
	CustomerByEmail(ctx context.Context, q Queryer, orgID int64, email string) (*Customer, error)
	SetCustomerEmail(ctx context.Context, q Queryer, orgID, id int64, email string) error
	CustomFieldNames(ctx context.Context, q Queryer, orgID int64) ([]string, error)
}

var _ CustomerStore = (*DB)(nil)

// CreateCustomer inserts c with its custom fields. Call it in a transaction
// when c has fields, so the customer and the fields land together.
func (db *DB) CreateCustomer(ctx context.Context, q Queryer, c *Customer) error {
	c.FirstName, c.LastName = strings.TrimSpace(c.FirstName), strings.TrimSpace(c.LastName)
	c.Email, c.Phone = NormalizeEmail(c.Email), strings.TrimSpace(c.Phone)
	if c.FirstName == "" && c.LastName == "" {
		return Errorf(EINVALID, "customer has no name")
	}
	now := db.Now().Truncate(time.Second)
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	c.UpdatedAt = now
	state := "none"
	if c.Email == "" {
		state = "no_email"
	}
	res, err := db.exec(ctx, q, `INSERT INTO customers (org_id, first_name, last_name, sort_name, email, phone, phone_keys, created_at, updated_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.OrgID, c.FirstName, c.LastName, SortName(c.FirstName, c.LastName), c.Email, c.Phone, PhoneKeys(c.Phone), c.CreatedAt.Unix(), c.UpdatedAt.Unix(), state)
	if isConstraint(err) {
		return db.duplicateEmail(ctx, q, c.OrgID, c.Email, 0)
	} else if err != nil {
		return err
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	c.Status = statusOf(state, sql.NullInt64{}, now)
	return db.setFields(ctx, q, c.OrgID, c.ID, c.Fields)
}

// duplicateEmail builds the conflict error naming the customer who already
// has email.
func (db *DB) duplicateEmail(ctx context.Context, q Queryer, orgID int64, email string, except int64) error {
	other, err := db.CustomerByEmail(ctx, q, orgID, email)
	if err != nil || other.ID == except {
		return Errorf(ECONFLICT, "another customer already uses %s", email)
	}
	return Errorf(ECONFLICT, "Another customer, %s, already uses this email", other.Name())
}

// setFields stores custom field values, declaring new field names for the
// organization as it meets them.
func (db *DB) setFields(ctx context.Context, q Queryer, orgID, customerID int64, fields []Field) error {
	for _, f := range fields {
		name := strings.TrimSpace(f.Name)
		if name == "" {
			return Errorf(EINVALID, "custom field without a name")
		}
		var fieldID int64
		err := db.queryRow(ctx, q, `INSERT INTO custom_fields (org_id, name, position)
			VALUES (?, ?, (SELECT coalesce(max(position), 0) + 1 FROM custom_fields WHERE org_id = ?))
			ON CONFLICT (org_id, name) DO UPDATE SET name = excluded.name RETURNING id`, orgID, name, orgID).Scan(&fieldID)
		if err != nil {
			return err
		}
		if f.Value == "" {
			_, err = db.exec(ctx, q, `DELETE FROM custom_field_values WHERE customer_id = ? AND field_id = ?`, customerID, fieldID)
		} else {
			_, err = db.exec(ctx, q, `INSERT INTO custom_field_values (customer_id, field_id, value) VALUES (?, ?, ?)
				ON CONFLICT (customer_id, field_id) DO UPDATE SET value = excluded.value`, customerID, fieldID, f.Value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// CustomFieldNames lists an organization's custom fields in declaration order.
func (db *DB) CustomFieldNames(ctx context.Context, q Queryer, orgID int64) ([]string, error) {
	rows, err := db.query(ctx, q, `SELECT name FROM custom_fields WHERE org_id = ? ORDER BY position, id`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

const customerColumns = `c.id, c.org_id, c.first_name, c.last_name, c.email, c.phone, c.created_at, c.updated_at, c.claimed_at, c.password_hash, c.archived, c.state, c.invite_sent_at, c.invite_expires_at`

func scanCustomer(row interface{ Scan(...any) error }, now time.Time) (*Customer, error) {
	var c Customer
	var created, updated int64
	var claimed, sent, expires sql.NullInt64
	var state string
	err := row.Scan(&c.ID, &c.OrgID, &c.FirstName, &c.LastName, &c.Email, &c.Phone, &created, &updated, &claimed, &c.PasswordHash, &c.Archived, &state, &sent, &expires)
	c.CreatedAt, c.UpdatedAt = time.Unix(created, 0), time.Unix(updated, 0)
	c.ClaimedAt, c.InviteSentAt, c.InviteExpiresAt = fromUnix(claimed), fromUnix(sent), fromUnix(expires)
	c.Status = statusOf(state, expires, now)
	return &c, err
}

// Customer returns one customer of the organization with its custom fields.
// A customer of another organization is not found.
func (db *DB) Customer(ctx context.Context, q Queryer, orgID, id int64) (*Customer, error) {
	c, err := scanCustomer(db.queryRow(ctx, q, `SELECT `+customerColumns+` FROM customers c WHERE c.org_id = ? AND c.id = ?`, orgID, id), db.Now())
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "customer %d not found", id)
	} else if err != nil {
		return nil, err
	}
	c.Fields, err = db.customerFields(ctx, q, c.ID)
	return c, err
}

// CustomerByEmail returns the organization's customer with that email, any case.
func (db *DB) CustomerByEmail(ctx context.Context, q Queryer, orgID int64, email string) (*Customer, error) {
	email = NormalizeEmail(email)
	var id int64
	err := db.queryRow(ctx, q, `SELECT id FROM customers WHERE org_id = ? AND lower(email) = lower(?) AND email <> ''`, orgID, email).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no customer with email %s", email)
	} else if err != nil {
		return nil, err
	}
	return db.Customer(ctx, q, orgID, id)
}

func (db *DB) customerFields(ctx context.Context, q Queryer, customerID int64) ([]Field, error) {
	rows, err := db.query(ctx, q, `SELECT f.name, v.value FROM custom_field_values v JOIN custom_fields f ON f.id = v.field_id
		WHERE v.customer_id = ? ORDER BY f.position, f.id`, customerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Field
	for rows.Next() {
		var f Field
		if err := rows.Scan(&f.Name, &f.Value); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// SetCustomerEmail changes a customer's email (empty clears it) and refreshes
// the status. Revoking outstanding invites and auditing belong to the caller's
// transaction (claim.Service.ChangeEmail); an invite whose address no longer
// matches is dead either way (see refreshState).
func (db *DB) SetCustomerEmail(ctx context.Context, q Queryer, orgID, id int64, email string) error {
	email = NormalizeEmail(email)
	if email != "" {
		if err := ValidateEmail(email); err != nil {
			return err
		}
	}
	res, err := db.exec(ctx, q, `UPDATE customers SET email = ?, updated_at = ? WHERE org_id = ? AND id = ?`, email, db.Now().Unix(), orgID, id)
	if isConstraint(err) {
		return db.duplicateEmail(ctx, q, orgID, email, id)
	} else if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Errorf(ENOTFOUND, "customer %d not found", id)
	}
	return db.refreshState(ctx, q, `id = ?`, id)
}

// refreshState recomputes the derived status columns of the customers matching
// where. Every store method that changes what the status depends on (email,
// claim, invites, delivery) calls it in the same transaction. The latest live
// claim invite counts only if it went to the current address.
func (db *DB) refreshState(ctx context.Context, q Queryer, where string, args ...any) error {
	_, err := db.exec(ctx, q, `
		WITH live AS (
			SELECT c.id AS cid,
				(SELECT i.id FROM invites i
				 WHERE i.customer_id = c.id AND i.purpose = 'claim' AND i.used_at IS NULL AND i.revoked_at IS NULL
				   AND lower(i.email) = lower(c.email)
				 ORDER BY i.id DESC LIMIT 1) AS iid
			FROM customers c WHERE `+where+`
		)
		UPDATE customers SET
			state = CASE
				WHEN claimed_at IS NOT NULL THEN 'claimed'
				WHEN email = '' THEN 'no_email'
				WHEN live.iid IS NULL THEN 'none'
				WHEN (SELECT o.status FROM invites i JOIN outbox o ON o.id = i.outbox_id WHERE i.id = live.iid) = 'failed' THEN 'failed'
				ELSE 'pending' END,
			invite_sent_at = (SELECT created_at FROM invites WHERE id = live.iid),
			invite_expires_at = (SELECT expires_at FROM invites WHERE id = live.iid)
		FROM live WHERE customers.id = live.cid`, args...)
	return err
}
