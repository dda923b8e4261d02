package federation_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/federation"
	"github.com/tacit-social/tacit/instance/instancetest"
)

func get(t *testing.T, rawURL string) (int, string) {
	t.Helper()
	resp, err := http.Get(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestCompanyModeRefusesStrangers: in company mode nothing is served to unsigned
// requests or to instances outside the peer list, except the instance actor's key.
func TestCompanyModeRefusesStrangers(t *testing.T) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 2, instancetest.Options{})
	a, b := insts[0], insts[1]
	a.CreateUser(t, "alice", instancetest.UserOptions{})
	// An outsider that considers A a peer, while A does not list it.
	outsider := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) {
		c.Federation.Peers = []string{a.Host()}
	}})

	for _, path := range []string{"/users/alice", "/users/alice/followers", "/ap/company",
		"/.well-known/webfinger?resource=acct:alice@" + a.Host()} {
		if code, _ := get(t, a.URL+path); code != http.StatusUnauthorized {
			t.Errorf("unsigned GET %s = %d, want 401", path, code)
		}
	}
	code, body := get(t, a.URL+"/actor")
	if code != http.StatusOK || !strings.Contains(body, "publicKeyPem") {
		t.Errorf("instance actor unsigned = %d, want 200 with its key", code)
	}

	// A peer resolves alice; the outsider cannot, and A never contacts the outsider.
	if _, err := b.Federator.ResolveAccount(ctx, "alice@"+a.Host()); err != nil {
		t.Errorf("peer B cannot resolve alice: %v", err)
	}
	if _, err := outsider.Federator.ResolveAccount(ctx, "alice@"+a.Host()); err == nil {
		t.Error("an instance outside the company resolved alice")
	}
	if _, err := outsider.Federator.Fetch(ctx, a.URL+"/users/alice"); err == nil {
		t.Error("an instance outside the company fetched alice's actor")
	}
	if _, err := a.Federator.Fetch(ctx, outsider.URL+"/actor"); !errors.Is(err, federation.ErrNotAllowed) {
		t.Errorf("A fetching from a non-peer: err = %v, want ErrNotAllowed", err)
	}
}

// TestObjectFetchFollowsTheAudience: a peer fetching a post gets it only when the post's
// audience includes that peer; everything else is the same 404 as a missing post.
func TestObjectFetchFollowsTheAudience(t *testing.T) {
	insts := instancetest.StartCompany(t, 2, instancetest.Options{})
	a, b := insts[0], insts[1]
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
	ctx := context.Background()

	cases := []struct {
		form   url.Values
		status int
	}{
		{url.Values{"status": {"world"}, "scope": {"world"}}, http.StatusOK},
		{url.Values{"status": {"company"}, "scope": {"company"}}, http.StatusOK},
		{url.Values{"status": {"company unlisted"}, "scope": {"company"}, "visibility": {"unlisted"}}, http.StatusOK},
		{url.Values{"status": {"department"}, "scope": {"department"}}, http.StatusNotFound},
		{url.Values{"status": {"followers"}, "visibility": {"private"}}, http.StatusNotFound},
		{url.Values{"status": {"direct"}, "visibility": {"direct"}}, http.StatusNotFound},
	}
	for _, c := range cases {
		uri := a.PostStatus(t, alice.Token, c.form).URI
		_, err := b.Federator.Fetch(ctx, uri)
		var se *federation.StatusError
		switch {
		case c.status == http.StatusOK && err != nil:
			t.Errorf("peer fetch of the %s post: %v", c.form.Get("status"), err)
		case c.status != http.StatusOK && (!errors.As(err, &se) || se.Code != c.status):
			t.Errorf("peer fetch of the %s post: err = %v, want HTTP %d", c.form.Get("status"), err, c.status)
		}
		if code, _ := get(t, uri); code != http.StatusUnauthorized {
			t.Errorf("unsigned fetch of the %s post = %d, want 401", c.form.Get("status"), code)
		}
	}
}

// TestInboxRefusesForgeries: unsigned, badly signed or non-peer deliveries are refused
// before anything is queued.
func TestInboxRefusesForgeries(t *testing.T) {
	insts := instancetest.StartCompany(t, 1, instancetest.Options{})
	a := insts[0]
	body := `{"@context":"https://www.w3.org/ns/activitystreams","id":"http://evil.example/1","type":"Follow","actor":"http://evil.example/users/x","object":"http://` + a.Host() + `/users/alice"}`
	resp, err := http.Post(a.URL+"/inbox", "application/activity+json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned inbox POST = %d, want 401", resp.StatusCode)
	}
	big := strings.NewReader(strings.Repeat("x", federation.MaxBodyBytes+10))
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/inbox", big)
	req.Header.Set("Signature", `keyId="http://`+a.Host()+`/actor#main-key",headers="(request-target) host date digest",signature="AAAA"`)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 {
		t.Errorf("oversized inbox POST = %d, want an error", resp.StatusCode)
	}
}

// TestWebAddressesResolve: a post's and a profile's web address (what people paste from
// a browser) resolve from a peer like their ActivityPub ids.
func TestWebAddressesResolve(t *testing.T) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 2, instancetest.Options{})
	a, b := insts[0], insts[1]
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
	uri := a.PostStatus(t, alice.Token, url.Values{"status": {"Find me by my web address"}, "scope": {"company"}}).URI
	st, err := a.Community.Unchecked().StatusByURI(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	bob := b.CreateUser(t, "bob", instancetest.UserOptions{})
	found, err := b.Federator.ResolveStatus(ctx, st.URL, community.AsAccount(bob.Account))
	if err != nil || found.URI != uri {
		t.Fatalf("resolve %s from B: %v %+v", st.URL, err, found)
	}
	if code, _ := get(t, st.URL); code != http.StatusNotFound {
		t.Errorf("a browser asking for %s got %d, want 404 until there are web pages", st.URL, code)
	}
}
