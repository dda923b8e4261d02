package federation_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// TestActivityPubTestingSuite runs activitypub-testing (npm, the socialweb.coop test
// suite of ActivityPub's requirements) against an actor of a real instance in open mode,
// where world-scope actors are readable without a signature as on any fediverse server.
// No assertion may fail; the server-to-server ones must pass. The client-to-server ones
// (posting to an outbox) do not apply: Tacit's clients use the Mastodon API, like
// Mastodon's.
//
// It needs Node and `npm ci` in federation/aptesting; without them it is skipped, unless
// TACIT_TEST_NODE is set (CI sets it), in which case their absence fails the test.
func TestActivityPubTestingSuite(t *testing.T) {
	node, err := exec.LookPath("node")
	cli := filepath.Join("aptesting", "node_modules", "activitypub-testing", "src", "cli.js")
	if err == nil {
		_, err = os.Stat(cli)
	}
	if err != nil {
		if os.Getenv("TACIT_TEST_NODE") != "" {
			t.Fatalf("TACIT_TEST_NODE is set but node or activitypub-testing is missing (npm ci in federation/aptesting): %v", err)
		}
		t.Skipf("node or activitypub-testing missing (npm ci in federation/aptesting): %v", err)
	}
	inst := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) { c.Federation.Mode = "open" }})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	inst.PostStatus(t, alice.Token, url.Values{"status": {"Hello, fediverse"}, "visibility": {"public"}, "scope": {"world"}})

	cmd := exec.Command(node, cli, "test", "actor", inst.URL+"/users/alice")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("activitypub-testing: %v\n%s\n%s", err, out, stderr.Bytes())
	}

	var assertion struct {
		Result struct {
			Outcome string `json:"outcome"`
			Info    string `json:"info"`
		} `json:"result"`
		Test struct {
			Slug string `json:"slug"`
		} `json:"test"`
	}
	outcomes := map[string]string{}
	lines := bufio.NewScanner(bytes.NewReader(out))
	lines.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for lines.Scan() {
		line := bytes.TrimSpace(lines.Bytes())
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		if err := json.Unmarshal(line, &assertion); err != nil {
			t.Fatalf("assertion %s: %v", line, err)
		}
		outcomes[assertion.Test.Slug] = assertion.Result.Outcome
		if assertion.Result.Outcome == "failed" {
			t.Errorf("%s failed: %s", assertion.Test.Slug, assertion.Result.Info)
		}
	}
	for _, slug := range []string{
		"actor-must-serve-as2-object-to-get",
		"actor-objects-must-have-inbox-outbox-properties",
		"outbox-must-be-an-orderedcollection",
		"followers-collection-must-be-a-collection",
		"following-collection-must-be-a-collection",
	} {
		if outcomes[slug] != "passed" {
			t.Errorf("%s: %q, want passed", slug, outcomes[slug])
		}
	}
	t.Logf("outcomes: %v", outcomes)
}
