package server

import (
	"bytes"
	"strconv"
)

// Replies from owners arrive as raw RESP (2 or 3). Splitting and merging
// them (MGET parts, DBSIZE sums, KEYS unions, SCAN pages) needs to walk
// values without decoding them.

// respLen returns the length of the RESP value at the start of b, or -1
// when b does not begin with a whole, well-formed value.
func respLen(b []byte) int {
	return valueLen(b, 0)
}

// maxReplyDepth bounds the nesting respLen follows.
const maxReplyDepth = 32

func valueLen(b []byte, depth int) int {
	if len(b) == 0 || depth > maxReplyDepth {
		return -1
	}
	end := bytes.Index(b, []byte("\r\n"))
	if end < 0 {
		return -1
	}
	head := end + 2
	switch b[0] {
	case '+', '-', ':', '_', '#', ',', '(':
		return head
	case '$', '=', '!':
		n, ok := parseLen(b[1:end])
		if !ok {
			return -1
		}
		if n < 0 {
			return head // RESP2 null bulk
		}
		if len(b)-head < n+2 || b[head+n] != '\r' || b[head+n+1] != '\n' {
			return -1
		}
		return head + n + 2
	case '*', '~', '>', '%', '|':
		n, ok := parseLen(b[1:end])
		if !ok {
			return -1
		}
		if n < 0 {
			return head // RESP2 null array
		}
		if b[0] == '%' || b[0] == '|' {
			n *= 2
		}
		pos := head
		for range n {
			l := valueLen(b[pos:], depth+1)
			if l < 0 {
				return -1
			}
			pos += l
		}
		if b[0] == '|' { // an attribute precedes the value it describes
			l := valueLen(b[pos:], depth+1)
			if l < 0 {
				return -1
			}
			pos += l
		}
		return pos
	}
	return -1
}

func parseLen(b []byte) (int, bool) {
	n, err := strconv.Atoi(string(b))
	return n, err == nil && n >= -1
}

// isError reports whether reply is an error reply.
func isError(reply []byte) bool { return len(reply) > 0 && reply[0] == '-' }

// errorText is the text of an error reply, without "-" and CRLF.
func errorText(reply []byte) string {
	return string(bytes.TrimSuffix(reply[1:], []byte("\r\n")))
}

// arrayElems returns the elements of an array reply ("*n"), each a whole
// RESP value, or ok false when reply is not one well-formed array.
func arrayElems(reply []byte) (elems [][]byte, ok bool) {
	if len(reply) == 0 || reply[0] != '*' || respLen(reply) != len(reply) {
		return nil, false
	}
	end := bytes.Index(reply, []byte("\r\n"))
	n, ok := parseLen(reply[1:end])
	if !ok || n < 0 {
		return nil, false
	}
	elems = make([][]byte, 0, n)
	pos := end + 2
	for range n {
		l := respLen(reply[pos:])
		elems = append(elems, reply[pos:pos+l])
		pos += l
	}
	return elems, true
}

// intReply returns the value of an integer reply (":n").
func intReply(reply []byte) (int64, bool) {
	if len(reply) < 4 || reply[0] != ':' || !bytes.HasSuffix(reply, []byte("\r\n")) {
		return 0, false
	}
	n, err := strconv.ParseInt(string(reply[1:len(reply)-2]), 10, 64)
	return n, err == nil
}

// bulkReply returns the value of a bulk string reply; null is false.
func bulkReply(reply []byte) ([]byte, bool) {
	if len(reply) == 0 || reply[0] != '$' || respLen(reply) != len(reply) {
		return nil, false
	}
	end := bytes.Index(reply, []byte("\r\n"))
	n, ok := parseLen(reply[1:end])
	if !ok || n < 0 {
		return nil, false
	}
	return reply[end+2 : end+2+n], true
}
