package sso_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mattn/go-mastodon"
	"golang.org/x/oauth2"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/sso"
)

const (
	clientSecret = "tacit-client-secret"
	buttonLabel  = "Sign in with Example ID"
	// appRedirect is where test clients are sent back to; nothing listens there, the
	// browsers stop at it.
	appRedirect = "http://127.0.0.1:1/callback"
)

// eachInstance runs fn on an instance that signs in through o (SQLite, and PostgreSQL
// when configured).
func eachInstance(t *testing.T, o *testOP, edit func(*config.SSO), fn func(t *testing.T, inst *instancetest.Instance)) {
	instancetest.Each(t, instancetest.Options{Configure: func(c *config.Config) {
		o.addClient("tacit", clientSecret, "http://"+c.Host+sso.CallbackPath)
		c.SSO.Issuer, c.SSO.ClientID, c.SSO.ClientSecret = o.Issuer, "tacit", clientSecret
		c.SSO.ButtonLabel = buttonLabel
		if edit != nil {
			edit(&c.SSO)
		}
	}}, fn)
}

// signIn goes through the web app's sign-in with the provider and returns the page
// the browser ends on.
func signIn(t *testing.T, inst *instancetest.Instance, b *browser, username, next string) page {
	t.Helper()
	at := b.get(inst.URL + "/auth/sso?next=" + url.QueryEscape(next))
	return b.signInAtProvider(at, username)
}

func loginOf(t *testing.T, inst *instancetest.Instance, username string) (*community.Account, *community.User) {
	t.Helper()
	ctx := context.Background()
	acct, err := inst.Community.LocalAccount(ctx, username)
	if err != nil {
		t.Fatalf("account %s: %v", username, err)
	}
	user, err := inst.Community.UserByAccountID(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	return acct, user
}

// A person signs in to the web app through the provider: the first time creates the
// account with the role of their groups; later sign-ins follow the provider's changes.
func TestWebSignIn(t *testing.T) {
	o := startOP(t)
	eachInstance(t, o, nil, func(t *testing.T, inst *instancetest.Instance) {
		o.addPerson("ana-1", "ana.lima@example.com", "Ana", "Lima", "ana.lima@example.com", true, []string{"engineering", "tacit-moderators"})
		b := newBrowser(t)
		login := b.get(inst.URL + "/login")
		if !strings.Contains(login.Body, buttonLabel) || !strings.Contains(login.Body, `name="password"`) {
			t.Fatalf("sign-in page lacks the provider's button or the password form:\n%s", login.Body)
		}
		end := signIn(t, inst, b, "ana.lima@example.com", "/notifications")
		if end.Status != http.StatusOK || end.URL.Path != "/notifications" || b.cookie(inst.URL, "tacit_session") == "" {
			t.Fatalf("after sign-in: %d at %s, session %q\n%s", end.Status, end.URL, b.cookie(inst.URL, "tacit_session"), end.Body)
		}
		acct, user := loginOf(t, inst, "ana_lima")
		if acct.DisplayName != "Ana Lima" || user.Email != "ana.lima@example.com" || user.Role != community.RoleModerator || user.PasswordHash != "" {
			t.Fatalf("first sign-in made %q %q %q", acct.DisplayName, user.Email, user.Role)
		}

		// At the provider: married, new address, now in the admins' group.
		o.change("ana-1", func(p *person) {
			p.LastName, p.Email, p.Groups = "Souza", "ana.souza@example.com", []string{"tacit-admins"}
		})
		if end := signIn(t, inst, newBrowser(t), "ana.lima@example.com", "/"); end.Status != http.StatusOK {
			t.Fatalf("second sign-in: %d at %s", end.Status, end.URL)
		}
		acct2, user2 := loginOf(t, inst, "ana_lima")
		if acct2.ID != acct.ID || acct2.DisplayName != "Ana Souza" || user2.Email != "ana.souza@example.com" || user2.Role != community.RoleAdmin {
			t.Fatalf("second sign-in: %d/%d %q %q %q", acct2.ID, acct.ID, acct2.DisplayName, user2.Email, user2.Role)
		}
		// Out of every group: back to user.
		o.change("ana-1", func(p *person) { p.Groups = []string{} })
		signIn(t, inst, newBrowser(t), "ana.lima@example.com", "/")
		if _, user3 := loginOf(t, inst, "ana_lima"); user3.Role != community.RoleUser {
			t.Fatalf("out of the groups: role %q", user3.Role)
		}
	})
}

// What must not sign in does not: a local username is not taken over, an unverified
// address links nothing, a person disabled at the provider or here is refused, and a
// tampered or replayed callback is refused.
func TestSignInRefusals(t *testing.T) {
	o := startOP(t)
	eachInstance(t, o, nil, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		bob := inst.CreateUser(t, "bob", instancetest.UserOptions{})
		o.addPerson("bob-x", "bob", "Robert", "X", "bob@example.com", false, nil)
		if end := signIn(t, inst, newBrowser(t), "bob", "/"); end.Status != http.StatusOK {
			t.Fatalf("sign-in: %d at %s", end.Status, end.URL)
		}
		newcomer, newUser := loginOf(t, inst, "bob_2")
		if newcomer.ID == bob.Account.ID || newUser.Email != "" || newcomer.DisplayName != "Robert X" {
			t.Fatalf("the provider's bob: %+v %+v", newcomer, newUser)
		}
		if _, u := loginOf(t, inst, "bob"); u.Email != "bob@example.com" {
			t.Fatalf("local bob's address changed: %q", u.Email)
		}
		if _, _, err := inst.Community.Authenticate(ctx, "bob", instancetest.Password("bob")); err != nil {
			t.Fatalf("local bob signs in with his password: %v", err)
		}

		// Disabled at the provider: it sends the browser back with access_denied.
		o.addPerson("dave-1", "dave", "Dave", "D", "dave@example.com", true, nil)
		o.change("dave-1", func(p *person) { p.Disabled = true })
		b := newBrowser(t)
		end := signIn(t, inst, b, "dave", "/")
		if end.Status != http.StatusForbidden || b.cookie(inst.URL, "tacit_session") != "" {
			t.Fatalf("disabled at the provider: %d at %s", end.Status, end.URL)
		}
		if _, err := inst.Community.LocalAccount(ctx, "dave"); community.KindOf(err) != community.KindNotFound {
			t.Fatalf("an account was made for a disabled person: %v", err)
		}

		// Disabled here.
		o.addPerson("erin-1", "erin", "Erin", "E", "erin@example.com", true, nil)
		signIn(t, inst, newBrowser(t), "erin", "/")
		erin, _ := loginOf(t, inst, "erin")
		if err := inst.DB.Model(&community.User{}).Where("account_id = ?", erin.ID).Update("disabled", true).Error; err != nil {
			t.Fatal(err)
		}
		b = newBrowser(t)
		end = signIn(t, inst, b, "erin", "/")
		if end.Status != http.StatusForbidden || !strings.Contains(end.Body, "disabled") || b.cookie(inst.URL, "tacit_session") != "" {
			t.Fatalf("disabled here: %d at %s", end.Status, end.URL)
		}

		// A tampered state, then the genuine callback replayed: both refused.
		o.addPerson("fay-1", "fay", "Fay", "F", "fay@example.com", true, nil)
		callback := inst.URL + sso.CallbackPath
		b = newBrowser(t)
		b.stop = []string{callback}
		at := b.signInAtProvider(b.get(inst.URL+"/auth/sso"), "fay")
		if !strings.HasPrefix(at.Location, callback) {
			t.Fatalf("expected the way back to the callback, got %d %q", at.Status, at.Location)
		}
		flowCookie := b.cookie(callback, "tacit_sso")
		tampered, _ := url.Parse(at.Location)
		q := tampered.Query()
		q.Set("state", q.Get("state")+"x")
		tampered.RawQuery = q.Encode()
		b.stop = nil
		if p := b.get(tampered.String()); p.Status != http.StatusBadRequest || b.cookie(inst.URL, "tacit_session") != "" {
			t.Fatalf("tampered state: %d at %s", p.Status, p.URL)
		}
		// The genuine answer, with the flow's cookie: signs in once, never twice.
		for i, want := range []int{http.StatusOK, http.StatusBadRequest} {
			replay := newBrowser(t)
			u, _ := url.Parse(callback)
			replay.client.Jar.SetCookies(u, []*http.Cookie{{Name: "tacit_sso", Value: flowCookie, Path: "/auth/sso"}})
			if p := replay.get(at.Location); p.Status != want {
				t.Fatalf("callback #%d: %d at %s, want %d", i+1, p.Status, p.URL, want)
			}
		}
		// Without the cookie of the browser that started it (a link planted by someone
		// else), nothing happens either.
		if p := newBrowser(t).get(at.Location); p.Status != http.StatusBadRequest {
			t.Fatalf("callback without the flow's cookie: %d", p.Status)
		}
	})
}

// A Mastodon app signs in through the provider: the authorize page offers the
// company sign-in, the person comes back signed in to the same consent, and the code
// exchanged with PKCE gives a token go-mastodon uses.
func TestMastodonAppThroughProvider(t *testing.T) {
	o := startOP(t)
	eachInstance(t, o, nil, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		o.addPerson("gil-1", "gil", "Gil", "Moreno", "gil@example.com", true, nil)
		app, err := mastodon.RegisterApp(ctx, &mastodon.AppConfig{Server: inst.URL, ClientName: "Tusky",
			Scopes: "read write follow", RedirectURIs: appRedirect})
		if err != nil {
			t.Fatalf("register app: %v", err)
		}
		verifier := oauth2.GenerateVerifier()
		authorize := inst.URL + "/oauth/authorize?" + url.Values{
			"client_id": {app.ClientID}, "redirect_uri": {appRedirect}, "response_type": {"code"},
			"scope": {"read write"}, "state": {"tusky-state"},
			"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"},
		}.Encode()
		b := newBrowser(t)
		b.stop = []string{appRedirect}
		page1 := b.get(authorize)
		start := attr(t, page1.Body, `<a class="sso" href="([^"]+)"`)
		consent := b.signInAtProvider(b.get(inst.URL+start), "gil")
		if consent.Status != http.StatusOK || consent.URL.Path != "/oauth/authorize" || !strings.Contains(consent.Body, "@gil") ||
			strings.Contains(consent.Body, `name="password"`) {
			t.Fatalf("back on the authorize page: %d at %s\n%s", consent.Status, consent.URL, consent.Body)
		}
		csrf := attr(t, consent.Body, `name="csrf" value="([^"]+)"`)
		form := url.Values{"client_id": {app.ClientID}, "redirect_uri": {appRedirect}, "response_type": {"code"},
			"scope": {"read write"}, "state": {"tusky-state"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)},
			"code_challenge_method": {"S256"}, "decision": {"allow"}}

		// Without the session's token, or from another site, the consent is refused.
		bad := cloneValues(form)
		bad.Set("csrf", "forged")
		if p := b.post(inst.URL+"/oauth/authorize", inst.URL, bad); p.Status != http.StatusForbidden {
			t.Fatalf("forged CSRF token: %d", p.Status)
		}
		bad.Set("csrf", csrf)
		if p := b.post(inst.URL+"/oauth/authorize", "https://evil.example", bad); p.Status != http.StatusForbidden {
			t.Fatalf("cross-site consent: %d", p.Status)
		}

		form.Set("csrf", csrf)
		back := b.post(inst.URL+"/oauth/authorize", inst.URL, form)
		loc, _ := url.Parse(back.Location)
		if back.Status != http.StatusFound || !strings.HasPrefix(back.Location, appRedirect) || loc.Query().Get("state") != "tusky-state" {
			t.Fatalf("authorize: %d to %q\n%s", back.Status, back.Location, back.Body)
		}
		token := exchange(t, inst, app, loc.Query().Get("code"), verifier)
		me, err := inst.Client(token).GetAccountCurrentUser(ctx)
		if err != nil {
			t.Fatalf("verify_credentials with the token: %v", err)
		}
		if me.Username != "gil" || me.DisplayName != "Gil Moreno" {
			t.Fatalf("signed in as %q (%q)", me.Username, me.DisplayName)
		}
	})
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// exchange trades an authorization code for an access token with the PKCE verifier.
func exchange(t *testing.T, inst *instancetest.Instance, app *mastodon.Application, code, verifier string) string {
	t.Helper()
	resp, err := http.PostForm(inst.URL+"/oauth/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {appRedirect},
		"client_id": {app.ClientID}, "client_secret": {app.ClientSecret}, "code_verifier": {verifier},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token exchange: %d %+v %v", resp.StatusCode, tok, err)
	}
	return tok.AccessToken
}

// password_login: false turns every password sign-in off: the password grant, the web
// app's form and the authorize page's.
func TestPasswordLoginOff(t *testing.T) {
	o := startOP(t)
	eachInstance(t, o, func(s *config.SSO) { s.PasswordLogin = false }, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		inst.CreateUser(t, "hana", instancetest.UserOptions{})
		app, err := mastodon.RegisterApp(ctx, &mastodon.AppConfig{Server: inst.URL, ClientName: "toot", Scopes: "read", RedirectURIs: appRedirect})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.PostForm(inst.URL+"/oauth/token", url.Values{"grant_type": {"password"}, "client_id": {app.ClientID},
			"client_secret": {app.ClientSecret}, "username": {"hana"}, "password": {instancetest.Password("hana")}, "scope": {"read"}})
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Error, ErrorDescription string }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || body.Error != "unsupported_grant_type" {
			t.Fatalf("password grant: %d %+v", resp.StatusCode, body)
		}

		b := newBrowser(t)
		login := b.get(inst.URL + "/login")
		if strings.Contains(login.Body, `name="password"`) || !strings.Contains(login.Body, buttonLabel) {
			t.Fatalf("sign-in page still offers a password:\n%s", login.Body)
		}
		// The page has no form, but its double-submit cookie is set: a crafted form
		// with it is still refused.
		csrf := b.cookie(inst.URL, "tacit_csrf")
		posted := b.post(inst.URL+"/login", inst.URL, url.Values{"csrf": {csrf}, "login": {"hana"}, "password": {instancetest.Password("hana")}})
		if posted.Status != http.StatusForbidden || b.cookie(inst.URL, "tacit_session") != "" {
			t.Fatalf("POST /login with a password: %d", posted.Status)
		}

		authorize := b.get(inst.URL + "/oauth/authorize?" + url.Values{"client_id": {app.ClientID}, "redirect_uri": {appRedirect},
			"response_type": {"code"}, "scope": {"read"}}.Encode())
		if strings.Contains(authorize.Body, `name="password"`) || !strings.Contains(authorize.Body, buttonLabel) {
			t.Fatalf("authorize page still offers a password:\n%s", authorize.Body)
		}
		b.stop = []string{appRedirect}
		p := b.post(inst.URL+"/oauth/authorize", inst.URL, url.Values{"client_id": {app.ClientID}, "redirect_uri": {appRedirect},
			"response_type": {"code"}, "scope": {"read"}, "decision": {"allow"}, "login": {"hana"}, "password": {instancetest.Password("hana")}})
		if p.Status != http.StatusForbidden || p.Location != "" {
			t.Fatalf("authorize with a password: %d %q", p.Status, p.Location)
		}
	})
}

// The ID token is checked on its own: one issued to another client, one with another
// sign-in's nonce and one whose signature was altered are all refused.
func TestIDTokenVerification(t *testing.T) {
	o := startOP(t)
	o.addClient("tacit", clientSecret, appRedirect)
	o.addClient("other", "other-secret", appRedirect)
	o.addPerson("ivy-1", "ivy", "Ivy", "I", "ivy@example.com", true, nil)
	ctx := context.Background()
	cfg := config.Default()
	cfg.Protocol, cfg.Host = config.ProtocolHTTP, "127.0.0.1:1"
	cfg.SSO.Issuer, cfg.SSO.ClientID, cfg.SSO.ClientSecret = o.Issuer, "tacit", clientSecret
	p := sso.New(cfg, sso.Options{Key: []byte("test key")})

	own := idTokenFor(t, o, "tacit", clientSecret, "nonce-1")
	if _, err := p.VerifyIDToken(ctx, own, "nonce-1"); err != nil {
		t.Fatalf("this client's token: %v", err)
	}
	if _, err := p.VerifyIDToken(ctx, own, "nonce-2"); !errors.Is(err, sso.ErrToken) {
		t.Errorf("another sign-in's nonce: %v", err)
	}
	other := idTokenFor(t, o, "other", "other-secret", "nonce-1")
	if _, err := p.VerifyIDToken(ctx, other, "nonce-1"); !errors.Is(err, sso.ErrToken) {
		t.Errorf("a token for another client: %v", err)
	}
	parts := strings.Split(own, ".")
	parts[2] = strings.Map(func(r rune) rune {
		if r == 'A' {
			return 'B'
		}
		return 'A'
	}, parts[2])
	if _, err := p.VerifyIDToken(ctx, strings.Join(parts, "."), "nonce-1"); !errors.Is(err, sso.ErrToken) {
		t.Errorf("an altered signature: %v", err)
	}
}

// idTokenFor runs a sign-in at the provider as client and returns its ID token.
func idTokenFor(t *testing.T, o *testOP, client, secret, nonce string) string {
	t.Helper()
	conf := &oauth2.Config{ClientID: client, ClientSecret: secret, RedirectURL: appRedirect, Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{AuthURL: o.Issuer + "/authorize", TokenURL: o.Issuer + "/oauth/token"}}
	b := newBrowser(t)
	b.stop = []string{appRedirect}
	back := b.signInAtProvider(b.get(conf.AuthCodeURL("s", oauth2.SetAuthURLParam("nonce", nonce))), "ivy")
	loc, err := url.Parse(back.Location)
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("no code: %d %q", back.Status, back.Location)
	}
	tok, err := conf.Exchange(context.Background(), loc.Query().Get("code"))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatal("no ID token")
	}
	return raw
}

// Nothing is fetched from the provider before the first sign-in, which fails with an
// error while the provider cannot be reached; without an issuer there is no provider.
func TestProviderUnreachable(t *testing.T) {
	cfg := config.Default()
	cfg.Protocol, cfg.Host = config.ProtocolHTTP, "127.0.0.1:1"
	cfg.SSO.Issuer, cfg.SSO.ClientID = "http://127.0.0.1:1", "tacit"
	p := sso.New(cfg, sso.Options{Key: []byte("test key")})
	if _, _, err := p.Begin(context.Background(), "/"); err == nil {
		t.Fatal("Begin succeeded without a provider")
	}
	if sso.New(config.Default(), sso.Options{}) != nil {
		t.Fatal("single sign-on without an issuer")
	}
}

// allowed_email_domains admits only verified addresses in the listed domains.
func TestAllowedEmailDomains(t *testing.T) {
	o := startOP(t)
	eachInstance(t, o, func(s *config.SSO) { s.AllowedEmailDomains = []string{"example.com"} }, func(t *testing.T, inst *instancetest.Instance) {
		o.addPerson("kai-1", "kai", "Kai", "K", "kai@example.com", true, nil)
		o.addPerson("lee-1", "lee", "Lee", "L", "lee@example.com", false, nil)
		o.addPerson("max-1", "max", "Max", "M", "max@partner.example.org", true, nil)
		for username, want := range map[string]int{"kai": http.StatusOK, "lee": http.StatusForbidden, "max": http.StatusForbidden} {
			b := newBrowser(t)
			end := signIn(t, inst, b, username, "/")
			if end.Status != want || (want == http.StatusOK) != (b.cookie(inst.URL, "tacit_session") != "") {
				t.Errorf("%s: %d at %s, want %d", username, end.Status, end.URL, want)
			}
			if want != http.StatusOK && !strings.Contains(end.Body, "not allowed") {
				t.Errorf("%s: the page does not say why", username)
			}
		}
	})
}

// When the provider rotates its signing key, the next sign-in fetches the new key set
// and goes through.
func TestKeyRotation(t *testing.T) {
	o := startOP(t)
	o.addPerson("nia-1", "nia", "Nia", "N", "nia@example.com", true, nil)
	inst := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) {
		o.addClient("tacit", clientSecret, "http://"+c.Host+sso.CallbackPath)
		c.SSO.Issuer, c.SSO.ClientID, c.SSO.ClientSecret = o.Issuer, "tacit", clientSecret
	}})
	for i, key := range []string{"", "rotated-1", "rotated-2"} {
		if key != "" {
			o.storage.rotateKey(t, key)
		}
		b := newBrowser(t)
		if end := signIn(t, inst, b, "nia", "/"); end.Status != http.StatusOK || b.cookie(inst.URL, "tacit_session") == "" {
			t.Fatalf("sign-in %d (key %q): %d at %s\n%s", i+1, key, end.Status, end.URL, end.Body)
		}
	}
}
