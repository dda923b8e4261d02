package federation_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/federation"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/store/storetest"
)

// onBothDatabases runs fn on SQLite and, when TACIT_TEST_POSTGRES is set, on
// PostgreSQL, as subtests named after the database.
func onBothDatabases(t *testing.T, fn func(t *testing.T, opt instancetest.Options)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, instancetest.Options{}) })
	t.Run("postgres", func(t *testing.T) {
		if os.Getenv(storetest.EnvPostgres) == "" {
			t.Skipf("%s is not set", storetest.EnvPostgres)
		}
		fn(t, instancetest.Options{Postgres: true})
	})
}

// TestAccountLeaksAcrossInstances: a department board and a suspended account are
// hidden from the other instances by every path that serves an account — the people
// directory, the peer search, company-wide people search, the actor, WebFinger and the
// collections — while a colleague and a company board stay visible (the positive
// controls of each check).
func TestAccountLeaksAcrossInstances(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, opt instancetest.Options) {
		w := startAccountLeaks(t, opt)
		checkDepartmentBoardHidden(t, w)
		// A's moderators suspend sam: from then on, no path serves him to B.
		w.a.Call(t, http.MethodPost, "/api/v1/admin/accounts/"+community.FormatID(w.sam.Account.ID)+"/action",
			w.admin.Token, url.Values{"type": {"suspend"}}).Decode(t, http.StatusOK, nil)
		w.a.SyncSearch(t)
		checkSuspendedHidden(t, w)
	})
}

// accountLeaks is A, with its admin, alice, sam ("Sam Zymurgist"), a department board
// (skunkworks) and a company board (ideas); and B, with bob.
type accountLeaks struct {
	a, b       *instancetest.Instance
	admin, sam *instancetest.User
	bob        *instancetest.User
}

func startAccountLeaks(t *testing.T, opt instancetest.Options) accountLeaks {
	t.Helper()
	ctx := context.Background()
	opt.Configure = func(c *config.Config) {
		c.Search.DirectoryInterval = 0
		// The checks read A's answers to B's company-wide searches: on a loaded
		// machine the default deadline could leave A unanswered.
		c.Search.PeerTimeout = 20 * time.Second
	}
	insts := instancetest.StartCompany(t, 2, opt)
	a, b := insts[0], insts[1]
	admin := a.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin,
		Scopes: []string{"read", "write", "follow", "admin:read", "admin:write"}})
	a.CreateUser(t, "alice", instancetest.UserOptions{})
	sam := a.CreateUser(t, "sam", instancetest.UserOptions{})
	bob := b.CreateUser(t, "bob", instancetest.UserOptions{})
	name := "Sam Zymurgist"
	if _, _, err := a.Community.UpdateProfile(ctx, sam.Account.ID, community.ProfileUpdate{DisplayName: &name}); err != nil {
		t.Fatal(err)
	}
	for _, board := range []url.Values{
		{"name": {"skunkworks"}, "display_name": {"Skunkworks"}, "description": {"Acquisition of Globex"}, "scope": {"department"}},
		{"name": {"ideas"}, "display_name": {"Company ideas"}, "description": {"Ideas for everyone"}, "scope": {"company"}},
	} {
		a.Call(t, http.MethodPost, "/api/v1/tacit/boards", admin.Token, board).Decode(t, http.StatusOK, nil)
	}
	a.SyncSearch(t)
	return accountLeaks{a: a, b: b, admin: admin, sam: sam, bob: bob}
}

// peerGet is a signed GET of B to A: the status code and, on success, the body.
func (w accountLeaks) peerGet(t *testing.T, path string) (int, string) {
	t.Helper()
	body, err := w.b.Federator.Fetch(context.Background(), w.a.URL+path)
	var se *federation.StatusError
	switch {
	case err == nil:
		return http.StatusOK, string(body)
	case errors.As(err, &se):
		return se.Code, ""
	}
	t.Fatalf("peer GET %s: %v", path, err)
	return 0, ""
}

// bobSearch is a company-wide people search on B, as bob.
func (w accountLeaks) bobSearch(t *testing.T, q string) []string {
	t.Helper()
	var list []struct{ Acct string }
	w.b.Call(t, http.MethodGet, "/api/v1/accounts/search?"+url.Values{"q": {q}}.Encode(), w.bob.Token, nil).Decode(t, http.StatusOK, &list)
	var out []string
	for _, x := range list {
		out = append(out, x.Acct)
	}
	return out
}

// checkDepartmentBoardHidden: before the suspension, the department board is hidden
// and everything else shows.
func checkDepartmentBoardHidden(t *testing.T, w accountLeaks) {
	t.Helper()
	ctx := context.Background()
	a, b := w.a, w.b
	if err := b.Federator.SyncDirectories(ctx); err != nil {
		t.Fatalf("pull A's directory: %v", err)
	}
	b.SyncSearch(t)
	for _, who := range []string{"alice", "ideas", "sam"} {
		if _, err := b.Community.LookupAccount(ctx, who+"@"+a.Host()); err != nil {
			t.Errorf("B does not know %s@A after the directory pull: %v", who, err)
		}
	}
	if _, err := b.Community.LookupAccount(ctx, "skunkworks@"+a.Host()); err == nil {
		t.Error("A's department board reached B through the directory")
	}
	code, dir := w.peerGet(t, "/ap/directory")
	if code != http.StatusOK || !strings.Contains(dir, a.URL+"/users/ideas") || !strings.Contains(dir, a.URL+"/users/sam") {
		t.Fatalf("A's directory for B: %d %s", code, dir)
	}
	if strings.Contains(dir, "skunkworks") || strings.Contains(dir, "Globex") {
		t.Errorf("A's directory shows B the department board: %s", dir)
	}
	code, found := w.peerGet(t, "/ap/search/accounts?q=ideas")
	if code != http.StatusOK || !strings.Contains(found, a.URL+"/users/ideas") {
		t.Errorf("peer search for the company board: %d %s", code, found)
	}
	code, found = w.peerGet(t, "/ap/search/accounts?q=skunkworks")
	if code != http.StatusOK || strings.Contains(found, "skunkworks") || strings.Contains(found, "Globex") {
		t.Errorf("peer search finds the department board: %d %s", code, found)
	}
	if got := w.bobSearch(t, "skunkworks"); len(got) != 0 {
		t.Errorf("bob finds the department board: %v", got)
	}
	if got := w.bobSearch(t, "zymurgist"); !slices.Equal(got, []string{"sam@" + a.Host()}) {
		t.Errorf("bob's search for sam before the suspension: %v", got)
	}
	for _, path := range []string{"/users/skunkworks", "/users/skunkworks/followers", "/users/skunkworks/outbox",
		"/.well-known/webfinger?resource=acct:skunkworks@" + a.Host()} {
		if code, _ := w.peerGet(t, path); code != http.StatusNotFound {
			t.Errorf("peer GET %s = %d, want 404", path, code)
		}
	}
}

// checkSuspendedHidden: after sam's suspension, no path serves him to B, while alice
// stays visible.
func checkSuspendedHidden(t *testing.T, w accountLeaks) {
	t.Helper()
	a := w.a
	for _, who := range []string{"sam", "alice"} {
		want := http.StatusNotFound
		if who == "alice" {
			want = http.StatusOK
		}
		for _, path := range []string{"/users/" + who, "/users/" + who + "/followers", "/users/" + who + "/following",
			"/users/" + who + "/outbox", "/users/" + who + "/collections/featured",
			"/.well-known/webfinger?resource=acct:" + who + "@" + a.Host()} {
			if code, _ := w.peerGet(t, path); code != want {
				t.Errorf("peer GET %s = %d, want %d", path, code, want)
			}
		}
	}
	_, dir := w.peerGet(t, "/ap/directory")
	if strings.Contains(dir, a.URL+"/users/sam") || !strings.Contains(dir, a.URL+"/users/alice") {
		t.Errorf("A's directory after the suspension: %s", dir)
	}
	_, found := w.peerGet(t, "/ap/search/accounts?q=zymurgist")
	if strings.Contains(found, "sam") {
		t.Errorf("peer search finds the suspended account: %s", found)
	}
	// B still holds its copy of sam's profile, but A answers for its own people.
	if got := w.bobSearch(t, "zymurgist"); len(got) != 0 {
		t.Errorf("bob finds the suspended account company-wide: %v", got)
	}
	if got := w.bobSearch(t, "alice"); !slices.Equal(got, []string{"alice@" + a.Host()}) {
		t.Errorf("bob's search for alice: %v", got)
	}
}
