package server

import (
	"strings"

	"github.com/geeredis/geeredis/resp"
)

// The COMMAND family answers from the command table, so what it reports is
// what dispatch does.
//
// COMMAND INFO's reply per command is Redis 7's ten fields: name, arity,
// flags (a set of status replies), first key, last key, step, ACL
// categories (a set), tips, key specs (a set of maps), subcommands (in the
// same shape).

// cmdCommand is COMMAND with no subcommand: every command's details.
func cmdCommand(c *client, args [][]byte) {
	list := c.srv.table.list
	c.w.Array(len(list))
	for _, cmd := range list {
		writeCommandInfo(c, cmd)
	}
}

// cmdCommandInfo: COMMAND INFO [name ...]; an unknown name gives a nil in
// its place, and no name gives every command.
func cmdCommandInfo(c *client, args [][]byte) {
	if len(args) == 2 {
		cmdCommand(c, args)
		return
	}
	c.w.Array(len(args) - 2)
	for _, name := range args[2:] {
		cmd := c.srv.table.find(strings.ToLower(string(name)))
		if cmd == nil {
			c.w.Null()
			continue
		}
		writeCommandInfo(c, cmd)
	}
}

func writeCommandInfo(c *client, cmd *command) {
	w := &c.w
	w.Array(10)
	w.BulkString(cmd.name)
	w.Int(int64(cmd.arity))
	w.Set(len(cmd.flags))
	for _, f := range cmd.flags {
		w.Simple(f)
	}
	w.Int(int64(cmd.first))
	w.Int(int64(cmd.last))
	w.Int(int64(cmd.step))
	w.Set(len(cmd.acl))
	for _, a := range cmd.acl {
		w.Simple(a)
	}
	w.Set(len(cmd.tips))
	for _, t := range cmd.tips {
		w.BulkString(t)
	}
	w.Set(len(cmd.keys))
	for _, k := range cmd.keys {
		writeKeySpec(w, k)
	}
	w.Set(len(cmd.subs))
	for _, sub := range cmd.subs {
		writeCommandInfo(c, sub)
	}
}

func writeKeySpec(w *resp.Writer, k keySpec) {
	if k.notes != "" {
		w.Map(4)
		w.BulkString("notes")
		w.BulkString(k.notes)
	} else {
		w.Map(3)
	}
	w.BulkString("flags")
	w.Set(len(k.flags))
	for _, f := range k.flags {
		w.Simple(f)
	}
	w.BulkString("begin_search")
	w.Map(2)
	w.BulkString("type")
	w.BulkString("index")
	w.BulkString("spec")
	w.Map(1)
	w.BulkString("index")
	w.Int(int64(k.index))
	w.BulkString("find_keys")
	w.Map(2)
	w.BulkString("type")
	w.BulkString("range")
	w.BulkString("spec")
	w.Map(3)
	w.BulkString("lastkey")
	w.Int(int64(k.lastKey))
	w.BulkString("keystep")
	w.Int(int64(k.step))
	w.BulkString("limit")
	w.Int(0)
}

func cmdCommandCount(c *client, args [][]byte) { c.w.Int(int64(len(c.srv.table.list))) }

// cmdCommandList: COMMAND LIST [FILTERBY MODULE name | ACLCAT category |
// PATTERN pattern]: command and subcommand names ("config|get"). geeredis
// has no modules, so FILTERBY MODULE lists nothing. Categories and patterns
// match without regard to case, as in Redis.
func cmdCommandList(c *client, args [][]byte) {
	keep := func(*command) bool { return true }
	switch {
	case len(args) == 2:
	case len(args) == 5 && isWord(args[2], "filterby"):
		arg := strings.ToLower(string(args[4]))
		switch {
		case isWord(args[3], "module"):
			keep = func(*command) bool { return false }
		case isWord(args[3], "aclcat"):
			keep = func(cmd *command) bool { return hasFlag(cmd.acl, "@"+arg) }
		case isWord(args[3], "pattern"):
			pat := []byte(arg)
			keep = func(cmd *command) bool { return globMatch(pat, []byte(cmd.name)) }
		default:
			c.w.Error(resp.MsgSyntax)
			return
		}
	default:
		c.w.Error(resp.MsgSyntax)
		return
	}
	var names []string
	for _, cmd := range c.srv.table.list {
		if keep(cmd) {
			names = append(names, cmd.name)
		}
		for _, sub := range cmd.subs {
			if keep(sub) {
				names = append(names, sub.name)
			}
		}
	}
	c.w.Array(len(names))
	for _, n := range names {
		c.w.BulkString(n)
	}
}

// cmdCommandDocs: COMMAND DOCS [name ...]: a map from name to its
// documentation (summary, since, group, and the subcommands' for a
// container). Unknown names are left out; no name documents every command.
// geeredis does not describe arguments, complexity or history.
func cmdCommandDocs(c *client, args [][]byte) {
	var cmds []*command
	if len(args) == 2 {
		cmds = c.srv.table.list
	} else {
		for _, name := range args[2:] {
			if cmd := c.srv.table.find(strings.ToLower(string(name))); cmd != nil {
				cmds = append(cmds, cmd)
			}
		}
	}
	docs := commandDocs()
	c.w.Map(len(cmds))
	for _, cmd := range cmds {
		c.w.BulkString(cmd.name)
		writeCommandDoc(c, docs, cmd)
	}
}

func writeCommandDoc(c *client, docs map[string]cmdDoc, cmd *command) {
	d := docOf(docs, cmd)
	n := 1
	if d.summary != "" {
		n++
	}
	if d.since != "" {
		n++
	}
	if len(cmd.subs) > 0 {
		n++
	}
	c.w.Map(n)
	if d.summary != "" {
		c.w.BulkString("summary")
		c.w.BulkString(d.summary)
	}
	if d.since != "" {
		c.w.BulkString("since")
		c.w.BulkString(d.since)
	}
	c.w.BulkString("group")
	c.w.BulkString(d.group)
	if len(cmd.subs) > 0 {
		c.w.BulkString("subcommands")
		c.w.Map(len(cmd.subs))
		for _, sub := range cmd.subs {
			c.w.BulkString(sub.name)
			writeCommandDoc(c, docs, sub)
		}
	}
}

// cmdCommandGetkeys: COMMAND GETKEYS command [arg ...]: the key arguments of
// the full command, found from its first/last/step, with Redis's errors in
// Redis's order.
func cmdCommandGetkeys(c *client, args [][]byte) {
	full := args[2:]
	cmd, sub := c.srv.table.lookup(full)
	if cmd != nil && len(cmd.subs) > 0 && len(full) >= 2 {
		cmd = sub
	}
	switch {
	case cmd == nil:
		c.w.Error("ERR Invalid command specified")
		return
	case cmd.first == 0:
		c.w.Error("ERR The command has no key arguments")
		return
	case !arityOK(cmd.arity, len(full)):
		c.w.Error("ERR Invalid number of arguments specified for command")
		return
	}
	keys := keyArgs(cmd, full)
	if len(keys) == 0 {
		c.w.Error("ERR Invalid arguments specified for command")
		return
	}
	c.w.Array(len(keys))
	for _, k := range keys {
		c.w.Bulk(k)
	}
}

// keyArgs returns the key arguments of a call of cmd, per first/last/step.
// A negative last counts from the end (-1 is the last argument).
func keyArgs(cmd *command, args [][]byte) [][]byte {
	last := cmd.last
	if last < 0 {
		last += len(args)
	}
	last = min(last, len(args)-1)
	step := max(cmd.step, 1)
	var keys [][]byte
	for i := cmd.first; i <= last; i += step {
		keys = append(keys, args[i])
	}
	return keys
}

func cmdCommandHelp(c *client, args [][]byte) {
	helpReply(c, "COMMAND",
		"(no subcommand)",
		"    Return details about all Redis commands.",
		"COUNT",
		"    Return the total number of commands in this Redis server.",
		"LIST",
		"    Return a list of all commands in this Redis server.",
		"INFO [<command-name> ...]",
		"    Return details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"DOCS [<command-name> ...]",
		"    Return documentation details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"GETKEYS <full-command>",
		"    Return the keys from a full Redis command.",
	)
}
