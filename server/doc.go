// Package server is the RESP front of a geeredis node: it accepts Redis
// clients, reads their requests with the resp package, looks each command up
// in one command table (name, arity, flags, key positions, handler) and runs
// it against the node's store.
//
// A Server is a value: New builds one from a Config, Serve runs it on a
// listener the caller opened, Shutdown stops it. Several fit in one process.
package server
