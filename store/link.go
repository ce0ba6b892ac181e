package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// LinkByTokenHash returns the invite with that token hash (the SHA-256 of
// the link's secret) together with its organization and its customer
// (without custom fields), in one query. The customers' web looks a token up
// on every page view of a link: one statement instead of four was a quarter
// of the claim page's cost (see claim/web's BenchmarkClaimPage). The look-up
// is by an index on the hash, so its time does not depend on how much of a
// guessed token matches. The customer is joined under the invite's
// organization, so the pair can never cross organizations.
func (q conn) LinkByTokenHash(ctx context.Context, hash []byte) (*Invite, *Org, *Customer, error) {
	return q.linkWhere(ctx, `i.token_hash = ?`, hash)
}

// linkWhere is the one query of LinkByTokenHash and LinkByCode: the invite
// selected by where (on alias i, one row), its organization and customer.
func (q conn) linkWhere(ctx context.Context, where string, arg any) (*Invite, *Org, *Customer, error) {
	row := q.queryRow(ctx, `SELECT `+inviteColumns+`,
		g.id, g.name, g.slug, g.invite_ttl_seconds, g.walkthrough_url, g.payments_url, g.reply_to, g.time_zone, g.min_password_length, g.notifications, g.created_at,
		g.accent, g.logo_hash, g.logo_type, g.logo_width, g.logo_height,
		`+customerColumns+`
		FROM invites i
		JOIN orgs g ON g.id = i.org_id
		JOIN customers c ON c.id = i.customer_id AND c.org_id = i.org_id
		LEFT JOIN staff s ON s.id = i.created_by
		LEFT JOIN outbox o ON o.id = i.outbox_id
		WHERE `+where, arg)
	var org Org
	var c Customer
	var ttl, orgCreated, cCreated, cUpdated int64
	var claimed, invSent, invExpires sql.NullInt64
	var state State
	inv, err := scanInvite(row,
		&org.ID, &org.Name, &org.Slug, &ttl, &org.WalkthroughURL, &org.PaymentsURL, &org.ReplyTo, &org.TimeZone, &org.MinPasswordLength, &org.Notifications, &orgCreated,
		&org.Accent, &org.LogoHash, &org.LogoType, &org.LogoWidth, &org.LogoHeight,
		&c.ID, &c.OrgID, &c.FirstName, &c.LastName, &c.Email, &c.Phone, &cCreated, &cUpdated, &claimed, &c.PasswordHash, &c.Archived, &state, &invSent, &invExpires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil, Errorf(ENOTFOUND, "this link is not valid")
	} else if err != nil {
		return nil, nil, nil, err
	}
	org.InviteTTL, org.CreatedAt = time.Duration(ttl)*time.Second, time.Unix(orgCreated, 0)
	c.CreatedAt, c.UpdatedAt = time.Unix(cCreated, 0), time.Unix(cUpdated, 0)
	c.ClaimedAt, c.InviteSentAt, c.InviteExpiresAt = fromUnix(claimed), fromUnix(invSent), fromUnix(invExpires)
	c.Status = statusOf(state, invExpires, q.now())
	return inv, &org, &c, nil
}
