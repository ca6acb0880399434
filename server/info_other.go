//go:build !unix

package server

import "time"

type cpuTime struct{ user, sys time.Duration }

// cpuTimes is not available here: INFO's CPU section stays empty.
func cpuTimes() (self, children cpuTime, ok bool) { return cpuTime{}, cpuTime{}, false }
