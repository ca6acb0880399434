package server

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geeredis/geeredis/cluster"
	"github.com/geeredis/geeredis/lru"
)

// strStep is one command of a string test and the raw reply it must get.
type strStep struct {
	cmd, want string
}

// strCase is a sequence of commands run in order on one fresh node.
type strCase struct {
	name  string
	proto int // 3 for RESP3, else RESP2
	steps []strStep
}

const (
	strOK          = "+OK\r\n"
	strNil         = "$-1\r\n"
	strEmpty       = "$0\r\n\r\n"
	strSyntaxErr   = "-ERR syntax error\r\n"
	strNotIntErr   = "-ERR value is not an integer or out of range\r\n"
	strNotFloatErr = "-ERR value is not a valid float\r\n"
	strNaNInfErr   = "-ERR increment would produce NaN or Infinity\r\n"
	strOverflowErr = "-ERR increment or decrement would overflow\r\n"
	strTooLongErr  = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
)

func strExpireErr(cmd string) string { return "-ERR invalid expire time in '" + cmd + "' command\r\n" }

// strReplyCases are the string commands' replies, every one checked
// against redis-server 7.0.15 (same commands, same order, on an empty
// database with proto-max-bulk-len 1mb).
func strReplyCases() []strCase {
	big := strings.Repeat("x", 1048000)
	return []strCase{
		{name: "get and set", steps: []strStep{
			{"GET k", strNil},
			{"SET k v", strOK},
			{"GET k", bulk("v")},
			{"get k", bulk("v")},
			{`SET k ""`, strOK},
			{"GET k", strEmpty},
			{"SET k v1 ex 10 ex 20", strOK},
			{"GET k", bulk("v1")},
			{"SET k v nx nx", strNil},
			{"SET k v2 get get", bulk("v1")},
			{"SET k v3 EXAT 9223372036854775", strOK},
			{"SET k v4 PXAT 9223372036854775807", strOK},
			{"SET k v5 EX 9223372036853", strOK},
			{"GET k", bulk("v5")},
		}},
		{name: "set option errors", steps: []strStep{
			{"SET k old", strOK},
			{"SET k v EX 0", strExpireErr("set")},
			{"SET k v EX -1", strExpireErr("set")},
			{"SET k v PX 0", strExpireErr("set")},
			{"SET k v EXAT 0", strExpireErr("set")},
			{"SET k v PXAT 0", strExpireErr("set")},
			{"SET k v EX 1.5", strNotIntErr},
			{"SET k v EX abc", strNotIntErr},
			{"SET k v EX 01", strNotIntErr},
			{"SET k v EX", strSyntaxErr},
			{"SET k v EX 10 PX", strSyntaxErr},
			{"SET k v ex 10 px 10", strSyntaxErr},
			{"SET k v exat 10 pxat 10", strSyntaxErr},
			{"SET k v ex 10 keepttl", strSyntaxErr},
			{"SET k v keepttl ex 10", strSyntaxErr},
			{"SET k v px 100 keepttl", strSyntaxErr},
			{"SET k v nx xx", strSyntaxErr},
			{"SET k v xx nx", strSyntaxErr},
			{"SET k v xx ex 10 get keepttl", strSyntaxErr},
			{"SET k v foo", strSyntaxErr},
			{"SET k v PERSIST", strSyntaxErr},
			{"SET k v EX 9223372036854775807", strExpireErr("set")},
			{"SET k v EX 9223372036854775", strExpireErr("set")},
			{"SET k v PX 9223372036854775807", strExpireErr("set")},
			{"SET k v EXAT 9223372036854775807", strExpireErr("set")},
			{"SET k v EXAT 9223372036854776", strExpireErr("set")},
			{"SET k", "-ERR wrong number of arguments for 'set' command\r\n"},
			{"GET k", bulk("old")},
		}},
		{name: "set nx xx get", steps: []strStep{
			{"SET k v nx get", strNil},
			{"SET k w nx get", bulk("v")},
			{"GET k", bulk("v")},
			{"SET k x xx get", bulk("v")},
			{"SET missing x xx get", strNil},
			{"GET missing", strNil},
			{"SET missing2 x xx", strNil},
			{"SET k y nx", strNil},
			{"SET k y2 xx", strOK},
			{"GET k", bulk("y2")},
			{"SET k 1 get", bulk("y2")},
			{"SET k v get nx ex 10", bulk("1")},
			{"GET k", bulk("1")},
		}},
		{name: "set with a time in the past", steps: []strStep{
			{"SET k v EXAT 1", strOK},
			{"GET k", strNil},
			{"SET k v", strOK},
			{"SET k w PXAT 1 GET", bulk("v")},
			{"GET k", strNil},
			{"SET k v PXAT 1 GET", strNil},
		}},
		{name: "setnx setex psetex", steps: []strStep{
			{"SETNX n 1", ":1\r\n"},
			{"SETNX n 2", ":0\r\n"},
			{"GET n", bulk("1")},
			{"SETEX s 0 v", strExpireErr("setex")},
			{"SETEX s -1 v", strExpireErr("setex")},
			{"SETEX s abc v", strNotIntErr},
			{"SETEX s 1.5 v", strNotIntErr},
			{"SETEX s 9223372036854775807 v", strExpireErr("setex")},
			{"SETEX s 9223372036854775 v", strExpireErr("setex")},
			{"SETEX s 100 v", strOK},
			{"PSETEX s 0 v", strExpireErr("psetex")},
			{"PSETEX s 9223372036854775807 v", strExpireErr("psetex")},
			{"PSETEX s 100000 w", strOK},
			{"GET s", bulk("w")},
			{"SETEX s 10", "-ERR wrong number of arguments for 'setex' command\r\n"},
		}},
		{name: "getset getdel", steps: []strStep{
			{"SET s v", strOK},
			{"GETSET s new", bulk("v")},
			{"GETSET nothere new", strNil},
			{"GET nothere", bulk("new")},
			{"GETDEL nothere", bulk("new")},
			{"GETDEL nothere", strNil},
			{"GET nothere", strNil},
		}},
		{name: "getex", steps: []strStep{
			{"GETEX missing", strNil},
			{"GETEX missing ex 0", strNil},
			{"GETEX missing ex abc", strNil},
			{"GETEX missing px 1.5", strNil},
			{"GETEX missing foo", strSyntaxErr},
			{"SET k v", strOK},
			{"GETEX k", bulk("v")},
			{"GETEX k PERSIST", bulk("v")},
			{"GETEX k persist persist", bulk("v")},
			{"GETEX k ex 10 ex 20", bulk("v")},
			{"GETEX k KEEPTTL", strSyntaxErr},
			{"GETEX k EX 0", strExpireErr("getex")},
			{"GETEX k PX -5", strExpireErr("getex")},
			{"GETEX k EX 9223372036854775807", strExpireErr("getex")},
			{"GETEX k ex abc", strNotIntErr},
			{"GETEX k ex 10 persist", strSyntaxErr},
			{"GETEX k persist ex 10", strSyntaxErr},
			{"GETEX k ex", strSyntaxErr},
			{"GETEX k get", strSyntaxErr},
			{"GETEX k nx", strSyntaxErr},
			{"GETEX k exat 1", bulk("v")},
			{"GET k", strNil},
			{"SET k v", strOK},
			{"GETEX k pxat 1", bulk("v")},
			{"GETEX k", strNil},
		}},
		{name: "mget mset msetnx", steps: []strStep{
			{"SET n 1", strOK},
			{"MGET a b nothere n", "*4\r\n$-1\r\n$-1\r\n$-1\r\n$1\r\n1\r\n"},
			{"MSET a 1 b 2", strOK},
			{"MSET a 1 b", "-ERR wrong number of arguments for 'mset' command\r\n"},
			{"MSET a", "-ERR wrong number of arguments for 'mset' command\r\n"},
			{"MSETNX a 1 c 3", ":0\r\n"},
			{"MSETNX c 3 d 4", ":1\r\n"},
			{"MSETNX e 3 e 4", ":1\r\n"},
			{"GET e", bulk("4")},
			{"MSETNX f 1", ":1\r\n"},
			{"MSETNX f", "-ERR wrong number of arguments for 'msetnx' command\r\n"},
			{"MSETNX g 1 h", "-ERR wrong number of arguments for 'msetnx' command\r\n"},
			{"MGET a b c d e f g", "*7\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n4\r\n$1\r\n1\r\n$-1\r\n"},
			{"MSET k v1 k2 v2 k v3", strOK},
			{"MGET k k2", "*2\r\n$2\r\nv3\r\n$2\r\nv2\r\n"},
			{"MGET k k", "*2\r\n$2\r\nv3\r\n$2\r\nv3\r\n"},
		}},
		{name: "append strlen", steps: []strStep{
			{"APPEND a hello", ":5\r\n"},
			{`APPEND a " world"`, ":11\r\n"},
			{"GET a", bulk("hello world")},
			{`APPEND a ""`, ":11\r\n"},
			{`APPEND newempty ""`, ":0\r\n"},
			{"GET newempty", strEmpty},
			{"STRLEN a", ":11\r\n"},
			{"STRLEN nothere", ":0\r\n"},
			{"STRLEN newempty", ":0\r\n"},
			{"SET n 12", strOK},
			{"APPEND n 3", ":3\r\n"},
			{"INCR n", ":124\r\n"},
		}},
		{name: "incr decr", steps: []strStep{
			{"INCR i", ":1\r\n"},
			{"INCR i", ":2\r\n"},
			{"DECR i", ":1\r\n"},
			{"DECR i", ":0\r\n"},
			{"DECR i", ":-1\r\n"},
			{"INCRBY i 10", ":9\r\n"},
			{"INCRBY i -20", ":-11\r\n"},
			{"DECRBY i 5", ":-16\r\n"},
			{"DECRBY i -5", ":-11\r\n"},
			{"INCRBY i abc", strNotIntErr},
			{"INCRBY i 1.0", strNotIntErr},
			{`INCRBY i " 1"`, strNotIntErr},
			{"INCRBY i +1", strNotIntErr},
			{"INCRBY i 01", strNotIntErr},
			{"INCRBY i -0", strNotIntErr},
			{"INCRBY i 0", ":-11\r\n"},
			{"INCRBY i 9223372036854775808", strNotIntErr},
			{"DECRBY i -9223372036854775808", "-ERR decrement would overflow\r\n"},
			{"DECRBY x -9223372036854775808", "-ERR decrement would overflow\r\n"},
			{"DECRBY x 9223372036854775807", ":-9223372036854775807\r\n"},
			{"SET big 9223372036854775807", strOK},
			{"INCR big", strOverflowErr},
			{"INCRBY big 0", ":9223372036854775807\r\n"},
			{"DECRBY big -1", strOverflowErr},
			{"SET small -9223372036854775808", strOK},
			{"DECR small", strOverflowErr},
			{"INCRBY small -1", strOverflowErr},
			{"DECRBY small 1", strOverflowErr},
			{"INCRBY small 9223372036854775807", ":-1\r\n"},
		}},
		{name: "incr of values that are not integers", steps: []strStep{
			{`SET sp " 1"`, strOK},
			{"INCR sp", strNotIntErr},
			{`SET sp "1 "`, strOK},
			{"INCR sp", strNotIntErr},
			{"SET sp +1", strOK},
			{"INCR sp", strNotIntErr},
			{"SET sp 01", strOK},
			{"INCR sp", strNotIntErr},
			{"SET sp -0", strOK},
			{"DECR sp", strNotIntErr},
			{"SET sp 1.0", strOK},
			{"INCR sp", strNotIntErr},
			{`SET sp ""`, strOK},
			{"INCR sp", strNotIntErr},
			{"SET sp abc", strOK},
			{"INCRBY sp 1", strNotIntErr},
			{"SET sp 123456789012345678901", strOK},
			{"INCR sp", strNotIntErr},
			{"GET sp", bulk("123456789012345678901")},
			{"SET sp 0", strOK},
			{"INCR sp", ":1\r\n"},
			{"SET sp -5", strOK},
			{"INCR sp", ":-4\r\n"},
		}},
		{name: "incrbyfloat", steps: []strStep{
			{"INCRBYFLOAT f 0.1", bulk("0.1")},
			{"INCRBYFLOAT f 0.2", bulk("0.3")},
			{"INCRBYFLOAT f 10.5", bulk("10.8")},
			{"INCRBYFLOAT f -10.8", bulk("0")},
			{"INCRBYFLOAT g 1e3", bulk("1000")},
			{"INCRBYFLOAT g 1.5e-3", bulk("1000.0015")},
			{"INCRBYFLOAT h 3", bulk("3")},
			{"INCRBYFLOAT h abc", strNotFloatErr},
			{`INCRBYFLOAT h ""`, strNotFloatErr},
			{`INCRBYFLOAT h " 1"`, strNotFloatErr},
			{`INCRBYFLOAT h "1 "`, strNotFloatErr},
			{"INCRBYFLOAT h inf", strNaNInfErr},
			{"INCRBYFLOAT h -inf", strNaNInfErr},
			{"INCRBYFLOAT h nan", strNotFloatErr},
			{"INCRBYFLOAT h infinity", strNaNInfErr},
			{"INCRBYFLOAT h +1", bulk("4")},
			{"INCRBYFLOAT h 0x10", bulk("20")},
			{"INCRBYFLOAT h 0x1p3", bulk("28")},
			{"INCRBYFLOAT h 1_0", strNotFloatErr},
			{"INCRBYFLOAT h .5", bulk("28.5")},
			{"INCRBYFLOAT h 5.", bulk("33.5")},
			{"INCRBYFLOAT h 1e5000", strNotFloatErr},
			{"INCRBYFLOAT h 1e-5000", strNotFloatErr},
			{"INCRBYFLOAT h 1e-4940", bulk("33.5")},
			{"INCRBYFLOAT h -3", bulk("30.5")},
			{"INCRBYFLOAT z 0", bulk("0")},
			{"INCRBYFLOAT z -0.0", bulk("0")},
			{"SET hh 1e308", strOK},
			{"INCRBYFLOAT hh 1e308", bulk("199999999999999999993371759311691291321120199694831134415594095989843469737676123744200253843777078640893494450108026446304269499187921167194841628860392837535918200039206381557326219209014213335878306791577877829121087126122536729803237260434173178506889763247582601711514636284849020905456510092687857156096")},
			{"STRLEN hh", ":309\r\n"},
			{"SET fs 1.5", strOK},
			{"INCRBYFLOAT fs 1", bulk("2.5")},
			{`SET fs " 1.5"`, strOK},
			{"INCRBYFLOAT fs 1", strNotFloatErr},
			{"SET fs inf", strOK},
			{"INCRBYFLOAT fs 1", strNaNInfErr},
			{"SET fs abc", strOK},
			{"INCRBYFLOAT fs 1", strNotFloatErr},
			{"SET fs 5", strOK},
			{"INCRBYFLOAT fs 0.0000000000000000001", bulk("5")},
			{"INCRBYFLOAT fs 1e-17", bulk("5.00000000000000001")},
			{"INCRBYFLOAT fs 1.23456789012345678", bulk("6.23456789012345679")},
			{"SET fs 3.0e3", strOK},
			{"INCRBYFLOAT fs 1", bulk("3001")},
			{"INCRBYFLOAT pi 3.14159265358979323846", bulk("3.14159265358979324")},
			{"INCRBYFLOAT neg -0.00000000000000001", bulk("-0.00000000000000001")},
			{"INCRBYFLOAT neg2 -0.000000000000000001", bulk("0")},
			{"INCRBYFLOAT e 1e20", bulk("100000000000000000000")},
			{"INCRBYFLOAT e 1", bulk("100000000000000000000")},
			{"INCRBYFLOAT b 123456789012345678901234567890", bulk("123456789012345678899921813504")},
		}},
		{name: "getrange", steps: []strStep{
			{`SET r "hello world"`, strOK},
			{"GETRANGE r 0 4", bulk("hello")},
			{"GETRANGE r -5 -1", bulk("world")},
			{"GETRANGE r 0 -1", bulk("hello world")},
			{"GETRANGE r 0 -100", bulk("h")},
			{"GETRANGE r -100 -50", bulk("h")},
			{"GETRANGE r -1 -5", strEmpty},
			{"GETRANGE r 5 3", strEmpty},
			{"GETRANGE r 100 200", strEmpty},
			{"GETRANGE r 0 100", bulk("hello world")},
			{"GETRANGE r -100 100", bulk("hello world")},
			{"GETRANGE r 3 3", bulk("l")},
			{"GETRANGE r abc 1", strNotIntErr},
			{"GETRANGE r 1 abc", strNotIntErr},
			{"GETRANGE nothere 0 -1", strEmpty},
			{"GETRANGE nothere abc 1", strNotIntErr},
			{"GETRANGE r 9223372036854775807 9223372036854775807", strEmpty},
			{"GETRANGE r -9223372036854775808 -9223372036854775808", bulk("h")},
			{"GETRANGE r -9223372036854775808 9223372036854775807", bulk("hello world")},
			{`SET em ""`, strOK},
			{"GETRANGE em 0 -1", strEmpty},
			{"GETRANGE em 0 0", strEmpty},
		}},
		{name: "setrange", steps: []strStep{
			{"SETRANGE sr 5 hello", ":10\r\n"},
			{"GET sr", bulk("\x00\x00\x00\x00\x00hello")},
			{"SETRANGE sr 0 HE", ":10\r\n"},
			{"GET sr", bulk("HE\x00\x00\x00hello")},
			{"SETRANGE sr 8 LLO!", ":12\r\n"},
			{"GET sr", bulk("HE\x00\x00\x00helLLO!")},
			{`SETRANGE sr 100 ""`, ":12\r\n"},
			{"SETRANGE sr -1 x", "-ERR offset is out of range\r\n"},
			{"SETRANGE sr abc x", strNotIntErr},
			{`SETRANGE nothere 100 ""`, ":0\r\n"},
			{"GET nothere", strNil},
			{`SETRANGE nothere -1 ""`, "-ERR offset is out of range\r\n"},
			{"SETRANGE sr 1048575 x", ":1048576\r\n"},
			{"SETRANGE sr 1048576 x", strTooLongErr},
			{`SETRANGE sr 1048576 ""`, ":1048576\r\n"},
			{"SETRANGE new 1048576 x", strTooLongErr},
			{"SETRANGE sr 9223372036854775807 x", strTooLongErr},
			{"GETRANGE sr 0 2", bulk("HE\x00")},
		}},
		{name: "append up to proto-max-bulk-len", steps: []strStep{
			{"SET a " + big, strOK},
			{"APPEND a " + strings.Repeat("y", 576), ":1048576\r\n"},
			{"APPEND a y", strTooLongErr},
			{"STRLEN a", ":1048576\r\n"},
			{"APPEND c " + strings.Repeat("y", 1048576), ":1048576\r\n"},
		}},
		{name: "resp3", proto: 3, steps: []strStep{
			{"GET k", "_\r\n"},
			{"SET k v", strOK},
			{"SET k w NX", "_\r\n"},
			{"SET n w GET", "_\r\n"},
			{"MGET k nothere", "*2\r\n$1\r\nv\r\n_\r\n"},
			{"GETDEL nothere", "_\r\n"},
			{"GETEX nothere", "_\r\n"},
			{"GETRANGE nothere 0 1", strEmpty},
			{"INCRBYFLOAT f 1.5", bulk("1.5")},
			{"INCR i", ":1\r\n"},
		}},
	}
}

func TestStringReplies(t *testing.T) {
	for _, tc := range strReplyCases() {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, func(cfg *Config) { cfg.ProtoMaxBulkLen = 1 << 20 })
			c := newTestClient(t, s)
			if tc.proto == 3 {
				c.proto = 3
			}
			for _, st := range tc.steps {
				if got := run(t, c, st.cmd); got != st.want {
					t.Errorf("%s\n got %q\nwant %q", cut(st.cmd), cut(got), cut(st.want))
				}
			}
		})
	}
}

// cut shortens long text for test messages.
func cut(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%s...(%d bytes)", s[:80], len(s))
	}
	return s
}

// runAt runs one command line on c as if the time were now (Unix ms),
// calling the handler through the command table as exec does but without
// exec's clock.
func runAt(tb testing.TB, c *client, now int64, line string) string {
	tb.Helper()
	args := splitArgs(line)
	cmd, _ := c.srv.table.lookup(args)
	if cmd == nil || !arityOK(cmd.arity, len(args)) {
		tb.Fatalf("runAt %q: unknown command or wrong arity", line)
	}
	c.w.Reset()
	c.nowMs = now
	cmd.run(c, args)
	return string(c.w.Bytes())
}

// expiryOf returns key's expire time in s's store (0 for none) and whether
// the key is there at now.
func expiryOf(s *Server, key string, now int64) (int64, bool) {
	sh := s.store.Lock([]byte(key))
	defer sh.Unlock()
	it, ok := sh.Peek([]byte(key), now)
	return it.ExpireAt, ok
}

// TestStringExpiry checks which commands set, keep or clear a key's
// expiry, and that keys vanish once it passes, with the clock injected.
// (Checked against redis-server 7.0.15 with PTTL.)
func TestStringExpiry(t *testing.T) {
	const t0 = int64(4_000_000_000_000) // far enough ahead that the store's own expiry cycle leaves keys alone
	tests := []struct {
		name    string
		setup   []string // run at t0
		cmd     string   // run at t0+1000
		key     string
		wantExp int64 // expected expire time, 0 for none, -1 for "key gone"
	}{
		{"SET EX", nil, "SET k v EX 100", "k", t0 + 1000 + 100_000},
		{"SET PX", nil, "SET k v PX 1500", "k", t0 + 1000 + 1500},
		{"SET EXAT", nil, "SET k v EXAT 4000000005", "k", 4_000_000_005_000},
		{"SET PXAT", nil, "SET k v PXAT 4000000005123", "k", 4_000_000_005_123},
		{"SET PXAT now", nil, "SET k v PXAT 4000000001000", "k", -1},
		{"SET clears", []string{"SET k v EX 100"}, "SET k w", "k", 0},
		{"SET KEEPTTL", []string{"SET k v EX 100"}, "SET k w KEEPTTL", "k", t0 + 100_000},
		{"SET KEEPTTL GET", []string{"SET k v EX 100"}, "SET k w KEEPTTL GET", "k", t0 + 100_000},
		{"SET KEEPTTL new key", nil, "SET k w KEEPTTL", "k", 0},
		{"SET NX fails", []string{"SET k v EX 100"}, "SET k w NX GET", "k", t0 + 100_000},
		{"SET XX", []string{"SET k v EX 100"}, "SET k w XX", "k", 0},
		{"SETEX", nil, "SETEX k 10 v", "k", t0 + 1000 + 10_000},
		{"PSETEX", nil, "PSETEX k 10 v", "k", t0 + 1000 + 10},
		{"GETSET clears", []string{"SET k v EX 100"}, "GETSET k w", "k", 0},
		{"MSET clears", []string{"SET k v EX 100"}, "MSET k w j x", "k", 0},
		{"INCR keeps", []string{"SET k 1 EX 100"}, "INCR k", "k", t0 + 100_000},
		{"DECRBY keeps", []string{"SET k 1 EX 100"}, "DECRBY k 5", "k", t0 + 100_000},
		{"INCRBYFLOAT keeps", []string{"SET k 1 EX 100"}, "INCRBYFLOAT k 0.5", "k", t0 + 100_000},
		{"APPEND keeps", []string{"SET k 1 EX 100"}, "APPEND k x", "k", t0 + 100_000},
		{"SETRANGE keeps", []string{"SET k 1 EX 100"}, "SETRANGE k 3 x", "k", t0 + 100_000},
		{"GETEX keeps", []string{"SET k v EX 100"}, "GETEX k", "k", t0 + 100_000},
		{"GETEX PERSIST", []string{"SET k v EX 100"}, "GETEX k PERSIST", "k", 0},
		{"GETEX EX", []string{"SET k v"}, "GETEX k EX 5", "k", t0 + 1000 + 5000},
		{"GETEX PXAT", []string{"SET k v"}, "GETEX k PXAT 4000000009999", "k", 4_000_000_009_999},
		{"GETEX PXAT now", []string{"SET k v"}, "GETEX k PXAT 4000000001000", "k", -1},
		{"GETEX bad expire", []string{"SET k v EX 100"}, "GETEX k EX 0", "k", t0 + 100_000},
		{"GETDEL", []string{"SET k v EX 100"}, "GETDEL k", "k", -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t)
			c := newTestClient(t, s)
			for _, line := range tc.setup {
				runAt(t, c, t0, line)
			}
			runAt(t, c, t0+1000, tc.cmd)
			exp, ok := expiryOf(s, tc.key, t0+1000)
			switch {
			case tc.wantExp == -1 && ok:
				t.Errorf("after %q: key still there, expiring at %d", tc.cmd, exp)
			case tc.wantExp != -1 && !ok:
				t.Errorf("after %q: key gone", tc.cmd)
			case ok && exp != tc.wantExp:
				t.Errorf("after %q: expires at t0%+d, want t0%+d", tc.cmd, exp-t0, tc.wantExp-t0)
			}
		})
	}
}

// TestStringExpiryPasses checks that commands no longer see a key once its
// time has passed: a key with expire time e lives while now <= e.
func TestStringExpiryPasses(t *testing.T) {
	const t0 = int64(4_000_000_000_000)
	s := newTestServer(t)
	c := newTestClient(t, s)
	runAt(t, c, t0, "SET k v PX 100")
	runAt(t, c, t0, "SET n 5 PX 100")
	steps := []struct {
		at        int64
		cmd, want string
	}{
		{t0 + 100, "GET k", bulk("v")},
		{t0 + 100, "STRLEN k", ":1\r\n"},
		{t0 + 101, "GET k", strNil},
		{t0 + 101, "SET k w NX", strOK},
		{t0 + 101, "GET k", bulk("w")},
		{t0 + 100, "INCR n", ":6\r\n"},
		{t0 + 101, "INCR n", ":1\r\n"},
		{t0 + 101, "SETEX e 1 v", strOK},
		{t0 + 1101, "MGET e", "*1\r\n$1\r\nv\r\n"},
		{t0 + 1102, "MGET e", "*1\r\n$-1\r\n"},
		{t0 + 1102, "MSETNX e x", ":1\r\n"},
	}
	for _, st := range steps {
		if got := runAt(t, c, st.at, st.cmd); got != st.want {
			t.Errorf("at t0%+d %s: got %q, want %q", st.at-t0, st.cmd, got, st.want)
		}
	}
}

// TestStringBinarySafe sends arguments that splitArgs cannot write.
func TestStringBinarySafe(t *testing.T) {
	s := newTestServer(t)
	c := newTestClient(t, s)
	key, val := []byte("k\x00\r\n"), []byte("\x00\xff\r\nv")
	if got := execArgs(c, []byte("SET"), key, val); got != strOK {
		t.Fatalf("SET: %q", got)
	}
	if got, want := execArgs(c, []byte("GET"), key), bulk(string(val)); got != want {
		t.Errorf("GET: got %q, want %q", got, want)
	}
	if got, want := execArgs(c, []byte("APPEND"), key, []byte{0}), ":6\r\n"; got != want {
		t.Errorf("APPEND: got %q, want %q", got, want)
	}
	if got, want := execArgs(c, []byte("GETRANGE"), key, []byte("-2"), []byte("-1")), bulk("v\x00"); got != want {
		t.Errorf("GETRANGE: got %q, want %q", got, want)
	}
}

// TestGetNoTouch checks that a GET from a CLIENT NO-TOUCH client leaves
// the LRU order alone, so the key it read is the one evicted next.
func TestGetNoTouch(t *testing.T) {
	for _, tc := range []struct {
		noTouch bool
		want    string // MGET a b c after SET a, SET b, GET a, SET c
	}{
		{noTouch: false, want: "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n3\r\n"}, // b evicted
		{noTouch: true, want: "*3\r\n$-1\r\n$1\r\n2\r\n$1\r\n3\r\n"},  // a evicted
	} {
		t.Run(fmt.Sprintf("noTouch=%v", tc.noTouch), func(t *testing.T) {
			s := newTestServer(t)
			// One shard with room for two keys: eviction follows the exact
			// LRU order.
			store, err := cluster.NewStore(cluster.StoreConfig{MaxBytes: 2 * (2 + lru.EntryOverhead), Shards: 1})
			if err != nil {
				t.Fatal(err)
			}
			s.store = store
			c := newTestClient(t, s)
			run(t, c, "SET a 1")
			run(t, c, "SET b 2")
			c.mu.Lock()
			c.noTouch = tc.noTouch
			c.mu.Unlock()
			if got := run(t, c, "GET a"); got != bulk("1") {
				t.Fatalf("GET a = %q", got)
			}
			run(t, c, "SET c 3")
			if got := run(t, c, "MGET a b c"); got != tc.want {
				t.Errorf("MGET a b c = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestStringAtomicity runs conflicting commands from many clients at once
// and checks that each command took effect as one step.
func TestStringAtomicity(t *testing.T) {
	const workers, rounds = 8, 200
	s := newTestServer(t)
	clients := make([]*client, workers)
	for i := range clients {
		clients[i] = newTestClient(t, s)
	}
	keys := make([]string, 16) // spread over many shards
	for i := range keys {
		keys[i] = "key" + strconv.Itoa(i)
	}
	parallel := func(fn func(w int, c *client)) {
		var wg sync.WaitGroup
		for w, c := range clients {
			wg.Go(func() { fn(w, c) })
		}
		wg.Wait()
	}

	t.Run("INCR", func(t *testing.T) {
		parallel(func(_ int, c *client) {
			for range rounds {
				c.w.Reset()
				c.exec(splitArgs("INCR counter"))
			}
		})
		if got, want := run(t, clients[0], "GET counter"), bulk(strconv.Itoa(workers*rounds)); got != want {
			t.Errorf("GET counter = %q, want %q", got, want)
		}
	})

	t.Run("MSETNX", func(t *testing.T) {
		wins := make([]bool, workers)
		parallel(func(w int, c *client) {
			line := "MSETNX"
			for _, k := range keys {
				line += " " + k + " w" + strconv.Itoa(w)
			}
			c.w.Reset()
			c.exec(splitArgs(line))
			wins[w] = string(c.w.Bytes()) == ":1\r\n"
		})
		winner := -1
		for w, won := range wins {
			if won {
				if winner >= 0 {
					t.Fatalf("MSETNX succeeded for workers %d and %d", winner, w)
				}
				winner = w
			}
		}
		if winner < 0 {
			t.Fatal("no MSETNX succeeded")
		}
		want := "*" + strconv.Itoa(len(keys)) + "\r\n" + strings.Repeat(bulk("w"+strconv.Itoa(winner)), len(keys))
		if got := run(t, clients[0], "MGET "+strings.Join(keys, " ")); got != want {
			t.Errorf("after MSETNX: %q, want every key from worker %d", got, winner)
		}
	})

	t.Run("MSET and MGET", func(t *testing.T) {
		deadline := time.Now().Add(5 * time.Second)
		parallel(func(w int, c *client) {
			for i := range rounds {
				if time.Now().After(deadline) {
					return
				}
				c.w.Reset()
				if w%2 == 0 {
					v := "w" + strconv.Itoa(w) + "-" + strconv.Itoa(i)
					line := "MSET"
					for _, k := range keys {
						line += " " + k + " " + v
					}
					c.exec(splitArgs(line))
					continue
				}
				c.exec(splitArgs("MGET " + strings.Join(keys, " ")))
				// Every element must be the same: all from one MSET.
				reply := c.w.Bytes()
				elems := reply[strings.Index(string(reply), "\r\n")+2:]
				first := string(elems[:max(replyLen(elems), 0)])
				if want := "*" + strconv.Itoa(len(keys)) + "\r\n" + strings.Repeat(first, len(keys)); string(reply) != want {
					t.Errorf("MGET saw a partial MSET: %q", reply)
					return
				}
			}
		})
	})
}

// FuzzStringCommands runs string commands with arbitrary arguments and
// checks that each writes exactly one well-formed reply without panicking.
func FuzzStringCommands(f *testing.F) {
	f.Add("getrange", "k", "-3", "9223372036854775807")
	f.Add("setrange", "k", "5", "abc")
	f.Add("set", "k", "v", "EX 10 GET")
	f.Add("getex", "k", "PXAT", "1")
	f.Add("incrbyfloat", "k", "1e308", "")
	f.Add("append", "k", "x", "")
	f.Add("msetnx", "a", "b", "c d")
	f.Fuzz(func(t *testing.T, name, a, b, rest string) {
		s := newTestServer(t, func(cfg *Config) { cfg.ProtoMaxBulkLen = 1 << 20 })
		c := newTestClient(t, s)
		run(t, c, "SET k 12345")
		args := [][]byte{[]byte(name), []byte(a), []byte(b)}
		for _, w := range strings.Fields(rest) {
			args = append(args, []byte(w))
		}
		if cmd, _ := s.table.lookup(args); cmd == nil || !strings.Contains("|get|set|setnx|setex|psetex|getset|getdel|getex|mget|mset|msetnx|append|strlen|incr|decr|incrby|decrby|incrbyfloat|getrange|setrange|", "|"+cmd.name+"|") {
			return
		}
		c.w.Reset()
		c.exec(args)
		if s.stats.panics.Load() != 0 {
			t.Fatalf("%q panicked", args)
		}
		if n := replyLen(c.w.Bytes()); n != c.w.Len() {
			t.Fatalf("%q: reply %q is not one reply", args, c.w.Bytes())
		}
	})
}

// replyLen returns the length of the first RESP reply in b, or -1.
func replyLen(b []byte) int {
	end := strings.Index(string(b), "\r\n")
	if end < 1 {
		return -1
	}
	line := string(b[1:end])
	switch b[0] {
	case '+', '-', ':', '_':
		return end + 2
	case '$':
		n, err := strconv.Atoi(line)
		if err != nil || n < -1 {
			return -1
		}
		if n == -1 {
			return end + 2
		}
		if len(b) < end+2+n+2 {
			return -1
		}
		return end + 2 + n + 2
	case '*':
		n, err := strconv.Atoi(line)
		if err != nil || n < -1 {
			return -1
		}
		pos := end + 2
		for range n {
			m := replyLen(b[pos:])
			if m < 0 {
				return -1
			}
			pos += m
		}
		return pos
	}
	return -1
}
