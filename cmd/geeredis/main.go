// Command geeredis runs one geeredis node: a Redis-compatible cache server.
//
//	geeredis --bind 127.0.0.1 --port 6379 --maxmemory 64mb
//
// Every flag can also be given in the environment as GEEREDIS_<NAME>, the
// name in upper case with dashes as underscores (GEEREDIS_MAXMEMORY=1gb);
// a flag on the command line wins over the environment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/geeredis/geeredis/resp"
	"github.com/geeredis/geeredis/server"
)

// version is the geeredis release; set with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil))
}

// options are the command line of a node.
type options struct {
	bind     string
	port     int
	logLevel string
	cfg      server.Config

	peerAddr      string // where the peer protocol is served; "" = no cluster
	peers         string // comma-separated peer base URLs, this node's included
	clusterSecret string
	peerTimeout   time.Duration
	origin        string
	originTimeout time.Duration

	gossipAddr    string // where this node gossips; "" = static members (--peers)
	join          string // comma-separated gossip addresses of members to join through
	gossipProfile string
	leaveTimeout  time.Duration

	threads    int  // GOMAXPROCS; 0 = the Go runtime's default (every core it may use)
	threadsSet bool // --threads (or GEEREDIS_THREADS) was given
}

// run starts a node and blocks until SIGINT or SIGTERM (or stop, when not
// nil, is closed); it returns the exit code.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer, stop <-chan struct{}) int {
	opts, err := parseFlags(args, getenv, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "geeredis:", err)
		return 2
	}
	if opts == nil { // --version
		return 0
	}
	level := new(slog.LevelVar)
	if err := level.UnmarshalText([]byte(redisLevel(opts.logLevel))); err != nil {
		fmt.Fprintf(stderr, "geeredis: invalid --loglevel %q: %v\n", opts.logLevel, err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	opts.cfg.Logger = log
	tuneMemory(opts.cfg.MaxMemory)
	setThreads(opts, getenv)

	peering, err := setupCluster(opts, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	srv, err := server.New(opts.cfg)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	if peering != nil {
		if err := peering.start(); err != nil {
			log.Error("cannot serve the peer protocol", "addr", opts.peerAddr, "err", err)
			return 1
		}
		defer peering.stop()
	}
	addr := net.JoinHostPort(opts.bind, strconv.Itoa(opts.port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error("cannot listen", "addr", addr, "err", err)
		return 1
	}
	if peering != nil {
		// Clients wait in the listen queue until the node has its ring.
		if err := peering.join(srv, ln.Addr().String()); err != nil {
			log.Error("cannot join the cluster", "err", err)
			ln.Close()
			return 1
		}
	}
	log.Info("geeredis ready to accept connections", "addr", ln.Addr().String(), "version", version,
		"maxmemory", opts.cfg.MaxMemory, "threads", runtime.GOMAXPROCS(0), "pid", os.Getpid())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	select {
	case err := <-served:
		log.Error("server stopped", "err", err)
		return 1
	case sig := <-sigs:
		log.Info("shutting down", "signal", sig.String())
	case <-stop:
		log.Info("shutting down")
	}
	if peering != nil {
		peering.leave(srv) // hand the keys over while clients are still served
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("shutdown did not finish cleanly", "err", err)
	}
	<-served
	if peering != nil {
		peering.handOffRest(srv) // what the last clients' commands left here
	}
	log.Info("bye")
	return 0
}

// parseFlags reads the command line over the environment. It returns nil
// options (and no error) when it printed the version.
func parseFlags(args []string, getenv func(string) string, stdout, stderr io.Writer) (*options, error) {
	o := &options{cfg: server.DefaultConfig()}
	o.cfg.Version = version
	var (
		maxMemory   = memoryValue{&o.cfg.MaxMemory}
		maxBulk     = memoryValue{&o.cfg.ProtoMaxBulkLen}
		queryLimit  = memoryValue{&o.cfg.ClientQueryBufferLimit}
		timeoutSecs int
		showVersion bool
	)
	fs := flag.NewFlagSet("geeredis", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.bind, "bind", "127.0.0.1", "address to listen on for clients")
	fs.IntVar(&o.port, "port", 6379, "port to listen on for clients")
	fs.Var(maxMemory, "maxmemory", "most bytes the cache holds before evicting LRU keys (Redis units: 64mb, 1gb; 0 = no limit)")
	fs.StringVar(&o.cfg.RequirePass, "requirepass", "", "password clients must AUTH with (user default); empty = none")
	fs.IntVar(&o.cfg.MaxClients, "maxclients", o.cfg.MaxClients, "most client connections at once")
	fs.IntVar(&timeoutSecs, "timeout", 0, "close a client idle for this many seconds (0 = never)")
	fs.Var(maxBulk, "proto-max-bulk-len", "longest bulk string a request may carry (Redis units)")
	fs.Var(queryLimit, "client-query-buffer-limit", "most unparsed input held for one client (Redis units)")
	fs.StringVar(&o.logLevel, "loglevel", "info", "log level: debug, verbose, info, notice, warning")
	fs.StringVar(&o.peerAddr, "peer-addr", "", "HOST:PORT where this node serves the peer protocol to the other nodes (enables the cluster)")
	fs.StringVar(&o.peers, "peers", "", "comma-separated base URLs of every node's peer address, this node's included (http://HOST:PORT,...)")
	fs.StringVar(&o.clusterSecret, "cluster-secret", "", "shared secret that authenticates every peer request (HMAC); empty = none")
	fs.DurationVar(&o.peerTimeout, "peer-timeout", 2*time.Second, "bound on one round trip to a peer")
	fs.StringVar(&o.origin, "origin", "", "URL of an HTTP origin that misses are loaded from: GET <URL>/<key>, 404 = not found, Cache-Control max-age = TTL")
	fs.DurationVar(&o.originTimeout, "origin-timeout", 5*time.Second, "bound on one load from --origin")
	fs.StringVar(&o.gossipAddr, "gossip-addr", "", "HOST:PORT where this node gossips with the others (TCP and UDP): membership by gossip instead of --peers")
	fs.StringVar(&o.join, "join", "", "comma-separated gossip addresses (HOST:PORT) of any members to join through; empty starts a new cluster")
	fs.StringVar(&o.gossipProfile, "gossip-profile", "lan", "failure detection timing: lan, or local (one machine: faster)")
	fs.DurationVar(&o.leaveTimeout, "leave-timeout", 30*time.Second, "bound on a graceful leave at SIGTERM: handing this node's keys to their new owners")
	fs.IntVar(&o.threads, "threads", 1, "most threads running commands at once (GOMAXPROCS, at most 1024), as Redis runs commands on one; 0 = every core the Go runtime may use")
	fs.BoolVar(&showVersion, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: geeredis [flags]\n\nA Redis-compatible cache node. Every flag may also be set in the environment\nas GEEREDIS_<NAME> (e.g. GEEREDIS_PORT=6380); the command line wins.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "GEEREDIS_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("%s=%q: %w", name, v, err)
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags start with --)", fs.Arg(0))
	}
	if showVersion {
		fmt.Fprintf(stdout, "geeredis %s\n", version)
		return nil, nil
	}
	if timeoutSecs < 0 {
		return nil, fmt.Errorf("--timeout %d is negative", timeoutSecs)
	}
	fs.Visit(func(f *flag.Flag) { o.threadsSet = o.threadsSet || f.Name == "threads" })
	if o.threads < 0 || o.threads > maxThreads {
		return nil, fmt.Errorf("--threads (or GEEREDIS_THREADS) %d is out of range: 0 to %d", o.threads, maxThreads)
	}
	o.cfg.Timeout = time.Duration(timeoutSecs) * time.Second
	return o, nil
}

// memoryValue is a flag holding a byte count written in Redis's units.
type memoryValue struct{ n *int64 }

func (m memoryValue) String() string {
	if m.n == nil {
		return ""
	}
	return strconv.FormatInt(*m.n, 10)
}

func (m memoryValue) Set(s string) error {
	n, err := resp.ParseMemory(s)
	if err != nil {
		return err
	}
	*m.n = n
	return nil
}

// redisLevel maps Redis's log level names onto slog's.
func redisLevel(s string) string {
	switch strings.ToLower(s) {
	case "verbose":
		return "debug"
	case "notice":
		return "info"
	case "warning":
		return "warn"
	}
	return s
}
