//go:build !race

package tui

// bigRoster is the roster size compared with a hundred customers.
const bigRoster = 5000
