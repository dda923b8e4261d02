package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
	"github.com/tacit-social/tacit/store/storetest"
	"github.com/tacit-social/tacit/web/mastoschema"
)

// swResult is the part of the Search entity the tests read, with Tacit's scope.
type swResult struct {
	Accounts []struct {
		ID, Acct, Username, DisplayName string
	} `json:"accounts"`
	Statuses []struct {
		ID, URI, Content, Visibility string
		URL                          *string
		Account                      struct{ ID, Acct string }
		Tacit                        struct{ Scope string }
		Tags                         []struct{ Name string }
	} `json:"statuses"`
	Hashtags []struct {
		ID, Name, URL string
		History       []any
	} `json:"hashtags"`
}

func (r swResult) accts() []string {
	out := []string{}
	for _, a := range r.Accounts {
		out = append(out, a.Acct)
	}
	return out
}

func (r swResult) tags() []string {
	out := []string{}
	for _, h := range r.Hashtags {
		out = append(out, h.Name)
	}
	return out
}

// swSearch calls GET /api/v2/search and decodes a successful answer, which must be
// Mastodon's Search entity.
func swSearch(t *testing.T, inst *instancetest.Instance, token string, q url.Values) (instancetest.Answer, swResult) {
	t.Helper()
	ans := inst.Call(t, http.MethodGet, "/api/v2/search?"+q.Encode(), token, nil)
	var r swResult
	if ans.Code == http.StatusOK {
		if err := mastoschema.Validate("Search", ans.Body); err != nil {
			t.Errorf("search %v: not a Search entity: %v\n%s", q, err, ans.Body)
		}
		if err := json.Unmarshal(ans.Body, &r); err != nil {
			t.Fatalf("search %v: %v", q, err)
		}
	}
	return ans, r
}

// swMust searches and fails the test unless the answer is 200.
func swMust(t *testing.T, inst *instancetest.Instance, token string, q url.Values) swResult {
	t.Helper()
	ans, r := swSearch(t, inst, token, q)
	if ans.Code != http.StatusOK {
		t.Fatalf("search %v: HTTP %d %s", q, ans.Code, ans.Body)
	}
	return r
}

// swDatabases runs fn on SQLite and, when TACIT_TEST_POSTGRES is set, on PostgreSQL,
// for tests that start several instances.
func swDatabases(t *testing.T, fn func(t *testing.T, opt instancetest.Options)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, instancetest.Options{})
	})
	t.Run("postgres", func(t *testing.T) {
		storetest.PostgresURL(t) // skips the test when PostgreSQL is not configured
		t.Parallel()
		fn(t, instancetest.Options{Postgres: true})
	})
}

// TestSearchResolvesRemote: from instance A, a user finds an account and posts of the
// peer instance B by handle and URL, each post only when its audience admits them; a
// host outside the company is never contacted.
func TestSearchResolvesRemote(t *testing.T) {
	t.Parallel()
	swDatabases(t, func(t *testing.T, opt instancetest.Options) {
		ctx := context.Background()
		insts := instancetest.StartCompany(t, 2, opt)
		a, b := insts[0], insts[1]
		alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
		carol := a.CreateUser(t, "carol", instancetest.UserOptions{})
		bob := b.CreateUser(t, "bob", instancetest.UserOptions{})
		erin := b.CreateUser(t, "erin", instancetest.UserOptions{})
		bobHandle := "bob@" + b.Host()

		// Unknown to A, bob is not found without resolve.
		r := swMust(t, a, alice.Token, url.Values{"q": {"@" + bobHandle}})
		if len(r.Accounts) != 0 {
			t.Fatalf("bob found on A before any resolution: %v", r.accts())
		}

		// With resolve, A asks B (through go-mastodon, which calls /api/v2/search).
		res, err := a.Client(alice.Token).Search(ctx, "@"+bobHandle, true)
		if err != nil {
			t.Fatalf("search with resolve: %v", err)
		}
		if len(res.Accounts) != 1 || res.Accounts[0].Acct != bobHandle || res.Accounts[0].Username != "bob" {
			t.Fatalf("search @%s with resolve: accounts %+v", bobHandle, res.Accounts)
		}
		remoteBobID := res.Accounts[0].ID
		if len(res.Statuses) != 0 || len(res.Hashtags) != 0 {
			t.Errorf("a handle search returned statuses %d, hashtags %d", len(res.Statuses), len(res.Hashtags))
		}

		// Known now: lookup, account search and a search without resolve find him.
		looked, err := a.Client(alice.Token).AccountLookup(ctx, bobHandle)
		if err != nil {
			t.Fatalf("lookup %s after resolution: %v", bobHandle, err)
		}
		if looked.ID != remoteBobID || looked.Acct != bobHandle {
			t.Errorf("lookup %s: id %s acct %q, want id %s", bobHandle, looked.ID, looked.Acct, remoteBobID)
		}
		if _, err := a.Client(alice.Token).AccountLookup(ctx, "nobody@"+b.Host()); accAPIStatus(err) != http.StatusNotFound {
			t.Errorf("lookup of an unknown remote handle: %v, want 404", err)
		}
		found, err := a.Client(alice.Token).AccountsSearch(ctx, bobHandle, 5)
		if err != nil || len(found) != 1 || found[0].ID != remoteBobID {
			t.Errorf("accounts/search %s: %v %v", bobHandle, found, err)
		}
		a.SyncSearch(t)
		if r := swMust(t, a, alice.Token, url.Values{"q": {"bo"}, "type": {"accounts"}}); !slices.Contains(r.accts(), bobHandle) {
			t.Errorf("prefix search on A: %v, want the known remote %s among them", r.accts(), bobHandle)
		}

		// Bob's unlisted company post is delivered to nobody on A: only resolving it
		// brings it there.
		company := b.PostStatus(t, bob.Token, url.Values{
			"status": {"Quarterly plan #roadmap"}, "visibility": {"unlisted"}, "scope": {"company"}})
		companyURI, companyURL := company.URI, company.URL
		if _, err := a.Community.StatusByURI(ctx, companyURI); err == nil {
			t.Fatal("the unlisted post reached A by itself; the test needs it unknown")
		}
		if r := swMust(t, a, alice.Token, url.Values{"q": {companyURI}}); len(r.Statuses) != 0 {
			t.Fatalf("unknown post found without resolve: %+v", r.Statuses)
		}
		r = swMust(t, a, alice.Token, url.Values{"q": {companyURI}, "resolve": {"true"}})
		if len(r.Statuses) != 1 {
			t.Fatalf("resolving %s: %d statuses, want 1", companyURI, len(r.Statuses))
		}
		got := r.Statuses[0]
		if got.URI != companyURI || got.URL == nil || *got.URL != companyURL || got.Tacit.Scope != "company" ||
			got.Visibility != "unlisted" || got.Account.Acct != bobHandle || got.Account.ID != string(remoteBobID) ||
			!strings.Contains(got.Content, "Quarterly plan") || len(got.Tags) != 1 || got.Tags[0].Name != "roadmap" {
			t.Errorf("resolved status: %+v", got)
		}
		if len(r.Accounts) != 0 {
			t.Errorf("a status URL also returned accounts %v", r.accts())
		}
		// It is now an ordinary status of A, readable through the status API…
		if st, err := a.Client(alice.Token).GetStatus(ctx, mastodon.ID(got.ID)); err != nil || st.URI != companyURI {
			t.Errorf("GET the resolved status on A: %v %v", st, err)
		}
		// …and found by its web address without resolving, by logged-in users only.
		if r := swMust(t, a, carol.Token, url.Values{"q": {companyURL}}); len(r.Statuses) != 1 || r.Statuses[0].ID != got.ID {
			t.Errorf("search by url on A: %+v", r.Statuses)
		}
		if ans, _ := swSearch(t, a, "", url.Values{"q": {companyURL}}); ans.Code != http.StatusUnauthorized {
			t.Errorf("a logged-out visitor searched in company mode: %d %s", ans.Code, ans.Body)
		}

		// Followers-only posts: one that reached A because alice follows bob is shown to
		// alice and to nobody else on A; one that reached nobody is not handed out by B.
		if _, err := a.Client(alice.Token).AccountFollow(ctx, remoteBobID); err != nil {
			t.Fatal(err)
		}
		eventually.Holds(t, "B to accept alice's follow", func() bool {
			rels, err := a.Client(alice.Token).GetAccountRelationships(ctx, []string{string(remoteBobID)})
			return err == nil && len(rels) == 1 && rels[0].Following
		})
		privateURI := b.PostStatus(t, bob.Token, url.Values{"status": {"For my followers"}, "visibility": {"private"}}).URI
		eventually.Holds(t, "the followers-only post to reach A", func() bool {
			_, err := a.Community.StatusByURI(ctx, privateURI)
			return err == nil
		})
		if r := swMust(t, a, carol.Token, url.Values{"q": {privateURI}, "resolve": {"true"}}); len(r.Statuses) != 0 {
			t.Errorf("carol, who does not follow bob, got his followers-only post: %+v", r.Statuses)
		}
		if r := swMust(t, a, alice.Token, url.Values{"q": {privateURI}, "resolve": {"true"}}); len(r.Statuses) != 1 {
			t.Errorf("alice, a follower, did not get bob's followers-only post: %+v", r.Statuses)
		}
		erinPrivate := b.PostStatus(t, erin.Token, url.Values{"status": {"Erin's followers only"}, "visibility": {"private"}}).URI
		if r := swMust(t, a, alice.Token, url.Values{"q": {erinPrivate}, "resolve": {"true"}}); len(r.Statuses) != 0 {
			t.Errorf("resolving a followers-only post nobody on A may read: %+v", r.Statuses)
		}
		if _, err := a.Community.StatusByURI(ctx, erinPrivate); err == nil {
			t.Error("B handed a followers-only post to A, where nobody follows its author")
		}

		// A department post never leaves B: the fetch is refused and nothing is stored.
		deptURI := b.PostStatus(t, bob.Token, url.Values{"status": {"Department only"}, "scope": {"department"}}).URI
		if r := swMust(t, a, alice.Token, url.Values{"q": {deptURI}, "resolve": {"true"}}); len(r.Statuses) != 0 {
			t.Errorf("a department post of B was found from A: %+v", r.Statuses)
		}
		if _, err := a.Community.StatusByURI(ctx, deptURI); err == nil {
			t.Error("a department post of B was stored on A")
		}

		// A server outside the company is never asked, for a handle or for a URL.
		outsider := instancetest.Start(t, opt)
		outsider.CreateUser(t, "xavier", instancetest.UserOptions{})
		var hits atomic.Int32
		spy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			outsider.Handler().ServeHTTP(w, r)
		}))
		t.Cleanup(spy.Close)
		spyHost := strings.TrimPrefix(spy.URL, "http://")
		for _, q := range []string{"@xavier@" + outsider.Host(), "@xavier@" + spyHost, spy.URL + "/users/xavier",
			spy.URL + "/users/xavier/statuses/1"} {
			if r := swMust(t, a, alice.Token, url.Values{"q": {q}, "resolve": {"true"}}); len(r.Accounts)+len(r.Statuses) != 0 {
				t.Errorf("search %s on a non-peer: accounts %v, %d statuses", q, r.accts(), len(r.Statuses))
			}
		}
		if n := hits.Load(); n != 0 {
			t.Errorf("A sent %d requests to a server outside the company", n)
		}
		if _, err := a.Community.LookupAccount(ctx, "xavier@"+outsider.Host()); err == nil {
			t.Error("an account of a non-peer was stored")
		}
	})
}

// TestSearchLocal: prefix search of accounts and hashtags, status look-up by URL, the
// parameters and errors of /api/v2/search and /api/v1/accounts/search on one instance.
// It runs in open mode, where logged-out visitors search as on Mastodon; in company mode
// they are refused (TestAccountAudience).
func TestSearchLocal(t *testing.T) {
	t.Parallel()
	open := instancetest.Options{Configure: func(c *config.Config) { c.Federation.Mode = config.FederationOpen }}
	instancetest.Each(t, open, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		alicia := inst.CreateUser(t, "alicia", instancetest.UserOptions{})
		albert := inst.CreateUser(t, "albert", instancetest.UserOptions{})
		readOnly := inst.CreateUser(t, "reader", instancetest.UserOptions{Scopes: []string{"write"}})
		if _, err := inst.Client(albert.Token).AccountUpdate(ctx, &mastodon.Profile{DisplayName: new("Ali Baba")}); err != nil {
			t.Fatal(err)
		}
		for _, u := range []*instancetest.User{alice, albert} {
			if _, err := inst.Client(u.Token).AccountFollow(ctx, accID(alicia.Account)); err != nil {
				t.Fatal(err)
			}
		}

		inst.SyncSearch(t)
		// Accounts, ranked: a whole word typed beats a prefix of one, a prefix that
		// covers more of a name beats one that covers less; display names count; case
		// does not matter; "_" is not a wildcard; every word typed must match.
		for _, tc := range []struct {
			q    string
			want []string
		}{
			{"alice", []string{"alice"}},
			{"alic", []string{"alice", "alicia"}},
			{"ALI", []string{"albert", "alice", "alicia"}},
			{"@ali", []string{"albert", "alice", "alicia"}},
			{"ali baba", []string{"albert"}},
			{"al_", []string{}},
			{"zed", []string{}},
		} {
			r := swMust(t, inst, alice.Token, url.Values{"q": {tc.q}})
			if !slices.Equal(r.accts(), tc.want) {
				t.Errorf("accounts for %q: %v, want %v", tc.q, r.accts(), tc.want)
			}
			if len(r.Statuses) != 0 {
				t.Errorf("search %q returned statuses, but nobody has posted yet", tc.q)
			}
		}
		if r := swMust(t, inst, alice.Token, url.Values{"q": {"ali"}, "following": {"true"}}); !slices.Equal(r.accts(), []string{"alicia"}) {
			t.Errorf("following=true: %v, want [alicia]", r.accts())
		}
		if r := swMust(t, inst, alice.Token, url.Values{"q": {"ali"}, "limit": {"1"}}); !slices.Equal(r.accts(), []string{"albert"}) {
			t.Errorf("limit=1: %v", r.accts())
		}
		if r := swMust(t, inst, alice.Token, url.Values{"q": {"ali"}, "type": {"accounts"}, "offset": {"1"}}); !slices.Equal(r.accts(), []string{"alice", "alicia"}) {
			t.Errorf("offset=1: %v", r.accts())
		}
		found, err := inst.Client(alice.Token).AccountsSearch(ctx, "ali", 2)
		if err != nil || len(found) != 2 || found[0].Acct != "albert" || found[1].Acct != "alice" {
			t.Errorf("accounts/search: %v %v", found, err)
		}
		if _, err := inst.Client("").AccountsSearch(ctx, "ali", 2); accAPIStatus(err) != http.StatusUnauthorized {
			t.Errorf("accounts/search logged out: %v, want 401", err)
		}

		// Hashtags by prefix, in name order, only of posts the viewer may read.
		publicURL := inst.PostStatus(t, alice.Token, url.Values{"status": {"Notes on #golang and #gopher and #rust"}, "scope": {"world"}}).URL
		deptURL := inst.PostStatus(t, alice.Token, url.Values{"status": {"Hush #gossip"}, "scope": {"department"}}).URL
		inst.SyncSearch(t)
		for _, tc := range []struct {
			token, q string
			want     []string
		}{
			{alice.Token, "go", []string{"golang", "gopher", "gossip"}},
			{"", "go", []string{"golang", "gopher"}},
			{alice.Token, "#GOL", []string{"golang"}},
			{alice.Token, "ru", []string{"rust"}},
			{alice.Token, "g!", []string{}},
		} {
			r := swMust(t, inst, tc.token, url.Values{"q": {tc.q}})
			if !slices.Equal(r.tags(), tc.want) {
				t.Errorf("hashtags for %q (logged in %v): %v, want %v", tc.q, tc.token != "", r.tags(), tc.want)
			}
			for _, h := range r.Hashtags {
				if h.URL != inst.URL+"/tags/"+h.Name || h.History == nil || h.ID == "" {
					t.Errorf("hashtag entity %+v", h)
				}
			}
		}
		if r := swMust(t, inst, alice.Token, url.Values{"q": {"#go"}}); len(r.Accounts) != 0 {
			t.Errorf("a #query returned accounts %v", r.accts())
		}
		if r := swMust(t, inst, alice.Token, url.Values{"q": {"al"}, "type": {"hashtags"}}); len(r.Accounts) != 0 {
			t.Errorf("type=hashtags returned accounts %v", r.accts())
		}

		// Statuses by their text, ranked, each only for those who may read it.
		for _, tc := range []struct {
			token, q string
			want     int
		}{
			{alice.Token, "notes", 1},
			{"", "notes gopher", 1},
			{alicia.Token, "hush", 1}, // a colleague reads department posts
			{"", "hush", 0},           // a logged-out visitor does not
			{alicia.Token, "notes hush", 0},
		} {
			r := swMust(t, inst, tc.token, url.Values{"q": {tc.q}, "type": {"statuses"}})
			if len(r.Statuses) != tc.want {
				t.Errorf("statuses for %q (logged in %v): %d, want %d", tc.q, tc.token != "", len(r.Statuses), tc.want)
			}
		}
		if r := swMust(t, inst, alice.Token, url.Values{"q": {"notes"}, "type": {"statuses"}, "account_id": {community.FormatID(alicia.Account.ID)}}); len(r.Statuses) != 0 {
			t.Errorf("account_id of another author: %d statuses", len(r.Statuses))
		}

		// Statuses by URL; department posts only for the instance's users.
		if r := swMust(t, inst, "", url.Values{"q": {publicURL}}); len(r.Statuses) != 1 || !strings.Contains(r.Statuses[0].Content, "golang") {
			t.Errorf("public status by url, logged out: %+v", r.Statuses)
		}
		if r := swMust(t, inst, "", url.Values{"q": {deptURL}}); len(r.Statuses) != 0 {
			t.Errorf("a logged-out visitor found a department post: %+v", r.Statuses)
		}
		if r := swMust(t, inst, alicia.Token, url.Values{"q": {deptURL}, "resolve": {"1"}}); len(r.Statuses) != 1 || r.Statuses[0].Tacit.Scope != "department" {
			t.Errorf("a colleague did not find a department post by url: %+v", r.Statuses)
		}
		if r := swMust(t, inst, alicia.Token, url.Values{"q": {publicURL}, "account_id": {community.FormatID(alicia.Account.ID)}}); len(r.Statuses) != 0 {
			t.Errorf("account_id of another author still returned the status")
		}
		if r := swMust(t, inst, alicia.Token, url.Values{"q": {inst.URL + "/@alice"}}); !slices.Equal(r.accts(), []string{"alice"}) {
			t.Errorf("account by profile url: %v", r.accts())
		}

		// Errors, as Mastodon answers them.
		ans, _ := swSearch(t, inst, alice.Token, url.Values{"q": {" "}})
		ans.WantError(t, "missing q", http.StatusBadRequest, "q")
		ans, _ = swSearch(t, inst, "", url.Values{"q": {"@bob@example.com"}, "resolve": {"true"}})
		ans.WantError(t, "resolve logged out", http.StatusUnauthorized, "resolve remote resources")
		ans, _ = swSearch(t, inst, "", url.Values{"q": {"ali"}, "type": {"accounts"}, "offset": {"1"}})
		ans.WantError(t, "offset logged out", http.StatusUnauthorized, "pagination")
		ans, _ = swSearch(t, inst, readOnly.Token, url.Values{"q": {"ali"}})
		ans.WantError(t, "token without read:search", http.StatusForbidden, "scope")
		ans, _ = swSearch(t, inst, alice.Token, url.Values{"q": {"ali"}, "resolve": {"maybe"}})
		ans.WantError(t, "resolve not a boolean", http.StatusUnprocessableEntity, "resolve")
	})
}
