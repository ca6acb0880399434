package server

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/geeredis/geeredis/cluster"
)

// Config holds a node's settings. DefaultConfig gives the values Redis users
// expect; the zero value of a field is not always a sane setting, so start
// from DefaultConfig.
type Config struct {
	// MaxMemory bounds the bytes the cache holds (keys, values and per-entry
	// overhead), evicting least recently used keys beyond it. 0 = no limit.
	MaxMemory int64
	// RequirePass, when not empty, is the password of the user "default":
	// clients must AUTH before other commands.
	RequirePass string
	// MaxClients is the most client connections served at once; a further
	// one is refused with "ERR max number of clients reached". Must be > 0.
	MaxClients int
	// Timeout closes a client idle for this long. 0 = never.
	Timeout time.Duration
	// ProtoMaxBulkLen is the longest bulk string a request may carry, and
	// the longest string APPEND and SETRANGE may build. Bytes.
	ProtoMaxBulkLen int64
	// ClientQueryBufferLimit is the most unparsed input held for one
	// client; beyond it the client is closed. Bytes.
	ClientQueryBufferLimit int64
	// Logger receives the node's log; nil logs nothing.
	Logger *slog.Logger
	// Version is reported by INFO (geeredis_version) and --version.
	Version string
	// ConfigFile is the path reported by INFO's config_file; "" for none.
	ConfigFile string
	// Getter loads the value of a key that GET or MGET misses at the key's
	// owner (read-through): once for concurrent misses of one key, the value
	// kept with the TTL the getter gives. It works on a node on its own as
	// well as in a cluster. nil = a plain cache: a miss is a nil reply.
	Getter cluster.Getter
	// Cluster makes the node a member of a geeredis cluster: commands on
	// keys it does not own run at their owners. nil = a node on its own,
	// which owns every key. See ClusterConfig.
	Cluster *ClusterConfig
}

// DefaultConfig returns the settings of a node started without flags.
func DefaultConfig() Config {
	return Config{
		MaxMemory:              64 << 20,
		MaxClients:             10000,
		ProtoMaxBulkLen:        512 << 20,
		ClientQueryBufferLimit: 1 << 30,
		Version:                "0.1.0",
	}
}

func (c Config) validate() error {
	var errs []error
	if c.MaxMemory < 0 {
		errs = append(errs, fmt.Errorf("maxmemory %d is negative", c.MaxMemory))
	}
	if c.MaxClients < 1 {
		errs = append(errs, fmt.Errorf("maxclients %d must be at least 1", c.MaxClients))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %v is negative", c.Timeout))
	}
	if c.ProtoMaxBulkLen < 1024 {
		errs = append(errs, fmt.Errorf("proto-max-bulk-len %d is below 1024", c.ProtoMaxBulkLen))
	}
	if c.ClientQueryBufferLimit < 1024*1024 {
		errs = append(errs, fmt.Errorf("client-query-buffer-limit %d is below 1mb", c.ClientQueryBufferLimit))
	}
	if c.Cluster != nil && c.Cluster.Pool == nil {
		errs = append(errs, errors.New("cluster: Pool is nil"))
	}
	return errors.Join(errs...)
}
