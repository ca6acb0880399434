package cluster

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// In a script, closeConn makes the server drop the connection unanswered
// and hangConn makes it never answer.
const (
	closeConn = "(close)"
	hangConn  = "(hang)"
)

// scripted is an HTTP server that answers the n-th request, whatever the
// connection, with the n-th raw response of its script.
type scripted struct {
	url   *url.URL
	conns atomic.Int32
	paths chan string // request-URIs seen
}

func newScripted(tb testing.TB, script ...string) *scripted {
	tb.Helper()
	return startScripted(tb, false, script)
}

// newScriptedClosing is newScripted whose server closes every connection
// after one answer.
func newScriptedClosing(tb testing.TB, script ...string) *scripted {
	tb.Helper()
	return startScripted(tb, true, script)
}

func startScripted(tb testing.TB, closing bool, script []string) *scripted {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &scripted{url: &url.URL{Scheme: "http", Host: ln.Addr().String()}, paths: make(chan string, 100)}
	var mu sync.Mutex
	var wg sync.WaitGroup
	done := make(chan struct{})
	var open []net.Conn
	next := 0
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					s.paths <- req.RequestURI
					mu.Lock()
					reply := closeConn
					if next < len(script) {
						reply = script[next]
						next++
					}
					mu.Unlock()
					switch reply {
					case closeConn:
						return
					case hangConn:
						<-done
						return
					}
					if _, err := io.WriteString(c, reply); err != nil || closing {
						return
					}
				}
			})
		}
	})
	tb.Cleanup(func() {
		close(done)
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return s
}

func TestLinkResponses(t *testing.T) {
	tests := []struct {
		name    string
		script  []string
		status  []int
		bodies  []string
		conns   int32
		closing bool // the server closes every connection after one answer
	}{
		{"content-length, kept alive",
			[]string{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", "HTTP/1.1 401 Unauthorized\r\ncontent-length: 2\r\n\r\nno"},
			[]int{200, 401}, []string{"abc", "no"}, 1, false},
		{"chunked with extension and trailer",
			[]string{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=1\r\nde\r\n0\r\nT: v\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nf"},
			[]int{200, 200}, []string{"abcde", "f"}, 1, false},
		{"interim answer first",
			[]string{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
			[]int{200}, []string{"ok"}, 1, false},
		{"connection close",
			[]string{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"},
			[]int{200, 200}, []string{"a", "b"}, 2, false},
		{"HTTP/1.0 without length",
			[]string{"HTTP/1.0 200 OK\r\n\r\nuntil eof", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"},
			[]int{200, 200}, []string{"until eof", "b"}, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScripted(t, tt.script...)
			if tt.closing {
				srv = newScriptedClosing(t, tt.script...)
			}
			l := newLink(srv.url, time.Second, 1<<20)
			for i := range tt.status {
				status, body, err := l.roundTrip(t.Context(), "/p", nil, []byte("req"), nil)
				if err != nil || status != tt.status[i] || string(body) != tt.bodies[i] {
					t.Fatalf("round trip %d = %d %q %v, want %d %q", i, status, body, err, tt.status[i], tt.bodies[i])
				}
			}
			if got := srv.conns.Load(); got != tt.conns {
				t.Errorf("%d connections, want %d", got, tt.conns)
			}
		})
	}
}

func TestLinkRejectsBadResponses(t *testing.T) {
	tests := []struct {
		name  string
		reply string
	}{
		{"not http", "SSH-2.0-OpenSSH\r\n\r\n"},
		{"bad status", "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n"},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"},
		{"over the body limit", "HTTP/1.1 200 OK\r\nContent-Length: 999999\r\n\r\n"},
		{"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"},
		{"no answer", closeConn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptedClosing(t, tt.reply)
			l := newLink(srv.url, time.Second, 1000)
			if status, body, err := l.roundTrip(t.Context(), "/p", nil, nil, nil); err == nil {
				t.Fatalf("round trip = %d %q, want an error", status, body)
			}
			if l.c != nil {
				t.Error("the connection was kept after a bad response")
			}
		})
	}
}

func TestLinkRetriesStaleConnection(t *testing.T) {
	ok := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	for _, stale := range []bool{true, false} {
		srv := newScripted(t, ok, closeConn, ok)
		l := newLink(srv.url, time.Second, 1000)
		if !stale {
			l.stale = time.Hour
		} else {
			l.stale = 0
		}
		if _, _, err := l.roundTrip(t.Context(), "/p", nil, nil, nil); err != nil {
			t.Fatal(err)
		}
		_, body, err := l.roundTrip(t.Context(), "/p", nil, nil, nil)
		switch {
		case stale && (err != nil || string(body) != "ok" || srv.conns.Load() != 2):
			t.Errorf("idle connection closed by the server: %q %v on %d connections, want a retry", body, err, srv.conns.Load())
		case !stale && err == nil:
			t.Errorf("a connection in use failed and the request was sent again")
		}
	}
}

func TestLinkTimeoutAndInterrupt(t *testing.T) {
	srv := newScripted(t, hangConn, hangConn)
	l := newLink(srv.url, 200*time.Millisecond, 1000)
	l.stale = 0
	start := time.Now()
	_, _, err := l.roundTrip(t.Context(), "/p", nil, nil, nil)
	if !isTimeout(err) || time.Since(start) > time.Second {
		t.Fatalf("round trip to a silent server: %v after %v", err, time.Since(start))
	}
	if got := srv.conns.Load(); got != 1 {
		t.Errorf("a timed-out request was sent again: %d connections", got)
	}
	<-srv.paths

	l = newLink(srv.url, time.Hour, 1000)
	done := make(chan error, 1)
	go func() {
		_, _, err := l.roundTrip(t.Context(), "/p", nil, nil, nil)
		done <- err
	}()
	<-srv.paths // the request is at the server
	l.interrupt()
	if err := <-done; err == nil {
		t.Fatal("an interrupted round trip succeeded")
	}
	if _, _, err := l.roundTrip(t.Context(), "/p", nil, nil, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("round trip after interrupt: %v, want ErrClosed", err)
	}
}

func TestLinkRequest(t *testing.T) {
	srv := newScripted(t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	l := newLink(srv.url, time.Second, 1000)
	// The scripted server parses the request with net/http: it is valid
	// HTTP/1.1, and the path arrives as given.
	if _, _, err := l.roundTrip(t.Context(), "/_geeredis/g%2Fx/_batch", newSigner("s"), []byte("body"), nil); err != nil {
		t.Fatal(err)
	}
	if got := <-srv.paths; got != "/_geeredis/g%2Fx/_batch" {
		t.Errorf("request-URI %q", got)
	}
}
