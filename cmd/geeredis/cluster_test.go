package main

import (
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

func TestClusterFlags(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string // "" = accepted
		gossip  bool
		join    []string
	}{
		{name: "no cluster", args: nil},
		{name: "static", args: []string{"--peer-addr", "127.0.0.1:7001", "--peers", "http://127.0.0.1:7002"}},
		{name: "gossip, new cluster", args: []string{"--peer-addr", "127.0.0.1:7001", "--gossip-addr", "127.0.0.1:7946"}, gossip: true},
		{name: "gossip, join two", args: []string{"--peer-addr", "127.0.0.1:7001", "--gossip-addr", "127.0.0.1:7946", "--join", "10.0.0.1:7946, 10.0.0.2:7946,"},
			gossip: true, join: []string{"10.0.0.1:7946", "10.0.0.2:7946"}},
		{name: "gossip from the environment", args: []string{"--peer-addr", "127.0.0.1:7001"},
			env: map[string]string{"GEEREDIS_GOSSIP_ADDR": "127.0.0.1:7946", "GEEREDIS_JOIN": "10.0.0.1:7946"}, gossip: true, join: []string{"10.0.0.1:7946"}},
		{name: "peers and gossip", args: []string{"--peer-addr", "127.0.0.1:7001", "--peers", "http://127.0.0.1:7002", "--gossip-addr", "127.0.0.1:7946"},
			wantErr: "--peers and --gossip-addr exclude each other"},
		{name: "join without gossip", args: []string{"--peer-addr", "127.0.0.1:7001", "--join", "10.0.0.1:7946"}, wantErr: "--join needs --gossip-addr"},
		{name: "join alone", args: []string{"--join", "10.0.0.1:7946"}, wantErr: "--join needs --gossip-addr"},
		{name: "gossip without peer address", args: []string{"--gossip-addr", "127.0.0.1:7946"}, wantErr: "need --peer-addr"},
		{name: "bad gossip address", args: []string{"--peer-addr", "127.0.0.1:7001", "--gossip-addr", "nope"}, wantErr: "--gossip-addr \"nope\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args, func(k string) string { return tt.env[k] }, io.Discard, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			p, err := setupCluster(o, quiet)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p == nil {
				if len(tt.args) > 0 {
					t.Fatal("no peering for a cluster")
				}
				return
			}
			t.Cleanup(func() { p.pool.Close() })
			if got := p.gossip != nil; got != tt.gossip {
				t.Fatalf("gossip = %v, want %v", got, tt.gossip)
			}
			if !tt.gossip {
				if got := p.pool.Members(); len(got) != 2 {
					t.Errorf("static members %v", got)
				}
				return
			}
			if got := p.gossip.Join; !slices.Equal(got, tt.join) {
				t.Errorf("join %q, want %q", got, tt.join)
			}
			if p.gossip.Meta.PeerURL != "http://127.0.0.1:7001" || p.gossip.Profile != "lan" {
				t.Errorf("gossip config %+v", p.gossip)
			}
		})
	}
}
