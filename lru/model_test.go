package lru

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// checkInvariants verifies every internal structure of c against the others.
func checkInvariants(tb testing.TB, c *Cache) {
	tb.Helper()
	// LRU list.
	seen := map[uint32]bool{}
	prev := uint32(0)
	for id := c.ent(0).next; id != 0; id = c.ent(id).next {
		e := c.ent(id)
		if e.free() || seen[id] || e.prev != prev {
			tb.Fatalf("list broken at id %d (free %v, seen %v, prev %d want %d)", id, e.free(), seen[id], e.prev, prev)
		}
		seen[id] = true
		prev = id
	}
	if c.ent(0).prev != prev {
		tb.Fatalf("sentinel prev %d, want %d", c.ent(0).prev, prev)
	}
	if len(seen) != c.n {
		tb.Fatalf("list holds %d items, n = %d", len(seen), c.n)
	}
	// Entries, chunks, index.
	var live, expires int64
	chunkLive := make([]int, len(c.chunks))
	type span struct{ off, end int }
	spans := map[uint32][]span{}
	for id := uint32(1); id < c.nextID; id++ {
		e := c.ent(id)
		if e.free() {
			if seen[id] {
				tb.Fatalf("free id %d in list", id)
			}
			continue
		}
		if !seen[id] {
			tb.Fatalf("live id %d not in list", id)
		}
		live += int64(e.klen) + int64(e.vlen)
		if e.expire != 0 {
			expires++
		}
		if e.vlen > e.vcap {
			tb.Fatalf("id %d: vlen %d > vcap %d", id, e.vlen, e.vcap)
		}
		if e.chunk == noChunk {
			if e.klen+e.vlen != 0 {
				tb.Fatalf("id %d: noChunk with %d bytes", id, e.klen+e.vlen)
			}
		} else {
			ch := &c.chunks[e.chunk]
			end := int(e.off) + int(e.klen) + int(e.vcap)
			if ch.buf == nil || end > ch.used || ch.used > len(ch.buf) || ch.victim {
				tb.Fatalf("id %d: record [%d,%d) outside chunk %d (used %d, len %d)", id, e.off, end, e.chunk, ch.used, len(ch.buf))
			}
			chunkLive[e.chunk] += int(e.klen) + int(e.vlen)
			spans[e.chunk] = append(spans[e.chunk], span{int(e.off), end})
		}
		key := c.keyOf(e)
		if c.hash(key) != e.hash {
			tb.Fatalf("id %d: stale hash", id)
		}
		if _, got := c.lookup(key, e.hash); got != id {
			tb.Fatalf("id %d: index finds %d", id, got)
		}
	}
	if live != c.liveBytes || int(expires) != c.expires {
		tb.Fatalf("liveBytes %d want %d, expires %d want %d", c.liveBytes, live, c.expires, expires)
	}
	var alloc, shared int64
	for i, ch := range c.chunks {
		if ch.live != chunkLive[i] {
			tb.Fatalf("chunk %d: live %d, records hold %d", i, ch.live, chunkLive[i])
		}
		if ch.buf != nil && ch.live == 0 && i != c.cur {
			tb.Fatalf("chunk %d: empty but not freed", i)
		}
		alloc += int64(len(ch.buf))
		if !ch.dedicated {
			shared += int64(len(ch.buf))
		}
		s := spans[uint32(i)]
		sort.Slice(s, func(a, b int) bool { return s[a].off < s[b].off })
		for j := 1; j < len(s); j++ {
			if s[j].off < s[j-1].end {
				tb.Fatalf("chunk %d: records overlap", i)
			}
		}
	}
	if alloc != c.allocBytes || shared != c.sharedLen {
		tb.Fatalf("allocBytes %d want %d, sharedLen %d want %d", c.allocBytes, alloc, c.sharedLen, shared)
	}
	if c.dead() < 0 {
		tb.Fatalf("dead bytes %d", c.dead())
	}
	slots := 0
	for _, s := range c.index {
		if s != 0 {
			slots++
		}
	}
	if slots != c.n {
		tb.Fatalf("index holds %d, n = %d", slots, c.n)
	}
	nfree := 0
	for id := c.freed; id != 0; id = c.ent(id).next {
		if !c.ent(id).free() {
			tb.Fatalf("id %d on free list is live", id)
		}
		nfree++
	}
	if nfree+c.n != c.Span() {
		tb.Fatalf("%d free + %d live != span %d", nfree, c.n, c.Span())
	}
}

// model is the obvious implementation: a map and a slice in LRU order
// (oldest first).
type model struct {
	items map[string]Item
	order []string
}

func (m *model) touch(k string) {
	m.order = slices.DeleteFunc(m.order, func(s string) bool { return s == k })
	m.order = append(m.order, k)
}

func (m *model) remove(k string) {
	delete(m.items, k)
	m.order = slices.DeleteFunc(m.order, func(s string) bool { return s == k })
}

// live returns k's item, removing it when expired.
func (m *model) live(k string, now int64) (Item, bool) {
	it, ok := m.items[k]
	if ok && it.ExpireAt != 0 && now > it.ExpireAt {
		m.remove(k)
		return Item{}, false
	}
	return it, ok
}

func (m *model) bytes() int64 {
	var n int64
	for k, it := range m.items {
		n += int64(len(k)+len(it.Value)) + EntryOverhead
	}
	return n
}

// newSmallCache returns a cache with tiny chunks so that tests reach chunk
// turnover, dedicated records and compaction with few items.
func newSmallCache() *Cache {
	c := New()
	c.minChunk, c.maxChunk, c.bigRecord = 64, 256, 100
	return c
}

// runModel applies the operations encoded in ops to a cache and a model and
// fails at the first difference.
func runModel(t *testing.T, ops []byte) {
	c, m := newSmallCache(), &model{items: map[string]Item{}}
	now := int64(1000)
	next := func() byte {
		if len(ops) == 0 {
			return 0
		}
		b := ops[0]
		ops = ops[1:]
		return b
	}
	keyOf := func(b byte) []byte { return bytes.Repeat([]byte{'a' + b%7}, int(b/7)%4) } // 28 keys, "" included
	for step := 0; len(ops) > 0; step++ {
		op, a, b := next(), next(), next()
		key := keyOf(a)
		k := string(key)
		what := fmt.Sprintf("step %d op %d key %q", step, op%11, k)
		switch op % 11 {
		case 0, 1: // Set
			n := int(b)
			if b > 200 {
				n = int(b) * 3 // dedicated records
			}
			val := bytes.Repeat([]byte{byte(step)}, n)
			exp := int64(0)
			if b%3 == 0 {
				exp = now + int64(b%5)
			}
			c.Set(key, val, exp)
			m.items[k] = Item{Value: val, ExpireAt: exp}
			m.touch(k)
		case 2: // Get
			got, ok := c.Get(key, now)
			want, wok := m.live(k, now)
			if ok != wok || !bytes.Equal(got.Value, want.Value) || got.ExpireAt != want.ExpireAt {
				t.Fatalf("%s: Get = %v %v, want %v %v", what, got, ok, want, wok)
			}
			if ok {
				m.touch(k)
			}
		case 3: // Peek
			got, ok := c.Peek(key, now)
			want, wok := m.live(k, now)
			if ok != wok || !bytes.Equal(got.Value, want.Value) || got.ExpireAt != want.ExpireAt {
				t.Fatalf("%s: Peek = %v %v, want %v %v", what, got, ok, want, wok)
			}
		case 4: // Delete
			_, wok := m.live(k, now)
			m.remove(k)
			if ok := c.Delete(key, now); ok != wok {
				t.Fatalf("%s: Delete = %v, want %v", what, ok, wok)
			}
		case 5: // SetExpire
			exp := int64(0)
			if b%2 == 0 {
				exp = now + int64(b%7) - 2
			}
			it, wok := m.live(k, now)
			if wok {
				if exp != 0 && exp <= now {
					m.remove(k)
				} else {
					it.ExpireAt = exp
					m.items[k] = it
				}
			}
			if ok := c.SetExpire(key, exp, now); ok != wok {
				t.Fatalf("%s: SetExpire = %v, want %v", what, ok, wok)
			}
		case 6: // RemoveOldest
			wok := len(m.order) > 0
			if wok {
				m.remove(m.order[0])
			}
			if ok := c.RemoveOldest(); ok != wok {
				t.Fatalf("%s: RemoveOldest = %v, want %v", what, ok, wok)
			}
		case 7: // ExpireSome over everything
			want := 0
			for k, it := range m.items {
				if it.ExpireAt != 0 && now > it.ExpireAt {
					m.remove(k)
					want++
				}
			}
			if got := c.ExpireSome(now, c.Span()+1); got != want {
				t.Fatalf("%s: ExpireSome = %d, want %d", what, got, want)
			}
		case 8: // time passes
			now += int64(b % 4)
		case 9: // full scan, a few items at a time
			want := map[string]bool{}
			for k := range m.items {
				if _, ok := m.live(k, now); ok {
					want[k] = true
				}
			}
			got := map[string]bool{}
			cursor := uint64(0)
			for {
				cursor = c.Scan(cursor, int(b%5)+1, now, func(key []byte, it Item) {
					if !bytes.Equal(it.Value, m.items[string(key)].Value) {
						t.Fatalf("%s: Scan gives %q = %v", what, key, it.Value)
					}
					got[string(key)] = true
				})
				if cursor == 0 {
					break
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s: Scan = %v, want %v", what, got, want)
			}
		case 10: // Random
			key, ok := c.Random(now, uint64(b)*7919)
			anyLive := false
			for _, it := range m.items {
				anyLive = anyLive || it.ExpireAt == 0 || now <= it.ExpireAt
			}
			if ok != anyLive {
				t.Fatalf("%s: Random ok = %v, want %v", what, ok, anyLive)
			}
			if it, found := m.items[string(key)]; ok && (!found || it.ExpireAt != 0 && now > it.ExpireAt) {
				t.Fatalf("%s: Random = %q, not live", what, key)
			}
		}
		checkInvariants(t, c)
		if c.Len() != len(m.items) || c.Bytes() != m.bytes() {
			t.Fatalf("%s: Len %d Bytes %d, want %d %d", what, c.Len(), c.Bytes(), len(m.items), m.bytes())
		}
		var order []string
		for id := c.oldest(); id != 0; id = c.ent(id).prev {
			order = append(order, string(c.keyOf(c.ent(id))))
		}
		if !slices.Equal(order, m.order) {
			t.Fatalf("%s: LRU order %q, want %q", what, order, m.order)
		}
	}
}

func FuzzCache(f *testing.F) {
	f.Add([]byte{0, 1, 10, 2, 1, 0, 6, 0, 0})
	f.Add([]byte{0, 3, 250, 0, 3, 3, 0, 3, 40, 4, 3, 0})
	f.Add([]byte{0, 8, 3, 5, 8, 2, 8, 0, 3, 7, 0, 0, 2, 8, 0})
	f.Add([]byte{0, 0, 0, 2, 0, 0, 9, 0, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 3000 {
			ops = ops[:3000]
		}
		runModel(t, ops)
	})
}

// TestCacheModel runs long random operation sequences through runModel.
func TestCacheModel(t *testing.T) {
	for seed := range uint64(8) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 1))
			ops := make([]byte, 3000)
			for i := range ops {
				ops[i] = byte(r.Uint32())
			}
			// Bias toward writes so the cache fills and compacts.
			for i := 0; i < len(ops); i += 3 {
				if r.IntN(3) == 0 {
					ops[i] = 0
				}
			}
			runModel(t, ops)
		})
	}
}

// TestCompactionBoundsDeadBytes overwrites a fixed key set with values of
// changing size and checks that the chunk memory stays near the live data.
func TestCompactionBoundsDeadBytes(t *testing.T) {
	c := New()
	r := rand.New(rand.NewPCG(1, 2))
	key := make([]byte, 8)
	for i := range 200_000 {
		binary.LittleEndian.PutUint64(key, uint64(i%5000))
		c.Set(key, make([]byte, 50+r.IntN(100)), 0)
	}
	checkInvariants(t, c)
	if c.Stats().Compactions == 0 {
		t.Fatal("no compaction happened")
	}
	if limit := c.liveBytes*4/3 + 2*maxChunk; c.allocBytes > limit {
		t.Fatalf("chunks hold %d bytes for %d live, limit %d", c.allocBytes, c.liveBytes, limit)
	}
}
