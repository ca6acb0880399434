package cluster

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestOrigin(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.EscapedPath() {
		case "/base/plain":
			w.Write([]byte("v1"))
		case "/base/ttl":
			w.Header().Set("Cache-Control", "public, max-age=30")
			w.Write([]byte("v2"))
		case "/base/nostore":
			w.Header().Set("Cache-Control", "no-store")
			w.Write([]byte("v3"))
		case "/base/a%2Fb%20c":
			w.Write([]byte("escaped"))
		case "/base/big":
			w.Write([]byte(strings.Repeat("x", 100)))
		case "/base/broken":
			http.Error(w, "database down", http.StatusServiceUnavailable)
		case "/base/slow":
			<-r.Context().Done()
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	o, err := NewOrigin(OriginConfig{URL: srv.URL + "/base/", Timeout: 200 * time.Millisecond, MaxValue: 50})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		key, value string
		ttl        time.Duration
		err        string // substring; "notfound" for ErrNotFound
	}{
		{key: "plain", value: "v1"},
		{key: "ttl", value: "v2", ttl: 30 * time.Second},
		{key: "nostore", value: "v3", ttl: time.Millisecond},
		{key: "a/b c", value: "escaped"},
		{key: "missing", err: "notfound"},
		{key: "broken", err: "503"},
		{key: "big", err: "over the 50"},
		{key: "slow", err: "deadline"},
	}
	for _, tt := range tests {
		v, err := o.Get(ctx, tt.key)
		switch {
		case tt.err == "notfound":
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("Get(%q) error = %v, want ErrNotFound", tt.key, err)
			}
		case tt.err != "":
			if err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Get(%q) error = %v, want one mentioning %q", tt.key, err, tt.err)
			}
		case err != nil:
			t.Errorf("Get(%q) error = %v", tt.key, err)
		case string(v.Bytes) != tt.value || v.TTL != tt.ttl:
			t.Errorf("Get(%q) = %q ttl %v, want %q ttl %v", tt.key, v.Bytes, v.TTL, tt.value, tt.ttl)
		}
	}
}

func TestNewOriginRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "127.0.0.1:80", "http://"} {
		if _, err := NewOrigin(OriginConfig{URL: u}); err == nil {
			t.Errorf("NewOrigin(%q) accepted", u)
		}
	}
}
