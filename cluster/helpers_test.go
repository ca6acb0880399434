package cluster

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeExec records the commands it runs and answers each with its
// sequence number at this node, as a RESP integer.
type fakeExec struct {
	mu    sync.Mutex
	seen  []string // args joined by spaces
	proto []int
}

func (x *fakeExec) Execute(ctx context.Context, proto int, args [][]byte, dst []byte) []byte {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = string(a)
	}
	x.mu.Lock()
	n := len(x.seen)
	x.seen = append(x.seen, strings.Join(parts, " "))
	x.proto = append(x.proto, proto)
	x.mu.Unlock()
	return fmt.Appendf(dst, ":%d\r\n", n)
}

func (x *fakeExec) commands() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]string(nil), x.seen...)
}

// okExec answers +OK to everything, without allocating.
type okExec struct{}

func (okExec) Execute(ctx context.Context, proto int, args [][]byte, dst []byte) []byte {
	return append(dst, "+OK\r\n"...)
}

// testNode is one node of an in-process cluster.
type testNode struct {
	pool      *HTTPPool
	group     *Group
	main, hot *Store
	exec      *fakeExec
	ts        *httptest.Server
}

func (n *testNode) url() string { return n.pool.Self() }

// clusterOpts tunes newCluster.
type clusterOpts struct {
	getter   Getter
	secret   []string // per node; nil = none
	timeout  time.Duration
	hotEvery int
	hotTTL   time.Duration
	clock    *atomic.Int64 // nil = the system clock
	exec     Executor      // nil = the node's fakeExec
	client   *http.Client  // nil = the pool's links
	settle   time.Duration // PoolConfig.TransitionTimeout; 0 = the default
}

// transport is a way a pool sends requests.
type transport struct {
	name   string
	client func() *http.Client
}

// transports are the pool's own links and an http.Client given in
// PoolConfig.
func transports() []transport {
	return []transport{
		{"link", func() *http.Client { return nil }},
		{"net/http", func() *http.Client { return &http.Client{Transport: &http.Transport{}} }},
	}
}

// newCluster starts n nodes on 127.0.0.1:0, each knowing all the others.
func newCluster(tb testing.TB, n int, o clusterOpts) []*testNode {
	tb.Helper()
	nodes := make([]*testNode, n)
	ids := make([]string, n)
	for i := range nodes {
		nodes[i] = newNode(tb, i, o)
		ids[i] = nodes[i].url()
	}
	for _, nd := range nodes {
		nd.pool.Set(ids...)
	}
	return nodes
}

// stop takes the node off the network: its server and the peer links it
// serves.
func (nd *testNode) stop() {
	nd.pool.mu.Lock()
	nd.pool.closeLinks()
	nd.pool.mu.Unlock()
	nd.ts.Close()
}

func newNode(tb testing.TB, i int, o clusterOpts) *testNode {
	tb.Helper()
	nd := &testNode{exec: &fakeExec{}}
	nd.ts = httptest.NewUnstartedServer(nil)
	var err error
	cfg := PoolConfig{
		Self: "http://" + nd.ts.Listener.Addr().String(), Timeout: o.timeout, Client: o.client,
		TransitionTimeout: o.settle,
	}
	if o.secret != nil {
		cfg.Secret = o.secret[i]
	}
	if nd.pool, err = NewHTTPPool(cfg); err != nil {
		tb.Fatal(err)
	}
	nd.ts.Config.Handler = nd.pool
	nd.ts.Start()
	tb.Cleanup(func() {
		nd.pool.Close()
		nd.ts.Close()
	})
	if nd.main, err = NewStore(StoreConfig{Shards: 16}); err != nil {
		tb.Fatal(err)
	}
	if nd.hot, err = NewStore(StoreConfig{Shards: 16}); err != nil {
		tb.Fatal(err)
	}
	gcfg := GroupConfig{
		Getter: o.getter, Main: nd.main, Hot: nd.hot, Peers: nd.pool,
		HotEvery: o.hotEvery, HotTTL: o.hotTTL,
	}
	if o.clock != nil {
		gcfg.Clock = o.clock.Load
	}
	if nd.group, err = NewGroup(gcfg); err != nil {
		tb.Fatal(err)
	}
	var x Executor = nd.exec
	if o.exec != nil {
		x = o.exec
	}
	nd.pool.Register(nd.group, x)
	return nd
}

// keyOf returns a key that nodes[owner] owns.
func keyOf(tb testing.TB, nodes []*testNode, owner int, prefix string) []byte {
	tb.Helper()
	for i := range 10000 {
		key := []byte(prefix + strconv.Itoa(i))
		if nodes[owner].pool.Owner(key) == nil {
			return key
		}
	}
	tb.Fatalf("no key owned by node %d", owner)
	return nil
}

// peerOf returns the Peer for nodes[to] as seen from from.
func peerOf(tb testing.TB, from, to *testNode) *Peer {
	tb.Helper()
	for _, p := range from.pool.Peers() {
		if p.ID() == to.url() {
			return p
		}
	}
	tb.Fatalf("%s has no peer %s", from.url(), to.url())
	return nil
}

// put stores key directly in a node's main cache.
func put(s *Store, key, value string, expireAt int64) {
	sh := s.Lock([]byte(key))
	defer sh.Unlock()
	sh.Set([]byte(key), []byte(value), expireAt)
}

// barrier returns once every frame queued from from to to before it has
// been answered: the peer serves one round trip at a time, in order.
func barrier(tb testing.TB, from, to *testNode) {
	tb.Helper()
	c := peerOf(tb, from, to).Exec(DefaultGroup, 2, [][]byte{[]byte("PING")})
	if _, err := c.Wait(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	c.Release()
}
