package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// eventually polls cond until it returns nil or timeout passes, and
// fails the test with cond's last error.
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
		time.Sleep(20 * time.Millisecond)
	}
}

// recorder is a slog.Handler that keeps the messages it is given.
type recorder struct {
	mu    sync.Mutex
	level slog.Level
	recs  []slog.Record
}

func (r *recorder) Enabled(_ context.Context, l slog.Level) bool { return l >= r.level }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.recs = append(r.recs, rec)
	r.mu.Unlock()
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

func (r *recorder) count(msg string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rec := range r.recs {
		if rec.Message == msg {
			n++
		}
	}
	return n
}

// gossipNode is a Membership with what its OnChange saw.
type gossipNode struct {
	*Membership
	meta MemberMeta
	logs *recorder

	mu      sync.Mutex
	changes [][]Member
	all     []Member // the last OnMembers
}

// stateOf is the state of id in the node's last OnMembers call.
func (n *gossipNode) stateOf(id string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, m := range n.all {
		if m.ID == id {
			return m.State
		}
	}
	return ""
}

func (n *gossipNode) lastChange() []Member {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.changes) == 0 {
		return nil
	}
	return n.changes[len(n.changes)-1]
}

func testMeta(name string) MemberMeta {
	return MemberMeta{
		ID:         name,
		ClientAddr: "127.0.0.1:63" + name[len(name)-2:],
		PeerURL:    "http://127.0.0.1:83" + name[len(name)-2:] + "/_geeredis/",
	}
}

// startGossip starts a node named name (ending in two digits) on a free
// loopback port, joining join, with cfg's fields as defaults.
func startGossip(tb testing.TB, name string, join []string, cfg MembershipConfig) (*gossipNode, error) {
	tb.Helper()
	n := &gossipNode{meta: testMeta(name), logs: &recorder{level: slog.LevelInfo}}
	cfg.Meta = n.meta
	cfg.BindAddr = "127.0.0.1:0"
	cfg.Join = join
	if cfg.Profile == "" {
		cfg.Profile = "local"
	}
	cfg.Logger = slog.New(n.logs)
	cfg.OnChange = func(alive []Member) {
		n.mu.Lock()
		n.changes = append(n.changes, alive)
		n.mu.Unlock()
	}
	cfg.OnMembers = func(all []Member) {
		n.mu.Lock()
		n.all = all
		n.mu.Unlock()
	}
	m, err := NewMembership(cfg)
	if err != nil {
		return nil, err
	}
	n.Membership = m
	tb.Cleanup(func() { _ = m.Shutdown() })
	return n, nil
}

func mustGossip(tb testing.TB, name string, join []string, cfg MembershipConfig) *gossipNode {
	tb.Helper()
	n, err := startGossip(tb, name, join, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// wantAlive is what every node should report for nodes.
func wantAlive(nodes ...*gossipNode) []Member {
	var out []Member
	for _, n := range nodes {
		out = append(out, Member{MemberMeta: n.meta, GossipAddr: n.GossipAddr(), State: StateAlive})
	}
	sortMembers(out)
	return out
}

// agree checks that every node in nodes sees exactly want as alive,
// through Alive and through its last OnChange call.
func agree(nodes []*gossipNode, want []Member) error {
	for _, n := range nodes {
		if got := n.Alive(); !slices.Equal(got, want) {
			return fmt.Errorf("%s: Alive() = %v, want %v", n.meta.ID, got, want)
		}
		if got := n.lastChange(); !slices.Equal(got, want) {
			return fmt.Errorf("%s: last OnChange = %v, want %v", n.meta.ID, got, want)
		}
	}
	return nil
}

func stateOf(n *gossipNode, id string) string {
	for _, m := range n.Members() {
		if m.ID == id {
			return m.State
		}
	}
	return "unknown"
}

// counted checks that every node in nodes sees gone in state and
// counted stats, and logged them.
func counted(nodes []*gossipNode, gone *gossipNode, state string, stats MembershipStats) error {
	for _, n := range nodes {
		if got := n.Stats(); got != stats {
			return fmt.Errorf("%s: stats %+v, want %+v", n.meta.ID, got, stats)
		}
		if got := stateOf(n, gone.meta.ID); got != state {
			return fmt.Errorf("%s sees %s as %s, want %s", n.meta.ID, gone.meta.ID, got, state)
		}
		left, failed := n.logs.count("membership: member left"), n.logs.count("membership: member failed")
		if left != int(stats.Leaves) || failed != int(stats.Failures) {
			return fmt.Errorf("%s logged %d leaves and %d failures", n.meta.ID, left, failed)
		}
	}
	return nil
}

func TestMembershipJoinLeaveFail(t *testing.T) {
	t.Parallel()
	a := mustGossip(t, "node-01", nil, MembershipConfig{})
	b := mustGossip(t, "node-02", []string{a.GossipAddr()}, MembershipConfig{})
	c := mustGossip(t, "node-03", []string{a.GossipAddr()}, MembershipConfig{})
	d := mustGossip(t, "node-04", []string{c.GossipAddr()}, MembershipConfig{}) // via another member
	all := []*gossipNode{a, b, c, d}
	eventually(t, 5*time.Second, func() error { return agree(all, wantAlive(all...)) })
	for _, n := range all {
		if got := n.Stats(); got != (MembershipStats{Joins: 3}) {
			t.Errorf("%s: stats after joins = %+v", n.meta.ID, got)
		}
	}

	// A graceful leave: a leave, not a failure, within a few seconds.
	if err := d.Leave(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	rest := []*gossipNode{a, b, c}
	eventually(t, 3*time.Second, func() error { return agree(rest, wantAlive(rest...)) })
	eventually(t, time.Second, func() error { return counted(rest, d, StateLeft, MembershipStats{Joins: 3, Leaves: 1}) })
	eventually(t, time.Second, func() error {
		if got := a.stateOf(d.meta.ID); got != StateLeft {
			return fmt.Errorf("OnMembers says %s is %q, want left", d.meta.ID, got)
		}
		return nil
	})
	if err := d.Leave(time.Second); !errors.Is(err, ErrMembershipClosed) {
		t.Errorf("second Leave = %v, want ErrMembershipClosed", err)
	}

	// A crash: a failure, within FailureBound.
	bound := a.FailureBound()
	start := time.Now()
	if err := c.Shutdown(); err != nil {
		t.Fatal(err)
	}
	rest = []*gossipNode{a, b}
	eventually(t, bound, func() error { return agree(rest, wantAlive(rest...)) })
	t.Logf("killed node dropped after %v (bound %v)", time.Since(start).Round(time.Millisecond), bound)
	if err := counted(rest, c, StateDead, MembershipStats{Joins: 3, Leaves: 1, Failures: 1}); err != nil {
		t.Error(err)
	}
	eventually(t, time.Second, func() error {
		if got, left := b.stateOf(c.meta.ID), b.stateOf(d.meta.ID); got != StateDead || left != StateLeft {
			return fmt.Errorf("OnMembers says %s is %q and %s %q, want dead and left", c.meta.ID, got, d.meta.ID, left)
		}
		return nil
	})
	if err := c.Shutdown(); err != nil {
		t.Errorf("second Shutdown = %v", err)
	}
}

// TestMembershipFailureDetection measures how long a killed node takes
// to drop out, per profile.
func TestMembershipFailureDetection(t *testing.T) {
	t.Parallel()
	for _, profile := range []string{"local", "lan"} {
		t.Run(profile, func(t *testing.T) {
			t.Parallel()
			cfg := MembershipConfig{Profile: profile}
			a := mustGossip(t, "node-11", nil, cfg)
			b := mustGossip(t, "node-12", []string{a.GossipAddr()}, cfg)
			c := mustGossip(t, "node-13", []string{b.GossipAddr()}, cfg)
			eventually(t, 5*time.Second, func() error {
				return agree([]*gossipNode{a, b, c}, wantAlive(a, b, c))
			})
			bound := a.FailureBound()
			start := time.Now()
			if err := c.Shutdown(); err != nil {
				t.Fatal(err)
			}
			eventually(t, bound, func() error { return agree([]*gossipNode{a, b}, wantAlive(a, b)) })
			t.Logf("%s: killed node dropped by every survivor after %v (FailureBound %v)",
				profile, time.Since(start).Round(time.Millisecond), bound)
			if got := a.Stats().Failures + b.Stats().Failures; got != 2 {
				t.Errorf("failures counted = %d, want 2", got)
			}
		})
	}
}

func TestMembershipSecret(t *testing.T) {
	t.Parallel()
	a := mustGossip(t, "node-21", nil, MembershipConfig{Secret: "s3cret"})
	b := mustGossip(t, "node-22", []string{a.GossipAddr()}, MembershipConfig{Secret: "s3cret"})
	eventually(t, 5*time.Second, func() error { return agree([]*gossipNode{a, b}, wantAlive(a, b)) })
	plain := mustGossip(t, "node-23", nil, MembershipConfig{})

	for _, tc := range []struct {
		name, secret string
		join         *gossipNode
	}{
		{"other secret", "other", a},
		{"no secret into encrypted", "", a},
		{"secret into plain", "s3cret", plain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := startGossip(t, "node-29", []string{tc.join.GossipAddr()},
				MembershipConfig{Secret: tc.secret, JoinAttempts: 1})
			if err == nil {
				t.Fatalf("joined with the wrong secret: %v", n.Alive())
			}
			if stateOf(tc.join, "node-29") != "unknown" {
				t.Errorf("%s saw the intruder: %v", tc.join.meta.ID, tc.join.Members())
			}
		})
	}
	if err := agree([]*gossipNode{a, b}, wantAlive(a, b)); err != nil {
		t.Error(err)
	}
}

func TestMembershipIDDefaultsToPeerURL(t *testing.T) {
	t.Parallel()
	meta := MemberMeta{ClientAddr: "127.0.0.1:6399", PeerURL: "http://127.0.0.1:8399/_geeredis/"}
	m, err := NewMembership(MembershipConfig{Meta: meta, BindAddr: "127.0.0.1:0", Profile: "local"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	meta.ID = meta.PeerURL
	want := []Member{{MemberMeta: meta, GossipAddr: m.GossipAddr(), State: StateAlive}}
	if got := m.Members(); !slices.Equal(got, want) {
		t.Errorf("Members() = %v, want %v", got, want)
	}
	if !strings.HasPrefix(m.GossipAddr(), "127.0.0.1:") || strings.HasSuffix(m.GossipAddr(), ":0") {
		t.Errorf("GossipAddr() = %q, want 127.0.0.1 with the bound port", m.GossipAddr())
	}
}

func TestMembershipConfigErrors(t *testing.T) {
	t.Parallel()
	meta := testMeta("node-31")
	for _, tc := range []struct {
		name string
		cfg  MembershipConfig
		want string
	}{
		{"profile", MembershipConfig{Meta: meta, Profile: "wan"}, "unknown profile"},
		{"no id", MembershipConfig{Meta: MemberMeta{ClientAddr: "x"}}, "needs an ID"},
		{"bind without port", MembershipConfig{Meta: meta, BindAddr: "127.0.0.1"}, "bind address"},
		{"bad port", MembershipConfig{Meta: meta, BindAddr: "127.0.0.1:99999"}, "bad port"},
		{"advertise port, bind port 0", MembershipConfig{Meta: meta, BindAddr: "127.0.0.1:0", AdvertiseAddr: "10.0.0.1:7000"}, "fixed bind port"},
		{"meta too long", MembershipConfig{Meta: MemberMeta{ID: "x", PeerURL: strings.Repeat("u", 600)}, BindAddr: "127.0.0.1:0"}, "512"},
		{"negative attempts", MembershipConfig{Meta: meta, BindAddr: "127.0.0.1:0", JoinAttempts: -1}, "negative"},
		{"nobody to join", MembershipConfig{Meta: meta, BindAddr: "127.0.0.1:0", Profile: "local", Join: []string{"127.0.0.1:1"}, JoinAttempts: 2}, "after 2 attempts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewMembership(tc.cfg)
			if err == nil {
				_ = m.Shutdown()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestFailureBound(t *testing.T) {
	t.Parallel()
	lan, local := memberlist.DefaultLANConfig(), memberlist.DefaultLocalConfig()
	starved := 4*time.Second + 24*time.Second - time.Duration(math.Log(2)/math.Log(3)*float64(20*time.Second)) + time.Second
	for _, tc := range []struct {
		name         string
		conf         *memberlist.Config
		alive, known int
		want         time.Duration
	}{
		{"local 1", local, 1, 1, 2*time.Second + 3*time.Second + time.Second},
		{"local 3", local, 3, 3, 8 * time.Second},
		{"lan 3", lan, 3, 3, 9 * time.Second},
		{"local 5", local, 5, 5, 12 * time.Second},
		{"lan 5", lan, 5, 5, 13 * time.Second},
		{"lan 20", lan, 20, 20, 38*time.Second + time.Duration(4*math.Log10(20)*float64(time.Second)) + time.Second},
		// 3 alive, one left but remembered: memberlist waits for 2
		// confirmations that only 1 member can give.
		{"lan 3 of 4", lan, 3, 4, starved},
		{"local 3 of 4", local, 3, 4, 8 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := failureBound(tc.conf, tc.alive, tc.known)
			if d := got - tc.want; d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("failureBound = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMemberMetaEncoding(t *testing.T) {
	t.Parallel()
	for _, meta := range []MemberMeta{
		{},
		{ClientAddr: "127.0.0.1:6379", PeerURL: "http://127.0.0.1:8379/_geeredis/"},
		{ClientAddr: "[::1]:6379", PeerURL: strings.Repeat("p", 300)},
	} {
		b := encodeMeta(meta)
		got, err := decodeMeta(b)
		if err != nil || got != meta {
			t.Errorf("decodeMeta(encodeMeta(%+v)) = %+v, %v", meta, got, err)
		}
		if got, err := decodeMeta(append(b, "future field"...)); err != nil || got != meta {
			t.Errorf("with a trailing field: %+v, %v", got, err)
		}
	}
	typical := MemberMeta{ClientAddr: "127.0.0.1:6379", PeerURL: "http://127.0.0.1:8379/_geeredis/"}
	if n, want := len(encodeMeta(typical)), 3+len(typical.ClientAddr)+len(typical.PeerURL); n != want {
		t.Errorf("meta takes %d bytes, want %d", n, want)
	}
	for _, b := range [][]byte{nil, {2, 0, 0}, {1}, {1, 5, 'a'}, {1, 0, 0x80}} {
		if _, err := decodeMeta(b); err == nil {
			t.Errorf("decodeMeta(%q) accepted", b)
		}
	}
}

func FuzzDecodeMeta(f *testing.F) {
	f.Add(encodeMeta(MemberMeta{ClientAddr: "127.0.0.1:6379", PeerURL: "http://h/"}))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		meta, err := decodeMeta(b)
		if err != nil {
			return
		}
		again, err := decodeMeta(encodeMeta(meta))
		if err != nil || again != meta {
			t.Fatalf("round trip of %+v: %+v, %v", meta, again, err)
		}
	})
}

func TestMemberlistLogsAtDebug(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		level slog.Level
		want  int
	}{{slog.LevelDebug, 1}, {slog.LevelInfo, 0}} {
		rec := &recorder{level: tc.level}
		w := debugWriter{slog.New(rec)}
		line := []byte("[WARN] memberlist: Refuting a suspect message (from: x)\n")
		if n, err := w.Write(line); n != len(line) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		if len(rec.recs) != tc.want {
			t.Fatalf("at %v: %d records, want %d", tc.level, len(rec.recs), tc.want)
		}
		if tc.want == 0 {
			continue
		}
		r := rec.recs[0]
		var attrs bytes.Buffer
		r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&attrs, "%s=%s", a.Key, a.Value); return true })
		if r.Level != slog.LevelDebug || r.Message != "memberlist: Refuting a suspect message (from: x)" ||
			attrs.String() != "memberlist_level=WARN" {
			t.Errorf("record %v %q %s", r.Level, r.Message, attrs.String())
		}
	}
}

// TestMembershipEvents drives the event and notice handlers directly
// with made-up nodes, including a leave notice that loses its race
// with memberlist's leave message.
func TestMembershipEvents(t *testing.T) {
	t.Parallel()
	n := mustGossip(t, "node-41", nil, MembershipConfig{})
	ev, del := eventDelegate{n.Membership}, nodeDelegate{n.Membership}
	node := func(name string, meta MemberMeta) *memberlist.Node {
		return &memberlist.Node{Name: name, Addr: []byte{10, 0, 0, 1}, Port: 7946, Meta: encodeMeta(meta)}
	}
	x, y := testMeta("node-42"), testMeta("node-43")
	x2 := x // x after its update
	x2.ClientAddr = "10.0.0.1:6380"
	member := func(meta MemberMeta, state string) Member {
		return Member{MemberMeta: meta, GossipAddr: "10.0.0.1:7946", State: state}
	}
	self := Member{MemberMeta: n.meta, GossipAddr: n.GossipAddr(), State: StateAlive}

	for _, step := range []struct {
		name  string
		do    func()
		alive []Member
		all   []Member
		stats MembershipStats
	}{
		{"x joins", func() { ev.NotifyJoin(node(x.ID, x)) },
			[]Member{self, member(x, StateAlive)}, nil, MembershipStats{Joins: 1}},
		{"y joins", func() { ev.NotifyJoin(node(y.ID, y)) },
			[]Member{self, member(x, StateAlive), member(y, StateAlive)}, nil, MembershipStats{Joins: 2}},
		{"x changes its client address", func() { ev.NotifyUpdate(node(x.ID, x2)) }, []Member{self, member(x2, StateAlive), member(y, StateAlive)}, nil, MembershipStats{Joins: 2, Updates: 1}},
		{"x sends its notice, then leaves", func() {
			del.NotifyMsg(append([]byte{msgLeaving}, x.ID...))
			ev.NotifyLeave(node(x.ID, x2))
		}, []Member{self, member(y, StateAlive)}, []Member{self, member(x2, StateLeft), member(y, StateAlive)},
			MembershipStats{Joins: 2, Updates: 1, Leaves: 1}},
		{"y leaves before its notice arrives", func() { ev.NotifyLeave(node(y.ID, y)) },
			[]Member{self}, []Member{self, member(x2, StateLeft), member(y, StateDead)},
			MembershipStats{Joins: 2, Updates: 1, Leaves: 1, Failures: 1}},
		{"y's late notice", func() { del.NotifyMsg(append([]byte{msgLeaving}, y.ID...)) },
			[]Member{self}, []Member{self, member(x2, StateLeft), member(y, StateLeft)},
			MembershipStats{Joins: 2, Updates: 1, Leaves: 2}},
		{"x comes back", func() { ev.NotifyJoin(node(x.ID, x2)) },
			[]Member{self, member(x2, StateAlive)}, []Member{self, member(x2, StateAlive), member(y, StateLeft)},
			MembershipStats{Joins: 3, Updates: 1, Leaves: 2}},
		{"x fails: the old notice no longer counts", func() { ev.NotifyLeave(node(x.ID, x2)) },
			[]Member{self}, []Member{self, member(x2, StateDead), member(y, StateLeft)},
			MembershipStats{Joins: 3, Updates: 1, Leaves: 2, Failures: 1}},
	} {
		step.do()
		if step.all == nil {
			step.all = step.alive
		}
		if got := n.Alive(); !slices.Equal(got, step.alive) {
			t.Fatalf("%s: Alive() = %v, want %v", step.name, got, step.alive)
		}
		if got := n.Members(); !slices.Equal(got, step.all) {
			t.Fatalf("%s: Members() = %v, want %v", step.name, got, step.all)
		}
		if got := n.Stats(); got != step.stats {
			t.Fatalf("%s: Stats() = %+v, want %+v", step.name, got, step.stats)
		}
		eventually(t, time.Second, func() error {
			if got := n.lastChange(); !slices.Equal(got, step.alive) {
				return fmt.Errorf("%s: last OnChange = %v, want %v", step.name, got, step.alive)
			}
			return nil
		})
	}
}
