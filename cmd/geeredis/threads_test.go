package main

import (
	"strings"
	"testing"
	"time"
)

func TestNextThreads(t *testing.T) {
	tests := []struct {
		name         string
		cur, ceiling int
		host         int
		busy, own    float64
		want         int
	}{
		// Figures read off the 2-core machine with redis-benchmark -c 50
		// beside the node.
		{"a busy client beside the node takes a core back", 2, 2, 2, 1.70, 0.87, 1},
		{"one thread beside the same client stays", 1, 2, 2, 1.90, 0.88, 1},
		{"pipelined client beside one saturated thread: no growth", 1, 2, 2, 1.63, 1.00, 1},
		{"others near a fifth of a core: one thread stays", 1, 2, 2, 1.30, 1.00, 1},
		{"others near a fifth of a core: two threads stay", 2, 2, 2, 1.90, 1.60, 2},
		{"a machine of its own: a saturated node grows to it", 1, 2, 2, 1.05, 1.00, 2},
		{"growth stops at the ceiling", 2, 4, 8, 2.0, 1.9, 4},
		{"growth skips to the free cores", 2, 8, 8, 2.6, 2.0, 7},
		{"an idle node does not grow", 1, 8, 8, 0.2, 0.1, 1},
		{"a half-used node does not grow", 4, 8, 8, 2.5, 2.5, 4},
		{"never under one thread", 2, 2, 2, 2.0, 0.1, 1},
		{"a loaded 16-core host: give back what others use", 16, 16, 16, 16, 10, 10},
		{"idle machine, idle node: unchanged", 4, 4, 4, 0.01, 0.0, 4},
	}
	for _, tc := range tests {
		got := nextThreads(tc.cur, tc.ceiling, cpuUse{host: tc.host, busy: tc.busy, own: tc.own})
		if got != tc.want {
			t.Errorf("%s: nextThreads(%d, %d, host %d busy %.2f own %.2f) = %d, want %d",
				tc.name, tc.cur, tc.ceiling, tc.host, tc.busy, tc.own, got, tc.want)
		}
	}
}

// TestNextThreadsSettles checks the count does not swing: started anywhere
// under a steady load that answers to the count as the measured machine
// did, it settles on one count and stays there.
func TestNextThreadsSettles(t *testing.T) {
	// others(n): the cores the other processes take while the node runs n
	// threads (the client gets more done, and takes more, with fewer).
	load := func(n int) cpuUse {
		if n == 1 {
			return cpuUse{host: 2, busy: 1.90, own: 0.88}
		}
		return cpuUse{host: 2, busy: 1.70, own: 0.87}
	}
	for _, start := range []int{1, 2} {
		cur := start
		seen := map[int]int{}
		for range 20 {
			cur = nextThreads(cur, 2, load(cur))
			seen[cur]++
		}
		if cur != 1 || seen[2] > 1 {
			t.Errorf("from %d: ended at %d, counts seen %v; want 1 for good", start, cur, seen)
		}
	}
}

const procStat = `cpu  641295 10 497158 1500157 1068 0 206807 464 0 0
cpu0 283360 0 251037 784652 219 0 103617 224 0 0
cpu1 357934 10 246120 715504 849 0 103189 240 0 0
intr 112780171 0 0 0
ctxt 1
`

func TestParseStat(t *testing.T) {
	var c cpuClock
	if err := c.parseStat([]byte(procStat)); err != nil {
		t.Fatal(err)
	}
	wantTotal := uint64(641295 + 10 + 497158 + 1500157 + 1068 + 0 + 206807 + 464)
	if c.host != 2 || c.total != wantTotal || c.idle != 1500157+1068 {
		t.Errorf("parsed host %d total %d idle %d; want 2 %d %d", c.host, c.total, c.idle, wantTotal, 1500157+1068)
	}
	for _, bad := range []string{
		"",
		"intr 1 2 3\n",
		"cpu  1 2 3\ncpu0 1 2 3 4 5 6 7 8\n",
		"cpu  1 2 x 4 5 6 7 8\ncpu0 1 2 3 4 5 6 7 8\n",
		"cpu  1 2 3 4 5 6 7 8\n", // no per-CPU lines
	} {
		var c cpuClock
		if err := c.parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q) = nil error", bad)
		}
	}
}

func TestCPUClockSince(t *testing.T) {
	t0 := time.Unix(100, 0)
	prev := cpuClock{host: 4, total: 1000, idle: 600, own: 10, at: t0}
	// Half a second: 4 CPUs * 50 jiffies = 200 jiffies, 50 of them idle,
	// and the process used 0.5 s of CPU.
	now := cpuClock{host: 4, total: 1200, idle: 650, own: 10.5, at: t0.Add(500 * time.Millisecond)}
	u, ok := now.since(prev)
	if !ok || u.host != 4 || u.busy != 3 || u.own != 1 {
		t.Errorf("since = %+v, %v; want 4 CPUs, 3 busy, 1 own", u, ok)
	}
	for _, bad := range []cpuClock{
		{host: 4, total: 1000, idle: 600, own: 10, at: t0.Add(time.Second)}, // no jiffies passed
		{host: 4, total: 900, idle: 600, own: 10, at: t0.Add(time.Second)},  // counter went back
		{host: 8, total: 1200, idle: 650, own: 10, at: t0.Add(time.Second)}, // a CPU came online
		{host: 4, total: 1200, idle: 650, own: 10, at: t0},                  // no time passed
	} {
		if u, ok := bad.since(prev); ok {
			t.Errorf("since(%+v) = %+v, true; want false", bad, u)
		}
	}
}

func TestReadCPUClock(t *testing.T) {
	c, err := readCPUClock()
	if err != nil {
		if strings.Contains(err.Error(), "no such file") {
			t.Skipf("no /proc/stat here: %v", err)
		}
		t.Fatal(err)
	}
	if c.host < 1 || c.total == 0 || c.own <= 0 {
		t.Errorf("readCPUClock = %+v; want CPUs, jiffies and some CPU time of this process", c)
	}
}

func TestThreadsFlag(t *testing.T) {
	none := func(string) string { return "" }
	o, err := parseFlags([]string{"--threads", "3"}, none, nil, nil)
	if err != nil || o.threads != 3 {
		t.Fatalf("--threads 3: %+v, %v", o, err)
	}
	o, err = parseFlags(nil, func(k string) string {
		if k == "GEEREDIS_THREADS" {
			return "2"
		}
		return ""
	}, nil, nil)
	if err != nil || o.threads != 2 {
		t.Fatalf("GEEREDIS_THREADS=2: %+v, %v", o, err)
	}
	var out strings.Builder
	if _, err := parseFlags([]string{"--threads", "-1"}, none, &out, &out); err == nil {
		t.Fatal("--threads -1 accepted")
	}
}
