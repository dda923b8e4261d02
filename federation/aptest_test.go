package federation_test

import (
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tacit-social/tacit/instance/instancetest"
)

// TestActivityPubTesting runs the activitypub-testing suite (npm, in federation/aptest)
// against the actors of an open-mode instance, which logged-out clients may read as
// the suite does. Every case that applies to a server without client-to-server
// support must pass; the client-to-server ones are listed in c2sOnly. It needs Node
// and `npm ci` in federation/aptest; without them it is skipped, unless
// TACIT_TEST_NODE is set (CI sets it), in which case their absence fails the test.
func TestActivityPubTesting(t *testing.T) {
	required := os.Getenv("TACIT_TEST_NODE") != ""
	node, err := exec.LookPath("node")
	cli := filepath.Join("aptest", "node_modules", "activitypub-testing", "src", "cli.js")
	if err == nil {
		_, err = os.Stat(cli)
	}
	if err != nil {
		if required {
			t.Fatalf("TACIT_TEST_NODE is set but node or activitypub-testing is missing (run npm ci in federation/aptest): %v", err)
		}
		t.Skipf("node or activitypub-testing missing (run npm ci in federation/aptest): %v", err)
	}
	inst := instancetest.Start(t, openMode(true))
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	inst.PostStatus(t, alice.Token, url.Values{"status": {"Hello, fediverse"}, "scope": {"world"}})

	for _, actor := range []string{alice.Account.URI, inst.URL + "/actor"} {
		cmd := exec.Command(node, filepath.Join("node_modules", "activitypub-testing", "src", "cli.js"),
			"test", "actor", actor) // JSON text sequences (RFC 7464); "json" would fetch a context from the network
		cmd.Dir = "aptest"
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("activitypub-testing on %s: %v\n%s\n%s", actor, err, out, stderr)
		}
		passed := map[string]bool{}
		for _, r := range parseAssertions(t, out) {
			passed[r.Slug] = r.Outcome == "passed"
			if r.Outcome == "passed" || r.Outcome == "inapplicable" || c2sOnly[r.Slug] {
				continue
			}
			t.Errorf("%s: %s: %s %s", actor, r.Slug, r.Outcome, r.Info)
		}
		for _, slug := range mustPass {
			if !passed[slug] {
				t.Errorf("%s: %s did not pass", actor, slug)
			}
		}
	}
}

// c2sOnly are the suite's cases about client-to-server ActivityPub (reading an inbox,
// posting to an outbox), which Tacit does not offer: clients use the Mastodon API.
var c2sOnly = map[string]bool{
	"inbox-must-be-an-orderedcollection":                                 true,
	"outbox-post-servers-must-return-a-201-created-http-code":            true,
	"outbox-post-must-accept-non-activity-object":                        true,
	"outbox-wraps-object-with-create-checked-using-get-location":         true,
	"post-outbox-server-overwrites-id-property":                          true,
	"outbox-post-server-adds-to-outbox-collection-checked-by-outbox-get": true,
	"create-then-update-modifies-object-checked-by-get":                  true,
}

// mustPass are the server-to-server cases every actor is checked against.
var mustPass = []string{
	"actor-objects-must-have-inbox-outbox-properties",
	"actor-must-serve-as2-object-to-get",
	"outbox-must-be-an-orderedcollection",
}

type apAssertion struct {
	Slug, Outcome, Info string
}

// parseAssertions reads the suite's output: JSON text sequences, one assertion each.
func parseAssertions(t *testing.T, out []byte) []apAssertion {
	t.Helper()
	var list []apAssertion
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(line, "\x1e"))
		if line == "" || !strings.HasPrefix(line, "{") {
			continue
		}
		var raw struct {
			Test struct {
				Slug string `json:"slug"`
			} `json:"test"`
			Result struct {
				Outcome string          `json:"outcome"`
				Info    json.RawMessage `json:"info"`
			} `json:"result"`
		}
		if err := json.Unmarshal([]byte(line), &raw); err != nil {
			t.Fatalf("activitypub-testing output: %v: %s", err, line)
		}
		list = append(list, apAssertion{Slug: raw.Test.Slug, Outcome: raw.Result.Outcome, Info: string(raw.Result.Info)})
	}
	if len(list) == 0 {
		t.Fatalf("activitypub-testing reported nothing:\n%s", out)
	}
	return list
}
