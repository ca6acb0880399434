package cluster

import (
	"slices"

	"github.com/cespare/xxhash/v2"
)

// KeysLock holds the shards of several keys locked together, for commands
// that must see or change many keys at once (MSET, MSETNX, MGET). Get one
// from Store.LockKeys and give it back with Unlock.
type KeysLock struct {
	store  *Store
	byKey  []*Shard // the shard of each key, in the order of the keys
	locked []*Shard // each shard once, in locking order
}

// LockKeys locks the shards that hold keys, each shard once and in
// ascending order, the order Lock2 uses too, so that callers cannot
// deadlock. Shard(i) is then the shard of keys[i].
func (s *Store) LockKeys(keys [][]byte) *KeysLock {
	l := &KeysLock{store: s, byKey: make([]*Shard, len(keys))}
	idx := make([]uint64, len(keys))
	for i, key := range keys {
		idx[i] = xxhash.Sum64(key) & s.mask
		l.byKey[i] = &s.shards[idx[i]]
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	l.locked = make([]*Shard, len(idx))
	for i, n := range idx {
		l.locked[i] = &s.shards[n]
		l.locked[i].mu.Lock()
	}
	return l
}

// Shard returns the locked shard of the i-th key given to LockKeys.
func (l *KeysLock) Shard(i int) *Shard { return l.byKey[i] }

// Unlock publishes the shards' changes in bytes and unlocks them. When the
// store is then over MaxBytes it evicts, sparing the most recent key of the
// last key's shard as long as it can, as Shard.Unlock does.
func (l *KeysLock) Unlock() {
	over := false
	for _, sh := range l.locked {
		if sh.settle() {
			over = true
		}
	}
	for _, sh := range l.locked {
		sh.mu.Unlock()
	}
	if over && len(l.byKey) > 0 {
		l.store.evict(l.byKey[len(l.byKey)-1])
	}
}
