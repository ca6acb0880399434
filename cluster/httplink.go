package cluster

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// HeaderLink on a batch request says that its connection will carry
// nothing but batch requests, each with a Content-Length. The server may
// then serve the connection's requests itself instead of through net/http:
// the same HTTP/1.1 requests and responses, without net/http's per-request
// goroutines and allocations, which cost an owner about a third of its CPU
// per round trip. A request of any other shape on such a connection is
// answered 400 and the connection is closed. The peers' links send it.
const HeaderLink = "Geeredis-Link"

const (
	// linkIdle is how long a taken-over connection may wait for its next
	// request (the peer server's IdleTimeout).
	linkIdle = 5 * time.Minute
	// linkHeadTimeout bounds the reading of a request once its first line
	// came, when the pool's Timeout is shorter.
	linkHeadTimeout = 10 * time.Second
	maxLinkHeaders  = 64
)

// linkRequest is the head of one request on a taken-over connection.
type linkRequest struct {
	method, uri string
	time, auth  string // HeaderTime and HeaderAuth
	length      int64
	close       bool // Connection: close
}

var errLinkRequest = errors.New("request not served on a peer link")

// takeOver hijacks the connection of a batch request that carries
// HeaderLink, unless the pool is closed; the caller then serves it with
// serveLinks.
func (p *HTTPPool) takeOver(w http.ResponseWriter) (net.Conn, *bufio.Reader, bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, nil, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, nil, false
	}
	c, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, false
	}
	c = DirectConn(c)
	if brw.Reader.Buffered() == 0 {
		brw.Reader.Reset(c) // read the next requests directly
	}
	if p.links == nil {
		p.links = map[net.Conn]bool{}
	}
	p.links[c] = true // busy with its first request
	p.wg.Add(1)
	return c, brw.Reader, true
}

// closeIdleLinks closes the connections taken over that wait for a
// request; the others close once their request is answered, as an
// http.Server's Shutdown lets requests in flight finish (it does not know
// about these connections). p.mu is held; Close calls it.
func (p *HTTPPool) closeIdleLinks() {
	for c, busy := range p.links {
		if !busy {
			c.Close()
		}
	}
}

// closeLinks closes every connection taken over at once, requests in
// flight or not. p.mu is held.
func (p *HTTPPool) closeLinks() {
	for c := range p.links {
		c.Close()
	}
}

// linkBusy marks c as serving a request (or not); false when the pool is
// closed and c must close instead.
func (p *HTTPPool) linkBusy(c net.Conn, busy bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.links[c] = busy
	return true
}

// serveLinks serves the requests of connection c, taken over, starting with
// first, whose body is in st.body and whose proof ServeHTTP has checked. It
// returns when the connection fails, goes idle for linkIdle, sends a
// request that cannot be served here, or the pool closes.
func (p *HTTPPool) serveLinks(c net.Conn, br *bufio.Reader, first linkRequest, st *serveState) {
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		delete(p.links, c)
		p.mu.Unlock()
		c.Close()
	}()
	var head []byte
	req, checked := first, true
	for {
		var reply []byte
		var keep bool
		head, reply, keep = p.serveLink(req, checked, st, head[:0])
		keep = keep && !req.close
		if !keep {
			head = slices.Insert(head, len(head)-2, []byte("Connection: close\r\n")...)
		}
		// A peer that stops reading cannot hold the connection, or the
		// pool's Close, beyond this.
		c.SetWriteDeadline(time.Now().Add(p.timeout))
		bufs := net.Buffers{head, reply}
		if _, err := writeBuffers(c, bufs); err != nil || !keep || !p.linkBusy(c, false) {
			return
		}
		// As putServing: a large request or reply does not pin its
		// memory for the life of the connection.
		if cap(st.body) > 2*maxBatchBytes {
			st.body = nil
		}
		if cap(st.out) > 2*maxBatchBytes {
			st.out = nil
		}
		c.SetReadDeadline(time.Now().Add(linkIdle))
		if _, err := br.Peek(1); err != nil || !p.linkBusy(c, true) {
			return
		}
		c.SetReadDeadline(time.Now().Add(max(p.timeout, linkHeadTimeout)))
		p.stats.served.Add(1)
		var err error
		if req, err = readLinkRequest(br); err != nil {
			p.stats.refused.Add(1)
			c.Write(appendResponse(head[:0], http.StatusBadRequest, err.Error(), false))
			return
		}
		if req.length > p.maxBody {
			p.stats.refused.Add(1)
			c.Write(appendResponse(head[:0], http.StatusRequestEntityTooLarge, "body over "+strconv.FormatInt(p.maxBody, 10)+" bytes", false))
			return
		}
		if st.body, err = readLinkBody(br, st.body[:0], req.length); err != nil {
			return
		}
		checked = false
	}
}

// serveLink answers one request whose body is in st.body: the response
// head, appended to head and ending in the blank line, and its body; keep
// is false when the connection must close.
func (p *HTTPPool) serveLink(req linkRequest, checked bool, st *serveState, head []byte) ([]byte, []byte, bool) {
	raw, _, _ := strings.Cut(req.uri, "?")
	path, err := url.PathUnescape(raw)
	rest, ok := strings.CutPrefix(path, p.base)
	group, name, ok2 := strings.Cut(rest, "/")
	if err != nil || !ok || !ok2 || name != batchName || req.method != http.MethodPost {
		p.stats.refused.Add(1)
		return splitResponse(head, http.StatusBadRequest, errLinkRequest.Error(), false)
	}
	if p.secret != "" && !checked && !p.verify(req.method, req.uri, req.time, req.auth, st.body) {
		p.stats.refused.Add(1)
		return splitResponse(head, http.StatusUnauthorized, errUnauthorized.Error(), true)
	}
	e, ok := (*p.groups.Load())[group]
	if !ok {
		p.stats.refused.Add(1)
		return splitResponse(head, http.StatusNotFound, "no such group", true)
	}
	// The peer gives up after its timeout and drops the connection: work
	// for it ends then too, as net/http's request context would. The
	// pool's Close lets it finish, as an http.Server's Shutdown would.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(p.ctx), p.timeout)
	replies, err := p.runBatch(ctx, e, st)
	cancel()
	if err != nil {
		p.stats.refused.Add(1)
		return splitResponse(head, http.StatusBadRequest, err.Error(), true)
	}
	head = append(head, "HTTP/1.1 200 OK\r\nContent-Type: "+contentType+"\r\nContent-Length: "...)
	head = strconv.AppendInt(head, int64(len(replies)), 10)
	head = append(head, "\r\n\r\n"...)
	return head, replies, true
}

// splitResponse is appendResponse's response as serveLink returns it.
func splitResponse(head []byte, status int, text string, keep bool) ([]byte, []byte, bool) {
	out := appendResponse(head, status, text, true)
	i := bytes.Index(out, []byte("\r\n\r\n")) + 4
	return out[:i], out[i:], keep
}

// appendResponse appends a plain-text response of status; keep false says
// the connection closes after it.
func appendResponse(out []byte, status int, text string, keep bool) []byte {
	out = append(out, "HTTP/1.1 "...)
	out = strconv.AppendInt(out, int64(status), 10)
	out = append(out, ' ')
	out = append(out, http.StatusText(status)...)
	out = append(out, "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "...)
	out = strconv.AppendInt(out, int64(len(text)+1), 10)
	if !keep {
		out = append(out, "\r\nConnection: close"...)
	}
	out = append(out, "\r\n\r\n"...)
	out = append(out, text...)
	return append(out, '\n')
}

// readLinkRequest reads a request line and headers: a POST in HTTP/1.1 with
// a Content-Length and no other framing.
func readLinkRequest(br *bufio.Reader) (linkRequest, error) {
	var req linkRequest
	line, err := readLinkLine(br)
	if err != nil {
		return req, err
	}
	method, rest, ok1 := bytes.Cut(line, []byte(" "))
	uri, proto, ok2 := bytes.Cut(rest, []byte(" "))
	if !ok1 || !ok2 || len(method) == 0 || string(proto) != "HTTP/1.1" || len(uri) == 0 || uri[0] != '/' {
		return req, errLinkRequest
	}
	req.method, req.uri, req.length = string(method), string(uri), -1
	for n := 0; ; n++ {
		if n > maxLinkHeaders {
			return req, errLinkRequest
		}
		line, err := readLinkLine(br)
		if err != nil {
			return req, err
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return req, errLinkRequest
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "Content-Length"):
			v, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || v < 0 || req.length >= 0 {
				return req, errLinkRequest
			}
			req.length = v
		case asciiEqualFold(name, "Transfer-Encoding"), asciiEqualFold(name, "Expect"):
			return req, errLinkRequest
		case asciiEqualFold(name, "Connection"):
			req.close = asciiEqualFold(value, "close")
		case asciiEqualFold(name, HeaderTime):
			req.time = string(value)
		case asciiEqualFold(name, HeaderAuth):
			req.auth = string(value)
		}
	}
	if req.length < 0 {
		return req, errLinkRequest
	}
	return req, nil
}

// readLinkLine reads one line of a request head, without its CRLF; a line
// longer than the reader's buffer is refused.
func readLinkLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return nil, errLinkRequest
	}
	if err != nil {
		return nil, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

// readLinkBody reads n bytes of body into buf, growing it as the bytes
// arrive rather than trusting n for the whole allocation at once.
func readLinkBody(br *bufio.Reader, buf []byte, n int64) ([]byte, error) {
	if want := int(min(n, readAhead)); cap(buf) < want {
		buf = make([]byte, 0, want)
	}
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		end := min(int64(cap(buf)), n)
		m, err := io.ReadFull(br, buf[len(buf):end])
		buf = buf[:len(buf)+m]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}
