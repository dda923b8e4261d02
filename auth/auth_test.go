package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/store/storetest"
)

func TestValidateRedirectURI(t *testing.T) {
	for _, tc := range []struct {
		uri string
		ok  bool
	}{
		{OOBRedirect, true},
		{"https://client.example/callback", true},
		{"http://127.0.0.1:8080/cb", true},
		{"elk://callback", true},
		{"org.joinmastodon.android://oauth", true},
		{"com.example.app:/oauth2redirect", true},
		{"/callback", false},
		{"callback", false},
		{"https://client.example/cb#token", false},
		{"https:///nohost", false},
		{"javascript:alert(1)", false},
		{"JavaScript:alert(1)", false},
		{"data:text/html,hi", false},
		{"https://a.example/a b", false},
	} {
		err := ValidateRedirectURI(tc.uri)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateRedirectURI(%q) = %v, want ok=%v", tc.uri, err, tc.ok)
		}
		if err != nil && community.KindOf(err) != community.KindInvalid {
			t.Errorf("ValidateRedirectURI(%q): error kind %v, want Invalid", tc.uri, community.KindOf(err))
		}
	}
}

func TestAllowsRedirect(t *testing.T) {
	app := &Application{RedirectURIs: "https://client.example/cb\nhttp://127.0.0.1/native\nhttp://[::1]/v6\nmyapp://cb"}
	for uri, want := range map[string]bool{
		"https://client.example/cb":       true,
		"https://client.example/cb?x=1":   false,
		"https://client.example/cb/":      false,
		"https://client.example:8443/cb":  false,
		"http://127.0.0.1/native":         true,
		"http://127.0.0.1:53682/native":   true, // any port on loopback (RFC 8252)
		"http://127.0.0.1:53682/other":    false,
		"http://localhost:53682/native":   false, // another host
		"http://[::1]:4000/v6":            true,
		"https://127.0.0.1:53682/native":  false,
		"http://user@127.0.0.1:1/native":  false,
		"myapp://cb":                      true,
		"myapp://cb2":                     false,
		"http://127.0.0.1.evil.example/x": false,
	} {
		if got := app.AllowsRedirect(uri); got != want {
			t.Errorf("AllowsRedirect(%q) = %v, want %v", uri, got, want)
		}
	}
}

func TestPKCE(t *testing.T) {
	verifier := strings.Repeat("abcDEF123-._~", 4)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	if !verifyPKCE(challenge, verifier) {
		t.Fatal("the right verifier was refused")
	}
	for name, v := range map[string]string{"wrong": strings.Repeat("x", 43), "missing": "", "the challenge itself": challenge} {
		if verifyPKCE(challenge, v) {
			t.Errorf("%s verifier accepted", name)
		}
	}
	if !verifyPKCE("", "") {
		t.Error("no challenge, no verifier must pass")
	}
	if verifyPKCE("", verifier) {
		t.Error("a verifier for a code without a challenge must be refused")
	}
	for s, want := range map[string]bool{
		strings.Repeat("a", 42): false, strings.Repeat("a", 43): true, strings.Repeat("a", 128): true,
		strings.Repeat("a", 129): false, strings.Repeat("a", 42) + "=": false, strings.Repeat("a", 42) + "/": false,
	} {
		if ValidPKCEValue(s) != want {
			t.Errorf("ValidPKCEValue(%q) = %v", s, !want)
		}
	}
}

func TestScopes(t *testing.T) {
	known, unknown := ParseScopes("read write:statuses+follow,read bogus")
	if !slices.Equal(known, []string{"read", "write:statuses", "follow"}) || !slices.Equal(unknown, []string{"bogus"}) {
		t.Fatalf("ParseScopes: %v %v", known, unknown)
	}
	for _, tc := range []struct {
		requested, allowed []string
		want               bool
	}{
		{[]string{"read:statuses"}, []string{"read"}, true},
		{[]string{"read"}, []string{"read:statuses"}, false},
		{[]string{"write:follows"}, []string{"follow"}, true},
		{[]string{"profile"}, []string{"read", "write"}, false},
		{[]string{"admin:read:accounts"}, []string{"admin:read"}, true},
		{[]string{"read", "push"}, []string{"read", "write"}, false},
	} {
		if got := Subset(tc.requested, tc.allowed); got != tc.want {
			t.Errorf("Subset(%v, %v) = %v", tc.requested, tc.allowed, got)
		}
	}
	all := AllScopes()
	for _, sc := range all {
		if !ValidScope(sc) {
			t.Errorf("AllScopes lists unknown scope %s", sc)
		}
	}
	if len(all) < 40 || !slices.Contains(all, "profile") || !slices.Contains(all, "write:media") {
		t.Errorf("AllScopes is incomplete: %v", all)
	}
}

func TestLoginThrottle(t *testing.T) {
	now := time.Date(2025, 1, 31, 12, 0, 0, 0, time.UTC)
	s := &Service{now: func() time.Time { return now }}
	const alice, attacker, owner = "account:1", "192.0.2.66", "198.51.100.7"
	for i := range MaxLoginFailures {
		if !s.LoginAllowed(alice, attacker) {
			t.Fatalf("refused after %d failures", i)
		}
		s.LoginFailed(alice, attacker)
		now = now.Add(10 * time.Second)
	}
	if s.LoginAllowed(alice, attacker) {
		t.Fatal("allowed after the maximum of failures from one address")
	}
	// The owner, from another address, is not locked out.
	if !s.LoginAllowed(alice, owner) {
		t.Fatal("the owner was locked out by someone else's failures")
	}
	if !s.LoginAllowed("account:2", attacker) {
		t.Fatal("another account was throttled for the same address")
	}
	// The oldest failure leaves the window: one more attempt is allowed, not ten.
	now = now.Add(LoginFailureWindow - 100*time.Second + time.Second)
	if !s.LoginAllowed(alice, attacker) {
		t.Fatal("still refused after the oldest failure left the window")
	}
	s.LoginFailed(alice, attacker)
	if s.LoginAllowed(alice, attacker) {
		t.Fatal("a fresh failure at the limit must refuse again")
	}
	// A successful login from that address clears its slate with the account.
	s.LoginSucceeded(alice, attacker)
	if !s.LoginAllowed(alice, attacker) {
		t.Fatal("refused after a successful login")
	}
	// Names whose failures expired are forgotten.
	s.LoginFailed("login:carol", attacker)
	now = now.Add(2 * LoginFailureWindow)
	s.LoginFailed("login:dave", attacker)
	if _, ok := s.logins.failures[acctKey("login:carol")]; ok {
		t.Fatal("expired failures were not swept")
	}
}

// TestLoginThrottleSpray: one address trying one password against many accounts is
// stopped by its own count, whatever the names.
func TestLoginThrottleSpray(t *testing.T) {
	now := time.Date(2025, 1, 31, 12, 0, 0, 0, time.UTC)
	s := &Service{now: func() time.Time { return now }}
	const sprayer = "203.0.113.9"
	for i := range MaxAddressFailures {
		subject := "login:user" + strconv.Itoa(i)
		if !s.LoginAllowed(subject, sprayer) {
			t.Fatalf("refused after %d failures", i)
		}
		s.LoginFailed(subject, sprayer)
	}
	if s.LoginAllowed("account:42", sprayer) {
		t.Fatal("an address past its failure limit may still guess another account")
	}
	if !s.LoginAllowed("account:42", "198.51.100.1") {
		t.Fatal("another address was throttled")
	}
}

// TestLoginThrottleDistributed: many addresses against one account slow it down past
// the account-wide ceiling, but an address the owner signed in from is never held
// back, and a new one waits seconds, not minutes.
func TestLoginThrottleDistributed(t *testing.T) {
	now := time.Date(2025, 1, 31, 12, 0, 0, 0, time.UTC)
	s := &Service{now: func() time.Time { return now }}
	const alice, home = "account:1", "198.51.100.7"
	s.LoginSucceeded(alice, home)
	for i := range AccountFailureCeiling {
		addr := "203.0.113." + strconv.Itoa(i%250)
		if !s.LoginAllowed(alice, addr) {
			t.Fatalf("refused below the ceiling after %d failures", i)
		}
		s.LoginFailed(alice, addr)
	}
	// Past the ceiling: one guess per interval from unknown addresses.
	if !s.LoginAllowed(alice, "192.0.2.1") {
		t.Fatal("the first guess past the ceiling must be admitted")
	}
	if s.LoginAllowed(alice, "192.0.2.2") {
		t.Fatal("a second guess within the interval was admitted")
	}
	if !s.LoginAllowed(alice, home) {
		t.Fatal("the owner's known address was held back")
	}
	now = now.Add(AccountSlowInterval)
	if !s.LoginAllowed(alice, "192.0.2.3") {
		t.Fatal("a guess after the interval was refused")
	}
}

// newFixture returns a service over a migrated database with one user and one app.
func newFixture(t *testing.T, db *gorm.DB) (*Service, *Application, *community.User, *community.Account) {
	t.Helper()
	ctx := context.Background()
	cs := community.NewService(db, community.Options{Host: "example.test", BaseURL: "https://example.test"})
	acct, user, err := cs.CreateLocalAccount(ctx, community.NewLocalAccount{Username: "zoe", Password: "a long enough secret"})
	if err != nil {
		t.Fatal(err)
	}
	s := NewService(db)
	app, err := s.CreateApplication(ctx, NewApplication{Name: "T", RedirectURIs: []string{"https://c.example/cb"}, Scopes: []string{"read write"}})
	if err != nil {
		t.Fatal(err)
	}
	return s, app, user, acct
}

// TestCodeSingleUse exchanges one code from many goroutines at once: exactly one wins,
// on both databases; a replay revokes the winner's token.
func TestCodeSingleUse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		s, app, user, acct := newFixture(t, db)
		code, err := s.CreateAuthorizationCode(ctx, Grant{
			ApplicationID: app.ID, UserID: user.ID, AccountID: acct.ID,
			RedirectURI: "https://c.example/cb", Scopes: []string{"read"},
		})
		if err != nil {
			t.Fatal(err)
		}
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			wins   []*IssuedToken
			denied int
		)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tok, err := s.ExchangeCode(ctx, app, CodeExchange{Code: code, RedirectURI: "https://c.example/cb"})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins = append(wins, tok)
				case errors.Is(err, ErrInvalidGrant):
					denied++
				default:
					t.Errorf("exchange: %v", err)
				}
			}()
		}
		wg.Wait()
		if len(wins) != 1 || denied != 7 {
			t.Fatalf("%d exchanges won and %d were denied, want 1 and 7", len(wins), denied)
		}
		tok := wins[0]
		if *tok.Token.AccountID != acct.ID || *tok.Token.UserID != user.ID || tok.Token.Scopes != "read" || tok.RefreshToken == "" {
			t.Fatalf("issued token: %+v", tok.Token)
		}
		// Losers that came after the winner committed were replays and may already
		// have revoked its token; an explicit replay certainly does.
		if _, err := s.ExchangeCode(ctx, app, CodeExchange{Code: code}); !errors.Is(err, ErrInvalidGrant) {
			t.Fatalf("replay: %v", err)
		}
		if _, err := s.LookupToken(ctx, tok.AccessToken); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("token of a replayed code must be revoked, got %v", err)
		}
	})
}

func TestCodeExpires(t *testing.T) {
	ctx := context.Background()
	s, app, user, acct := newFixture(t, storetest.Open(t))
	now := time.Now()
	s.now = func() time.Time { return now }
	g := Grant{ApplicationID: app.ID, UserID: user.ID, AccountID: acct.ID, RedirectURI: "https://c.example/cb", Scopes: []string{"read"}}
	code, err := s.CreateAuthorizationCode(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(CodeTTL)
	if _, err := s.ExchangeCode(ctx, app, CodeExchange{Code: code}); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("expired code: %v", err)
	}
	// Creating another code sweeps the expired one away.
	if _, err := s.CreateAuthorizationCode(ctx, g); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := s.db.Model(&AuthorizationCode{}).Count(&n).Error; err != nil || n != 1 {
		t.Fatalf("%d codes stored (%v), want only the fresh one", n, err)
	}
}
