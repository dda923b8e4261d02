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
)

func TestSignInAndOut(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		inst.CreateUser(t, "alice", instancetest.UserOptions{})
		b := newBrowser(t, inst)

		if p := b.get("/"); p.Code != http.StatusOK || signedIn(p) || !strings.Contains(p.Body, `href="/login"`) {
			t.Fatalf("logged-out home: %d, signed in %v", p.Code, signedIn(p))
		}
		p := b.post("/login", url.Values{"csrf": {b.csrf("/login")}, "login": {"alice"}, "password": {"wrong password"}})
		if p.Code != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "Invalid username/email or password") {
			t.Fatalf("wrong password: %d\n%s", p.Code, p.Body)
		}
		if b.cookie("tacit_session") != nil {
			t.Fatal("a wrong password left a session cookie")
		}

		b.signIn("alice")
		if p := b.get("/"); !signedIn(p) || !strings.Contains(p.Body, "Write a post") {
			t.Fatalf("after sign-in the home page shows no signed-in person: %d\n%s", p.Code, p.Body)
		}
		old := b.cookie("tacit_session").Value

		p = b.post("/logout", url.Values{"csrf": {b.csrf("/")}})
		if p.Code != http.StatusSeeOther {
			t.Fatalf("sign out: %d", p.Code)
		}
		if p := b.get("/"); signedIn(p) {
			t.Fatal("still signed in after signing out")
		}
		// Signing out revokes the session, not only the cookie: the old value is dead.
		if _, err := inst.Auth.LookupToken(context.Background(), old); err == nil {
			t.Fatal("the session's token is still valid after signing out")
		}
		replay := newBrowser(t, inst)
		replay.http.Jar.SetCookies(mustURL(t, inst.URL), []*http.Cookie{{Name: "tacit_session", Value: old}})
		if p := replay.get("/"); signedIn(p) {
			t.Fatal("a signed-out session's cookie still signs in")
		}
	})
}

func TestSignInNext(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	inst.CreateUser(t, "alice", instancetest.UserOptions{})
	b := newBrowser(t, inst)
	if p := b.get("/notifications"); p.Code != http.StatusSeeOther || p.Header.Get("Location") != "/login?next=%2Fnotifications" {
		t.Fatalf("signed-out /notifications: %d %q", p.Code, p.Header.Get("Location"))
	}
	for next, want := range map[string]string{
		"/notifications": "/notifications", "//evil.example/": "/", "https://evil.example/": "/",
		"/\\evil.example/": "/", "/\t/evil.example/": "/", "/\n/evil.example": "/",
	} {
		b := newBrowser(t, inst)
		p := b.post("/login", url.Values{"csrf": {b.csrf("/login")}, "login": {"alice"},
			"password": {instancetest.Password("alice")}, "next": {next}})
		if p.Code != http.StatusSeeOther || p.Header.Get("Location") != want {
			t.Errorf("next=%q: %d to %q, want %q", next, p.Code, p.Header.Get("Location"), want)
		}
	}
}

func TestCSRF(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, testCSRF)
}

// otherFirst returns token with its first character changed, so that it is surely wrong.
func otherFirst(token string) string {
	if token[0] == 'x' {
		return "y" + token[1:]
	}
	return "x" + token[1:]
}

func testCSRF(t *testing.T, inst *instancetest.Instance) {
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	b := newBrowser(t, inst)
	b.signIn("alice")
	good := b.csrf("/")

	form := func(token string) url.Values {
		return url.Values{"text": {"forged post"}, "scope": {"company"}, "visibility": {"public"}, "csrf": {token}}
	}
	refused := []struct {
		name    string
		form    url.Values
		headers []string
	}{
		{"no token", url.Values{"text": {"forged post"}}, nil},
		{"wrong token", form(otherFirst(good)), nil},
		{"token of the signed-out form", form(newBrowser(t, inst).csrf("/login")), nil},
		{"other origin", form(good), []string{"Origin", "https://evil.example"}},
		{"cross-site fetch", form(good), []string{"Sec-Fetch-Site", "cross-site"}},
	}
	for _, tc := range refused {
		if p := b.post("/statuses", tc.form, tc.headers...); p.Code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", tc.name, p.Code)
		}
	}
	if p := b.post("/settings", url.Values{"display_name": {"Forged"}}); p.Code != http.StatusForbidden {
		t.Errorf("settings without token: %d, want 403", p.Code)
	}
	if p := b.post("/logout", url.Values{}); p.Code != http.StatusForbidden {
		t.Errorf("logout without token: %d, want 403", p.Code)
	}
	if p := newBrowser(t, inst).post("/login", url.Values{"login": {"alice"}, "password": {instancetest.Password("alice")}}); p.Code != http.StatusForbidden {
		t.Errorf("sign-in without token: %d, want 403", p.Code)
	}
	ctx := context.Background()
	page, err := inst.Community.AccountStatuses(ctx, community.AsAccount(alice.Account), alice.Account.ID, community.AccountStatusesQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Statuses) != 0 {
		t.Fatalf("refused forms wrote %d posts", len(page.Statuses))
	}
	_, acct, err := inst.Community.Unchecked().UserByID(ctx, mustUserID(t, inst, alice.Account.ID))
	if err != nil || acct.DisplayName == "Forged" {
		t.Fatalf("refused settings form changed the profile (%v)", err)
	}
	if !signedIn(b.get("/")) {
		t.Fatal("a refused logout signed out")
	}

	if p := b.post("/statuses", form(good), "Origin", inst.URL); p.Code != http.StatusSeeOther {
		t.Fatalf("the real form: %d\n%s", p.Code, p.Body)
	}
	page, err = inst.Community.AccountStatuses(ctx, community.AsAccount(alice.Account), alice.Account.ID, community.AccountStatusesQuery{})
	if err != nil || len(page.Statuses) != 1 {
		t.Fatalf("the real form wrote %d posts (%v)", len(page.Statuses), err)
	}
}

func TestSecurityHeaders(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	inst.CreateUser(t, "alice", instancetest.UserOptions{})
	b := newBrowser(t, inst)
	for _, path := range []string{"/", "/login", "/@alice", "/tags/golang", "/@nobody"} {
		p := b.get(path)
		csp := p.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP allows inline code: %q", path, csp)
		}
		if p.Header.Get("X-Frame-Options") != "DENY" || p.Header.Get("Referrer-Policy") == "" || p.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", path, p.Header)
		}
		// Nothing inline for the CSP to block: no style attributes or inline scripts.
		if strings.Contains(p.Body, "style=") || strings.Contains(p.Body, "<style") || strings.Contains(p.Body, "<script>") {
			t.Errorf("%s: the page has inline script or style", path)
		}
	}
	for _, asset := range []string{"/assets/app.css", "/assets/htmx.min.js"} {
		if p := b.get(asset); p.Code != http.StatusOK || p.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d", asset, p.Code)
		}
	}
	if p := b.get("/assets/../app.go"); p.Code != http.StatusNotFound {
		t.Errorf("an asset path outside the assets: %d", p.Code)
	}

	p := b.post("/login", url.Values{"csrf": {b.csrf("/login")}, "login": {"alice"}, "password": {instancetest.Password("alice")}})
	c := setCookie(t, p, "tacit_session")
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure {
		t.Errorf("session cookie over http: %+v", c)
	}
	if len(c.Value) < 40 {
		t.Errorf("session id %q is too short to be an opaque random token", c.Value)
	}
}

func TestSecureCookieUnderHTTPS(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) { c.Protocol = config.ProtocolHTTPS }})
	inst.CreateUser(t, "alice", instancetest.UserOptions{})
	b := newBrowser(t, inst)
	// The test server speaks http, so the jar would not send Secure cookies: the
	// double-submit cookie goes back by hand.
	first := b.get("/login")
	pre := setCookie(t, first, "tacit_csrf")
	if !pre.Secure || !pre.HttpOnly {
		t.Errorf("sign-in form's CSRF cookie under https: %+v", pre)
	}
	req, _ := http.NewRequest(http.MethodPost, inst.URL+"/login", strings.NewReader(url.Values{
		"csrf": {pre.Value}, "login": {"alice"}, "password": {instancetest.Password("alice")},
	}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(pre)
	p := b.do(req)
	c := setCookie(t, p, "tacit_session")
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Errorf("session cookie under https: %+v", c)
	}
}

func TestSessionEndsWithItsToken(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, testSessionEnds)
}

func testSessionEnds(t *testing.T, inst *instancetest.Instance) {
	ctx := context.Background()
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	admin := inst.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin})

	b := newBrowser(t, inst)
	b.signIn("alice")
	token := b.csrf("/")
	if _, err := inst.Auth.RevokeAccountTokens(ctx, alice.Account.ID); err != nil {
		t.Fatal(err)
	}
	if p := b.get("/"); signedIn(p) {
		t.Fatal("still signed in after the account's tokens were revoked")
	}
	if p := b.post("/statuses", url.Values{"csrf": {token}, "text": {"after revocation"}}); p.Code != http.StatusForbidden {
		t.Fatalf("a revoked session's form: %d, want 403", p.Code)
	}

	b = newBrowser(t, inst)
	b.signIn("alice")
	if _, err := inst.Community.ActOnAccount(ctx, admin.Account, alice.Account.ID, community.AccountAction{Type: community.AccountActionSuspend}); err != nil {
		t.Fatal(err)
	}
	if p := b.get("/settings"); p.Code != http.StatusSeeOther {
		t.Fatalf("a suspended account's session still opens settings: %d", p.Code)
	}
	b = newBrowser(t, inst)
	p := b.post("/login", url.Values{"csrf": {b.csrf("/login")}, "login": {"alice"}, "password": {instancetest.Password("alice")}})
	if p.Code == http.StatusSeeOther || b.cookie("tacit_session") != nil {
		t.Fatalf("a suspended account signed in: %d", p.Code)
	}
}

// TestAPITokenIsNoSession: only the web application's tokens are sessions.
func TestAPITokenIsNoSession(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	b := newBrowser(t, inst)
	b.http.Jar.SetCookies(mustURL(t, inst.URL), []*http.Cookie{{Name: "tacit_session", Value: alice.Token}})
	if p := b.get("/"); signedIn(p) {
		t.Fatal("an API token in the cookie signs in")
	}
}

func setCookie(t *testing.T, p page, name string) *http.Cookie {
	t.Helper()
	resp := http.Response{Header: p.Header}
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no Set-Cookie %s in %v", name, p.Header["Set-Cookie"])
	return nil
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustUserID(t *testing.T, inst *instancetest.Instance, accountID int64) int64 {
	t.Helper()
	u, err := inst.Community.UserByAccountID(context.Background(), accountID)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// TestWebApplicationNotAnOAuthClient: the web application's tokens are issued only by
// the sign-in form, never through /oauth/token.
func TestWebApplicationNotAnOAuthClient(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	inst.CreateUser(t, "alice", instancetest.UserOptions{})
	for _, secret := range []string{"", "x"} {
		a := inst.Call(t, http.MethodPost, "/oauth/token", "", url.Values{
			"grant_type": {"password"}, "client_id": {"tacit-web"}, "client_secret": {secret},
			"username": {"alice"}, "password": {instancetest.Password("alice")}, "scope": {"read"},
		})
		if a.Code != http.StatusUnauthorized && a.Code != http.StatusBadRequest {
			t.Errorf("password grant for the web application (secret %q): %d %s", secret, a.Code, a.Body)
		}
	}
}
