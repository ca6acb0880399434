package server

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// INFO reports what redis-server 7.0 reports, in its format, with figures
// of this node (the scope of INFO, like DBSIZE, is the local node: its
// store, its clients). redis_version stays 7.0.15 because clients (ioredis,
// redis-py, go-redis) choose features by it; geeredis_version says what
// really runs.
//
// Sections: server, clients, memory, persistence, stats, replication, cpu,
// modules, cluster, keyspace. "all", "everything", "default" and no
// argument select them all: the sections Redis adds for "all"
// (commandstats, errorstats, latencystats) are not tracked by geeredis and
// are left out, as is any unknown section, which Redis also answers with
// nothing.

// infoSection is one "# Title" block of INFO.
type infoSection struct {
	name  string // as INFO's argument names it, lower case
	title string
	write func(s *Server, b *infoBuf)
}

func infoSections() []infoSection {
	return []infoSection{
		{"server", "Server", (*Server).infoServer},
		{"clients", "Clients", (*Server).infoClients},
		{"memory", "Memory", (*Server).infoMemory},
		{"persistence", "Persistence", (*Server).infoPersistence},
		{"stats", "Stats", (*Server).infoStats},
		{"replication", "Replication", (*Server).infoReplication},
		{"cpu", "CPU", (*Server).infoCPU},
		{"modules", "Modules", func(*Server, *infoBuf) {}},
		{"cluster", "Cluster", (*Server).infoCluster},
		{"keyspace", "Keyspace", (*Server).infoKeyspace},
	}
}

func cmdInfo(c *client, args [][]byte) {
	c.w.Verbatim("txt", c.srv.info(args[1:]...))
}

// info renders the INFO sections that args select (all of them for none).
func (s *Server) info(args ...[]byte) string {
	all := len(args) == 0
	want := make(map[string]bool, len(args))
	for _, a := range args {
		name := strings.ToLower(string(a))
		switch name {
		case "all", "everything", "default":
			all = true
		default:
			want[name] = true
		}
	}
	var b infoBuf
	n := 0
	for _, sec := range infoSections() {
		if !all && !want[sec.name] {
			continue
		}
		if n > 0 {
			b.buf = append(b.buf, "\r\n"...)
		}
		n++
		b.buf = append(b.buf, "# "...)
		b.buf = append(b.buf, sec.title...)
		b.buf = append(b.buf, "\r\n"...)
		sec.write(s, &b)
	}
	return string(b.buf)
}

// infoBuf accumulates "field:value\r\n" lines.
type infoBuf struct{ buf []byte }

func (b *infoBuf) str(field, value string) {
	b.buf = append(b.buf, field...)
	b.buf = append(b.buf, ':')
	b.buf = append(b.buf, value...)
	b.buf = append(b.buf, "\r\n"...)
}

func (b *infoBuf) int(field string, v int64) {
	b.buf = append(b.buf, field...)
	b.buf = append(b.buf, ':')
	b.buf = strconv.AppendInt(b.buf, v, 10)
	b.buf = append(b.buf, "\r\n"...)
}

// float writes v with the given number of decimals, as Redis's %.Nf.
func (b *infoBuf) float(field string, v float64, decimals int) {
	b.buf = append(b.buf, field...)
	b.buf = append(b.buf, ':')
	b.buf = strconv.AppendFloat(b.buf, v, 'f', decimals, 64)
	b.buf = append(b.buf, "\r\n"...)
}

func (s *Server) infoServer(b *infoBuf) {
	now := time.Now()
	b.str("redis_version", redisVersion)
	b.str("geeredis_version", s.version)
	b.str("redis_git_sha1", "00000000")
	b.str("redis_git_dirty", "0")
	b.str("redis_mode", "standalone")
	b.str("os", osName())
	b.int("arch_bits", strconv.IntSize)
	b.str("go_version", runtime.Version())
	b.int("process_id", int64(os.Getpid()))
	b.str("process_supervised", "no")
	b.str("run_id", s.runID())
	b.int("tcp_port", int64(s.tcpPort()))
	b.int("server_time_usec", now.UnixMicro())
	up := int64(now.Sub(s.started) / time.Second)
	b.int("uptime_in_seconds", up)
	b.int("uptime_in_days", up/86400)
	b.int("hz", 10)
	b.int("configured_hz", 10)
	exe, _ := os.Executable()
	b.str("executable", exe)
	b.str("config_file", s.cfgFile)
	b.int("io_threads_active", 0)
}

func (s *Server) infoClients(b *infoBuf) {
	t := s.totals()
	b.int("connected_clients", t.clients)
	b.int("cluster_connections", 0)
	b.int("maxclients", s.set.maxClients.Load())
	// No blocking commands, no client-side caching: these are truly zero.
	b.int("blocked_clients", 0)
	b.int("tracking_clients", 0)
	b.int("clients_in_timeout_table", 0)
}

func (s *Server) infoMemory(b *infoBuf) {
	m := s.memory()
	b.int("used_memory", m.used)
	b.str("used_memory_human", bytesToHuman(m.used))
	b.int("used_memory_rss", m.rss)
	b.str("used_memory_rss_human", bytesToHuman(m.rss))
	b.int("used_memory_overhead", m.overhead)
	b.int("used_memory_dataset", m.dataset)
	b.str("used_memory_dataset_perc", strconv.FormatFloat(m.datasetPerc(), 'f', 2, 64)+"%")
	b.int("used_memory_store_allocated", m.allocated)
	b.int("used_memory_go_heap_live", m.heapLive)
	b.int("used_memory_go_runtime", m.runtime)
	b.int("total_system_memory", m.system)
	b.str("total_system_memory_human", bytesToHuman(m.system))
	b.int("maxmemory", m.max)
	b.str("maxmemory_human", bytesToHuman(m.max))
	b.str("maxmemory_policy", "allkeys-lru")
	b.float("mem_fragmentation_ratio", m.fragRatio(), 2)
	b.int("mem_fragmentation_bytes", m.rss-m.used)
	b.int("mem_not_counted_for_evict", 0)
	b.int("mem_replication_backlog", 0)
	b.int("mem_clients_slaves", 0)
	b.int("mem_aof_buffer", 0)
	b.str("mem_allocator", runtime.Version())
	b.int("lazyfree_pending_objects", 0)
}

// persistence: geeredis is a cache and keeps nothing on disk. The fields
// say so in Redis's terms (aof_enabled:0, no save ever ran or runs) and
// loading is always 0, which ioredis waits for before sending commands.
// rdb_changes_since_last_save is 0 because geeredis does not count writes
// for a save that will never come.
func (s *Server) infoPersistence(b *infoBuf) {
	b.int("loading", 0)
	b.int("async_loading", 0)
	b.int("rdb_changes_since_last_save", 0)
	b.int("rdb_bgsave_in_progress", 0)
	b.int("rdb_last_save_time", s.lastSave.Load())
	b.str("rdb_last_bgsave_status", "ok")
	b.int("rdb_last_bgsave_time_sec", -1)
	b.int("rdb_current_bgsave_time_sec", -1)
	b.int("rdb_saves", 0)
	b.int("aof_enabled", 0)
	b.int("aof_rewrite_in_progress", 0)
	b.int("aof_rewrite_scheduled", 0)
	b.int("aof_last_rewrite_time_sec", -1)
	b.int("aof_current_rewrite_time_sec", -1)
	b.str("aof_last_bgrewrite_status", "ok")
	b.str("aof_last_write_status", "ok")
}

func (s *Server) infoStats(b *infoBuf) {
	t := s.totals()
	r := s.meter.observe(time.Now(), t)
	st := s.store.Stats()
	b.int("total_connections_received", s.stats.connections.Load())
	b.int("total_commands_processed", t.cmds)
	b.int("instantaneous_ops_per_sec", int64(r.ops+0.5))
	b.int("total_net_input_bytes", t.netIn)
	b.int("total_net_output_bytes", t.netOut)
	b.float("instantaneous_input_kbps", r.in/1024, 2)
	b.float("instantaneous_output_kbps", r.out/1024, 2)
	b.int("rejected_connections", s.stats.rejected.Load())
	b.int("expired_keys", int64(st.ExpiredKeys))
	b.int("evicted_keys", int64(st.Evictions))
	b.int("keyspace_hits", int64(st.Hits))
	b.int("keyspace_misses", int64(st.Misses))
	b.int("pubsub_channels", 0)
	b.int("pubsub_patterns", 0)
	b.int("total_forks", 0)
}

func (s *Server) infoReplication(b *infoBuf) {
	b.str("role", "master")
	b.int("connected_slaves", 0)
	b.str("master_failover_state", "no-failover")
	b.str("master_replid", s.replID())
	b.str("master_replid2", strings.Repeat("0", 40))
	b.int("master_repl_offset", 0)
	b.int("second_repl_offset", -1)
	b.int("repl_backlog_active", 0)
	b.int("repl_backlog_size", 0)
	b.int("repl_backlog_first_byte_offset", 0)
	b.int("repl_backlog_histlen", 0)
}

func (s *Server) infoCPU(b *infoBuf) {
	self, children, ok := cpuTimes()
	if !ok {
		return
	}
	b.float("used_cpu_sys", self.sys.Seconds(), 6)
	b.float("used_cpu_user", self.user.Seconds(), 6)
	b.float("used_cpu_sys_children", children.sys.Seconds(), 6)
	b.float("used_cpu_user_children", children.user.Seconds(), 6)
}

// infoKeyspace lists db0 when it holds keys, as Redis does. avg_ttl is not
// estimated: always 0.
func (s *Server) infoKeyspace(b *infoBuf) {
	keys := s.store.Len()
	if keys == 0 {
		return
	}
	b.str("db0", fmt.Sprintf("keys=%d,expires=%d,avg_ttl=0", keys, s.store.Expires()))
}

// totals are the server-wide counters: those of connected clients plus those
// of clients gone.
type totals struct {
	clients, cmds, netIn, netOut int64
}

func (s *Server) totals() totals {
	t := totals{
		cmds:   s.stats.closedCmds.Load(),
		netIn:  s.stats.closedNetIn.Load(),
		netOut: s.stats.closedNetOut.Load(),
	}
	s.eachClient(func(c *client) {
		t.clients++
		t.cmds += c.cmds.Load()
		t.netIn += c.netIn.Load()
		t.netOut += c.netOut.Load()
	})
	return t
}

// resetStats is CONFIG RESETSTAT: the store's counters, the server's, and
// the instantaneous rates start again from zero. Per-client counters (CLIENT
// LIST) are kept: the closed totals absorb them, so that the server-wide
// sums start from zero.
func (s *Server) resetStats() {
	s.store.ResetStats()
	t := s.totals()
	s.stats.closedCmds.Add(-t.cmds)
	s.stats.closedNetIn.Add(-t.netIn)
	s.stats.closedNetOut.Add(-t.netOut)
	s.stats.connections.Store(0)
	s.stats.rejected.Store(0)
	s.stats.protoErrors.Store(0)
	s.stats.panics.Store(0)
	s.stats.unknownOrArgs.Store(0)
	s.meter.reset()
	s.statReset.Store(time.Now().Unix())
}

// rateMeter measures INFO's instantaneous figures: the commands and bytes
// per second between the sample taken now and one taken by an earlier INFO
// at least a second ago (or the latest one, if none is that old). INFO is
// what samples it, so the first INFO of a node reports 0, and a monitor
// polling every few seconds sees the rate over its polling interval.
type rateMeter struct {
	mu        sync.Mutex
	old, last rateSample
}

type rateSample struct {
	at time.Time
	t  totals
}

type rates struct{ ops, in, out float64 }

func (m *rateMeter) observe(now time.Time, t totals) rates {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := rateSample{at: now, t: t}
	base := m.old
	if base.at.IsZero() || now.Sub(m.last.at) >= time.Second {
		base = m.last
	}
	if now.Sub(m.last.at) >= time.Second || m.last.at.IsZero() {
		m.old, m.last = m.last, cur
	}
	if base.at.IsZero() {
		return rates{}
	}
	dt := now.Sub(base.at).Seconds()
	if dt < 0.001 {
		return rates{}
	}
	per := func(a, b int64) float64 { return max(0, float64(a-b)/dt) }
	return rates{
		ops: per(t.cmds, base.t.cmds),
		in:  per(t.netIn, base.t.netIn),
		out: per(t.netOut, base.t.netOut),
	}
}

func (m *rateMeter) reset() {
	m.mu.Lock()
	m.old, m.last = rateSample{}, rateSample{}
	m.mu.Unlock()
}

// memoryFigures are INFO memory's and MEMORY STATS's figures.
//
// used_memory is the dataset (the store's accounted bytes: keys, values and
// a fixed per-entry overhead, the figure maxmemory bounds) plus an overhead
// taken from the Go runtime: the memory it holds outside the heap (stacks,
// GC metadata, other runtime structures) and the live heap that the dataset
// does not account for (connection buffers, the store's slack), as measured
// at the last GC. Garbage not yet collected is not counted, as a C
// allocator would not count freed memory either. Before the first GC the
// live heap is not known and the heap's objects are counted instead.
type memoryFigures struct {
	dataset   int64 // the store's Bytes()
	allocated int64 // the store's Allocated(): what its shards really hold
	heapLive  int64 // live heap at the last GC
	runtime   int64 // runtime memory outside the heap objects
	overhead  int64
	used      int64
	rss       int64
	system    int64
	max       int64
}

func (m memoryFigures) datasetPerc() float64 {
	if m.used == 0 {
		return 0
	}
	return float64(m.dataset) * 100 / float64(m.used)
}

func (m memoryFigures) fragRatio() float64 {
	if m.used == 0 {
		return 0
	}
	return float64(m.rss) / float64(m.used)
}

func (s *Server) memory() memoryFigures {
	samples := []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	metrics.Read(samples)
	v := func(i int) int64 {
		if samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return int64(samples[i].Value.Uint64())
	}
	m := memoryFigures{
		dataset:   s.store.Bytes(),
		allocated: s.store.Allocated(),
		heapLive:  v(0),
		runtime:   v(1) - v(2) - v(3) - v(4) - v(5),
		system:    systemMemory(),
		max:       s.store.MaxBytes(),
	}
	if m.heapLive == 0 {
		// No GC has run yet: take the heap's objects, garbage included.
		m.heapLive = v(2)
	}
	m.overhead = max(0, m.runtime) + max(0, m.heapLive-m.dataset)
	m.used = m.dataset + m.overhead
	m.rss = residentMemory()
	if m.rss == 0 {
		m.rss = v(1) - v(5) // what the runtime has mapped and not returned
	}
	return m
}

// residentMemory reads the process's resident set size from
// /proc/self/statm; 0 where there is no such file.
func residentMemory() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := bytes.Fields(data)
	if len(fields) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(string(fields[1]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}

// systemMemory reads MemTotal from /proc/meminfo; 0 where unknown, as Redis.
func systemMemory() int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for line := range bytes.Lines(data) {
		rest, ok := bytes.CutPrefix(line, []byte("MemTotal:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) == 0 {
			return 0
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0
		}
		return kb * 1024
	}
	return 0
}

// bytesToHuman formats n as Redis's INFO does: 0B, 919.14K, 6.71M, 23.54G.
func bytesToHuman(n int64) string {
	const units = "KMGTP"
	if n < 0 {
		return "-" + bytesToHuman(-n)
	}
	if n < 1024 {
		return strconv.FormatInt(n, 10) + "B"
	}
	f := float64(n)
	for i := range len(units) {
		f /= 1024
		if f < 1024 || i == len(units)-1 {
			return strconv.FormatFloat(f, 'f', 2, 64) + units[i:i+1]
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// osName is INFO's "os": kernel name, release and machine, as uname -srm.
func osName() string {
	typ := readTrim("/proc/sys/kernel/ostype")
	rel := readTrim("/proc/sys/kernel/osrelease")
	if typ == "" {
		return runtime.GOOS + " " + runtime.GOARCH
	}
	return typ + " " + rel + " " + unameMachine()
}

func unameMachine() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "386":
		return "i686"
	}
	return runtime.GOARCH
}

func readTrim(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(bytes.TrimSpace(data))
}

// runID is the node's 40-hex-digit run id, stable for the life of the
// Server (derived from the process and the Server's start time).
func (s *Server) runID() string { return s.idHash("run") }

// replID is the replication id INFO shows; geeredis does not replicate but
// Redis always shows one.
func (s *Server) replID() string { return s.idHash("repl") }

func (s *Server) idHash(kind string) string {
	sum := sha1.Sum(fmt.Appendf(nil, "%s/%d/%d/%p", kind, os.Getpid(), s.started.UnixNano(), s))
	return hex.EncodeToString(sum[:])
}

// listenAddrs returns the addresses the Server accepts clients on.
func (s *Server) listenAddrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	addrs := make([]net.Addr, 0, len(s.listeners))
	for ln := range s.listeners {
		addrs = append(addrs, ln.Addr())
	}
	return addrs
}

// tcpPort is the TCP port of the first listener, 0 when not serving TCP.
func (s *Server) tcpPort() int {
	for _, a := range s.listenAddrs() {
		if ta, ok := a.(*net.TCPAddr); ok {
			return ta.Port
		}
	}
	return 0
}

// bindAddrs is CONFIG GET bind: the listeners' hosts, space separated.
func (s *Server) bindAddrs() string {
	var hosts []string
	for _, a := range s.listenAddrs() {
		if ta, ok := a.(*net.TCPAddr); ok {
			hosts = append(hosts, ta.IP.String())
		}
	}
	return strings.Join(hosts, " ")
}
