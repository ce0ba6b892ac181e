package store

import (
	"context"
	"slices"
	"testing"
	"time"
)

// CustomerIDs selects what the roster shows for the same search and status,
// every page of it, in id order: the roster's "mark all" marks exactly the
// customers staff were looking at, never an archived one or another
// organization's.
func TestCustomerIDsMatchTheRoster(t *testing.T) {
	db, _ := newStoreForTest(t)
	ctx := context.Background()
	org, other := mustOrg(t, db, "Harbor"), mustOrg(t, db, "Other")
	owner := mustStaff(t, db, org, "owner@harbor.example", RoleOwner)
	var all []*Customer
	for i, n := range []struct{ first, last, email string }{
		{"Ann", "Lee", "ann@gmail.example"}, {"Bo", "Chen", "bo@gmail.example"}, {"Cy", "Gmailer", "cy@proton.example"},
		{"Di", "Ray", "di@gmail.example"}, {"Ed", "Fox", ""}, {"Flo", "Kim", "flo@gmail.example"},
	} {
		c := mustCustomer(t, db, org, n.first, n.last, n.email)
		all = append(all, c)
		if i == 1 {
			mustInvite(t, db, c, owner, 24*time.Hour)
		}
	}
	mustCustomer(t, db, other, "Gil", "Gmail", "gil@gmail.example")
	if err := db.Tx(ctx, func(tx *Tx) error { return tx.ArchiveCustomer(ctx, org.ID, all[3].ID) }); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		search   string
		statuses []Status
		want     []*Customer
	}{
		{"gmail", []Status{StatusNotInvited}, []*Customer{all[0], all[2], all[5]}},
		{"gmail", nil, []*Customer{all[0], all[1], all[2], all[5]}},
		{"", []Status{StatusInvited}, []*Customer{all[1]}},
		{"", []Status{StatusNoEmail, StatusInvited}, []*Customer{all[1], all[4]}},
		{"", nil, []*Customer{all[0], all[1], all[2], all[4], all[5]}},
		{"nobody", nil, nil},
	} {
		ids, err := db.CustomerIDs(ctx, org.ID, c.search, c.statuses...)
		if err != nil {
			t.Fatal(err)
		}
		var want []int64
		for _, w := range c.want {
			want = append(want, w.ID)
		}
		if !slices.Equal(ids, want) {
			t.Errorf("CustomerIDs(%q, %v) = %v, want %v", c.search, c.statuses, ids, want)
		}
		// The roster's own pages, for a single status or none, agree.
		if len(c.statuses) > 1 {
			continue
		}
		rq := RosterQuery{Search: c.search, Limit: 2}
		if len(c.statuses) == 1 {
			rq.Status = c.statuses[0]
		}
		var paged []int64
		for {
			rows, err := db.RosterPage(ctx, org.ID, rq)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				paged = append(paged, r.ID)
			}
			if len(rows) < rq.Limit {
				break
			}
			cur := rows[len(rows)-1].Cursor()
			rq.After = &cur
		}
		slices.Sort(paged)
		if !slices.Equal(ids, paged) {
			t.Errorf("CustomerIDs(%q, %v) = %v, the roster's pages hold %v", c.search, c.statuses, ids, paged)
		}
	}
}

// A roster row's last visit is the latest booking that started by now and
// took place: a future booking, a cancelled class and a no-show are not
// visits.
func TestRosterRowLastVisit(t *testing.T) {
	db, now := newStoreForTest(t)
	ctx := context.Background()
	org := mustOrg(t, db, "Harbor")
	ann := mustCustomer(t, db, org, "Ann", "Lee", "ann@example.com")
	bo := mustCustomer(t, db, org, "Bo", "Chen", "bo@example.com")
	day := 24 * time.Hour
	visit := now.Add(-3 * day)
	for _, b := range []struct {
		at     time.Time
		status string
	}{
		{now.Add(-10 * day), "attended"},
		{visit, "booked"},
		{now.Add(-2 * day), "cancelled"},
		{now.Add(-1 * day), "no_show"},
		{now.Add(2 * day), "booked"},
	} {
		if _, err := db.write.ExecContext(ctx, `INSERT INTO bookings (customer_id, kind, title, starts_at, ends_at, status) VALUES (?, 'class', 'Flow', ?, ?, ?)`,
			ann.ID, b.at.Unix(), b.at.Add(time.Hour).Unix(), b.status); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := db.RosterPage(ctx, org.ID, RosterQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]time.Time{}
	for _, r := range rows {
		got[r.ID] = r.LastVisit
	}
	if !got[ann.ID].Equal(visit) {
		t.Errorf("Ann's last visit %v, want %v", got[ann.ID], visit)
	}
	if !got[bo.ID].IsZero() {
		t.Errorf("Bo never came, last visit %v", got[bo.ID])
	}
	byID, err := db.RosterRowsByID(ctx, org.ID, []int64{ann.ID})
	if err != nil || len(byID) != 1 || !byID[0].LastVisit.Equal(visit) {
		t.Errorf("RosterRowsByID: %+v, %v; want Ann's last visit %v", byID, err, visit)
	}
}
