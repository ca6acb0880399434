package resp

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// fuzzLimits keep lines short so that the fuzzer reaches the line limit.
func fuzzLimits() Limits { return Limits{MaxInline: 64, MaxBulk: 1 << 20} }

// FuzzReader checks that the Reader does not panic, that it reads the same
// commands and stops at the same error however the input is split, that it
// holds no more than it was fed, and that it agrees with refDecode, a plain
// decoder of the simple subset of the protocol.
func FuzzReader(f *testing.F) {
	for _, tc := range readerCases {
		f.Add([]byte(tc.in), uint8(3))
	}
	f.Add([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\nGET k\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), uint8(7))
	f.Add([]byte(strings.Repeat("a", 70)+"\r\n"), uint8(1))
	f.Add([]byte("*"+strings.Repeat("1", 70)+"\r\n"), uint8(2))
	f.Add([]byte("*1\r\n$"+strings.Repeat("1", 70)+"\r\n"), uint8(5))
	f.Add([]byte("*1\r\n$1048577\r\n"), uint8(0))
	f.Fuzz(func(t *testing.T, in []byte, step uint8) {
		whole := feed(t, [][]byte{in})
		var chunks [][]byte
		for i, n := 0, 0; i < len(in); i += n {
			n = min(int(step)%13+1+i%3, len(in)-i)
			chunks = append(chunks, in[i:i+n])
		}
		if got := feed(t, chunks); got.String() != whole.String() {
			t.Fatalf("split by %d:\n got %s\nwant %s", step, got, whole)
		}
		if want, ok := refDecode(in); ok {
			if whole.err != nil || strings.Join(whole.cmds, "|") != strings.Join(want, "|") {
				t.Fatalf("got %s\nreference %q", whole, want)
			}
		}
	})
}

// feed is drive with the memory checks: the Reader never holds more bytes
// than it was fed, and its buffer stays within a small multiple of them.
func feed(t *testing.T, chunks [][]byte) result {
	t.Helper()
	r := NewReader(&chunkReader{chunks}, fuzzLimits())
	var res result
	fed := 0
	for {
		args, err := r.Next()
		if err != nil {
			res.err = err
			return res
		}
		if args != nil {
			res.cmds = append(res.cmds, render(args))
			continue
		}
		before := r.Buffered()
		err = r.Fill()
		fed += r.Buffered() - before
		if r.Buffered() > fed {
			t.Fatalf("holds %d bytes, fed %d", r.Buffered(), fed)
		}
		if c := cap(r.buf); c > readSize && c > 3*fed+minFree {
			t.Fatalf("buffer of %d bytes after %d fed", c, fed)
		}
		if err != nil {
			res.pending = r.Buffered()
			return res
		}
	}
}

// refDecode decodes input made only of well-formed multibulk requests
// (CRLF everywhere, positive counts) and inline requests of plain words
// separated by spaces. ok is false for anything else.
func refDecode(in []byte) (cmds []string, ok bool) {
	s := string(in)
	for s != "" {
		if s[0] != '*' {
			line, rest, found := strings.Cut(s, "\n")
			if !found || len(line) > fuzzLimits().MaxInline {
				return nil, false
			}
			line = strings.TrimSuffix(line, "\r")
			if strings.ContainsAny(line, "\"'\\\x00\r\t\v\f") {
				return nil, false
			}
			var q []string
			for _, w := range strings.Split(line, " ") {
				if w != "" {
					q = append(q, strconv.Quote(w))
				}
			}
			if len(q) > 0 {
				cmds = append(cmds, strings.Join(q, " "))
			}
			s = rest
			continue
		}
		head, rest, found := strings.Cut(s[1:], "\r\n")
		n, err := strconv.Atoi(head)
		if !found || err != nil || n < 1 || n > 1000 || strconv.Itoa(n) != head {
			return nil, false
		}
		s = rest
		args := make([]string, n)
		for i := range args {
			if s == "" || s[0] != '$' {
				return nil, false
			}
			head, rest, found := strings.Cut(s[1:], "\r\n")
			l, err := strconv.Atoi(head)
			if !found || err != nil || l < 0 || strconv.Itoa(l) != head || len(rest) < l+2 || rest[l:l+2] != "\r\n" {
				return nil, false
			}
			args[i] = strconv.Quote(rest[:l])
			s = rest[l+2:]
		}
		cmds = append(cmds, strings.Join(args, " "))
	}
	return cmds, true
}

func TestRefDecode(t *testing.T) {
	got, ok := refDecode([]byte("*2\r\n$3\r\nGET\r\n$1\r\nk\r\nSET a  b\r\n\r\n"))
	if !ok || strings.Join(got, "|") != `"GET" "k"|"SET" "a" "b"` {
		t.Fatalf("refDecode = %q, %v", got, ok)
	}
	if _, ok := refDecode(bytes.Repeat([]byte("x"), 10)); ok {
		t.Fatal("refDecode accepted an unterminated line")
	}
}
