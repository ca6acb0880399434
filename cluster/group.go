package cluster

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/sync/singleflight"
)

const (
	// DefaultGroup is the name of a group whose config leaves Name empty.
	DefaultGroup = "geeredis"
	// DefaultHotTTL is the longest life of a hot copy when HotTTL is 0.
	DefaultHotTTL = 5 * time.Second
	// DefaultHotEvery is HotEvery when 0: one peer fetch in ten keeps a
	// hot copy, as in groupcache. A key must be read about ten times from
	// one node within HotTTL before that node likely mirrors it, so keys
	// read once or twice do not churn the hot cache nor make their writes
	// send invalidations, while a key read thousands of times a second is
	// mirrored after a few milliseconds.
	DefaultHotEvery = 10

	// servedBytes bounds the owner's record of keys served for hot copies
	// (keys only, about 64 bytes each on top). A key evicted from it is no
	// longer invalidated on write; its copies then live out HotTTL.
	servedBytes = 64 << 20
	// cycleEvery is how often (ms) the served record drops expired keys.
	cycleEvery = 100
)

// ErrGroupConfig is wrapped by the errors of NewGroup.
var ErrGroupConfig = errors.New("cluster: invalid group config")

// GroupConfig configures a Group.
type GroupConfig struct {
	Name   string        // appears in peer URLs; "" = "geeredis"; no "/"
	Getter Getter        // loads misses at the owner; nil = plain cache (a miss is a miss)
	Main   *Store        // the keys this node owns; required
	Hot    *Store        // copies of popular keys owned elsewhere; nil = no hot cache
	HotTTL time.Duration // longest life of a hot copy; 0 = 5 s
	Peers  PeerPicker    // nil = NoPeers
	Logger *slog.Logger  // nil = silent

	// HotEvery makes one peer fetch in HotEvery keep a hot copy; 0 = 10,
	// 1 = every fetch.
	HotEvery int
	// Clock returns the time in Unix milliseconds; nil = the system clock.
	// Tests set it to move time by hand.
	Clock func() int64
}

// Group is a named cache with a read-through getter, as in groupcache: the
// owner of a key loads it once for concurrent callers; other nodes fetch it
// from the owner and keep copies of popular keys in a hot cache.
// Everything it holds is its own: many groups fit in one process.
type Group struct {
	name     string
	getter   Getter
	main     *Store
	hot      *Store
	served   *Store // at the owner: keys served for hot copies, empty values
	hotTTL   int64  // ms
	hotEvery int
	peers    PeerPicker
	log      *slog.Logger
	clock    func() int64

	pool       atomic.Pointer[HTTPPool] // where invalidations go; set by Register
	loads      singleflight.Group       // owner loads
	fetches    singleflight.Group       // fetches from owners (and fallbacks)
	lastServed atomic.Int64             // when a hot copy was last served (ms)
	lastCycle  atomic.Int64             // when served last dropped expired keys (ms)
	gens       [64]atomic.Uint64        // forgets seen, by key hash: a fetch that saw one does not keep a hot copy
	ho         *handoff                 // moves of keys when the ring changes (handoff.go)

	stats groupCounters
}

type groupCounters struct {
	gets, loadCalls, ownerLoads, loads, loadErrors, hotHits atomic.Uint64
	peerLoads, peerErrors, fallbacks, served                atomic.Uint64
}

// loaded is the result of a shared load or fetch.
type loaded struct {
	v     Value
	found bool
}

// NewGroup validates cfg and returns a Group.
func NewGroup(cfg GroupConfig) (*Group, error) {
	g := &Group{
		name: cmp.Or(cfg.Name, DefaultGroup), getter: cfg.Getter, main: cfg.Main, hot: cfg.Hot,
		hotTTL: cmp.Or(cfg.HotTTL, DefaultHotTTL).Milliseconds(), hotEvery: cmp.Or(cfg.HotEvery, DefaultHotEvery),
		peers: cfg.Peers, log: cfg.Logger, clock: cfg.Clock,
	}
	switch {
	case g.main == nil:
		return nil, fmt.Errorf("%w: Main is nil", ErrGroupConfig)
	case strings.Contains(g.name, "/"):
		return nil, fmt.Errorf("%w: Name %q contains /", ErrGroupConfig, g.name)
	case cfg.HotTTL < 0 || cfg.HotTTL > 0 && g.hotTTL == 0:
		return nil, fmt.Errorf("%w: HotTTL = %v, want 0 or at least 1ms", ErrGroupConfig, cfg.HotTTL)
	case cfg.HotEvery < 0:
		return nil, fmt.Errorf("%w: HotEvery = %d", ErrGroupConfig, cfg.HotEvery)
	}
	if g.peers == nil {
		g.peers = NoPeers{}
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.clock == nil {
		g.clock = func() int64 { return time.Now().UnixMilli() }
	}
	served, err := NewStore(StoreConfig{MaxBytes: servedBytes, Shards: 16})
	if err != nil {
		return nil, err
	}
	g.served = served
	if g.ho, err = newHandoff(); err != nil {
		return nil, err
	}
	return g, nil
}

// Name is the group's name.
func (g *Group) Name() string { return g.name }

// Get returns the value of key from anywhere in the cluster: this node's
// main or hot cache; else the owner (a peer, over the coalesced protocol),
// sometimes keeping a hot copy; else, at the owner, a load through the
// getter (once for concurrent callers). When the owner cannot be reached it
// loads locally and counts a fallback. found is false for "not found".
// v.Bytes may be shared with other callers: do not modify it.
func (g *Group) Get(ctx context.Context, key []byte) (v Value, found bool, err error) {
	g.stats.gets.Add(1)
	now := g.clock()
	pg, remote := g.peers.PickPeer(key)
	if !remote {
		if v, ok := lookup(g.main, key, now); ok {
			return v, true, nil
		}
		if g.claimOne(ctx, key, false) {
			if v, ok := lookup(g.main, key, g.clock()); ok {
				return v, true, nil // taken from its previous owner
			}
		}
		return g.Load(ctx, key)
	}
	if v, ok := lookup(g.hot, key, now); ok {
		g.stats.hotHits.Add(1)
		return v, true, nil
	}
	// The shared fetch outlives a caller that goes away: the others still
	// want it, and the round trip is bounded by the pool's timeout.
	detached := context.WithoutCancel(ctx)
	ch := g.fetches.DoChan(string(key), func() (any, error) { return g.fetch(detached, pg, key) })
	return await(ctx, ch)
}

// Load is the owner's side of a miss: one getter call for concurrent
// callers, the value stored in the main cache with its TTL. The getter
// runs with the values of the first caller's ctx but not its cancellation:
// a caller that goes away stops waiting, and the load goes on for the
// others and for the cache (the getter bounds its own time). found is
// false when the getter says ErrNotFound or there is no getter.
// v.Bytes may be shared with other callers: do not modify it.
func (g *Group) Load(ctx context.Context, key []byte) (v Value, found bool, err error) {
	if g.getter == nil {
		return Value{}, false, nil
	}
	g.stats.loadCalls.Add(1)
	return g.loadShared(ctx, &g.loads, key, g.main, &g.stats.ownerLoads)
}

// Fallback is a read's way out when key's owner cannot be reached: a load
// through this node's getter, shared with the other fetches and fallbacks
// of key here, and kept in the hot cache only, as Get's fallback does. The
// main cache holds only keys this node owns: a value kept there would be
// served, stale, if the node came to own the key. found is false when the
// getter says ErrNotFound or there is no getter.
func (g *Group) Fallback(ctx context.Context, key []byte) (v Value, found bool, err error) {
	if g.getter == nil {
		return Value{}, false, nil
	}
	return g.loadShared(ctx, &g.fetches, key, g.hot, &g.stats.fallbacks)
}

// loadShared loads key through the getter into into, once for the callers
// that share flights, counting the load in count; a value a flight just
// kept there is taken instead. The load runs with ctx's values but not its
// cancellation: a caller that goes away stops waiting, and the load goes
// on for the others.
func (g *Group) loadShared(ctx context.Context, flights *singleflight.Group, key []byte, into *Store, count *atomic.Uint64) (Value, bool, error) {
	detached := context.WithoutCancel(ctx)
	ch := flights.DoChan(string(key), func() (any, error) {
		if v, ok := lookup(into, key, g.clock()); ok {
			return loaded{v, true}, nil // loaded by a flight that just ended
		}
		count.Add(1)
		return g.load(detached, key, into)
	})
	return await(ctx, ch)
}

// await waits for a shared load or fetch, or for ctx.
func await(ctx context.Context, ch <-chan singleflight.Result) (Value, bool, error) {
	select {
	case r := <-ch:
		if r.Err != nil {
			return Value{}, false, r.Err
		}
		l := r.Val.(loaded)
		return l.v, l.found, nil
	case <-ctx.Done():
		return Value{}, false, fmt.Errorf("cluster: waiting for a load: %w", ctx.Err())
	}
}

// load calls the getter and keeps what it found in into: the main cache
// for the owner, the hot cache for a fallback.
func (g *Group) load(ctx context.Context, key []byte, into *Store) (any, error) {
	g.stats.loads.Add(1)
	v, err := g.getter.Get(ctx, string(key))
	if errors.Is(err, ErrNotFound) {
		return loaded{}, nil
	}
	if err != nil {
		g.stats.loadErrors.Add(1)
		return nil, fmt.Errorf("cluster: loading key: %w", err)
	}
	if into == g.main {
		return loaded{g.keepMain(key, v), true}, nil
	}
	g.keepHot(key, v)
	return loaded{v, true}, nil
}

// fetch asks the owner for key, keeping a hot copy one time in hotEvery;
// when the owner cannot be reached it loads locally into the hot cache.
func (g *Group) fetch(ctx context.Context, pg PeerGetter, key []byte) (any, error) {
	if v, ok := lookup(g.hot, key, g.clock()); ok {
		return loaded{v, true}, nil // kept by a flight that just ended
	}
	keep := g.hot != nil && (g.hotEvery <= 1 || rand.IntN(g.hotEvery) == 0)
	gen := g.gen(key).Load()
	var v Value
	var err error
	if p, ok := pg.(*Peer); ok {
		v, err = p.get(ctx, g.name, key, keep)
	} else {
		v, err = pg.Get(ctx, g.name, key)
	}
	switch {
	case err == nil:
		g.stats.peerLoads.Add(1)
		// A forget since the fetch began may be for a write the owner made
		// after serving this value: then the value may be stale.
		if keep && g.gen(key).Load() == gen {
			g.keepHot(key, v)
		}
		return loaded{v, true}, nil
	case errors.Is(err, ErrNotFound):
		g.stats.peerLoads.Add(1)
		return loaded{}, nil
	case errors.Is(err, ErrRemote):
		return nil, err // the owner's getter failed; ours would hammer the origin too
	}
	g.stats.peerErrors.Add(1)
	if g.getter == nil {
		return nil, err
	}
	g.stats.fallbacks.Add(1)
	g.log.Debug("owner unreachable, loading locally", "group", g.name, "err", err)
	return g.load(ctx, key, g.hot)
}

// lookup returns a copy of key's value and its remaining TTL from s.
func lookup(s *Store, key []byte, now int64) (Value, bool) {
	if s == nil {
		return Value{}, false
	}
	sh := s.Lock(key)
	defer sh.Unlock()
	it, ok := sh.Get(key, now)
	if !ok {
		return Value{}, false
	}
	v := Value{Bytes: append([]byte{}, it.Value...)}
	if it.ExpireAt != 0 {
		v.TTL = time.Duration(max(it.ExpireAt-now, 1)) * time.Millisecond
	}
	return v, true
}

// expireAt is when a value kept at now with ttl expires (0 = never),
// rounded up to the millisecond.
func expireAt(now int64, ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	return now + int64((ttl+time.Millisecond-1)/time.Millisecond)
}

// keepMain stores a loaded value unless a write stored one meanwhile, and
// returns the value now in the cache.
func (g *Group) keepMain(key []byte, v Value) Value {
	if v.TTL < 0 {
		return v // already expired: answer, do not keep
	}
	now := g.clock()
	sh := g.main.Lock(key)
	defer sh.Unlock()
	if it, ok := sh.Peek(key, now); ok {
		cur := Value{Bytes: append([]byte{}, it.Value...)}
		if it.ExpireAt != 0 {
			cur.TTL = time.Duration(max(it.ExpireAt-now, 1)) * time.Millisecond
		}
		return cur
	}
	sh.Set(key, v.Bytes, expireAt(now, v.TTL))
	return v
}

// keepHot stores a hot copy of a value owned elsewhere, for the key's TTL
// but no longer than HotTTL.
func (g *Group) keepHot(key []byte, v Value) {
	if g.hot == nil || v.TTL < 0 {
		return
	}
	ttl := time.Duration(g.hotTTL) * time.Millisecond
	if v.TTL > 0 {
		ttl = min(ttl, v.TTL)
	}
	now := g.clock()
	sh := g.hot.Lock(key)
	defer sh.Unlock()
	sh.Set(key, v.Bytes, expireAt(now, ttl))
}

// HotGet looks key up in the hot cache only, appending the value to dst.
func (g *Group) HotGet(key []byte, now int64, dst []byte) ([]byte, bool) {
	if g.hot == nil {
		return dst, false
	}
	sh := g.hot.Lock(key)
	defer sh.Unlock()
	it, ok := sh.Get(key, now)
	if !ok {
		return dst, false
	}
	g.stats.hotHits.Add(1)
	return append(dst, it.Value...), true
}

// Forget drops this node's hot copy of key; a node calls it when it
// forwards a write of key to the owner (before and after). A fetch of key
// in flight meanwhile does not keep a hot copy.
func (g *Group) Forget(key []byte) {
	g.gen(key).Add(1)
	if g.hot == nil {
		return
	}
	sh := g.hot.Lock(key)
	defer sh.Unlock()
	sh.Delete(key, g.clock())
}

func (g *Group) gen(key []byte) *atomic.Uint64 {
	return &g.gens[xxhash.Sum64(key)&uint64(len(g.gens)-1)]
}

// Wrote is called at the owner after a write of key: peers that may hold a
// hot copy are told to drop it. It costs one atomic load unless a hot copy
// was served within HotTTL, and a shard lookup unless key was among them.
// The invalidations go out asynchronously, coalesced with other traffic.
func (g *Group) Wrote(key []byte) {
	now := g.clock()
	if now-g.lastServed.Load() > g.hotTTL {
		return
	}
	sh := g.served.Lock(key)
	_, ok := sh.Peek(key, now)
	if ok {
		sh.Delete(key, now)
	}
	sh.Unlock()
	if p := g.pool.Load(); ok && p != nil {
		p.invalidate(g.name, key)
	}
}

// serveGet answers a peer's get frame: a reply frame appended to dst with
// the value of key in the main cache, else loaded. Flag getHot says the
// peer keeps a copy, to be invalidated when key is written. A miss for a
// key this node does not own (the rings disagree for a moment) is asked
// of the owner in this node's ring, once: not when flag getHop says a
// node already forwarded it.
func (g *Group) serveGet(ctx context.Context, key []byte, flags byte, dst []byte) []byte {
	g.stats.served.Add(1)
	now := g.clock()
	if flags&getHot != 0 {
		// Recorded before the value is read: a write that misses the record
		// happened before it, and the value read below includes it.
		g.recordServed(key, now)
	}
	dst, start := beginReply(dst)
	if out, ok := appendMain(g.main, key, now, dst); ok {
		return endReply(out, start, statusOK)
	}
	if g.claimOne(ctx, key, flags&getHop != 0) {
		if out, ok := appendMain(g.main, key, g.clock(), dst); ok {
			return endReply(out, start, statusOK) // taken from its previous owner
		}
	}
	if pg, remote := g.peers.PickPeer(key); remote && flags&getHop == 0 {
		if p, ok := pg.(*Peer); ok {
			return g.serveHop(ctx, p, key, dst, start)
		}
	}
	v, found, err := g.Load(ctx, key)
	switch {
	case err != nil:
		return endReply(append(dst, err.Error()...), start, statusError)
	case !found:
		return endReply(dst, start, statusNotFound)
	}
	dst = binary.AppendUvarint(dst, uint64(v.TTL.Milliseconds()))
	return endReply(append(dst, v.Bytes...), start, statusOK)
}

// appendMain appends key's TTL (ms, uvarint, 0 = none) and value to dst.
func appendMain(s *Store, key []byte, now int64, dst []byte) ([]byte, bool) {
	sh := s.Lock(key)
	defer sh.Unlock()
	it, ok := sh.Get(key, now)
	if !ok {
		return dst, false
	}
	var ttl int64
	if it.ExpireAt != 0 {
		ttl = max(it.ExpireAt-now, 1)
	}
	dst = binary.AppendUvarint(dst, uint64(ttl))
	return append(dst, it.Value...), true
}

// recordServed remembers that a peer keeps a hot copy of key, until HotTTL.
func (g *Group) recordServed(key []byte, now int64) {
	g.lastServed.Store(now)
	sh := g.served.Lock(key)
	sh.Set(key, nil, now+g.hotTTL)
	sh.Unlock()
	if last := g.lastCycle.Load(); now-last >= cycleEvery && g.lastCycle.CompareAndSwap(last, now) {
		g.served.ExpireCycle(now)
	}
}

// GroupStats are a group's counters.
type GroupStats struct {
	Gets         uint64 // Group.Get calls
	Loads        uint64 // getter calls: owner loads and fallbacks
	LoadErrors   uint64 // getter calls that failed (ErrNotFound is no failure)
	LoadsDeduped uint64 // owner loads answered by another caller's getter call
	HotHits      uint64 // Get and HotGet answered by the hot cache
	PeerLoads    uint64 // answers (found or not) fetched from owners
	PeerErrors   uint64 // fetches that could not reach the owner
	Fallbacks    uint64 // local loads after a PeerError
	Served       uint64 // get frames answered for peers
}

// Stats returns the group's counters.
func (g *Group) Stats() GroupStats {
	s := &g.stats
	return GroupStats{
		Gets: s.gets.Load(), Loads: s.loads.Load(), LoadErrors: s.loadErrors.Load(),
		LoadsDeduped: s.loadCalls.Load() - min(s.ownerLoads.Load(), s.loadCalls.Load()),
		HotHits:      s.hotHits.Load(), PeerLoads: s.peerLoads.Load(), PeerErrors: s.peerErrors.Load(),
		Fallbacks: s.fallbacks.Load(), Served: s.served.Load(),
	}
}
