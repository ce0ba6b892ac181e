package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// The prefix Go reads the statistics with is the server's
// (customers_search_prefix): the longest word, lower-cased; a word beyond
// ASCII is left to the server.
func TestTSQueryPrefix(t *testing.T) {
	for _, c := range []struct {
		typed, want string
		ok          bool
	}{
		{"Maria G", "maria", true},
		{"j.smith@exa", "smith", true},
		{"0151 62", "015162", true},
		{"ab AA", "aa", true},
		{"zoë", "", false},
		{"", "", false},
	} {
		got, ok := tsQueryPrefix(tsQuery(c.typed))
		if got != c.want || ok != c.ok {
			t.Errorf("tsQueryPrefix(tsQuery(%q)) = %q, %v; want %q, %v", c.typed, got, ok, c.want, c.ok)
		}
	}
}

// Go's reading of the words' statistics gives what the server's planner
// gives (customers_search_estimate), within the margin searchBroad's
// decision allows, for common words, rare ones and ones not there.
func TestWordStatsEstimateLikeTheServer(t *testing.T) {
	t.Run(string(Postgres), func(t *testing.T) {
		db, _ := newStoreForTest(t)
		ctx := context.Background()
		org := mustOrg(t, db, "Harbor Yoga")
		if s, err := db.wordStats(ctx); err != nil || s != nil {
			t.Fatalf("statistics before any ANALYZE: %+v, %v; want none", s, err)
		}
		firsts := []string{"Maria", "Mark", "Marta", "Jose", "Joan", "Ann", "Anna", "Nguyen", "Zoe", "Li"}
		now := db.Now().Unix()
		if err := bulkLoadCustomers(db, 4000, func(id int64) []any {
			first, last := firsts[int(id)%len(firsts)], fmt.Sprintf("Lee%d", id%97)
			return bulkCustomerRow(id, org.ID, first, last, fmt.Sprintf("%s.%s.%d@example.com", first, last, id), StateNone, now)
		}); err != nil {
			t.Fatal(err)
		}
		db.searchStats.read = time.Time{} // as if wordStatsAge had gone by
		s, err := db.wordStats(ctx)
		if err != nil || s == nil {
			t.Fatalf("statistics after a load: %+v, %v", s, err)
		}
		for _, typed := range []string{"m", "mar", "maria", "jo", "ann", "lee4", "example", "nobody"} {
			match := tsQuery(typed)
			prefix, _ := tsQueryPrefix(match)
			var server float64
			if err := db.queryRow(ctx, db.d.search.estimate, match).Scan(&server); err != nil {
				t.Fatal(err)
			}
			// Half a histogram bucket either way, or a factor of two.
			bucket := s.rows / float64(max(len(s.bounds)-1, 1))
			if got := s.estimate(prefix); got > 2*server+bucket || got < server/2-bucket {
				t.Errorf("%q: Go reads %.0f words, the server %.0f (a bucket is %.0f)", typed, got, server, bucket)
			}
		}
	})
}
