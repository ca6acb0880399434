package server

import (
	"fmt"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/geeredis/geeredis/cluster"
)

// ClusterConfig makes a node a member of a geeredis cluster.
//
// The order of construction: the caller makes the HTTPPool (its Self is
// this node's peer URL) and puts it here; New makes the store, builds the
// node's cluster.Group on it (Main = the store, Peers = Pool, Getter =
// Config.Getter) and registers the group with the pool, with the Server as
// the pool's Executor. The caller then serves Pool over HTTP at Self, sets
// its members (Pool.Set), serves clients, and closes the pool after
// Shutdown: the Server does not own it.
type ClusterConfig struct {
	// Pool is the peer protocol, client and server. Required.
	Pool *cluster.HTTPPool
	// Group names the cache in peer URLs; every node must use the same
	// name. "" = the cluster package's default ("geeredis").
	Group string
	// HotMaxBytes bounds the hot cache, the copies of popular keys owned
	// by other nodes. 0 = MaxMemory/8 as groupcache does (8 MiB when
	// MaxMemory is 0); negative = no hot cache. Bytes.
	HotMaxBytes int64
	// HotTTL is the longest life of a hot copy (never beyond the key's own
	// TTL). 0 = the cluster package's default (5 s).
	HotTTL time.Duration
	// HotEvery makes one fetch from an owner in HotEvery keep a hot copy.
	// 0 = the cluster package's default (10); 1 = every fetch.
	HotEvery int
}

// defaultHotBytes is the hot cache of a node without maxmemory.
const defaultHotBytes = 8 << 20

// clusterStats are the routing counters INFO's Cluster section reports
// beside the group's and the pool's.
type clusterStats struct {
	executed atomic.Int64 // commands run here for peers (Execute)
	refused  atomic.Int64 // commands from peers refused (connection state)
	// commands from peers forwarded once more: our ring gives their keys
	// another owner (ExecuteHops)
	reforwarded atomic.Int64
}

// setupGroup builds the node's cluster.Group when it has a getter or a
// cluster, and registers it with the pool. It runs in New once s.store
// exists.
func (s *Server) setupGroup(cfg Config) error {
	if cfg.Getter == nil && cfg.Cluster == nil {
		return nil
	}
	gc := cluster.GroupConfig{Getter: cfg.Getter, Main: s.store, Logger: s.log}
	if cc := cfg.Cluster; cc != nil {
		gc.Name, gc.Peers, gc.HotTTL, gc.HotEvery = cc.Group, cc.Pool, cc.HotTTL, cc.HotEvery
		hot := cc.HotMaxBytes
		if hot == 0 {
			hot = cfg.MaxMemory / 8
			if hot == 0 {
				hot = defaultHotBytes
			}
		}
		if hot > 0 {
			st, err := cluster.NewStore(cluster.StoreConfig{MaxBytes: hot})
			if err != nil {
				return fmt.Errorf("hot cache: %w", err)
			}
			s.hot, gc.Hot = st, st
		}
	}
	g, err := cluster.NewGroup(gc)
	if err != nil {
		return err
	}
	s.group, s.getter, s.groupName = g, cfg.Getter != nil, g.Name()
	if cfg.Cluster != nil {
		s.pool = cfg.Cluster.Pool
		s.pool.Register(g, s)
	}
	return nil
}

// Group returns the node's cluster.Group: nil for a node without a getter
// and without a cluster.
func (s *Server) Group() *cluster.Group { return s.group }

// wrote tells the group that a command run here wrote its keys, so that
// hot copies elsewhere are dropped. Only the owner of a key writes it.
func (s *Server) wrote(run *command, args [][]byte) {
	eachKey(run, args, func(key []byte) { s.group.Wrote(key) })
}

// eachKey calls fn for each key argument of args, as the command table
// places them.
func eachKey(run *command, args [][]byte, fn func(key []byte)) {
	if run.rt.keyAt > 0 {
		fn(args[run.rt.keyAt])
		return
	}
	if run.first <= 0 {
		return
	}
	last := run.last
	if last < 0 {
		last += len(args)
	}
	for i := run.first; i <= last && i < len(args); i += max(run.step, 1) {
		fn(args[i])
	}
}

// infoCluster: geeredis nodes form their own cluster, not a Redis Cluster,
// so cluster_enabled stays 0 (a Redis Cluster client must not try CLUSTER
// SLOTS). A node with a getter or peers adds its membership and counters:
// the group's (gets, loads, hot cache, fallbacks), the peer client's
// (requests, commands, errors) and the routing's.
func (s *Server) infoCluster(b *infoBuf) {
	b.int("cluster_enabled", 0)
	if s.group == nil {
		return
	}
	members, self := 1, ""
	var ps cluster.PoolStats
	if s.pool != nil {
		members, self, ps = len(s.pool.Members()), s.pool.Self(), s.pool.Stats()
	}
	gs := s.group.Stats()
	b.int("cluster_members", int64(members))
	b.str("cluster_node_id", self)
	b.str("cluster_peer_address", peerAddress(self))
	b.str("cluster_group", s.group.Name())
	b.int("cluster_gets", int64(gs.Gets))
	b.int("cluster_loads", int64(gs.Loads))
	b.int("cluster_load_errors", int64(gs.LoadErrors))
	b.int("cluster_loads_deduped", int64(gs.LoadsDeduped))
	b.int("cluster_hot_hits", int64(gs.HotHits))
	b.int("cluster_peer_loads", int64(gs.PeerLoads))
	b.int("cluster_peer_requests", int64(ps.Requests))
	b.int("cluster_peer_commands", int64(ps.Commands))
	b.int("cluster_peer_errors", int64(ps.Errors+gs.PeerErrors))
	b.int("cluster_fallbacks", int64(gs.Fallbacks))
	b.int("cluster_executed_for_peers", s.cstats.executed.Load())
	b.int("cluster_refused_from_peers", s.cstats.refused.Load())
	b.int("cluster_invalidations_sent", int64(ps.InvalidationsSent))
	b.int("cluster_invalidations_received", int64(ps.InvalidationsReceived))
	if s.hot != nil {
		b.int("cluster_hot_keys", int64(s.hot.Len()))
		b.int("cluster_hot_bytes", s.hot.Bytes())
		b.int("cluster_hot_maxbytes", s.hot.MaxBytes())
	}
	if s.pool != nil {
		s.infoMembers(b)
	}
}

// peerAddress is the host:port of a peer URL ("" when there is none).
func peerAddress(id string) string {
	u, err := url.Parse(id)
	if err != nil {
		return ""
	}
	return u.Host
}
