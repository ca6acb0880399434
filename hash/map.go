package hash

import (
	"slices"
	"sync"
	"sync/atomic"
)

// Map holds the current Ring of a changing membership. Lookups load the
// ring atomically and take no lock; a change builds a new ring and swaps it
// in, so a ring loaded once stays consistent for as long as it is used.
// The zero value is an empty Map with DefaultReplicas and xxhash.
type Map struct {
	replicas int
	hash     Hash

	mu   sync.Mutex // serializes changes, not lookups
	ring atomic.Pointer[Ring]
}

// NewMap returns a Map whose rings have replicas virtual nodes per node
// (0 means DefaultReplicas) placed by fn (nil means xxhash), starting with
// nodes as members (version 1) or empty (version 0).
func NewMap(replicas int, fn Hash, nodes ...string) *Map {
	m := &Map{replicas: replicas, hash: fn}
	m.Set(nodes...)
	return m
}

// Load returns the current ring, nil (an empty ring) before any member.
func (m *Map) Load() *Ring { return m.ring.Load() }

// Get returns the node that owns key in the current ring, or "".
func (m *Map) Get(key []byte) string { return m.Load().Get(key) }

// Version returns the version of the current ring: it grows by one on
// every change of the member set.
func (m *Map) Version() uint64 { return m.Load().Version() }

// Set makes nodes the member set. It reports whether the set changed; if
// not, the ring and its version stay as they were.
func (m *Map) Set(nodes ...string) bool {
	return m.change(func([]string) []string { return slices.Clone(nodes) })
}

// Add adds nodes to the member set and reports whether it changed.
func (m *Map) Add(nodes ...string) bool {
	return m.change(func(cur []string) []string { return append(cur, nodes...) })
}

// Remove removes nodes from the member set and reports whether it changed.
func (m *Map) Remove(nodes ...string) bool {
	return m.change(func(cur []string) []string {
		return slices.DeleteFunc(cur, func(id string) bool { return slices.Contains(nodes, id) })
	})
}

// change swaps in a ring of next(current members) if its member set differs.
func (m *Map) change(next func(cur []string) []string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.ring.Load()
	members := next(old.Members())
	slices.Sort(members)
	members = slices.DeleteFunc(slices.Compact(members), func(id string) bool { return id == "" })
	if slices.Equal(members, old.Members()) {
		return false
	}
	r := New(m.replicas, m.hash, members...)
	r.version = old.Version() + 1
	m.ring.Store(r)
	return true
}
