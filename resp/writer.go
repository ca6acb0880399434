package resp

import (
	"math"
	"strconv"

	"github.com/tidwall/redcon"
)

// Writer appends replies to a buffer in the protocol version a connection
// speaks: RESP2 (the default) or RESP3 (after HELLO 3). The RESP2 primitives
// come from redcon; the RESP3 types (maps, sets, nulls, doubles, verbatim
// strings) are written here and fall back to their RESP2 shapes on a RESP2
// connection, as Redis does.
//
// The zero value writes RESP2 into an empty buffer.
type Writer struct {
	buf   []byte
	resp3 bool
}

// NewWriter returns a Writer that appends to buf (which may be nil).
func NewWriter(buf []byte, proto int) *Writer {
	w := &Writer{buf: buf}
	w.SetProto(proto)
	return w
}

// SetProto selects the protocol version (2 or 3) for the replies that follow.
func (w *Writer) SetProto(proto int) { w.resp3 = proto == 3 }

// Proto reports the protocol version in use: 2 or 3.
func (w *Writer) Proto() int {
	if w.resp3 {
		return 3
	}
	return 2
}

// Bytes returns the replies written so far.
func (w *Writer) Bytes() []byte { return w.buf }

// Len reports how many bytes are buffered.
func (w *Writer) Len() int { return len(w.buf) }

// Reset empties the buffer, keeping its storage.
func (w *Writer) Reset() { w.buf = w.buf[:0] }

// Truncate drops everything written after the first n bytes.
func (w *Writer) Truncate(n int) { w.buf = w.buf[:n] }

// SetBuffer replaces the buffer, e.g. with a smaller one after a large reply.
func (w *Writer) SetBuffer(b []byte) { w.buf = b }

// Raw appends bytes that are already encoded.
func (w *Writer) Raw(b []byte) { w.buf = append(w.buf, b...) }

// OK appends +OK.
func (w *Writer) OK() { w.buf = redcon.AppendOK(w.buf) }

// Simple appends a simple string (+s). s must not hold CR or LF.
func (w *Writer) Simple(s string) { w.buf = redcon.AppendString(w.buf, s) }

// Error appends an error reply (-msg). msg carries its own prefix, such as
// "ERR " or "WRONGTYPE ", exactly as the client should see it.
func (w *Writer) Error(msg string) { w.buf = redcon.AppendError(w.buf, msg) }

// Int appends an integer reply.
func (w *Writer) Int(n int64) { w.buf = redcon.AppendInt(w.buf, n) }

// Bulk appends a bulk string.
func (w *Writer) Bulk(b []byte) { w.buf = redcon.AppendBulk(w.buf, b) }

// BulkString appends a bulk string.
func (w *Writer) BulkString(s string) { w.buf = redcon.AppendBulkString(w.buf, s) }

// BulkInt appends n formatted as a bulk string.
func (w *Writer) BulkInt(n int64) {
	var tmp [20]byte
	w.Bulk(strconv.AppendInt(tmp[:0], n, 10))
}

// Null appends the null reply: $-1 in RESP2, _ in RESP3.
func (w *Writer) Null() {
	if w.resp3 {
		w.buf = append(w.buf, '_', '\r', '\n')
		return
	}
	w.buf = redcon.AppendNull(w.buf)
}

// NullArray appends a null array: *-1 in RESP2, _ in RESP3.
func (w *Writer) NullArray() {
	if w.resp3 {
		w.buf = append(w.buf, '_', '\r', '\n')
		return
	}
	w.buf = append(w.buf, '*', '-', '1', '\r', '\n')
}

// Array appends the header of an array of n elements.
func (w *Writer) Array(n int) { w.buf = redcon.AppendArray(w.buf, n) }

// Map appends the header of a map of n pairs: %n in RESP3, an array of 2n
// elements in RESP2.
func (w *Writer) Map(n int) {
	if w.resp3 {
		w.buf = appendHeader(w.buf, '%', n)
		return
	}
	w.Array(2 * n)
}

// Set appends the header of a set of n elements: ~n in RESP3, an array in RESP2.
func (w *Writer) Set(n int) {
	if w.resp3 {
		w.buf = appendHeader(w.buf, '~', n)
		return
	}
	w.Array(n)
}

// Bool appends a boolean: #t/#f in RESP3, the integer 1/0 in RESP2.
func (w *Writer) Bool(v bool) {
	if w.resp3 {
		if v {
			w.buf = append(w.buf, '#', 't', '\r', '\n')
		} else {
			w.buf = append(w.buf, '#', 'f', '\r', '\n')
		}
		return
	}
	if v {
		w.Int(1)
	} else {
		w.Int(0)
	}
}

// Double appends a floating point number: ,f in RESP3, a bulk string in
// RESP2. It is formatted as Redis formats doubles in replies (%.17g, with
// inf and -inf spelled out).
func (w *Writer) Double(f float64) {
	var tmp [32]byte
	num := AppendDouble(tmp[:0], f)
	if w.resp3 {
		w.buf = append(w.buf, ',')
		w.buf = append(w.buf, num...)
		w.buf = append(w.buf, '\r', '\n')
		return
	}
	w.Bulk(num)
}

// Verbatim appends a verbatim string of the given three-letter format
// ("txt" or "mkd"): =len in RESP3, a bulk string in RESP2.
func (w *Writer) Verbatim(format, s string) {
	if !w.resp3 {
		w.BulkString(s)
		return
	}
	w.buf = appendHeader(w.buf, '=', len(s)+4)
	w.buf = append(w.buf, format...)
	w.buf = append(w.buf, ':')
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '\r', '\n')
}

// AppendDouble formats f as Redis does in double replies: the shortest of
// %.17g, "inf", "-inf" or "nan".
func AppendDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case math.IsNaN(f):
		return append(dst, "nan"...)
	}
	return strconv.AppendFloat(dst, f, 'g', 17, 64)
}

func appendHeader(b []byte, kind byte, n int) []byte {
	b = append(b, kind)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}
