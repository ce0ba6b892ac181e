//go:build race

package tui

// The race detector makes SQLite (translated to Go) about ten times slower;
// a smaller "big" roster keeps the run short and still twenty times the
// small one.
const bigRoster = 2000
