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
// resolveStory is what TestSearchResolvesRemote's steps share: instance a, where alice
// and carol search, and its peer b, where bob and erin post.
type resolveStory struct {
	ctx                     context.Context
	opt                     instancetest.Options
	a, b                    *instancetest.Instance
	alice, carol, bob, erin *instancetest.User
	bobHandle               string
	remoteBobID             mastodon.ID // bob's account on a, once resolved
}

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
		rs := &resolveStory{ctx: ctx, opt: opt, a: a, b: b, alice: alice, carol: carol, bob: bob, erin: erin,
			bobHandle: "bob@" + b.Host()}
		rs.resolveAccount(t)
		rs.knownAccount(t)
		rs.resolveStatus(t)
		rs.followersOnly(t)
		rs.departmentStays(t)
		rs.outsiderNeverAsked(t)
	})
}

// Unknown to A, bob is not found without resolve.
func (rs *resolveStory) resolveAccount(t *testing.T) {
	r := swMust(t, rs.a, rs.alice.Token, url.Values{"q": {"@" + rs.bobHandle}})
	if len(r.Accounts) != 0 {
		t.Fatalf("bob found on A before any resolution: %v", r.accts())
	}

	// With resolve, A asks B (through go-mastodon, which calls /api/v2/search).
	res, err := rs.a.Client(rs.alice.Token).Search(rs.ctx, "@"+rs.bobHandle, true)
	if err != nil {
		t.Fatalf("search with resolve: %v", err)
	}
	if len(res.Accounts) != 1 || res.Accounts[0].Acct != rs.bobHandle || res.Accounts[0].Username != "bob" {
		t.Fatalf("search @%s with resolve: accounts %+v", rs.bobHandle, res.Accounts)
	}
	rs.remoteBobID = res.Accounts[0].ID
	if len(res.Statuses) != 0 || len(res.Hashtags) != 0 {
		t.Errorf("a handle search returned statuses %d, hashtags %d", len(res.Statuses), len(res.Hashtags))
	}
}

// Known now: lookup, account search and a search without resolve find him.
func (rs *resolveStory) knownAccount(t *testing.T) {
	looked, err := rs.a.Client(rs.alice.Token).AccountLookup(rs.ctx, rs.bobHandle)
	if err != nil {
		t.Fatalf("lookup %s after resolution: %v", rs.bobHandle, err)
	}
	if looked.ID != rs.remoteBobID || looked.Acct != rs.bobHandle {
		t.Errorf("lookup %s: id %s acct %q, want id %s", rs.bobHandle, looked.ID, looked.Acct, rs.remoteBobID)
	}
	if _, err := rs.a.Client(rs.alice.Token).AccountLookup(rs.ctx, "nobody@"+rs.b.Host()); accAPIStatus(err) != http.StatusNotFound {
		t.Errorf("lookup of an unknown remote handle: %v, want 404", err)
	}
	found, err := rs.a.Client(rs.alice.Token).AccountsSearch(rs.ctx, rs.bobHandle, 5)
	if err != nil || len(found) != 1 || found[0].ID != rs.remoteBobID {
		t.Errorf("accounts/search %s: %v %v", rs.bobHandle, found, err)
	}
	rs.a.SyncSearch(t)
	if r := swMust(t, rs.a, rs.alice.Token, url.Values{"q": {"bo"}, "type": {"accounts"}}); !slices.Contains(r.accts(), rs.bobHandle) {
		t.Errorf("prefix search on A: %v, want the known remote %s among them", r.accts(), rs.bobHandle)
	}
}

// Bob's unlisted company post is delivered to nobody on A: only resolving it
// brings it there.
func (rs *resolveStory) resolveStatus(t *testing.T) {
	company := rs.b.PostStatus(t, rs.bob.Token, url.Values{
		"status": {"Quarterly plan #roadmap"}, "visibility": {"unlisted"}, "scope": {"company"}})
	companyURI, companyURL := company.URI, company.URL
	if _, err := rs.a.Community.Unchecked().StatusByURI(rs.ctx, companyURI); err == nil {
		t.Fatal("the unlisted post reached A by itself; the test needs it unknown")
	}
	if r := swMust(t, rs.a, rs.alice.Token, url.Values{"q": {companyURI}}); len(r.Statuses) != 0 {
		t.Fatalf("unknown post found without resolve: %+v", r.Statuses)
	}
	r := swMust(t, rs.a, rs.alice.Token, url.Values{"q": {companyURI}, "resolve": {"true"}})
	if len(r.Statuses) != 1 {
		t.Fatalf("resolving %s: %d statuses, want 1", companyURI, len(r.Statuses))
	}
	got := r.Statuses[0]
	if got.URI != companyURI || got.URL == nil || *got.URL != companyURL || got.Tacit.Scope != "company" ||
		got.Visibility != "unlisted" || got.Account.Acct != rs.bobHandle || got.Account.ID != string(rs.remoteBobID) ||
		!strings.Contains(got.Content, "Quarterly plan") || len(got.Tags) != 1 || got.Tags[0].Name != "roadmap" {
		t.Errorf("resolved status: %+v", got)
	}
	if len(r.Accounts) != 0 {
		t.Errorf("a status URL also returned accounts %v", r.accts())
	}
	// It is now an ordinary status of A, readable through the status API…
	if st, err := rs.a.Client(rs.alice.Token).GetStatus(rs.ctx, mastodon.ID(got.ID)); err != nil || st.URI != companyURI {
		t.Errorf("GET the resolved status on A: %v %v", st, err)
	}
	// …and found by its web address without resolving, by logged-in users only.
	if r := swMust(t, rs.a, rs.carol.Token, url.Values{"q": {companyURL}}); len(r.Statuses) != 1 || r.Statuses[0].ID != got.ID {
		t.Errorf("search by url on A: %+v", r.Statuses)
	}
	if ans, _ := swSearch(t, rs.a, "", url.Values{"q": {companyURL}}); ans.Code != http.StatusUnauthorized {
		t.Errorf("a logged-out visitor searched in company mode: %d %s", ans.Code, ans.Body)
	}
}

// Followers-only posts: one that reached A because alice follows bob is shown to
// alice and to nobody else on A; one that reached nobody is not handed out by B.
func (rs *resolveStory) followersOnly(t *testing.T) {
	if _, err := rs.a.Client(rs.alice.Token).AccountFollow(rs.ctx, rs.remoteBobID); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "B to accept alice's follow", func() bool {
		rels, err := rs.a.Client(rs.alice.Token).GetAccountRelationships(rs.ctx, []string{string(rs.remoteBobID)})
		return err == nil && len(rels) == 1 && rels[0].Following
	})
	privateURI := rs.b.PostStatus(t, rs.bob.Token, url.Values{"status": {"For my followers"}, "visibility": {"private"}}).URI
	eventually.Holds(t, "the followers-only post to reach A", func() bool {
		_, err := rs.a.Community.Unchecked().StatusByURI(rs.ctx, privateURI)
		return err == nil
	})
	if r := swMust(t, rs.a, rs.carol.Token, url.Values{"q": {privateURI}, "resolve": {"true"}}); len(r.Statuses) != 0 {
		t.Errorf("carol, who does not follow bob, got his followers-only post: %+v", r.Statuses)
	}
	if r := swMust(t, rs.a, rs.alice.Token, url.Values{"q": {privateURI}, "resolve": {"true"}}); len(r.Statuses) != 1 {
		t.Errorf("alice, a follower, did not get bob's followers-only post: %+v", r.Statuses)
	}
	erinPrivate := rs.b.PostStatus(t, rs.erin.Token, url.Values{"status": {"Erin's followers only"}, "visibility": {"private"}}).URI
	if r := swMust(t, rs.a, rs.alice.Token, url.Values{"q": {erinPrivate}, "resolve": {"true"}}); len(r.Statuses) != 0 {
		t.Errorf("resolving a followers-only post nobody on A may read: %+v", r.Statuses)
	}
	if _, err := rs.a.Community.Unchecked().StatusByURI(rs.ctx, erinPrivate); err == nil {
		t.Error("B handed a followers-only post to A, where nobody follows its author")
	}
}

// A department post never leaves B: the fetch is refused and nothing is stored.
func (rs *resolveStory) departmentStays(t *testing.T) {
	deptURI := rs.b.PostStatus(t, rs.bob.Token, url.Values{"status": {"Department only"}, "scope": {"department"}}).URI
	if r := swMust(t, rs.a, rs.alice.Token, url.Values{"q": {deptURI}, "resolve": {"true"}}); len(r.Statuses) != 0 {
		t.Errorf("a department post of B was found from A: %+v", r.Statuses)
	}
	if _, err := rs.a.Community.Unchecked().StatusByURI(rs.ctx, deptURI); err == nil {
		t.Error("a department post of B was stored on A")
	}
}

// A server outside the company is never asked, for a handle or for a URL.
func (rs *resolveStory) outsiderNeverAsked(t *testing.T) {
	outsider := instancetest.Start(t, rs.opt)
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
		if r := swMust(t, rs.a, rs.alice.Token, url.Values{"q": {q}, "resolve": {"true"}}); len(r.Accounts)+len(r.Statuses) != 0 {
			t.Errorf("search %s on a non-peer: accounts %v, %d statuses", q, r.accts(), len(r.Statuses))
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("A sent %d requests to a server outside the company", n)
	}
	if _, err := rs.a.Community.LookupAccount(rs.ctx, "xavier@"+outsider.Host()); err == nil {
		t.Error("an account of a non-peer was stored")
	}
}

// TestSearchLocal: prefix search of accounts and hashtags, status look-up by URL, the
// parameters and errors of /api/v2/search and /api/v1/accounts/search on one instance.
// It runs in open mode, where logged-out visitors search as on Mastodon; in company mode
// they are refused (TestAccountAudience).
// localSearch is what TestSearchLocal's steps share: alice, alicia and albert, whose
// names begin alike, and alice's world and department posts.
type localSearch struct {
	ctx                             context.Context
	inst                            *instancetest.Instance
	alice, alicia, albert, readOnly *instancetest.User
	publicURL, deptURL              string
}

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
		w := &localSearch{ctx: ctx, inst: inst, alice: alice, alicia: alicia, albert: albert, readOnly: readOnly}
		w.accounts(t)
		w.hashtags(t)
		w.statusesByText(t)
		w.statusesByURL(t)
		w.errors(t)
	})
}

// Accounts, ranked: a whole word typed beats a prefix of one, a prefix that
// covers more of a name beats one that covers less; display names count; case
// does not matter; "_" is not a wildcard; every word typed must match.
func (w *localSearch) accounts(t *testing.T) {
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
		r := swMust(t, w.inst, w.alice.Token, url.Values{"q": {tc.q}})
		if !slices.Equal(r.accts(), tc.want) {
			t.Errorf("accounts for %q: %v, want %v", tc.q, r.accts(), tc.want)
		}
		if len(r.Statuses) != 0 {
			t.Errorf("search %q returned statuses, but nobody has posted yet", tc.q)
		}
	}
	if r := swMust(t, w.inst, w.alice.Token, url.Values{"q": {"ali"}, "following": {"true"}}); !slices.Equal(r.accts(), []string{"alicia"}) {
		t.Errorf("following=true: %v, want [alicia]", r.accts())
	}
	if r := swMust(t, w.inst, w.alice.Token, url.Values{"q": {"ali"}, "limit": {"1"}}); !slices.Equal(r.accts(), []string{"albert"}) {
		t.Errorf("limit=1: %v", r.accts())
	}
	if r := swMust(t, w.inst, w.alice.Token, url.Values{"q": {"ali"}, "type": {"accounts"}, "offset": {"1"}}); !slices.Equal(r.accts(), []string{"alice", "alicia"}) {
		t.Errorf("offset=1: %v", r.accts())
	}
	found, err := w.inst.Client(w.alice.Token).AccountsSearch(w.ctx, "ali", 2)
	if err != nil || len(found) != 2 || found[0].Acct != "albert" || found[1].Acct != "alice" {
		t.Errorf("accounts/search: %v %v", found, err)
	}
	if _, err := w.inst.Client("").AccountsSearch(w.ctx, "ali", 2); accAPIStatus(err) != http.StatusUnauthorized {
		t.Errorf("accounts/search logged out: %v, want 401", err)
	}
}

// Hashtags by prefix, in name order, only of posts the viewer may read.
func (w *localSearch) hashtags(t *testing.T) {
	w.publicURL = w.inst.PostStatus(t, w.alice.Token, url.Values{"status": {"Notes on #golang and #gopher and #rust"}, "scope": {"world"}}).URL
	w.deptURL = w.inst.PostStatus(t, w.alice.Token, url.Values{"status": {"Hush #gossip"}, "scope": {"department"}}).URL
	w.inst.SyncSearch(t)
	for _, tc := range []struct {
		token, q string
		want     []string
	}{
		{w.alice.Token, "go", []string{"golang", "gopher", "gossip"}},
		{"", "go", []string{"golang", "gopher"}},
		{w.alice.Token, "#GOL", []string{"golang"}},
		{w.alice.Token, "ru", []string{"rust"}},
		{w.alice.Token, "g!", []string{}},
	} {
		r := swMust(t, w.inst, tc.token, url.Values{"q": {tc.q}})
		if !slices.Equal(r.tags(), tc.want) {
			t.Errorf("hashtags for %q (logged in %v): %v, want %v", tc.q, tc.token != "", r.tags(), tc.want)
		}
		for _, h := range r.Hashtags {
			if h.URL != w.inst.URL+"/tags/"+h.Name || h.History == nil || h.ID == "" {
				t.Errorf("hashtag entity %+v", h)
			}
		}
	}
	if r := swMust(t, w.inst, w.alice.Token, url.Values{"q": {"#go"}}); len(r.Accounts) != 0 {
		t.Errorf("a #query returned accounts %v", r.accts())
	}
	if r := swMust(t, w.inst, w.alice.Token, url.Values{"q": {"al"}, "type": {"hashtags"}}); len(r.Accounts) != 0 {
		t.Errorf("type=hashtags returned accounts %v", r.accts())
	}
}

// Statuses by their text, ranked, each only for those who may read it.
func (w *localSearch) statusesByText(t *testing.T) {
	for _, tc := range []struct {
		token, q string
		want     int
	}{
		{w.alice.Token, "notes", 1},
		{"", "notes gopher", 1},
		{w.alicia.Token, "hush", 1}, // a colleague reads department posts
		{"", "hush", 0},             // a logged-out visitor does not
		{w.alicia.Token, "notes hush", 0},
	} {
		r := swMust(t, w.inst, tc.token, url.Values{"q": {tc.q}, "type": {"statuses"}})
		if len(r.Statuses) != tc.want {
			t.Errorf("statuses for %q (logged in %v): %d, want %d", tc.q, tc.token != "", len(r.Statuses), tc.want)
		}
	}
	if r := swMust(t, w.inst, w.alice.Token, url.Values{"q": {"notes"}, "type": {"statuses"}, "account_id": {community.FormatID(w.alicia.Account.ID)}}); len(r.Statuses) != 0 {
		t.Errorf("account_id of another author: %d statuses", len(r.Statuses))
	}
}

// Statuses by URL; department posts only for the instance's users.
func (w *localSearch) statusesByURL(t *testing.T) {
	if r := swMust(t, w.inst, "", url.Values{"q": {w.publicURL}}); len(r.Statuses) != 1 || !strings.Contains(r.Statuses[0].Content, "golang") {
		t.Errorf("public status by url, logged out: %+v", r.Statuses)
	}
	if r := swMust(t, w.inst, "", url.Values{"q": {w.deptURL}}); len(r.Statuses) != 0 {
		t.Errorf("a logged-out visitor found a department post: %+v", r.Statuses)
	}
	if r := swMust(t, w.inst, w.alicia.Token, url.Values{"q": {w.deptURL}, "resolve": {"1"}}); len(r.Statuses) != 1 || r.Statuses[0].Tacit.Scope != "department" {
		t.Errorf("a colleague did not find a department post by url: %+v", r.Statuses)
	}
	if r := swMust(t, w.inst, w.alicia.Token, url.Values{"q": {w.publicURL}, "account_id": {community.FormatID(w.alicia.Account.ID)}}); len(r.Statuses) != 0 {
		t.Errorf("account_id of another author still returned the status")
	}
	if r := swMust(t, w.inst, w.alicia.Token, url.Values{"q": {w.inst.URL + "/@alice"}}); !slices.Equal(r.accts(), []string{"alice"}) {
		t.Errorf("account by profile url: %v", r.accts())
	}
}

// Errors, as Mastodon answers them.
func (w *localSearch) errors(t *testing.T) {
	ans, _ := swSearch(t, w.inst, w.alice.Token, url.Values{"q": {" "}})
	ans.WantError(t, "missing q", http.StatusBadRequest, "q")
	ans, _ = swSearch(t, w.inst, "", url.Values{"q": {"@bob@example.com"}, "resolve": {"true"}})
	ans.WantError(t, "resolve logged out", http.StatusUnauthorized, "resolve remote resources")
	ans, _ = swSearch(t, w.inst, "", url.Values{"q": {"ali"}, "type": {"accounts"}, "offset": {"1"}})
	ans.WantError(t, "offset logged out", http.StatusUnauthorized, "pagination")
	ans, _ = swSearch(t, w.inst, w.readOnly.Token, url.Values{"q": {"ali"}})
	ans.WantError(t, "token without read:search", http.StatusForbidden, "scope")
	ans, _ = swSearch(t, w.inst, w.alice.Token, url.Values{"q": {"ali"}, "resolve": {"maybe"}})
	ans.WantError(t, "resolve not a boolean", http.StatusUnprocessableEntity, "resolve")
}
