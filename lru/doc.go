// Package lru is the byte-bounded cache at the heart of a geeredis node: a
// map from byte-string keys to byte-string values with per-item expiry, an
// LRU list for eviction, memory accounting and hit/miss statistics.
//
// A Cache is single-threaded; locking and sharding wrap it (see
// geeredis/cluster.Store). It imports only the standard library.
//
// # Layout
//
// The cache is built to hold millions of small items with little overhead
// and nothing for the garbage collector to scan:
//
//   - Keys and values are stored back to back in large pointer-free []byte
//     chunks. Shared chunks grow from 4 KiB to 1 MiB as the cache grows (a
//     new chunk is about 1/16 of what the shared chunks already hold), so a
//     nearly empty cache holds little. A record (key+value) larger than 16 KiB
//     gets an allocation of its own, released as soon as the item goes.
//   - Item metadata (chunk location, key and value length, expiry, LRU links,
//     hash) lives in a pointer-free array of 40-byte entries kept in pages of
//     512, so growth does not copy. An entry id is stable while its item
//     lives; an overwrite keeps it. Scan walks ids, which is why every key
//     present for a whole scan is returned at least once.
//   - The index is an open-addressing table (linear probing, backward-shift
//     deletion, at most 3/4 full) of 8-byte slots holding a 32-bit hash tag
//     and the entry id, keyed by hash/maphash with a per-cache random seed.
//   - Deleted and overwritten items leave dead bytes in their chunk. A chunk
//     whose items are all gone is released at once; when dead bytes exceed a
//     quarter of all chunk bytes, the chunks with more than 1/8 dead are
//     compacted (on the next Set or ExpireSome), so memory stays
//     proportional to live data. An overwrite whose value fits the old slot
//     (and uses at least half of it) is done in place.
//
// # Accounting
//
// Bytes reports len(key)+len(value) of every item plus EntryOverhead per
// item. It is deterministic (it does not depend on chunk fragmentation) and
// is what a byte limit is checked against. Allocated reports what the cache
// really holds: chunks (live, dead and unused), metadata pages and index.
// Dead chunk bytes stay under a quarter of the chunks; the index is 3/8 to
// 3/4 full (1/8 just before it shrinks); metadata entries of deleted items
// are kept for reuse until Clear. For 16-byte keys with 100-byte values
// Allocated is 1.00 × Bytes after a fill and about 1.14 × Bytes under
// overwrites and evictions.
package lru
