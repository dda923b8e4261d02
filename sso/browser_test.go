package sso_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/sso"
	"github.com/tacit-social/tacit/web/browsertest"
)

// In Chromium: an app's authorize page, the company button, the provider's login, the
// consent of the signed-in person (whose form the browser sends with "Origin: null",
// the page's referrer policy being no-referrer), and the code back at the app. The
// sign-in and consent pages are checked with axe-core.
func TestAuthorizeThroughProviderInBrowser(t *testing.T) {
	b := browsertest.New(t)
	o := startOP(t)
	o.addPerson("jo-1", "jo", "Jo", "Kim", "jo@example.com", true, []string{"tacit-moderators"})
	inst := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) {
		o.addClient("tacit", clientSecret, "http://"+c.Host+sso.CallbackPath)
		c.SSO.Issuer, c.SSO.ClientID, c.SSO.ClientSecret, c.SSO.ButtonLabel = o.Issuer, "tacit", clientSecret, buttonLabel
	}})

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
		Server: inst.URL, ClientName: "Ivory", Scopes: "read write", RedirectURIs: redirectURI,
	})
	if err != nil {
		t.Fatal(err)
	}
	authorize := inst.URL + "/oauth/authorize?" + url.Values{
		"client_id": {app.ClientID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
		"scope": {"read write"}, "state": {"ivory-state"},
	}.Encode()

	b.Do(chromedp.Navigate(inst.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("a.sso")))
	b.CheckAccessibility("the sign-in page with the company button")
	b.Screenshot("login-sso")

	b.Do(chromedp.Navigate(authorize), chromedp.WaitVisible(chromedp.CSS("a.sso")))
	b.CheckAccessibility("the authorize page with the company button")
	b.Do(chromedp.Click(chromedp.CSS("a.sso")), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "jo"), chromedp.SendKeys(chromedp.ID("password"), "verysecure"),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.CSS(`button[value="allow"]`)))
	b.CheckAccessibility("the authorize page, signed in")
	b.Screenshot("oauth-authorize-signed-in")
	b.Do(chromedp.Click(chromedp.CSS(`button[value="allow"]`)))

	select {
	case got := <-redirects:
		if got.Get("state") != "ivory-state" || got.Get("code") == "" {
			t.Fatalf("redirect to the app: %v, want a code and the state", got)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the browser never came back to the app; it is at %s", browsertest.Run(b, chromedp.Location()))
	}
}
