package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// Membership defaults.
const (
	// DefaultGossipPort is the gossip port when BindAddr names none.
	DefaultGossipPort = 7946
	// DefaultJoinAttempts is how many times NewMembership tries its Join
	// list before giving up.
	DefaultJoinAttempts = 5
	// DefaultLeaveTimeout bounds Leave when it is given no timeout.
	DefaultLeaveTimeout = 5 * time.Second

	joinBackoff    = 200 * time.Millisecond // first pause between join attempts, doubled each time
	joinBackoffMax = 2 * time.Second
	forgetAfter    = 10 * time.Minute // how long a dead or left member stays in Members
	noticeTTL      = time.Minute      // how long a leave notice waits for the leave itself
	lateNotice     = 5 * time.Second  // a notice this late turns a failure into a leave
	msgLeaving     = 'L'              // user message: "I am leaving", then the sender's ID
	metaVersion    = 1
	gossipKeySalt  = "geeredis gossip key v1\x00"
)

// Member states, as Member.State reports them. memberlist does not
// report its suspect state (its Node.State is never set, see
// hashicorp/memberlist#293), so a suspect member shows as alive until
// it is declared dead.
const (
	StateAlive = "alive"
	StateDead  = "dead" // failed: stopped answering probes
	StateLeft  = "left" // left gracefully
)

// ErrMembershipClosed is returned by Leave after Leave or Shutdown.
var ErrMembershipClosed = errors.New("membership: closed")

// MemberMeta is what a node advertises to the others.
type MemberMeta struct {
	ID         string // unique name of the node in the cluster; defaults to PeerURL
	ClientAddr string // HOST:PORT where Redis clients connect
	PeerURL    string // base URL of the node's peer protocol
}

// Member is one node as this node sees it.
type Member struct {
	MemberMeta
	GossipAddr string // HOST:PORT the node gossips on
	State      string // StateAlive, StateDead or StateLeft
}

// MembershipConfig configures NewMembership.
type MembershipConfig struct {
	// Meta is what this node advertises. ID defaults to PeerURL; one of
	// them is required. ClientAddr and PeerURL together must fit in
	// memberlist's 512-byte meta limit.
	Meta MemberMeta
	// BindAddr is the HOST:PORT gossip listens on, TCP and UDP. Port 0
	// picks a free port (see GossipAddr); "" means 0.0.0.0:7946.
	BindAddr string
	// AdvertiseAddr is the HOST[:PORT] the others reach this node at;
	// "" means the bound address. A port needs a fixed bind port.
	AdvertiseAddr string
	// Join lists HOST:PORT of any members; empty starts a new cluster.
	Join []string
	// JoinAttempts is how many times the Join list is tried, with a
	// backoff from 200ms doubling to 2s between tries; 0 means 5.
	JoinAttempts int
	// Secret, when not empty, encrypts gossip (AES-256-GCM) with a key
	// derived from it by SHA-256. Every node must share it.
	Secret string
	// Profile tunes failure detection: "lan" (default) or "local" (one
	// machine: faster probes and suspicion, for tests).
	Profile string
	// OnChange, if set, is called with the sorted alive members whenever
	// the set or a member's meta changes. Calls are serial, from one
	// goroutine, and may coalesce several changes into one; the last
	// call always carries the current set. The first call comes once the
	// join is done (it has the members the join found), before
	// NewMembership returns. It must not call Leave or Shutdown, and it
	// is not called once they have returned.
	OnChange func(alive []Member)
	// OnMembers, if set, is called like OnChange but with every member
	// this node knows, dead and left ones included (as Members reports
	// them), whenever one joins, changes or changes state. HTTPPool's
	// SetMembers is meant for it: it builds the ring of the alive ones
	// and knows not to wait for the dead.
	OnMembers func(all []Member)
	// Logger receives joins, leaves and failures at info/warn and
	// memberlist's own log lines at debug; nil logs nothing.
	Logger *slog.Logger
}

// MembershipStats counts what this node saw happen to the others.
type MembershipStats struct {
	Joins    uint64 // members that joined (this node excluded)
	Leaves   uint64 // members that left gracefully
	Failures uint64 // members declared dead after failing probes
	Updates  uint64 // members whose advertised meta changed
}

// Membership is this node's view of a gossip cluster, kept by
// github.com/hashicorp/memberlist (SWIM: probes, suspicion, gossip).
type Membership struct {
	ml        *memberlist.Memberlist
	conf      *memberlist.Config
	self      string
	selfMeta  []byte
	log       *slog.Logger
	onChange  func([]Member)
	onMembers func([]Member)
	changed   chan struct{} // cap 1: a change waits for the notifier
	syncs     chan chan struct{}
	done      chan struct{} // closed to stop the notifier
	notifier  sync.WaitGroup
	closeOnce sync.Once
	leaveMu   sync.Mutex // serializes Leave and Shutdown
	closed    bool       // under leaveMu

	mu      sync.Mutex
	members map[string]*memberEntry // by ID, dead and left ones included
	notices map[string]time.Time    // leave notices by ID, until the leave

	joins, leaves, failures, updates atomic.Uint64
}

type memberEntry struct {
	Member
	since time.Time // of the last state change
}

// NewMembership starts gossip on cfg.BindAddr and, when cfg.Join is not
// empty, joins the cluster through any of those members, retrying with
// backoff. It returns the running membership, or an error after which
// nothing is left running.
func NewMembership(cfg MembershipConfig) (*Membership, error) {
	conf, err := memberlistConfig(cfg)
	if err != nil {
		return nil, err
	}
	meta := cfg.Meta
	if meta.ID == "" {
		meta.ID = meta.PeerURL
	}
	selfMeta := encodeMeta(meta)
	if len(selfMeta) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("membership: client address and peer URL take %d bytes, more than the %d gossip allows",
			len(selfMeta), memberlist.MetaMaxSize)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &Membership{
		conf:      conf,
		self:      meta.ID,
		selfMeta:  selfMeta,
		log:       logger,
		onChange:  cfg.OnChange,
		onMembers: cfg.OnMembers,
		changed:   make(chan struct{}, 1),
		syncs:     make(chan chan struct{}),
		done:      make(chan struct{}),
		members:   make(map[string]*memberEntry),
		notices:   make(map[string]time.Time),
	}
	conf.Name = meta.ID
	conf.Delegate = nodeDelegate{m}
	conf.Events = eventDelegate{m}
	conf.Logger = log.New(debugWriter{logger}, "", 0)

	ml, err := memberlist.Create(conf)
	if err != nil {
		m.stopNotifier()
		return nil, fmt.Errorf("membership: start gossip on %s: %w", cfg.BindAddr, err)
	}
	m.ml = ml
	if len(cfg.Join) > 0 {
		if err := m.join(cfg.Join, cfg.JoinAttempts); err != nil {
			_ = m.Shutdown()
			return nil, err
		}
	}
	// The first OnChange and OnMembers come now, with what the join found
	// (a node that starts a cluster sees itself alone, a node that joins
	// sees the others), and NewMembership returns once they have run.
	m.notifier.Add(1)
	go m.notify()
	m.sync()
	m.log.Info("membership: gossip started", "id", m.self, "gossip_addr", m.GossipAddr(),
		"members", len(m.Alive()), "encrypted", conf.EncryptionEnabled())
	return m, nil
}

// memberlistConfig maps cfg onto a memberlist profile.
func memberlistConfig(cfg MembershipConfig) (*memberlist.Config, error) {
	var conf *memberlist.Config
	switch cfg.Profile {
	case "", "lan":
		conf = memberlist.DefaultLANConfig()
	case "local":
		conf = memberlist.DefaultLocalConfig()
		// memberlist's local profile sends a broadcast 2·⌈log10(n+1)⌉
		// times: in a cluster of 4, to 2 of the 3 others, so a member can
		// miss a join until the next push-pull. Keep the LAN's 4, and
		// push-pull more often (it is one machine).
		conf.RetransmitMult = 4
		conf.PushPullInterval = 5 * time.Second
	default:
		return nil, fmt.Errorf("membership: unknown profile %q (want lan or local)", cfg.Profile)
	}
	if cfg.Meta.ID == "" && cfg.Meta.PeerURL == "" {
		return nil, errors.New("membership: the node needs an ID or a peer URL")
	}
	bind := cfg.BindAddr
	if bind == "" {
		bind = net.JoinHostPort("0.0.0.0", strconv.Itoa(DefaultGossipPort))
	}
	ip, port, err := splitAddr(bind, false)
	if err != nil {
		return nil, fmt.Errorf("membership: bind address: %w", err)
	}
	conf.BindAddr, conf.BindPort = ip, port
	conf.AdvertisePort = port // memberlist fills it in after binding port 0
	if cfg.AdvertiseAddr != "" {
		ip, port, err := splitAddr(cfg.AdvertiseAddr, true)
		if err != nil {
			return nil, fmt.Errorf("membership: advertise address: %w", err)
		}
		conf.AdvertiseAddr = ip
		if port != 0 {
			if conf.BindPort == 0 {
				return nil, errors.New("membership: an advertise port needs a fixed bind port")
			}
			conf.AdvertisePort = port
		}
	}
	if cfg.JoinAttempts < 0 {
		return nil, fmt.Errorf("membership: negative join attempts %d", cfg.JoinAttempts)
	}
	if cfg.Secret != "" {
		key := sha256.Sum256([]byte(gossipKeySalt + cfg.Secret))
		conf.SecretKey = key[:]
	}
	return conf, nil
}

// splitAddr parses HOST:PORT (or HOST alone when portOptional) into an
// IP literal, resolving a host name, and a port.
func splitAddr(addr string, portOptional bool) (string, int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		if !portOptional {
			return "", 0, fmt.Errorf("%q: %w", addr, err)
		}
		host, portStr = strings.Trim(addr, "[]"), "0"
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("%q: bad port: %w", addr, err)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	if net.ParseIP(host) == nil {
		ipa, err := net.ResolveIPAddr("ip", host)
		if err != nil {
			return "", 0, fmt.Errorf("%q: %w", addr, err)
		}
		host = ipa.IP.String()
	}
	return host, int(port), nil
}

// join tries the list up to attempts times (0 means the default).
func (m *Membership) join(peers []string, attempts int) error {
	if attempts == 0 {
		attempts = DefaultJoinAttempts
	}
	backoff := joinBackoff
	var err error
	for i := range attempts {
		if i > 0 {
			m.log.Warn("membership: join failed, retrying", "join", peers, "in", backoff, "err", err)
			time.Sleep(backoff)
			backoff = min(2*backoff, joinBackoffMax)
		}
		var n int
		if n, err = m.ml.Join(peers); err == nil {
			m.log.Info("membership: joined", "contacted", n, "join", peers)
			return nil
		}
	}
	return fmt.Errorf("membership: join %s after %d attempts: %w", strings.Join(peers, ","), attempts, err)
}

// GossipAddr is the HOST:PORT the others reach this node at: the
// advertised address, which is the bound one unless AdvertiseAddr said
// otherwise, with the port filled in when it was 0.
func (m *Membership) GossipAddr() string {
	return m.ml.LocalNode().Address()
}

// Members returns every member this node knows, dead and left ones too
// (for ten minutes), sorted by ID.
func (m *Membership) Members() []Member {
	return m.list(func(*memberEntry) bool { return true })
}

// Alive returns the members that are neither dead nor left, sorted by
// ID: the set OnChange reports.
func (m *Membership) Alive() []Member {
	return m.list(func(e *memberEntry) bool { return e.State == StateAlive })
}

func (m *Membership) list(keep func(*memberEntry) bool) []Member {
	m.mu.Lock()
	out := make([]Member, 0, len(m.members))
	for _, e := range m.members {
		if keep(e) {
			out = append(out, e.Member)
		}
	}
	m.mu.Unlock()
	sortMembers(out)
	return out
}

func sortMembers(ms []Member) {
	slices.SortFunc(ms, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
}

// Stats returns what this node has counted so far.
func (m *Membership) Stats() MembershipStats {
	return MembershipStats{
		Joins:    m.joins.Load(),
		Leaves:   m.leaves.Load(),
		Failures: m.failures.Load(),
		Updates:  m.updates.Load(),
	}
}

// FailureBound is how long, at most, the cluster takes to declare a
// node that stopped answering dead, for its current size, unless
// probing itself is slowed (memberlist stretches the probe interval up
// to 8 times on a node that misses its own deadlines). It adds up:
//   - detection: each node probes the others round robin, one per
//     ProbeInterval, in an order shuffled every round, so a node goes at
//     most 2(n-1) intervals unprobed by any given member, the last one
//     spent waiting for direct and indirect acks; the other members
//     suspect it within the same bound and so confirm the suspicion;
//   - suspicion: SuspicionMult × max(1, log10 n) × ProbeInterval when
//     SuspicionMult-2 members can confirm it (or too few nodes are
//     known to expect any), stretched towards SuspicionMaxTimeoutMult
//     times that when fewer can (a small cluster that still remembers
//     nodes that left);
//   - one more ProbeInterval for the dead message to gossip around
//     (GossipInterval is 100ms local, 200ms lan).
//
// With 3 members that is 4+3+1 = 8s for "local" and 4+4+1 = 9s for
// "lan"; with 5 members, 12s and 13s.
func (m *Membership) FailureBound() time.Duration {
	m.mu.Lock()
	alive, known := 0, len(m.members)
	for _, e := range m.members {
		if e.State == StateAlive {
			alive++
		}
	}
	m.mu.Unlock()
	return failureBound(m.conf, alive, known)
}

// failureBound is FailureBound with alive members (the failing one
// included) out of known ones (dead and left included, as memberlist
// counts them until it forgets them), following memberlist's
// suspectNode and remainingSuspicionTime.
func failureBound(c *memberlist.Config, alive, known int) time.Duration {
	alive, known = max(alive, 2), max(known, alive)
	pi := c.ProbeInterval
	detect := time.Duration(2*(alive-1)) * pi
	scale := math.Max(1, math.Log10(float64(known)))
	lo := time.Duration(float64(time.Duration(c.SuspicionMult)*pi) * scale)
	hi := time.Duration(c.SuspicionMaxTimeoutMult) * lo
	suspicion := lo
	k := c.SuspicionMult - 2 // confirmations memberlist waits for
	if known-2 < k {
		k = 0
	}
	if confirmers := alive - 2; k > 0 && confirmers < k {
		frac := math.Log(float64(confirmers)+1) / math.Log(float64(k)+1)
		suspicion = hi - time.Duration(frac*float64(hi-lo))
	}
	return detect + suspicion + pi
}

// Leave tells the others this node is leaving and stops gossip,
// within timeout (0 means 5s). memberlist's own leave message does not
// tell the application a leave from a failure (its Node.State is never
// set: hashicorp/memberlist#293), so Leave first sends every member a
// leave notice over TCP, memberlist's reliable user message, using up
// to half the timeout; the others then count a leave, not a failure.
func (m *Membership) Leave(timeout time.Duration) error {
	m.leaveMu.Lock()
	defer m.leaveMu.Unlock()
	if m.closed {
		return ErrMembershipClosed
	}
	if timeout <= 0 {
		timeout = DefaultLeaveTimeout
	}
	deadline := time.Now().Add(timeout)
	m.log.Info("membership: leaving", "id", m.self)
	m.sendNotices(timeout / 2)
	err := m.ml.Leave(max(time.Until(deadline), timeout/10))
	if err != nil {
		err = fmt.Errorf("membership: leave: %w", err)
	}
	if cerr := m.closeLocked(); err == nil {
		err = cerr
	}
	return err
}

// sendNotices sends the leave notice to every other member in
// parallel and waits for the sends, up to timeout.
func (m *Membership) sendNotices(timeout time.Duration) {
	msg := append([]byte{msgLeaving}, m.self...)
	var wg sync.WaitGroup
	for _, n := range m.ml.Members() {
		if n.Name == m.self {
			continue
		}
		wg.Go(func() {
			if err := m.ml.SendReliable(n, msg); err != nil {
				m.log.Warn("membership: leave notice not sent", "to", n.Name, "err", err)
			}
		})
	}
	sent := make(chan struct{})
	go func() { wg.Wait(); close(sent) }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-sent:
	case <-t.C:
		m.log.Warn("membership: leave notices still in flight", "after", timeout)
	}
}

// notice records that id announced it is leaving. A notice that comes
// just after the member was declared dead (it raced memberlist's leave
// message) turns that failure into a leave.
func (m *Membership) notice(id string) {
	now := time.Now()
	m.mu.Lock()
	e := m.members[id]
	late := e != nil && e.State == StateDead && now.Sub(e.since) < lateNotice
	if late {
		e.State = StateLeft
	} else {
		m.notices[id] = now
	}
	m.mu.Unlock()
	if late {
		m.failures.Add(^uint64(0))
		m.leaves.Add(1)
		m.log.Info("membership: member left (its notice came after it was gone)", "id", id)
		m.signal()
	}
}

// Shutdown stops gossip without telling the others, who will find the
// node dead within FailureBound. It is safe to call more than once.
func (m *Membership) Shutdown() error {
	m.leaveMu.Lock()
	defer m.leaveMu.Unlock()
	if m.closed {
		return nil
	}
	return m.closeLocked()
}

func (m *Membership) closeLocked() error {
	m.closed = true
	err := m.ml.Shutdown()
	m.stopNotifier()
	if err != nil {
		return fmt.Errorf("membership: shutdown: %w", err)
	}
	return nil
}

func (m *Membership) stopNotifier() {
	m.closeOnce.Do(func() { close(m.done) })
	m.notifier.Wait()
}

// notify delivers the alive set to OnChange and every member to
// OnMembers, one call at a time, skipping a call when nothing it sees has
// changed.
func (m *Membership) notify() {
	defer m.notifier.Done()
	var last, lastAll []Member
	for {
		var ack chan struct{}
		select {
		case <-m.done:
			return
		case <-m.changed:
		case ack = <-m.syncs:
		}
		all := m.Members()
		cur := slices.DeleteFunc(slices.Clone(all), func(mem Member) bool { return mem.State != StateAlive })
		if m.onMembers != nil && !slices.Equal(all, lastAll) {
			lastAll = all
			m.onMembers(slices.Clone(all))
		}
		if !slices.Equal(cur, last) {
			last = cur
			if m.onChange != nil {
				m.onChange(slices.Clone(cur))
			}
		}
		if ack != nil {
			close(ack)
		}
	}
}

// sync returns once the notifier has delivered the members as they are
// now, so that NewMembership returns only when OnChange and OnMembers
// have seen every member the join found, not the first few of them.
func (m *Membership) sync() {
	ack := make(chan struct{})
	select {
	case m.syncs <- ack:
		<-ack
	case <-m.done:
	}
}

func (m *Membership) signal() {
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

// event records what memberlist reported about n; it runs under
// memberlist's lock, so it only updates the table and signals.
func (m *Membership) event(kind string, n *memberlist.Node) {
	meta, err := decodeMeta(n.Meta)
	if err != nil {
		m.log.Warn("membership: member meta unreadable", "id", n.Name, "err", err)
	}
	meta.ID = n.Name
	mem := Member{MemberMeta: meta, GossipAddr: n.Address(), State: StateAlive}
	self := mem.ID == m.self
	now := time.Now()

	m.mu.Lock()
	if kind == "leave" {
		mem.State = StateDead
		if t, ok := m.notices[mem.ID]; self || ok && now.Sub(t) < noticeTTL {
			mem.State = StateLeft
		}
	}
	delete(m.notices, mem.ID)
	m.members[mem.ID] = &memberEntry{Member: mem, since: now}
	m.forget(now)
	m.mu.Unlock()
	m.signal()

	attrs := []any{"id", mem.ID, "gossip_addr", mem.GossipAddr, "client_addr", mem.ClientAddr, "peer_url", mem.PeerURL}
	switch {
	case self:
		m.log.Debug("membership: self "+kind, append(attrs, "state", mem.State)...)
	case kind == "join":
		m.joins.Add(1)
		m.log.Info("membership: member joined", attrs...)
	case kind == "update":
		m.updates.Add(1)
		m.log.Info("membership: member updated", attrs...)
	case mem.State == StateLeft:
		m.leaves.Add(1)
		m.log.Info("membership: member left", attrs...)
	default:
		m.failures.Add(1)
		m.log.Warn("membership: member failed", attrs...)
	}
}

// forget drops members dead or left for long, and stale notices; m.mu
// is held.
func (m *Membership) forget(now time.Time) {
	for id, e := range m.members {
		if e.State != StateAlive && now.Sub(e.since) > forgetAfter {
			delete(m.members, id)
		}
	}
	for id, t := range m.notices {
		if now.Sub(t) > noticeTTL {
			delete(m.notices, id)
		}
	}
}

// eventDelegate feeds memberlist's events to the membership.
type eventDelegate struct{ m *Membership }

func (d eventDelegate) NotifyJoin(n *memberlist.Node)   { d.m.event("join", n) }
func (d eventDelegate) NotifyLeave(n *memberlist.Node)  { d.m.event("leave", n) }
func (d eventDelegate) NotifyUpdate(n *memberlist.Node) { d.m.event("update", n) }

// nodeDelegate advertises the node's meta and takes leave notices.
type nodeDelegate struct{ m *Membership }

func (d nodeDelegate) NodeMeta(limit int) []byte {
	if len(d.m.selfMeta) > limit { // checked in NewMembership; never here
		return nil
	}
	return d.m.selfMeta
}

// NotifyMsg takes leave notices.
func (d nodeDelegate) NotifyMsg(b []byte) {
	if len(b) > 1 && b[0] == msgLeaving {
		d.m.notice(string(b[1:]))
	}
}

func (nodeDelegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (nodeDelegate) LocalState(join bool) []byte                { return nil }
func (nodeDelegate) MergeRemoteState(buf []byte, join bool)     {}

// encodeMeta writes a version byte, then ClientAddr and PeerURL, each
// as a uvarint length and bytes. The ID travels as memberlist's node
// name. Decoders ignore bytes after the fields they know.
func encodeMeta(meta MemberMeta) []byte {
	b := []byte{metaVersion}
	for _, s := range []string{meta.ClientAddr, meta.PeerURL} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

func decodeMeta(b []byte) (MemberMeta, error) {
	var meta MemberMeta
	if len(b) == 0 {
		return meta, errors.New("no meta")
	}
	if b[0] != metaVersion {
		return meta, fmt.Errorf("meta version %d, want %d", b[0], metaVersion)
	}
	b = b[1:]
	for _, dst := range []*string{&meta.ClientAddr, &meta.PeerURL} {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return MemberMeta{}, errors.New("meta truncated")
		}
		*dst = string(b[k : k+int(n)])
		b = b[k+int(n):]
	}
	return meta, nil
}

// debugWriter turns memberlist's log lines ("[WARN] memberlist: ...")
// into slog records at debug level.
type debugWriter struct{ log *slog.Logger }

func (w debugWriter) Write(p []byte) (int, error) {
	ctx := context.Background()
	if !w.log.Enabled(ctx, slog.LevelDebug) {
		return len(p), nil
	}
	line := string(bytes.TrimRight(p, "\n"))
	level := ""
	if strings.HasPrefix(line, "[") {
		if i := strings.IndexByte(line, ']'); i > 0 {
			level, line = line[1:i], strings.TrimSpace(line[i+1:])
		}
	}
	w.log.DebugContext(ctx, line, "memberlist_level", level)
	return len(p), nil
}
