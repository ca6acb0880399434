package cluster

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
)

// encodeFrames is the sender's side of parseFrames.
func encodeFrames(frames []frame) []byte {
	var b []byte
	for _, f := range frames {
		switch f.kind {
		case kindExec, kindExecHop:
			b = appendExecHopFrame(b, f.proto, f.hops, f.args)
		case kindGive:
			b = appendGiveFrame(b, f.key, f.value, int64(f.expireAt))
		case kindDone:
			b = appendDoneFrame(b, f.ring, string(f.key))
		case kindTake:
			b = appendTakeFrame(b, f.hops, f.key, string(f.from))
		default:
			b = appendKeyFrame(b, f.kind, f.flags, f.key)
		}
	}
	return b
}

func bs(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i, x := range s {
		out[i] = []byte(x)
	}
	return out
}

func TestFramesRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 300) // a two-byte uvarint length
	tests := []struct {
		name   string
		frames []frame
	}{
		{"empty body", nil},
		{"one exec", []frame{{kind: kindExec, proto: 2, args: bs("SET", "k", "v")}}},
		{"resp3 and empty args", []frame{{kind: kindExec, proto: 3, args: bs("SET", "", "")}}},
		{"get hot", []frame{{kind: kindGet, flags: getHot, key: []byte("k")}}},
		{"get empty key", []frame{{kind: kindGet, key: []byte{}}}},
		{"forget", []frame{{kind: kindForget, key: []byte("k\x00\xff")}}},
		{"exec after a hop", []frame{{kind: kindExecHop, hops: 1, proto: 3, args: bs("INCR", "k")}}},
		{"take", []frame{{kind: kindTake, key: []byte("k"), from: []byte("http://a")}}},
		{"take after a hop", []frame{{kind: kindTake, hops: 1, key: []byte("k"), from: []byte{}}}},
		{"give", []frame{{kind: kindGive, key: []byte("k"), value: big, expireAt: 1_700_000_000_123}}},
		{"give no expiry, empty value", []frame{{kind: kindGive, key: []byte("k"), value: []byte{}}}},
		{"done", []frame{{kind: kindDone, ring: 0xfedcba9876543210, key: []byte("http://10.0.0.1:7380")}}},
		{"mixed", []frame{
			{kind: kindExec, proto: 2, args: [][]byte{[]byte("APPEND"), []byte("k"), big}},
			{kind: kindTake, key: []byte("t"), from: []byte("x")},
			{kind: kindExecHop, hops: 1, proto: 2, args: bs("GET", "k")},
			{kind: kindGet, key: big},
			{kind: kindForget, key: []byte("a")},
			{kind: kindExec, proto: 3, args: bs("GET", "k")},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := encodeFrames(tt.frames)
			got, _, err := parseFrames(body, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.frames) {
				t.Fatalf("got %d frames, want %d", len(got), len(tt.frames))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], tt.frames[i]) {
					t.Errorf("frame %d = %+v, want %+v", i, got[i], tt.frames[i])
				}
			}
			if again := encodeFrames(got); !bytes.Equal(again, body) {
				t.Errorf("re-encoded %q, want %q", again, body)
			}
		})
	}
}

func TestParseFramesRejects(t *testing.T) {
	huge := binary.AppendUvarint(nil, 1<<62)
	tests := []struct {
		name string
		body []byte
	}{
		{"unknown kind", []byte{9}},
		{"zero kind", []byte{0}},
		{"exec without proto", []byte{kindExec}},
		{"exec proto 1", []byte{kindExec, 1, 1, 1, 'x'}},
		{"exec no argc", []byte{kindExec, 2}},
		{"exec zero args", []byte{kindExec, 2, 0}},
		{"exec argc beyond body", []byte{kindExec, 2, 5, 1, 'x'}},
		{"exec huge argc", append([]byte{kindExec, 2}, huge...)},
		{"exec arg beyond body", []byte{kindExec, 2, 1, 5, 'x'}},
		{"exec huge arg", append([]byte{kindExec, 2, 1}, huge...)},
		{"exec truncated varint", []byte{kindExec, 2, 1, 0x80}},
		{"get without flags", []byte{kindGet}},
		{"get key beyond body", []byte{kindGet, 0, 3, 'k'}},
		{"forget no length", []byte{kindForget}},
		{"exec hop without hops", []byte{kindExecHop}},
		{"exec hop zero hops", []byte{kindExecHop, 0, 2, 1, 1, 'x'}},
		{"exec hop without proto", []byte{kindExecHop, 1}},
		{"take no hops", []byte{kindTake}},
		{"take too many hops", []byte{kindTake, MaxHops + 1, 1, 'k', 0}},
		{"take no from", []byte{kindTake, 0, 1, 'k'}},
		{"give no expiry", []byte{kindGive}},
		{"give expiry over int64", append(append([]byte{kindGive}, binary.AppendUvarint(nil, 1<<63)...), 1, 'k', 0)},
		{"give no value", []byte{kindGive, 0, 1, 'k'}},
		{"give value beyond body", []byte{kindGive, 0, 1, 'k', 2, 'v'}},
		{"done short", []byte{kindDone, 1, 2, 3}},
		{"done id beyond body", []byte{kindDone, 0, 0, 0, 0, 0, 0, 0, 1, 5, 'x'}},
		{"good then bad", append(appendKeyFrame(nil, kindForget, 0, []byte("k")), 7)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parseFrames(tt.body, nil, nil)
			if !errors.Is(err, ErrBadFrame) {
				t.Fatalf("err = %v, want ErrBadFrame", err)
			}
		})
	}
}

func TestReplyRoundTrip(t *testing.T) {
	var b []byte
	b = appendReply(b, statusOK, []byte("+OK\r\n"))
	b, start := beginReply(b)
	b = binary.AppendUvarint(b, 1500)
	b = endReply(append(b, "value"...), start, statusOK)
	b = appendReply(b, statusNotFound, nil)
	b = appendReply(b, statusError, []byte("boom"))

	want := []struct {
		status byte
		data   string
	}{{statusOK, "+OK\r\n"}, {statusOK, "\xdc\x0bvalue"}, {statusNotFound, ""}, {statusError, "boom"}}
	for i, w := range want {
		status, data, n, err := parseReply(b)
		if err != nil || status != w.status || string(data) != w.data {
			t.Fatalf("reply %d = %d %q %v, want %d %q", i, status, data, err, w.status, w.data)
		}
		b = b[n:]
	}
	if len(b) != 0 {
		t.Fatalf("%d bytes left", len(b))
	}
	ttl, value, err := parseGetReply([]byte("\xdc\x0bvalue"))
	if err != nil || ttl != 1500 || string(value) != "value" {
		t.Fatalf("parseGetReply = %d %q %v", ttl, value, err)
	}
	for _, bad := range [][]byte{{0, 0, 0}, {0, 0, 0, 0, 9, 'x'}, {0, 0xff, 0xff, 0xff, 0xff}} {
		if _, _, _, err := parseReply(bad); !errors.Is(err, ErrBadFrame) {
			t.Errorf("parseReply(%q) err = %v", bad, err)
		}
	}
	if _, _, err := parseGetReply([]byte{0x80}); !errors.Is(err, ErrBadFrame) {
		t.Errorf("parseGetReply of a truncated ttl: err = %v", err)
	}
}

func FuzzParseFrames(f *testing.F) {
	f.Add([]byte{})
	f.Add(appendExecFrame(nil, 2, bs("SET", "k", "v")))
	f.Add(appendExecFrame(appendKeyFrame(nil, kindGet, getHot, []byte("k")), 3, bs("GET", "k")))
	f.Add(appendKeyFrame(nil, kindForget, 0, []byte("k")))
	f.Add(appendExecHopFrame(appendTakeFrame(nil, 0, []byte("k"), "me"), 2, 1, bs("GET", "k")))
	f.Add(appendDoneFrame(appendGiveFrame(nil, []byte("k"), []byte("v"), 1234), 42, "id"))
	f.Add([]byte{kindExec, 2, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{kindGet, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})
	f.Fuzz(func(t *testing.T, body []byte) {
		frames, args, err := parseFrames(body, nil, nil)
		if err != nil {
			return
		}
		if len(frames) > len(body) || len(args) > len(body) {
			t.Fatalf("%d frames and %d args from %d bytes", len(frames), len(args), len(body))
		}
		if again := encodeFrames(frames); !bytes.Equal(again, body) {
			t.Fatalf("re-encoded %q, want %q", again, body)
		}
	})
}

func FuzzParseReply(f *testing.F) {
	f.Add(appendReply(nil, statusOK, []byte("+OK\r\n")))
	f.Add(appendReply(nil, statusOK, []byte("\x00value")))
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) > 0 {
			status, data, n, err := parseReply(b)
			if err != nil {
				return
			}
			if n != replyHeader+len(data) || n > len(b) {
				t.Fatalf("n = %d for %d data bytes of %d", n, len(data), len(b))
			}
			if again := appendReply(nil, status, data); !bytes.Equal(again, b[:n]) {
				t.Fatalf("re-encoded %q, want %q", again, b[:n])
			}
			parseGetReply(data)
			b = b[n:]
		}
	})
}
