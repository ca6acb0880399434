package integration

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/geeredis/geeredis/server"
)

// newGoRedis returns a go-redis client of node addr speaking protocol
// proto (2 or 3), closed when the test ends.
func newGoRedis(tb testing.TB, addr string, proto int, password string) *redis.Client {
	tb.Helper()
	rdb := redis.NewClient(&redis.Options{
		Addr:         addr,
		Protocol:     proto,
		Password:     password,
		DialTimeout:  replyTimeout,
		ReadTimeout:  replyTimeout,
		WriteTimeout: replyTimeout,
		MaxRetries:   -1, // a failure must show, not be retried away
	})
	tb.Cleanup(func() { rdb.Close() })
	return rdb
}

func testContext(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

// TestGoRedis drives a node with go-redis v9 in RESP2 and in RESP3.
func TestGoRedis(t *testing.T) {
	addr := startNode(t, server.DefaultConfig())
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			ctx := testContext(t)
			rdb := newGoRedis(t, addr, proto, "")
			p := fmt.Sprintf("p%d:", proto) // each protocol has its own keys

			t.Run("commands", func(t *testing.T) {
				must(t, rdb.Set(ctx, p+"k", "hello", 0).Err())
				if got, err := rdb.Get(ctx, p+"k").Result(); err != nil || got != "hello" {
					t.Errorf("GET = %q, %v; want hello", got, err)
				}
				if _, err := rdb.Get(ctx, p+"missing").Result(); !errors.Is(err, redis.Nil) {
					t.Errorf("GET missing: err = %v, want redis.Nil", err)
				}
				if n, err := rdb.Incr(ctx, p+"n").Result(); err != nil || n != 1 {
					t.Errorf("INCR = %d, %v; want 1", n, err)
				}
				if n, err := rdb.IncrBy(ctx, p+"n", 41).Result(); err != nil || n != 42 {
					t.Errorf("INCRBY = %d, %v; want 42", n, err)
				}
				if err := rdb.Incr(ctx, p+"k").Err(); err == nil || err.Error() != "ERR value is not an integer or out of range" {
					t.Errorf("INCR of a non-integer: err = %v", err)
				}
				if ok, err := rdb.Expire(ctx, p+"k", 100*time.Second).Result(); err != nil || !ok {
					t.Errorf("EXPIRE = %v, %v; want true", ok, err)
				}
				if ttl, err := rdb.TTL(ctx, p+"k").Result(); err != nil || ttl < 99*time.Second || ttl > 100*time.Second {
					t.Errorf("TTL = %v, %v; want 99s..100s", ttl, err)
				}
				if ttl, err := rdb.TTL(ctx, p+"n").Result(); err != nil || ttl != -1 {
					t.Errorf("TTL without expiry = %v, %v; want -1", ttl, err)
				}
				if ttl, err := rdb.TTL(ctx, p+"missing").Result(); err != nil || ttl != -2 {
					t.Errorf("TTL missing = %v, %v; want -2", ttl, err)
				}
				must(t, rdb.MSet(ctx, p+"a", "1", p+"b", "2").Err())
				vals, err := rdb.MGet(ctx, p+"a", p+"missing", p+"b").Result()
				if err != nil || !slices.Equal(vals, []any{"1", nil, "2"}) {
					t.Errorf("MGET = %#v, %v; want [1 <nil> 2]", vals, err)
				}
				if n, err := rdb.Del(ctx, p+"a", p+"b", p+"missing").Result(); err != nil || n != 2 {
					t.Errorf("DEL = %d, %v; want 2", n, err)
				}
				if n, err := rdb.Exists(ctx, p+"a", p+"k").Result(); err != nil || n != 1 {
					t.Errorf("EXISTS = %d, %v; want 1", n, err)
				}
			})

			t.Run("scan", func(t *testing.T) {
				want := make([]string, 100)
				for i := range want {
					want[i] = fmt.Sprintf("%sscan:%03d", p, i)
					must(t, rdb.Set(ctx, want[i], i, 0).Err())
				}
				seen := map[string]bool{}
				it := rdb.Scan(ctx, 0, p+"scan:*", 7).Iterator()
				for it.Next(ctx) {
					seen[it.Val()] = true
				}
				must(t, it.Err())
				var got []string
				for k := range seen {
					got = append(got, k)
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("SCAN iterator found %d keys, want the %d set", len(got), len(want))
				}
			})

			t.Run("info", func(t *testing.T) {
				info, err := rdb.Info(ctx).Result()
				must(t, err)
				if !strings.Contains(info, "# Server") || !strings.Contains(info, "\r\n") {
					t.Errorf("INFO does not look like Redis's:\n%.300s", info)
				}
				keyspace, err := rdb.Info(ctx, "keyspace").Result()
				must(t, err)
				if !strings.Contains(keyspace, "# Keyspace") || !strings.Contains(keyspace, "db0:keys=") {
					t.Errorf("INFO keyspace = %q", keyspace)
				}
			})

			t.Run("pipeline", func(t *testing.T) {
				const n = 1000
				cmds, err := rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
					for i := range n / 2 {
						pipe.Set(ctx, fmt.Sprintf("%spipe:%d", p, i), i, 0)
						pipe.Incr(ctx, p+"pipe:counter")
					}
					return nil
				})
				must(t, err)
				if len(cmds) != n {
					t.Fatalf("pipeline returned %d replies, want %d", len(cmds), n)
				}
				for i, cmd := range cmds {
					if i%2 == 1 {
						if got := cmd.(*redis.IntCmd).Val(); got != int64(i/2+1) {
							t.Fatalf("pipelined INCR %d = %d, want %d", i/2, got, i/2+1)
						}
					} else if got := cmd.(*redis.StatusCmd).Val(); got != "OK" {
						t.Fatalf("pipelined SET %d = %q", i/2, got)
					}
				}
				if got, err := rdb.Get(ctx, p+"pipe:499").Result(); err != nil || got != "499" {
					t.Errorf("GET after pipeline = %q, %v", got, err)
				}
			})
		})
	}
}

// TestGoRedisConcurrent runs 50 clients at once, each doing 200 INCRs of a
// shared key and SET/GET of its own keys.
func TestGoRedisConcurrent(t *testing.T) {
	addr := startNode(t, server.DefaultConfig())
	ctx := testContext(t)
	const clients, incrs = 50, 200
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		rdb := newGoRedis(t, addr, 2+c%2, "")
		wg.Go(func() {
			errs <- hammer(ctx, rdb, c, incrs)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	rdb := newGoRedis(t, addr, 3, "")
	if n, err := rdb.Get(ctx, "shared").Int64(); err != nil || n != clients*incrs {
		t.Errorf("shared counter = %d, %v; want %d", n, err, clients*incrs)
	}
}

func hammer(ctx context.Context, rdb *redis.Client, id, incrs int) error {
	for i := range incrs {
		if err := rdb.Incr(ctx, "shared").Err(); err != nil {
			return fmt.Errorf("client %d INCR %d: %w", id, i, err)
		}
		key := fmt.Sprintf("own:%d:%d", id, i%10)
		val := strconv.Itoa(id*1000 + i)
		if err := rdb.Set(ctx, key, val, 0).Err(); err != nil {
			return fmt.Errorf("client %d SET %s: %w", id, key, err)
		}
		got, err := rdb.Get(ctx, key).Result()
		if err != nil || got != val {
			return fmt.Errorf("client %d GET %s = %q, %v; want %q", id, key, got, err, val)
		}
	}
	return nil
}

// TestGoRedisAuth checks a node with a password: go-redis authenticates
// with the right one (through HELLO), and is refused without it or with a
// wrong one.
func TestGoRedisAuth(t *testing.T) {
	cfg := server.DefaultConfig()
	cfg.RequirePass = "s3cret"
	addr := startNode(t, cfg)
	ctx := testContext(t)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := newGoRedis(t, addr, proto, "s3cret")
			must(t, rdb.Set(ctx, "auth:k", "v", 0).Err())
			if got, err := rdb.Get(ctx, "auth:k").Result(); err != nil || got != "v" {
				t.Errorf("GET = %q, %v", got, err)
			}

			anon := newGoRedis(t, addr, proto, "")
			if err := anon.Get(ctx, "auth:k").Err(); err == nil || err.Error() != "NOAUTH Authentication required." {
				t.Errorf("GET without password: err = %v, want NOAUTH", err)
			}
			if err := anon.Do(ctx, "AUTH", "s3cret").Err(); err != nil {
				t.Errorf("AUTH s3cret: %v", err)
			}

			wrong := newGoRedis(t, addr, proto, "nope")
			if err := wrong.Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGPASS") {
				t.Errorf("PING with a wrong password: err = %v, want WRONGPASS", err)
			}
		})
	}
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
