package integration

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// proc is one geeredis process of a test cluster.
type proc struct {
	gossip string // its gossip address, when it gossips
	cmd    *exec.Cmd
	logs   *lockedBuffer
	exited chan error
	rdb    *redis.Client
}

// startProc starts the binary with args and waits until it answers PING.
func startProc(t *testing.T, bin string, port int, args ...string) *proc {
	t.Helper()
	p := &proc{logs: &lockedBuffer{}, exited: make(chan error, 1)}
	p.cmd = exec.Command(bin, append([]string{"--bind", "127.0.0.1", "--port", strconv.Itoa(port)}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
	})
	p.rdb = redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port)})
	t.Cleanup(func() { p.rdb.Close() })
	waitPing(t, p.rdb, p.cmd.Process)
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		p.exited <- err // for the cleanup
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("still running 15 s after SIGTERM\n%s", p.logs.String())
	}
}

// TestClusterProcesses runs three real geeredis processes joined by
// --peers and a cluster secret, with an HTTP origin behind them, and drives
// them with go-redis.
func TestClusterProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts processes; skipped with -short")
	}
	bin := buildBinary(t)

	var originHits atomic.Int64
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.URL.Path, "/")
		if !strings.HasPrefix(key, "origin:") {
			http.NotFound(w, r)
			return
		}
		originHits.Add(1)
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprintf(w, "from-origin-%s", key)
	}))
	t.Cleanup(origin.Close)

	const n = 3
	ports, peerPorts := make([]int, n), make([]int, n)
	var urls []string
	for i := range n {
		ports[i], peerPorts[i] = freePort(t), freePort(t)
		urls = append(urls, "http://127.0.0.1:"+strconv.Itoa(peerPorts[i]))
	}
	procs := make([]*proc, n)
	for i := range n {
		procs[i] = startProc(t, bin, ports[i],
			"--peer-addr", "127.0.0.1:"+strconv.Itoa(peerPorts[i]),
			"--peers", strings.Join(urls, ","),
			"--cluster-secret", "test-secret",
			"--origin", origin.URL, "--origin-timeout", "2s")
	}
	ctx := context.Background()

	// Writes at one node are read at every node.
	for i := range 60 {
		key := "k" + strconv.Itoa(i)
		if err := procs[i%n].rdb.Set(ctx, key, "v"+strconv.Itoa(i), 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", key, err)
		}
	}
	for i := range 60 {
		key := "k" + strconv.Itoa(i)
		for j, p := range procs {
			if v, err := p.rdb.Get(ctx, key).Result(); err != nil || v != "v"+strconv.Itoa(i) {
				t.Fatalf("GET %s at node %d = %q, %v", key, j, v, err)
			}
		}
	}
	// The keys are spread: every node owns some of them, and DBSIZE counts
	// the whole cluster.
	for j, p := range procs {
		info, err := p.rdb.Info(ctx, "keyspace").Result()
		if err != nil || !strings.Contains(info, "db0:keys=") {
			t.Fatalf("node %d owns none of 60 keys: %q, %v", j, info, err)
		}
		if size, err := p.rdb.DBSize(ctx).Result(); err != nil || size != 60 {
			t.Fatalf("DBSIZE at node %d = %d, %v; want 60", j, size, err)
		}
	}
	// INCR is atomic at the owner whichever node a client enters at.
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				if err := procs[i%n].rdb.Incr(ctx, "counter").Err(); err != nil {
					t.Errorf("INCR: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if v, err := procs[2].rdb.Get(ctx, "counter").Int(); err != nil || v != 300 {
		t.Fatalf("counter = %d, %v; want 300", v, err)
	}
	// Misses load from the origin once, with its max-age as TTL.
	for _, p := range procs {
		if v, err := p.rdb.Get(ctx, "origin:page").Result(); err != nil || v != "from-origin-origin:page" {
			t.Fatalf("GET origin:page = %q, %v", v, err)
		}
	}
	if hits := originHits.Load(); hits != 1 {
		t.Fatalf("origin loads = %d, want 1", hits)
	}
	if ttl, err := procs[0].rdb.TTL(ctx, "origin:page").Result(); err != nil || ttl <= 50*time.Second || ttl > 60*time.Second {
		t.Fatalf("TTL origin:page = %v, %v; want about 60s", ttl, err)
	}
	if err := procs[1].rdb.Get(ctx, "not-in-origin").Err(); err != redis.Nil {
		t.Fatalf("GET of a key the origin does not have = %v, want nil", err)
	}
	// A peer request without the secret is refused.
	res, err := http.Get(urls[0] + "/_geeredis/geeredis/k1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unauthenticated peer GET = %d, want 401", res.StatusCode)
	}
	for _, p := range procs {
		p.stop(t)
	}
}
