package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestNewGroupValidates(t *testing.T) {
	main, err := NewStore(StoreConfig{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  GroupConfig
	}{
		{"no main", GroupConfig{}},
		{"slash in name", GroupConfig{Name: "a/b", Main: main}},
		{"negative HotTTL", GroupConfig{Main: main, HotTTL: -time.Second}},
		{"sub-ms HotTTL", GroupConfig{Main: main, HotTTL: time.Microsecond}},
		{"negative HotEvery", GroupConfig{Main: main, HotEvery: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewGroup(tt.cfg); !errors.Is(err, ErrGroupConfig) {
				t.Errorf("err = %v, want ErrGroupConfig", err)
			}
		})
	}
	g, err := NewGroup(GroupConfig{Main: main})
	if err != nil || g.Name() != DefaultGroup {
		t.Fatalf("NewGroup of the zero config = %v, %v", g, err)
	}
}

func TestGetAcrossNodes(t *testing.T) {
	nodes := newCluster(t, 3, clusterOpts{})
	key := keyOf(t, nodes, 1, "across")
	now := time.Now().UnixMilli()
	put(nodes[1].main, string(key), "value", now+10_000)
	for i, nd := range nodes {
		v, found, err := nd.group.Get(t.Context(), key)
		if err != nil || !found || string(v.Bytes) != "value" {
			t.Fatalf("node %d: Get = %q %v %v", i, v.Bytes, found, err)
		}
		if v.TTL <= 8*time.Second || v.TTL > 10*time.Second {
			t.Errorf("node %d: TTL = %v, want about 10s", i, v.TTL)
		}
		missing := keyOf(t, nodes, 1, "missing")
		if _, found, err := nd.group.Get(t.Context(), missing); found || err != nil {
			t.Errorf("node %d: Get of a missing key = %v %v", i, found, err)
		}
	}
	if st := nodes[0].group.Stats(); st.PeerLoads != 2 || st.Gets != 2 {
		t.Errorf("node 0 stats %+v, want 2 gets answered by the owner", st)
	}
	if st := nodes[1].group.Stats(); st.Served != 4 {
		t.Errorf("owner stats %+v, want 4 gets served", st)
	}
	// PeerGetter, the seeds' interface.
	pg, ok := nodes[2].pool.PickPeer(key)
	if !ok {
		t.Fatal("PickPeer found no owner")
	}
	if v, err := pg.Get(t.Context(), DefaultGroup, key); err != nil || string(v.Bytes) != "value" {
		t.Errorf("PeerGetter.Get = %q %v", v.Bytes, err)
	}
}

func TestGetterCalledOnce(t *testing.T) {
	const n = 100
	var calls, asked atomic.Int64
	all := make(chan struct{})
	getter := GetterFunc(func(ctx context.Context, key string) (Value, error) {
		calls.Add(1)
		select {
		case <-all:
		case <-time.After(10 * time.Second):
			return Value{}, errors.New("not everyone asked")
		}
		return Value{Bytes: []byte("v:" + key), TTL: time.Minute}, nil
	})
	nodes := newCluster(t, 3, clusterOpts{getter: getter, timeout: 20 * time.Second})
	key := keyOf(t, nodes, 2, "once")
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			if asked.Add(1) == n {
				close(all)
			}
			v, found, err := nodes[i%3].group.Get(t.Context(), key)
			if err == nil && (!found || string(v.Bytes) != "v:"+string(key)) {
				err = fmt.Errorf("got %q %v", v.Bytes, found)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("getter called %d times, want 1", got)
	}
	if st := nodes[2].group.Stats(); st.Loads != 1 {
		t.Errorf("owner stats %+v, want 1 load", st)
	}
	sh := nodes[2].main.Lock(key)
	it, ok := sh.Peek(key, time.Now().UnixMilli())
	sh.Unlock()
	if !ok || it.ExpireAt == 0 {
		t.Errorf("the loaded value is not in the owner's main cache with its TTL")
	}
}

func TestLoadOutcomes(t *testing.T) {
	boom := errors.New("boom")
	getter := GetterFunc(func(ctx context.Context, key string) (Value, error) {
		switch key {
		case "absent":
			return Value{}, fmt.Errorf("origin: %w", ErrNotFound)
		case "broken":
			return Value{}, boom
		}
		return Value{Bytes: []byte(key)}, nil
	})
	nodes := newCluster(t, 2, clusterOpts{getter: getter})
	g := nodes[0].group
	if _, found, err := g.Load(t.Context(), []byte("absent")); found || err != nil {
		t.Errorf("Load of a key the getter does not have = %v %v", found, err)
	}
	if _, _, err := g.Load(t.Context(), []byte("broken")); !errors.Is(err, boom) {
		t.Errorf("Load when the getter fails: err = %v, want it wrapped", err)
	}
	if v, found, err := g.Load(t.Context(), []byte("fine")); err != nil || !found || string(v.Bytes) != "fine" {
		t.Errorf("Load = %q %v %v", v.Bytes, found, err)
	}
	if st := g.Stats(); st.Loads != 3 || st.LoadErrors != 1 {
		t.Errorf("stats %+v, want 3 loads, 1 error", st)
	}
	// A load error at the owner reaches the caller; nobody falls back.
	key := []byte("broken")
	owner := 1
	if nodes[0].pool.Owner(key) == nil {
		owner = 0
	}
	other := nodes[1-owner].group
	if _, _, err := other.Get(t.Context(), key); !errors.Is(err, ErrRemote) {
		t.Errorf("Get of a key whose load fails at the owner: err = %v, want ErrRemote", err)
	}
	if st := other.Stats(); st.Fallbacks != 0 || st.PeerErrors != 0 {
		t.Errorf("stats %+v: a remote load error is no peer error", st)
	}
}

func TestLoadKeepsConcurrentWrite(t *testing.T) {
	main, _ := NewStore(StoreConfig{})
	var g *Group
	g, err := NewGroup(GroupConfig{Main: main, Getter: GetterFunc(func(ctx context.Context, key string) (Value, error) {
		put(main, key, "written meanwhile", 0) // a SET while the origin answers
		return Value{Bytes: []byte("origin")}, nil
	})})
	if err != nil {
		t.Fatal(err)
	}
	v, found, err := g.Load(t.Context(), []byte("k"))
	if err != nil || !found || string(v.Bytes) != "written meanwhile" {
		t.Errorf("Load = %q %v %v, want the write to win", v.Bytes, found, err)
	}
}

func TestPlainCache(t *testing.T) {
	main, _ := NewStore(StoreConfig{})
	g, err := NewGroup(GroupConfig{Main: main})
	if err != nil {
		t.Fatal(err)
	}
	if _, found, err := g.Get(t.Context(), []byte("k")); found || err != nil {
		t.Errorf("Get without getter = %v %v, want a miss", found, err)
	}
	put(main, "k", "v", 0)
	if v, found, err := g.Get(t.Context(), []byte("k")); !found || err != nil || string(v.Bytes) != "v" {
		t.Errorf("Get = %q %v %v", v.Bytes, found, err)
	}
	if _, ok := g.HotGet([]byte("k"), 0, nil); ok {
		t.Error("HotGet without a hot cache found something")
	}
	g.Forget([]byte("k"))
	g.Wrote([]byte("k"))
}

func TestLoadCallerGoesAway(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	var loadCtxErr atomic.Value
	main, _ := NewStore(StoreConfig{})
	g, err := NewGroup(GroupConfig{Main: main, Getter: GetterFunc(func(ctx context.Context, key string) (Value, error) {
		close(started)
		<-release
		loadCtxErr.Store(fmt.Sprint(ctx.Err()))
		return Value{Bytes: []byte("v")}, nil
	})})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	first := make(chan error, 1)
	go func() {
		_, _, err := g.Load(ctx, []byte("k"))
		first <- err
	}()
	<-started
	second := make(chan Value, 1)
	go func() {
		v, _, _ := g.Load(t.Context(), []byte("k"))
		second <- v
	}()
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Errorf("the caller that went away got %v", err)
	}
	close(release)
	if v := <-second; string(v.Bytes) != "v" {
		t.Errorf("the caller that stayed got %q", v.Bytes)
	}
	if got := loadCtxErr.Load(); got != "<nil>" {
		t.Errorf("the getter's context: %v, want not cancelled", got)
	}
	if st := g.Stats(); st.Loads != 1 || st.LoadsDeduped != 1 {
		t.Errorf("stats %+v, want 1 load shared by 2 callers", st)
	}
}

func TestHotCopies(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Now().UnixMilli())
	nodes := newCluster(t, 3, clusterOpts{hotEvery: 1, hotTTL: 5 * time.Second, clock: &clock})
	a, b := nodes[0], nodes[1]
	key := keyOf(t, nodes, 1, "hot")
	put(b.main, string(key), "v1", 0)
	hotGet := func() string {
		v, ok := a.group.HotGet(key, clock.Load(), nil)
		if !ok {
			return "(none)"
		}
		return string(v)
	}
	mustGet := func(want string) {
		t.Helper()
		v, found, err := a.group.Get(t.Context(), key)
		if err != nil || !found || string(v.Bytes) != want {
			t.Fatalf("Get = %q %v %v, want %q", v.Bytes, found, err, want)
		}
	}

	mustGet("v1")
	if got := hotGet(); got != "v1" {
		t.Fatalf("hot copy %q after a fetch, want v1", got)
	}
	mustGet("v1") // from the hot copy
	if st := a.group.Stats(); st.PeerLoads != 1 || st.HotHits != 2 {
		t.Errorf("stats %+v, want 1 peer load and 2 hot hits", st)
	}

	// Expiry at HotTTL.
	clock.Add(5001)
	if got := hotGet(); got != "(none)" {
		t.Fatalf("hot copy %q after HotTTL", got)
	}

	// Invalidation by the owner's Wrote.
	mustGet("v1")
	put(b.main, string(key), "v2", 0)
	sent := b.pool.Stats().InvalidationsSent
	b.group.Wrote(key)
	if got := b.pool.Stats().InvalidationsSent - sent; got != 2 {
		t.Errorf("%d invalidations sent, want one to each peer", got)
	}
	barrier(t, b, a)
	if got := hotGet(); got != "(none)" {
		t.Fatalf("hot copy %q after Wrote", got)
	}
	if got := a.pool.Stats().InvalidationsReceived; got != 1 {
		t.Errorf("%d invalidations received", got)
	}
	mustGet("v2")

	// A second write: the first invalidation cleared the record, but the
	// fetch of v2 made a new one.
	b.group.Wrote(key)
	barrier(t, b, a)
	if got := hotGet(); got != "(none)" {
		t.Fatalf("hot copy %q after the second Wrote", got)
	}
	// No hot copy served since: writes send nothing.
	sent = b.pool.Stats().InvalidationsSent
	b.group.Wrote(key)
	other := keyOf(t, nodes, 1, "cold")
	b.group.Wrote(other)
	if got := b.pool.Stats().InvalidationsSent - sent; got != 0 {
		t.Errorf("%d invalidations sent for keys without hot copies", got)
	}

	// The hot copy never outlives the key's TTL.
	put(b.main, string(key), "v3", clock.Load()+1000)
	mustGet("v3")
	if got := hotGet(); got != "v3" {
		t.Fatalf("hot copy %q, want v3", got)
	}
	clock.Add(1001)
	if got := hotGet(); got != "(none)" {
		t.Fatalf("hot copy %q outlived the key's TTL", got)
	}

	// Forget drops the local copy.
	put(b.main, string(key), "v4", 0)
	mustGet("v4")
	a.group.Forget(key)
	if got := hotGet(); got != "(none)" {
		t.Fatalf("hot copy %q after Forget", got)
	}
}

func TestHotCopySkippedAfterForget(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	getter := GetterFunc(func(ctx context.Context, key string) (Value, error) {
		close(entered)
		<-release
		return Value{Bytes: []byte("old")}, nil
	})
	nodes := newCluster(t, 2, clusterOpts{getter: getter, hotEvery: 1})
	a := nodes[0]
	key := keyOf(t, nodes, 1, "race")
	done := make(chan error, 1)
	go func() {
		_, _, err := a.group.Get(t.Context(), key)
		done <- err
	}()
	<-entered
	a.group.Forget(key) // a write of key went through a while the fetch was in flight
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v, ok := a.group.HotGet(key, time.Now().UnixMilli(), nil); ok {
		t.Errorf("hot copy %q kept from a fetch that overlapped a write", v)
	}
}

func TestHotEvery(t *testing.T) {
	nodes := newCluster(t, 2, clusterOpts{}) // HotEvery 10
	a, b := nodes[0], nodes[1]
	const n = 400
	for i := range n {
		key := keyOf(t, nodes, 1, fmt.Sprint("every", i, "-"))
		put(b.main, string(key), "v", 0)
		if _, _, err := a.group.Get(t.Context(), key); err != nil {
			t.Fatal(err)
		}
	}
	kept := a.hot.Len()
	if kept < n/10/3 || kept > n/10*3 {
		t.Errorf("%d hot copies from %d fetches, want about %d", kept, n, n/10)
	}
}
