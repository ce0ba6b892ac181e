package store

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// How broad a PostgreSQL search's prefix is (searchWindowFirst) is read
// from the planner's statistics of the search's words, which the DB keeps
// a copy of: asking the server (customers_search_estimate, an EXPLAIN)
// cost about 1 ms a keystroke, a tenth of the search's budget, for a figure
// the statistics give in a microsecond. The copy is read again every
// wordStatsAge (the statistics change when autovacuum analyzes the table,
// minutes apart at the soonest). A prefix with letters beyond ASCII is
// still asked of the server, which unaccents and lower-cases it as the
// words were.

// wordStatsAge is how long a copy of the statistics is used.
const wordStatsAge = 5 * time.Minute

// wordStats is what pg_stats says of customers_search_words.word.
type wordStats struct {
	rows     float64   // the table's rows (pg_class.reltuples)
	nullFrac float64   // the share that is null (none: the column is NOT NULL)
	common   []string  // the most common words,
	freqs    []float64 // and the share of rows each is
	bounds   []string  // the histogram of the rest: bounds of equal shares, bytewise order
}

// estimate is how many words begin with prefix, by the statistics, as the
// planner reckons a range: the common words that begin with it, and the
// share of the histogram's buckets the range spans (half a bucket for a
// range inside one).
func (s *wordStats) estimate(prefix string) float64 {
	var common, commonAll float64
	for i, w := range s.common {
		commonAll += s.freqs[i]
		if strings.HasPrefix(w, prefix) {
			common += s.freqs[i]
		}
	}
	var hist float64
	if n := len(s.bounds); n >= 2 {
		lo, _ := slices.BinarySearch(s.bounds, prefix)
		hi, _ := slices.BinarySearch(s.bounds, prefix+"\U0010FFFF")
		hist = min(max(float64(hi-lo), 0.5)/float64(n-1), 1)
	}
	return s.rows * (common + (1-s.nullFrac-commonAll)*hist)
}

// wordStatsCache is the DB's copy of the statistics.
type wordStatsCache struct {
	mu    sync.Mutex
	stats *wordStats // nil: not read yet, or the table has none
	read  time.Time
}

// wordStats returns the statistics of the search's words, read again when
// the copy is older than wordStatsAge; nil when the table has none yet (it
// was never analyzed).
func (db *DB) wordStats(ctx context.Context) (*wordStats, error) {
	c := &db.searchStats
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.read.IsZero() && time.Since(c.read) < wordStatsAge {
		return c.stats, nil
	}
	var rows, nullFrac float64
	var common, freqs, bounds []byte
	err := db.queryRow(ctx, `SELECT c.reltuples, coalesce(s.null_frac, 0),
			coalesce(array_to_json(CAST(CAST(s.most_common_vals AS text) AS text[])), '[]'),
			coalesce(array_to_json(s.most_common_freqs), '[]'),
			coalesce(array_to_json(CAST(CAST(s.histogram_bounds AS text) AS text[])), '[]')
		FROM pg_class c LEFT JOIN pg_stats s ON s.schemaname = current_schema() AND s.tablename = c.relname AND s.attname = 'word'
		WHERE c.oid = to_regclass('customers_search_words')`).Scan(&rows, &nullFrac, &common, &freqs, &bounds)
	if err != nil {
		return nil, err
	}
	s := &wordStats{rows: rows, nullFrac: nullFrac}
	for _, f := range []struct {
		raw []byte
		to  any
	}{{common, &s.common}, {freqs, &s.freqs}, {bounds, &s.bounds}} {
		if err := json.Unmarshal(f.raw, f.to); err != nil {
			return nil, err
		}
	}
	c.read = time.Now()
	c.stats = nil
	// Never analyzed: no statistics (reltuples is -1, or pg_stats has no
	// row); the server's estimate then falls back to its defaults.
	if rows >= 0 && len(s.freqs) == len(s.common) && (len(s.bounds) >= 2 || len(s.common) > 0) {
		c.stats = s
	}
	return c.stats, nil
}

// tsQueryPrefix is customers_search_prefix (migration 0024) of a query
// made by tsQuery, where Go can make it the same: its longest word,
// lower-cased (the first in byte order among equals), when that word is
// all ASCII. Otherwise ok is false.
func tsQueryPrefix(match string) (prefix string, ok bool) {
	parts := strings.Split(match, "'")
	for i := 1; i < len(parts); i += 2 {
		w := strings.ToLower(parts[i])
		n, m := utf8.RuneCountInString(w), utf8.RuneCountInString(prefix)
		if n > m || (n == m && w < prefix) {
			prefix = w
		}
	}
	for i := range len(prefix) {
		if prefix[i] >= utf8.RuneSelf {
			return "", false
		}
	}
	return prefix, prefix != ""
}
