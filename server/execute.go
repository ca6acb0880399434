package server

import (
	"context"
	"strings"
	"time"

	"github.com/geeredis/geeredis/resp"
)

// Execute implements cluster.Executor: it runs a command a peer forwarded
// to this node, the key's owner. The command goes through the same table
// and dispatch as a client's (arity, errors, panics contained) on a
// pseudo-client that is never routed again, speaks protocol proto (2 or
// 3) and is authenticated (peers authenticate at the HTTP layer). Its reply
// is appended to dst. Commands that change connection state (HELLO, AUTH,
// SELECT, QUIT, RESET, CLIENT SETNAME/SETINFO/NO-EVICT/NO-TOUCH) are
// refused with an error. ctx bounds a read-through load the command makes.
func (s *Server) Execute(ctx context.Context, proto int, args [][]byte, dst []byte) []byte {
	s.cstats.executed.Add(1)
	return s.runLocal(ctx, proto, args, dst)
}

// runLocal runs a command at this node on a pseudo-client, appending its
// reply to dst.
func (s *Server) runLocal(ctx context.Context, proto int, args [][]byte, dst []byte) []byte {
	c := s.pseudoClient()
	c.ctx, c.proto = ctx, proto
	c.w.SetBuffer(dst)
	c.w.SetProto(proto)
	if len(args) == 0 {
		c.w.Error("ERR empty command")
	} else {
		c.exec(args)
	}
	out := c.w.Bytes()
	c.w.SetBuffer(nil)
	c.ctx = nil
	s.pseudo.Put(c)
	return out
}

// pseudoClient returns a client for peers' commands: local (never routed),
// authenticated, with no connection and an empty reader.
func (s *Server) pseudoClient() *client {
	if c, ok := s.pseudo.Get().(*client); ok {
		return c
	}
	now := time.Now()
	c := &client{srv: s, id: s.nextID.Add(1), addr: "peer", laddr: "peer", created: now, local: true, authed: true}
	c.rd = resp.NewReader(strings.NewReader(""), resp.DefaultLimits())
	c.lastUsed.Store(now.UnixMilli())
	return c
}
