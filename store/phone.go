package store

import (
	"slices"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// PhoneKeys is what the search index holds for a phone number, for an
// organization in country (an ISO 3166 code, "" when not set):
//
//   - the number as written, and every tail of its digit groups joined
//     ("+1 (555) 014-2" → "… 15550142 5550142 0142"), so that a number typed
//     with or without its area code or punctuation is found by prefix;
//   - the number read with the numbering plan of its country (the one its
//     +code names, or else the organization's): its international digits
//     (E.164 without the +), its national significant number and its
//     national form with the trunk prefix. "+49 151 62185557" is then found
//     by "0151 62185557" and "151-621-85557", and "(0161) 496 8466" in a GB
//     organization by "+44 161 496 8466" (see phoneSearch for the typed side);
//   - the first 3 to 5 digits of each of those keys as words of their own
//     (phonePrefixMin..phonePrefixMax), so that the first keystrokes of a
//     number are one index lookup, not a merge of every number sharing them.
//
// Keys are digits only, each one FTS word. A number the plan cannot read
// (too short, an extension alone, text) keeps the first kind only.
func PhoneKeys(phone, country string) string {
	groups := strings.FieldsFunc(phone, func(r rune) bool { return !isDigit(r) })
	var keys []string
	for i := range groups {
		if i < len(groups)-1 || len(groups) == 1 {
			keys = append(keys, strings.Join(groups[i:], ""))
		}
	}
	keys = append(keys, planKeys(phone, country)...)
	if len(keys) == 0 {
		return phone
	}
	// The prefixes come from every key and every group as written: "095"
	// typed is a prefix of the group 0958 as much as of a full number.
	var prefixes []string
	for _, k := range slices.Concat(keys, groups) {
		for n := phonePrefixMin; n <= phonePrefixMax && n < len(k); n++ {
			prefixes = append(prefixes, k[:n])
		}
	}
	keys = append(keys, prefixes...)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	return phone + " " + strings.Join(keys, " ")
}

// phonePrefixMin and phonePrefixMax bound the prefixes of a phone key that
// are indexed as words. Shorter ones are FTS5's own prefix index (prefix='1
// 2', migration 0002). Up to five digits a prefix is shared by a large part
// of a roster ("447", every UK mobile in international form), and FTS5
// materializes every term of a prefix query before LIMIT applies: at
// 1,000,000 demo customers "447"* took 1.9 s, "4477"* 460 ms and "44770"*
// 22 ms, the word "447" 0.4 ms. From six digits the prefix query is as
// fast as the word ("447700"* 0.6 ms), so longer words would only grow the
// index.
const (
	phonePrefixMin = 3
	phonePrefixMax = 5
)

// planKeys reads phone with the numbering plan of country and returns its
// international, national significant and national digits; none when it is
// not a possible number there.
func planKeys(phone, country string) []string {
	region := country
	if region == "" {
		region = "ZZ" // only numbers written with a +code can be read
	}
	num, err := phonenumbers.Parse(phone, region)
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		return nil
	}
	nsn := phonenumbers.GetNationalSignificantNumber(num)
	intl := digitsOnly(phonenumbers.Format(num, phonenumbers.E164))
	national := digitsOnly(phonenumbers.Format(num, phonenumbers.NATIONAL))
	return []string{intl, nsn, national}
}

// isDigit is an ASCII digit: the only digits phone keys and phone searches
// are made of (FTS5 folds nothing else into them).
func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func digitsOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if isDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// phonePunct is what people write between a number's digits, and the +
// before it.
const phonePunct = "+()-./ \u00a0"

// phoneSearch reads a search that looks like a phone number — digits with
// only phonePunct between them — as one number over the phone keys: the
// digits joined, whatever the grouping typed ("151-621-85557" →
// 15162185557), with a leading 00 read as + (how most of the world dials
// abroad). The stored keys hold the international, national and national
// significant forms of every number (PhoneKeys), so the typed digits need no
// reading of their own: each form typed is a prefix of one key. Up to
// phonePrefixMax digits the search is for the exact word (exact: an indexed
// prefix word, streamed in id order), beyond for words it begins; digits ""
// (only "00" typed, the start of any number abroad, as "+" is) is no search.
// ok is false for any other search. Each engine writes it in its own query
// syntax (MatchQuery, tsQuery).
func phoneSearch(s string) (digits string, exact, ok bool) {
	s = strings.TrimSpace(s)
	n := 0
	for _, r := range s {
		switch {
		case isDigit(r):
			n++
		case strings.ContainsRune(phonePunct, r):
		default:
			return "", false, false
		}
	}
	if n == 0 {
		return "", false, false
	}
	d := digitsOnly(s)
	if strings.HasPrefix(d, "00") && !strings.HasPrefix(s, "+") {
		d = d[2:]
	}
	return d, len(d) >= phonePrefixMin && len(d) <= phonePrefixMax, true
}

// NameKeys is what the search index holds besides a customer's names as
// written: each word that punctuation splits (the FTS tokenizer splits
// D'Souza into d and souza) joined again, so that "dsouza" finds D'Souza,
// "obrien" O'Brien and "jeanluc" Jean-Luc as staff type them. Words without
// inner punctuation add nothing (the index grows by one word per such name,
// not by a copy of every name).
func NameKeys(first, last string) string {
	var keys []string
	for _, w := range strings.Fields(first + " " + last) {
		parts := strings.FieldsFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) })
		if len(parts) > 1 {
			keys = append(keys, strings.Join(parts, ""))
		}
	}
	return strings.Join(keys, " ")
}
