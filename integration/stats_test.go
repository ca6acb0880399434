package integration

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/geeredis/geeredis/server"
)

var hitsMisses = regexp.MustCompile(`keyspace_hits:(\d+)\r\nkeyspace_misses:(\d+)`)

// keyspaceStats reads INFO stats' keyspace_hits and keyspace_misses.
func keyspaceStats(t *testing.T, c *rawConn) (int, int) {
	t.Helper()
	r := c.do("INFO", "stats")
	m := hitsMisses.FindStringSubmatch(string(r.raw))
	if m == nil {
		t.Fatalf("%s: no keyspace_hits/misses in %q", c.addr, r.raw)
	}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	return h, mi
}

// TestKeyspaceStatsLikeRedis runs commands one at a time on a node and on
// redis-server and compares how much each moved keyspace_hits and
// keyspace_misses: the figures a hit-ratio dashboard is built on.
func TestKeyspaceStatsLikeRedis(t *testing.T) {
	redisAddr := startRedis(t)
	nodeAddr := startNode(t, server.DefaultConfig())
	want, got := dialRaw(t, redisAddr), dialRaw(t, nodeAddr)
	want.expect("+OK\r\n", "FLUSHALL")
	cmds := []string{
		"SET k v", "GET k", "GET nokey", "EXISTS k nokey k", "TYPE k", "TYPE nokey",
		"TTL k", "PTTL nokey", "EXPIRETIME k", "PEXPIRETIME nokey", "STRLEN k", "STRLEN nokey",
		"GETRANGE k 0 1", "GETRANGE nokey 0 1", "MGET k nokey k", "APPEND k x", "INCR n",
		"INCRBYFLOAT f 1.5", "GETSET k v2", "SET k v3 GET", "SET nokey2 v GET", "DEL nokey2",
		"GETEX k PX 100000", "GETEX nokey", "GETDEL n", "GETDEL nokey", "SETNX k v", "SET k v NX",
		"SETRANGE k 1 ab", "EXPIRE k 100", "PERSIST k", "TOUCH k nokey", "COPY k k2",
		"RENAME k2 k3", "RENAMENX k3 k", "DEL k3", "UNLINK nokey", "MSETNX a 1 k 2",
		"CLIENT NO-TOUCH ON", "GET k", "GET nokey", "EXISTS k", "CLIENT NO-TOUCH OFF",
	}
	for _, cmd := range cmds {
		args := strings.Fields(cmd)
		wh, wm := keyspaceStats(t, want)
		gh, gm := keyspaceStats(t, got)
		want.do(args...)
		got.do(args...)
		wh2, wm2 := keyspaceStats(t, want)
		gh2, gm2 := keyspaceStats(t, got)
		if gh2-gh != wh2-wh || gm2-gm != wm2-wm {
			t.Errorf("%s: hits +%d misses +%d, redis-server +%d +%d", cmd, gh2-gh, gm2-gm, wh2-wh, wm2-wm)
		}
	}
}
