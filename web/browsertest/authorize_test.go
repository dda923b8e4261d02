package browsertest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/web/browsertest"
)

// TestAuthorizePageInBrowser signs in on the OAuth authorize page and authorizes an
// app with the keyboard alone, as someone who cannot use a pointer would, and checks
// the page with axe-core at desktop and phone sizes, light and dark, with and without an
// error shown.
func TestAuthorizePageInBrowser(t *testing.T) {
	b := browsertest.New(t)
	inst := instancetest.Start(t, instancetest.Options{})
	inst.CreateUser(t, "alice", instancetest.UserOptions{})

	// The app's redirect target: records what the browser brings back.
	redirects := make(chan url.Values, 1)
	callback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/callback" {
			select {
			case redirects <- r.URL.Query():
			default:
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html lang="en"><title>Signed in</title><h1>Signed in</h1></html>`))
	}))
	t.Cleanup(callback.Close)
	redirectURI := callback.URL + "/callback"
	app, err := mastodon.RegisterApp(context.Background(), &mastodon.AppConfig{
		Server: inst.URL, ClientName: "Browser test", Scopes: "read write", RedirectURIs: redirectURI,
	})
	if err != nil {
		t.Fatal(err)
	}
	authorize := inst.URL + "/oauth/authorize?" + url.Values{
		"client_id": {app.ClientID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
		"scope": {"read write"}, "state": {"opaque-state"},
	}.Encode()

	for _, scheme := range browsertest.ColorSchemes {
		b.SetColorScheme(scheme)
		for _, v := range browsertest.Viewports {
			b.SetViewport(v)
			b.Do(chromedp.Navigate(authorize), chromedp.WaitVisible(chromedp.ID("login")))
			b.CheckAccessibility("the authorize page at " + v.Name + " size, " + scheme)
			b.Screenshot("oauth-authorize-" + v.Name + "-" + scheme)
		}
	}
	b.SetColorScheme("light")

	// Keyboard only: the page puts the focus in the login field; Tab leads to the
	// password, Enter submits with the default button, Authorize.
	b.SetViewport(browsertest.Desktop)
	b.Do(chromedp.Navigate(authorize), chromedp.WaitVisible(chromedp.ID("login")))
	if got := focused(b); got != "login" {
		t.Fatalf("focus on arrival is on %q, want the login field", got)
	}
	b.Do(chromedp.KeyEvent("alice"), chromedp.KeyEvent("\t"))
	if got := focused(b); got != "password" {
		t.Fatalf("Tab from the login field leads to %q, want the password field", got)
	}
	b.Do(chromedp.KeyEvent("not the password"), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.ID("form-error")))
	// The error is announced, the login kept, and the focus waits in the password field.
	if got := focused(b); got != "password" {
		t.Fatalf("after a wrong password the focus is on %q, want the password field", got)
	}
	b.CheckAccessibilityEverywhere("the authorize page with an error")
	b.Screenshot("oauth-authorize-error")
	b.Do(chromedp.KeyEvent(instancetest.Password("alice")), chromedp.KeyEvent("\r"))

	var got url.Values
	select {
	case got = <-redirects:
	case <-time.After(30 * time.Second):
		t.Fatalf("the browser never came back to the app; it is at %s", browsertest.Run(b, chromedp.Location()))
	}
	if got.Get("state") != "opaque-state" || got.Get("code") == "" {
		t.Fatalf("redirect to the app: %v, want a code and the state", got)
	}

	// The code is good for a token that works.
	resp, err := http.PostForm(inst.URL+"/oauth/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {got.Get("code")}, "redirect_uri": {redirectURI},
		"client_id": {app.ClientID}, "client_secret": {app.ClientSecret},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("exchange the code: HTTP %d, %v", resp.StatusCode, err)
	}
	me, err := inst.Client(tok.AccessToken).GetAccountCurrentUser(context.Background())
	if err != nil || !strings.EqualFold(string(me.Username), "alice") {
		t.Fatalf("the token signs in as %v (%v), want alice", me, err)
	}
}

// TestOAuthPagesInBrowser checks the other OAuth pages a person may see with axe-core:
// the code to paste into an app without a redirect, and the page that refuses a request
// from an unknown app.
func TestOAuthPagesInBrowser(t *testing.T) {
	b := browsertest.New(t)
	inst := instancetest.Start(t, instancetest.Options{})
	inst.CreateUser(t, "alice", instancetest.UserOptions{})
	app, err := mastodon.RegisterApp(context.Background(), &mastodon.AppConfig{
		Server: inst.URL, ClientName: "Command line", Scopes: "read", RedirectURIs: "urn:ietf:wg:oauth:2.0:oob",
	})
	if err != nil {
		t.Fatal(err)
	}
	authorize := func(clientID string) string {
		return inst.URL + "/oauth/authorize?" + url.Values{
			"client_id": {clientID}, "redirect_uri": {"urn:ietf:wg:oauth:2.0:oob"}, "response_type": {"code"}, "scope": {"read"},
		}.Encode()
	}

	b.Do(chromedp.Navigate(authorize(app.ClientID)), chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.KeyEvent("alice"), chromedp.KeyEvent("\t"), chromedp.KeyEvent(instancetest.Password("alice")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.ID("authorization-code")))
	if code := browsertest.Run(b, chromedp.Text(chromedp.ID("authorization-code"))); strings.TrimSpace(code) == "" {
		t.Fatal("the code page shows no code")
	}
	b.CheckAccessibilityEverywhere("the code page")
	b.Screenshot("oauth-code")

	b.Do(chromedp.Navigate(authorize("no-such-app")), chromedp.WaitVisible(chromedp.CSS("h1")))
	b.CheckAccessibilityEverywhere("the error page")
	b.Screenshot("oauth-error")
}

// focused is the id of the element that has the keyboard focus.
func focused(b *browsertest.Browser) string {
	return browsertest.Run(b, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`))
}
