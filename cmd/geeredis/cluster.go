package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/geeredis/geeredis/cluster"
	"github.com/geeredis/geeredis/server"
)

// peering is the peer protocol's HTTP server and pool of a node in a cluster.
type peering struct {
	pool *cluster.HTTPPool
	addr string
	http *http.Server
	ln   net.Listener
	log  *slog.Logger
	done chan error
}

// setupCluster maps the cluster and getter flags onto opts.cfg. It returns
// the peering to start when the node is part of a cluster, nil otherwise.
func setupCluster(o *options, log *slog.Logger) (*peering, error) {
	if o.origin != "" {
		origin, err := cluster.NewOrigin(cluster.OriginConfig{URL: o.origin, Timeout: o.originTimeout})
		if err != nil {
			return nil, err
		}
		o.cfg.Getter = origin
	}
	if o.peerAddr == "" {
		if o.peers != "" || o.clusterSecret != "" {
			return nil, errors.New("--peers and --cluster-secret need --peer-addr (where this node serves its peers)")
		}
		return nil, nil
	}
	if _, _, err := net.SplitHostPort(o.peerAddr); err != nil {
		return nil, fmt.Errorf("--peer-addr %q: %w", o.peerAddr, err)
	}
	self := "http://" + o.peerAddr
	members := []string{self}
	for _, p := range strings.Split(o.peers, ",") {
		if p = strings.TrimRight(strings.TrimSpace(p), "/"); p != "" {
			members = append(members, p)
		}
	}
	slices.Sort(members)
	members = slices.Compact(members)
	pool, err := cluster.NewHTTPPool(cluster.PoolConfig{
		Self:    self,
		Secret:  o.clusterSecret,
		Timeout: o.peerTimeout,
		Logger:  log,
	})
	if err != nil {
		return nil, err
	}
	pool.Set(members...)
	o.cfg.Cluster = &server.ClusterConfig{Pool: pool}
	log.Info("cluster membership", "self", self, "members", strings.Join(members, ","),
		"authenticated", o.clusterSecret != "")
	return &peering{pool: pool, addr: o.peerAddr, log: log, done: make(chan error, 1)}, nil
}

// start listens on the peer address and serves the pool.
func (p *peering) start() error {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.ln = ln
	p.http = &http.Server{
		Handler:           p.pool,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       5 * time.Minute,
		ErrorLog:          slog.NewLogLogger(p.log.Handler(), slog.LevelWarn),
	}
	go func() { p.done <- p.http.Serve(ln) }()
	p.log.Info("serving the peer protocol", "addr", ln.Addr().String())
	return nil
}

// stop ends the peer server after the client side has stopped.
func (p *peering) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.http.Shutdown(ctx); err != nil {
		p.log.Warn("peer server did not stop cleanly", "err", err)
	}
	<-p.done
	p.pool.Close()
}
