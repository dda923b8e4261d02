package federation

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/tacit-social/tacit/federation/signature"
)

// Limits on what Tacit fetches from other servers.
const (
	// MaxBodyBytes bounds every ActivityPub document read from a peer or received in an
	// inbox.
	MaxBodyBytes = 1 << 20
	// requestTimeout bounds one outgoing request, so a dead peer costs a worker at most
	// this long.
	requestTimeout = 10 * time.Second
	// activityJSON is the media type ActivityPub documents are requested and sent as.
	activityJSON = `application/activity+json`
	acceptHeader = `application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`
)

// ErrNotAllowed refuses a request to a host outside the federation allowlist.
var ErrNotAllowed = errors.New("host is not allowed to federate with")

// HostPolicy decides which hosts this instance talks to.
type HostPolicy struct {
	// Peer reports whether a host[:port] is one of the company's instances.
	Peer func(host string) bool
	// Open is true in open federation mode: hosts outside the company are allowed too
	// (for world-scope content), except private and loopback addresses.
	Open bool
	// AllowNetworks are private or loopback ranges that open mode may reach anyway.
	AllowNetworks []netip.Prefix
	// Blocked reports whether moderators cut federation with a host (a domain block);
	// it wins over everything else. Nil blocks nothing.
	Blocked func(host string) bool
	// Extra reports whether moderators opened federation to a host outside the
	// company (a domain allow). Nil opens nothing.
	Extra func(host string) bool
}

func (p HostPolicy) blocked(host string) bool { return p.Blocked != nil && p.Blocked(host) }

func (p HostPolicy) extra(host string) bool { return p.Extra != nil && p.Extra(host) }

// reachable reports whether a non-peer may be dialled at ip.
func (p HostPolicy) reachable(ip net.IP) bool {
	if publicIP(ip) {
		return true
	}
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		return false
	}
	addr = addr.Unmap()
	for _, n := range p.AllowNetworks {
		if n.Contains(addr) {
			return true
		}
	}
	return false
}

// Allowed reports whether the host may be contacted at all.
func (p HostPolicy) Allowed(host string) bool {
	host = strings.ToLower(host)
	if p.blocked(host) {
		return false
	}
	return p.Peer(host) || p.Open || p.extra(host)
}

// Client makes outgoing ActivityPub requests: to allowed hosts only, signed, with a
// timeout and a bounded response.
type Client struct {
	policy HostPolicy
	http   *http.Client
	agent  string
}

// NewClient returns a client for the policy. userAgent identifies the instance, as
// peers' logs expect.
func NewClient(policy HostPolicy, userAgent string) *Client {
	c := &Client{policy: policy, agent: userAgent}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           c.dialContext(dialer),
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: requestTimeout,
	}
	c.http = &http.Client{
		Transport: transport,
		Timeout:   requestTimeout,
		// A redirect could lead anywhere; follow only to allowed hosts, and not far.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			if !c.policy.Allowed(req.URL.Host) {
				return fmt.Errorf("redirect to %s: %w", req.URL.Host, ErrNotAllowed)
			}
			return nil
		},
	}
	return c
}

// dialContext resolves the host itself and refuses private, loopback and link-local
// addresses unless the host is a configured peer: a company's instances often live on
// an internal network, but nothing else sent to us (an actor URL in an activity, a
// redirect) may make this server reach into it.
func (c *Client) dialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		hostport := strings.ToLower(addr)
		if port == "80" || port == "443" {
			hostport = strings.ToLower(host)
		}
		if c.policy.blocked(hostport) || c.policy.blocked(strings.ToLower(addr)) {
			return nil, fmt.Errorf("dial %s: blocked: %w", addr, ErrNotAllowed)
		}
		peer := c.policy.Peer(hostport) || c.policy.Peer(strings.ToLower(addr))
		if !peer && !c.policy.Open && !c.policy.extra(hostport) && !c.policy.extra(strings.ToLower(addr)) {
			return nil, fmt.Errorf("dial %s: %w", addr, ErrNotAllowed)
		}
		ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		if err != nil {
			return nil, err
		}
		var lastErr error = fmt.Errorf("dial %s: no addresses", addr)
		for _, ip := range ips {
			if !peer && !c.policy.reachable(ip.IP) {
				lastErr = fmt.Errorf("dial %s (%s): private address: %w", addr, ip.IP, ErrNotAllowed)
				continue
			}
			conn, err := d.DialContext(ctx, network, net.JoinHostPort(ip.IP.String(), port))
			if err == nil {
				return conn, nil
			}
			lastErr = err
		}
		return nil, lastErr
	}
}

func publicIP(ip net.IP) bool {
	return !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast())
}

// Signer is the key a request is signed with: an account's or the instance actor's.
type Signer struct {
	KeyID string
	Key   *rsa.PrivateKey
}

// Get fetches an ActivityPub document with a signed GET.
func (c *Client) Get(ctx context.Context, rawURL string, as Signer) ([]byte, error) {
	return c.GetAccepting(ctx, rawURL, acceptHeader, as)
}

// GetAccepting is Get asking for other media types than ActivityPub's: WebFinger
// answers JRD, and some servers answer 406 to a WebFinger request that accepts only
// ActivityPub JSON.
func (c *Client) GetAccepting(ctx context.Context, rawURL, accept string, as Signer) ([]byte, error) {
	req, err := c.newRequest(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	if err := signature.SignRequest(req, nil, as.KeyID, as.Key); err != nil {
		return nil, fmt.Errorf("sign GET %s: %w", rawURL, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", rawURL, err)
	}
	if len(body) > MaxBodyBytes {
		return nil, fmt.Errorf("GET %s: document larger than %d bytes", rawURL, MaxBodyBytes)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{Method: http.MethodGet, URL: rawURL, Code: resp.StatusCode}
	}
	return body, nil
}

// Post delivers an activity to an inbox with a signed POST.
func (c *Client) Post(ctx context.Context, inbox string, body []byte, as Signer) error {
	req, err := c.newRequest(ctx, http.MethodPost, inbox, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", activityJSON)
	if err := signature.SignRequest(req, body, as.KeyID, as.Key); err != nil {
		return fmt.Errorf("sign POST %s: %w", inbox, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", inbox, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 300 {
		return &StatusError{Method: http.MethodPost, URL: inbox, Code: resp.StatusCode}
	}
	return nil
}

func (c *Client) newRequest(ctx context.Context, method, rawURL string, body []byte) (*http.Request, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("request %q: not an absolute http(s) URL", rawURL)
	}
	if !c.policy.Allowed(u.Host) {
		return nil, fmt.Errorf("request %s: %w", u.Host, ErrNotAllowed)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", rawURL, err)
	}
	req.Header.Set("User-Agent", c.agent)
	return req, nil
}

// StatusError is a peer's non-success answer.
type StatusError struct {
	Method, URL string
	Code        int
}

func (e *StatusError) Error() string { return fmt.Sprintf("%s %s: HTTP %d", e.Method, e.URL, e.Code) }

// Permanent reports whether retrying cannot help: the peer refused the request itself
// (4xx), as opposed to being unavailable (5xx) or asking us to slow down (429).
func (e *StatusError) Permanent() bool {
	return e.Code >= 400 && e.Code < 500 && e.Code != http.StatusTooManyRequests && e.Code != http.StatusRequestTimeout
}

// Fetch reads an ActivityPub document with a GET signed by the instance actor.
func (f *Federator) Fetch(ctx context.Context, rawURL string) ([]byte, error) {
	return f.client.Get(ctx, rawURL, f.instanceSigner())
}
