package tui

import (
	"runtime"
	"slices"
	"testing"
)

// Marks come back in the order staff made them, whatever is unmarked or
// handled in between; the bulk screen's copy does not change with them.
func TestMarksKeepMarkingOrder(t *testing.T) {
	var m marks
	for _, id := range []int64{30, 10, 20, 40} {
		if !m.Toggle(id) {
			t.Fatalf("Toggle(%d) on an unmarked id reports it unmarked", id)
		}
	}
	if m.Toggle(10) {
		t.Fatal("Toggle(10) on a marked id reports it marked")
	}
	m.Toggle(10)
	taken := m.IDs()
	if want := []int64{30, 20, 40, 10}; !slices.Equal(taken, want) {
		t.Fatalf("IDs() = %v, want %v", taken, want)
	}
	m.Remove(20, 99, 30)
	if want := []int64{40, 10}; !slices.Equal(m.IDs(), want) || m.Len() != 2 {
		t.Fatalf("after Remove: IDs() = %v, Len() = %d, want %v", m.IDs(), m.Len(), want)
	}
	if m.Has(20) || m.Has(30) || !m.Has(40) || !m.Has(10) {
		t.Fatalf("Has disagrees with IDs() %v", m.IDs())
	}
	if want := []int64{30, 20, 40, 10}; !slices.Equal(taken, want) {
		t.Fatalf("the earlier IDs() changed to %v", taken)
	}
	m.Remove(40, 10)
	if m.Len() != 0 || m.Has(40) {
		t.Fatalf("after removing all: Len() = %d", m.Len())
	}
}

// Marking all of a million-customer roster holds the ids and little more:
// about 8 bytes a mark, where a map entry per mark would cost three times
// that. Adding marks some of which are marked already keeps their places.
func TestMarksScale(t *testing.T) {
	const n = 1_000_000
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(3*i + 1) // another organization's customers in between
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var m marks
	m.Toggle(4)
	if added := m.Add(ids); added != n-1 || m.Len() != n {
		t.Fatalf("Add marked %d, Len() = %d; want %d and %d", added, m.Len(), n-1, n)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := float64(after.HeapAlloc) - float64(before.HeapAlloc)
	t.Logf("a million marks: %.1f MiB", grew/(1<<20))
	if grew > 12<<20 {
		t.Errorf("a million marks hold %.1f MiB, want under 12", grew/(1<<20))
	}
	got := m.IDs()
	if got[0] != 4 || got[1] != 1 || got[2] != 7 || got[n-1] != ids[n-1] {
		t.Fatalf("order starts %v, ends %d", got[:3], got[n-1])
	}
	if m.Has(2) || m.Has(3) || !m.Has(ids[n/2]) || m.Has(ids[n-1]+3) || m.Has(-1) {
		t.Fatal("Has disagrees with the marks")
	}
	m.Remove(ids[:n/2]...)
	if m.Len() != n/2 || m.Has(ids[0]) || !m.Has(ids[n/2]) || got[1] != 1 {
		t.Fatalf("after removing half: Len() = %d; the earlier IDs() starts %v", m.Len(), got[:3])
	}
	m.Clear()
	if m.Len() != 0 || m.Has(ids[n-1]) {
		t.Fatal("Clear left marks")
	}
	runtime.KeepAlive(got)
}
