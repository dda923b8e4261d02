package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// openSSE opens an event stream with token and returns a channel closed when the
// server ends it. The periodic token recheck (five minutes) is far beyond the wait of
// the tests below, so a stream that ends was ended by the revocation itself.
func openSSE(t *testing.T, inst *instancetest.Instance, token string) <-chan struct{} {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, inst.URL+"/api/v1/streaming/user", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("open stream: %d", resp.StatusCode)
	}
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
	}()
	return ended
}

// openWS opens a WebSocket stream with token and returns a channel closed when the
// server ends it.
func openWS(t *testing.T, inst *instancetest.Instance, token string) <-chan struct{} {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	u := "ws" + inst.URL[len("http"):] + "/api/v1/streaming?stream=user&access_token=" + url.QueryEscape(token)
	ws, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		for {
			if _, _, err := ws.Read(ctx); err != nil {
				return
			}
		}
	}()
	return ended
}

func waitEnded(t *testing.T, what string, ended <-chan struct{}, within time.Duration) {
	t.Helper()
	select {
	case <-ended:
	case <-time.After(within):
		t.Fatalf("%s: the stream is still open %v later", what, within)
	}
}

func stillOpen(t *testing.T, what string, ended <-chan struct{}) {
	t.Helper()
	select {
	case <-ended:
		t.Fatalf("%s: the stream ended", what)
	default:
	}
}

// TestRevokedTokenEndsStreams: revoking a token ends its streams at once, and only
// its streams.
func TestRevokedTokenEndsStreams(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})
	inst.CreateUser(t, "alice", instancetest.UserOptions{})
	other := inst.CreateUser(t, "bob", instancetest.UserOptions{})
	app := oauthRegisterApp(t, inst, oauthCallback, "read")
	a := passwordGrantLocal(t, inst, app, "alice")
	sse, ws := openSSE(t, inst, a), openWS(t, inst, a)
	bystander := openSSE(t, inst, other.Token)
	waitConnections(t, inst, 3)

	if r := inst.Call(t, http.MethodPost, "/oauth/revoke", "", url.Values{"token": {a}, "client_id": {app.ClientID}, "client_secret": {app.ClientSecret}}); r.Code != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.Code, r.Body)
	}
	waitEnded(t, "event stream of a revoked token", sse, 10*time.Second)
	waitEnded(t, "WebSocket of a revoked token", ws, 10*time.Second)
	stillOpen(t, "another account's stream", bystander)
}

// TestSuspensionEndsStreams: suspending an account through the admin API ends its
// streams at once.
func TestSuspensionEndsStreams(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})
	boss := inst.CreateUser(t, "boss", instancetest.UserOptions{Role: community.RoleAdmin, Scopes: []string{"read", "write", "admin:read", "admin:write"}})
	mallory := inst.CreateUser(t, "mallory", instancetest.UserOptions{})
	sse, ws := openSSE(t, inst, mallory.Token), openWS(t, inst, mallory.Token)
	waitConnections(t, inst, 2)
	r := inst.Call(t, http.MethodPost, "/api/v1/admin/accounts/"+community.FormatID(mallory.Account.ID)+"/action", boss.Token, url.Values{"type": {"suspend"}})
	if r.Code != http.StatusOK {
		t.Fatalf("suspend: %d %s", r.Code, r.Body)
	}
	waitEnded(t, "event stream of a suspended account", sse, 10*time.Second)
	waitEnded(t, "WebSocket of a suspended account", ws, 10*time.Second)
}

// TestRevocationByAnotherProcessEndsStreams: a token revoked, or a login disabled,
// straight in the database (an admin command, another replica) ends its streams
// within seconds.
func TestRevocationByAnotherProcessEndsStreams(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		bob := inst.CreateUser(t, "bob", instancetest.UserOptions{})
		carol := inst.CreateUser(t, "carol", instancetest.UserOptions{})
		revoked, disabled, bystander := openSSE(t, inst, alice.Token), openSSE(t, inst, bob.Token), openSSE(t, inst, carol.Token)
		waitConnections(t, inst, 3)
		now := time.Now().UTC()
		if err := inst.DB.Exec("UPDATE tokens SET revoked_at = ? WHERE account_id = ?", now, alice.Account.ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := inst.DB.Exec("UPDATE users SET disabled = ?, updated_at = ? WHERE account_id = ?", true, now, bob.Account.ID).Error; err != nil {
			t.Fatal(err)
		}
		waitEnded(t, "event stream of a token revoked elsewhere", revoked, 30*time.Second)
		waitEnded(t, "event stream of a login disabled elsewhere", disabled, 30*time.Second)
		stillOpen(t, "another account's stream", bystander)
	})
}

// passwordGrantLocal logs in with a password grant and returns the access token.
func passwordGrantLocal(t *testing.T, inst *instancetest.Instance, app *oauthApp, username string) string {
	t.Helper()
	resp, body := oauthPostForm(t, inst, "/oauth/token", url.Values{
		"grant_type": {"password"}, "username": {username}, "password": {instancetest.Password(username)},
		"client_id": {app.ClientID}, "client_secret": {app.ClientSecret}, "scope": {"read"},
	})
	access, _ := oauthAccessToken(t, resp, body)
	return access
}
