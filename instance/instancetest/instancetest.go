// Package instancetest starts whole Tacit instances for tests: real database (SQLite in
// a temporary directory, or a fresh PostgreSQL schema), real HTTP server on loopback.
package instancetest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/auth"
	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance"
	"github.com/tacit-social/tacit/store/storetest"
)

// Options tune a test instance.
type Options struct {
	// Postgres runs the instance on a fresh schema of the TACIT_TEST_POSTGRES database.
	Postgres bool
	// Configure edits the configuration before the instance starts.
	Configure func(*config.Config)
}

// Instance is a running test instance.
type Instance struct {
	*instance.Instance
	URL    string // base URL, e.g. http://127.0.0.1:39123
	Server *httptest.Server
	t      testing.TB
}

// Start starts an instance that lives until the test ends.
func Start(t testing.TB, opt Options) *Instance {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	return launch(t, srv, opt, nil)
}

// StartCompany starts n instances that federate with each other: each lists all of
// them as peers. Extra peers (hosts of instances started later, or of none) can be
// added with opt.Configure.
func StartCompany(t testing.TB, n int, opt Options) []*Instance {
	t.Helper()
	servers := make([]*httptest.Server, n)
	hosts := make([]string, n)
	for i := range servers {
		servers[i] = httptest.NewUnstartedServer(nil)
		hosts[i] = servers[i].Listener.Addr().String()
	}
	out := make([]*Instance, n)
	for i, srv := range servers {
		out[i] = launch(t, srv, opt, hosts)
	}
	return out
}

func launch(t testing.TB, srv *httptest.Server, opt Options, peers []string) *Instance {
	t.Helper()
	host := srv.Listener.Addr().String()
	cfg := config.Default()
	cfg.Host = host
	cfg.Listen = host
	cfg.Protocol = "http"
	cfg.DataDir = t.TempDir()
	cfg.RateLimit.Requests = 0
	cfg.Federation.Peers = append([]string(nil), peers...)
	if opt.Postgres || storetest.PostgresByDefault() {
		cfg.Database = storetest.PostgresSchema(t)
	}
	if opt.Configure != nil {
		opt.Configure(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("TACIT_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("instance", host)
	}
	inst, err := instance.Open(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("start instance: %v", err)
	}
	srv.Config.Handler = inst.Handler()
	srv.Start()
	ctx, cancel := context.WithCancel(context.Background())
	workers := make(chan struct{})
	go func() {
		defer close(workers)
		_ = inst.RunWorkers(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-workers
		srv.Close()
		inst.Close()
	})
	return &Instance{Instance: inst, URL: srv.URL, Server: srv, t: t}
}

// Each runs fn against an instance on SQLite and, when TACIT_TEST_POSTGRES is set, on
// PostgreSQL, as subtests named after the database.
func Each(t *testing.T, opt Options, fn func(t *testing.T, inst *Instance)) {
	t.Run("sqlite", func(t *testing.T) {
		if storetest.PostgresByDefault() {
			t.Skipf("%s=postgres", storetest.EnvDatabase)
		}
		o := opt
		o.Postgres = false
		fn(t, Start(t, o))
	})
	t.Run("postgres", func(t *testing.T) {
		storetest.PostgresURL(t) // skips the subtest when PostgreSQL is not configured
		o := opt
		o.Postgres = true
		fn(t, Start(t, o))
	})
}

// User is a local account with a logged-in token.
type User struct {
	Account *community.Account
	Token   string
}

// UserOptions tune CreateUser.
type UserOptions struct {
	Locked bool
	Role   community.Role
	Scopes []string // default: read write follow push
}

// CreateUser creates a local account and a token for it, as if the user had logged in
// with an app.
func (inst *Instance) CreateUser(t testing.TB, username string, opt UserOptions) *User {
	t.Helper()
	ctx := context.Background()
	acct, user, err := inst.Community.CreateLocalAccount(ctx, community.NewLocalAccount{
		Username: username,
		Password: Password(username),
		Email:    username + "@example.com",
		Role:     opt.Role,
		Locked:   opt.Locked,
	})
	if err != nil {
		t.Fatalf("create user %s: %v", username, err)
	}
	scopes := opt.Scopes
	if scopes == nil {
		scopes = []string{"read", "write", "follow", "push"}
	}
	app, err := inst.Auth.CreateApplication(ctx, authApp(scopes))
	if err != nil {
		t.Fatalf("create app: %v", err)
	}
	tok, err := inst.Auth.IssueToken(ctx, app.ID, user.ID, acct.ID, scopes, false)
	if err != nil {
		t.Fatalf("issue token: %v", err)
	}
	return &User{Account: acct, Token: tok.AccessToken}
}

// Password is the password CreateUser gives an account. It does not contain the
// username, which the password rules refuse.
func Password(username string) string { return "correct horse battery staple" }

// Client returns a go-mastodon client for the instance, logged in with token ("" for a
// logged-out client). Every JSON answer it receives is checked against the Mastodon
// OpenAPI schema; a mismatch fails the test that started the instance.
func (inst *Instance) Client(token string) *mastodon.Client {
	c := mastodon.NewClient(&mastodon.Config{Server: inst.URL, AccessToken: token})
	c.Timeout = 30 * time.Second
	c.Transport = inst.Transport()
	return c
}

// HTTPClient is a plain HTTP client with the same schema checks as Client, for calls
// go-mastodon does not have.
func (inst *Instance) HTTPClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: inst.Transport(),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Transport is an http.RoundTripper that checks answers against the Mastodon schema.
func (inst *Instance) Transport() http.RoundTripper {
	return schemaChecker{t: inst.t, next: http.DefaultTransport}
}

// Host is the instance's host:port.
func (inst *Instance) Host() string { return strings.TrimPrefix(inst.URL, "http://") }

func authApp(scopes []string) auth.NewApplication {
	return auth.NewApplication{Name: "test", RedirectURIs: []string{auth.OOBRedirect}, Scopes: scopes}
}

// SyncSearch waits until the search index holds every change made so far on this
// instance: indexing is asynchronous, and a test that searches right after writing
// would otherwise race it.
func (inst *Instance) SyncSearch(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for inst.Indexer != nil {
		err := inst.Indexer.Sync(ctx)
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("search index sync: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // the indexer is still starting
	}
}
