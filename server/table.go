package server

import (
	"fmt"
	"strings"
)

// command is one entry of the command table: what COMMAND INFO reports
// about it, and its handler. Container commands (CLIENT, CONFIG, COMMAND,
// MEMORY) list their subcommands in subs, named "parent|sub".
type command struct {
	name  string // lower case
	arity int    // as Redis: n = exactly n arguments with the name, -n = at least n
	flags []string
	// first key argument (0 for none), last (-1 = the last argument) and
	// step: COMMAND INFO's legacy key range, derived from keys by the table
	first, last, step int
	acl               []string
	tips              []string
	keys              []keySpec // where the keys are: COMMAND INFO, routing, GETKEYS
	run               func(c *client, args [][]byte)
	subs              []*command

	noAuth bool      // may run before AUTH (from the no_auth flag)
	rt     routeInfo // where the command runs in a cluster (route.go)
}

// keySpec is one of a command's key specifications, as Redis 7 reports
// them: which arguments are keys and what the command does with them. The
// keys of every command here are found the same way: from argument index,
// every step-th argument up to lastKey (0 = just that one, -1 = up to the
// last argument).
type keySpec struct {
	notes   string
	flags   []string // RO, RW, OW or RM, then access, update, insert, delete...
	index   int
	lastKey int
	step    int
}

// oneKey is the key specification of a command whose one key is its first
// argument.
func oneKey(flags ...string) []keySpec {
	return []keySpec{{flags: flags, index: 1, step: 1}}
}

// keyRange is the legacy key range of specs, as Redis derives it: the
// first spec's range, extended by the specs that continue it (RENAME's
// two keys are 1 to 2, step 1).
func keyRange(specs []keySpec) (first, last, step int) {
	for i, k := range specs {
		end := k.lastKey
		if end >= 0 {
			end += k.index
		}
		switch {
		case i == 0:
			first, last, step = k.index, end, k.step
		case last >= 0 && k.index == last+step && k.step == step:
			last = end
		}
	}
	return first, last, step
}

// table is the node's one command table: it drives dispatch, arity checks
// and COMMAND's replies.
type table struct {
	byName map[string]*command
	list   []*command // in registration order
	subs   map[*command]map[string]*command
}

// newTable builds a table from families of commands, rejecting a name
// registered twice.
func newTable(families ...[]*command) (*table, error) {
	t := &table{byName: make(map[string]*command), subs: make(map[*command]map[string]*command)}
	for _, fam := range families {
		for _, cmd := range fam {
			if err := t.add(cmd); err != nil {
				return nil, err
			}
		}
	}
	return t, nil
}

func (t *table) add(cmd *command) error {
	cmd.name = strings.ToLower(cmd.name)
	if _, dup := t.byName[cmd.name]; dup {
		return fmt.Errorf("command %q registered twice", cmd.name)
	}
	if cmd.run == nil && len(cmd.subs) == 0 {
		return fmt.Errorf("command %q has no handler", cmd.name)
	}
	cmd.noAuth = hasFlag(cmd.flags, "no_auth")
	cmd.first, cmd.last, cmd.step = keyRange(cmd.keys)
	t.byName[cmd.name] = cmd
	t.list = append(t.list, cmd)
	if len(cmd.subs) > 0 {
		subs := make(map[string]*command, len(cmd.subs))
		for _, sub := range cmd.subs {
			sub.name = strings.ToLower(sub.name)
			short, ok := strings.CutPrefix(sub.name, cmd.name+"|")
			if !ok {
				return fmt.Errorf("subcommand %q is not named %s|...", sub.name, cmd.name)
			}
			if _, dup := subs[short]; dup {
				return fmt.Errorf("subcommand %q registered twice", sub.name)
			}
			if sub.run == nil {
				return fmt.Errorf("subcommand %q has no handler", sub.name)
			}
			sub.noAuth = hasFlag(sub.flags, "no_auth")
			sub.first, sub.last, sub.step = keyRange(sub.keys)
			subs[short] = sub
		}
		t.subs[cmd] = subs
	}
	return nil
}

// lookup finds the command named by args[0] and, for a container command
// called with a subcommand, the subcommand named by args[1] (nil when it is
// unknown). Names are matched case-insensitively without allocating.
func (t *table) lookup(args [][]byte) (cmd, sub *command) {
	cmd = lookupFold(t.byName, args[0])
	if cmd == nil || len(cmd.subs) == 0 || len(args) < 2 {
		return cmd, nil
	}
	return cmd, lookupFold(t.subs[cmd], args[1])
}

// find returns the command or subcommand ("config|get") of a lower-case name.
func (t *table) find(name string) *command {
	parent, sub, ok := strings.Cut(name, "|")
	cmd := t.byName[parent]
	if !ok || cmd == nil {
		return cmd
	}
	return t.subs[cmd][sub]
}

// lookupFold looks name up in m case-insensitively. The lower-case copy
// lives on the stack and the map index does not allocate; a name longer
// than the buffer is longer than every command and matches nothing.
func lookupFold(m map[string]*command, name []byte) *command {
	var buf [32]byte
	if len(name) > len(buf) {
		return nil
	}
	for i, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		buf[i] = ch
	}
	return m[string(buf[:len(name)])]
}

func hasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if x == f {
			return true
		}
	}
	return false
}
