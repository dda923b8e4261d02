package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/web/app"
)

// TestPostActions: favourite, boost, bookmark, reply and delete through plain forms
// (redirect back) and through htmx (the changed post comes back as a fragment).
func TestPostActions(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	ctx := context.Background()
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	bob := inst.CreateUser(t, "bob", instancetest.UserOptions{})
	posted := inst.PostStatus(t, alice.Token, url.Values{"status": {"a post to act on"}, "scope": {"company"}})
	path := "/@alice/" + posted.ID

	b := newBrowser(t, inst)
	b.signIn("bob")
	token := b.csrf(path)
	act := func(action string, headers ...string) page {
		t.Helper()
		return b.post("/statuses/"+posted.ID+"/"+action, url.Values{"csrf": {token}, "back": {path}}, headers...)
	}
	for _, action := range []string{"favourite", "reblog", "bookmark"} {
		if p := act(action); p.Code != http.StatusSeeOther || p.Header.Get("Location") != path {
			t.Fatalf("%s: %d to %q", action, p.Code, p.Header.Get("Location"))
		}
	}
	id := mustID(t, path)
	d, err := inst.Community.RelationsOf(ctx, []int64{bob.Account.ID}, []int64{id}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := d[bob.Account.ID]; r == nil || !r.Favourited[id] || !r.Reblogged[id] || !r.Bookmarked[id] {
		t.Fatalf("after the forms, bob's relations to the post: %+v", r)
	}
	if p := b.get("/bookmarks"); !strings.Contains(p.Body, "a post to act on") {
		t.Error("the bookmarks page does not show the bookmarked post")
	}
	p := b.get(path)
	for _, want := range []string{"Remove favourite", "Undo boost", "Remove bookmark", "1 favourites, 1 boosts"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("post page after the actions lacks %q", want)
		}
	}

	// htmx: the answer is the post alone, with the button turned.
	frag := act("unfavourite", "HX-Request", "true")
	if frag.Code != http.StatusOK || !strings.HasPrefix(frag.Body, `<article class="status"`) ||
		strings.Contains(frag.Body, "<html") || !strings.Contains(frag.Body, ">Favourite<") {
		t.Fatalf("htmx unfavourite: %d\n%s", frag.Code, frag.Body)
	}

	// A reply through the form on the post's page.
	reply := b.post("/statuses", url.Values{"csrf": {token}, "text": {"@alice a reply from the web"},
		"in_reply_to_id": {posted.ID}, "scope": {"world"}, "visibility": {"public"}, "back": {path}})
	if reply.Code != http.StatusSeeOther || reply.Header.Get("Location") != path {
		t.Fatalf("reply: %d %q\n%s", reply.Code, reply.Header.Get("Location"), reply.Body)
	}
	thread := b.get(path).Body
	if !strings.Contains(thread, "a reply from the web") {
		t.Fatal("the thread does not show the reply")
	}
	// The reply asked for world scope but answers a company post: the domain narrowed
	// it, and the page says so.
	if strings.Count(thread, `class="audience audience-company"><span class="visually-hidden">Who can read this: </span>Everyone in the company, all departments<`) != 2 ||
		strings.Contains(thread, `class="audience audience-world"`) {
		t.Errorf("the reply's audience is not shown as the company's:\n%s", thread)
	}

	// Only the author may delete; anyone else gets 404 and the post stays.
	if p := act("delete"); p.Code != http.StatusNotFound {
		t.Fatalf("bob deletes alice's post: %d", p.Code)
	}
	author := newBrowser(t, inst)
	author.signIn("alice")
	if p := author.post("/statuses/"+posted.ID+"/delete", url.Values{"csrf": {author.csrf(path)}, "back": {path}}); p.Code != http.StatusSeeOther || p.Header.Get("Location") != "/" {
		t.Fatalf("alice deletes her post from its page: %d to %q", p.Code, p.Header.Get("Location"))
	}
	if p := b.get(path); p.Code != http.StatusNotFound {
		t.Fatalf("deleted post's page: %d", p.Code)
	}
	if p := act("frobnicate"); p.Code != http.StatusNotFound {
		t.Errorf("unknown action: %d", p.Code)
	}
}

func TestComposeRefused(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	inst.CreateUser(t, "alice", instancetest.UserOptions{})
	b := newBrowser(t, inst)
	b.signIn("alice")
	long := strings.Repeat("x", community.MaxStatusChars+1)
	p := b.compose(long, "company", "public")
	if p.Code != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "character limit") || !strings.Contains(p.Body, long) {
		t.Fatalf("too long a post: %d (the form should come back with the text and the reason)\n%s", p.Code, p.Body)
	}
	if p := b.compose("scope nonsense", "galaxy", "public"); p.Code != http.StatusUnprocessableEntity {
		t.Fatalf("unknown scope: %d", p.Code)
	}
}

func TestFollowNotificationsSettings(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	ctx := context.Background()
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	inst.CreateUser(t, "bob", instancetest.UserOptions{})
	b := newBrowser(t, inst)
	b.signIn("bob")

	profile := b.get("/@alice")
	if !strings.Contains(profile.Body, ">Follow<") {
		t.Fatalf("profile has no follow button:\n%s", profile.Body)
	}
	follow := b.post("/accounts/"+community.FormatID(alice.Account.ID)+"/follow", url.Values{"csrf": {b.csrf("/@alice")}, "back": {"/@alice"}})
	if follow.Code != http.StatusSeeOther || follow.Header.Get("Location") != "/@alice" {
		t.Fatalf("follow: %d", follow.Code)
	}
	if !strings.Contains(b.get("/@alice").Body, ">Unfollow<") {
		t.Fatal("after following, the profile offers no unfollow")
	}

	// Alice is told, on her notifications page.
	a := newBrowser(t, inst)
	a.signIn("alice")
	if n := a.get("/notifications"); !strings.Contains(n.Body, "followed you") {
		t.Fatalf("alice's notifications do not show the follow:\n%s", n.Body)
	}

	// Settings: the profile and the default audience.
	p := a.post("/settings", url.Values{"csrf": {a.csrf("/settings")}, "display_name": {"Alice Martin"},
		"note": {"Builds the search"}, "default_scope": {"department"}, "expertise": {"Go, search engines"}})
	if p.Code != http.StatusSeeOther {
		t.Fatalf("save settings: %d\n%s", p.Code, p.Body)
	}
	user, acct, err := inst.Community.Unchecked().UserByID(ctx, mustUserID(t, inst, alice.Account.ID))
	if err != nil {
		t.Fatal(err)
	}
	if acct.DisplayName != "Alice Martin" || acct.NoteSource != "Builds the search" || user.DefaultScope != community.ScopeDepartment ||
		strings.Join(acct.Expertise, "|") != "Go|search engines" {
		t.Fatalf("settings saved as %q %q %q %v", acct.DisplayName, acct.NoteSource, user.DefaultScope, acct.Expertise)
	}
	// The compose box now starts with the department picked.
	if !regexp.MustCompile(`value="department" checked`).MatchString(a.get("/").Body) {
		t.Error("compose does not start with the default audience")
	}
	if p := b.get("/@alice"); !strings.Contains(p.Body, "search engines") || !strings.Contains(p.Body, "Knows about") {
		t.Error("the profile does not show the expertise")
	}
	if p := a.post("/settings", url.Values{"csrf": {a.csrf("/settings")}, "display_name": {strings.Repeat("n", 31)}}); p.Code != http.StatusUnprocessableEntity {
		t.Errorf("too long a display name: %d", p.Code)
	}
}

func TestExperts(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	inst.CreateUser(t, "bob", instancetest.UserOptions{})
	inst.PostStatus(t, alice.Token, url.Values{"status": {"How we tune #kubernetes autoscaling"}, "scope": {"company"}})
	inst.PostStatus(t, alice.Token, url.Values{"status": {"More #kubernetes notes"}, "scope": {"company"}})
	inst.SyncSearch(t)

	b := newBrowser(t, inst)
	b.signIn("bob")
	p := b.get("/experts?q=kubernetes")
	if p.Code != http.StatusOK || !strings.Contains(p.Body, "@alice") || !strings.Contains(p.Body, "autoscaling") {
		t.Fatalf("experts on kubernetes: %d\n%s", p.Code, p.Body)
	}
	if !strings.Contains(p.Body, `name="text" value="Who knows about kubernetes? "`) {
		t.Error("no button to ask the question as a post")
	}
	if ask := b.get("/?text=" + url.QueryEscape("Who knows about kubernetes? ")); !strings.Contains(ask.Body, ">Who knows about kubernetes? </textarea>") {
		t.Error("the question does not arrive in the compose box")
	}
	if p := newBrowser(t, inst).get("/experts?q=kubernetes"); p.Code != http.StatusSeeOther {
		t.Errorf("logged-out experts: %d, want a redirect to sign in", p.Code)
	}
}

// TestExpertsOpenQuestions: the experts page lists the questions on the topic that
// nobody answered, and drops one once it has a reply; statements and posts the reader
// may not see are never listed.
func TestExpertsOpenQuestions(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	carol := inst.CreateUser(t, "carol", instancetest.UserOptions{})
	dave := inst.CreateUser(t, "dave", instancetest.UserOptions{})
	inst.CreateUser(t, "bob", instancetest.UserOptions{})
	inst.PostStatus(t, carol.Token, url.Values{"status": {"Who can review our #kubernetes ingress rules?"}, "scope": {"company"}})
	answered := inst.PostStatus(t, carol.Token, url.Values{"status": {"Why does #kubernetes restart the billing pods?"}, "scope": {"company"}})
	inst.PostStatus(t, dave.Token, url.Values{"status": {"OOM kills: raise the limits"}, "in_reply_to_id": {answered.ID}, "scope": {"company"}})
	inst.PostStatus(t, carol.Token, url.Values{"status": {"Our #kubernetes upgrade went fine."}, "scope": {"company"}})
	inst.PostStatus(t, dave.Token, url.Values{"status": {"Is #kubernetes 1.33 safe for us?"}, "visibility": {"direct"}})
	inst.SyncSearch(t)

	b := newBrowser(t, inst)
	b.signIn("bob")
	p := b.get("/experts?q=kubernetes")
	if p.Code != http.StatusOK || !strings.Contains(p.Body, "Open questions about") {
		t.Fatalf("experts page: %d, no open questions\n%s", p.Code, p.Body)
	}
	questions := p.Body[strings.Index(p.Body, "Open questions about"):]
	if !strings.Contains(questions, "ingress rules?") {
		t.Error("the unanswered question is not listed")
	}
	for _, not := range []string{"billing pods?", "upgrade went fine", "1.33 safe"} {
		if strings.Contains(questions, not) {
			t.Errorf("%q is listed among the open questions", not)
		}
	}
}

// TestMessageKeys: every text a template or handler names is in the catalog.
func TestMessageKeys(t *testing.T) {
	// Keys with a dot and not ending in one: prefixes completed at run time are
	// checked below, value by value.
	key := regexp.MustCompile(`\bt "([a-z_]+\.[a-z_.]*[a-z_])"|\bT\("([a-z_]+\.[a-z_.]*[a-z_])"`)
	files, _ := filepath.Glob("templates/*.html")
	gofiles, _ := filepath.Glob("*.go")
	seen := 0
	for _, f := range append(files, gofiles...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range key.FindAllStringSubmatch(string(b), -1) {
			k := m[1] + m[2]
			seen++
			if app.T(k) == k {
				t.Errorf("%s: message %q is not in the catalog", f, k)
			}
		}
	}
	if seen < 50 {
		t.Fatalf("found only %d message keys: the pattern no longer matches the templates", seen)
	}
	var dynamic []string
	for _, sc := range []string{"department", "company", "world"} {
		dynamic = append(dynamic, "audience."+sc, "audience.private."+sc)
	}
	for _, v := range []string{"public", "unlisted", "private", "direct"} {
		dynamic = append(dynamic, "compose.visibility."+v)
	}
	for _, tl := range []string{"home", "department", "company", "world", "bookmarks"} {
		dynamic = append(dynamic, "timeline."+tl, "timeline."+tl+".lead")
	}
	for _, n := range []string{"mention", "follow", "follow_request", "favourite", "reblog", "update", "status"} {
		dynamic = append(dynamic, "notifications."+n)
	}
	for _, k := range dynamic {
		if app.T(k) == k {
			t.Errorf("message %q is not in the catalog", k)
		}
	}
}

func TestEditPost(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	inst.CreateUser(t, "bob", instancetest.UserOptions{})
	posted := inst.PostStatus(t, alice.Token, url.Values{"status": {"first words"}, "scope": {"company"}})
	path, edit := "/@alice/"+posted.ID, "/statuses/"+posted.ID+"/edit"

	a := newBrowser(t, inst)
	a.signIn("alice")
	form := a.get(edit)
	if form.Code != http.StatusOK || !strings.Contains(form.Body, ">first words</textarea>") ||
		!strings.Contains(form.Body, "Everyone in the company, all departments") {
		t.Fatalf("edit form: %d\n%s", form.Code, form.Body)
	}
	token := csrfInput.FindStringSubmatch(form.Body)[1]
	if p := a.post(edit, url.Values{"csrf": {token}, "text": {strings.Repeat("y", community.MaxStatusChars+1)}}); p.Code != http.StatusUnprocessableEntity {
		t.Fatalf("too long an edit: %d", p.Code)
	}
	if p := a.post(edit, url.Values{"csrf": {token}, "text": {"better words"}, "back": {path}}); p.Code != http.StatusSeeOther || p.Header.Get("Location") != path {
		t.Fatalf("edit: %d %q", p.Code, p.Header.Get("Location"))
	}
	if p := a.get(path); !strings.Contains(p.Body, "better words") || !strings.Contains(p.Body, "edited") {
		t.Fatal("the post page does not show the edit")
	}

	b := newBrowser(t, inst)
	b.signIn("bob")
	if p := b.get(edit); p.Code != http.StatusNotFound {
		t.Errorf("bob opens alice's edit form: %d", p.Code)
	}
	if p := b.post(edit, url.Values{"csrf": {b.csrf("/")}, "text": {"bob was here"}}); p.Code != http.StatusNotFound {
		t.Errorf("bob edits alice's post: %d", p.Code)
	}
	if p := b.get(path); strings.Contains(p.Body, "bob was here") || strings.Contains(p.Body, `/edit">Edit<`) {
		t.Error("bob changed alice's post, or is offered to")
	}
}

// TestPaging: lists page back through history with max_id links, and say when they
// reach the end.
func TestPaging(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) {
		c.InstanceName, c.InstanceDescription = "Paging dept", "Where pages are counted."
	}})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	for i := range 25 {
		inst.PostStatus(t, alice.Token, url.Values{"status": {fmt.Sprintf("numbered post %02d", i)}, "scope": {"world"}})
	}
	older := regexp.MustCompile(`href="([^"]+)" rel="next"`)
	for _, tc := range []struct{ who, path string }{{"logged out", "/"}, {"alice", "/timelines/department"}, {"alice", "/timelines/world"}, {"alice", "/@alice"}} {
		b := newBrowser(t, inst)
		if tc.who == "alice" {
			b.signIn("alice")
		}
		first := b.get(tc.path)
		if n := strings.Count(first.Body, `<article class="status"`); n != 20 || !strings.Contains(first.Body, "numbered post 24") {
			t.Fatalf("%s: first page has %d posts", tc.path, n)
		}
		if tc.path == "/" && (!strings.Contains(first.Body, "Paging dept") || !strings.Contains(first.Body, "Where pages are counted.")) {
			t.Error("the landing page does not introduce the instance")
		}
		m := older.FindStringSubmatch(first.Body)
		if m == nil {
			t.Fatalf("%s: no link to older posts", tc.path)
		}
		second := b.get(strings.ReplaceAll(m[1], "&amp;", "&"))
		if n := strings.Count(second.Body, `<article class="status"`); n != 5 || !strings.Contains(second.Body, "numbered post 00") ||
			strings.Contains(second.Body, "numbered post 05") {
			t.Errorf("%s: second page has %d posts", tc.path, n)
		}
		if older.MatchString(second.Body) || !strings.Contains(second.Body, "Back to the newest") {
			t.Errorf("%s: the last page still offers older posts, or no way back", tc.path)
		}
	}
}
