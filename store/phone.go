package store

import (
	"strings"
	"unicode"
)

// PhoneKeys is what the search index holds for a phone number: the number as
// written, then every tail of its digit groups joined ("+1 (555) 014-2" →
// "… 15550142 5550142 0142"), so a number typed with or without country code,
// area code or punctuation is found by prefix search.
func PhoneKeys(phone string) string {
	groups := strings.FieldsFunc(phone, func(r rune) bool { return !unicode.IsDigit(r) })
	if len(groups) == 0 {
		return phone
	}
	keys := []string{phone}
	for i := range groups {
		if i < len(groups)-1 || len(groups) == 1 {
			keys = append(keys, strings.Join(groups[i:], ""))
		}
	}
	return strings.Join(keys, " ")
}
