//go:build linux && !race

package server

import (
	"bufio"
	"fmt"
	"net"
	"testing"
)

// A client's connection is read and written directly (cluster.DirectConn).
func TestClientConnIsDirect(t *testing.T) {
	s := newTestServer(t)
	conn, err := net.Dial("tcp", serveTest(t, s))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got := roundTrip(t, conn, bufio.NewReader(conn), "PING\r\n"); got != "+PONG\r\n" {
		t.Fatalf("PING: %q", got)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		if typ := fmt.Sprintf("%T", c.nc); typ != "*cluster.direct" {
			t.Errorf("the client's connection is a %s", typ)
		}
	}
	if len(s.clients) != 1 {
		t.Errorf("%d clients, want 1", len(s.clients))
	}
}
