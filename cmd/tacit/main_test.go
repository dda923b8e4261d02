package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tacit-social/tacit/instance/instancetest/eventually"
)

// tacit runs the command in-process with a clean environment plus env.
func tacit(t *testing.T, env []string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return tacitWithInput(t, env, "", args...)
}

// tacitWithInput is tacit with stdin as the command's standard input.
func tacitWithInput(t *testing.T, env []string, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, env, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

// initialized returns env for a new instance created with `tacit init`.
func initialized(t *testing.T, env []string) []string {
	t.Helper()
	if out, _, err := tacit(t, env, "init"); err != nil || !strings.Contains(out, "ready") {
		t.Fatalf("init: %v %q", err, out)
	}
	return env
}

func TestAdminCommands(t *testing.T) {
	env := initialized(t, []string{"TACIT_DATA_DIR=" + t.TempDir(), "TACIT_PROTOCOL=http", "TACIT_LOG_LEVEL=error"})

	out, _, err := tacit(t, env, "admin", "create-user", "--username", "alice", "--password", "a long secret phrase",
		"--email", "alice@example.com", "--role", "admin", "--display-name", "Alice", "--locked")
	if err != nil || !strings.Contains(out, "created alice") {
		t.Fatalf("create-user: %v %q", err, out)
	}

	failures := []struct {
		name string
		args []string
		want string
	}{
		{"duplicate username", []string{"--username", "ALICE", "--password", "another long phrase"}, "already taken"},
		{"duplicate email", []string{"--username", "alice2", "--password", "another long phrase", "--email", "Alice@example.com"}, "already in use"},
		{"empty password", []string{"--username", "bob"}, "can't be blank"},
		{"short password", []string{"--username", "bob", "--password", "short"}, "too short"},
		{"common password", []string{"--username", "bob", "--password", "password1"}, "too common"},
		{"bad role", []string{"--username", "bob", "--password", "a long secret phrase", "--role", "king"}, "not one of user, moderator, admin"},
		{"bad username", []string{"--username", "bob smith", "--password", "a long secret phrase"}, "may only contain"},
		{"no username", []string{"--password", "a long secret phrase"}, "can't be blank"},
		{"bad email", []string{"--username", "bob", "--password", "a long secret phrase", "--email", "not-an-address"}, "not a valid address"},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			_, _, err := tacit(t, env, append([]string{"admin", "create-user"}, f.args...)...)
			if err == nil || !strings.Contains(err.Error(), f.want) {
				t.Fatalf("err = %v, want it to mention %q", err, f.want)
			}
		})
	}

	if out, _, err := tacit(t, env, "admin", "set-role", "--username", "alice", "--role", "moderator"); err != nil || !strings.Contains(out, "moderator") {
		t.Fatalf("set-role: %v %q", err, out)
	}
	if _, _, err := tacit(t, env, "admin", "set-role", "--username", "nobody", "--role", "moderator"); err == nil {
		t.Fatal("set-role of an unknown account succeeded")
	}
	if _, _, err := tacit(t, env, "admin", "reset-password", "--username", "alice", "--password", "x"); err == nil {
		t.Fatal("reset-password accepted a weak password")
	}
	if out, _, err := tacit(t, env, "admin", "reset-password", "--username", "alice", "--password", "a brand new phrase"); err != nil || !strings.Contains(out, "changed") {
		t.Fatalf("reset-password: %v %q", err, out)
	}
	if out, _, err := tacit(t, env, "admin", "token", "--username", "alice", "--scopes", "read"); err != nil || len(strings.TrimSpace(out)) < 20 {
		t.Fatalf("token: %v %q", err, out)
	}
	if _, _, err := tacit(t, env, "admin", "token", "--username", "alice", "--scopes", "everything"); err == nil {
		t.Fatal("token accepted an unknown scope")
	}
	if _, _, err := tacit(t, env, "admin", "delete-user", "--username", "alice"); err == nil || !strings.Contains(err.Error(), "--yes") {
		t.Fatalf("delete-user without --yes: err = %v, want a request to confirm", err)
	}
	if out, _, err := tacit(t, env, "admin", "delete-user", "--username", "alice", "--yes"); err != nil || !strings.Contains(out, "deleted") {
		t.Fatalf("delete-user: %v %q", err, out)
	}
	if _, _, err := tacit(t, env, "admin", "token", "--username", "alice"); err == nil {
		t.Fatal("token issued for a deleted account")
	}
	if _, _, err := tacit(t, env, "admin", "create-user", "--username", "Alice", "--password", "a long secret phrase"); err == nil ||
		!strings.Contains(err.Error(), "deleted account") {
		t.Fatalf("create-user with a deleted account's username: err = %v", err)
	}
	if out, _, err := tacit(t, env, "migrate"); err != nil || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate: %v %q", err, out)
	}
	for _, args := range [][]string{{}, {"frobnicate"}, {"admin"}, {"admin", "frobnicate"}} {
		if _, _, err := tacit(t, env, args...); !errors.Is(err, errUsage) {
			t.Errorf("tacit %v: err = %v, want a usage error", args, err)
		}
	}
	if _, _, err := tacit(t, append(env, "TACIT_DEFAULT_SCOPE=galaxy"), "migrate"); err == nil || !strings.Contains(err.Error(), "TACIT_DEFAULT_SCOPE") {
		t.Errorf("bad configuration: err = %v, want it to name TACIT_DEFAULT_SCOPE", err)
	}
}

// TestCreateUserWhileServing creates an account with the admin command while `serve`
// runs on the same data dir, as an operator would, and finds it through the running API.
func TestCreateUserWhileServing(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	// Open mode, so that the new account can be looked up logged out: in company mode
	// only logged-in users see profiles.
	env := []string{"TACIT_DATA_DIR=" + t.TempDir(), "TACIT_PROTOCOL=http", "TACIT_HOST=" + addr,
		"TACIT_LISTEN=" + addr, "TACIT_LOG_LEVEL=error", "TACIT_FEDERATION_MODE=open"}

	defer serveInProcess(t, env, addr)()

	if _, _, err := tacit(t, env, "admin", "create-user", "--username", "carol", "--password", "a long secret phrase"); err != nil {
		t.Fatalf("create-user while serving: %v", err)
	}
	resp, err := http.Get("http://" + addr + "/api/v1/accounts/lookup?acct=carol")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var acct struct{ Username string }
	if err := json.NewDecoder(resp.Body).Decode(&acct); err != nil || resp.StatusCode != http.StatusOK || acct.Username != "carol" {
		t.Fatalf("lookup carol on the running server: %d %v %+v", resp.StatusCode, err, acct)
	}
}

// serveInProcess runs `tacit serve` with env until the returned stop is called, and
// returns once the server at addr answers /health.
func serveInProcess(t *testing.T, env []string, addr string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		var out, errOut bytes.Buffer
		done <- run(ctx, []string{"serve"}, env, strings.NewReader(""), &out, &errOut)
	}()
	waitHealthy(t, "http://"+addr+"/health")
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
}

func waitHealthy(t *testing.T, url string) {
	t.Helper()
	eventually.Holds(t, url+" is healthy", func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// TestReindex rebuilds the search index with the admin command: at once when no server
// runs; while one runs, the rebuilt index waits beside the live one and replaces it at
// the server's next start.
func TestReindex(t *testing.T) {
	dataDir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	env := initialized(t, []string{"TACIT_DATA_DIR=" + dataDir, "TACIT_PROTOCOL=http", "TACIT_LOG_LEVEL=error",
		"TACIT_HOST=" + addr, "TACIT_LISTEN=" + addr})
	for _, u := range []string{"alice", "bob"} {
		if _, _, err := tacit(t, env, "admin", "create-user", "--username", u, "--password", "a long secret phrase"); err != nil {
			t.Fatal(err)
		}
	}
	out, _, err := tacit(t, env, "admin", "reindex")
	if err != nil {
		t.Fatalf("reindex: %v", err)
	}
	if !strings.Contains(out, "indexed 2 documents") || !strings.Contains(out, "rebuilt") || strings.Contains(out, "\r") {
		t.Errorf("reindex output (not a terminal: no progress bar): %q", out)
	}

	serve := func() (stop func()) { return serveInProcess(t, env, addr) }
	token, _, err := tacit(t, env, "admin", "token", "--username", "alice", "--scopes", "read")
	if err != nil {
		t.Fatal(err)
	}
	find := func(q string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/accounts/search?q="+q, nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(token))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var list []struct{ Username string }
		if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("search %s: %d %v", q, resp.StatusCode, err)
		}
		return len(list)
	}

	stop := serve()
	if n := find("bob"); n != 1 {
		t.Errorf("bob found %d times after the offline reindex", n)
	}
	out, _, err = tacit(t, env, "admin", "reindex")
	if err != nil {
		t.Fatalf("reindex while serving: %v", err)
	}
	if !strings.Contains(out, "restarts") {
		t.Errorf("reindex while serving: %q", out)
	}
	stop()
	indexDir := filepath.Join(dataDir, "index")
	if _, err := os.Stat(filepath.Join(indexDir+".rebuilt", "READY")); err != nil {
		t.Fatalf("no rebuilt index waiting: %v", err)
	}
	stop = serve()
	defer stop()
	if _, err := os.Stat(indexDir + ".rebuilt"); !os.IsNotExist(err) {
		t.Errorf("the rebuilt index was not moved into place: %v", err)
	}
	if n := find("alice"); n != 1 {
		t.Errorf("alice found %d times in the swapped-in index", n)
	}
}

// TestAdminCommandsRefuseAnotherInstance runs admin commands where an operator could
// by mistake: from a folder that holds no instance, and without the host and protocol
// the server was started with. Each is refused, and nothing is created.
func TestAdminCommandsRefuseAnotherInstance(t *testing.T) {
	dataDir := t.TempDir()
	env := initialized(t, []string{"TACIT_DATA_DIR=" + dataDir, "TACIT_PROTOCOL=http", "TACIT_HOST=sales.example.com",
		"TACIT_LOG_LEVEL=error"})

	// Positive control: the instance's own settings work.
	if out, _, err := tacit(t, env, "admin", "create-user", "--username", "alice", "--password", "a long secret phrase"); err != nil ||
		!strings.Contains(out, "@alice@sales.example.com") {
		t.Fatalf("create-user with the instance's settings: %v %q", err, out)
	}

	elsewhere := filepath.Join(t.TempDir(), "data")
	_, _, err := tacit(t, []string{"TACIT_DATA_DIR=" + elsewhere, "TACIT_PROTOCOL=http", "TACIT_HOST=sales.example.com",
		"TACIT_LOG_LEVEL=error"}, "admin", "create-user", "--username", "bob", "--password", "a long secret phrase")
	if err == nil || !strings.Contains(err.Error(), "no instance data dir") {
		t.Errorf("create-user in a folder without an instance: %v", err)
	}
	if _, statErr := os.Stat(elsewhere); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("the admin command created %s: %v", elsewhere, statErr)
	}

	for _, wrong := range [][]string{
		{"TACIT_HOST=localhost:8080", "TACIT_PROTOCOL=http"},
		{"TACIT_HOST=sales.example.com", "TACIT_PROTOCOL=https"},
	} {
		env := append([]string{"TACIT_DATA_DIR=" + dataDir, "TACIT_LOG_LEVEL=error"}, wrong...)
		_, _, err := tacit(t, env, "admin", "create-user", "--username", "bob", "--password", "a long secret phrase")
		if err == nil || !strings.Contains(err.Error(), "belongs to http://sales.example.com") {
			t.Errorf("create-user with %v: %v", wrong, err)
		}
		if _, _, err := tacit(t, env, "serve"); err == nil || !strings.Contains(err.Error(), "belongs to http://sales.example.com") {
			t.Errorf("serve with %v: %v", wrong, err)
		}
	}
	if _, _, err := tacit(t, env, "admin", "token", "--username", "bob"); err == nil {
		t.Error("bob exists although every create-user for him was refused")
	}
}

// TestPasswordFromStdin gives passwords on standard input instead of the command line.
func TestPasswordFromStdin(t *testing.T) {
	env := initialized(t, []string{"TACIT_DATA_DIR=" + t.TempDir(), "TACIT_PROTOCOL=http", "TACIT_LOG_LEVEL=error"})
	if _, _, err := tacitWithInput(t, env, "a long secret phrase\n", "admin", "create-user", "--username", "alice", "--password-stdin"); err != nil {
		t.Fatalf("create-user --password-stdin: %v", err)
	}
	if _, _, err := tacitWithInput(t, env, "", "admin", "reset-password", "--username", "alice", "--password-stdin"); err == nil {
		t.Error("reset-password accepted an empty standard input")
	}
	if _, _, err := tacitWithInput(t, env, "short\n", "admin", "reset-password", "--username", "alice", "--password-stdin"); err == nil {
		t.Error("reset-password accepted a too-short password from standard input")
	}
	if out, _, err := tacitWithInput(t, env, "another long phrase\r\n", "admin", "reset-password", "--username", "alice", "--password-stdin"); err != nil ||
		!strings.Contains(out, "changed") {
		t.Fatalf("reset-password --password-stdin: %v %q", err, out)
	}
	if _, _, err := tacitWithInput(t, env, "x\n", "admin", "reset-password", "--username", "alice", "--password", "a", "--password-stdin"); err == nil {
		t.Error("both --password and --password-stdin were accepted")
	}
}
