package server

import (
	"bytes"

	"github.com/geeredis/geeredis/cluster"
	"github.com/geeredis/geeredis/resp"
)

// Multi-key commands. When all the keys have one owner the command runs
// there whole, queued like a one-key command (RENAME, COPY and MSETNX then
// keep their atomicity). Otherwise the client's forwards are settled first
// and the keys are split by owner: one sub-command per owner (MGET k1 k3),
// sent to every owner at once, this node's part run here, and the replies
// reassembled in the client's order:
//
//   - MGET: the values in order; keys with a hot copy here are answered
//     from it; the keys of an owner that cannot be reached are loaded here
//     (a nil without a getter), as a GET falls back.
//   - DEL, UNLINK, EXISTS, TOUCH: the sum of the owners' counts.
//   - MSET: OK when every owner said OK, else the first error (the owners
//     that answered OK have written their keys).
//   - MSETNX: MSETNX at every owner; when one refuses (a key exists) or
//     fails, the owners that wrote their keys are rolled back with DEL and
//     the reply is 0 (or the error). The rollback is not atomic: another
//     client may see the keys of one owner set for a moment, and a write of
//     those keys by another client between the MSETNX and the DEL is lost.
//   - RENAME, RENAMENX, COPY across owners: an error (msgCrossOwner).
//
// Writes forget the hot copies of their keys here before they are sent and
// after the replies arrive; each owner's Wrote drops the copies elsewhere.

// part is the sub-command of a multi-key command for one owner.
type part struct {
	peer  *cluster.Peer // nil: this node
	keys  []int         // which of the command's keys, in the client's order
	args  [][]byte
	call  *cluster.Call
	reply []byte
	err   error
}

// samePeer reports whether a and b are the same owner (nil = this node).
func samePeer(a, b *cluster.Peer) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a == b || a.ID() == b.ID()
}

// routeKeys runs a command with several keys.
func (c *client) routeKeys(run *command, args [][]byte) {
	pairs := run.name == "mset" || run.name == "msetnx"
	if pairs && len(args)%2 == 0 {
		c.w.Error(resp.MsgWrongArgs(run.name))
		return
	}
	pool := c.srv.pool
	first := pool.Owner(args[run.first])
	same := true
	eachKey(run, args, func(key []byte) {
		if same && !samePeer(pool.Owner(key), first) {
			same = false
		}
	})
	if same {
		c.routeOneOwner(first, run, args)
		return
	}
	if run.rt.kind == routeSameOwner {
		c.w.Error(msgCrossOwner(run.name))
		return
	}
	c.settle()
	step := 1
	if pairs {
		step = 2
	}
	if run.rt.write {
		c.forgetKeys(run, args)
		defer c.forgetKeys(run, args)
	}
	switch run.name {
	case "mget":
		c.splitMget(args)
	case "mset":
		c.splitMset(args)
	case "msetnx":
		c.splitMsetnx(args)
	default: // DEL, UNLINK, EXISTS, TOUCH
		c.splitCount(args, step)
	}
}

// routeOneOwner runs a multi-key command whose keys share one owner.
func (c *client) routeOneOwner(owner *cluster.Peer, run *command, args [][]byte) {
	switch {
	case owner == nil:
		c.runHere(run, args)
	case run.rt.write:
		c.forgetKeys(run, args)
		c.forward(owner, run, args, fwWrite)
	case run.rt.mget:
		c.forward(owner, run, args, fwMget)
	default:
		c.forward(owner, run, args, fwRelay)
	}
}

func (c *client) forgetKeys(run *command, args [][]byte) {
	eachKey(run, args, c.srv.group.Forget)
}

// split groups the keys of args (every step-th argument from 1, with its
// step-1 values) by owner, skipping the keys for which skip is true.
func (c *client) split(args [][]byte, step int, skip func(i int) bool) []part {
	var parts []part
	for i, k := 1, 0; i < len(args); i, k = i+step, k+1 {
		if skip != nil && skip(k) {
			continue
		}
		owner := c.srv.pool.Owner(args[i])
		j := 0
		for j < len(parts) && !samePeer(parts[j].peer, owner) {
			j++
		}
		if j == len(parts) {
			parts = append(parts, part{peer: owner, args: [][]byte{args[0]}})
		}
		parts[j].keys = append(parts[j].keys, k)
		parts[j].args = append(parts[j].args, args[i:i+step]...)
	}
	return parts
}

// exchange sends every remote part to its owner at once, runs this node's
// part here, and waits for the replies.
func (c *client) exchange(parts []part) {
	for i := range parts {
		if p := &parts[i]; p.peer != nil {
			p.call = p.peer.Exec(c.srv.groupName, c.proto, p.args)
		}
	}
	for i := range parts {
		if p := &parts[i]; p.peer == nil {
			p.reply = c.srv.runLocal(c.context(), c.proto, p.args, nil)
		}
	}
	for i := range parts {
		if p := &parts[i]; p.peer != nil {
			reply, err := p.call.Wait(c.context())
			p.reply, p.err = bytes.Clone(reply), err
			p.call.Release()
		}
	}
}

// firstFailure is the error reply the client gets when a part failed: a
// transport error or an owner's error reply; "" when none did.
func firstFailure(parts []part) string {
	for _, p := range parts {
		switch {
		case p.err != nil:
			return msgPeerDown(p.peer.ID(), p.err)
		case isError(p.reply):
			return errorText(p.reply)
		}
	}
	return ""
}

const msgBadPeerReply = "ERR unexpected reply from a peer"

// splitMget answers MGET key [key ...] over several owners.
func (c *client) splitMget(args [][]byte) {
	keys := args[1:]
	vals := make([][]byte, len(keys)) // each a whole RESP value
	var hot resp.Writer
	hot.SetProto(c.proto)
	now := c.now()
	parts := c.split(args, 1, func(k int) bool {
		if c.srv.pool.Owner(keys[k]) == nil {
			return false
		}
		v, ok := c.srv.group.HotGet(keys[k], now, c.scratch[:0])
		if !ok {
			return false
		}
		start := hot.Len()
		hot.Bulk(v)
		vals[k] = hot.Bytes()[start:hot.Len():hot.Len()] // capped: later appends copy
		return true
	})
	c.exchange(parts)
	for _, p := range parts {
		if p.err != nil { // the owner is down: load here, as GET does
			var w resp.Writer
			w.SetProto(c.proto)
			for _, k := range p.keys {
				start := w.Len()
				c.fallbackGet(&w, p.peer, keys[k], p.err)
				vals[k] = w.Bytes()[start:w.Len():w.Len()]
			}
			continue
		}
		if isError(p.reply) {
			c.w.Error(errorText(p.reply))
			return
		}
		elems, ok := arrayElems(p.reply)
		if !ok || len(elems) != len(p.keys) {
			c.w.Error(msgBadPeerReply)
			return
		}
		for j, k := range p.keys {
			vals[k] = elems[j]
		}
	}
	c.w.Array(len(vals))
	for _, v := range vals {
		c.w.Raw(v)
	}
}

// splitMset answers MSET key value [key value ...] over several owners.
func (c *client) splitMset(args [][]byte) {
	parts := c.split(args, 2, nil)
	c.exchange(parts)
	if msg := firstFailure(parts); msg != "" {
		c.w.Error(msg)
		return
	}
	c.w.OK()
}

// splitMsetnx answers MSETNX key value [key value ...] over several owners,
// rolling back the owners that wrote when another did not.
func (c *client) splitMsetnx(args [][]byte) {
	parts := c.split(args, 2, nil)
	c.exchange(parts)
	var undo []part
	refused := false
	for _, p := range parts {
		n, ok := intReply(p.reply)
		switch {
		case p.err == nil && ok && n == 1:
			del := part{peer: p.peer, args: [][]byte{[]byte("DEL")}}
			for i := 2; i < len(p.args); i += 2 {
				del.args = append(del.args, p.args[i-1])
			}
			undo = append(undo, del)
		case p.err == nil && ok:
			refused = true
		}
	}
	msg := firstFailure(parts)
	if msg == "" && !refused {
		c.w.Int(1)
		return
	}
	if len(undo) > 0 {
		c.exchange(undo)
		if m := firstFailure(undo); m != "" {
			c.srv.log.Warn("MSETNX rollback failed: keys of one owner stay set", "err", m)
		}
	}
	if msg != "" {
		c.w.Error(msg)
		return
	}
	c.w.Int(0)
}

// splitCount answers DEL, UNLINK, EXISTS or TOUCH over several owners: the
// sum of their counts.
func (c *client) splitCount(args [][]byte, step int) {
	parts := c.split(args, step, nil)
	c.exchange(parts)
	if msg := firstFailure(parts); msg != "" {
		c.w.Error(msg)
		return
	}
	var sum int64
	for _, p := range parts {
		n, ok := intReply(p.reply)
		if !ok {
			c.w.Error(msgBadPeerReply)
			return
		}
		sum += n
	}
	c.w.Int(sum)
}
