package tui

import "slices"

// marks is the set of customers marked for a bulk invite, in the order they
// were marked: the bulk screen lists and invites them in that order, so
// staff see their own order back. The zero value is an empty set.
//
// "Mark all" can mark every customer of a million-customer roster, so the
// set is held for size: the order is the ids themselves (8 bytes a mark,
// what a bulk run needs anyway), and membership is a bitmap over ids in
// blocks of markBlockBits, allocated only where marks fall. A map entry per
// mark would cost two or three times the ids again; a bitmap costs a bit
// per id of the blocks in use (a million marked: about 128 KiB), and Has,
// asked for every row drawn, is a map lookup and a bit test.
type marks struct {
	blocks map[int64]*markBlock
	order  []int64
	// shared: a caller of IDs holds order, so Remove must not compact it
	// in place. Appends are safe: they write past the caller's length.
	shared bool
}

// markBlockBits ids share a block: small enough that a few scattered marks
// in a database of many organizations cost little, large enough that a
// million marks are a few hundred blocks.
const markBlockBits = 1 << 12

type markBlock struct {
	n    int // bits set
	bits [markBlockBits / 64]uint64
}

func markAt(id int64) (block int64, word int, bit uint64) {
	return id / markBlockBits, int(id%markBlockBits) / 64, 1 << (uint64(id%markBlockBits) % 64)
}

// Has reports whether id is marked.
func (m *marks) Has(id int64) bool {
	if id < 0 {
		return false
	}
	k, w, bit := markAt(id)
	b := m.blocks[k]
	return b != nil && b.bits[w]&bit != 0
}

// set marks id in the bitmap; false when it was marked already.
func (m *marks) set(id int64) bool {
	k, w, bit := markAt(id)
	b := m.blocks[k]
	if b == nil {
		if m.blocks == nil {
			m.blocks = map[int64]*markBlock{}
		}
		b = &markBlock{}
		m.blocks[k] = b
	}
	if b.bits[w]&bit != 0 {
		return false
	}
	b.bits[w] |= bit
	b.n++
	return true
}

// unset unmarks id in the bitmap; false when it was not marked.
func (m *marks) unset(id int64) bool {
	if !m.Has(id) {
		return false
	}
	k, w, bit := markAt(id)
	b := m.blocks[k]
	b.bits[w] &^= bit
	if b.n--; b.n == 0 {
		delete(m.blocks, k)
	}
	return true
}

// Toggle marks id, or unmarks it when it is marked; it reports whether id is
// marked now.
func (m *marks) Toggle(id int64) bool {
	if m.Has(id) {
		m.Remove(id)
		return false
	}
	m.Add([]int64{id})
	return true
}

// Add marks ids, after those marked already, in the order given; ids that
// are marked already keep their place. It returns how many it marked.
func (m *marks) Add(ids []int64) int {
	n := 0
	for _, id := range ids {
		if id < 0 || !m.set(id) {
			continue
		}
		m.order = append(m.order, id)
		n++
	}
	return n
}

// Len is how many customers are marked.
func (m *marks) Len() int { return len(m.order) }

// IDs returns the marked ids in marking order, for the caller to keep and
// read (not change): a bulk run holds on to its list while the roster's
// marks change. It is not a copy (a million marks are 8 MB); the marks copy
// it instead, should they need to change it in place.
func (m *marks) IDs() []int64 {
	m.shared = true
	return slices.Clip(m.order)
}

// Remove unmarks ids; ids that are not marked are ignored.
func (m *marks) Remove(ids ...int64) {
	n := 0
	for _, id := range ids {
		if m.unset(id) {
			n++
		}
	}
	switch {
	case n == 0:
		return
	case len(m.blocks) == 0:
		m.Clear()
	case m.shared:
		kept := make([]int64, 0, len(m.order)-n)
		for _, id := range m.order {
			if m.Has(id) {
				kept = append(kept, id)
			}
		}
		m.order, m.shared = kept, false
	default:
		m.order = slices.DeleteFunc(m.order, func(id int64) bool { return !m.Has(id) })
	}
}

// Clear unmarks everyone.
func (m *marks) Clear() { *m = marks{} }
