package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// maxBatchFrames and maxBatchBytes cap one round trip; what is queued
	// beyond them goes in the next. A single larger frame goes alone.
	maxBatchFrames = 1024
	maxBatchBytes  = 4 << 20
	// keepReply is the largest reply buffer a recycled Call keeps.
	keepReply = 64 << 10
)

var (
	// ErrPeerUnreachable is wrapped by the errors of calls whose round trip
	// failed: the peer refused or dropped the connection, did not answer
	// within the pool's timeout, or answered something else than a batch
	// reply (a 401, say). A read falls back to a local load on it.
	ErrPeerUnreachable = errors.New("cluster: peer unreachable")
	// ErrRemote is wrapped by the error a peer reported for one frame: its
	// getter failed, say.
	ErrRemote = errors.New("cluster: peer error")
	// ErrClosed is wrapped by the errors of calls made on a closed pool or
	// a peer that left the membership.
	ErrClosed = errors.New("cluster: pool closed")
)

// Peer is another node as seen from this one. It queues the calls bound
// for the node and one goroutine sends them: while a round trip is in
// flight, new calls accumulate, and the next round trip carries them all.
// Calls reach the peer in the order they were made.
type Peer struct {
	id     string
	pool   *HTTPPool
	origin string // scheme://host of id
	base   string // the path of id, then the pool's base path

	mu     sync.Mutex
	wake   sync.Cond // signals the sender, idle, that the queue is not empty
	queue  []*batch
	free   []*batch
	closed bool
	idle   bool
	down   atomic.Bool // the last round trip failed

	// The sender's own.
	link  *link             // nil: the pool's http.Client carries the requests
	paths map[string]string // batch request-URI by group
	resp  []byte
	body  bytes.Reader
	sign  *signer

	// Lanes: other queues, senders and connections to the same node, so
	// that a frame never waits behind frames that may wait for it (see
	// handoff.go). nil on a lane itself.
	relay   *Peer // commands and gets forwarded a second time (hop 1)
	control *Peer // take, give and done frames
	last    *Peer // takes forwarded a second time

	top     *Peer        // the peer whose lane this is; itself for the peer
	running atomic.Int32 // on top: its lanes' senders still running
}

// batch is the frames of one round trip, all for one group.
type batch struct {
	group string
	body  []byte
	calls []*Call
	execs int
}

// newPeer returns the peer of node id with its lanes.
func newPeer(pool *HTTPPool, id string) *Peer {
	p := &Peer{}
	p.running.Store(4)
	p = newLane(pool, id, p)
	p.relay, p.control, p.last = newLane(pool, id, p), newLane(pool, id, p), newLane(pool, id, p)
	return p
}

// newLane returns a queue, a sender and a connection to node id, a lane of
// top: top itself when it is an empty Peer.
func newLane(pool *HTTPPool, id string, top *Peer) *Peer {
	p := top
	if p.id != "" {
		p = &Peer{}
	}
	p.id, p.pool, p.origin, p.base, p.paths, p.top = id, pool, id, pool.base, map[string]string{}, top
	if u, err := url.Parse(id); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		p.origin = u.Scheme + "://" + u.Host
		p.base = u.EscapedPath() + pool.base
		if pool.ownsClient {
			p.link = newLink(u, pool.timeout, pool.maxBody)
		}
	}
	p.wake.L = &p.mu
	if pool.secret != "" {
		p.sign = newSigner(pool.secret)
	}
	pool.wg.Add(1)
	go p.run()
	return p
}

// ID is the peer's base URL.
func (p *Peer) ID() string { return p.id }

// Exec queues a command for the peer to run locally (group g's executor).
// Commands bound for the same peer are coalesced into shared round trips,
// in the order they were queued. args are copied before Exec returns.
// proto is 2 or 3, and args holds at least the command name.
func (p *Peer) Exec(group string, proto int, args [][]byte) *Call {
	var one [1]*Call
	p.ExecN(group, proto, 1, func(int) [][]byte { return args }, one[:0])
	return one[0]
}

// ExecN queues n commands at once, args(i) giving the arguments of the
// i-th, and appends their Calls to calls. They are queued in one step, so
// the sender cannot take the first before the last is queued: a client's
// pipeline costs one round trip per owner (while it fits in one batch).
func (p *Peer) ExecN(group string, proto int, n int, args func(i int) [][]byte, calls []*Call) []*Call {
	start := len(calls)
	for range n {
		calls = append(calls, p.pool.newCall())
	}
	var fail error
	if proto != 2 && proto != 3 {
		fail = fmt.Errorf("cluster: Exec in protocol %d", proto)
	}
	p.mu.Lock()
	if p.closed {
		fail = fmt.Errorf("%w: %s", ErrClosed, p.id)
	}
	for i, c := range calls[start:] {
		a := args(i)
		switch {
		case fail != nil:
			c.finish(statusError, nil, fail)
		case len(a) == 0:
			c.finish(statusError, nil, errors.New("cluster: Exec of no arguments"))
		default:
			b := p.tail(group)
			b.body = appendExecFrame(b.body, byte(proto), a)
			b.execs++
			p.push(b, c)
		}
	}
	p.mu.Unlock()
	return calls
}

// Get implements PeerGetter over the coalesced protocol.
func (p *Peer) Get(ctx context.Context, group string, key []byte) (Value, error) {
	return p.get(ctx, group, key, false)
}

// get fetches key; hot tells the owner that this node keeps a copy.
func (p *Peer) get(ctx context.Context, group string, key []byte, hot bool) (Value, error) {
	var flags byte
	if hot {
		flags = getHot
	}
	c := p.queueKey(group, kindGet, flags, key, false)
	defer c.Release()
	data, err := c.Wait(ctx)
	if err != nil {
		return Value{}, err
	}
	if c.status == statusNotFound {
		return Value{}, ErrNotFound
	}
	ttl, value, err := parseGetReply(data)
	if err != nil {
		return Value{}, fmt.Errorf("%w: %s: %w", ErrPeerUnreachable, p.id, err)
	}
	return Value{Bytes: append([]byte{}, value...), TTL: time.Duration(ttl) * time.Millisecond}, nil
}

// queueKey queues a get or forget frame. The sender recycles a detached
// call itself: nobody waits for it.
func (p *Peer) queueKey(group string, kind, flags byte, key []byte, detached bool) *Call {
	return p.queueFrame(group, detached, func(dst []byte) []byte { return appendKeyFrame(dst, kind, flags, key) })
}

// queueFrame queues the frame that appendFrame appends to the batch.
// appendFrame runs under p.mu and is not kept.
func (p *Peer) queueFrame(group string, detached bool, appendFrame func([]byte) []byte) *Call {
	c := p.pool.newCall()
	c.detached = detached
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.finish(statusError, nil, fmt.Errorf("%w: %s", ErrClosed, p.id))
		return c
	}
	b := p.tail(group)
	b.body = appendFrame(b.body)
	p.push(b, c)
	p.mu.Unlock()
	return c
}

// tail returns the batch to append a frame of group to: the last queued
// one if it has room and the same group, else a new one. p.mu is held.
func (p *Peer) tail(group string) *batch {
	if n := len(p.queue); n > 0 {
		b := p.queue[n-1]
		if b.group == group && len(b.calls) < maxBatchFrames && len(b.body) < maxBatchBytes {
			return b
		}
	}
	var b *batch
	if n := len(p.free); n > 0 {
		b, p.free = p.free[n-1], p.free[:n-1]
	} else {
		b = &batch{}
	}
	b.group = group
	p.queue = append(p.queue, b)
	return b
}

// push adds c to b and wakes the sender if it waits. p.mu is held.
func (p *Peer) push(b *batch, c *Call) {
	b.calls = append(b.calls, c)
	if p.idle {
		p.idle = false
		p.wake.Signal()
	}
}

// drained forgets a dropped peer whose senders have all ended.
func (p *HTTPPool) drained(peer *Peer) {
	p.mu.Lock()
	delete(p.draining, peer)
	p.mu.Unlock()
}

// close stops taking calls; the sender sends what is queued and exits.
func (p *Peer) close() {
	p.mu.Lock()
	p.closed = true
	p.wake.Broadcast()
	p.mu.Unlock()
	if p.relay != nil {
		p.relay.close()
		p.control.close()
		p.last.close()
	}
}

// interrupt ends the peer's round trip in flight and makes later ones
// fail at once; the pool's Close calls it.
func (p *Peer) interrupt() {
	if p.link != nil {
		p.link.interrupt()
	}
	if p.relay != nil {
		p.relay.interrupt()
		p.control.interrupt()
		p.last.interrupt()
	}
}

// run is the sender: one round trip at a time, in queue order.
func (p *Peer) run() {
	defer p.pool.wg.Done()
	for {
		b := p.next()
		if b == nil {
			if p.link != nil {
				p.link.drop()
			}
			if p.top.running.Add(-1) == 0 {
				p.pool.drained(p.top)
			}
			return
		}
		p.send(b)
		p.recycle(b)
	}
}

// next waits for a queued batch and takes it; nil when closed and drained.
func (p *Peer) next() *batch {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) == 0 {
		for len(p.queue) == 0 {
			if p.closed {
				return nil
			}
			p.idle = true
			p.wake.Wait()
		}
		// Woken by the first call of a burst: let the callers that are
		// running queue theirs too, to share this round trip.
		p.mu.Unlock()
		runtime.Gosched()
		p.mu.Lock()
	}
	b := p.queue[0]
	n := copy(p.queue, p.queue[1:])
	p.queue[n] = nil
	p.queue = p.queue[:n]
	return b
}

// recycle gives a sent batch back to the free list.
func (p *Peer) recycle(b *batch) {
	clear(b.calls)
	b.calls, b.execs = b.calls[:0], 0
	if cap(b.body) > 2*maxBatchBytes {
		b.body = nil
	}
	b.body = b.body[:0]
	p.mu.Lock()
	p.free = append(p.free, b)
	p.mu.Unlock()
}

// takeQueue empties the queue and returns what it held.
func (p *Peer) takeQueue() []*batch {
	p.mu.Lock()
	defer p.mu.Unlock()
	queued := p.queue
	p.queue = nil
	return queued
}

// failBatches fails every call of queued with err.
func (p *Peer) failBatches(queued []*batch, err error) {
	for _, b := range queued {
		for _, c := range b.calls {
			c.finish(statusError, nil, err)
		}
		p.recycle(b)
	}
}

// send makes the round trip of b and finishes its calls. It returns the
// error that failed them all, if one did.
func (p *Peer) send(b *batch) error {
	st := &p.pool.stats
	st.requests.Add(1)
	st.commands.Add(uint64(b.execs))
	status, data, err := p.roundTrip(b)
	if err != nil {
		return p.failed(b, err)
	}
	if status != http.StatusOK {
		return p.failed(b, fmt.Errorf("HTTP %d: %s", status, bytes.TrimSpace(data[:min(len(data), 200)])))
	}
	for i, c := range b.calls {
		status, reply, n, err := parseReply(data)
		if err != nil {
			b.calls = b.calls[i:]
			return p.failed(b, fmt.Errorf("reply %d: %w", i, err))
		}
		data = data[n:]
		c.finish(status, reply, nil)
	}
	if p.down.Swap(false) {
		p.pool.log.Info("peer reachable", "peer", p.id)
	}
	return nil
}

// roundTrip POSTs b and returns the answer's status and body, over the
// peer's link or, when the pool was given an http.Client, with it.
func (p *Peer) roundTrip(b *batch) (int, []byte, error) {
	var status int
	var data []byte
	var err error
	if p.link != nil {
		status, data, err = p.link.roundTrip(p.pool.ctx, p.batchPath(b.group), p.sign, b.body, p.resp[:0])
	} else {
		status, data, err = p.doHTTP(b)
	}
	if cap(data) <= 2*maxBatchBytes && cap(data) > cap(p.resp) {
		p.resp = data[:0]
	}
	return status, data, err
}

// doHTTP makes the round trip with the pool's http.Client.
func (p *Peer) doHTTP(b *batch) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(p.pool.ctx, p.pool.timeout)
	defer cancel()
	p.body.Reset(b.body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.origin+p.batchPath(b.group), &p.body)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", contentType)
	if p.sign != nil {
		p.sign.sign(req, b.body, time.Now())
	}
	res, err := p.pool.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	data, err := p.read(res)
	return res.StatusCode, data, err
}

// failed fails b's calls with the error of its round trip.
//
// The calls queued behind b fail too, rather than wait a timeout each:
// the ones queued before b's callers are woken, so that a call made after
// a caller saw the failure gets a round trip of its own.
func (p *Peer) failed(b *batch, err error) error {
	err = fmt.Errorf("%w: %s: %w", ErrPeerUnreachable, p.id, err)
	p.pool.stats.errors.Add(1)
	if !p.down.Swap(true) {
		p.pool.log.Warn("peer unreachable", "peer", p.id, "err", err)
	}
	queued := p.takeQueue()
	for _, c := range b.calls {
		c.finish(statusError, nil, err)
	}
	p.failBatches(queued, err)
	return err
}

// read reads the body of res into the sender's buffer and closes it.
func (p *Peer) read(res *http.Response) ([]byte, error) {
	defer res.Body.Close()
	limit := p.pool.maxBody
	if res.ContentLength > limit {
		return nil, fmt.Errorf("reply of %d bytes", res.ContentLength)
	}
	buf := p.resp[:0]
	if n := res.ContentLength; n >= 0 {
		if int64(cap(buf)) < n {
			buf = make([]byte, 0, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(res.Body, buf); err != nil {
			return nil, err
		}
	} else {
		w := bytes.NewBuffer(buf)
		if _, err := w.ReadFrom(io.LimitReader(res.Body, limit)); err != nil {
			return nil, err
		}
		buf = w.Bytes()
	}
	return buf, nil
}

// batchPath is the request-URI of group's batch endpoint at the peer.
func (p *Peer) batchPath(group string) string {
	u, ok := p.paths[group]
	if !ok {
		u = p.base + url.PathEscape(group) + "/" + batchName
		p.paths[group] = u
	}
	return u
}

// Call is a command in flight to a peer.
type Call struct {
	pool     *HTTPPool
	reply    []byte
	err      error
	done     chan struct{} // one token when finished, unless detached
	status   byte
	detached bool
	waited   bool
}

func (p *HTTPPool) newCall() *Call {
	c := p.calls.Get().(*Call)
	c.pool = p
	return c
}

// finish records the outcome of c and wakes its waiter.
func (c *Call) finish(status byte, data []byte, err error) {
	c.status = status
	c.reply = append(c.reply[:0], data...)
	c.err = err
	if err == nil && status == statusError {
		c.err = fmt.Errorf("%w: %s", ErrRemote, data)
	}
	if c.detached {
		c.pool.putCall(c)
		return
	}
	c.done <- struct{}{}
}

// Wait returns the peer's raw reply (RESP, in the proto given to Exec), or
// the transport error (the peer unreachable, the timeout, ctx done). The
// reply is valid until Release. Wait may be called again after it
// returned ctx's error.
func (c *Call) Wait(ctx context.Context) ([]byte, error) {
	if !c.waited {
		select {
		case <-c.done:
			c.waited = true
		default:
			select {
			case <-c.done:
				c.waited = true
			case <-ctx.Done():
				return nil, fmt.Errorf("cluster: waiting for a peer: %w", ctx.Err())
			}
		}
	}
	if c.err != nil {
		return nil, c.err
	}
	return c.reply, nil
}

// Release gives c back for reuse by a later call, once Wait has returned
// its outcome; the reply from Wait is invalid after that. Release of a
// call still in flight (Wait gave up on ctx) does nothing. Calling it is
// optional: it saves allocations.
func (c *Call) Release() {
	if c.waited {
		c.pool.putCall(c)
	}
}

func (p *HTTPPool) putCall(c *Call) {
	if cap(c.reply) > keepReply {
		c.reply = nil
	}
	c.reply, c.err, c.status, c.detached, c.waited = c.reply[:0], nil, 0, false, false
	p.calls.Put(c)
}
