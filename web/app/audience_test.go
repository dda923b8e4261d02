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
	insts := instancetest.StartCompany(t, 2, opts)
	w := &audienceMatrix{ctx: context.Background(), insts: insts, a: insts[0], other: insts[1]}
	w.alice = w.a.CreateUser(t, "alice", instancetest.UserOptions{})
	w.a.CreateUser(t, "bob", instancetest.UserOptions{})
	w.carol = w.other.CreateUser(t, "carol", instancetest.UserOptions{})

	w.carolFollows(t)
	w.compose(t)
	w.inTheDepartment(t)
	w.otherDepartment(t)
}

// audienceMatrix is what testAudienceMatrix's steps share: the two departments,
// alice and carol, and alice's three posts by scope.
type audienceMatrix struct {
	ctx          context.Context
	insts        []*instancetest.Instance
	a, other     *instancetest.Instance
	alice, carol *instancetest.User
	texts        map[community.Scope]string
	paths        map[community.Scope]string // each post's page on a
}

// shows tells whether a page's body shows the post of scope sc.
func (w *audienceMatrix) shows(body string, sc community.Scope) bool {
	return strings.Contains(body, strings.Split(w.texts[sc], " about")[0])
}

// Carol follows Alice from the other department, so that Alice's posts are
// delivered there.
func (w *audienceMatrix) carolFollows(t *testing.T) {
	aliceThere, err := w.other.Federator.ResolveAccount(w.ctx, "alice@"+w.a.Host())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.other.Community.Follow(w.ctx, w.carol.Account, aliceThere.ID, community.FollowOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "carol's follow to be accepted", func() bool {
		rel, err := w.other.Community.Relationship(w.ctx, w.carol.Account.ID, aliceThere.ID)
		return err == nil && rel.Following
	})
}

// Alice posts with each scope through the compose form.
func (w *audienceMatrix) compose(t *testing.T) {
	// Each text starts with words that pages show as typed (the hashtag becomes a link).
	w.texts = map[community.Scope]string{
		community.ScopeDepartment: "departmentsecret about #audiencetest",
		community.ScopeCompany:    "companywide news about #audiencetest",
		community.ScopeWorld:      "worldwide hello about #audiencetest",
	}
	author := newBrowser(t, w.a)
	author.signIn("alice")
	for _, sc := range []community.Scope{community.ScopeDepartment, community.ScopeCompany, community.ScopeWorld} {
		if p := author.compose(w.texts[sc], string(sc), "public"); p.Code != http.StatusSeeOther {
			t.Fatalf("compose %s: %d\n%s", sc, p.Code, p.Body)
		}
	}
	w.paths = map[community.Scope]string{}
	list, err := w.a.Community.AccountStatuses(w.ctx, community.AsAccount(w.alice.Account), w.alice.Account.ID, community.AccountStatusesQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range list.Statuses {
		if st.Scope == "" || w.texts[st.Scope] == "" {
			t.Fatalf("unexpected post %+v", st)
		}
		w.paths[st.Scope] = "/@alice/" + community.FormatID(st.ID)
	}
	if len(w.paths) != 3 {
		t.Fatalf("alice has %d posts of distinct scopes, want 3", len(w.paths))
	}
	// Every post shows its audience in words, on the author's own timeline.
	home := author.get("/")
	for _, want := range []string{"People in this department only", "Everyone in the company, all departments", "Anyone, also outside the company"} {
		if !strings.Contains(home.Body, want) {
			t.Errorf("home timeline does not say %q", want)
		}
	}
}

// In alice's department: a logged-out visitor sees the world post alone, a colleague
// all three, on the posts' pages and on every list.
func (w *audienceMatrix) inTheDepartment(t *testing.T) {
	anon := newBrowser(t, w.a)
	colleague := newBrowser(t, w.a)
	colleague.signIn("bob")
	sees := map[string]map[community.Scope]bool{
		"logged out": {community.ScopeWorld: true},
		"colleague":  {community.ScopeWorld: true, community.ScopeCompany: true, community.ScopeDepartment: true},
	}
	for who, b := range map[string]*browser{"logged out": anon, "colleague": colleague} {
		for sc, path := range w.paths {
			p := b.get(path)
			if want := sees[who][sc]; (p.Code == http.StatusOK) != want {
				t.Errorf("%s, %s post page: %d, want visible=%v", who, sc, p.Code, want)
			}
			if !sees[who][sc] && (w.shows(p.Body, sc) || p.Body != b.get("/@alice/1").Body) {
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
			for sc := range w.texts {
				if w.shows(p.Body, sc) != sees[who][sc] {
					t.Errorf("%s, %s: shows %s post = %v, want %v", who, path, sc, !sees[who][sc], sees[who][sc])
				}
			}
		}
	}
	world := colleague.get("/timelines/world").Body
	if !w.shows(world, community.ScopeWorld) || w.shows(world, community.ScopeCompany) || w.shows(world, community.ScopeDepartment) {
		t.Error("the world timeline does not show exactly the world-scope post")
	}
	// The OpenGraph preview of a public page.
	if p := anon.get(w.paths[community.ScopeWorld]); !strings.Contains(p.Body, `property="og:description" content="worldwide hello about #audiencetest"`) {
		t.Errorf("status page has no OpenGraph description:\n%s", p.Body)
	}
}

// The other department: the company and world posts arrive, the department's never.
func (w *audienceMatrix) otherDepartment(t *testing.T) {
	reader := newBrowser(t, w.other)
	reader.signIn("carol")
	eventually.Holds(t, "the company post to reach the other department", func() bool {
		body := reader.get("/").Body
		return w.shows(body, community.ScopeWorld) && w.shows(body, community.ScopeCompany)
	})
	eventually.Holds(t, "the delivery queues to drain", func() bool {
		for _, inst := range w.insts {
			var n int64
			if err := inst.DB.Table("queue_jobs").Count(&n).Error; err != nil || n > 0 {
				return false
			}
		}
		return true
	})
	handle := "/@alice@" + w.a.Host()
	for _, path := range []string{"/", handle, "/timelines/company", "/tags/audiencetest"} {
		p := reader.get(path)
		if w.shows(p.Body, community.ScopeDepartment) {
			t.Errorf("other department, %s: shows the department post", path)
		}
		if path != "/timelines/company" && !w.shows(p.Body, community.ScopeCompany) {
			t.Errorf("other department, %s: does not show the company post", path)
		}
	}
	// The department post's address answers 404 there, and the company post's page
	// there is for the company's people only.
	if p := reader.get(handle + strings.TrimPrefix(w.paths[community.ScopeDepartment], "/@alice")); p.Code != http.StatusNotFound {
		t.Errorf("other department, department post's address: %d", p.Code)
	}
	st, err := w.other.Community.Unchecked().StatusByURI(w.ctx, w.a.Community.StatusURI("alice", mustID(t, w.paths[community.ScopeCompany])))
	if err != nil {
		t.Fatalf("the company post is not stored in the other department: %v", err)
	}
	there := handle + "/" + community.FormatID(st.ID)
	if p := reader.get(there); p.Code != http.StatusOK || !w.shows(p.Body, community.ScopeCompany) {
		t.Errorf("other department, company post page: %d", p.Code)
	}
	if p := newBrowser(t, w.other).get(there); p.Code != http.StatusNotFound {
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
