package tui

import (
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
