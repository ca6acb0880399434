package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The body of a batch request is a sequence of request frames; the body of
// its response holds one reply frame per request frame, in the same order.
// docs/peer-protocol.md describes them.
//
//	exec:       kindExec  proto(1) argc(uvarint) {len(uvarint) bytes}×argc
//	get:        kindGet   flags(1) len(uvarint) key
//	invalidate: kindForget len(uvarint) key
//	exec again: kindExecHop hops(1) proto(1) argc(uvarint) {len(uvarint) bytes}×argc
//	take:       kindTake  hops(1) len(uvarint) key len(uvarint) from
//	give:       kindGive  expireAt(uvarint) len(uvarint) key len(uvarint) value
//	done:       kindDone  ring(8, big endian) len(uvarint) id
//	reply:      status(1) len(uint32, big endian) data
const (
	kindExec    byte = 1 // a client command for the peer's Executor (hop 0)
	kindGet     byte = 2 // a group lookup-or-load
	kindForget  byte = 3 // drop your hot copy of a key
	kindExecHop byte = 4 // a command a node forwarded again: hops > 0
	kindTake    byte = 5 // hand-off: remove a key from your main cache and send it to from
	kindGive    byte = 6 // hand-off: keep this key unless you already resolved it
	kindDone    byte = 7 // hand-off: the sender holds no key it does not own in ring

	getHot byte = 1 // get flag: the caller keeps a hot copy
	getHop byte = 2 // get flag: a node forwarded it; answer, do not forward again

	statusOK       byte = 0 // exec: data is the RESP reply; get: found, data is ttl(uvarint) value
	statusNotFound byte = 1 // get: no such key
	statusError    byte = 2 // data is the error text

	replyHeader = 5 // status and length of a reply frame
)

// ErrBadFrame is wrapped by the errors of the frame decoders.
var ErrBadFrame = errors.New("cluster: malformed frame")

// MaxHops bounds how many times a command is forwarded between nodes: a
// node that receives a command for a key it does not own (the rings of
// the two nodes disagree for a moment) forwards it once more to the owner
// in its own ring, and the node that receives it then runs it whatever
// its ring says. So two nodes that disagree cannot pass a command back
// and forth.
const MaxHops = 1

// frame is a decoded request frame. Its slices alias the request body.
type frame struct {
	kind     byte
	proto    byte     // exec
	flags    byte     // get
	hops     byte     // exec, take: how many nodes forwarded it before the sender
	key      []byte   // get, forget, take, give
	value    []byte   // give
	from     []byte   // take: the id of the node that asks
	expireAt uint64   // give: Unix ms, 0 = none
	ring     uint64   // done: the digest of the ring
	args     [][]byte // exec
}

// appendExecFrame appends an exec frame of args in protocol proto.
func appendExecFrame(dst []byte, proto byte, args [][]byte) []byte {
	return appendExecHopFrame(dst, proto, 0, args)
}

// appendExecHopFrame appends an exec frame of args in protocol proto, sent
// after hops forwards (0: the command came from a client of the sender).
func appendExecHopFrame(dst []byte, proto, hops byte, args [][]byte) []byte {
	if hops == 0 {
		dst = append(dst, kindExec, proto)
	} else {
		dst = append(dst, kindExecHop, hops, proto)
	}
	dst = binary.AppendUvarint(dst, uint64(len(args)))
	for _, a := range args {
		dst = binary.AppendUvarint(dst, uint64(len(a)))
		dst = append(dst, a...)
	}
	return dst
}

// appendGiveFrame appends a give frame.
func appendGiveFrame(dst []byte, key, value []byte, expireAt int64) []byte {
	dst = append(dst, kindGive)
	dst = binary.AppendUvarint(dst, uint64(max(expireAt, 0)))
	dst = binary.AppendUvarint(dst, uint64(len(key)))
	dst = append(dst, key...)
	dst = binary.AppendUvarint(dst, uint64(len(value)))
	return append(dst, value...)
}

// appendTakeFrame appends a take frame.
func appendTakeFrame(dst []byte, hops byte, key []byte, from string) []byte {
	dst = append(dst, kindTake, hops)
	dst = binary.AppendUvarint(dst, uint64(len(key)))
	dst = append(dst, key...)
	dst = binary.AppendUvarint(dst, uint64(len(from)))
	return append(dst, from...)
}

// appendDoneFrame appends a done frame.
func appendDoneFrame(dst []byte, ring uint64, id string) []byte {
	dst = binary.BigEndian.AppendUint64(append(dst, kindDone), ring)
	dst = binary.AppendUvarint(dst, uint64(len(id)))
	return append(dst, id...)
}

// appendKeyFrame appends a get, forget or take frame.
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
	case kindExec, kindExecHop:
		if f.kind == kindExecHop {
			if len(b) < 2 || b[1] == 0 {
				return f, 0, fmt.Errorf("%w: exec frame without hops", ErrBadFrame)
			}
			f.hops, n = b[1], 2
		}
		if len(b) < n+1 {
			return f, 0, fmt.Errorf("%w: exec frame without protocol", ErrBadFrame)
		}
		f.proto = b[n]
		if f.proto != 2 && f.proto != 3 {
			return f, 0, fmt.Errorf("%w: protocol %d", ErrBadFrame, f.proto)
		}
		n++
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
	case kindGive:
		var m int
		if f.expireAt, m = uvarint(b[n:]); m <= 0 || f.expireAt > math.MaxInt64 {
			return f, 0, fmt.Errorf("%w: bad expiry", ErrBadFrame)
		}
		n += m
		if f.key, m, err = parseBytes(b[n:]); err != nil {
			return f, 0, err
		}
		n += m
		if f.value, m, err = parseBytes(b[n:]); err != nil {
			return f, 0, err
		}
		n += m
	case kindDone:
		if len(b) < 9 {
			return f, 0, fmt.Errorf("%w: short done frame", ErrBadFrame)
		}
		f.ring, n = binary.BigEndian.Uint64(b[1:]), 9
		var m int
		if f.key, m, err = parseBytes(b[n:]); err != nil {
			return f, 0, err
		}
		n += m
	case kindTake:
		if len(b) < 2 || b[1] > MaxHops {
			return f, 0, fmt.Errorf("%w: take frame without hops", ErrBadFrame)
		}
		f.hops, n = b[1], 2
		var m int
		if f.key, m, err = parseBytes(b[n:]); err != nil {
			return f, 0, err
		}
		n += m
		if f.from, m, err = parseBytes(b[n:]); err != nil {
			return f, 0, err
		}
		n += m
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
