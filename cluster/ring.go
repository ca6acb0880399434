package cluster

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/geeredis/geeredis/hash"
)

// Ring changes. When the members change, keys change owners. A node keeps
// the rings it had before (prev) while the keys move, so that the new
// owner of a key it misses can take it from the node that held it; the
// transition ends when every node of those rings has said it handed off
// what it no longer owns (a done frame for the new ring), or after
// PoolConfig.TransitionTimeout. See handoff.go for the moves.

const (
	// DefaultTransitionTimeout ends a transition whose done notices did
	// not all arrive (a node failed while handing off).
	DefaultTransitionTimeout = time.Minute
	// minTransition is the shortest transition: the views of the members
	// take a few gossip rounds to agree (two nodes that join at once
	// learn of each other one gossip interval later), and until they do a
	// key may be with a node this one has not heard of; pulls (with their
	// one hop) find it there.
	minTransition = time.Second
	// maxPrevRings bounds the rings kept while changes follow each other
	// faster than keys move; the oldest is dropped first.
	maxPrevRings = 4
	// maxDoneRings bounds the done notices kept for rings this node has
	// not (yet) got.
	maxDoneRings = 8
	// shareSamples is how many points estimate a node's share of the ring.
	shareSamples = 1 << 16
)

// poolState is the membership, replaced whole on change.
type poolState struct {
	ring    *hash.Ring
	members []string
	peers   map[string]*Peer // every member but self, and the members of prev not gone
	list    []*Peer          // the members but self, sorted by id
	version uint64           // grows by one per change of the members
	digest  uint64           // of members: nodes with the same members agree on it
	prev    []*hash.Ring     // the rings keys may still be held under, newest first; nil when settled
	gone    map[string]bool  // members that failed: keys are not taken from them

	// done holds the members that said they hand off nothing more in
	// this ring: keys are not taken from them. Copied on write.
	done atomic.Pointer[map[string]bool]

	shareOnce sync.Once
	share     float64
}

// transition is what the pool waits for while keys move.
type transition struct {
	awaited map[string]bool // members of prev that have not said done for the current ring
	joining bool            // this node is new to the cluster: the others held keys without it
	until   time.Time       // not settled before (minTransition)
	timer   *time.Timer     // TransitionTimeout
}

// ringDigest identifies a member set: the same on every node that has it.
func ringDigest(members []string) uint64 {
	return xxhash.Sum64String(strings.Join(members, "\n"))
}

// normalize trims, sorts and dedups peer ids.
func normalize(peers []string) []string {
	ids := make([]string, 0, len(peers))
	for _, id := range peers {
		if id = strings.TrimRight(id, "/"); id != "" {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Set replaces the members (peer base URLs, Self included). The first
// Set of a pool starts it with those members; a later one that changes
// them starts a transition during which keys move to their new owners.
// Peers that stay keep their queues; peers that leave send what they
// have queued and stop once no transition needs them.
func (p *HTTPPool) Set(peers ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.update(normalize(peers), p.state.Load().gone, false)
}

// SetMembers makes the alive members of a gossip cluster the ring, each
// by its PeerURL; the dead ones are gone: nothing is taken from them.
// It is meant as Membership's OnMembers, whose first call has what the
// join found. A first call with this node alone starts a new cluster;
// a first call with others is a join: unlike the first Set, it treats
// the others as the previous owners of every key.
func (p *HTTPPool) SetMembers(all []Member) {
	var alive []string
	gone := map[string]bool{}
	for _, m := range all {
		id := strings.TrimRight(m.PeerURL, "/")
		switch {
		case id == "":
		case m.State == StateAlive:
			alive = append(alive, id)
		case m.State == StateDead:
			gone[id] = true
		}
	}
	ids := normalize(alive)
	for _, id := range ids {
		delete(gone, id) // alive again: a restart with the same address
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !slices.Contains(ids, p.self) {
		return // not yet (or no longer) a member itself: keep the ring
	}
	if old := p.state.Load(); old.version == 0 && len(ids) == 1 {
		// This node starts a new cluster: its ring of one is a ring,
		// whose keys others will take when they join.
		p.state.Store(&poolState{
			ring: old.ring, members: old.members, peers: old.peers, version: 1, digest: old.digest,
			gone: maps.Clone(gone),
		})
		return
	}
	p.update(ids, gone, true)
}

// Leave takes this node out of its own ring: every key then belongs to
// another member, and Handoff moves them there. The node keeps serving
// peers (its keys are taken from it until they are gone).
func (p *HTTPPool) Leave() {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.state.Load()
	others := slices.DeleteFunc(slices.Clone(st.members), func(id string) bool { return id == p.self })
	p.update(others, st.gone, false)
}

// update installs a ring of ids (sorted) with the members in gone failed.
// joinable says a first change may be a join. p.mu is held.
func (p *HTTPPool) update(ids []string, gone map[string]bool, joinable bool) {
	old := p.state.Load()
	changed := !slices.Equal(ids, old.members)
	if p.closed || !changed && maps.Equal(gone, old.gone) {
		return
	}
	st := &poolState{
		ring: old.ring, members: old.members, version: old.version, digest: old.digest,
		prev: old.prev, gone: maps.Clone(gone),
	}
	if changed {
		st.ring, st.members, st.version, st.digest = hash.New(0, nil, ids...), ids, old.version+1, ringDigest(ids)
		p.startTransition(st, old, joinable)
	}
	for id := range st.gone {
		delete(p.trans.awaited, id)
	}
	if len(p.trans.awaited) == 0 {
		if wait := time.Until(p.trans.until); st.prev != nil && wait > 0 {
			p.settleAfter(st.version, wait)
		} else {
			p.settleLocked(st)
		}
	}
	p.install(st, old)
	if changed {
		p.log.Info("peer membership", "members", len(ids), "ring_version", st.version, "transition", st.prev != nil,
			"awaited", len(p.trans.awaited))
		if old.version > 0 || joinable {
			p.kickGroups() // not at the first Set: the members start empty
		}
	}
}

// startTransition makes old's ring (and, for a node that joins, the ring
// the others had without it) a previous ring of st and computes whom to
// wait for. p.mu is held.
func (p *HTTPPool) startTransition(st, old *poolState, joinable bool) {
	if old.version == 0 && !joinable {
		return // the first Set: the members start together, empty
	}
	if old.version == 0 || !slices.Contains(old.members, p.self) {
		p.trans.joining = true
	}
	prev := []*hash.Ring{}
	if old.version > 0 {
		prev = append(prev, old.ring)
	}
	if p.trans.joining {
		others := slices.DeleteFunc(slices.Clone(st.members), func(id string) bool { return id == p.self })
		prev = append(prev, hash.New(0, nil, others...))
	}
	st.prev = append(prev, old.prev...)
	st.prev = st.prev[:min(len(st.prev), maxPrevRings)]
	p.trans.awaited = map[string]bool{}
	for _, r := range st.prev {
		for _, id := range r.Members() {
			if id != p.self && !st.gone[id] {
				p.trans.awaited[id] = true
			}
		}
	}
	p.trans.until = time.Time{}
	if len(p.trans.awaited) > 0 {
		p.trans.until = time.Now().Add(minTransition)
	}
	for id := range p.dones[st.digest] {
		delete(p.trans.awaited, id)
	}
	if p.trans.timer != nil {
		p.trans.timer.Stop()
	}
	version := st.version
	p.trans.timer = time.AfterFunc(p.transitionTimeout, func() { p.expire(version) })
}

// install makes st current: it gives st the peers it needs, reusing old's,
// and closes the ones no longer needed. p.mu is held.
func (p *HTTPPool) install(st, old *poolState) {
	done := maps.Clone(p.dones[st.digest])
	st.done.Store(&done)
	st.peers = make(map[string]*Peer, len(st.members))
	need := func(id string) *Peer {
		peer := st.peers[id]
		if peer == nil {
			if peer = old.peers[id]; peer == nil {
				peer = newPeer(p, id)
			}
			st.peers[id] = peer
		}
		return peer
	}
	for _, id := range st.members {
		if id != p.self {
			st.list = append(st.list, need(id))
		}
	}
	for _, r := range st.prev {
		for _, id := range r.Members() {
			if id != p.self && !st.gone[id] {
				need(id)
			}
		}
	}
	p.state.Store(st)
	for id, peer := range old.peers {
		if st.peers[id] == nil {
			peer.close()
			if p.draining == nil {
				p.draining = map[*Peer]struct{}{}
			}
			p.draining[peer] = struct{}{} // until its senders end (Close interrupts them)
		}
	}
}

// settleLocked ends st's transition. p.mu is held.
func (p *HTTPPool) settleLocked(st *poolState) {
	st.prev = nil
	p.trans.awaited, p.trans.joining = nil, false
	if p.trans.timer != nil {
		p.trans.timer.Stop()
		p.trans.timer = nil
	}
	for _, e := range *p.groups.Load() {
		e.g.settled()
	}
}

// settle ends the transition of the current ring.
func (p *HTTPPool) settle(why string) {
	old := p.state.Load()
	if old.prev == nil {
		return
	}
	st := &poolState{ring: old.ring, members: old.members, version: old.version, digest: old.digest, gone: old.gone}
	p.settleLocked(st)
	p.install(st, old)
	p.log.Info("ring settled", "ring_version", st.version, "why", why)
}

// expire ends the transition to ring version after the timeout.
func (p *HTTPPool) expire(version uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st := p.state.Load(); !p.closed && st.version == version && st.prev != nil {
		p.log.Warn("ring transition timed out", "ring_version", version, "still_awaited", strings.Join(slices.Sorted(maps.Keys(p.trans.awaited)), ","))
		p.settle("timeout")
	}
}

// doneFrom records that member id holds no key it does not own in the
// ring of digest ring.
func (p *HTTPPool) doneFrom(ring uint64, id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.state.Load()
	if p.closed {
		return
	}
	// Kept for this ring even when it is not (or no longer) ours: a ring
	// can come back (a member flaps) and the member need not hand off
	// again, its own ring having stayed the same.
	if p.dones[ring] == nil {
		if len(p.dones) >= maxDoneRings {
			clear(p.dones)
		}
		p.dones[ring] = map[string]bool{}
	}
	p.dones[ring][id] = true
	if ring == st.digest {
		done := maps.Clone(p.dones[ring])
		st.done.Store(&done)
	}
	p.log.Debug("hand-off done notice", "from", id, "current_ring", ring == st.digest, "awaited", p.trans.awaited[id])
	if ring != st.digest || st.prev == nil || !p.trans.awaited[id] {
		return
	}
	delete(p.trans.awaited, id)
	if len(p.trans.awaited) == 0 {
		if wait := time.Until(p.trans.until); wait > 0 {
			p.settleAfter(st.version, wait)
		} else {
			p.settle("every previous owner handed off")
		}
	}
}

// settleAfter ends the transition to ring version after wait, if every
// previous owner has said done by then. p.mu is held.
func (p *HTTPPool) settleAfter(version uint64, wait time.Duration) {
	time.AfterFunc(wait, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if st := p.state.Load(); !p.closed && st.version == version && len(p.trans.awaited) == 0 {
			p.settle("every previous owner handed off")
		}
	})
}

// kickGroups tells the registered groups that the ring changed.
func (p *HTTPPool) kickGroups() {
	for _, e := range *p.groups.Load() {
		e.g.kick()
	}
}

// InTransition reports whether keys may still be held by their previous
// owners. It takes no lock.
func (p *HTTPPool) InTransition() bool { return p.state.Load().prev != nil }

// prevOwners appends to dst the peers that may hold key from before the
// ring changed: its owners in the previous rings, newest first, that are
// neither this node, nor key's owner now, nor gone, nor done (a pull
// still asks these, but their failure does not fail it).
func (st *poolState) prevOwners(self string, key []byte, dst []*Peer) []*Peer {
	owner := st.ring.Get(key)
	done := st.doneSet()
	for _, r := range st.prev {
		id := r.Get(key)
		if id == "" || id == self || id == owner || done[id] {
			continue
		}
		if peer := st.peers[id]; peer != nil && !slices.Contains(dst, peer) {
			dst = append(dst, peer)
		}
	}
	return dst
}

// doneSet returns the members that said they are done with this ring.
func (st *poolState) doneSet() map[string]bool {
	if d := st.done.Load(); d != nil {
		return *d
	}
	return nil
}

// RingInfo describes this node's current ring.
type RingInfo struct {
	Version    uint64   // grows by one per change of the members
	Members    []string // sorted ids
	Transition bool     // keys are moving to new owners
	Awaited    []string // members of the previous rings that have not said they handed off
	Share      float64  // the fraction of the key space this node owns, estimated
}

// Ring returns this node's view of the ring.
func (p *HTTPPool) Ring() RingInfo {
	p.mu.Lock()
	st := p.state.Load()
	info := RingInfo{
		Version: st.version, Members: slices.Clone(st.members), Transition: st.prev != nil,
		Awaited: slices.Sorted(maps.Keys(p.trans.awaited)),
	}
	p.mu.Unlock()
	info.Share = st.shareOf(p.self)
	return info
}

// shareOf estimates the fraction of the key space that id owns, by
// asking the ring about shareSamples keys (about ±0.4% for a third).
func (st *poolState) shareOf(id string) float64 {
	st.shareOnce.Do(func() {
		n := 0
		var key []byte
		for i := range shareSamples {
			key = strconv.AppendInt(append(key[:0], "share#"...), int64(i), 10)
			if st.ring.Get(key) == id {
				n++
			}
		}
		st.share = float64(n) / shareSamples
	})
	return st.share
}

// String is for logs.
func (ri RingInfo) String() string {
	return fmt.Sprintf("ring v%d %v transition=%v", ri.Version, ri.Members, ri.Transition)
}
