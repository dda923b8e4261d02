package app_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// TestPageViewsCountPerAccount: an office behind one address does not share one
// rate-limit budget for its page views. A signed-in person's pages count against
// their account, as their API token would; signed-out visitors still count per
// address, and the session cookie identifies nobody to the API.
func TestPageViewsCountPerAccount(t *testing.T) {
	const limit = 300 // the default: 300 requests in 5 minutes
	inst := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) {
		c.RateLimit.Requests = limit
		c.RateLimit.Window = 5 * time.Minute
	}})
	inst.CreateUser(t, "alice", instancetest.UserOptions{})
	inst.CreateUser(t, "bob", instancetest.UserOptions{})
	alice, bob := newBrowser(t, inst), newBrowser(t, inst)
	alice.signIn("alice")
	bob.signIn("bob")

	// The API answers any origin, so a cookie must never authenticate there.
	if p := alice.get("/api/v1/accounts/verify_credentials"); p.Code != http.StatusUnauthorized {
		t.Fatalf("the API with only a session cookie: %d, want 401", p.Code)
	}

	// 400 page views from one address, more than its budget, by two people.
	for i := range 200 {
		for _, b := range []*browser{alice, bob} {
			if p := b.get("/"); p.Code != http.StatusOK || !signedIn(p) {
				t.Fatalf("page view %d of a signed-in person: %d, signed in %v", i+1, p.Code, signedIn(p))
			}
		}
	}

	// Signed-out visitors from the same address still share its budget.
	visitor := newBrowser(t, inst)
	refused := 0
	for range limit + 1 {
		if p := visitor.get("/"); p.Code == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused == 0 {
		t.Fatalf("%d signed-out page views from one address were all served, want the limit of %d to hold", limit+1, limit)
	}
	// A session cookie the server no longer knows counts per address as well.
	stale := newBrowser(t, inst)
	stale.http.Jar.SetCookies(mustURL(t, inst.URL), []*http.Cookie{{Name: "tacit_session", Value: "no-such-session"}})
	if p := stale.get("/"); p.Code != http.StatusTooManyRequests {
		t.Fatalf("a page view with an unknown session from a spent address: %d, want 429", p.Code)
	}
	// The signed-in people keep their own budgets for pages, and only for pages.
	if p := alice.get("/notifications"); p.Code != http.StatusOK {
		t.Fatalf("a signed-in page view after the address's budget is spent: %d, want 200", p.Code)
	}
	if p := alice.get("/api/v1/timelines/public"); p.Code != http.StatusTooManyRequests {
		t.Fatalf("the API with a session cookie after the address's budget is spent: %d, want 429", p.Code)
	}
}
