package store

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/unicode/norm"

	"frontdesk/store/brand"
	"frontdesk/store/format"
)

// DefaultInviteTTL is how long an invite link works unless the organization or
// --invite-ttl says otherwise.
const DefaultInviteTTL = 7 * 24 * time.Hour

// Org is an organization: a studio, gym, salon or clinic with its own staff,
// customers and settings.
type Org struct {
	ID                int64
	Name              string
	Slug              string
	InviteTTL         time.Duration
	WalkthroughURL    string
	PaymentsURL       string
	ReplyTo           string
	TimeZone          string
	MinPasswordLength int
	Notifications     bool
	// RemindAfter is how long after an invite, not yet claimed, one
	// reminder goes out (see claim.Service.SendReminders); 0 sends none.
	RemindAfter time.Duration
	// Country is where the organization is, an ISO 3166 code ("DE", "GB";
	// "" when not set): phone numbers written without a +code are read with
	// its numbering plan, so that searching "+49 151 …" finds "0151 …".
	Country   string
	CreatedAt time.Time

	// Accent is the organization's colour on its customers' pages and in
	// its emails, "#rrggbb" ("" for the site's own); Validate checks its
	// contrast (brand.CheckAccent).
	Accent string
	// The logo, when there is one (SetOrgLogo; the bytes: OrgLogo).
	// LogoHash is the hex SHA-256 of its bytes, "" for none.
	LogoHash, LogoType    string
	LogoWidth, LogoHeight int
}

// The ranges of the settings an owner types (org set), checked by
// CheckInviteTTL and CheckMinPasswordLength.
const (
	MinInviteTTL             = time.Hour
	MaxInviteTTL             = 90 * 24 * time.Hour
	DefaultMinPasswordLength = 15
	MinMinPasswordLength     = 8
	MaxMinPasswordLength     = 64
)

// CheckInviteTTL refuses an invite lifetime outside its range, saying the
// range. Zero is refused too: Validate gives a new organization the
// default before it checks, but an owner who types 0 meant something else.
func CheckInviteTTL(d time.Duration) error {
	if d < MinInviteTTL || d > MaxInviteTTL {
		return Errorf(EINVALID, "invite lifetime %s is out of range; use %s to %s (%s is the default)",
			format.Duration(d), format.DurationWords(MinInviteTTL), format.DurationWords(MaxInviteTTL), format.DurationWords(DefaultInviteTTL))
	}
	return nil
}

// CheckMinPasswordLength refuses a minimum password length outside its
// range, saying the range.
func CheckMinPasswordLength(n int) error {
	if n < MinMinPasswordLength || n > MaxMinPasswordLength {
		return Errorf(EINVALID, "minimum password length %d is out of range; use %d to %d (%d is recommended)",
			n, MinMinPasswordLength, MaxMinPasswordLength, DefaultMinPasswordLength)
	}
	return nil
}

// MinRemindAfter is the shortest --remind-after: a reminder within the hour
// is a second invite, not a reminder.
const MinRemindAfter = time.Hour

// Location is the organization's time zone, UTC if the stored name is unknown
// to this machine.
func (o *Org) Location() *time.Location {
	if loc, ok := locations.Load(o.TimeZone); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(o.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	locations.Store(o.TimeZone, loc)
	return loc
}

// locations caches time zones: time.LoadLocation reads the zoneinfo file on
// every call, and every date a screen or an email shows needs one.
var locations sync.Map

var slugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Slugify makes a URL- and flag-friendly slug from a name ("Café Zoë" → "cafe-zoe").
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(strings.ToLower(name)) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
	}
	return b.String()
}

// Validate checks the settings a user can type and fills defaults.
func (o *Org) Validate() error {
	o.Name = strings.TrimSpace(o.Name)
	if o.Name == "" {
		return Errorf(EINVALID, "organization name is empty; give one with --name")
	}
	if err := CheckText("organization name", o.Name, MaxOrgNameLen); err != nil {
		return err
	}
	if o.Slug == "" {
		o.Slug = Slugify(o.Name)
	}
	if !slugRE.MatchString(o.Slug) {
		return Errorf(EINVALID, "slug %q must be lower-case letters, digits and single dashes (e.g. harbor-yoga)", o.Slug)
	}
	if o.InviteTTL == 0 {
		o.InviteTTL = DefaultInviteTTL
	}
	if err := CheckInviteTTL(o.InviteTTL); err != nil {
		return err
	}
	switch {
	case o.RemindAfter < 0:
		return Errorf(EINVALID, "reminder delay %s is negative; give a duration such as 3d, or off", format.Duration(o.RemindAfter))
	case o.RemindAfter > 0 && o.RemindAfter < MinRemindAfter:
		return Errorf(EINVALID, "reminder delay %s is too short; use at least 1h (3d is usual), or off", format.Duration(o.RemindAfter))
	case o.RemindAfter > 0 && o.RemindAfter >= o.InviteTTL:
		// A reminder goes only while the link still works: at or past the
		// lifetime there is never one to remind of.
		return Errorf(EINVALID, "reminder delay %s is not shorter than the invite lifetime %s, so no reminder would ever go; use less (3d is usual), or off",
			format.Duration(o.RemindAfter), format.Duration(o.InviteTTL))
	}
	if o.TimeZone == "" {
		o.TimeZone = "UTC"
	}
	if _, err := time.LoadLocation(o.TimeZone); err != nil {
		return Errorf(EINVALID, "unknown time zone %q; use an IANA name such as Europe/London or America/New_York", o.TimeZone)
	}
	if o.MinPasswordLength == 0 {
		o.MinPasswordLength = DefaultMinPasswordLength
	}
	if err := CheckMinPasswordLength(o.MinPasswordLength); err != nil {
		return err
	}
	for _, u := range []struct{ name, v string }{{"walk-through URL", o.WalkthroughURL}, {"payments URL", o.PaymentsURL}} {
		if u.v != "" && !strings.HasPrefix(u.v, "https://") && !strings.HasPrefix(u.v, "http://") {
			return Errorf(EINVALID, "%s %q must start with https://", u.name, u.v)
		}
	}
	if o.ReplyTo != "" {
		if err := ValidateEmail(o.ReplyTo); err != nil {
			return Errorf(EINVALID, "reply-to: %s", ErrorMessage(err))
		}
	}
	c, err := CheckCountry(o.Country)
	if err != nil {
		return err
	}
	o.Country = c
	accent, err := brand.CheckAccent(o.Accent)
	if err != nil {
		return Errorf(EINVALID, "accent colour: %v", err)
	}
	o.Accent = accent
	return nil
}

// CheckCountry returns code as an organization stores it (trimmed, upper
// case) if it is an ISO 3166 alpha-2 code whose telephone numbering plan is
// known, or "" for none; otherwise an EINVALID error saying what to give.
func CheckCountry(code string) (string, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	switch {
	case code == "":
		return "", nil
	case code == "UK":
		// The one code people reach for that ISO 3166 does not have.
		return "", Errorf(EINVALID, "country UK is not an ISO 3166 code; the United Kingdom is GB")
	case len(code) != 2 || !phonenumbers.GetSupportedRegions()[code]:
		return "", Errorf(EINVALID, "country %q is not an ISO 3166 country code; give two letters such as DE, GB or US", code)
	}
	return code, nil
}

// CreateOrg validates and inserts o, setting its ID.
func (tx *Tx) CreateOrg(ctx context.Context, o *Org) error {
	if err := o.Validate(); err != nil {
		return err
	}
	o.CreatedAt = tx.now().Truncate(time.Second)
	id, err := tx.insert(ctx, `INSERT INTO orgs (name, slug, invite_ttl_seconds, walkthrough_url, payments_url, reply_to, time_zone, min_password_length, notifications, remind_after_seconds, country, created_at, accent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.Name, o.Slug, int64(o.InviteTTL/time.Second), o.WalkthroughURL, o.PaymentsURL, o.ReplyTo, o.TimeZone, o.MinPasswordLength, o.Notifications, int64(o.RemindAfter/time.Second), o.Country, o.CreatedAt.Unix(), o.Accent)
	if isConstraint(err) {
		return Errorf(ECONFLICT, "an organization with slug %q already exists; pick another with --slug", o.Slug)
	} else if err != nil {
		return err
	}
	o.ID = id
	return nil
}

// UpdateOrg validates and saves o's settings (the logo has its own
// writer, SetOrgLogo). A change of country rebuilds the search keys of the
// organization's customers in the same transaction (their numbers read
// differently now): 2 minutes for a million customers (BENCHMARKS.md).
func (tx *Tx) UpdateOrg(ctx context.Context, o *Org) error {
	if err := o.Validate(); err != nil {
		return err
	}
	var country string
	if err := tx.queryRow(ctx, `SELECT country FROM orgs WHERE id = ?`, o.ID).Scan(&country); errors.Is(err, sql.ErrNoRows) {
		return Errorf(ENOTFOUND, "organization %d not found", o.ID)
	} else if err != nil {
		return err
	}
	_, err := tx.exec(ctx, `UPDATE orgs SET name = ?, invite_ttl_seconds = ?, walkthrough_url = ?, payments_url = ?, reply_to = ?, time_zone = ?, min_password_length = ?, notifications = ?, remind_after_seconds = ?, country = ?, accent = ? WHERE id = ?`,
		o.Name, int64(o.InviteTTL/time.Second), o.WalkthroughURL, o.PaymentsURL, o.ReplyTo, o.TimeZone, o.MinPasswordLength, o.Notifications, int64(o.RemindAfter/time.Second), o.Country, o.Accent, o.ID)
	if err != nil || country == o.Country {
		return err
	}
	return tx.rebuildSearchKeys(ctx, o.ID)
}

// SetOrgLogo stores the organization's logo, checked by brand.CheckLogo
// (re-encoded: only the picture), or removes it when l is nil; o's logo
// fields are set to match. Call it in a transaction with the audit row.
func (tx *Tx) SetOrgLogo(ctx context.Context, o *Org, l *brand.Logo) error {
	if l == nil {
		if _, err := tx.exec(ctx, `DELETE FROM org_logos WHERE org_id = ?`, o.ID); err != nil {
			return err
		}
		o.LogoHash, o.LogoType, o.LogoWidth, o.LogoHeight = "", "", 0, 0
	} else {
		if len(l.Data) == 0 || len(l.Data) > brand.MaxLogoBytes || len(l.Hash) != 64 {
			return Errorf(EINVALID, "the logo was not checked; give it to brand.CheckLogo first")
		}
		if _, err := tx.exec(ctx, `INSERT INTO org_logos (org_id, data) VALUES (?, ?) ON CONFLICT (org_id) DO UPDATE SET data = excluded.data`, o.ID, l.Data); err != nil {
			return err
		}
		o.LogoHash, o.LogoType, o.LogoWidth, o.LogoHeight = l.Hash, l.Type, l.Width, l.Height
	}
	_, err := tx.exec(ctx, `UPDATE orgs SET logo_hash = ?, logo_type = ?, logo_width = ?, logo_height = ? WHERE id = ?`,
		o.LogoHash, o.LogoType, o.LogoWidth, o.LogoHeight, o.ID)
	return err
}

// OrgLogo returns the organization's logo bytes and their type, or
// ENOTFOUND when it has none.
func (q conn) OrgLogo(ctx context.Context, orgID int64) (data []byte, contentType string, err error) {
	err = q.queryRow(ctx, `SELECT l.data, g.logo_type FROM org_logos l JOIN orgs g ON g.id = l.org_id WHERE l.org_id = ?`, orgID).Scan(&data, &contentType)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", Errorf(ENOTFOUND, "organization %d has no logo", orgID)
	}
	return data, contentType, err
}

const orgColumns = `id, name, slug, invite_ttl_seconds, walkthrough_url, payments_url, reply_to, time_zone, min_password_length, notifications, remind_after_seconds, country, created_at, accent, logo_hash, logo_type, logo_width, logo_height`

func scanOrg(row interface{ Scan(...any) error }) (*Org, error) {
	var o Org
	var ttl, remind, created int64
	err := row.Scan(&o.ID, &o.Name, &o.Slug, &ttl, &o.WalkthroughURL, &o.PaymentsURL, &o.ReplyTo, &o.TimeZone, &o.MinPasswordLength, &o.Notifications, &remind, &o.Country, &created,
		&o.Accent, &o.LogoHash, &o.LogoType, &o.LogoWidth, &o.LogoHeight)
	o.InviteTTL = time.Duration(ttl) * time.Second
	o.RemindAfter = time.Duration(remind) * time.Second
	o.CreatedAt = time.Unix(created, 0)
	return &o, err
}

// Org returns the organization with the given id.
func (q conn) Org(ctx context.Context, id int64) (*Org, error) {
	o, err := scanOrg(q.queryRow(ctx, `SELECT `+orgColumns+` FROM orgs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "organization %d not found", id)
	}
	return o, err
}

// OrgBySlug returns the organization with the given slug.
func (q conn) OrgBySlug(ctx context.Context, slug string) (*Org, error) {
	o, err := scanOrg(q.queryRow(ctx, `SELECT `+orgColumns+` FROM orgs WHERE slug = ?`, slug))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no organization with slug %q; `frontdesk org list` shows them", slug)
	}
	return o, err
}

// Orgs lists every organization, oldest first.
func (q conn) Orgs(ctx context.Context) ([]*Org, error) {
	rows, err := q.query(ctx, `SELECT `+orgColumns+` FROM orgs ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var orgs []*Org
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, err
		}
		orgs = append(orgs, o)
	}
	return orgs, rows.Err()
}
