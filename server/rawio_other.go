//go:build !linux

package server

import "net"

// rawIO is net.Conn's own reading and writing where raw system calls are
// not used (see rawio_linux.go).
type rawIO struct{ net.Conn }

func newRawIO(nc net.Conn) *rawIO { return nil }
