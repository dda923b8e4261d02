package scim_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/tacit-social/tacit/federation"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/store/storetest"
)

// TestDeactivationAsPeersSeeIt: another instance of the company, fetching the
// person's profile and post as it does to show them, gets them while the person is
// active, 404 once the provider deactivated them (as for a suspension), and them
// again after re-activation.
func TestDeactivationAsPeersSeeIt(t *testing.T) {
	run := func(t *testing.T, opt instancetest.Options) {
		company := instancetest.StartCompany(t, 2, opt)
		home, peer := company[0], company[1]
		p := newProvider(t, home, "entra")
		p.vars["userName"] = "alice.martin@corp.example"
		id := p.do(http.MethodPost, "/Users", p.fixture("entra/create_user.json")).want(t, "create", http.StatusCreated).str("id")
		token, _ := signIn(t, home, id)
		post := home.PostStatus(t, token, url.Values{"status": {"For everyone in the company"}, "scope": {"company"}})
		actor := lookPerson(t, home, id).acct.URI

		fetchStatus := func(rawURL string) int {
			t.Helper()
			_, err := peer.Federator.Fetch(context.Background(), rawURL)
			var se *federation.StatusError
			switch {
			case err == nil:
				return http.StatusOK
			case errors.As(err, &se):
				return se.Code
			}
			t.Fatalf("fetch %s: %v", rawURL, err)
			return 0
		}
		for _, u := range []string{actor, post.URI} {
			if code := fetchStatus(u); code != http.StatusOK {
				t.Fatalf("peer fetching %s while active: %d", u, code)
			}
		}
		p.do(http.MethodPatch, "/Users/"+id, p.fixture("entra/disable_user.json")).want(t, "disable", http.StatusOK)
		for _, u := range []string{actor, post.URI} {
			if code := fetchStatus(u); code != http.StatusNotFound {
				t.Fatalf("peer fetching %s after disable: %d, want 404", u, code)
			}
		}
		p.do(http.MethodPatch, "/Users/"+id, p.fixture("entra/enable_user.json")).want(t, "enable", http.StatusOK)
		for _, u := range []string{actor, post.URI} {
			if code := fetchStatus(u); code != http.StatusOK {
				t.Fatalf("peer fetching %s after enable: %d", u, code)
			}
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		if storetest.PostgresByDefault() {
			t.Skip("instances on PostgreSQL")
		}
		run(t, instancetest.Options{})
	})
	t.Run("postgres", func(t *testing.T) {
		storetest.PostgresURL(t)
		run(t, instancetest.Options{Postgres: true})
	})
}
