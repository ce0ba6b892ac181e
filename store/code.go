package store

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"strings"
)

// One-time claim codes. The invite email carries, beside the link, a short
// code (claim.NewCode: 8 characters, 40 bits) that the claim page accepts
// with the email address, for mail apps that break links. The invite row
// keeps only a MAC of it (invites.code_key, code_mac; migration 0012).
//
// A plain hash would not do: 2^40 candidates are hashed in minutes on one
// GPU, so a copy of the database (a backup, a leaked file) would give up
// every live code. The MAC is keyed with a secret that is not in the
// database: derived (HKDF-SHA256) from the outbox key file's key, which
// already has to be kept apart from the database because it opens the
// queued mail, and which carries the same links. One file to keep safe, not
// two. code_key names the outbox key used, so a code keeps working while
// that key is in the key file; `frontdesk outbox rotate-key` retires keys
// no queued mail uses, and codes made with a retired key stop working with
// it. That is deliberate: a rotation says the old key may have leaked, and
// with it and a copy of the database the codes could be found offline. The
// links, which are hashed and need no key, keep working.

// codeKeyInfo separates the code key from the outbox key it derives from.
const codeKeyInfo = "frontdesk one-time claim code v1"

// deriveCodeKey is the MAC key of claim codes for one outbox key.
func deriveCodeKey(raw []byte) []byte {
	k, err := hkdf.Key(sha256.New, raw, nil, codeKeyInfo, 32)
	if err != nil {
		panic("store: hkdf: " + err.Error()) // only for a length HKDF cannot make
	}
	return k
}

// codeEmail is how an address enters a code's MAC: trimmed and lower-cased,
// so the code typed with "Jane@Example.com " matches.
func codeEmail(email string) string { return strings.ToLower(NormalizeEmail(email)) }

// codeMAC is the MAC of code for one invite: the code bound to the
// organization, the customer and the address it was sent to, each field
// length-prefixed, so a MAC copied to another invite matches nothing.
func (key outboxKey) codeMAC(orgID, customerID int64, email, code string) []byte {
	m := hmac.New(sha256.New, key.code)
	var b []byte
	for _, f := range []string{strconv.FormatInt(orgID, 10), strconv.FormatInt(customerID, 10), codeEmail(email), code} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	m.Write(b)
	return m.Sum(nil)
}

// maxCodeCandidates bounds the invites one code is compared with: the
// latest claim invites to the address, across organizations. More than a
// handful means many resends; the oldest are long dead.
const maxCodeCandidates = 20

// LinkByCode returns the claim invite sent to email whose one-time code is
// code (as claim.ParseCode spells it), with its organization and customer,
// as LinkByTokenHash does for a link; ENOTFOUND when none matches. Every
// candidate is compared, live or not, so that a code whose invite expired
// or was superseded gets the same answer as its link. The comparison is of
// MACs, in constant time; a candidate made with a key the key file no
// longer holds cannot match.
func (q conn) LinkByCode(ctx context.Context, email, code string) (*Invite, *Org, *Customer, error) {
	rows, err := q.query(ctx, `SELECT id, org_id, customer_id, email, code_key, code_mac FROM invites
		WHERE lower(email) = ? AND code_mac IS NOT NULL AND purpose = 'claim'
		ORDER BY id DESC LIMIT ?`, FoldEmail(NormalizeEmail(email)), maxCodeCandidates)
	if err != nil {
		return nil, nil, nil, err
	}
	type cand struct {
		id, org, customer int64
		email, key        string
		mac               []byte
	}
	var cands []cand
	for rows.Next() {
		var c cand
		if err := rows.Scan(&c.id, &c.org, &c.customer, &c.email, &c.key, &c.mac); err != nil {
			rows.Close()
			return nil, nil, nil, err
		}
		cands = append(cands, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, nil, err
	}
	for _, c := range cands {
		key, err := q.db.keys.openKey(c.key)
		if err != nil {
			continue // retired (see above), or the key file is unreadable: no match
		}
		if hmac.Equal(key.codeMAC(c.org, c.customer, c.email, code), c.mac) {
			return q.linkWhere(ctx, `i.id = ?`, c.id)
		}
	}
	return nil, nil, nil, Errorf(ENOTFOUND, "this code is not valid")
}

// CodeHolder is a customer with a live one-time code.
type CodeHolder struct{ OrgID, CustomerID int64 }

// LiveCodeHolders are the customers with a live one-time code sent to
// email: those whose records a wrong code typed with that address is
// audited on.
func (q conn) LiveCodeHolders(ctx context.Context, email string) ([]CodeHolder, error) {
	rows, err := q.query(ctx, `SELECT DISTINCT org_id, customer_id FROM invites
		WHERE lower(email) = ? AND code_mac IS NOT NULL AND purpose = 'claim'
		  AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?
		ORDER BY org_id, customer_id LIMIT ?`, FoldEmail(NormalizeEmail(email)), q.now().Unix(), maxCodeCandidates)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CodeHolder
	for rows.Next() {
		var h CodeHolder
		if err := rows.Scan(&h.OrgID, &h.CustomerID); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}
