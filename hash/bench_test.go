package hash

import (
	"fmt"
	"strconv"
	"testing"
)

// benchKeys returns 1024 keys "key:0".."key:1023".
func benchKeys() [][]byte {
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = strconv.AppendInt([]byte("key:"), int64(i), 10)
	}
	return keys
}

func BenchmarkGet(b *testing.B) {
	r := New(0, nil, nodeIDs(10)...)
	keys := benchKeys()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		r.Get(keys[i&1023])
		i++
	}
}

func BenchmarkGetString(b *testing.B) {
	r := New(0, nil, nodeIDs(10)...)
	keys := make([]string, 1024)
	for i, k := range benchKeys() {
		keys[i] = string(k)
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		r.GetString(keys[i&1023])
		i++
	}
}

func BenchmarkGetN3(b *testing.B) {
	r := New(0, nil, nodeIDs(10)...)
	keys := benchKeys()
	dst := make([]string, 0, 3)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		dst = r.GetN(keys[i&1023], 3, dst[:0])
		i++
	}
}

// BenchmarkMapGet includes the atomic load of the current ring.
func BenchmarkMapGet(b *testing.B) {
	m := NewMap(0, nil, nodeIDs(10)...)
	keys := benchKeys()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		m.Get(keys[i&1023])
		i++
	}
}

// BenchmarkGetReplicas shows what more virtual nodes cost a lookup (10 nodes).
func BenchmarkGetReplicas(b *testing.B) {
	for _, replicas := range []int{50, 160, 256, 512, 1024, 2048} {
		b.Run(fmt.Sprint(replicas), func(b *testing.B) {
			r := New(replicas, nil, nodeIDs(10)...)
			keys := benchKeys()
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				r.Get(keys[i&1023])
				i++
			}
		})
	}
}

// BenchmarkNew is the cost of a membership change: rebuilding 10 nodes.
func BenchmarkNew(b *testing.B) {
	ids := nodeIDs(10)
	b.ReportAllocs()
	for b.Loop() {
		New(0, nil, ids...)
	}
}

func BenchmarkNew100(b *testing.B) {
	ids := nodeIDs(100)
	b.ReportAllocs()
	for b.Loop() {
		New(0, nil, ids...)
	}
}

// BenchmarkGet100Nodes looks keys up in a ring of 100 nodes (1.6 MB of
// points), larger than a core's caches, with keys spread over 64k.
func BenchmarkGet100Nodes(b *testing.B) {
	r := New(0, nil, nodeIDs(100)...)
	keys := make([][]byte, 1<<16)
	for i := range keys {
		keys[i] = []byte("key:" + strconv.Itoa(i*7919))
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		r.Get(keys[i&(1<<16-1)])
		i++
	}
}
