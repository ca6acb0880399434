package server

import (
	"bytes"
	"cmp"
	"crypto/subtle"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/geeredis/geeredis/resp"
)

// connectionCommands lists the connection commands, with what COMMAND INFO
// reports of each.
func connectionCommands() []*command {
	return []*command{
		{name: "ping", arity: -1, flags: []string{"fast"},
			acl: []string{"@fast", "@connection"}, tips: []string{"request_policy:all_shards", "response_policy:all_succeeded"}, run: cmdPing},
		{name: "echo", arity: 2, flags: []string{"loading", "stale", "fast"},
			acl: []string{"@fast", "@connection"}, tips: []string{}, run: cmdEcho},
		{name: "quit", arity: -1, flags: []string{"noscript", "loading", "stale", "fast", "no_auth", "allow_busy"},
			acl: []string{"@fast", "@connection"}, tips: []string{}, run: cmdQuit},
		{name: "reset", arity: 1, flags: []string{"noscript", "loading", "stale", "fast", "no_auth", "allow_busy"},
			acl: []string{"@fast", "@connection"}, tips: []string{}, run: cmdReset},
		{name: "hello", arity: -1, flags: []string{"noscript", "loading", "stale", "fast", "no_auth", "allow_busy"},
			acl: []string{"@fast", "@connection"}, tips: []string{}, run: cmdHello},
		{name: "auth", arity: -2, flags: []string{"noscript", "loading", "stale", "fast", "no_auth", "allow_busy"},
			acl: []string{"@fast", "@connection"}, tips: []string{}, run: cmdAuth},
		{name: "select", arity: 2, flags: []string{"loading", "stale", "fast"},
			acl: []string{"@fast", "@connection"}, tips: []string{}, run: cmdSelect},
		{name: "client", arity: -2, flags: []string{},
			acl: []string{"@slow"}, tips: []string{},
			subs: []*command{
				{name: "client|no-evict", arity: 3, flags: []string{"admin", "noscript", "loading", "stale"}, acl: []string{"@admin", "@slow", "@dangerous", "@connection"}, tips: []string{}, run: cmdClientNoEvict},
				{name: "client|id", arity: 2, flags: []string{"noscript", "loading", "stale"}, acl: []string{"@slow", "@connection"}, tips: []string{}, run: cmdClientId},
				{name: "client|getname", arity: 2, flags: []string{"noscript", "loading", "stale"}, acl: []string{"@slow", "@connection"}, tips: []string{}, run: cmdClientGetname},
				{name: "client|help", arity: 2, flags: []string{"loading", "stale"}, acl: []string{"@slow", "@connection"}, tips: []string{}, run: cmdClientHelp},
				{name: "client|setname", arity: 3, flags: []string{"noscript", "loading", "stale"}, acl: []string{"@slow", "@connection"}, tips: []string{}, run: cmdClientSetname},
				{name: "client|info", arity: 2, flags: []string{"noscript", "loading", "stale"}, acl: []string{"@slow", "@connection"}, tips: []string{"nondeterministic_output"}, run: cmdClientInfo},
				{name: "client|list", arity: -2, flags: []string{"admin", "noscript", "loading", "stale"}, acl: []string{"@admin", "@slow", "@dangerous", "@connection"}, tips: []string{"nondeterministic_output"}, run: cmdClientList},
				{name: "client|setinfo", arity: -4, flags: []string{"noscript", "loading", "stale"}, acl: []string{"@slow", "@connection"}, tips: []string{}, run: cmdClientSetinfo},
				{name: "client|no-touch", arity: 3, flags: []string{"noscript", "loading", "stale"}, acl: []string{"@slow", "@connection"}, tips: []string{}, run: cmdClientNoTouch},
			}},
	}
}

// Version strings a client sees. Clients gate features on the Redis
// version, so the node reports the Redis release whose behaviour it follows.
const (
	redisVersion = "7.0.15"
	helloServer  = "redis"
)

func cmdPing(c *client, args [][]byte) {
	switch len(args) {
	case 1:
		c.w.Simple("PONG")
	case 2:
		c.w.Bulk(args[1])
	default:
		c.w.Error(resp.MsgWrongArgs("ping"))
	}
}

func cmdEcho(c *client, args [][]byte) { c.w.Bulk(args[1]) }

func cmdQuit(c *client, args [][]byte) {
	c.w.OK()
	c.quitting = true
}

// cmdReset returns the connection to the state it had when it was accepted.
func cmdReset(c *client, args [][]byte) {
	c.mu.Lock()
	c.name, c.noEvict, c.noTouch = "", false, false
	c.mu.Unlock()
	c.setProto(2)
	c.setAuthed(*c.srv.set.requirePass.Load() == "")
	c.w.Simple("RESET")
}

func cmdAuth(c *client, args [][]byte) {
	user, pass := "default", args[1]
	switch len(args) {
	case 2:
		if *c.srv.set.requirePass.Load() == "" {
			c.w.Error(resp.MsgAuthNoPassword)
			return
		}
	case 3:
		user, pass = string(args[1]), args[2]
	default:
		c.w.Error(resp.MsgSyntax)
		return
	}
	if !c.checkPassword(user, pass) {
		c.w.Error(resp.MsgWrongPass)
		return
	}
	c.setAuthed(true)
	c.w.OK()
}

// checkPassword reports whether user/pass log in: the only user is
// "default", whose password is requirepass (any password when it is empty,
// as Redis's nopass default user).
func (c *client) checkPassword(user string, pass []byte) bool {
	if user != "default" {
		return false
	}
	want := *c.srv.set.requirePass.Load()
	return want == "" || subtle.ConstantTimeCompare([]byte(want), pass) == 1
}

func (c *client) setAuthed(ok bool) {
	c.authed = ok
	c.rd.SetLimits(c.limits())
}

func (c *client) setProto(p int) {
	c.proto = p
	c.shownProto.Store(int32(p))
	c.w.SetProto(p)
}

// cmdHello implements HELLO [protover [AUTH user pass] [SETNAME name]].
func cmdHello(c *client, args [][]byte) {
	proto := c.proto
	if len(args) >= 2 {
		v, ok := resp.ParseInt(args[1])
		if !ok {
			c.w.Error(resp.MsgHelloProto)
			return
		}
		if v != 2 && v != 3 {
			c.w.Error(resp.MsgNoProto)
			return
		}
		proto = int(v)
	}
	var user string
	var pass []byte
	var name []byte
	authGiven, nameGiven := false, false
	for i := 2; i < len(args); i++ {
		more := len(args) - i - 1
		switch opt := args[i]; {
		case bytes.EqualFold(opt, []byte("auth")) && more >= 2:
			user, pass, authGiven = string(args[i+1]), args[i+2], true
			i += 2
		case bytes.EqualFold(opt, []byte("setname")) && more >= 1:
			name, nameGiven = args[i+1], true
			i++
		default:
			c.w.Error(resp.MsgHelloOption(opt))
			return
		}
	}
	if authGiven {
		if !c.checkPassword(user, pass) {
			c.w.Error(resp.MsgWrongPass)
			return
		}
		c.setAuthed(true)
	}
	if !c.authed {
		c.w.Error(resp.MsgHelloNoAuth)
		return
	}
	if nameGiven {
		if !validClientName(name) {
			c.w.Error(resp.MsgClientName)
			return
		}
		c.mu.Lock()
		c.name = string(name)
		c.mu.Unlock()
	}
	c.setProto(proto)
	c.w.Map(7)
	c.w.BulkString("server")
	c.w.BulkString(helloServer)
	c.w.BulkString("version")
	c.w.BulkString(redisVersion)
	c.w.BulkString("proto")
	c.w.Int(int64(proto))
	c.w.BulkString("id")
	c.w.Int(c.id)
	c.w.BulkString("mode")
	c.w.BulkString("standalone")
	c.w.BulkString("role")
	c.w.BulkString("master")
	c.w.BulkString("modules")
	c.w.Array(0)
}

// cmdSelect accepts database 0, the only one a geeredis node has.
func cmdSelect(c *client, args [][]byte) {
	db, ok := resp.ParseInt(args[1])
	switch {
	case !ok || db < math.MinInt32 || db > math.MaxInt32:
		c.w.Error(resp.MsgNotInt)
	case db != 0:
		c.w.Error(resp.MsgDBIndex)
	default:
		c.w.OK()
	}
}

func cmdClientId(c *client, args [][]byte) { c.w.Int(c.id) }

func cmdClientGetname(c *client, args [][]byte) {
	c.mu.Lock()
	name := c.name
	c.mu.Unlock()
	if name == "" {
		c.w.Null()
		return
	}
	c.w.BulkString(name)
}

func cmdClientSetname(c *client, args [][]byte) {
	if !validClientName(args[2]) {
		c.w.Error(resp.MsgClientName)
		return
	}
	c.mu.Lock()
	c.name = string(args[2])
	c.mu.Unlock()
	c.w.OK()
}

// cmdClientSetinfo records LIB-NAME and LIB-VER, which client libraries
// send on connect (Redis 7.2).
func cmdClientSetinfo(c *client, args [][]byte) {
	if len(args) != 4 {
		c.w.Error(resp.MsgWrongArgs("client|setinfo"))
		return
	}
	attr, val := args[2], args[3]
	for _, ch := range val {
		if ch < '!' || ch > '~' {
			c.w.Error("ERR " + printable(attr) + " cannot contain spaces, newlines or special characters.")
			return
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case bytes.EqualFold(attr, []byte("lib-name")):
		c.libName = string(val)
	case bytes.EqualFold(attr, []byte("lib-ver")):
		c.libVer = string(val)
	default:
		c.w.Error("ERR Unrecognized option '" + printable(attr) + "'")
		return
	}
	c.w.OK()
}

func cmdClientNoEvict(c *client, args [][]byte) { c.setOnOff(args[2], &c.noEvict) }

func cmdClientNoTouch(c *client, args [][]byte) { c.setOnOff(args[2], &c.noTouch) }

func (c *client) setOnOff(arg []byte, field *bool) {
	var v bool
	switch {
	case bytes.EqualFold(arg, []byte("on")):
		v = true
	case bytes.EqualFold(arg, []byte("off")):
	default:
		c.w.Error(resp.MsgSyntax)
		return
	}
	c.mu.Lock()
	*field = v
	c.mu.Unlock()
	c.w.OK()
}

func cmdClientInfo(c *client, args [][]byte) {
	c.w.Verbatim("txt", c.describe(time.Now())+"\n")
}

// cmdClientList implements CLIENT LIST [TYPE type] [ID id [id ...]].
func cmdClientList(c *client, args [][]byte) {
	var ids map[int64]bool
	switch {
	case len(args) == 2:
	case len(args) == 4 && bytes.EqualFold(args[2], []byte("type")):
		switch strings.ToLower(string(args[3])) {
		case "normal":
		case "master", "replica", "slave", "pubsub":
			ids = map[int64]bool{} // no such clients on a geeredis node
		default:
			c.w.Error("ERR Unknown client type '" + printable(args[3]) + "'")
			return
		}
	case len(args) >= 4 && bytes.EqualFold(args[2], []byte("id")):
		ids = make(map[int64]bool)
		for _, a := range args[3:] {
			id, ok := resp.ParseInt(a)
			if !ok || id <= 0 {
				c.w.Error("ERR Invalid client ID")
				return
			}
			ids[id] = true
		}
	default:
		c.w.Error(resp.MsgSyntax)
		return
	}
	var lines []*client
	c.srv.eachClient(func(o *client) {
		if ids == nil || ids[o.id] {
			lines = append(lines, o)
		}
	})
	slices.SortFunc(lines, func(a, b *client) int { return cmp.Compare(a.id, b.id) })
	var sb strings.Builder
	now := time.Now()
	for _, o := range lines {
		sb.WriteString(o.describe(now))
		sb.WriteByte('\n')
	}
	c.w.Verbatim("txt", sb.String())
}

// describe renders the client as one line of CLIENT LIST, with the fields
// Redis prints that mean something for a geeredis connection.
func (c *client) describe(now time.Time) string {
	c.mu.Lock()
	name, lib, ver, noEvict, noTouch := c.name, c.libName, c.libVer, c.noEvict, c.noTouch
	c.mu.Unlock()
	flags := ""
	if noEvict {
		flags += "e"
	}
	if noTouch {
		flags += "T"
	}
	if flags == "" {
		flags = "N"
	}
	cmd := "NULL"
	if last := c.lastCmd.Load(); last != nil {
		cmd = last.name
	}
	age := int64(now.Sub(c.created) / time.Second)
	idle := (now.UnixMilli() - c.lastUsed.Load()) / 1000
	return fmt.Sprintf("id=%d addr=%s laddr=%s fd=-1 name=%s age=%d idle=%d flags=%s db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=%d argv-mem=0 multi-mem=0 obl=0 oll=0 omem=0 events=r cmd=%s user=default redir=-1 resp=%d lib-name=%s lib-ver=%s",
		c.id, c.addr, c.laddr, name, age, max(idle, 0), flags, c.shownQbuf.Load(), cmd, c.shownProto.Load(), lib, ver)
}

func cmdClientHelp(c *client, args [][]byte) {
	help := []string{
		"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GETNAME",
		"    Return the name of the current connection.",
		"ID",
		"    Return the ID of the current connection.",
		"INFO",
		"    Return information about the current client connection.",
		"LIST [options ...]",
		"    Return information about client connections. Options:",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Return clients of specified type.",
		"    * ID <client-id> [<client-id> ...]",
		"      Return clients of specified IDs only.",
		"SETNAME <name>",
		"    Assign the name <name> to the current connection.",
		"SETINFO <LIB-NAME|LIB-VER> <value>",
		"    Set client library name or version.",
		"NO-EVICT (ON|OFF)",
		"    Protect current client connection from eviction.",
		"NO-TOUCH (ON|OFF)",
		"    Will not touch LRU/LFU stats when this mode is on.",
		"HELP",
		"    Print this help.",
	}
	writeHelp(c, help)
}

// writeHelp answers a HELP subcommand as Redis does: an array of status lines.
func writeHelp(c *client, lines []string) {
	c.w.Array(len(lines))
	for _, l := range lines {
		c.w.Simple(l)
	}
}

// validClientName reports whether name may be a client name: printable
// ASCII without spaces, as Redis requires.
func validClientName(name []byte) bool {
	for _, ch := range name {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

// printable returns b as a string for an error message, cut at 128 bytes
// as Redis cuts names in its errors.
func printable(b []byte) string {
	if len(b) > 128 {
		b = b[:128]
	}
	return string(b)
}
