//go:build !linux || race

package cluster

import "net"

// DirectConn returns nc: raw system calls are used on Linux only, and not
// under the race detector, which does not see what they write (see
// directconn_linux.go).
func DirectConn(nc net.Conn) net.Conn { return nc }

// writeBuffers writes bufs to c, with one writev where c allows it.
func writeBuffers(c net.Conn, bufs net.Buffers) (int64, error) { return bufs.WriteTo(c) }
