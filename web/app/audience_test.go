package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
)

// TestAudienceMatrix posts with each scope through the compose form and checks who
// sees each post on every page: logged out, an employee of the department, and an
// employee of another department (a second instance of the company).
func TestAudienceMatrix(t *testing.T) { eachDatabase(t, testAudienceMatrix) }

func testAudienceMatrix(t *testing.T, opts instancetest.Options) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 2, opts)
	a, other := insts[0], insts[1]
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
	a.CreateUser(t, "bob", instancetest.UserOptions{})
	carol := other.CreateUser(t, "carol", instancetest.UserOptions{})

	// Carol follows Alice from the other department, so that Alice's posts are
	// delivered there.
	aliceThere, err := other.Federator.ResolveAccount(ctx, "alice@"+a.Host())
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Community.Follow(ctx, carol.Account, aliceThere.ID, community.FollowOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "carol's follow to be accepted", func() bool {
		rel, err := other.Community.Relationship(ctx, carol.Account.ID, aliceThere.ID)
		return err == nil && rel.Following
	})

	// Each text starts with words that pages show as typed (the hashtag becomes a link).
	texts := map[community.Scope]string{
		community.ScopeDepartment: "departmentsecret about #audiencetest",
		community.ScopeCompany:    "companywide news about #audiencetest",
		community.ScopeWorld:      "worldwide hello about #audiencetest",
	}
	shows := func(body string, sc community.Scope) bool {
		return strings.Contains(body, strings.Split(texts[sc], " about")[0])
	}
	author := newBrowser(t, a)
	author.signIn("alice")
	for _, sc := range []community.Scope{community.ScopeDepartment, community.ScopeCompany, community.ScopeWorld} {
		if p := author.compose(texts[sc], string(sc), "public"); p.Code != http.StatusSeeOther {
			t.Fatalf("compose %s: %d\n%s", sc, p.Code, p.Body)
		}
	}
	paths := map[community.Scope]string{}
	list, err := a.Community.AccountStatuses(ctx, community.AsAccount(alice.Account), alice.Account.ID, community.AccountStatusesQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range list.Statuses {
		if st.Scope == "" || texts[st.Scope] == "" {
			t.Fatalf("unexpected post %+v", st)
		}
		paths[st.Scope] = "/@alice/" + community.FormatID(st.ID)
	}
	if len(paths) != 3 {
		t.Fatalf("alice has %d posts of distinct scopes, want 3", len(paths))
	}
	// Every post shows its audience in words, on the author's own timeline.
	home := author.get("/")
	for _, want := range []string{"People in this department only", "Everyone in the company, all departments", "Anyone, also outside the company"} {
		if !strings.Contains(home.Body, want) {
			t.Errorf("home timeline does not say %q", want)
		}
	}

	anon := newBrowser(t, a)
	colleague := newBrowser(t, a)
	colleague.signIn("bob")
	sees := map[string]map[community.Scope]bool{
		"logged out": {community.ScopeWorld: true},
		"colleague":  {community.ScopeWorld: true, community.ScopeCompany: true, community.ScopeDepartment: true},
	}
	for who, b := range map[string]*browser{"logged out": anon, "colleague": colleague} {
		for sc, path := range paths {
			p := b.get(path)
			if want := sees[who][sc]; (p.Code == http.StatusOK) != want {
				t.Errorf("%s, %s post page: %d, want visible=%v", who, sc, p.Code, want)
			}
			if !sees[who][sc] && (shows(p.Body, sc) || p.Body != b.get("/@alice/1").Body) {
				t.Errorf("%s, %s post: the 404 differs from a post that does not exist", who, sc)
			}
		}
		lists := []string{"/tags/audiencetest"}
		if who == "logged out" {
			// In company mode people's profiles are for the company only.
			if p := b.get("/@alice"); p.Code != http.StatusNotFound {
				t.Errorf("logged out, profile: %d, want 404", p.Code)
			}
			lists = append(lists, "/")
		} else {
			lists = append(lists, "/@alice", "/timelines/department", "/timelines/company")
		}
		for _, path := range lists {
			p := b.get(path)
			for sc := range texts {
				if shows(p.Body, sc) != sees[who][sc] {
					t.Errorf("%s, %s: shows %s post = %v, want %v", who, path, sc, !sees[who][sc], sees[who][sc])
				}
			}
		}
	}
	world := colleague.get("/timelines/world").Body
	if !shows(world, community.ScopeWorld) || shows(world, community.ScopeCompany) || shows(world, community.ScopeDepartment) {
		t.Error("the world timeline does not show exactly the world-scope post")
	}
	// The OpenGraph preview of a public page.
	if p := anon.get(paths[community.ScopeWorld]); !strings.Contains(p.Body, `property="og:description" content="worldwide hello about #audiencetest"`) {
		t.Errorf("status page has no OpenGraph description:\n%s", p.Body)
	}

	// The other department: the company and world posts arrive, the department's never.
	reader := newBrowser(t, other)
	reader.signIn("carol")
	eventually.Holds(t, "the company post to reach the other department", func() bool {
		body := reader.get("/").Body
		return shows(body, community.ScopeWorld) && shows(body, community.ScopeCompany)
	})
	eventually.Holds(t, "the delivery queues to drain", func() bool {
		for _, inst := range insts {
			var n int64
			if err := inst.DB.Table("queue_jobs").Count(&n).Error; err != nil || n > 0 {
				return false
			}
		}
		return true
	})
	handle := "/@alice@" + a.Host()
	for _, path := range []string{"/", handle, "/timelines/company", "/tags/audiencetest"} {
		p := reader.get(path)
		if shows(p.Body, community.ScopeDepartment) {
			t.Errorf("other department, %s: shows the department post", path)
		}
		if path != "/timelines/company" && !shows(p.Body, community.ScopeCompany) {
			t.Errorf("other department, %s: does not show the company post", path)
		}
	}
	// The department post's address answers 404 there, and the company post's page
	// there is for the company's people only.
	if p := reader.get(handle + strings.TrimPrefix(paths[community.ScopeDepartment], "/@alice")); p.Code != http.StatusNotFound {
		t.Errorf("other department, department post's address: %d", p.Code)
	}
	st, err := other.Community.Unchecked().StatusByURI(ctx, a.Community.StatusURI("alice", mustID(t, paths[community.ScopeCompany])))
	if err != nil {
		t.Fatalf("the company post is not stored in the other department: %v", err)
	}
	there := handle + "/" + community.FormatID(st.ID)
	if p := reader.get(there); p.Code != http.StatusOK || !shows(p.Body, community.ScopeCompany) {
		t.Errorf("other department, company post page: %d", p.Code)
	}
	if p := newBrowser(t, other).get(there); p.Code != http.StatusNotFound {
		t.Errorf("other department, logged out, company post page: %d", p.Code)
	}
}

func mustID(t *testing.T, path string) int64 {
	t.Helper()
	id, ok := community.ParseID(path[strings.LastIndexByte(path, '/')+1:])
	if !ok {
		t.Fatalf("no id in %s", path)
	}
	return id
}

// TestOpenModeProfile: in open mode profiles are public, and show a logged-out
// visitor only the world-scope posts.
func TestOpenModeProfile(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) { c.Federation.Mode = config.FederationOpen }})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	inst.PostStatus(t, alice.Token, url.Values{"status": {"openworld post"}, "scope": {"world"}})
	inst.PostStatus(t, alice.Token, url.Values{"status": {"opencompany post"}, "scope": {"company"}})
	p := newBrowser(t, inst).get("/@alice")
	if p.Code != http.StatusOK || !strings.Contains(p.Body, "openworld post") || strings.Contains(p.Body, "opencompany post") {
		t.Fatalf("logged-out profile in open mode: %d\n%s", p.Code, p.Body)
	}
	if !strings.Contains(p.Body, `property="og:type" content="profile"`) {
		t.Error("profile page has no OpenGraph tags")
	}
}
