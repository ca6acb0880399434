package resp

import (
	"strings"
	"testing"
)

// Each text is what redis-server 7.0.15 replied (redis-cli, or raw bytes
// for the arguments redis-cli cannot type).
func TestMessages(t *testing.T) {
	long := func(c string, n int) []byte { return []byte(strings.Repeat(c, n)) }
	cases := []struct{ got, want string }{
		{MsgInvalidExpire("SET"), "ERR invalid expire time in 'set' command"},
		{MsgInvalidExpire("getex"), "ERR invalid expire time in 'getex' command"},
		{MsgWrongArgs("GET"), "ERR wrong number of arguments for 'get' command"},
		{MsgWrongArgs("config|get"), "ERR wrong number of arguments for 'config|get' command"},
		{MsgUnknownCommand([]byte("foo"), words("a b")), "ERR unknown command 'foo', with args beginning with: 'a' 'b' "},
		{MsgUnknownCommand([]byte("foo"), nil), "ERR unknown command 'foo', with args beginning with: "},
		{MsgUnknownCommand([]byte("FOO"), [][]byte{[]byte("a b"), []byte("c")}), "ERR unknown command 'FOO', with args beginning with: 'a b' 'c' "},
		// Names and arguments are cut to 128 bytes in all.
		{MsgUnknownCommand(long("C", 200), nil), "ERR unknown command '" + strings.Repeat("C", 128) + "', with args beginning with: "},
		{MsgUnknownCommand([]byte("foo"), [][]byte{long("x", 200), []byte("b")}),
			"ERR unknown command 'foo', with args beginning with: '" + strings.Repeat("x", 128) + "' "},
		{MsgUnknownCommand([]byte("foo"), [][]byte{long("a", 100), long("b", 100), []byte("c")}),
			"ERR unknown command 'foo', with args beginning with: '" + strings.Repeat("a", 100) + "' '" + strings.Repeat("b", 25) + "' "},
		// CR and LF print as spaces; C strings end at NUL.
		{MsgUnknownCommand([]byte("foo"), [][]byte{[]byte("a\r\nb")}), "ERR unknown command 'foo', with args beginning with: 'a  b' "},
		{MsgUnknownCommand([]byte("foo"), [][]byte{[]byte("a\x01b"), []byte("c\x00d")}), "ERR unknown command 'foo', with args beginning with: 'a\x01b' 'c' "},
		{MsgUnknownCommand([]byte("f\x00o"), [][]byte{[]byte("ab\xff")}), "ERR unknown command 'f', with args beginning with: 'ab\xff' "},
		{MsgUnknownSubcommand("config", []byte("foo")), "ERR unknown subcommand 'foo'. Try CONFIG HELP."},
		{MsgUnknownSubcommand("CLIENT", []byte("FOO")), "ERR unknown subcommand 'FOO'. Try CLIENT HELP."},
		{MsgUnknownSubcommand("config", []byte("f\x00o")), "ERR unknown subcommand 'f'. Try CONFIG HELP."},
		{MsgUnsupportedOption([]byte("FOO")), "ERR Unsupported option FOO"},
		{MsgUnsupportedOption([]byte("f\x00o\n")), "ERR Unsupported option f"},
		{MsgUnsupportedOption([]byte("x\n")), "ERR Unsupported option x"}, // trailing CRLF trimmed
		{MsgExpectedDollar('f'), "ERR Protocol error: expected '$', got 'f'"},
		{MsgExpectedDollar('\n'), "ERR Protocol error: expected '$', got ' '"},
		{MsgConfigSetFailed("maxmemory", ErrMemoryValue.Error()), "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"},
		{MsgHelloOption([]byte("AUTH")), "ERR Syntax error in HELLO option 'AUTH'"}, // HELLO 3 AUTH
		{MsgHelloOption([]byte("setname")), "ERR Syntax error in HELLO option 'setname'"},
		{MsgConfigSetUnknown([]byte("foo")), "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("got  %q\nwant %q", tc.got, tc.want)
		}
	}
}
