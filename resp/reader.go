package resp

import (
	"bytes"
	"io"
	"math"
)

// Default limits, as Redis 7.0 ships them.
const (
	DefaultMaxInline      = 64 * 1024 // PROTO_INLINE_MAX_SIZE
	DefaultMaxBulk        = 512 << 20 // proto-max-bulk-len
	DefaultMaxQueryBuffer = 1 << 30   // client-query-buffer-limit
	unauthMaxArgs         = 10        // multibulk count allowed before AUTH
	unauthMaxBulk         = 16384     // bulk length allowed before AUTH
	maxMultibulk          = math.MaxInt32
)

// Buffer sizes of a Reader.
const (
	readSize    = 16 * 1024    // first buffer, and the size a buffer shrinks back to
	minFree     = 4 * 1024     // grow rather than Read into less free space than this
	shrinkAbove = 4 * readSize // a buffer larger than this is given back when nearly empty
	shrinkArgs  = 1024         // argument slices longer than this are given back too
)

// Limits bound what one client may send.
type Limits struct {
	// MaxInline is the longest line, in bytes before its terminator, that is
	// accepted: an inline request, or the count line of a multibulk request
	// or of one of its bulk strings. Zero means DefaultMaxInline.
	MaxInline int
	// MaxBulk is the longest bulk string in bytes (proto-max-bulk-len).
	// Zero means DefaultMaxBulk.
	MaxBulk int64
	// MaxQueryBuffer is the most bytes one request may take, counted as they
	// arrive (client-query-buffer-limit). Zero means DefaultMaxQueryBuffer.
	MaxQueryBuffer int64
	// Unauthenticated applies Redis's tighter limits for a client that must
	// still AUTH: a multibulk count above 10 or a bulk length above 16384 is a
	// protocol error.
	Unauthenticated bool
}

// DefaultLimits returns Redis's defaults for an authenticated client.
func DefaultLimits() Limits {
	return Limits{
		MaxInline:      DefaultMaxInline,
		MaxBulk:        DefaultMaxBulk,
		MaxQueryBuffer: DefaultMaxQueryBuffer,
	}
}

func (l Limits) maxInline() int {
	if l.MaxInline <= 0 {
		return DefaultMaxInline
	}
	return l.MaxInline
}

func (l Limits) maxBulk() int64 {
	if l.MaxBulk <= 0 {
		return DefaultMaxBulk
	}
	return l.MaxBulk
}

func (l Limits) maxQueryBuffer() int64 {
	if l.MaxQueryBuffer <= 0 {
		return DefaultMaxQueryBuffer
	}
	return l.MaxQueryBuffer
}

// ProtocolError is a malformed request. Its Error text is the reply Redis
// sends before it closes the connection, e.g. "ERR Protocol error: invalid
// multibulk length".
type ProtocolError struct {
	Msg string
}

func (e *ProtocolError) Error() string { return e.Msg }

type constError string

func (e constError) Error() string { return string(e) }

// ErrQueryBufferLimit is returned by Next when a request grows past
// Limits.MaxQueryBuffer. Redis closes such a client without a reply.
const ErrQueryBufferLimit = constError("resp: client query buffer limit reached")

type parseState uint8

const (
	stateNew     parseState = iota // nothing of the next command parsed
	stateInline                    // waiting for the inline request's LF
	stateCount                     // waiting for the multibulk count line
	stateBulkLen                   // waiting for a $len line
	stateBulk                      // waiting for a bulk string's bytes
)

// span is an argument's place in the buffer, relative to the start of its
// command, so that moving the command within the buffer leaves it valid.
type span struct{ from, to int }

// Reader reads requests, RESP multibulk and inline, from a client
// connection. It keeps its parse state across reads, so every byte received
// is examined a bounded number of times however the client splits its
// writes, and it holds memory in proportion to the bytes received, never to
// the lengths a request declares.
type Reader struct {
	rd    io.Reader
	lim   Limits
	buf   []byte // bytes read; buf[start:] are not consumed yet
	start int    // where the command being parsed begins
	err   error  // sticky: once a request is refused, so is everything after

	// Parse state of the command at start; offsets are relative to start.
	state   parseState
	pos     int  // the next element (line or bulk string) begins here
	scan    int  // bytes before this were searched for the line's terminator
	blocked bool // a NUL byte came first: the line never ends (Redis uses strchr)
	left    int  // bulk strings still to come
	bulk    int  // length of the bulk string being read
	spans   []span
	inline  []byte // unquoted inline arguments
	args    [][]byte
}

// NewReader returns a Reader of requests from rd, refusing what lim does not
// allow. It reads nothing until Fill.
func NewReader(rd io.Reader, lim Limits) *Reader {
	return &Reader{rd: rd, lim: lim}
}

// SetLimits replaces the limits, e.g. after AUTH or CONFIG SET
// proto-max-bulk-len. They apply to every line and bulk string not yet
// parsed, as in Redis.
func (r *Reader) SetLimits(lim Limits) { r.lim = lim }

// Buffered reports the number of unconsumed bytes held.
func (r *Reader) Buffered() int { return len(r.buf) - r.start }

// Next returns the next complete command buffered so far, without reading.
// The arguments alias the Reader's buffers and stay valid until the next call
// of Next or Fill. Next returns (nil, nil) when no complete command is
// buffered. Empty commands (a blank inline line, *0, *-1) are skipped as
// Redis skips them.
//
// A malformed request is reported as a *ProtocolError, whose text the server
// sends before closing the connection; a request larger than
// Limits.MaxQueryBuffer as ErrQueryBufferLimit. Commands that precede the bad
// request are returned first. Once Next has returned an error it returns the
// same error forever.
func (r *Reader) Next() ([][]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	for {
		args, done, err := r.step()
		if err != nil {
			r.err = err
			return nil, err
		}
		if !done {
			return nil, nil
		}
		if args != nil {
			return args, nil
		}
	}
}

// step parses from the saved state. done reports that a command was
// completed (args) or skipped (nil args); !done that more bytes are needed.
func (r *Reader) step() (args [][]byte, done bool, err error) {
	data := r.buf[r.start:]
	if r.state == stateNew {
		if len(data) == 0 {
			return nil, false, nil
		}
		r.pos, r.scan, r.blocked = 0, 0, false
		r.spans = r.spans[:0]
		if data[0] == '*' {
			r.state = stateCount
		} else {
			r.state = stateInline
		}
	}
	if r.state == stateInline {
		args, done, err = r.inlineCommand(data)
	} else {
		args, done, err = r.multibulk(data)
	}
	// Every unconsumed byte belongs to the incomplete command.
	if err == nil && !done && int64(len(data)) > r.lim.maxQueryBuffer() {
		return nil, false, ErrQueryBufferLimit
	}
	return args, done, err
}

// line finds the terminator of the line that begins at r.pos, resuming the
// search where the previous call stopped. It returns the terminator's offset,
// or ok false when it has not arrived. A line longer than the inline limit is
// refused with tooBig, whether or not its terminator is buffered, so the
// outcome does not depend on how the client split its writes (Redis checks
// only when the terminator is missing after a read, so for a fast client it
// may let a line up to one read, 16 KiB, longer pass).
func (r *Reader) line(data []byte, term byte, tooBig string) (end int, ok bool, err error) {
	if !r.blocked {
		seg := data[r.scan:]
		i := bytes.IndexByte(seg, term)
		look := seg
		if i >= 0 {
			look = seg[:i]
		}
		if bytes.IndexByte(look, 0) >= 0 {
			r.blocked = true // Redis searches with strchr, which stops at NUL
		} else if i >= 0 {
			end = r.scan + i
			r.scan = end
			if end-r.pos > r.lim.maxInline() {
				return 0, false, &ProtocolError{tooBig}
			}
			return end, true, nil
		} else {
			r.scan = len(data)
		}
	}
	if len(data)-r.pos > r.lim.maxInline() {
		return 0, false, &ProtocolError{tooBig}
	}
	return 0, false, nil
}

func (r *Reader) multibulk(data []byte) ([][]byte, bool, error) {
	if r.state == stateCount {
		end, ok, err := r.line(data, '\r', MsgProtoBigMbulkCount)
		if !ok || end+1 >= len(data) { // the byte after CR must be there too
			return nil, false, err
		}
		n, ok := ParseInt(data[r.pos+1 : end])
		if !ok || n > maxMultibulk {
			return nil, false, &ProtocolError{MsgProtoMultibulkLen}
		}
		if r.lim.Unauthenticated && n > unauthMaxArgs {
			return nil, false, &ProtocolError{MsgProtoUnauthMbulkLen}
		}
		r.pos = end + 2 // Redis skips the byte after CR unseen
		if n <= 0 {
			r.consume()
			return nil, true, nil
		}
		r.left = int(n)
		r.state = stateBulkLen
		r.scan = r.pos
	}
	for r.left > 0 {
		if r.state == stateBulkLen {
			end, ok, err := r.line(data, '\r', MsgProtoBigBulkCount)
			if !ok || end+1 >= len(data) {
				return nil, false, err
			}
			if data[r.pos] != '$' {
				return nil, false, &ProtocolError{MsgExpectedDollar(data[r.pos])}
			}
			n, ok := ParseInt(data[r.pos+1 : end])
			if !ok || n < 0 || n > r.lim.maxBulk() {
				return nil, false, &ProtocolError{MsgProtoBulkLen}
			}
			if r.lim.Unauthenticated && n > unauthMaxBulk {
				return nil, false, &ProtocolError{MsgProtoUnauthBulkLen}
			}
			r.pos = end + 2
			r.bulk = int(n)
			r.state = stateBulk
		}
		if len(data)-r.pos < r.bulk+2 {
			return nil, false, nil
		}
		// Like Redis, take the two bytes after the string as its CRLF
		// without looking at them.
		r.spans = append(r.spans, span{r.pos, r.pos + r.bulk})
		r.pos += r.bulk + 2
		r.scan = r.pos
		r.left--
		r.state = stateBulkLen
	}
	if int64(r.pos) > r.lim.maxQueryBuffer() {
		// Refuse it however it arrived, not only when it trickled in.
		return nil, false, ErrQueryBufferLimit
	}
	args := r.slice(data)
	r.consume()
	return args, true, nil
}

func (r *Reader) inlineCommand(data []byte) ([][]byte, bool, error) {
	end, ok, err := r.line(data, '\n', MsgProtoBigInline)
	if !ok {
		return nil, false, err
	}
	line := data[:end]
	if end > 0 && line[end-1] == '\r' {
		line = line[:end-1]
	}
	r.inline, r.spans, ok = splitArgs(r.inline[:0], r.spans[:0], line)
	if !ok {
		return nil, false, &ProtocolError{MsgProtoUnbalanced}
	}
	r.pos = end + 1
	var args [][]byte
	if len(r.spans) > 0 {
		args = r.slice(r.inline)
	}
	r.consume()
	return args, true, nil
}

// slice turns the spans into arguments of base, capped so that appending to
// one cannot overwrite the next.
func (r *Reader) slice(base []byte) [][]byte {
	r.args = r.args[:0]
	for _, s := range r.spans {
		r.args = append(r.args, base[s.from:s.to:s.to])
	}
	return r.args
}

// consume ends the command at start+pos.
func (r *Reader) consume() {
	r.start += r.pos
	r.pos, r.scan = 0, 0
	r.state = stateNew
}

// Fill performs exactly one Read on the underlying reader, into free space
// at the end of the buffer, and returns its error. Bytes read are kept even
// when the error is not nil. Before reading it moves unconsumed bytes to the
// front of the buffer, gives a large buffer back when little of it is in
// use, and grows the buffer, by doubling, only when free space runs short.
func (r *Reader) Fill() error {
	r.compact()
	want := minFree
	if r.state == stateBulk {
		// Read no more than the bulk string still needs, to finish it
		// without growing for bytes that belong to the next command.
		if need := r.start + r.pos + r.bulk + 2 - len(r.buf); need > 0 && need < want {
			want = need
		}
	}
	if cap(r.buf)-len(r.buf) < want {
		r.grow()
	}
	n, err := r.rd.Read(r.buf[len(r.buf):cap(r.buf)])
	r.buf = r.buf[:len(r.buf)+n]
	return err
}

func (r *Reader) compact() {
	unread := len(r.buf) - r.start
	if cap(r.buf) > shrinkAbove && unread <= readSize/2 {
		nb := make([]byte, unread, readSize)
		copy(nb, r.buf[r.start:])
		r.buf, r.start = nb, 0
		if r.state == stateNew && cap(r.args) > shrinkArgs {
			r.args, r.spans = nil, nil
		}
		return
	}
	if r.start == 0 {
		return
	}
	n := copy(r.buf, r.buf[r.start:])
	r.buf, r.start = r.buf[:n], 0
}

// grow doubles the buffer (start is 0 after compact). While a bulk string
// is read it grows to exactly what the string still needs when that is
// less than doubling, or not much more (a quarter), so that a large value
// ends in a buffer of its size without declaring more than it sent.
func (r *Reader) grow() {
	n := 2 * cap(r.buf)
	if n < readSize {
		n = readSize
	}
	if r.state == stateBulk {
		if need := r.pos + r.bulk + 2; need > len(r.buf) && need <= n+n/4 {
			n = need
		}
	}
	nb := make([]byte, len(r.buf), n)
	copy(nb, r.buf)
	r.buf = nb
}
