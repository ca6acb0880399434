package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/geeredis/geeredis/cluster"
	"github.com/geeredis/geeredis/resp"
)

// Output buffers above this size are flushed before the next command, and
// replaced by a small one once written, so one large reply does not pin
// memory for the life of the connection.
const (
	flushAt      = 64 << 10
	keepOutputAt = 1 << 20
)

// client is one connection and the state Redis keeps for it.
type client struct {
	srv     *Server
	nc      net.Conn
	id      int64
	addr    string
	laddr   string
	created time.Time
	rd      *resp.Reader
	w       resp.Writer

	authed    bool
	proto     int
	deadline  bool  // a read deadline is set (--timeout)
	limitsGen int64 // the settings generation c.rd's limits come from
	quitting  bool  // QUIT or a protocol error: close after the reply

	// The cluster (route.go).
	local    bool            // runs a peer's command (Execute): never routed again
	ctx      context.Context // of cluster calls; cancelled when the client goes
	cancel   context.CancelFunc
	fw       []forward       // commands for their owners, in output order
	fwArgs   keyArena        // their arguments
	fwArgv   [][]byte        // one's arguments, rebuilt
	fwIdx    []int           // sendForwards: the forwards of one owner
	fwCalls  []*cluster.Call // sendForwards: their calls
	fwWrites int             // how many of them are writes
	spare    []byte          // the output buffer settle splices into
	scratch  []byte          // hot cache reads
	mark     int             // where the running command's reply begins in the output

	// Read by CLIENT LIST / INFO from other goroutines.
	cmds     atomic.Int64
	netIn    atomic.Int64
	netOut   atomic.Int64
	lastUsed atomic.Int64 // unix ms of the last command
	lastCmd  atomic.Pointer[command]
	// What CLIENT LIST shows of the fields the client's goroutine owns.
	shownProto atomic.Int32
	shownQbuf  atomic.Int64 // unparsed input after the last read
	nowMs      int64        // the time of the command running, unix ms

	mu      sync.Mutex // guards the fields below
	name    string
	libName string
	libVer  string
	noEvict bool
	noTouch bool
}

func newClient(s *Server, nc net.Conn) *client {
	nc = cluster.DirectConn(nc) // reads and writes that do not wake the runtime's monitor
	c := &client{
		srv:     s,
		nc:      nc,
		id:      s.nextID.Add(1),
		addr:    nc.RemoteAddr().String(),
		laddr:   nc.LocalAddr().String(),
		created: time.Now(),
		proto:   2,
	}
	c.authed = *s.set.requirePass.Load() == ""
	c.shownProto.Store(2)
	c.rd = resp.NewReader(countingReader{c}, c.limits())
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.lastUsed.Store(c.created.UnixMilli())
	return c
}

// limits are the reader limits for this client now: tighter before AUTH.
func (c *client) limits() resp.Limits {
	c.limitsGen = c.srv.set.limitsGen.Load()
	lim := resp.DefaultLimits()
	lim.MaxBulk = c.srv.set.protoMaxBulkLen.Load()
	lim.MaxQueryBuffer = c.srv.set.queryBufLimit.Load()
	lim.Unauthenticated = !c.authed
	return lim
}

type countingReader struct{ c *client }

func (r countingReader) Read(p []byte) (int, error) {
	n, err := r.c.nc.Read(p)
	r.c.netIn.Add(int64(n))
	return n, err
}

// serve reads and answers the client's commands until it goes away.
func (c *client) serve() {
	defer c.srv.forget(c)
	defer c.nc.Close()
	defer c.cancel()
	log := c.srv.log
	for {
		args, err := c.rd.Next()
		if err != nil {
			c.readFailed(err)
			c.flush()
			return
		}
		if args == nil {
			if c.w.Len() > 0 || len(c.fw) > 0 {
				// Let the other connections that have input run first,
				// so that replies leave in a burst, as from Redis's
				// event loop, instead of one between every two reads:
				// a client asleep in epoll is woken once per burst.
				// Measured with redis-benchmark -c 50 -P 16 on 2 cores:
				// 1.2x the throughput, at a cost of about 100 ns when
				// nothing else is runnable.
				runtime.Gosched()
			}
			if c.flush() != nil || c.srv.closing.Load() {
				return
			}
			if t := c.srv.set.timeout.Load(); t > 0 {
				c.nc.SetReadDeadline(time.Now().Add(time.Duration(t)))
				c.deadline = true
			} else if c.deadline {
				c.nc.SetReadDeadline(time.Time{}) // CONFIG SET timeout 0
				c.deadline = false
			}
			if c.srv.closing.Load() {
				return // Shutdown's interrupt may have come before the deadline changed
			}
			if err := c.rd.Fill(); err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) && !c.srv.closing.Load() {
					log.Debug("closing idle client", "id", c.id, "addr", c.addr)
				}
				return
			}
			c.shownQbuf.Store(int64(c.rd.Buffered()))
			if c.srv.set.limitsGen.Load() != c.limitsGen {
				c.rd.SetLimits(c.limits()) // CONFIG SET changed a limit
			}
			continue
		}
		c.exec(args)
		if c.quitting {
			c.flush()
			return
		}
		if (c.w.Len() >= flushAt || len(c.fw) >= maxForwards) && c.flush() != nil {
			return
		}
	}
}

// readFailed answers a protocol error the way Redis does: the error text,
// then the connection closes. A client over its query buffer limit is
// closed without a reply.
func (c *client) readFailed(err error) {
	var pe *resp.ProtocolError
	switch {
	case errors.As(err, &pe):
		c.srv.stats.protoErrors.Add(1)
		c.srv.log.Info("protocol error from client", "id", c.id, "addr", c.addr, "err", pe.Error())
		c.w.Error(pe.Error())
	case errors.Is(err, resp.ErrQueryBufferLimit):
		c.srv.log.Warn("closing client that reached max query buffer length", "id", c.id, "addr", c.addr)
	}
}

// flush writes the buffered replies, once the commands forwarded to
// other nodes have answered.
func (c *client) flush() error {
	c.settle()
	if c.w.Len() == 0 {
		return c.closeAfterFlush()
	}
	n, err := c.nc.Write(c.w.Bytes())
	c.netOut.Add(int64(n))
	if cap(c.w.Bytes()) > keepOutputAt {
		c.w.SetBuffer(nil)
	} else {
		c.w.Reset()
	}
	if cap(c.spare) > keepOutputAt {
		c.spare = nil
	}
	c.fwArgs.shrink(keepOutputAt)
	if err != nil {
		return err
	}
	return c.closeAfterFlush()
}

// closeAfterFlush is errQuitting once the client must be closed (QUIT, or
// replies that could not be put in order), so that the loop stops.
func (c *client) closeAfterFlush() error {
	if c.quitting {
		return errQuitting
	}
	return nil
}

// errQuitting ends a connection whose last replies have been written.
var errQuitting = errors.New("closing after the reply")

// interrupt wakes a client blocked reading so that it notices shutdown.
// Replies to commands it has already read are still written.
func (c *client) interrupt() {
	c.nc.SetReadDeadline(time.Now())
}

// exec runs one command. A panic in a handler is logged and answered with
// an error; the connection and the node go on.
func (c *client) exec(args [][]byte) {
	c.mark = c.w.Len()
	queued := len(c.fw)
	defer func() {
		if r := recover(); r != nil {
			c.srv.stats.panics.Add(1)
			c.srv.log.Error("command panicked", "cmd", printable(args[0]), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			c.w.Truncate(c.mark)
			if len(c.fw) > queued {
				c.fw = c.fw[:queued] // what the command queued has no place now
				c.fwWrites = 0
				for i := range c.fw {
					if c.fw[i].kind == fwWrite {
						c.fwWrites++
					}
				}
			}
			c.w.Error("ERR internal error while executing '" + printable(args[0]) + "'")
		}
	}()
	c.cmds.Add(1)
	c.nowMs = time.Now().UnixMilli()
	c.lastUsed.Store(c.nowMs)
	cmd, sub := c.srv.table.lookup(args)
	if cmd == nil {
		c.srv.stats.unknownOrArgs.Add(1)
		c.w.Error(resp.MsgUnknownCommand(args[0], args[1:]))
		return
	}
	run := cmd
	if sub != nil {
		run = sub
	} else if len(cmd.subs) > 0 && len(args) >= 2 {
		c.srv.stats.unknownOrArgs.Add(1)
		c.w.Error(resp.MsgUnknownSubcommand(cmd.name, args[1]))
		return
	}
	if !arityOK(run.arity, len(args)) {
		c.srv.stats.unknownOrArgs.Add(1)
		c.w.Error(resp.MsgWrongArgs(run.name))
		return
	}
	if !c.authed && !run.noAuth {
		c.srv.stats.unknownOrArgs.Add(1)
		c.w.Error(resp.MsgNoAuth)
		return
	}
	if c.local && run.rt.peerRefused {
		c.srv.cstats.refused.Add(1)
		c.w.Error(fmt.Sprintf(msgPeerRefused, strings.ToUpper(run.name)))
		return
	}
	c.lastCmd.Store(run)
	if c.srv.pool != nil && !c.local {
		c.route(run, args)
		return
	}
	c.runHere(run, args)
}

// now is the time the running command sees, in Unix milliseconds: taken
// once per command, as Redis does, so one command sees one instant.
func (c *client) now() int64 { return c.nowMs }

func arityOK(arity, n int) bool {
	if arity >= 0 {
		return n == arity
	}
	return n >= -arity
}
