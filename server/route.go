package server

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/geeredis/geeredis/cluster"
	"github.com/geeredis/geeredis/resp"
)

// Routing. In a cluster every key has one owner (the pool's ring). A
// client's command runs where its keys live:
//
//   - A command on one key (the table's first == last > 0, and MEMORY
//     USAGE) runs at the key's owner with all its options, so SET NX, INCR,
//     GETDEL, EXPIRE... stay atomic cluster-wide. At this node it runs at
//     once; elsewhere it is queued to the owner (Peer.Exec) and the client
//     goes on with its next command: the replies are spliced into the
//     output in order before it is written (settle). A pipeline thus costs
//     one peer round trip per owner, not one per command.
//   - GET of a key owned elsewhere answers from the hot cache when it holds
//     a copy. A GET alone (nothing else queued or buffered) goes through
//     Group.Get, which may keep a hot copy and falls back to a local load
//     when the owner is unreachable; a GET inside a pipeline is queued like
//     any command and, when its owner is unreachable, answered by a local
//     load (counted in cluster_fallbacks).
//   - A forwarded write forgets this node's hot copy of its keys before it
//     is sent and again when its reply arrives; the owner, after running a
//     write, tells the nodes that may hold copies (Group.Wrote). When the
//     owner cannot be reached within the pool's timeout the write answers
//     "ERR peer <id> unreachable: ..." and nothing is written anywhere.
//   - MGET, MSET, MSETNX, DEL, UNLINK, EXISTS, TOUCH split their keys by
//     owner (route_multi.go); RENAME, RENAMENX, COPY need both keys at one
//     owner; DBSIZE, KEYS, SCAN, FLUSHALL, FLUSHDB, RANDOMKEY span the
//     cluster (route_keyspace.go).
//   - Every other command runs here once the client's queued forwards have
//     answered, so a client observes its own commands in order.
//
// A command a peer sends (Execute) runs here and is never routed again.

// routeKind is where a command runs in a cluster.
type routeKind uint8

const (
	routeHere      routeKind = iota // this node, after the client's forwards (connection, server commands)
	routeKey                        // the owner of its one key
	routeSplit                      // its keys split by owner, one sub-command per owner
	routeSameOwner                  // the owner of all its keys, which must be one node
	routeKeyspace                   // every member
)

// routeInfo is what routing needs to know of a command, from its table entry.
type routeInfo struct {
	kind        routeKind
	keyAt       int  // the argument holding the key of a routeKey command
	write       bool // the "write" flag: hot copies are invalidated
	get         bool // GET: may answer from the hot cache, falls back to a local load
	mget        bool // MGET: falls back to local loads
	peerRefused bool // changes connection state: refused from peers
}

// classify fills in the routing of every command of t.
func classify(t *table) {
	for _, cmd := range t.list {
		classifyOne(cmd)
		for _, sub := range cmd.subs {
			classifyOne(sub)
		}
	}
}

func classifyOne(cmd *command) {
	rt := routeInfo{write: hasFlag(cmd.flags, "write")}
	switch cmd.name {
	case "mget", "mset", "msetnx", "del", "unlink", "exists", "touch":
		rt.kind, rt.mget = routeSplit, cmd.name == "mget"
	case "dbsize", "keys", "scan", "flushall", "flushdb", "randomkey":
		rt.kind = routeKeyspace // INFO keyspace stays this node's
	case "hello", "auth", "select", "quit", "reset",
		"client|setname", "client|setinfo", "client|no-evict", "client|no-touch":
		rt.peerRefused = true // connection state means nothing to a peer
	default:
		switch {
		case cmd.first > 0 && cmd.first == cmd.last:
			rt.kind, rt.keyAt, rt.get = routeKey, cmd.first, cmd.name == "get"
		case cmd.first > 0:
			rt.kind = routeSameOwner
		}
	}
	cmd.rt = rt
}

// Error texts of routing.
const msgPeerRefused = "ERR %s is not allowed from a peer: it changes connection state"

// msgCrossOwner is the reply to RENAME, RENAMENX or COPY whose two keys
// have different owners.
func msgCrossOwner(name string) string {
	return "ERR " + strings.ToUpper(name) + " across nodes is not supported: the two keys have different owners"
}

// msgPeerDown is the reply to a command whose owner did not answer: the
// pool's error names the peer and the cause ("ERR cluster: peer
// unreachable: http://10.0.0.2:7380: ... connection refused").
func msgPeerDown(id string, err error) string {
	if errors.Is(err, cluster.ErrPeerUnreachable) {
		return "ERR " + oneLine(err.Error())
	}
	return "ERR peer " + id + " unreachable: " + oneLine(err.Error())
}

// msgLoadFailed is the reply to a GET whose load failed.
func msgLoadFailed(err error) string {
	if errors.Is(err, cluster.ErrPeerUnreachable) {
		return "ERR " + oneLine(err.Error())
	}
	return "ERR load failed: " + oneLine(err.Error())
}

// oneLine keeps an error text on one line, as a RESP error must be.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// runHere runs a command at this node; at the owner, a write then tells
// the nodes that may hold hot copies of its keys. While the ring changes
// its keys are claimed first (handoff.go).
func (c *client) runHere(run *command, args [][]byte) {
	if c.srv.pool != nil && (c.srv.pool.InTransition() || c.forwarded()) && !c.claimKeys(run, args) {
		return
	}
	run.run(c, args)
	if run.rt.write && c.srv.pool != nil {
		c.srv.wrote(run, args)
	}
}

// route runs a client's command where its keys live.
func (c *client) route(run *command, args [][]byte) {
	switch run.rt.kind {
	case routeKey:
		c.routeKey(run, args, args[run.rt.keyAt])
	case routeSplit, routeSameOwner:
		c.routeKeys(run, args)
	case routeKeyspace:
		c.settle()
		c.routeKeyspace(run, args)
	default:
		c.settle()
		c.runHere(run, args)
	}
}

// routeKey runs a one-key command at the key's owner.
func (c *client) routeKey(run *command, args [][]byte, key []byte) {
	owner := c.srv.pool.Owner(key)
	switch {
	case owner == nil:
		c.runHere(run, args)
	case run.rt.write:
		c.srv.group.Forget(key)
		c.forward(owner, run, args, fwWrite)
	case run.rt.get:
		c.getRemote(owner, run, args, key)
	default:
		c.forward(owner, run, args, fwRelay)
	}
}

// maxScratch is the largest hot value buffer a client keeps between GETs.
const maxScratch = 64 << 10

// getRemote answers GET of a key owned by another node.
func (c *client) getRemote(owner *cluster.Peer, run *command, args [][]byte, key []byte) {
	// A write this client has not sent yet may be to this key, and a fetch
	// by another client may have kept a copy older than it: read your
	// writes, from the owner.
	if c.fwWrites == 0 {
		if v, ok := c.srv.group.HotGet(key, c.now(), c.scratch[:0]); ok {
			c.w.Bulk(v)
			if cap(v) <= maxScratch {
				c.scratch = v[:0]
			}
			return
		}
	}
	if len(c.fw) == 0 && (c.rd == nil || c.rd.Buffered() == 0) {
		v, found, err := c.srv.group.Get(c.context(), key)
		replyLoaded(&c.w, v, found, err)
		return
	}
	c.forward(owner, run, args, fwGet)
}

// replyLoaded answers with what the group returned for a key.
func replyLoaded(w *resp.Writer, v cluster.Value, found bool, err error) {
	switch {
	case err != nil:
		w.Error(msgLoadFailed(err))
	case !found:
		w.Null()
	default:
		w.Bulk(v.Bytes)
	}
}

// context is the client's context for cluster calls.
func (c *client) context() context.Context {
	if c.ctx == nil {
		return context.Background()
	}
	return c.ctx
}

// fwKind is what to do with a forwarded command's reply.
type fwKind uint8

const (
	fwRelay fwKind = iota // relay the owner's reply, or an error
	fwWrite               // relay; forget hot copies of the keys when it arrives
	fwGet                 // relay; load locally when the owner is unreachable
	fwMget                // relay; load each key locally when the owner is unreachable
)

// forward is a command bound for its owner whose reply belongs at offset
// at of the client's output. Its arguments are copied in the client's
// fwArgs, from from to to.
type forward struct {
	at       int
	peer     *cluster.Peer
	run      *command
	kind     fwKind
	from, to int
	call     *cluster.Call
}

// maxForwards bounds the commands a client holds for owners; at the bound
// its output is settled and written, as at flushAt bytes.
const maxForwards = 1024

// forward holds the command for its owner; settle sends it and splices its
// reply into the output. Commands are sent when the client's input is
// drained (or at a barrier), all at once, so that a pipeline's commands
// for one owner share round trips.
func (c *client) forward(owner *cluster.Peer, run *command, args [][]byte, kind fwKind) {
	from := len(c.fwArgs.ends)
	for _, a := range args {
		c.fwArgs.add(a)
	}
	c.fw = append(c.fw, forward{at: c.w.Len(), peer: owner, run: run, kind: kind, from: from, to: len(c.fwArgs.ends)})
	if kind == fwWrite {
		c.fwWrites++
	}
}

// argv returns f's arguments, valid until the next call.
func (c *client) argv(f *forward) [][]byte {
	c.fwArgv = c.fwArgv[:0]
	for i := f.from; i < f.to; i++ {
		c.fwArgv = append(c.fwArgv, c.fwArgs.at(i))
	}
	return c.fwArgv
}

// settle sends the client's forwarded commands, waits for their replies
// and splices them into the output where they belong.
func (c *client) settle() {
	if len(c.fw) == 0 {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			// The replies can no longer be put in order: keep those before
			// the first forward, drop the held commands (their calls may be
			// released already) and close the connection after the flush.
			c.srv.stats.panics.Add(1)
			c.srv.log.Error("splicing forwarded replies panicked; closing the client", "id", c.id,
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			c.w.Truncate(c.fw[0].at)
			clear(c.fw)
			c.fw, c.fwWrites = c.fw[:0], 0
			c.fwArgs.reset()
			c.quitting = true
		}
	}()
	c.sendForwards()
	buf := c.w.Bytes()
	out, prev := c.spare[:0], 0
	for i := range c.fw {
		f := &c.fw[i]
		out = append(out, buf[prev:f.at]...)
		prev = f.at
		out = c.finish(f, out)
	}
	out = append(out, buf[prev:]...)
	c.mark += len(out) - len(buf) // the forwards precede the running command
	c.spare = buf[:0]
	c.w.SetBuffer(out)
	clear(c.fw)
	c.fw, c.fwWrites = c.fw[:0], 0
	c.fwArgs.reset()
}

// sendForwards queues the held commands, each owner's in one step so they
// share one round trip.
func (c *client) sendForwards() {
	for i := range c.fw {
		peer := c.fw[i].peer
		if c.fw[i].call != nil {
			continue // queued with an earlier owner's group
		}
		idx := c.fwIdx[:0]
		for j := i; j < len(c.fw); j++ {
			if c.fw[j].peer == peer {
				idx = append(idx, j)
			}
		}
		calls := peer.ExecN(c.srv.groupName, c.proto, len(idx),
			func(k int) [][]byte { return c.argv(&c.fw[idx[k]]) }, c.fwCalls[:0])
		for k, j := range idx {
			c.fw[j].call = calls[k]
		}
		c.fwIdx, c.fwCalls = idx[:0], calls[:0]
	}
}

// finish waits for one forwarded command and appends its reply to out.
func (c *client) finish(f *forward, out []byte) []byte {
	reply, err := f.call.Wait(c.context())
	if err == nil {
		out = append(out, reply...)
	}
	f.call.Release()
	args := c.argv(f)
	if f.kind == fwWrite {
		eachKey(f.run, args, c.srv.group.Forget)
	}
	if err == nil {
		return out
	}
	var w resp.Writer
	w.SetBuffer(out)
	w.SetProto(c.proto)
	switch f.kind {
	case fwGet:
		c.fallbackGet(&w, f.peer, args[1], err)
	case fwMget:
		w.Array(len(args) - 1)
		for _, key := range args[1:] {
			c.fallbackGet(&w, f.peer, key, err)
		}
	default:
		w.Error(msgPeerDown(f.peer.ID(), err))
	}
	return w.Bytes()
}

// fallbackGet answers a read of key whose owner could not be reached by
// loading it here through the getter, as groupcache does (the value is
// kept in this node's hot cache), counted in cluster_fallbacks. Without a
// getter there is nothing to fall back on: the read answers the owner's
// error.
func (c *client) fallbackGet(w *resp.Writer, owner *cluster.Peer, key []byte, cause error) {
	if !c.srv.getter {
		w.Error(msgPeerDown(owner.ID(), cause))
		return
	}
	c.srv.log.Debug("owner unreachable: loading locally", "owner", owner.ID(), "key", printable(key), "err", cause)
	v, found, err := c.srv.group.Fallback(c.context(), key)
	replyLoaded(w, v, found, err)
}

// keyArena holds copies of keys in one buffer.
type keyArena struct {
	buf  []byte
	ends []int
}

func (a *keyArena) add(key []byte) {
	a.buf = append(a.buf, key...)
	a.ends = append(a.ends, len(a.buf))
}

func (a *keyArena) at(i int) []byte {
	start := 0
	if i > 0 {
		start = a.ends[i-1]
	}
	return a.buf[start:a.ends[i]]
}

func (a *keyArena) reset() {
	a.buf, a.ends = a.buf[:0], a.ends[:0]
}

// shrink drops storage grown past limit bytes by one large command, so it
// is not kept for the life of the connection.
func (a *keyArena) shrink(limit int) {
	if cap(a.buf) > limit && len(a.buf) == 0 {
		a.buf = nil
	}
}
