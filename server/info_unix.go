//go:build unix

package server

import (
	"syscall"
	"time"
)

type cpuTime struct{ user, sys time.Duration }

// cpuTimes returns the CPU time used by the process and by its waited-for
// children, from getrusage(2).
func cpuTimes() (self, children cpuTime, ok bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return cpuTime{}, cpuTime{}, false
	}
	self = cpuTime{user: time.Duration(ru.Utime.Nano()), sys: time.Duration(ru.Stime.Nano())}
	if syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru) == nil {
		children = cpuTime{user: time.Duration(ru.Utime.Nano()), sys: time.Duration(ru.Stime.Nano())}
	}
	return self, children, true
}
