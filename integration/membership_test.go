package integration

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/geeredis/geeredis/cluster"
	"github.com/geeredis/geeredis/hash"
	"github.com/geeredis/geeredis/server"
)

// gossipNode is one node of an in-process gossip cluster: a RESP server,
// the peer protocol on its own listener, and its membership, all on
// loopback ports from :0.
type gossipNode struct {
	name   string
	srv    *server.Server
	pool   *cluster.HTTPPool
	ml     *cluster.Membership
	hs     *http.Server
	addr   string // RESP
	url    string // peer base URL, the node's id on the ring
	rdb    *redis.Client
	served chan error
	once   sync.Once
}

// gossipPeerTimeout bounds a peer round trip in these tests.
const gossipPeerTimeout = 2 * time.Second

// startGossipNode starts a node that joins the cluster through join (none:
// a new cluster), as the binary does with --gossip-addr and --join.
func startGossipNode(tb testing.TB, name string, join ...string) *gossipNode {
	tb.Helper()
	hln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	n := &gossipNode{name: name, url: "http://" + hln.Addr().String(), served: make(chan error, 1)}
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv("GEEREDIS_TEST_LOG") != "" { // the nodes' logs, hand-off passes and done notices included

		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", name)
	}
	if n.pool, err = cluster.NewHTTPPool(cluster.PoolConfig{Self: n.url, Timeout: gossipPeerTimeout, Logger: logger}); err != nil {
		tb.Fatalf("NewHTTPPool: %v", err)
	}
	cfg := server.DefaultConfig()
	cfg.Cluster = &server.ClusterConfig{Pool: n.pool}
	cfg.Logger = logger
	if n.srv, err = server.New(cfg); err != nil {
		tb.Fatalf("server.New: %v", err)
	}
	n.hs = &http.Server{Handler: n.pool}
	go n.hs.Serve(hln)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	n.addr = ln.Addr().String()
	n.ml, err = cluster.NewMembership(cluster.MembershipConfig{
		Meta:      cluster.MemberMeta{PeerURL: n.url, ClientAddr: n.addr},
		BindAddr:  "127.0.0.1:0",
		Join:      join,
		Profile:   "local",
		OnMembers: n.pool.SetMembers,
		Logger:    logger.With("memberlist", true),
	})
	if err != nil {
		tb.Fatalf("%s: NewMembership: %v", name, err)
	}
	n.srv.SetMembership(n.ml)
	go func() { n.served <- n.srv.Serve(ln) }()
	n.rdb = redis.NewClient(&redis.Options{
		Addr: n.addr, Protocol: 3, MaxRetries: -1, PoolSize: 4,
		DialTimeout: replyTimeout, ReadTimeout: replyTimeout, WriteTimeout: replyTimeout,
	})
	tb.Cleanup(n.kill)
	return n
}

// kill stops the node without leaving: the others find it dead.
func (n *gossipNode) kill() {
	n.once.Do(func() {
		n.ml.Shutdown()
		n.hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n.srv.Shutdown(ctx)
		<-n.served
		n.pool.Close()
		n.rdb.Close()
	})
}

// leave is a graceful leave, as the binary's at SIGTERM: leave the
// gossip, take itself out of its ring, hand its keys off while its clients
// are still served; then quiesce (the test stops sending to it), stop the
// RESP server, hand off what the last commands left, stop the peers.
func (n *gossipNode) leave(tb testing.TB, quiesce func()) {
	tb.Helper()
	n.once.Do(func() {
		if err := n.ml.Leave(2 * time.Second); err != nil {
			tb.Errorf("%s: Leave: %v", n.name, err)
		}
		n.pool.Leave()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := n.srv.Group().Handoff(ctx); err != nil {
			tb.Errorf("%s: Handoff: %v", n.name, err)
		}
		quiesce()
		if err := n.srv.Shutdown(ctx); err != nil {
			tb.Errorf("%s: Shutdown: %v", n.name, err)
		}
		<-n.served
		if err := n.srv.Group().Handoff(ctx); err != nil {
			tb.Errorf("%s: Handoff after Shutdown: %v", n.name, err)
		}
		if left := n.srv.Store().Len(); left != 0 {
			tb.Errorf("%s: %d keys left after the hand-off", n.name, left)
		}
		n.hs.Shutdown(ctx)
		n.pool.Close()
		n.rdb.Close()
	})
}

// untilOK polls cond until it returns nil, failing the test with its last
// error after timeout. It returns how long it took.
func untilOK(tb testing.TB, timeout time.Duration, cond func() error) time.Duration {
	tb.Helper()
	start := time.Now()
	for {
		err := cond()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			tb.Fatalf("not within %v: %v", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ringsAgree checks that every node of nodes has exactly want's members
// in its ring and that no transition is left.
func ringsAgree(nodes, want []*gossipNode) error {
	var ids []string
	for _, n := range want {
		ids = append(ids, n.url)
	}
	slices.Sort(ids)
	for _, n := range nodes {
		ri := n.pool.Ring()
		if !slices.Equal(ri.Members, ids) {
			return fmt.Errorf("%s's ring is %v, want %v", n.name, ri.Members, ids)
		}
		if ri.Transition {
			return fmt.Errorf("%s still in transition, awaiting %v", n.name, ri.Awaited)
		}
	}
	return nil
}

// op is one client command of the traffic.
type op struct {
	key, value string
	at         time.Time // when it was sent
	entry      string    // the node it entered at
	read       bool      // a GET of an acknowledged write
	miss       bool      // the read answered nil
	err        error     // nil: acknowledged (and, for a read, the right value)
}

// window is a membership change, from its start until the rings agree
// and have settled.
type window struct {
	name       string
	start, end time.Time
}

// traffic writes unique keys (and reads back acknowledged ones) through
// the nodes in entries, round robin, until stopped.
type traffic struct {
	entries atomic.Pointer[[]*gossipNode]
	all     atomic.Pointer[[]*gossipNode] // every node ever an entry, for diagnostics
	stop    chan struct{}
	wg      sync.WaitGroup
	ops     []atomic.Int64 // per writer: commands answered
	log     [][]op         // per writer; read after stop
}

func startTraffic(writers int, entries ...*gossipNode) *traffic {
	tr := &traffic{stop: make(chan struct{}), ops: make([]atomic.Int64, writers), log: make([][]op, writers)}
	tr.setEntries(entries...)
	for w := range writers {
		tr.wg.Go(func() { tr.write(w) })
	}
	return tr
}

func (tr *traffic) setEntries(entries ...*gossipNode) {
	tr.entries.Store(&entries)
	var all []*gossipNode
	if p := tr.all.Load(); p != nil {
		all = slices.Clone(*p)
	}
	for _, n := range entries {
		if !slices.Contains(all, n) {
			all = append(all, n)
		}
	}
	tr.all.Store(&all)
}

// write is one writer: a SET of a new key every 2 ms, and a GET of one of
// its acknowledged keys every fifth time.
func (tr *traffic) write(w int) {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	var acked []int // indexes in tr.log[w]
	for i := 0; ; i++ {
		select {
		case <-tr.stop:
			return
		case <-tick.C:
		}
		entries := *tr.entries.Load()
		e := entries[i%len(entries)]
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		o := op{key: fmt.Sprintf("w%d:%d", w, i), at: time.Now(), entry: e.name}
		o.value = "v-" + o.key
		o.err = e.rdb.Set(ctx, o.key, o.value, 0).Err()
		if o.err == nil {
			acked = append(acked, len(tr.log[w]))
		}
		tr.log[w] = append(tr.log[w], o)
		if i%5 == 0 && len(acked) > 0 {
			a := tr.log[w][acked[rand.IntN(len(acked))]]
			r := op{key: a.key, value: a.value, at: time.Now(), entry: e.name, read: true}
			got, err := e.rdb.Get(ctx, a.key).Result()
			if r.err = err; err == nil && got != a.value {
				r.err = fmt.Errorf("read %q", got)
			}
			r.miss = errors.Is(err, redis.Nil)
			if r.err != nil {
				r.err = fmt.Errorf("%w (then held by %v)", r.err, holders(a.key, *tr.all.Load()...))
			}
			tr.log[w] = append(tr.log[w], r)
		}
		cancel()
		tr.ops[w].Add(1)
	}
}

// quiesce returns once every writer has answered two more commands: the
// ones in flight when it was called are done, and the next went to the
// current entries.
func (tr *traffic) quiesce(tb testing.TB) {
	tb.Helper()
	snap := make([]int64, len(tr.ops))
	for i := range tr.ops {
		snap[i] = tr.ops[i].Load()
	}
	untilOK(tb, 10*time.Second, func() error {
		for i := range tr.ops {
			if tr.ops[i].Load() < snap[i]+2 {
				return fmt.Errorf("writer %d has not moved on", i)
			}
		}
		return nil
	})
}

func (tr *traffic) finish() []op {
	close(tr.stop)
	tr.wg.Wait()
	var all []op
	for _, l := range tr.log {
		all = append(all, l...)
	}
	return all
}

// TestGossipMembershipUnderTraffic runs a cluster through its life with
// client writes and reads throughout: one node; two join at once; a
// fourth joins; one leaves gracefully; one is killed. The rings agree
// after each change, no acknowledged write is lost through the joins and
// the leave, and the only errors are commands on keys of the killed node,
// within the failure-detection bound. A read may miss (nil, never a wrong
// value) only while the members' views of a change still differ.
func TestGossipMembershipUnderTraffic(t *testing.T) {
	a := startGossipNode(t, "A")
	tr := startTraffic(2, a)
	defer func() {
		select {
		case <-tr.stop:
		default:
			tr.finish()
		}
	}()
	seed := a.ml.GossipAddr()

	var changes []window
	change := func(name string, start time.Time) {
		changes = append(changes, window{name, start, time.Now()})
	}

	// Two join at once, through A.
	start := time.Now()
	var b, c *gossipNode
	var wg sync.WaitGroup
	wg.Go(func() { b = startGossipNode(t, "B", seed) })
	wg.Go(func() { c = startGossipNode(t, "C", seed) })
	wg.Wait()
	tr.setEntries(a, b, c)
	took := untilOK(t, 10*time.Second, func() error { return ringsAgree([]*gossipNode{a, b, c}, []*gossipNode{a, b, c}) })
	change("B and C join", start)
	t.Logf("B and C joined: rings agree and settled after %v", took.Round(time.Millisecond))

	// A fourth joins, through B.
	start = time.Now()
	d := startGossipNode(t, "D", b.ml.GossipAddr())
	tr.setEntries(a, b, c, d)
	took = untilOK(t, 10*time.Second, func() error { return ringsAgree([]*gossipNode{a, b, c, d}, []*gossipNode{a, b, c, d}) })
	change("D joins", start)
	t.Logf("D joined: rings agree and settled after %v", took.Round(time.Millisecond))

	// B leaves gracefully, served by clients until it stops.
	start = time.Now()
	b.leave(t, func() {
		tr.setEntries(a, c, d)
		tr.quiesce(t)
	})
	rest := []*gossipNode{a, c, d}
	untilOK(t, 10*time.Second, func() error { return ringsAgree(rest, rest) })
	change("B leaves", start)
	t.Logf("B left: rings agree and settled after %v", time.Since(start).Round(time.Millisecond))

	// C is killed. Clients stop using it first: a client of a dead node
	// gets connection errors, which say nothing of the cluster.
	tr.setEntries(a, d)
	tr.quiesce(t)
	before := hash.New(0, nil, a.url, c.url, d.url) // the ring at the kill
	bound := a.ml.FailureBound()
	killed := time.Now()
	c.kill()
	stopped := time.Now() // C acknowledged writes until then
	rest = []*gossipNode{a, d}
	detect := untilOK(t, bound+2*time.Second, func() error {
		for _, n := range rest {
			if slices.Contains(n.pool.Members(), c.url) {
				return fmt.Errorf("%s still has C in its ring", n.name)
			}
		}
		return nil
	})
	t.Logf("C killed: dropped from every ring after %v (FailureBound %v)", detect.Round(time.Millisecond), bound)
	if detect > bound {
		t.Errorf("the killed node left the rings after %v, beyond FailureBound %v", detect, bound)
	}
	untilOK(t, 10*time.Second, func() error { return ringsAgree(rest, rest) })
	tr.quiesce(t)
	tr.quiesce(t)
	ops := tr.finish()

	// Errors: only for keys the killed node owned, between the kill and
	// the end of the detection window (plus a peer timeout for a command in
	// flight). Such keys written before the kill are lost with it. A read
	// may miss while the members' views of a change converge (a node
	// that has not heard of it yet answers from its own ring); it must not
	// answer an error or a wrong value, and the key must be readable
	// afterwards (checked below).
	during := func(o op) string {
		for _, w := range changes {
			if !o.at.Before(w.start) && !o.at.After(w.end) {
				return w.name
			}
		}
		return ""
	}
	misses := map[string]int{}
	lostWith := func(o op) bool { return o.at.Before(stopped) && before.Get([]byte(o.key)) == c.url }
	window := killed.Add(detect + gossipPeerTimeout)
	var writes, reads, failed, lost int
	acked := map[string]op{}
	for _, o := range ops {
		if o.read {
			reads++
		} else {
			writes++
		}
		if o.err == nil {
			if !o.read {
				acked[o.key] = o
			}
			continue
		}
		failed++
		owner := before.Get([]byte(o.key))
		switch {
		case o.read && o.miss && during(o) != "":
			misses[during(o)]++
			failed--
		case o.at.Before(killed):
			t.Errorf("%s %s at %s before the kill (at %s): %v", kind(o), o.key, o.entry, o.at.Format("15:04:05.000"), o.err)
		case owner != c.url:
			t.Errorf("%s %s at %s after the kill, owned by %s, not the killed node: %v", kind(o), o.key, o.entry, owner, o.err)
		case o.at.After(window) && !o.read:
			t.Errorf("write %s failed %v after the kill, beyond the detection window: %v", o.key, o.at.Sub(killed), o.err)
		case o.read && o.at.After(window) && !lostWith(acked[o.key]):
			t.Errorf("read %s failed %v after the kill: %v", o.key, o.at.Sub(killed), o.err)
		}
	}

	// Every acknowledged write is readable at every node with its value,
	// but the ones that only the killed node held.
	ctx := testContext(t)
	for _, n := range rest {
		var keys []string
		for key, o := range acked {
			if lostWith(o) {
				continue
			}
			keys = append(keys, key)
		}
		for chunk := range slices.Chunk(keys, 500) {
			cmds, err := n.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, key := range chunk {
					p.Get(ctx, key)
				}
				return nil
			})
			if err != nil && !errors.Is(err, redis.Nil) {
				t.Fatalf("reading back at %s: %v", n.name, err)
			}
			for i, cmd := range cmds {
				got, err := cmd.(*redis.StringCmd).Result()
				if want := acked[chunk[i]].value; err != nil || got != want {
					t.Errorf("%s at %s = %q %v, want %q (acknowledged at %s at %s; held by %v; owner before the kill %s)",
						chunk[i], n.name, got, err, want, acked[chunk[i]].entry, acked[chunk[i]].at.Format("15:04:05.000"),
						holders(chunk[i], a, b, c, d), before.Get([]byte(chunk[i])))
				}
			}
		}
	}
	for _, o := range acked {
		if lostWith(o) {
			lost++
		}
	}
	t.Logf("%d writes (%d acknowledged, %d lost with the killed node), %d reads, %d errors; reads that missed while views converged: %v",
		writes, len(acked), lost, reads, failed, misses)

	// What the survivors say.
	info, err := a.rdb.Info(ctx, "cluster").Result()
	must(t, err)
	for _, line := range []string{"cluster_members:2", "cluster_membership:gossip", "cluster_member_joins:3",
		"cluster_member_leaves:1", "cluster_member_failures:1", "cluster_ring_transition:0",
		",state=left", ",state=dead"} {
		if !strings.Contains(info, line) {
			t.Errorf("INFO cluster at A lacks %q:\n%s", line, info)
		}
	}
	members, err := a.rdb.Do(ctx, "GEEREDIS", "MEMBERS").Slice()
	must(t, err)
	if len(members) != 4 {
		t.Errorf("GEEREDIS MEMBERS lists %d members, want 4: %v", len(members), members)
	}
	var moved uint64
	for _, n := range []*gossipNode{a, b, c, d} {
		hs := n.srv.Group().HandoffStats()
		moved += hs.Moved + hs.Pulled
	}
	if moved == 0 {
		t.Error("no key was handed off")
	}
}

// holders names the nodes whose store holds key (a stopped node's too).
func holders(key string, nodes ...*gossipNode) []string {
	var out []string
	for _, n := range nodes {
		sh := n.srv.Store().Lock([]byte(key))
		if _, ok := sh.Peek([]byte(key), time.Now().UnixMilli()); ok {
			out = append(out, n.name)
		}
		sh.Unlock()
	}
	return out
}

func kind(o op) string {
	if o.read {
		return "read"
	}
	return "write"
}
