package cluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// benchPeer returns a's Peer for b, b answering +OK to every command.
func benchPeer(b *testing.B) *Peer {
	b.Helper()
	nodes := newCluster(b, 2, clusterOpts{exec: okExec{}})
	return peerOf(b, nodes[0], nodes[1])
}

var benchArgs = [][]byte{[]byte("SET"), []byte("key:000000000123"), []byte("xxxxxxxxxxxxxxxx")}

func execOnce(b *testing.B, ctx context.Context, peer *Peer) {
	c := peer.Exec(DefaultGroup, 2, benchArgs)
	reply, err := c.Wait(ctx)
	if err != nil || string(reply) != "+OK\r\n" {
		b.Fatalf("Exec = %q %v", reply, err)
	}
	c.Release()
}

// BenchmarkExec is one caller: every command is a round trip.
func BenchmarkExec(b *testing.B) {
	peer := benchPeer(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		execOnce(b, ctx, peer)
	}
}

// BenchmarkExecParallel is many callers sharing round trips, as the
// connections of a busy node do.
func BenchmarkExecParallel(b *testing.B) {
	peer := benchPeer(b)
	ctx := context.Background()
	b.SetParallelism(25) // 50 callers on 2 CPUs, as redis-benchmark -c 50
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			execOnce(b, ctx, peer)
		}
	})
}

// BenchmarkPerCommandHTTP is the baseline the pool must leave behind: one
// HTTP request per command, over keep-alive connections.
func BenchmarkPerCommandHTTP(b *testing.B) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		frames, _, err := parseFrames(body, nil, nil)
		if err != nil || len(frames) != 1 {
			http.Error(w, "bad", 400)
			return
		}
		w.Write(okExec{}.Execute(r.Context(), 2, frames[0].args, nil))
	}))
	b.Cleanup(ts.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	body := appendExecFrame(nil, 2, benchArgs)
	b.SetParallelism(25)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := client.Post(ts.URL, contentType, bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			reply, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if string(reply) != "+OK\r\n" {
				b.Fatalf("reply %q", reply)
			}
		}
	})
}

// BenchmarkGroupGetRemote fetches keys from their owner, without hot
// copies, from many callers.
func BenchmarkGroupGetRemote(b *testing.B) {
	nodes := newCluster(b, 2, clusterOpts{hotEvery: 1 << 30})
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = keyOf(b, nodes, 1, fmt.Sprint("bench", i, "-"))
		put(nodes[1].main, string(keys[i]), "xxxxxxxxxxxxxxxx", 0)
	}
	g := nodes[0].group
	ctx := context.Background()
	var next atomic.Int64
	b.SetParallelism(25)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(7919))
		for pb.Next() {
			i++
			if _, found, err := g.Get(ctx, keys[i%len(keys)]); err != nil || !found {
				b.Fatal(found, err)
			}
		}
	})
}
