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

// peering is the peer protocol's HTTP server and pool of a node in a
// cluster, and its gossip membership when the members are not static.
type peering struct {
	pool *cluster.HTTPPool
	addr string
	http *http.Server
	ln   net.Listener
	log  *slog.Logger
	done chan error

	gossip       *cluster.MembershipConfig // nil: static members (--peers)
	members      *cluster.Membership
	leaveTimeout time.Duration
	handedOff    bool // the leave's hand-off finished
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
	switch {
	case o.peerAddr == "" && (o.peers != "" || o.clusterSecret != "" || o.gossipAddr != ""):
		return nil, errors.New("--peers, --gossip-addr and --cluster-secret need --peer-addr (where this node serves its peers)")
	case o.peerAddr == "" && o.join == "":
		return nil, nil
	case o.join != "" && o.gossipAddr == "":
		return nil, errors.New("--join needs --gossip-addr (where this node gossips)")
	case o.peers != "" && o.gossipAddr != "":
		return nil, errors.New("--peers and --gossip-addr exclude each other: give the members either as a static list or by gossip")
	}
	if _, _, err := net.SplitHostPort(o.peerAddr); err != nil {
		return nil, fmt.Errorf("--peer-addr %q: %w", o.peerAddr, err)
	}
	self := "http://" + o.peerAddr
	pool, err := cluster.NewHTTPPool(cluster.PoolConfig{
		Self:    self,
		Secret:  o.clusterSecret,
		Timeout: o.peerTimeout,
		Logger:  log,
	})
	if err != nil {
		return nil, err
	}
	o.cfg.Cluster = &server.ClusterConfig{Pool: pool}
	p := &peering{pool: pool, addr: o.peerAddr, log: log, done: make(chan error, 1), leaveTimeout: o.leaveTimeout}
	if o.gossipAddr != "" {
		if _, _, err := net.SplitHostPort(o.gossipAddr); err != nil {
			return nil, fmt.Errorf("--gossip-addr %q: %w", o.gossipAddr, err)
		}
		p.gossip = &cluster.MembershipConfig{
			Meta:     cluster.MemberMeta{PeerURL: self},
			BindAddr: o.gossipAddr,
			Join:     splitList(o.join),
			Secret:   o.clusterSecret,
			Profile:  o.gossipProfile,
			Logger:   log,
		}
		log.Info("cluster membership by gossip", "self", self, "gossip_addr", o.gossipAddr,
			"join", o.join, "authenticated", o.clusterSecret != "")
		return p, nil
	}
	members := append([]string{self}, splitList(o.peers)...)
	for i, m := range members {
		members[i] = strings.TrimRight(m, "/")
	}
	slices.Sort(members)
	members = slices.Compact(members)
	pool.Set(members...)
	log.Info("cluster membership", "self", self, "members", strings.Join(members, ","),
		"authenticated", o.clusterSecret != "")
	return p, nil
}

// splitList splits a comma-separated flag, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// join starts gossip, advertising clientAddr, and joins the cluster; the
// ring follows the alive members from then on. Static members: nothing.
func (p *peering) join(srv *server.Server, clientAddr string) error {
	if p.gossip == nil {
		return nil
	}
	cfg := *p.gossip
	cfg.Meta.ClientAddr = clientAddr
	cfg.OnMembers = p.pool.SetMembers
	m, err := cluster.NewMembership(cfg)
	if err != nil {
		return err
	}
	p.members = m
	srv.SetMembership(m)
	p.log.Info("joined the cluster", "members", len(m.Alive()), "failure_bound", m.FailureBound())
	return nil
}

// leave is a graceful departure, while clients are still served: the
// others drop this node from their rings, this node drops itself from its
// own (its clients' commands then go to the new owners), and its keys are
// handed to their new owners, within the leave timeout.
func (p *peering) leave(srv *server.Server) {
	if p.members == nil {
		return
	}
	start := time.Now()
	if err := p.members.Leave(min(cluster.DefaultLeaveTimeout, p.leaveTimeout/2)); err != nil {
		p.log.Warn("leaving the gossip", "err", err)
	}
	p.pool.Leave()
	// --leave-timeout bounds the whole leave: what the gossip took is
	// not left for the hand-off.
	if err := handOff(srv, max(p.leaveTimeout-time.Since(start), time.Second)); err != nil {
		p.log.Warn("keys not handed off: they are lost with this node", "keys", srv.Store().Len(), "err", err)
		return
	}
	p.handedOff = true
	hs := srv.Group().HandoffStats()
	p.log.Info("keys handed off", "moved", hs.Moved, "in", time.Since(start).Round(time.Millisecond))
}

// handOffRest moves what commands run during the shutdown left here,
// after a leave whose hand-off finished.
func (p *peering) handOffRest(srv *server.Server) {
	if !p.handedOff || srv.Store().Len() == 0 {
		return
	}
	if err := handOff(srv, stallAfter); err != nil {
		p.log.Warn("keys not handed off: they are lost with this node", "keys", srv.Store().Len(), "err", err)
	}
}

// stallAfter ends a hand-off during which no key moved for that long:
// the other members are leaving too, or unreachable.
const stallAfter = 5 * time.Second

var errStalled = errors.New("no key could be handed off for " + stallAfter.String())

// handOff runs the node's hand-off until it is done, timeout passes, or
// it stalls.
func handOff(srv *server.Server, timeout time.Duration) error {
	ctx, cancel := context.WithTimeoutCause(context.Background(), timeout, fmt.Errorf("timeout %v", timeout))
	defer cancel()
	stall, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	go func() {
		tick := time.NewTicker(stallAfter / 10)
		defer tick.Stop()
		last, lastLen, since := srv.Group().HandoffStats().Moved, srv.Store().Len(), time.Now()
		for {
			select {
			case <-stall.Done():
				return
			case <-tick.C:
			}
			if moved, n := srv.Group().HandoffStats().Moved, srv.Store().Len(); moved != last || n != lastLen {
				last, lastLen, since = moved, n, time.Now()
			} else if time.Since(since) >= stallAfter {
				stop(errStalled)
				return
			}
		}
	}()
	if err := srv.Group().Handoff(stall); err != nil {
		return fmt.Errorf("%w (%w)", err, context.Cause(stall))
	}
	return nil
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

// stop ends gossip (if still on: a failed start) and the peer server,
// after the client side has stopped.
func (p *peering) stop() {
	if p.members != nil {
		p.members.Shutdown()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.http.Shutdown(ctx); err != nil {
		p.log.Warn("peer server did not stop cleanly", "err", err)
	}
	<-p.done
	p.pool.Close()
}
