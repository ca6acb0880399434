//go:build linux && !race

package cluster

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// rawMax is the most bytes one raw call moves. The scheduler does not see
// a raw call, so while it runs no other goroutine gets the thread (a 32 MB
// write to a loopback reader took up to 6 ms a call); larger transfers use
// ordinary system calls, during which the runtime can run others.
const rawMax = 256 << 10

// DirectConn returns nc with Read and Write made by raw system calls on the
// runtime's poller, or nc itself where that cannot be done (nc is not a
// socket: a net.Pipe, a TLS connection). The socket is non-blocking, so a
// call never waits in the kernel: when nothing can be read, or the send
// buffer is full, the goroutine parks in the poller as net.Conn's own Read
// and Write do, and deadlines and Close act as before.
//
// Why: net.Conn announces every read and write to the Go scheduler as a
// call that might block. When all of the process's threads were idle a
// moment before, the announcement wakes the runtime's monitor thread
// (sysmon), which then takes a turn on a core. A node with one thread
// serving 50 redis-benchmark clients spent 8.6% of its CPU in that monitor
// and 4% in the futex calls that wake it, on the core the clients need.
// The server reads and writes its clients this way, and the peer links
// their round trips.
//
// Only TCP and Unix sockets are taken, not wrappers of them, whose own
// reading would be bypassed. Builds with the race detector use net.Conn's
// methods (directconn_other.go): the detector does not see what raw calls
// write, and would report races that are not there.
func DirectConn(nc net.Conn) net.Conn {
	var sc syscall.Conn
	switch c := nc.(type) {
	case *net.TCPConn:
		sc = c
	case *net.UnixConn:
		sc = c
	default:
		return nc
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nc
	}
	d := &direct{Conn: nc, rc: rc}
	d.r.step, d.w.step = d.r.read, d.w.write
	return d
}

// direct is a socket read and written with raw system calls.
type direct struct {
	net.Conn
	rc   syscall.RawConn
	r, w directOp
}

// directOp is the state of the read, or of the write, in progress.
type directOp struct {
	mu   sync.Mutex
	bufs [][]byte // what is left to write; bufs[0] for a read
	one  [1][]byte
	iov  []syscall.Iovec
	n    int // bytes moved
	errn syscall.Errno
	err  error                 // other than an errno
	step func(fd uintptr) bool // read or write, made once (no closure per call)
}

func (o *directOp) read(fd uintptr) bool {
	b := o.bufs[0]
	var n uintptr
	var e syscall.Errno
	if len(b) <= rawMax {
		n, _, e = syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	} else {
		n, _, e = syscall.Syscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	}
	if e == syscall.EAGAIN {
		return false // wait in the poller
	}
	o.n, o.errn = int(n), e
	return true
}

// write writes what is left of bufs, gathered into one writev; it waits in
// the poller when the send buffer is full and is called again with room.
func (o *directOp) write(fd uintptr) bool {
	for len(o.bufs) > 0 {
		o.iov = o.iov[:0]
		size := 0
		for _, b := range o.bufs {
			if len(b) > 0 && len(o.iov) < 1024 {
				v := syscall.Iovec{Base: &b[0]}
				v.SetLen(len(b))
				o.iov = append(o.iov, v)
				size += len(b)
			}
		}
		if len(o.iov) == 0 {
			o.bufs = nil
			break
		}
		var n uintptr
		var e syscall.Errno
		if size <= rawMax {
			n, _, e = syscall.RawSyscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&o.iov[0])), uintptr(len(o.iov)))
		} else {
			n, _, e = syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&o.iov[0])), uintptr(len(o.iov)))
		}
		switch e {
		case 0:
			if n == 0 {
				o.err = io.ErrShortWrite // no progress; do not spin
				return true
			}
			o.n += int(n)
			o.consume(int(n))
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			o.errn = e
			return true
		}
	}
	return true
}

// consume drops the first n bytes of bufs.
func (o *directOp) consume(n int) {
	for n > 0 || (len(o.bufs) > 0 && len(o.bufs[0]) == 0) {
		if n < len(o.bufs[0]) {
			o.bufs[0] = o.bufs[0][n:]
			return
		}
		n -= len(o.bufs[0])
		o.bufs[0] = nil
		o.bufs = o.bufs[1:]
	}
}

func (d *direct) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	o := &d.r
	o.mu.Lock()
	defer o.mu.Unlock()
	o.one[0] = p
	o.bufs = o.one[:]
	defer o.forget()
	for {
		o.n, o.errn = 0, 0
		if err := d.rc.Read(o.step); err != nil {
			return 0, d.opError("read", err)
		}
		switch {
		case o.errn == syscall.EINTR:
			continue
		case o.errn != 0:
			return 0, d.opError("read", os.NewSyscallError("read", o.errn))
		case o.n == 0:
			return 0, io.EOF
		}
		return o.n, nil
	}
}

// forget drops the references to the caller's buffers.
func (o *directOp) forget() {
	o.bufs, o.one[0] = nil, nil
	clear(o.iov[:cap(o.iov)])
}

func (d *direct) Write(p []byte) (int, error) {
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	d.w.one[0] = p
	return d.writeLocked(d.w.one[:])
}

// writeBuffers writes bufs in order with as few writev calls as the socket
// allows; it returns the bytes written. bufs may be changed.
func (d *direct) writeBuffers(bufs [][]byte) (int, error) {
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	return d.writeLocked(bufs)
}

func (d *direct) writeLocked(bufs [][]byte) (int, error) {
	o := &d.w
	o.bufs, o.n, o.errn, o.err = bufs, 0, 0, nil
	err := d.rc.Write(o.step)
	n := o.n
	switch {
	case err != nil:
	case o.errn != 0:
		err = os.NewSyscallError("writev", o.errn)
	case o.err != nil:
		err = o.err
	}
	o.forget()
	if err != nil {
		return n, d.opError("write", err)
	}
	return n, nil
}

// opError is err as net.Conn's methods give it: a *net.OpError. The
// poller's errors (a deadline, a closed socket) are one already.
func (d *direct) opError(op string, err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return err
	}
	return &net.OpError{Op: op, Net: d.LocalAddr().Network(), Source: d.LocalAddr(), Addr: d.RemoteAddr(), Err: err}
}

// writeBuffers writes bufs to c, with one writev where c allows it.
func writeBuffers(c net.Conn, bufs net.Buffers) (int64, error) {
	if d, ok := c.(*direct); ok {
		n, err := d.writeBuffers(bufs)
		return int64(n), err
	}
	return bufs.WriteTo(c)
}
