package lru

import "unsafe"

const (
	minChunk  = 4 << 10  // first shared chunk
	maxChunk  = 1 << 20  // largest shared chunk
	bigRecord = 16 << 10 // a larger record gets an allocation of its own

	noChunk = ^uint32(0) // entry.chunk of a record with no bytes
)

// chunk is one allocation holding records (key then value) back to back.
type chunk struct {
	buf       []byte // nil when the chunk id is unused
	used      int    // bytes handed out from the start of buf
	live      int    // key+value bytes of the items in buf
	dedicated bool   // holds one big record
	victim    bool   // being emptied by compact
}

const chunkHeaderSize = int64(unsafe.Sizeof(chunk{}))

// arena hands out room for records and keeps dead bytes bounded.
type arena struct {
	chunks     []chunk
	freeChunks []uint32 // unused chunk ids
	cur        int      // shared chunk new records go to, -1 for none
	allocBytes int64    // sum of len(buf)
	sharedLen  int64    // sum of len(buf) of shared chunks
	liveBytes  int64    // sum of key+value lengths of all items

	// Tunables, the constants above except in tests.
	minChunk, maxChunk, bigRecord int
}

func (a *arena) init() {
	a.chunks, a.freeChunks = nil, nil
	a.cur = -1
	a.allocBytes, a.sharedLen, a.liveBytes = 0, 0, 0
	if a.maxChunk == 0 {
		a.minChunk, a.maxChunk, a.bigRecord = minChunk, maxChunk, bigRecord
	}
}

func (a *arena) keyOf(e *entry) []byte {
	if e.chunk == noChunk {
		return nil
	}
	off, end := int(e.off), int(e.off)+int(e.klen)
	return a.chunks[e.chunk].buf[off:end:end]
}

func (a *arena) valueOf(e *entry) []byte {
	if e.chunk == noChunk {
		return nil
	}
	off := int(e.off) + int(e.klen)
	end := off + int(e.vlen)
	return a.chunks[e.chunk].buf[off:end:end]
}

// place stores key and value for e, whose lengths are set.
func (a *arena) place(e *entry, key, value []byte) {
	n := len(key) + len(value)
	if n == 0 {
		e.chunk, e.off = noChunk, 0
		return
	}
	e.chunk, e.off = a.alloc(n, 0)
	b := a.chunks[e.chunk].buf[e.off:]
	copy(b[copy(b, key):], value)
	a.chunks[e.chunk].live += n
}

// fitsInPlace reports whether a value of n bytes may overwrite e's value.
func (a *arena) fitsInPlace(e *entry, n int) bool {
	return e.chunk != noChunk && n <= int(e.vcap) && 2*n >= int(e.vcap) && int(e.klen)+n > 0
}

func (a *arena) overwrite(e *entry, value []byte) {
	off := int(e.off) + int(e.klen)
	copy(a.chunks[e.chunk].buf[off:], value)
	a.chunks[e.chunk].live += len(value) - int(e.vlen)
	e.vlen = uint32(len(value))
}

// move gives e a new record holding its key and value, releasing the old one.
func (a *arena) move(e *entry, value []byte) {
	old := *e
	key := a.keyOf(&old)
	e.vlen, e.vcap = uint32(len(value)), uint32(len(value))
	a.place(e, key, value) // the old record is still allocated: key and value may alias it
	a.release(&old)
}

// release drops e's record from its chunk, freeing the chunk when it empties.
func (a *arena) release(e *entry) {
	if e.chunk == noChunk {
		return
	}
	ch := &a.chunks[e.chunk]
	ch.live -= int(e.klen) + int(e.vlen)
	if ch.live > 0 {
		return
	}
	if int(e.chunk) == a.cur {
		ch.used = 0 // reuse the current chunk from its start
		return
	}
	a.freeChunk(e.chunk)
}

// alloc returns room for a record of n > 0 bytes. A record larger than
// bigRecord gets a chunk of its own; others go to the current shared chunk,
// and to a new one when it is full: of size bytes, or sized by nextShared
// when size is 0.
func (a *arena) alloc(n, size int) (uint32, uint32) {
	if n > a.bigRecord {
		id := a.newChunk(n, true)
		a.chunks[id].used = n
		return id, 0
	}
	if a.cur >= 0 {
		ch := &a.chunks[a.cur]
		if len(ch.buf)-ch.used >= n {
			off := ch.used
			ch.used += n
			return uint32(a.cur), uint32(off)
		}
		if ch.live == 0 {
			a.freeChunk(uint32(a.cur))
		}
	}
	if size == 0 {
		size = a.nextShared()
	}
	id := a.newChunk(max(size, allocSize(n)), false)
	a.cur = int(id)
	a.chunks[id].used = n
	return id, 0
}

// nextShared sizes a new shared chunk at about 1/16 of the shared chunks.
func (a *arena) nextShared() int {
	size := a.minChunk
	for int64(size) < a.sharedLen/16 && size < a.maxChunk {
		size *= 2
	}
	return size
}

// allocSize rounds n up to what the Go allocator would hand out anyway for
// the sizes used here: 4 KiB multiples up to 32 KiB, 8 KiB pages above.
func allocSize(n int) int {
	if n <= 32<<10 {
		return (n + 4<<10 - 1) &^ (4<<10 - 1)
	}
	return (n + 8<<10 - 1) &^ (8<<10 - 1)
}

func (a *arena) newChunk(size int, dedicated bool) uint32 {
	ch := chunk{buf: make([]byte, size), dedicated: dedicated}
	a.allocBytes += int64(size)
	if !dedicated {
		a.sharedLen += int64(size)
	}
	if k := len(a.freeChunks); k > 0 {
		id := a.freeChunks[k-1]
		a.freeChunks = a.freeChunks[:k-1]
		a.chunks[id] = ch
		return id
	}
	a.chunks = append(a.chunks, ch)
	return uint32(len(a.chunks) - 1)
}

func (a *arena) freeChunk(id uint32) {
	ch := &a.chunks[id]
	a.allocBytes -= int64(len(ch.buf))
	if !ch.dedicated {
		a.sharedLen -= int64(len(ch.buf))
	}
	if int(id) == a.cur {
		a.cur = -1
	}
	*ch = chunk{}
	a.freeChunks = append(a.freeChunks, id)
}

// dead returns the chunk bytes that hold neither live data nor free room in
// the current chunk.
func (a *arena) dead() int64 {
	d := a.allocBytes - a.liveBytes
	if a.cur >= 0 {
		ch := &a.chunks[a.cur]
		d -= int64(len(ch.buf) - ch.used)
	}
	return d
}

// maybeCompact compacts when dead bytes exceed a quarter of the chunks.
func (c *Cache) maybeCompact() {
	if d := c.dead(); d > c.allocBytes/4 && d >= int64(c.minChunk) {
		c.compact()
	}
}

// compact moves the records out of every chunk that is more than 1/8 dead
// into fresh chunks and frees those chunks. What stays behind is less than
// 1/8 dead, so the dead bytes end well below the compaction threshold.
func (c *Cache) compact() {
	c.stats.Compactions++
	var small int // live bytes to move into shared chunks
	for i := range c.chunks {
		ch := &c.chunks[i]
		if ch.buf == nil {
			continue
		}
		free := 0
		if i == c.cur {
			free = len(ch.buf) - ch.used
		}
		if 8*(len(ch.buf)-free-ch.live) > len(ch.buf) {
			ch.victim = true
			if !ch.dedicated {
				small += ch.live
			}
		}
	}
	if c.cur >= 0 && c.chunks[c.cur].victim {
		c.cur = -1
	}
	// New shared chunks are sized to what is left to move, so the copies end
	// up packed.
	for id := uint32(1); id < c.nextID; id++ {
		e := c.ent(id)
		if e.free() || e.chunk == noChunk || !c.chunks[e.chunk].victim {
			continue
		}
		n := int(e.klen) + int(e.vlen)
		old := *e
		e.vcap = e.vlen
		b := c.chunks[old.chunk].buf[old.off : int(old.off)+n]
		e.chunk, e.off = c.alloc(n, min(max(allocSize(small), c.minChunk), c.maxChunk))
		copy(c.chunks[e.chunk].buf[e.off:], b)
		c.chunks[e.chunk].live += n
		if n <= c.bigRecord {
			small -= n
		}
		c.release(&old)
	}
	for i := range c.chunks {
		if c.chunks[i].victim { // held no items
			c.freeChunk(uint32(i))
		}
	}
}
