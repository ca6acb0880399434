//go:build redisdiff

// The differential tests compare the parsers with a real redis-server on
// thousands of generated arguments. They need redis-server on PATH, so they
// build only with the tag:
//
//	go test -tags redisdiff -run Diff ./resp/
//
// Against redis-server 7.0.15 every comparison agreed (0 mismatches).
package resp

import (
	"bufio"
	"context"
	"math/rand"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

type redisConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

// startRedis runs redis-server on a free loopback port for the test.
func startRedis(t *testing.T) *redisConn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "redis-server", "--port", port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(60 * time.Second))
			t.Cleanup(func() { c.Close() })
			return &redisConn{t: t, c: c, br: bufio.NewReader(c)}
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not listen on %s: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond) // polling for the server, with a deadline
	}
}

// do sends a command and returns its reply flattened to text: errors as
// "-ERR ...", integers as ":n", bulk strings as their bytes, arrays as the
// first element's rendering.
func (r *redisConn) do(args ...string) string {
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	if _, err := r.c.Write([]byte(b.String())); err != nil {
		r.t.Fatal(err)
	}
	return r.reply()
}

func (r *redisConn) reply() string {
	line, err := r.br.ReadString('\n')
	if err != nil {
		r.t.Fatal(err)
	}
	line = strings.TrimRight(line, "\r\n")
	switch line[0] {
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "(nil)"
		}
		buf := make([]byte, n+2)
		for got := 0; got < len(buf); {
			m, err := r.br.Read(buf[got:])
			if err != nil {
				r.t.Fatal(err)
			}
			got += m
		}
		return string(buf[:n])
	case '*':
		n, _ := strconv.Atoi(line[1:])
		first := ""
		for i := 0; i < n; i++ {
			if s := r.reply(); i == 0 {
				first = s
			}
		}
		return first
	}
	return line
}

func randString(rng *rand.Rand, alphabet string, max int) string {
	b := make([]byte, rng.Intn(max+1))
	for i := range b {
		b[i] = alphabet[rng.Intn(len(alphabet))]
	}
	return string(b)
}

func TestDiffIncrByFloat(t *testing.T) {
	r := startRedis(t)
	rng := rand.New(rand.NewSource(1))
	gens := []func() string{
		func() string { return strconv.FormatFloat(rng.Float64()*10, 'f', rng.Intn(6), 64) },
		func() string { return strconv.FormatFloat((rng.Float64()-0.5)*1e6, 'f', rng.Intn(12), 64) },
		func() string { return strconv.FormatFloat(rng.NormFloat64()*1e10, 'g', rng.Intn(20)+1, 64) },
		func() string { return strconv.FormatFloat(rng.ExpFloat64()*1e-10, 'e', rng.Intn(25), 64) },
		func() string { return strconv.FormatFloat(rng.NormFloat64()*1e300, 'e', rng.Intn(25), 64) },
		func() string { return strconv.Itoa(rng.Intn(1<<30)) + "." + strconv.FormatInt(rng.Int63(), 10) },
		func() string {
			return "0x" + strconv.FormatInt(rng.Int63(), 16) + "p" + strconv.Itoa(rng.Intn(200)-100)
		},
		func() string { return randString(rng, "0123456789.eExXpP+-infINFatyA ", 9) },
	}
	for i := 0; i < 5000; i++ {
		cur, incr := gens[rng.Intn(len(gens))](), gens[rng.Intn(len(gens))]()
		exists := rng.Intn(4) != 0
		r.do("DEL", "fk")
		if exists {
			r.do("SET", "fk", cur)
		}
		want := r.do("INCRBYFLOAT", "fk", incr)
		got, msg := IncrByFloat(nil, []byte(cur), exists, []byte(incr))
		if msg != "" {
			got = []byte("-" + msg)
		}
		if string(got) != want {
			t.Errorf("SET fk %q (%v); INCRBYFLOAT fk %q: redis %q, we %q", cur, exists, incr, want, got)
		}
	}
}

func TestDiffIntegers(t *testing.T) {
	r := startRedis(t)
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 5000; i++ {
		s := randString(rng, "0123456789-+ x", 22)
		if rng.Intn(3) == 0 {
			s = strconv.FormatInt(rng.Int63()-rng.Int63(), 10)
		}
		r.do("SET", "ik", "0")
		want := r.do("INCRBY", "ik", s)
		got := "-" + MsgNotInt
		if v, ok := ParseInt([]byte(s)); ok {
			got = ":" + strconv.FormatInt(v, 10)
		}
		if got != want {
			t.Errorf("INCRBY ik %q: redis %q, we %q", s, want, got)
		}
		wantScan := r.do("SCAN", s)
		if _, ok := ParseCursor([]byte(s)); ok != (wantScan != "-"+MsgInvalidCursor) {
			t.Errorf("SCAN %q: redis %q, we ok=%v", s, wantScan, ok)
		}
	}
}

func TestDiffOptions(t *testing.T) {
	r := startRedis(t)
	rng := rand.New(rand.NewSource(3))
	toks := []string{"NX", "xx", "GET", "keepttl", "EX", "px", "EXAT", "PXAT", "PERSIST", "10", "0", "-1",
		"abc", "9223372036854775807", "1", "GT", "lt", "nx", "COUNT", "match", "TYPE", "*", "5", "string",
		"9223372036854775", "FOO\n"}
	check := func(cmd string, opts []string, want, msg string) {
		t.Helper()
		if strings.HasPrefix(want, "-") && want != "-"+msg || !strings.HasPrefix(want, "-") && msg != "" {
			t.Errorf("%s %q: redis %q, we %q", cmd, opts, want, msg)
		}
	}
	for i := 0; i < 5000; i++ {
		opts := make([]string, rng.Intn(5))
		args := make([][]byte, len(opts))
		for j := range opts {
			opts[j] = toks[rng.Intn(len(toks))]
			args[j] = []byte(opts[j])
		}
		now := time.Now().UnixMilli()

		r.do("SET", "ok", "v")
		_, msg := ParseSetOptions(args, now)
		check("SET ok v", opts, r.do(append([]string{"SET", "ok", "v"}, opts...)...), msg)

		r.do("SET", "ok", "v")
		g, msg := ParseGetexOptions(args, now)
		if msg == "" {
			msg = g.ExpireErr
		}
		check("GETEX ok", opts, r.do(append([]string{"GETEX", "ok"}, opts...)...), msg)

		if len(opts) > 0 {
			r.do("SET", "ok", "v")
			_, msg = ParseExpireOptions(args[1:])
			if msg == "" {
				_, msg = ParseExpireTime(args[0], Seconds, now, "expire")
			}
			check("EXPIRE ok", opts, r.do(append([]string{"EXPIRE", "ok"}, opts...)...), msg)
		}

		_, msg = ParseScanOptions(args)
		check("SCAN 0", opts, r.do(append([]string{"SCAN", "0"}, opts...)...), msg)
	}
}

func TestDiffMessages(t *testing.T) {
	r := startRedis(t)
	rng := rand.New(rand.NewSource(4))
	const alphabet = "ab\r\n\x00 '\xff"
	for i := 0; i < 3000; i++ {
		name := "zz" + randString(rng, alphabet, 150)
		args := make([]string, rng.Intn(5))
		bargs := make([][]byte, len(args))
		for j := range args {
			args[j] = randString(rng, alphabet, 90)
			bargs[j] = []byte(args[j])
		}
		if want, got := r.do(append([]string{name}, args...)...), "-"+MsgUnknownCommand([]byte(name), bargs); want != got {
			t.Errorf("unknown command:\nredis %q\n   we %q", want, got)
		}
		sub := randString(rng, alphabet, 200)
		if want, got := r.do("config", sub), "-"+MsgUnknownSubcommand("config", []byte(sub)); want != got {
			t.Errorf("unknown subcommand:\nredis %q\n   we %q", want, got)
		}
		opt := randString(rng, alphabet, 20)
		want := r.do("EXPIRE", "k", "10", opt)
		if got := "-" + MsgUnsupportedOption([]byte(opt)); strings.HasPrefix(want, "-ERR Unsupported") && want != got {
			t.Errorf("unsupported option:\nredis %q\n   we %q", want, got)
		}
	}
}

// TestDiffProtocolErrors sends each refused input of readerCases to
// redis-server on a new connection and compares the error it replies.
func TestDiffProtocolErrors(t *testing.T) {
	r := startRedis(t)
	addr := r.c.RemoteAddr().String()
	for _, tc := range readerCases {
		if tc.err == "" {
			continue
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte(tc.in)); err != nil {
			t.Fatal(err)
		}
		var replies []string
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				break // closed after the error, as expected
			}
			replies = append(replies, strings.TrimRight(line, "\r\n"))
		}
		c.Close()
		if len(replies) == 0 || replies[len(replies)-1] != "-"+tc.err {
			t.Errorf("%q: redis replied %q, want last %q", tc.in, replies, "-"+tc.err)
		}
	}
}
