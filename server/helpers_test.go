package server

import (
	"context"
	"strings"
	"testing"
	"time"
)

// newTestServer returns a Server built from DefaultConfig (changed by
// configure, when given) that serves no listener; it shuts down at the end
// of the test.
func newTestServer(tb testing.TB, configure ...func(*Config)) *Server {
	tb.Helper()
	cfg := DefaultConfig()
	for _, f := range configure {
		f(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			tb.Errorf("Shutdown: %v", err)
		}
	})
	return s
}

// newTestClient returns a client of s with no connection: run executes
// commands on it through the dispatch and its replies accumulate in c.w.
// It is registered with s, as a connected client is, until the test ends.
func newTestClient(tb testing.TB, s *Server) *client {
	tb.Helper()
	c := &client{srv: s, id: s.nextID.Add(1), addr: "127.0.0.1:0", laddr: "127.0.0.1:0", created: time.Now(), proto: 2}
	c.authed = *s.set.requirePass.Load() == ""
	c.shownProto.Store(2)
	s.mu.Lock()
	s.clients[c] = struct{}{}
	s.conns.Add(1)
	s.mu.Unlock()
	tb.Cleanup(func() { s.forget(c) })
	return c
}

// run executes one command line on c and returns the raw reply. Arguments
// are split on spaces; "double quotes" group words and "" is an empty
// argument.
func run(tb testing.TB, c *client, line string) string {
	tb.Helper()
	args := splitArgs(line)
	if len(args) == 0 {
		tb.Fatalf("run: empty command line")
	}
	c.w.Reset()
	c.w.SetProto(c.proto)
	c.exec(args)
	return string(c.w.Bytes())
}

func splitArgs(line string) [][]byte {
	var args [][]byte
	var cur strings.Builder
	inArg, quoted := false, false
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case ch == '"':
			quoted = !quoted
			inArg = true
		case ch == ' ' && !quoted:
			if inArg {
				args = append(args, []byte(cur.String()))
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteByte(ch)
			inArg = true
		}
	}
	if inArg {
		args = append(args, []byte(cur.String()))
	}
	return args
}
