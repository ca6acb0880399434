package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cespare/xxhash/v2"

	"github.com/geeredis/geeredis/lru"
)

const (
	// DefaultShards is the number of shards of a Store when
	// StoreConfig.Shards is 0.
	DefaultShards = 256
	// ExpireInterval is how often Run calls ExpireCycle.
	ExpireInterval = 100 * time.Millisecond
	// expireSweep is the number of ExpireCycle calls in which every entry is
	// examined once: 10 × 100 ms, so an idle store drops an expired key
	// within about a second.
	expireSweep = 10
)

// ErrStoreConfig is wrapped by the errors of NewStore.
var ErrStoreConfig = errors.New("cluster: invalid store config")

// StoreConfig configures a Store.
type StoreConfig struct {
	// MaxBytes bounds Store.Bytes: the key and value lengths of all keys
	// plus lru.EntryOverhead per key. When a write takes the store over it,
	// least recently used keys are evicted (allkeys-lru). 0 means no limit.
	MaxBytes int64
	// Shards is the number of independently locked parts of the store, a
	// power of two. 0 means DefaultShards.
	Shards int
}

// StoreStats counts what a Store did since it was made or since ResetStats.
type StoreStats struct {
	Hits        uint64 // Shard.Get calls that found a live key
	Misses      uint64 // Shard.Get calls that did not
	Evictions   uint64 // keys evicted to stay under MaxBytes
	ExpiredKeys uint64 // keys removed because they expired, lazily or actively
}

// Store holds a node's keys in shards, each an lru.Cache behind a mutex.
// Work on one key locks only that key's shard; the byte count is a shared
// atomic updated when a shard that changed is unlocked.
type Store struct {
	shards []Shard
	mask   uint64

	_         [64]byte
	bytes     atomic.Int64 // sum of the shards' published Bytes
	_         [56]byte
	maxBytes  atomic.Int64
	evictNext atomic.Uint64 // round-robin position of cross-shard eviction
}

type shardState struct {
	mu        sync.Mutex
	cache     *lru.Cache
	store     *Store
	published int64 // cache.Bytes() as last added to store.bytes
}

// Shard is the locked part of a Store that holds a key; get one from
// Store.Lock and give it back with Unlock. Its methods are those of
// lru.Cache for keys of this shard; values they return alias the store's
// memory and must be copied before Unlock.
type Shard struct {
	shardState
	_ [128 - unsafe.Sizeof(shardState{})%128]byte // one shard per cache line pair
}

// NewStore returns an empty Store.
func NewStore(cfg StoreConfig) (*Store, error) {
	n := cfg.Shards
	if n == 0 {
		n = DefaultShards
	}
	if n < 0 || bits.OnesCount(uint(n)) != 1 {
		return nil, fmt.Errorf("%w: Shards = %d, want a power of two", ErrStoreConfig, cfg.Shards)
	}
	if cfg.MaxBytes < 0 {
		return nil, fmt.Errorf("%w: MaxBytes = %d", ErrStoreConfig, cfg.MaxBytes)
	}
	s := &Store{shards: make([]Shard, n), mask: uint64(n - 1)}
	s.maxBytes.Store(cfg.MaxBytes)
	for i := range s.shards {
		s.shards[i].cache = lru.New()
		s.shards[i].store = s
	}
	return s, nil
}

// Lock locks and returns key's shard. Call Unlock on it when done.
func (s *Store) Lock(key []byte) *Shard {
	sh := s.shardOf(key)
	sh.mu.Lock()
	return sh
}

// Lock2 locks the shards of two keys, in a fixed order so that two callers
// cannot deadlock, and returns them; they may be the same shard. Give them
// back with Unlock2.
func (s *Store) Lock2(a, b []byte) (*Shard, *Shard) {
	sa, sb := s.shardOf(a), s.shardOf(b)
	switch {
	case sa == sb:
		sa.mu.Lock()
	case uintptr(unsafe.Pointer(sa)) < uintptr(unsafe.Pointer(sb)):
		sa.mu.Lock()
		sb.mu.Lock()
	default:
		sb.mu.Lock()
		sa.mu.Lock()
	}
	return sa, sb
}

// Unlock2 unlocks the shards returned by Lock2. When the store is over
// MaxBytes it evicts, sparing the most recently used key of sb (the
// destination of a two-key command) as long as it can.
func (s *Store) Unlock2(sa, sb *Shard) {
	if sa == sb {
		sa.Unlock()
		return
	}
	overA, overB := sa.settle(), sb.settle()
	sa.mu.Unlock()
	sb.mu.Unlock()
	if overA || overB {
		s.evict(sb)
	}
}

func (s *Store) shardOf(key []byte) *Shard {
	// Low bits: the ring places keys by the order of the same hash, so a
	// node's keys span few values of the high bits.
	return &s.shards[xxhash.Sum64(key)&s.mask]
}

// Unlock publishes the shard's change in bytes and unlocks it. If the store
// is then over MaxBytes, it evicts least recently used keys: first from
// this shard (keeping its most recent key, usually the one just written),
// then from the other shards in turn, and from this one last.
func (sh *Shard) Unlock() {
	over := sh.settle()
	sh.mu.Unlock()
	if over {
		sh.store.evict(sh)
	}
}

// Get returns key's item and marks it used; see lru.Cache.Get.
func (sh *Shard) Get(key []byte, now int64) (lru.Item, bool) { return sh.cache.Get(key, now) }

// Peek returns key's item without marking it used; see lru.Cache.Peek.
func (sh *Shard) Peek(key []byte, now int64) (lru.Item, bool) { return sh.cache.Peek(key, now) }

// Look returns key's item without marking it used, and counts a hit or a
// miss; see lru.Cache.Look.
func (sh *Shard) Look(key []byte, now int64) (lru.Item, bool) { return sh.cache.Look(key, now) }

// Set stores key's value and expiry (Unix ms, 0 = none); see lru.Cache.Set.
func (sh *Shard) Set(key, value []byte, expireAt int64) { sh.cache.Set(key, value, expireAt) }

// SetExpire changes key's expiry; see lru.Cache.SetExpire.
func (sh *Shard) SetExpire(key []byte, expireAt, now int64) bool {
	return sh.cache.SetExpire(key, expireAt, now)
}

// Delete removes key; see lru.Cache.Delete.
func (sh *Shard) Delete(key []byte, now int64) bool { return sh.cache.Delete(key, now) }

// publish adds the shard's change in bytes to the store's count and
// returns the new total. The caller holds mu.
func (sh *Shard) publish() int64 {
	d := sh.cache.Bytes() - sh.published
	if d == 0 {
		return sh.store.bytes.Load()
	}
	sh.published += d
	return sh.store.bytes.Add(d)
}

// settle publishes the shard's change in bytes and, if that leaves the store
// over its limit, evicts this shard's oldest keys but its most recent one.
// It reports whether the store is still over. The caller holds mu.
func (sh *Shard) settle() bool {
	if sh.cache.Bytes() == sh.published {
		return false // reads leave the shared count alone
	}
	total, limit := sh.publish(), sh.store.maxBytes.Load()
	if limit <= 0 || total <= limit {
		return false
	}
	sh.evictLocked(limit, 1)
	return sh.store.bytes.Load() > limit
}

// evict removes least recently used keys, going round the shards, until the
// store is within its limit. spare's last key goes only when nothing else
// is left.
func (s *Store) evict(spare *Shard) {
	for idle := 0; idle < len(s.shards); {
		total, limit := s.bytes.Load(), s.maxBytes.Load()
		if limit <= 0 || total <= limit {
			return
		}
		sh := &s.shards[s.evictNext.Add(1)&s.mask]
		keep := 0
		if sh == spare {
			keep = 1
		}
		// Take this shard's share of the excess (at least one key), so that
		// all shards give up their oldest keys.
		target := total - (total-limit)/int64(len(s.shards))
		sh.mu.Lock()
		n := sh.evictLocked(target, keep)
		sh.mu.Unlock()
		if n > 0 {
			idle = 0
		} else {
			idle++
		}
	}
	if spare != nil {
		spare.mu.Lock()
		spare.evictLocked(0, 0)
		spare.mu.Unlock()
	}
}

// evictLocked removes the shard's oldest keys, keeping at least keep, while
// the store is over its limit and, after the first, until its total is at
// most target. It returns how many it removed. The caller holds mu.
func (sh *Shard) evictLocked(target int64, keep int) int {
	n := 0
	for ; sh.cache.Len() > keep; n++ {
		total, limit := sh.store.bytes.Load(), sh.store.maxBytes.Load()
		if limit <= 0 || total <= limit || n > 0 && total <= target {
			break
		}
		sh.cache.RemoveOldest()
		sh.publish()
	}
	return n
}

// Len returns the number of keys, counting expired keys not yet removed.
func (s *Store) Len() int {
	n := 0
	s.each(func(sh *Shard) { n += sh.cache.Len() })
	return n
}

// Expires returns the number of keys with an expiry.
func (s *Store) Expires() int {
	n := 0
	s.each(func(sh *Shard) { n += sh.cache.Expires() })
	return n
}

// Bytes returns the accounted size of the keys: key and value lengths plus
// lru.EntryOverhead per key. It is what MaxBytes bounds.
func (s *Store) Bytes() int64 { return s.bytes.Load() }

// Allocated returns the memory the shards really hold (chunks, metadata,
// indexes), dead bytes awaiting compaction included.
func (s *Store) Allocated() int64 {
	var n int64
	s.each(func(sh *Shard) { n += sh.cache.Allocated() })
	return n
}

// MaxBytes returns the limit on Bytes, 0 for none.
func (s *Store) MaxBytes() int64 { return s.maxBytes.Load() }

// SetMaxBytes changes the limit (0 = none; negative is taken as 0) and
// evicts down to it at once.
func (s *Store) SetMaxBytes(n int64) {
	s.maxBytes.Store(max(n, 0))
	s.evict(nil)
}

// Stats returns the counters summed over the shards.
func (s *Store) Stats() StoreStats {
	var st StoreStats
	s.each(func(sh *Shard) {
		c := sh.cache.Stats()
		st.Hits += c.Hits
		st.Misses += c.Misses
		st.Evictions += c.Evictions
		st.ExpiredKeys += c.Expired
	})
	return st
}

// ResetStats zeroes the counters.
func (s *Store) ResetStats() { s.each(func(sh *Shard) { sh.cache.ResetStats() }) }

// Flush removes every key. The counters are kept.
func (s *Store) Flush() {
	s.each(func(sh *Shard) {
		sh.cache.Clear()
		sh.publish()
	})
}

// each calls fn on every shard, locked, one at a time.
func (s *Store) each(fn func(sh *Shard)) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		fn(sh)
		sh.mu.Unlock()
	}
}

// Scan calls fn for up to about count keys from cursor on and returns the
// cursor to continue from; 0 starts and ends a scan. Every key present for
// the whole scan is returned at least once. The cursor is the position in a
// shard times the number of shards plus the shard. fn runs with a shard
// locked: it must not call the Store, and must copy key and it.Value to keep
// them. Expired keys met on the way are removed.
func (s *Store) Scan(cursor uint64, count int, now int64, fn func(key []byte, it lru.Item)) uint64 {
	n := uint64(len(s.shards))
	shard, pos := cursor%n, cursor/n
	count = max(count, 1)
	found := 0
	for ; shard < n && found < count; shard, pos = shard+1, 0 {
		sh := &s.shards[shard]
		sh.mu.Lock()
		pos = sh.cache.Scan(pos, count-found, now, func(key []byte, it lru.Item) {
			found++
			fn(key, it)
		})
		sh.settle()
		sh.mu.Unlock()
		if pos != 0 {
			return pos*n + shard
		}
	}
	if shard == n {
		return 0
	}
	return shard
}

// RandomKey returns a copy of a random live key.
func (s *Store) RandomKey(now int64) ([]byte, bool) {
	start := rand.Uint64()
	for i := range uint64(len(s.shards)) {
		sh := &s.shards[(start+i)&s.mask]
		sh.mu.Lock()
		key, ok := sh.cache.Random(now, rand.Uint64())
		if ok {
			key = bytes.Clone(key)
			if key == nil {
				key = []byte{}
			}
		}
		sh.mu.Unlock()
		if ok {
			return key, true
		}
	}
	return nil, false
}

// ExpireCycle is one step of active expiry: in each shard it examines a
// tenth of the entries, continuing where the previous step stopped, and
// removes those expired at now. Ten steps examine every key. It also lets
// the shards compact their memory.
func (s *Store) ExpireCycle(now int64) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.cache.ExpireSome(now, sh.cache.Span()/expireSweep+1)
		sh.settle()
		sh.mu.Unlock()
	}
}

// Run calls ExpireCycle every ExpireInterval until ctx is done, so that an
// idle store drops expired keys within about a second.
func (s *Store) Run(ctx context.Context) {
	t := time.NewTicker(ExpireInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.ExpireCycle(now.UnixMilli())
		}
	}
}
