package lru

import (
	"hash/maphash"
	"math"
)

// EntryOverhead is the number of bytes Bytes counts for each item on top of
// its key and value: the 40-byte metadata entry, about 16 bytes of index and
// a share of chunk slack.
const EntryOverhead = 64

// MaxLen is the largest key or value length a Cache accepts.
const MaxLen = math.MaxUint32

// Item is a value read from a Cache.
type Item struct {
	// Value aliases the cache's memory. It stays valid until the cache is
	// next modified (Set may overwrite it in place or move it); copy it to
	// keep it.
	Value []byte
	// ExpireAt is when the item expires, in Unix milliseconds; 0 means never.
	ExpireAt int64
}

// Stats counts what a Cache did since it was made or since ResetStats.
type Stats struct {
	Hits        uint64 // Get calls that found a live item
	Misses      uint64 // Get calls that found nothing (or an expired item)
	Evictions   uint64 // items removed by RemoveOldest
	Expired     uint64 // items removed because their expiry had passed
	Compactions uint64 // chunk compactions
}

// Cache is a byte-string cache with LRU order and per-item expiry. The zero
// value is not usable; call New. A Cache is not safe for concurrent use.
//
// Time is passed in by the caller as now, in Unix milliseconds. An item with
// ExpireAt e is expired when now > e, as in Redis.
type Cache struct {
	seed maphash.Seed

	entries          // metadata pages, id allocation, LRU list
	index   []uint64 // open addressing; slot = hash tag<<32 | id, 0 = empty
	arena            // chunks holding keys and values
	n       int      // live items
	expires int      // live items with an expiry
	expNext uint32   // next id ExpireSome examines
	stats   Stats
}

// New returns an empty Cache. It allocates almost nothing until items arrive.
func New() *Cache {
	c := &Cache{seed: maphash.MakeSeed()}
	c.entries.init()
	c.arena.init()
	return c
}

// Len returns the number of items, including expired ones not yet removed.
func (c *Cache) Len() int { return c.n }

// Expires returns the number of items that have an expiry.
func (c *Cache) Expires() int { return c.expires }

// Bytes returns the accounted size: the key and value lengths of all items
// plus EntryOverhead per item.
func (c *Cache) Bytes() int64 { return c.liveBytes + int64(c.n)*EntryOverhead }

// Allocated returns the bytes the cache really holds: chunk memory (live,
// dead and not yet used), metadata pages and the index.
func (c *Cache) Allocated() int64 {
	return c.allocBytes + c.entries.allocated() + int64(len(c.index))*8 + int64(cap(c.chunks))*chunkHeaderSize
}

// Span returns the number of entry ids handed out so far; ids run from 1 to
// Span. Scan cursors and ExpireSome walk this range.
func (c *Cache) Span() int { return int(c.nextID) - 1 }

// Stats returns the counters.
func (c *Cache) Stats() Stats { return c.stats }

// ResetStats zeroes the counters.
func (c *Cache) ResetStats() { c.stats = Stats{} }

// Get returns the item for key and marks it most recently used. An expired
// item is removed and reported missing. Get counts a hit or a miss.
func (c *Cache) Get(key []byte, now int64) (Item, bool) {
	id := c.counted(key, now)
	if id == 0 {
		return Item{}, false
	}
	c.moveToFront(id)
	return c.item(id), true
}

// Peek is Get without marking the item used and without counting a hit or a
// miss. An expired item is still removed.
func (c *Cache) Peek(key []byte, now int64) (Item, bool) {
	id := c.live(key, now)
	if id == 0 {
		return Item{}, false
	}
	return c.item(id), true
}

// Look is Peek that counts a hit or a miss, as Redis's reads that do not
// touch the key (EXISTS, TYPE, TTL, a client in NO-TOUCH mode) still do.
func (c *Cache) Look(key []byte, now int64) (Item, bool) {
	id := c.counted(key, now)
	if id == 0 {
		return Item{}, false
	}
	return c.item(id), true
}

// counted is live, counting a hit or a miss.
func (c *Cache) counted(key []byte, now int64) uint32 {
	id := c.live(key, now)
	if id == 0 {
		c.stats.Misses++
	} else {
		c.stats.Hits++
	}
	return id
}

// Set inserts or replaces the item for key and marks it most recently used.
// expireAt is in Unix milliseconds, 0 for none. Set copies key and value.
// It panics if either is longer than MaxLen.
func (c *Cache) Set(key, value []byte, expireAt int64) {
	if uint64(len(key)) > MaxLen || uint64(len(value)) > MaxLen {
		panic("lru: key or value longer than MaxLen")
	}
	c.maybeCompact()
	c.growIndex()
	h := c.hash(key)
	slot, id := c.lookup(key, h)
	if id != 0 {
		c.replace(id, value, expireAt)
		c.moveToFront(id)
		return
	}
	id = c.newID()
	e := c.ent(id)
	e.hash, e.klen, e.vlen, e.vcap, e.expire = h, uint32(len(key)), uint32(len(value)), uint32(len(value)), expireAt
	c.place(e, key, value)
	c.index[slot] = uint64(h)<<32 | uint64(id)
	c.pushFront(id)
	c.n++
	c.liveBytes += int64(len(key) + len(value))
	if expireAt != 0 {
		c.expires++
	}
}

// SetExpire changes the expiry of a live item (0 removes it) without marking
// it used, and reports whether the item existed. An expiry at or before now
// removes the item at once, like Redis's EXPIRE with a time in the past (it
// is not counted in Stats.Expired).
func (c *Cache) SetExpire(key []byte, expireAt, now int64) bool {
	id := c.live(key, now)
	if id == 0 {
		return false
	}
	if expireAt != 0 && expireAt <= now {
		c.remove(id)
		return true
	}
	e := c.ent(id)
	switch {
	case e.expire == 0 && expireAt != 0:
		c.expires++
	case e.expire != 0 && expireAt == 0:
		c.expires--
	}
	e.expire = expireAt
	return true
}

// Delete removes the item for key and reports whether a live item was there.
// An expired item is removed too but reported as not there.
func (c *Cache) Delete(key []byte, now int64) bool {
	id := c.live(key, now)
	if id == 0 {
		return false
	}
	c.remove(id)
	return true
}

// RemoveOldest removes the least recently used item, counting an eviction,
// and reports whether there was one.
func (c *Cache) RemoveOldest() bool {
	id := c.oldest()
	if id == 0 {
		return false
	}
	c.remove(id)
	c.stats.Evictions++
	return true
}

// Scan calls fn for up to count live items with ids from cursor on and
// returns the cursor to continue from; cursor 0 starts a scan and a returned
// 0 ends it. Every item present for the whole scan is visited at least once,
// whatever else changes between calls. Scan examines at most 10×count ids
// per call, so it may return fewer items (even none) before the end. Expired
// items met on the way are removed. fn must not modify the cache; key and
// it.Value alias cache memory.
func (c *Cache) Scan(cursor uint64, count int, now int64, fn func(key []byte, it Item)) uint64 {
	id := uint64(1)
	if cursor != 0 {
		id = cursor
	}
	count = min(max(count, 1), math.MaxInt/10) // 10*count must not overflow
	found := 0
	for budget := 10 * count; id < uint64(c.nextID) && found < count && budget > 0; id, budget = id+1, budget-1 {
		e := c.ent(uint32(id))
		if e.free() {
			continue
		}
		if e.expiredAt(now) {
			c.expire(uint32(id))
			continue
		}
		fn(c.keyOf(e), c.item(uint32(id)))
		found++
	}
	if id >= uint64(c.nextID) {
		return 0
	}
	return id
}

// Random returns the key of a live item chosen from the random number rnd,
// without modifying the cache. The key aliases cache memory.
func (c *Cache) Random(now int64, rnd uint64) ([]byte, bool) {
	span := uint64(c.Span())
	if c.n == 0 || span == 0 {
		return nil, false
	}
	start := rnd % span
	for i := range span {
		id := uint32(1 + (start+i)%span)
		if e := c.ent(id); !e.free() && !e.expiredAt(now) {
			return c.keyOf(e), true
		}
	}
	return nil, false
}

// ExpireSome examines up to budget entry ids, continuing where the previous
// call stopped and wrapping around, removes the expired items it finds and
// returns how many it removed. Calling it with budget Span()/k every tick
// removes every expired item within k ticks. It also compacts chunks when
// dead bytes are many.
func (c *Cache) ExpireSome(now int64, budget int) int {
	removed := 0
	for ; budget > 0 && c.expires > 0; budget-- {
		c.expNext++
		if c.expNext >= c.nextID {
			c.expNext = 1
		}
		if e := c.ent(c.expNext); !e.free() && e.expiredAt(now) {
			c.expire(c.expNext)
			removed++
		}
	}
	c.maybeCompact()
	return removed
}

// Clear removes all items and releases the memory; Stats are kept.
func (c *Cache) Clear() {
	c.entries.init()
	c.arena.init()
	c.index = nil
	c.n, c.expires, c.expNext = 0, 0, 0
}

// live returns the id of key's item, or 0 if there is none; an expired item
// is removed.
func (c *Cache) live(key []byte, now int64) uint32 {
	if c.n == 0 {
		return 0
	}
	_, id := c.lookup(key, c.hash(key))
	if id == 0 {
		return 0
	}
	if c.ent(id).expiredAt(now) {
		c.expire(id)
		return 0
	}
	return id
}

func (c *Cache) item(id uint32) Item {
	e := c.ent(id)
	return Item{Value: c.valueOf(e), ExpireAt: e.expire}
}

func (c *Cache) expire(id uint32) {
	c.remove(id)
	c.stats.Expired++
}

// remove drops item id from the index, the LRU list and its chunk.
func (c *Cache) remove(id uint32) {
	e := c.ent(id)
	c.unindex(e.hash, id)
	c.unlink(id)
	c.n--
	c.liveBytes -= int64(e.klen) + int64(e.vlen)
	if e.expire != 0 {
		c.expires--
	}
	c.release(e)
	c.freeID(id)
}

// replace gives live item id a new value and expiry, in place when it fits.
func (c *Cache) replace(id uint32, value []byte, expireAt int64) {
	e := c.ent(id)
	if e.expire != 0 {
		c.expires--
	}
	if expireAt != 0 {
		c.expires++
	}
	e.expire = expireAt
	c.liveBytes += int64(len(value)) - int64(e.vlen)
	if c.fitsInPlace(e, len(value)) {
		c.overwrite(e, value)
		return
	}
	c.move(e, value)
}

func (c *Cache) hash(key []byte) uint32 {
	h := maphash.Bytes(c.seed, key)
	return uint32(h) ^ uint32(h>>32)
}
