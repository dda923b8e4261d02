package web_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tacit-social/tacit/instance/instancetest"
)

// clientsEnv, set to 1, makes the real-client tests fail instead of skipping when
// Mastodon.py or toot is missing (CI installs them: Debian's python3-mastodon and
// toot).
const clientsEnv = "TACIT_TEST_CLIENTS"

// python is Debian's interpreter, where python3-mastodon and toot are installed.
const python = "/usr/bin/python3"

// needClients skips the test when the real clients are not installed, unless
// TACIT_TEST_CLIENTS=1 demands them.
func needClients(t *testing.T) {
	t.Helper()
	missing := ""
	if err := exec.Command(python, "-c", "import mastodon, toot").Run(); err != nil {
		missing = "Mastodon.py or toot's module (" + err.Error() + ")"
	} else if _, err := exec.LookPath("toot"); err != nil {
		missing = "the toot command"
	}
	if missing == "" {
		return
	}
	if os.Getenv(clientsEnv) == "1" {
		t.Fatalf("%s is missing and %s=1 (apt-get install python3-mastodon toot)", missing, clientsEnv)
	}
	t.Skipf("%s is missing (apt-get install python3-mastodon toot, or set %s=1 to insist)", missing, clientsEnv)
}

// run runs a command with a deadline and returns its combined output.
func run(t *testing.T, stdin string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestMastodonPy runs Mastodon.py through a typical use: the version check on
// /api/v1/instance/, a post, a poll and a vote, an edit, search v2 and the user
// stream; then toot's browser login through /oauth/authorize/.
func TestMastodonPy(t *testing.T) {
	needClients(t)
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	inst.SyncSearch(t)
	out, err := run(t, "", nil, python, filepath.Join("testdata", "clients.py"),
		inst.URL, alice.Token, "alice@example.com", instancetest.Password("alice"))
	if err != nil {
		t.Fatalf("clients.py: %v\n%s", err, out)
	}
	t.Logf("clients.py:\n%s", out)
}

// TestTootCLI logs in with the toot command (app registration and password grant),
// posts and reads the home timeline back.
func TestTootCLI(t *testing.T) {
	needClients(t)
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})
	inst.CreateUser(t, "alice", instancetest.UserOptions{})
	env := []string{"XDG_CONFIG_HOME=" + t.TempDir(), "HOME=" + t.TempDir(), "NO_COLOR=1", "TERM=dumb"}
	toot := func(stdin string, args ...string) string {
		t.Helper()
		out, err := run(t, stdin, env, "toot", args...)
		if err != nil {
			t.Fatalf("toot %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	out := toot(instancetest.Password("alice"), "login_cli", "--instance", inst.Host(), "--disable-https", "--email", "alice@example.com")
	if !strings.Contains(out, "Successfully logged in") {
		t.Fatalf("toot login_cli:\n%s", out)
	}
	toot("", "post", "hello from toot")
	if out := toot("", "timeline", "--once"); !strings.Contains(out, "hello from toot") {
		t.Fatalf("toot timeline does not show the post:\n%s", out)
	}
	if out := toot("", "whoami"); !strings.Contains(out, "alice") {
		t.Fatalf("toot whoami:\n%s", out)
	}
}
