package integration

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// buildBinary compiles cmd/geeredis once per test into a temporary folder.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "geeredis")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	out, err := exec.Command("go", "build", "-o", bin, "github.com/geeredis/geeredis/cmd/geeredis").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freePort asks the OS for a free loopback port.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitPing waits until a client answers PING, or fails the test.
func waitPing(t *testing.T, rdb *redis.Client, proc *os.Process) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node did not answer PING: %v", err)
		}
		if proc != nil && proc.Signal(syscall.Signal(0)) != nil {
			t.Fatalf("node exited before answering PING")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBinary builds the real binary, starts it with a flag and an
// environment variable, talks to it, and stops it with SIGTERM.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := buildBinary(t)

	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "geeredis ") {
		t.Fatalf("--version: %v %q", err, out)
	}
	out, err = exec.Command(bin, "--maxmemory", "lots").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "maxmemory") {
		t.Fatalf("--maxmemory lots: want an error naming the flag, got %v %q", err, out)
	}

	port := freePort(t)
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--maxmemory", "8mb", "--loglevel", "debug")
	cmd.Env = append(os.Environ(), "GEEREDIS_PORT="+strconv.Itoa(port), "GEEREDIS_REQUIREPASS=s3cret")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	})

	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), Password: "s3cret"})
	defer rdb.Close()
	waitPing(t, rdb, cmd.Process)

	if err := rdb.Set(ctx, "hello", "world", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := rdb.Get(ctx, "hello").Result(); err != nil || v != "world" {
		t.Fatalf("GET hello = %q, %v", v, err)
	}
	if v, err := rdb.ConfigGet(ctx, "maxmemory").Result(); err != nil || v["maxmemory"] != strconv.Itoa(8<<20) {
		t.Fatalf("CONFIG GET maxmemory = %v, %v", v, err)
	}
	noauth := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port)})
	defer noauth.Close()
	if err := noauth.Get(ctx, "hello").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Fatalf("GET without AUTH: want NOAUTH, got %v", err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("node still running 15 s after SIGTERM\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "shutting down") {
		t.Errorf("log does not mention the shutdown:\n%s", logs.String())
	}
}
