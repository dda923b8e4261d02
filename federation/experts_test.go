package federation_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/federation"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// TestSearchEndpointsArePeersOnly: company search and the people directory answer
// signed requests from peers only, even in open federation mode, and never include a
// department post or another instance's people.
func TestSearchEndpointsArePeersOnly(t *testing.T) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 2, instancetest.Options{Configure: func(c *config.Config) {
		c.Federation.Mode = config.FederationOpen
		c.Search.DirectoryInterval = 0
	}})
	a, b := insts[0], insts[1]
	kate := a.CreateUser(t, "kate", instancetest.UserOptions{})
	topics := []string{"Kubernetes"}
	if _, _, err := a.Community.UpdateProfile(ctx, kate.Account.ID, community.ProfileUpdate{Expertise: &topics}); err != nil {
		t.Fatal(err)
	}
	a.PostStatus(t, kate.Token, url.Values{"status": {"Kubernetes in the open"}, "scope": {"company"}})
	a.PostStatus(t, kate.Token, url.Values{"status": {"Kubernetes, department only"}, "scope": {"department"}})
	// B knows a remote person A's index knows too; A must not answer for them.
	if _, err := a.Community.UpsertRemoteAccount(ctx, community.RemoteAccount{
		URI: b.URL + "/users/ghost", Username: "ghost", Domain: b.Host(), InboxURL: b.URL + "/users/ghost/inbox",
		Discoverable: true, Expertise: []string{"Kubernetes"},
	}); err != nil {
		t.Fatal(err)
	}
	a.SyncSearch(t)
	outsider := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) {
		c.Federation.Peers = []string{a.Host()}
	}})

	paths := []string{"/ap/search/experts?q=kubernetes", "/ap/search/accounts?q=kate", "/ap/directory"}
	for _, p := range paths {
		if code, _ := get(t, a.URL+p); code != http.StatusUnauthorized {
			t.Errorf("unsigned GET %s = %d, want 401 even in open mode", p, code)
		}
		var se *federation.StatusError
		if _, err := outsider.Federator.Fetch(ctx, a.URL+p); !errors.As(err, &se) || se.Code != http.StatusUnauthorized {
			t.Errorf("GET %s signed by a non-peer: %v, want 401", p, err)
		}
	}

	body, err := b.Federator.Fetch(ctx, a.URL+"/ap/search/experts?q=kubernetes")
	if err != nil {
		t.Fatalf("peer B asking A: %v", err)
	}
	var ans struct {
		Experts []struct {
			Actor    map[string]any
			Evidence struct {
				Expertise []string
				Statuses  []struct{ ID, Content, Scope string }
			}
		}
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		t.Fatal(err)
	}
	if len(ans.Experts) != 1 || ans.Experts[0].Actor["preferredUsername"] != "kate" {
		t.Fatalf("A's answer: %s", body)
	}
	ev := ans.Experts[0].Evidence
	if len(ev.Expertise) != 1 || len(ev.Statuses) != 1 || ev.Statuses[0].Scope != "company" ||
		!strings.HasPrefix(ev.Statuses[0].ID, a.URL+"/users/kate/statuses/") {
		t.Errorf("A's evidence: %+v", ev)
	}
	if strings.Contains(string(body), "department only") {
		t.Errorf("a department post left A: %s", body)
	}

	// The peer client reads it into stored accounts.
	experts, err := b.Federator.PeerExperts(ctx, a.Host(), nil, "kubernetes", 5)
	if err != nil || len(experts) != 1 || experts[0].Account.Acct() != "kate@"+a.Host() ||
		experts[0].Evidence.Statuses[0].URI != ev.Statuses[0].ID {
		t.Errorf("PeerExperts: %+v %v", experts, err)
	}
	if got, err := b.Community.LookupAccount(ctx, "kate@"+a.Host()); err != nil || len(got.Expertise) != 1 {
		t.Errorf("kate stored on B from A's answer: %+v %v", got, err)
	}
	people, err := b.Federator.PeerAccounts(ctx, a.Host(), nil, "kat", 5)
	if err != nil || len(people) != 1 || people[0].Username != "kate" {
		t.Errorf("PeerAccounts: %v %v", people, err)
	}
	if _, err := a.Federator.PeerExperts(ctx, outsider.Host(), nil, "x", 1); !errors.Is(err, federation.ErrNotAllowed) {
		t.Errorf("asking a non-peer: %v, want ErrNotAllowed", err)
	}
}
