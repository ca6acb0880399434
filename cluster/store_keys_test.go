package cluster

import (
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestStoreLockKeys(t *testing.T) {
	tests := []struct {
		name string
		keys []string
	}{
		{"none", nil},
		{"one", []string{"a"}},
		{"repeated", []string{"a", "b", "a", "a"}},
		{"many", []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, StoreConfig{Shards: 8})
			keys := make([][]byte, len(tc.keys))
			for i, k := range tc.keys {
				keys[i] = []byte(k)
			}
			l := s.LockKeys(keys)
			for i, k := range keys {
				if got, want := l.Shard(i), s.shardOf(k); got != want {
					t.Errorf("Shard(%d) is not the shard of %q", i, k)
				}
				l.Shard(i).Set(k, []byte("v"+strconv.Itoa(i)), 0)
			}
			for i := 1; i < len(l.locked); i++ {
				if shardIndex(s, l.locked[i-1]) >= shardIndex(s, l.locked[i]) {
					t.Fatalf("shards not locked once each in ascending order")
				}
			}
			l.Unlock()
			recount(t, s)
			for i, k := range tc.keys {
				if slices.Index(tc.keys[i+1:], k) >= 0 {
					continue // a later value won
				}
				if v, ok := storeGet(s, k, 0); !ok || string(v) != "v"+strconv.Itoa(i) {
					t.Errorf("%s = %q, %v; want v%d", k, v, ok, i)
				}
			}
		})
	}
}

// shardIndex is sh's position in s.
func shardIndex(s *Store, sh *Shard) int {
	for i := range s.shards {
		if &s.shards[i] == sh {
			return i
		}
	}
	return -1
}

// TestStoreLockKeysNoDeadlock locks overlapping key sets in opposite orders,
// and pairs with Lock2, from several goroutines; it would hang on a lock
// order inversion.
func TestStoreLockKeysNoDeadlock(t *testing.T) {
	s := newStore(t, StoreConfig{Shards: 4, MaxBytes: 1 << 12})
	keys := make([][]byte, 12)
	for i := range keys {
		keys[i] = []byte("key" + strconv.Itoa(i))
	}
	rev := slices.Clone(keys)
	slices.Reverse(rev)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 20000 {
				switch w {
				case 0, 1:
					ks := keys
					if w == 1 {
						ks = rev
					}
					l := s.LockKeys(ks)
					for j, k := range ks {
						l.Shard(j).Set(k, []byte(strconv.Itoa(i)), 0)
					}
					l.Unlock()
				default:
					a, b := s.Lock2(keys[i%len(keys)], rev[i%len(rev)])
					s.Unlock2(a, b)
				}
			}
		})
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("LockKeys and Lock2 deadlocked")
	}
	recount(t, s)
}
