package server

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"time"

	"github.com/geeredis/geeredis/lru"
	"github.com/geeredis/geeredis/resp"
)

// serverCommands lists the server commands, with what COMMAND INFO reports of each.
func serverCommands() []*command {
	return []*command{
		{name: "info", arity: -1, flags: []string{"loading", "stale"},
			acl: []string{"@slow", "@dangerous"}, tips: []string{"nondeterministic_output", "request_policy:all_shards", "response_policy:special"}, run: cmdInfo},
		{name: "dbsize", arity: 1, flags: []string{"readonly", "fast"},
			acl: []string{"@keyspace", "@read", "@fast"}, tips: []string{"request_policy:all_shards", "response_policy:agg_sum"}, run: cmdDbsize},
		{name: "flushdb", arity: -1, flags: []string{"write"},
			acl: []string{"@keyspace", "@write", "@slow", "@dangerous"}, tips: []string{"request_policy:all_shards", "response_policy:all_succeeded"}, run: cmdFlushdb},
		{name: "flushall", arity: -1, flags: []string{"write"},
			acl: []string{"@keyspace", "@write", "@slow", "@dangerous"}, tips: []string{"request_policy:all_shards", "response_policy:all_succeeded"}, run: cmdFlushall},
		{name: "time", arity: 1, flags: []string{"loading", "stale", "fast"},
			acl: []string{"@fast"}, tips: []string{"nondeterministic_output"}, run: cmdTime},
		{name: "command", arity: -1, flags: []string{"loading", "stale"},
			acl: []string{"@slow", "@connection"}, tips: []string{"nondeterministic_output_order"}, run: cmdCommand,
			subs: []*command{
				{name: "command|docs", arity: -2, flags: []string{"loading", "stale"}, acl: []string{"@slow", "@connection"}, tips: []string{"nondeterministic_output_order"}, run: cmdCommandDocs},
				{name: "command|info", arity: -2, flags: []string{"loading", "stale"}, acl: []string{"@slow", "@connection"}, tips: []string{"nondeterministic_output_order"}, run: cmdCommandInfo},
				{name: "command|list", arity: -2, flags: []string{"loading", "stale"}, acl: []string{"@slow", "@connection"}, tips: []string{"nondeterministic_output_order"}, run: cmdCommandList},
				{name: "command|count", arity: 2, flags: []string{"loading", "stale"}, acl: []string{"@slow", "@connection"}, tips: []string{}, run: cmdCommandCount},
				{name: "command|getkeys", arity: -4, flags: []string{"loading", "stale"}, acl: []string{"@slow", "@connection"}, tips: []string{}, run: cmdCommandGetkeys},
				{name: "command|help", arity: 2, flags: []string{"loading", "stale"}, acl: []string{"@slow", "@connection"}, tips: []string{}, run: cmdCommandHelp},
			}},
		{name: "config", arity: -2, flags: []string{},
			acl: []string{"@slow"}, tips: []string{},
			subs: []*command{
				{name: "config|resetstat", arity: 2, flags: []string{"admin", "noscript", "loading", "stale"}, acl: []string{"@admin", "@slow", "@dangerous"}, tips: []string{}, run: cmdConfigResetstat},
				{name: "config|rewrite", arity: 2, flags: []string{"admin", "noscript", "loading", "stale"}, acl: []string{"@admin", "@slow", "@dangerous"}, tips: []string{}, run: cmdConfigRewrite},
				{name: "config|help", arity: 2, flags: []string{"loading", "stale"}, acl: []string{"@slow"}, tips: []string{}, run: cmdConfigHelp},
				{name: "config|get", arity: -3, flags: []string{"admin", "noscript", "loading", "stale"}, acl: []string{"@admin", "@slow", "@dangerous"}, tips: []string{}, run: cmdConfigGet},
				{name: "config|set", arity: -4, flags: []string{"admin", "noscript", "loading", "stale"}, acl: []string{"@admin", "@slow", "@dangerous"}, tips: []string{"request_policy:all_nodes", "response_policy:all_succeeded"}, run: cmdConfigSet},
			}},
		{name: "memory", arity: -2, flags: []string{},
			acl: []string{"@slow"}, tips: []string{},
			subs: []*command{
				{name: "memory|malloc-stats", arity: 2, flags: []string{}, acl: []string{"@slow"}, tips: []string{"nondeterministic_output", "request_policy:all_shards", "response_policy:special"}, run: cmdMemoryMallocStats},
				{name: "memory|help", arity: 2, flags: []string{"loading", "stale"}, acl: []string{"@slow"}, tips: []string{}, run: cmdMemoryHelp},
				{name: "memory|doctor", arity: 2, flags: []string{}, acl: []string{"@slow"}, tips: []string{"nondeterministic_output", "request_policy:all_shards", "response_policy:special"}, run: cmdMemoryDoctor},
				{name: "memory|usage", arity: -3, flags: []string{"readonly"}, acl: []string{"@read", "@slow"}, tips: []string{}, keys: []keySpec{{flags: []string{"RO"}, index: 2, step: 1}}, run: cmdMemoryUsage},
				{name: "memory|purge", arity: 2, flags: []string{}, acl: []string{"@slow"}, tips: []string{"request_policy:all_shards", "response_policy:all_succeeded"}, run: cmdMemoryPurge},
				{name: "memory|stats", arity: 2, flags: []string{}, acl: []string{"@slow"}, tips: []string{"nondeterministic_output", "request_policy:all_shards", "response_policy:special"}, run: cmdMemoryStats},
			}},
		{name: "lastsave", arity: 1, flags: []string{"loading", "stale", "fast"},
			acl: []string{"@admin", "@fast", "@dangerous"}, tips: []string{"nondeterministic_output"}, run: cmdLastsave},
		{name: "save", arity: 1, flags: []string{"admin", "noscript", "no_async_loading", "no_multi"},
			acl: []string{"@admin", "@slow", "@dangerous"}, tips: []string{}, run: cmdSave},
		{name: "bgsave", arity: -1, flags: []string{"admin", "noscript", "no_async_loading"},
			acl: []string{"@admin", "@slow", "@dangerous"}, tips: []string{}, run: cmdBgsave},
		{name: "bgrewriteaof", arity: 1, flags: []string{"admin", "noscript", "no_async_loading"},
			acl: []string{"@admin", "@slow", "@dangerous"}, tips: []string{}, run: cmdBgrewriteaof},
	}
}

// Persistence. geeredis is a cache: it keeps nothing on disk, so a request to
// save gets an error that says so rather than an "+OK" that would make an
// operator believe the data is safe. LASTSAVE and INFO's rdb_last_save_time
// report the node's start, Redis's own answer when nothing was ever saved.
const (
	msgNoPersistence = "ERR geeredis is a cache without persistence: nothing is saved to disk"
	msgNoAOF         = "ERR geeredis is a cache without persistence: there is no append only file"
)

// DBSIZE, FLUSHDB, FLUSHALL (and INFO keyspace) act on this node's store
// (FLUSH* on its hot cache too). In a cluster, a client's DBSIZE and
// FLUSH* span every node (route_keyspace.go); INFO keyspace does not.

func cmdDbsize(c *client, args [][]byte) { c.w.Int(int64(c.srv.store.Len())) }

// FLUSHDB and FLUSHALL [ASYNC|SYNC]: geeredis has one database, so both
// empty the node's store. The flush is synchronous in either mode: the
// store drops its memory at once and the garbage collector frees it later,
// which is what ASYNC promises.
func cmdFlushdb(c *client, args [][]byte) { flushStore(c, args) }

func cmdFlushall(c *client, args [][]byte) { flushStore(c, args) }

func flushStore(c *client, args [][]byte) {
	if len(args) > 2 || len(args) == 2 && !isWord(args[1], "async") && !isWord(args[1], "sync") {
		c.w.Error(resp.MsgSyntax)
		return
	}
	c.srv.store.Flush()
	if c.srv.hot != nil {
		c.srv.hot.Flush()
	}
	c.w.OK()
}

func cmdTime(c *client, args [][]byte) {
	now := time.Now().UnixMicro()
	c.w.Array(2)
	c.w.BulkInt(now / 1e6)
	c.w.BulkInt(now % 1e6)
}

func cmdLastsave(c *client, args [][]byte) { c.w.Int(c.srv.lastSave.Load()) }

func cmdSave(c *client, args [][]byte) { c.w.Error(msgNoPersistence) }

// cmdBgsave checks BGSAVE's syntax as Redis does ([SCHEDULE]) before
// refusing.
func cmdBgsave(c *client, args [][]byte) {
	if len(args) > 2 || len(args) == 2 && !isWord(args[1], "schedule") {
		c.w.Error(resp.MsgSyntax)
		return
	}
	c.w.Error(msgNoPersistence)
}

func cmdBgrewriteaof(c *client, args [][]byte) { c.w.Error(msgNoAOF) }

// MEMORY USAGE key [SAMPLES count]: the bytes the store accounts for the key
// (key, value and the per-entry overhead: what counts against maxmemory),
// nil for a missing key. Strings have nothing to sample; SAMPLES is checked
// and ignored.
func cmdMemoryUsage(c *client, args [][]byte) {
	for i := 3; i < len(args); i++ {
		if !isWord(args[i], "samples") || i+1 == len(args) {
			c.w.Error(resp.MsgSyntax)
			return
		}
		i++
		n, ok := resp.ParseInt(args[i])
		if !ok {
			c.w.Error(resp.MsgNotInt)
			return
		}
		if n < 0 {
			c.w.Error(resp.MsgSyntax)
			return
		}
	}
	key := args[2]
	sh := c.srv.store.Lock(key)
	defer sh.Unlock()
	it, ok := sh.Peek(key, c.now())
	if !ok {
		c.w.Null()
		return
	}
	c.w.Int(int64(len(key)+len(it.Value)) + lru.EntryOverhead)
}

// cmdMemoryStats answers with Redis's field names where geeredis has the
// figure (see memoryFigures for what used memory means here).
func cmdMemoryStats(c *client, args [][]byte) {
	m := c.srv.memory()
	keys := int64(c.srv.store.Len())
	perKey := int64(0)
	if keys > 0 {
		perKey = m.used / keys
	}
	c.w.Map(15)
	c.w.BulkString("total.allocated")
	c.w.Int(m.used)
	c.w.BulkString("replication.backlog")
	c.w.Int(0)
	c.w.BulkString("clients.slaves")
	c.w.Int(0)
	c.w.BulkString("aof.buffer")
	c.w.Int(0)
	c.w.BulkString("overhead.total")
	c.w.Int(m.overhead)
	c.w.BulkString("keys.count")
	c.w.Int(keys)
	c.w.BulkString("keys.bytes-per-key")
	c.w.Int(perKey)
	c.w.BulkString("dataset.bytes")
	c.w.Int(m.dataset)
	c.w.BulkString("dataset.percentage")
	c.w.Double(m.datasetPerc())
	c.w.BulkString("go.heap.live")
	c.w.Int(m.heapLive)
	c.w.BulkString("go.runtime")
	c.w.Int(m.runtime)
	c.w.BulkString("rss")
	c.w.Int(m.rss)
	c.w.BulkString("maxmemory")
	c.w.Int(m.max)
	c.w.BulkString("fragmentation")
	c.w.Double(m.fragRatio())
	c.w.BulkString("fragmentation.bytes")
	c.w.Int(m.rss - m.used)
}

// cmdMemoryDoctor looks at the figures for the problems an operator can act
// on: no memory limit, a full cache evicting keys, a process much larger
// than its data.
func cmdMemoryDoctor(c *client, args [][]byte) {
	c.w.Verbatim("txt", c.srv.memoryDoctor())
}

func (s *Server) memoryDoctor() string {
	m := s.memory()
	st := s.store.Stats()
	var problems []string
	if m.max == 0 {
		problems = append(problems, "* No memory limit: maxmemory is 0, so the cache grows until the machine runs out of memory. Set maxmemory (CONFIG SET maxmemory 1gb) to make it evict least recently used keys instead.")
	} else if st.Evictions > 0 {
		problems = append(problems, fmt.Sprintf("* Evictions: %d keys were evicted to stay within maxmemory (%s). If clients miss keys they expect, raise maxmemory.", st.Evictions, bytesToHuman(m.max)))
	}
	if m.rss > 64<<20 && m.fragRatio() > 1.5 {
		problems = append(problems, fmt.Sprintf("* High RSS: the process holds %s for %s of data and runtime state (ratio %.2f). Memory freed by the garbage collector returns to the OS over time; MEMORY PURGE returns it now.", bytesToHuman(m.rss), bytesToHuman(m.used), m.fragRatio()))
	}
	if len(problems) == 0 {
		return fmt.Sprintf("No memory problems detected: %d keys use %s of data in %s of memory (maxmemory %s).\n",
			s.store.Len(), bytesToHuman(m.dataset), bytesToHuman(m.used), bytesToHuman(m.max))
	}
	return "Memory problems detected:\n\n" + strings.Join(problems, "\n\n") + "\n"
}

// cmdMemoryMallocStats reports the Go runtime's memory classes: geeredis has
// no malloc of its own.
func cmdMemoryMallocStats(c *client, args [][]byte) {
	var b strings.Builder
	b.WriteString("___ Begin Go runtime memory statistics ___\n")
	fmt.Fprintf(&b, "Version: %s\n", runtime.Version())
	var samples []metrics.Sample
	for _, d := range metrics.All() {
		if strings.HasPrefix(d.Name, "/memory/classes/") || strings.HasPrefix(d.Name, "/gc/heap/") && d.Kind == metrics.KindUint64 {
			samples = append(samples, metrics.Sample{Name: d.Name})
		}
	}
	metrics.Read(samples)
	for _, sm := range samples {
		if sm.Value.Kind() == metrics.KindUint64 {
			fmt.Fprintf(&b, "%s %d\n", sm.Name, sm.Value.Uint64())
		}
	}
	b.WriteString("___ End Go runtime memory statistics ___\n")
	c.w.Verbatim("txt", b.String())
}

// cmdMemoryPurge returns freed memory to the operating system now.
func cmdMemoryPurge(c *client, args [][]byte) {
	debug.FreeOSMemory()
	c.w.OK()
}

func cmdMemoryHelp(c *client, args [][]byte) {
	helpReply(c, "MEMORY",
		"DOCTOR",
		"    Return memory problems reports.",
		"MALLOC-STATS",
		"    Return internal statistics report from the memory allocator (the Go runtime).",
		"PURGE",
		"    Attempt to purge dirty pages for reclamation by the allocator.",
		"STATS",
		"    Return information about the memory usage of the server.",
		"USAGE <key> [SAMPLES <count>]",
		"    Return memory in bytes used by <key> and its value. Nested values are",
		"    sampled up to <count> times (default: 5, 0 means sample all).",
	)
}

// helpReply writes a HELP reply as Redis's addReplyHelp does: a header line,
// the lines given, and the HELP entry, all as status replies.
func helpReply(c *client, cmd string, lines ...string) {
	c.w.Array(len(lines) + 3)
	c.w.Simple(cmd + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.w.Simple(l)
	}
	c.w.Simple("HELP")
	c.w.Simple("    Prints this help.")
}

// isWord reports whether b is the lower-case ASCII word s, ignoring case.
func isWord(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i, ch := range b {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != s[i] {
			return false
		}
	}
	return true
}
