package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// A node on a machine of its own should use every core, and the Go runtime
// does that by default. A node that shares the machine with busy processes
// (its clients, the application it caches for, other nodes) does better with
// fewer threads: a runnable Go thread that finds no core waits behind them,
// and the runtime's threads looking for work take CPU from them. On the
// project's 2-core machine, with redis-benchmark beside the node, one thread
// gave 1.2-1.4 x the throughput of two at 50 clients.
//
// So unless the operator fixes the count (--threads, or GOMAXPROCS in the
// environment), the node samples how busy the machine is and how much of
// that is its own, and sets GOMAXPROCS to the cores the other processes
// leave it.

// threadWindow is how long one sample of the machine's CPU use lasts.
const threadWindow = 500 * time.Millisecond

// cpuUse is the CPU time spent over one window, in cores (CPU seconds per
// second of the window).
type cpuUse struct {
	host int     // CPUs the machine has
	busy float64 // cores the machine kept busy, this process's included
	own  float64 // cores this process used
}

// nextThreads gives the thread count for the next window: the cores the
// other processes leave free, rounded, within [1, ceiling]. It grows only
// while the node uses nearly all the threads it has (an idle node has no use
// for more), and only when the others leave a core free but for a fifth, so
// that between 0.2 and 0.5 of a core taken by others the count stays where
// it is rather than swing.
func nextThreads(cur, ceiling int, u cpuUse) int {
	others := max(u.busy-u.own, 0)
	free := float64(u.host) - others
	if shrink := max(int(math.Floor(free+0.5)), 1); shrink < cur {
		return shrink
	}
	if grow := min(int(math.Floor(free+0.2)), ceiling); grow > cur && u.own >= 0.8*float64(cur) {
		return grow
	}
	return cur
}

// cpuClock reads the CPU time spent so far by the machine and by this
// process.
type cpuClock struct {
	host        int
	total, idle uint64  // the machine's jiffies: all, and idle or waiting on I/O
	own         float64 // this process's user and system seconds
	at          time.Time
}

// readCPUClock reads /proc/stat and the process's resource usage. It fails
// where there is no /proc/stat (not Linux).
func readCPUClock() (cpuClock, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuClock{}, err
	}
	c := cpuClock{at: time.Now()}
	if err := c.parseStat(b); err != nil {
		return cpuClock{}, err
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return cpuClock{}, err
	}
	c.own = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	return c, nil
}

// parseStat reads the machine's totals (the "cpu" line) and counts the
// "cpuN" lines of /proc/stat.
func (c *cpuClock) parseStat(b []byte) error {
	found := false
	for line := range bytes.Lines(b) {
		fields := bytes.Fields(line)
		if len(fields) == 0 || !bytes.HasPrefix(fields[0], []byte("cpu")) {
			continue
		}
		if len(fields[0]) > 3 {
			c.host++
			continue
		}
		// user nice system idle iowait irq softirq steal (guest time is
		// already inside user and nice).
		if len(fields) < 9 {
			return errors.New("/proc/stat: short cpu line")
		}
		for i, f := range fields[1:9] {
			n, err := strconv.ParseUint(string(f), 10, 64)
			if err != nil {
				return errors.New("/proc/stat: " + err.Error())
			}
			c.total += n
			if i == 3 || i == 4 {
				c.idle += n
			}
		}
		found = true
	}
	if !found || c.host == 0 {
		return errors.New("/proc/stat: no cpu lines")
	}
	return nil
}

// since gives the CPU use between an earlier reading and this one.
func (c cpuClock) since(prev cpuClock) (cpuUse, bool) {
	wall := c.at.Sub(prev.at).Seconds()
	total := float64(c.total - prev.total)
	if wall <= 0 || total <= 0 || c.total < prev.total || c.host != prev.host {
		return cpuUse{}, false
	}
	return cpuUse{
		host: c.host,
		busy: float64(c.host) * (total - float64(c.idle-prev.idle)) / total,
		own:  (c.own - prev.own) / wall,
	}, true
}

// adaptThreads moves GOMAXPROCS with the machine's load until ctx ends. The
// runtime's own default (which follows a container's CPU limit) is the
// ceiling. It returns at once where the machine's load cannot be read.
func adaptThreads(ctx context.Context, log *slog.Logger) {
	ceiling := runtime.GOMAXPROCS(0)
	prev, err := readCPUClock()
	if err != nil {
		log.Debug("threads stay at the runtime default", "threads", ceiling, "err", err)
		return
	}
	if prev.host > ceiling {
		// A CPU limit (a container's quota, an affinity mask) already
		// sizes the node below the machine: the machine's load says
		// little about the share it will get.
		log.Debug("threads stay at the runtime default", "threads", ceiling, "machine_cpus", prev.host)
		return
	}
	cur, pending := ceiling, 0
	t := time.NewTicker(threadWindow)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now, err := readCPUClock()
		if err != nil {
			log.Warn("threads stay where they are: cannot read the machine's load", "threads", cur, "err", err)
			return
		}
		u, ok := now.since(prev)
		prev = now
		if !ok {
			continue
		}
		next := nextThreads(cur, ceiling, u)
		log.Debug("cpu window", "threads", cur, "busy", u.busy, "own", u.own, "next", next)
		if next == cur {
			pending = 0
			continue
		}
		// Two windows in a row must agree before the count moves.
		if next != pending {
			pending = next
			continue
		}
		log.Debug("threads", "from", cur, "to", next, "machine_busy", u.busy, "own", u.own)
		runtime.GOMAXPROCS(next)
		cur, pending = next, 0
	}
}
