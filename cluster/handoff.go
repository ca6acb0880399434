package cluster

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/geeredis/geeredis/lru"
)

// Hand-off. When the ring changes, every node walks its main cache and
// gives each key it no longer owns to the key's new owner (a give frame):
// the owner keeps it unless it has already resolved the key, and the giver
// then deletes its copy if nobody changed it meanwhile. The giver keeps
// the key until the owner has it, so the key is always somewhere: a give
// that fails leaves it here, to be retried.
//
// Meanwhile the new owner may be asked for a key that has not arrived. On
// a miss during a transition it takes the key from the previous owners (a
// take frame removes and returns it atomically) before it runs the
// command, so that reads see the old value and writes (INCR, APPEND, DEL)
// apply to it. A key the owner has taken, been given, or written during
// the transition is claimed: a later give of it is dropped, so a late
// hand-off cannot bring back a key that was deleted or overwrite a newer
// value. A claim means this node has the key's current state (or deleted
// it): a take that removes the key from here drops the claim too, so the
// taker can give it back. Claims are forgotten when the ring settles.

const (
	// passStep is how many keys a hand-off pass examines per step: it
	// holds one shard's lock for at most that many keys.
	passStep = 256
	// claimBytes bounds the record of claimed keys (keys only). A claim
	// evicted from it lets a late give of the key through.
	claimBytes = 64 << 20
	// retryMin and retryMax bound the pause before a pass that failed is
	// tried again.
	retryMin = 100 * time.Millisecond
	retryMax = 5 * time.Second
)

// handoff is a group's part in ring changes.
type handoff struct {
	claims   *Store // keys resolved here during the transition; empty values
	pulls    singleflight.Group
	kicks    chan struct{} // cap 1: the ring changed, or a stray key arrived
	passMu   sync.Mutex    // one pass at a time
	loopOnce sync.Once

	moved, moveFailures, pulled, pullFailures atomic.Uint64
	received, dropped, refused, taken, passes atomic.Uint64
}

func newHandoff() (*handoff, error) {
	claims, err := NewStore(StoreConfig{MaxBytes: claimBytes, Shards: 16})
	if err != nil {
		return nil, err
	}
	return &handoff{claims: claims, kicks: make(chan struct{}, 1)}, nil
}

// HandoffStats count a group's key moves.
type HandoffStats struct {
	Moved        uint64 // keys given to their new owner, which now has them
	MoveFailures uint64 // gives that failed (owner unreachable, or its ring disagrees); the key stays here and is retried
	Pulled       uint64 // keys taken from a previous owner on a miss
	PullFailures uint64 // takes that failed (previous owner unreachable)
	Received     uint64 // keys given to this node and kept
	Dropped      uint64 // keys given to this node that it had already resolved
	Refused      uint64 // keys given to this node that it does not own in its ring
	Taken        uint64 // keys that other nodes took from this node
	Passes       uint64 // hand-off passes over the main cache that finished
}

// HandoffStats returns the group's hand-off counters.
func (g *Group) HandoffStats() HandoffStats {
	h := g.ho
	return HandoffStats{
		Moved: h.moved.Load(), MoveFailures: h.moveFailures.Load(), Pulled: h.pulled.Load(),
		PullFailures: h.pullFailures.Load(), Received: h.received.Load(), Dropped: h.dropped.Load(),
		Refused: h.refused.Load(), Taken: h.taken.Load(), Passes: h.passes.Load(),
	}
}

// ScheduleHandoff asks for a hand-off pass soon: a command ran here for a
// key this node does not own (the rings disagreed), say.
func (g *Group) ScheduleHandoff() { g.kick() }

// kick wakes the hand-off loop.
func (g *Group) kick() {
	select {
	case g.ho.kicks <- struct{}{}:
	default:
	}
}

// settled forgets the claims: the previous owners have handed off. It
// runs under the pool's lock and must not call the pool.
func (g *Group) settled() { g.ho.claims.Flush() }

func (g *Group) claimed(key []byte) bool {
	sh := g.ho.claims.Lock(key)
	defer sh.Unlock()
	_, ok := sh.Peek(key, 0)
	return ok
}

func (g *Group) claim(key []byte) {
	sh := g.ho.claims.Lock(key)
	defer sh.Unlock()
	sh.Set(key, nil, 0)
}

func (g *Group) unclaim(key []byte) {
	sh := g.ho.claims.Lock(key)
	defer sh.Unlock()
	sh.Delete(key, 0)
}

// present reports whether the main cache holds key.
func (g *Group) present(key []byte, now int64) bool {
	sh := g.main.Lock(key)
	defer sh.Unlock()
	_, ok := sh.Peek(key, now)
	return ok
}

// keepIfAbsent stores key unless the main cache holds it, and reports
// whether it did.
func (g *Group) keepIfAbsent(key, value []byte, expireAt, now int64) bool {
	if expireAt != 0 && expireAt <= now {
		return false
	}
	sh := g.main.Lock(key)
	defer sh.Unlock()
	if _, ok := sh.Peek(key, now); ok {
		return false
	}
	sh.Set(key, value, expireAt)
	return true
}

// ErrPullFailed is wrapped by the error of ClaimKeys when a previous
// owner of a key could not be asked for it.
var ErrPullFailed = errors.New("cluster: previous owner unreachable")

// InTransition reports whether the ring is changing: ClaimKeys may then
// have work to do. It takes no lock.
func (g *Group) InTransition() bool {
	p := g.pool.Load()
	return p != nil && p.InTransition()
}

// ClaimKeys readies keys for a command that runs at this node, their
// owner, while the ring changes: a key missing here is taken from the
// nodes that owned it before (concurrent callers share one take per key),
// and, for a write, the keys are claimed so that a late hand-off does not
// undo the command. Keys this node does not own, and keys nobody else
// owned before, are left alone. It returns an error wrapping
// ErrPullFailed when a write's key could not be taken from a previous
// owner; the write should then not run. A read goes on with what is here.
func (g *Group) ClaimKeys(ctx context.Context, keys [][]byte, write bool) error {
	return g.claimKeys(ctx, keys, write, false)
}

// ClaimForwarded is ClaimKeys for a command another node forwarded to
// this one at the hop bound: the sender's ring gives its keys to this
// node. A key this node's ring gives to another (it has not yet heard of
// the change) is claimed all the same, as if it owned it, even when its
// ring is settled: a missing key is taken from whichever member has it.
func (g *Group) ClaimForwarded(ctx context.Context, keys [][]byte, write bool) error {
	return g.claimKeys(ctx, keys, write, true)
}

func (g *Group) claimKeys(ctx context.Context, keys [][]byte, write, forwarded bool) error {
	p := g.pool.Load()
	if p == nil {
		return nil
	}
	st := p.state.Load()
	if st.prev == nil && !forwarded {
		return nil
	}
	now := g.clock()
	var prevs []*Peer
	var waits []<-chan singleflight.Result
	var mine [][]byte
	for _, key := range keys {
		owned := st.ring.Get(key) == p.self
		switch {
		case owned && st.prev == nil:
			continue // settled here: this node has it, or nobody does
		case !owned && !forwarded:
			continue
		}
		prevs = st.prevOwners(p.self, key, prevs[:0])
		if len(prevs) == 0 && owned || g.claimed(key) {
			continue
		}
		mine = append(mine, key)
		if !g.present(key, now) {
			from, k := append([]*Peer(nil), prevs...), string(key)
			waits = append(waits, g.ho.pulls.DoChan(k, func() (any, error) { return nil, g.pull(p, st, []byte(k), from) }))
		}
	}
	var err error
	for _, ch := range waits {
		select {
		case r := <-ch:
			err = cmp.Or(err, r.Err)
		case <-ctx.Done():
			return fmt.Errorf("cluster: waiting for a key's previous owner: %w", ctx.Err())
		}
	}
	if !write {
		return nil
	}
	if err != nil {
		return err
	}
	for _, key := range mine {
		g.claim(key)
	}
	return nil
}

// pull takes key from whichever member has it and keeps it here. The
// previous owners (from) are the likely holders, but a node's guess of
// the previous rings can be wrong (it joined while the others were still
// moving keys, or saw the members arrive one by one), and a member that
// holds a key it does not own is handing it off: so every member is
// asked, all at once, and the first of from that has it wins, then the
// others in order (a member that said it is done with this ring is asked
// too: it may know, by its ring, a node this one has not heard of yet,
// and ask it on our behalf). A key found is claimed. A key found nowhere is not: this
// node's view of the members may be incomplete for a moment, and the key
// may still be given to it (a read goes on with a miss; a write claims it
// anyway). Only the failure of a previous owner that is still a member
// fails the pull (and the write).
func (g *Group) pull(p *HTTPPool, st *poolState, key []byte, from []*Peer) error {
	if g.claimed(key) {
		return nil
	}
	ask := slices.Clone(from)
	for _, id := range slices.Sorted(maps.Keys(st.peers)) {
		if peer := st.peers[id]; id != p.self && !slices.Contains(from, peer) {
			ask = append(ask, peer)
		}
	}
	calls := make([]*Call, len(ask))
	for i, peer := range ask {
		calls[i] = peer.control.queueTake(g.name, 0, key, p.self)
	}
	var prevFailed error
	kept := false
	for i, c := range calls {
		data, err := c.Wait(p.ctx)
		switch {
		case err != nil:
			g.ho.pullFailures.Add(1)
			if i < len(from) && st.ring.Has(ask[i].id) {
				// A member that left is not waited for: it handed its
				// keys off before it stopped, or they are lost.
				prevFailed = cmp.Or(prevFailed, err)
			}
		case c.status == statusOK && !kept:
			if exp, m := uvarint(data); m > 0 {
				g.found(key, data[m:], int64(exp))
				kept = true
			}
		}
		c.Release()
	}
	if !kept && prevFailed != nil {
		return fmt.Errorf("%w: %w", ErrPullFailed, prevFailed)
	}
	return nil
}

// found keeps a key taken from another node and claims it.
func (g *Group) found(key, value []byte, expireAt int64) {
	g.ho.pulled.Add(1)
	g.keepIfAbsent(key, value, expireAt, g.clock())
	g.claim(key)
}

// claimOne is ClaimKeys (or, forwarded, ClaimForwarded) of one key for a
// read; it reports whether it may have brought the key here.
func (g *Group) claimOne(ctx context.Context, key []byte, forwarded bool) bool {
	if !forwarded && !g.InTransition() {
		return false
	}
	g.claimKeys(ctx, [][]byte{key}, false, forwarded)
	return true
}

// serveTake answers a take frame: key's value and expiry, removed from
// the main cache, or not found. A key missing here that this node's ring
// gives to a third node (neither this one nor the asker) is asked of it,
// once: the asker's view of the members may lack the node that has it
// (two nodes joined at once, and it has not heard of the other yet).
func (g *Group) serveTake(ctx context.Context, p *HTTPPool, f *frame, dst []byte) []byte {
	now := g.clock()
	key := f.key
	dst, start := beginReply(dst)
	sh := g.main.Lock(key)
	it, ok := sh.Peek(key, now)
	if ok {
		dst = binary.AppendUvarint(dst, uint64(max(it.ExpireAt, 0)))
		dst = append(dst, it.Value...)
		sh.Delete(key, now)
	}
	sh.Unlock()
	if ok {
		g.ho.taken.Add(1)
		g.unclaim(key) // the taker has it now: a give of it back must land
		g.Wrote(key)   // hot copies served from here
		return endReply(dst, start, statusOK)
	}
	st := p.state.Load()
	owner := st.peers[st.ring.Get(key)]
	if f.hops >= MaxHops || owner == nil || owner.id == string(f.from) {
		return endReply(dst, start, statusNotFound)
	}
	return relayReply(ctx, owner.last.queueTake(g.name, f.hops+1, key, string(f.from)), dst, start)
}

// relayReply waits for c, a frame passed on to another node, and ends the
// reply frame begun at start with its answer: the data as that node sent
// it, not found, or the error. It releases c.
func relayReply(ctx context.Context, c *Call, dst []byte, start int) []byte {
	defer c.Release()
	data, err := c.Wait(ctx)
	switch {
	case err != nil:
		return endReply(append(dst, err.Error()...), start, statusError)
	case c.status == statusNotFound:
		return endReply(dst, start, statusNotFound)
	}
	return endReply(append(dst, data...), start, statusOK)
}

// Replies to a give frame (its data byte).
const (
	giveDropped byte = 0 // the receiver had resolved the key: the giver may delete it
	giveKept    byte = 1 // the receiver keeps it: the giver may delete it
	giveRefused byte = 2 // the receiver does not own the key in its ring: the giver keeps it
)

// serveGive answers a give frame. A key this node does not own in its
// ring is refused (the giver keeps it and tries again once the rings
// agree; accepting it would pass it back and forth). Otherwise it is kept
// unless it is here or claimed, and claimed.
func (g *Group) serveGive(p *HTTPPool, f *frame, dst []byte) []byte {
	if p.state.Load().ring.Get(f.key) != p.self {
		g.ho.refused.Add(1)
		return appendReply(dst, statusOK, []byte{giveRefused})
	}
	kept := false
	if !g.claimed(f.key) {
		kept = g.keepIfAbsent(f.key, f.value, int64(f.expireAt), g.clock())
		g.claim(f.key)
	}
	if kept {
		g.ho.received.Add(1)
		return appendReply(dst, statusOK, []byte{giveKept})
	}
	g.ho.dropped.Add(1)
	return appendReply(dst, statusOK, []byte{giveDropped})
}

// moving is a key on its way to its new owner.
type moving struct {
	key, value []byte
	expireAt   int64
	to         *Peer
	call       *Call
}

// Handoff gives every key of the main cache that this node does not own
// to its owner, and returns once a whole pass found nothing left to move
// and nothing failed, or ctx is done. A node that leaves calls it after
// HTTPPool.Leave; the pool also runs passes in the background after each
// ring change.
func (g *Group) Handoff(ctx context.Context) error {
	p := g.pool.Load()
	if p == nil {
		return nil
	}
	pause := retryMin
	for {
		clean, err := g.handoffOnce(ctx, p, true)
		if err != nil {
			return err
		}
		if clean {
			return nil
		}
		if err := sleepCtx(ctx, pause); err != nil {
			return fmt.Errorf("cluster: hand-off: %w", err)
		}
		pause = min(2*pause, retryMax)
	}
}

// runHandoff is the background hand-off: a pass after each ring change,
// retried with backoff until one is clean, until ctx is done.
func (g *Group) runHandoff(ctx context.Context, p *HTTPPool) {
	pause := retryMin
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-g.ho.kicks:
		case <-retry:
		}
		clean, err := g.handoffOnce(ctx, p, false)
		switch {
		case err != nil:
			return
		case clean:
			pause, retry = retryMin, nil
		default:
			retry = time.After(pause)
			pause = min(2*pause, retryMax)
		}
	}
}

// handoffOnce runs one pass over the main cache against the current ring.
// A clean pass (nothing failed, the ring unchanged) is announced to the
// other members with a done frame. With deliver (a node that leaves and
// exits next: a frame still queued would be lost, and the others would
// wait for it until their transition times out) it returns once every
// done frame was answered or failed doneAttempts times, or ctx is done.
func (g *Group) handoffOnce(ctx context.Context, p *HTTPPool, deliver bool) (clean bool, err error) {
	g.ho.passMu.Lock()
	defer g.ho.passMu.Unlock()
	st := p.state.Load()
	moved := g.ho.moved.Load()
	failed, err := g.pass(ctx, p, st)
	if err != nil {
		return false, err
	}
	if failed > 0 || p.state.Load().version != st.version {
		g.log.Debug("hand-off pass to be retried", "ring_version", st.version, "failed", failed,
			"ring_changed", p.state.Load().version != st.version)
		return false, nil
	}
	g.log.Debug("hand-off pass done", "ring_version", st.version, "moved", g.ho.moved.Load()-moved)
	g.ho.passes.Add(1)
	peers := p.state.Load().peers
	if !deliver {
		for _, peer := range peers {
			peer.queueDone(g.name, st.digest, p.self)
		}
		return true, nil
	}
	return true, g.deliverDone(ctx, p, st.digest, slices.Collect(maps.Values(peers)))
}

// doneAttempts bounds the sends of a done frame that Handoff waits for: a
// member that cannot be reached is failing, and its failure ends the
// others' wait for it.
const doneAttempts = 3

// deliverDone sends a done frame for ring to each of peers and waits for
// the answers, sending again (after a pause) to those that failed, up to
// doneAttempts times. Only ctx's end is an error.
func (g *Group) deliverDone(ctx context.Context, p *HTTPPool, ring uint64, peers []*Peer) error {
	pause := retryMin
	for attempt := 1; len(peers) > 0; attempt++ {
		calls := make([]*Call, len(peers))
		for i, peer := range peers {
			calls[i] = peer.control.queueFrame(g.name, false, func(dst []byte) []byte { return appendDoneFrame(dst, ring, p.self) })
		}
		var failed []*Peer
		for i, c := range calls {
			_, err := c.Wait(ctx)
			if ctx.Err() != nil {
				return fmt.Errorf("cluster: hand-off done notice: %w", ctx.Err())
			}
			c.Release()
			if err != nil {
				g.log.Debug("hand-off done notice failed", "to", peers[i].id, "attempt", attempt, "err", err)
				failed = append(failed, peers[i])
			}
		}
		if peers = failed; len(peers) == 0 || attempt == doneAttempts {
			break
		}
		if err := sleepCtx(ctx, pause); err != nil {
			return fmt.Errorf("cluster: hand-off done notice: %w", err)
		}
		pause = min(2*pause, retryMax)
	}
	if len(peers) > 0 {
		g.log.Warn("hand-off done notice not delivered", "peers", len(peers))
	}
	return nil
}

// pass moves the keys this node does not own in st's ring, passStep keys
// at a time, and returns how many failed to move. It stops early when the
// ring changes (the next pass starts over) or ctx is done.
func (g *Group) pass(ctx context.Context, p *HTTPPool, st *poolState) (failed int, err error) {
	var cursor uint64
	var batch []moving
	for {
		now := g.clock()
		batch = batch[:0]
		cursor = g.main.Scan(cursor, passStep, now, func(key []byte, it lru.Item) {
			id := st.ring.Get(key)
			if id == "" || id == p.self {
				return
			}
			batch = append(batch, moving{
				key: bytes.Clone(key), value: bytes.Clone(it.Value), expireAt: it.ExpireAt, to: st.peers[id],
			})
		})
		failed += g.move(ctx, batch)
		if err := ctx.Err(); err != nil {
			return failed, fmt.Errorf("cluster: hand-off: %w", err)
		}
		if cursor == 0 || p.state.Load().version != st.version {
			return failed, nil
		}
	}
}

// move gives batch's keys to their owners, all at once (coalesced per
// owner), and deletes each key here that its owner now has, unless it
// changed meanwhile. It returns how many failed.
func (g *Group) move(ctx context.Context, batch []moving) (failed int) {
	for i := range batch {
		if m := &batch[i]; m.to != nil {
			m.call = m.to.give(g.name, m.key, m.value, m.expireAt)
		}
	}
	for i := range batch {
		m := &batch[i]
		if m.call == nil { // no peer for the owner: cannot happen in a ring the pool built
			failed++
			g.ho.moveFailures.Add(1)
			continue
		}
		reply, err := m.call.Wait(ctx)
		refused := err == nil && (len(reply) != 1 || reply[0] == giveRefused)
		m.call.Release()
		if err != nil || refused {
			failed++
			g.ho.moveFailures.Add(1)
			continue
		}
		g.ho.moved.Add(1)
		g.deleteIfUnchanged(m)
	}
	return failed
}

// deleteIfUnchanged deletes m's key here if it still holds what was given.
func (g *Group) deleteIfUnchanged(m *moving) {
	now := g.clock()
	sh := g.main.Lock(m.key)
	it, ok := sh.Peek(m.key, now)
	same := ok && it.ExpireAt == m.expireAt && bytes.Equal(it.Value, m.value)
	if same {
		sh.Delete(m.key, now)
	}
	sh.Unlock()
	if same {
		g.Wrote(m.key)
	}
}

// take asks the peer to remove key from its main cache and send it.
func (p *Peer) take(ctx context.Context, group string, key []byte) (value []byte, expireAt int64, found bool, err error) {
	c := p.control.queueTake(group, 0, key, p.pool.self)
	defer c.Release()
	data, err := c.Wait(ctx)
	if err != nil {
		return nil, 0, false, err
	}
	if c.status == statusNotFound {
		return nil, 0, false, nil
	}
	exp, m := uvarint(data)
	if m <= 0 {
		return nil, 0, false, fmt.Errorf("%w: %s: take reply: %w", ErrPeerUnreachable, p.id, ErrBadFrame)
	}
	return bytes.Clone(data[m:]), int64(exp), true, nil
}

// queueTake queues a take frame on behalf of the node from.
func (p *Peer) queueTake(group string, hops byte, key []byte, from string) *Call {
	return p.queueFrame(group, false, func(dst []byte) []byte { return appendTakeFrame(dst, hops, key, from) })
}

// give queues a give frame.
func (p *Peer) give(group string, key, value []byte, expireAt int64) *Call {
	return p.control.queueFrame(group, false, func(dst []byte) []byte { return appendGiveFrame(dst, key, value, expireAt) })
}

// queueDone queues a done frame; nobody waits for it.
func (p *Peer) queueDone(group string, ring uint64, self string) {
	p.control.queueFrame(group, true, func(dst []byte) []byte { return appendDoneFrame(dst, ring, self) })
}

// ExecHops queues a command that this node forwards again, as Exec does;
// hops (1 to MaxHops) is how many forwards the command has made when it
// reaches the peer, so that the peer runs it rather than forward it on.
func (p *Peer) ExecHops(group string, proto, hops int, args [][]byte) *Call {
	if hops < 1 || hops > MaxHops || proto != 2 && proto != 3 || len(args) == 0 {
		c := p.pool.newCall()
		c.finish(statusError, nil, fmt.Errorf("cluster: ExecHops of %d args in protocol %d after %d hops", len(args), proto, hops))
		return c
	}
	return p.relay.queueFrame(group, false, func(dst []byte) []byte {
		return appendExecHopFrame(dst, byte(proto), byte(hops), args)
	})
}

// serveHop answers a get frame for a key this node does not own by
// asking the owner in its ring, as the reply frame begun at start.
func (g *Group) serveHop(ctx context.Context, owner *Peer, key []byte, dst []byte, start int) []byte {
	return relayReply(ctx, owner.relay.queueKey(g.name, kindGet, getHop, key, false), dst, start) // ttl and value
}

// sleepCtx waits d, or until ctx ends (its error).
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
