package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// urls returns the ids of nodes.
func urls(nodes ...*testNode) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.url()
	}
	return out
}

// aliveMembers is what a Membership reports for nodes, all alive.
func aliveMembers(nodes ...*testNode) []Member {
	out := make([]Member, len(nodes))
	for i, n := range nodes {
		out[i] = Member{MemberMeta: MemberMeta{ID: n.url(), PeerURL: n.url() + "/"}, State: StateAlive}
	}
	return out
}

// ownerIn returns the node that owns key in nodes' own view (the node
// whose pool says it owns key).
func ownerIn(tb testing.TB, nodes []*testNode, key []byte) *testNode {
	tb.Helper()
	for _, n := range nodes {
		if n.pool.Owner(key) == nil {
			return n
		}
	}
	tb.Fatalf("nobody owns %q", key)
	return nil
}

// fill stores count keys, each at its owner among nodes, half of them
// with an expiry; it returns the keys and their expiries.
func fill(tb testing.TB, nodes []*testNode, count int) ([]string, map[string]int64) {
	tb.Helper()
	keys := make([]string, count)
	exp := map[string]int64{}
	future := time.Now().Add(time.Hour).UnixMilli()
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(i)
		if i%2 == 0 {
			exp[keys[i]] = future + int64(i)
		}
		put(ownerIn(tb, nodes, []byte(keys[i])).main, keys[i], "v"+keys[i], exp[keys[i]])
	}
	return keys, exp
}

// placed checks that every key is held by exactly its owner among nodes
// (by owner's own ring), with its value and expiry.
func placed(nodes []*testNode, keys []string, exp map[string]int64) error {
	now := time.Now().UnixMilli()
	for _, key := range keys {
		var at []string
		for _, n := range nodes {
			sh := n.main.Lock([]byte(key))
			it, ok := sh.Peek([]byte(key), now)
			if ok && (string(it.Value) != "v"+key || it.ExpireAt != exp[key]) {
				sh.Unlock()
				return fmt.Errorf("%s at %s = %q expiring %d", key, n.url(), it.Value, it.ExpireAt)
			}
			sh.Unlock()
			if ok {
				at = append(at, n.url())
			}
		}
		if len(at) != 1 {
			return fmt.Errorf("%s held by %v", key, at)
		}
		for _, n := range nodes {
			if n.url() == at[0] && n.pool.Owner([]byte(key)) != nil {
				return fmt.Errorf("%s held by %s, not its owner", key, at[0])
			}
		}
	}
	return nil
}

func settled(nodes ...*testNode) error {
	for _, n := range nodes {
		if ri := n.pool.Ring(); ri.Transition {
			return fmt.Errorf("%s still in transition, awaiting %v", n.url(), ri.Awaited)
		}
	}
	return nil
}

func TestJoinMovesKeys(t *testing.T) {
	nodes := newCluster(t, 3, clusterOpts{})
	keys, exp := fill(t, nodes, 600)
	d := newNode(t, 3, clusterOpts{})
	all := append(nodes, d)
	d.pool.SetMembers(aliveMembers(all...))
	if ri := d.pool.Ring(); !ri.Transition || len(ri.Awaited) != 3 {
		t.Fatalf("joiner's ring = %+v, want a transition awaiting the three others", ri)
	}
	for _, n := range nodes {
		n.pool.Set(urls(all...)...)
	}
	eventually(t, 10*time.Second, func() error {
		if err := placed(all, keys, exp); err != nil {
			return err
		}
		return settled(all...)
	})
	var moved, received uint64
	for _, n := range all {
		hs := n.group.HandoffStats()
		moved += hs.Moved
		received += hs.Received + hs.Pulled
	}
	if atD := d.main.Len(); moved != uint64(atD) || received != uint64(atD) || atD == 0 {
		t.Errorf("moved %d, received %d, keys at the new node %d", moved, received, atD)
	}
	t.Logf("%d of %d keys moved to the new node; share %.3f", d.main.Len(), len(keys), d.pool.Ring().Share)
	if s := d.pool.Ring().Share; s < 0.2 || s > 0.3 {
		t.Errorf("share of 1 node in 4 = %.3f", s)
	}
}

func TestPullOnMiss(t *testing.T) {
	nodes := newCluster(t, 3, clusterOpts{})
	d := newNode(t, 3, clusterOpts{})
	all := append(nodes, d)
	d.pool.SetMembers(aliveMembers(all...)) // the others have not heard of d yet
	ctx := t.Context()

	// keyAt returns a key that d owns now and nodes[i] owned before.
	n := 0
	keyAt := func(i int) []byte {
		t.Helper()
		for ; n < 100000; n++ {
			key := []byte("pull:" + strconv.Itoa(n))
			if d.pool.Owner(key) == nil && nodes[i].pool.Owner(key) == nil {
				n++
				return key
			}
		}
		t.Fatal("no key moves from node", i)
		return nil
	}
	has := func(nd *testNode, key []byte) bool {
		sh := nd.main.Lock(key)
		defer sh.Unlock()
		_, ok := sh.Peek(key, time.Now().UnixMilli())
		return ok
	}

	// A read of a missing key takes it from its previous owner, once for
	// concurrent callers.
	k := keyAt(0)
	put(nodes[0].main, string(k), "old", 0)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := d.group.ClaimKeys(ctx, [][]byte{k}, false); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if !has(d, k) || has(nodes[0], k) {
		t.Fatalf("after the pull: at the new owner %v, at the old %v", has(d, k), has(nodes[0], k))
	}
	if got := nodes[0].group.HandoffStats().Taken; got != 1 {
		t.Errorf("taken %d times, want 1", got)
	}

	// Group.Get at the owner pulls too, and keeps the TTL.
	k2 := keyAt(1)
	put(nodes[1].main, string(k2), "v2", time.Now().Add(time.Hour).UnixMilli())
	v, found, err := d.group.Get(ctx, k2)
	if err != nil || !found || string(v.Bytes) != "v2" || v.TTL < 59*time.Minute {
		t.Errorf("Get of a key at its previous owner = %q %v %v ttl %v", v.Bytes, found, err, v.TTL)
	}

	// A write claims the key: a late give of it is dropped, so a DEL is
	// not undone by the hand-off.
	k3 := keyAt(2)
	put(nodes[2].main, string(k3), "doomed", 0)
	if err := d.group.ClaimKeys(ctx, [][]byte{k3}, true); err != nil {
		t.Fatal(err)
	}
	sh := d.main.Lock(k3)
	sh.Delete(k3, time.Now().UnixMilli()) // the DEL
	sh.Unlock()
	late := frame{kind: kindGive, key: k3, value: []byte("doomed")}
	if st, data, _, _ := parseReply(d.group.serveGive(d.pool, &late, nil)); st != statusOK || !bytes.Equal(data, []byte{giveDropped}) {
		t.Errorf("late give answered %d %q, want dropped", st, data)
	}
	if has(d, k3) {
		t.Error("a late give brought back a deleted key")
	}
	// A read of a key found nowhere does not claim it: this node's view
	// of the members may lack the one that has it, and it may still come.
	k4 := keyAt(2)
	if err := d.group.ClaimKeys(ctx, [][]byte{k4}, false); err != nil {
		t.Fatal(err)
	}
	give := frame{kind: kindGive, key: k4, value: []byte("arrives")}
	if _, data, _, _ := parseReply(d.group.serveGive(d.pool, &give, nil)); !bytes.Equal(data, []byte{giveKept}) || !has(d, k4) {
		t.Errorf("give after a read found nothing answered %q", data)
	}
	// A key held by another node than its previous owner (a wrong guess
	// of the previous ring) is found all the same.
	k6 := keyAt(0)
	put(nodes[2].main, string(k6), "astray", 0)
	if err := d.group.ClaimKeys(ctx, [][]byte{k6}, false); err != nil || !has(d, k6) || has(nodes[2], k6) {
		t.Errorf("key held by a node that did not own it: err %v, moved %v", err, has(d, k6) && !has(nodes[2], k6))
	}
	// A give of a key d does not own is refused.
	notMine := frame{kind: kindGive, key: keyOf(t, nodes, 0, "x"), value: []byte("v")}
	for d.pool.Owner(notMine.key) == nil {
		notMine.key = append(notMine.key, 'x')
	}
	if _, data, _, _ := parseReply(d.group.serveGive(d.pool, &notMine, nil)); !bytes.Equal(data, []byte{giveRefused}) {
		t.Errorf("give of a key owned elsewhere answered %q, want refused", data)
	}

	// A previous owner that cannot be reached fails a write, not a read,
	// and the key is not claimed: it may still come.
	k5 := keyAt(1)
	nodes[1].stop()
	if err := d.group.ClaimKeys(ctx, [][]byte{k5}, true); !errors.Is(err, ErrPullFailed) {
		t.Errorf("write with the previous owner down: err = %v, want ErrPullFailed", err)
	}
	if err := d.group.ClaimKeys(ctx, [][]byte{k5}, false); err != nil {
		t.Errorf("read with the previous owner down: err = %v", err)
	}
	give = frame{kind: kindGive, key: k5, value: []byte("arrives")}
	if _, data, _, _ := parseReply(d.group.serveGive(d.pool, &give, nil)); !bytes.Equal(data, []byte{giveKept}) || !has(d, k5) {
		t.Errorf("give after the previous owner was unreachable answered %q", data)
	}
	// Each pull of k5 failed three ways: at node 1, and at nodes 0 and 2,
	// which asked node 1 for it (their ring gives it to node 1).
	hs := d.group.HandoffStats()
	if hs.Pulled != 4 || hs.PullFailures != 6 || hs.Dropped != 1 || hs.Received != 2 || hs.Refused != 1 {
		t.Errorf("stats %+v", hs)
	}
}

func TestLeaveHandsOff(t *testing.T) {
	nodes := newCluster(t, 3, clusterOpts{})
	a, b, c := nodes[0], nodes[1], nodes[2]
	keys, exp := fill(t, nodes, 600)
	held := c.main.Len()

	// c leaves before the others know: they refuse what they do not own
	// in their ring, and c keeps it rather than pass it back and forth.
	c.pool.Leave()
	if c.pool.Owner([]byte("any")) == nil {
		t.Fatal("a node that left owns keys")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.group.Handoff(ctx) }()
	eventually(t, 5*time.Second, func() error {
		if r := a.group.HandoffStats().Refused + b.group.HandoffStats().Refused; r == 0 {
			return errors.New("nothing refused yet")
		}
		return nil
	})
	if c.main.Len() == 0 {
		t.Fatal("keys left c while the others' rings still had it")
	}
	for _, n := range []*testNode{a, b} {
		n.pool.Set(a.url(), b.url())
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// A node that leaves exits right after its hand-off: its done notice
	// was answered by then, or the others would wait for it until their
	// transition timed out.
	c.pool.Close()
	for _, n := range []*testNode{a, b} {
		if aw := n.pool.Ring().Awaited; slices.Contains(aw, c.url()) {
			t.Fatalf("%s still awaits the node that left (awaited %v)", n.url(), aw)
		}
	}
	if n := c.main.Len(); n != 0 {
		t.Fatalf("%d keys left at the node that left (held %d)", n, held)
	}
	eventually(t, 5*time.Second, func() error {
		if err := placed([]*testNode{a, b}, keys, exp); err != nil {
			return err
		}
		return settled(a, b)
	})
}

func TestTransitionTimesOut(t *testing.T) {
	nodes := newCluster(t, 2, clusterOpts{settle: 50 * time.Millisecond})
	a := nodes[0]
	a.pool.Set(a.url()) // b never says done for a ring it does not have
	if !a.pool.InTransition() {
		t.Fatal("no transition")
	}
	eventually(t, 5*time.Second, func() error { return settled(a) })
}

// hopExec records the hops of the commands it runs.
type hopExec struct {
	mu   sync.Mutex
	hops []int
}

func (x *hopExec) Execute(ctx context.Context, proto int, args [][]byte, dst []byte) []byte {
	return x.ExecuteHops(ctx, proto, MaxHops, args, dst)
}

func (x *hopExec) ExecuteHops(ctx context.Context, proto, hops int, args [][]byte, dst []byte) []byte {
	x.mu.Lock()
	x.hops = append(x.hops, hops)
	x.mu.Unlock()
	return fmt.Appendf(dst, ":%d\r\n", hops)
}

func TestExecHops(t *testing.T) {
	x := &hopExec{}
	nodes := newCluster(t, 2, clusterOpts{exec: x})
	peer := peerOf(t, nodes[0], nodes[1])
	for _, tt := range []struct {
		call *Call
		want string
	}{
		{peer.Exec(DefaultGroup, 2, bs("GET", "k")), ":0\r\n"},
		{peer.ExecHops(DefaultGroup, 3, 1, bs("GET", "k")), ":1\r\n"},
	} {
		got, err := tt.call.Wait(t.Context())
		if err != nil || string(got) != tt.want {
			t.Errorf("reply %q %v, want %q", got, err, tt.want)
		}
	}
	for _, hops := range []int{0, MaxHops + 1} {
		if _, err := peer.ExecHops(DefaultGroup, 2, hops, bs("GET", "k")).Wait(t.Context()); err == nil {
			t.Errorf("ExecHops after %d hops: no error", hops)
		}
	}
}

// TestGetHopBound gives two nodes rings that disagree on purpose: each
// thinks the other owns every key. A get goes a -> b -> a and is answered
// there, found or not: one hop, never a loop.
func TestGetHopBound(t *testing.T) {
	nodes := newCluster(t, 2, clusterOpts{})
	a, b := nodes[0], nodes[1]
	a.pool.Set(b.url())
	b.pool.Set(a.url())
	put(a.main, "k", "at a", 0)
	v, found, err := a.group.Get(t.Context(), []byte("k"))
	if err != nil || !found || string(v.Bytes) != "at a" {
		t.Errorf("Get through a node whose ring disagrees = %q %v %v", v.Bytes, found, err)
	}
	if _, found, err := a.group.Get(t.Context(), []byte("nosuch")); err != nil || found {
		t.Errorf("Get of a missing key = %v %v, want not found", found, err)
	}
	if got := b.group.Stats().Served; got != 2 {
		t.Errorf("b served %d gets, want 2", got)
	}
}
