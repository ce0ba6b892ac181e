package tui

import "slices"

// marks is the set of customers marked for a bulk invite, in the order they
// were marked: the bulk screen lists and invites them in that order, so
// staff see their own order back. The zero value is an empty set.
type marks struct {
	set   map[int64]struct{}
	order []int64
}

// Toggle marks id, or unmarks it when it is marked; it reports whether id is
// marked now.
func (m *marks) Toggle(id int64) bool {
	if m.Has(id) {
		m.Remove(id)
		return false
	}
	if m.set == nil {
		m.set = map[int64]struct{}{}
	}
	m.set[id] = struct{}{}
	m.order = append(m.order, id)
	return true
}

// Has reports whether id is marked.
func (m *marks) Has(id int64) bool {
	_, ok := m.set[id]
	return ok
}

// Len is how many customers are marked.
func (m *marks) Len() int { return len(m.order) }

// IDs returns the marked ids in marking order, as a copy the caller may keep:
// a bulk run holds on to its list while the roster's marks change.
func (m *marks) IDs() []int64 { return slices.Clone(m.order) }

// Remove unmarks ids; ids that are not marked are ignored.
func (m *marks) Remove(ids ...int64) {
	n := len(m.set)
	for _, id := range ids {
		delete(m.set, id)
	}
	if len(m.set) == n {
		return
	}
	m.order = slices.DeleteFunc(m.order, func(id int64) bool { return !m.Has(id) })
}
