package federation_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/federation"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
)

// openMode federates beyond the company; loopback must be allowed explicitly, since
// every test instance lives on 127.0.0.1.
func openMode(allowLoopback bool) instancetest.Options {
	return instancetest.Options{Configure: func(c *config.Config) {
		c.Federation.Mode = config.FederationOpen
		if allowLoopback {
			c.Federation.AllowNetworks = []string{"127.0.0.0/8"}
		}
	}}
}

// TestOpenMode: in open mode world-scope posts reach followers outside the company and
// are readable by anyone, while company and department posts still never leave it, and
// private addresses stay out of reach unless the operator allows them.
func TestOpenMode(t *testing.T) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 2, openMode(true))
	a, b := insts[0], insts[1]
	outside := instancetest.Start(t, openMode(true)) // a server of the wider fediverse
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
	xavier := outside.CreateUser(t, "xavier", instancetest.UserOptions{})
	bob := b.CreateUser(t, "bob", instancetest.UserOptions{})

	aliceOutside, err := outside.Federator.ResolveAccount(ctx, "alice@"+a.Host())
	if err != nil {
		t.Fatalf("an outside server resolves alice in open mode: %v", err)
	}
	if _, err := outside.Client(xavier.Token).AccountFollow(ctx, mastodon.ID(community.FormatID(aliceOutside.ID))); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "the outside follow to be accepted", func() bool {
		rel, err := outside.Community.Relationship(ctx, xavier.Account.ID, aliceOutside.ID)
		return err == nil && rel.Following
	})
	if _, err := b.Client(bob.Token).AccountFollow(ctx, mastodon.ID(community.FormatID(mustLookup(t, b, "alice@"+a.Host()).ID))); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "bob's follow to be accepted", func() bool {
		me, err := a.Community.Unchecked().AccountByID(ctx, alice.Account.ID)
		return err == nil && me.FollowersCount == 2
	})

	posts := []struct {
		name, visibility, scope string
		outside, peer           bool // arrives on the outside server, on peer B
		anonymous               bool // readable by an unsigned fetch
	}{
		{"world public", "public", "world", true, true, true},
		{"world followers-only", "private", "world", true, true, false},
		{"company public", "public", "company", false, true, false},
		{"company followers-only", "private", "company", false, true, false},
		{"department public", "public", "department", false, false, false},
	}
	uris := make([]string, len(posts))
	for i, p := range posts {
		uris[i] = a.PostStatus(t, alice.Token, url.Values{"status": {p.name}, "visibility": {p.visibility}, "scope": {p.scope}}).URI
	}
	settle(t, a, b, outside)
	for i, p := range posts {
		_, errOut := outside.Community.Unchecked().StatusByURI(ctx, uris[i])
		if got := errOut == nil; got != p.outside {
			t.Errorf("%s on the outside server: %v, want %v", p.name, got, p.outside)
		}
		_, errPeer := b.Community.Unchecked().StatusByURI(ctx, uris[i])
		if got := errPeer == nil; got != p.peer {
			t.Errorf("%s on peer B: %v, want %v", p.name, got, p.peer)
		}
		code, _ := get(t, uris[i])
		if got := code == http.StatusOK; got != p.anonymous {
			t.Errorf("%s: unsigned fetch HTTP %d, want readable %v", p.name, code, p.anonymous)
		}
		body, err := outside.Federator.Fetch(ctx, uris[i])
		if p.scope != "world" && err == nil {
			t.Errorf("%s: the outside server fetched it: %s", p.name, body)
		}
	}
	if code, _ := get(t, a.URL+"/users/alice"); code != http.StatusOK {
		t.Errorf("open mode: unsigned actor fetch HTTP %d, want 200", code)
	}

	// The outside world talks back: a world-scope mention reaches alice.
	mention := outside.PostStatus(t, xavier.Token, url.Values{"status": {"@alice@" + a.Host() + " thanks for the talk"}, "scope": {"world"}}).URI
	eventually.Holds(t, "the outside mention on A", func() bool { _, err := a.Community.Unchecked().StatusByURI(ctx, mention); return err == nil })

	// Without an explicit allowance, open mode does not reach private addresses that
	// are not peers.
	strict := instancetest.Start(t, openMode(false))
	if _, err := strict.Federator.ResolveAccount(ctx, "alice@"+a.Host()); !errors.Is(err, federation.ErrNotAllowed) {
		t.Errorf("open mode reached a loopback non-peer without allow_networks: err = %v", err)
	}
}

func mustLookup(t *testing.T, inst *instancetest.Instance, acct string) *community.Account {
	t.Helper()
	a, err := inst.Federator.ResolveAccount(context.Background(), acct)
	if err != nil {
		t.Fatalf("resolve %s: %v", acct, err)
	}
	return a
}
