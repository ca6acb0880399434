package server

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// Key command tests run in a synctest bubble: the handlers see the bubble's
// fake clock through c.now(), which starts at bubbleStart and only moves
// when the test sleeps (instantly), so TTLs are exact and nothing waits.

// bubbleStart is the fake clock's start, 2000-01-01T00:00:00Z, in Unix ms.
const bubbleStart = int64(946684800000)

// keyStep is one command line and the raw reply it must get.
type keyStep struct {
	cmd, want string
}

// inBubble runs fn on a client of a fresh server inside a synctest bubble.
func inBubble(t *testing.T, fn func(t *testing.T, c *client)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		s := newTestServer(t)
		fn(t, newTestClient(t, s))
	})
}

// runSteps runs the steps in order and reports every reply that differs.
func runSteps(t *testing.T, c *client, steps []keyStep) {
	t.Helper()
	for _, st := range steps {
		if got := run(t, c, st.cmd); got != st.want {
			t.Errorf("%s\n got %q\nwant %q", st.cmd, got, st.want)
		}
	}
}

// TestKeyCommandReplies replays sessions recorded on redis-server 7.0.15
// started with --databases 1 (geeredis has database 0 only), each on a
// fresh server. Times are absolute and far ahead so that the replies do not
// depend on the clock.
func TestKeyCommandReplies(t *testing.T) {
	tests := []struct {
		name  string
		steps []keyStep
	}{
		{"DEL UNLINK EXISTS TOUCH TYPE", []keyStep{
			{"SET a 1", "+OK\r\n"},
			{"SET b 2", "+OK\r\n"},
			{"DEL a b c a", ":2\r\n"},
			{"DEL a", ":0\r\n"},
			{"SET a 1", "+OK\r\n"},
			{"UNLINK a a b", ":1\r\n"},
			{"EXISTS a", ":0\r\n"},
			{"SET a 1", "+OK\r\n"},
			{"EXISTS a a b a", ":3\r\n"},
			{"EXISTS nosuch", ":0\r\n"},
			{"TOUCH a a b", ":2\r\n"},
			{"TOUCH nosuch", ":0\r\n"},
			{"TYPE a", "+string\r\n"},
			{"TYPE nosuch", "+none\r\n"},
			{"SET \"\" empty", "+OK\r\n"},
			{"EXISTS \"\"", ":1\r\n"},
			{"DEL \"\"", ":1\r\n"},
		}},
		{"EXPIRE options", []keyStep{
			{"SET a 1", "+OK\r\n"},
			{"PEXPIREAT a 4000000000000", ":1\r\n"},
			{"PEXPIRETIME a", ":4000000000000\r\n"},
			{"EXPIRETIME a", ":4000000000\r\n"},
			{"EXPIREAT a 4000000001 NX", ":0\r\n"},
			{"EXPIREAT a 4000000001 XX", ":1\r\n"},
			{"EXPIRETIME a", ":4000000001\r\n"},
			{"EXPIREAT a 4000000001 GT", ":0\r\n"},
			{"EXPIREAT a 4000000002 gt", ":1\r\n"},
			{"EXPIREAT a 4000000002 LT", ":0\r\n"},
			{"EXPIREAT a 4000000000 Lt", ":1\r\n"},
			{"EXPIREAT a 4000000005 XX GT", ":1\r\n"},
			{"EXPIREAT a 4000000001 xx lt", ":1\r\n"},
			{"EXPIRETIME a", ":4000000001\r\n"},
			{"EXPIREAT a 4000000009 NX NX", ":0\r\n"},
			{"PEXPIREAT a 4000000009000 GT GT XX", ":1\r\n"},
			{"PEXPIRETIME a", ":4000000009000\r\n"},
			{"EXPIREAT a 100 NX XX", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"},
			{"EXPIREAT a 100 GT LT", "-ERR GT and LT options at the same time are not compatible\r\n"},
			{"EXPIREAT a 100 NX GT", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"},
			{"EXPIREAT a 100 NX LT", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"},
			{"EXPIREAT a 100 XX GT LT", "-ERR GT and LT options at the same time are not compatible\r\n"},
			{"EXPIREAT a 100 FOO", "-ERR Unsupported option FOO\r\n"},
			{"EXPIREAT a 100 NX FOO XX", "-ERR Unsupported option FOO\r\n"},
			{"EXPIREAT a abc FOO", "-ERR Unsupported option FOO\r\n"},
			{"EXPIREAT a abc NX XX", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"},
			{"EXPIREAT a abc", "-ERR value is not an integer or out of range\r\n"},
			{"EXPIREAT a 1.5", "-ERR value is not an integer or out of range\r\n"},
			{"EXPIREAT a \"\"", "-ERR value is not an integer or out of range\r\n"},
			{"EXPIREAT a \" 1\"", "-ERR value is not an integer or out of range\r\n"},
			{"EXPIREAT a 01", "-ERR value is not an integer or out of range\r\n"},
			{"EXPIRE a 9223372036854775807", "-ERR invalid expire time in 'expire' command\r\n"},
			{"EXPIRE a 9223372036854775", "-ERR invalid expire time in 'expire' command\r\n"},
			{"EXPIRE a 9223372036854775808", "-ERR value is not an integer or out of range\r\n"},
			{"EXPIRE a -9223372036854775808", "-ERR invalid expire time in 'expire' command\r\n"},
			{"EXPIRE a -9223372036854776", "-ERR invalid expire time in 'expire' command\r\n"},
			{"PEXPIRE a 9223372036854775807", "-ERR invalid expire time in 'pexpire' command\r\n"},
			{"EXPIREAT a 9223372036854775807", "-ERR invalid expire time in 'expireat' command\r\n"},
			{"EXPIREAT a 9223372036854776", "-ERR invalid expire time in 'expireat' command\r\n"},
			{"EXPIREAT a -9223372036854776", "-ERR invalid expire time in 'expireat' command\r\n"},
			{"PEXPIRE a abc", "-ERR value is not an integer or out of range\r\n"},
			{"PEXPIREAT a abc", "-ERR value is not an integer or out of range\r\n"},
			{"EXPIRE a abc", "-ERR value is not an integer or out of range\r\n"},
			{"EXISTS a", ":1\r\n"},
			{"PEXPIREAT a 9223372036854775807", ":1\r\n"},
			{"PEXPIRETIME a", ":9223372036854775807\r\n"},
			{"EXPIRETIME a", ":9223372036854776\r\n"},
			{"PEXPIREAT a 99999999999499", ":1\r\n"},
			{"EXPIRETIME a", ":99999999999\r\n"},
			{"PEXPIREAT a 99999999999500", ":1\r\n"},
			{"EXPIRETIME a", ":100000000000\r\n"},
			{"EXPIRE nosuch 100", ":0\r\n"},
			{"EXPIRE nosuch -1", ":0\r\n"},
			{"EXPIRE nosuch 100 FOO", "-ERR Unsupported option FOO\r\n"},
			{"PEXPIREAT nosuch 4000000000000 XX", ":0\r\n"},
		}},
		{"keys without expiry", []keyStep{
			{"SET p 1", "+OK\r\n"},
			{"TTL p", ":-1\r\n"},
			{"PTTL p", ":-1\r\n"},
			{"EXPIRETIME p", ":-1\r\n"},
			{"PEXPIRETIME p", ":-1\r\n"},
			{"TTL nosuch", ":-2\r\n"},
			{"PTTL nosuch", ":-2\r\n"},
			{"EXPIRETIME nosuch", ":-2\r\n"},
			{"PEXPIRETIME nosuch", ":-2\r\n"},
			{"EXPIREAT p 4000000000 XX", ":0\r\n"},
			{"EXPIREAT p 4000000000 GT", ":0\r\n"},
			{"EXPIREAT p 4000000000 LT", ":1\r\n"},
			{"EXPIRETIME p", ":4000000000\r\n"},
			{"PERSIST p", ":1\r\n"},
			{"PERSIST p", ":0\r\n"},
			{"PERSIST nosuch", ":0\r\n"},
			{"EXPIRETIME p", ":-1\r\n"},
			{"EXPIREAT p 4000000000 NX", ":1\r\n"},
			{"EXPIRETIME p", ":4000000000\r\n"},
		}},
		{"expire in the past deletes", []keyStep{
			{"SET p 1", "+OK\r\n"},
			{"EXPIRE p 0", ":1\r\n"},
			{"EXISTS p", ":0\r\n"},
			{"SET p 1", "+OK\r\n"},
			{"EXPIRE p -5", ":1\r\n"},
			{"EXISTS p", ":0\r\n"},
			{"SET p 1", "+OK\r\n"},
			{"PEXPIRE p -1", ":1\r\n"},
			{"EXISTS p", ":0\r\n"},
			{"SET p 1", "+OK\r\n"},
			{"EXPIREAT p 1", ":1\r\n"},
			{"EXISTS p", ":0\r\n"},
			{"SET p 1", "+OK\r\n"},
			{"PEXPIREAT p 0", ":1\r\n"},
			{"EXISTS p", ":0\r\n"},
			{"SET p 1", "+OK\r\n"},
			{"EXPIRE p -5 XX", ":0\r\n"},
			{"EXISTS p", ":1\r\n"},
			{"EXPIRE p -5 NX", ":1\r\n"},
			{"EXISTS p", ":0\r\n"},
			{"SET p 1", "+OK\r\n"},
			{"PEXPIREAT p 4000000000000", ":1\r\n"},
			{"EXPIRE p -5 GT", ":0\r\n"},
			{"EXISTS p", ":1\r\n"},
			{"EXPIRE p -5 LT", ":1\r\n"},
			{"EXISTS p", ":0\r\n"},
			{"SET p 1", "+OK\r\n"},
			{"EXPIRE p -9223372036854775", ":1\r\n"},
			{"EXISTS p", ":0\r\n"},
			{"SET p 1", "+OK\r\n"},
			{"PEXPIREAT p -9223372036854775808", ":1\r\n"},
			{"EXISTS p", ":0\r\n"},
		}},
		{"SCAN arguments", []keyStep{
			{"SET a 1", "+OK\r\n"},
			{"SCAN 0", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"},
			{"SCAN \"\"", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"},
			{"SCAN 00", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"},
			{"SCAN 0 COUNT 0", "-ERR syntax error\r\n"},
			{"SCAN 0 COUNT -1", "-ERR syntax error\r\n"},
			{"SCAN 0 COUNT abc", "-ERR value is not an integer or out of range\r\n"},
			{"SCAN 0 COUNT 1.5", "-ERR value is not an integer or out of range\r\n"},
			{"SCAN 0 COUNT", "-ERR syntax error\r\n"},
			{"SCAN 0 MATCH", "-ERR syntax error\r\n"},
			{"SCAN 0 TYPE", "-ERR syntax error\r\n"},
			{"SCAN 0 FOO bar", "-ERR syntax error\r\n"},
			{"SCAN 0 FOO", "-ERR syntax error\r\n"},
			{"SCAN abc", "-ERR invalid cursor\r\n"},
			{"SCAN 1.5", "-ERR invalid cursor\r\n"},
			{"SCAN \" 1\"", "-ERR invalid cursor\r\n"},
			{"SCAN 18446744073709551616", "-ERR invalid cursor\r\n"},
			{"SCAN abc COUNT 0", "-ERR invalid cursor\r\n"},
			{"SCAN 0 TYPE string", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"},
			{"SCAN 0 TYPE STRING", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"},
			{"SCAN 0 type String", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"},
			{"SCAN 0 TYPE list", "*2\r\n$1\r\n0\r\n*0\r\n"},
			{"SCAN 0 TYPE hash", "*2\r\n$1\r\n0\r\n*0\r\n"},
			{"SCAN 0 TYPE foo", "*2\r\n$1\r\n0\r\n*0\r\n"},
			{"SCAN 0 MATCH a* COUNT 5 TYPE string", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"},
			{"SCAN 0 MATCH b*", "*2\r\n$1\r\n0\r\n*0\r\n"},
			{"SCAN 0 MATCH *", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"},
			{"SCAN 0 MATCH b* MATCH a*", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"},
			{"SCAN 0 COUNT 5 COUNT 0", "-ERR syntax error\r\n"},
			{"SCAN 0 COUNT 0 FOO", "-ERR syntax error\r\n"},
			{"SCAN 0 TYPE foo COUNT 0", "-ERR syntax error\r\n"},
			{"SCAN 0 count 2147483648", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"},
			{"SCAN 0 count 9223372036854775807", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"},
			{"SCAN 0 COUNT 9223372036854775808", "-ERR value is not an integer or out of range\r\n"},
		}},
		{"KEYS and RANDOMKEY", []keyStep{
			{"RANDOMKEY", "$-1\r\n"},
			{"KEYS *", "*0\r\n"},
			{"SET a 1", "+OK\r\n"},
			{"RANDOMKEY", "$1\r\na\r\n"},
			{"KEYS *", "*1\r\n$1\r\na\r\n"},
			{"KEYS a", "*1\r\n$1\r\na\r\n"},
			{"KEYS b*", "*0\r\n"},
			{"KEYS [a]", "*1\r\n$1\r\na\r\n"},
			{"KEYS \"\"", "*0\r\n"},
		}},
		{"RENAME", []keyStep{
			{"RENAME nosuch x", "-ERR no such key\r\n"},
			{"RENAMENX nosuch x", "-ERR no such key\r\n"},
			{"RENAME nosuch nosuch", "-ERR no such key\r\n"},
			{"RENAMENX nosuch nosuch", "-ERR no such key\r\n"},
			{"SET a 1", "+OK\r\n"},
			{"RENAME a a", "+OK\r\n"},
			{"RENAMENX a a", ":0\r\n"},
			{"RENAME a b", "+OK\r\n"},
			{"GET b", "$1\r\n1\r\n"},
			{"EXISTS a", ":0\r\n"},
			{"SET a 2", "+OK\r\n"},
			{"PEXPIREAT a 4000000000000", ":1\r\n"},
			{"RENAME a b", "+OK\r\n"},
			{"PEXPIRETIME b", ":4000000000000\r\n"},
			{"GET b", "$1\r\n2\r\n"},
			{"SET c 3", "+OK\r\n"},
			{"RENAMENX b c", ":0\r\n"},
			{"RENAMENX b d", ":1\r\n"},
			{"PEXPIRETIME d", ":4000000000000\r\n"},
			{"EXISTS b", ":0\r\n"},
			{"GET c", "$1\r\n3\r\n"},
			{"SET y 1", "+OK\r\n"},
			{"PEXPIREAT y 4000000000000", ":1\r\n"},
			{"SET w 2", "+OK\r\n"},
			{"RENAME w y", "+OK\r\n"},
			{"PEXPIRETIME y", ":-1\r\n"},
			{"GET y", "$1\r\n2\r\n"},
		}},
		{"COPY", []keyStep{
			{"SET x 1", "+OK\r\n"},
			{"COPY x y", ":1\r\n"},
			{"COPY x y", ":0\r\n"},
			{"COPY x y REPLACE", ":1\r\n"},
			{"COPY x y DB 0", ":0\r\n"},
			{"COPY x y DB 0 REPLACE", ":1\r\n"},
			{"COPY x y db 0 replace", ":1\r\n"},
			{"COPY x y REPLACE REPLACE", ":1\r\n"},
			{"COPY x z DB 1", "-ERR DB index is out of range\r\n"},
			{"COPY x z DB 16", "-ERR DB index is out of range\r\n"},
			{"COPY x z DB -1", "-ERR DB index is out of range\r\n"},
			{"COPY x z DB abc", "-ERR value is not an integer or out of range\r\n"},
			{"COPY x z DB", "-ERR syntax error\r\n"},
			{"COPY x z FOO", "-ERR syntax error\r\n"},
			{"COPY x z DB 16 FOO", "-ERR DB index is out of range\r\n"},
			{"COPY x z FOO DB 16", "-ERR syntax error\r\n"},
			{"COPY x z DB abc REPLACE", "-ERR value is not an integer or out of range\r\n"},
			{"COPY x z DB 9223372036854775808", "-ERR value is not an integer or out of range\r\n"},
			{"COPY x z DB 2147483648", "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"},
			{"COPY x z DB -2147483649", "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"},
			{"COPY x z DB 0 DB 1", "-ERR DB index is out of range\r\n"},
			{"COPY nosuch z", ":0\r\n"},
			{"COPY nosuch z DB 16", "-ERR DB index is out of range\r\n"},
			{"COPY nosuch nosuch", "-ERR source and destination objects are the same\r\n"},
			{"COPY x x", "-ERR source and destination objects are the same\r\n"},
			{"COPY x x REPLACE", "-ERR source and destination objects are the same\r\n"},
			{"COPY x x DB 0", "-ERR source and destination objects are the same\r\n"},
			{"COPY x x DB 1", "-ERR DB index is out of range\r\n"},
			{"EXISTS z", ":0\r\n"},
			{"PEXPIREAT x 4000000000000", ":1\r\n"},
			{"COPY x w", ":1\r\n"},
			{"PEXPIRETIME w", ":4000000000000\r\n"},
			{"SET n 1", "+OK\r\n"},
			{"PEXPIREAT n 5000000000000", ":1\r\n"},
			{"COPY x n REPLACE", ":1\r\n"},
			{"PEXPIRETIME n", ":4000000000000\r\n"},
			{"GET n", "$1\r\n1\r\n"},
			{"SET q 9", "+OK\r\n"},
			{"COPY q n REPLACE", ":1\r\n"},
			{"PEXPIRETIME n", ":-1\r\n"},
			{"GET n", "$1\r\n9\r\n"},
			{"PEXPIRETIME x", ":4000000000000\r\n"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inBubble(t, func(t *testing.T, c *client) { runSteps(t, c, tt.steps) })
		})
	}
}

// TestScanCursorOutsideTheStore checks cursors that no scan hands out but
// that parse (strtoul wraps -1 around): they end the scan without error.
// Redis's reply to them depends on where its hash table keeps the keys.
func TestScanCursorOutsideTheStore(t *testing.T) {
	inBubble(t, func(t *testing.T, c *client) {
		runSteps(t, c, []keyStep{
			{"SET a 1", "+OK\r\n"},
			{"SCAN -1", "*2\r\n$1\r\n0\r\n*0\r\n"},
			{"SCAN 18446744073709551615", "*2\r\n$1\r\n0\r\n*0\r\n"},
		})
	})
}

// TestKeyCommandsRESP3 checks the replies whose RESP3 shape differs, or
// might: RANDOMKEY's nil, TYPE's status and SCAN's arrays (recorded on
// redis-server 7.0.15 after HELLO 3).
func TestKeyCommandsRESP3(t *testing.T) {
	inBubble(t, func(t *testing.T, c *client) {
		c.proto = 3
		runSteps(t, c, []keyStep{
			{"RANDOMKEY", "_\r\n"},
			{"TYPE a", "+none\r\n"},
			{"SET a 1", "+OK\r\n"},
			{"TYPE a", "+string\r\n"},
			{"RANDOMKEY", "$1\r\na\r\n"},
			{"SCAN 0", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"},
			{"KEYS *", "*1\r\n$1\r\na\r\n"},
		})
	})
}

// TestKeyExpiryClock moves the clock through a key's life. The replies
// follow Redis's rules: a key lives while now <= its expire time, TTL rounds
// the milliseconds left to the nearest second, and an EXPIRE-like command
// given a time at or before now deletes the key.
func TestKeyExpiryClock(t *testing.T) {
	const t0 = bubbleStart
	steps := []struct {
		advance time.Duration // before the command
		keyStep
	}{
		{0, keyStep{"SET k v", "+OK\r\n"}},
		{0, keyStep{"EXPIRE k 100", ":1\r\n"}},
		{0, keyStep{"TTL k", ":100\r\n"}},
		{0, keyStep{"PTTL k", ":100000\r\n"}},
		{0, keyStep{"EXPIRETIME k", fmt.Sprintf(":%d\r\n", t0/1000+100)}},
		{0, keyStep{"PEXPIRETIME k", fmt.Sprintf(":%d\r\n", t0+100_000)}},
		{1499 * time.Millisecond, keyStep{"PTTL k", ":98501\r\n"}},
		{0, keyStep{"TTL k", ":99\r\n"}},
		{time.Millisecond, keyStep{"PTTL k", ":98500\r\n"}},
		{0, keyStep{"TTL k", ":99\r\n"}}, // 98.5 s rounds up
		{time.Millisecond, keyStep{"TTL k", ":98\r\n"}},
		{0, keyStep{"EXPIRE k 100 GT", ":1\r\n"}}, // now+100 s is later
		{0, keyStep{"PEXPIRETIME k", fmt.Sprintf(":%d\r\n", t0+1501+100_000)}},
		{0, keyStep{"PEXPIRE k 10", ":1\r\n"}},
		{10 * time.Millisecond, keyStep{"PTTL k", ":0\r\n"}}, // due now: still there
		{0, keyStep{"TTL k", ":0\r\n"}},
		{0, keyStep{"EXISTS k", ":1\r\n"}},
		{time.Millisecond, keyStep{"PTTL k", ":-2\r\n"}},
		{0, keyStep{"EXISTS k", ":0\r\n"}},
		{0, keyStep{"TTL k", ":-2\r\n"}},
		{0, keyStep{"EXPIRE k 100", ":0\r\n"}},
		// now = t0+1512
		{0, keyStep{"SET k v", "+OK\r\n"}},
		{0, keyStep{"EXPIREAT k " + strconv.FormatInt(t0/1000+1, 10), ":1\r\n"}}, // t0+1000 is past
		{0, keyStep{"EXISTS k", ":0\r\n"}},
		{0, keyStep{"SET k v", "+OK\r\n"}},
		{0, keyStep{"PEXPIREAT k " + strconv.FormatInt(t0+1512, 10), ":1\r\n"}}, // exactly now
		{0, keyStep{"EXISTS k", ":0\r\n"}},
		{0, keyStep{"SET k v", "+OK\r\n"}},
		{0, keyStep{"PEXPIREAT k " + strconv.FormatInt(t0+1513, 10), ":1\r\n"}},
		{0, keyStep{"PTTL k", ":1\r\n"}},
		{0, keyStep{"RENAME k k2", "+OK\r\n"}}, // keeps the expiry
		{0, keyStep{"PTTL k2", ":1\r\n"}},
		{0, keyStep{"COPY k2 k3", ":1\r\n"}}, // so does COPY
		{0, keyStep{"PEXPIRETIME k3", fmt.Sprintf(":%d\r\n", t0+1513)}},
		{2 * time.Millisecond, keyStep{"EXISTS k2 k3", ":0\r\n"}},
		{0, keyStep{"RENAME k2 k4", "-ERR no such key\r\n"}},
		{0, keyStep{"SET p v", "+OK\r\n"}},
		{0, keyStep{"EXPIRE p 1", ":1\r\n"}},
		{0, keyStep{"PERSIST p", ":1\r\n"}},
		{time.Hour, keyStep{"TTL p", ":-1\r\n"}},
	}
	inBubble(t, func(t *testing.T, c *client) {
		if now := time.Now().UnixMilli(); now != t0 {
			t.Fatalf("the bubble starts at %d, want %d", now, t0)
		}
		for _, st := range steps {
			time.Sleep(st.advance)
			if got := run(t, c, st.cmd); got != st.want {
				t.Errorf("at t0+%dms: %s\n got %q\nwant %q", time.Now().UnixMilli()-t0, st.cmd, got, st.want)
			}
		}
	})
}

// TestListingSkipsExpiredKeys checks that KEYS, SCAN and RANDOMKEY never
// return a key whose time has passed, even while the store still holds it
// (no active expiry cycle has run yet).
func TestListingSkipsExpiredKeys(t *testing.T) {
	inBubble(t, func(t *testing.T, c *client) {
		var live []string
		for i := range 5 {
			live = append(live, "live:"+strconv.Itoa(i))
			run(t, c, "SET live:"+strconv.Itoa(i)+" v")
		}
		for i := range 200 {
			run(t, c, "SET dead:"+strconv.Itoa(i)+" v")
			run(t, c, "PEXPIRE dead:"+strconv.Itoa(i)+" 10")
		}
		time.Sleep(11 * time.Millisecond)
		if n := c.srv.store.Len(); n != 205 {
			t.Fatalf("store holds %d keys, want the 205 with the expired ones", n)
		}
		if got := sorted(parseKeysReply(t, run(t, c, "KEYS *"))); !slices.Equal(got, live) {
			t.Errorf("KEYS * = %q, want %q", got, live)
		}
		if got := sorted(scanAll(t, c, "COUNT 3")); !slices.Equal(got, live) {
			t.Errorf("SCAN = %q, want %q", got, live)
		}
		for range 50 {
			if got := run(t, c, "RANDOMKEY"); !strings.Contains(got, "live:") {
				t.Fatalf("RANDOMKEY = %q, want a live key", got)
			}
		}
	})
}

// TestKeysAndScanMatch lists keys by pattern, with KEYS and with a full
// SCAN iteration, small COUNT included.
func TestKeysAndScanMatch(t *testing.T) {
	keys := []string{"hello", "hallo", "hxllo", "hllo", "heeeello", "h[a]llo", "user:1:name", "user:22:name", "user:3:mail", ""}
	tests := []struct {
		pattern string
		want    []string
	}{
		{"*", keys},
		{"h?llo", []string{"hallo", "hello", "hxllo"}},
		{"h*llo", []string{"h[a]llo", "hallo", "heeeello", "hello", "hllo", "hxllo"}},
		{"h[ae]llo", []string{"hallo", "hello"}},
		{"h[^e]llo", []string{"hallo", "hxllo"}},
		{"h[a-b]llo", []string{"hallo"}},
		{`h\[a\]llo`, []string{"h[a]llo"}},
		{"user:*:name", []string{"user:1:name", "user:22:name"}},
		{"user:?:*", []string{"user:1:name", "user:3:mail"}},
		{"nomatch*", nil},
		{"**", keys[:len(keys)-1]}, // Redis's matcher fails the empty key here
	}
	inBubble(t, func(t *testing.T, c *client) {
		for _, k := range keys {
			run(t, c, "SET "+quoted(k)+" v")
		}
		for _, tt := range tests {
			want := sorted(tt.want)
			if got := sorted(parseKeysReply(t, run(t, c, "KEYS "+quoted(tt.pattern)))); !slices.Equal(got, want) {
				t.Errorf("KEYS %s = %q, want %q", tt.pattern, got, want)
			}
			for _, count := range []int{1, 2, 10} {
				got := sorted(scanAll(t, c, "MATCH "+quoted(tt.pattern)+" COUNT "+strconv.Itoa(count)))
				if !slices.Equal(slices.Compact(got), want) {
					t.Errorf("SCAN MATCH %s COUNT %d = %q, want %q", tt.pattern, count, got, want)
				}
			}
		}
	})
}

// TestScanReturnsEveryStableKey checks SCAN's guarantee while the keyspace
// changes between calls: every key present for the whole iteration is
// returned at least once, and nothing is returned that was never there.
func TestScanReturnsEveryStableKey(t *testing.T) {
	for _, count := range []int{1, 3, 10, 100} {
		t.Run("COUNT "+strconv.Itoa(count), func(t *testing.T) {
			inBubble(t, func(t *testing.T, c *client) {
				const stable, doomed = 1500, 300
				ever := make(map[string]bool)
				set := func(key, value string) {
					run(t, c, "SET "+key+" "+value)
					ever[key] = true
				}
				for i := range stable {
					set("s:"+strconv.Itoa(i), "v")
				}
				for i := range doomed {
					set("d:"+strconv.Itoa(i), "v")
				}
				seen := make(map[string]bool)
				cursor, calls, added := "0", 0, 0
				for {
					reply := run(t, c, "SCAN "+cursor+" COUNT "+strconv.Itoa(count))
					next, keys := parseScanReply(t, reply)
					for _, k := range keys {
						if !ever[k] {
							t.Fatalf("SCAN returned %q, never set", k)
						}
						seen[k] = true
					}
					if cursor = next; cursor == "0" {
						break
					}
					if calls++; calls > 100_000 {
						t.Fatalf("SCAN did not finish after %d calls", calls)
					}
					// Churn: new keys, deleted ones, and stable keys
					// rewritten with values of another size.
					for range 3 {
						set("n:"+strconv.Itoa(added), strings.Repeat("x", added%50))
						added++
					}
					run(t, c, "DEL n:"+strconv.Itoa(added/2)+" d:"+strconv.Itoa(calls%doomed))
					i := calls * 7 % stable
					set("s:"+strconv.Itoa(i), strings.Repeat("y", 1+calls%200))
				}
				for i := range stable {
					if k := "s:" + strconv.Itoa(i); !seen[k] {
						t.Errorf("SCAN missed %q, present all along (%d calls)", k, calls)
					}
				}
			})
		})
	}
}

// TestRenameAndCopyInOneShard covers two keys of the same shard, where the
// value read must be copied before the write.
func TestRenameAndCopyInOneShard(t *testing.T) {
	inBubble(t, func(t *testing.T, c *client) {
		a, b := sameShardKeys(t, c.srv)
		big := strings.Repeat("v", 5000)
		runSteps(t, c, []keyStep{
			{"SET " + a + " " + big, "+OK\r\n"},
			{"SET " + b + " small", "+OK\r\n"},
			{"COPY " + a + " " + b + " REPLACE", ":1\r\n"},
			{"GET " + b, keyBulk(big)},
			{"SET " + a + " short", "+OK\r\n"},
			{"RENAME " + b + " " + a, "+OK\r\n"},
			{"GET " + a, keyBulk(big)},
			{"EXISTS " + b, ":0\r\n"},
			{"RENAMENX " + a + " " + b, ":1\r\n"},
			{"GET " + b, keyBulk(big)},
		})
	})
}

// sameShardKeys returns two keys that the store keeps in one shard.
func sameShardKeys(tb testing.TB, s *Server) (string, string) {
	tb.Helper()
	for i := 1; i < 100_000; i++ {
		a, b := "k0", "k"+strconv.Itoa(i)
		sa, sb := s.store.Lock2([]byte(a), []byte(b))
		s.store.Unlock2(sa, sb)
		if sa == sb {
			return a, b
		}
	}
	tb.Fatal("no two keys in one shard")
	return "", ""
}

// TestRenameConcurrently renames a key back and forth and copies it from
// other clients at once: no deadlock, no lost value, no reply out of place.
func TestRenameConcurrently(t *testing.T) {
	s := newTestServer(t)
	setup := newTestClient(t, s)
	run(t, setup, "SET a value")
	cmds := []string{"RENAME a b", "RENAME b a", "COPY a c REPLACE", "COPY b c REPLACE", "RENAMENX c a"}
	var wg sync.WaitGroup
	errs := make(chan string, len(cmds))
	for _, cmd := range cmds {
		c := newTestClient(t, s)
		wg.Go(func() {
			for range 2000 {
				switch got := run(t, c, cmd); got {
				case "+OK\r\n", ":0\r\n", ":1\r\n", "-ERR no such key\r\n":
				default:
					errs <- fmt.Sprintf("%s = %q", cmd, got)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if got := run(t, setup, "EXISTS a b"); got != ":1\r\n" && got != ":2\r\n" {
		t.Errorf("EXISTS a b = %q after the renames, want 1 or 2 (RENAMENX c a may restore a)", got)
	}
	for _, k := range []string{"a", "b", "c"} {
		if got := run(t, setup, "GET "+k); got != "$-1\r\n" && got != keyBulk("value") {
			t.Errorf("GET %s = %q", k, got)
		}
	}
}

// scanAll runs a SCAN iteration to its end with the given options and
// returns every key it gave, repeats included.
func scanAll(tb testing.TB, c *client, opts string) []string {
	tb.Helper()
	var all []string
	cursor := "0"
	for calls := 0; ; calls++ {
		if calls > 100_000 {
			tb.Fatalf("SCAN %s did not finish", opts)
		}
		next, keys := parseScanReply(tb, run(tb, c, "SCAN "+cursor+" "+opts))
		all = append(all, keys...)
		if cursor = next; cursor == "0" {
			return all
		}
	}
}

// parseScanReply reads SCAN's [cursor, [key...]] reply.
func parseScanReply(tb testing.TB, reply string) (string, []string) {
	tb.Helper()
	r := bufio.NewReader(strings.NewReader(reply))
	if n := readHeader(tb, r, '*', reply); n != 2 {
		tb.Fatalf("SCAN reply %q is not a pair", reply)
	}
	cursor := readBulk(tb, r, reply)
	n := readHeader(tb, r, '*', reply)
	keys := make([]string, 0, n)
	for range n {
		keys = append(keys, readBulk(tb, r, reply))
	}
	return cursor, keys
}

// parseKeysReply reads an array of bulk strings.
func parseKeysReply(tb testing.TB, reply string) []string {
	tb.Helper()
	r := bufio.NewReader(strings.NewReader(reply))
	n := readHeader(tb, r, '*', reply)
	keys := make([]string, 0, n)
	for range n {
		keys = append(keys, readBulk(tb, r, reply))
	}
	return keys
}

func readHeader(tb testing.TB, r *bufio.Reader, kind byte, reply string) int {
	tb.Helper()
	line, err := r.ReadString('\n')
	if err != nil || len(line) < 3 || line[0] != kind {
		tb.Fatalf("want a %c header in %q", kind, reply)
	}
	n, err := strconv.Atoi(line[1 : len(line)-2])
	if err != nil || n < 0 {
		tb.Fatalf("bad %c header in %q", kind, reply)
	}
	return n
}

func readBulk(tb testing.TB, r *bufio.Reader, reply string) string {
	tb.Helper()
	n := readHeader(tb, r, '$', reply)
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(r, buf); err != nil {
		tb.Fatalf("short bulk string in %q", reply)
	}
	return string(buf[:n])
}

// quoted quotes s for run's command line (s holds no quote or space).
func quoted(s string) string { return `"` + s + `"` }

func keyBulk(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func BenchmarkKeysCommand(b *testing.B) {
	s := newTestServer(b)
	c := newTestClient(b, s)
	for i := range 10_000 {
		run(b, c, fmt.Sprintf("SET user:%d:session:%d v", i, i%7))
	}
	b.ReportAllocs()
	for b.Loop() {
		run(b, c, "KEYS user:*:session:3")
	}
}

func BenchmarkScanCommand(b *testing.B) {
	s := newTestServer(b)
	c := newTestClient(b, s)
	for i := range 10_000 {
		run(b, c, fmt.Sprintf("SET key:%d v", i))
	}
	b.ReportAllocs()
	cursor := "0"
	for b.Loop() {
		reply := run(b, c, "SCAN "+cursor+" COUNT 100")
		// "*2\r\n$<n>\r\n<cursor>\r\n...": take the cursor only.
		_, rest, _ := strings.Cut(reply[4:], "\r\n")
		cursor, _, _ = strings.Cut(rest, "\r\n")
	}
}
