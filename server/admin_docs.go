package server

// cmdDoc is what COMMAND DOCS tells of a command: a summary (geeredis's own
// wording), the Redis version that introduced it, and its group.
type cmdDoc struct{ summary, since, group string }

// commandDocs returns the documentation of the commands geeredis serves,
// keyed by name as the command table names them. A command missing here is
// documented by its group alone (see docOf).
func commandDocs() map[string]cmdDoc {
	return map[string]cmdDoc{
		// server
		"info":                {"Report server information and statistics, by section", "1.0.0", "server"},
		"dbsize":              {"Count the keys held by this node", "1.0.0", "server"},
		"flushdb":             {"Delete every key held by this node", "1.0.0", "server"},
		"flushall":            {"Delete every key held by this node", "1.0.0", "server"},
		"time":                {"Report the server's clock as seconds and microseconds", "2.6.0", "server"},
		"command":             {"Describe every command the server knows", "2.8.13", "server"},
		"command|docs":        {"Document the named commands, or all of them", "7.0.0", "server"},
		"command|info":        {"Describe the named commands, or all of them", "2.8.13", "server"},
		"command|list":        {"List command names, optionally filtered", "7.0.0", "server"},
		"command|count":       {"Count the commands the server knows", "2.8.13", "server"},
		"command|getkeys":     {"Find the key arguments of a full command", "2.8.13", "server"},
		"command|help":        {"Explain the COMMAND subcommands", "5.0.0", "server"},
		"config":              {"Container for the configuration subcommands", "2.0.0", "server"},
		"config|resetstat":    {"Zero the statistics INFO reports", "2.0.0", "server"},
		"config|rewrite":      {"Write the running configuration back to its file", "2.8.0", "server"},
		"config|help":         {"Explain the CONFIG subcommands", "5.0.0", "server"},
		"config|get":          {"Read configuration parameters matching patterns", "2.0.0", "server"},
		"config|set":          {"Change configuration parameters at run time", "2.0.0", "server"},
		"geeredis":            {"Container for geeredis's own subcommands", "0.1.0", "server"},
		"geeredis|members":    {"List the members of the geeredis cluster and their state", "0.1.0", "server"},
		"geeredis|help":       {"Explain the GEEREDIS subcommands", "0.1.0", "server"},
		"memory":              {"Container for the memory diagnostics subcommands", "4.0.0", "server"},
		"memory|malloc-stats": {"Report the memory allocator's statistics", "4.0.0", "server"},
		"memory|help":         {"Explain the MEMORY subcommands", "4.0.0", "server"},
		"memory|doctor":       {"Diagnose memory problems", "4.0.0", "server"},
		"memory|usage":        {"Report the bytes a key and its value take", "4.0.0", "server"},
		"memory|purge":        {"Return freed memory to the operating system", "4.0.0", "server"},
		"memory|stats":        {"Break down the server's memory use", "4.0.0", "server"},
		"lastsave":            {"Report when the dataset was last saved, as a Unix time", "1.0.0", "server"},
		"save":                {"Save the dataset to disk (refused: geeredis keeps no data on disk)", "1.0.0", "server"},
		"bgsave":              {"Save the dataset to disk in the background (refused: geeredis keeps no data on disk)", "1.0.0", "server"},
		"bgrewriteaof":        {"Rewrite the append-only file (refused: geeredis has none)", "1.0.0", "server"},
		// connection
		"ping":            {"Check that the server answers", "1.0.0", "connection"},
		"echo":            {"Answer with the given message", "1.0.0", "connection"},
		"quit":            {"Close the connection", "1.0.0", "connection"},
		"reset":           {"Return the connection to its initial state", "6.2.0", "connection"},
		"hello":           {"Choose the protocol version, authenticate and describe the server", "6.0.0", "connection"},
		"auth":            {"Authenticate the connection", "1.0.0", "connection"},
		"select":          {"Select the database (only database 0 exists)", "1.0.0", "connection"},
		"client":          {"Container for the client connection subcommands", "2.4.0", "connection"},
		"client|no-evict": {"Exempt this connection from client eviction", "7.0.0", "connection"},
		"client|id":       {"Report this connection's id", "5.0.0", "connection"},
		"client|getname":  {"Report this connection's name", "2.6.9", "connection"},
		"client|help":     {"Explain the CLIENT subcommands", "5.0.0", "connection"},
		"client|setname":  {"Name this connection", "2.6.9", "connection"},
		"client|info":     {"Describe this connection", "6.2.0", "connection"},
		"client|list":     {"Describe the open connections", "2.4.0", "connection"},
		"client|setinfo":  {"Record the client library's name or version", "7.2.0", "connection"},
		"client|no-touch": {"Keep this connection's reads from changing keys' LRU order", "7.2.0", "connection"},
		// generic
		"del":         {"Delete keys", "1.0.0", "generic"},
		"unlink":      {"Delete keys, freeing their memory later", "4.0.0", "generic"},
		"exists":      {"Count how many of the given keys exist", "1.0.0", "generic"},
		"touch":       {"Mark keys as recently used and count those that exist", "3.2.1", "generic"},
		"type":        {"Report the type of the value at a key", "1.0.0", "generic"},
		"expire":      {"Give a key a time to live in seconds", "1.0.0", "generic"},
		"pexpire":     {"Give a key a time to live in milliseconds", "2.6.0", "generic"},
		"expireat":    {"Make a key expire at a Unix time in seconds", "1.2.0", "generic"},
		"pexpireat":   {"Make a key expire at a Unix time in milliseconds", "2.6.0", "generic"},
		"ttl":         {"Report a key's remaining time to live in seconds", "1.0.0", "generic"},
		"pttl":        {"Report a key's remaining time to live in milliseconds", "2.6.0", "generic"},
		"expiretime":  {"Report when a key expires, as a Unix time in seconds", "7.0.0", "generic"},
		"pexpiretime": {"Report when a key expires, as a Unix time in milliseconds", "7.0.0", "generic"},
		"persist":     {"Remove a key's time to live", "2.2.0", "generic"},
		"keys":        {"List the keys matching a pattern", "1.0.0", "generic"},
		"scan":        {"Walk the keyspace a few keys at a time", "2.8.0", "generic"},
		"randomkey":   {"Pick a key at random", "1.0.0", "generic"},
		"rename":      {"Give a key a new name", "1.0.0", "generic"},
		"renamenx":    {"Give a key a new name that is not taken yet", "1.0.0", "generic"},
		"copy":        {"Copy a key's value to another key", "6.2.0", "generic"},
		// string
		"get":         {"Read a key's string value", "1.0.0", "string"},
		"set":         {"Store a string value at a key, with options", "1.0.0", "string"},
		"setnx":       {"Store a string value at a key that does not exist yet", "1.0.0", "string"},
		"setex":       {"Store a string value with a time to live in seconds", "2.0.0", "string"},
		"psetex":      {"Store a string value with a time to live in milliseconds", "2.6.0", "string"},
		"getset":      {"Store a string value and answer with the previous one", "1.0.0", "string"},
		"getdel":      {"Read a key's string value and delete the key", "6.2.0", "string"},
		"getex":       {"Read a key's string value and change its time to live", "6.2.0", "string"},
		"mget":        {"Read the string values of several keys", "1.0.0", "string"},
		"mset":        {"Store string values at several keys", "1.0.1", "string"},
		"msetnx":      {"Store string values at several keys if none of them exists", "1.0.1", "string"},
		"append":      {"Add bytes to the end of a key's string value", "2.0.0", "string"},
		"strlen":      {"Report the length of a key's string value", "2.2.0", "string"},
		"incr":        {"Add one to a key's integer value", "1.0.0", "string"},
		"decr":        {"Subtract one from a key's integer value", "1.0.0", "string"},
		"incrby":      {"Add an integer to a key's integer value", "1.0.0", "string"},
		"decrby":      {"Subtract an integer from a key's integer value", "1.0.0", "string"},
		"incrbyfloat": {"Add a floating point number to a key's numeric value", "2.6.0", "string"},
		"getrange":    {"Read part of a key's string value", "2.4.0", "string"},
		"setrange":    {"Overwrite part of a key's string value", "2.2.0", "string"},
	}
}

// docOf returns cmd's documentation; for a command commandDocs does not
// know, the group is guessed from its ACL categories.
func docOf(docs map[string]cmdDoc, cmd *command) cmdDoc {
	if d, ok := docs[cmd.name]; ok {
		return d
	}
	group := "server"
	for _, cat := range cmd.acl {
		switch cat {
		case "@string", "@hash", "@list", "@set", "@bitmap", "@stream", "@geo":
			return cmdDoc{group: cat[1:]}
		case "@sortedset":
			return cmdDoc{group: "sorted-set"}
		case "@hyperloglog":
			return cmdDoc{group: "hyperloglog"}
		case "@pubsub":
			return cmdDoc{group: "pubsub"}
		case "@connection":
			group = "connection"
		case "@keyspace":
			if group == "server" {
				group = "generic"
			}
		}
	}
	return cmdDoc{group: group}
}
