// Package resp is the protocol layer of geeredis beside redcon: it reads
// requests (RESP multibulk and inline) with Redis's limits and error wording,
// encodes replies for RESP2 and RESP3, parses command arguments as Redis
// does, and holds the Redis error strings in one place.
//
// It imports nothing from geeredis.
package resp
