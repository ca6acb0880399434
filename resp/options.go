package resp

import "math"

// Option parsers for SET, GETEX, EXPIRE and SCAN. Each takes the arguments
// after the fixed ones and returns the options with "" or the error reply
// Redis would send. Times are Unix milliseconds; now is passed in so the
// parsers stay pure.
//
// Option names match as Redis matches them, case-insensitively and, like
// C's string functions, only up to a NUL byte ("NX\x00junk" is NX).

// Unit is the unit of an expire time argument.
type Unit uint8

// Units of expire time arguments.
const (
	Seconds Unit = iota
	Milliseconds
)

// SetOptions are the options of SET key value [NX|XX] [GET]
// [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL].
type SetOptions struct {
	NX, XX  bool
	Get     bool
	KeepTTL bool
	// ExpireAt is the absolute expire time in Unix ms, or 0 when no
	// EX/PX/EXAT/PXAT was given (every valid one is positive). It may be in
	// the past (EXAT 1).
	ExpireAt int64
}

// Flags of the extended string arguments, as Redis tracks them.
const (
	optNX = 1 << iota
	optXX
	optGet
	optKeepTTL
	optPersist
	optEX
	optPX
	optEXAT
	optPXAT
)

const optExpire = optEX | optPX | optEXAT | optPXAT

// ParseSetOptions parses SET's options (the arguments after the value) and
// resolves the expire time against now. A repeated option is allowed (the
// last expire wins); a conflicting one (NX with XX, KEEPTTL with an expire,
// two kinds of expire), an unknown one, or an expire without its value is
// MsgSyntax. Only then is the expire value checked: not an integer is
// MsgNotInt; zero, negative or overflowing is MsgInvalidExpire("set").
func ParseSetOptions(opts [][]byte, now int64) (SetOptions, string) {
	flags, expire, msg := parseStringOptions(opts, false)
	if msg != "" {
		return SetOptions{}, msg
	}
	o := SetOptions{
		NX:      flags&optNX != 0,
		XX:      flags&optXX != 0,
		Get:     flags&optGet != 0,
		KeepTTL: flags&optKeepTTL != 0,
	}
	if expire != nil {
		o.ExpireAt, msg = ParseSetExpire(expire, expireUnit(flags), flags&(optEX|optPX) != 0, now, "set")
		if msg != "" {
			return SetOptions{}, msg
		}
	}
	return o, ""
}

// GetexOptions are the options of GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST].
type GetexOptions struct {
	Persist bool
	// ExpireAt is the absolute expire time in Unix ms, or 0 when no expire
	// was given or it is bad (see ExpireErr).
	ExpireAt int64
	// ExpireErr is the error reply for a bad expire value. Redis checks the
	// value only after finding the key and its type, so a missing key gets
	// its nil reply, and a key of another type WRONGTYPE, before this.
	ExpireErr string
}

// ParseGetexOptions parses GETEX's options (the arguments after the key).
// The returned error text is MsgSyntax for an unknown, conflicting or
// incomplete option; a bad expire value is reported in ExpireErr instead.
func ParseGetexOptions(opts [][]byte, now int64) (GetexOptions, string) {
	flags, expire, msg := parseStringOptions(opts, true)
	if msg != "" {
		return GetexOptions{}, msg
	}
	o := GetexOptions{Persist: flags&optPersist != 0}
	if expire != nil {
		o.ExpireAt, o.ExpireErr = ParseSetExpire(expire, expireUnit(flags), flags&(optEX|optPX) != 0, now, "getex")
	}
	return o, ""
}

func expireUnit(flags int) Unit {
	if flags&(optPX|optPXAT) != 0 {
		return Milliseconds
	}
	return Seconds
}

// parseStringOptions follows Redis's parseExtendedStringArgumentsOrReply:
// each option is accepted unless an option it conflicts with came before.
func parseStringOptions(opts [][]byte, getex bool) (flags int, expire []byte, msg string) {
	set := !getex
	for j := 0; j < len(opts); j++ {
		opt := cstring(opts[j])
		hasNext := j+1 < len(opts)
		var f int
		switch {
		case set && eqFold(opt, "nx") && flags&optXX == 0:
			f = optNX
		case set && eqFold(opt, "xx") && flags&optNX == 0:
			f = optXX
		case set && eqFold(opt, "get"):
			f = optGet
		case set && eqFold(opt, "keepttl") && flags&(optPersist|optExpire) == 0:
			f = optKeepTTL
		case getex && eqFold(opt, "persist") && flags&(optKeepTTL|optExpire) == 0:
			f = optPersist
		case eqFold(opt, "ex") && hasNext && flags&(optKeepTTL|optPersist|optExpire&^optEX) == 0:
			f = optEX
		case eqFold(opt, "px") && hasNext && flags&(optKeepTTL|optPersist|optExpire&^optPX) == 0:
			f = optPX
		case eqFold(opt, "exat") && hasNext && flags&(optKeepTTL|optPersist|optExpire&^optEXAT) == 0:
			f = optEXAT
		case eqFold(opt, "pxat") && hasNext && flags&(optKeepTTL|optPersist|optExpire&^optPXAT) == 0:
			f = optPXAT
		default:
			return 0, nil, MsgSyntax
		}
		flags |= f
		if f&optExpire != 0 {
			j++
			expire = opts[j]
		}
	}
	return flags, expire, ""
}

// ParseSetExpire converts the expire argument of SET, GETEX, SETEX or PSETEX
// to an absolute time in Unix ms, as Redis's getExpireMillisecondsOrReply:
// relative times (EX, PX, SETEX, PSETEX) are added to now. Not an integer is
// MsgNotInt; zero, negative, or overflowing is MsgInvalidExpire(cmd).
func ParseSetExpire(arg []byte, unit Unit, relative bool, now int64, cmd string) (int64, string) {
	ms, ok := ParseInt(arg)
	if !ok {
		return 0, MsgNotInt
	}
	if ms <= 0 || unit == Seconds && ms > math.MaxInt64/1000 {
		return 0, MsgInvalidExpire(cmd)
	}
	if unit == Seconds {
		ms *= 1000
	}
	if relative {
		if now > 0 && ms > math.MaxInt64-now { // Redis lets it wrap negative
			return 0, MsgInvalidExpire(cmd)
		}
		ms += now
	}
	if ms <= 0 {
		return 0, MsgInvalidExpire(cmd)
	}
	return ms, ""
}

// ExpireOptions are the flags of EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT.
type ExpireOptions struct {
	NX, XX, GT, LT bool
}

// ParseExpireOptions parses the flags after EXPIRE's key and time. Repeats
// are allowed; an unknown flag is MsgUnsupportedOption, checked first; then
// NX with XX, GT or LT is MsgExpireNXConflict, and GT with LT MsgExpireGTLT.
// Redis checks the flags before the time (see ParseExpireTime).
func ParseExpireOptions(opts [][]byte) (ExpireOptions, string) {
	var o ExpireOptions
	for _, arg := range opts {
		opt := cstring(arg)
		switch {
		case eqFold(opt, "nx"):
			o.NX = true
		case eqFold(opt, "xx"):
			o.XX = true
		case eqFold(opt, "gt"):
			o.GT = true
		case eqFold(opt, "lt"):
			o.LT = true
		default:
			return ExpireOptions{}, MsgUnsupportedOption(arg)
		}
	}
	if o.NX && (o.XX || o.GT || o.LT) {
		return ExpireOptions{}, MsgExpireNXConflict
	}
	if o.GT && o.LT {
		return ExpireOptions{}, MsgExpireGTLT
	}
	return o, ""
}

// ParseExpireTime converts the time argument of EXPIRE-like commands to an
// absolute time in Unix ms: base is now for EXPIRE and PEXPIRE, 0 for
// EXPIREAT and PEXPIREAT. Unlike SET's, a time may be zero or negative (the
// key then expires at once); not an integer is MsgNotInt, an overflow
// MsgInvalidExpire(cmd).
func ParseExpireTime(arg []byte, unit Unit, base int64, cmd string) (int64, string) {
	when, ok := ParseInt(arg)
	if !ok {
		return 0, MsgNotInt
	}
	if unit == Seconds {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			return 0, MsgInvalidExpire(cmd)
		}
		when *= 1000
	}
	if base > 0 && when > math.MaxInt64-base {
		return 0, MsgInvalidExpire(cmd)
	}
	return when + base, ""
}

// ScanOptions are the options of SCAN cursor [MATCH pattern] [COUNT count]
// [TYPE type].
type ScanOptions struct {
	// Match is the pattern, or nil when none was given or it is "*".
	Match []byte
	// Count is the COUNT hint, 10 when not given.
	Count int64
	// Type is the type name to keep, or nil. Redis 7.0 does not check it:
	// an unknown type matches no key.
	Type []byte
}

// ParseScanOptions parses SCAN's options (the arguments after the cursor;
// parse that with ParseCursor first, as Redis does). Options may repeat, the
// last winning. COUNT that is not an integer is MsgNotInt, below 1
// MsgSyntax; an unknown option or one without its value is MsgSyntax.
func ParseScanOptions(opts [][]byte) (ScanOptions, string) {
	o := ScanOptions{Count: 10}
	for i := 0; i < len(opts); i += 2 {
		opt := cstring(opts[i])
		if i+1 >= len(opts) {
			return ScanOptions{}, MsgSyntax
		}
		val := opts[i+1]
		switch {
		case eqFold(opt, "count"):
			n, ok := ParseInt(val)
			if !ok {
				return ScanOptions{}, MsgNotInt
			}
			if n < 1 {
				return ScanOptions{}, MsgSyntax
			}
			o.Count = n
		case eqFold(opt, "match"):
			o.Match = val
			if len(val) == 1 && val[0] == '*' {
				o.Match = nil
			}
		case eqFold(opt, "type"):
			o.Type = val
		default:
			return ScanOptions{}, MsgSyntax
		}
	}
	return o, ""
}

// eqFold reports whether b equals the lower-case ASCII word, ignoring ASCII
// case only, as strcasecmp does in the C locale.
func eqFold(b []byte, word string) bool {
	if len(b) != len(word) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != word[i] {
			return false
		}
	}
	return true
}
