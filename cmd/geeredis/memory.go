package main

import (
	"os"
	"runtime/debug"
)

// tuneMemory keeps the process RSS near the data the node holds. The
// cache's memory holds no pointers, so a tighter garbage collector costs
// little CPU (measured: the same user time at GOGC 25 and 100) while it
// halves the peak RSS under churn. An operator's GOGC or GOMEMLIMIT wins.
//
// With these settings RSS is typically 1.15-1.4 x maxmemory and at most
// about 1.5 x maxmemory + 64 MiB (cluster's BenchmarkStoreMemoryChurn).
func tuneMemory(maxMemory int64) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(25)
	}
	if os.Getenv("GOMEMLIMIT") == "" && maxMemory > 0 {
		debug.SetMemoryLimit(maxMemory*3/2 + 64<<20)
	}
}
