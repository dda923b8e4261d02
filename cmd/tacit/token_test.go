package main

import (
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestAdminTokenForStaff: the token `tacit admin token` prints for a moderator or admin
// reaches the admin API; a plain user's does not, and admin scopes are refused for them.
func TestAdminTokenForStaff(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	env := initialized(t, []string{"TACIT_DATA_DIR=" + t.TempDir(), "TACIT_PROTOCOL=http", "TACIT_HOST=" + addr,
		"TACIT_LISTEN=" + addr, "TACIT_LOG_LEVEL=error"})
	for _, u := range []struct{ name, role string }{{"boss", "admin"}, {"mod", "moderator"}, {"pat", "user"}} {
		if _, _, err := tacit(t, env, "admin", "create-user", "--username", u.name, "--password", "a long secret phrase", "--role", u.role); err != nil {
			t.Fatal(err)
		}
	}
	token := func(args ...string) string {
		t.Helper()
		out, _, err := tacit(t, env, append([]string{"admin", "token"}, args...)...)
		if err != nil {
			t.Fatalf("token %v: %v", args, err)
		}
		return strings.TrimSpace(out)
	}
	boss, mod, pat := token("--username", "boss"), token("--username", "mod"), token("--username", "pat")
	if _, _, err := tacit(t, env, "admin", "token", "--username", "pat", "--scopes", "read admin:read"); err == nil {
		t.Error("a plain user was given admin scopes")
	}

	defer serveInProcess(t, env, addr)()
	status := func(tok string) int {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/admin/accounts", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := status(boss); code != http.StatusOK {
		t.Errorf("admin API with the admin's token: %d, want 200", code)
	}
	if code := status(mod); code != http.StatusOK {
		t.Errorf("admin API with the moderator's token: %d, want 200", code)
	}
	if code := status(pat); code != http.StatusForbidden {
		t.Errorf("admin API with a user's token: %d, want 403", code)
	}
	// A password reset ends the account's logins.
	if out, _, err := tacit(t, env, "admin", "reset-password", "--username", "pat", "--password", "another long phrase"); err != nil || !strings.Contains(out, "1 access tokens revoked") {
		t.Fatalf("reset-password: %v %q", err, out)
	}
	if code := status(pat); code != http.StatusUnauthorized {
		t.Errorf("a token issued before the password reset: %d, want 401", code)
	}
}
