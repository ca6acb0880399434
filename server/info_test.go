package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// infoFields runs INFO args on c and parses its "field:value" lines,
// failing on a line of any other shape.
func infoFields(tb testing.TB, c *client, args string) map[string]string {
	tb.Helper()
	return parseInfo(tb, bulkBody(tb, run(tb, c, strings.TrimSpace("INFO "+args))))
}

// bulkBody returns the payload of a RESP2 bulk string reply.
func bulkBody(tb testing.TB, reply string) string {
	tb.Helper()
	hdr, rest, ok := strings.Cut(reply, "\r\n")
	n, err := strconv.Atoi(strings.TrimPrefix(hdr, "$"))
	if !ok || err != nil || !strings.HasPrefix(hdr, "$") || len(rest) != n+2 || !strings.HasSuffix(rest, "\r\n") {
		tb.Fatalf("not a bulk string reply: %q", reply[:min(len(reply), 80)])
	}
	return rest[:n]
}

func parseInfo(tb testing.TB, body string) map[string]string {
	tb.Helper()
	fields := make(map[string]string)
	if body == "" {
		return fields
	}
	if !strings.HasSuffix(body, "\r\n") {
		tb.Fatalf("INFO does not end with CRLF: %q", body)
	}
	for _, line := range strings.Split(strings.TrimSuffix(body, "\r\n"), "\r\n") {
		if line == "" || strings.HasPrefix(line, "# ") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" || strings.ContainsAny(k, " \r\n") {
			tb.Fatalf("INFO line %q is not field:value", line)
		}
		if _, dup := fields[k]; dup {
			tb.Fatalf("INFO field %s appears twice", k)
		}
		fields[k] = v
	}
	return fields
}

func infoInt(tb testing.TB, f map[string]string, field string) int64 {
	tb.Helper()
	v, ok := f[field]
	if !ok {
		tb.Fatalf("INFO has no %s", field)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		tb.Fatalf("INFO %s = %q, not an integer", field, v)
	}
	return n
}

// sectionTitles lists the "# Title" lines of an INFO body.
func sectionTitles(body string) []string {
	var titles []string
	for _, line := range strings.Split(body, "\r\n") {
		if t, ok := strings.CutPrefix(line, "# "); ok {
			titles = append(titles, t)
		}
	}
	return titles
}

func TestInfoSections(t *testing.T) {
	all := "Server Clients Memory Persistence Stats Replication CPU Modules Cluster Keyspace"
	tests := []struct{ args, want string }{
		{"", all},
		{"default", all},
		{"ALL", all},
		{"everything", all},
		{"server", "Server"},
		{"keyspace CPU", "CPU Keyspace"},
		{"keyspace server keyspace", "Server Keyspace"},
		{"server nosuch commandstats", "Server"},
		{"default nosuch", all},
		{"nosuch", ""},
	}
	s := newTestServer(t)
	c := newTestClient(t, s)
	for _, tt := range tests {
		body := bulkBody(t, run(t, c, strings.TrimSpace("INFO "+tt.args)))
		if got := strings.Join(sectionTitles(body), " "); got != tt.want {
			t.Errorf("INFO %s sections = %q, want %q", tt.args, got, tt.want)
		}
		parseInfo(t, body)
		if tt.want != "" && (!strings.HasPrefix(body, "# ") || strings.Contains(body, "\r\n\r\n\r\n")) {
			t.Errorf("INFO %s is not laid out as Redis's: %q", tt.args, body)
		}
	}
	// Sections are separated by one empty line, as in Redis.
	if got, want := run(t, c, "INFO cluster modules"), bulk("# Modules\r\n\r\n# Cluster\r\ncluster_enabled:0\r\n"); got != want {
		t.Errorf("INFO cluster modules = %q, want %q", got, want)
	}
	if got, want := run(t, c, "INFO nosuch"), "$0\r\n\r\n"; got != want {
		t.Errorf("INFO nosuch = %q, want %q", got, want)
	}
	c.proto = 3
	if got, want := run(t, c, "INFO keyspace"), "=16\r\ntxt:# Keyspace\r\n\r\n"; got != want {
		t.Errorf("INFO keyspace in RESP3 = %q, want the verbatim string %q", got, want)
	}
}

func TestInfoFields(t *testing.T) {
	s := newTestServer(t, func(cfg *Config) { cfg.Version = "1.2.3" })
	c := newTestClient(t, s)
	putKey(t, s, "key", "value", 0)
	f := infoFields(t, c, "")
	want := map[string]string{
		"redis_version":               "7.0.15",
		"geeredis_version":            "1.2.3",
		"redis_mode":                  "standalone",
		"connected_clients":           "1",
		"maxclients":                  "10000",
		"maxmemory":                   "67108864",
		"maxmemory_human":             "64.00M",
		"maxmemory_policy":            "allkeys-lru",
		"loading":                     "0",
		"async_loading":               "0",
		"rdb_bgsave_in_progress":      "0",
		"rdb_changes_since_last_save": "0",
		"aof_enabled":                 "0",
		"role":                        "master",
		"cluster_enabled":             "0",
		"used_memory_dataset":         strconv.FormatInt(s.store.Bytes(), 10),
		"rdb_last_save_time":          strconv.FormatInt(s.started.Unix(), 10),
		"db0":                         "keys=1,expires=0,avg_ttl=0",
	}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("INFO %s = %q, want %q", k, f[k], v)
		}
	}
	for _, k := range []string{"used_memory", "used_memory_rss", "used_memory_overhead", "total_connections_received",
		"total_commands_processed", "instantaneous_ops_per_sec", "total_net_input_bytes", "total_net_output_bytes",
		"rejected_connections", "expired_keys", "evicted_keys", "keyspace_hits", "keyspace_misses", "process_id",
		"uptime_in_seconds", "server_time_usec", "tcp_port"} {
		infoInt(t, f, k)
	}
	used, dataset, overhead := infoInt(t, f, "used_memory"), infoInt(t, f, "used_memory_dataset"), infoInt(t, f, "used_memory_overhead")
	if used != dataset+overhead || overhead <= 0 {
		t.Errorf("used_memory %d != dataset %d + overhead %d (> 0)", used, dataset, overhead)
	}
	if rss := infoInt(t, f, "used_memory_rss"); rss <= 0 {
		t.Errorf("used_memory_rss = %d, want > 0", rss)
	}
	if ratio, err := strconv.ParseFloat(f["mem_fragmentation_ratio"], 64); err != nil || ratio <= 0 {
		t.Errorf("mem_fragmentation_ratio = %q", f["mem_fragmentation_ratio"])
	}
	if _, err := strconv.ParseFloat(f["used_cpu_user"], 64); err != nil {
		t.Errorf("used_cpu_user = %q", f["used_cpu_user"])
	}
	if id := f["run_id"]; len(id) != 40 || infoFields(t, c, "server")["run_id"] != id {
		t.Errorf("run_id = %q, want 40 hex digits, the same at each call", id)
	}
}

func TestInfoStatsMove(t *testing.T) {
	s := newTestServer(t)
	c := newTestClient(t, s)
	putKey(t, s, "hit", "1", 0)
	putKey(t, s, "gone", "1", time.Now().Add(-time.Second).UnixMilli())
	f0 := infoFields(t, c, "stats")
	if !getKey(t, s, "hit") || getKey(t, s, "nosuch") || getKey(t, s, "gone") {
		t.Fatal("the store does not hold what the test put")
	}
	run(t, c, "DBSIZE")
	f1 := infoFields(t, c, "stats")
	for field, delta := range map[string]int64{
		"keyspace_hits":            1,
		"keyspace_misses":          2,
		"expired_keys":             1,
		"total_commands_processed": 2, // DBSIZE and the INFO itself
	} {
		if got := infoInt(t, f1, field) - infoInt(t, f0, field); got != delta {
			t.Errorf("%s moved by %d, want %d", field, got, delta)
		}
	}

	if got := run(t, c, "CONFIG RESETSTAT"); got != "+OK\r\n" {
		t.Fatalf("CONFIG RESETSTAT = %q", got)
	}
	f2 := infoFields(t, c, "stats")
	for field, want := range map[string]int64{
		"keyspace_hits":              0,
		"keyspace_misses":            0,
		"expired_keys":               0,
		"total_commands_processed":   1, // the INFO itself
		"total_connections_received": 0,
		"total_net_input_bytes":      0, // a client without a connection reads nothing
	} {
		if got := infoInt(t, f2, field); got != want {
			t.Errorf("after CONFIG RESETSTAT %s = %d, want %d", field, got, want)
		}
	}
}

// TestInfoOverTCP checks the figures that need real connections: clients,
// connections, bytes, rejections and the listener's port.
func TestInfoOverTCP(t *testing.T) {
	s := newTestServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		select {
		case err := <-served:
			if err != ErrServerClosed {
				t.Errorf("Serve returned %v, want ErrServerClosed", err)
			}
		case <-ctx.Done():
			t.Error("Serve did not return after Shutdown")
		}
	})
	port := ln.Addr().(*net.TCPAddr).Port

	conn := dialTest(t, ln.Addr().String())
	r := bufio.NewReader(conn)
	send := func(args ...string) string {
		t.Helper()
		var b strings.Builder
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
		if _, err := io.WriteString(conn, b.String()); err != nil {
			t.Fatal(err)
		}
		return readReply(t, r)
	}
	info := func() map[string]string {
		t.Helper()
		return parseInfo(t, bulkBody(t, send("INFO")))
	}

	f1 := info()
	if got := infoInt(t, f1, "tcp_port"); got != int64(port) {
		t.Errorf("tcp_port = %d, want %d", got, port)
	}
	if got := infoInt(t, f1, "connected_clients"); got != 1 {
		t.Errorf("connected_clients = %d, want 1", got)
	}
	if got := infoInt(t, f1, "total_connections_received"); got != 1 {
		t.Errorf("total_connections_received = %d, want 1", got)
	}
	if got := infoInt(t, f1, "total_net_input_bytes"); got != int64(len("*1\r\n$4\r\nINFO\r\n")) {
		t.Errorf("total_net_input_bytes = %d, want the %d bytes of INFO", got, len("*1\r\n$4\r\nINFO\r\n"))
	}
	want := "*4\r\n" + bulk("port") + bulk(strconv.Itoa(port)) + bulk("bind") + bulk("127.0.0.1")
	if got := send("CONFIG", "GET", "port", "bind"); got != want {
		t.Errorf("CONFIG GET port bind = %q, want %q", got, want)
	}
	if got := send("CONFIG", "SET", "maxclients", "1"); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET maxclients 1 = %q", got)
	}
	extra := dialTest(t, ln.Addr().String())
	if got := readReply(t, bufio.NewReader(extra)); got != "-ERR max number of clients reached\r\n" {
		t.Errorf("a client beyond maxclients got %q", got)
	}
	f2 := info()
	if got := infoInt(t, f2, "rejected_connections"); got != 1 {
		t.Errorf("rejected_connections = %d, want 1", got)
	}
	if got := infoInt(t, f2, "total_net_output_bytes"); got <= infoInt(t, f1, "total_net_output_bytes") {
		t.Errorf("total_net_output_bytes did not grow: %d", got)
	}
	if got := infoInt(t, f2, "total_commands_processed"); got != 4 {
		t.Errorf("total_commands_processed = %d, want 4", got)
	}
}

func dialTest(tb testing.TB, addr string) net.Conn {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	tb.Cleanup(func() { conn.Close() })
	return conn
}

// readReply reads one reply: a line, or a bulk string with its payload.
func readReply(tb testing.TB, r *bufio.Reader) string {
	tb.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		tb.Fatalf("reading a reply: %v", err)
	}
	switch line[0] {
	case '$':
		n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
		if n < 0 {
			return line
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			tb.Fatalf("reading a bulk reply: %v", err)
		}
		return line + string(buf)
	case '*':
		n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
		out := line
		for range n {
			out += readReply(tb, r)
		}
		return out
	}
	return line
}

func TestRateMeter(t *testing.T) {
	var m rateMeter
	t0 := time.Unix(1000, 0)
	steps := []struct {
		after time.Duration
		cmds  int64
		want  float64
	}{
		{0, 0, 0},                           // first sample: nothing to compare with
		{500 * time.Millisecond, 50, 100},   // against the first sample
		{time.Second, 200, 200},             // a second on: becomes the latest sample
		{1500 * time.Millisecond, 300, 200}, // against the older sample (+0)
		{2 * time.Second, 300, 100},         // a second after the latest: against it
		{4 * time.Second, 300, 0},           // idle
	}
	for _, st := range steps {
		got := m.observe(t0.Add(st.after), totals{cmds: st.cmds})
		if got.ops != st.want {
			t.Errorf("at +%v with %d commands: %v ops/s, want %v", st.after, st.cmds, got.ops, st.want)
		}
	}
	m.reset()
	if got := m.observe(t0.Add(5*time.Second), totals{cmds: 1}); got.ops != 0 {
		t.Errorf("after reset: %v ops/s, want 0", got.ops)
	}
}

func TestBytesToHuman(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0B"},
		{1023, "1023B"},
		{1024, "1.00K"},
		{941200, "919.14K"},
		{7036928, "6.71M"},
		{64 << 20, "64.00M"},
		{25276502016, "23.54G"},
		{3 << 40, "3.00T"},
		{5 << 50, "5.00P"},
	}
	for _, tt := range tests {
		if got := bytesToHuman(tt.n); got != tt.want {
			t.Errorf("bytesToHuman(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
