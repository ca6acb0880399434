package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
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

// maxThreads bounds --threads: the runtime sets up a scheduler slot per
// thread, and fails on a count over 2^31.
const maxThreads = 1024

// setThreads sets how many threads run Go code at once (GOMAXPROCS).
func setThreads(o *options, getenv func(string) string) {
	switch n := threadsFor(o, getenv); {
	case n > 0:
		runtime.GOMAXPROCS(n)
	case n == 0:
		runtime.SetDefaultGOMAXPROCS()
	}
}

// threadsFor gives the thread count a node runs with: n > 0 threads, 0 for
// the Go runtime's default (every core it may use, within a container's CPU
// limit), or -1 to leave GOMAXPROCS as the environment set it.
//
// A node runs commands on one thread unless told otherwise, as Redis does.
// On a machine shared with its clients or with other nodes, a second thread
// competes with them for the cores: beside redis-benchmark on two cores, one
// thread served 1.2-1.4 x the commands of two. Nodes scale out by adding
// nodes, or up with --threads. --threads wins over GOMAXPROCS in the
// environment, which wins over the default.
func threadsFor(o *options, getenv func(string) string) int {
	if n, err := strconv.Atoi(getenv("GOMAXPROCS")); !o.threadsSet && err == nil && n > 0 {
		return -1 // the runtime took it; it ignores a value that is not a positive number
	}
	return o.threads
}
