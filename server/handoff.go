package server

import (
	"context"

	"github.com/geeredis/geeredis/cluster"
	"github.com/geeredis/geeredis/resp"
)

// Membership changes. While the ring changes, a command that runs here,
// at its keys' owner, first claims them (cluster.Group.ClaimKeys): a key
// still at its previous owner is taken from there, so a read sees the old
// value and a write applies to it; a write whose previous owner cannot be
// reached answers an error rather than run on a missing key.
//
// Two nodes whose rings disagree for a moment may each think the other
// owns a key. A command a peer sends for a key this node does not own is
// forwarded once more, to the owner in this node's ring, carrying its hop
// count; a command that arrives after cluster.MaxHops forwards runs here,
// whatever the ring says, and the hand-off moves the key later. So a
// command is never passed back and forth.

// claimKeys claims the keys of a command about to run here while the ring
// changes. It reports false, having written an error reply, when the
// command must not run.
func (c *client) claimKeys(run *command, args [][]byte) bool {
	var buf [4][]byte
	keys := buf[:0]
	eachKey(run, args, func(key []byte) { keys = append(keys, key) })
	if len(keys) == 0 {
		return true
	}
	claim := c.srv.group.ClaimKeys
	if c.forwarded() {
		claim = c.srv.group.ClaimForwarded
	}
	if err := claim(c.context(), keys, run.rt.write); err != nil {
		c.w.Error(msgClaimFailed(err))
		return false
	}
	return true
}

// forwardedKey marks the context of a command that arrived at the hop
// bound: the sender's ring gives its keys to this node.
type forwardedKey struct{}

// forwarded reports whether the running command is a peer's, forwarded
// to this node at the hop bound.
func (c *client) forwarded() bool {
	return c.local && c.ctx != nil && c.ctx.Value(forwardedKey{}) != nil
}

// msgClaimFailed is the reply to a write whose key could not be taken
// from its previous owner.
func msgClaimFailed(err error) string {
	return "ERR membership change in progress: " + oneLine(err.Error())
}

// ExecuteHops implements cluster.HopExecutor: it runs a command a peer
// forwarded after hops forwards. When this node's ring gives all the
// command's keys to one other node and hops < cluster.MaxHops, the
// command goes on to that node (counted in cluster_reforwarded), which
// runs it whatever its own ring says; otherwise it runs here, as Execute,
// and a key left here that this node does not own is handed off soon.
func (s *Server) ExecuteHops(ctx context.Context, proto, hops int, args [][]byte, dst []byte) []byte {
	run, owner, stray := s.ownerOf(args)
	if owner != nil && hops < cluster.MaxHops {
		return s.reforward(ctx, run, owner, proto, hops+1, args, dst)
	}
	if hops > 0 && stray {
		// The sender's ring gives the keys to this node, ours does not
		// yet: take them from whoever has them before running it here.
		ctx = context.WithValue(ctx, forwardedKey{}, true)
	}
	dst = s.Execute(ctx, proto, args, dst)
	if stray {
		s.group.ScheduleHandoff()
	}
	return dst
}

// ownerOf looks up the command of args and the one other node that owns
// all its keys in this node's ring: nil when this node owns one of them,
// they have several owners, or the command has none (or is malformed,
// for Execute to answer). stray reports that a key has another owner.
func (s *Server) ownerOf(args [][]byte) (run *command, owner *cluster.Peer, stray bool) {
	if s.pool == nil || len(args) == 0 {
		return nil, nil, false
	}
	cmd, sub := s.table.lookup(args)
	run = cmd
	if sub != nil {
		run = sub
	}
	if run == nil || len(run.subs) > 0 || !arityOK(run.arity, len(args)) ||
		run.rt.kind == routeHere || run.rt.kind == routeKeyspace {
		return nil, nil, false
	}
	mine, split := false, false
	eachKey(run, args, func(key []byte) {
		p := s.pool.Owner(key)
		switch {
		case p == nil:
			mine = true
		case owner == nil:
			owner, stray = p, true
		case !samePeer(owner, p):
			split = true
		}
	})
	if mine || split {
		return run, nil, stray
	}
	return run, owner, stray
}

// reforward sends a peer's command on to owner and appends its reply.
func (s *Server) reforward(ctx context.Context, run *command, owner *cluster.Peer, proto, hops int, args [][]byte, dst []byte) []byte {
	s.cstats.reforwarded.Add(1)
	if run.rt.write {
		eachKey(run, args, s.group.Forget)
	}
	call := owner.ExecHops(s.groupName, proto, hops, args)
	reply, err := call.Wait(ctx)
	if err == nil {
		dst = append(dst, reply...)
	} else {
		var w resp.Writer
		w.SetBuffer(dst)
		w.SetProto(proto)
		w.Error(msgPeerDown(owner.ID(), err))
		dst = w.Bytes()
	}
	call.Release()
	if run.rt.write {
		eachKey(run, args, s.group.Forget)
	}
	return dst
}

// PrepareBatch implements cluster.BatchPreparer: before a peer's batch
// runs, command after command, the keys of all its commands that this
// node owns and that are still at their previous owners are taken at
// once, so the batch costs one round of takes, not one per command.
func (s *Server) PrepareBatch(ctx context.Context, cmds [][][]byte) {
	if s.group == nil {
		return
	}
	var keys [][]byte
	for _, args := range cmds {
		cmd, sub := s.table.lookup(args)
		run := cmd
		if sub != nil {
			run = sub
		}
		if run == nil || len(run.subs) > 0 || !arityOK(run.arity, len(args)) {
			continue
		}
		eachKey(run, args, func(key []byte) { keys = append(keys, key) })
	}
	if len(keys) > 0 {
		s.group.ClaimKeys(ctx, keys, false)
	}
}
