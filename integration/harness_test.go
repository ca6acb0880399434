package integration

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/geeredis/geeredis/server"
)

// replyTimeout bounds every wait for a reply, so a server that never
// answers fails the test instead of hanging it.
const replyTimeout = 5 * time.Second

// startNode starts an in-process geeredis node on a 127.0.0.1:0 listener
// and returns its address. It is shut down when the test ends.
func startNode(tb testing.TB, cfg server.Config) string {
	tb.Helper()
	srv, err := server.New(cfg)
	if err != nil {
		tb.Fatalf("server.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			tb.Errorf("Shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, server.ErrServerClosed) {
			tb.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return ln.Addr().String()
}

// startRedis starts a real redis-server on a free 127.0.0.1 port, waits
// until it answers PING, and stops it by PID when the test ends. Without
// redis-server on PATH the test fails under CI and is skipped elsewhere.
func startRedis(tb testing.TB, extra ...string) string {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("redis-server is not on PATH, and CI is set: the differential test must run in CI")
		}
		tb.Skip("redis-server is not on PATH: install redis-server (7.0) to run the differential test")
	}
	port := loopbackPort(tb)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no"}, extra...)
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start redis-server: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	tb.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if pingOnce(addr) == nil {
			return addr
		}
		select {
		case <-exited:
			tb.Fatalf("redis-server exited before answering PING:\n%s", out.String())
		case <-time.After(20 * time.Millisecond): // polling for startup, bounded by deadline
		}
		if time.Now().After(deadline) {
			tb.Fatalf("redis-server did not answer PING within 10s:\n%s", out.String())
		}
	}
}

// loopbackPort asks the kernel for a free port on 127.0.0.1 and releases it.
func loopbackPort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func pingOnce(addr string) error {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(time.Second))
	if _, err := nc.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(nc).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" && !strings.HasPrefix(line, "-NOAUTH") { // NOAUTH: up, with a password
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// rawConn is a client that writes requests as bytes and reads replies as
// the exact bytes the server sent.
type rawConn struct {
	tb   testing.TB
	addr string
	nc   net.Conn
	br   *bufio.Reader
}

func dialRaw(tb testing.TB, addr string) *rawConn {
	tb.Helper()
	nc, err := net.DialTimeout("tcp", addr, replyTimeout)
	if err != nil {
		tb.Fatalf("dial %s: %v", addr, err)
	}
	tb.Cleanup(func() { nc.Close() })
	return &rawConn{tb: tb, addr: addr, nc: nc, br: bufio.NewReader(nc)}
}

// send writes b as it is.
func (c *rawConn) send(b []byte) error {
	c.nc.SetWriteDeadline(time.Now().Add(replyTimeout))
	_, err := c.nc.Write(b)
	return err
}

// read reads exactly one reply.
func (c *rawConn) read() (reply, error) {
	c.nc.SetReadDeadline(time.Now().Add(replyTimeout))
	return readReply(c.br)
}

// do sends one command as a RESP array and returns its reply.
func (c *rawConn) do(args ...string) reply {
	c.tb.Helper()
	if err := c.send(encodeCommand(args)); err != nil {
		c.tb.Fatalf("%s: write %q: %v", c.addr, args, err)
	}
	r, err := c.read()
	if err != nil {
		c.tb.Fatalf("%s: reply to %q: %v", c.addr, args, err)
	}
	return r
}

// expect sends one command and fails the test unless the reply is want.
func (c *rawConn) expect(want string, args ...string) {
	c.tb.Helper()
	if r := c.do(args...); string(r.raw) != want {
		c.tb.Fatalf("%s: %q: got %s, want %q", c.addr, args, r, want)
	}
}

// closed reports whether the server has closed the connection: the next
// read ends in EOF (or a reset) rather than data or a timeout.
func (c *rawConn) closed() error {
	c.nc.SetReadDeadline(time.Now().Add(replyTimeout))
	b, err := c.br.ReadByte()
	switch {
	case err == nil:
		rest, _ := c.br.Peek(c.br.Buffered())
		return fmt.Errorf("connection still open: got %q", append([]byte{b}, rest...))
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		return nil
	default:
		return fmt.Errorf("connection not closed: %w", err)
	}
}

// encodeCommand encodes args as a RESP array of bulk strings.
func encodeCommand(args []string) []byte {
	b := make([]byte, 0, 16*len(args)+16)
	b = fmt.Appendf(b, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b
}

// reply is one RESP2 or RESP3 reply: its exact bytes and its parsed shape.
type reply struct {
	kind  byte   // the type byte: + - : $ * _ , # ( = % ~ >
	raw   []byte // every byte of the reply, nested replies included
	str   string // the text of simple, error, integer, bulk, double, big number and verbatim replies
	null  bool   // $-1, *-1 or _
	elems []reply
}

func (r reply) String() string { return strconv.Quote(string(r.raw)) }

// int returns the value of an integer reply; ok is false for any other reply.
func (r reply) int() (int64, bool) {
	if r.kind != ':' {
		return 0, false
	}
	n, err := strconv.ParseInt(r.str, 10, 64)
	return n, err == nil
}

// readReply reads one reply from br. Maps (%) are read as flat arrays of
// keys and values; attributes (|) are refused.
func readReply(br *bufio.Reader) (reply, error) {
	var raw []byte
	r, err := readReplyInto(br, &raw, 0)
	r.raw = raw
	return r, err
}

func readReplyInto(br *bufio.Reader, raw *[]byte, depth int) (reply, error) {
	if depth > 32 {
		return reply{}, errors.New("reply nested too deep")
	}
	start := len(*raw)
	line, err := br.ReadSlice('\n')
	*raw = append(*raw, line...)
	if err != nil {
		return reply{}, fmt.Errorf("read reply: %w (have %q)", err, *raw)
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return reply{}, fmt.Errorf("malformed reply line %q", line)
	}
	r := reply{kind: line[0], str: string(line[1 : len(line)-2])}
	switch r.kind {
	case '+', '-', ':', ',', '#', '(':
	case '_':
		r.null = true
	case '$', '=':
		n, err := strconv.Atoi(r.str)
		if err != nil {
			return r, fmt.Errorf("bad bulk length in %q", line)
		}
		if n < 0 {
			r.null, r.str = true, ""
			break
		}
		body := make([]byte, n+2)
		if _, err := io.ReadFull(br, body); err != nil {
			return r, fmt.Errorf("read bulk body: %w", err)
		}
		*raw = append(*raw, body...)
		if body[n] != '\r' || body[n+1] != '\n' {
			return r, fmt.Errorf("bulk of %d bytes not followed by CRLF: %q", n, body)
		}
		r.str = string(body[:n])
	case '*', '%', '~', '>':
		n, err := strconv.Atoi(r.str)
		if err != nil {
			return r, fmt.Errorf("bad aggregate length in %q", line)
		}
		if n < 0 {
			r.null = true
			break
		}
		if r.kind == '%' {
			n *= 2
		}
		r.elems = make([]reply, 0, n)
		for range n {
			e, err := readReplyInto(br, raw, depth+1)
			if err != nil {
				return r, err
			}
			r.elems = append(r.elems, e)
		}
	default:
		return r, fmt.Errorf("unknown reply type in %q", line)
	}
	r.raw = (*raw)[start:]
	return r, nil
}

// splitArgs splits a command line the way redis-cli does: on spaces,
// with "double quoted" arguments that may contain spaces and the escapes
// \" \\ \n \r \t and \xHH. "" is an empty argument.
func splitArgs(line string) ([]string, error) {
	var args []string
	i := 0
	for {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i == len(line) {
			return args, nil
		}
		var arg strings.Builder
		if line[i] != '"' {
			for i < len(line) && line[i] != ' ' {
				arg.WriteByte(line[i])
				i++
			}
			args = append(args, arg.String())
			continue
		}
		i++
		for {
			if i == len(line) {
				return nil, fmt.Errorf("unbalanced quotes in %q", line)
			}
			ch := line[i]
			i++
			if ch == '"' {
				break
			}
			if ch != '\\' {
				arg.WriteByte(ch)
				continue
			}
			if i == len(line) {
				return nil, fmt.Errorf("dangling backslash in %q", line)
			}
			esc := line[i]
			i++
			switch esc {
			case 'n':
				arg.WriteByte('\n')
			case 'r':
				arg.WriteByte('\r')
			case 't':
				arg.WriteByte('\t')
			case 'x':
				if i+2 > len(line) {
					return nil, fmt.Errorf("short \\x escape in %q", line)
				}
				v, err := strconv.ParseUint(line[i:i+2], 16, 8)
				if err != nil {
					return nil, fmt.Errorf("bad \\x escape in %q", line)
				}
				arg.WriteByte(byte(v))
				i += 2
			default:
				arg.WriteByte(esc)
			}
		}
		if i < len(line) && line[i] != ' ' {
			return nil, fmt.Errorf("closing quote must be followed by a space in %q", line)
		}
		args = append(args, arg.String())
	}
}
