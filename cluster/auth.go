package cluster

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"net/http"
	"strconv"
	"time"
)

// Peer requests are authenticated when the pool has a secret: the sender
// puts the time and an HMAC-SHA256 of the request in two headers, and the
// receiver recomputes it. See docs/peer-protocol.md.
const (
	HeaderTime = "Geeredis-Time" // Unix seconds when the request was signed
	HeaderAuth = "Geeredis-Auth" // hex HMAC-SHA256(secret, method \n request-URI \n time \n SHA-256(body))
	// MaxClockSkew is how far the time of a signed request may be from the
	// receiver's clock.
	MaxClockSkew = 60 * time.Second
)

// errUnauthorized is the cause of a 401 answer.
var errUnauthorized = errors.New("unauthorized")

// signer computes request proofs. It is not safe for concurrent use: each
// sender has one, and the server takes them from a sync.Pool.
type signer struct {
	mac  hash.Hash
	body hash.Hash
	buf  []byte
}

func newSigner(secret string) *signer {
	return &signer{mac: hmac.New(sha256.New, []byte(secret)), body: sha256.New()}
}

// sum appends the proof of a request to dst, in hex.
func (s *signer) sum(dst []byte, method, uri string, unix int64, body []byte) []byte {
	s.body.Reset()
	s.body.Write(body)
	s.buf = append(s.buf[:0], method...)
	s.buf = append(s.buf, '\n')
	s.buf = append(s.buf, uri...)
	s.buf = append(s.buf, '\n')
	s.buf = strconv.AppendInt(s.buf, unix, 10)
	s.buf = append(s.buf, '\n')
	s.buf = s.body.Sum(s.buf)
	s.mac.Reset()
	s.mac.Write(s.buf)
	s.buf = s.mac.Sum(s.buf[:0])
	return hex.AppendEncode(dst, s.buf)
}

// sign sets the authentication headers of req, whose body is body.
func (s *signer) sign(req *http.Request, body []byte, now time.Time) {
	unix := now.Unix()
	proof := s.sum(nil, req.Method, req.URL.RequestURI(), unix, body)
	req.Header.Set(HeaderTime, strconv.FormatInt(unix, 10))
	req.Header.Set(HeaderAuth, string(proof))
}

// verify checks the proof of a request (its method, request-URI, and
// HeaderTime and HeaderAuth values), whose body is body, at time now.
func (s *signer) verify(method, uri, stamp, got string, body []byte, now time.Time) error {
	unix, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil {
		return errUnauthorized
	}
	if d := now.Sub(time.Unix(unix, 0)); d > MaxClockSkew || d < -MaxClockSkew {
		return errUnauthorized
	}
	want := s.sum(nil, method, uri, unix, body)
	if !hmac.Equal([]byte(got), want) {
		return errUnauthorized
	}
	return nil
}
