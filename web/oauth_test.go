package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/web/mastoschema"
)

const oauthCallback = "https://client.example/callback"

// A PKCE verifier and its S256 challenge.
var (
	pkceVerifier  = strings.Repeat("0123456789abcdefghij-._~", 3)
	pkceChallenge = func() string {
		sum := sha256.Sum256([]byte(pkceVerifier))
		return base64.RawURLEncoding.EncodeToString(sum[:])
	}()
)

// oauthApp is a registered client as a test uses it.
type oauthApp struct {
	*mastodon.Application
	inst *instancetest.Instance
}

func oauthRegisterApp(t *testing.T, inst *instancetest.Instance, redirects, scopes string) *oauthApp {
	t.Helper()
	app, err := mastodon.RegisterApp(context.Background(), &mastodon.AppConfig{
		Client:       http.Client{Transport: inst.Transport()},
		Server:       inst.URL,
		ClientName:   "Test Client",
		RedirectURIs: redirects,
		Scopes:       scopes,
		Website:      "https://client.example",
	})
	if err != nil {
		t.Fatalf("register app: %v", err)
	}
	if app.ClientID == "" || app.ClientSecret == "" {
		t.Fatalf("registered app has no credentials: %+v", app)
	}
	return &oauthApp{Application: app, inst: inst}
}

func (a *oauthApp) client() *mastodon.Client {
	c := mastodon.NewClient(&mastodon.Config{Server: a.inst.URL, ClientID: a.ClientID, ClientSecret: a.ClientSecret})
	c.Transport = a.inst.Transport()
	return c
}

// oauthDo makes a request and returns the status and body; redirects are not followed.
func oauthDo(t *testing.T, inst *instancetest.Instance, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := inst.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func oauthPostForm(t *testing.T, inst *instancetest.Instance, path string, form url.Values) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, inst.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return oauthDo(t, inst, req)
}

func oauthPostJSON(t *testing.T, inst *instancetest.Instance, path string, body any) (*http.Response, []byte) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, inst.URL+path, strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return oauthDo(t, inst, req)
}

func oauthGet(t *testing.T, inst *instancetest.Instance, path, token string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, inst.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return oauthDo(t, inst, req)
}

// oauthTokenStatus reports the status of GET /api/v1/apps/verify_credentials with token.
func oauthTokenStatus(t *testing.T, inst *instancetest.Instance, token string) int {
	t.Helper()
	resp, _ := oauthGet(t, inst, "/api/v1/apps/verify_credentials", token)
	return resp.StatusCode
}

func oauthDecode(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, body)
	}
	return m
}

// wantOAuthError checks an OAuth error answer.
func wantOAuthError(t *testing.T, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	m := oauthDecode(t, body)
	if m["error"] != code {
		t.Fatalf("error %v, want %s: %s", m["error"], code, body)
	}
	if d, _ := m["error_description"].(string); d == "" {
		t.Fatalf("no error_description: %s", body)
	}
	if err := mastoschema.Validate("Error", body); err != nil {
		t.Fatal(err)
	}
}

var oauthHiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// oauthAuthorizePage opens the authorize page with the query q and returns the form fields
// it would submit, after checking the page.
func oauthAuthorizePage(t *testing.T, inst *instancetest.Instance, q url.Values) url.Values {
	t.Helper()
	resp, body := oauthGet(t, inst, "/oauth/authorize?"+q.Encode(), "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("authorize page: status %d\n%s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("authorize page content type %q", ct)
	}
	page := string(body)
	for _, want := range []string{"Test Client", "Username or email address", "Password", ">Authorize</button>", ">Deny</button>"} {
		if !strings.Contains(page, want) {
			t.Errorf("authorize page lacks %q", want)
		}
	}
	form := url.Values{}
	for _, m := range oauthHiddenInput.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	if form.Get("client_id") != q.Get("client_id") {
		t.Fatalf("form does not carry the client_id: %v", form)
	}
	return form
}

// oauthAuthorize drives the authorize page like a browser: opens it, fills in the form and
// submits it with the decision. It returns the answer to the submission.
func oauthAuthorize(t *testing.T, inst *instancetest.Instance, q url.Values, login, password, decision string) (*http.Response, []byte) {
	t.Helper()
	form := oauthAuthorizePage(t, inst, q)
	form.Set("login", login)
	form.Set("password", password)
	form.Set("decision", decision)
	return oauthPostForm(t, inst, "/oauth/authorize", form)
}

// oauthCodeFrom reads the code and state from the redirect that ends an authorization.
func oauthCodeFrom(t *testing.T, resp *http.Response, body []byte, redirect string) (code, state string) {
	t.Helper()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d, want 302\n%s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := url.Parse(redirect)
	if loc.Scheme != want.Scheme || loc.Host != want.Host || loc.Path != want.Path {
		t.Fatalf("redirected to %s, want %s", loc, redirect)
	}
	for k := range want.Query() {
		if loc.Query().Get(k) != want.Query().Get(k) {
			t.Fatalf("redirect %s lost the query parameter %s of %s", loc, k, redirect)
		}
	}
	if e := loc.Query().Get("error"); e != "" {
		t.Fatalf("authorization failed: %s", loc)
	}
	code = loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", loc)
	}
	return code, loc.Query().Get("state")
}

// oauthLogin authorizes app for a user through the page and returns the code and state.
func oauthLogin(t *testing.T, inst *instancetest.Instance, q url.Values, user, password string) (code, state string) {
	t.Helper()
	resp, body := oauthAuthorize(t, inst, q, user, password, "allow")
	return oauthCodeFrom(t, resp, body, q.Get("redirect_uri"))
}

func oauthQuery(app *oauthApp, redirect, scope, state string) url.Values {
	q := url.Values{"client_id": {app.ClientID}, "redirect_uri": {redirect}, "response_type": {"code"}, "state": {state}}
	if scope != "" {
		q.Set("scope", scope)
	}
	return q
}

// oauthExchange posts an authorization_code token request.
func oauthExchange(t *testing.T, app *oauthApp, code, redirect, verifier string) (*http.Response, []byte) {
	t.Helper()
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect},
		"client_id": {app.ClientID}, "client_secret": {app.ClientSecret},
	}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	return oauthPostForm(t, app.inst, "/oauth/token", form)
}

func oauthAccessToken(t *testing.T, resp *http.Response, body []byte) (access, refresh string) {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token request: status %d\n%s", resp.StatusCode, body)
	}
	if err := mastoschema.Validate("Token", body); err != nil {
		t.Fatal(err)
	}
	m := oauthDecode(t, body)
	if m["token_type"] != "Bearer" {
		t.Fatalf("token_type %v", m["token_type"])
	}
	if n, ok := m["created_at"].(float64); !ok || n != float64(int64(n)) || n < 1e9 {
		t.Fatalf("created_at must be unix seconds, got %v", m["created_at"])
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("token answer Cache-Control %q", cc)
	}
	access, _ = m["access_token"].(string)
	refresh, _ = m["refresh_token"].(string)
	return access, refresh
}

// TestAuthorizationCodeFlow is the whole browser login of a Mastodon app, with PKCE,
// on both databases.
func TestAuthorizationCodeFlow(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		app := oauthRegisterApp(t, inst, oauthCallback, "read write follow push")

		// Without PKCE, go-mastodon's own exchange works.
		code, state := oauthLogin(t, inst, oauthQuery(app, oauthCallback, "read write", "xyz-1"), "alice", instancetest.Password("alice"))
		if state != "xyz-1" {
			t.Fatalf("state %q, want xyz-1", state)
		}
		c := app.client()
		if err := c.AuthenticateToken(ctx, code, oauthCallback); err != nil {
			t.Fatalf("exchange code: %v", err)
		}
		verified, err := c.VerifyAppCredentials(ctx)
		if err != nil || verified.Name != "Test Client" || verified.Website != "https://client.example" {
			t.Fatalf("verify app credentials: %v %+v", err, verified)
		}
		_, body := oauthGet(t, inst, "/api/v1/apps/verify_credentials", c.Config.AccessToken)
		if err := mastoschema.Validate("Application", body); err != nil {
			t.Fatal(err)
		}
		if m := oauthDecode(t, body); m["client_secret"] != nil || m["client_id"] != nil {
			t.Fatalf("verify_credentials must not show the credentials: %s", body)
		}
		me, err := c.GetAccountCurrentUser(ctx)
		if err != nil || string(me.ID) != community.FormatID(alice.Account.ID) {
			t.Fatalf("token should act for alice: %v %+v", err, me)
		}

		// The code was used: a replay fails, and revokes the token it bought.
		resp, body := oauthExchange(t, app, code, oauthCallback, "")
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
		if st := oauthTokenStatus(t, inst, c.Config.AccessToken); st != http.StatusUnauthorized {
			t.Fatalf("token of a replayed code still works: %d", st)
		}

		// With PKCE (S256): the verifier is required and must match.
		q := oauthQuery(app, oauthCallback, "read", "xyz-2")
		q.Set("code_challenge", pkceChallenge)
		q.Set("code_challenge_method", "S256")
		code, _ = oauthLogin(t, inst, q, "alice@example.com", instancetest.Password("alice"))
		if err := app.client().AuthenticateToken(ctx, code, oauthCallback); err == nil {
			t.Fatal("code with a PKCE challenge was exchanged without a verifier")
		}
		resp, body = oauthExchange(t, app, code, oauthCallback, "")
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
		resp, body = oauthExchange(t, app, code, oauthCallback, strings.Repeat("a", 43))
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
		resp, body = oauthExchange(t, app, code, oauthCallback, pkceVerifier)
		access, refresh := oauthAccessToken(t, resp, body)
		if access == "" || refresh == "" {
			t.Fatal("authorization_code grant must issue an access and a refresh token")
		}
		if m := oauthDecode(t, body); m["scope"] != "read" {
			t.Fatalf("scope %v, want read", m["scope"])
		}
		if st := oauthTokenStatus(t, inst, access); st != http.StatusOK {
			t.Fatalf("new token: verify_credentials %d", st)
		}
	})
}

func TestPasswordAndClientCredentialsGrants(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inst := instancetest.Start(t, instancetest.Options{})
	inst.CreateUser(t, "bob", instancetest.UserOptions{})
	app := oauthRegisterApp(t, inst, "", "read write follow")

	for _, name := range []string{"bob", "BOB@example.com"} {
		c := app.client()
		if err := c.Authenticate(ctx, name, instancetest.Password("bob")); err != nil {
			t.Fatalf("password grant as %s: %v", name, err)
		}
		me, err := c.GetAccountCurrentUser(ctx)
		if err != nil || me.Username != "bob" {
			t.Fatalf("password grant as %s acts for %+v (%v)", name, me, err)
		}
	}
	if err := app.client().Authenticate(ctx, "bob", "wrong password"); err == nil {
		t.Fatal("a wrong password was accepted")
	}
	resp, body := oauthPostForm(t, inst, "/oauth/token", url.Values{
		"grant_type": {"password"}, "username": {"nobody"}, "password": {"whatever it is"},
		"client_id": {app.ClientID}, "client_secret": {app.ClientSecret},
	})
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")

	// Password grant answers in full, with a refresh token.
	resp, body = oauthPostForm(t, inst, "/oauth/token", url.Values{
		"grant_type": {"password"}, "username": {"bob"}, "password": {instancetest.Password("bob")},
		"client_id": {app.ClientID}, "client_secret": {app.ClientSecret}, "scope": {"read"},
	})
	if _, refresh := oauthAccessToken(t, resp, body); refresh == "" {
		t.Fatal("password grant must issue a refresh token")
	}

	// client_credentials: an app-only token, enough for apps/verify_credentials but
	// not for a user's endpoints.
	c := app.client()
	if err := c.AuthenticateApp(ctx); err != nil {
		t.Fatalf("client_credentials: %v", err)
	}
	if v, err := c.VerifyAppCredentials(ctx); err != nil || v.Name != "Test Client" {
		t.Fatalf("app token on apps/verify_credentials: %v %+v", err, v)
	}
	if resp, _ := oauthGet(t, inst, "/api/v1/accounts/verify_credentials", c.Config.AccessToken); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("app token on accounts/verify_credentials: %d, want 401", resp.StatusCode)
	}
	resp, body = oauthPostForm(t, inst, "/oauth/token", url.Values{
		"grant_type": {"client_credentials"}, "scope": {"read write"},
		"client_id": {app.ClientID}, "client_secret": {app.ClientSecret},
	})
	if access, refresh := oauthAccessToken(t, resp, body); access == "" || refresh != "" {
		t.Fatalf("client_credentials must issue an access token and no refresh token: %s", body)
	}
	// Scope escalation beyond the registered scopes.
	resp, body = oauthPostForm(t, inst, "/oauth/token", url.Values{
		"grant_type": {"client_credentials"}, "scope": {"read push"},
		"client_id": {app.ClientID}, "client_secret": {app.ClientSecret},
	})
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_scope")
	resp, body = oauthPostForm(t, inst, "/oauth/token", url.Values{
		"grant_type": {"password"}, "username": {"bob"}, "password": {instancetest.Password("bob")}, "scope": {"admin:write"},
		"client_id": {app.ClientID}, "client_secret": {app.ClientSecret},
	})
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_scope")
}

func TestTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})
	inst.CreateUser(t, "carol", instancetest.UserOptions{})
	app := oauthRegisterApp(t, inst, oauthCallback+"\nhttps://client.example/other", "read write")
	other := oauthRegisterApp(t, inst, oauthCallback, "read write")

	// Client authentication.
	resp, body := oauthPostForm(t, inst, "/oauth/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {app.ClientID}, "client_secret": {"wrong"},
	})
	wantOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")
	resp, body = oauthPostForm(t, inst, "/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {app.ClientID}})
	wantOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")
	if err := (&oauthApp{Application: &mastodon.Application{ClientID: app.ClientID, ClientSecret: "wrong"}, inst: inst}).client().
		AuthenticateApp(context.Background()); err == nil {
		t.Fatal("go-mastodon authenticated with a wrong secret")
	}
	// HTTP Basic (client_secret_basic) works, and a wrong secret in it is refused too.
	req, _ := http.NewRequest(http.MethodPost, inst.URL+"/oauth/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(app.ClientID, app.ClientSecret)
	resp, body = oauthDo(t, inst, req)
	oauthAccessToken(t, resp, body)
	req, _ = http.NewRequest(http.MethodPost, inst.URL+"/oauth/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(app.ClientID, "wrong")
	resp, body = oauthDo(t, inst, req)
	wantOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")
	if resp.Header.Get("WWW-Authenticate") == "" {
		t.Error("a refused Basic authentication must answer with WWW-Authenticate")
	}

	// Grant types.
	resp, body = oauthPostForm(t, inst, "/oauth/token", url.Values{
		"grant_type": {"implicit"}, "client_id": {app.ClientID}, "client_secret": {app.ClientSecret},
	})
	wantOAuthError(t, resp, body, http.StatusBadRequest, "unsupported_grant_type")
	resp, body = oauthPostForm(t, inst, "/oauth/token", url.Values{"client_id": {app.ClientID}, "client_secret": {app.ClientSecret}})
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_request")

	// JSON bodies are read like forms.
	resp, body = oauthPostJSON(t, inst, "/oauth/token", map[string]string{
		"grant_type": "password", "username": "carol", "password": instancetest.Password("carol"),
		"client_id": app.ClientID, "client_secret": app.ClientSecret,
	})
	oauthAccessToken(t, resp, body)

	// A code is bound to its redirect URI and its client.
	code, _ := oauthLogin(t, inst, oauthQuery(app, oauthCallback, "read", "s"), "carol", instancetest.Password("carol"))
	resp, body = oauthExchange(t, app, code, "https://client.example/other", "")
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	resp, body = oauthExchange(t, other, code, oauthCallback, "")
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	resp, body = oauthExchange(t, app, "not-a-code", oauthCallback, "")
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	// Failed attempts do not burn the code for its rightful client.
	resp, body = oauthExchange(t, app, code, oauthCallback, "")
	oauthAccessToken(t, resp, body)
}

func TestRefreshAndRevoke(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})
	inst.CreateUser(t, "dave", instancetest.UserOptions{})
	app := oauthRegisterApp(t, inst, oauthCallback, "read write")
	password := func() (string, string) {
		resp, body := oauthPostForm(t, inst, "/oauth/token", url.Values{
			"grant_type": {"password"}, "username": {"dave"}, "password": {instancetest.Password("dave")},
			"client_id": {app.ClientID}, "client_secret": {app.ClientSecret}, "scope": {"read write"},
		})
		return oauthAccessToken(t, resp, body)
	}
	refresh := func(token, scope string) (*http.Response, []byte) {
		return oauthPostForm(t, inst, "/oauth/token", url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {token}, "scope": {scope},
			"client_id": {app.ClientID}, "client_secret": {app.ClientSecret},
		})
	}

	access1, refresh1 := password()
	resp, body := refresh(refresh1, "")
	access2, refresh2 := oauthAccessToken(t, resp, body)
	if access2 == access1 || refresh2 == refresh1 || refresh2 == "" {
		t.Fatal("refresh must rotate both tokens")
	}
	if m := oauthDecode(t, body); m["scope"] != "read write" {
		t.Fatalf("refreshed scope %v, want the original read write", m["scope"])
	}
	if st := oauthTokenStatus(t, inst, access1); st != http.StatusUnauthorized {
		t.Fatalf("old access token after refresh: %d, want 401", st)
	}
	if st := oauthTokenStatus(t, inst, access2); st != http.StatusOK {
		t.Fatalf("new access token: %d", st)
	}
	resp, body = refresh(refresh1, "")
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	resp, body = refresh(refresh2, "read write follow")
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_scope")
	resp, body = refresh(refresh2, "read")
	access3, refresh3 := oauthAccessToken(t, resp, body)
	if m := oauthDecode(t, body); m["scope"] != "read" {
		t.Fatalf("narrowed scope %v, want read", m["scope"])
	}

	// Revocation.
	revoke := func(token, secret string) (*http.Response, []byte) {
		return oauthPostForm(t, inst, "/oauth/revoke", url.Values{"token": {token}, "client_id": {app.ClientID}, "client_secret": {secret}})
	}
	resp, body = revoke(access3, "wrong")
	wantOAuthError(t, resp, body, http.StatusForbidden, "unauthorized_client")
	if st := oauthTokenStatus(t, inst, access3); st != http.StatusOK {
		t.Fatalf("a refused revocation revoked the token: %d", st)
	}
	resp, body = revoke(access3, app.ClientSecret)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "{}" {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	if st := oauthTokenStatus(t, inst, access3); st != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d, want 401", st)
	}
	resp, body = refresh(refresh3, "")
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	// Unknown and already revoked tokens: 200 all the same (RFC 7009).
	for _, tok := range []string{"no-such-token", access3} {
		if resp, body := revoke(tok, app.ClientSecret); resp.StatusCode != http.StatusOK {
			t.Fatalf("revoke %s: %d %s", tok, resp.StatusCode, body)
		}
	}
	// A refresh token revokes the token it belongs to; another client cannot revoke it.
	access4, refresh4 := password()
	other := oauthRegisterApp(t, inst, oauthCallback, "read")
	resp, _ = oauthPostForm(t, inst, "/oauth/revoke", url.Values{"token": {access4}, "client_id": {other.ClientID}, "client_secret": {other.ClientSecret}})
	if resp.StatusCode != http.StatusOK || oauthTokenStatus(t, inst, access4) != http.StatusOK {
		t.Fatalf("another client's revocation: %d, and the token must still work", resp.StatusCode)
	}
	if resp, _ := revoke(refresh4, app.ClientSecret); resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke by refresh token: %d", resp.StatusCode)
	}
	if st := oauthTokenStatus(t, inst, access4); st != http.StatusUnauthorized {
		t.Fatalf("token revoked through its refresh token: %d, want 401", st)
	}
}

func TestRegisterApp(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})

	// JSON with an array of redirect URIs, including native apps' private schemes.
	resp, body := oauthPostJSON(t, inst, "/api/v1/apps", map[string]any{
		"client_name":   "Elk",
		"redirect_uris": []string{"elk://callback", "org.joinmastodon.android://oauth", oauthOOB},
		"scopes":        "read write:statuses profile",
		"website":       "https://elk.zone",
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("register with JSON: %d %s", resp.StatusCode, body)
	}
	if err := mastoschema.Validate("CredentialApplication", body); err != nil {
		t.Fatal(err)
	}
	m := oauthDecode(t, body)
	if m["name"] != "Elk" || m["website"] != "https://elk.zone" || m["vapid_key"] != "" || m["client_secret_expires_at"] != float64(0) {
		t.Fatalf("registered app: %s", body)
	}
	if m["redirect_uri"] != "elk://callback\norg.joinmastodon.android://oauth\n"+oauthOOB {
		t.Fatalf("redirect_uri %q", m["redirect_uri"])
	}
	if got := strings.Fields(strings.Join(oauthStrings(m["scopes"]), " ")); !slices.Equal(got, []string{"read", "write:statuses", "profile"}) {
		t.Fatalf("scopes %v", m["scopes"])
	}
	if len(oauthStrings(m["redirect_uris"])) != 3 {
		t.Fatalf("redirect_uris %v", m["redirect_uris"])
	}

	// A form with a newline-separated list; no scopes means read; no website is null.
	resp, body = oauthPostForm(t, inst, "/api/v1/apps", url.Values{
		"client_name": {"toot"}, "redirect_uris": {"https://a.example/cb\nhttp://127.0.0.1/cb"},
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("register with a form: %d %s", resp.StatusCode, body)
	}
	m = oauthDecode(t, body)
	if !slices.Equal(oauthStrings(m["scopes"]), []string{"read"}) || m["website"] != nil || len(oauthStrings(m["redirect_uris"])) != 2 {
		t.Fatalf("registered app: %s", body)
	}

	for _, bad := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"no name", map[string]any{"redirect_uris": oauthOOB}, "name"},
		{"blank name", map[string]any{"client_name": "  ", "redirect_uris": oauthOOB}, "name"},
		{"no redirect", map[string]any{"client_name": "x"}, "Redirect URI"},
		{"relative redirect", map[string]any{"client_name": "x", "redirect_uris": "/callback"}, "absolute"},
		{"fragment", map[string]any{"client_name": "x", "redirect_uris": "https://a.example/cb#frag"}, "fragment"},
		{"javascript", map[string]any{"client_name": "x", "redirect_uris": "javascript:alert(1)"}, "javascript"},
		{"unknown scope", map[string]any{"client_name": "x", "redirect_uris": oauthOOB, "scopes": "read launch:missiles"}, "launch:missiles"},
		{"bad website", map[string]any{"client_name": "x", "redirect_uris": oauthOOB, "website": "ftp://a.example"}, "Website"},
	} {
		resp, body := oauthPostJSON(t, inst, "/api/v1/apps", bad.body)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422: %s", bad.name, resp.StatusCode, body)
			continue
		}
		if msg, _ := oauthDecode(t, body)["error"].(string); !strings.Contains(msg, bad.want) {
			t.Errorf("%s: error %q should mention %q", bad.name, msg, bad.want)
		}
	}

	// verify_credentials needs a token.
	if st := oauthTokenStatus(t, inst, ""); st != http.StatusUnauthorized {
		t.Fatalf("apps/verify_credentials without a token: %d", st)
	}
	if st := oauthTokenStatus(t, inst, "bogus"); st != http.StatusUnauthorized {
		t.Fatalf("apps/verify_credentials with a bogus token: %d", st)
	}
}

const oauthOOB = "urn:ietf:wg:oauth:2.0:oob"

func oauthStrings(v any) []string {
	var out []string
	if list, ok := v.([]any); ok {
		for _, e := range list {
			s, _ := e.(string)
			out = append(out, s)
		}
	}
	return out
}

// TestAuthorizePage covers what the page refuses, how it answers, and the out-of-band
// flow of command-line clients.
// authorizePage is what TestAuthorizePage's steps share: an app with three redirect
// URIs on an instance where erin can log in.
type authorizePage struct {
	inst *instancetest.Instance
	app  *oauthApp
}

func TestAuthorizePage(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})
	inst.CreateUser(t, "erin", instancetest.UserOptions{})
	w := &authorizePage{inst: inst, app: oauthRegisterApp(t, inst, oauthCallback+"\nhttp://127.0.0.1/cb\n"+oauthOOB, "read write")}
	w.page(t)
	w.unknownClients(t)
	w.requestErrors(t)
	w.denyAndWrongPassword(t)
	w.tampered(t)
	w.loopbackAndOutOfBand(t)
}

// Security headers; the CSP admits the client's origin for the redirect after
// the form is sent.
func (w *authorizePage) page(t *testing.T) {
	resp, body := oauthGet(t, w.inst, "/oauth/authorize?"+oauthQuery(w.app, oauthCallback, "read write", "s").Encode(), "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("authorize page: %d %s", resp.StatusCode, body)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "style-src 'unsafe-inline'", "form-action 'self' https://client.example", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	for h, want := range map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	page := string(body)
	for _, want := range []string{"Read all your account", "Change all your account", "client.example", "<code>write</code>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script") {
		t.Error("the authorize page must work without scripts")
	}
}

// Never redirect to an unknown client or an unregistered redirect URI.
func (w *authorizePage) unknownClients(t *testing.T) {
	for name, q := range map[string]url.Values{
		"unknown client":   {"client_id": {"nope"}, "redirect_uri": {oauthCallback}, "response_type": {"code"}},
		"no client":        {"redirect_uri": {oauthCallback}, "response_type": {"code"}},
		"foreign redirect": oauthQuery(w.app, "https://evil.example/cb", "read", "s"),
		"several, none":    {"client_id": {w.app.ClientID}, "response_type": {"code"}},
	} {
		resp, body := oauthGet(t, w.inst, "/oauth/authorize?"+q.Encode(), "")
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(string(body), "<h1>") {
			t.Errorf("%s: %d Location=%q, want an error page", name, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

// Errors about the request itself go back to the client, with the state.
func (w *authorizePage) requestErrors(t *testing.T) {
	redirectError := func(name string, q url.Values, want string) {
		t.Helper()
		resp, body := oauthGet(t, w.inst, "/oauth/authorize?"+q.Encode(), "")
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("error") != want || loc.Query().Get("state") != q.Get("state") {
			t.Errorf("%s: %d %s, want a redirect with error=%s\n%s", name, resp.StatusCode, resp.Header.Get("Location"), want, body)
		}
	}
	redirectError("scope escalation", oauthQuery(w.app, oauthCallback, "read write follow", "s1"), "invalid_scope")
	redirectError("unknown scope", oauthQuery(w.app, oauthCallback, "read bogus", "s2"), "invalid_scope")
	q := oauthQuery(w.app, oauthCallback, "read", "s3")
	q.Set("response_type", "token")
	redirectError("implicit flow", q, "unsupported_response_type")
	q = oauthQuery(w.app, oauthCallback, "read", "s4")
	q.Set("code_challenge", pkceVerifier)
	q.Set("code_challenge_method", "plain")
	redirectError("plain PKCE", q, "invalid_request")
	q.Del("code_challenge_method")
	redirectError("PKCE without a method", q, "invalid_request")
}

// Deny sends the person back with access_denied, password or not.
func (w *authorizePage) denyAndWrongPassword(t *testing.T) {
	resp, body := oauthAuthorize(t, w.inst, oauthQuery(w.app, oauthCallback, "read", "s5"), "", "", "deny")
	if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != http.StatusFound ||
		loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "s5" || loc.Query().Has("code") {
		t.Fatalf("deny: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}

	// A wrong password shows the form again, with an error that does not say which
	// part was wrong, and keeps the request.
	for _, who := range []string{"erin", "nobody"} {
		resp, body = oauthAuthorize(t, w.inst, oauthQuery(w.app, oauthCallback, "read", "s6"), who, "not the password", "allow")
		if resp.StatusCode != http.StatusUnprocessableEntity || resp.Header.Get("Location") != "" {
			t.Fatalf("wrong password for %s: %d %s", who, resp.StatusCode, resp.Header.Get("Location"))
		}
		page := string(body)
		if !strings.Contains(page, "Invalid username/email or password.") || !strings.Contains(page, `role="alert"`) ||
			!strings.Contains(page, `name="state" value="s6"`) || !strings.Contains(page, `value="`+who+`"`) {
			t.Fatalf("wrong password page for %s:\n%s", who, page)
		}
	}
}

// Tampered hidden fields are checked again on submission.
func (w *authorizePage) tampered(t *testing.T) {
	form := oauthAuthorizePage(t, w.inst, oauthQuery(w.app, oauthCallback, "read", "s7"))
	form.Set("scope", "read write follow")
	form.Set("login", "erin")
	form.Set("password", instancetest.Password("erin"))
	form.Set("decision", "allow")
	resp, _ := oauthPostForm(t, w.inst, "/oauth/authorize", form)
	if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != http.StatusFound || loc.Query().Get("error") != "invalid_scope" {
		t.Fatalf("tampered scope: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	form.Set("scope", "read")
	form.Set("redirect_uri", "https://evil.example/cb")
	resp, _ = oauthPostForm(t, w.inst, "/oauth/authorize", form)
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Fatalf("tampered redirect_uri: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// A loopback redirect may use any port (RFC 8252); the token request repeats it.
func (w *authorizePage) loopbackAndOutOfBand(t *testing.T) {
	code, _ := oauthLogin(t, w.inst, oauthQuery(w.app, "http://127.0.0.1:41234/cb", "read", "s8"), "erin", instancetest.Password("erin"))
	resp, body := oauthExchange(t, w.app, code, "http://127.0.0.1:41234/cb", "")
	oauthAccessToken(t, resp, body)

	// Out of band: the page shows the code to copy.
	resp, body = oauthAuthorize(t, w.inst, oauthQuery(w.app, oauthOOB, "read", ""), "erin", instancetest.Password("erin"), "allow")
	m := regexp.MustCompile(`<code class="code" id="authorization-code">([^<]+)</code>`).FindStringSubmatch(string(body))
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("oob: %d\n%s", resp.StatusCode, body)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Error("the page showing a code must not be cached")
	}
	c := w.app.client()
	if err := c.AuthenticateToken(context.Background(), html.UnescapeString(m[1]), oauthOOB); err != nil {
		t.Fatalf("exchange the out-of-band code: %v", err)
	}
	if st := oauthTokenStatus(t, w.inst, c.Config.AccessToken); st != http.StatusOK {
		t.Fatalf("token from the out-of-band code: %d", st)
	}
}

func TestAuthorizeResponseModes(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})
	inst.CreateUser(t, "fay", instancetest.UserOptions{})
	app := oauthRegisterApp(t, inst, "https://client.example/cb?app=1\nphanpy://oauth", "read")

	// Query mode keeps the redirect URI's own query.
	code, _ := oauthLogin(t, inst, oauthQuery(app, "https://client.example/cb?app=1", "", "q"), "fay", instancetest.Password("fay"))
	if code == "" {
		t.Fatal("no code")
	}
	// Private scheme: the CSP admits the scheme, the redirect goes there.
	q := oauthQuery(app, "phanpy://oauth", "", "p")
	resp, _ := oauthGet(t, inst, "/oauth/authorize?"+q.Encode(), "")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' phanpy:") {
		t.Fatalf("CSP for a private scheme: %q", csp)
	}
	resp, body := oauthAuthorize(t, inst, q, "fay", instancetest.Password("fay"), "allow")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "phanpy://oauth?code=") {
		t.Fatalf("private scheme redirect: %d %s\n%s", resp.StatusCode, loc, body)
	}
	// Fragment mode.
	q = oauthQuery(app, "https://client.example/cb?app=1", "", "f")
	q.Set("response_mode", "fragment")
	resp, _ = oauthAuthorize(t, inst, q, "fay", instancetest.Password("fay"), "allow")
	loc, _ := url.Parse(resp.Header.Get("Location"))
	frag, _ := url.ParseQuery(loc.Fragment)
	if resp.StatusCode != http.StatusFound || loc.Query().Get("app") != "1" || frag.Get("code") == "" || frag.Get("state") != "f" {
		t.Fatalf("fragment mode: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// form_post: a page whose form posts the code to the client.
	q.Set("response_mode", "form_post")
	resp, body = oauthAuthorize(t, inst, q, "fay", instancetest.Password("fay"), "allow")
	page := string(body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `action="https://client.example/cb?app=1"`) ||
		!strings.Contains(page, `name="code"`) || !strings.Contains(page, `name="state" value="f"`) {
		t.Fatalf("form_post: %d\n%s", resp.StatusCode, page)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'nonce-") || !strings.Contains(csp, "https://client.example") {
		t.Fatalf("form_post CSP: %q", csp)
	}
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})
	app := oauthRegisterApp(t, inst, oauthCallback, "read")
	attempt := func(login string) (*http.Response, []byte) {
		return oauthPostForm(t, inst, "/oauth/token", url.Values{
			"grant_type": {"password"}, "username": {login}, "password": {"guess guess guess"},
			"client_id": {app.ClientID}, "client_secret": {app.ClientSecret},
		})
	}
	for i := 0; i < 10; i++ {
		resp, body := attempt("mallory")
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	}
	resp, body := attempt("Mallory")
	if resp.StatusCode != http.StatusTooManyRequests || oauthDecode(t, body)["error"] != "Too many requests" {
		t.Fatalf("11th failure: %d %s", resp.StatusCode, body)
	}
	// Other names are not affected.
	resp, body = attempt("trent")
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	// The page says so too.
	resp, body = oauthAuthorize(t, inst, oauthQuery(app, oauthCallback, "read", "s"), "mallory", "guess guess guess", "allow")
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), "Too many failed sign-in attempts") {
		t.Fatalf("throttled page: %d\n%s", resp.StatusCode, body)
	}
}

func TestOAuthMetadata(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})
	resp, body := oauthGet(t, inst, "/.well-known/oauth-authorization-server", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metadata: %d %s", resp.StatusCode, body)
	}
	var md struct {
		Issuer                string   `json:"issuer"`
		AuthorizationEndpoint string   `json:"authorization_endpoint"`
		TokenEndpoint         string   `json:"token_endpoint"`
		RegistrationEndpoint  string   `json:"app_registration_endpoint"`
		RevocationEndpoint    string   `json:"revocation_endpoint"`
		Scopes                []string `json:"scopes_supported"`
		ResponseTypes         []string `json:"response_types_supported"`
		ResponseModes         []string `json:"response_modes_supported"`
		ChallengeMethods      []string `json:"code_challenge_methods_supported"`
		GrantTypes            []string `json:"grant_types_supported"`
		TokenEndpointAuth     []string `json:"token_endpoint_auth_methods_supported"`
		ServiceDocumentation  string   `json:"service_documentation"`
	}
	if err := json.Unmarshal(body, &md); err != nil {
		t.Fatal(err)
	}
	if md.Issuer != inst.URL+"/" || md.AuthorizationEndpoint != inst.URL+"/oauth/authorize" ||
		md.TokenEndpoint != inst.URL+"/oauth/token" || md.RegistrationEndpoint != inst.URL+"/api/v1/apps" ||
		md.RevocationEndpoint != inst.URL+"/oauth/revoke" || md.ServiceDocumentation == "" {
		t.Fatalf("endpoints: %s", body)
	}
	for _, sc := range []string{"read", "write", "follow", "push", "profile", "read:statuses", "write:media"} {
		if !slices.Contains(md.Scopes, sc) {
			t.Errorf("scopes_supported lacks %s", sc)
		}
	}
	if !slices.Equal(md.ChallengeMethods, []string{"S256"}) || !slices.Equal(md.ResponseTypes, []string{"code"}) ||
		!slices.Equal(md.ResponseModes, []string{"query", "fragment", "form_post"}) ||
		!slices.Contains(md.GrantTypes, "authorization_code") || !slices.Contains(md.GrantTypes, "client_credentials") ||
		!slices.Equal(md.TokenEndpointAuth, []string{"client_secret_basic", "client_secret_post"}) {
		t.Fatalf("metadata: %s", body)
	}
}
