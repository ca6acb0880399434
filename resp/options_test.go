package resp

import (
	"math"
	"strings"
	"testing"
)

const now = 1_700_000_000_000 // a fixed "now" in Unix ms

// words splits a test's command text into arguments.
func words(s string) [][]byte {
	var out [][]byte
	for _, w := range strings.Fields(s) {
		out = append(out, []byte(w))
	}
	return out
}

// SET k v <options>: each row's comment is what redis-server 7.0.15 replied
// where it is not plain OK.
func TestParseSetOptions(t *testing.T) {
	cases := map[string]struct {
		want SetOptions
		msg  string
	}{
		"":                         {},
		"NX":                       {want: SetOptions{NX: true}},
		"nx NX":                    {want: SetOptions{NX: true}}, // SET k v NX NX: allowed
		"XX GET":                   {want: SetOptions{XX: true, Get: true}},
		"NX GET":                   {want: SetOptions{NX: true, Get: true}}, // allowed since 7.0
		"GET GET":                  {want: SetOptions{Get: true}},
		"KEEPTTL KEEPTTL":          {want: SetOptions{KeepTTL: true}},
		"EX 10":                    {want: SetOptions{ExpireAt: now + 10_000}},
		"ex 10 EX 20":              {want: SetOptions{ExpireAt: now + 20_000}}, // the last wins: TTL 20
		"PX 1500":                  {want: SetOptions{ExpireAt: now + 1500}},
		"EXAT 1700000001":          {want: SetOptions{ExpireAt: 1_700_000_001_000}},
		"PXAT 1":                   {want: SetOptions{ExpireAt: 1}}, // in the past: allowed
		"NX EX 10 GET":             {want: SetOptions{NX: true, Get: true, ExpireAt: now + 10_000}},
		"PXAT 9223372036854775807": {want: SetOptions{ExpireAt: math.MaxInt64}}, // OK
		"EXAT 9223372036854775":    {want: SetOptions{ExpireAt: 9223372036854775000}},
		"NX\x00junk":               {want: SetOptions{NX: true}}, // matched as a C string: OK

		"NX XX":         {msg: MsgSyntax},
		"XX NX":         {msg: MsgSyntax},
		"EX":            {msg: MsgSyntax},
		"EX 10 PX 10":   {msg: MsgSyntax},
		"EX 10 KEEPTTL": {msg: MsgSyntax},
		"KEEPTTL PX 10": {msg: MsgSyntax},
		"PERSIST":       {msg: MsgSyntax}, // GETEX only
		"FOO":           {msg: MsgSyntax},
		"NXX":           {msg: MsgSyntax},
		"EX abc NX XX":  {msg: MsgSyntax}, // options before the value

		"EX abc":  {msg: MsgNotInt},
		"EX 01":   {msg: MsgNotInt},
		"EX +1":   {msg: MsgNotInt},
		"EX 1.5":  {msg: MsgNotInt},
		"EX 0":    {msg: "ERR invalid expire time in 'set' command"},
		"EX -1":   {msg: "ERR invalid expire time in 'set' command"},
		"EXAT 0":  {msg: "ERR invalid expire time in 'set' command"},
		"PXAT -5": {msg: "ERR invalid expire time in 'set' command"},
		// Seconds that overflow milliseconds, or milliseconds that overflow
		// once now is added.
		"EX 9223372036854775807": {msg: "ERR invalid expire time in 'set' command"},
		"EX 9223372036854775":    {msg: "ERR invalid expire time in 'set' command"},
		"EX 9223372036854774":    {msg: "ERR invalid expire time in 'set' command"},
		"PX 9223372036854775807": {msg: "ERR invalid expire time in 'set' command"},
	}
	for in, tc := range cases {
		got, msg := ParseSetOptions(words(in), now)
		if got != tc.want || msg != tc.msg {
			t.Errorf("SET k v %s = %+v, %q; want %+v, %q", in, got, msg, tc.want, tc.msg)
		}
	}
}

// FuzzSetOptions: any arguments give either options or one of the errors
// SET can reply, without panicking; conflicting flags never come out.
func FuzzSetOptions(f *testing.F) {
	for _, s := range []string{"NX", "XX GET", "EX 10", "PX 1 PXAT 2", "KEEPTTL", "EX 9223372036854775807",
		"ex 10 EX 20", "EX", "GET NX\x00 xx"} {
		f.Add(s, int64(now))
	}
	f.Fuzz(func(t *testing.T, s string, now int64) {
		o, msg := ParseSetOptions(words(s), now)
		switch msg {
		case "":
			if o.NX && o.XX || o.KeepTTL && o.ExpireAt != 0 || o.ExpireAt < 0 {
				t.Fatalf("%q: %+v", s, o)
			}
		case MsgSyntax, MsgNotInt, MsgInvalidExpire("set"):
			if o != (SetOptions{}) {
				t.Fatalf("%q: options %+v with error %q", s, o, msg)
			}
		default:
			t.Fatalf("%q: unexpected error %q", s, msg)
		}
	})
}

// GETEX k <options> on a key holding a string; the syntax is checked before
// the key is looked up, the value after ("GETEX missing EX abc" is nil).
func TestParseGetexOptions(t *testing.T) {
	cases := map[string]struct {
		want GetexOptions
		msg  string
	}{
		"":                       {},
		"PERSIST":                {want: GetexOptions{Persist: true}},
		"PERSIST PERSIST":        {want: GetexOptions{Persist: true}},
		"EX 10":                  {want: GetexOptions{ExpireAt: now + 10_000}},
		"EX 10 EX 20":            {want: GetexOptions{ExpireAt: now + 20_000}},
		"PXAT 5":                 {want: GetexOptions{ExpireAt: 5}},
		"EX abc":                 {want: GetexOptions{ExpireErr: MsgNotInt}},
		"EX 0":                   {want: GetexOptions{ExpireErr: "ERR invalid expire time in 'getex' command"}},
		"PX 9223372036854775807": {want: GetexOptions{ExpireErr: "ERR invalid expire time in 'getex' command"}},
		"PERSIST EX 10":          {msg: MsgSyntax},
		"EX 10 PERSIST":          {msg: MsgSyntax},
		"KEEPTTL":                {msg: MsgSyntax},
		"NX":                     {msg: MsgSyntax},
		"GET":                    {msg: MsgSyntax},
		"FOO":                    {msg: MsgSyntax},
		"EX":                     {msg: MsgSyntax},
	}
	for in, tc := range cases {
		got, msg := ParseGetexOptions(words(in), now)
		if got != tc.want || msg != tc.msg {
			t.Errorf("GETEX k %s = %+v, %q; want %+v, %q", in, got, msg, tc.want, tc.msg)
		}
	}
}

func TestParseSetExpire(t *testing.T) {
	// SETEX k 0 v: invalid expire time in 'setex' command.
	if _, msg := ParseSetExpire([]byte("0"), Seconds, true, now, "SETEX"); msg != "ERR invalid expire time in 'setex' command" {
		t.Errorf("SETEX 0: %q", msg)
	}
	if at, msg := ParseSetExpire([]byte("250"), Milliseconds, true, now, "psetex"); msg != "" || at != now+250 {
		t.Errorf("PSETEX 250: %d, %q", at, msg)
	}
}

// EXPIRE k <time> <flags>: redis-server 7.0.15's replies.
func TestParseExpireOptions(t *testing.T) {
	cases := map[string]struct {
		want ExpireOptions
		msg  string
	}{
		"":          {},
		"NX":        {want: ExpireOptions{NX: true}},
		"xx xx":     {want: ExpireOptions{XX: true}}, // 1
		"NX NX":     {want: ExpireOptions{NX: true}},
		"LT XX":     {want: ExpireOptions{LT: true, XX: true}}, // allowed
		"gt":        {want: ExpireOptions{GT: true}},
		"NX XX":     {msg: MsgExpireNXConflict},
		"NX GT":     {msg: MsgExpireNXConflict},
		"LT NX":     {msg: MsgExpireNXConflict},
		"GT LT":     {msg: MsgExpireGTLT},
		"FOO":       {msg: "ERR Unsupported option FOO"},
		"NX FOO":    {msg: "ERR Unsupported option FOO"}, // before conflicts
		"NX XX FOO": {msg: "ERR Unsupported option FOO"},
	}
	for in, tc := range cases {
		got, msg := ParseExpireOptions(words(in))
		if got != tc.want || msg != tc.msg {
			t.Errorf("EXPIRE k 10 %s = %+v, %q; want %+v, %q", in, got, msg, tc.want, tc.msg)
		}
	}
}

func TestParseExpireTime(t *testing.T) {
	cases := []struct {
		arg  string
		unit Unit
		base int64
		cmd  string
		want int64
		msg  string
	}{
		{"10", Seconds, now, "expire", now + 10_000, ""},
		{"-10", Seconds, now, "expire", now - 10_000, ""}, // allowed: deletes the key
		{"0", Milliseconds, now, "pexpire", now, ""},
		{"9223372036854775", Seconds, 0, "expireat", 9223372036854775000, ""}, // EXPIREAT: 1
		{"abc", Seconds, now, "expire", 0, MsgNotInt},
		{"9223372036854776", Seconds, now, "expire", 0, "ERR invalid expire time in 'expire' command"},
		{"9223372036854775", Seconds, now, "expire", 0, "ERR invalid expire time in 'expire' command"},
		{"-9223372036854776", Seconds, now, "expire", 0, "ERR invalid expire time in 'expire' command"},
		{"9223372036854775807", Milliseconds, now, "pexpire", 0, "ERR invalid expire time in 'pexpire' command"},
		{"-9223372036854775808", Milliseconds, now, "pexpire", math.MinInt64 + now, ""},
	}
	for _, tc := range cases {
		got, msg := ParseExpireTime([]byte(tc.arg), tc.unit, tc.base, tc.cmd)
		if got != tc.want || msg != tc.msg {
			t.Errorf("%s k %s = %d, %q; want %d, %q", tc.cmd, tc.arg, got, msg, tc.want, tc.msg)
		}
	}
}

// SCAN 0 <options>: redis-server 7.0.15's replies.
func TestParseScanOptions(t *testing.T) {
	type want struct {
		match, typ string
		count      int64
		msg        string
	}
	cases := map[string]want{
		"":                            {count: 10},
		"count 5 match * type string": {count: 5, typ: "string"},
		"MATCH a* MATCH *":            {count: 10},
		"MATCH * MATCH a*":            {match: "a*", count: 10},
		"COUNT 2147483648":            {count: 2147483648},
		"COUNT 9223372036854775807":   {count: math.MaxInt64},
		"TYPE foo":                    {typ: "foo", count: 10}, // no error in 7.0
		"COUNT 0":                     {msg: MsgSyntax},
		"COUNT -1":                    {msg: MsgSyntax},
		"COUNT abc":                   {msg: MsgNotInt},
		"COUNT 99999999999999999999":  {msg: MsgNotInt},
		"COUNT":                       {msg: MsgSyntax},
		"MATCH":                       {msg: MsgSyntax},
		"TYPE":                        {msg: MsgSyntax},
		"FOO bar":                     {msg: MsgSyntax},
		"COUNT 0 MATCH":               {msg: MsgSyntax},
		"COUNT 5 MATCH":               {msg: MsgSyntax},
	}
	for in, tc := range cases {
		got, msg := ParseScanOptions(words(in))
		if string(got.Match) != tc.match || string(got.Type) != tc.typ || got.Count != tc.count || msg != tc.msg {
			t.Errorf("SCAN 0 %s = %+v, %q; want %+v", in, got, msg, tc)
		}
	}
}
