package server

import (
	"sync"

	"github.com/geeredis/geeredis/cluster"
)

// Read-through. With a getter (Config.Getter), a GET or MGET that misses
// at the key's owner loads the key through the group: one getter call for
// all the concurrent misses of a key, the value stored with the TTL the
// getter gave. The load runs without the shard locked. Other reads (GETEX,
// GETRANGE, STRLEN, EXISTS...) see only what is stored.

// getReadThrough answers GET key, loading the key on a miss.
func getReadThrough(c *client, key []byte, touch bool) {
	if getStored(c, key, touch) {
		return
	}
	v, found, err := c.srv.group.Load(c.context(), key)
	replyLoaded(&c.w, v, found, err)
}

// getStored answers with the stored value of key, if there is one.
func getStored(c *client, key []byte, touch bool) bool {
	sh := c.srv.store.Lock(key)
	defer sh.Unlock()
	it, ok := readKey(sh, key, c.now(), touch)
	if ok {
		c.w.Bulk(it.Value)
	}
	return ok
}

// loaded is the outcome of one key's load.
type loaded struct {
	v     cluster.Value
	found bool
	err   error
}

// mgetReadThrough answers MGET, loading the keys missing, in parallel. The
// stored values are read in one consistent view; the loaded ones come after.
func mgetReadThrough(c *client, keys [][]byte, touch bool) {
	var stored keyArena // values of the keys found, in order
	have := make([]bool, len(keys))
	missing := 0
	func() {
		l := c.srv.store.LockKeys(keys)
		defer l.Unlock()
		for i, key := range keys {
			it, ok := readKey(l.Shard(i), key, c.now(), touch)
			if ok {
				have[i] = true
				stored.add(it.Value)
			} else {
				missing++
				stored.add(nil)
			}
		}
	}()
	loads := make([]loaded, len(keys))
	if missing > 0 {
		var wg sync.WaitGroup
		ctx := c.context()
		for i, key := range keys {
			if !have[i] {
				wg.Go(func() {
					v, found, err := c.srv.group.Load(ctx, key)
					loads[i] = loaded{v, found, err}
				})
			}
		}
		wg.Wait()
	}
	c.w.Array(len(keys))
	for i := range keys {
		if have[i] {
			c.w.Bulk(stored.at(i))
		} else {
			replyLoaded(&c.w, loads[i].v, loads[i].found, loads[i].err)
		}
	}
}
