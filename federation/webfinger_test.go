package federation_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// finger asks an instance's WebFinger, unsigned, as a JRD client does.
func finger(t *testing.T, base, resource string, query bool) (int, map[string]any) {
	t.Helper()
	u := base + "/.well-known/webfinger"
	if query {
		u += "?" + url.Values{"resource": {resource}}.Encode()
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/jrd+json, application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	return resp.StatusCode, doc
}

func selfLink(doc map[string]any) string {
	links, _ := doc["links"].([]any)
	for _, l := range links {
		if m, ok := l.(map[string]any); ok && m["rel"] == "self" {
			s, _ := m["href"].(string)
			return s
		}
	}
	return ""
}

// TestInstanceActorWebFinger: the instance actor can be WebFingered by the name its
// actor document gives, without a signature (a server meeting this instance does so
// before anything else), and WebFinger without a resource is a bad request.
func TestInstanceActorWebFinger(t *testing.T) {
	a := instancetest.StartCompany(t, 1, instancetest.Options{})[0]

	if code, _ := finger(t, a.URL, "", false); code != http.StatusBadRequest {
		t.Errorf("WebFinger without resource = %d, want 400", code)
	}
	code, body := get(t, a.URL+"/actor")
	if code != http.StatusOK {
		t.Fatalf("instance actor = %d", code)
	}
	var actor struct{ ID, PreferredUsername string }
	if err := json.Unmarshal([]byte(body), &actor); err != nil {
		t.Fatal(err)
	}
	for _, resource := range []string{"acct:" + actor.PreferredUsername + "@" + a.Host(), actor.ID} {
		code, doc := finger(t, a.URL, resource, true)
		if code != http.StatusOK || selfLink(doc) != actor.ID {
			t.Errorf("WebFinger %s = %d %v, want 200 naming %s", resource, code, doc, actor.ID)
		}
		if doc["subject"] != "acct:"+actor.PreferredUsername+"@"+a.Host() {
			t.Errorf("WebFinger %s: subject %v", resource, doc["subject"])
		}
	}
	// Accounts stay hidden from strangers in company mode.
	a.CreateUser(t, "alice", instancetest.UserOptions{})
	if code, _ := finger(t, a.URL, "acct:alice@"+a.Host(), true); code != http.StatusUnauthorized {
		t.Errorf("unsigned WebFinger of alice = %d, want 401", code)
	}
}

// TestSplitDomainWebFinger: handles on one domain whose accounts live on another
// server resolve when the actor confirms them, and not otherwise.
func TestSplitDomainWebFinger(t *testing.T) {
	ctx := context.Background()
	handles := newFakePeer(t) // example.com: handles only
	server := newFakePeer(t)  // social.example.com: the accounts
	liar := newFakePeer(t)    // a handle domain that claims server's account for another name
	inst := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) {
		c.Federation.Peers = []string{handles.host(), server.host(), liar.host()}
	}})

	actor := actorDoc(t, server.URL, "sam")
	server.serve("/users/sam", actor)
	jrdFor := func(subject, href string) map[string]any {
		return map[string]any{"subject": subject, "links": []any{
			map[string]any{"rel": "self", "type": "application/activity+json", "href": href},
		}}
	}
	handles.serve("/.well-known/webfinger", jrdFor("acct:sam@"+handles.host(), server.URL+"/users/sam"))
	server.serve("/.well-known/webfinger", jrdFor("acct:sam@"+handles.host(), server.URL+"/users/sam"))
	liar.serve("/.well-known/webfinger", jrdFor("acct:max@"+liar.host(), server.URL+"/users/sam"))

	a, err := inst.Federator.ResolveAccount(ctx, "sam@"+handles.host())
	if err != nil || a.URI != server.URL+"/users/sam" {
		t.Fatalf("resolve sam@%s (split domain): %v", handles.host(), err)
	}
	if _, err := inst.Federator.ResolveAccount(ctx, "max@"+liar.host()); err == nil {
		t.Error("a handle whose actor has another name resolved")
	}
	// The server stops confirming: a fresh handle domain pointing at it is refused.
	other := newFakePeer(t)
	other.serve("/.well-known/webfinger", jrdFor("acct:sam@"+other.host(), server.URL+"/users/sam"))
	server.serve("/.well-known/webfinger", jrdFor("acct:sam@"+server.host(), server.URL+"/users/someone-else"))
	inst2 := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) {
		c.Federation.Peers = []string{other.host(), server.host()}
	}})
	if _, err := inst2.Federator.ResolveAccount(ctx, "sam@"+other.host()); err == nil {
		t.Error("a split-domain handle the actor's server does not confirm resolved")
	}
}
