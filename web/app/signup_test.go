package app_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// signUpForm is the sign-up form filled in for username, with the page's CSRF token.
func signUpForm(b *browser, path, username string) url.Values {
	return url.Values{"csrf": {b.csrf(path)}, "username": {username}, "email": {username + "@example.com"},
		"password": {"a long sign-up phrase"}, "agreement": {"on"}}
}

// TestSignupPage: closed registrations show no form; open ones sign the person in at
// once, or, with approval required, say the account waits; field problems are shown
// beside the fields with what was typed; the form needs its CSRF token.
func TestSignupPage(t *testing.T) {
	instancetest.Each(t, instancetest.Options{Configure: func(c *config.Config) {
		c.InstanceRules = []string{"Be kind."}
	}}, testSignupPage)
}

func testSignupPage(t *testing.T, inst *instancetest.Instance) {
	b := newBrowser(t, inst)
	if p := b.get("/signup"); p.Code != http.StatusOK || !strings.Contains(p.Body, "Registrations are closed") ||
		strings.Contains(p.Body, `name="username"`) {
		t.Fatalf("closed sign-up page: %d\n%s", p.Code, p.Body)
	}
	if p := b.get("/login"); strings.Contains(p.Body, `href="/signup"`) {
		t.Error("the sign-in page links to sign-up while registrations are closed")
	}

	admin := inst.CreateUser(t, "boss", instancetest.UserOptions{Role: community.RoleAdmin})
	ctx := t.Context()
	cur, err := inst.Community.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cur.Registrations = community.Registrations{Mode: community.RegistrationsOpen}
	if _, err := inst.Community.UpdateSettings(ctx, admin.Account, cur); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/login", "/"} {
		if p := b.get(path); !strings.Contains(p.Body, `href="/signup"`) {
			t.Errorf("%s does not link to the sign-up page while registrations are open", path)
		}
	}
	p := b.get("/signup")
	if !strings.Contains(p.Body, "Be kind.") || !strings.Contains(p.Body, `name="agreement"`) {
		t.Fatalf("open sign-up page lacks the rules or the agreement:\n%s", p.Body)
	}

	form := signUpForm(b, "/signup", "ana")
	noToken := url.Values{}
	for k, v := range form {
		if k != "csrf" {
			noToken[k] = v
		}
	}
	if p := b.post("/signup", noToken); p.Code != http.StatusForbidden {
		t.Errorf("sign-up without the CSRF token: %d", p.Code)
	}
	bad := signUpForm(b, "/signup", "ana")
	bad.Set("password", "short")
	bad.Del("agreement")
	if p := b.post("/signup", bad); p.Code != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "too short") ||
		!strings.Contains(p.Body, "Agreement must be accepted") || !strings.Contains(p.Body, `value="ana"`) {
		t.Fatalf("refused sign-up: %d\n%s", p.Code, p.Body)
	}
	if _, err := inst.Community.LocalAccount(ctx, "ana"); community.KindOf(err) != community.KindNotFound {
		t.Fatalf("a refused sign-up made an account: %v", err)
	}
	if p := b.post("/signup", form); p.Code != http.StatusSeeOther || p.Header.Get("Location") != "/" {
		t.Fatalf("sign-up: %d %q\n%s", p.Code, p.Header.Get("Location"), p.Body)
	}
	if p := b.get("/"); !signedIn(p) || !strings.Contains(p.Body, "@ana") {
		t.Fatalf("not signed in after signing up:\n%s", p.Body)
	}

	// With approval required, the new account waits and is not signed in.
	cur.Registrations.ApprovalRequired = true
	if _, err := inst.Community.UpdateSettings(ctx, admin.Account, cur); err != nil {
		t.Fatal(err)
	}
	c := newBrowser(t, inst)
	form = signUpForm(c, "/signup", "ben")
	form.Set("reason", "I joined the sales team")
	if p := c.post("/signup", form); p.Code != http.StatusSeeOther || p.Header.Get("Location") != "/signup?done=pending" {
		t.Fatalf("sign-up while approval is required: %d %q\n%s", p.Code, p.Header.Get("Location"), p.Body)
	}
	if p := c.get("/signup?done=pending"); !strings.Contains(p.Body, "waits for a moderator") || signedIn(p) {
		t.Fatalf("after a sign-up that waits:\n%s", p.Body)
	}
	p = c.post("/login", url.Values{"csrf": {c.csrf("/login")}, "login": {"ben"}, "password": {"a long sign-up phrase"}})
	if p.Code != http.StatusForbidden || !strings.Contains(p.Body, "pending approval") {
		t.Fatalf("sign-in while pending: %d\n%s", p.Code, p.Body)
	}

	// The admin sees ben waiting, with his reason, and approves him.
	a := newBrowser(t, inst)
	a.signIn("boss")
	p = a.get("/admin")
	if !strings.Contains(p.Body, "Waiting for approval") || !strings.Contains(p.Body, "I joined the sales team") {
		t.Fatalf("the people page does not show ben waiting:\n%s", p.Body)
	}
	ben, err := inst.Community.LocalAccount(ctx, "ben")
	if err != nil {
		t.Fatal(err)
	}
	if p := a.post("/admin/people/"+community.FormatID(ben.ID)+"/approve", url.Values{"csrf": {a.csrf("/admin")}}); p.Code != http.StatusSeeOther {
		t.Fatalf("approve: %d\n%s", p.Code, p.Body)
	}
	if p := a.get("/admin?done=approve"); !strings.Contains(p.Body, "approved") || strings.Contains(p.Body, "Approve @ben") {
		t.Errorf("after approving:\n%s", p.Body)
	}
	c.signIn2(t, "ben", "a long sign-up phrase")
	if p := a.get("/moderation/log"); !strings.Contains(p.Body, "Sign-up approved") {
		t.Errorf("the audit log does not show the approval:\n%s", p.Body)
	}
}

// signIn2 signs in with a password of the test's choosing.
func (b *browser) signIn2(t *testing.T, login, password string) {
	t.Helper()
	p := b.post("/login", url.Values{"csrf": {b.csrf("/login")}, "login": {login}, "password": {password}, "next": {"/"}})
	if p.Code != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d\n%s", login, p.Code, p.Body)
	}
}

var inviteLink = regexp.MustCompile(`value="(http://[^"]+/signup\?invite=([a-z0-9]+))"`)

// TestAdminInvitesPage: an admin makes an invite on the invites page and copies its
// link; a visitor signs up with it while registrations are invite-only; a second
// visitor finds it used up; a revoked invite shows as such.
func TestAdminInvitesPage(t *testing.T) {
	instancetest.Each(t, instancetest.Options{Configure: func(c *config.Config) {
		c.Registrations.Mode = config.RegistrationsInvite
	}}, testAdminInvitesPage)
}

func testAdminInvitesPage(t *testing.T, inst *instancetest.Instance) {
	inst.CreateUser(t, "boss", instancetest.UserOptions{Role: community.RoleAdmin})
	inst.CreateUser(t, "mod", instancetest.UserOptions{Role: community.RoleModerator})
	m := newBrowser(t, inst)
	m.signIn("mod")
	if p := m.get("/admin/invites"); p.Code != http.StatusForbidden {
		t.Errorf("a moderator on the invites page: %d", p.Code)
	}

	a := newBrowser(t, inst)
	a.signIn("boss")
	if p := a.get("/admin"); !strings.Contains(p.Body, `href="/admin/invites"`) {
		t.Error("the people page does not link to the invites")
	}
	p := a.post("/admin/invites", url.Values{"csrf": {a.csrf("/admin/invites")}, "max_uses": {"1"},
		"expires_in": {"168h0m0s"}, "comment": {"for Carla"}})
	if p.Code != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/admin/invites?done=created") {
		t.Fatalf("make an invite: %d %q\n%s", p.Code, p.Header.Get("Location"), p.Body)
	}
	p = a.get(p.Header.Get("Location"))
	m1 := inviteLink.FindStringSubmatch(p.Body)
	if m1 == nil || !strings.Contains(p.Body, "for Carla") || !strings.Contains(p.Body, "0 of 1") {
		t.Fatalf("the invites page after making one:\n%s", p.Body)
	}
	link, code := m1[1], m1[2]
	path := strings.TrimPrefix(link, inst.URL)

	v := newBrowser(t, inst)
	if p := v.get("/signup"); !strings.Contains(p.Body, "needs an invite") {
		t.Errorf("invite-only sign-up page without an invite:\n%s", p.Body)
	}
	form := signUpForm(v, path, "carla")
	form.Set("invite", code)
	if p := v.post("/signup", form); p.Code != http.StatusSeeOther || p.Header.Get("Location") != "/" {
		t.Fatalf("sign-up with the invite: %d %q\n%s", p.Code, p.Header.Get("Location"), p.Body)
	}
	w := newBrowser(t, inst)
	if p := w.get(path); !strings.Contains(p.Body, "used as many times") || strings.Contains(p.Body, `name="username"`) {
		t.Errorf("the used-up invite's page:\n%s", p.Body)
	}

	other, err := inst.Community.CreateInvite(t.Context(), nil, community.NewInvite{})
	if err != nil {
		t.Fatal(err)
	}
	if p := a.post("/admin/invites/"+other.Code+"/revoke", url.Values{"csrf": {a.csrf("/admin/invites")}}); p.Code != http.StatusSeeOther {
		t.Fatalf("revoke: %d\n%s", p.Code, p.Body)
	}
	if p := a.get("/admin/invites?done=revoked"); !strings.Contains(p.Body, "Revoked") || !strings.Contains(p.Body, "Used up") {
		t.Errorf("the invites page after revoking:\n%s", p.Body)
	}
}

// TestAdminEditsRegistrations: the instance page saves the registration settings.
func TestAdminEditsRegistrations(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	inst.CreateUser(t, "boss", instancetest.UserOptions{Role: community.RoleAdmin})
	a := newBrowser(t, inst)
	a.signIn("boss")
	if p := a.get("/admin/instance"); !strings.Contains(p.Body, `name="registrations" value="closed" checked`) {
		t.Fatalf("the instance page does not show closed registrations:\n%s", p.Body)
	}
	form := url.Values{"csrf": {a.csrf("/admin/instance")}, "name": {"Tacit"}, "default_scope": {"company"},
		"registrations": {"open"}, "approval_required": {"on"}, "email_domains": {"example.com\r\n@Eng.Example.org\r\n"}}
	if p := a.post("/admin/instance", form); p.Code != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", p.Code, p.Body)
	}
	s, err := inst.Community.Settings(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Registrations; r.Mode != community.RegistrationsOpen || !r.ApprovalRequired ||
		strings.Join(r.AllowedEmailDomains, ",") != "example.com,eng.example.org" {
		t.Fatalf("saved registrations: %+v", r)
	}
	form.Set("email_domains", "not a domain!")
	if p := a.post("/admin/instance", form); p.Code != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "not a domain!") {
		t.Errorf("a refused domain: %d\n%s", p.Code, p.Body)
	}
}
