package server

import (
	"strconv"
	"strings"

	"github.com/geeredis/geeredis/cluster"
)

// Membership visibility. A node of a gossip cluster is told its
// Membership (SetMembership) once it has joined; INFO cluster and
// GEEREDIS MEMBERS then list every member it knows with its state. A node
// with a static member list reports its ring's members as alive.
//
// The command is GEEREDIS MEMBERS, not CLUSTER NODES/SLOTS/SHARDS: a
// cluster-aware Redis client that got an answer to those would try to
// route by hash slots, which geeredis does not have. It must connect to a
// geeredis node as to a single Redis.

// SetMembership makes m the source of the member list (INFO cluster,
// GEEREDIS MEMBERS). Call it after the node has joined; nil goes back to
// the ring's static list.
func (s *Server) SetMembership(m *cluster.Membership) { s.membership.Store(m) }

// members returns the members this node knows: the gossip's, or the
// ring's as alive members.
func (s *Server) members() []cluster.Member {
	if m := s.membership.Load(); m != nil {
		return m.Members()
	}
	if s.pool == nil {
		return nil
	}
	ids := s.pool.Members()
	out := make([]cluster.Member, len(ids))
	for i, id := range ids {
		out[i] = cluster.Member{MemberMeta: cluster.MemberMeta{ID: id, PeerURL: id}, State: cluster.StateAlive}
	}
	return out
}

func geeredisCommands() []*command {
	return []*command{
		{name: "geeredis", arity: -2, flags: []string{}, acl: []string{"@slow"}, tips: []string{},
			subs: []*command{
				{name: "geeredis|members", arity: 2, flags: []string{"loading", "stale"}, acl: []string{"@slow"}, tips: []string{"nondeterministic_output"}, run: cmdGeeredisMembers},
				{name: "geeredis|help", arity: 2, flags: []string{"loading", "stale"}, acl: []string{"@slow"}, tips: []string{}, run: cmdGeeredisHelp},
			}},
	}
}

// cmdGeeredisMembers answers GEEREDIS MEMBERS: one map per member, sorted
// by id, with its id, client address, peer URL, gossip address, state
// (alive, left or dead) and whether it is this node.
func cmdGeeredisMembers(c *client, args [][]byte) {
	ms := c.srv.members()
	self := ""
	if c.srv.pool != nil {
		self = c.srv.pool.Self()
	}
	c.w.Array(len(ms))
	for _, m := range ms {
		c.w.Map(6)
		c.w.BulkString("id")
		c.w.BulkString(m.ID)
		c.w.BulkString("client-addr")
		c.w.BulkString(m.ClientAddr)
		c.w.BulkString("peer-url")
		c.w.BulkString(m.PeerURL)
		c.w.BulkString("gossip-addr")
		c.w.BulkString(m.GossipAddr)
		c.w.BulkString("state")
		c.w.BulkString(m.State)
		c.w.BulkString("self")
		c.w.Bool(self != "" && strings.TrimRight(m.PeerURL, "/") == self)
	}
}

func cmdGeeredisHelp(c *client, args [][]byte) {
	writeHelp(c, []string{
		"GEEREDIS <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"MEMBERS",
		"    Return the members of the geeredis cluster this node knows: id, client address,",
		"    peer URL, gossip address, state (alive, left or dead) and whether it is this node.",
		"HELP",
		"    Prints this help.",
	})
}

// infoMembers writes INFO cluster's membership lines: the ring, the
// hand-off counters and one line per member.
func (s *Server) infoMembers(b *infoBuf) {
	ri := s.pool.Ring()
	mode := "static"
	m := s.membership.Load()
	if m != nil {
		mode = "gossip"
	}
	b.str("cluster_membership", mode)
	b.int("cluster_ring_version", int64(ri.Version))
	b.float("cluster_ring_share", ri.Share, 4)
	b.int("cluster_ring_transition", boolInt(ri.Transition))
	b.str("cluster_ring_awaited", strings.Join(ri.Awaited, ","))
	if m != nil {
		ms := m.Stats()
		b.int("cluster_member_joins", int64(ms.Joins))
		b.int("cluster_member_leaves", int64(ms.Leaves))
		b.int("cluster_member_failures", int64(ms.Failures))
		b.int("cluster_failure_bound_ms", m.FailureBound().Milliseconds())
	}
	hs := s.group.HandoffStats()
	b.int("cluster_handoff_moved", int64(hs.Moved))
	b.int("cluster_handoff_failures", int64(hs.MoveFailures))
	b.int("cluster_handoff_pulled", int64(hs.Pulled))
	b.int("cluster_handoff_pull_failures", int64(hs.PullFailures))
	b.int("cluster_handoff_received", int64(hs.Received))
	b.int("cluster_handoff_dropped", int64(hs.Dropped))
	b.int("cluster_handoff_refused", int64(hs.Refused))
	b.int("cluster_handoff_taken", int64(hs.Taken))
	b.int("cluster_handoff_passes", int64(hs.Passes))
	b.int("cluster_reforwarded", s.cstats.reforwarded.Load())
	for i, mem := range s.members() {
		b.str("member"+strconv.Itoa(i), "id="+mem.ID+",client="+mem.ClientAddr+",peer="+mem.PeerURL+
			",gossip="+mem.GossipAddr+",state="+mem.State)
	}
}

func boolInt(v bool) int64 {
	if v {
		return 1
	}
	return 0
}
