package integration

import (
	"bytes"
	"testing"

	"github.com/geeredis/geeredis/server"
)

// TestProtocolAbuse sends malformed and oversized requests on one
// connection while another client keeps working: the abusive client gets
// Redis's error text (checked against redis-server 7.0.15) and is closed;
// the other notices nothing.
func TestProtocolAbuse(t *testing.T) {
	cases := []struct {
		name string
		pass string // the node's requirepass; the abusive client never authenticates
		send []byte
		want string
	}{
		{"oversized inline request", "", bytes.Repeat([]byte("a"), 70<<10),
			"-ERR Protocol error: too big inline request\r\n"},
		{"invalid multibulk length", "", []byte("*x\r\n"),
			"-ERR Protocol error: invalid multibulk length\r\n"},
		{"multibulk length above INT_MAX", "", []byte("*3000000000\r\n"),
			"-ERR Protocol error: invalid multibulk length\r\n"},
		{"negative bulk length", "", []byte("*1\r\n$-5\r\n"),
			"-ERR Protocol error: invalid bulk length\r\n"},
		{"bulk above proto-max-bulk-len", "", []byte("*1\r\n$600000000\r\n"),
			"-ERR Protocol error: invalid bulk length\r\n"},
		{"inline where a bulk is due", "", []byte("*1\r\nPING\r\n"),
			"-ERR Protocol error: expected '$', got 'P'\r\n"},
		{"unbalanced quotes", "", []byte("ECHO \"open\r\n"),
			"-ERR Protocol error: unbalanced quotes in request\r\n"},
		{"multibulk before AUTH", "s3cret", []byte("*11\r\n"),
			"-ERR Protocol error: unauthenticated multibulk length\r\n"},
		{"bulk before AUTH", "s3cret", []byte("*2\r\n$3\r\nGET\r\n$20000\r\n"),
			"-ERR Protocol error: unauthenticated bulk length\r\n"},
	}
	open := startNode(t, server.DefaultConfig())
	cfg := server.DefaultConfig()
	cfg.RequirePass = "s3cret"
	locked := startNode(t, cfg)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := open
			if tc.pass != "" {
				addr = locked
			}
			good := dialRaw(t, addr)
			if tc.pass != "" {
				good.expect("+OK\r\n", "AUTH", tc.pass)
			}
			stillWorks(t, good)
			bad := dialRaw(t, addr)
			if err := bad.send(tc.send); err != nil {
				t.Fatalf("send: %v", err)
			}
			stillWorks(t, good)
			r, err := bad.read()
			if err != nil {
				t.Fatalf("abusive client: no error reply: %v", err)
			}
			if string(r.raw) != tc.want {
				t.Errorf("abusive client got %s, want %q", r, tc.want)
			}
			if err := bad.closed(); err != nil {
				t.Errorf("abusive client: %v", err)
			}
			stillWorks(t, good)
		})
	}
}

// TestTrickle sends requests one byte at a time, with a full round trip of
// another client between every two bytes: the other client is served at
// once, and the trickling client gets its replies in the end.
func TestTrickle(t *testing.T) {
	addr := startNode(t, server.DefaultConfig())
	good := dialRaw(t, addr)
	slow := dialRaw(t, addr)
	req := "*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n" + "PING\r\n" + "*3\r\n$3\r\nSET\r\n$4\r\nslow\r\n$1\r\n1\r\n"
	for i := range len(req) {
		if err := slow.send([]byte{req[i]}); err != nil {
			t.Fatalf("trickle byte %d: %v", i, err)
		}
		stillWorks(t, good)
	}
	for _, want := range []string{"$5\r\nhello\r\n", "+PONG\r\n", "+OK\r\n"} {
		r, err := slow.read()
		if err != nil {
			t.Fatalf("trickling client: %v", err)
		}
		if string(r.raw) != want {
			t.Errorf("trickling client got %s, want %q", r, want)
		}
	}
	good.expect("$1\r\n1\r\n", "GET", "slow")
}

// stillWorks checks that c is served normally: a write, a read and a PING.
func stillWorks(tb testing.TB, c *rawConn) {
	tb.Helper()
	c.expect("+OK\r\n", "SET", "good:key", "value")
	c.expect("$5\r\nvalue\r\n", "GET", "good:key")
	c.expect("+PONG\r\n", "PING")
}
