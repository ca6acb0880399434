package server

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/geeredis/geeredis/cluster"
)

// newTestCluster starts n Servers in this process, each with a pool served
// by an httptest server on 127.0.0.1:0, all members of one ring.
func newTestCluster(tb testing.TB, n int, getter cluster.Getter) []*Server {
	tb.Helper()
	servers := make([]*Server, n)
	pools := make([]*cluster.HTTPPool, n)
	urls := make([]string, n)
	for i := range n {
		hs := httptest.NewUnstartedServer(nil)
		urls[i] = "http://" + hs.Listener.Addr().String()
		pool, err := cluster.NewHTTPPool(cluster.PoolConfig{Self: urls[i], Timeout: 2 * time.Second})
		if err != nil {
			tb.Fatalf("NewHTTPPool: %v", err)
		}
		pools[i] = pool
		servers[i] = newTestServer(tb, func(cfg *Config) {
			cfg.Getter = getter
			cfg.Cluster = &ClusterConfig{Pool: pool}
		})
		hs.Config.Handler = pool
		hs.Start()
		tb.Cleanup(func() { pool.Close() })
		tb.Cleanup(hs.Close)
	}
	for _, p := range pools {
		p.Set(urls...)
	}
	return servers
}

// ownedKey returns a key with the prefix that servers[i] owns.
func ownedKey(tb testing.TB, servers []*Server, i int, prefix string) string {
	tb.Helper()
	for n := range 10000 {
		key := prefix + strconv.Itoa(n)
		if servers[i].pool.Owner([]byte(key)) == nil {
			return key
		}
	}
	tb.Fatalf("no key %s* owned by node %d", prefix, i)
	return ""
}

// execLines runs command lines on c one after the other, as a pipeline
// read at once, and returns the output once the forwards have answered.
func execLines(tb testing.TB, c *client, lines ...string) string {
	tb.Helper()
	c.w.Reset()
	c.w.SetProto(c.proto)
	for _, l := range lines {
		c.exec(splitArgs(l))
	}
	c.settle()
	return string(c.w.Bytes())
}

func TestRouteSplicesRepliesInOrder(t *testing.T) {
	servers := newTestCluster(t, 2, nil)
	a := newTestClient(t, servers[0])
	ka, kb := ownedKey(t, servers, 0, "a"), ownedKey(t, servers, 1, "b")
	got := execLines(t, a,
		"SET "+kb+" 1",              // forwarded
		"SET "+ka+" x",              // here, at once
		"INCR "+kb,                  // forwarded
		"GET "+ka,                   // here
		"GET "+kb,                   // forwarded (others are queued)
		"PING",                      // a barrier: runs after the forwards
		"MGET "+ka+" "+kb+" nosuch", // split by owner
		"SET "+kb+" 5 GET",          // the owner runs every option
		"DEL "+ka+" "+kb+" "+kb+" zzz", // summed over owners
	)
	want := "+OK\r\n+OK\r\n:2\r\n$1\r\nx\r\n$1\r\n2\r\n+PONG\r\n" +
		"*3\r\n$1\r\nx\r\n$1\r\n2\r\n$-1\r\n" + "$1\r\n2\r\n" + ":2\r\n"
	if got != want {
		t.Errorf("pipeline output\n got %q\nwant %q", got, want)
	}
	if n := servers[0].store.Len() + servers[1].store.Len(); n != 0 {
		t.Errorf("%d keys left after DEL", n)
	}
	// RESP3: the owner encodes in the client's protocol.
	a.setProto(3)
	if got := execLines(t, a, "GET "+kb, "GET "+kb); got != "_\r\n_\r\n" {
		t.Errorf("RESP3 nil from the owner = %q", got)
	}
}

func TestRoutePanicKeepsForwardedReplies(t *testing.T) {
	servers := newTestCluster(t, 2, nil)
	s := servers[0]
	boom := func(c *client, args [][]byte) {
		c.w.Simple("partial reply that must not reach the client")
		panic("handler bug")
	}
	for _, cmd := range []*command{
		{name: "boomkey", arity: 2, keys: oneKey("RW"), run: boom}, // routed by its key
		{name: "boom", arity: 1, run: boom},                        // a barrier
	} {
		if err := s.table.add(cmd); err != nil {
			t.Fatal(err)
		}
		classifyOne(cmd)
	}
	c := newTestClient(t, s)
	ka, kb := ownedKey(t, servers, 0, "a"), ownedKey(t, servers, 1, "b")
	got := execLines(t, c, "SET "+kb+" 1", "BOOMKEY "+ka, "SET "+kb+" 2", "BOOM", "GET "+kb)
	want := "+OK\r\n-ERR internal error while executing 'BOOMKEY'\r\n+OK\r\n-ERR internal error while executing 'BOOM'\r\n$1\r\n2\r\n"
	if got != want {
		t.Errorf("output\n got %q\nwant %q", got, want)
	}
}

func TestRouteRefusesAcrossOwners(t *testing.T) {
	servers := newTestCluster(t, 2, nil)
	c := newTestClient(t, servers[0])
	ka, kb := ownedKey(t, servers, 0, "a"), ownedKey(t, servers, 1, "b")
	for _, line := range []string{"RENAME " + ka + " " + kb, "RENAMENX " + kb + " " + ka, "COPY " + ka + " " + kb} {
		name := strings.Fields(line)[0]
		want := "-" + msgCrossOwner(strings.ToLower(name)) + "\r\n"
		if got := execLines(t, c, line); got != want {
			t.Errorf("%s = %q, want %q", line, got, want)
		}
	}
	if got := execLines(t, c, "MSET "+ka+" 1 "+kb); got != "-ERR wrong number of arguments for 'mset' command\r\n" {
		t.Errorf("MSET with a key and no value = %q", got)
	}
}

func TestExecuteRunsLocally(t *testing.T) {
	servers := newTestCluster(t, 2, nil)
	kb := ownedKey(t, servers, 1, "b")
	ctx := context.Background()
	// Node 0 does not own kb, but a peer's command is never routed again.
	if got := string(servers[0].Execute(ctx, 2, splitArgs("SET "+kb+" here"), nil)); got != "+OK\r\n" {
		t.Fatalf("Execute SET = %q", got)
	}
	if !bytes.Equal(peekValue(servers[0], kb), []byte("here")) || peekValue(servers[1], kb) != nil {
		t.Errorf("Execute did not write locally")
	}
	for _, line := range []string{"HELLO 3", "AUTH pw", "SELECT 0", "QUIT", "RESET", "CLIENT SETNAME x", "CLIENT NO-TOUCH on"} {
		got := string(servers[0].Execute(ctx, 3, splitArgs(line), nil))
		if !strings.HasPrefix(got, "-ERR ") || !strings.Contains(got, "not allowed from a peer") {
			t.Errorf("Execute %q = %q, want a refusal", line, got)
		}
	}
	if got := string(servers[0].Execute(ctx, 3, splitArgs("CLIENT ID"), nil)); !strings.HasPrefix(got, ":") {
		t.Errorf("Execute CLIENT ID = %q", got)
	}
	if got := string(servers[0].Execute(ctx, 2, nil, []byte("x"))); got != "x-ERR empty command\r\n" {
		t.Errorf("Execute of nothing = %q", got)
	}
}

func peekValue(s *Server, key string) []byte {
	sh := s.store.Lock([]byte(key))
	defer sh.Unlock()
	it, ok := sh.Peek([]byte(key), time.Now().UnixMilli())
	if !ok {
		return nil
	}
	return bytes.Clone(it.Value)
}

func TestReadThroughOnOneNode(t *testing.T) {
	var calls atomic.Int32
	getter := cluster.GetterFunc(func(ctx context.Context, key string) (cluster.Value, error) {
		calls.Add(1)
		switch key {
		case "absent":
			return cluster.Value{}, cluster.ErrNotFound
		case "broken":
			return cluster.Value{}, errors.New("origin\r\ndown")
		}
		return cluster.Value{Bytes: []byte("o:" + key), TTL: time.Minute}, nil
	})
	s := newTestServer(t, func(cfg *Config) { cfg.Getter = getter })
	c := newTestClient(t, s)
	tests := []struct{ cmd, want string }{
		{"GET k1", bulk("o:k1")},
		{"GET k1", bulk("o:k1")}, // stored: no second load
		{"TTL k1", ":60\r\n"},
		{"GET absent", "$-1\r\n"},
		{"GET broken", "-ERR load failed: cluster: loading key: origin  down\r\n"},
		{"SET k2 mine", "+OK\r\n"},
		{"MGET k2 k3 absent k1", "*4\r\n" + bulk("mine") + bulk("o:k3") + "$-1\r\n" + bulk("o:k1")},
		{"STRLEN k4", ":0\r\n"}, // only GET and MGET read through
		{"INFO cluster", ""},
	}
	for _, tt := range tests {
		got := run(t, c, tt.cmd)
		if tt.want == "" {
			if !strings.Contains(got, "cluster_members:1\r\n") || !strings.Contains(got, "cluster_loads:") {
				t.Errorf("%s = %q", tt.cmd, got)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("%s = %q, want %q", tt.cmd, got, tt.want)
		}
	}
	if n := calls.Load(); n != 5 { // k1, absent, broken, k3, absent
		t.Errorf("getter called %d times, want 5", n)
	}
}

func TestClassify(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		name  string
		kind  routeKind
		keyAt int
		write bool
	}{
		{"get", routeKey, 1, false},
		{"set", routeKey, 1, true},
		{"incr", routeKey, 1, true},
		{"getex", routeKey, 1, true},
		{"ttl", routeKey, 1, false},
		{"memory|usage", routeKey, 2, false},
		{"mget", routeSplit, 0, false},
		{"msetnx", routeSplit, 0, true},
		{"del", routeSplit, 0, true},
		{"rename", routeSameOwner, 0, true},
		{"copy", routeSameOwner, 0, true},
		{"scan", routeKeyspace, 0, false},
		{"flushall", routeKeyspace, 0, true},
		{"ping", routeHere, 0, false},
		{"info", routeHere, 0, false},
		{"config|set", routeHere, 0, false},
	}
	for _, tt := range tests {
		cmd := s.table.find(tt.name)
		if cmd == nil {
			t.Errorf("%s: not in the table", tt.name)
			continue
		}
		if cmd.rt.kind != tt.kind || cmd.rt.keyAt != tt.keyAt || cmd.rt.write != tt.write {
			t.Errorf("%s: routed %+v, want kind %d keyAt %d write %v", tt.name, cmd.rt, tt.kind, tt.keyAt, tt.write)
		}
	}
}

func TestRespLen(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"+OK\r\n", 5},
		{"+OK\r\nrest", 5},
		{":12\r\n", 5},
		{"$3\r\nabc\r\n", 9},
		{"$3\r\nabc\r", -1},
		{"$3\r\nabcd\r\n", -1},
		{"$-1\r\n", 5},
		{"$-2\r\n", -1},
		{"*2\r\n$1\r\na\r\n:1\r\n", 15},
		{"*2\r\n$1\r\na\r\n", -1},
		{"*-1\r\n", 5},
		{"_\r\n", 3},
		{"%1\r\n+a\r\n:1\r\n", 12},
		{"|1\r\n+k\r\n+v\r\n:1\r\n", 16},
		{"=7\r\ntxt:abc\r\n", 13},
		{"~1\r\n#t\r\n", 8},
		{"", -1},
		{"x\r\n", -1},
		{"*1\r\n" + strings.Repeat("*1\r\n", 40) + ":1\r\n", -1}, // too deep
	}
	for _, tt := range tests {
		if got := respLen([]byte(tt.in)); got != tt.want {
			t.Errorf("respLen(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
	elems, ok := arrayElems([]byte("*3\r\n$1\r\na\r\n$-1\r\n_\r\n"))
	if !ok || len(elems) != 3 || string(elems[0]) != "$1\r\na\r\n" || string(elems[2]) != "_\r\n" {
		t.Errorf("arrayElems = %q, %v", elems, ok)
	}
	if _, ok := arrayElems([]byte("*2\r\n:1\r\n")); ok {
		t.Errorf("arrayElems of a short array succeeded")
	}
	if n, ok := intReply([]byte(":-42\r\n")); n != -42 || !ok {
		t.Errorf("intReply = %d, %v", n, ok)
	}
	if v, ok := bulkReply([]byte("$0\r\n\r\n")); !ok || len(v) != 0 {
		t.Errorf("bulkReply of an empty string = %q, %v", v, ok)
	}
}

func FuzzRespLen(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "$3\r\nabc\r\n", "*2\r\n$1\r\na\r\n:1\r\n", "%1\r\n+a\r\n:1\r\n", "$-1\r\n", "*1\r\n*1\r\n_\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n := respLen(b)
		if n < -1 || n > len(b) {
			t.Fatalf("respLen(%q) = %d", b, n)
		}
		if n > 0 && respLen(b[:n]) != n {
			t.Fatalf("respLen(%q) = %d, but not of its own prefix", b, n)
		}
		if elems, ok := arrayElems(b); ok {
			total := 0
			for _, e := range elems {
				total += len(e)
			}
			if total > len(b) {
				t.Fatalf("arrayElems(%q) returned more than its input", b)
			}
		}
	})
}

// A key this node owns costs the routing one ring lookup and nothing else.
func TestRoutedLocalCommandsDoNotAllocate(t *testing.T) {
	servers := newTestCluster(t, 2, nil)
	c := newTestClient(t, servers[0])
	ka := ownedKey(t, servers, 0, "a")
	set := splitArgs("SET " + ka + " " + strings.Repeat("v", 100))
	get := splitArgs("GET " + ka)
	for _, args := range [][][]byte{set, get} {
		if n := testing.AllocsPerRun(100, func() {
			c.w.Reset()
			c.exec(args)
		}); n != 0 {
			t.Errorf("%s of an owned key: %v allocations", args[0], n)
		}
	}
}

func BenchmarkRoutedGetOwned(b *testing.B) {
	servers := newTestCluster(b, 2, nil)
	c := newTestClient(b, servers[0])
	ka := ownedKey(b, servers, 0, "a")
	execArgs(c, []byte("SET"), []byte(ka), bytes.Repeat([]byte("v"), 100))
	args := [][]byte{[]byte("GET"), []byte(ka)}
	b.ReportAllocs()
	for b.Loop() {
		c.w.Reset()
		c.exec(args)
	}
}

// BenchmarkRoutedPipeline forwards 16 SETs to the owner and settles them:
// one peer round trip per iteration.
func BenchmarkRoutedPipeline(b *testing.B) {
	servers := newTestCluster(b, 2, nil)
	c := newTestClient(b, servers[0])
	kb := ownedKey(b, servers, 1, "b")
	args := [][]byte{[]byte("SET"), []byte(kb), bytes.Repeat([]byte("v"), 100)}
	c.rd = nil
	b.ReportAllocs()
	for b.Loop() {
		c.w.Reset()
		for range 16 {
			c.exec(args)
		}
		c.settle()
	}
}
