package server

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/geeredis/geeredis/cluster"
)

// testPeer is a Server with its pool served on 127.0.0.1:0; its ring is
// left to the test.
type testPeer struct {
	srv  *Server
	pool *cluster.HTTPPool
	url  string
}

func newTestPeers(tb testing.TB, n int) []testPeer {
	tb.Helper()
	peers := make([]testPeer, n)
	for i := range peers {
		hs := httptest.NewUnstartedServer(nil)
		url := "http://" + hs.Listener.Addr().String()
		pool, err := cluster.NewHTTPPool(cluster.PoolConfig{Self: url, Timeout: 2 * time.Second})
		if err != nil {
			tb.Fatalf("NewHTTPPool: %v", err)
		}
		srv := newTestServer(tb, func(cfg *Config) { cfg.Cluster = &ClusterConfig{Pool: pool} })
		hs.Config.Handler = pool
		hs.Start()
		tb.Cleanup(func() { pool.Close() })
		tb.Cleanup(hs.Close)
		peers[i] = testPeer{srv, pool, url}
	}
	return peers
}

// eventually polls cond until it returns nil, failing the test with its
// last error after timeout.
func eventually(tb testing.TB, timeout time.Duration, cond func() error) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("not within %v: %v", timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestHopBound gives two nodes rings that disagree on purpose: each
// thinks the other owns every key. A command goes A -> B -> A and runs
// there: one re-forward, never a loop.
func TestHopBound(t *testing.T) {
	p := newTestPeers(t, 2)
	a, b := p[0], p[1]
	a.pool.Set(b.url) // A: B owns everything
	b.pool.Set(a.url) // B: A owns everything
	ca, cb := newTestClient(t, a.srv), newTestClient(t, b.srv)

	if got := execLines(t, ca, "SET k v"); got != "+OK\r\n" {
		t.Fatalf("SET at A = %q", got)
	}
	if peekValue(a.srv, "k") == nil || peekValue(b.srv, "k") != nil {
		t.Errorf("SET entered at A did not run at A after two hops")
	}
	if got := execLines(t, cb, "INCR n", "INCR n"); got != ":1\r\n:2\r\n" {
		t.Fatalf("INCR at B = %q", got)
	}
	if string(peekValue(b.srv, "n")) != "2" {
		t.Errorf("INCR entered at B did not run at B")
	}
	// MGET goes A -> B -> A too. At the hop bound the sender's ring gives
	// the keys to A, so A takes n from B, where it is, before running it.
	if got := execLines(t, ca, "MGET k n"); got != "*2\r\n$1\r\nv\r\n$1\r\n2\r\n" {
		t.Errorf("MGET at A = %q", got)
	}
	if peekValue(b.srv, "n") != nil || string(peekValue(a.srv, "n")) != "2" {
		t.Errorf("n was not taken from B to A")
	}
	for _, s := range []*Server{a.srv, b.srv} {
		if n := s.cstats.reforwarded.Load(); n < 1 {
			t.Errorf("reforwarded = %d", n)
		}
	}
	// A command that arrives after MaxHops runs where it lands.
	out := string(b.srv.ExecuteHops(t.Context(), 2, cluster.MaxHops, splitArgs("SET h here"), nil))
	if out != "+OK\r\n" || peekValue(b.srv, "h") == nil {
		t.Errorf("ExecuteHops at the bound = %q", out)
	}
}

// TestCommandsPullDuringJoin: c joins a cluster of a and b. Before a and
// b know it, commands at c on keys it now owns see the values a and b
// hold: reads and writes take them first, and a DEL is not undone by the
// hand-off that follows.
func TestCommandsPullDuringJoin(t *testing.T) {
	p := newTestPeers(t, 3)
	a, b, c := p[0], p[1], p[2]
	for _, x := range []testPeer{a, b} {
		x.pool.Set(a.url, b.url)
	}
	var members []cluster.Member
	for _, x := range p {
		members = append(members, cluster.Member{MemberMeta: cluster.MemberMeta{ID: x.url, PeerURL: x.url}, State: cluster.StateAlive})
	}
	c.pool.SetMembers(members) // c joins; a and b have not heard yet
	if !c.pool.InTransition() {
		t.Fatal("the joiner is not in transition")
	}
	ca, cc := newTestClient(t, a.srv), newTestClient(t, c.srv)

	// Keys that c owns now, written through a before the join.
	var moved []string
	for i := 0; len(moved) < 40; i++ {
		key := fmt.Sprintf("k%d", i)
		if c.pool.Owner([]byte(key)) == nil {
			moved = append(moved, key)
			if got := execLines(t, ca, "SET "+key+" v"+key); got != "+OK\r\n" {
				t.Fatalf("SET %s = %q", key, got)
			}
		}
	}
	getK, incrK, delK, appendK := moved[0], moved[1], moved[2], moved[3]
	execLines(t, ca, "SET "+incrK+" 5")
	for _, tt := range []struct{ line, want string }{
		{"GET " + getK, "$" + fmt.Sprint(len(getK)+1) + "\r\nv" + getK + "\r\n"},
		{"INCR " + incrK, ":6\r\n"},
		{"DEL " + delK, ":1\r\n"},
		{"APPEND " + appendK + " +", fmt.Sprintf(":%d\r\n", len(appendK)+2)},
		{"GET " + delK, "$-1\r\n"},
	} {
		if got := execLines(t, cc, tt.line); got != tt.want {
			t.Errorf("%s at the new owner = %q, want %q", tt.line, got, tt.want)
		}
	}
	// Now a and b learn of c and hand off the rest.
	for _, x := range []testPeer{a, b} {
		x.pool.Set(a.url, b.url, c.url)
	}
	eventually(t, 10*time.Second, func() error {
		for _, x := range p {
			if x.pool.InTransition() {
				return fmt.Errorf("%s still in transition", x.url)
			}
		}
		return nil
	})
	for _, x := range p {
		cl := newTestClient(t, x.srv)
		for _, key := range moved[4:] {
			want := "$" + fmt.Sprint(len(key)+1) + "\r\nv" + key + "\r\n"
			if got := execLines(t, cl, "GET "+key); got != want {
				t.Errorf("GET %s at %s = %q after the join", key, x.url, got)
			}
		}
		for line, want := range map[string]string{"GET " + delK: "$-1\r\n", "GET " + incrK: "$1\r\n6\r\n"} {
			if got := execLines(t, cl, line); got != want {
				t.Errorf("%s at %s = %q, want %q", line, x.url, got, want)
			}
		}
	}
	if hs := c.srv.group.HandoffStats(); hs.Pulled != 4 || hs.Received != uint64(len(moved)-4) {
		t.Errorf("at the new owner: %+v, want 4 pulled and %d received", hs, len(moved)-4)
	}
	if info := run(t, cc, "INFO cluster"); !strings.Contains(info, "cluster_handoff_pulled:4\r\n") ||
		!strings.Contains(info, "cluster_ring_transition:0\r\n") || !strings.Contains(info, "cluster_members:3\r\n") {
		t.Errorf("INFO cluster after the join:\n%s", info)
	}
}

func TestGeeredisMembers(t *testing.T) {
	servers := newTestCluster(t, 2, nil)
	c := newTestClient(t, servers[0])
	self, other := servers[0].pool.Self(), servers[1].pool.Self()
	if other < self {
		self, other = other, self // sorted by id: the order of the reply
	}
	entry := func(id string, me bool) string {
		flag := ":0\r\n"
		if me {
			flag = ":1\r\n"
		}
		return "*12\r\n" + bulk("id") + bulk(id) + bulk("client-addr") + bulk("") + bulk("peer-url") + bulk(id) +
			bulk("gossip-addr") + bulk("") + bulk("state") + bulk("alive") + bulk("self") + flag
	}
	me := servers[0].pool.Self()
	want := "*2\r\n" + entry(self, self == me) + entry(other, other == me)
	if got := run(t, c, "GEEREDIS MEMBERS"); got != want {
		t.Errorf("GEEREDIS MEMBERS\n got %q\nwant %q", got, want)
	}
	c.setProto(3)
	if got := run(t, c, "GEEREDIS MEMBERS"); !strings.HasPrefix(got, "*2\r\n%6\r\n") || !strings.Contains(got, "#t\r\n") {
		t.Errorf("GEEREDIS MEMBERS in RESP3 = %q", got)
	}
	c.setProto(2)
	for line, want := range map[string]string{
		"GEEREDIS":           "-ERR wrong number of arguments for 'geeredis' command\r\n",
		"GEEREDIS NOPE":      "-ERR unknown subcommand 'NOPE'. Try GEEREDIS HELP.\r\n",
		"GEEREDIS MEMBERS x": "-ERR wrong number of arguments for 'geeredis|members' command\r\n",
		// The hand-off is peer protocol frames, not commands.
		"TAKE k":        "-ERR unknown command 'TAKE', with args beginning with: 'k' \r\n",
		"GIVE k v 0":    "-ERR unknown command 'GIVE', with args beginning with: 'k' 'v' '0' \r\n",
		"CLUSTER SLOTS": "-ERR unknown command 'CLUSTER', with args beginning with: 'SLOTS' \r\n",
	} {
		if got := run(t, c, line); got != want {
			t.Errorf("%s = %q, want %q", line, got, want)
		}
	}
	if got := run(t, c, "GEEREDIS HELP"); !strings.HasPrefix(got, "*6\r\n+GEEREDIS <subcommand>") {
		t.Errorf("GEEREDIS HELP = %q", got)
	}
	info := run(t, c, "INFO cluster")
	for _, line := range []string{"cluster_enabled:0", "cluster_members:2", "cluster_membership:static", "cluster_ring_version:1",
		"cluster_ring_transition:0", "cluster_handoff_moved:0", "member0:id=" + self + ",client=,peer=" + self + ",gossip=,state=alive"} {
		if !strings.Contains(info, line+"\r\n") {
			t.Errorf("INFO cluster lacks %q:\n%s", line, info)
		}
	}
}
