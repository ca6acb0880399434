package lru_test

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"testing"

	"github.com/geeredis/geeredis/lru"
)

func set(c *lru.Cache, kv ...string) {
	for i := 0; i+1 < len(kv); i += 2 {
		c.Set([]byte(kv[i]), []byte(kv[i+1]), 0)
	}
}

func TestGetExpiry(t *testing.T) {
	tests := []struct {
		name     string
		expireAt int64
		now      int64
		found    bool
	}{
		{"no expiry", 0, 1 << 40, true},
		{"before", 100, 99, true},
		{"at the instant", 100, 100, true}, // Redis: expired when now > expireAt
		{"after", 100, 101, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := lru.New()
			c.Set([]byte("k"), []byte("v"), tt.expireAt)
			it, ok := c.Get([]byte("k"), tt.now)
			if ok != tt.found {
				t.Fatalf("Get found = %v, want %v", ok, tt.found)
			}
			if ok && (string(it.Value) != "v" || it.ExpireAt != tt.expireAt) {
				t.Fatalf("Get = %q %d", it.Value, it.ExpireAt)
			}
			wantLen, wantExpired := 1, uint64(0)
			if !tt.found {
				wantLen, wantExpired = 0, 1
			}
			if c.Len() != wantLen || c.Stats().Expired != wantExpired {
				t.Fatalf("Len %d Expired %d, want %d %d", c.Len(), c.Stats().Expired, wantLen, wantExpired)
			}
		})
	}
}

func TestSetExpire(t *testing.T) {
	const now = 1000
	tests := []struct {
		name      string
		initial   int64 // expiry of the existing item; -1 = no item
		expireAt  int64
		ok        bool
		left      bool  // item still there afterwards
		wantExp   int64 // its expiry
		expires   int
		expiredBy uint64 // Stats.Expired
	}{
		{"missing", -1, 2000, false, false, 0, 0, 0},
		{"add ttl", 0, 2000, true, true, 2000, 1, 0},
		{"change ttl", 1500, 2000, true, true, 2000, 1, 0},
		{"persist", 1500, 0, true, true, 0, 0, 0},
		{"persist without ttl", 0, 0, true, true, 0, 0, 0},
		{"time in the past deletes", 0, 999, true, false, 0, 0, 0},
		{"time now deletes", 1500, now, true, false, 0, 0, 0},
		{"already expired", 999, 2000, false, false, 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := lru.New()
			if tt.initial >= 0 {
				c.Set([]byte("k"), []byte("v"), tt.initial)
			}
			if ok := c.SetExpire([]byte("k"), tt.expireAt, now); ok != tt.ok {
				t.Fatalf("SetExpire = %v, want %v", ok, tt.ok)
			}
			it, ok := c.Peek([]byte("k"), now)
			if ok != tt.left || it.ExpireAt != tt.wantExp {
				t.Fatalf("Peek = %v %d, want %v %d", ok, it.ExpireAt, tt.left, tt.wantExp)
			}
			if c.Expires() != tt.expires || c.Stats().Expired != tt.expiredBy {
				t.Fatalf("Expires %d Expired %d, want %d %d", c.Expires(), c.Stats().Expired, tt.expires, tt.expiredBy)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	tests := []struct {
		name     string
		expireAt int64 // -1 = no item
		ok       bool
	}{
		{"live", 0, true},
		{"missing", -1, false},
		{"expired", 5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := lru.New()
			if tt.expireAt >= 0 {
				c.Set([]byte("k"), []byte("v"), tt.expireAt)
			}
			if ok := c.Delete([]byte("k"), 10); ok != tt.ok {
				t.Fatalf("Delete = %v, want %v", ok, tt.ok)
			}
			if c.Len() != 0 || c.Bytes() != 0 || c.Expires() != 0 {
				t.Fatalf("after Delete: Len %d Bytes %d Expires %d", c.Len(), c.Bytes(), c.Expires())
			}
		})
	}
}

func TestLRUOrder(t *testing.T) {
	tests := []struct {
		name    string
		touch   func(c *lru.Cache)
		evicted []string // in order
	}{
		{"insertion order", func(*lru.Cache) {}, []string{"a", "b", "c"}},
		{"get marks used", func(c *lru.Cache) { c.Get([]byte("a"), 0) }, []string{"b", "c", "a"}},
		{"peek does not", func(c *lru.Cache) { c.Peek([]byte("a"), 0) }, []string{"a", "b", "c"}},
		{"look does not", func(c *lru.Cache) { c.Look([]byte("a"), 0) }, []string{"a", "b", "c"}},
		{"set marks used", func(c *lru.Cache) { set(c, "a", "x") }, []string{"b", "c", "a"}},
		{"set expire does not", func(c *lru.Cache) { c.SetExpire([]byte("a"), 1e15, 0) }, []string{"a", "b", "c"}},
		{"miss changes nothing", func(c *lru.Cache) { c.Get([]byte("z"), 0) }, []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := lru.New()
			set(c, "a", "1", "b", "2", "c", "3")
			tt.touch(c)
			for _, want := range tt.evicted {
				if !c.RemoveOldest() {
					t.Fatal("RemoveOldest found nothing")
				}
				if _, ok := c.Peek([]byte(want), 0); ok {
					t.Fatalf("%q survived, want it evicted", want)
				}
			}
			if c.RemoveOldest() || c.Len() != 0 {
				t.Fatalf("cache not empty: Len %d", c.Len())
			}
			if got := c.Stats().Evictions; got != 3 {
				t.Fatalf("Evictions = %d, want 3", got)
			}
		})
	}
}

func TestBytes(t *testing.T) {
	c := lru.New()
	steps := []struct {
		op   func()
		want int64
	}{
		{func() {}, 0},
		{func() { set(c, "key", "value") }, 8 + lru.EntryOverhead},
		{func() { set(c, "key", "v") }, 4 + lru.EntryOverhead},                           // overwrite, smaller
		{func() { set(c, "key", string(make([]byte, 1000))) }, 1003 + lru.EntryOverhead}, // overwrite elsewhere
		{func() { set(c, "", "") }, 1003 + 2*lru.EntryOverhead},                          // empty key and value
		{func() { c.Delete([]byte("key"), 0) }, lru.EntryOverhead},
		{func() { c.RemoveOldest() }, 0},
	}
	for i, s := range steps {
		s.op()
		if got := c.Bytes(); got != s.want {
			t.Fatalf("step %d: Bytes = %d, want %d", i, got, s.want)
		}
	}
}

func TestStats(t *testing.T) {
	c := lru.New()
	c.Set([]byte("a"), []byte("1"), 0)
	c.Set([]byte("b"), []byte("2"), 10)
	c.Get([]byte("a"), 20)  // hit
	c.Get([]byte("b"), 20)  // miss, expired
	c.Get([]byte("c"), 20)  // miss
	c.Peek([]byte("a"), 20) // not counted
	c.Look([]byte("a"), 20) // hit
	c.Look([]byte("c"), 20) // miss
	c.RemoveOldest()
	want := lru.Stats{Hits: 2, Misses: 3, Evictions: 1, Expired: 1}
	if got := c.Stats(); got != want {
		t.Fatalf("Stats = %+v, want %+v", got, want)
	}
	c.ResetStats()
	if got := c.Stats(); got != (lru.Stats{}) {
		t.Fatalf("after ResetStats: %+v", got)
	}
}

func TestValueDoesNotLeakIntoNeighbors(t *testing.T) {
	c := lru.New()
	set(c, "a", "111", "b", "222")
	it, _ := c.Get([]byte("a"), 0)
	_ = append(it.Value, "XXXX"...) // must not write into the cache
	if it, _ := c.Get([]byte("b"), 0); string(it.Value) != "222" {
		t.Fatalf("b = %q", it.Value)
	}
}

func TestSetFromOwnMemory(t *testing.T) {
	c := lru.New()
	set(c, "a", "hello world")
	want := "hello world"
	for i := range 100 { // key and value aliasing the cache, grown, shrunk, moved
		it, _ := c.Get([]byte("a"), 0)
		c.Set([]byte("a"), append(it.Value, byte('0'+i%10)), 0)
		want += string(rune('0' + i%10))
		key, _ := c.Random(0, 1) // "a", aliasing the cache
		it, _ = c.Get(key, 0)
		half := it.Value[:len(it.Value)/2+1]
		c.Set(key, half, 0)
		want = want[:len(want)/2+1]
	}
	if it, _ := c.Get([]byte("a"), 0); string(it.Value) != want {
		t.Fatalf("a = %q, want %q", it.Value, want)
	}
}

func TestLargeValues(t *testing.T) {
	c := lru.New()
	big := bytes.Repeat([]byte("x"), 10<<20)
	c.Set([]byte("big"), big, 0)
	set(c, "small", "s")
	if it, ok := c.Get([]byte("big"), 0); !ok || !bytes.Equal(it.Value, big) {
		t.Fatal("big value lost")
	}
	if a := c.Allocated(); a < 10<<20 || a > 11<<20 {
		t.Fatalf("Allocated = %d with a 10 MiB value", a)
	}
	c.Delete([]byte("big"), 0)
	if a := c.Allocated(); a > 64<<10 {
		t.Fatalf("Allocated = %d after deleting the big value", a)
	}
}

func TestClear(t *testing.T) {
	c := lru.New()
	empty := c.Allocated()
	for i := range 10_000 {
		c.Set([]byte(strconv.Itoa(i)), make([]byte, 100), int64(i%2))
	}
	c.Get([]byte("1"), 0)
	c.Clear()
	if c.Len() != 0 || c.Bytes() != 0 || c.Expires() != 0 || c.Allocated() != empty {
		t.Fatalf("after Clear: Len %d Bytes %d Expires %d Allocated %d (new: %d)", c.Len(), c.Bytes(), c.Expires(), c.Allocated(), empty)
	}
	if c.Stats().Hits != 1 {
		t.Fatal("Clear reset the stats")
	}
	set(c, "a", "b")
	if it, ok := c.Get([]byte("a"), 0); !ok || string(it.Value) != "b" {
		t.Fatal("cache unusable after Clear")
	}
}

// TestScanGuarantee changes the cache between Scan calls and checks that
// every key present for the whole scan is returned.
func TestScanGuarantee(t *testing.T) {
	c := lru.New()
	for i := range 1000 {
		c.Set([]byte("stable"+strconv.Itoa(i)), []byte("v"), 0)
		c.Set([]byte("churn"+strconv.Itoa(i)), []byte("v"), 0)
	}
	seen := map[string]int{}
	cursor, calls := uint64(0), 0
	for {
		cursor = c.Scan(cursor, 10, 0, func(key []byte, _ lru.Item) { seen[string(key)]++ })
		calls++
		// Churn between calls: delete, insert, overwrite with bigger values.
		c.Delete([]byte("churn"+strconv.Itoa(calls)), 0)
		c.Set([]byte("new"+strconv.Itoa(calls)), []byte("v"), 0)
		c.Set([]byte("stable"+strconv.Itoa(calls%1000)), make([]byte, calls), 0)
		if cursor == 0 {
			break
		}
	}
	for i := range 1000 {
		if k := "stable" + strconv.Itoa(i); seen[k] != 1 {
			t.Fatalf("%s seen %d times", k, seen[k])
		}
	}
	if calls > 1000 {
		t.Fatalf("%d calls for 2000 items at count 10", calls)
	}
}

func TestScanCursorOutOfRange(t *testing.T) {
	c := lru.New()
	set(c, "a", "1")
	n := 0
	if next := c.Scan(1<<40, 10, 0, func([]byte, lru.Item) { n++ }); next != 0 || n != 0 {
		t.Fatalf("Scan(huge) = %d after %d items, want 0 after 0", next, n)
	}
}

func TestExpireSomeSweepsEverything(t *testing.T) {
	c := lru.New()
	for i := range 10_000 {
		exp := int64(0)
		if i%3 == 0 {
			exp = 50
		}
		c.Set([]byte(strconv.Itoa(i)), []byte("v"), exp)
	}
	const ticks = 10
	budget := c.Span()/ticks + 1
	removed := 0
	for range ticks {
		removed += c.ExpireSome(100, budget)
	}
	if removed != 3334 || c.Len() != 6666 || c.Expires() != 0 || c.Stats().Expired != 3334 {
		t.Fatalf("removed %d, Len %d, Expires %d, Expired %d", removed, c.Len(), c.Expires(), c.Stats().Expired)
	}
}

func TestRandom(t *testing.T) {
	c := lru.New()
	if _, ok := c.Random(0, 1); ok {
		t.Fatal("Random on an empty cache")
	}
	set(c, "a", "1", "b", "2", "c", "3")
	c.Set([]byte("gone"), []byte("x"), 5)
	seen := map[string]bool{}
	for i := range uint64(100) {
		k, ok := c.Random(10, i*0x9E3779B97F4A7C15)
		if !ok || string(k) == "gone" {
			t.Fatalf("Random = %q %v", k, ok)
		}
		seen[string(k)] = true
	}
	if len(seen) != 3 {
		t.Fatalf("Random returned only %v", seen)
	}
	c.Clear()
	c.Set([]byte("gone"), []byte("x"), 5)
	if k, ok := c.Random(10, 7); ok {
		t.Fatalf("Random = %q among expired items only", k)
	}
}

func TestMemoryShrinksAfterDeletes(t *testing.T) {
	c := lru.New()
	for i := range 100_000 {
		c.Set([]byte(fmt.Sprintf("key:%08d", i)), make([]byte, 100), 0)
	}
	full := c.Allocated()
	for i := range 100_000 {
		if i%10 != 0 {
			c.Delete([]byte(fmt.Sprintf("key:%08d", i)), 0)
		}
	}
	c.ExpireSome(0, 1) // compacts
	// Metadata pages stay (ids are stable); chunks and index shrink.
	if got, meta := c.Allocated(), int64(100_000*40); got > meta+full/10+256<<10 {
		t.Fatalf("Allocated = %d after deleting 90%% (full: %d)", got, full)
	}
	for i := 0; i < 100_000; i += 10 {
		if it, ok := c.Get([]byte(fmt.Sprintf("key:%08d", i)), 0); !ok || len(it.Value) != 100 {
			t.Fatalf("key %d lost by compaction", i)
		}
	}
}

func TestHotPathsDoNotAllocate(t *testing.T) {
	c := lru.New()
	key, val := []byte("0123456789abcdef"), make([]byte, 100)
	for i := range 1000 {
		c.Set([]byte(strconv.Itoa(i)), val, 0)
	}
	c.Set(key, val, 0)
	tests := []struct {
		name string
		op   func()
	}{
		{"Get hit", func() { c.Get(key, 0) }},
		{"Get miss", func() { c.Get([]byte("missing"), 0) }},
		{"Peek", func() { c.Peek(key, 0) }},
		{"Set overwrite", func() { c.Set(key, val, 0) }},
		{"SetExpire", func() { c.SetExpire(key, 1e15, 0) }},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(1000, tt.op); n != 0 {
			t.Errorf("%s: %v allocs per run", tt.name, n)
		}
	}
}

func TestScanHugeCount(t *testing.T) {
	c := lru.New()
	c.Set([]byte("a"), []byte("1"), 0)
	c.Set([]byte("b"), []byte("2"), 0)
	var keys []string
	next := c.Scan(0, math.MaxInt, 0, func(key []byte, it lru.Item) { keys = append(keys, string(key)) })
	if next != 0 || len(keys) != 2 {
		t.Fatalf("Scan with count MaxInt = %v, next %d; want both keys and the end", keys, next)
	}
}
