package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The body of a batch request is a sequence of request frames; the body of
// its response holds one reply frame per request frame, in the same order.
// docs/peer-protocol.md describes them.
//
//	exec:       kindExec  proto(1) argc(uvarint) {len(uvarint) bytes}×argc
//	get:        kindGet   flags(1) len(uvarint) key
//	invalidate: kindForget len(uvarint) key
//	reply:      status(1) len(uint32, big endian) data
const (
	kindExec   byte = 1 // a client command for the peer's Executor
	kindGet    byte = 2 // a group lookup-or-load
	kindForget byte = 3 // drop your hot copy of a key

	getHot byte = 1 // get flag: the caller keeps a hot copy

	statusOK       byte = 0 // exec: data is the RESP reply; get: found, data is ttl(uvarint) value
	statusNotFound byte = 1 // get: no such key
	statusError    byte = 2 // data is the error text

	replyHeader = 5 // status and length of a reply frame
)

// ErrBadFrame is wrapped by the errors of the frame decoders.
var ErrBadFrame = errors.New("cluster: malformed frame")

// frame is a decoded request frame. Its slices alias the request body.
type frame struct {
	kind  byte
	proto byte     // exec
	flags byte     // get
	key   []byte   // get, forget
	args  [][]byte // exec
}

// appendExecFrame appends an exec frame of args in protocol proto.
func appendExecFrame(dst []byte, proto byte, args [][]byte) []byte {
	dst = append(dst, kindExec, proto)
	dst = binary.AppendUvarint(dst, uint64(len(args)))
	for _, a := range args {
		dst = binary.AppendUvarint(dst, uint64(len(a)))
		dst = append(dst, a...)
	}
	return dst
}

// appendKeyFrame appends a get or forget frame.
func appendKeyFrame(dst []byte, kind, flags byte, key []byte) []byte {
	dst = append(dst, kind)
	if kind == kindGet {
		dst = append(dst, flags)
	}
	dst = binary.AppendUvarint(dst, uint64(len(key)))
	return append(dst, key...)
}

// parseFrames decodes a request body into frames, appended to dst; the
// args of exec frames are appended to args, which the frames' args slice.
// Every length is checked against what is left of b, so memory stays
// proportional to len(b) whatever b claims.
func parseFrames(b []byte, dst []frame, args [][]byte) ([]frame, [][]byte, error) {
	first := len(dst)
	for off := 0; off < len(b); {
		f, n, err := parseFrame(b[off:], &args)
		if err != nil {
			return dst, args, fmt.Errorf("frame %d at byte %d: %w", len(dst)-first, off, err)
		}
		dst = append(dst, f)
		off += n
	}
	return dst, args, nil
}

// parseFrame decodes the frame at the start of b and returns it and its
// length. An exec frame's args are appended to *args and f.args slices
// them (should *args grow later, f.args keeps the old, unchanged array).
func parseFrame(b []byte, args *[][]byte) (f frame, n int, err error) {
	f.kind = b[0]
	n = 1
	switch f.kind {
	case kindExec:
		if len(b) < 2 {
			return f, 0, fmt.Errorf("%w: exec frame without protocol", ErrBadFrame)
		}
		f.proto = b[1]
		if f.proto != 2 && f.proto != 3 {
			return f, 0, fmt.Errorf("%w: protocol %d", ErrBadFrame, f.proto)
		}
		n = 2
		argc, m := uvarint(b[n:])
		if m <= 0 || argc == 0 || argc > uint64(len(b)-n-m) {
			return f, 0, fmt.Errorf("%w: bad argument count", ErrBadFrame)
		}
		n += m
		start := len(*args)
		for range argc {
			var a []byte
			if a, m, err = parseBytes(b[n:]); err != nil {
				*args = (*args)[:start]
				return f, 0, err
			}
			*args = append(*args, a)
			n += m
		}
		f.args = (*args)[start:len(*args):len(*args)]
	case kindGet, kindForget:
		if f.kind == kindGet {
			if len(b) < 2 {
				return f, 0, fmt.Errorf("%w: get frame without flags", ErrBadFrame)
			}
			f.flags = b[1]
			n = 2
		}
		var m int
		if f.key, m, err = parseBytes(b[n:]); err != nil {
			return f, 0, err
		}
		n += m
	default:
		return f, 0, fmt.Errorf("%w: unknown kind %d", ErrBadFrame, f.kind)
	}
	return f, n, nil
}

// parseBytes decodes a uvarint length and that many bytes.
func parseBytes(b []byte) ([]byte, int, error) {
	l, m := uvarint(b)
	if m <= 0 || l > uint64(len(b)-m) {
		return nil, 0, fmt.Errorf("%w: bad length", ErrBadFrame)
	}
	end := m + int(l)
	return b[m:end:end], end, nil
}

// beginReply appends the header of a reply frame whose data the caller
// appends next; endReply then fills in the status and length.
func beginReply(dst []byte) ([]byte, int) {
	return append(dst, 0, 0, 0, 0, 0), len(dst)
}

// endReply completes the reply frame begun at start.
func endReply(dst []byte, start int, status byte) []byte {
	dst[start] = status
	binary.BigEndian.PutUint32(dst[start+1:], uint32(len(dst)-start-replyHeader))
	return dst
}

// appendReply appends a whole reply frame.
func appendReply(dst []byte, status byte, data []byte) []byte {
	dst, start := beginReply(dst)
	return endReply(append(dst, data...), start, status)
}

// parseReply decodes the reply frame at the start of b: its status, data
// and length.
func parseReply(b []byte) (status byte, data []byte, n int, err error) {
	if len(b) < replyHeader {
		return 0, nil, 0, fmt.Errorf("%w: short reply", ErrBadFrame)
	}
	l := binary.BigEndian.Uint32(b[1:])
	if uint64(l) > uint64(len(b)-replyHeader) {
		return 0, nil, 0, fmt.Errorf("%w: reply length %d beyond body", ErrBadFrame, l)
	}
	n = replyHeader + int(l)
	return b[0], b[replyHeader:n:n], n, nil
}

// parseGetReply splits the data of a found get reply into TTL and value.
func parseGetReply(data []byte) (ttlMs uint64, value []byte, err error) {
	ttl, m := uvarint(data)
	if m <= 0 {
		return 0, nil, fmt.Errorf("%w: bad ttl", ErrBadFrame)
	}
	return ttl, data[m:], nil
}

// uvarint is binary.Uvarint that also refuses a non-minimal encoding (a
// last byte of 0), so that every body has one decoding and one encoding.
func uvarint(b []byte) (uint64, int) {
	v, m := binary.Uvarint(b)
	if m > 1 && b[m-1] == 0 {
		return 0, 0
	}
	return v, m
}
