package sso_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// The tests run a real OpenID provider in-process: zitadel's op package over its
// example storage, with people who belong to groups and can be disabled, and a login
// page the test's browser fills in as a person would.

// person is someone at the provider.
type person struct {
	storage.User
	Groups   []string // nil: the provider sends no groups claim
	Disabled bool
}

// people is the provider's directory (the example storage's UserStore).
type people struct {
	mu     sync.Mutex
	byID   map[string]*person
	client string
}

func (p *people) GetUserByID(id string) *storage.User {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u, ok := p.byID[id]; ok {
		copy := u.User
		return &copy
	}
	return nil
}

func (p *people) GetUserByUsername(username string) *storage.User {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.byID {
		if u.Username == username {
			copy := u.User
			return &copy
		}
	}
	return nil
}

func (p *people) ExampleClientID() string { return p.client }

func (p *people) get(id string) (person, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u, ok := p.byID[id]
	if !ok {
		return person{}, false
	}
	return *u, true
}

// opStorage adds the groups claim to the example storage's ID tokens and userinfo,
// and signs with a key the test can rotate.
type opStorage struct {
	*storage.Storage
	people *people

	keyMu sync.Mutex
	key   *signingKey // nil: the example storage's own key
}

// signingKey is an RSA key the provider signs ID tokens with and publishes.
type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Algorithm() jose.SignatureAlgorithm          { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }
func (k *signingKey) Use() string                                 { return "sig" }

// publicKey is the published half of a signingKey.
type publicKey struct{ *signingKey }

func (k publicKey) Key() any { return &k.key.PublicKey }

// rotateKey makes the provider sign with a new key and publish only that one, as a
// provider does once an old key is retired.
func (s *opStorage) rotateKey(t *testing.T, id string) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	s.key = &signingKey{id: id, key: key}
}

func (s *opStorage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.key == nil {
		return s.Storage.SigningKey(ctx)
	}
	return s.key, nil
}

func (s *opStorage) KeySet(ctx context.Context) ([]op.Key, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.key == nil {
		return s.Storage.KeySet(ctx)
	}
	return []op.Key{publicKey{s.key}}, nil
}

func (s *opStorage) addGroups(info *oidc.UserInfo, subject string) {
	if u, ok := s.people.get(subject); ok && u.Groups != nil {
		info.AppendClaims("groups", u.Groups)
	}
}

func (s *opStorage) SetUserinfoFromScopes(ctx context.Context, info *oidc.UserInfo, userID, clientID string, scopes []string) error {
	if err := s.Storage.SetUserinfoFromScopes(ctx, info, userID, clientID, scopes); err != nil {
		return err
	}
	if slices.Contains(scopes, oidc.ScopeOpenID) {
		s.addGroups(info, userID)
	}
	return nil
}

func (s *opStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, info, tokenID, subject, origin); err != nil {
		return err
	}
	s.addGroups(info, info.Subject)
	return nil
}

// testOP is a running provider.
type testOP struct {
	Issuer  string
	people  *people
	clients map[string]*storage.Client
	storage *opStorage
	op      *op.Provider
}

// startOP starts a provider on loopback for the rest of the test.
func startOP(t *testing.T) *testOP {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	o := &testOP{
		Issuer:  issuer,
		people:  &people{byID: map[string]*person{}, client: "service"},
		clients: map[string]*storage.Client{},
	}
	o.storage = &opStorage{Storage: storage.NewStorageWithClients(o.people, o.clients), people: o.people}
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:      sha256.Sum256([]byte("test provider")),
		CodeMethodS256: true,
		AuthMethodPost: true,
	}, o.storage, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		t.Fatalf("start provider: %v", err)
	}
	o.op = provider
	mux := http.NewServeMux()
	mux.Handle("/login/username", op.NewIssuerInterceptor(provider.IssuerFromRequest).HandlerFunc(o.login))
	mux.Handle("/", provider)
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return o
}

// addClient registers a web client (secret, client_secret_basic) with its redirect URIs.
func (o *testOP) addClient(id, secret string, redirects ...string) {
	o.clients[id] = storage.WebClient(id, secret, redirects...)
}

// addPerson adds someone who signs in with username and the password "verysecure".
func (o *testOP) addPerson(id, username, first, last, email string, verified bool, groups []string) {
	o.people.mu.Lock()
	defer o.people.mu.Unlock()
	o.people.byID[id] = &person{User: storage.User{ID: id, Username: username, Password: "verysecure",
		FirstName: first, LastName: last, Email: email, EmailVerified: verified}, Groups: groups}
}

// change edits someone at the provider.
func (o *testOP) change(id string, edit func(*person)) {
	o.people.mu.Lock()
	defer o.people.mu.Unlock()
	edit(o.people.byID[id])
}

// login is the provider's sign-in page: GET shows the form, POST checks the password.
// A disabled person is sent back to the client with access_denied, as providers do.
func (o *testOP) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id := r.Form.Get("authRequestID")
	if r.Method == http.MethodGet {
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>Example ID</title><form method="post">`+
			`<input type="hidden" name="authRequestID" value="%s"><input id="username" name="username">`+
			`<input id="password" name="password" type="password"><button id="signin" type="submit">Sign in</button></form></html>`,
			html.EscapeString(id))
		return
	}
	username := r.PostForm.Get("username")
	if u := o.people.GetUserByUsername(username); u != nil {
		if p, _ := o.people.get(u.ID); p.Disabled {
			req, err := o.storage.AuthRequestByID(r.Context(), id)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			op.AuthRequestError(w, r, req, oidc.ErrAccessDenied().WithDescription("the account is disabled"), o.op)
			return
		}
	}
	if err := o.storage.CheckUsernamePassword(username, r.PostForm.Get("password"), id); err != nil {
		http.Error(w, "wrong username or password", http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, op.AuthCallbackURL(o.op)(r.Context(), id), http.StatusFound)
}

// browser is a person's browser: it keeps cookies and follows redirects, except to
// addresses that start with one of stop (which it returns instead).
type browser struct {
	t      *testing.T
	client *http.Client
	stop   []string
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t}
	b.client = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		for _, s := range b.stop {
			if strings.HasPrefix(req.URL.String(), s) {
				return http.ErrUseLastResponse
			}
		}
		if len(via) > 10 {
			return fmt.Errorf("too many redirects")
		}
		return nil
	}}
	return b
}

// page is an answer as the browser ended on it.
type page struct {
	Status   int
	URL      *url.URL // the address of the last request
	Location string   // where a redirect the browser stopped at leads
	Body     string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return page{Status: resp.StatusCode, URL: resp.Request.URL, Location: resp.Header.Get("Location"), Body: sb.String()}
}

func (b *browser) get(rawURL string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post submits a form as the page at origin does.
func (b *browser) post(rawURL, origin string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return b.do(req)
}

// signInAtProvider fills in the provider's login page the browser is on.
func (b *browser) signInAtProvider(at page, username string) page {
	b.t.Helper()
	if at.Status != http.StatusOK || at.URL.Path != "/login/username" {
		b.t.Fatalf("expected the provider's login page, got %d at %s: %s", at.Status, at.URL, at.Body)
	}
	u := *at.URL
	u.RawQuery = ""
	return b.post(u.String(), "", url.Values{
		"authRequestID": {at.URL.Query().Get("authRequestID")},
		"username":      {username},
		"password":      {"verysecure"},
	})
}

// cookie is the value of a cookie the browser holds for rawURL.
func (b *browser) cookie(rawURL, name string) string {
	u, _ := url.Parse(rawURL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// attr finds the first match of pattern's group in body, HTML-unescaped.
func attr(t *testing.T, body, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("%s not found in:\n%s", pattern, body)
	}
	return html.UnescapeString(m[1])
}
