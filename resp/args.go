package resp

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseInt parses b as Redis parses an integer argument (string2ll): an
// optional '-', then "0" or a digit 1-9 followed by digits, at most 20
// bytes, within int64. No '+', no spaces, no leading zeros, no "-0".
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	if b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	v, ok := parseDigits(b)
	if !ok {
		return 0, false
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true // -(1<<63) wraps to itself
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// ParseCursor parses a SCAN cursor as Redis does (strtoul): an optional
// '+' or '-' (a negative cursor wraps around) then digits, leading zeros
// allowed, within uint64; the empty string is 0 but a lone sign is not; no
// space. It fails with MsgInvalidCursor.
func ParseCursor(b []byte) (uint64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		neg = b[0] == '-'
		b = b[1:]
		if len(b) == 0 {
			return 0, false // strtoul converts nothing and points at the sign
		}
	}
	v, ok := parseDigits(b)
	if !ok {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// parseDigits reads b, decimal digits only, as a uint64; false when b has
// another byte or overflows. The empty string is 0.
func parseDigits(b []byte) (uint64, bool) {
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// ParseFloat parses b as Redis parses a float argument of INCRBYFLOAT
// (string2ld: strtold on the whole argument). It accepts what C's strtold
// accepts in the C locale: an optional sign, then decimal digits with an
// optional point and exponent (".5", "5.", "1e3"), a hexadecimal number
// ("0x1p3", "0x10"), or "inf"/"infinity" in any case. It rejects empty
// input, leading or trailing space, "nan", and anything longer than 5119
// bytes.
//
// Redis reads into a long double (x86-64: 64-bit mantissa, range about
// 1e±4932); this returns the nearest float64, so it refuses a finite value
// beyond float64's range that Redis accepts (1e400), and gives 0 or a
// subnormal where Redis keeps a tiny long double (1e-400). IncrByFloat
// computes with long double precision and range.
func ParseFloat(b []byte) (float64, bool) {
	n, ok := scanFloat(b)
	if !ok {
		return 0, false
	}
	if n.inf {
		if n.neg {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	s := string(b)
	if n.hex && !n.hasExp {
		s += "p0" // strconv wants the binary exponent that C makes optional
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil { // out of float64's range
		return 0, false
	}
	return f, true
}

// floatSyntax describes a number that strtold would consume whole.
type floatSyntax struct {
	neg, inf, hex, hasExp bool
	mant                  string // digits, without the point
	point                 int    // digits before the point
	exp                   int64  // exponent, clamped to ±1e9
}

const maxLongDoubleChars = 5 * 1024 // Redis's MAX_LONG_DOUBLE_CHARS

// scanFloat checks b against strtold's grammar and splits it up.
func scanFloat(b []byte) (n floatSyntax, ok bool) {
	if len(b) == 0 || len(b) >= maxLongDoubleChars {
		return n, false
	}
	s := string(b)
	if s[0] == '+' || s[0] == '-' {
		n.neg = s[0] == '-'
		s = s[1:]
	}
	if l := strings.ToLower(s); l == "inf" || l == "infinity" {
		n.inf = true
		return n, true
	}
	digit := isDigit
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		n.hex = true
		digit = isHex
		s = s[2:]
	}
	i := 0
	for i < len(s) && digit(s[i]) {
		i++
	}
	n.point = i
	n.mant = s[:i]
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && digit(s[j]) {
			j++
		}
		n.mant += s[i+1 : j]
		i = j
	}
	if n.mant == "" {
		return n, false
	}
	s = s[i:]
	if s == "" {
		return n, true
	}
	if !n.hex && (s[0] == 'e' || s[0] == 'E') || n.hex && (s[0] == 'p' || s[0] == 'P') {
		s = s[1:]
		neg := false
		if s != "" && (s[0] == '+' || s[0] == '-') {
			neg = s[0] == '-'
			s = s[1:]
		}
		if s == "" {
			return n, false
		}
		for j := 0; j < len(s); j++ {
			if !isDigit(s[j]) {
				return n, false
			}
			if n.exp < 1e9 {
				n.exp = n.exp*10 + int64(s[j]-'0')
			}
		}
		if neg {
			n.exp = -n.exp
		}
		n.hasExp = true
		return n, true
	}
	return n, false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// FormatFloat appends f as Redis prints an INCRBYFLOAT result (ld2string,
// human mode: %.17Lf, trailing zeros and point trimmed, "-0" as "0"), for a
// float64 computed by the caller. Redis prints a long double, so here the
// digits come from the shortest decimal that reads back as f, rounded to 17
// places after the point: 10.5+0.1 prints "10.6" and 1e-20 prints "0" as in
// Redis, but a float64 sum carries float64 error (0.1+0.2 prints
// "0.30000000000000004" where Redis prints "0.3"); IncrByFloat does not.
func FormatFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
	if dot := bytes.IndexByte(dst[start:], '.'); dot >= 0 && len(dst)-start-dot-1 > 17 {
		dst = strconv.AppendFloat(dst[:start], f, 'f', 17, 64)
	}
	return trimFloat(dst, start)
}

// trimFloat trims trailing zeros after the point, then the point, and turns
// "-0" into "0", as ld2string does.
func trimFloat(dst []byte, start int) []byte {
	if bytes.IndexByte(dst[start:], '.') >= 0 {
		for dst[len(dst)-1] == '0' {
			dst = dst[:len(dst)-1]
		}
		if dst[len(dst)-1] == '.' {
			dst = dst[:len(dst)-1]
		}
	}
	if string(dst[start:]) == "-0" {
		dst = append(dst[:start], '0')
	}
	return dst
}

// ErrMemoryValue is wrapped by ParseMemory's errors. Its text is the reason
// CONFIG SET gives (see MsgConfigSetFailed).
const ErrMemoryValue = constError("argument must be a memory value")

// ParseMemory parses a memory amount as Redis's configuration does
// (memtoull): digits, then optionally a unit, case-insensitive: b (1), k
// (1000), kb (1024), m (1000²), mb (1024²), g (1000³), gb (1024³). Redis
// reads no digits as 0 ("" and "gb" are 0), accepts no sign, space or
// fraction. Where Redis wraps around an unsigned 64-bit overflow, ParseMemory
// refuses amounts beyond int64.
func ParseMemory(s string) (int64, error) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	var mul uint64
	switch strings.ToLower(s[i:]) {
	case "", "b":
		mul = 1
	case "k":
		mul = 1000
	case "kb":
		mul = 1024
	case "m":
		mul = 1000 * 1000
	case "mb":
		mul = 1024 * 1024
	case "g":
		mul = 1000 * 1000 * 1000
	case "gb":
		mul = 1024 * 1024 * 1024
	default:
		return 0, fmt.Errorf("memory value %q: %w", s, ErrMemoryValue)
	}
	var v uint64
	if i > 0 {
		var err error
		v, err = strconv.ParseUint(s[:i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("memory value %q: %w", s, ErrMemoryValue)
		}
	}
	if v > math.MaxInt64/mul {
		return 0, fmt.Errorf("memory value %q out of range: %w", s, ErrMemoryValue)
	}
	return int64(v * mul), nil
}
