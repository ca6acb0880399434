package server

import (
	"bytes"
	"strconv"
	"time"

	"github.com/geeredis/geeredis/resp"
)

// configParam is one parameter CONFIG GET shows and CONFIG SET may change.
type configParam struct {
	name string
	get  func(s *Server) string
	// check validates a new value and returns the change to apply, or the
	// reason it is refused (CONFIG SET's text after " - "). CONFIG SET
	// checks every pair before applying any, so a refused pair changes
	// nothing. A nil check marks a read-only parameter.
	check func(s *Server, v []byte) (apply func(), reason string)
}

// Reasons CONFIG SET gives, as Redis words them.
const (
	reasonImmutable = "can't set immutable config"
	reasonDuplicate = "duplicate parameter"
	reasonMemory    = "argument must be a memory value"
	reasonNotInt    = "argument couldn't be parsed into an integer"
	reasonYesNo     = "argument must be 'yes' or 'no'"
	reasonNoPersist = "geeredis is a cache without persistence"
)

// configParams lists the parameters in the order CONFIG GET reports them.
// The persistence and topology ones are read-only facts: geeredis never
// saves (save "", appendonly no), has one database, and serves on the
// listeners it was given.
func configParams() []configParam {
	return []configParam{
		{name: "maxmemory", get: func(s *Server) string { return strconv.FormatInt(s.store.MaxBytes(), 10) },
			check: func(s *Server, v []byte) (func(), string) {
				n, ok := parseMemory(v)
				if !ok {
					return nil, reasonMemory
				}
				return func() { s.store.SetMaxBytes(n) }, ""
			}},
		{name: "maxmemory-policy", get: func(*Server) string { return "allkeys-lru" },
			check: func(s *Server, v []byte) (func(), string) {
				if !isWord(v, "allkeys-lru") {
					return nil, "argument(s) must be one of the following: allkeys-lru"
				}
				return func() {}, ""
			}},
		{name: "requirepass", get: func(s *Server) string { return *s.set.requirePass.Load() },
			check: func(s *Server, v []byte) (func(), string) {
				pass := string(v)
				return func() { s.set.requirePass.Store(&pass) }, ""
			}},
		{name: "maxclients", get: func(s *Server) string { return strconv.FormatInt(s.set.maxClients.Load(), 10) },
			check: intParam(1, 4294967295, func(s *Server, n int64) { s.set.maxClients.Store(n) })},
		{name: "timeout", get: func(s *Server) string { return strconv.FormatInt(s.set.timeout.Load()/int64(time.Second), 10) },
			check: intParam(0, 2147483647, func(s *Server, n int64) { s.set.timeout.Store(n * int64(time.Second)) })},
		{name: "proto-max-bulk-len", get: func(s *Server) string { return strconv.FormatInt(s.set.protoMaxBulkLen.Load(), 10) },
			check: memoryParam(1<<20, func(s *Server, n int64) { s.set.protoMaxBulkLen.Store(n); s.set.limitsGen.Add(1) })},
		{name: "client-query-buffer-limit", get: func(s *Server) string { return strconv.FormatInt(s.set.queryBufLimit.Load(), 10) },
			check: memoryParam(1<<20, func(s *Server, n int64) { s.set.queryBufLimit.Store(n); s.set.limitsGen.Add(1) })},
		{name: "save", get: func(*Server) string { return "" },
			check: func(s *Server, v []byte) (func(), string) {
				if len(bytes.TrimSpace(v)) != 0 {
					return nil, reasonNoPersist
				}
				return func() {}, ""
			}},
		{name: "appendonly", get: func(*Server) string { return "no" },
			check: func(s *Server, v []byte) (func(), string) {
				switch {
				case isWord(v, "no"):
					return func() {}, ""
				case isWord(v, "yes"):
					return nil, reasonNoPersist
				}
				return nil, reasonYesNo
			}},
		{name: "databases", get: func(*Server) string { return "1" }},
		{name: "port", get: func(s *Server) string { return strconv.Itoa(s.tcpPort()) }},
		{name: "bind", get: (*Server).bindAddrs},
	}
}

// intParam checks an integer parameter as Redis does: a strict integer
// within [lo, hi].
func intParam(lo, hi int64, set func(*Server, int64)) func(*Server, []byte) (func(), string) {
	return func(s *Server, v []byte) (func(), string) {
		n, ok := resp.ParseInt(v)
		if !ok {
			return nil, reasonNotInt
		}
		if n < lo || n > hi {
			return nil, rangeReason(lo, hi)
		}
		return func() { set(s, n) }, ""
	}
}

// memoryParam checks a size parameter: a memory value of at least lo bytes.
func memoryParam(lo int64, set func(*Server, int64)) func(*Server, []byte) (func(), string) {
	return func(s *Server, v []byte) (func(), string) {
		n, ok := parseMemory(v)
		if !ok {
			return nil, reasonMemory
		}
		if n < lo {
			return nil, rangeReason(lo, 1<<63-1)
		}
		return func() { set(s, n) }, ""
	}
}

func rangeReason(lo, hi int64) string {
	return "argument must be between " + strconv.FormatInt(lo, 10) + " and " + strconv.FormatInt(hi, 10) + " inclusive"
}

// parseMemory reads a Redis memory value ("100", "10mb", "1GB"); negative
// values are refused.
func parseMemory(v []byte) (int64, bool) {
	n, err := resp.ParseMemory(string(v))
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// findConfig returns the parameter named name, in any case.
func findConfig(params []configParam, name []byte) *configParam {
	for i := range params {
		if isWord(name, params[i].name) {
			return &params[i]
		}
	}
	return nil
}

// cmdConfigGet: CONFIG GET pattern [pattern ...]. A name without glob
// characters is looked up directly and reported as the client spelled it,
// as Redis does; patterns match names without regard to case. Each
// parameter is reported once. A map in RESP3.
func cmdConfigGet(c *client, args [][]byte) {
	params := configParams()
	type match struct {
		name string
		p    *configParam
	}
	var matches []match
	seen := make(map[string]bool)
	add := func(name string, p *configParam) {
		if !seen[p.name] {
			seen[p.name] = true
			matches = append(matches, match{name, p})
		}
	}
	for _, pat := range args[2:] {
		if !bytes.ContainsAny(pat, "[*?") {
			if p := findConfig(params, pat); p != nil {
				add(string(pat), p)
			}
			continue
		}
		lower := bytes.ToLower(pat)
		for i := range params {
			if globMatch(lower, []byte(params[i].name)) {
				add(params[i].name, &params[i])
			}
		}
	}
	c.w.Map(len(matches))
	for _, m := range matches {
		c.w.BulkString(m.name)
		c.w.BulkString(m.p.get(c.srv))
	}
}

// cmdConfigSet: CONFIG SET name value [name value ...], all or nothing,
// with Redis's checks in Redis's order: pairs, unknown names, read-only
// names and duplicates, then each value.
func cmdConfigSet(c *client, args [][]byte) {
	if len(args)%2 != 0 {
		c.w.Error(resp.MsgSyntax)
		return
	}
	params := configParams()
	pairs := args[2:]
	chosen := make([]*configParam, 0, len(pairs)/2)
	var unknown []byte
	var badName, reason string
	for i := 0; i < len(pairs); i += 2 {
		p := findConfig(params, pairs[i])
		if p == nil {
			if unknown == nil && reason == "" {
				unknown = pairs[i]
			}
			continue
		}
		if unknown != nil || reason != "" {
			continue
		}
		if p.check == nil {
			badName, reason = string(pairs[i]), reasonImmutable
			continue
		}
		for _, q := range chosen {
			if q == p {
				badName, reason = string(pairs[i]), reasonDuplicate
			}
		}
		chosen = append(chosen, p)
	}
	if unknown != nil {
		c.w.Error(resp.MsgConfigSetUnknown(unknown))
		return
	}
	if reason != "" {
		c.w.Error(resp.MsgConfigSetFailed(badName, reason))
		return
	}
	applies := make([]func(), 0, len(chosen))
	for i, p := range chosen {
		apply, why := p.check(c.srv, pairs[2*i+1])
		if apply == nil {
			c.w.Error(resp.MsgConfigSetFailed(p.name, why))
			return
		}
		applies = append(applies, apply)
	}
	for _, apply := range applies {
		apply()
	}
	c.w.OK()
}

func cmdConfigResetstat(c *client, args [][]byte) {
	c.srv.resetStats()
	c.w.OK()
}

// cmdConfigRewrite: geeredis does not rewrite configuration files. Without
// one it answers as Redis does; with one it says it will not touch it.
func cmdConfigRewrite(c *client, args [][]byte) {
	if c.srv.cfgFile == "" {
		c.w.Error("ERR The server is running without a config file")
		return
	}
	c.w.Error("ERR Rewriting config file: not supported by geeredis; edit " + printable([]byte(c.srv.cfgFile)) + " instead")
}

func cmdConfigHelp(c *client, args [][]byte) {
	helpReply(c, "CONFIG",
		"GET <pattern>",
		"    Return parameters matching the glob-like <pattern> and their values.",
		"SET <directive> <value>",
		"    Set the configuration <directive> to <value>.",
		"RESETSTAT",
		"    Reset statistics reported by the INFO command.",
		"REWRITE",
		"    Rewrite the configuration file.",
	)
}
