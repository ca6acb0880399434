package cluster

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestNewHTTPPoolValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  PoolConfig
	}{
		{"no self", PoolConfig{}},
		{"self without scheme", PoolConfig{Self: "127.0.0.1:7380"}},
		{"self not http", PoolConfig{Self: "redis://127.0.0.1:7380"}},
		{"base without slash", PoolConfig{Self: "http://h:1", BasePath: "_x"}},
		{"negative timeout", PoolConfig{Self: "http://h:1", Timeout: -1}},
		{"negative body", PoolConfig{Self: "http://h:1", MaxBodyBytes: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewHTTPPool(tt.cfg); !errors.Is(err, ErrPoolConfig) {
				t.Errorf("err = %v, want ErrPoolConfig", err)
			}
		})
	}
	p, err := NewHTTPPool(PoolConfig{Self: "http://h:1/"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Self() != "http://h:1" || len(p.Members()) != 1 || len(p.Peers()) != 0 || p.Owner([]byte("k")) != nil {
		t.Errorf("a new pool: self %q, members %v, peers %v", p.Self(), p.Members(), p.Peers())
	}
}

func TestGetEndpoint(t *testing.T) {
	nodes := newCluster(t, 1, clusterOpts{})
	nd := nodes[0]
	put(nd.main, "a/b c", "value", time.Now().UnixMilli()+60_000)
	put(nd.main, "forever", "x", 0)
	tests := []struct {
		path   string
		status int
		body   string
		ttl    bool
	}{
		{"/_geeredis/geeredis/" + url.PathEscape("a/b c"), 200, "value", true},
		{"/_geeredis/geeredis/forever", 200, "x", false},
		{"/_geeredis/geeredis/missing", 404, "not found\n", false},
		{"/_geeredis/nosuch/k", 404, "no such group\n", false},
		{"/_geeredis/geeredis", 404, "no such path\n", false},
		{"/elsewhere/geeredis/k", 404, "no such path\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, err := http.Get(nd.url() + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.status || string(body) != tt.body {
				t.Fatalf("%d %q, want %d %q", res.StatusCode, body, tt.status, tt.body)
			}
			ttl := res.Header.Get(HeaderTTL)
			if n, _ := strconv.Atoi(ttl); tt.ttl != (ttl != "") || tt.ttl && (n < 50_000 || n > 60_000) {
				t.Errorf("%s: %q", HeaderTTL, ttl)
			}
		})
	}
}

func TestGetEndpointLoadFails(t *testing.T) {
	nodes := newCluster(t, 1, clusterOpts{getter: GetterFunc(func(ctx context.Context, key string) (Value, error) {
		return Value{}, errors.New("origin down")
	})})
	res, err := http.Get(nodes[0].url() + "/_geeredis/geeredis/k")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 500 || !strings.Contains(string(body), "origin down") {
		t.Errorf("%d %q, want 500 with the error", res.StatusCode, body)
	}
}

func TestBatchEndpointRefuses(t *testing.T) {
	nodes := newCluster(t, 1, clusterOpts{})
	nd := nodes[0]
	small, err := NewHTTPPool(PoolConfig{Self: "http://127.0.0.1:1", MaxBodyBytes: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	small.Register(nd.group, nd.exec)
	good := appendExecFrame(nil, 2, bs("SET", "k", "v"))
	tests := []struct {
		name    string
		handler http.Handler
		method  string
		path    string
		body    []byte
		status  int
	}{
		{"garbage", nd.pool, "POST", "/_geeredis/geeredis/_batch", []byte("hello"), 400},
		{"good then truncated", nd.pool, "POST", "/_geeredis/geeredis/_batch", append(good, kindExec, 2, 3), 400},
		{"too large", small, "POST", "/_geeredis/geeredis/_batch", bytes.Repeat(good, 10), 413},
		{"unknown group", nd.pool, "POST", "/_geeredis/nosuch/_batch", good, 404},
		{"put", nd.pool, "PUT", "/_geeredis/geeredis/_batch", good, 405},
		{"post elsewhere", nd.pool, "POST", "/_geeredis/geeredis/k", good, 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, bytes.NewReader(tt.body))
			rec := httptest.NewRecorder()
			tt.handler.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Errorf("status %d %q, want %d", rec.Code, rec.Body, tt.status)
			}
		})
	}
	if got := nd.exec.commands(); len(got) != 0 {
		t.Errorf("refused batches ran %q", got)
	}
	if nd.pool.Stats().Refused != 5 {
		t.Errorf("stats %+v, want 5 refused", nd.pool.Stats())
	}
}

func TestAuth(t *testing.T) {
	for _, tr := range transports() {
		t.Run(tr.name, func(t *testing.T) {
			nodes := newCluster(t, 3, clusterOpts{client: tr.client(), secret: []string{"s3cret", "s3cret", "other"}})
			a, b, c := nodes[0], nodes[1], nodes[2]
			put(b.main, "k", "v", 0)

			// Peers that share the secret talk.
			reply, err := peerOf(t, a, b).Exec(DefaultGroup, 2, bs("PING")).Wait(t.Context())
			if err != nil || string(reply) != ":0\r\n" {
				t.Fatalf("Exec between peers with the secret = %q %v", reply, err)
			}
			// A peer with another secret gets 401.
			_, err = peerOf(t, c, b).Exec(DefaultGroup, 2, bs("PING")).Wait(t.Context())
			if !errors.Is(err, ErrPeerUnreachable) || !strings.Contains(err.Error(), "401") {
				t.Errorf("Exec with a wrong secret: err = %v, want a 401", err)
			}

			batch := appendExecFrame(nil, 2, bs("SET", "k", "w"))
			now := time.Now()
			tests := []struct {
				name   string
				method string
				path   string
				body   []byte
				secret string // "" = unsigned
				at     time.Time
				tamper bool
				status int
			}{
				{"get unsigned", "GET", "/_geeredis/geeredis/k", nil, "", now, false, 401},
				{"get wrong secret", "GET", "/_geeredis/geeredis/k", nil, "guess", now, false, 401},
				{"get signed", "GET", "/_geeredis/geeredis/k", nil, "s3cret", now, false, 200},
				{"batch unsigned", "POST", "/_geeredis/geeredis/_batch", batch, "", now, false, 401},
				{"batch wrong secret", "POST", "/_geeredis/geeredis/_batch", batch, "guess", now, false, 401},
				{"batch signed", "POST", "/_geeredis/geeredis/_batch", batch, "s3cret", now, false, 200},
				{"batch 61s old", "POST", "/_geeredis/geeredis/_batch", batch, "s3cret", now.Add(-61 * time.Second), false, 401},
				{"batch 61s ahead", "POST", "/_geeredis/geeredis/_batch", batch, "s3cret", now.Add(61 * time.Second), false, 401},
				{"batch 50s old", "POST", "/_geeredis/geeredis/_batch", batch, "s3cret", now.Add(-50 * time.Second), false, 200},
				{"batch body changed", "POST", "/_geeredis/geeredis/_batch", batch, "s3cret", now, true, 401},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					req, err := http.NewRequest(tt.method, b.url()+tt.path, bytes.NewReader(tt.body))
					if err != nil {
						t.Fatal(err)
					}
					if tt.secret != "" {
						newSigner(tt.secret).sign(req, tt.body, tt.at)
					}
					if tt.tamper {
						req.Body = io.NopCloser(bytes.NewReader(appendExecFrame(nil, 2, bs("SET", "k", "x"))))
					}
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != tt.status {
						t.Errorf("status %d, want %d", res.StatusCode, tt.status)
					}
				})
			}
			// Only the accepted batches ran: the PING and two SETs.
			if got := b.exec.commands(); len(got) != 3 {
				t.Errorf("owner ran %q", got)
			}
		})
	}
}
