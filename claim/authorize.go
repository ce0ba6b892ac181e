package claim

import (
	"context"

	"frontdesk/store"
)

// authorize re-reads the acting staff member inside the transaction of the
// write it guards and returns the row as it is now: every staff write goes
// through it. A session holds the *store.Staff it started with, and a
// removed or demoted member must not keep writing until the session notices
// (up to 30 s over SSH, never in a local TUI); reading the row in the write's
// own transaction leaves no gap between the check and the write. what is
// the action refused, worded to follow "cannot" ("send the invite").
//
// The refusal is always ReasonForbidden. When the session's role never
// allowed the action the sentence is the usual one; when the row changed
// under an open session it says so ("Your access changed: …"), so the
// person at the keyboard is not left thinking the screen is wrong.
func (s *Service) authorize(ctx context.Context, q reader, actor *store.Staff, what string) (*store.Staff, error) {
	if actor == nil || !actor.Role.CanManageCustomers() {
		return nil, forbidden(what)
	}
	now, err := q.StaffByID(ctx, actor.ID)
	switch {
	case store.ErrorCode(err) == store.ENOTFOUND:
		return nil, refuse(ReasonForbidden, accessChanged+"you are no longer on this organization's staff, so you cannot "+what+
			". Nothing was sent or saved; ask an owner if this is a mistake.")
	case err != nil:
		return nil, err
	case now.OrgID != actor.OrgID:
		return nil, refuse(ReasonForbidden, accessChanged+"you are no longer on this organization's staff, so you cannot "+what+
			". Nothing was sent or saved; ask an owner if this is a mistake.")
	case !now.Role.CanManageCustomers():
		return nil, refuse(ReasonForbidden, accessChanged+"your role is now "+string(now.Role)+", which cannot manage customers, so you cannot "+what+
			". Nothing was sent or saved; ask an owner or admin.")
	}
	return now, nil
}

// accessChanged starts the refusal of a member whose row changed under an
// open session; see Refusal.AccessChanged.
const accessChanged = "Your access changed: "
