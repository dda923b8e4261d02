package federation_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
)

// TestJSONLDExpansion expands, with jsonld.js and the published contexts (local copies
// in testdata/contexts), every kind of object and activity Tacit emits (actors, notes,
// polls, ideas, collections, and the activities of follows, posts, likes, boosts,
// deletes, profile edits, boards and moderation) and fails on any property or type
// the expansion cannot map: a JSON-LD consumer would lose it. It needs Node and `npm
// ci` in federation/jsonld; without them it is skipped, unless TACIT_TEST_NODE is set
// (CI sets it), in which case their absence fails the test.
func TestJSONLDExpansion(t *testing.T) {
	required := os.Getenv("TACIT_TEST_NODE") != ""
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join("jsonld", "node_modules", "jsonld"))
	}
	if err != nil {
		if required {
			t.Fatalf("TACIT_TEST_NODE is set but node or jsonld is missing (run npm ci in federation/jsonld): %v", err)
		}
		t.Skipf("node or jsonld missing (run npm ci in federation/jsonld): %v", err)
	}

	docs := emittedDocuments(t)
	path := filepath.Join(t.TempDir(), "documents.json")
	body, err := json.Marshal(docs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	contexts, err := filepath.Abs(filepath.Join("testdata", "contexts"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "expand.mjs", path, contexts)
	cmd.Dir = "jsonld"
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("JSON-LD expansion loses what Tacit says (%v):\n%s%s", err, out, stderr)
	}
	names := make([]string, 0, len(docs))
	for name := range docs {
		names = append(names, name)
	}
	slices.Sort(names)
	t.Logf("%d documents expanded without loss: %s", len(docs), strings.Join(names, ", "))
}

// emittedDocuments drives an instance through what it federates, towards a stand-in
// Mastodon server, and returns every document it sent or served, by a readable name.
// emittedDocuments runs a Tacit instance through what it federates (bob follows alice
// and the board; alice posts, polls, replies, boosts, likes, edits her profile, follows
// and unfollows bob, blocks him, deletes) and collects every document it serves and
// sends, by name.
func emittedDocuments(t *testing.T) map[string]any {
	t.Helper()
	r := startEmitter(t)
	a := r.aliceActs(t)
	idea := r.boardActs(t, a)
	settleQueue(t, r.inst)
	docs := r.served(t, a, idea)
	r.endThings(t, a)
	settleQueue(t, r.inst)
	for name, doc := range r.sent() {
		docs[name] = doc
	}
	if len(docs) < 30 {
		t.Errorf("only %d documents collected", len(docs))
	}
	return docs
}

// emitter is a Tacit instance with its admin, alice and a board, both followed by bob
// on a Mastodon server.
type emitter struct {
	inst         *instancetest.Instance
	remote       *remoteServer
	admin, alice *instancetest.User
	bobID        string
	board        testBoard
	boardAcct    *community.Account
}

// aliceActed is what aliceActs made.
type aliceActed struct {
	note, poll, reply instancetest.PostedStatus
	question          *community.Status // bob's poll
	bob               *community.Account
}

func startEmitter(t *testing.T) emitter {
	t.Helper()
	remote := startRemote(t, "mastodon")
	inst := instancetest.Start(t, remote.peerOf())
	admin := inst.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin, Scopes: staffScopes})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	remote.set("tacit", inst.URL)
	remote.set("tacit_host", inst.Host())
	remote.set("alice", alice.Account.URI)
	bobID := remote.serveFixture("actor")
	ctx := t.Context()

	var board testBoard
	inst.Call(t, http.MethodPost, "/api/v1/tacit/boards", admin.Token, url.Values{
		"name": {"ideas"}, "display_name": {"Ideas"}, "description": {"Make work better"}, "rules": {"Be kind"},
	}).Decode(t, http.StatusOK, &board)
	boardAcct, err := inst.Community.LocalAccount(ctx, "ideas")
	if err != nil {
		t.Fatal(err)
	}
	remote.deliver(alice.Account.InboxURL, bobID, "follow")
	remote.deliverDoc(boardAcct.InboxURL, bobID, map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
		"id": bobID + "#follows/board", "type": "Follow", "actor": bobID, "object": boardAcct.URI})
	eventually.Holds(t, "the Accepts", func() bool { return len(remote.all(ofType("Accept", ""))) == 2 })
	return emitter{inst: inst, remote: remote, admin: admin, alice: alice, bobID: bobID, board: board, boardAcct: boardAcct}
}

// aliceActs: she posts, polls, replies, likes and boosts bob's poll and takes both
// back, votes, edits her profile, follows and unfollows bob.
func (r emitter) aliceActs(t *testing.T) aliceActed {
	t.Helper()
	client := r.inst.Client(r.alice.Token)
	ctx := t.Context()
	inst, remote, alice, bobID := r.inst, r.remote, r.alice, r.bobID
	var a aliceActed
	var err error
	a.bob, err = inst.Federator.ResolveAccount(ctx, "bob@"+remote.host())
	if err != nil {
		t.Fatal(err)
	}
	a.note = inst.PostStatus(t, alice.Token, url.Values{"status": {"@bob@" + remote.host() + " thanks! #buildfarm"},
		"spoiler_text": {"runners"}, "language": {"en"}})
	a.poll = inst.PostStatus(t, alice.Token, url.Values{"status": {"Which image?"}, "poll[options][]": {"Debian", "Alpine"},
		"poll[expires_in]": {"3600"}})
	a.reply = inst.PostStatus(t, alice.Token, url.Values{"status": {"And the caches"}, "in_reply_to_id": {a.note.ID}})
	remote.set("note", a.note.URI)
	remote.deliver(inst.URL+"/inbox", bobID, "create_question")
	eventually.Holds(t, "bob's poll", func() bool {
		a.question, err = inst.Community.Unchecked().StatusByURI(ctx, remote.srv.URL+"/users/bob/statuses/113370000000000004")
		return err == nil
	})
	if _, err := client.Favourite(ctx, mastodon.ID(community.FormatID(a.question.ID))); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Reblog(ctx, mastodon.ID(community.FormatID(a.question.ID))); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Unreblog(ctx, mastodon.ID(community.FormatID(a.question.ID))); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Unfavourite(ctx, mastodon.ID(community.FormatID(a.question.ID))); err != nil {
		t.Fatal(err)
	}
	if ans := inst.Call(t, http.MethodPost, "/api/v1/polls/"+pollID(t, inst, alice.Token, a.poll.ID)+"/votes", alice.Token,
		url.Values{"choices[]": {"0"}}); ans.Code != http.StatusOK {
		t.Fatalf("vote: HTTP %d %s", ans.Code, ans.Body)
	}
	inst.Call(t, http.MethodPatch, "/api/v1/accounts/update_credentials", alice.Token, url.Values{
		"display_name": {"Alice A."}, "note": {"Builds things"},
		"fields_attributes[0][name]": {"Team"}, "fields_attributes[0][value]": {"Build"},
	})
	if _, err := client.AccountFollow(ctx, mastodon.ID(community.FormatID(a.bob.ID))); err != nil {
		t.Fatal(err)
	}
	if _, err := client.AccountUnfollow(ctx, mastodon.ID(community.FormatID(a.bob.ID))); err != nil {
		t.Fatal(err)
	}
	return a
}

// boardActs: an idea, its state, a pin, a lock, a reply relayed, a report; and
// alice's vote on bob's poll. It returns the idea.
func (r emitter) boardActs(t *testing.T, a aliceActed) testIdea {
	t.Helper()
	inst, admin, alice, board := r.inst, r.admin, r.alice, r.board
	var idea testIdea
	inst.Call(t, http.MethodPost, "/api/v1/tacit/boards/"+board.ID+"/ideas", alice.Token, url.Values{
		"title": {"Quiet room"}, "body": {"A room for focused work."},
	}).Decode(t, http.StatusOK, &idea)
	inst.Call(t, http.MethodPut, "/api/v1/tacit/ideas/"+idea.ID+"/status", admin.Token,
		url.Values{"status": {"planned"}, "comment": {"Next quarter"}}).Decode(t, http.StatusOK, nil)
	inst.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+idea.ID+"/pin", admin.Token, nil).Decode(t, http.StatusOK, nil)
	inst.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+idea.ID+"/lock", admin.Token, nil).Decode(t, http.StatusOK, nil)
	inst.PostStatus(t, admin.Token, url.Values{"status": {"Noted"}, "in_reply_to_id": {idea.ID}})
	inst.Call(t, http.MethodPost, "/api/v1/reports", alice.Token, url.Values{
		"account_id": {community.FormatID(a.bob.ID)}, "comment": {"Spam"}, "forward": {"true"},
	})
	if ans := inst.Call(t, http.MethodPost, "/api/v1/polls/"+pollID(t, inst, alice.Token, community.FormatID(a.question.ID))+"/votes",
		alice.Token, url.Values{"choices[]": {"1"}}); ans.Code != http.StatusOK {
		t.Fatalf("vote on bob's poll: HTTP %d %s", ans.Code, ans.Body)
	}
	return idea
}

// served are the documents the instance serves bob, by name.
func (r emitter) served(t *testing.T, a aliceActed, idea testIdea) map[string]any {
	t.Helper()
	inst, remote, alice, bobID, boardAcct := r.inst, r.remote, r.alice, r.bobID, r.boardAcct
	docs := map[string]any{}
	fetch := map[string]string{
		"actor":                alice.Account.URI,
		"board actor":          boardAcct.URI,
		"instance actor":       inst.URL + "/actor",
		"instance outbox":      inst.URL + "/actor/outbox",
		"note":                 a.note.URI,
		"note's Create":        a.note.URI + "/activity",
		"note's replies":       a.note.URI + "/replies",
		"note's replies page":  a.note.URI + "/replies?page=true",
		"poll":                 a.poll.URI,
		"idea":                 idea.URI,
		"outbox":               alice.Account.URI + "/outbox",
		"outbox page":          alice.Account.URI + "/outbox?page=true",
		"featured":             alice.Account.URI + "/collections/featured",
		"board featured":       boardAcct.URI + "/collections/featured",
		"board moderators":     boardAcct.URI + "/moderators",
		"followers":            alice.Account.URI + "/followers",
		"company":              inst.URL + "/ap/company",
		"board outbox page":    boardAcct.URI + "/outbox?page=true",
		"board's followers":    boardAcct.URI + "/followers",
		"alice's following":    alice.Account.URI + "/following",
		"the idea's Create":    idea.URI + "/activity",
		"the poll's replies":   a.poll.URI + "/replies",
		"the instance's actor": inst.URL + "/actor",
	}
	for name, u := range fetch {
		if u == "" {
			continue
		}
		code, doc := remote.get(u, bobID)
		if code != http.StatusOK {
			t.Errorf("GET %s (%s): HTTP %d", u, name, code)
			continue
		}
		docs["served "+name] = doc
	}
	return docs
}

// endThings, last: a delete and a block (after which bob reads nothing).
func (r emitter) endThings(t *testing.T, a aliceActed) {
	t.Helper()
	client := r.inst.Client(r.alice.Token)
	ctx := t.Context()
	if err := client.DeleteStatus(ctx, mastodon.ID(a.reply.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := client.AccountBlock(ctx, mastodon.ID(community.FormatID(a.bob.ID))); err != nil {
		t.Fatal(err)
	}
}

// sent are the activities the instance sent bob's server, by name.
func (r emitter) sent() map[string]any {
	docs := map[string]any{}
	for i, d := range r.remote.all(func(delivery) bool { return true }) {
		name, _ := d.Activity["type"].(string)
		if obj, ok := d.Activity["object"].(map[string]any); ok {
			name += "/" + firstString(obj["type"])
		}
		docs["sent "+name+" #"+itoa(i)] = d.Activity
	}
	return docs
}

// pollID is the id of the poll of a status, through the API.
func pollID(t *testing.T, inst *instancetest.Instance, token, statusID string) string {
	t.Helper()
	var st struct {
		Poll struct {
			ID string `json:"id"`
		} `json:"poll"`
	}
	inst.Call(t, http.MethodGet, "/api/v1/statuses/"+statusID, token, nil).Decode(t, http.StatusOK, &st)
	return st.Poll.ID
}

func firstString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

func itoa(i int) string { return community.FormatID(int64(i)) }
