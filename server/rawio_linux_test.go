package server

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (net.Conn, net.Conn) {
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

func TestRawIOReadWrite(t *testing.T) {
	a, b := tcpPair(t)
	r := newRawIO(b)
	if r == nil {
		t.Fatal("newRawIO(TCP conn) = nil")
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
func TestRawIOWriteWaitsForRoom(t *testing.T) {
	a, b := tcpPair(t)
	r := newRawIO(b)
	big := make([]byte, 16<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	got := make(chan []byte, 1)
	go func() {
		time.Sleep(100 * time.Millisecond) // let the buffers fill
		var out bytes.Buffer
		a.SetReadDeadline(time.Now().Add(20 * time.Second))
		io.CopyN(&out, a, int64(len(big)))
		got <- out.Bytes()
	}()
	n, err := r.Write(big)
	if n != len(big) || err != nil {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(big))
	}
	if !bytes.Equal(<-got, big) {
		t.Fatal("the peer read other bytes than were written")
	}
}

func TestRawIODeadlineAndClose(t *testing.T) {
	a, b := tcpPair(t)
	r := newRawIO(b)
	buf := make([]byte, 16)
	b.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := r.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past the deadline: %v; want os.ErrDeadlineExceeded", err)
	}
	b.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() {
		_, err := r.Read(buf)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	b.Close() // CLIENT KILL, from another goroutine
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
func TestRawIOWriteToGonePeer(t *testing.T) {
	a, b := tcpPair(t)
	r := newRawIO(b)
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

func TestRawIONotASocket(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if r := newRawIO(a); r != nil {
		t.Fatal("newRawIO(net.Pipe) != nil")
	}
}
