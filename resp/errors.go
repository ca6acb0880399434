package resp

import (
	"bytes"
	"strings"
)

// Error replies, worded exactly as Redis 7.0 words them, prefix included.
// Each was checked against redis-server 7.0.15; Writer.Error sends one as is.
const (
	MsgSyntax         = "ERR syntax error"
	MsgNotInt         = "ERR value is not an integer or out of range"
	MsgNotFloat       = "ERR value is not a valid float"
	MsgOverflow       = "ERR increment or decrement would overflow"
	MsgDecrOverflow   = "ERR decrement would overflow" // DECRBY k -9223372036854775808
	MsgNaNOrInfinity  = "ERR increment would produce NaN or Infinity"
	MsgNoSuchKey      = "ERR no such key"
	MsgWrongType      = "WRONGTYPE Operation against a key holding the wrong kind of value"
	MsgNoAuth         = "NOAUTH Authentication required."
	MsgWrongPass      = "WRONGPASS invalid username-password pair or user is disabled."
	MsgAuthNoPassword = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
	MsgNoProto        = "NOPROTO unsupported protocol version"
	MsgHelloProto     = "ERR Protocol version is not an integer or out of range"
	MsgHelloNoAuth    = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
	MsgDBIndex        = "ERR DB index is out of range"
	MsgStringTooLong  = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	MsgMaxClients     = "ERR max number of clients reached"
	MsgOffset         = "ERR offset is out of range"
	MsgBitOffset      = "ERR bit offset is not an integer or out of range"
	MsgInvalidCursor  = "ERR invalid cursor"
	MsgClientName     = "ERR Client names cannot contain spaces, newlines or special characters."
	MsgSameObject     = "ERR source and destination objects are the same"
	MsgIntRange       = "ERR value is out of range, value must between -2147483648 and 2147483647"

	// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT option conflicts.
	MsgExpireNXConflict = "ERR NX and XX, GT or LT options at the same time are not compatible"
	MsgExpireGTLT       = "ERR GT and LT options at the same time are not compatible"
)

// Protocol errors. Redis sends one and then closes the connection.
const (
	MsgProtoMultibulkLen   = "ERR Protocol error: invalid multibulk length"
	MsgProtoBulkLen        = "ERR Protocol error: invalid bulk length"
	MsgProtoBigInline      = "ERR Protocol error: too big inline request"
	MsgProtoBigMbulkCount  = "ERR Protocol error: too big mbulk count string"
	MsgProtoBigBulkCount   = "ERR Protocol error: too big bulk count string"
	MsgProtoUnbalanced     = "ERR Protocol error: unbalanced quotes in request"
	MsgProtoUnauthMbulkLen = "ERR Protocol error: unauthenticated multibulk length"
	MsgProtoUnauthBulkLen  = "ERR Protocol error: unauthenticated bulk length"
)

// MsgExpectedDollar is the protocol error for a multibulk element that does
// not start with '$': "ERR Protocol error: expected '$', got 'x'". Like every
// formatted Redis error, CR and LF print as spaces.
func MsgExpectedDollar(got byte) string {
	if got == '\r' || got == '\n' {
		got = ' '
	}
	return "ERR Protocol error: expected '$', got '" + string([]byte{got}) + "'"
}

// MsgInvalidExpire is "ERR invalid expire time in 'set' command" for cmd,
// the command's name as registered (Redis prints it in lower case).
func MsgInvalidExpire(cmd string) string {
	return "ERR invalid expire time in '" + strings.ToLower(cmd) + "' command"
}

// MsgWrongArgs is "ERR wrong number of arguments for 'get' command". For a
// subcommand Redis names it "config|get".
func MsgWrongArgs(cmd string) string {
	return "ERR wrong number of arguments for '" + strings.ToLower(cmd) + "' command"
}

// MsgUnknownCommand is Redis's reply to an unknown command, with the name as
// the client typed it:
//
//	"ERR unknown command 'foo', with args beginning with: 'a' 'b' "
//
// (note the trailing space). The name is cut at 128 bytes; arguments are
// quoted while fewer than 128 bytes of them have been printed, the last one
// cut so that they total at most 128.
func MsgUnknownCommand(name []byte, args [][]byte) string {
	var b strings.Builder
	b.WriteString("unknown command '")
	b.Write(truncate(cstring(name), 128))
	b.WriteString("', with args beginning with: ")
	n := 0
	for _, a := range args {
		if n >= 128 {
			break
		}
		a = truncate(cstring(a), 128-n)
		b.WriteByte('\'')
		b.Write(a)
		b.WriteString("' ")
		n += len(a) + 3
	}
	return "ERR " + sanitize(b.String())
}

// MsgUnknownSubcommand is "ERR unknown subcommand 'foo'. Try CONFIG HELP."
// for subcommand sub of command cmd (printed in upper case).
func MsgUnknownSubcommand(cmd string, sub []byte) string {
	return "ERR " + sanitize("unknown subcommand '"+string(truncate(cstring(sub), 128))+
		"'. Try "+strings.ToUpper(cmd)+" HELP.")
}

// MsgUnsupportedOption is EXPIRE's "ERR Unsupported option foo".
func MsgUnsupportedOption(opt []byte) string {
	return "ERR " + sanitize("Unsupported option "+string(cstring(opt)))
}

// MsgHelloOption is "ERR Syntax error in HELLO option 'foo'" for an unknown
// HELLO option or one short of its arguments.
func MsgHelloOption(opt []byte) string {
	return "ERR " + sanitize("Syntax error in HELLO option '"+string(cstring(opt))+"'")
}

// MsgConfigSetFailed is CONFIG SET's "ERR CONFIG SET failed (possibly related
// to argument 'maxmemory') - argument must be a memory value".
func MsgConfigSetFailed(param, reason string) string {
	return "ERR " + sanitize("CONFIG SET failed (possibly related to argument '"+param+"') - "+reason)
}

// MsgConfigSetUnknown is "ERR Unknown option or number of arguments for
// CONFIG SET - 'foo'".
func MsgConfigSetUnknown(param []byte) string {
	return "ERR " + sanitize("Unknown option or number of arguments for CONFIG SET - '"+
		string(cstring(param))+"'")
}

// sanitize does what Redis does to a formatted error: trim CR and LF at both
// ends and turn the ones inside into spaces, so the reply stays one line.
func sanitize(s string) string {
	s = strings.Trim(s, "\r\n")
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	b := []byte(s) // byte by byte: an argument need not be UTF-8
	for i, c := range b {
		if c == '\r' || c == '\n' {
			b[i] = ' '
		}
	}
	return string(b)
}

// cstring cuts b at its first NUL byte, as C's %s and strcasecmp see an
// argument. Redis formats errors and matches option names that way.
func cstring(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
