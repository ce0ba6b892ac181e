package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Role is a staff member's role. Owners and admins hold the permission to
// manage customers; staff can look but not change.
type Role string

const (
	RoleOwner Role = "owner"
	RoleAdmin Role = "admin"
	RoleStaff Role = "staff"
)

// ParseRole accepts owner, admin or staff.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.ToLower(strings.TrimSpace(s))); r {
	case RoleOwner, RoleAdmin, RoleStaff:
		return r, nil
	}
	return "", Errorf(EINVALID, "unknown role %q; use owner, admin or staff", s)
}

// CanManageCustomers is the "manage customers" permission: edit emails and
// send invites.
func (r Role) CanManageCustomers() bool { return r == RoleOwner || r == RoleAdmin }

// Staff is a member of an organization's team.
type Staff struct {
	ID        int64
	OrgID     int64
	Email     string
	Name      string
	Role      Role
	CreatedAt time.Time
}

// StaffKey is an SSH public key a staff member signs in with.
type StaffKey struct {
	ID          int64
	StaffID     int64
	PublicKey   string // authorized_keys form
	Fingerprint string // SHA256:…
	CreatedAt   time.Time
}

// CreateStaff validates and inserts s.
func (tx *Tx) CreateStaff(ctx context.Context, s *Staff) error {
	s.Email = NormalizeEmail(s.Email)
	s.Name = strings.TrimSpace(s.Name)
	if err := ValidateEmail(s.Email); err != nil {
		return Errorf(EINVALID, "staff %s", ErrorMessage(err))
	}
	if s.Name == "" {
		return Errorf(EINVALID, "staff name is empty; give one with --name")
	}
	if err := CheckText("staff name", s.Name, MaxNameLen); err != nil {
		return err
	}
	if _, err := ParseRole(string(s.Role)); err != nil {
		return err
	}
	s.CreatedAt = tx.now().Truncate(time.Second)
	id, err := tx.insert(ctx, `INSERT INTO staff (org_id, email, name, role, created_at) VALUES (?, ?, ?, ?, ?)`,
		s.OrgID, s.Email, s.Name, s.Role, s.CreatedAt.Unix())
	if isConstraint(err) {
		return Errorf(ECONFLICT, "a staff member with email %s already exists", s.Email)
	} else if err != nil {
		return err
	}
	s.ID = id
	return nil
}

// RemoveStaff marks a staff member removed and deletes their keys, so they can
// no longer sign in; their past actions keep their name. The last owner stays:
// without one nobody could run the TUI by default or manage the team.
func (tx *Tx) RemoveStaff(ctx context.Context, orgID, id int64) error {
	var lastOwner bool
	if err := tx.queryRow(ctx, `SELECT role = 'owner' AND (SELECT count(*) FROM staff WHERE org_id = ? AND role = 'owner' AND removed_at IS NULL) = 1
		FROM staff WHERE id = ? AND org_id = ? AND removed_at IS NULL`, orgID, id, orgID).Scan(&lastOwner); errors.Is(err, sql.ErrNoRows) {
		return Errorf(ENOTFOUND, "staff member not found")
	} else if err != nil {
		return err
	}
	if lastOwner {
		return Errorf(EINVALID, "this is the organization's last owner; add another owner first")
	}
	res, err := tx.exec(ctx, `UPDATE staff SET removed_at = ? WHERE id = ? AND org_id = ? AND removed_at IS NULL`, tx.now().Unix(), id, orgID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Errorf(ENOTFOUND, "staff member not found")
	}
	_, err = tx.exec(ctx, `DELETE FROM staff_keys WHERE staff_id = ?`, id)
	return err
}

const staffColumns = `id, org_id, email, name, role, created_at`

// AccessChanged reports whether a session opened as s may no longer go on,
// given the staff member read again (now, err): they were removed (or the
// key they signed in with was, err is ENOTFOUND), it is someone else, or
// their role changed. Another error changes nothing: the next check tries
// again.
func (s *Staff) AccessChanged(now *Staff, err error) bool {
	if err != nil {
		return ErrorCode(err) == ENOTFOUND
	}
	return now.ID != s.ID || now.Role != s.Role
}

func scanStaff(row interface{ Scan(...any) error }) (*Staff, error) {
	var s Staff
	var created int64
	err := row.Scan(&s.ID, &s.OrgID, &s.Email, &s.Name, &s.Role, &created)
	s.CreatedAt = time.Unix(created, 0)
	return &s, err
}

func (q conn) oneStaff(ctx context.Context, notFound string, where string, args ...any) (*Staff, error) {
	s, err := scanStaff(q.queryRow(ctx, `SELECT `+staffColumns+` FROM staff WHERE removed_at IS NULL AND `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "%s", notFound)
	}
	return s, err
}

// StaffByID returns an active staff member.
func (q conn) StaffByID(ctx context.Context, id int64) (*Staff, error) {
	return q.oneStaff(ctx, "staff member not found", `id = ?`, id)
}

// StaffByEmail returns the active staff member with that email, any case.
func (q conn) StaffByEmail(ctx context.Context, email string) (*Staff, error) {
	return q.oneStaff(ctx, "no staff member with email "+email+"; `frontdesk staff list` shows them", `lower(email) = ?`, FoldEmail(NormalizeEmail(email)))
}

// FirstOwner returns the organization's earliest owner.
func (q conn) FirstOwner(ctx context.Context, orgID int64) (*Staff, error) {
	return q.oneStaff(ctx, "the organization has no owner; add one with `frontdesk staff add --role owner`", `org_id = ? AND role = 'owner' ORDER BY id LIMIT 1`, orgID)
}

// StaffByFingerprint returns the staff member owning the key with that SHA256
// fingerprint.
func (q conn) StaffByFingerprint(ctx context.Context, fingerprint string) (*Staff, error) {
	return q.oneStaff(ctx, "no staff member has this key", `id = (SELECT staff_id FROM staff_keys WHERE fingerprint = ?)`, fingerprint)
}

// StaffList lists an organization's active staff, owners first.
func (q conn) StaffList(ctx context.Context, orgID int64) ([]*Staff, error) {
	rows, err := q.query(ctx, `SELECT `+staffColumns+` FROM staff WHERE org_id = ? AND removed_at IS NULL
		ORDER BY CASE role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, name, id`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Staff
	for rows.Next() {
		s, err := scanStaff(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// ParseAuthorizedKey parses one authorized_keys line (options are refused: a key
// here is only a key) and returns it normalised with its SHA256 fingerprint.
func ParseAuthorizedKey(line string) (normalized, fingerprint string, err error) {
	pk, comment, options, rest, err := ssh.ParseAuthorizedKey([]byte(strings.TrimSpace(line)))
	if err != nil {
		return "", "", Errorf(EINVALID, "not an SSH public key (expected a line like \"ssh-ed25519 AAAA… you@laptop\", as in ~/.ssh/id_ed25519.pub)")
	}
	if len(options) > 0 || len(strings.TrimSpace(string(rest))) > 0 {
		return "", "", Errorf(EINVALID, "give one public key without authorized_keys options")
	}
	normalized = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pk)))
	if comment != "" {
		normalized += " " + comment
	}
	return normalized, ssh.FingerprintSHA256(pk), nil
}

// AddStaffKey registers an SSH public key for a staff member.
func (tx *Tx) AddStaffKey(ctx context.Context, staffID int64, authorizedKey string) (*StaffKey, error) {
	norm, fp, err := ParseAuthorizedKey(authorizedKey)
	if err != nil {
		return nil, err
	}
	k := &StaffKey{StaffID: staffID, PublicKey: norm, Fingerprint: fp, CreatedAt: tx.now().Truncate(time.Second)}
	k.ID, err = tx.insert(ctx, `INSERT INTO staff_keys (staff_id, public_key, fingerprint, created_at) VALUES (?, ?, ?, ?)`,
		staffID, norm, fp, k.CreatedAt.Unix())
	if isConstraint(err) {
		return nil, Errorf(ECONFLICT, "key %s is already registered", fp)
	} else if err != nil {
		return nil, err
	}
	return k, nil
}

// StaffKeys lists a staff member's keys.
func (q conn) StaffKeys(ctx context.Context, staffID int64) ([]StaffKey, error) {
	rows, err := q.query(ctx, `SELECT id, staff_id, public_key, fingerprint, created_at FROM staff_keys WHERE staff_id = ? ORDER BY id`, staffID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []StaffKey
	for rows.Next() {
		var k StaffKey
		var at int64
		if err := rows.Scan(&k.ID, &k.StaffID, &k.PublicKey, &k.Fingerprint, &at); err != nil {
			return nil, err
		}
		k.CreatedAt = time.Unix(at, 0)
		out = append(out, k)
	}
	return out, rows.Err()
}
