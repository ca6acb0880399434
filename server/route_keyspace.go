package server

import (
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/geeredis/geeredis/resp"
)

// Keyspace-wide commands span the cluster: a user of a cache expects
// DBSIZE to count, and FLUSHALL to empty, the cache, not one node of it.
// The command goes to every member at once (this node runs its part here);
// a member that cannot be reached makes the command fail with its error.
//
//   - DBSIZE: the sum of the members' key counts.
//   - KEYS pattern: the union of the members' keys, member after member.
//   - FLUSHALL, FLUSHDB: every member empties its store and its hot cache;
//     OK when all did.
//   - RANDOMKEY: a random key of a random member that has keys.
//   - SCAN: node after node. The cursor encodes the member (its index in
//     the sorted member list) and that member's own cursor:
//     cursor = memberCursor*members + index, so for one node it is the
//     node's cursor. A member's cursor 0 moves on to the next member. A
//     change of membership during a scan may skip or repeat keys.
//
// INFO keyspace (and INFO in general) stays this node's: it describes the
// process answering, as the operator expects of INFO.

// memberParts returns one part per member with args, in the order of the
// sorted member list; this node's part has a nil peer.
func (c *client) memberParts(args [][]byte) []part {
	pool := c.srv.pool
	ids, self, peers := pool.Members(), pool.Self(), pool.Peers()
	parts := make([]part, 0, len(ids)+1)
	sawSelf := false
	for _, id := range ids {
		if id == self {
			parts = append(parts, part{args: args})
			sawSelf = true
			continue
		}
		for _, p := range peers {
			if p.ID() == id {
				parts = append(parts, part{peer: p, args: args})
				break
			}
		}
	}
	if !sawSelf {
		parts = append(parts, part{args: args})
	}
	return parts
}

// routeKeyspace runs a keyspace-wide command on every member.
func (c *client) routeKeyspace(run *command, args [][]byte) {
	if run.name == "scan" {
		c.scanCluster(args)
		return
	}
	parts := c.memberParts(args)
	c.exchange(parts)
	if msg := firstFailure(parts); msg != "" {
		c.w.Error(msg)
		return
	}
	switch run.name {
	case "dbsize":
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
	case "keys":
		c.unionKeys(parts)
	case "randomkey":
		var found [][]byte
		for _, p := range parts {
			if k, ok := bulkReply(p.reply); ok {
				found = append(found, k)
			}
		}
		if len(found) == 0 {
			c.w.Null()
			return
		}
		c.w.Bulk(found[rand.IntN(len(found))])
	default: // FLUSHALL, FLUSHDB
		c.w.OK()
	}
}

// unionKeys answers KEYS with the members' keys, member after member.
func (c *client) unionKeys(parts []part) {
	all := make([][][]byte, len(parts))
	n := 0
	for i, p := range parts {
		elems, ok := arrayElems(p.reply)
		if !ok {
			c.w.Error(msgBadPeerReply)
			return
		}
		all[i] = elems
		n += len(elems)
	}
	c.w.Array(n)
	for _, elems := range all {
		for _, e := range elems {
			c.w.Raw(e)
		}
	}
}

// scanCluster answers SCAN cursor [options] by scanning one member.
func (c *client) scanCluster(args [][]byte) {
	cursor, ok := resp.ParseCursor(args[1])
	if !ok {
		c.w.Error(resp.MsgInvalidCursor)
		return
	}
	parts := c.memberParts(nil)
	m := uint64(len(parts))
	idx, own := cursor%m, cursor/m
	sub := make([][]byte, len(args))
	copy(sub, args)
	sub[1] = strconv.AppendUint(nil, own, 10)
	p := parts[idx : idx+1]
	p[0].args = sub
	c.exchange(p)
	if msg := firstFailure(p); msg != "" {
		c.w.Error(msg)
		return
	}
	elems, ok := arrayElems(p[0].reply)
	var next uint64
	if ok && len(elems) == 2 {
		var cur []byte
		cur, ok = bulkReply(elems[0])
		if ok {
			next, ok = resp.ParseCursor(cur)
		}
	}
	if !ok || len(elems) != 2 || len(elems[1]) == 0 || elems[1][0] != '*' {
		c.w.Error(msgBadPeerReply)
		return
	}
	if next == 0 {
		idx++
	}
	var out uint64 // 0: the last member is done
	if idx < m {
		if next > (math.MaxUint64-idx)/m {
			c.w.Error("ERR SCAN cursor of member too large to encode")
			return
		}
		out = next*m + idx
	}
	var tmp [20]byte
	c.w.Array(2)
	c.w.Bulk(strconv.AppendUint(tmp[:0], out, 10))
	c.w.Raw(elems[1])
}
