package store

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestSearchPagesEveryWay pages through search results forwards and
// backwards, on the roster and in the Archived filter, with the matches
// bunched together in id order (as an import in name order leaves them)
// and another organization's customers among them. PostgreSQL answers a
// page from a window of the index or from the words of every match
// (searchWindow, searchBroad), so it runs with the window tried first,
// holding a page, part of one, and none, and with the words read at once;
// every way must give what SQLite's FTS5 gives: the organization's matches
// in id order, each once.
func TestSearchPagesEveryWay(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		db, _ := newStoreForTest(t)
		ctx := context.Background()
		o := mustOrg(t, db, "Harbor Yoga")
		other := mustOrg(t, db, "Elm Pilates")
		type person struct {
			id       int64
			words    []string
			archived bool
		}
		var people []person
		add := func(org *Org, first, last string, i int) {
			email := strings.ToLower(first) + "." + strings.ToLower(last) + string(rune('a'+i)) + "@mail.example"
			c := mustCustomer(t, db, org, first, last, email)
			if org != o {
				return
			}
			p := person{id: c.ID, words: searchWords(strings.ToLower(first + " " + last + " " + email))}
			if i%4 == 3 {
				if err := db.Tx(ctx, func(tx *Tx) error { return tx.ArchiveCustomer(ctx, o.ID, c.ID) }); err != nil {
					t.Fatal(err)
				}
				p.archived = true
			}
			people = append(people, p)
		}
		for i := range 8 {
			add(o, "Anna", "Brook", i)
		}
		for i := range 8 {
			add(other, "Maria", "Lee", i)
			add(o, "Maria", "Lee", i)
		}
		for i := range 8 {
			add(o, "Mark", "O'Brien", i)
			add(o, "Zoe", "Lee", i)
		}
		// want is the organization's matches of typed, by what a search
		// promises: every word typed begins a word of the name or email.
		want := func(typed string, archived bool) []int64 {
			var ids []int64
			for _, p := range people {
				if p.archived != archived {
					continue
				}
				ok := true
				for _, w := range searchWords(strings.ToLower(typed)) {
					ok = ok && slices.ContainsFunc(p.words, func(pw string) bool { return strings.HasPrefix(pw, w) })
				}
				if ok {
					ids = append(ids, p.id)
				}
			}
			return ids
		}
		ids := func(rows []RosterRow) []int64 {
			var out []int64
			for _, r := range rows {
				out = append(out, r.ID)
			}
			return out
		}
		defer func(w int, b int64) { searchWindow, searchBroad = w, b }(searchWindow, searchBroad)
		for _, window := range []int{2, 7, 10_000, 0} {
			// 0: no window; the words at once, whatever the estimate.
			searchWindow, searchBroad = window, 0
			if window == 0 {
				searchBroad = 1 << 62
			}
			for _, typed := range []string{"m", "maria", "lee", "maria lee", "o'b", "zo", "mail.example", "anna brook", "x"} {
				for _, archived := range []bool{false, true} {
					exp := want(typed, archived)
					var fwd []int64
					q := RosterQuery{Search: typed, Archived: archived, Limit: 3}
					for range 50 {
						rows, err := db.RosterPage(ctx, o.ID, q)
						if err != nil {
							t.Fatal(err)
						}
						fwd = append(fwd, ids(rows)...)
						if len(rows) < q.Limit {
							break
						}
						c := rows[len(rows)-1].Cursor()
						q.After = &c
					}
					var back []int64
					q = RosterQuery{Search: typed, Archived: archived, Backward: true, Limit: 3}
					for range 50 {
						rows, err := db.RosterPage(ctx, o.ID, q)
						if err != nil {
							t.Fatal(err)
						}
						back = append(ids(rows), back...)
						if len(rows) < q.Limit {
							break
						}
						c := rows[0].Cursor()
						q.Before, q.Backward = &c, false
					}
					n, err := db.RosterMatches(ctx, o.ID, RosterQuery{Search: typed, Archived: archived}, 1000)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(fwd, exp) || !slices.Equal(back, exp) || n != len(exp) {
						t.Errorf("window %d, %q archived=%v: forwards %v, backwards %v, %d matches; want %v", window, typed, archived, fwd, back, n, exp)
					}
				}
			}
		}
	})
}
