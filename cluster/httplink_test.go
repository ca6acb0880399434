package cluster

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// linkConn is a raw connection to a node's peer server, speaking HTTP/1.1
// by hand so that the test controls every byte of the requests.
type linkConn struct {
	t    *testing.T
	c    net.Conn
	br   *bufio.Reader
	sign *signer
}

func dialLink(t *testing.T, nd *testNode, secret string) *linkConn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(nd.url(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	l := &linkConn{t: t, c: c, br: bufio.NewReader(c)}
	if secret != "" {
		l.sign = newSigner(secret)
	}
	return l
}

// batch sends a batch request of one SET with the extra header lines given
// (each ending in \r\n), signed when the link has a secret, unless badProof.
func (l *linkConn) batch(extra string, badProof bool) {
	l.t.Helper()
	uri := DefaultBasePath + DefaultGroup + "/" + batchName
	body := appendExecFrame(nil, 2, bs("SET", "k", "v"))
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\n%s: 1\r\nContent-Length: %d\r\n%s", uri, HeaderLink, len(body), extra)
	if l.sign != nil {
		unix := time.Now().Unix()
		proof := l.sign.sum(nil, "POST", uri, unix, body)
		if badProof {
			proof[0] ^= 1
		}
		head += fmt.Sprintf("%s: %d\r\n%s: %s\r\n", HeaderTime, unix, HeaderAuth, proof)
	}
	l.send(head + "\r\n" + string(body))
}

func (l *linkConn) send(s string) {
	l.t.Helper()
	if _, err := io.WriteString(l.c, s); err != nil {
		l.t.Fatal(err)
	}
}

// response reads one response with net/http's own parser, which checks
// that the hand-written responses are well-formed HTTP.
func (l *linkConn) response() (*http.Response, []byte) {
	l.t.Helper()
	res, err := http.ReadResponse(l.br, nil)
	if err != nil {
		l.t.Fatalf("reading a response: %v", err)
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		l.t.Fatalf("reading a response body: %v", err)
	}
	return res, body
}

// closed reports whether the server closed the connection: end of stream,
// or a reset when it closed with request bytes unread.
func (l *linkConn) closed() bool {
	l.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := l.br.ReadByte()
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

func linkCount(p *HTTPPool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

// checkOK expects a 200 whose one reply is the fake executor's counter n.
func checkOK(t *testing.T, res *http.Response, body []byte, n int) {
	t.Helper()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d %q, want 200", res.StatusCode, body)
	}
	st, data, _, err := parseReply(body)
	if err != nil || st != statusOK || string(data) != fmt.Sprintf(":%d\r\n", n) {
		t.Fatalf("reply %d %q %v, want :%d", st, data, err, n)
	}
}

func TestLinkServesItsConnection(t *testing.T) {
	nodes := newCluster(t, 1, clusterOpts{})
	nd := nodes[0]
	l := dialLink(t, nd, "")
	for i := range 3 {
		l.batch("", false)
		res, body := l.response()
		checkOK(t, res, body, i)
	}
	if n := linkCount(nd.pool); n != 1 {
		t.Fatalf("%d connections taken over, want 1", n)
	}
	if got := nd.exec.commands(); len(got) != 3 || got[2] != "SET k v" {
		t.Fatalf("executed %q", got)
	}
	// A request carrying its own close is answered, then the connection ends.
	l.batch("Connection: close\r\n", false)
	res, body := l.response()
	checkOK(t, res, body, 3)
	if !res.Close || !l.closed() {
		t.Fatalf("after a request with Connection: close: response says close %v, want true, and the connection must end", res.Close)
	}
	if st := nd.pool.Stats(); st.Served != 4 || st.Refused != 0 {
		t.Fatalf("stats %+v, want 4 served", st)
	}
}

// ctxExec blocks until its context ends and reports what it saw.
type ctxExec struct{ seen chan error }

func (x ctxExec) Execute(ctx context.Context, proto int, args [][]byte, dst []byte) []byte {
	<-ctx.Done()
	x.seen <- ctx.Err()
	return append(dst, "+late\r\n"...)
}

func TestLinkWorkEndsWithThePeersTimeout(t *testing.T) {
	x := ctxExec{seen: make(chan error, 1)}
	nodes := newCluster(t, 1, clusterOpts{exec: x, timeout: 200 * time.Millisecond})
	l := dialLink(t, nodes[0], "")
	start := time.Now()
	l.batch("", false)
	res, _ := l.response()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if err := <-x.seen; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("executor's context ended with %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("took %v", took)
	}
}

func TestLinkRefusesOtherRequests(t *testing.T) {
	cases := map[string]string{
		"GET":             "GET " + DefaultBasePath + DefaultGroup + "/k HTTP/1.1\r\nHost: x\r\n\r\n",
		"chunked":         "POST " + DefaultBasePath + DefaultGroup + "/_batch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"no length":       "POST " + DefaultBasePath + DefaultGroup + "/_batch HTTP/1.1\r\nHost: x\r\n\r\n",
		"two lengths":     "POST " + DefaultBasePath + DefaultGroup + "/_batch HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.0":        "POST " + DefaultBasePath + DefaultGroup + "/_batch HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
		"other path":      "POST /elsewhere HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
		"garbage":         "\x00\x01\x02 nonsense\r\n\r\n",
		"long header":     "POST " + DefaultBasePath + DefaultGroup + "/_batch HTTP/1.1\r\nX: " + strings.Repeat("a", 70000) + "\r\n\r\n",
		"header no colon": "POST " + DefaultBasePath + DefaultGroup + "/_batch HTTP/1.1\r\nContent-Length 0\r\n\r\n",
	}
	nodes := newCluster(t, 1, clusterOpts{})
	for name, req := range cases {
		t.Run(name, func(t *testing.T) {
			l := dialLink(t, nodes[0], "")
			l.batch("", false)
			res, body := l.response()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("first request: %d %q", res.StatusCode, body)
			}
			l.send(req)
			res, body = l.response()
			if res.StatusCode != http.StatusBadRequest || !res.Close {
				t.Fatalf("got %d (close %v) %q, want 400 and close", res.StatusCode, res.Close, body)
			}
			if !l.closed() {
				t.Fatal("connection still open")
			}
		})
	}
	// Nothing of those requests ran: only the first requests' SETs.
	if n := len(nodes[0].exec.commands()); n != len(cases) {
		t.Fatalf("%d commands executed, want %d", n, len(cases))
	}
	if st := nodes[0].pool.Stats(); st.Served != uint64(2*len(cases)) || st.Refused != uint64(len(cases)) {
		t.Fatalf("stats %+v, want %d served and %d refused", st, 2*len(cases), len(cases))
	}
}

func TestLinkBodyLimit(t *testing.T) {
	nodes := newCluster(t, 1, clusterOpts{})
	nodes[0].pool.maxBody = 1000
	l := dialLink(t, nodes[0], "")
	l.batch("", false)
	l.response()
	// A declared length over the limit is refused before any body is read
	// or allocated.
	l.send(fmt.Sprintf("POST %s%s/_batch HTTP/1.1\r\nContent-Length: %d\r\n\r\n", DefaultBasePath, DefaultGroup, 1<<40))
	res, _ := l.response()
	if res.StatusCode != http.StatusRequestEntityTooLarge || !l.closed() {
		t.Fatalf("got %d, want 413 and close", res.StatusCode)
	}
}

func TestLinkAuthenticatesEveryRequest(t *testing.T) {
	nodes := newCluster(t, 1, clusterOpts{secret: []string{"s3cret"}})
	nd := nodes[0]
	// The first request is checked by ServeHTTP: a bad proof is refused
	// and the connection is not taken over.
	bad := dialLink(t, nd, "s3cret")
	bad.batch("", true)
	if res, _ := bad.response(); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad first proof: %d, want 401", res.StatusCode)
	}
	if n := linkCount(nd.pool); n != 0 {
		t.Fatalf("%d connections taken over after a refused request", n)
	}
	l := dialLink(t, nd, "s3cret")
	l.batch("", false)
	res, body := l.response()
	checkOK(t, res, body, 0)
	// Later requests on the taken-over connection are checked too; a
	// refused one leaves the connection usable.
	l.batch("", true)
	if res, _ := l.response(); res.StatusCode != http.StatusUnauthorized || res.Close {
		t.Fatalf("bad later proof: %d (close %v), want 401 and keep-alive", res.StatusCode, res.Close)
	}
	l.sign = nil // no proof at all
	l.batch("", false)
	if res, _ := l.response(); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("missing proof: %d, want 401", res.StatusCode)
	}
	l.sign = newSigner("s3cret")
	l.batch("", false)
	res, body = l.response()
	checkOK(t, res, body, 1)
}

func TestLinkClosedWithPool(t *testing.T) {
	nodes := newCluster(t, 1, clusterOpts{})
	l := dialLink(t, nodes[0], "")
	l.batch("", false)
	l.response()
	done := make(chan struct{})
	go func() {
		nodes[0].pool.Close()
		close(done)
	}()
	if !l.closed() {
		t.Fatal("taken-over connection open after the pool closed")
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	// A new link request on a closed pool is served by net/http, not taken over.
	l2 := dialLink(t, nodes[0], "")
	l2.batch("", false)
	l2.response()
	if n := linkCount(nodes[0].pool); n != 0 {
		t.Fatalf("%d connections taken over by a closed pool", n)
	}
}

func FuzzLinkRequest(f *testing.F) {
	f.Add([]byte("POST /_geeredis/g/_batch HTTP/1.1\r\nContent-Length: 3\r\nGeeredis-Time: 1\r\n\r\nabc"))
	f.Add([]byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"))
	f.Add([]byte("GET\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(data), 64)
		req, err := readLinkRequest(br)
		if err != nil {
			return
		}
		if req.length < 0 || req.method == "" || !strings.HasPrefix(req.uri, "/") {
			t.Fatalf("accepted %+v", req)
		}
		body, err := readLinkBody(br, nil, req.length)
		if err == nil && int64(len(body)) != req.length {
			t.Fatalf("body of %d bytes, want %d", len(body), req.length)
		}
		if int64(cap(body)) > int64(len(data))+readAhead {
			t.Fatalf("body buffer of %d bytes for %d bytes of input", cap(body), len(data))
		}
	})
}

// gateExec answers +OK once its gate opens.
type gateExec struct{ started, gate chan struct{} }

func (x gateExec) Execute(ctx context.Context, proto int, args [][]byte, dst []byte) []byte {
	x.started <- struct{}{}
	<-x.gate
	return append(dst, "+OK\r\n"...)
}

// The pool's Close lets a request in flight on a link finish, as an
// http.Server's Shutdown does, then closes the connection.
func TestLinkCloseLetsRequestFinish(t *testing.T) {
	x := gateExec{started: make(chan struct{}, 1), gate: make(chan struct{})}
	nodes := newCluster(t, 1, clusterOpts{exec: x})
	l := dialLink(t, nodes[0], "")
	l.batch("", false)
	<-x.started
	closed := make(chan struct{})
	go func() {
		nodes[0].pool.Close()
		close(closed)
	}()
	time.Sleep(50 * time.Millisecond)
	select {
	case <-closed:
		t.Fatal("Close returned with a request in flight")
	default:
	}
	close(x.gate)
	res, body := l.response()
	if st, data, _, err := parseReply(body); res.StatusCode != http.StatusOK || err != nil || st != statusOK || string(data) != "+OK\r\n" {
		t.Fatalf("request in flight at Close: %d %q", res.StatusCode, body)
	}
	if !l.closed() {
		t.Fatal("connection open after Close")
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
}

// bigExec answers a 16 MB bulk string.
type bigExec struct{ started chan struct{} }

func (x bigExec) Execute(ctx context.Context, proto int, args [][]byte, dst []byte) []byte {
	select {
	case x.started <- struct{}{}:
	default:
	}
	dst = append(dst, "$16777216\r\n"...)
	dst = append(dst, make([]byte, 16<<20)...)
	return append(dst, "\r\n"...)
}

// A peer that stops reading its reply holds neither the connection nor the
// pool's Close beyond the pool's timeout.
func TestLinkReaderThatStopsReading(t *testing.T) {
	x := bigExec{started: make(chan struct{}, 1)}
	nodes := newCluster(t, 1, clusterOpts{exec: x, timeout: 500 * time.Millisecond})
	l := dialLink(t, nodes[0], "")
	l.batch("", false)
	<-x.started
	time.Sleep(100 * time.Millisecond) // the reply is being written; nobody reads it
	start := time.Now()
	nodes[0].pool.Close()
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("Close took %v with a reply that nobody reads", took)
	}
}
