// Package cluster is the distributed core of geeredis: the node's store of
// keys, and the groupcache-style machinery around it (getters, collapsed
// loads, peers, membership).
//
// Store is the memory of a node: the keys it owns, held in sharded,
// individually locked lru.Cache values, bounded in bytes (allkeys-lru
// eviction), with lazy and active expiry and the counters INFO reports.
package cluster
