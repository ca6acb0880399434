package integration

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// infoField returns one field of INFO section at p, or "".
func infoField(p *proc, section, field string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	info, err := p.rdb.Info(ctx, section).Result()
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return v
		}
	}
	return ""
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// aliveMembers returns INFO cluster's alive member lines at p, joined.
func aliveMembers(p *proc) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	info, err := p.rdb.Info(ctx, "cluster").Result()
	if err != nil {
		return ""
	}
	var alive []string
	for _, line := range strings.Split(info, "\r\n") {
		if strings.HasPrefix(line, "member") && strings.HasSuffix(line, ",state=alive") {
			_, v, _ := strings.Cut(line, ":")
			alive = append(alive, v)
		}
	}
	return strings.Join(alive, " ")
}

// allSee waits until every process counts want members and lists the same
// alive members. When settled is set it also waits until every process has
// finished moving keys after the change (its ring transition is over).
func allSee(t *testing.T, procs []*proc, want int, settled bool) {
	t.Helper()
	defer func() {
		if t.Failed() {
			for i, p := range procs {
				t.Logf("node %d: members=%s transition=%s alive=%s", i, infoField(p, "cluster", "cluster_members"),
					infoField(p, "cluster", "cluster_ring_transition"), aliveMembers(p))
			}
		}
	}()
	eventually(t, 30*time.Second, fmt.Sprintf("%d nodes agreeing on %d members", len(procs), want), func() bool {
		var members string
		for i, p := range procs {
			if infoField(p, "cluster", "cluster_members") != strconv.Itoa(want) ||
				settled && infoField(p, "cluster", "cluster_ring_transition") != "0" {
				return false
			}
			m := aliveMembers(p)
			if i > 0 && m != members {
				return false
			}
			members = m
		}
		return true
	})
}

// readAll checks that every key of written reads back with its value at
// every process.
func readAll(t *testing.T, procs []*proc, written map[string]string, when string) {
	t.Helper()
	ctx := context.Background()
	for j, p := range procs {
		for k, v := range written {
			got, err := p.rdb.Get(ctx, k).Result()
			if err != nil || got != v {
				t.Fatalf("%s: GET %s at node %d = %q, %v; want %q", when, k, j, got, err, v)
			}
		}
	}
}

// TestGossipProcesses runs real geeredis processes that find each other by
// gossip: three form a cluster, a fourth joins, one leaves with SIGTERM and
// one is killed. No acknowledged write is lost through the join and the
// graceful leave.
func TestGossipProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts processes; skipped with -short")
	}
	bin := buildBinary(t)
	start := func(join string) *proc {
		port, peer, gossip := freePort(t), freePort(t), freePort(t)
		args := []string{
			"--peer-addr", "127.0.0.1:" + strconv.Itoa(peer),
			"--gossip-addr", "127.0.0.1:" + strconv.Itoa(gossip),
			"--gossip-profile", "local",
			"--cluster-secret", "gossip-test",
		}
		if join != "" {
			args = append(args, "--join", join)
		}
		p := startProc(t, bin, port, args...)
		p.gossip = "127.0.0.1:" + strconv.Itoa(gossip)
		return p
	}
	ctx := context.Background()

	first := start("")
	procs := []*proc{first, start(first.gossip), start(first.gossip)}
	allSee(t, procs, 3, true)

	written := map[string]string{}
	for i := range 300 {
		k, v := "g:"+strconv.Itoa(i), "v"+strconv.Itoa(i)
		if err := procs[i%3].rdb.Set(ctx, k, v, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
		written[k] = v
	}
	readAll(t, procs, written, "three nodes")

	// A fourth node joins through the second: the keys it now owns move to
	// it, and every key stays readable everywhere.
	procs = append(procs, start(procs[1].gossip))
	allSee(t, procs, 4, true)
	readAll(t, procs, written, "after the join")
	eventually(t, 20*time.Second, "the new node owning some keys", func() bool {
		return strings.HasPrefix(infoField(procs[3], "keyspace", "db0"), "keys=")
	})

	// The first node leaves gracefully: its keys are handed over first.
	first.stop(t)
	procs = procs[1:]
	// The keys were handed over before the node exited, so they are
	// readable whether or not the survivors' transitions have ended (they
	// end when every previous owner has said it is done, or after a minute).
	allSee(t, procs, 3, false)
	readAll(t, procs, written, "after a graceful leave")
	if size, err := procs[0].rdb.DBSize(ctx).Result(); err != nil || size != int64(len(written)) {
		t.Fatalf("DBSIZE after the leave = %d, %v; want %d", size, err, len(written))
	}

	// One node is killed: the others drop it within the failure bound and
	// go on serving; its keys are lost, and the failure is counted.
	victim := procs[0]
	victim.cmd.Process.Signal(syscall.SIGKILL)
	procs = procs[1:]
	allSee(t, procs, 2, false)
	eventually(t, 10*time.Second, "the failure counted", func() bool {
		return infoField(procs[0], "cluster", "cluster_member_failures") == "1"
	})
	for i := range 50 {
		k := "after:" + strconv.Itoa(i)
		if err := procs[i%2].rdb.Set(ctx, k, "x", 0).Err(); err != nil {
			t.Fatalf("SET %s after the failure: %v", k, err)
		}
		if v, err := procs[(i+1)%2].rdb.Get(ctx, k).Result(); err != nil || v != "x" {
			t.Fatalf("GET %s after the failure = %q, %v", k, v, err)
		}
	}
	lost := 0
	for k := range written {
		if err := procs[0].rdb.Get(ctx, k).Err(); err == redis.Nil {
			lost++
		} else if err != nil {
			t.Fatalf("GET %s after the failure: %v", k, err)
		}
	}
	t.Logf("keys lost with the killed node: %d of %d", lost, len(written))
	if lost == 0 || lost == len(written) {
		t.Errorf("lost %d of %d keys with one of three nodes; want some, not all", lost, len(written))
	}
	for _, p := range procs {
		p.stop(t)
	}
}
