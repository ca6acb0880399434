package server

import (
	"bytes"
	"testing"
)

// The GET and SET hot paths, from parsed arguments to the reply in the
// client's buffer, through the dispatch: they should not allocate.

func BenchmarkGetHit(b *testing.B) {
	s := newTestServer(b)
	c := newTestClient(b, s)
	value := bytes.Repeat([]byte("v"), 100)
	if got := execArgs(c, []byte("SET"), []byte("key:1"), value); got != strOK {
		b.Fatalf("SET: %q", got)
	}
	args := [][]byte{[]byte("GET"), []byte("key:1")}
	want := bulk(string(value))
	if got := execArgs(c, args...); got != want {
		b.Fatalf("GET: %q", got)
	}
	b.ReportAllocs()
	for b.Loop() {
		c.w.Reset()
		c.exec(args)
	}
}

func BenchmarkSet(b *testing.B) {
	s := newTestServer(b)
	c := newTestClient(b, s)
	args := [][]byte{[]byte("SET"), []byte("key:1"), bytes.Repeat([]byte("v"), 100)}
	if got := execArgs(c, args...); got != strOK {
		b.Fatalf("SET: %q", got)
	}
	b.ReportAllocs()
	for b.Loop() {
		c.w.Reset()
		c.exec(args)
	}
}

// execArgs runs one command given as arguments on c and returns its reply.
func execArgs(c *client, args ...[]byte) string {
	c.w.Reset()
	c.exec(args)
	return string(c.w.Bytes())
}
