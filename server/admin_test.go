package server

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/geeredis/geeredis/lru"
	"github.com/geeredis/geeredis/resp"
)

// putKey stores key=value in s's store directly, expiring at expireAt (Unix
// ms, 0 for never).
func putKey(tb testing.TB, s *Server, key, value string, expireAt int64) {
	tb.Helper()
	sh := s.store.Lock([]byte(key))
	defer sh.Unlock()
	sh.Set([]byte(key), []byte(value), expireAt)
}

// getKey reads key from s's store as GET does, counting a hit or a miss.
func getKey(tb testing.TB, s *Server, key string) bool {
	tb.Helper()
	sh := s.store.Lock([]byte(key))
	defer sh.Unlock()
	_, ok := sh.Get([]byte(key), time.Now().UnixMilli())
	return ok
}

func bulk(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }

func errReply(msg string) string { return "-" + msg + "\r\n" }

// Replies checked against redis-server 7.0.15, except where geeredis says
// something else on purpose (persistence, the policy list).
func TestAdminReplies(t *testing.T) {
	getInfo := "*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n" +
		"*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n" +
		"$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n" +
		"$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n" +
		"*0\r\n"
	configGetInfo := "*10\r\n$10\r\nconfig|get\r\n:-3\r\n*4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n*0\r\n*0\r\n*0\r\n"
	tests := []struct {
		setup []string
		cmd   string
		want  string
	}{
		{cmd: "DBSIZE", want: ":0\r\n"},
		{cmd: "FLUSHALL", want: "+OK\r\n"},
		{cmd: "FLUSHALL async", want: "+OK\r\n"},
		{cmd: "FLUSHDB SYNC", want: "+OK\r\n"},
		{cmd: "FLUSHALL foo", want: errReply(resp.MsgSyntax)},
		{cmd: "FLUSHDB SYNC ASYNC", want: errReply(resp.MsgSyntax)},
		{cmd: "SAVE", want: errReply(msgNoPersistence)},
		{cmd: "BGSAVE", want: errReply(msgNoPersistence)},
		{cmd: "BGSAVE SCHEDULE", want: errReply(msgNoPersistence)},
		{cmd: "BGSAVE foo", want: errReply(resp.MsgSyntax)},
		{cmd: "BGREWRITEAOF", want: errReply(msgNoAOF)},

		{cmd: "COMMAND INFO get", want: "*1\r\n" + getInfo},
		{cmd: "COMMAND INFO GET", want: "*1\r\n" + getInfo},
		{cmd: "COMMAND INFO config|get", want: "*1\r\n" + configGetInfo},
		{cmd: "COMMAND INFO nosuch get", want: "*2\r\n$-1\r\n" + getInfo},
		{setup: []string{"HELLO 3"}, cmd: "COMMAND INFO get nosuch",
			want: "*2\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n" +
				"~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n" +
				"$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n" +
				"$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n" +
				"~0\r\n_\r\n"},
		{cmd: "COMMAND LIST FILTERBY PATTERN CONF*",
			want: "*6\r\n" + bulk("config") + bulk("config|resetstat") + bulk("config|rewrite") + bulk("config|help") + bulk("config|get") + bulk("config|set")},
		{cmd: "COMMAND LIST FILTERBY pattern memory|[pu]*", want: "*2\r\n" + bulk("memory|usage") + bulk("memory|purge")},
		{cmd: "COMMAND LIST FILTERBY ACLCAT nosuch", want: "*0\r\n"},
		{cmd: "COMMAND LIST FILTERBY MODULE x", want: "*0\r\n"},
		{cmd: "COMMAND LIST FILTERBY foo x", want: errReply(resp.MsgSyntax)},
		{cmd: "COMMAND LIST FILTERBY", want: errReply(resp.MsgSyntax)},
		{cmd: "COMMAND LIST foo", want: errReply(resp.MsgSyntax)},
		{cmd: "COMMAND GETKEYS get a", want: "*1\r\n$1\r\na\r\n"},
		{cmd: "COMMAND GETKEYS GET a", want: "*1\r\n$1\r\na\r\n"},
		{cmd: "COMMAND GETKEYS mset a 1 b 2", want: "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{cmd: "COMMAND GETKEYS mset a 1 b", want: "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{cmd: "COMMAND GETKEYS rename a b", want: "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{cmd: "COMMAND GETKEYS copy a b DB 1 REPLACE", want: "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{cmd: "COMMAND GETKEYS get a b", want: errReply("ERR Invalid number of arguments specified for command")},
		{cmd: "COMMAND GETKEYS ping x", want: errReply("ERR The command has no key arguments")},
		{cmd: "COMMAND GETKEYS keys *", want: errReply("ERR The command has no key arguments")},
		{cmd: "COMMAND GETKEYS config get x", want: errReply("ERR The command has no key arguments")},
		{cmd: "COMMAND GETKEYS config nosuch x", want: errReply("ERR Invalid command specified")},
		{cmd: "COMMAND GETKEYS nosuch a", want: errReply("ERR Invalid command specified")},
		{cmd: "COMMAND GETKEYS get", want: errReply("ERR wrong number of arguments for 'command|getkeys' command")},
		{cmd: "COMMAND COUNT x", want: errReply("ERR wrong number of arguments for 'command|count' command")},
		{cmd: "COMMAND DOCS nosuch", want: "*0\r\n"},
		{cmd: "COMMAND DOCS get", want: "*2\r\n" + bulk("get") + "*6\r\n" + bulk("summary") + bulk("Read a key's string value") +
			bulk("since") + bulk("1.0.0") + bulk("group") + bulk("string")},
		{setup: []string{"HELLO 3"}, cmd: "COMMAND DOCS time", want: "%1\r\n" + bulk("time") + "%3\r\n" + bulk("summary") +
			bulk("Report the server's clock as seconds and microseconds") + bulk("since") + bulk("2.6.0") + bulk("group") + bulk("server")},

		{cmd: "CONFIG GET maxmemory", want: "*2\r\n" + bulk("maxmemory") + bulk("67108864")},
		{cmd: "CONFIG GET MAXMEMORY", want: "*2\r\n" + bulk("MAXMEMORY") + bulk("67108864")},
		{cmd: "CONFIG GET maxmemory MAXMEMORY max*", want: "*6\r\n" + bulk("maxmemory") + bulk("67108864") +
			bulk("maxmemory-policy") + bulk("allkeys-lru") + bulk("maxclients") + bulk("10000")},
		{cmd: "CONFIG GET MAXMEMORY-*", want: "*2\r\n" + bulk("maxmemory-policy") + bulk("allkeys-lru")},
		{cmd: "CONFIG GET save appendonly databases", want: "*6\r\n" + bulk("save") + bulk("") + bulk("appendonly") + bulk("no") +
			bulk("databases") + bulk("1")},
		{cmd: "CONFIG GET timeout proto-max-bulk-len client-query-buffer-limit requirepass", want: "*8\r\n" + bulk("timeout") + bulk("0") +
			bulk("proto-max-bulk-len") + bulk("536870912") + bulk("client-query-buffer-limit") + bulk("1073741824") +
			bulk("requirepass") + bulk("")},
		{cmd: "CONFIG GET nosuch", want: "*0\r\n"},
		{setup: []string{"HELLO 3"}, cmd: "CONFIG GET timeout", want: "%1\r\n" + bulk("timeout") + bulk("0")},
		{cmd: "CONFIG GET", want: errReply("ERR wrong number of arguments for 'config|get' command")},
		{cmd: "CONFIG SET maxmemory", want: errReply("ERR wrong number of arguments for 'config|set' command")},
		{cmd: "CONFIG SET nosuch 1", want: errReply("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'")},
		{cmd: "CONFIG SET maxmemory 1 timeout", want: errReply(resp.MsgSyntax)},
		{cmd: "CONFIG SET maxmemory 1 maxmemory 2",
			want: errReply("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter")},
		{cmd: "CONFIG SET maxmemory abc",
			want: errReply("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value")},
		{cmd: "CONFIG SET MAXMEMORY -1",
			want: errReply("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value")},
		{cmd: "CONFIG SET maxmemory 1.5mb",
			want: errReply("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value")},
		{cmd: "CONFIG SET timeout abc",
			want: errReply("ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer")},
		{cmd: "CONFIG SET timeout -1",
			want: errReply("ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive")},
		{cmd: "CONFIG SET maxclients 0",
			want: errReply("ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive")},
		{cmd: "CONFIG SET proto-max-bulk-len 10",
			want: errReply("ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive")},
		{cmd: "CONFIG SET client-query-buffer-limit 10",
			want: errReply("ERR CONFIG SET failed (possibly related to argument 'client-query-buffer-limit') - argument must be between 1048576 and 9223372036854775807 inclusive")},
		{cmd: "CONFIG SET Databases 2",
			want: errReply("ERR CONFIG SET failed (possibly related to argument 'Databases') - can't set immutable config")},
		{cmd: "CONFIG SET appendonly maybe",
			want: errReply("ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'")},
		{cmd: "CONFIG SET appendonly yes",
			want: errReply("ERR CONFIG SET failed (possibly related to argument 'appendonly') - geeredis is a cache without persistence")},
		{cmd: `CONFIG SET save "900 1"`,
			want: errReply("ERR CONFIG SET failed (possibly related to argument 'save') - geeredis is a cache without persistence")},
		{cmd: "CONFIG SET maxmemory-policy allkeys-lfu",
			want: errReply("ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: allkeys-lru")},
		{cmd: `CONFIG SET save "" appendonly no maxmemory-policy ALLKEYS-LRU`, want: "+OK\r\n"},
		{setup: []string{"CONFIG SET timeout 0 maxmemory abc"}, cmd: "CONFIG GET timeout", want: "*2\r\n" + bulk("timeout") + bulk("0")},
		{setup: []string{"CONFIG SET maxmemory 10mb timeout 30"}, cmd: "CONFIG GET maxmemory timeout",
			want: "*4\r\n" + bulk("maxmemory") + bulk("10485760") + bulk("timeout") + bulk("30")},
		{setup: []string{"CONFIG SET maxclients 5 proto-max-bulk-len 1mb client-query-buffer-limit 2mb"},
			cmd:  "CONFIG GET maxclients proto-max-bulk-len client-query-buffer-limit",
			want: "*6\r\n" + bulk("maxclients") + bulk("5") + bulk("proto-max-bulk-len") + bulk("1048576") + bulk("client-query-buffer-limit") + bulk("2097152")},
		{cmd: "CONFIG REWRITE", want: errReply("ERR The server is running without a config file")},
		{cmd: "CONFIG RESETSTAT", want: "+OK\r\n"},

		{cmd: "MEMORY USAGE nosuch", want: "$-1\r\n"},
		{cmd: "MEMORY USAGE nosuch FOO 1", want: errReply(resp.MsgSyntax)},
		{cmd: "MEMORY USAGE a SAMPLES", want: errReply(resp.MsgSyntax)},
		{cmd: "MEMORY USAGE a SAMPLES x", want: errReply(resp.MsgNotInt)},
		{cmd: "MEMORY USAGE a SAMPLES -1", want: errReply(resp.MsgSyntax)},
		{cmd: "MEMORY USAGE nosuch SAMPLES 0", want: "$-1\r\n"},
		{setup: []string{"HELLO 3"}, cmd: "MEMORY USAGE nosuch", want: "_\r\n"},
		{cmd: "MEMORY PURGE", want: "+OK\r\n"},
		{cmd: "MEMORY", want: errReply("ERR wrong number of arguments for 'memory' command")},
	}
	for _, tt := range tests {
		t.Run(strings.Join(append(tt.setup, tt.cmd), ";"), func(t *testing.T) {
			s := newTestServer(t)
			c := newTestClient(t, s)
			for _, line := range tt.setup {
				run(t, c, line)
			}
			if got := run(t, c, tt.cmd); got != tt.want {
				t.Errorf("%s\n got %q\nwant %q", tt.cmd, got, tt.want)
			}
		})
	}
}

func TestAdminKeyspace(t *testing.T) {
	s := newTestServer(t)
	c := newTestClient(t, s)
	putKey(t, s, "a", "1", 0)
	putKey(t, s, "kkkkkkkkkk", strings.Repeat("v", 48), time.Now().Add(time.Hour).UnixMilli())

	if got, want := run(t, c, "DBSIZE"), ":2\r\n"; got != want {
		t.Errorf("DBSIZE = %q, want %q", got, want)
	}
	usage := fmt.Sprintf(":%d\r\n", 10+48+lru.EntryOverhead)
	for _, cmd := range []string{"MEMORY USAGE kkkkkkkkkk", "MEMORY USAGE kkkkkkkkkk SAMPLES 0", "memory usage kkkkkkkkkk samples 5"} {
		if got := run(t, c, cmd); got != usage {
			t.Errorf("%s = %q, want %q", cmd, got, usage)
		}
	}
	if got, want := s.store.Bytes(), int64(1+1+10+48+2*lru.EntryOverhead); got != want {
		t.Errorf("store.Bytes() = %d, want %d: MEMORY USAGE no longer matches the store's accounting", got, want)
	}
	if got, want := run(t, c, "INFO keyspace"), bulk("# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\n"); got != want {
		t.Errorf("INFO keyspace = %q, want %q", got, want)
	}
	if got := run(t, c, "FLUSHALL"); got != "+OK\r\n" {
		t.Fatalf("FLUSHALL = %q", got)
	}
	if got, want := run(t, c, "DBSIZE"), ":0\r\n"; got != want {
		t.Errorf("DBSIZE after FLUSHALL = %q, want %q", got, want)
	}
	if got, want := run(t, c, "INFO keyspace"), bulk("# Keyspace\r\n"); got != want {
		t.Errorf("INFO keyspace when empty = %q, want %q", got, want)
	}
}

func TestConfigSetApplies(t *testing.T) {
	s := newTestServer(t)
	c := newTestClient(t, s)
	if got := run(t, c, "CONFIG SET maxmemory 1gb maxclients 7 timeout 60 requirepass secret"); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET = %q", got)
	}
	if got := s.store.MaxBytes(); got != 1<<30 {
		t.Errorf("store.MaxBytes() = %d, want %d", got, 1<<30)
	}
	if got := s.set.maxClients.Load(); got != 7 {
		t.Errorf("maxclients = %d, want 7", got)
	}
	if got := time.Duration(s.set.timeout.Load()); got != time.Minute {
		t.Errorf("timeout = %v, want 1m", got)
	}
	if got := *s.set.requirePass.Load(); got != "secret" {
		t.Errorf("requirepass = %q, want secret", got)
	}
	if got := run(t, c, "CONFIG GET requirepass"); got != "*2\r\n"+bulk("requirepass")+bulk("secret") {
		t.Errorf("CONFIG GET requirepass = %q", got)
	}
	// A refused pair changes nothing, even the pairs before it.
	run(t, c, "CONFIG SET maxclients 9 maxmemory nope")
	if got := s.set.maxClients.Load(); got != 7 {
		t.Errorf("maxclients after a refused CONFIG SET = %d, want 7", got)
	}
}

func TestCommandTableReplies(t *testing.T) {
	s := newTestServer(t)
	c := newTestClient(t, s)
	n := len(s.table.list)
	if got, want := run(t, c, "COMMAND COUNT"), fmt.Sprintf(":%d\r\n", n); got != want {
		t.Errorf("COMMAND COUNT = %q, want %q", got, want)
	}
	all := run(t, c, "COMMAND")
	if !strings.HasPrefix(all, fmt.Sprintf("*%d\r\n*10\r\n", n)) {
		t.Errorf("COMMAND starts %q, want an array of %d ten-field entries", all[:min(len(all), 40)], n)
	}
	if got := run(t, c, "COMMAND INFO"); got != all {
		t.Errorf("COMMAND INFO without names differs from COMMAND")
	}
	// Every command and subcommand is listed, documented and described.
	list := run(t, c, "COMMAND LIST")
	docs := run(t, c, "COMMAND DOCS")
	for _, cmd := range s.table.list {
		names := []string{cmd.name}
		for _, sub := range cmd.subs {
			names = append(names, sub.name)
		}
		for _, name := range names {
			if !strings.Contains(list, bulk(name)) {
				t.Errorf("COMMAND LIST lacks %s", name)
			}
			if !strings.Contains(docs, bulk(name)) {
				t.Errorf("COMMAND DOCS lacks %s", name)
			}
			if _, ok := commandDocs()[name]; !ok {
				t.Errorf("commandDocs lacks %s", name)
			}
			if got := run(t, c, "COMMAND INFO "+name); !strings.HasPrefix(got, "*1\r\n*10\r\n"+bulk(name)) {
				t.Errorf("COMMAND INFO %s = %q", name, got[:min(len(got), 60)])
			}
		}
	}
	dangerous := run(t, c, "COMMAND LIST FILTERBY ACLCAT DANGEROUS")
	for name, want := range map[string]bool{"flushall": true, "config|set": true, "memory|usage": false, "get": false} {
		if got := strings.Contains(dangerous, bulk(name)); got != want {
			t.Errorf("COMMAND LIST FILTERBY ACLCAT dangerous lists %s: %v, want %v", name, got, want)
		}
	}
	if got := run(t, c, "COMMAND INFO config"); !strings.Contains(got, "*5\r\n*10\r\n"+bulk("config|resetstat")) {
		t.Errorf("COMMAND INFO config does not nest its 5 subcommands: %q", got)
	}
	for _, cmd := range []string{"COMMAND HELP", "CONFIG HELP", "MEMORY HELP"} {
		got := run(t, c, cmd)
		name := strings.Fields(cmd)[0]
		if !strings.HasPrefix(got, "*") || !strings.Contains(got, "+"+name+" <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n") ||
			!strings.HasSuffix(got, "+HELP\r\n+    Prints this help.\r\n") {
			t.Errorf("%s = %q", cmd, got)
		}
	}
}

func TestMemoryReports(t *testing.T) {
	s := newTestServer(t)
	c := newTestClient(t, s)
	putKey(t, s, "k", "v", 0)
	stats := run(t, c, "MEMORY STATS")
	for _, field := range []string{"total.allocated", "dataset.bytes", "keys.count", "fragmentation"} {
		if !strings.Contains(stats, bulk(field)) {
			t.Errorf("MEMORY STATS lacks %s: %q", field, stats)
		}
	}
	if whole := readReply(t, bufio.NewReader(strings.NewReader(stats))); whole != stats {
		t.Errorf("MEMORY STATS is not one well-formed reply: its header announces %q of %q", whole, stats)
	}
	if want := bulk("dataset.bytes") + fmt.Sprintf(":%d\r\n", s.store.Bytes()); !strings.Contains(stats, want) {
		t.Errorf("MEMORY STATS dataset.bytes is not the store's Bytes(): %q", stats)
	}
	c.proto = 3
	if got := run(t, c, "MEMORY STATS"); !strings.HasPrefix(got, "%15\r\n") {
		t.Errorf("MEMORY STATS in RESP3 starts %q, want a map", got[:10])
	}
	if got := run(t, c, "MEMORY DOCTOR"); !strings.HasPrefix(got, "=") || !strings.Contains(got, "txt:") {
		t.Errorf("MEMORY DOCTOR in RESP3 = %q, want verbatim text", got)
	}
	c.proto = 2
	run(t, c, "CONFIG SET maxmemory 0")
	if got := run(t, c, "MEMORY DOCTOR"); !strings.Contains(got, "No memory limit") {
		t.Errorf("MEMORY DOCTOR with maxmemory 0 = %q, want a warning about the limit", got)
	}
	if got := run(t, c, "MEMORY MALLOC-STATS"); !strings.Contains(got, "/memory/classes/total:bytes") {
		t.Errorf("MEMORY MALLOC-STATS = %q", got)
	}
}

func TestTimeAndLastsave(t *testing.T) {
	s := newTestServer(t)
	c := newTestClient(t, s)
	before := time.Now().Unix()
	vals := parseArray(t, run(t, c, "TIME"))
	after := time.Now().Unix()
	if len(vals) != 2 {
		t.Fatalf("TIME gave %d elements, want 2", len(vals))
	}
	sec, err1 := strconv.ParseInt(vals[0], 10, 64)
	usec, err2 := strconv.ParseInt(vals[1], 10, 64)
	if err1 != nil || err2 != nil || sec < before || sec > after || usec < 0 || usec > 999999 {
		t.Errorf("TIME = %q, want seconds in [%d, %d] and microseconds", vals, before, after)
	}
	if got, want := run(t, c, "LASTSAVE"), fmt.Sprintf(":%d\r\n", s.started.Unix()); got != want {
		t.Errorf("LASTSAVE = %q, want the start %q", got, want)
	}
}

// parseArray reads a RESP2 array of bulk strings.
func parseArray(tb testing.TB, reply string) []string {
	tb.Helper()
	r := bufio.NewReader(strings.NewReader(reply))
	line, _ := r.ReadString('\n')
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(line, "*"), "\r\n"))
	if err != nil {
		tb.Fatalf("not an array: %q", reply)
	}
	out := make([]string, 0, n)
	for range n {
		hdr, _ := r.ReadString('\n')
		size, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(hdr, "$"), "\r\n"))
		if err != nil {
			tb.Fatalf("not a bulk string in %q", reply)
		}
		buf := make([]byte, size+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			tb.Fatalf("short bulk in %q", reply)
		}
		out = append(out, string(buf[:size]))
	}
	return out
}

func TestKeyRange(t *testing.T) {
	tests := []struct {
		specs             []keySpec
		first, last, step int
	}{
		{nil, 0, 0, 0},
		{oneKey("RO"), 1, 1, 1},
		{[]keySpec{{index: 1, lastKey: -1, step: 2}}, 1, -1, 2},                    // MSET
		{[]keySpec{{index: 1, step: 1}, {index: 2, step: 1}}, 1, 2, 1},             // RENAME
		{[]keySpec{{index: 2, step: 1}}, 2, 2, 1},                                  // MEMORY USAGE
		{[]keySpec{{index: 1, lastKey: 1, step: 1}, {index: 5, step: 1}}, 1, 2, 1}, // not contiguous
	}
	for _, tc := range tests {
		if f, l, s := keyRange(tc.specs); f != tc.first || l != tc.last || s != tc.step {
			t.Errorf("keyRange(%+v) = %d %d %d, want %d %d %d", tc.specs, f, l, s, tc.first, tc.last, tc.step)
		}
	}
}
