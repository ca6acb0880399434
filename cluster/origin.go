package cluster

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// OriginConfig configures the HTTP origin getter.
type OriginConfig struct {
	// URL is the origin's base: a key k is loaded with GET <URL>/<escaped k>.
	URL string
	// Timeout bounds one load. 0 = 5 s.
	Timeout time.Duration
	// MaxValue is the largest body accepted, in bytes. 0 = 512 MiB (Redis's
	// largest string).
	MaxValue int64
	// Client makes the requests. nil = a client of its own.
	Client *http.Client
}

// Origin is the built-in Getter that reads keys from an HTTP server: 200 is
// the value, 404 is "not found", anything else is an error. The response's
// Cache-Control max-age, when present, becomes the key's TTL.
type Origin struct {
	base     string
	timeout  time.Duration
	maxValue int64
	client   *http.Client
}

// NewOrigin validates cfg and returns the getter.
func NewOrigin(cfg OriginConfig) (*Origin, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("origin: %q is not an http(s) URL", cfg.URL)
	}
	o := &Origin{
		base:     strings.TrimRight(cfg.URL, "/"),
		timeout:  cfg.Timeout,
		maxValue: cfg.MaxValue,
		client:   cfg.Client,
	}
	if o.timeout <= 0 {
		o.timeout = 5 * time.Second
	}
	if o.maxValue <= 0 {
		o.maxValue = 512 << 20
	}
	if o.client == nil {
		o.client = &http.Client{Transport: &http.Transport{
			Proxy:               nil, // the origin is addressed directly
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
		}}
	}
	return o, nil
}

// Get loads key from the origin.
func (o *Origin) Get(ctx context.Context, key string) (Value, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.base+"/"+url.PathEscape(key), nil)
	if err != nil {
		return Value{}, fmt.Errorf("origin: %w", err)
	}
	res, err := o.client.Do(req)
	if err != nil {
		return Value{}, fmt.Errorf("origin: %w", err)
	}
	defer res.Body.Close()
	switch res.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		return Value{}, ErrNotFound
	default:
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 256))
		return Value{}, fmt.Errorf("origin: %s for %q: %s", res.Status, key, strings.TrimSpace(string(msg)))
	}
	if res.ContentLength > o.maxValue {
		return Value{}, fmt.Errorf("origin: value of %q is %d bytes, over the %d limit", key, res.ContentLength, o.maxValue)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, o.maxValue+1))
	if err != nil {
		return Value{}, fmt.Errorf("origin: reading %q: %w", key, err)
	}
	if int64(len(body)) > o.maxValue {
		return Value{}, fmt.Errorf("origin: value of %q is over the %d byte limit", key, o.maxValue)
	}
	ttl, noStore := maxAge(res.Header.Values("Cache-Control"))
	if noStore {
		// The origin forbids keeping the value: serve it once, expire at once.
		ttl = time.Millisecond
	}
	return Value{Bytes: body, TTL: ttl}, nil
}

// maxAge reads max-age (in seconds) from Cache-Control headers; 0 when
// absent. no-store and no-cache are reported as noStore.
func maxAge(headers []string) (ttl time.Duration, noStore bool) {
	for _, h := range headers {
		for _, d := range strings.Split(h, ",") {
			d = strings.ToLower(strings.TrimSpace(d))
			switch {
			case d == "no-store" || d == "no-cache":
				noStore = true
			case strings.HasPrefix(d, "max-age="):
				n, err := strconv.ParseInt(strings.Trim(d[len("max-age="):], `"`), 10, 64)
				if err == nil && n >= 0 && n < 1<<31 {
					ttl = time.Duration(n) * time.Second
					if n == 0 {
						noStore = true
					}
				}
			}
		}
	}
	return ttl, noStore
}
