package server

import (
	"math"
	"strconv"

	"github.com/geeredis/geeredis/cluster"
	"github.com/geeredis/geeredis/lru"
	"github.com/geeredis/geeredis/resp"
)

// stringCommands lists the string commands, with what COMMAND INFO reports of each.
func stringCommands() []*command {
	return []*command{
		{name: "get", arity: 2, flags: []string{"readonly", "fast"},
			acl: []string{"@read", "@string", "@fast"}, tips: []string{}, keys: oneKey("RO", "access"), run: cmdGet},
		{name: "set", arity: -3, flags: []string{"write", "denyoom"},
			acl: []string{"@write", "@string", "@slow"}, tips: []string{}, keys: []keySpec{{notes: "RW and ACCESS due to the optional `GET` argument", flags: []string{"RW", "access", "update", "variable_flags"}, index: 1, step: 1}}, run: cmdSet},
		{name: "setnx", arity: 3, flags: []string{"write", "denyoom", "fast"},
			acl: []string{"@write", "@string", "@fast"}, tips: []string{}, keys: oneKey("OW", "insert"), run: cmdSetnx},
		{name: "setex", arity: 4, flags: []string{"write", "denyoom"},
			acl: []string{"@write", "@string", "@slow"}, tips: []string{}, keys: oneKey("OW", "update"), run: cmdSetex},
		{name: "psetex", arity: 4, flags: []string{"write", "denyoom"},
			acl: []string{"@write", "@string", "@slow"}, tips: []string{}, keys: oneKey("OW", "update"), run: cmdPsetex},
		{name: "getset", arity: 3, flags: []string{"write", "denyoom", "fast"},
			acl: []string{"@write", "@string", "@fast"}, tips: []string{}, keys: oneKey("RW", "access", "update"), run: cmdGetset},
		{name: "getdel", arity: 2, flags: []string{"write", "fast"},
			acl: []string{"@write", "@string", "@fast"}, tips: []string{}, keys: oneKey("RW", "access", "delete"), run: cmdGetdel},
		{name: "getex", arity: -2, flags: []string{"write", "fast"},
			acl: []string{"@write", "@string", "@fast"}, tips: []string{}, keys: []keySpec{{notes: "RW and UPDATE because it changes the TTL", flags: []string{"RW", "access", "update"}, index: 1, step: 1}}, run: cmdGetex},
		{name: "mget", arity: -2, flags: []string{"readonly", "fast"},
			acl: []string{"@read", "@string", "@fast"}, tips: []string{"request_policy:multi_shard"}, keys: []keySpec{{flags: []string{"RO", "access"}, index: 1, lastKey: -1, step: 1}}, run: cmdMget},
		{name: "mset", arity: -3, flags: []string{"write", "denyoom"},
			acl: []string{"@write", "@string", "@slow"}, tips: []string{"request_policy:multi_shard", "response_policy:all_succeeded"}, keys: []keySpec{{flags: []string{"OW", "update"}, index: 1, lastKey: -1, step: 2}}, run: cmdMset},
		{name: "msetnx", arity: -3, flags: []string{"write", "denyoom"},
			acl: []string{"@write", "@string", "@slow"}, tips: []string{"request_policy:multi_shard", "response_policy:agg_min"}, keys: []keySpec{{flags: []string{"OW", "insert"}, index: 1, lastKey: -1, step: 2}}, run: cmdMsetnx},
		{name: "append", arity: 3, flags: []string{"write", "denyoom", "fast"},
			acl: []string{"@write", "@string", "@fast"}, tips: []string{}, keys: oneKey("RW", "insert"), run: cmdAppend},
		{name: "strlen", arity: 2, flags: []string{"readonly", "fast"},
			acl: []string{"@read", "@string", "@fast"}, tips: []string{}, keys: oneKey("RO"), run: cmdStrlen},
		{name: "incr", arity: 2, flags: []string{"write", "denyoom", "fast"},
			acl: []string{"@write", "@string", "@fast"}, tips: []string{}, keys: oneKey("RW", "access", "update"), run: cmdIncr},
		{name: "decr", arity: 2, flags: []string{"write", "denyoom", "fast"},
			acl: []string{"@write", "@string", "@fast"}, tips: []string{}, keys: oneKey("RW", "access", "update"), run: cmdDecr},
		{name: "incrby", arity: 3, flags: []string{"write", "denyoom", "fast"},
			acl: []string{"@write", "@string", "@fast"}, tips: []string{}, keys: oneKey("RW", "access", "update"), run: cmdIncrby},
		{name: "decrby", arity: 3, flags: []string{"write", "denyoom", "fast"},
			acl: []string{"@write", "@string", "@fast"}, tips: []string{}, keys: oneKey("RW", "access", "update"), run: cmdDecrby},
		{name: "incrbyfloat", arity: 3, flags: []string{"write", "denyoom", "fast"},
			acl: []string{"@write", "@string", "@fast"}, tips: []string{}, keys: oneKey("RW", "access", "update"), run: cmdIncrbyfloat},
		{name: "getrange", arity: 4, flags: []string{"readonly"},
			acl: []string{"@read", "@string", "@slow"}, tips: []string{}, keys: oneKey("RO", "access"), run: cmdGetrange},
		{name: "setrange", arity: 4, flags: []string{"write", "denyoom"},
			acl: []string{"@write", "@string", "@slow"}, tips: []string{}, keys: oneKey("RW", "update"), run: cmdSetrange},
	}
}

// A string command locks the shard of its key for the whole command, so
// that what it reads and what it writes form one atomic step (SET NX, INCR,
// GETDEL...), and defers the Unlock so that a panic cannot leave the shard
// locked. Values read from a shard alias the store's memory: they are
// written to the reply, or copied, before the Unlock.

// touches reports whether c's reads mark keys as recently used: not after
// CLIENT NO-TOUCH ON. Only c's own goroutine writes noTouch (under c.mu,
// for CLIENT LIST's readers), so that goroutine reads it without the lock.
func touches(c *client) bool { return !c.noTouch }

// readKey looks key up for a command that reads it, counting a hit or a
// miss: Get, which marks it used, or Look for a no-touch client.
func readKey(sh *cluster.Shard, key []byte, now int64, touch bool) (lru.Item, bool) {
	if touch {
		return sh.Get(key, now)
	}
	return sh.Look(key, now)
}

// bulkOrNull replies with the item's value, or nil when there is none.
func bulkOrNull(c *client, it lru.Item, ok bool) {
	if ok {
		c.w.Bulk(it.Value)
	} else {
		c.w.Null()
	}
}

// GET key; with a getter, a miss loads the key (readthrough.go).
func cmdGet(c *client, args [][]byte) {
	key, touch := args[1], touches(c)
	if c.srv.getter {
		getReadThrough(c, key, touch)
		return
	}
	sh := c.srv.store.Lock(key)
	defer sh.Unlock()
	it, ok := readKey(sh, key, c.now(), touch)
	bulkOrNull(c, it, ok)
}

// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]
func cmdSet(c *client, args [][]byte) {
	o, msg := resp.ParseSetOptions(args[3:], c.now())
	if msg != "" {
		c.w.Error(msg)
		return
	}
	setString(c, args[1], args[2], o)
}

// setString runs SET once its options are parsed. With GET it replies with
// the old value (read before the write overwrites it), else +OK, or nil
// when NX or XX stop the write.
func setString(c *client, key, value []byte, o resp.SetOptions) {
	now := c.now()
	sh := c.srv.store.Lock(key)
	defer sh.Unlock()
	var old lru.Item
	var found bool
	switch {
	case o.Get:
		old, found = sh.Get(key, now)
		bulkOrNull(c, old, found)
	case o.NX || o.XX || o.KeepTTL:
		old, found = sh.Peek(key, now)
	}
	if o.NX && found || o.XX && !found {
		if !o.Get {
			c.w.Null()
		}
		return
	}
	expireAt := o.ExpireAt
	if o.KeepTTL {
		expireAt = old.ExpireAt // 0 for a new key
	}
	if expireAt != 0 && expireAt <= now {
		sh.Delete(key, now) // EXAT/PXAT in the past: set and gone at once
	} else {
		sh.Set(key, value, expireAt)
	}
	if !o.Get {
		c.w.OK()
	}
}

// SETNX key value
func cmdSetnx(c *client, args [][]byte) {
	key, now := args[1], c.now()
	sh := c.srv.store.Lock(key)
	defer sh.Unlock()
	if _, found := sh.Peek(key, now); found {
		c.w.Int(0)
		return
	}
	sh.Set(key, args[2], 0)
	c.w.Int(1)
}

// SETEX key seconds value
func cmdSetex(c *client, args [][]byte) { setexGeneric(c, args, resp.Seconds, "setex") }

// PSETEX key milliseconds value
func cmdPsetex(c *client, args [][]byte) { setexGeneric(c, args, resp.Milliseconds, "psetex") }

func setexGeneric(c *client, args [][]byte, unit resp.Unit, name string) {
	at, msg := resp.ParseSetExpire(args[2], unit, true, c.now(), name)
	if msg != "" {
		c.w.Error(msg)
		return
	}
	setString(c, args[1], args[3], resp.SetOptions{ExpireAt: at})
}

// GETSET key value: SET key value GET, clearing any expiry.
func cmdGetset(c *client, args [][]byte) {
	setString(c, args[1], args[2], resp.SetOptions{Get: true})
}

// GETDEL key
func cmdGetdel(c *client, args [][]byte) {
	key, now := args[1], c.now()
	sh := c.srv.store.Lock(key)
	defer sh.Unlock()
	it, ok := sh.Get(key, now)
	bulkOrNull(c, it, ok)
	if ok {
		sh.Delete(key, now)
	}
}

// GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST]
func cmdGetex(c *client, args [][]byte) {
	key, now, touch := args[1], c.now(), touches(c)
	o, msg := resp.ParseGetexOptions(args[2:], now)
	if msg != "" {
		c.w.Error(msg)
		return
	}
	sh := c.srv.store.Lock(key)
	defer sh.Unlock()
	it, ok := readKey(sh, key, now, touch)
	if !ok {
		c.w.Null() // Redis looks at the expire value only for a key it found
		return
	}
	if o.ExpireErr != "" {
		c.w.Error(o.ExpireErr)
		return
	}
	c.w.Bulk(it.Value)
	switch {
	case o.ExpireAt != 0:
		sh.SetExpire(key, o.ExpireAt, now) // removes the key if the time has passed
	case o.Persist:
		sh.SetExpire(key, 0, now)
	}
}

// MGET key [key ...]: one consistent view of all the keys, as in Redis;
// with a getter, the keys missing are loaded (readthrough.go).
func cmdMget(c *client, args [][]byte) {
	keys, now, touch := args[1:], c.now(), touches(c)
	if c.srv.getter {
		mgetReadThrough(c, keys, touch)
		return
	}
	l := c.srv.store.LockKeys(keys)
	defer l.Unlock()
	c.w.Array(len(keys))
	for i, key := range keys {
		it, ok := readKey(l.Shard(i), key, now, touch)
		bulkOrNull(c, it, ok)
	}
}

// MSET key value [key value ...]: all keys at once, expiries cleared.
func cmdMset(c *client, args [][]byte) {
	if len(args)%2 == 0 {
		c.w.Error(resp.MsgWrongArgs("mset"))
		return
	}
	l := lockPairs(c, args)
	defer l.Unlock()
	for i := 1; i < len(args); i += 2 {
		l.Shard(i/2).Set(args[i], args[i+1], 0)
	}
	c.w.OK()
}

// MSETNX key value [key value ...]: all keys, or none if any exists.
func cmdMsetnx(c *client, args [][]byte) {
	if len(args)%2 == 0 {
		c.w.Error(resp.MsgWrongArgs("msetnx"))
		return
	}
	now := c.now()
	l := lockPairs(c, args)
	defer l.Unlock()
	for i := 1; i < len(args); i += 2 {
		if _, found := l.Shard(i/2).Peek(args[i], now); found {
			c.w.Int(0)
			return
		}
	}
	for i := 1; i < len(args); i += 2 {
		l.Shard(i/2).Set(args[i], args[i+1], 0)
	}
	c.w.Int(1)
}

// lockPairs locks the shards of the keys of "CMD key value [key value ...]";
// the shard of args[i] is Shard(i/2).
func lockPairs(c *client, args [][]byte) *cluster.KeysLock {
	keys := make([][]byte, 0, len(args)/2)
	for i := 1; i < len(args); i += 2 {
		keys = append(keys, args[i])
	}
	return c.srv.store.LockKeys(keys)
}

// APPEND key value
func cmdAppend(c *client, args [][]byte) {
	key, tail, now := args[1], args[2], c.now()
	sh := c.srv.store.Lock(key)
	defer sh.Unlock()
	it, found := sh.Peek(key, now)
	if !found {
		sh.Set(key, tail, 0)
		c.w.Int(int64(len(tail)))
		return
	}
	if int64(len(tail)) > c.srv.set.protoMaxBulkLen.Load()-int64(len(it.Value)) {
		c.w.Error(resp.MsgStringTooLong)
		return
	}
	v := make([]byte, 0, len(it.Value)+len(tail))
	v = append(append(v, it.Value...), tail...)
	sh.Set(key, v, it.ExpireAt)
	c.w.Int(int64(len(v)))
}

// STRLEN key
func cmdStrlen(c *client, args [][]byte) {
	key, touch := args[1], touches(c)
	sh := c.srv.store.Lock(key)
	defer sh.Unlock()
	it, _ := readKey(sh, key, c.now(), touch)
	c.w.Int(int64(len(it.Value)))
}

// INCR key
func cmdIncr(c *client, args [][]byte) { incrBy(c, args[1], 1) }

// DECR key
func cmdDecr(c *client, args [][]byte) { incrBy(c, args[1], -1) }

// INCRBY key increment
func cmdIncrby(c *client, args [][]byte) {
	n, ok := resp.ParseInt(args[2])
	if !ok {
		c.w.Error(resp.MsgNotInt)
		return
	}
	incrBy(c, args[1], n)
}

// DECRBY key decrement
func cmdDecrby(c *client, args [][]byte) {
	n, ok := resp.ParseInt(args[2])
	switch {
	case !ok:
		c.w.Error(resp.MsgNotInt)
	case n == math.MinInt64:
		c.w.Error(resp.MsgDecrOverflow) // -n does not exist
	default:
		incrBy(c, args[1], -n)
	}
}

// incrBy adds delta to the integer at key (0 when missing), keeping its
// expiry, and replies with the result.
func incrBy(c *client, key []byte, delta int64) {
	now := c.now()
	sh := c.srv.store.Lock(key)
	defer sh.Unlock()
	it, found := sh.Peek(key, now)
	var cur int64
	if found {
		var ok bool
		if cur, ok = resp.ParseInt(it.Value); !ok {
			c.w.Error(resp.MsgNotInt)
			return
		}
	}
	if delta < 0 && cur < 0 && delta < math.MinInt64-cur ||
		delta > 0 && cur > 0 && delta > math.MaxInt64-cur {
		c.w.Error(resp.MsgOverflow)
		return
	}
	cur += delta
	var buf [20]byte
	sh.Set(key, strconv.AppendInt(buf[:0], cur, 10), it.ExpireAt)
	c.w.Int(cur)
}

// INCRBYFLOAT key increment, computed in long double as Redis does.
func cmdIncrbyfloat(c *client, args [][]byte) {
	key, now := args[1], c.now()
	sh := c.srv.store.Lock(key)
	defer sh.Unlock()
	it, found := sh.Peek(key, now)
	var buf [64]byte
	v, msg := resp.IncrByFloat(buf[:0], it.Value, found, args[2])
	if msg != "" {
		c.w.Error(msg)
		return
	}
	sh.Set(key, v, it.ExpireAt)
	c.w.Bulk(v)
}

// GETRANGE key start end, with Redis's clamping of the indexes.
func cmdGetrange(c *client, args [][]byte) {
	start, ok1 := resp.ParseInt(args[2])
	end, ok2 := resp.ParseInt(args[3])
	if !ok1 || !ok2 {
		c.w.Error(resp.MsgNotInt)
		return
	}
	key, touch := args[1], touches(c)
	sh := c.srv.store.Lock(key)
	defer sh.Unlock()
	it, _ := readKey(sh, key, c.now(), touch)
	c.w.Bulk(substr(it.Value, start, end))
}

// substr is the part of v from start to end inclusive, counting negative
// indexes from the end, as GETRANGE has it: indexes are clamped to the
// string, both negative with start > end is empty, and so is start > end.
func substr(v []byte, start, end int64) []byte {
	n := int64(len(v))
	if start < 0 && end < 0 && start > end {
		return nil
	}
	if start < 0 {
		start = max(n+start, 0)
	}
	if end < 0 {
		end = max(n+end, 0)
	}
	end = min(end, n-1)
	if start > end || n == 0 {
		return nil
	}
	return v[start : end+1]
}

// SETRANGE key offset value, padding with zero bytes, keeping the expiry.
func cmdSetrange(c *client, args [][]byte) {
	offset, ok := resp.ParseInt(args[2])
	if !ok {
		c.w.Error(resp.MsgNotInt)
		return
	}
	if offset < 0 {
		c.w.Error(resp.MsgOffset)
		return
	}
	key, patch, now := args[1], args[3], c.now()
	sh := c.srv.store.Lock(key)
	defer sh.Unlock()
	it, found := sh.Peek(key, now)
	if len(patch) == 0 {
		c.w.Int(int64(len(it.Value))) // nothing to write, nothing created
		return
	}
	if offset > c.srv.set.protoMaxBulkLen.Load()-int64(len(patch)) {
		c.w.Error(resp.MsgStringTooLong)
		return
	}
	v := make([]byte, max(int64(len(it.Value)), offset+int64(len(patch))))
	copy(v, it.Value)
	copy(v[offset:], patch)
	var expireAt int64
	if found {
		expireAt = it.ExpireAt
	}
	sh.Set(key, v, expireAt)
	c.w.Int(int64(len(v)))
}
