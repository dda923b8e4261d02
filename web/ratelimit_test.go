package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/tacit-social/tacit/auth"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/federation"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
)

// limited starts an instance with client rate limits small enough to reach in a test.
func limited(t *testing.T, requests int, trusted ...string) *instancetest.Instance {
	t.Helper()
	return instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) {
		c.RateLimit.Requests = requests
		c.RateLimit.Window = time.Hour
		c.TrustedProxies = trusted
	}})
}

// TestSpoofedForwardedForIsIgnored: a client that is not a configured proxy cannot
// escape the per-address limit by claiming a new address in every request.
func TestSpoofedForwardedForIsIgnored(t *testing.T) {
	t.Parallel()
	inst := limited(t, 3)
	for i := range 4 {
		a := inst.Call(t, http.MethodGet, "/api/v1/instance", "", nil, "X-Forwarded-For", "203.0.113."+strconv.Itoa(i+1))
		want := http.StatusOK
		if i == 3 {
			want = http.StatusTooManyRequests
		}
		if a.Code != want {
			t.Fatalf("request %d with a made-up X-Forwarded-For: %d, want %d", i+1, a.Code, want)
		}
	}
}

// TestTrustedProxyForwardedFor: behind a configured proxy, X-Forwarded-For names the
// client, and each client has its own budget.
func TestTrustedProxyForwardedFor(t *testing.T) {
	t.Parallel()
	inst := limited(t, 2, "127.0.0.1", "::1")
	for i := range 3 {
		a := inst.Call(t, http.MethodGet, "/api/v1/instance", "", nil, "X-Forwarded-For", "203.0.113.1")
		if want := map[bool]int{true: http.StatusTooManyRequests, false: http.StatusOK}[i == 2]; a.Code != want {
			t.Fatalf("client 1, request %d: %d, want %d", i+1, a.Code, want)
		}
	}
	if a := inst.Call(t, http.MethodGet, "/api/v1/instance", "", nil, "X-Forwarded-For", "203.0.113.2"); a.Code != http.StatusOK {
		t.Fatalf("another client behind the proxy: %d, want 200", a.Code)
	}
	// An IPv6 client counts by its /64: new addresses in it buy nothing.
	for i, addr := range []string{"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"} {
		a := inst.Call(t, http.MethodGet, "/api/v1/instance", "", nil, "X-Forwarded-For", addr)
		if want := map[bool]int{true: http.StatusTooManyRequests, false: http.StatusOK}[i == 2]; a.Code != want {
			t.Fatalf("IPv6 client %s: %d, want %d", addr, a.Code, want)
		}
	}
	if a := inst.Call(t, http.MethodGet, "/api/v1/instance", "", nil, "X-Forwarded-For", "2001:db8:1:3::1"); a.Code != http.StatusOK {
		t.Fatalf("a client in another /64: %d, want 200", a.Code)
	}
}

// TestRateLimitPerAccount: a second token of the same account shares the account's
// budget, so minting tokens buys no extra requests.
func TestRateLimitPerAccount(t *testing.T) {
	t.Parallel()
	inst := limited(t, 4)
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	second := inst.CreateUser(t, "alice2", instancetest.UserOptions{}) // another account: its own budget
	extra := extraToken(t, inst, alice)
	for i, tok := range []string{alice.Token, alice.Token, extra, extra} {
		if a := inst.Call(t, http.MethodGet, "/api/v1/accounts/verify_credentials", tok, nil); a.Code != http.StatusOK {
			t.Fatalf("request %d within the budget: %d", i+1, a.Code)
		}
	}
	if a := inst.Call(t, http.MethodGet, "/api/v1/accounts/verify_credentials", extra, nil); a.Code != http.StatusTooManyRequests {
		t.Fatalf("fifth request of one account through two tokens: %d, want 429", a.Code)
	}
	if a := inst.Call(t, http.MethodGet, "/api/v1/accounts/verify_credentials", second.Token, nil); a.Code != http.StatusOK {
		t.Fatalf("another account: %d, want 200", a.Code)
	}
}

// TestCredentialsLimit: app registrations and token requests from one address are
// bounded apart from the API budget.
func TestCredentialsLimit(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) {
		c.RateLimit.Requests = 1000
		c.RateLimit.Credentials = 3
		c.RateLimit.Window = time.Hour
	}})
	register := func() instancetest.Answer {
		return inst.Call(t, http.MethodPost, "/api/v1/apps", "", url.Values{
			"client_name": {"minted"}, "redirect_uris": {"urn:ietf:wg:oauth:2.0:oob"}, "scopes": {"read"},
		})
	}
	for i := range 3 {
		if a := register(); a.Code != http.StatusOK {
			t.Fatalf("registration %d: %d %s", i+1, a.Code, a.Body)
		}
	}
	if a := register(); a.Code != http.StatusTooManyRequests {
		t.Fatalf("fourth registration: %d, want 429", a.Code)
	}
	if a := inst.Call(t, http.MethodPost, "/oauth/token", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {"x"}, "client_secret": {"y"}}); a.Code != http.StatusTooManyRequests {
		t.Fatalf("token request past the limit: %d, want 429", a.Code)
	}
}

// passwordGrant asks for a token with a password, as from the client address addr
// (the instance trusts the loopback proxy).
func passwordGrant(t *testing.T, inst *instancetest.Instance, app *oauthApp, addr, login, password string) instancetest.Answer {
	t.Helper()
	return inst.Call(t, http.MethodPost, "/oauth/token", "", url.Values{
		"grant_type": {"password"}, "username": {login}, "password": {password},
		"client_id": {app.ClientID}, "client_secret": {app.ClientSecret}, "scope": {"read"},
	}, "X-Forwarded-For", addr)
}

// TestLoginThrottlesTheAttackerNotTheOwner: wrong passwords from one address stop that
// address, whether it types the username or the e-mail address, while the owner,
// from their own address, still signs in.
func TestLoginThrottlesTheAttackerNotTheOwner(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1", "::1"}
	}})
	inst.CreateUser(t, "alice", instancetest.UserOptions{})
	app := oauthRegisterApp(t, inst, oauthCallback, "read")
	const attacker, owner = "203.0.113.66", "198.51.100.7"
	for i := range 5 {
		if a := passwordGrant(t, inst, app, attacker, "alice", "wrong password"); a.Code != http.StatusBadRequest {
			t.Fatalf("guess %d by name: %d %s", i+1, a.Code, a.Body)
		}
		if a := passwordGrant(t, inst, app, attacker, "alice@example.com", "wrong password"); a.Code != http.StatusBadRequest {
			t.Fatalf("guess %d by e-mail: %d %s", i+1, a.Code, a.Body)
		}
	}
	// Ten guesses in all: the e-mail address is the same account, not a fresh counter.
	if a := passwordGrant(t, inst, app, attacker, "ALICE@example.com", "wrong password"); a.Code != http.StatusTooManyRequests {
		t.Fatalf("eleventh guess, by e-mail: %d, want 429", a.Code)
	}
	if a := passwordGrant(t, inst, app, attacker, "alice", instancetest.Password("alice")); a.Code != http.StatusTooManyRequests {
		t.Fatalf("the attacker's address with the right password: %d, want 429", a.Code)
	}
	// The owner is not locked out.
	if a := passwordGrant(t, inst, app, owner, "alice", instancetest.Password("alice")); a.Code != http.StatusOK {
		t.Fatalf("the owner from their own address: %d %s", a.Code, a.Body)
	}
}

// TestLoginThrottlePerAddress: one address spraying a password over many names is
// stopped by its own count.
func TestLoginThrottlePerAddress(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1", "::1"}
	}})
	inst.CreateUser(t, "bob", instancetest.UserOptions{})
	app := oauthRegisterApp(t, inst, oauthCallback, "read")
	const sprayer = "203.0.113.9"
	for i := range 30 {
		if a := passwordGrant(t, inst, app, sprayer, "user"+strconv.Itoa(i), "Summer2026!"); a.Code != http.StatusBadRequest {
			t.Fatalf("guess %d: %d %s", i+1, a.Code, a.Body)
		}
	}
	if a := passwordGrant(t, inst, app, sprayer, "bob", "Summer2026!"); a.Code != http.StatusTooManyRequests {
		t.Fatalf("a sprayer's next guess: %d, want 429", a.Code)
	}
	if a := passwordGrant(t, inst, app, "198.51.100.1", "bob", instancetest.Password("bob")); a.Code != http.StatusOK {
		t.Fatalf("bob from elsewhere: %d %s", a.Code, a.Body)
	}
}

// extraToken mints another token for u's account through another app.
func extraToken(t *testing.T, inst *instancetest.Instance, u *instancetest.User) string {
	t.Helper()
	ctx := context.Background()
	user, err := inst.Community.UserByAccountID(ctx, u.Account.ID)
	if err != nil {
		t.Fatal(err)
	}
	app, err := inst.Auth.CreateApplication(ctx, auth.NewApplication{Name: "second", RedirectURIs: []string{auth.OOBRedirect}, Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := inst.Auth.IssueToken(ctx, app.ID, user.ID, u.Account.ID, []string{"read"}, false)
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// TestFederationTrafficHasItsOwnLimit: a peer's signed fetches and deliveries are not
// counted against the client limit of its address, but against its own, after the
// signature check; requests whose signature fails count per address like any client.
func TestFederationTrafficHasItsOwnLimit(t *testing.T) {
	t.Parallel()
	started := 0
	insts := instancetest.StartCompany(t, 2, instancetest.Options{Configure: func(c *config.Config) {
		if started == 0 { // the limits are A's; B posts through its API freely
			c.RateLimit.Requests = 3
			c.RateLimit.Federation = 40
			c.RateLimit.Window = time.Hour
		}
		started++
	}})
	a, b := insts[0], insts[1]
	ctx := context.Background()
	a.CreateUser(t, "alice", instancetest.UserOptions{})

	for i := range 10 {
		if _, err := b.Federator.Fetch(ctx, a.URL+"/users/alice"); err != nil {
			t.Fatalf("signed fetch %d by a peer: %v", i+1, err)
		}
	}
	bob := b.CreateUser(t, "bob", instancetest.UserOptions{})
	for i := range 5 {
		b.PostStatus(t, bob.Token, url.Values{"status": {"delivery " + strconv.Itoa(i)}, "scope": {"company"}})
	}
	eventually.Holds(t, "A holds B's 5 posts (deliveries are not refused)", func() bool {
		var n int64
		if err := a.DB.Table("statuses").Where("uri LIKE ?", b.URL+"/%").Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n == 5
	})

	// Signatures that fail count against the address: 401 until the address's
	// budget of 3 is spent (peers' fetches of the instance actor, served without a
	// check, count there too), then 429.
	badSig := func() int {
		req, err := http.NewRequest(http.MethodGet, a.URL+"/users/alice", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "application/activity+json")
		req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
		req.Header.Set("Signature", `keyId="`+b.URL+`/actor#main-key",headers="(request-target) host date",signature="AAAA"`)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := badSig(); code != http.StatusUnauthorized {
		t.Fatalf("badly signed request: %d, want 401", code)
	}
	for i := 0; ; i++ {
		code := badSig()
		if code == http.StatusTooManyRequests {
			break
		}
		if code != http.StatusUnauthorized || i == 3 {
			t.Fatalf("badly signed request %d: %d, want 401 then 429 within the address's budget", i+2, code)
		}
	}
	// A signature header elsewhere than on federation routes buys nothing.
	if r := a.Call(t, http.MethodGet, "/api/v1/instance", "", nil, "Signature", `keyId="x",signature="AAAA"`); r.Code != http.StatusTooManyRequests {
		t.Fatalf("client API request with a Signature header past the address's limit: %d, want 429", r.Code)
	}
	// The peer is not held back by its address's client budget...
	if _, err := b.Federator.Fetch(ctx, a.URL+"/users/alice"); err != nil {
		t.Fatalf("signed fetch after the address's client budget is spent: %v", err)
	}
	// ...but by its own.
	for i := 0; ; i++ {
		_, err := b.Federator.Fetch(ctx, a.URL+"/users/alice")
		if err == nil {
			if i > 40 {
				t.Fatal("the peer's limit never applied")
			}
			continue
		}
		var se *federation.StatusError
		if !errors.As(err, &se) || se.Code != http.StatusTooManyRequests {
			t.Fatalf("fetch past the peer's limit: %v, want 429", err)
		}
		break
	}
}
