package main

import (
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestAdminSCIMToken: `tacit admin scim-token` prints a token the running server's
// SCIM service accepts, lists it with its last use, and revokes it.
func TestAdminSCIMToken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	env := initialized(t, []string{"TACIT_DATA_DIR=" + t.TempDir(), "TACIT_PROTOCOL=http", "TACIT_HOST=" + addr,
		"TACIT_LISTEN=" + addr, "TACIT_LOG_LEVEL=error"})
	out, _, err := tacit(t, env, "admin", "scim-token", "--name", "okta")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := lines[len(lines)-1]
	if _, _, err := tacit(t, env, "admin", "scim-token", "--name", "okta"); err == nil {
		t.Error("a second live token with the same name")
	}

	defer serveInProcess(t, env, addr)()
	status := func() int {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/scim/v2/Users", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := status(); code != http.StatusOK {
		t.Fatalf("SCIM with the new token: %d", code)
	}
	list, _, err := tacit(t, env, "admin", "scim-token", "--list")
	if err != nil || !strings.Contains(list, "okta") || strings.Contains(list, token) {
		t.Fatalf("list: %v\n%s", err, list)
	}
	if fields := strings.Fields(strings.Split(strings.TrimSpace(list), "\n")[1]); len(fields) != 5 || fields[3] == "-" || fields[4] != "-" {
		t.Fatalf("list shows no last use, or a revocation: %s", list)
	}
	if _, _, err := tacit(t, env, "admin", "scim-token", "--revoke", "okta"); err != nil {
		t.Fatal(err)
	}
	if code := status(); code != http.StatusUnauthorized {
		t.Fatalf("SCIM with the revoked token: %d", code)
	}
	if _, _, err := tacit(t, env, "admin", "scim-token", "--revoke", "okta"); err == nil {
		t.Error("revoking a revoked token succeeded")
	}
}
