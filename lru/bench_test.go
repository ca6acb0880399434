package lru_test

import (
	"encoding/binary"
	"testing"

	"github.com/geeredis/geeredis/lru"
)

const benchKeys = 1 << 20

// perm maps 0..benchKeys-1 onto itself in a scattered order, so that
// benchmarks touch memory at random as a server does.
func perm(i int) int { return int(uint64(i)*0x9E3779B97F4A7C15) & (benchKeys - 1) }

func benchKey(b []byte, i int) []byte {
	binary.LittleEndian.PutUint64(b[8:], uint64(i)*0x9E3779B97F4A7C15)
	return b
}

func filled(b *testing.B) *lru.Cache {
	b.Helper()
	c := lru.New()
	key, val := make([]byte, 16), make([]byte, 100)
	for i := range benchKeys {
		c.Set(benchKey(key, i), val, 0)
	}
	return c
}

func BenchmarkGetHit(b *testing.B) {
	c := filled(b)
	key := make([]byte, 16)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := c.Get(benchKey(key, perm(i)), 0); !ok {
			b.Fatal("miss")
		}
		i++
	}
}

func BenchmarkGetMiss(b *testing.B) {
	c := filled(b)
	key := make([]byte, 16)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := c.Get(benchKey(key, benchKeys+i), 0); ok {
			b.Fatal("hit")
		}
		i++
	}
}

func BenchmarkSetOverwrite(b *testing.B) {
	c := filled(b)
	key, val := make([]byte, 16), make([]byte, 100)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Set(benchKey(key, perm(i)), val, 0)
		i++
	}
}

// BenchmarkSetNewEvict inserts new keys into a full cache, evicting the
// oldest to stay at benchKeys items: the steady state of a cache at its limit.
func BenchmarkSetNewEvict(b *testing.B) {
	c := filled(b)
	key, val := make([]byte, 16), make([]byte, 100)
	b.ReportAllocs()
	i := benchKeys
	for b.Loop() {
		c.Set(benchKey(key, i), val, 0)
		c.RemoveOldest()
		i++
	}
}
