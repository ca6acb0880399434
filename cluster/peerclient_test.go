package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestExecInOrder(t *testing.T) {
	for _, tr := range transports() {
		t.Run(tr.name, func(t *testing.T) {
			nodes := newCluster(t, 3, clusterOpts{client: tr.client()})
			a, b := nodes[0], nodes[1]
			peer := peerOf(t, a, b)
			const n = 3000 // more than one batch of maxBatchFrames
			calls := make([]*Call, n)
			for i := range calls {
				proto := 2 + i%2
				calls[i] = peer.Exec(DefaultGroup, proto, bs("SET", "k", fmt.Sprint(i)))
			}
			for i, c := range calls {
				reply, err := c.Wait(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				if want := fmt.Sprintf(":%d\r\n", i); string(reply) != want {
					t.Fatalf("reply %d = %q, want %q", i, reply, want)
				}
				c.Release()
			}
			seen := b.exec.commands()
			if len(seen) != n {
				t.Fatalf("owner ran %d commands, want %d", len(seen), n)
			}
			for i, cmd := range seen {
				if want := fmt.Sprintf("SET k %d", i); cmd != want {
					t.Fatalf("command %d = %q, want %q", i, cmd, want)
				}
				if b.exec.proto[i] != 2+i%2 {
					t.Fatalf("command %d ran in proto %d", i, b.exec.proto[i])
				}
			}
			if got := len(nodes[2].exec.commands()); got != 0 {
				t.Errorf("a bystander ran %d commands", got)
			}
			if st := a.pool.Stats(); st.Commands != n || st.Requests < 3 {
				t.Errorf("stats %+v: want %d commands in at least 3 round trips", st, n)
			}
		})
	}
}

func TestExecCoalesces(t *testing.T) {
	nodes := newCluster(t, 2, clusterOpts{})
	a, b := nodes[0], nodes[1]
	peer := peerOf(t, a, b)
	before := a.pool.Stats()
	const n = 1000
	start := make(chan struct{})
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			c := peer.Exec(DefaultGroup, 2, bs("INCR", fmt.Sprint("k", i)))
			defer c.Release()
			reply, err := c.Wait(t.Context())
			if err == nil && (reply[0] != ':' || !strings.HasSuffix(string(reply), "\r\n")) {
				err = fmt.Errorf("reply %q", reply)
			}
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	after := a.pool.Stats()
	trips := after.Requests - before.Requests
	t.Logf("%d concurrent Execs in %d round trips", n, trips)
	if trips >= 100 {
		t.Errorf("%d round trips for %d concurrent Execs, want < 100", trips, n)
	}
	if got := len(b.exec.commands()); got != n {
		t.Errorf("owner ran %d commands, want %d", got, n)
	}
}

func TestExecRejectsBadCalls(t *testing.T) {
	nodes := newCluster(t, 2, clusterOpts{})
	peer := peerOf(t, nodes[0], nodes[1])
	for _, c := range []*Call{peer.Exec(DefaultGroup, 4, bs("GET", "k")), peer.Exec(DefaultGroup, 2, nil)} {
		if _, err := c.Wait(t.Context()); err == nil {
			t.Error("Exec of a bad call succeeded")
		}
	}
	// The queue is unharmed.
	c := peer.Exec(DefaultGroup, 2, bs("PING"))
	if _, err := c.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestExecUnknownGroupAndNoExecutor(t *testing.T) {
	nodes := newCluster(t, 2, clusterOpts{})
	peer := peerOf(t, nodes[0], nodes[1])
	_, err := peer.Exec("nosuch", 2, bs("PING")).Wait(t.Context())
	if !errors.Is(err, ErrPeerUnreachable) || !strings.Contains(err.Error(), "404") {
		t.Errorf("Exec in an unknown group: err = %v, want a 404", err)
	}
	g, err := NewGroup(GroupConfig{Name: "noexec", Main: nodes[1].main})
	if err != nil {
		t.Fatal(err)
	}
	nodes[1].pool.Register(g, nil)
	_, err = peer.Exec("noexec", 2, bs("PING")).Wait(t.Context())
	if !errors.Is(err, ErrRemote) {
		t.Errorf("Exec in a group without executor: err = %v, want ErrRemote", err)
	}
}

func TestCallWaitContext(t *testing.T) {
	hung := hungPeer(t)
	nodes := newCluster(t, 1, clusterOpts{timeout: 5 * time.Second})
	a := nodes[0]
	a.pool.Set(a.url(), hung)
	peer := a.pool.Peers()[0]
	c := peer.Exec(DefaultGroup, 2, bs("PING"))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v, want the context's deadline", err)
	}
	c.Release() // still in flight: a no-op
}

// hungPeer is a peer that accepts connections and never answers.
func hungPeer(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

func TestPeerHungTimesOut(t *testing.T) {
	for _, tr := range transports() {
		t.Run(tr.name, func(t *testing.T) {
			const timeout = 300 * time.Millisecond
			hung := hungPeer(t)
			nodes := newCluster(t, 1, clusterOpts{client: tr.client(), timeout: timeout, getter: GetterFunc(func(ctx context.Context, key string) (Value, error) {
				return Value{Bytes: []byte("local " + key)}, nil
			})})
			a := nodes[0]
			a.pool.Set(a.url(), hung)
			peer := a.pool.Peers()[0]

			start := time.Now()
			const n = 50
			errs := make(chan error, n)
			for i := range n {
				go func() {
					_, err := peer.Exec(DefaultGroup, 2, bs("SET", fmt.Sprint(i), "v")).Wait(t.Context())
					errs <- err
				}()
			}
			for range n {
				if err := <-errs; !errors.Is(err, ErrPeerUnreachable) {
					t.Fatalf("Exec to a hung peer: err = %v, want ErrPeerUnreachable", err)
				}
			}
			if took := time.Since(start); took > timeout+time.Second {
				t.Errorf("Execs to a hung peer failed after %v, timeout %v", took, timeout)
			}

			key := []byte("k")
			for a.pool.Owner(key) == nil {
				key = append(key, 'k')
			}
			start = time.Now()
			v, found, err := a.group.Get(t.Context(), key)
			if err != nil || !found || string(v.Bytes) != "local "+string(key) {
				t.Fatalf("Get = %q %v %v, want a local load", v.Bytes, found, err)
			}
			if took := time.Since(start); took > timeout+time.Second {
				t.Errorf("Get fell back after %v, timeout %v", took, timeout)
			}
			if st := a.group.Stats(); st.Fallbacks != 1 || st.PeerErrors != 1 {
				t.Errorf("stats %+v, want 1 fallback and 1 peer error", st)
			}
		})
	}
}

func TestPeerDown(t *testing.T) {
	for _, tr := range transports() {
		t.Run(tr.name, func(t *testing.T) {
			nodes := newCluster(t, 3, clusterOpts{client: tr.client(), timeout: 5 * time.Second, getter: GetterFunc(func(ctx context.Context, key string) (Value, error) {
				return Value{Bytes: []byte("loaded " + key)}, nil
			})})
			a, b := nodes[0], nodes[1]
			key := keyOf(t, nodes, 1, "down")
			b.stop()

			start := time.Now()
			_, err := peerOf(t, a, b).Exec(DefaultGroup, 2, bs("SET", string(key), "v")).Wait(t.Context())
			if !errors.Is(err, ErrPeerUnreachable) || !strings.Contains(err.Error(), b.url()) {
				t.Fatalf("Exec to a stopped peer: err = %v, want ErrPeerUnreachable naming it", err)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("Exec to a stopped peer took %v", took)
			}

			v, found, err := a.group.Get(t.Context(), key)
			if err != nil || !found || string(v.Bytes) != "loaded "+string(key) {
				t.Fatalf("Get = %q %v %v, want a local load", v.Bytes, found, err)
			}
			st := a.group.Stats()
			if st.Fallbacks != 1 || st.PeerErrors != 1 || st.Loads != 1 {
				t.Errorf("stats %+v, want one fallback load after one peer error", st)
			}
			if _, ok := a.group.HotGet(key, time.Now().UnixMilli(), nil); !ok {
				t.Error("the fallback value is not in the hot cache")
			}
			if a.main.Len() != 0 {
				t.Error("the fallback value went into the main cache")
			}
			if a.pool.Stats().Errors < 2 {
				t.Errorf("pool stats %+v, want the failed round trips counted", a.pool.Stats())
			}
		})
	}
}

func TestClosedPool(t *testing.T) {
	for _, tr := range transports() {
		t.Run(tr.name, func(t *testing.T) {
			nodes := newCluster(t, 2, clusterOpts{client: tr.client()})
			a, b := nodes[0], nodes[1]
			peer := peerOf(t, a, b)
			a.pool.Close()
			if _, err := peer.Exec(DefaultGroup, 2, bs("PING")).Wait(t.Context()); !errors.Is(err, ErrClosed) {
				t.Errorf("Exec after Close: err = %v, want ErrClosed", err)
			}
			if _, err := peer.Get(t.Context(), DefaultGroup, []byte("k")); !errors.Is(err, ErrClosed) {
				t.Errorf("Get after Close: err = %v, want ErrClosed", err)
			}
		})
	}
}

func TestSetMembership(t *testing.T) {
	nodes := newCluster(t, 3, clusterOpts{})
	a, b, c := nodes[0], nodes[1], nodes[2]
	old := peerOf(t, a, b)
	a.pool.Set(a.url(), c.url()+"/", a.url()) // repeats and a trailing slash are ignored
	if got := a.pool.Members(); len(got) != 2 {
		t.Fatalf("members %v", got)
	}
	if got := a.pool.Peers(); len(got) != 1 || got[0].ID() != c.url() {
		t.Fatalf("peers %v", got)
	}
	// b may still hold keys: it stays reachable until the ring settles,
	// when every member of the previous ring has said it handed off.
	if !a.pool.InTransition() {
		t.Fatal("no transition after a member left")
	}
	if _, err := old.Exec(DefaultGroup, 2, bs("PING")).Wait(t.Context()); err != nil {
		t.Errorf("Exec on a member of the previous ring: %v", err)
	}
	digest := a.pool.state.Load().digest
	a.pool.doneFrom(digest, b.url())
	if !a.pool.InTransition() {
		t.Fatal("settled before c said done")
	}
	a.pool.doneFrom(digest, c.url())
	eventually(t, 5*time.Second, func() error { // after minTransition
		if a.pool.InTransition() {
			return errors.New("not settled once b and c said done")
		}
		return nil
	})
	if _, err := old.Exec(DefaultGroup, 2, bs("PING")).Wait(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("Exec on a removed peer: err = %v, want ErrClosed", err)
	}
	for i := range 100 {
		key := fmt.Appendf(nil, "key%d", i)
		if p := a.pool.Owner(key); p != nil && p.ID() != c.url() {
			t.Fatalf("%s owned by %s, not a member", key, p.ID())
		}
	}
	a.pool.Set(a.url())
	if p := a.pool.Owner([]byte("k")); p != nil {
		t.Errorf("alone, Owner = %s", p.ID())
	}
	if _, ok := a.pool.PickPeer([]byte("k")); ok {
		t.Error("alone, PickPeer found a peer")
	}
}

// A peer that a ring change dropped still finishes its round trip in
// flight; the pool's Close ends it all the same.
func TestCloseInterruptsDroppedPeer(t *testing.T) {
	hung := hungPeer(t)
	nodes := newCluster(t, 1, clusterOpts{timeout: time.Minute, settle: 100 * time.Millisecond})
	a := nodes[0]
	a.pool.Set(a.url(), hung)
	c := a.pool.Peers()[0].Exec(DefaultGroup, 2, bs("PING"))
	time.Sleep(50 * time.Millisecond) // the round trip is under way
	// The peer goes when the transition that still needs it ends.
	a.pool.Set(a.url())
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		a.pool.mu.Lock()
		draining := len(a.pool.draining)
		a.pool.mu.Unlock()
		if draining == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d dropped peers draining, want 1", draining)
		}
	}
	start := time.Now()
	a.pool.Close()
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Close took %v with a dropped peer's round trip in flight", took)
	}
	if _, err := c.Wait(t.Context()); err == nil {
		t.Error("a call in flight at Close succeeded")
	}
	a.pool.mu.Lock()
	defer a.pool.mu.Unlock()
	if len(a.pool.draining) != 0 {
		t.Errorf("%d dropped peers still listed after their senders ended", len(a.pool.draining))
	}
}

// A dropped peer whose senders end on their own is forgotten.
func TestDroppedPeerForgotten(t *testing.T) {
	nodes := newCluster(t, 2, clusterOpts{settle: 100 * time.Millisecond})
	a, b := nodes[0], nodes[1]
	if _, err := peerOf(t, a, b).Exec(DefaultGroup, 2, bs("PING")).Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	a.pool.Set(a.url())
	deadline := time.Now().Add(5 * time.Second)
	for {
		a.pool.mu.Lock()
		n := len(a.pool.draining)
		a.pool.mu.Unlock()
		if n == 0 && len(a.pool.state.Load().peers) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d dropped peers still listed", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCloseInterruptsRoundTrip(t *testing.T) {
	for _, tr := range transports() {
		t.Run(tr.name, func(t *testing.T) {
			hung := hungPeer(t)
			nodes := newCluster(t, 1, clusterOpts{client: tr.client(), timeout: time.Hour})
			a := nodes[0]
			a.pool.Set(a.url(), hung)
			c := a.pool.Peers()[0].Exec(DefaultGroup, 2, bs("PING"))
			start := time.Now()
			a.pool.Close()
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("Close took %v with a round trip in flight", took)
			}
			if _, err := c.Wait(t.Context()); err == nil {
				t.Error("a call in flight at Close succeeded")
			}
		})
	}
}
