package claim

import (
	"context"
	"fmt"
	"strings"
	"time"

	"frontdesk/mailer"
	"frontdesk/store"
	"frontdesk/store/format"
)

// A link sent again is not always what helps. Two cases make the desk ask
// first, in the confirmation: the last link to this same address never
// arrived (sending to it again fails again unless the address is wrong and
// gets fixed, or the server's trouble has passed), and links keep going out
// within the hour (the customer most likely has them, in a spam folder).
// These are questions, not refusals: staff may know better and send.

// CautionKind says what the confirmation must ask.
type CautionKind int

const (
	// CautionUndelivered: the latest link of this purpose went to the
	// customer's current address and failed or bounced.
	CautionUndelivered CautionKind = iota + 1
	// CautionSpam: this would be at least the third link of this purpose
	// to the customer's address within an hour, the earlier ones not
	// known to have failed.
	CautionSpam
)

// spamWindow and spamSends: the third send within this window asks about
// the spam folder.
const (
	spamWindow = time.Hour
	spamSends  = 3
)

// Caution is one question for the confirmation.
type Caution struct {
	Kind    CautionKind
	Purpose store.Purpose
	Name    string // the customer's name

	// CautionUndelivered: what failed.
	Email    string         // the address it went to, the customer's still
	SentAt   time.Time      // when the failed link was sent
	Delivery store.Delivery // failed or bounced
	Reply    string         // the server's (or the provider's) words

	// CautionSpam: which send this would be within the hour (3 for the
	// third).
	Nth int
}

// Cautions decides what to ask before a link of purpose goes to customer c,
// from the customer's links (newest first, as store.DB.Invites lists them)
// at now.
func Cautions(c *store.Customer, history []store.Invite, purpose store.Purpose, now time.Time) []Caution {
	var out []Caution
	recent := 0
	var latest *store.Invite
	for i := range history {
		inv := &history[i]
		if inv.Purpose != purpose {
			continue
		}
		if latest == nil {
			latest = inv
		}
		// Only links that may sit in the mailbox the next one goes to
		// count: one that never arrived, or went to another address, is
		// in nobody's spam folder there.
		if now.Sub(inv.CreatedAt) < spamWindow && !inv.Delivery().Undelivered() && strings.EqualFold(inv.Email, c.Email) {
			recent++
		}
	}
	// A failure to an address changed since asks nothing: the address was
	// what staff fixed.
	if latest != nil && latest.Delivery().Undelivered() && strings.EqualFold(latest.Email, c.Email) {
		out = append(out, Caution{Kind: CautionUndelivered, Purpose: purpose, Name: c.Name(),
			Email: latest.Email, SentAt: latest.CreatedAt, Delivery: latest.Delivery(), Reply: latest.LastError})
	}
	if recent+1 >= spamSends {
		out = append(out, Caution{Kind: CautionSpam, Purpose: purpose, Name: c.Name(), Nth: recent + 1})
	}
	return out
}

// Cautions reads customer customerID's links, in actor's organization, and
// decides what the confirmation of a link of purpose must ask.
func (s *Service) Cautions(ctx context.Context, actor *store.Staff, customerID int64, purpose store.Purpose) ([]Caution, error) {
	if actor == nil {
		return nil, forbidden("send the link")
	}
	c, err := s.DB.Customer(ctx, actor.OrgID, customerID)
	if err != nil {
		return nil, err
	}
	history, err := s.DB.Invites(ctx, actor.OrgID, customerID)
	if err != nil {
		return nil, err
	}
	return Cautions(c, history, purpose, s.DB.Now()), nil
}

// Caution is the question in words: "The invite sent to jane@exmaple.com on
// Tue 24 Nov 2026, 10:02 failed: the address does not exist — check the
// address with the customer. Is jane@exmaple.com right? If not, press esc,
// then e to fix it first." The server's own words are shown beside it.
func (w Words) Caution(c *Caution) string {
	what := strings.ToLower(What(c.Purpose))
	switch c.Kind {
	case CautionUndelivered:
		how := "failed"
		if c.Delivery == store.DeliveryBounced {
			how = "bounced"
		}
		t := fmt.Sprintf("The %s sent to %s on %s %s", what, c.Email, format.DateTime(c.SentAt, w.Loc), how)
		if e := mailer.ExplainWith(c.Reply, w.Dash); e != "" {
			t += ": " + e
		}
		t += ". Is " + c.Email + " right?"
		switch w.Place {
		case AtProfile, AtOutbox:
			t += " If not, press esc, then e to fix it first."
		case AtRoster:
			t += " If not, press esc, open the profile (enter) and press e to fix it first."
		default:
			t += " If not, fix the email first."
		}
		return t
	case CautionSpam:
		return fmt.Sprintf("This is the %s %s to %s within an hour. Have they checked their spam or junk folder? The earlier emails may be there, and each new one stops the last link working.",
			ordinal(c.Nth), what, c.Name)
	}
	return ""
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprint(n) + suffix
}
