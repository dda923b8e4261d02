package community

import (
	"context"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/store/storetest"
)

// The set-up the domain's tests share: databases, a service over one, and accounts.

// eachDatabase runs fn as two parallel subtests, "sqlite" and "postgres", each with a
// fresh migrated database; the PostgreSQL one is skipped when TACIT_TEST_POSTGRES is
// unset (before it waits for its turn, so a skip costs nothing).
func eachDatabase(t *testing.T, fn func(t *testing.T, db *gorm.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, storetest.Open(t))
	})
	t.Run("postgres", func(t *testing.T) {
		storetest.PostgresURL(t)
		t.Parallel()
		fn(t, storetest.OpenPostgres(t))
	})
}

// salesService is a service over a migrated database, as one department instance
// (sales.example) of a company whose other instance is hq.example.
func salesService(db *gorm.DB) *Service {
	return NewService(db, Options{
		Host: "sales.example", BaseURL: "https://sales.example", DefaultScope: ScopeCompany,
		Peers: func(h string) bool { return h == "hq.example" },
	})
}

// testService is a service over db as the instance tacit.test, with the default
// options.
func testService(db *gorm.DB) *Service {
	return NewService(db, Options{Host: "tacit.test", BaseURL: "https://tacit.test"})
}

// accountSpec is what the options of storeAccount set.
type accountSpec struct {
	domain   string // "" is local
	locked   bool
	received bool
}

// accountOption adjusts the account storeAccount creates.
type accountOption func(*accountSpec)

// remoteAt makes the account one of another server, domain.
func remoteAt(domain string) accountOption {
	return func(a *accountSpec) { a.domain = domain }
}

// lockedAccount makes the account approve its followers.
func lockedAccount() accountOption {
	return func(a *accountSpec) { a.locked = true }
}

// received stores a remote account the way federation does, through
// UpsertRemoteAccount, with a display name and inboxes: for tests of what happens
// to what arrives from other servers.
func received() accountOption {
	return func(a *accountSpec) { a.received = true }
}

// storeAccount creates an account. Unless received, it writes the row directly: these
// tests are about what accounts do, and a login (a bcrypt hash) would only make them
// slow.
func storeAccount(t testing.TB, s *Service, username string, opts ...accountOption) *Account {
	t.Helper()
	var spec accountSpec
	for _, opt := range opts {
		opt(&spec)
	}
	if spec.received {
		return upsertReceived(t, s, username, spec)
	}
	now := s.clock()
	a := &Account{ID: NewID(), Username: username, Domain: spec.domain, Locked: spec.locked, Fields: Fields{},
		Discoverable: true, CreatedAt: now, UpdatedAt: now}
	if spec.domain == "" {
		a.URI, a.URL = s.AccountURI(username), s.AccountURL(username)
	} else {
		a.URI, a.URL = "https://"+spec.domain+"/users/"+username, "https://"+spec.domain+"/@"+username
	}
	if err := s.db.Create(a).Error; err != nil {
		t.Fatalf("create account %s: %v", username, err)
	}
	return a
}

func upsertReceived(t testing.TB, s *Service, username string, spec accountSpec) *Account {
	t.Helper()
	if spec.domain == "" {
		t.Fatalf("account %s: only a remote account is received", username)
	}
	a, err := s.UpsertRemoteAccount(context.Background(), RemoteAccount{
		URI: "https://" + spec.domain + "/users/" + username, Username: username, Domain: spec.domain,
		DisplayName: strings.ToUpper(username), InboxURL: "https://" + spec.domain + "/users/" + username + "/inbox",
		SharedInboxURL: "https://" + spec.domain + "/inbox", Discoverable: true, Locked: spec.locked,
	})
	if err != nil {
		t.Fatalf("upsert %s@%s: %v", username, spec.domain, err)
	}
	return a
}
