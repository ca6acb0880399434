package server

import (
	"bytes"
	"math"
	"strconv"

	"github.com/geeredis/geeredis/cluster"
	"github.com/geeredis/geeredis/lru"
	"github.com/geeredis/geeredis/resp"
)

// Key commands work on this node's store. A command on one key locks that
// key's shard for the whole command and defers the Unlock; RENAME and COPY
// lock both keys' shards with Lock2. KEYS, SCAN and RANDOMKEY see the local
// store only, one shard at a time, and never return an expired key.
//
// Lookups that Redis makes without touching the key and counts in
// keyspace_hits/misses (EXISTS, TYPE, TTL...) use Look; those it does not
// count (a write's own lookup: EXPIRE, PERSIST...) use Peek.

// keyCommands lists the key commands, with what COMMAND INFO reports of each.
func keyCommands() []*command {
	return []*command{
		{name: "del", arity: -2, flags: []string{"write"},
			acl: []string{"@keyspace", "@write", "@slow"}, tips: []string{"request_policy:multi_shard", "response_policy:agg_sum"}, keys: []keySpec{{flags: []string{"RM", "delete"}, index: 1, lastKey: -1, step: 1}}, run: cmdDel},
		{name: "unlink", arity: -2, flags: []string{"write", "fast"},
			acl: []string{"@keyspace", "@write", "@fast"}, tips: []string{"request_policy:multi_shard", "response_policy:agg_sum"}, keys: []keySpec{{flags: []string{"RM", "delete"}, index: 1, lastKey: -1, step: 1}}, run: cmdUnlink},
		{name: "exists", arity: -2, flags: []string{"readonly", "fast"},
			acl: []string{"@keyspace", "@read", "@fast"}, tips: []string{"request_policy:multi_shard", "response_policy:agg_sum"}, keys: []keySpec{{flags: []string{"RO"}, index: 1, lastKey: -1, step: 1}}, run: cmdExists},
		{name: "touch", arity: -2, flags: []string{"readonly", "fast"},
			acl: []string{"@keyspace", "@read", "@fast"}, tips: []string{"request_policy:multi_shard", "response_policy:agg_sum"}, keys: []keySpec{{flags: []string{"RO"}, index: 1, lastKey: -1, step: 1}}, run: cmdTouch},
		{name: "type", arity: 2, flags: []string{"readonly", "fast"},
			acl: []string{"@keyspace", "@read", "@fast"}, tips: []string{}, keys: oneKey("RO"), run: cmdType},
		{name: "expire", arity: -3, flags: []string{"write", "fast"},
			acl: []string{"@keyspace", "@write", "@fast"}, tips: []string{}, keys: oneKey("RW", "update"), run: cmdExpire},
		{name: "pexpire", arity: -3, flags: []string{"write", "fast"},
			acl: []string{"@keyspace", "@write", "@fast"}, tips: []string{}, keys: oneKey("RW", "update"), run: cmdPexpire},
		{name: "expireat", arity: -3, flags: []string{"write", "fast"},
			acl: []string{"@keyspace", "@write", "@fast"}, tips: []string{}, keys: oneKey("RW", "update"), run: cmdExpireat},
		{name: "pexpireat", arity: -3, flags: []string{"write", "fast"},
			acl: []string{"@keyspace", "@write", "@fast"}, tips: []string{}, keys: oneKey("RW", "update"), run: cmdPexpireat},
		{name: "ttl", arity: 2, flags: []string{"readonly", "fast"},
			acl: []string{"@keyspace", "@read", "@fast"}, tips: []string{"nondeterministic_output"}, keys: oneKey("RO", "access"), run: cmdTtl},
		{name: "pttl", arity: 2, flags: []string{"readonly", "fast"},
			acl: []string{"@keyspace", "@read", "@fast"}, tips: []string{"nondeterministic_output"}, keys: oneKey("RO", "access"), run: cmdPttl},
		{name: "expiretime", arity: 2, flags: []string{"readonly", "fast"},
			acl: []string{"@keyspace", "@read", "@fast"}, tips: []string{}, keys: oneKey("RO", "access"), run: cmdExpiretime},
		{name: "pexpiretime", arity: 2, flags: []string{"readonly", "fast"},
			acl: []string{"@keyspace", "@read", "@fast"}, tips: []string{}, keys: oneKey("RO", "access"), run: cmdPexpiretime},
		{name: "persist", arity: 2, flags: []string{"write", "fast"},
			acl: []string{"@keyspace", "@write", "@fast"}, tips: []string{}, keys: oneKey("RW", "update"), run: cmdPersist},
		{name: "keys", arity: 2, flags: []string{"readonly"},
			acl: []string{"@keyspace", "@read", "@slow", "@dangerous"}, tips: []string{"request_policy:all_shards", "nondeterministic_output_order"}, run: cmdKeys},
		{name: "scan", arity: -2, flags: []string{"readonly"},
			acl: []string{"@keyspace", "@read", "@slow"}, tips: []string{"nondeterministic_output", "request_policy:special"}, run: cmdScan},
		{name: "randomkey", arity: 1, flags: []string{"readonly"},
			acl: []string{"@keyspace", "@read", "@slow"}, tips: []string{"request_policy:all_shards", "nondeterministic_output"}, run: cmdRandomkey},
		{name: "rename", arity: 3, flags: []string{"write"},
			acl: []string{"@keyspace", "@write", "@slow"}, tips: []string{}, keys: []keySpec{{flags: []string{"RW", "access", "delete"}, index: 1, step: 1}, {flags: []string{"OW", "update"}, index: 2, step: 1}}, run: cmdRename},
		{name: "renamenx", arity: 3, flags: []string{"write", "fast"},
			acl: []string{"@keyspace", "@write", "@fast"}, tips: []string{}, keys: []keySpec{{flags: []string{"RW", "access", "delete"}, index: 1, step: 1}, {flags: []string{"OW", "insert"}, index: 2, step: 1}}, run: cmdRenamenx},
		{name: "copy", arity: -3, flags: []string{"write", "denyoom"},
			acl: []string{"@keyspace", "@write", "@slow"}, tips: []string{}, keys: []keySpec{{flags: []string{"RO", "access"}, index: 1, step: 1}, {flags: []string{"OW", "update"}, index: 2, step: 1}}, run: cmdCopy},
	}
}

// DEL key [key ...]
func cmdDel(c *client, args [][]byte) { c.w.Int(deleteKeys(c, args[1:])) }

// UNLINK key [key ...]: DEL, since freeing a value costs nothing here.
func cmdUnlink(c *client, args [][]byte) { c.w.Int(deleteKeys(c, args[1:])) }

// deleteKeys removes keys and returns how many existed.
func deleteKeys(c *client, keys [][]byte) int64 {
	now := c.now()
	var n int64
	for _, key := range keys {
		if deleteKey(c.srv.store, key, now) {
			n++
		}
	}
	return n
}

func deleteKey(st *cluster.Store, key []byte, now int64) bool {
	sh := st.Lock(key)
	defer sh.Unlock()
	return sh.Delete(key, now)
}

// EXISTS key [key ...]: a key named twice counts twice.
func cmdExists(c *client, args [][]byte) {
	now := c.now()
	var n int64
	for _, key := range args[1:] {
		if _, ok := peekKey(c.srv.store, key, now); ok {
			n++
		}
	}
	c.w.Int(n)
}

// TOUCH key [key ...] marks the keys used and counts those that exist.
func cmdTouch(c *client, args [][]byte) {
	now := c.now()
	var n int64
	for _, key := range args[1:] {
		if touchKey(c.srv.store, key, now) {
			n++
		}
	}
	c.w.Int(n)
}

func touchKey(st *cluster.Store, key []byte, now int64) bool {
	sh := st.Lock(key)
	defer sh.Unlock()
	_, ok := sh.Get(key, now)
	return ok
}

// peekKey returns key's expiry without marking the key used, counting a
// hit or a miss. The item's Value must not be used: the shard is unlocked.
func peekKey(st *cluster.Store, key []byte, now int64) (expireAt int64, ok bool) {
	sh := st.Lock(key)
	defer sh.Unlock()
	it, ok := sh.Look(key, now)
	return it.ExpireAt, ok
}

// TYPE key: every value is a string.
func cmdType(c *client, args [][]byte) {
	if _, ok := peekKey(c.srv.store, args[1], c.now()); ok {
		c.w.Simple("string")
	} else {
		c.w.Simple("none")
	}
}

// EXPIRE key seconds [NX|XX|GT|LT]
func cmdExpire(c *client, args [][]byte) { expireKey(c, args, resp.Seconds, true, "expire") }

// PEXPIRE key milliseconds [NX|XX|GT|LT]
func cmdPexpire(c *client, args [][]byte) {
	expireKey(c, args, resp.Milliseconds, true, "pexpire")
}

// EXPIREAT key unix-time-seconds [NX|XX|GT|LT]
func cmdExpireat(c *client, args [][]byte) { expireKey(c, args, resp.Seconds, false, "expireat") }

// PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]
func cmdPexpireat(c *client, args [][]byte) {
	expireKey(c, args, resp.Milliseconds, false, "pexpireat")
}

// expireKey sets args[1]'s expiry from args[2], relative to now or
// absolute, as the options allow. A time at or before now deletes the key.
// Like Redis it checks the options, then the time, then the key.
func expireKey(c *client, args [][]byte, unit resp.Unit, relative bool, name string) {
	opts, msg := resp.ParseExpireOptions(args[3:])
	if msg != "" {
		c.w.Error(msg)
		return
	}
	now, base := c.now(), int64(0)
	if relative {
		base = now
	}
	when, msg := resp.ParseExpireTime(args[2], unit, base, name)
	if msg != "" {
		c.w.Error(msg)
		return
	}
	key := args[1]
	sh := c.srv.store.Lock(key)
	defer sh.Unlock()
	it, ok := sh.Peek(key, now)
	if !ok || !expireAllowed(opts, it.ExpireAt, when) {
		c.w.Int(0)
		return
	}
	if when <= now {
		sh.Delete(key, now) // SetExpire would take 0 for "no expiry"
	} else {
		sh.SetExpire(key, when, now)
	}
	c.w.Int(1)
}

// expireAllowed applies NX, XX, GT and LT to a key whose expiry is cur (0
// for none, which GT and LT take as an infinite TTL).
func expireAllowed(o resp.ExpireOptions, cur, when int64) bool {
	switch {
	case o.NX && cur != 0, o.XX && cur == 0:
		return false
	case o.GT && (cur == 0 || when <= cur):
		return false
	case o.LT && cur != 0 && when >= cur:
		return false
	}
	return true
}

// TTL key
func cmdTtl(c *client, args [][]byte) { replyTTL(c, args[1], false, false) }

// PTTL key
func cmdPttl(c *client, args [][]byte) { replyTTL(c, args[1], true, false) }

// EXPIRETIME key
func cmdExpiretime(c *client, args [][]byte) { replyTTL(c, args[1], false, true) }

// PEXPIRETIME key
func cmdPexpiretime(c *client, args [][]byte) { replyTTL(c, args[1], true, true) }

// replyTTL answers -2 for a missing key, -1 for a key without expiry, else
// the time left (or, when abs, the expire time) in ms or rounded seconds.
func replyTTL(c *client, key []byte, ms, abs bool) {
	now := c.now()
	exp, ok := peekKey(c.srv.store, key, now)
	switch {
	case !ok:
		c.w.Int(-2)
		return
	case exp == 0:
		c.w.Int(-1)
		return
	}
	t := exp
	if !abs {
		t = max(exp-now, 0)
	}
	if !ms {
		t = roundToSeconds(t)
	}
	c.w.Int(t)
}

// roundToSeconds rounds t >= 0 ms to the nearest second, half up, as Redis's
// (t+500)/1000 without its overflow near MaxInt64.
func roundToSeconds(t int64) int64 { return t/1000 + (t%1000+500)/1000 }

// PERSIST key
func cmdPersist(c *client, args [][]byte) {
	key, now := args[1], c.now()
	sh := c.srv.store.Lock(key)
	defer sh.Unlock()
	it, ok := sh.Peek(key, now)
	if !ok || it.ExpireAt == 0 {
		c.w.Int(0)
		return
	}
	sh.SetExpire(key, 0, now)
	c.w.Int(1)
}

// keysBatch is how many keys KEYS takes from the store per shard lock.
const keysBatch = 512

// maxScanCount caps SCAN's COUNT, so that the store's work budget (ten
// times the count) cannot overflow; a larger COUNT means "everything" anyway.
const maxScanCount = math.MaxInt32

// keyList gathers copies of keys in one buffer.
type keyList struct {
	buf  []byte
	ends []int
}

func (l *keyList) add(key []byte) {
	l.buf = append(l.buf, key...)
	l.ends = append(l.ends, len(l.buf))
}

// write replies with the keys as an array of bulk strings.
func (l *keyList) write(w *resp.Writer) {
	w.Array(len(l.ends))
	start := 0
	for _, end := range l.ends {
		w.Bulk(l.buf[start:end])
		start = end
	}
}

// KEYS pattern
func cmdKeys(c *client, args [][]byte) {
	pattern, now := args[1], c.now()
	all := matchesAll(pattern)
	var keys keyList
	collect := func(key []byte, _ lru.Item) {
		if all || globMatch(pattern, key) {
			keys.add(key)
		}
	}
	for cursor := c.srv.store.Scan(0, keysBatch, now, collect); cursor != 0; {
		cursor = c.srv.store.Scan(cursor, keysBatch, now, collect)
	}
	keys.write(&c.w)
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
func cmdScan(c *client, args [][]byte) {
	cursor, ok := resp.ParseCursor(args[1])
	if !ok {
		c.w.Error(resp.MsgInvalidCursor)
		return
	}
	opts, msg := resp.ParseScanOptions(args[2:])
	if msg != "" {
		c.w.Error(msg)
		return
	}
	wanted := opts.Type == nil || isStringType(opts.Type)
	count := int(min(opts.Count, maxScanCount))
	keys := keyList{ends: make([]int, 0, min(count, 1024))}
	next := c.srv.store.Scan(cursor, count, c.now(), func(key []byte, _ lru.Item) {
		if wanted && (opts.Match == nil || globMatch(opts.Match, key)) {
			keys.add(key)
		}
	})
	var tmp [20]byte
	c.w.Array(2)
	c.w.Bulk(strconv.AppendUint(tmp[:0], next, 10))
	keys.write(&c.w)
}

// isStringType reports whether SCAN's TYPE argument names the string type.
func isStringType(name []byte) bool { return asciiEqualFold(cstr(name), "string") }

// cstr cuts b at its first NUL byte, as C string functions see an argument;
// Redis matches option names that way.
func cstr(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// asciiEqualFold reports whether b equals the lower-case word with ASCII
// case folded, as strcasecmp compares (bytes.EqualFold would also fold
// Unicode, taking "ſtring" for "string").
func asciiEqualFold(b []byte, word string) bool {
	if len(b) != len(word) {
		return false
	}
	for i, ch := range b {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != word[i] {
			return false
		}
	}
	return true
}

// RANDOMKEY
func cmdRandomkey(c *client, args [][]byte) {
	key, ok := c.srv.store.RandomKey(c.now())
	if !ok {
		c.w.Null()
		return
	}
	c.w.Bulk(key)
}

// RENAME key newkey
func cmdRename(c *client, args [][]byte) { renameKey(c, args[1], args[2], false) }

// RENAMENX key newkey
func cmdRenamenx(c *client, args [][]byte) { renameKey(c, args[1], args[2], true) }

// renameKey moves src's value and expiry to dst, replacing dst unless nx.
func renameKey(c *client, src, dst []byte, nx bool) {
	now, st := c.now(), c.srv.store
	sa, sb := st.Lock2(src, dst)
	defer st.Unlock2(sa, sb)
	it, ok := sa.Peek(src, now)
	switch {
	case !ok:
		c.w.Error(resp.MsgNoSuchKey)
		return
	case bytes.Equal(src, dst):
		replyRenamed(c, nx, false)
		return
	}
	if nx {
		if _, exists := sb.Peek(dst, now); exists {
			replyRenamed(c, nx, false)
			return
		}
	}
	sb.Set(dst, valueFor(sa, sb, it.Value), it.ExpireAt)
	sa.Delete(src, now)
	replyRenamed(c, nx, true)
}

func replyRenamed(c *client, nx, done bool) {
	switch {
	case !nx:
		c.w.OK()
	case done:
		c.w.Int(1)
	default:
		c.w.Int(0)
	}
}

// valueFor returns a value read from shard from that can be written to
// shard to: a copy when they are the same shard, where the write may move
// or overwrite the memory the value aliases.
func valueFor(from, to *cluster.Shard, value []byte) []byte {
	if from == to {
		return bytes.Clone(value)
	}
	return value
}

// COPY source destination [DB destination-db] [REPLACE]
func cmdCopy(c *client, args [][]byte) {
	src, dst := args[1], args[2]
	replace, msg := parseCopyOptions(args[3:])
	if msg != "" {
		c.w.Error(msg)
		return
	}
	if bytes.Equal(src, dst) {
		c.w.Error(resp.MsgSameObject)
		return
	}
	now, touch, st := c.now(), touches(c), c.srv.store
	sa, sb := st.Lock2(src, dst)
	defer st.Unlock2(sa, sb)
	it, ok := readKey(sa, src, now, touch)
	if !ok {
		c.w.Int(0)
		return
	}
	if _, exists := sb.Peek(dst, now); exists && !replace {
		c.w.Int(0)
		return
	}
	sb.Set(dst, valueFor(sa, sb, it.Value), it.ExpireAt)
	c.w.Int(1)
}

// parseCopyOptions reads COPY's [DB n] [REPLACE], in order, as Redis does:
// the first bad one is the error. Only database 0 exists.
func parseCopyOptions(opts [][]byte) (replace bool, msg string) {
	for i := 0; i < len(opts); i++ {
		switch opt := cstr(opts[i]); {
		case asciiEqualFold(opt, "replace"):
			replace = true
		case asciiEqualFold(opt, "db") && i+1 < len(opts):
			i++
			db, ok := resp.ParseInt(opts[i])
			switch {
			case !ok:
				return false, resp.MsgNotInt
			case db < math.MinInt32 || db > math.MaxInt32:
				return false, resp.MsgIntRange
			case db != 0:
				return false, resp.MsgDBIndex
			}
		default:
			return false, resp.MsgSyntax
		}
	}
	return replace, ""
}
