package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/geeredis/geeredis/cluster"
	"github.com/geeredis/geeredis/resp"
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("geeredis: server closed")

// Server is one geeredis node's RESP server.
type Server struct {
	log     *slog.Logger
	version string
	cfgFile string
	set     settings
	store   *cluster.Store
	table   *table
	started time.Time

	// The cluster (cluster.go): nil group for a node without a getter or
	// peers; nil pool for a node on its own.
	group     *cluster.Group
	pool      *cluster.HTTPPool
	hot       *cluster.Store // the group's hot cache; nil when it has none
	getter    bool           // GET and MGET read through the group on a miss
	groupName string
	cstats    clusterStats
	pseudo    sync.Pool // *client for Execute
	// membership lists the members of a gossip cluster (members.go).
	membership atomic.Pointer[cluster.Membership]

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	clients   map[*client]struct{}
	conns     sync.WaitGroup
	closing   atomic.Bool
	stop      context.CancelFunc
	done      chan struct{}

	nextID    atomic.Int64
	stats     serverStats
	meter     rateMeter    // INFO's instantaneous rates (info.go)
	lastSave  atomic.Int64 // unix seconds
	statReset atomic.Int64 // unix seconds of the last CONFIG RESETSTAT
}

// settings are the values CONFIG SET may change while clients run.
type settings struct {
	requirePass     atomic.Pointer[string]
	maxClients      atomic.Int64
	timeout         atomic.Int64 // nanoseconds
	protoMaxBulkLen atomic.Int64
	queryBufLimit   atomic.Int64
	limitsGen       atomic.Int64 // bumped when a reader limit changes
}

// serverStats are INFO's counters that are not kept by the store.
type serverStats struct {
	connections   atomic.Int64 // accepted since start
	rejected      atomic.Int64 // refused by maxclients
	closedCmds    atomic.Int64 // commands of clients that have gone
	closedNetIn   atomic.Int64
	closedNetOut  atomic.Int64
	protoErrors   atomic.Int64
	panics        atomic.Int64
	unknownOrArgs atomic.Int64 // rejected calls (unknown command, arity, auth)
}

// New validates cfg and builds a Server. It serves nothing until Serve.
func New(cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("server: invalid config: %w", err)
	}
	store, err := cluster.NewStore(cluster.StoreConfig{MaxBytes: cfg.MaxMemory})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	tbl, err := newTable(connectionCommands(), stringCommands(), keyCommands(), serverCommands(), geeredisCommands())
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		log:       log,
		version:   cfg.Version,
		cfgFile:   cfg.ConfigFile,
		store:     store,
		table:     tbl,
		started:   time.Now(),
		listeners: make(map[net.Listener]struct{}),
		clients:   make(map[*client]struct{}),
		done:      make(chan struct{}),
	}
	pass := cfg.RequirePass
	s.set.requirePass.Store(&pass)
	s.set.maxClients.Store(int64(cfg.MaxClients))
	s.set.timeout.Store(int64(cfg.Timeout))
	s.set.protoMaxBulkLen.Store(cfg.ProtoMaxBulkLen)
	s.set.queryBufLimit.Store(cfg.ClientQueryBufferLimit)
	s.lastSave.Store(s.started.Unix())
	if err := s.setupGroup(cfg); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	classify(tbl)
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go func() {
		defer close(s.done)
		var wg sync.WaitGroup
		if s.hot != nil {
			wg.Go(func() { s.hot.Run(ctx) })
		}
		store.Run(ctx)
		wg.Wait()
	}()
	return s, nil
}

// Store returns the node's local store.
func (s *Server) Store() *cluster.Store { return s.store }

// Serve accepts clients on ln until Shutdown, and closes ln when it returns.
// It returns ErrServerClosed after Shutdown, or the listener's error.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
		ln.Close()
	}()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Out of file descriptors or the like: wait, as net/http does.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed; retrying", "err", err, "in", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		s.accept(nc)
	}
}

// accept registers a new connection and starts serving it, or refuses it
// when the node is at maxclients.
func (s *Server) accept(nc net.Conn) {
	s.stats.connections.Add(1)
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if int64(len(s.clients)) >= s.set.maxClients.Load() {
		s.mu.Unlock()
		s.stats.rejected.Add(1)
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		nc.Write([]byte("-" + resp.MsgMaxClients + "\r\n"))
		nc.Close()
		return
	}
	c := newClient(s, nc)
	s.clients[c] = struct{}{}
	s.conns.Add(1)
	s.mu.Unlock()
	go c.serve()
}

// forget drops a finished client from the registry and keeps its counters.
func (s *Server) forget(c *client) {
	s.mu.Lock()
	delete(s.clients, c)
	s.mu.Unlock()
	s.stats.closedCmds.Add(c.cmds.Load())
	s.stats.closedNetIn.Add(c.netIn.Load())
	s.stats.closedNetOut.Add(c.netOut.Load())
	s.conns.Done()
}

// eachClient calls fn for every connected client, in no particular order.
func (s *Server) eachClient(fn func(c *client)) {
	s.mu.Lock()
	list := make([]*client, 0, len(s.clients))
	for c := range s.clients {
		list = append(list, c)
	}
	s.mu.Unlock()
	for _, c := range list {
		fn(c)
	}
}

// Shutdown stops accepting clients, lets every connection answer the
// requests it has already received, closes them, and returns when all are
// gone or ctx ends (then the remaining connections are closed at once).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	first := !s.closing.Swap(true)
	for ln := range s.listeners {
		ln.Close()
	}
	clients := make([]*client, 0, len(s.clients))
	for c := range s.clients {
		clients = append(clients, c)
	}
	s.mu.Unlock()
	for _, c := range clients {
		c.interrupt()
	}
	if first {
		s.stop()
	}
	finished := make(chan struct{})
	go func() {
		s.conns.Wait()
		<-s.done
		close(finished)
	}()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		for _, c := range clients {
			if c.cancel != nil {
				c.cancel() // ends waits for peers
			}
			c.nc.Close()
		}
		return ctx.Err()
	}
}
