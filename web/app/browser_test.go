package app_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/store/storetest"
)

// browser is a person's browser for the tests: a real HTTP client with a cookie jar
// that does not follow redirects, so that tests see the 303 of every form.
type browser struct {
	t    testing.TB
	base string
	http *http.Client
}

func newBrowser(t testing.TB, inst *instancetest.Instance) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: inst.URL, http: &http.Client{
		Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is an answer as the tests look at it.
type page struct {
	Code   int
	Header http.Header
	Body   string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return page{Code: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post submits a form; headers are name, value pairs.
func (b *browser) post(path string, form url.Values, headers ...string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the token of the forms on the page at path.
func (b *browser) csrf(path string) string {
	b.t.Helper()
	p := b.get(path)
	m := csrfInput.FindStringSubmatch(p.Body)
	if m == nil {
		b.t.Fatalf("GET %s (%d) has no form with a CSRF token", path, p.Code)
	}
	return m[1]
}

// signIn signs in through the sign-in form and fails the test if that does not work.
func (b *browser) signIn(username string) {
	b.t.Helper()
	p := b.post("/login", url.Values{
		"csrf": {b.csrf("/login")}, "login": {username}, "password": {instancetest.Password(username)}, "next": {"/"},
	})
	if p.Code != http.StatusSeeOther || p.Header.Get("Location") != "/" {
		b.t.Fatalf("sign in as %s: %d %s\n%s", username, p.Code, p.Header.Get("Location"), p.Body)
	}
}

// compose publishes a post through the compose form on the home page.
func (b *browser) compose(text, scope, visibility string) page {
	b.t.Helper()
	return b.post("/statuses", url.Values{
		"csrf": {b.csrf("/")}, "text": {text}, "scope": {scope}, "visibility": {visibility}, "back": {"/"},
	})
}

// signedIn reports whether the page shows a signed-in person.
func signedIn(p page) bool { return strings.Contains(p.Body, "Signed in as @") }

func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.base)
	for _, c := range b.http.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// eachDatabase runs fn on SQLite and, when TACIT_TEST_POSTGRES is set, on PostgreSQL,
// for tests that start instances themselves (instancetest.Each starts one).
func eachDatabase(t *testing.T, fn func(t *testing.T, opts instancetest.Options)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, instancetest.Options{}) })
	t.Run("postgres", func(t *testing.T) {
		storetest.PostgresURL(t) // skips the subtest when no server is named
		fn(t, instancetest.Options{Postgres: true})
	})
}
