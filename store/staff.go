package store

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
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
	LastUsedAt  time.Time // the last SSH session it opened; zero: never
}

// Type is the key's algorithm, as in its authorized_keys line
// ("ssh-ed25519").
func (k *StaffKey) Type() string {
	t, _, _ := strings.Cut(k.PublicKey, " ")
	return t
}

// Comment is the text after the key in its authorized_keys line (most often
// "user@host", who made it where); "" when it has none. It is the key
// owner's text, not checked when the key was added: show it inert.
func (k *StaffKey) Comment() string {
	f := strings.SplitN(k.PublicKey, " ", 3)
	if len(f) < 3 {
		return ""
	}
	return f[2]
}

// CreateStaff validates and inserts s.
func (tx *Tx) CreateStaff(ctx context.Context, s *Staff) error {
	s.Email = NormalizeEmail(s.Email)
	s.Name = strings.TrimSpace(s.Name)
	if err := ValidateEmail(s.Email); err != nil {
		return Errorf(EINVALID, "staff %s", ErrorMessage(err))
	}
	if err := checkStaffName(s.Name); err != nil {
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

// checkStaffName is the rule for a staff member's name: the text rule, and
// not empty.
func checkStaffName(name string) error {
	if name == "" {
		return Errorf(EINVALID, "staff name is empty; give one with --name")
	}
	return CheckText("staff name", name, MaxNameLen)
}

// lastOwner reports whether active staff member id of orgID is the
// organization's only owner: they keep the role and their place, since
// without an owner nobody could run the TUI by default or manage the team.
// Asked inside the write that would remove or demote them, so two such
// writes cannot each see the other owner and leave none.
func (tx *Tx) lastOwner(ctx context.Context, orgID, id int64) (bool, error) {
	var last bool
	err := tx.queryRow(ctx, `SELECT role = 'owner' AND (SELECT count(*) FROM staff WHERE org_id = ? AND role = 'owner' AND removed_at IS NULL) = 1
		FROM staff WHERE id = ? AND org_id = ? AND removed_at IS NULL`, orgID, id, orgID).Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		return false, Errorf(ENOTFOUND, "staff member not found")
	}
	return last, err
}

// lastOwnerError is the refusal to remove or demote the last owner.
func lastOwnerError(s *Staff, what string) error {
	return Errorf(EINVALID, "%s <%s> is the organization's last owner, so they cannot be %s; add another owner first (`frontdesk staff add --role owner …`, or `frontdesk staff set EMAIL --role owner`)",
		s.Name, s.Email, what)
}

// RemoveStaff marks a staff member removed and deletes their keys, so they can
// no longer sign in; their past actions keep their name. The last owner stays
// (see lastOwner).
func (tx *Tx) RemoveStaff(ctx context.Context, orgID, id int64) error {
	s, err := tx.StaffByID(ctx, id)
	if err != nil {
		return err
	}
	if last, err := tx.lastOwner(ctx, orgID, id); err != nil {
		return err
	} else if last {
		return lastOwnerError(s, "removed")
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

// StaffEdit is a change to a staff member: what is set changes, what is
// "" or nil stays. A name given empty is refused, not ignored.
type StaffEdit struct {
	Role Role
	Name *string
}

// EditStaff changes an active staff member's role or name, or both, and
// returns them as they were and as they are now (the same when nothing
// changed, and then nothing is written). The last owner keeps the owner
// role (see lastOwner). A new role takes effect at once: every write a
// session makes re-reads its staff member (claim's authorize), and an open
// session whose role changed is ended (AccessLost).
func (tx *Tx) EditStaff(ctx context.Context, orgID, id int64, e StaffEdit) (was, now *Staff, err error) {
	if was, err = tx.StaffByID(ctx, id); err != nil {
		return nil, nil, err
	}
	if was.OrgID != orgID {
		return nil, nil, Errorf(ENOTFOUND, "staff member not found")
	}
	v := *was
	now = &v
	if e.Name != nil {
		now.Name = strings.TrimSpace(*e.Name)
		if err := checkStaffName(now.Name); err != nil {
			return nil, nil, err
		}
	}
	if e.Role != "" {
		if now.Role, err = ParseRole(string(e.Role)); err != nil {
			return nil, nil, err
		}
	}
	if *now == *was {
		return was, now, nil
	}
	if was.Role == RoleOwner && now.Role != RoleOwner {
		if last, err := tx.lastOwner(ctx, orgID, id); err != nil {
			return nil, nil, err
		} else if last {
			return nil, nil, lastOwnerError(was, "made "+string(now.Role))
		}
	}
	if _, err := tx.exec(ctx, `UPDATE staff SET name = ?, role = ? WHERE id = ? AND org_id = ? AND removed_at IS NULL`,
		now.Name, now.Role, id, orgID); err != nil {
		return nil, nil, err
	}
	return was, now, nil
}

const staffColumns = `id, org_id, email, name, role, created_at`

// AccessLoss is why a session opened as a staff member may not go on.
type AccessLoss string

const (
	AccessKept    AccessLoss = ""
	AccessRemoved AccessLoss = "staff removed" // no longer on the organization's staff
	AccessKeyGone AccessLoss = "key removed"   // the SSH key the session proved is no longer theirs
	AccessRole    AccessLoss = "role changed"
)

// AccessLost reports whether a session opened as s may go on, given s read
// again by id (now, err) and, for a session opened with an SSH key, whether
// that key is still registered to s (keyKept; true for a local session):
// AccessKept, or the loss and what changed in words that follow "your
// access changed: " ("your role changed from admin to staff").
//
// Any change of role ends the session, a promotion too, rather than
// re-scoping it in place: a session's role is part of who it is (the
// header names it, the session log line records it, open screens were
// drawn for it), and one rule for every change leaves no screen half
// re-scoped. The person reconnects with the new role; meanwhile every write
// re-reads the role in its own transaction anyway (claim's authorize). A
// new name changes nothing here.
//
// An error other than ENOTFOUND changes nothing: the next check tries again.
func (s *Staff) AccessLost(now *Staff, err error, keyKept bool) (AccessLoss, string) {
	switch {
	case err != nil && ErrorCode(err) != ENOTFOUND:
		return AccessKept, ""
	case err != nil || now.ID != s.ID || now.OrgID != s.OrgID:
		return AccessRemoved, "you were removed from the organization's staff"
	case !keyKept:
		return AccessKeyGone, "the SSH key this session signed in with was removed"
	case now.Role != s.Role:
		return AccessRole, "your role changed from " + string(s.Role) + " to " + string(now.Role)
	}
	return AccessKept, ""
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

const staffKeyColumns = `id, staff_id, public_key, fingerprint, created_at, last_used_at`

func scanStaffKey(row interface{ Scan(...any) error }) (StaffKey, error) {
	var k StaffKey
	var at int64
	var used sql.NullInt64
	err := row.Scan(&k.ID, &k.StaffID, &k.PublicKey, &k.Fingerprint, &at, &used)
	k.CreatedAt = time.Unix(at, 0)
	if used.Valid {
		k.LastUsedAt = time.Unix(used.Int64, 0)
	}
	return k, err
}

// StaffKeys lists a staff member's keys.
func (q conn) StaffKeys(ctx context.Context, staffID int64) ([]StaffKey, error) {
	rows, err := q.query(ctx, `SELECT `+staffKeyColumns+` FROM staff_keys WHERE staff_id = ? ORDER BY id`, staffID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []StaffKey
	for rows.Next() {
		k, err := scanStaffKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// minFingerprintPrefix is the fewest characters of a fingerprint (after
// "SHA256:") that StaffKeyByFingerprint matches by prefix: enough that a
// slip of the keyboard names no key rather than another one.
const minFingerprintPrefix = 8

// StaffKeyByFingerprint finds the registered key a person names by its
// fingerprint as `frontdesk staff key list` prints it ("SHA256:" and 43
// characters), with or without "SHA256:", or by the start of it (at least
// minFingerprintPrefix characters) when that names one key only. An
// unknown, ambiguous or MD5 fingerprint is refused in words.
func (q conn) StaffKeyByFingerprint(ctx context.Context, text string) (*StaffKey, error) {
	fp := strings.TrimSpace(text)
	if strings.HasPrefix(fp, "MD5:") || md5Fingerprint.MatchString(fp) {
		return nil, Errorf(EINVALID, "%q is an MD5 fingerprint; frontdesk names keys by their SHA256 fingerprint, as `frontdesk staff key list` prints it (`ssh-keygen -l -f KEY.pub` shows it too)", fp)
	}
	if rest, ok := strings.CutPrefix(fp, "SHA256:"); ok {
		fp = rest
	} else if len(fp) > 7 && strings.EqualFold(fp[:7], "SHA256:") {
		fp = fp[7:]
	}
	if fp == "" {
		return nil, Errorf(EINVALID, "give the key's fingerprint (SHA256:…), as `frontdesk staff key list` prints it")
	}
	full := "SHA256:" + fp
	if len(fp) < minFingerprintPrefix {
		return nil, Errorf(EINVALID, "%s is too short to name a key; give at least %d characters after \"SHA256:\", or the whole fingerprint as `frontdesk staff key list` prints it", full, minFingerprintPrefix)
	}
	// Fingerprints are case-sensitive base64: substr compares bytes, where
	// LIKE would ignore case.
	rows, err := q.query(ctx, `SELECT `+staffKeyColumns+` FROM staff_keys WHERE substr(fingerprint, 1, ?) = ? ORDER BY fingerprint = ? DESC, id LIMIT 6`,
		len(full), full, full)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var found []StaffKey
	for rows.Next() {
		k, err := scanStaffKey(rows)
		if err != nil {
			return nil, err
		}
		found = append(found, k)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	switch {
	case len(found) > 0 && found[0].Fingerprint == full:
		return &found[0], nil
	case len(found) == 0:
		return nil, Errorf(ENOTFOUND, "no registered key has a fingerprint that is or starts with %s; `frontdesk staff key list` shows them", full)
	case len(found) > 1:
		var fps []string
		for _, k := range found[:min(len(found), 5)] {
			fps = append(fps, k.Fingerprint)
		}
		more := ""
		if len(found) > 5 {
			more = " and more"
		}
		return nil, Errorf(EINVALID, "%s is the start of more than one key's fingerprint: %s%s; give the whole fingerprint", full, strings.Join(fps, ", "), more)
	}
	return &found[0], nil
}

// md5Fingerprint is the colon-separated hex form of an MD5 fingerprint,
// which older ssh-keygen printed.
var md5Fingerprint = regexp.MustCompile(`^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){15}$`)

// RemoveStaffKey deletes a key: it no longer signs anyone in, and an open
// SSH session that signed in with it ends at once (AccessLost, through the
// change log's staff_keys trigger).
func (tx *Tx) RemoveStaffKey(ctx context.Context, id int64) error {
	res, err := tx.exec(ctx, `DELETE FROM staff_keys WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Errorf(ENOTFOUND, "the key is not registered (any more); `frontdesk staff key list` shows the keys")
	}
	return nil
}

// RecordKeyUse notes that the key with that fingerprint opened an SSH
// session now (`staff key list`'s "last used"). Writing it is no change
// staff see (migration 0014 leaves it out of the change trigger).
func (tx *Tx) RecordKeyUse(ctx context.Context, fingerprint string) error {
	_, err := tx.exec(ctx, `UPDATE staff_keys SET last_used_at = ? WHERE fingerprint = ?`, tx.now().Unix(), fingerprint)
	return err
}
