package integration

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/geeredis/geeredis/cluster"
	"github.com/geeredis/geeredis/server"
)

// clusterNode is one node of an in-process cluster: a RESP server and the
// peer protocol on its own HTTP listener.
type clusterNode struct {
	srv  *server.Server
	pool *cluster.HTTPPool
	addr string // RESP
	url  string // peer base URL, the node's id
	rdb  *redis.Client
	hung atomic.Bool   // the peer endpoint stops answering
	gone chan struct{} // closed when a hung request should give up
	stop func()        // stops the node's listeners; idempotent
}

// clusterOptions shape a test cluster.
type clusterOptions struct {
	getter  cluster.Getter
	timeout time.Duration // peer timeout; 0 = 2 s
	proto   int           // of the go-redis clients; 0 = 3
	hot     int           // HotEvery: 1 keeps a hot copy at every fetch; 0 = the default
}

// startCluster starts n nodes in this process on 127.0.0.1:0 listeners,
// each knowing all the others, with a go-redis client per node. All stop
// when the test ends.
func startCluster(tb testing.TB, n int, opt clusterOptions) []*clusterNode {
	tb.Helper()
	nodes := make([]*clusterNode, n)
	urls := make([]string, n)
	for i := range nodes {
		nodes[i] = startClusterNode(tb, opt)
		urls[i] = nodes[i].url
	}
	for _, nd := range nodes {
		nd.pool.Set(urls...)
	}
	return nodes
}

func startClusterNode(tb testing.TB, opt clusterOptions) *clusterNode {
	tb.Helper()
	hln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	nd := &clusterNode{url: "http://" + hln.Addr().String(), gone: make(chan struct{})}
	pool, err := cluster.NewHTTPPool(cluster.PoolConfig{Self: nd.url, Timeout: opt.timeout})
	if err != nil {
		tb.Fatalf("NewHTTPPool: %v", err)
	}
	nd.pool = pool
	cfg := server.DefaultConfig()
	cfg.Getter = opt.getter
	cfg.Cluster = &server.ClusterConfig{Pool: pool, HotEvery: opt.hot}
	srv, err := server.New(cfg)
	if err != nil {
		tb.Fatalf("server.New: %v", err)
	}
	nd.srv = srv
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if nd.hung.Load() {
			select { // answer nothing until the caller gives up or the test ends
			case <-r.Context().Done():
			case <-nd.gone:
			}
			return
		}
		pool.ServeHTTP(w, r)
	})}
	go hs.Serve(hln)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	nd.addr = ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	var once sync.Once
	nd.stop = func() {
		once.Do(func() {
			close(nd.gone)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				tb.Errorf("Shutdown: %v", err)
			}
			if err := <-served; !errors.Is(err, server.ErrServerClosed) {
				tb.Errorf("Serve returned %v, want ErrServerClosed", err)
			}
			hs.Close()
			pool.Close()
		})
	}
	tb.Cleanup(nd.stop)
	proto := opt.proto
	if proto == 0 {
		proto = 3
	}
	nd.rdb = newGoRedis(tb, nd.addr, proto, "")
	return nd
}

// owner returns the index of the node that owns key.
func owner(tb testing.TB, nodes []*clusterNode, key string) int {
	tb.Helper()
	for i, nd := range nodes {
		if nd.pool.Owner([]byte(key)) == nil {
			return i
		}
	}
	tb.Fatalf("no node owns %q", key)
	return -1
}

// keysOwnedBy returns n keys "prefix:i" owned by node i, for each node.
func keysOwnedBy(tb testing.TB, nodes []*clusterNode, prefix string, n int) [][]string {
	tb.Helper()
	out := make([][]string, len(nodes))
	for i := 0; ; i++ {
		key := prefix + ":" + strconv.Itoa(i)
		o := owner(tb, nodes, key)
		if len(out[o]) < n {
			out[o] = append(out[o], key)
		}
		done := true
		for _, ks := range out {
			done = done && len(ks) == n
		}
		if done {
			return out
		}
		if i > 100000 {
			tb.Fatalf("keys are not spread over the nodes")
		}
	}
}

func TestClusterSetGetAcrossNodes(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			nodes := startCluster(t, 3, clusterOptions{proto: proto})
			ctx := testContext(t)
			owned := keysOwnedBy(t, nodes, "k", 3)
			for o, keys := range owned {
				for _, key := range keys {
					must(t, nodes[0].rdb.Set(ctx, key, "v-"+key, 0).Err())
					// The value lives at its owner only.
					for i, nd := range nodes {
						if has := nodeHas(nd, key); has != (i == o) {
							t.Errorf("%s in the store of node %d: %v; owner is %d", key, i, has, o)
						}
					}
				}
			}
			for _, keys := range owned {
				for _, key := range keys {
					for i, nd := range nodes {
						got, err := nd.rdb.Get(ctx, key).Result()
						if err != nil || got != "v-"+key {
							t.Errorf("GET %s at node %d = %q, %v", key, i, got, err)
						}
					}
				}
			}
			if _, err := nodes[1].rdb.Get(ctx, "missing").Result(); !errors.Is(err, redis.Nil) {
				t.Errorf("GET missing = %v, want redis.Nil", err)
			}
		})
	}
}

// nodeHas reports whether key is in nd's own store.
func nodeHas(nd *clusterNode, key string) bool {
	sh := nd.srv.Store().Lock([]byte(key))
	defer sh.Unlock()
	_, ok := sh.Peek([]byte(key), time.Now().UnixMilli())
	return ok
}

func TestClusterSetEXSeenAsTTL(t *testing.T) {
	nodes := startCluster(t, 3, clusterOptions{})
	ctx := testContext(t)
	owned := keysOwnedBy(t, nodes, "ttl", 1)
	key := owned[2][0]
	must(t, nodes[0].rdb.Set(ctx, key, "v", 100*time.Second).Err())
	ttl, err := nodes[1].rdb.TTL(ctx, key).Result()
	if err != nil || ttl < 99*time.Second || ttl > 100*time.Second {
		t.Errorf("TTL at another node = %v, %v; want about 100s", ttl, err)
	}
	pttl, err := nodes[2].rdb.PTTL(ctx, key).Result()
	if err != nil || pttl <= 99*time.Second || pttl > 100*time.Second {
		t.Errorf("PTTL at the owner = %v, %v", pttl, err)
	}
	// EXPIRE and PERSIST through a non-owner.
	if ok, err := nodes[1].rdb.Persist(ctx, key).Result(); !ok || err != nil {
		t.Errorf("PERSIST = %v, %v", ok, err)
	}
	if ttl, _ := nodes[0].rdb.TTL(ctx, key).Result(); ttl != -1 {
		t.Errorf("TTL after PERSIST = %v, want -1", ttl)
	}
}

func TestClusterSetNXOneWinner(t *testing.T) {
	nodes := startCluster(t, 3, clusterOptions{})
	ctx := testContext(t)
	for round := range 5 {
		key := "lock:" + strconv.Itoa(round)
		var wins atomic.Int32
		var winner atomic.Value
		var wg sync.WaitGroup
		for i := range 30 {
			nd := nodes[i%len(nodes)]
			wg.Go(func() {
				val := "client-" + strconv.Itoa(i)
				ok, err := nd.rdb.SetNX(ctx, key, val, 0).Result()
				if err != nil {
					t.Errorf("SET NX: %v", err)
					return
				}
				if ok {
					wins.Add(1)
					winner.Store(val)
				}
			})
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("%s: %d winners of SET NX, want 1", key, n)
		}
		for i, nd := range nodes {
			if got, err := nd.rdb.Get(ctx, key).Result(); err != nil || got != winner.Load() {
				t.Errorf("GET %s at node %d = %q, %v; winner %q", key, i, got, err, winner.Load())
			}
		}
	}
}

func TestClusterIncrExact(t *testing.T) {
	nodes := startCluster(t, 3, clusterOptions{})
	ctx := testContext(t)
	const workers, each = 12, 100 // 1,200 INCRs
	keys := []string{"counter:a", "counter:b", "counter:c"}
	var wg sync.WaitGroup
	for w := range workers {
		nd := nodes[w%len(nodes)]
		wg.Go(func() {
			for i := range each {
				if err := nd.rdb.Incr(ctx, keys[(w+i)%len(keys)]).Err(); err != nil {
					t.Errorf("INCR: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	var total int64
	for _, key := range keys {
		n, err := nodes[1].rdb.Get(ctx, key).Int64()
		must(t, err)
		total += n
	}
	if total != workers*each {
		t.Errorf("the counters add up to %d, want %d", total, workers*each)
	}
}

func TestClusterMultiKey(t *testing.T) {
	nodes := startCluster(t, 3, clusterOptions{})
	ctx := testContext(t)
	owned := keysOwnedBy(t, nodes, "m", 4)
	var keys []string // interleaved owners, the client's order
	for i := range 4 {
		for o := range owned {
			keys = append(keys, owned[o][i])
		}
	}
	var pairs []any
	for _, k := range keys {
		pairs = append(pairs, k, "v-"+k)
	}
	must(t, nodes[0].rdb.MSet(ctx, pairs...).Err())
	for _, nd := range nodes {
		if n := nd.srv.Store().Len(); n != 4 {
			t.Errorf("a node holds %d keys, want 4 (its own)", n)
		}
	}
	query := append(slices.Clone(keys[:5]), "nosuch", keys[5])
	vals, err := nodes[1].rdb.MGet(ctx, query...).Result()
	must(t, err)
	for i, k := range query {
		switch {
		case k == "nosuch" && vals[i] != nil:
			t.Errorf("MGET[%d] (%s) = %v, want nil", i, k, vals[i])
		case k != "nosuch" && vals[i] != "v-"+k:
			t.Errorf("MGET[%d] (%s) = %v, want v-%s", i, k, vals[i], k)
		}
	}
	if n, err := nodes[2].rdb.Exists(ctx, keys[0], keys[1], keys[1], "nosuch", keys[2]).Result(); n != 4 || err != nil {
		t.Errorf("EXISTS = %d, %v; want 4", n, err)
	}
	if n, err := nodes[2].rdb.Touch(ctx, keys[3], keys[4], "nosuch").Result(); n != 2 || err != nil {
		t.Errorf("TOUCH = %d, %v; want 2", n, err)
	}
	if n, err := nodes[2].rdb.Del(ctx, keys[0], keys[1], keys[2], "nosuch").Result(); n != 3 || err != nil {
		t.Errorf("DEL = %d, %v; want 3", n, err)
	}
	if n, err := nodes[0].rdb.Unlink(ctx, keys[3], keys[4]).Result(); n != 2 || err != nil {
		t.Errorf("UNLINK = %d, %v; want 2", n, err)
	}
	if n, _ := nodes[1].rdb.Exists(ctx, keys[:5]...).Result(); n != 0 {
		t.Errorf("EXISTS after DEL = %d, want 0", n)
	}

	// MSETNX across owners: all or nothing.
	fresh := []string{owned[0][0] + "x", owned[1][0] + "x", owned[2][0] + "x"}
	if ok, err := nodes[1].rdb.MSetNX(ctx, fresh[0], "1", fresh[1], "1", fresh[2], "1").Result(); !ok || err != nil {
		t.Fatalf("MSETNX of new keys = %v, %v", ok, err)
	}
	more := keysOwnedBy(t, nodes, "nx", 2)
	args := []any{more[0][0], "a", more[1][0], "b", more[2][0], "c", more[0][1], "d", fresh[2], "taken"}
	if ok, err := nodes[0].rdb.MSetNX(ctx, args...).Result(); ok || err != nil {
		t.Fatalf("MSETNX with one key taken = %v, %v; want false", ok, err)
	}
	for _, k := range []string{more[0][0], more[1][0], more[2][0], more[0][1]} {
		if n, _ := nodes[2].rdb.Exists(ctx, k).Result(); n != 0 {
			t.Errorf("%s set by a refused MSETNX", k)
		}
	}
	if got, _ := nodes[2].rdb.Get(ctx, fresh[2]).Result(); got != "1" {
		t.Errorf("refused MSETNX changed %s to %q", fresh[2], got)
	}

	// RENAME and COPY: the same owner works, across owners is an error.
	a, b := owned[1][0]+"r", ""
	for i := 0; b == ""; i++ {
		if k := "same:" + strconv.Itoa(i); owner(t, nodes, k) == owner(t, nodes, a) {
			b = k
		}
	}
	must(t, nodes[0].rdb.Set(ctx, a, "moved", 0).Err())
	must(t, nodes[2].rdb.Rename(ctx, a, b).Err())
	if got, _ := nodes[0].rdb.Get(ctx, b).Result(); got != "moved" {
		t.Errorf("after RENAME at one owner, GET = %q", got)
	}
	other := owned[(owner(t, nodes, b)+1)%len(nodes)][0]
	err = nodes[0].rdb.Rename(ctx, b, other).Err()
	if err == nil || !strings.Contains(err.Error(), "different owners") {
		t.Errorf("RENAME across owners = %v, want an error", err)
	}
	err = nodes[0].rdb.Copy(ctx, b, other, 0, false).Err()
	if err == nil || !strings.Contains(err.Error(), "different owners") {
		t.Errorf("COPY across owners = %v, want an error", err)
	}
}

func TestClusterGetterCalledOnce(t *testing.T) {
	var calls atomic.Int32
	entered := make(chan struct{})
	gate := make(chan struct{})
	getter := cluster.GetterFunc(func(ctx context.Context, key string) (cluster.Value, error) {
		if calls.Add(1) == 1 {
			close(entered)
		}
		select {
		case <-gate:
		case <-ctx.Done():
			return cluster.Value{}, ctx.Err()
		}
		if key == "absent" {
			return cluster.Value{}, cluster.ErrNotFound
		}
		return cluster.Value{Bytes: []byte("origin:" + key)}, nil
	})
	nodes := startCluster(t, 3, clusterOptions{getter: getter})
	ctx := testContext(t)
	const clients = 100
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for i := range clients {
		nd := nodes[i%len(nodes)]
		wg.Go(func() {
			got, err := nd.rdb.Get(ctx, "lazy").Result()
			if err == nil && got != "origin:lazy" {
				err = fmt.Errorf("GET = %q", got)
			}
			errs <- err
		})
	}
	select {
	case <-entered:
	case <-ctx.Done():
		t.Fatal("the getter was never called")
	}
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("the getter was called %d times for %d concurrent GETs, want 1", n, clients)
	}
	// Not found is a nil reply; MGET reads through too.
	if _, err := nodes[0].rdb.Get(ctx, "absent").Result(); !errors.Is(err, redis.Nil) {
		t.Errorf("GET of a key the origin lacks = %v, want nil", err)
	}
	vals, err := nodes[1].rdb.MGet(ctx, "lazy", "absent", "other").Result()
	if err != nil || vals[0] != "origin:lazy" || vals[1] != nil || vals[2] != "origin:other" {
		t.Errorf("MGET = %v, %v", vals, err)
	}
}

// TestClusterPipelineCoalesced sends 300 commands in one pipeline to one
// node: the commands for each other node travel in shared round trips, and
// the replies come back in the client's order.
func TestClusterPipelineCoalesced(t *testing.T) {
	nodes := startCluster(t, 3, clusterOptions{})
	ctx := testContext(t)
	entry := nodes[0]

	// go-redis writes a pipeline in 4 KiB pieces, which the node may read
	// apart: check the replies.
	pipe := entry.rdb.Pipeline()
	var gets []*redis.StringCmd
	for i := range 100 {
		key := "gp:" + strconv.Itoa(i)
		pipe.Set(ctx, key, i, 0)
		pipe.Incr(ctx, key)
		gets = append(gets, pipe.Get(ctx, key))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	for i, g := range gets {
		if g.Val() != strconv.Itoa(i+1) {
			t.Fatalf("GET gp:%d in the pipeline = %q, want %d", i, g.Val(), i+1)
		}
	}

	// One write of 300 commands: count the round trips.
	var req []byte
	remote := 0
	for i := range 100 {
		key := "p:" + strconv.Itoa(i)
		req = append(req, encodeCommand([]string{"SET", key, strconv.Itoa(i)})...)
		req = append(req, encodeCommand([]string{"INCR", key})...)
		req = append(req, encodeCommand([]string{"GET", key})...)
		if owner(t, nodes, key) != 0 {
			remote += 3
		}
	}
	start := entry.pool.Stats()
	c := dialRaw(t, entry.addr)
	if err := c.send(req); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		r, err := c.read()
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		want := []string{"+OK\r\n", fmt.Sprintf(":%d\r\n", i/3+1), fmt.Sprintf("$%d\r\n%d\r\n", len(strconv.Itoa(i/3+1)), i/3+1)}[i%3]
		if string(r.raw) != want {
			t.Fatalf("reply %d = %q, want %q", i, r.raw, want)
		}
	}
	st := entry.pool.Stats()
	reqs, execs := st.Requests-start.Requests, st.Commands-start.Commands
	t.Logf("300 pipelined commands: %d forwarded in %d peer requests", execs, reqs)
	if int(execs) != remote {
		t.Errorf("%d commands forwarded, want %d", execs, remote)
	}
	// The node queues each owner's commands in one step (Peer.ExecN): one
	// round trip per owner.
	if reqs > 2 {
		t.Errorf("%d peer requests for one pipeline over 2 other owners, want at most 1 each", reqs)
	}
}

func TestClusterOwnerDown(t *testing.T) {
	getter := cluster.GetterFunc(func(ctx context.Context, key string) (cluster.Value, error) {
		return cluster.Value{Bytes: []byte("origin:" + key)}, nil
	})
	const timeout = 300 * time.Millisecond
	nodes := startCluster(t, 3, clusterOptions{getter: getter, timeout: timeout})
	ctx := testContext(t)
	owned := keysOwnedBy(t, nodes, "down", 3)
	for _, mode := range []string{"hung", "stopped"} {
		t.Run(mode, func(t *testing.T) {
			key := owned[2][0]
			if mode == "hung" {
				nodes[2].hung.Store(true)
				t.Cleanup(func() { nodes[2].hung.Store(false) })
			} else {
				nodes[2].stop()
			}
			begin := time.Now()
			err := nodes[0].rdb.Set(ctx, key, "v", 0).Err()
			if err == nil || !strings.Contains(err.Error(), "unreachable") {
				t.Errorf("SET with the owner %s = %v, want an unreachable error", mode, err)
			}
			if d := time.Since(begin); d > 3*timeout {
				t.Errorf("SET with the owner %s took %v, peer timeout %v", mode, d, timeout)
			}
			if nodeHas(nodes[0], key) {
				t.Errorf("the refused write was stored locally")
			}
			// A read falls back to the getter, alone or in a pipeline.
			begin = time.Now()
			if got, err := nodes[1].rdb.Get(ctx, owned[2][1]).Result(); err != nil || got != "origin:"+owned[2][1] {
				t.Errorf("GET with the owner %s = %q, %v; want the getter's value", mode, got, err)
			}
			pipe := nodes[0].rdb.Pipeline()
			g := pipe.Get(ctx, owned[2][2])
			s := pipe.Set(ctx, owned[2][2], "x", 0)
			l := pipe.Get(ctx, owned[0][0])
			_, _ = pipe.Exec(ctx)
			if g.Val() != "origin:"+owned[2][2] || s.Err() == nil || l.Err() != nil && !errors.Is(l.Err(), redis.Nil) {
				t.Errorf("pipeline with the owner %s: GET %q %v, SET %v, local GET %v", mode, g.Val(), g.Err(), s.Err(), l.Err())
			}
			if d := time.Since(begin); d > 6*timeout {
				t.Errorf("reads with the owner %s took %v, peer timeout %v", mode, d, timeout)
			}
			// What a fallback loaded is a hot copy, not the node's own: were
			// the node to come to own the key, it would not serve it stale.
			if nodeHas(nodes[1], owned[2][1]) || nodeHas(nodes[0], owned[2][2]) {
				t.Errorf("a fallback's value was kept in the main store of a node that does not own the key")
			}
			// Keys of the live nodes still work.
			must(t, nodes[1].rdb.Set(ctx, owned[0][1], "ok", 0).Err())
			if got, _ := nodes[0].rdb.Get(ctx, owned[0][1]).Result(); got != "ok" {
				t.Errorf("GET of a live node's key = %q", got)
			}
		})
	}
	info, err := nodes[0].rdb.Info(ctx, "cluster").Result()
	must(t, err)
	if !strings.Contains(info, "cluster_enabled:0") || !strings.Contains(info, "cluster_members:3") ||
		strings.Contains(info, "cluster_fallbacks:0\r") || strings.Contains(info, "cluster_peer_errors:0\r") {
		t.Errorf("INFO cluster after fallbacks:\n%s", info)
	}
}

func TestClusterKeyspace(t *testing.T) {
	nodes := startCluster(t, 3, clusterOptions{})
	ctx := testContext(t)
	var pairs []any
	want := map[string]bool{}
	for i := range 50 {
		k := "ks:" + strconv.Itoa(i)
		pairs = append(pairs, k, i)
		want[k] = true
	}
	must(t, nodes[0].rdb.MSet(ctx, pairs...).Err())
	for i, nd := range nodes {
		if n, err := nd.rdb.DBSize(ctx).Result(); n != 50 || err != nil {
			t.Errorf("DBSIZE at node %d = %d, %v; want 50", i, n, err)
		}
	}
	keys, err := nodes[1].rdb.Keys(ctx, "ks:*").Result()
	must(t, err)
	slices.Sort(keys)
	if len(keys) != 50 || len(slices.Compact(keys)) != 50 {
		t.Errorf("KEYS found %d keys, want 50", len(keys))
	}
	seen := map[string]bool{}
	var cursor uint64
	for steps := 0; ; steps++ {
		var page []string
		page, cursor, err = nodes[2].rdb.Scan(ctx, cursor, "ks:*", 7).Result()
		must(t, err)
		for _, k := range page {
			seen[k] = true
		}
		if cursor == 0 {
			break
		}
		if steps > 1000 {
			t.Fatal("SCAN does not end")
		}
	}
	if len(seen) != 50 {
		t.Errorf("SCAN saw %d keys, want 50", len(seen))
	}
	if k, err := nodes[0].rdb.RandomKey(ctx).Result(); err != nil || !want[k] {
		t.Errorf("RANDOMKEY = %q, %v", k, err)
	}
	if err := nodes[1].rdb.Do(ctx, "SCAN", "0", "COUNT", "x").Err(); err == nil {
		t.Errorf("SCAN with a bad COUNT succeeded")
	}
	must(t, nodes[1].rdb.FlushAll(ctx).Err())
	for i, nd := range nodes {
		if n := nd.srv.Store().Len(); n != 0 {
			t.Errorf("node %d holds %d keys after FLUSHALL", i, n)
		}
	}
	if k, err := nodes[0].rdb.RandomKey(ctx).Result(); !errors.Is(err, redis.Nil) {
		t.Errorf("RANDOMKEY of an empty cluster = %q, %v", k, err)
	}
	// INFO keyspace stays the node's own.
	must(t, nodes[0].rdb.Set(ctx, "ks:0", "x", 0).Err())
	o := owner(t, nodes, "ks:0")
	for i, nd := range nodes {
		info, _ := nd.rdb.Info(ctx, "keyspace").Result()
		if has := strings.Contains(info, "db0:keys=1"); has != (i == o) {
			t.Errorf("INFO keyspace at node %d (owner %d):\n%s", i, o, info)
		}
	}
}

func TestClusterExecuteRefusesConnectionState(t *testing.T) {
	nodes := startCluster(t, 2, clusterOptions{})
	srv := nodes[0].srv
	ctx := testContext(t)
	for _, args := range [][]string{{"HELLO", "3"}, {"AUTH", "x"}, {"SELECT", "0"}, {"CLIENT", "SETNAME", "x"}, {"QUIT"}, {"RESET"}} {
		reply := string(srv.Execute(ctx, 2, bytesArgs(args...), nil))
		if !strings.HasPrefix(reply, "-ERR "+args[0]) || !strings.Contains(reply, "peer") {
			t.Errorf("Execute %q = %q, want a refusal", args, reply)
		}
	}
	if got := string(srv.Execute(ctx, 3, bytesArgs("SET", "x", "1"), []byte("prefix"))); got != "prefix+OK\r\n" {
		t.Errorf("Execute SET = %q", got)
	}
	if got := string(srv.Execute(ctx, 3, bytesArgs("GET", "nosuch"), nil)); got != "_\r\n" {
		t.Errorf("Execute GET nosuch in RESP3 = %q", got)
	}
	if got := string(srv.Execute(ctx, 2, bytesArgs("GET"), nil)); !strings.HasPrefix(got, "-ERR wrong number") {
		t.Errorf("Execute GET without a key = %q", got)
	}
}

func bytesArgs(args ...string) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = []byte(a)
	}
	return out
}

// TestClusterHotCache: a node keeps copies of keys it reads from their
// owners; a write through any node drops them, at once at the writing node
// and when the owner's invalidation arrives elsewhere.
func TestClusterHotCache(t *testing.T) {
	nodes := startCluster(t, 3, clusterOptions{hot: 1})
	ctx := testContext(t)
	owned := keysOwnedBy(t, nodes, "hot", 1)
	key := owned[2][0]
	a, b := nodes[0], nodes[1]
	must(t, nodes[2].rdb.Set(ctx, key, "v1", 0).Err())
	hotHits := func(nd *clusterNode) int64 {
		info, err := nd.rdb.Info(ctx, "cluster").Result()
		must(t, err)
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "cluster_hot_hits:"); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				return n
			}
		}
		t.Fatalf("no cluster_hot_hits in INFO:\n%s", info)
		return 0
	}
	for _, nd := range []*clusterNode{a, b} {
		if got, _ := nd.rdb.Get(ctx, key).Result(); got != "v1" { // fetched, copy kept
			t.Fatalf("GET = %q", got)
		}
		before := hotHits(nd)
		if got, _ := nd.rdb.Get(ctx, key).Result(); got != "v1" {
			t.Fatalf("GET = %q", got)
		}
		if hotHits(nd) != before+1 {
			t.Errorf("the second GET did not come from the hot cache")
		}
	}
	// The writing node reads its write at once, alone or in a pipeline.
	must(t, a.rdb.Set(ctx, key, "v2", 0).Err())
	if got, _ := a.rdb.Get(ctx, key).Result(); got != "v2" {
		t.Errorf("GET after SET at the same node = %q, want v2", got)
	}
	pipe := a.rdb.Pipeline()
	pipe.Set(ctx, key, "v3", 0)
	g := pipe.Get(ctx, key)
	_, err := pipe.Exec(ctx)
	if err != nil || g.Val() != "v3" {
		t.Errorf("GET after SET in one pipeline = %q, %v; want v3", g.Val(), err)
	}
	// Another node's copy goes when the owner's invalidation arrives.
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, _ := b.rdb.Get(ctx, key).Result()
		if got == "v3" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node B still reads %q 5s after the write", got)
		}
		runtime.Gosched()
	}
}
