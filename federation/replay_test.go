package federation_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/federation/signature"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
)

// captured is a request as a server received it.
type captured struct {
	method, requestURI, host string
	header                   http.Header
	body                     []byte
}

// capturer is a peer that records what it is sent and answers like a server with
// nothing to say: the place where a hostile peer collects signed requests.
type capturer struct {
	*httptest.Server
	mu  sync.Mutex
	got map[string]captured // path → last request
}

func newCapturer(t *testing.T) *capturer {
	c := &capturer{got: map[string]captured{}}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.got[r.URL.Path] = captured{method: r.Method, requestURI: r.RequestURI, host: r.Host, header: r.Header.Clone(), body: body}
		c.mu.Unlock()
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.Header().Set("Content-Type", "application/activity+json")
		_, _ = io.WriteString(w, `{"experts":[],"accounts":[]}`)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *capturer) host() string { return strings.TrimPrefix(c.URL, "http://") }

func (c *capturer) request(t *testing.T, path string) captured {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.got[path]
	if !ok {
		t.Fatalf("nothing was sent to %s", path)
	}
	return r
}

// replay sends a captured request, headers and body untouched, to another server,
// from the local address from (a loopback address; "" for any).
func replay(t *testing.T, to string, r captured, from string) int {
	t.Helper()
	req, err := http.NewRequest(r.method, to+r.requestURI, bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = r.header.Clone()
	req.Host = r.host
	return send(t, req, from)
}

func send(t *testing.T, req *http.Request, from string) int {
	t.Helper()
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if from != "" {
		dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// TestSignedRequestsAreBoundToTheirHost: requests B signs for C (a company-wide
// search, an actor fetch, an inbox delivery) cannot be replayed by C to A, although
// A trusts B; and a GET B signs for A cannot be replayed to A by anyone else.
func TestSignedRequestsAreBoundToTheirHost(t *testing.T) {
	ctx := context.Background()
	c := newCapturer(t)
	insts := instancetest.StartCompany(t, 2, instancetest.Options{Configure: func(cfg *config.Config) {
		cfg.Federation.Peers = append(cfg.Federation.Peers, c.host())
	}})
	a, b := insts[0], insts[1]
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
	bob := b.CreateUser(t, "bob", instancetest.UserOptions{})

	// Positive control: B reads from A directly.
	if _, err := b.Federator.Fetch(ctx, a.URL+"/users/alice"); err != nil {
		t.Fatalf("B fetching alice from A: %v", err)
	}
	if _, err := b.Federator.PeerExperts(ctx, a.Host(), bob.Account, "golang", 5); err != nil {
		t.Fatalf("B asking A for experts: %v", err)
	}

	// B signs requests for C; C replays them to A.
	_, _ = b.Federator.Fetch(ctx, c.URL+"/users/alice")
	_, _ = b.Federator.PeerExperts(ctx, c.host(), bob.Account, "golang", 5)
	follow := map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       bob.Account.URI + "#follows/replayed", "type": "Follow",
		"actor": bob.Account.URI, "object": alice.Account.URI,
	}
	if err := postAs(t, b, bob.Account, c.URL+"/users/alice/inbox", follow); err != nil {
		t.Fatalf("deliver to C: %v", err)
	}
	for _, path := range []string{"/users/alice", "/ap/search/experts", "/users/alice/inbox"} {
		r := c.request(t, path)
		if code := replay(t, a.URL, r, ""); code != http.StatusUnauthorized {
			t.Errorf("%s %s signed by B for C, replayed to A = %d, want 401", r.method, path, code)
		}
	}
	eventually.Holds(t, "A's queue to settle", func() bool { return queueIdle(t, a) })
	if acct, err := a.Community.Unchecked().AccountByID(ctx, alice.Account.ID); err != nil || acct.FollowersCount != 0 {
		t.Errorf("alice's followers after a replayed Follow: %v, err %v", acct.FollowersCount, err)
	}

	// A GET B signed for A, sent again from another address.
	priv, _, err := b.Community.AccountKeys(ctx, bob.Account.ID)
	if err != nil {
		t.Fatal(err)
	}
	key, err := signature.ParsePrivateKeyPEM(priv)
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"q": {"golang"}, "limit": {"5"}}
	req, err := http.NewRequest(http.MethodGet, a.URL+"/ap/search/experts?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/activity+json")
	if err := signature.SignRequest(req, nil, bob.Account.URI+"#main-key", key); err != nil {
		t.Fatal(err)
	}
	if code := send(t, req.Clone(ctx), "127.0.0.1"); code != http.StatusOK {
		t.Fatalf("B's own signed search = %d, want 200", code)
	}
	if code := send(t, req.Clone(ctx), "127.0.0.1"); code != http.StatusOK {
		t.Errorf("B repeating its own signed search = %d, want 200", code)
	}
	if code := send(t, req.Clone(ctx), "127.0.0.2"); code != http.StatusUnauthorized {
		t.Errorf("B's signed search replayed from another address = %d, want 401", code)
	}
}
