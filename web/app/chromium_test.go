package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
	"github.com/tacit-social/tacit/web/browsertest"
)

// TestWebAppInBrowser uses the web app in a real browser on a company of three
// departments (instances): a person signs in and posts with each audience using the
// keyboard alone, every page is checked with axe-core at desktop and phone sizes in
// light and dark, and a person of another department sees the company post but not
// the department one, whose address there answers the 404 page. With
// TACIT_SCREENSHOTS=docs/screenshots it also refreshes the pictures of the docs.
func TestWebAppInBrowser(t *testing.T) {
	b := browsertest.New(t)
	insts := instancetest.StartCompany(t, 3, instancetest.Options{})
	w := &webAppInBrowser{b: b, ctx: context.Background(), a: insts[0], other: insts[1]}
	w.alice = w.a.CreateUser(t, "alice", instancetest.UserOptions{})
	w.dana = w.a.CreateUser(t, "dana", instancetest.UserOptions{})
	w.bob = w.other.CreateUser(t, "bob", instancetest.UserOptions{})

	w.bobFollows(t)
	w.signedOut(t)
	w.composeEachAudience(t)
	w.colleague(t)
	w.signedInPages(t)
	w.otherDepartment(t)
	w.landing(t)
}

// webAppInBrowser is what TestWebAppInBrowser's steps share: the browser, alice's
// department and another one, the people, and alice's posts.
type webAppInBrowser struct {
	b                *browsertest.Browser
	ctx              context.Context
	a, other         *instancetest.Instance
	alice, dana, bob *instancetest.User
	posts            map[community.Scope]string // the id of each post on Alice's instance
}

// Bob follows Alice from the other department, so that her posts are delivered
// there.
func (w *webAppInBrowser) bobFollows(t *testing.T) {
	aliceThere, err := w.other.Federator.ResolveAccount(w.ctx, "alice@"+w.a.Host())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.other.Community.Follow(w.ctx, w.bob.Account, aliceThere.ID, community.FollowOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "bob's follow to be accepted", func() bool {
		rel, err := w.other.Community.Relationship(w.ctx, w.bob.Account.ID, aliceThere.ID)
		return err == nil && rel.Following
	})
}

// Signed out: the sign-in page and the 404 page (the landing page comes last, with
// posts to show).
func (w *webAppInBrowser) signedOut(t *testing.T) {
	visit(t, w.b, w.a.URL+"/login", http.StatusOK, "login", true)
	visit(t, w.b, w.a.URL+"/@nobody/1", http.StatusNotFound, "not-found", true)
}

// Sign in and post with each audience, with the keyboard alone.
func (w *webAppInBrowser) composeEachAudience(t *testing.T) {
	signInByKeyboard(t, w.b, w.a.URL, "alice")
	texts := map[community.Scope]string{
		community.ScopeDepartment: "Departmentsecret: the #kubernetes upgrade runs on Thursday night.",
		community.ScopeCompany:    "Companywide: our #kubernetes autoscaling notes are in the handbook.",
		community.ScopeWorld:      "Worldwide: we are hiring people who love #kubernetes.",
	}
	scopes := []community.Scope{community.ScopeDepartment, community.ScopeCompany, community.ScopeWorld}
	for _, sc := range scopes {
		composeByKeyboard(t, w.b, texts[sc], string(sc))
	}
	w.posts = map[community.Scope]string{}
	list, err := w.a.Community.AccountStatuses(w.ctx, community.AsAccount(w.alice.Account), w.alice.Account.ID, community.AccountStatusesQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range list.Statuses {
		w.posts[st.Scope] = community.FormatID(st.ID)
	}
	for _, sc := range scopes {
		if w.posts[sc] == "" {
			t.Fatalf("no %s post after composing with the keyboard; posts: %v", sc, w.posts)
		}
	}
}

// A colleague's reply, follow, favourite and mention fill the thread and the
// notifications; a bookmark fills the bookmarks.
func (w *webAppInBrowser) colleague(t *testing.T) {
	reply := w.a.PostStatus(t, w.dana.Token, url.Values{
		"status": {"@alice Thanks! Our #kubernetes cluster needed exactly that."}, "in_reply_to_id": {w.posts[community.ScopeCompany]}, "scope": {"company"},
	})
	for _, path := range []string{
		"/api/v1/accounts/" + strconv.FormatInt(w.alice.Account.ID, 10) + "/follow",
		"/api/v1/statuses/" + w.posts[community.ScopeCompany] + "/favourite",
	} {
		if ans := w.a.Call(t, http.MethodPost, path, w.dana.Token, nil); ans.Code != http.StatusOK {
			t.Fatalf("POST %s: %d %s", path, ans.Code, ans.Body)
		}
	}
	if ans := w.a.Call(t, http.MethodPost, "/api/v1/statuses/"+reply.ID+"/bookmark", w.alice.Token, nil); ans.Code != http.StatusOK {
		t.Fatalf("bookmark: %d %s", ans.Code, ans.Body)
	}
	w.a.SyncSearch(t)
}

// Every page alice sees signed in, checked and, for the docs' main pages, pictured.
func (w *webAppInBrowser) signedInPages(t *testing.T) {
	signedInPages := []struct {
		path, name string
		screenshot bool
	}{
		{"/", "home", true},
		{"/timelines/department", "timeline-department", true},
		{"/timelines/company", "timeline-company", true},
		{"/timelines/world", "timeline-world", true},
		{"/@alice/" + w.posts[community.ScopeCompany], "post", true},
		{"/statuses/" + w.posts[community.ScopeCompany] + "/edit", "edit", false},
		{"/@alice", "profile", true},
		{"/@dana", "profile-other", false},
		{"/tags/kubernetes", "tag", true},
		{"/notifications", "notifications", true},
		{"/bookmarks", "bookmarks", false},
		{"/experts?q=kubernetes", "experts", true},
		{"/settings", "settings", true},
	}
	for _, p := range signedInPages {
		visit(t, w.b, w.a.URL+p.path, http.StatusOK, p.name, p.screenshot)
	}
	visit(t, w.b, w.a.URL+"/@nobody/1", http.StatusNotFound, "not-found-signed-in", false)
}

// Another department: Bob sees the company post on Alice's profile there, never
// the department post, whose address answers the 404 page.
func (w *webAppInBrowser) otherDepartment(t *testing.T) {
	signInByKeyboard(t, w.b, w.other.URL, "bob")
	profile := w.other.URL + "/@alice@" + w.a.Host()
	eventually.Holds(t, "the company post to reach the other department", func() bool {
		browsertest.Run(w.b, chromedp.Navigate(profile))
		return pageShows(w.b, "Companywide:")
	})
	if pageShows(w.b, "Departmentsecret") {
		t.Error("the other department shows the department post on alice's profile")
	}
	browsertest.Run(w.b, chromedp.Navigate(w.other.URL+"/timelines/company"))
	if pageShows(w.b, "Departmentsecret") {
		t.Error("the other department's company timeline shows the department post")
	}
	visit(t, w.b, profile+"/"+w.posts[community.ScopeDepartment], http.StatusNotFound, "", false)
	if pageShows(w.b, "Departmentsecret") || !pageShows(w.b, "This page does not exist, or you may not see it.") {
		t.Error("the department post's address in the other department does not show the 404 page")
	}
}

// Signed out of Alice's instance (the browser's session cookie is now Bob's, and
// both instances share the host name 127.0.0.1), its landing page shows the world
// post only.
func (w *webAppInBrowser) landing(t *testing.T) {
	visit(t, w.b, w.a.URL+"/", http.StatusOK, "landing", true)
	if !pageShows(w.b, "Worldwide:") || pageShows(w.b, "Companywide:") || pageShows(w.b, "Departmentsecret") {
		t.Error("the landing page does not show exactly the world post")
	}
}

// visit opens url, checks the answer's status and, when name is not empty, checks the
// page with axe-core at every size and colour scheme and, for the docs' main pages
// (screenshot), takes its pictures at desktop and phone sizes.
func visit(t *testing.T, b *browsertest.Browser, url string, status int64, name string, screenshot bool) {
	t.Helper()
	resp := browsertest.Run(b, chromedp.NavigateResponse(url))
	if resp.Status != status {
		t.Fatalf("GET %s: %d, want %d", url, resp.Status, status)
	}
	if name == "" {
		return
	}
	b.CheckAccessibilityEverywhere(name + " (" + url + ")")
	if !screenshot {
		return
	}
	for _, v := range browsertest.Viewports {
		b.SetViewport(v)
		b.Screenshot("web-" + name + "-" + v.Name)
	}
	b.SetViewport(browsertest.Desktop)
}

// pageShows reports whether the page's text contains s.
func pageShows(b *browsertest.Browser, s string) bool {
	return browsertest.Run(b, chromedp.Evaluate[bool](`document.body.innerText.includes(`+strconv.Quote(s)+`)`))
}

// activeElement describes the element with the keyboard focus as "tag name value".
func activeElement(b *browsertest.Browser) string {
	return browsertest.Run(b, chromedp.Evaluate[string](
		`(e => e ? [e.tagName.toLowerCase(), e.name || "", e.value || ""].join(" ") : "")(document.activeElement)`))
}

// tabTo presses Tab until the focus is on an element whose description (see
// activeElement) starts with want, and fails the test when it never gets there.
func tabTo(t *testing.T, b *browsertest.Browser, want string) {
	t.Helper()
	for range 40 {
		if strings.HasPrefix(activeElement(b), want) {
			return
		}
		b.Do(chromedp.KeyEvent("\t"))
	}
	t.Fatalf("Tab never reaches %q; the focus is on %q", want, activeElement(b))
}

// waitFor waits until the JavaScript expression is true in the page, across the
// navigation a form submission causes.
func waitFor(t *testing.T, b *browsertest.Browser, what, expression string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.Context(), 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expression))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("waiting for %s: the page at %s never got there", what, browsertest.Run(b, chromedp.Location()))
}

// signInByKeyboard signs in on the instance at base with Tab, typing and Enter only.
func signInByKeyboard(t *testing.T, b *browsertest.Browser, base, username string) {
	t.Helper()
	b.Do(chromedp.Navigate(base + "/login"))
	tabTo(t, b, "input login")
	b.Do(chromedp.KeyEvent(username), chromedp.KeyEvent("\t"))
	if got := activeElement(b); !strings.HasPrefix(got, "input password") {
		t.Fatalf("Tab from the login field leads to %q, want the password", got)
	}
	b.Do(chromedp.KeyEvent(instancetest.Password(username)), chromedp.KeyEvent("\r"))
	waitFor(t, b, "the home page after signing in", `!!document.querySelector("textarea[name=text]")`)
}

// composeByKeyboard writes a post on the home page and picks its audience with the
// keyboard alone: Tab to the text, type, Tab to the audience, arrow keys to choose,
// Tab to the button, Enter.
func composeByKeyboard(t *testing.T, b *browsertest.Browser, text, scope string) {
	t.Helper()
	b.Do(chromedp.Reload())
	tabTo(t, b, "textarea text")
	b.Do(chromedp.KeyEvent(text))
	tabTo(t, b, "input scope")
	for range 3 {
		if activeElement(b) == "input scope "+scope {
			break
		}
		b.Do(chromedp.KeyEvent(kb.ArrowDown))
	}
	if got := activeElement(b); got != "input scope "+scope {
		t.Fatalf("the arrow keys do not reach the %s audience; the focus is on %q", scope, got)
	}
	tabTo(t, b, "button")
	b.Do(chromedp.KeyEvent("\r"))
	waitFor(t, b, "the new post on the home page",
		`[...document.querySelectorAll("article.status .content")].some(e => e.textContent.includes(`+strconv.Quote(text[:20])+`))`)
}
