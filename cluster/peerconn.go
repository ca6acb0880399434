package cluster

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
	"time"
)

const (
	// staleAfter is how long a connection may sit idle before a round trip
	// that fails on it without an answer is retried once on a new one: the
	// peer's server may have closed it meanwhile, before reading the
	// request. A connection in use is never retried on, so a request the
	// peer may have executed is never sent twice.
	staleAfter = time.Second
	linkBuffer = 64 << 10
)

var errBadResponse = errors.New("malformed HTTP response")

// link is a peer's keep-alive HTTP/1.1 connection, driven by the peer's
// sender alone: the request goes out in one write and its response is read
// in the same goroutine, with the round trip's deadline on the connection,
// and nothing allocated once warm. It is what net/http's Transport does
// for this one pattern (one request at a time, POST with a known length),
// minus its two goroutines per connection and its allocations.
type link struct {
	addr    string // host:port to dial
	host    string // Host header
	tls     *tls.Config
	timeout time.Duration
	maxBody int64
	stale   time.Duration // staleAfter; tests shorten it

	mu     sync.Mutex // guards c for interrupt
	c      net.Conn
	closed bool
	br     *bufio.Reader
	used   time.Time // end of the last round trip on c
	head   []byte
	// deadline ends the round trip in progress, dial and retry included:
	// one Timeout in all.
	deadline time.Time
}

// newLink returns a link to the server of base URL u.
func newLink(u *url.URL, timeout time.Duration, maxBody int64) *link {
	l := &link{host: u.Host, timeout: timeout, maxBody: maxBody, stale: staleAfter}
	port := u.Port()
	if u.Scheme == "https" {
		l.tls = &tls.Config{ServerName: u.Hostname()}
		if port == "" {
			port = "443"
		}
	} else if port == "" {
		port = "80"
	}
	l.addr = net.JoinHostPort(u.Hostname(), port)
	return l
}

// roundTrip POSTs body to path (the request-URI) and reads the answer's
// body into dst. sign, if not nil, authenticates the request. ctx ends the
// dial; interrupt ends a round trip in flight.
func (l *link) roundTrip(ctx context.Context, path string, sign *signer, body, dst []byte) (int, []byte, error) {
	stale := l.c != nil && time.Since(l.used) >= l.stale
	l.deadline = time.Now().Add(l.timeout)
	status, reply, answered, err := l.try(ctx, path, sign, body, dst)
	if err != nil && stale && !answered && !isTimeout(err) {
		status, reply, _, err = l.try(ctx, path, sign, body, dst)
	}
	return status, reply, err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// try makes one attempt; answered reports whether any byte of an answer
// came back.
func (l *link) try(ctx context.Context, path string, sign *signer, body, dst []byte) (status int, reply []byte, answered bool, err error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, false, err
	}
	if l.c == nil {
		if err := l.dial(ctx); err != nil {
			return 0, nil, false, err
		}
	}
	l.mu.Lock()
	closed := l.closed
	if !closed {
		l.c.SetDeadline(l.deadline) // after an interrupt's, not over it
	}
	l.mu.Unlock()
	if closed {
		l.drop()
		return 0, nil, false, ErrClosed
	}
	if err := l.write(path, sign, body); err != nil {
		l.drop()
		return 0, nil, false, err
	}
	status, reply, keep, answered, err := l.read(dst)
	if err != nil || !keep {
		l.drop()
	} else {
		l.used = time.Now()
	}
	return status, reply, answered, err
}

func (l *link) dial(ctx context.Context) error {
	d := net.Dialer{Deadline: l.deadline, KeepAlive: 30 * time.Second}
	c, err := d.DialContext(ctx, "tcp", l.addr)
	if err != nil {
		return err
	}
	c = DirectConn(c)
	if l.tls != nil {
		tc := tls.Client(c, l.tls)
		tc.SetDeadline(l.deadline)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return err
		}
		c = tc
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		c.Close()
		return ErrClosed
	}
	l.c = c
	if l.br == nil {
		l.br = bufio.NewReaderSize(c, linkBuffer)
	} else {
		l.br.Reset(c)
	}
	return nil
}

// drop closes the connection; the next round trip dials again.
func (l *link) drop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.c != nil {
		l.c.Close()
		l.c = nil
	}
}

// interrupt ends the round trip in flight, if any, and every later one.
func (l *link) interrupt() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.c != nil {
		l.c.SetDeadline(time.Unix(1, 0))
	}
}

// write sends the request head and body.
func (l *link) write(path string, sign *signer, body []byte) error {
	h := append(l.head[:0], "POST "...)
	h = append(h, path...)
	h = append(h, " HTTP/1.1\r\nHost: "...)
	h = append(h, l.host...)
	h = append(h, "\r\nUser-Agent: geeredis\r\n"+HeaderLink+": 1\r\nContent-Type: "+contentType+"\r\nContent-Length: "...)
	h = strconv.AppendInt(h, int64(len(body)), 10)
	if sign != nil {
		unix := time.Now().Unix()
		h = append(h, "\r\n"+HeaderTime+": "...)
		h = strconv.AppendInt(h, unix, 10)
		h = append(h, "\r\n"+HeaderAuth+": "...)
		h = sign.sum(h, "POST", path, unix, body)
	}
	h = append(h, "\r\n\r\n"...)
	var err error
	if len(body) <= linkBuffer {
		h = append(h, body...)
		_, err = l.c.Write(h)
	} else {
		bufs := net.Buffers{h, body}
		_, err = writeBuffers(l.c, bufs)
	}
	if cap(h) <= 2*linkBuffer {
		l.head = h[:0]
	}
	return err
}

// read reads a response: its status and body (into dst), and whether the
// connection can carry another request.
func (l *link) read(dst []byte) (status int, body []byte, keep, answered bool, err error) {
	for {
		line, err := l.br.ReadSlice('\n')
		if err != nil {
			return 0, nil, false, len(line) > 0, err
		}
		answered = true
		if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
			return 0, nil, false, true, errBadResponse
		}
		status, err = strconv.Atoi(string(line[9:12]))
		if err != nil {
			return 0, nil, false, true, errBadResponse
		}
		keep = line[7] == '1'
		length, chunked := int64(-1), false
		for {
			if line, err = l.br.ReadSlice('\n'); err != nil {
				return 0, nil, false, true, err
			}
			line = bytes.TrimRight(line, "\r\n")
			if len(line) == 0 {
				break
			}
			name, value, _ := bytes.Cut(line, []byte(":"))
			value = bytes.TrimSpace(value)
			switch {
			case asciiEqualFold(name, "Content-Length"):
				if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
					return 0, nil, false, true, errBadResponse
				}
			case asciiEqualFold(name, "Transfer-Encoding"):
				chunked = !asciiEqualFold(value, "identity")
			case asciiEqualFold(name, "Connection"):
				keep = keep && !asciiEqualFold(value, "close")
			}
		}
		if status >= 100 && status < 200 {
			continue // an interim answer: the real one follows
		}
		switch {
		case chunked:
			body, err = l.readChunked(dst)
		case length >= 0:
			body, err = l.readN(dst, length)
		default:
			keep = false
			body, err = l.readN(dst, -1)
		}
		return status, body, keep && err == nil, true, err
	}
}

// readN reads n bytes of body into dst, or up to EOF when n < 0.
func (l *link) readN(dst []byte, n int64) ([]byte, error) {
	if n > l.maxBody {
		return nil, fmt.Errorf("reply of %d bytes", n)
	}
	if n < 0 {
		w := bytes.NewBuffer(dst)
		_, err := w.ReadFrom(io.LimitReader(l.br, l.maxBody))
		return w.Bytes(), err
	}
	if int64(cap(dst)) < n {
		dst = make([]byte, 0, n)
	}
	dst = dst[:n]
	_, err := io.ReadFull(l.br, dst)
	return dst, err
}

// readChunked reads a chunked body into dst.
func (l *link) readChunked(dst []byte) ([]byte, error) {
	for {
		line, err := l.br.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		line, _, _ = bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || n < 0 || int64(len(dst))+n > l.maxBody {
			return nil, errBadResponse
		}
		if n == 0 {
			for { // trailers, up to the empty line
				line, err := l.br.ReadSlice('\n')
				if err != nil {
					return nil, err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return dst, nil
				}
			}
		}
		start := len(dst)
		dst = append(dst, make([]byte, n)...)
		if _, err := io.ReadFull(l.br, dst[start:]); err != nil {
			return nil, err
		}
		if line, err := l.br.ReadSlice('\n'); err != nil || len(bytes.TrimRight(line, "\r\n")) != 0 {
			return nil, errBadResponse
		}
	}
}

// asciiEqualFold reports whether b equals s ignoring ASCII case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i]|0x20, s[i]|0x20
		if x != y || (x < 'a' || x > 'z') && b[i] != s[i] {
			return false
		}
	}
	return true
}
