package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/geeredis/geeredis/hash"
)

const (
	// DefaultBasePath is where the peer protocol is served.
	DefaultBasePath = "/_geeredis/"
	// DefaultPeerTimeout bounds a peer round trip when PoolConfig.Timeout is 0.
	DefaultPeerTimeout = 2 * time.Second
	// DefaultMaxBody bounds a request or reply body when
	// PoolConfig.MaxBodyBytes is 0: a batch of frames carrying a command
	// with a 512 MB argument (Redis's proto-max-bulk-len) fits.
	DefaultMaxBody = 1 << 30

	// HeaderTTL carries the remaining TTL of a value in milliseconds in
	// the answer to GET {base}{group}/{key}; absent when it has none.
	HeaderTTL = "Geeredis-Ttl-Ms"

	batchName   = "_batch"
	contentType = "application/x-geeredis-frames"
	// readAhead is the most a server allocates for a body before seeing
	// its bytes, whatever Content-Length claims.
	readAhead = 1 << 20
)

// ErrPoolConfig is wrapped by the errors of NewHTTPPool.
var ErrPoolConfig = errors.New("cluster: invalid pool config")

// Executor runs commands at this node on behalf of a peer. The server
// implements it: the command runs locally (never routed again) and its
// reply, encoded in protocol proto (2 or 3), is appended to dst.
type Executor interface {
	Execute(ctx context.Context, proto int, args [][]byte, dst []byte) []byte
}

// HopExecutor is an Executor that may forward a command once more when
// its ring says another node owns the command's keys (the sender's ring
// disagreed). hops is how many nodes forwarded the command before the
// sender (0 for a client's command); at MaxHops the command must run
// here. The pool calls ExecuteHops instead of Execute when the executor
// has it.
type HopExecutor interface {
	ExecuteHops(ctx context.Context, proto, hops int, args [][]byte, dst []byte) []byte
}

// BatchPreparer is an Executor that sees the commands of a batch before
// they run one after the other, while the ring changes: the server takes
// the keys still at their previous owners all at once, rather than one
// round trip per command. cmds alias the request: valid during the call.
type BatchPreparer interface {
	PrepareBatch(ctx context.Context, cmds [][][]byte)
}

// PoolConfig configures an HTTPPool.
type PoolConfig struct {
	Self     string        // this node's peer base URL, e.g. "http://127.0.0.1:7380"; its id on the ring
	BasePath string        // "" = "/_geeredis/"; starts and ends with "/"
	Secret   string        // "" = no authentication
	Timeout  time.Duration // bound on every peer round trip; 0 = 2 s
	Client   *http.Client  // nil = the pool's own keep-alive HTTP/1.1 connections, one per peer
	Logger   *slog.Logger  // nil = silent

	// MaxBodyBytes bounds the body of a peer request or reply; 0 = 1 GiB.
	// Memory follows the bytes really sent, not the bound.
	MaxBodyBytes int64

	// TransitionTimeout ends a ring transition whose previous owners did
	// not all say they handed their keys off; 0 = 1 minute.
	TransitionTimeout time.Duration
}

// HTTPPool is the peer protocol: the HTTP server other nodes call and the
// client this node calls them with; it implements PeerPicker.
type HTTPPool struct {
	self       string
	base       string
	secret     string
	timeout    time.Duration
	maxBody    int64
	client     *http.Client // nil: peers use their own links
	ownsClient bool         // cfg.Client was nil
	log        *slog.Logger

	ctx    context.Context // cancelled by Close: ends round trips
	cancel context.CancelFunc
	wg     sync.WaitGroup // senders

	mu     sync.Mutex // serializes Set, Register and Close
	closed bool
	state  atomic.Pointer[poolState]
	groups atomic.Pointer[map[string]groupEntry]

	// Ring transitions (ring.go), under mu.
	trans             transition
	dones             map[uint64]map[string]bool // done notices by ring digest
	transitionTimeout time.Duration

	// Connections taken over by serveLinks (httplink.go), under mu: true
	// while one serves a request.
	links map[net.Conn]bool
	// Peers a ring change dropped whose senders still run, under mu.
	draining map[*Peer]struct{}

	calls   sync.Pool // *Call
	serving sync.Pool // *serveState
	signers sync.Pool // *signer

	stats poolCounters
}

type groupEntry struct {
	g *Group
	x Executor
}

type poolCounters struct {
	requests, commands, errors, invalSent, invalRecv, served, refused atomic.Uint64
}

// NewHTTPPool validates cfg and returns a pool with no peers but itself.
func NewHTTPPool(cfg PoolConfig) (*HTTPPool, error) {
	self := strings.TrimRight(cfg.Self, "/")
	if u, err := url.Parse(self); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: Self %q is not an http(s) base URL", ErrPoolConfig, cfg.Self)
	}
	p := &HTTPPool{
		self: self, base: cfg.BasePath, secret: cfg.Secret, timeout: cfg.Timeout,
		maxBody: cfg.MaxBodyBytes, client: cfg.Client, log: cfg.Logger,
		transitionTimeout: cfg.TransitionTimeout, dones: map[uint64]map[string]bool{},
	}
	if p.base == "" {
		p.base = DefaultBasePath
	}
	switch {
	case !strings.HasPrefix(p.base, "/") || !strings.HasSuffix(p.base, "/"):
		return nil, fmt.Errorf("%w: BasePath %q must start and end with /", ErrPoolConfig, p.base)
	case p.timeout < 0:
		return nil, fmt.Errorf("%w: Timeout = %v", ErrPoolConfig, p.timeout)
	case p.maxBody < 0:
		return nil, fmt.Errorf("%w: MaxBodyBytes = %d", ErrPoolConfig, p.maxBody)
	case p.transitionTimeout < 0:
		return nil, fmt.Errorf("%w: TransitionTimeout = %v", ErrPoolConfig, p.transitionTimeout)
	}
	if p.transitionTimeout == 0 {
		p.transitionTimeout = DefaultTransitionTimeout
	}
	if p.timeout == 0 {
		p.timeout = DefaultPeerTimeout
	}
	if p.maxBody == 0 {
		p.maxBody = DefaultMaxBody
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.ownsClient = p.client == nil
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.calls.New = func() any { return &Call{done: make(chan struct{}, 1)} }
	p.serving.New = func() any { return &serveState{} }
	p.signers.New = func() any { return newSigner(p.secret) }
	p.groups.Store(&map[string]groupEntry{})
	p.state.Store(&poolState{ring: hash.New(0, nil, self), members: []string{self}, peers: map[string]*Peer{}, digest: ringDigest([]string{self})})
	return p, nil
}

// Members returns the sorted member ids.
func (p *HTTPPool) Members() []string { return slices.Clone(p.state.Load().members) }

// Self is this node's id.
func (p *HTTPPool) Self() string { return p.self }

// Register makes group g and executor x answer peer requests for g's name,
// and sends g's invalidations through p. x may be nil: exec frames then
// get an error reply.
func (p *HTTPPool) Register(g *Group, x Executor) {
	p.mu.Lock()
	defer p.mu.Unlock()
	groups := make(map[string]groupEntry, len(*p.groups.Load())+1)
	for name, e := range *p.groups.Load() {
		groups[name] = e
	}
	groups[g.name] = groupEntry{g, x}
	p.groups.Store(&groups)
	g.pool.Store(p)
	if !p.closed {
		g.ho.loopOnce.Do(func() { p.wg.Go(func() { g.runHandoff(p.ctx, p) }) })
	}
}

// PickPeer implements PeerPicker.
func (p *HTTPPool) PickPeer(key []byte) (PeerGetter, bool) {
	if peer := p.Owner(key); peer != nil {
		return peer, true
	}
	return nil, false
}

// Owner returns the peer that owns key, or nil when this node does (or
// the ring is empty). It takes no lock.
func (p *HTTPPool) Owner(key []byte) *Peer {
	st := p.state.Load()
	id := st.ring.Get(key)
	if id == "" || id == p.self {
		return nil
	}
	return st.peers[id]
}

// Peers returns every member but this node, sorted by id.
func (p *HTTPPool) Peers() []*Peer { return slices.Clone(p.state.Load().list) }

// invalidate tells every peer to drop its hot copy of key in group.
func (p *HTTPPool) invalidate(group string, key []byte) {
	for _, peer := range p.state.Load().list {
		peer.queueKey(group, kindForget, 0, key, true)
		p.stats.invalSent.Add(1)
	}
}

// PoolStats are the peer client's and server's counters.
type PoolStats struct {
	Requests              uint64 // round trips sent
	Commands              uint64 // exec frames sent
	Errors                uint64 // round trips that failed
	InvalidationsSent     uint64 // forget frames queued
	InvalidationsReceived uint64 // forget frames answered
	Served                uint64 // peer requests answered (any status)
	Refused               uint64 // peer requests answered 4xx: unauthorized, malformed, unknown
}

// Stats returns the pool's counters.
func (p *HTTPPool) Stats() PoolStats {
	s := &p.stats
	return PoolStats{
		Requests: s.requests.Load(), Commands: s.commands.Load(), Errors: s.errors.Load(),
		InvalidationsSent: s.invalSent.Load(), InvalidationsReceived: s.invalRecv.Load(),
		Served: s.served.Load(), Refused: s.refused.Load(),
	}
}

// Close stops the pool's background senders: round trips in flight end,
// queued and later calls fail with ErrClosed. It waits for the senders.
func (p *HTTPPool) Close() error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		p.cancel()
		if p.trans.timer != nil {
			p.trans.timer.Stop()
		}
		for _, peer := range p.state.Load().peers {
			peer.close()
			peer.interrupt()
		}
		for peer := range p.draining {
			peer.interrupt()
		}
		p.closeIdleLinks()
	}
	p.mu.Unlock()
	// Busy links get a request's time to finish, then close all the same.
	late := time.AfterFunc(2*max(p.timeout, linkHeadTimeout), func() {
		p.mu.Lock()
		p.closeLinks()
		p.mu.Unlock()
	})
	defer late.Stop()
	p.wg.Wait()
	return nil
}

// serveState is the reusable memory of one request being served.
type serveState struct {
	body   []byte
	out    []byte
	frames []frame
	args   [][]byte
}

// ServeHTTP answers peer requests: GET {base}{group}/{key} and
// POST {base}{group}/_batch. See docs/peer-protocol.md.
func (p *HTTPPool) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.stats.served.Add(1)
	rest, ok := strings.CutPrefix(r.URL.Path, p.base)
	group, key, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || group == "" {
		p.refuse(w, http.StatusNotFound, "no such path")
		return
	}
	if p.secret != "" && !p.plausible(r) {
		p.refuse(w, http.StatusUnauthorized, errUnauthorized.Error())
		return
	}
	st := p.serving.Get().(*serveState)
	defer p.putServing(st)
	body, status, err := p.readBody(r, st.body[:0])
	st.body = body
	if err != nil {
		p.refuse(w, status, err.Error())
		return
	}
	if p.secret != "" && !p.verify(r.Method, r.RequestURI, r.Header.Get(HeaderTime), r.Header.Get(HeaderAuth), body) {
		p.refuse(w, http.StatusUnauthorized, errUnauthorized.Error())
		return
	}
	e, ok := (*p.groups.Load())[group]
	switch {
	case !ok:
		p.refuse(w, http.StatusNotFound, "no such group")
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		p.serveGet(w, r, e.g, key, st)
	case r.Method == http.MethodPost && key == batchName:
		if r.Header.Get(HeaderLink) == "1" && r.ProtoAtLeast(1, 1) && strings.HasPrefix(r.RequestURI, "/") {
			if c, br, ok := p.takeOver(w); ok {
				p.serveLinks(c, br, linkRequest{method: r.Method, uri: r.RequestURI,
					time: r.Header.Get(HeaderTime), auth: r.Header.Get(HeaderAuth), close: r.Close}, st)
				return
			}
		}
		p.serveBatch(w, r, e, st)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		p.refuse(w, http.StatusMethodNotAllowed, "method not allowed")
	}
}

func (p *HTTPPool) putServing(st *serveState) {
	if cap(st.body) > 2*maxBatchBytes {
		st.body = nil
	}
	if cap(st.out) > 2*maxBatchBytes {
		st.out = nil
	}
	clear(st.frames)
	clear(st.args)
	p.serving.Put(st)
}

// refuse answers a request the pool does not serve.
func (p *HTTPPool) refuse(w http.ResponseWriter, status int, text string) {
	if status < 500 {
		p.stats.refused.Add(1)
	}
	http.Error(w, text, status)
}

// plausible checks the auth headers' presence and time before the body is
// read, so that a request without them costs no body.
func (p *HTTPPool) plausible(r *http.Request) bool {
	unix, err := strconv.ParseInt(r.Header.Get(HeaderTime), 10, 64)
	if err != nil || r.Header.Get(HeaderAuth) == "" {
		return false
	}
	d := time.Since(time.Unix(unix, 0))
	return d <= MaxClockSkew && d >= -MaxClockSkew
}

// verify checks a request's proof: see signer.verify.
func (p *HTTPPool) verify(method, uri, stamp, auth string, body []byte) bool {
	s := p.signers.Get().(*signer)
	defer p.signers.Put(s)
	return s.verify(method, uri, stamp, auth, body, time.Now()) == nil
}

// readBody reads r's body into buf, up to maxBody; on error it gives the
// status to answer.
func (p *HTTPPool) readBody(r *http.Request, buf []byte) ([]byte, int, error) {
	if r.ContentLength > p.maxBody {
		return buf, http.StatusRequestEntityTooLarge, fmt.Errorf("body over %d bytes", p.maxBody)
	}
	if n := int(min(r.ContentLength, readAhead)); n > cap(buf) {
		buf = make([]byte, 0, n)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > p.maxBody {
			return buf, http.StatusRequestEntityTooLarge, fmt.Errorf("body over %d bytes", p.maxBody)
		}
		if err == io.EOF {
			return buf, 0, nil
		}
		if err != nil {
			return buf, http.StatusBadRequest, fmt.Errorf("reading body: %w", err)
		}
	}
}

// serveGet answers GET {base}{group}/{key}: the value, 404, or 500.
func (p *HTTPPool) serveGet(w http.ResponseWriter, r *http.Request, g *Group, key string, st *serveState) {
	st.out = g.serveGet(r.Context(), []byte(key), getHop, st.out[:0]) // never forwarded
	status, data, _, _ := parseReply(st.out)
	switch status {
	case statusNotFound:
		http.Error(w, "not found", http.StatusNotFound)
		return
	case statusError:
		http.Error(w, string(data), http.StatusInternalServerError)
		return
	}
	ttl, value, _ := parseGetReply(data)
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.Itoa(len(value)))
	if ttl > 0 {
		h.Set(HeaderTTL, strconv.FormatUint(ttl, 10))
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(value)
	}
}

// serveBatch answers POST {base}{group}/_batch: every frame in order, one
// reply frame each. A malformed body gets 400 and nothing is executed.
func (p *HTTPPool) serveBatch(w http.ResponseWriter, r *http.Request, e groupEntry, st *serveState) {
	out, err := p.runBatch(r.Context(), e, st)
	if err != nil {
		p.refuse(w, http.StatusBadRequest, err.Error())
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusOK)
	w.Write(out)
}

// runBatch executes the frames of st.body and returns their replies (in
// st.out); a malformed body is an error and nothing is executed.
func (p *HTTPPool) runBatch(ctx context.Context, e groupEntry, st *serveState) ([]byte, error) {
	var err error
	st.frames, st.args, err = parseFrames(st.body, st.frames[:0], st.args[:0])
	if err != nil {
		return nil, err
	}
	out := st.out[:0]
	if bp, ok := e.x.(BatchPreparer); ok && p.InTransition() {
		var cmds [][][]byte
		for i := range st.frames {
			if f := &st.frames[i]; f.kind == kindExec || f.kind == kindExecHop {
				cmds = append(cmds, f.args)
			}
		}
		if len(cmds) > 1 {
			bp.PrepareBatch(ctx, cmds)
		}
	}
	for i := range st.frames {
		f := &st.frames[i]
		switch f.kind {
		case kindExec, kindExecHop:
			if e.x == nil {
				out = appendReply(out, statusError, []byte("no executor for this group"))
				continue
			}
			var start int
			out, start = beginReply(out)
			if hx, ok := e.x.(HopExecutor); ok {
				out = hx.ExecuteHops(ctx, int(f.proto), int(f.hops), f.args, out)
			} else {
				out = e.x.Execute(ctx, int(f.proto), f.args, out)
			}
			out = endReply(out, start, statusOK)
		case kindGet:
			out = e.g.serveGet(ctx, f.key, f.flags, out)
		case kindForget:
			e.g.Forget(f.key)
			p.stats.invalRecv.Add(1)
			out = appendReply(out, statusOK, nil)
		case kindTake:
			out = e.g.serveTake(ctx, p, f, out)
		case kindGive:
			out = e.g.serveGive(p, f, out)
		case kindDone:
			p.doneFrom(f.ring, string(f.key))
			out = appendReply(out, statusOK, nil)
		}
	}
	st.out = out
	return out, nil
}
