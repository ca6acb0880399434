package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/geeredis/geeredis/lru"
)

func newStore(tb testing.TB, cfg StoreConfig) *Store {
	tb.Helper()
	s, err := NewStore(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func storeSet(s *Store, key string, value []byte, expireAt int64) {
	sh := s.Lock([]byte(key))
	defer sh.Unlock()
	sh.Set([]byte(key), value, expireAt)
}

func storeGet(s *Store, key string, now int64) ([]byte, bool) {
	sh := s.Lock([]byte(key))
	defer sh.Unlock()
	it, ok := sh.Get([]byte(key), now)
	return bytes.Clone(it.Value), ok
}

func storePeek(s *Store, key string, now int64) bool {
	sh := s.Lock([]byte(key))
	defer sh.Unlock()
	_, ok := sh.Peek([]byte(key), now)
	return ok
}

// recount checks that the published byte count matches the shards.
func recount(tb testing.TB, s *Store) {
	tb.Helper()
	var sum int64
	s.each(func(sh *Shard) { sum += sh.cache.Bytes() })
	if got := s.Bytes(); got != sum {
		tb.Fatalf("Bytes() = %d, shards hold %d", got, sum)
	}
}

func TestNewStore(t *testing.T) {
	tests := []struct {
		cfg    StoreConfig
		shards int
		ok     bool
	}{
		{StoreConfig{}, DefaultShards, true},
		{StoreConfig{Shards: 1}, 1, true},
		{StoreConfig{Shards: 64, MaxBytes: 1 << 20}, 64, true},
		{StoreConfig{Shards: 3}, 0, false},
		{StoreConfig{Shards: -4}, 0, false},
		{StoreConfig{MaxBytes: -1}, 0, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%+v", tt.cfg), func(t *testing.T) {
			s, err := NewStore(tt.cfg)
			if !tt.ok {
				if !errors.Is(err, ErrStoreConfig) {
					t.Fatalf("err = %v, want ErrStoreConfig", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(s.shards) != tt.shards || s.MaxBytes() != tt.cfg.MaxBytes {
				t.Fatalf("%d shards, MaxBytes %d", len(s.shards), s.MaxBytes())
			}
		})
	}
}

func TestStoreShardOps(t *testing.T) {
	s := newStore(t, StoreConfig{Shards: 4})
	storeSet(s, "a", []byte("1"), 0)
	storeSet(s, "b", []byte("22"), 50)
	steps := []struct {
		name string
		op   func(sh *Shard) bool
		key  string
		want bool
	}{
		{"get a", func(sh *Shard) bool { _, ok := sh.Get([]byte("a"), 10); return ok }, "a", true},
		{"peek b", func(sh *Shard) bool { _, ok := sh.Peek([]byte("b"), 10); return ok }, "b", true},
		{"persist b", func(sh *Shard) bool { return sh.SetExpire([]byte("b"), 0, 10) }, "b", true},
		{"get b later", func(sh *Shard) bool { _, ok := sh.Get([]byte("b"), 100); return ok }, "b", true},
		{"delete a", func(sh *Shard) bool { return sh.Delete([]byte("a"), 10) }, "a", true},
		{"get a", func(sh *Shard) bool { _, ok := sh.Get([]byte("a"), 10); return ok }, "a", false},
	}
	for _, st := range steps {
		sh := s.Lock([]byte(st.key))
		got := st.op(sh)
		sh.Unlock()
		if got != st.want {
			t.Fatalf("%s = %v, want %v", st.name, got, st.want)
		}
	}
	if s.Len() != 1 || s.Expires() != 0 || s.Bytes() != 3+lru.EntryOverhead {
		t.Fatalf("Len %d Expires %d Bytes %d", s.Len(), s.Expires(), s.Bytes())
	}
	want := StoreStats{Hits: 2, Misses: 1}
	if got := s.Stats(); got != want {
		t.Fatalf("Stats = %+v, want %+v", got, want)
	}
	s.ResetStats()
	if got := s.Stats(); got != (StoreStats{}) {
		t.Fatalf("after ResetStats: %+v", got)
	}
	s.Flush()
	if s.Len() != 0 || s.Bytes() != 0 {
		t.Fatalf("after Flush: Len %d Bytes %d", s.Len(), s.Bytes())
	}
}

func TestStoreLock2(t *testing.T) {
	s := newStore(t, StoreConfig{Shards: 2})
	keys := make([]string, 8)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	for _, a := range keys {
		for _, b := range keys {
			sa, sb := s.Lock2([]byte(a), []byte(b))
			if (sa == sb) != (s.shardOf([]byte(a)) == s.shardOf([]byte(b))) {
				t.Fatalf("Lock2(%s, %s): wrong shards", a, b)
			}
			sb.Set([]byte(b), []byte(a), 0)
			s.Unlock2(sa, sb)
		}
	}
	// Opposite orders at once must not deadlock.
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				a, b := keys[i%8], keys[(i+g+1)%8]
				if g%2 == 1 {
					a, b = b, a
				}
				sa, sb := s.Lock2([]byte(a), []byte(b))
				sa.Set([]byte(a), []byte(b), 0)
				s.Unlock2(sa, sb)
			}
		})
	}
	wg.Wait()
	recount(t, s)
}

func TestStoreEvictionBound(t *testing.T) {
	tests := []struct {
		name   string
		shards int
		max    int64
		size   func(i int) int
	}{
		{"small values", 16, 64 << 10, func(int) int { return 100 }},
		{"mixed values", 16, 256 << 10, func(i int) int { return i * 7919 % 5000 }},
		{"one shard", 1, 32 << 10, func(i int) int { return i % 300 }},
		{"many shards", 256, 128 << 10, func(int) int { return 10 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, StoreConfig{Shards: tt.shards, MaxBytes: tt.max})
			for i := range 5000 {
				storeSet(s, "key:"+strconv.Itoa(i), make([]byte, tt.size(i)), 0)
				if b := s.Bytes(); b > tt.max {
					t.Fatalf("after set %d: Bytes %d > MaxBytes %d", i, b, tt.max)
				}
			}
			recount(t, s)
			if s.Stats().Evictions == 0 || s.Bytes() < tt.max*3/4 {
				t.Fatalf("Evictions %d, Bytes %d of %d", s.Stats().Evictions, s.Bytes(), tt.max)
			}
		})
	}
}

// TestStoreEvictsLeastRecentlyUsed fills the store, reads the first half of
// the keys, and writes more: the evicted keys must come from the unread half.
func TestStoreEvictsLeastRecentlyUsed(t *testing.T) {
	const n = 8000
	value := make([]byte, 50)
	perKey := int64(len("key:0000") + len(value) + lru.EntryOverhead)
	s := newStore(t, StoreConfig{Shards: 16, MaxBytes: n * perKey})
	key := func(i int) string { return fmt.Sprintf("key:%04d", i) }
	for i := range n {
		storeSet(s, key(i), value, 0)
	}
	if s.Stats().Evictions != 0 || s.Len() != n {
		t.Fatalf("store evicted while filling: %+v, Len %d", s.Stats(), s.Len())
	}
	for i := range n / 2 {
		if _, ok := storeGet(s, key(i), 0); !ok {
			t.Fatalf("%s missing", key(i))
		}
	}
	for i := range n / 4 {
		storeSet(s, "new:"+strconv.Itoa(i), value, 0)
	}
	if got := s.Stats().Evictions; got < n/4-10 || got > n/4+10 {
		t.Fatalf("Evictions = %d, want about %d", got, n/4)
	}
	readLost, unreadLost := 0, 0
	for i := range n {
		if !storePeek(s, key(i), 0) {
			if i < n/2 {
				readLost++
			} else {
				unreadLost++
			}
		}
	}
	// Each shard evicts its own oldest keys, so the order is LRU within a
	// shard and close to it overall.
	t.Logf("lost %d read, %d unread", readLost, unreadLost)
	if readLost > n/200 || unreadLost < n/4-n/100 {
		t.Fatalf("lost %d read keys and %d unread keys", readLost, unreadLost)
	}
}

func TestStoreLargeValue(t *testing.T) {
	s := newStore(t, StoreConfig{MaxBytes: 64 << 20}) // 256 shards: 256 KiB each on average
	for i := range 30_000 {
		storeSet(s, "k"+strconv.Itoa(i), make([]byte, 2000), 0)
	}
	big := bytes.Repeat([]byte{'x'}, 10<<20)
	storeSet(s, "big", big, 0)
	if got, ok := storeGet(s, "big", 0); !ok || !bytes.Equal(got, big) {
		t.Fatal("10 MB value not stored")
	}
	if s.Bytes() > s.MaxBytes() {
		t.Fatalf("Bytes %d > MaxBytes %d", s.Bytes(), s.MaxBytes())
	}
	// A value larger than MaxBytes is stored and then evicted like Redis does.
	storeSet(s, "huge", make([]byte, 65<<20), 0)
	if storePeek(s, "huge", 0) || s.Bytes() > s.MaxBytes() {
		t.Fatalf("huge value kept: Bytes %d", s.Bytes())
	}
	recount(t, s)
}

func TestStoreSetMaxBytes(t *testing.T) {
	s := newStore(t, StoreConfig{Shards: 8})
	for i := range 10_000 {
		storeSet(s, strconv.Itoa(i), make([]byte, 100), 0)
	}
	full := s.Bytes()
	tests := []int64{full / 2, full / 10, 1000, 0}
	for _, limit := range tests {
		s.SetMaxBytes(limit)
		if limit > 0 && s.Bytes() > limit {
			t.Fatalf("SetMaxBytes(%d): Bytes %d", limit, s.Bytes())
		}
		if limit > 0 && s.Bytes() < limit-2*(100+5+lru.EntryOverhead)*8 {
			t.Fatalf("SetMaxBytes(%d): evicted down to %d", limit, s.Bytes())
		}
		recount(t, s)
	}
	if s.MaxBytes() != 0 || s.Len() == 0 {
		t.Fatalf("MaxBytes %d Len %d", s.MaxBytes(), s.Len())
	}
}

func TestStoreExpiry(t *testing.T) {
	s := newStore(t, StoreConfig{Shards: 8})
	const now = 1_000_000
	for i := range 3000 {
		exp := int64(0)
		if i%3 == 0 {
			exp = now + int64(i%100)
		}
		storeSet(s, strconv.Itoa(i), []byte("v"), exp)
	}
	if s.Expires() != 1000 {
		t.Fatalf("Expires = %d", s.Expires())
	}
	// Lazy: a read after the expiry removes the key.
	if _, ok := storeGet(s, "0", now+1); ok {
		t.Fatal("expired key returned")
	}
	if _, ok := storeGet(s, "3", now+3); !ok {
		t.Fatal("key returned missing at its expiry instant")
	}
	// Active: ten cycles examine every key.
	before := s.Bytes()
	for range expireSweep {
		s.ExpireCycle(now + 1000)
	}
	if s.Len() != 2000 || s.Expires() != 0 || s.Stats().ExpiredKeys != 1000 {
		t.Fatalf("Len %d Expires %d Stats %+v", s.Len(), s.Expires(), s.Stats())
	}
	if want := before - 999*(1+lru.EntryOverhead) - 999*3; s.Bytes() > want {
		t.Fatalf("Bytes %d, want at most %d", s.Bytes(), want)
	}
	recount(t, s)
}

func TestStoreRunDropsExpiredKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newStore(t, StoreConfig{Shards: 4})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			s.Run(ctx)
			close(done)
		}()
		now := time.Now().UnixMilli()
		for i := range 1000 {
			storeSet(s, strconv.Itoa(i), []byte("v"), now+500)
		}
		storeSet(s, "keep", []byte("v"), 0)
		time.Sleep(2 * time.Second) // virtual time: 20 ticks
		synctest.Wait()
		if s.Len() != 1 || s.Stats().ExpiredKeys != 1000 {
			t.Fatalf("after 2 s: Len %d, %+v", s.Len(), s.Stats())
		}
		cancel()
		<-done
	})
}

// TestStoreScanGuarantee changes the store between Scan calls and checks
// that keys present for the whole scan come back exactly once (ids are
// stable, so none is visited twice).
func TestStoreScanGuarantee(t *testing.T) {
	for _, count := range []int{3, 10, 1000} {
		t.Run(strconv.Itoa(count), func(t *testing.T) {
			s := newStore(t, StoreConfig{Shards: 16})
			for i := range 2000 {
				storeSet(s, "stable:"+strconv.Itoa(i), []byte("v"), 0)
				storeSet(s, "churn:"+strconv.Itoa(i), []byte("v"), 0)
			}
			seen := map[string]int{}
			cursor, calls := uint64(0), 0
			for {
				cursor = s.Scan(cursor, count, 0, func(key []byte, _ lru.Item) { seen[string(key)]++ })
				calls++
				for j := range 2 {
					c := strconv.Itoa(calls*2 + j)
					sh := s.Lock([]byte("churn:" + c))
					sh.Delete([]byte("churn:"+c), 0)
					sh.Unlock()
					storeSet(s, "new:"+c, []byte("v"), 0)
					storeSet(s, "stable:"+strconv.Itoa((calls*2+j)%2000), make([]byte, j*100+calls%50), 0)
				}
				if cursor == 0 {
					break
				}
			}
			for i := range 2000 {
				if k := "stable:" + strconv.Itoa(i); seen[k] != 1 {
					t.Fatalf("%s seen %d times", k, seen[k])
				}
			}
			if limit := 2 * 4000 / count; calls > limit {
				t.Fatalf("%d calls at count %d for 4000 keys", calls, count)
			}
		})
	}
}

func TestStoreRandomKey(t *testing.T) {
	s := newStore(t, StoreConfig{Shards: 8})
	if _, ok := s.RandomKey(0); ok {
		t.Fatal("RandomKey on an empty store")
	}
	storeSet(s, "a", []byte("1"), 0)
	storeSet(s, "b", []byte("1"), 0)
	storeSet(s, "gone", []byte("1"), 5)
	seen := map[string]bool{}
	for range 200 {
		k, ok := s.RandomKey(10)
		if !ok || string(k) == "gone" {
			t.Fatalf("RandomKey = %q %v", k, ok)
		}
		seen[string(k)] = true
		k[0] = 'z' // a copy: the store must not change
	}
	if len(seen) != 2 || !storePeek(s, "a", 10) || !storePeek(s, "b", 10) {
		t.Fatalf("seen %v", seen)
	}
}

// TestStoreConcurrent runs every operation from several goroutines at once
// (meant for -race) and checks the byte count and limit afterwards.
func TestStoreConcurrent(t *testing.T) {
	const limit = 200 << 10
	s := newStore(t, StoreConfig{Shards: 8, MaxBytes: limit})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 0))
			for i := range 5000 {
				k := []byte("k" + strconv.Itoa(r.IntN(3000)))
				now := int64(i)
				switch r.IntN(10) {
				case 0, 1, 2:
					sh := s.Lock(k)
					sh.Set(k, make([]byte, r.IntN(400)), int64(r.IntN(2)*(i+r.IntN(50))))
					sh.Unlock()
				case 3, 4:
					sh := s.Lock(k)
					sh.Get(k, now)
					sh.Unlock()
				case 5:
					sh := s.Lock(k)
					sh.Delete(k, now)
					sh.Unlock()
				case 6:
					k2 := []byte("k" + strconv.Itoa(r.IntN(3000)))
					sa, sb := s.Lock2(k, k2)
					if it, ok := sa.Peek(k, now); ok {
						sb.Set(k2, bytes.Clone(it.Value), 0)
					}
					s.Unlock2(sa, sb)
				case 7:
					s.Scan(uint64(r.IntN(5000)), 20, now, func([]byte, lru.Item) {})
				case 8:
					s.ExpireCycle(now)
				case 9:
					s.RandomKey(now)
					s.Stats()
				}
			}
		})
	}
	wg.Wait()
	recount(t, s)
	if s.Bytes() > limit {
		t.Fatalf("Bytes %d > limit %d", s.Bytes(), limit)
	}
}

func ExampleStore() {
	s, err := NewStore(StoreConfig{MaxBytes: 64 << 20})
	if err != nil {
		panic(err)
	}
	now := int64(1_700_000_000_000)

	sh := s.Lock([]byte("greeting"))
	sh.Set([]byte("greeting"), []byte("hello"), now+10_000)
	sh.Unlock() // publishes the new byte count, evicts if over MaxBytes

	sh = s.Lock([]byte("greeting"))
	it, ok := sh.Get([]byte("greeting"), now)
	value := bytes.Clone(it.Value) // it.Value aliases the store until Unlock
	sh.Unlock()

	fmt.Println(string(value), ok, s.Len(), s.Bytes())
	// Output: hello true 1 77
}

func TestStoreHotPathsDoNotAllocate(t *testing.T) {
	s := newStore(t, StoreConfig{MaxBytes: 1 << 30})
	key, val := []byte("0123456789abcdef"), make([]byte, 100)
	storeSet(s, string(key), val, 0)
	tests := []struct {
		name string
		op   func(sh *Shard)
	}{
		{"Get", func(sh *Shard) { sh.Get(key, 0) }},
		{"Set overwrite", func(sh *Shard) { sh.Set(key, val, 0) }},
	}
	for _, tt := range tests {
		n := testing.AllocsPerRun(1000, func() {
			sh := s.Lock(key)
			tt.op(sh)
			sh.Unlock()
		})
		if n != 0 {
			t.Errorf("%s: %v allocs per run", tt.name, n)
		}
	}
}
