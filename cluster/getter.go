package cluster

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is what a Getter returns when the source of truth has no value
// for a key: the client gets a nil reply, not an error.
var ErrNotFound = errors.New("not found")

// Value is what a Getter loads: the bytes, and how long a cache may keep
// them (0 = no expiry).
type Value struct {
	Bytes []byte
	TTL   time.Duration
}

// A Getter loads the value of a key on a cache miss at the key's owner.
// It returns ErrNotFound (possibly wrapped) when there is no such key, and
// another error when the load failed.
type Getter interface {
	Get(ctx context.Context, key string) (Value, error)
}

// GetterFunc adapts a function to Getter.
type GetterFunc func(ctx context.Context, key string) (Value, error)

// Get calls f(ctx, key).
func (f GetterFunc) Get(ctx context.Context, key string) (Value, error) { return f(ctx, key) }
