package resp

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

// Integers: what redis-server 7.0.15 answered to INCRBY n <arg> (n = 5) and
// SET k v EX <arg>.
func TestParseInt(t *testing.T) {
	cases := map[string]struct {
		want int64
		ok   bool
	}{
		"0":                     {0, true},
		"1":                     {1, true},
		"-1":                    {-1, true},
		"10":                    {10, true},
		"9223372036854775807":   {math.MaxInt64, true},
		"-9223372036854775808":  {math.MinInt64, true}, // INCRBY n -9223372036854775808: -9223372036854775803
		"9223372036854775808":   {0, false},
		"-9223372036854775809":  {0, false},
		"99999999999999999999":  {0, false}, // not an integer
		"123456789012345678901": {0, false},
		"18446744073709551616":  {0, false},
		"01":                    {0, false}, // SET k v EX 01: not an integer
		"000":                   {0, false},
		"-0":                    {0, false}, // INCRBY n -0: not an integer
		"+1":                    {0, false}, // INCRBY n +1: not an integer
		" 1":                    {0, false}, // INCRBY n " 1": not an integer
		"1 ":                    {0, false},
		"":                      {0, false},
		"-":                     {0, false},
		"1x":                    {0, false},
		"0x10":                  {0, false},
		"1e3":                   {0, false},
		"1.0":                   {0, false},
		"\x001":                 {0, false},
	}
	for in, want := range cases {
		got, ok := ParseInt([]byte(in))
		if got != want.want || ok != want.ok {
			t.Errorf("ParseInt(%q) = %d, %v; want %d, %v", in, got, ok, want.want, want.ok)
		}
	}
}

// FuzzParseInt compares ParseInt with strconv on canonical forms: ParseInt
// accepts s exactly when strconv parses it and formats it back to s.
func FuzzParseInt(f *testing.F) {
	for _, s := range []string{"0", "-1", "01", "-0", "+1", " 1", "9223372036854775807",
		"-9223372036854775808", "9223372036854775808", "99999999999999999999", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := ParseInt(b)
		want, err := strconv.ParseInt(string(b), 10, 64)
		canonical := err == nil && strconv.FormatInt(want, 10) == string(b)
		if ok != canonical || ok && got != want {
			t.Fatalf("ParseInt(%q) = %d, %v; strconv %d, %v", b, got, ok, want, err)
		}
	})
}

// Cursors: SCAN <arg> on redis-server 7.0.15.
func TestParseCursor(t *testing.T) {
	cases := map[string]struct {
		want uint64
		ok   bool
	}{
		"0":                    {0, true},
		"":                     {0, true}, // SCAN "": 0 and keys
		"007":                  {7, true},
		"+5":                   {5, true},
		"-1":                   {math.MaxUint64, true},
		"18446744073709551615": {math.MaxUint64, true},
		"18446744073709551616": {0, false}, // invalid cursor
		" 5":                   {0, false},
		"5 ":                   {0, false},
		"+":                    {0, false},
		"-":                    {0, false},
		"1a":                   {0, false},
	}
	for in, want := range cases {
		got, ok := ParseCursor([]byte(in))
		if got != want.want || ok != want.ok {
			t.Errorf("ParseCursor(%q) = %d, %v; want %d, %v", in, got, ok, want.want, want.ok)
		}
	}
}

func TestParseFloat(t *testing.T) {
	cases := map[string]struct {
		want float64
		ok   bool
	}{
		"1":                              {1, true},
		"-1.5":                           {-1.5, true},
		"+1.5":                           {1.5, true},
		".5":                             {0.5, true},
		"5.":                             {5, true},
		"1e3":                            {1000, true},
		"1.5E2":                          {150, true},
		"3.0e3":                          {3000, true},
		"0x10":                           {16, true},
		"0x1p3":                          {8, true},
		"0x.8":                           {0.5, true},
		"inf":                            {math.Inf(1), true},
		"-INF":                           {math.Inf(-1), true},
		"Infinity":                       {math.Inf(1), true},
		"-0.0":                           {math.Copysign(0, -1), true},
		"1e400":                          {0, false}, // Redis accepts it as a long double
		"":                               {0, false},
		" 1":                             {0, false},
		"1 ":                             {0, false},
		"nan":                            {0, false},
		"NaN":                            {0, false},
		"-nan":                           {0, false},
		"infinit":                        {0, false},
		".":                              {0, false},
		"e5":                             {0, false},
		"1e":                             {0, false},
		"1e+":                            {0, false},
		"1..2":                           {0, false},
		"1_0":                            {0, false},
		"0x":                             {0, false},
		"0x1p":                           {0, false},
		"0x_1p0":                         {0, false},
		"1,5":                            {0, false},
		"1\x00":                          {0, false},
		"0." + strings.Repeat("0", 5117): {0, true},  // 5119 bytes
		"0." + strings.Repeat("0", 5118): {0, false}, // 5120: too long for Redis
	}
	for in, want := range cases {
		got, ok := ParseFloat([]byte(in))
		if ok != want.ok || ok && (got != want.want || math.Signbit(got) != math.Signbit(want.want)) {
			t.Errorf("ParseFloat(%.20q) = %v, %v; want %v, %v", in, got, ok, want.want, want.ok)
		}
	}
}

// TestIncrByFloat: each row is SET fk <cur> (none: the key is missing);
// INCRBYFLOAT fk <incr> and what redis-server 7.0.15 replied.
func TestIncrByFloat(t *testing.T) {
	cases := []struct {
		cur, incr string
		missing   bool
		want, msg string
	}{
		{cur: "10.5", incr: "0.1", want: "10.6"},
		{cur: "0.1", incr: "0.2", want: "0.3"},
		{cur: "0.1", incr: "0.1", want: "0.2"},
		{cur: "1", incr: "-0.9", want: "0.1"},
		{cur: "0.30000000000000004", incr: "0", want: "0.30000000000000004"},
		{missing: true, incr: "3.0e3", want: "3000"},
		{missing: true, incr: "5.0e3", want: "5000"},
		{missing: true, incr: "1.1e-5", want: "0.000011"},
		{missing: true, incr: "1e-20", want: "0"},
		{missing: true, incr: ".5", want: "0.5"},
		{missing: true, incr: "5.", want: "5"},
		{missing: true, incr: "+1.5", want: "1.5"},
		{missing: true, incr: "0x10", want: "16"},
		{missing: true, incr: "0x1p3", want: "8"},
		{missing: true, incr: "0x.8", want: "0.5"},
		{missing: true, incr: "-0.0", want: "0"},
		{missing: true, incr: "1e17", want: "100000000000000000"},
		{missing: true, incr: "1e20", want: "100000000000000000000"},
		{missing: true, incr: "123456789.123456789", want: "123456789.12345678899873747"},
		{missing: true, incr: "3.14159265358979323846", want: "3.14159265358979324"},
		{missing: true, incr: "9007199254740993", want: "9007199254740993"},
		{missing: true, incr: "1e-400", want: "0"},
		{missing: true, incr: "1e400", want: "1" + strings.Repeat("0", 19) + "281880683947586514586453433629052038625910693539685534008629862039363994848324160522094053927317616200295822777259255734023828976593340661017797447434546173917862448116674971723778943824391593338047470675026246684401359237513603830343735485505244955964979021825038280091068414947402456898653040951017512658092615827588920183472511643316591362664138176309734806343732497430221946880"},
		{missing: true, incr: "1.7976931348623157e308", want: "179769313486231569995921046774104434048386446944329178485314420765176628523124396354701868608387085564428793419425520689308708363451136055357897278026477617073498977686288394835618163294045594434929537447290627480669417384648879122776218333598953852832103282504751611691208117720159985926376802466863339536384"},
		{missing: true, incr: "1e5000", msg: MsgNotFloat},
		{missing: true, incr: "1e-5000", msg: MsgNotFloat},
		{missing: true, incr: "inf", msg: MsgNaNOrInfinity},
		{missing: true, incr: "-inf", msg: MsgNaNOrInfinity},
		{missing: true, incr: "INF", msg: MsgNaNOrInfinity},
		{missing: true, incr: "infinity", msg: MsgNaNOrInfinity},
		{cur: "inf", incr: "1", msg: MsgNaNOrInfinity},
		{missing: true, incr: "nan", msg: MsgNotFloat},
		{missing: true, incr: " 1", msg: MsgNotFloat},
		{missing: true, incr: "1 ", msg: MsgNotFloat},
		{missing: true, incr: "", msg: MsgNotFloat},
		{missing: true, incr: "1_0", msg: MsgNotFloat},
		{missing: true, incr: "0x", msg: MsgNotFloat},
		{cur: "v", incr: "1", msg: MsgNotFloat},                // SET s v; INCRBYFLOAT s 1
		{cur: "", incr: "1", msg: MsgNotFloat},                 // an empty value is not 0
		{cur: "1e4932", incr: "1e4932", msg: MsgNaNOrInfinity}, // overflows the long double
	}
	for _, tc := range cases {
		got, msg := IncrByFloat([]byte("x"), []byte(tc.cur), !tc.missing, []byte(tc.incr))
		if msg != tc.msg || msg == "" && string(got) != "x"+tc.want || msg != "" && string(got) != "x" {
			t.Errorf("%q + %q = %q, %q; want %q, %q", tc.cur, tc.incr, got, msg, tc.want, tc.msg)
		}
	}
}

// TestIncrByFloatRepeated: ten INCRBYFLOAT k 0.1 from a missing key end at
// 1 in Redis (each result is stored as text and read back), where float64
// sums drift to 0.9999999999999999.
func TestIncrByFloatRepeated(t *testing.T) {
	var v []byte
	for i := range 10 {
		var msg string
		v, msg = IncrByFloat(nil, v, i > 0, []byte("0.1"))
		if msg != "" {
			t.Fatal(msg)
		}
	}
	if string(v) != "1" {
		t.Fatalf("ten times 0.1 = %q, want 1", v)
	}
}

func TestFormatFloat(t *testing.T) {
	cases := []struct {
		in   float64
		want string
	}{
		{10.5 + 0.1, "10.6"},
		{3000, "3000"},
		{1.1e-5, "0.000011"},
		{1e-20, "0"},
		{-1e-20, "0"},
		{math.Copysign(0, -1), "0"},
		{0.5, "0.5"},
		{-2.25, "-2.25"},
		{1e20, "100000000000000000000"},
		{123456789.123456789, "123456789.12345679"},
		{1.0 / 3, "0.3333333333333333"},         // the shortest form, not %.17f's ...31
		{2.0 / 3 * 1e-3, "0.00066666666666667"}, // 17 places after the point
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
	}
	for _, tc := range cases {
		if got := FormatFloat([]byte("x"), tc.in); string(got) != "x"+tc.want {
			t.Errorf("FormatFloat(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Memory values: CONFIG SET maxmemory <arg> on redis-server 7.0.15, then
// CONFIG GET maxmemory.
func TestParseMemory(t *testing.T) {
	cases := map[string]int64{
		"0":                   0,
		"100":                 100,
		"1b":                  1,
		"1B":                  1,
		"1k":                  1000, // CONFIG GET: 1000
		"1K":                  1000,
		"1kb":                 1024,
		"100kb":               100 << 10,
		"64mb":                64 << 20,
		"64MB":                64 << 20,
		"1m":                  1000000,
		"1g":                  1000000000,
		"1gb":                 1 << 30,
		"1Gb":                 1 << 30,
		"":                    0, // OK
		"gb":                  0, // OK, then 0
		"9223372036854775807": math.MaxInt64,
	}
	for in, want := range cases {
		got, err := ParseMemory(in)
		if err != nil || got != want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{
		"1.5gb", "-1", "+1", " 1", "1 ", "1t", "1kib", "1gbb", "k1",
		"9223372036854775808",  // Redis: OK (unsigned)
		"20000000000gb",        // Redis: OK (wraps around)
		"18446744073709551616", // Redis: refused
	} {
		if got, err := ParseMemory(in); !errors.Is(err, ErrMemoryValue) {
			t.Errorf("ParseMemory(%q) = %d, %v; want ErrMemoryValue", in, got, err)
		}
	}
}
