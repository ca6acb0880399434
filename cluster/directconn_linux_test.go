//go:build linux && !race

package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b := <-accepted
	if b == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// collect reads n bytes from c, after a pause, and sends them (fewer on
// an error or after 30 s).
func collect(c net.Conn, n int, pause time.Duration) <-chan []byte {
	got := make(chan []byte, 1)
	go func() {
		time.Sleep(pause)
		var out bytes.Buffer
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		io.CopyN(&out, c, int64(n))
		got <- out.Bytes()
	}()
	return got
}

func TestDirectConnReadWrite(t *testing.T) {
	a, b := tcpPair(t)
	r := DirectConn(b)
	if _, ok := r.(*direct); !ok {
		t.Fatalf("DirectConn(TCP conn) is a %T", r)
	}
	go a.Write([]byte("hello"))
	buf := make([]byte, 16)
	n, err := r.Read(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	if n, err := r.Write([]byte("+OK\r\n")); n != 5 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	a.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := io.ReadFull(a, buf[:5]); err != nil || string(buf[:n]) != "+OK\r\n" {
		t.Fatalf("peer read %q, %v", buf[:n], err)
	}
	a.Close()
	if n, err := r.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("Read after the peer closed = %d, %v; want io.EOF", n, err)
	}
}

// A reply larger than the socket's buffers is written whole, in order,
// to a reader that takes its time: the write waits in the poller.
func TestDirectConnWriteWaitsForRoom(t *testing.T) {
	a, b := tcpPair(t)
	r := DirectConn(b)
	big := make([]byte, 16<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	got := collect(a, len(big), 100*time.Millisecond) // let the buffers fill
	n, err := r.Write(big)
	if n != len(big) || err != nil {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(big))
	}
	if !bytes.Equal(<-got, big) {
		t.Fatal("the peer read other bytes than were written")
	}
}

func TestDirectConnDeadlineAndClose(t *testing.T) {
	a, b := tcpPair(t)
	r := DirectConn(b)
	buf := make([]byte, 16)
	r.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := r.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past the deadline: %v; want os.ErrDeadlineExceeded", err)
	}
	r.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() {
		_, err := r.Read(buf)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	r.Close() // CLIENT KILL, from another goroutine
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Read on a closed conn: %v; want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read did not return when the conn was closed")
	}
	if _, err := r.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write on a closed conn: %v; want net.ErrClosed", err)
	}
	_ = a
}

// A write to a peer that has gone fails with an error; it neither hangs
// nor kills the process with SIGPIPE.
func TestDirectConnWriteToGonePeer(t *testing.T) {
	a, b := tcpPair(t)
	r := DirectConn(b)
	a.(*net.TCPConn).SetLinger(0) // reset, not FIN
	a.Close()
	time.Sleep(20 * time.Millisecond)
	var err error
	for range 100 {
		if _, err = r.Write(make([]byte, 64<<10)); err != nil {
			break
		}
	}
	if err == nil {
		t.Fatal("writes to a reset connection kept succeeding")
	}
}

func TestDirectConnNotASocket(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if r := DirectConn(a); r != a {
		t.Fatalf("DirectConn(net.Pipe) = %T, want the pipe itself", r)
	}
}

// writeBuffers gathers its buffers, empty ones among them, and writes
// them whole and in order, also when they exceed the socket's buffers.
func TestDirectConnWriteBuffers(t *testing.T) {
	a, b := tcpPair(t)
	d := DirectConn(b)
	var want []byte
	var bufs net.Buffers
	for i := range 2000 { // more than one writev takes (IOV_MAX 1024)
		p := bytes.Repeat([]byte{byte(i)}, i%37*100)
		bufs = append(bufs, p)
		want = append(want, p...)
	}
	got := collect(a, len(want), 0)
	n, err := writeBuffers(d, bufs)
	if n != int64(len(want)) || err != nil {
		t.Fatalf("writeBuffers = %d, %v; want %d, nil", n, err, len(want))
	}
	if !bytes.Equal(<-got, want) {
		t.Fatal("the peer read other bytes than were written")
	}
}

// A read and a write may run at once on one connection, as on a net.Conn.
func TestDirectConnReadWhileWriting(t *testing.T) {
	a, b := tcpPair(t)
	d := DirectConn(b)
	const n = 4 << 20
	done := make(chan error, 2)
	go func() { // echo whatever comes
		_, err := io.CopyN(a, a, n)
		done <- err
	}()
	go func() {
		_, err := d.Write(bytes.Repeat([]byte("x"), n))
		done <- err
	}()
	d.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(io.LimitReader(d, n))
	if err != nil || len(got) != n || bytes.Count(got, []byte("x")) != n {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkDirectConnRoundTrip measures the cost of the call path against
// net.Conn's (both ends in one process, so the monitor thread that
// DirectConn leaves asleep is woken by the echo side anyway; the gain shows
// between processes, with compare.sh).
func BenchmarkDirectConnRoundTrip(b *testing.B) {
	for _, direct := range []bool{false, true} {
		b.Run(map[bool]string{false: "net.Conn", true: "DirectConn"}[direct], func(b *testing.B) {
			x, y := tcpPair(b)
			if direct {
				y = DirectConn(y)
			}
			go io.Copy(x, x) // echo
			msg := []byte("*1\r\n$4\r\nPING\r\n")
			buf := make([]byte, 64)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := y.Write(msg); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(y, buf[:len(msg)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Both ends of a peer link read and write directly.
func TestDirectConnOnPeerLinks(t *testing.T) {
	nodes := newCluster(t, 2, clusterOpts{})
	peer := peerOf(t, nodes[0], nodes[1])
	for range 2 { // the second round trip runs on the connection taken over
		if _, err := peer.Exec(DefaultGroup, 2, bs("PING")).Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	peer.link.mu.Lock()
	client := fmt.Sprintf("%T", peer.link.c)
	peer.link.mu.Unlock()
	if client != "*cluster.direct" {
		t.Errorf("the link's own end is a %s", client)
	}
	p := nodes[1].pool
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.links) != 1 {
		t.Fatalf("%d connections taken over, want 1", len(p.links))
	}
	for c := range p.links {
		if _, ok := c.(*direct); !ok {
			t.Errorf("the connection taken over is a %T", c)
		}
	}
}

// Errors read as net.Conn's do: one *net.OpError, a timeout a net.Error
// that says so, an errno inside an *os.SyscallError.
func TestDirectConnErrors(t *testing.T) {
	a, b := tcpPair(t)
	d := DirectConn(b)
	d.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	_, err := d.Read(make([]byte, 8))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || strings.Count(err.Error(), "tcp") != 1 {
		t.Errorf("deadline: %v; want one net.Error with Timeout", err)
	}
	a.(*net.TCPConn).SetLinger(0)
	a.Close()
	time.Sleep(20 * time.Millisecond)
	d.SetReadDeadline(time.Time{})
	_, err = d.Read(make([]byte, 8))
	var se *os.SyscallError
	if !errors.Is(err, syscall.ECONNRESET) || !errors.As(err, &se) {
		t.Errorf("reset: %v; want ECONNRESET in an *os.SyscallError", err)
	}
}

// A write cut by its deadline says how much it sent.
func TestDirectConnWriteDeadline(t *testing.T) {
	_, b := tcpPair(t) // nobody reads the other end
	d := DirectConn(b)
	d.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	big := make([]byte, 64<<20)
	n, err := d.Write(big)
	if !errors.Is(err, os.ErrDeadlineExceeded) || n <= 0 || n >= len(big) {
		t.Fatalf("Write = %d, %v; want part of %d and a deadline error", n, err, len(big))
	}
}

// Many small round trips between two direct ends: a wakeup the poller
// missed would hang one of them until the deadline.
func TestDirectConnPingPong(t *testing.T) {
	a, b := tcpPair(t)
	x, y := DirectConn(a), DirectConn(b)
	x.SetDeadline(time.Now().Add(30 * time.Second))
	y.SetDeadline(time.Now().Add(30 * time.Second))
	const rounds = 20000
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 4)
		for range rounds {
			if _, err := io.ReadFull(y, buf); err != nil {
				done <- err
				return
			}
			if _, err := y.Write(buf); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	buf := make([]byte, 4)
	for i := range rounds {
		msg := []byte{byte(i), byte(i >> 8), 1, 2}
		if _, err := x.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(x, buf); err != nil || !bytes.Equal(buf, msg) {
			t.Fatalf("round %d: %q, %v", i, buf, err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// With small socket buffers a write is taken in many parts, some ending
// in the middle of a buffer; the reader still gets every byte in order.
func TestDirectConnSmallSocketBuffers(t *testing.T) {
	a, b := tcpPair(t)
	a.(*net.TCPConn).SetReadBuffer(4096)
	b.(*net.TCPConn).SetWriteBuffer(4096)
	d := DirectConn(b)
	var bufs net.Buffers
	var want []byte
	for i := range 40 { // about 180 KB: tiny TCP buffers are slow
		p := bytes.Repeat([]byte{byte(i)}, (i*7919)%9000)
		bufs = append(bufs, p)
		want = append(want, p...)
	}
	got := collect(a, len(want), 0)
	if n, err := writeBuffers(d, bufs); n != int64(len(want)) || err != nil {
		t.Fatalf("writeBuffers = %d, %v; want %d", n, err, len(want))
	}
	if !bytes.Equal(<-got, want) {
		t.Fatal("the peer read other bytes than were written")
	}
}
