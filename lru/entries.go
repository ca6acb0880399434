package lru

import "unsafe"

const (
	pageShift = 9
	pageSize  = 1 << pageShift // entries per metadata page
	pageMask  = pageSize - 1

	freeMark = ^uint32(0) // entry.prev of an unused id
)

// entry is the metadata of one item; 40 bytes, no pointers. Id 0 is the
// sentinel of the circular LRU list: its next is the most recently used item
// and its prev the least recently used.
type entry struct {
	chunk  uint32 // index in arena.chunks, or noChunk for an empty record
	off    uint32 // offset of the key in the chunk; the value follows it
	klen   uint32
	vlen   uint32
	vcap   uint32 // room for the value at off+klen (vlen <= vcap)
	hash   uint32 // hash tag, as in the index slot
	prev   uint32 // freeMark when the id is unused
	next   uint32 // next unused id when the id is unused
	expire int64  // Unix ms, 0 = none
}

const entrySize = int64(unsafe.Sizeof(entry{}))

func (e *entry) free() bool { return e.prev == freeMark }

func (e *entry) expiredAt(now int64) bool { return e.expire != 0 && now > e.expire }

// entries holds the metadata pages, the free id list and the LRU list.
type entries struct {
	pages  [][]entry // pages[id>>pageShift][id&pageMask]; page 0 grows by append, others are made full size
	nextID uint32    // ids 1..nextID-1 have been handed out
	freed  uint32    // head of the list of unused ids (linked by next), 0 = none
}

func (m *entries) init() {
	m.pages = [][]entry{make([]entry, 1, 4)} // the sentinel
	m.nextID = 1
	m.freed = 0
}

func (m *entries) ent(id uint32) *entry { return &m.pages[id>>pageShift][id&pageMask] }

func (m *entries) allocated() int64 {
	var n int64
	for _, p := range m.pages {
		n += int64(cap(p))
	}
	return n * entrySize
}

// newID returns an unused id; its entry is zero except for the list links.
// It may grow page 0, so pointers from ent taken before are stale.
func (m *entries) newID() uint32 {
	if id := m.freed; id != 0 {
		e := m.ent(id)
		m.freed = e.next
		*e = entry{}
		return id
	}
	id := m.nextID
	if id == freeMark {
		panic("lru: too many items")
	}
	p := int(id >> pageShift)
	if p == len(m.pages) {
		m.pages = append(m.pages, make([]entry, 0, pageSize))
	}
	m.pages[p] = append(m.pages[p], entry{})
	m.nextID++
	return id
}

func (m *entries) freeID(id uint32) {
	*m.ent(id) = entry{prev: freeMark, next: m.freed}
	m.freed = id
}

func (m *entries) unlink(id uint32) {
	e := m.ent(id)
	m.ent(e.prev).next = e.next
	m.ent(e.next).prev = e.prev
}

func (m *entries) pushFront(id uint32) {
	head := m.ent(0)
	e := m.ent(id)
	e.prev, e.next = 0, head.next
	m.ent(head.next).prev = id
	head.next = id
}

func (m *entries) moveToFront(id uint32) {
	if m.ent(0).next == id {
		return
	}
	m.unlink(id)
	m.pushFront(id)
}

// oldest returns the least recently used id, 0 if there is none.
func (m *entries) oldest() uint32 { return m.ent(0).prev }
