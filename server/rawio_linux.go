package server

import (
	"io"
	"net"
	"syscall"
	"unsafe"
)

// rawIO reads and writes a client's socket with raw system calls, on the
// runtime's poller: the descriptor is non-blocking, so a call never waits
// in the kernel, and when the socket is not ready the goroutine parks in
// the poller as net.Conn's own Read and Write do.
//
// Why: net.Conn announces every read and write to the scheduler, as a call
// that might block. When all of the node's threads were idle a moment
// before, that announcement wakes the runtime's monitor thread (sysmon),
// which then takes a turn on a core. With one thread serving 50 clients a
// perf profile put 8.6% of the node's CPU in that monitor and 4% in the
// futex calls that wake it, all on the core the clients' own process
// needs. Deadlines (--timeout, shutdown) and closing work as before: they
// act on the poller.
type rawIO struct {
	rc   syscall.RawConn
	buf  []byte        // the caller's buffer, for the step functions
	n    int           // bytes moved by the last step
	errn syscall.Errno // the last step's error
	// The step functions as values made once, so that a read or a write
	// does not allocate a closure.
	readStep, writeStep func(fd uintptr) bool
}

// newRawIO returns the raw reader and writer of nc, or nil when nc is not
// a socket of this process (a net.Pipe in a test, say).
func newRawIO(nc net.Conn) *rawIO {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	r := &rawIO{rc: rc}
	r.readStep, r.writeStep = r.stepRead, r.stepWrite
	return r
}

func (r *rawIO) stepRead(fd uintptr) bool {
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&r.buf[0])), uintptr(len(r.buf)))
	r.n, r.errn = int(n), e
	return e != syscall.EAGAIN
}

// stepWrite writes what is left of buf; it asks to wait when the socket's
// send buffer is full, and is called again once there is room.
func (r *rawIO) stepWrite(fd uintptr) bool {
	for r.n < len(r.buf) {
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&r.buf[r.n])), uintptr(len(r.buf)-r.n))
		switch e {
		case 0:
			r.n += int(n)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			r.errn = e
			return true
		}
	}
	return true
}

// Read reads at least one byte into p, or fails: io.EOF when the client
// closed its side, the poller's error on a deadline or a closed socket.
func (r *rawIO) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.buf = p
	for {
		r.n, r.errn = 0, 0
		if err := r.rc.Read(r.readStep); err != nil {
			r.buf = nil
			return 0, err
		}
		switch {
		case r.errn == syscall.EINTR:
			continue
		case r.errn != 0:
			r.buf = nil
			return 0, r.errn
		case r.n == 0:
			r.buf = nil
			return 0, io.EOF
		}
		r.buf = nil
		return r.n, nil
	}
}

// Write writes all of p, or fails.
func (r *rawIO) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.buf, r.n, r.errn = p, 0, 0
	err := r.rc.Write(r.writeStep)
	n := r.n
	if err == nil && r.errn != 0 {
		err = r.errn
	}
	r.buf = nil
	return n, err
}
