package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// serveTest starts s on a loopback listener and returns its address.
func serveTest(tb testing.TB, s *Server) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			tb.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return ln.Addr().String()
}

// roundTrip sends raw request bytes and reads one reply.
func roundTrip(tb testing.TB, conn net.Conn, r *bufio.Reader, req string) string {
	tb.Helper()
	if _, err := conn.Write([]byte(req)); err != nil {
		tb.Fatal(err)
	}
	return readReply(tb, r)
}

// expectClosed reads until the server closes conn; anything else is an error.
func expectClosed(tb testing.TB, r *bufio.Reader) {
	tb.Helper()
	rest, err := io.ReadAll(r)
	if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		tb.Fatalf("waiting for close: %v (read %q)", err, rest)
	}
	if len(rest) > 0 {
		tb.Fatalf("unexpected bytes before close: %q", rest)
	}
}

func TestPanicInHandlerIsContained(t *testing.T) {
	s := newTestServer(t)
	if err := s.table.add(&command{name: "boom", arity: 1, run: func(c *client, args [][]byte) {
		c.w.Simple("partial reply that must not reach the client")
		panic("handler bug")
	}}); err != nil {
		t.Fatal(err)
	}
	addr := serveTest(t, s)
	conn := dialTest(t, addr)
	r := bufio.NewReader(conn)
	other := dialTest(t, addr)
	ro := bufio.NewReader(other)

	got := roundTrip(t, conn, r, "*1\r\n$4\r\nBOOM\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
	if got != "-ERR internal error while executing 'BOOM'\r\n" {
		t.Fatalf("reply to a panicking command = %q", got)
	}
	if got := readReply(t, r); got != "+OK\r\n" {
		t.Fatalf("the command after the panic = %q, want +OK", got)
	}
	if got := roundTrip(t, other, ro, "GET k\r\n"); got != "$1\r\nv\r\n" {
		t.Fatalf("another client's GET = %q", got)
	}
	if n := s.stats.panics.Load(); n != 1 {
		t.Errorf("panics counted = %d, want 1", n)
	}
}

func TestMaxClients(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.MaxClients = 2 })
	addr := serveTest(t, s)
	for range 2 {
		conn := dialTest(t, addr)
		if got := roundTrip(t, conn, bufio.NewReader(conn), "PING\r\n"); got != "+PONG\r\n" {
			t.Fatalf("PING = %q", got)
		}
	}
	third := dialTest(t, addr)
	r := bufio.NewReader(third)
	if got := readReply(t, r); got != "-ERR max number of clients reached\r\n" {
		t.Fatalf("third client got %q", got)
	}
	expectClosed(t, r)
	if n := s.stats.rejected.Load(); n != 1 {
		t.Errorf("rejected = %d, want 1", n)
	}
}

func TestIdleTimeoutClosesClient(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.Timeout = 200 * time.Millisecond })
	conn := dialTest(t, serveTest(t, s))
	r := bufio.NewReader(conn)
	if got := roundTrip(t, conn, r, "PING\r\n"); got != "+PONG\r\n" {
		t.Fatalf("PING = %q", got)
	}
	start := time.Now()
	expectClosed(t, r) // dialTest's 10 s deadline bounds the wait
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("idle client closed after %v, want about 200ms", waited)
	}
}

func TestQuitClosesAfterReply(t *testing.T) {
	s := newTestServer(t)
	conn := dialTest(t, serveTest(t, s))
	r := bufio.NewReader(conn)
	if got := roundTrip(t, conn, r, "QUIT\r\nPING\r\n"); got != "+OK\r\n" {
		t.Fatalf("QUIT = %q", got)
	}
	expectClosed(t, r)
}

// TestShutdownAnswersInFlight checks that requests a client has sent before
// Shutdown are answered, then the connection closes and Serve returns.
func TestShutdownAnswersInFlight(t *testing.T) {
	s := newTestServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	conn := dialTest(t, ln.Addr().String())
	r := bufio.NewReader(conn)
	if got := roundTrip(t, conn, r, "SET k v\r\n"); got != "+OK\r\n" {
		t.Fatalf("SET = %q", got)
	}
	var pipeline strings.Builder
	for range 100 {
		pipeline.WriteString("GET k\r\n")
	}
	if _, err := conn.Write([]byte(pipeline.String())); err != nil {
		t.Fatal(err)
	}
	if got := readReply(t, r); got != "$1\r\nv\r\n" { // the pipeline is being served
		t.Fatalf("first GET = %q", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for i := 1; i < 100; i++ {
		if got := readReply(t, r); got != "$1\r\nv\r\n" {
			t.Fatalf("GET %d after Shutdown = %q", i, got)
		}
	}
	expectClosed(t, r)
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve = %v, want ErrServerClosed", err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Fatal("the listener still accepts after Shutdown")
	}
}

// TestConfigSetReachesConnectedClients checks that a lower
// proto-max-bulk-len applies to a client connected before the change.
func TestConfigSetReachesConnectedClients(t *testing.T) {
	s := newTestServer(t)
	addr := serveTest(t, s)
	conn := dialTest(t, addr)
	r := bufio.NewReader(conn)
	if got := roundTrip(t, conn, r, "PING\r\n"); got != "+PONG\r\n" {
		t.Fatalf("PING = %q", got)
	}
	admin := dialTest(t, addr)
	if got := roundTrip(t, admin, bufio.NewReader(admin), "CONFIG SET proto-max-bulk-len 1mb\r\n"); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET = %q", got)
	}
	got := roundTrip(t, conn, r, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n")
	if got != "-ERR Protocol error: invalid bulk length\r\n" {
		t.Fatalf("a 2 MB bulk after CONFIG SET proto-max-bulk-len 1mb = %q", got)
	}
	expectClosed(t, r)
}

// TestTimeoutZeroStopsIdleCloses checks that CONFIG SET timeout 0 reaches a
// client whose read deadline was set under the old timeout.
func TestTimeoutZeroStopsIdleCloses(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.Timeout = 300 * time.Millisecond })
	conn := dialTest(t, serveTest(t, s))
	r := bufio.NewReader(conn)
	if got := roundTrip(t, conn, r, "CONFIG SET timeout 0\r\n"); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET timeout 0 = %q", got)
	}
	// The reply was written before the next read; that read's deadline
	// follows the new setting.
	if got := roundTrip(t, conn, r, "PING\r\n"); got != "+PONG\r\n" {
		t.Fatalf("PING = %q", got)
	}
	time.Sleep(700 * time.Millisecond) // idle beyond the old timeout, on purpose
	if got := roundTrip(t, conn, r, "PING\r\n"); got != "+PONG\r\n" {
		t.Fatalf("PING after idling past the old timeout = %q", got)
	}
}
