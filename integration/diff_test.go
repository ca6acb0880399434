package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/geeredis/geeredis/server"
)

// mode says how a geeredis reply is compared with redis-server's.
type mode int

const (
	exact    mode = iota // the same bytes
	sorted               // the same aggregate once its elements are sorted (KEYS)
	near                 // integers: equal when negative, else both >= 0 and within tol (TTL, PTTL)
	typeOnly             // the same reply type and, for aggregates, the same length (CLIENT ID, TIME)
	pairs                // key/value pairs (HELLO): the same keys in order, the same values except for the keys in ignore
	cmdInfo              // COMMAND INFO: per command, every field; of the subcommands, those geeredis has
	scanAll              // the command is SCAN 0 ...: iterate to cursor 0 on each side, compare the sets of keys
)

// row is one step of the script. A row sends cmd (split like redis-cli:
// spaces, "double quotes" with \" \\ \n \r \t \xHH escapes) as a RESP array,
// or raw as it is, then reads n replies (1 unless set) from each server and
// compares them.
type row struct {
	cmd    string
	raw    string
	n      int
	silent bool // the input gets no reply (checked by a PING after it)
	mode   mode
	tol    int64    // for near
	ignore []string // for pairs
	closes bool     // both servers close the connection after the reply
}

// section is a part of the script run on a fresh node and fresh
// connections, after FLUSHALL on redis-server. With pass set, both servers
// require that password (redis-server through CONFIG SET requirepass).
type section struct {
	name string
	pass string
	rows []row
}

// redis-server runs with --maxmemory 64mb --maxmemory-policy allkeys-lru:
// geeredis is a cache whose one policy is allkeys-lru, and 64mb is its
// default maxmemory, so CONFIG GET of both is compared with a Redis set up
// as the same cache.
//
// Rows left out on purpose, because geeredis differs from redis-server by
// design (the row is kept here so the difference stays visible):
//
//	HELLO / INFO "version" and "id" values  – geeredis reports its own version; ids are per process (compared with pairs/ignore).
//	COMMAND COUNT                           – geeredis implements a subset of Redis's commands (compared typeOnly).
//	COMMAND INFO <container>                – geeredis has some of CLIENT's, CONFIG's, COMMAND's and MEMORY's subcommands (cmdInfo compares those).
//	RANDOMKEY with several keys             – random by definition (only run on 0 and 1 key).
//	INFO                                    – the text differs by nature (compared typeOnly).
//	SELECT 1, COPY ... DB 1                 – geeredis has one database: "ERR DB index is out of range".
//	CONFIG GET databases                    – 1, for the same reason (redis: 16).
//	COMMAND LIST FILTERBY PATTERN get*,
//	COMMAND LIST FILTERBY ACLCAT connection – geeredis lists the commands it has (no GETBIT, WAIT, CLIENT KILL...).
//	CLIENT HELP, COMMAND HELP               – the help lists the subcommands geeredis has.
//	SAVE, BGSAVE                            – redis-server would write dump.rdb into the test's directory.
//	inline "ECHO a\x00b\r\n"                – redis-server looks for the newline with strchr, stops at the NUL and never answers.
//	SUBSTR                                  – an alias of GETRANGE that geeredis does not implement (unknown command).
//	SCAN -1 (and other huge cursors)        – redis reads it as 2^64-1 and answers from its seeded hash table: not deterministic even redis to redis.
var script = []section{
	{name: "connection", rows: []row{
		{cmd: `PING`},
		{cmd: `PING hello`},
		{cmd: `PING ""`},
		{cmd: `PING a b`},
		{cmd: `pInG`},
		{cmd: `ECHO hi`},
		{cmd: `ECHO "with space"`},
		{cmd: `ECHO ""`},
		{cmd: `ECHO`},
		{cmd: `ECHO a b`},
		{cmd: `SELECT 0`},
		{cmd: `SELECT 16`},
		{cmd: `SELECT -1`},
		{cmd: `SELECT x`},
		{cmd: `SELECT`},
		{cmd: `HELLO`, mode: pairs, ignore: []string{"version", "id"}},
		{cmd: `HELLO 2`, mode: pairs, ignore: []string{"version", "id"}},
		{cmd: `HELLO 4`},
		{cmd: `HELLO 1`},
		{cmd: `HELLO x`},
		{cmd: `HELLO 2 FOO`},
		{cmd: `HELLO 2 AUTH default`},
		{cmd: `HELLO 2 AUTH default anything`, mode: pairs, ignore: []string{"version", "id"}},
		{cmd: `HELLO 2 SETNAME fromhello`, mode: pairs, ignore: []string{"version", "id"}},
		{cmd: `CLIENT GETNAME`},
		{cmd: `HELLO 2 SETNAME "bad name"`},
		{cmd: `HELLO -1`},
		{cmd: `HELLO 2147483648`},
		{cmd: `HELLO -9223372036854775808`},
		{cmd: `HELLO 9223372036854775808`},
		{cmd: `HELLO 03`},
		{cmd: `HELLO 3 SETNAME`},
		{cmd: `HELLO 3 AUTH default`},
		{cmd: `HELLO 3 AUTH`},
		{cmd: `hello 2 setname x auth default pw`, mode: pairs, ignore: []string{"version", "id"}},
		{cmd: `CLIENT GETNAME`},
		{cmd: `HELLO 3`, mode: pairs, ignore: []string{"version", "id"}},
		{cmd: `PING`},
		{cmd: `HELLO 2`, mode: pairs, ignore: []string{"version", "id"}},
		{cmd: `CLIENT SETNAME conn1`},
		{cmd: `CLIENT GETNAME`},
		{cmd: `CLIENT SETNAME "a b"`},
		{cmd: `CLIENT SETNAME "a\nb"`},
		{cmd: `CLIENT SETNAME "a\x01"`},
		{cmd: `CLIENT SETNAME "a\x7f"`},
		{cmd: `CLIENT SETNAME "~!@#$%^&*()_+"`},
		{cmd: `CLIENT GETNAME`},
		{cmd: `CLIENT GETNAME`},
		{cmd: `CLIENT SETNAME ""`},
		{cmd: `CLIENT GETNAME`},
		{cmd: `CLIENT SETNAME`},
		{cmd: `CLIENT ID`, mode: typeOnly},
		{cmd: `client id`, mode: typeOnly},
		{cmd: `CLIENT ID x`},
		{cmd: `CLIENT NOSUCH`},
		{cmd: `client getname`},
		{cmd: `Client GetName x`},
		{cmd: `CLIENT NO-EVICT on`},
		{cmd: `CLIENT NO-EVICT OFF`},
		{cmd: `CLIENT NO-EVICT maybe`},
		{cmd: `CLIENT NO-EVICT`},
		{cmd: `CLIENT INFO`, mode: typeOnly},
		{cmd: `CLIENT LIST`, mode: typeOnly},
		{cmd: `CLIENT LIST TYPE normal`, mode: typeOnly},
		{cmd: `CLIENT LIST TYPE nosuch`},
		{cmd: `CLIENT LIST ID abc`},
		{cmd: `CLIENT LIST FOO`},
		{cmd: `CLIENT`},
		{cmd: `AUTH foo`},
		{cmd: `AUTH default foo`},
		{cmd: `AUTH a b c`},
		{cmd: `AUTH`},
		{cmd: `RESET`},
		{cmd: `QUIT`, closes: true},
		{cmd: `PING after-quit`},
	}},
	{name: "strings", rows: []row{
		{cmd: `GET s:missing`},
		{cmd: `SET s:k v`},
		{cmd: `GET s:k`},
		{cmd: `gEt s:k`},
		{cmd: `SET s:k v2 NX`},
		{cmd: `SET s:k v3 XX`},
		{cmd: `GET s:k`},
		{cmd: `SET s:nx v NX`},
		{cmd: `SET s:xx v XX`},
		{cmd: `GET s:xx`},
		{cmd: `SET s:k v4 GET`},
		{cmd: `SET s:new v GET`},
		{cmd: `SET s:k v5 NX GET`},
		{cmd: `SET s:nx2 v NX GET`},
		{cmd: `SET s:k v6 XX GET`},
		{cmd: `SET s:k v NX XX`},
		{cmd: `SET s:k v EX 10 PX 100`},
		{cmd: `SET s:k v EX 10 EXAT 4102444800`},
		{cmd: `SET s:k v KEEPTTL EX 10`},
		{cmd: `SET s:k v PX 10 KEEPTTL`},
		{cmd: `SET s:k v EX 0`},
		{cmd: `SET s:k v EX -1`},
		{cmd: `SET s:k v PX 0`},
		{cmd: `SET s:k v EXAT 0`},
		{cmd: `SET s:k v PXAT -5`},
		{cmd: `SET s:k v EX x`},
		{cmd: `SET s:k v EX 1.5`},
		{cmd: `SET s:k v EX`},
		{cmd: `SET s:k v EX 9223372036854775807`},
		{cmd: `SET s:k v PX 9223372036854775807`},
		{cmd: `SET s:k v EX 9223372036854775808`},
		{cmd: `SET s:k v EX 9223372036854776`},
		{cmd: `SET s:k v PX 9223372036854775000`},
		{cmd: `SET s:k v EXAT 9223372036854776`},
		{cmd: `SET s:past v PXAT 1`},
		{cmd: `EXISTS s:past`},
		{cmd: `SET s:past v EXAT 1 GET`},
		{cmd: `SET s:k v EXAT 1 GET`},
		{cmd: `GET s:k`},
		{cmd: `SET s:k v`},
		{cmd: `SET s:k v BAD`},
		{cmd: `SET s:k v NX NX`},
		{cmd: `SET s:k v ""`},
		{cmd: `SET s:k v EX +5`},
		{cmd: `SET s:k v EX " 5"`},
		{cmd: `SET s:k v EX 05`},
		{cmd: `TTL s:k`, mode: near, tol: 1},
		{cmd: `SET s:k v`},
		{cmd: `SET s:k v GET GET`},
		{cmd: `SET s:k v EX 10 EX 10`},
		{cmd: `SET s:k v KEEPTTL KEEPTTL`},
		{cmd: `SET s:k v XX XX`},
		{cmd: `SET s:k v PERSIST`},
		{cmd: `SET s:k v EX 10 GET NX`},
		{cmd: `SET s:k v PXAT 4102444800000 KEEPTTL`},
		{cmd: `SET s:k v XX NX`},
		{cmd: `SET s:k v EXAT 4102444800 PXAT 4102444800000`},
		{cmd: `SET s:k v`},
		{cmd: `SET s:k`},
		{cmd: `SET`},
		{cmd: `SET s:t v EX 100`},
		{cmd: `TTL s:t`, mode: near, tol: 1},
		{cmd: `SET s:t v2 KEEPTTL`},
		{cmd: `TTL s:t`, mode: near, tol: 1},
		{cmd: `SET s:t v3`},
		{cmd: `TTL s:t`},
		{cmd: `set s:t v ex 100 nx`},
		{cmd: `set s:t v px 100000 xx`},
		{cmd: `PTTL s:t`, mode: near, tol: 1000},
		{cmd: `SET s:t v EXAT 4102444800`},
		{cmd: `EXPIRETIME s:t`},
		{cmd: `SET s:t v PXAT 4102444800123`},
		{cmd: `PEXPIRETIME s:t`},
		{cmd: `EXPIRETIME s:t`},
		{cmd: `SET s:bin "a\x00b\r\nc"`},
		{cmd: `GET s:bin`},
		{cmd: `STRLEN s:bin`},
		{cmd: `SET "" empty-key`},
		{cmd: `GET ""`},
		{cmd: `SET s:empty ""`},
		{cmd: `GET s:empty`},
		{cmd: `STRLEN s:empty`},
		{cmd: `SETNX s:k v`},
		{cmd: `SETNX s:setnx v`},
		{cmd: `GET s:setnx`},
		{cmd: `SETNX s:k`},
		{cmd: `SETEX s:ex 100 v`},
		{cmd: `TTL s:ex`, mode: near, tol: 1},
		{cmd: `GET s:ex`},
		{cmd: `SETEX s:ex 0 v`},
		{cmd: `SETEX s:ex -5 v`},
		{cmd: `SETEX s:ex x v`},
		{cmd: `SETEX s:ex 9223372036854775807 v`},
		{cmd: `SETEX s:ex 100`},
		{cmd: `PSETEX s:px 100000 v`},
		{cmd: `PTTL s:px`, mode: near, tol: 1000},
		{cmd: `PSETEX s:px 0 v`},
		{cmd: `PSETEX s:px -1 v`},
		{cmd: `PSETEX s:px 1.5 v`},
		{cmd: `PSETEX s:px`},
		{cmd: `GETSET s:k new`},
		{cmd: `GETSET s:gs-missing v`},
		{cmd: `GET s:gs-missing`},
		{cmd: `SET s:gst v EX 100`},
		{cmd: `GETSET s:gst v2`},
		{cmd: `TTL s:gst`},
		{cmd: `GETSET s:k`},
		{cmd: `GETDEL s:k`},
		{cmd: `GETDEL s:k`},
		{cmd: `EXISTS s:k`},
		{cmd: `GETDEL`},
		{cmd: `GETEX s:gx`},
		{cmd: `GETEX s:gx EX 10`},
		{cmd: `SET s:gx v`},
		{cmd: `GETEX s:gx`},
		{cmd: `TTL s:gx`},
		{cmd: `GETEX s:gx EX 100`},
		{cmd: `TTL s:gx`, mode: near, tol: 1},
		{cmd: `GETEX s:gx PERSIST`},
		{cmd: `TTL s:gx`},
		{cmd: `GETEX s:gx PX 100000`},
		{cmd: `PTTL s:gx`, mode: near, tol: 1000},
		{cmd: `GETEX s:gx EXAT 4102444800`},
		{cmd: `EXPIRETIME s:gx`},
		{cmd: `GETEX s:gx PXAT 4102444800555`},
		{cmd: `PEXPIRETIME s:gx`},
		{cmd: `getex s:gx persist`},
		{cmd: `GETEX s:gx EX 0`},
		{cmd: `GETEX s:gx PX -1`},
		{cmd: `GETEX s:gx EXAT 0`},
		{cmd: `GETEX s:gx EX x`},
		{cmd: `GETEX s:gx EX`},
		{cmd: `GETEX s:gx EX 10 PX 10`},
		{cmd: `GETEX s:gx PERSIST EX 10`},
		{cmd: `GETEX s:gx FOO`},
		{cmd: `GETEX s:gx KEEPTTL`},
		{cmd: `GETEX s:gx PERSIST PERSIST`},
		{cmd: `GETEX s:gx EX 100 EX 100`},
		{cmd: `GETEX s:gx NX`},
		{cmd: `GETEX s:gx GET`},
		{cmd: `GETEX s:gx EX 9223372036854775807`},
		{cmd: `GETEX s:gx PX 9223372036854775000`},
		{cmd: `GETEX s:gx PXAT 1`},
		{cmd: `EXISTS s:gx`},
		{cmd: `SET s:gx v`},
		{cmd: `TTL s:gx`},
		{cmd: `GETEX`},
		{cmd: `MSET s:a 1 s:b 2 s:c 3`},
		{cmd: `MGET s:a s:b s:missing s:c`},
		{cmd: `MGET s:a`},
		{cmd: `MGET s:missing`},
		{cmd: `MSET s:a 10 s:a 11`},
		{cmd: `GET s:a`},
		{cmd: `MSET s:a 1 s:b`},
		{cmd: `MSET s:a`},
		{cmd: `MGET`},
		{cmd: `MSETNX s:a 1 s:z 2`},
		{cmd: `EXISTS s:z`},
		{cmd: `MSETNX s:y 1 s:z 2`},
		{cmd: `MGET s:y s:z`},
		{cmd: `MSETNX s:w 1 s:w 2`},
		{cmd: `GET s:w`},
		{cmd: `MSETNX s:y 1 s:z`},
		{cmd: `MSETNX s:y`},
		{cmd: `APPEND s:ap hello`},
		{cmd: `APPEND s:ap " world"`},
		{cmd: `GET s:ap`},
		{cmd: `APPEND s:ap ""`},
		{cmd: `STRLEN s:ap`},
		{cmd: `STRLEN s:missing`},
		{cmd: `SET s:apt v EX 100`},
		{cmd: `APPEND s:apt x`},
		{cmd: `TTL s:apt`, mode: near, tol: 1},
		{cmd: `APPEND s:ap`},
		{cmd: `STRLEN`},
		{cmd: `INCR s:i`},
		{cmd: `INCR s:i`},
		{cmd: `INCRBY s:i 10`},
		{cmd: `DECR s:i`},
		{cmd: `DECRBY s:i 5`},
		{cmd: `INCRBY s:i -3`},
		{cmd: `DECRBY s:i -3`},
		{cmd: `GET s:i`},
		{cmd: `DECR s:d`},
		{cmd: `DECRBY s:d2 7`},
		{cmd: `DECRBY s:i -9223372036854775808`},
		{cmd: `INCRBY s:i -9223372036854775808`},
		{cmd: `SET s:i 9223372036854775807`},
		{cmd: `INCR s:i`},
		{cmd: `INCRBY s:i 0`},
		{cmd: `SET s:i -9223372036854775808`},
		{cmd: `DECR s:i`},
		{cmd: `INCRBY s:i -1`},
		{cmd: `INCR s:i`},
		{cmd: `SET s:i2 9223372036854775800`},
		{cmd: `INCRBY s:i2 7`},
		{cmd: `INCRBY s:i2 1`},
		{cmd: `SET s:i abc`},
		{cmd: `INCR s:i`},
		{cmd: `SET s:i " 1"`},
		{cmd: `INCR s:i`},
		{cmd: `SET s:i "1 "`},
		{cmd: `INCR s:i`},
		{cmd: `SET s:i 01`},
		{cmd: `INCR s:i`},
		{cmd: `SET s:i 0`},
		{cmd: `INCR s:i`},
		{cmd: `SET s:i -0`},
		{cmd: `INCR s:i`},
		{cmd: `SET s:i +1`},
		{cmd: `INCR s:i`},
		{cmd: `SET s:i 1.5`},
		{cmd: `INCR s:i`},
		{cmd: `SET s:i ""`},
		{cmd: `INCR s:i`},
		{cmd: `SET s:i 9223372036854775808`},
		{cmd: `INCR s:i`},
		{cmd: `SET s:i -10`},
		{cmd: `INCR s:i`},
		{cmd: `INCRBY s:i x`},
		{cmd: `INCRBY s:i 1.5`},
		{cmd: `INCRBY s:i ""`},
		{cmd: `INCRBY s:i 9223372036854775808`},
		{cmd: `INCRBY s:i " 1"`},
		{cmd: `INCRBY s:i 007`},
		{cmd: `INCRBY s:i +5`},
		{cmd: `INCRBY s:i -0`},
		{cmd: `INCRBY s:i "5\x00"`},
		{cmd: `GETRANGE s:i +0 -1`},
		{cmd: `SETEX s:i +5 v`},
		{cmd: `DECRBY s:i x`},
		{cmd: `SET s:it 5 EX 100`},
		{cmd: `INCR s:it`},
		{cmd: `TTL s:it`, mode: near, tol: 1},
		{cmd: `INCR`},
		{cmd: `INCRBY s:i`},
		{cmd: `DECRBY s:i`},
		{cmd: `DECR s:i 1`},
		{cmd: `INCRBYFLOAT s:f 10.5`},
		{cmd: `INCRBYFLOAT s:f 0.1`},
		{cmd: `INCRBYFLOAT s:f -5`},
		{cmd: `INCRBYFLOAT s:f 5.0e3`},
		{cmd: `INCRBYFLOAT s:f 1E2`},
		{cmd: `INCRBYFLOAT s:f -5105.6`},
		{cmd: `GET s:f`},
		{cmd: `INCRBYFLOAT s:f2 0.1`},
		{cmd: `INCRBYFLOAT s:f2 0.2`},
		{cmd: `INCRBYFLOAT s:f3 1.23456789012345678`},
		{cmd: `INCRBYFLOAT s:f4 3`},
		{cmd: `INCRBYFLOAT s:f4 .5`},
		{cmd: `INCRBYFLOAT s:f4 5.`},
		{cmd: `INCRBYFLOAT s:f5 1e20`},
		{cmd: `INCRBYFLOAT s:f5 1e-20`},
		{cmd: `INCRBYFLOAT s:f6 -0`},
		{cmd: `INCRBYFLOAT s:f7 0x10`},
		{cmd: `INCRBYFLOAT s:f8 1e308`},
		{cmd: `INCRBYFLOAT s:f8 1e308`},
		{cmd: `INCRBYFLOAT s:f9 1e400`},
		{cmd: `INCRBYFLOAT s:f10 0.0000001`},
		{cmd: `INCRBYFLOAT s:f11 123456789012345678901234567890`},
		{cmd: `INCRBYFLOAT s:f12 -1.5e-7`},
		{cmd: `INCRBYFLOAT s:f13 1.0000000000000002`},
		{cmd: `INCRBYFLOAT s:f14 +1.5`},
		{cmd: `INCRBYFLOAT s:f14 0x1p3`},
		{cmd: `INCRBYFLOAT s:f14 1e`},
		{cmd: `INCRBYFLOAT s:f14 e5`},
		{cmd: `INCRBYFLOAT s:f14 1.5.5`},
		{cmd: `INCRBYFLOAT s:f14 --1`},
		{cmd: `INCRBYFLOAT s:f14 1_000`},
		{cmd: `INCRBYFLOAT s:f14 Infinity`},
		{cmd: `INCRBYFLOAT s:f14 "1.5\x00"`},
		{cmd: `INCRBYFLOAT s:f14 1.5e308`},
		{cmd: `INCRBYFLOAT s:f14 1.5e308`},
		{cmd: `INCRBYFLOAT s:f14 -3e308`},
		{cmd: `SET s:f15 1e400`},
		{cmd: `INCRBYFLOAT s:f15 1`},
		{cmd: `SET s:f15 0x10`},
		{cmd: `INCRBYFLOAT s:f15 1`},
		{cmd: `SET s:f15 "5 "`},
		{cmd: `INCRBYFLOAT s:f15 1`},
		{cmd: `SET s:f15 -.5`},
		{cmd: `INCRBYFLOAT s:f15 1`},
		{cmd: `INCRBYFLOAT s:f16 0.1`},
		{cmd: `INCRBYFLOAT s:f16 0.1`},
		{cmd: `INCRBYFLOAT s:f16 0.1`},
		{cmd: `INCRBYFLOAT s:f17 3.14159265358979323846264338327950288`},
		{cmd: `INCRBYFLOAT s:f18 1e-300`},
		{cmd: `INCRBYFLOAT s:f18 1e-300`},
		{cmd: `INCRBYFLOAT s:f19 9007199254740993`},
		{cmd: `INCRBYFLOAT s:f20 -1e-5`},
		{cmd: `INCRBYFLOAT s:f inf`},
		{cmd: `INCRBYFLOAT s:f -inf`},
		{cmd: `INCRBYFLOAT s:f nan`},
		{cmd: `INCRBYFLOAT s:f abc`},
		{cmd: `INCRBYFLOAT s:f " 1"`},
		{cmd: `INCRBYFLOAT s:f "1 "`},
		{cmd: `INCRBYFLOAT s:f ""`},
		{cmd: `SET s:f 3.0`},
		{cmd: `INCRBYFLOAT s:f 0`},
		{cmd: `SET s:f 1.1e2`},
		{cmd: `INCRBYFLOAT s:f 0`},
		{cmd: `SET s:f 10`},
		{cmd: `INCRBYFLOAT s:f 1.5`},
		{cmd: `SET s:f abc`},
		{cmd: `INCRBYFLOAT s:f 1`},
		{cmd: `SET s:f " 1.5"`},
		{cmd: `INCRBYFLOAT s:f 1`},
		{cmd: `SET s:ft 1 EX 100`},
		{cmd: `INCRBYFLOAT s:ft 1`},
		{cmd: `TTL s:ft`, mode: near, tol: 1},
		{cmd: `INCRBYFLOAT s:f`},
		{cmd: `GETRANGE s:r 0 -1`},
		{cmd: `SET s:r "Hello World"`},
		{cmd: `GETRANGE s:r 0 4`},
		{cmd: `GETRANGE s:r -5 -1`},
		{cmd: `GETRANGE s:r 0 -1`},
		{cmd: `GETRANGE s:r 5 2`},
		{cmd: `GETRANGE s:r -1 -5`},
		{cmd: `GETRANGE s:r -100 100`},
		{cmd: `GETRANGE s:r 0 9223372036854775807`},
		{cmd: `GETRANGE s:r -9223372036854775808 2`},
		{cmd: `GETRANGE s:r 11 20`},
		{cmd: `GETRANGE s:r 10 10`},
		{cmd: `GETRANGE s:r x 1`},
		{cmd: `GETRANGE s:r 0 y`},
		{cmd: `GETRANGE s:r 0`},
		{cmd: `SETRANGE s:r 6 Redis`},
		{cmd: `GET s:r`},
		{cmd: `SETRANGE s:r 20 x`},
		{cmd: `GET s:r`},
		{cmd: `STRLEN s:r`},
		{cmd: `SETRANGE s:r 0 ""`},
		{cmd: `SETRANGE s:r -1 x`},
		{cmd: `SETRANGE s:r 536870912 x`},
		{cmd: `SETRANGE s:r 536870911 ""`},
		{cmd: `SETRANGE s:r 9223372036854775807 x`},
		{cmd: `SETRANGE s:r x y`},
		{cmd: `SETRANGE s:sr 0 ""`},
		{cmd: `SETRANGE s:sr 10 ""`},
		{cmd: `EXISTS s:sr`},
		{cmd: `SETRANGE s:sr 3 abc`},
		{cmd: `GET s:sr`},
		{cmd: `SETRANGE s:r 1`},
		{cmd: "SET s:big " + strings.Repeat("0123456789", 10000)},
		{cmd: `STRLEN s:big`},
		{cmd: `GETRANGE s:big 99990 -1`},
		{cmd: `APPEND s:big abc`},
		{cmd: `GETRANGE s:big -5 -1`},
		{cmd: `SETRANGE s:big 200000 z`},
		{cmd: `STRLEN s:big`},
		{cmd: `GETRANGE s:big 199998 200000`},
		{cmd: `GETDEL s:big`, mode: typeOnly},
		{cmd: "MSET s:m1 " + strings.Repeat("a", 70000) + " s:m2 b"},
		{cmd: `MGET s:m2 s:m1`},
		{cmd: `GET`},
		{cmd: `GET a b`},
		{cmd: `GETSET a`},
		{cmd: `APPEND a`},
		{cmd: `SETEX a 1`},
	}},
	{name: "keys", rows: []row{
		{cmd: `MSET k:a 1 k:b 2 k:c 3`},
		{cmd: `DEL k:a k:b k:missing`},
		{cmd: `DEL k:a`},
		{cmd: `UNLINK k:c k:missing`},
		{cmd: `DEL`},
		{cmd: `UNLINK`},
		{cmd: `SET k:x 1`},
		{cmd: `EXISTS k:x k:x k:missing k:x`},
		{cmd: `EXISTS k:missing`},
		{cmd: `EXISTS`},
		{cmd: `TOUCH k:x k:x k:missing`},
		{cmd: `TOUCH k:missing`},
		{cmd: `TOUCH`},
		{cmd: `TYPE k:x`},
		{cmd: `TYPE k:missing`},
		{cmd: `TYPE`},
		{cmd: `TYPE a b`},
		{cmd: `EXPIRE k:x 100`},
		{cmd: `TTL k:x`, mode: near, tol: 1},
		{cmd: `PTTL k:x`, mode: near, tol: 1000},
		{cmd: `EXPIRE k:missing 100`},
		{cmd: `EXPIRE k:x 100 NX`},
		{cmd: `EXPIRE k:x 200 XX`},
		{cmd: `TTL k:x`, mode: near, tol: 1},
		{cmd: `EXPIRE k:x 50 GT`},
		{cmd: `EXPIRE k:x 300 GT`},
		{cmd: `TTL k:x`, mode: near, tol: 1},
		{cmd: `EXPIRE k:x 50 LT`},
		{cmd: `EXPIRE k:x 500 LT`},
		{cmd: `TTL k:x`, mode: near, tol: 1},
		{cmd: `expire k:x 60 xx gt`},
		{cmd: `TTL k:x`, mode: near, tol: 1},
		{cmd: `PERSIST k:x`},
		{cmd: `PERSIST k:x`},
		{cmd: `PERSIST k:missing`},
		{cmd: `TTL k:x`},
		{cmd: `EXPIRE k:x 100 XX`},
		{cmd: `EXPIRE k:x 100 GT`},
		{cmd: `EXPIRE k:x 100 LT`},
		{cmd: `TTL k:x`, mode: near, tol: 1},
		{cmd: `PERSIST k:x`},
		{cmd: `EXPIRE k:x 100 NX`},
		{cmd: `EXPIRE k:x 100 NX XX`},
		{cmd: `EXPIRE k:x 100 NX GT`},
		{cmd: `EXPIRE k:x 100 GT LT`},
		{cmd: `EXPIRE k:x 100 FOO`},
		{cmd: `EXPIRE k:x 100 NX NX`},
		{cmd: `EXPIRE k:x x`},
		{cmd: `EXPIRE k:x 1.5`},
		{cmd: `EXPIRE k:x 9223372036854775807`},
		{cmd: `EXPIRE k:x -9223372036854775808`},
		{cmd: `EXPIRE k:x 9223372036854776`},
		{cmd: `PEXPIRE k:x 9223372036854775000`},
		{cmd: `EXPIREAT k:x 9223372036854776`},
		{cmd: `PEXPIREAT k:x 9223372036854775000`},
		{cmd: `PEXPIRE k:x 9223372036854775807`},
		{cmd: `EXPIREAT k:x 9223372036854775807`},
		{cmd: `EXPIRE k:x`},
		{cmd: `EXPIRE k:missing x`},
		{cmd: `TTL k:x`, mode: near, tol: 1},
		{cmd: `EXPIRE k:x -1`},
		{cmd: `EXISTS k:x`},
		{cmd: `SET k:x 1`},
		{cmd: `EXPIRE k:x 0`},
		{cmd: `EXISTS k:x`},
		{cmd: `SET k:x 1`},
		{cmd: `PEXPIRE k:x 100000`},
		{cmd: `PTTL k:x`, mode: near, tol: 1000},
		{cmd: `TTL k:x`, mode: near, tol: 1},
		{cmd: `PEXPIRE k:x 200000 GT`},
		{cmd: `PEXPIRE k:x 1000 NX`},
		{cmd: `PEXPIRE k:x 1700`},
		{cmd: `TTL k:x`},
		{cmd: `PEXPIRE k:x 2300`},
		{cmd: `TTL k:x`},
		{cmd: `SET k:x 1 PX 1700`},
		{cmd: `TTL k:x`},
		{cmd: `EXPIREAT k:x 4102444800`},
		{cmd: `EXPIRETIME k:x`},
		{cmd: `PEXPIRETIME k:x`},
		{cmd: `EXPIREAT k:x 4102444700 GT`},
		{cmd: `EXPIREAT k:x 4102444700 LT`},
		{cmd: `EXPIRETIME k:x`},
		{cmd: `PEXPIREAT k:x 4102444800123`},
		{cmd: `PEXPIRETIME k:x`},
		{cmd: `EXPIRETIME k:x`},
		{cmd: `PEXPIREAT k:x 4102444800999 XX`},
		{cmd: `EXPIRETIME k:x`},
		{cmd: `EXPIREAT k:x 1`},
		{cmd: `EXISTS k:x`},
		{cmd: `SET k:x 1`},
		{cmd: `PEXPIREAT k:x 1000`},
		{cmd: `EXISTS k:x`},
		{cmd: `SET k:x 1`},
		{cmd: `EXPIREAT k:x -1`},
		{cmd: `EXISTS k:x`},
		{cmd: `SET k:x 1 EX 100`},
		{cmd: `EXPIREAT k:x 1 GT`},
		{cmd: `EXPIREAT k:x 1 LT`},
		{cmd: `EXISTS k:x`},
		{cmd: `SET k:x 1`},
		{cmd: `EXPIRE k:x -1 GT`},
		{cmd: `EXPIRE k:x -1 XX`},
		{cmd: `EXPIRE k:x -1 NX`},
		{cmd: `EXISTS k:x`},
		{cmd: `SET k:x 1`},
		{cmd: `PEXPIRE k:x 0 LT`},
		{cmd: `EXISTS k:x`},
		{cmd: `EXPIREAT k:x x`},
		{cmd: `PEXPIREAT k:x`},
		{cmd: `EXPIRETIME k:missing`},
		{cmd: `PEXPIRETIME k:missing`},
		{cmd: `SET k:y 1`},
		{cmd: `EXPIRETIME k:y`},
		{cmd: `PEXPIRETIME k:y`},
		{cmd: `TTL k:missing`},
		{cmd: `PTTL k:missing`},
		{cmd: `TTL k:y`},
		{cmd: `PTTL k:y`},
		{cmd: `TTL`},
		{cmd: `PTTL a b`},
		{cmd: `EXPIRETIME`},
		{cmd: `PERSIST`},
		{cmd: `FLUSHALL`},
		{cmd: `MSET k:a 1 k:b 2 k:c 3 k:ab 4 k:abc 5 other 6 "k*" 7 "k:[x]" 8 "K:A" 9`},
		{cmd: `KEYS *`, mode: sorted},
		{cmd: `KEYS k:*`, mode: sorted},
		{cmd: `KEYS k:?`, mode: sorted},
		{cmd: `KEYS k:??`, mode: sorted},
		{cmd: `KEYS k:[ab]*`, mode: sorted},
		{cmd: `KEYS k:[^a]`, mode: sorted},
		{cmd: `KEYS k:[a-b]`, mode: sorted},
		{cmd: `KEYS k\*`, mode: sorted},
		{cmd: `KEYS k:\[x\]`, mode: sorted},
		{cmd: `KEYS K:A`, mode: sorted},
		{cmd: `KEYS *b*`, mode: sorted},
		{cmd: `KEYS nomatch`, mode: sorted},
		{cmd: `KEYS other`, mode: sorted},
		{cmd: `KEYS **`, mode: sorted},
		{cmd: `KEYS k:[`, mode: sorted},
		{cmd: `KEYS k:[a`, mode: sorted},
		{cmd: `KEYS k:[a-`, mode: sorted},
		{cmd: `KEYS k:[b-a]`, mode: sorted},
		{cmd: `KEYS k:[]ab]`, mode: sorted},
		{cmd: `KEYS k:[\]]`, mode: sorted},
		{cmd: `KEYS k:a\`, mode: sorted},
		{cmd: `KEYS k:\a`, mode: sorted},
		{cmd: `KEYS k:[!a]`, mode: sorted},
		{cmd: `KEYS ?:?`, mode: sorted},
		{cmd: `KEYS ""`, mode: sorted},
		{cmd: `KEYS *[`, mode: sorted},
		{cmd: `KEYS k:*[c]`, mode: sorted},
		{cmd: `SET "bin\x00key" 1`},
		{cmd: `SET "new\nline" 1`},
		{cmd: `SET "sp ace" 1`},
		{cmd: `KEYS *`, mode: sorted},
		{cmd: `KEYS *\x00*`, mode: sorted},
		{cmd: "KEYS *\n*", mode: sorted},
		{cmd: `KEYS "* *"`, mode: sorted},
		{cmd: `DEL "bin\x00key" "new\nline" "sp ace"`},
		{cmd: `KEYS`},
		{cmd: `SCAN 0`, mode: scanAll},
		{cmd: `SCAN 0 MATCH k:*`, mode: scanAll},
		{cmd: `SCAN 0 MATCH k:? COUNT 2`, mode: scanAll},
		{cmd: `SCAN 0 COUNT 1`, mode: scanAll},
		{cmd: `SCAN 0 COUNT 1000`, mode: scanAll},
		{cmd: `SCAN 0 TYPE string`, mode: scanAll},
		{cmd: `SCAN 0 TYPE list`, mode: scanAll},
		{cmd: `SCAN 0 type STRING match *a*`, mode: scanAll},
		{cmd: `SCAN 0 MATCH nomatch`, mode: scanAll},
		{cmd: `SCAN 0 MATCH k:[ab]* COUNT 3 TYPE string`, mode: scanAll},
		{cmd: `SCAN 0 TYPE nosuchtype`, mode: scanAll},
		{cmd: `SCAN 0 COUNT 10 COUNT 1`, mode: scanAll},
		{cmd: `SCAN x`},
		{cmd: `SCAN 0 COUNT 0`},
		{cmd: `SCAN 0 COUNT -1`},
		{cmd: `SCAN 0 COUNT x`},
		{cmd: `SCAN 0 MATCH`},
		{cmd: `SCAN 0 FOO bar`},
		{cmd: `SCAN 0 TYPE`},
		{cmd: `SCAN 0 COUNT 1 x`},
		{cmd: `SCAN 18446744073709551616`},
		{cmd: `SCAN 1.5`},
		{cmd: `SCAN " 0"`},
		{cmd: `SCAN 0 COUNT 9223372036854775807`, mode: scanAll},
		{cmd: msetMany("many:", 1000)},
		{cmd: `DBSIZE`},
		{cmd: `KEYS many:1??`, mode: sorted},
		{cmd: `KEYS many:*`, mode: sorted},
		{cmd: `SCAN 0`, mode: scanAll},
		{cmd: `SCAN 0 MATCH many:*7`, mode: scanAll},
		{cmd: `SCAN 0 MATCH many:*7 COUNT 1`, mode: scanAll},
		{cmd: `SCAN 0 COUNT 100 MATCH many:9*`, mode: scanAll},
		{cmd: `RANDOMKEY`, mode: typeOnly},
		{cmd: "DEL" + manyKeys(" many:", 0, 500)},
		{cmd: "EXISTS" + manyKeys(" many:", 400, 600)},
		{cmd: "MGET" + manyKeys(" many:", 495, 505)},
		{cmd: `DBSIZE`},
		{cmd: `SCAN 0 MATCH many:*`, mode: scanAll},
		{cmd: `FLUSHDB`},
		{cmd: `SCAN 0`},
		{cmd: `SCAN 0 MATCH *`, mode: scanAll},
		{cmd: `MSET k:a 1 k:b 2 k:c 3 k:ab 4 k:abc 5 other 6 "k*" 7 "k:[x]" 8 "K:A" 9`},
		{cmd: `SCAN`},
		{cmd: `FLUSHALL`},
		{cmd: `RANDOMKEY`},
		{cmd: `SET k:only 1`},
		{cmd: `RANDOMKEY`},
		{cmd: `RANDOMKEY x`},
		{cmd: `SET k:src v EX 100`},
		{cmd: `RENAME k:src k:dst`},
		{cmd: `EXISTS k:src`},
		{cmd: `GET k:dst`},
		{cmd: `TTL k:dst`, mode: near, tol: 1},
		{cmd: `RENAME k:missing k:dst`},
		{cmd: `RENAME k:dst k:dst`},
		{cmd: `GET k:dst`},
		{cmd: `SET k:other o`},
		{cmd: `RENAME k:dst k:other`},
		{cmd: `GET k:other`},
		{cmd: `TTL k:other`, mode: near, tol: 1},
		{cmd: `SET k:p persistent`},
		{cmd: `SET k:q will-lose-ttl EX 100`},
		{cmd: `RENAME k:p k:q`},
		{cmd: `TTL k:q`},
		{cmd: `RENAME k:q`},
		{cmd: `SET k:a 1`},
		{cmd: `SET k:b 2`},
		{cmd: `RENAMENX k:a k:b`},
		{cmd: `RENAMENX k:a k:c`},
		{cmd: `GET k:c`},
		{cmd: `EXISTS k:a`},
		{cmd: `RENAMENX k:missing k:d`},
		{cmd: `RENAMENX k:c k:c`},
		{cmd: `RENAMENX k:c`},
		{cmd: `SET k:cp v EX 100`},
		{cmd: `COPY k:cp k:b`},
		{cmd: `GET k:b`},
		{cmd: `COPY k:cp k:b REPLACE`},
		{cmd: `GET k:b`},
		{cmd: `TTL k:b`, mode: near, tol: 1},
		{cmd: `COPY k:cp k:new`},
		{cmd: `GET k:new`},
		{cmd: `COPY k:missing k:z`},
		{cmd: `COPY k:cp k:cp`},
		{cmd: `COPY k:cp k:cp REPLACE`},
		{cmd: `COPY k:cp k:z FOO`},
		{cmd: `COPY k:cp k:z DB`},
		{cmd: `COPY k:cp k:z DB x`},
		{cmd: `COPY k:cp k:z DB 0`},
		{cmd: `COPY k:cp k:cp DB 0`},
		{cmd: `COPY k:cp k:z DB -1`},
		{cmd: `COPY k:cp k:z DB 16`},
		{cmd: `copy k:cp k:z replace replace`},
		{cmd: `COPY k:cp`},
	}},
	{name: "server", rows: []row{
		{cmd: `DBSIZE`},
		{cmd: `MSET v:a 1 v:b 2 v:c 3`},
		{cmd: `DBSIZE`},
		{cmd: `DBSIZE x`},
		{cmd: `FLUSHDB`},
		{cmd: `DBSIZE`},
		{cmd: `SET v:a 1`},
		{cmd: `FLUSHDB ASYNC`},
		{cmd: `DBSIZE`},
		{cmd: `SET v:a 1`},
		{cmd: `FLUSHDB SYNC`},
		{cmd: `EXISTS v:a`},
		{cmd: `FLUSHDB sync`},
		{cmd: `FLUSHDB x`},
		{cmd: `FLUSHDB SYNC ASYNC`},
		{cmd: `SET v:a 1`},
		{cmd: `FLUSHALL`},
		{cmd: `DBSIZE`},
		{cmd: `SET v:a 1`},
		{cmd: `FLUSHALL ASYNC`},
		{cmd: `DBSIZE`},
		{cmd: `FLUSHALL SYNC`},
		{cmd: `FLUSHALL x`},
		{cmd: `FLUSHALL ASYNC x`},
		{cmd: `TIME`, mode: typeOnly},
		{cmd: `TIME x`},
		{cmd: `COMMAND COUNT`, mode: typeOnly},
		{cmd: `COMMAND COUNT x`},
		{cmd: `COMMAND INFO get set del`, mode: cmdInfo},
		{cmd: `COMMAND INFO GET`, mode: cmdInfo},
		{cmd: `COMMAND INFO nosuch`},
		{cmd: `COMMAND INFO get nosuch`, mode: cmdInfo},
		{cmd: `COMMAND INFO ping echo quit reset hello auth select client del unlink exists touch type expire pexpire expireat pexpireat ttl pttl expiretime pexpiretime persist keys scan randomkey rename renamenx copy`, mode: cmdInfo},
		{cmd: `COMMAND INFO get set setnx setex psetex getset getdel getex mget mset msetnx append strlen incr decr incrby decrby incrbyfloat getrange setrange`, mode: cmdInfo},
		{cmd: `COMMAND INFO info dbsize flushdb flushall time command config memory lastsave`, mode: cmdInfo},
		{cmd: `COMMAND INFO client|id client|setname config|get config|set command|info`, mode: cmdInfo},
		{cmd: `COMMAND GETKEYS SET a b`},
		{cmd: `COMMAND GETKEYS MSET a 1 b 2`},
		{cmd: `COMMAND GETKEYS RENAME a b`},
		{cmd: `COMMAND GETKEYS MEMORY USAGE k`},
		{cmd: `COMMAND GETKEYS GET`},
		{cmd: `COMMAND GETKEYS PING`},
		{cmd: `COMMAND GETKEYS NOSUCH a`},
		{cmd: `COMMAND GETKEYS`},
		{cmd: `COMMAND LIST FILTERBY PATTERN *expire*`, mode: sorted},
		{cmd: `COMMAND LIST FILTERBY FOO x`},
		{cmd: `COMMAND NOSUCH`},
		{cmd: `CONFIG GET maxmemory-policy`},
		{cmd: `CONFIG GET nosuch-parameter`},
		{cmd: `CONFIG GET`},
		{cmd: `CONFIG GET MAXMEMORY-POLICY`},
		{cmd: `CONFIG GET maxmemory`},
		{cmd: `CONFIG GET maxclients`},
		{cmd: `CONFIG GET timeout`},
		{cmd: `CONFIG GET proto-max-bulk-len`},
		{cmd: `CONFIG GET client-query-buffer-limit`},
		{cmd: `CONFIG GET requirepass`},
		{cmd: `CONFIG GET appendonly`},
		{cmd: `CONFIG GET save`},
		{cmd: `CONFIG SET timeout 0`},
		{cmd: `CONFIG SET timeout x`},
		{cmd: `CONFIG SET timeout -1`},
		{cmd: `CONFIG SET maxclients 0`},
		{cmd: `CONFIG SET maxmemory 64mb`},
		{cmd: `CONFIG SET maxmemory 64xb`},
		{cmd: `CONFIG SET maxmemory-policy allkeys-lru`},
		{cmd: `CONFIG SET nosuch-parameter 1`},
		{cmd: `CONFIG SET timeout`},
		{cmd: `CONFIG SET timeout 0 timeout 0`},
		{cmd: `CONFIG SET appendonly no`},
		{cmd: `CONFIG SET appendonly maybe`},
		{cmd: `CONFIG RESETSTAT`},
		{cmd: `CONFIG GET maxmemory-p*`},
		{cmd: `CONFIG GET proto-max-bulk-le?`},
		{cmd: `CONFIG GET client-query-buffer-[l]imit`},
		{cmd: `CONFIG SET proto-max-bulk-len 1000`},
		{cmd: `CONFIG SET proto-max-bulk-len 1mb`},
		{cmd: `CONFIG GET proto-max-bulk-len`},
		{cmd: "SET v:pb " + strings.Repeat("p", 1000000)},
		{cmd: "APPEND v:pb " + strings.Repeat("q", 48576)},
		{cmd: `APPEND v:pb x`},
		{cmd: `SETRANGE v:pb 1048575 y`},
		{cmd: `SETRANGE v:pb 1048576 y`},
		{cmd: `SETRANGE v:pb 1048575 yz`},
		{cmd: `SETRANGE v:pbnew 1048576 y`},
		{cmd: `STRLEN v:pb`},
		{cmd: `GETRANGE v:pb -3 -1`},
		{cmd: `DEL v:pb`},
		{cmd: `CONFIG SET proto-max-bulk-len 512mb`},
		{cmd: `CONFIG GET proto-max-bulk-len`},
		{cmd: `CONFIG NOSUCH`},
		{cmd: `CONFIG`},
		{cmd: `INFO`, mode: typeOnly},
		{cmd: `INFO server`, mode: typeOnly},
		{cmd: `LASTSAVE`, mode: typeOnly},
		{cmd: `INFO server clients`, mode: typeOnly},
		{cmd: `INFO keyspace`, mode: typeOnly},
		{cmd: `INFO nosuchsection`},
		{cmd: `MEMORY USAGE nosuchkey`},
		{cmd: `MEMORY USAGE v:a SAMPLES x`},
		{cmd: `MEMORY USAGE v:a SAMPLES`},
		{cmd: `MEMORY NOSUCH`},
		{cmd: `CONFIG HELP`, mode: typeOnly},
		{cmd: `MEMORY HELP`, mode: typeOnly},
		{cmd: `NOSUCHCOMMAND`},
		{cmd: `nosuchcommand a b`},
		{cmd: `NOSUCH "with space" ""`},
		{cmd: `NOSUCH 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30`},
		{cmd: `NOSUCH abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz`},
		{cmd: strings.Repeat("X", 200) + " a"},
		{cmd: `"bad\r\ncmd" "arg\r\nwith newline"`},
		{cmd: `NOSUCH "x\ny"`},
		{cmd: `CLIENT SETNAME a b`},
		{cmd: `CLIENT GETNAME x`},
		{cmd: `CONFIG SET a`},
		{cmd: `COMMAND COUNT x y`},
		{cmd: `MEMORY USAGE`},
		{cmd: `CLIENT "bad\r\nsub"`},
		{cmd: `""`},
		{cmd: `SeT v:case 1`},
		{cmd: `gEt v:case`},
		{cmd: `DeL v:case`},
		{cmd: `GET`},
		{cmd: `SET a`},
		{cmd: `SETNX a`},
		{cmd: `SETEX a`},
		{cmd: `PSETEX a 1`},
		{cmd: `GETDEL`},
		{cmd: `GETEX`},
		{cmd: `MSETNX`},
		{cmd: `APPEND`},
		{cmd: `STRLEN a b`},
		{cmd: `INCR a b`},
		{cmd: `DECR`},
		{cmd: `INCRBYFLOAT a`},
		{cmd: `GETRANGE a 0`},
		{cmd: `SETRANGE a 0`},
		{cmd: `EXPIRE a`},
		{cmd: `PEXPIRE a`},
		{cmd: `EXPIREAT a`},
		{cmd: `PEXPIRETIME`},
		{cmd: `TTL a b`},
		{cmd: `RENAME a`},
		{cmd: `RENAMENX a b c`},
		{cmd: `COPY a`},
		{cmd: `TIME a`},
		{cmd: `FLUSHDB a b c`},
		{cmd: `PING a b c`},
		{cmd: `SELECT 0 1`},
		{cmd: `QUIT x`, closes: true},
	}},
	{name: "auth", pass: "s3cret", rows: []row{
		{raw: "*11\r\n", closes: true},
		{raw: "*2\r\n$3\r\nGET\r\n$20000\r\n", closes: true},
		{cmd: `GET a:k`},
		{cmd: `PING`},
		{cmd: `ECHO x`},
		{cmd: `CLIENT ID`},
		{cmd: `NOSUCH x`},
		{cmd: `GET`},
		{cmd: `HELLO 3`},
		{cmd: `HELLO 2`},
		{cmd: `HELLO`},
		{cmd: `HELLO 3 AUTH default wrong`},
		{cmd: `HELLO 3 AUTH other s3cret`},
		{cmd: `HELLO 4 AUTH default s3cret`},
		{cmd: `AUTH wrong`},
		{cmd: `AUTH default wrong`},
		{cmd: `AUTH nosuchuser s3cret`},
		{cmd: `AUTH a b c`},
		{cmd: `AUTH`},
		{cmd: `GET a:k`},
		{cmd: `AUTH s3cret`},
		{cmd: `GET a:k`},
		{cmd: `SET a:k v`},
		{cmd: `AUTH wrong`},
		{cmd: `GET a:k`},
		{cmd: `AUTH default s3cret`},
		{cmd: `HELLO 3 AUTH default s3cret`, mode: pairs, ignore: []string{"version", "id"}},
		{cmd: `GET a:missing`},
		{cmd: `RESET`},
		{cmd: `GET a:k`},
		{cmd: `HELLO 2 AUTH default s3cret SETNAME authed`, mode: pairs, ignore: []string{"version", "id"}},
		{cmd: `CLIENT GETNAME`},
		{cmd: `CONFIG GET requirepass`},
		{cmd: `QUIT`, closes: true},
		{cmd: `GET a:k`},
		{cmd: `QUIT`, closes: true},
	}},
	{name: "protocol", rows: []row{
		{raw: "PING\r\n"},
		{raw: "ping\r\n"},
		{raw: "PING\n"},
		{raw: "  PING   \r\n"},
		{raw: "ECHO hello\r\n"},
		{raw: "ECHO \"hello world\"\r\n"},
		{raw: "ECHO 'single quoted'\r\n"},
		{raw: "ECHO \"a\\x41b\\n\"\r\n"},
		{raw: "ECHO \"esc\\\"aped\"\r\n"},
		{raw: "ECHO ''\r\n"},
		{raw: "ECHO \"\\xZZ\"\r\n"},
		{raw: "ECHO \"\\x4\"\r\n"},
		{raw: "ECHO \"tab\\there\"\r\n"},
		{raw: "ECHO 'it\\'s'\r\n"},
		{raw: "ECHO \"\"\r\n"},
		{raw: "\"ECHO\" quoted-name\r\n"},
		{raw: "ECHO\tx\r\n"},
		{raw: "ECHO x\ry\r\n"},
		{raw: "   \r\n", silent: true},
		{raw: "*1\r\n$0\r\n\r\n"},
		{raw: "*1\r\n$4\r\nPING\r\n\r\n*1\r\n$4\r\nPING\r\n", n: 2},
		{raw: "*-5\r\nPING\r\n"},
		{raw: "$5\r\n"},
		{raw: ":1\r\n"},
		{raw: "*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n", n: 2},
		{raw: "*01\r\n$4\r\nPING\r\n", closes: true},
		{raw: "*1\r\n$04\r\nPING\r\n", closes: true},
		{raw: "SET p:k \"two words\"\r\n"},
		{raw: "GET p:k\r\n"},
		{raw: "ECHO a   b\r\n"},
		{raw: "NOSUCH a\r\n"},
		{raw: "\r\n", silent: true},
		{raw: "\r\n\r\nPING\r\n"},
		{raw: "*0\r\nPING\r\n"},
		{raw: "*-1\r\nPING\r\n"},
		{raw: "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nPING\r\n", n: 3},
		{raw: "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"},
		{raw: "*2\r\n$4\r\nECHO\r\n$5\r\na\r\nb\r\r\n"},
		{raw: "*3\r\n$3\r\nSET\r\n$3\r\np:b\r\n$3\r\n\x00\xff\n\r\n"},
		{raw: "*2\r\n$3\r\nGET\r\n$3\r\np:b\r\n"},
		{raw: "*1\r\n$4\r\nPING\r\n"},
		{raw: "ECHO \"unbalanced\r\n", closes: true},
		{raw: "ECHO \"closing\"quote\r\n", closes: true},
		{raw: "ECHO 'closing'quote\r\n", closes: true},
		{raw: "ECHO 'open\r\n", closes: true},
		{raw: "*x\r\n", closes: true},
		{raw: "*1x\r\n", closes: true},
		{raw: "*1\r\n$x\r\n", closes: true},
		{raw: "*1\r\n$-1\r\n", closes: true},
		{raw: "*1\r\n$600000000\r\n", closes: true},
		{raw: "*1\r\nPING\r\n", closes: true},
		{raw: "*2\r\n$4\r\nECHO\r\n:1\r\n", closes: true},
		{raw: "*3000000000\r\n", closes: true},
		{raw: "*2\r\n$4\r\nECHO\r\n$1x\r\n", closes: true},
		{raw: "*1\r\n$2147483648\r\n", closes: true},
		{raw: "*+1\r\n", closes: true},
		{raw: "*1\r\n$+4\r\nPING\r\n", closes: true},
		{raw: "*1 \r\n", closes: true},
		{raw: "PING\r\n*x\r\nPING\r\n", n: 2, closes: true},
		{raw: "*1\r\n$4\r\nPING\r\nECHO \"x\r\n", n: 2, closes: true},
		{cmd: `PING after-protocol-errors`},
	}},
	{name: "resp3", rows: []row{
		{cmd: `HELLO 3`, mode: pairs, ignore: []string{"version", "id"}},
		{cmd: `PING`},
		{cmd: `PING hi`},
		{cmd: `GET r:missing`},
		{cmd: `SET r:k v`},
		{cmd: `GET r:k`},
		{cmd: `SET r:k v2 GET`},
		{cmd: `SET r:new v GET`},
		{cmd: `SET r:k v NX`},
		{cmd: `MGET r:k r:missing`},
		{cmd: `GETDEL r:missing`},
		{cmd: `GETEX r:missing`},
		{cmd: `GETSET r:missing2 x`},
		{cmd: `INCR r:i`},
		{cmd: `INCRBYFLOAT r:f 1.5`},
		{cmd: `GETRANGE r:missing 0 -1`},
		{cmd: `EXISTS r:k r:missing`},
		{cmd: `TYPE r:k`},
		{cmd: `TTL r:k`},
		{cmd: `EXPIRETIME r:missing`},
		{cmd: `KEYS r:*`, mode: sorted},
		{cmd: `KEYS nomatch`, mode: sorted},
		{cmd: `SCAN 0 MATCH r:*`, mode: scanAll},
		{cmd: `RANDOMKEY`, mode: typeOnly},
		{cmd: `DBSIZE`},
		{cmd: `TIME`, mode: typeOnly},
		{cmd: `CONFIG GET maxmemory-policy`},
		{cmd: `CONFIG GET nosuch-parameter`},
		{cmd: `COMMAND INFO get set`, mode: cmdInfo},
		{cmd: `COMMAND INFO nosuch`},
		{cmd: `CLIENT GETNAME`},
		{cmd: `MEMORY USAGE r:missing`},
		{cmd: `COMMAND GETKEYS SET a b`},
		{cmd: `COMMAND LIST FILTERBY PATTERN *expire*`, mode: sorted},
		{cmd: `COMMAND COUNT`, mode: typeOnly},
		{cmd: `CONFIG SET timeout 0`},
		{cmd: `CONFIG SET timeout x`},
		{cmd: `CLIENT NO-EVICT on`},
		{cmd: `HELLO 3 SETNAME "bad name"`},
		{cmd: `HELLO 4`},
		{cmd: `CLIENT SETNAME r3`},
		{cmd: `CLIENT GETNAME`},
		{cmd: `CLIENT ID`, mode: typeOnly},
		{cmd: `ECHO r3`},
		{cmd: `INFO server`, mode: typeOnly},
		{cmd: `NOSUCH a`},
		{cmd: `GET`},
		{cmd: `FLUSHALL`},
		{cmd: `RANDOMKEY`},
		{cmd: `HELLO 2`, mode: pairs, ignore: []string{"version", "id"}},
		{cmd: `GET r:missing`},
		{cmd: `CONFIG GET maxmemory-policy`},
		{cmd: `HELLO 3 SETNAME r3b`, mode: pairs, ignore: []string{"version", "id"}},
		{cmd: `CLIENT GETNAME`},
		{cmd: `RESET`},
		{cmd: `GET r:missing`},
	}},
}

// TestDifferential sends the same script to a real redis-server and to a
// geeredis node over raw TCP and compares the replies byte for byte, or as
// the row's mode says.
func TestDifferential(t *testing.T) {
	redisAddr := startRedis(t, "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru")
	for _, sec := range script {
		t.Run(sec.name, func(t *testing.T) {
			cfg := server.DefaultConfig()
			cfg.RequirePass = sec.pass
			nodeAddr := startNode(t, cfg)
			admin := dialRaw(t, redisAddr)
			admin.expect("+OK\r\n", "FLUSHALL")
			if sec.pass != "" {
				admin.expect("+OK\r\n", "CONFIG", "SET", "requirepass", sec.pass)
				// admin stays authenticated: it set the password.
				t.Cleanup(func() { admin.expect("+OK\r\n", "CONFIG", "SET", "requirepass", "") })
			}
			want := dialRaw(t, redisAddr)
			got := dialRaw(t, nodeAddr)
			for i, rw := range sec.rows {
				label := fmt.Sprintf("row %d %s", i+1, rw.label())
				var ok bool
				want, got, ok = runRow(t, label, rw, want, got)
				if !ok {
					return
				}
			}
		})
	}
}

func (rw row) label() string {
	l := rw.cmd
	if l == "" {
		l = fmt.Sprintf("raw %q", rw.raw)
	}
	if len(l) > 100 {
		l = fmt.Sprintf("%s... (%d bytes)", l[:80], len(l))
	}
	return l
}

// runRow runs one row on both connections and reports a difference with
// t.Errorf. It returns the connections to use next (new ones after a row
// that closes them, or after the node failed to answer); ok is false when
// the section cannot go on.
func runRow(t *testing.T, label string, rw row, want, got *rawConn) (*rawConn, *rawConn, bool) {
	t.Helper()
	if rw.mode == scanAll {
		args, err := splitArgs(rw.cmd)
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		wk, err := scanKeys(want, args)
		if err != nil {
			t.Fatalf("%s: redis: %v", label, err)
		}
		gk, err := scanKeys(got, args)
		if err != nil {
			t.Errorf("%s: geeredis: %v", label, err)
			return want, dialRaw(t, got.addr), true
		}
		if !slices.Equal(wk, gk) {
			t.Errorf("%s: keys differ\n  redis:    %q\n  geeredis: %q", label, wk, gk)
		}
		return want, got, true
	}
	req := []byte(rw.raw)
	if rw.cmd != "" {
		args, err := splitArgs(rw.cmd)
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		req = encodeCommand(args)
	}
	n := max(rw.n, 1)
	if rw.silent {
		n = 0
	}
	if err := want.send(req); err != nil {
		t.Fatalf("%s: redis: %v", label, err)
	}
	if err := got.send(req); err != nil {
		t.Errorf("%s: geeredis: write: %v", label, err)
		return want, dialRaw(t, got.addr), true
	}
	for k := range n {
		w, err := want.read()
		if err != nil {
			t.Fatalf("%s: redis reply %d: %v", label, k+1, err)
		}
		g, err := got.read()
		if err != nil {
			t.Errorf("%s: geeredis reply %d: %v\n  redis:    %s", label, k+1, err, w)
			// Drop the connection: its replies would be out of step.
			return redialBoth(t, want, got)
		}
		if err := compare(rw, w, g); err != nil {
			t.Errorf("%s: %v\n  redis:    %s\n  geeredis: %s", label, err, w, g)
		}
	}
	if rw.closes {
		if err := want.closed(); err != nil {
			t.Fatalf("%s: redis: %v", label, err)
		}
		if err := got.closed(); err != nil {
			t.Errorf("%s: geeredis: %v", label, err)
		}
		return redialBoth(t, want, got)
	}
	if rw.silent {
		// Input that gets no reply: check that none comes before the next
		// command's reply.
		return runRow(t, label+" (then PING)", row{cmd: "PING"}, want, got)
	}
	return want, got, true
}

// redialBoth replaces both connections with fresh ones, so that the
// following rows run in step again.
func redialBoth(t *testing.T, want, got *rawConn) (*rawConn, *rawConn, bool) {
	t.Helper()
	want.nc.Close()
	got.nc.Close()
	return dialRaw(t, want.addr), dialRaw(t, got.addr), true
}

// compare checks g (geeredis) against w (redis-server) as rw.mode says.
func compare(rw row, w, g reply) error {
	switch rw.mode {
	case exact:
		if !bytes.Equal(w.raw, g.raw) {
			return fmt.Errorf("replies differ")
		}
	case sorted:
		if w.kind != g.kind || len(w.elems) != len(g.elems) || !isAggregate(w) {
			return fmt.Errorf("not the same aggregate")
		}
		ws, gs := sortedRaw(w.elems), sortedRaw(g.elems)
		if !slices.Equal(ws, gs) {
			return fmt.Errorf("sorted elements differ")
		}
	case near:
		wn, ok1 := w.int()
		gn, ok2 := g.int()
		switch {
		case !ok1 || !ok2:
			return fmt.Errorf("not both integers")
		case wn < 0 && gn != wn:
			return fmt.Errorf("want exactly %d", wn)
		case wn >= 0 && (gn < 0 || gn < wn-rw.tol || gn > wn+rw.tol):
			return fmt.Errorf("want %d±%d", wn, rw.tol)
		}
	case typeOnly:
		if w.kind != g.kind || len(w.elems) != len(g.elems) || w.null != g.null {
			return fmt.Errorf("reply types differ")
		}
	case pairs:
		return comparePairs(w, g, rw.ignore)
	case cmdInfo:
		return compareCommandInfos(w, g)
	default:
		return fmt.Errorf("mode %d cannot compare a single reply", rw.mode)
	}
	return nil
}

func isAggregate(r reply) bool {
	return strings.IndexByte("*%~>", r.kind) >= 0 && !r.null
}

func sortedRaw(elems []reply) []string {
	s := make([]string, len(elems))
	for i, e := range elems {
		s[i] = string(e.raw)
	}
	slices.Sort(s)
	return s
}

// comparePairs compares two key/value replies (a RESP3 map or a RESP2 flat
// array): the same type, the same keys in the same order, and the same
// values except for the keys in ignore, whose values need only the same type.
func comparePairs(w, g reply, ignore []string) error {
	if w.kind != g.kind || !isAggregate(w) || len(w.elems) != len(g.elems) || len(w.elems)%2 != 0 {
		if w.kind == '-' && bytes.Equal(w.raw, g.raw) {
			return nil
		}
		return fmt.Errorf("not the same key/value reply")
	}
	for i := 0; i < len(w.elems); i += 2 {
		wk, gk := w.elems[i], g.elems[i]
		if !bytes.Equal(wk.raw, gk.raw) {
			return fmt.Errorf("key %d: %s vs %s", i/2+1, wk, gk)
		}
		wv, gv := w.elems[i+1], g.elems[i+1]
		if slices.Contains(ignore, wk.str) {
			if wv.kind != gv.kind {
				return fmt.Errorf("value of %s: type %c vs %c", wk.str, wv.kind, gv.kind)
			}
			continue
		}
		if !bytes.Equal(wv.raw, gv.raw) {
			return fmt.Errorf("value of %s: %s vs %s", wk.str, wv, gv)
		}
	}
	return nil
}

// compareCommandInfos compares COMMAND INFO replies command by command
// (compareCommandInfo); an unknown name's nil must be a nil on both sides.
func compareCommandInfos(w, g reply) error {
	if w.kind != g.kind || !isAggregate(w) || len(w.elems) != len(g.elems) {
		if bytes.Equal(w.raw, g.raw) {
			return nil
		}
		return fmt.Errorf("not the same array of commands")
	}
	for i, we := range w.elems {
		ge := g.elems[i]
		if we.null || ge.null {
			if !bytes.Equal(we.raw, ge.raw) {
				return fmt.Errorf("command %d: %s vs %s", i+1, we, ge)
			}
			continue
		}
		if err := compareCommandInfo(we, ge); err != nil {
			return fmt.Errorf("command %d: %w", i+1, err)
		}
	}
	return nil
}

// newerThanRedis70 are the subcommands geeredis has from Redis 7.2, which
// Debian's redis-server 7.0 does not know.
var newerThanRedis70 = map[string]bool{"client|setinfo": true, "client|no-touch": true}

// compareCommandInfo compares one command's COMMAND INFO entry: the first
// nine fields (name, arity, flags, keys, ACL categories, tips, key specs)
// exactly, then each of geeredis's subcommands with Redis's of that name.
// Redis has subcommands geeredis has not (of CLIENT's and CONFIG's);
// geeredis has only those of newerThanRedis70 that Redis 7.0 has not.
func compareCommandInfo(w, g reply) error {
	if len(w.elems) != 10 || len(g.elems) != 10 {
		return fmt.Errorf("%d and %d fields, want 10", len(w.elems), len(g.elems))
	}
	for f := range 9 {
		if !bytes.Equal(w.elems[f].raw, g.elems[f].raw) {
			return fmt.Errorf("%s field %d: %s vs %s", w.elems[0], f+1, w.elems[f], g.elems[f])
		}
	}
	redisSubs := map[string]reply{}
	for _, sub := range w.elems[9].elems {
		if len(sub.elems) > 0 {
			redisSubs[string(sub.elems[0].raw)] = sub
		}
	}
	for _, sub := range g.elems[9].elems {
		if len(sub.elems) == 0 {
			return fmt.Errorf("%s: an empty subcommand entry", g.elems[0])
		}
		ws, ok := redisSubs[string(sub.elems[0].raw)]
		if !ok {
			if newerThanRedis70[sub.elems[0].str] {
				continue
			}
			return fmt.Errorf("%s: Redis has no subcommand %s", g.elems[0], sub.elems[0])
		}
		if err := compareCommandInfo(ws, sub); err != nil {
			return err
		}
	}
	return nil
}

// scanKeys runs SCAN (args, whose cursor args[1] is replaced) until the
// cursor comes back to 0 and returns the distinct keys seen, sorted.
func scanKeys(c *rawConn, args []string) ([]string, error) {
	seen := make(map[string]bool)
	cursor := "0"
	for range 10000 {
		args[1] = cursor
		if err := c.send(encodeCommand(args)); err != nil {
			return nil, err
		}
		r, err := c.read()
		if err != nil {
			return nil, err
		}
		if r.kind != '*' || len(r.elems) != 2 || r.elems[0].kind != '$' || r.elems[1].kind != '*' {
			return nil, fmt.Errorf("%q: reply is not [cursor, keys]: %s", args, r)
		}
		for _, k := range r.elems[1].elems {
			seen[k.str] = true
		}
		cursor = r.elems[0].str
		if cursor == "0" {
			keys := make([]string, 0, len(seen))
			for k := range seen {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			return keys, nil
		}
	}
	return nil, fmt.Errorf("%q: cursor never came back to 0", args)
}

// msetMany returns an MSET of n keys prefix0..prefix<n-1>, each holding its number.
func msetMany(prefix string, n int) string {
	var b strings.Builder
	b.WriteString("MSET")
	for i := range n {
		fmt.Fprintf(&b, " %s%d %d", prefix, i, i)
	}
	return b.String()
}

// manyKeys returns the keys prefix<from>..prefix<to-1>, each after a space
// when prefix starts with one.
func manyKeys(prefix string, from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "%s%d", prefix, i)
	}
	return b.String()
}

// TestCompare checks the comparison modes themselves, so that a lenient
// mode cannot hide a difference.
func TestCompare(t *testing.T) {
	tests := []struct {
		name      string
		rw        row
		want, got string
		same      bool
	}{
		{"exact same", row{}, "+OK\r\n", "+OK\r\n", true},
		{"exact differs", row{}, "$1\r\na\r\n", "+a\r\n", false},
		{"sorted same", row{mode: sorted}, "*2\r\n$1\r\na\r\n$1\r\nb\r\n", "*2\r\n$1\r\nb\r\n$1\r\na\r\n", true},
		{"sorted missing element", row{mode: sorted}, "*2\r\n$1\r\na\r\n$1\r\nb\r\n", "*2\r\n$1\r\nb\r\n$1\r\nb\r\n", false},
		{"sorted not an array", row{mode: sorted}, "-ERR x\r\n", "-ERR x\r\n", false},
		{"near within", row{mode: near, tol: 1}, ":100\r\n", ":99\r\n", true},
		{"near too far", row{mode: near, tol: 1}, ":100\r\n", ":98\r\n", false},
		{"near negative exact", row{mode: near, tol: 1}, ":-2\r\n", ":-1\r\n", false},
		{"near not an integer", row{mode: near, tol: 1}, ":5\r\n", "$1\r\n5\r\n", false},
		{"typeOnly same", row{mode: typeOnly}, ":1\r\n", ":7\r\n", true},
		{"typeOnly null vs empty", row{mode: typeOnly}, "$-1\r\n", "$0\r\n\r\n", false},
		{"typeOnly lengths", row{mode: typeOnly}, "*1\r\n:1\r\n", "*2\r\n:1\r\n:1\r\n", false},
		{"pairs ignore", row{mode: pairs, ignore: []string{"id"}}, "%2\r\n+a\r\n:1\r\n+id\r\n:5\r\n", "%2\r\n+a\r\n:1\r\n+id\r\n:6\r\n", true},
		{"pairs value", row{mode: pairs, ignore: []string{"id"}}, "%1\r\n+a\r\n:1\r\n", "%1\r\n+a\r\n:2\r\n", false},
		{"pairs RESP2 vs RESP3", row{mode: pairs}, "*2\r\n+a\r\n:1\r\n", "%1\r\n+a\r\n:1\r\n", false},
		{"cmdInfo same", row{mode: cmdInfo}, "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*0\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*0\r\n", "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*0\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*0\r\n", true},
		{"cmdInfo arity", row{mode: cmdInfo}, "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*0\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*0\r\n", "*1\r\n*10\r\n$3\r\nget\r\n:-2\r\n*0\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*0\r\n", false},
		{"cmdInfo key specs", row{mode: cmdInfo}, "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*0\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*1\r\n*0\r\n*0\r\n", "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*0\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*0\r\n", false},
		{"cmdInfo Redis has more subcommands", row{mode: cmdInfo}, "*1\r\n*10\r\n$1\r\nm\r\n:2\r\n*0\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*2\r\n*10\r\n$3\r\nm|a\r\n:2\r\n*0\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*0\r\n*10\r\n$3\r\nm|b\r\n:2\r\n*0\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*0\r\n", "*1\r\n*10\r\n$1\r\nm\r\n:2\r\n*0\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*1\r\n*10\r\n$3\r\nm|b\r\n:2\r\n*0\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*0\r\n", true},
		{"cmdInfo a subcommand differs", row{mode: cmdInfo}, "*1\r\n*10\r\n$1\r\nm\r\n:2\r\n*0\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*2\r\n*10\r\n$3\r\nm|a\r\n:2\r\n*0\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*0\r\n*10\r\n$3\r\nm|b\r\n:2\r\n*0\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*0\r\n", "*1\r\n*10\r\n$1\r\nm\r\n:2\r\n*0\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*1\r\n*10\r\n$3\r\nm|b\r\n:-3\r\n*0\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*0\r\n", false},
		{"cmdInfo a subcommand Redis has not", row{mode: cmdInfo}, "*1\r\n*10\r\n$1\r\nm\r\n:2\r\n*0\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*2\r\n*10\r\n$3\r\nm|a\r\n:2\r\n*0\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*0\r\n*10\r\n$3\r\nm|b\r\n:2\r\n*0\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*0\r\n", "*1\r\n*10\r\n$1\r\nm\r\n:2\r\n*0\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*1\r\n*10\r\n$3\r\nm|z\r\n:2\r\n*0\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*0\r\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, g := mustParse(t, tt.want), mustParse(t, tt.got)
			err := compare(tt.rw, w, g)
			if (err == nil) != tt.same {
				t.Errorf("compare(%s, %s) = %v, want same=%v", w, g, err, tt.same)
			}
		})
	}
}

func mustParse(tb testing.TB, s string) reply {
	tb.Helper()
	r, err := readReply(bufio.NewReader(strings.NewReader(s)))
	if err != nil || len(r.raw) != len(s) {
		tb.Fatalf("parse %q: %v (read %d bytes)", s, err, len(r.raw))
	}
	return r
}

// TestCommandInfoEveryCommand compares COMMAND INFO of every command the
// node has (COMMAND LIST) with Redis's: arity, flags, keys, categories,
// tips and key specs, subcommands included. GEEREDIS, the node's own
// command, has no counterpart.
func TestCommandInfoEveryCommand(t *testing.T) {
	redisAddr := startRedis(t)
	nodeAddr := startNode(t, server.DefaultConfig())
	for _, proto := range []string{"2", "3"} {
		want, got := dialRaw(t, redisAddr), dialRaw(t, nodeAddr)
		want.do("HELLO", proto)
		got.do("HELLO", proto)
		list := got.do("COMMAND", "LIST")
		args := []string{"COMMAND", "INFO"}
		for _, e := range list.elems {
			if !strings.Contains(e.str, "|") && e.str != "geeredis" {
				args = append(args, e.str)
			}
		}
		if len(args) < 40 {
			t.Fatalf("COMMAND LIST gave %d top-level commands: %s", len(args)-2, list)
		}
		if err := compareCommandInfos(want.do(args...), got.do(args...)); err != nil {
			t.Errorf("RESP%s: %v", proto, err)
		}
	}
}
