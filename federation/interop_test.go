package federation_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
)

// The software whose accounts are people, replayed in both directions with the same
// steps; each has its own fixtures under testdata/interop (see the README there).
var peopleSoftware = []string{"mastodon", "gotosocial", "misskey", "pleroma"}

// TestInteropPeople replays what Mastodon, GoToSocial, Misskey and Pleroma send
// (follows and their undoing, posts with mentions and hashtags, replies, likes, boosts,
// polls, deletes) into a Tacit instance, and checks that what Tacit sends back has the
// shape those servers require: ids that dereference, the Follow id echoed and undone.
func TestInteropPeople(t *testing.T) {
	for _, software := range peopleSoftware {
		t.Run(software, func(t *testing.T) { interopPerson(t, software) })
	}
}

// apiStatus is the part of a Mastodon API status the checks read.
type apiStatus struct {
	ID       string `json:"id"`
	Mentions []struct {
		Acct string `json:"acct"`
	} `json:"mentions"`
	Tags []struct {
		Name string `json:"name"`
	} `json:"tags"`
	Poll *struct {
		Options []struct {
			Title string `json:"title"`
		} `json:"options"`
	} `json:"poll"`
	InReplyToID *string `json:"in_reply_to_id"`
}

func interopPerson(t *testing.T, software string) {
	r := startInterop(t, software)
	// Inbound: what bob's server sends.
	r.bobFollowsAlice(t)
	noteID := r.bobMentionsAlice(t)
	r.bobAnswersAlicesPost(t)
	questionID := r.bobPostsAPoll(t)
	r.bobDeletesAndUnfollows(t, noteID)
	// Outbound: what Tacit sends back.
	bob, followID := r.aliceFollowsBob(t)
	posted := r.alicePostsToBob(t)
	r.aliceLikesAndBoostsThePoll(t, questionID)
	r.aliceUnfollowsEditsAndDeletes(t, bob, followID, posted)
}

// interopRun is a Tacit instance with alice, and the server of another software with
// bob, peers of each other.
type interopRun struct {
	inst        *instancetest.Instance
	remote      *remoteServer
	alice       *instancetest.User
	bobID       string // bob's actor id
	sharedInbox string // Tacit's
}

func startInterop(t *testing.T, software string) interopRun {
	t.Helper()
	remote := startRemote(t, software)
	inst := instancetest.Start(t, remote.peerOf())
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	remote.set("tacit", inst.URL)
	remote.set("tacit_host", inst.Host())
	remote.set("alice", alice.Account.URI)
	bobID := remote.serveFixture("actor")
	return interopRun{inst: inst, remote: remote, alice: alice, bobID: bobID, sharedInbox: inst.URL + "/inbox"}
}

// bobFollowsAlice: the Accept echoes bob's Follow, id and all, to his own inbox.
func (r interopRun) bobFollowsAlice(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	inst, remote, alice, bobID := r.inst, r.remote, r.alice, r.bobID
	follow := remote.deliver(alice.Account.InboxURL, bobID, "follow")
	accept := remote.waitFor("the Accept of bob's follow", ofType("Accept", follow["id"].(string)))
	if obj, _ := accept.Activity["object"].(map[string]any); obj == nil || obj["actor"] != bobID || obj["object"] != alice.Account.URI || obj["type"] != "Follow" {
		t.Errorf("Accept object = %v, want bob's Follow of alice", accept.Activity["object"])
	}
	if want := remote.inboxOf(bobID); accept.Path != want {
		t.Errorf("Accept delivered to %s, want bob's inbox %s", accept.Path, want)
	}
	eventually.Holds(t, "bob to follow alice", func() bool {
		a, err := inst.Community.Unchecked().AccountByID(ctx, alice.Account.ID)
		return err == nil && a.FollowersCount == 1
	})
}

// bobMentionsAlice in a post with a hashtag. It returns the post's id.
func (r interopRun) bobMentionsAlice(t *testing.T) string {
	t.Helper()
	inst, remote, alice, bobID, sharedInbox := r.inst, r.remote, r.alice, r.bobID, r.sharedInbox
	note := remote.deliver(sharedInbox, bobID, "create_note")
	noteID := idOfValue(note["object"])
	var seen apiStatus
	eventually.Holds(t, "bob's post on Tacit", func() bool { return statusAPI(t, inst, alice.Token, noteID, &seen) })
	if len(seen.Mentions) != 1 || seen.Mentions[0].Acct != "alice" {
		t.Errorf("mentions of bob's post: %+v, want alice", seen.Mentions)
	}
	if len(seen.Tags) != 1 || seen.Tags[0].Name != "buildfarm" {
		t.Errorf("tags of bob's post: %+v, want buildfarm", seen.Tags)
	}
	if n := notificationsOf(t, inst, alice.Token, "mention"); n != 1 {
		t.Errorf("alice has %d mention notifications, want 1", n)
	}
	return noteID
}

// bobAnswersAlicesPost with a reply, a like (and its undoing) and a boost.
func (r interopRun) bobAnswersAlicesPost(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	inst, remote, alice, bobID, sharedInbox := r.inst, r.remote, r.alice, r.bobID, r.sharedInbox
	mine := inst.PostStatus(t, alice.Token, url.Values{"status": {"Who wants to try the new runners?"}})
	remote.set("note", mine.URI)
	reply := remote.deliver(sharedInbox, bobID, "create_reply")
	eventually.Holds(t, "bob's reply to count", func() bool {
		st, err := inst.Community.Unchecked().StatusByURI(ctx, mine.URI)
		return err == nil && st.RepliesCount == 1
	})
	var replySeen apiStatus
	if !statusAPI(t, inst, alice.Token, idOfValue(reply["object"]), &replySeen) || replySeen.InReplyToID == nil || *replySeen.InReplyToID != mine.ID {
		t.Errorf("bob's reply is not in alice's thread: %+v", replySeen)
	}
	remote.deliver(alice.Account.InboxURL, bobID, "like")
	eventually.Holds(t, "bob's like to count", func() bool {
		st, err := inst.Community.Unchecked().StatusByURI(ctx, mine.URI)
		return err == nil && st.FavouritesCount == 1
	})
	remote.deliver(alice.Account.InboxURL, bobID, "undo_like")
	eventually.Holds(t, "bob's like to be withdrawn", func() bool {
		st, err := inst.Community.Unchecked().StatusByURI(ctx, mine.URI)
		return err == nil && st.FavouritesCount == 0
	})
	remote.deliver(sharedInbox, bobID, "announce")
	eventually.Holds(t, "bob's boost to count", func() bool {
		st, err := inst.Community.Unchecked().StatusByURI(ctx, mine.URI)
		return err == nil && st.ReblogsCount == 1
	})
}

// bobPostsAPoll. It returns the Question's id.
func (r interopRun) bobPostsAPoll(t *testing.T) string {
	t.Helper()
	inst, remote, alice, bobID, sharedInbox := r.inst, r.remote, r.alice, r.bobID, r.sharedInbox
	question := remote.deliver(sharedInbox, bobID, "create_question")
	questionID := idOfValue(question["object"])
	var poll apiStatus
	eventually.Holds(t, "bob's poll on Tacit", func() bool { return statusAPI(t, inst, alice.Token, questionID, &poll) })
	if poll.Poll == nil || len(poll.Poll.Options) != 2 {
		t.Errorf("bob's poll: %+v, want 2 options", poll.Poll)
	}
	return questionID
}

// bobDeletesAndUnfollows: his first post goes; his unfollow gets no answer (a Reject
// then could cancel his next follow).
func (r interopRun) bobDeletesAndUnfollows(t *testing.T, noteID string) {
	t.Helper()
	ctx := context.Background()
	inst, remote, alice, bobID, sharedInbox := r.inst, r.remote, r.alice, r.bobID, r.sharedInbox
	remote.deliver(sharedInbox, bobID, "delete_note")
	eventually.Holds(t, "bob's post to be deleted", func() bool {
		_, err := inst.Community.Unchecked().StatusByURI(ctx, noteID)
		return community.KindOf(err) == community.KindNotFound
	})

	// Bob unfollows: nothing is sent back (a Reject then could cancel his next follow).
	remote.deliver(alice.Account.InboxURL, bobID, "undo_follow")
	eventually.Holds(t, "bob's unfollow", func() bool {
		a, err := inst.Community.Unchecked().AccountByID(ctx, alice.Account.ID)
		return err == nil && a.FollowersCount == 0
	})
	settleQueue(t, inst)
	if got := remote.all(ofType("Reject", "")); len(got) > 0 {
		t.Errorf("Tacit answered bob's own Undo with %d Reject(s): %v", len(got), got[0].Activity)
	}
}

// aliceFollowsBob: the Follow goes to his inbox, his Accept (naming that Follow) makes
// it a follow. It returns bob's account and the Follow's id.
func (r interopRun) aliceFollowsBob(t *testing.T) (*community.Account, string) {
	t.Helper()
	ctx := context.Background()
	inst, remote, alice, bobID := r.inst, r.remote, r.alice, r.bobID
	bob, err := inst.Federator.ResolveAccount(ctx, "bob@"+remote.host())
	if err != nil {
		t.Fatalf("resolve bob: %v", err)
	}
	client := inst.Client(alice.Token)
	if _, err := client.AccountFollow(ctx, mastodon.ID(community.FormatID(bob.ID))); err != nil {
		t.Fatal(err)
	}
	sent := remote.waitFor("alice's Follow", ofType("Follow", bobID))
	followID, _ := sent.Activity["id"].(string)
	if sent.Path != remote.inboxOf(bobID) {
		t.Errorf("Follow delivered to %s, want bob's inbox", sent.Path)
	}
	remote.set("follow", followID)
	remote.deliver(alice.Account.InboxURL, bobID, "accept_follow")
	eventually.Holds(t, "alice to follow bob", func() bool {
		rel, err := inst.Community.Relationship(ctx, alice.Account.ID, bob.ID)
		return err == nil && rel.Following
	})
	return bob, followID
}

// alicePostsToBob, mentioning him, with a hashtag; the Create has what Mastodon needs,
// and its ids (the activity's, the note's, the replies collection's) dereference.
func (r interopRun) alicePostsToBob(t *testing.T) instancetest.PostedStatus {
	t.Helper()
	inst, remote, alice, bobID := r.inst, r.remote, r.alice, r.bobID
	posted := inst.PostStatus(t, alice.Token, url.Values{"status": {"@bob@" + remote.host() + " thanks! #buildfarm"}})
	create := remote.waitFor("alice's Create", func(d delivery) bool {
		return d.Activity["type"] == "Create" && idOfValue(d.Activity["object"]) == posted.URI
	})
	checkCreate(t, remote, create, bobID)
	return posted
}

// aliceLikesAndBoostsThePoll of bob; each activity reaches him and dereferences.
func (r interopRun) aliceLikesAndBoostsThePoll(t *testing.T, questionID string) {
	t.Helper()
	ctx := context.Background()
	inst, remote, alice, bobID := r.inst, r.remote, r.alice, r.bobID
	client := inst.Client(alice.Token)
	polled, err := inst.Community.Unchecked().StatusByURI(ctx, questionID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Favourite(ctx, mastodon.ID(community.FormatID(polled.ID))); err != nil {
		t.Fatal(err)
	}
	like := remote.waitFor("alice's Like", ofType("Like", questionID))
	requireFields(t, "Like", like.Activity, "id", "type", "actor", "object")
	boost, err := client.Reblog(ctx, mastodon.ID(community.FormatID(polled.ID)))
	if err != nil {
		t.Fatal(err)
	}
	announce := remote.waitFor("alice's Announce", ofType("Announce", questionID))
	announceID, _ := announce.Activity["id"].(string)
	requireFields(t, "Announce", announce.Activity, "id", "type", "actor", "object", "to", "published")
	if strings.HasSuffix(announceID, "/activity/activity") {
		t.Errorf("boost id %s", announceID)
	}
	if code, doc := remote.get(announceID, bobID); code != http.StatusOK || doc["type"] != "Announce" || idOfValue(doc["object"]) != questionID {
		t.Errorf("GET boost %s: HTTP %d %v", announceID, code, doc)
	}
	_ = boost
}

// aliceUnfollowsEditsAndDeletes: the Undo embeds the Follow bob knows; the profile
// Update and the Delete of her post reach him.
func (r interopRun) aliceUnfollowsEditsAndDeletes(t *testing.T, bob *community.Account, followID string, posted instancetest.PostedStatus) {
	t.Helper()
	ctx := context.Background()
	inst, remote, alice, bobID := r.inst, r.remote, r.alice, r.bobID
	client := inst.Client(alice.Token)
	if _, err := client.AccountUnfollow(ctx, mastodon.ID(community.FormatID(bob.ID))); err != nil {
		t.Fatal(err)
	}
	undo := remote.waitFor("alice's Undo", ofType("Undo", followID))
	if obj, _ := undo.Activity["object"].(map[string]any); obj == nil || obj["type"] != "Follow" || obj["actor"] != alice.Account.URI || obj["object"] != bobID {
		t.Errorf("Undo object = %v, want alice's Follow of bob", undo.Activity["object"])
	}

	// Alice edits her profile: the Update reaches bob's server, through its shared
	// inbox when it has one and bob's own inbox otherwise.
	if a := inst.Call(t, http.MethodPatch, "/api/v1/accounts/update_credentials", alice.Token, url.Values{"display_name": {"Alice A."}}); a.Code != http.StatusOK {
		t.Fatalf("update credentials: HTTP %d %s", a.Code, a.Body)
	}
	update := remote.waitFor("alice's profile Update", ofType("Update", alice.Account.URI))
	if want := remote.sharedInboxOf(bobID); update.Path != want {
		t.Errorf("profile Update delivered to %s, want %s", update.Path, want)
	}

	// Alice deletes her post.
	if err := client.DeleteStatus(ctx, mastodon.ID(posted.ID)); err != nil {
		t.Fatal(err)
	}
	del := remote.waitFor("alice's Delete", ofType("Delete", posted.URI))
	requireFields(t, "Delete", del.Activity, "id", "type", "actor", "object")
}

// checkCreate checks a Create of a Note as Mastodon reads it: the fields it requires,
// the Mention and Hashtag tags, and ids that dereference for the recipient.
func checkCreate(t *testing.T, remote *remoteServer, d delivery, recipient string) {
	t.Helper()
	act := d.Activity
	requireFields(t, "Create", act, "@context", "id", "type", "actor", "published", "to", "cc", "object")
	note, _ := act["object"].(map[string]any)
	if note == nil {
		t.Fatalf("Create without an embedded note: %v", act)
	}
	requireFields(t, "Note", note, "id", "type", "attributedTo", "content", "published", "to", "cc", "url", "tag", "replies")
	if note["attributedTo"] != act["actor"] {
		t.Errorf("note attributed to %v, Create by %v", note["attributedTo"], act["actor"])
	}
	var mention, hashtag bool
	tags, _ := note["tag"].([]any)
	for _, e := range tags {
		tag, _ := e.(map[string]any)
		switch tag["type"] {
		case "Mention":
			mention = mention || tag["href"] == recipient
		case "Hashtag":
			hashtag = hashtag || (tag["name"] == "#buildfarm" && tag["href"] != nil)
		}
	}
	if !mention || !hashtag {
		t.Errorf("note tags %v: want a Mention of %s and the Hashtag #buildfarm", tags, recipient)
	}
	addressed := append(stringsOf(note["to"]), stringsOf(note["cc"])...)
	if !slices.Contains(addressed, recipient) {
		t.Errorf("note addressed to %v, not to the mentioned %s", addressed, recipient)
	}
	for _, u := range []string{act["id"].(string), note["id"].(string), idOfValue(note["replies"])} {
		code, doc := remote.get(u, recipient)
		if code != http.StatusOK {
			t.Errorf("GET %s: HTTP %d, want 200", u, code)
			continue
		}
		if doc["id"] != u {
			t.Errorf("GET %s: document id %v", u, doc["id"])
		}
	}
	if code, doc := remote.get(act["id"].(string), recipient); code == http.StatusOK && (doc["type"] != "Create" || idOfValue(doc["object"]) != note["id"]) {
		t.Errorf("the Create's id dereferences to %v %v", doc["type"], doc["object"])
	}
}

// requireFields fails unless every key is present and not null.
func requireFields(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if v, ok := m[k]; !ok || v == nil {
			t.Errorf("%s without %q: %v", what, k, m)
		}
	}
}

func stringsOf(v any) []string {
	var out []string
	switch x := v.(type) {
	case string:
		out = append(out, x)
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// statusAPI reads a status by its ActivityPub id through the client API.
func statusAPI(t *testing.T, inst *instancetest.Instance, token, uri string, into *apiStatus) bool {
	t.Helper()
	st, err := inst.Community.Unchecked().StatusByURI(context.Background(), uri)
	if err != nil {
		return false
	}
	a := inst.Call(t, http.MethodGet, "/api/v1/statuses/"+community.FormatID(st.ID), token, nil)
	return a.Code == http.StatusOK && json.Unmarshal(a.Body, into) == nil
}

// notificationsOf counts an account's notifications of a type.
func notificationsOf(t *testing.T, inst *instancetest.Instance, token, typ string) int {
	t.Helper()
	var list []map[string]any
	inst.Call(t, http.MethodGet, "/api/v1/notifications", token, url.Values{"types[]": {typ}}).Decode(t, http.StatusOK, &list)
	return len(list)
}

// inboxOf is the path of a fixture actor's own inbox.
func (r *remoteServer) inboxOf(actorID string) string {
	return strings.TrimPrefix(r.actorField(actorID, "inbox"), r.srv.URL)
}

// sharedInboxOf is the path of the inbox a fixture actor's server takes public
// activities at: its shared inbox, or its own when it has none.
func (r *remoteServer) sharedInboxOf(actorID string) string {
	doc := r.actorDoc(actorID)
	if ep, ok := doc["endpoints"].(map[string]any); ok {
		if s, _ := ep["sharedInbox"].(string); s != "" {
			return strings.TrimPrefix(s, r.srv.URL)
		}
	}
	return r.inboxOf(actorID)
}

func (r *remoteServer) actorDoc(actorID string) map[string]any {
	r.mu.Lock()
	doc := r.docs[strings.TrimPrefix(actorID, r.srv.URL)]
	r.mu.Unlock()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		r.t.Fatalf("actor %s is not served", actorID)
	}
	return m
}

func (r *remoteServer) actorField(actorID, key string) string {
	s, _ := r.actorDoc(actorID)[key].(string)
	return s
}

// TestInteropReportForwardedOutsideTheCompany: in open mode a report about an account
// of a server outside the company, forwarded at the reporter's request, reaches that
// server as a Flag, as the API's answer (forwarded: true) says.
func TestInteropReportForwardedOutsideTheCompany(t *testing.T) {
	ctx := context.Background()
	remote := startRemote(t, "mastodon")
	inst := instancetest.Start(t, openMode(true))
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	remote.set("tacit", inst.URL)
	remote.set("tacit_host", inst.Host())
	remote.set("alice", alice.Account.URI)
	bobID := remote.serveFixture("actor")
	note := remote.deliver(inst.URL+"/inbox", bobID, "create_note")
	var st *community.Status
	eventually.Holds(t, "bob's post", func() bool {
		var err error
		st, err = inst.Community.Unchecked().StatusByURI(ctx, idOfValue(note["object"]))
		return err == nil
	})
	a := inst.Call(t, http.MethodPost, "/api/v1/reports", alice.Token, url.Values{
		"account_id": {community.FormatID(st.AccountID)}, "status_ids[]": {community.FormatID(st.ID)},
		"comment": {"Spam"}, "forward": {"true"},
	})
	var report struct {
		Forwarded bool `json:"forwarded"`
	}
	a.Decode(t, http.StatusOK, &report)
	if !report.Forwarded {
		t.Fatalf("report not forwarded: %s", a.Body)
	}
	flag := remote.waitFor("the forwarded Flag", ofType("Flag", ""))
	if objects := stringsOf(flag.Activity["object"]); !slices.Contains(objects, bobID) || !slices.Contains(objects, st.URI) {
		t.Errorf("Flag objects %v, want bob and his post", objects)
	}
}

// TestInteropActors: actors carry what Mastodon and GoToSocial look for (indexable, a
// shared inbox, an outbox, also on the instance actor) and what they name dereferences.
func TestInteropActors(t *testing.T) {
	remote := startRemote(t, "mastodon")
	inst := instancetest.Start(t, remote.peerOf())
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	remote.set("tacit", inst.URL)
	remote.set("tacit_host", inst.Host())
	remote.set("alice", alice.Account.URI)
	bobID := remote.serveFixture("actor")

	code, actor := remote.get(alice.Account.URI, bobID)
	if code != http.StatusOK {
		t.Fatalf("GET alice: HTTP %d", code)
	}
	if actor["indexable"] != true {
		t.Errorf("alice's actor: indexable = %v, want true (a discoverable account)", actor["indexable"])
	}
	code, instanceActor := remote.get(inst.URL+"/actor", bobID)
	if code != http.StatusOK {
		t.Fatalf("GET the instance actor: HTTP %d", code)
	}
	for _, doc := range []map[string]any{actor, instanceActor} {
		requireFields(t, "actor", doc, "id", "type", "inbox", "outbox", "preferredUsername", "publicKey", "endpoints")
		outbox, _ := doc["outbox"].(string)
		if outbox == "" {
			continue
		}
		if code, col := remote.get(outbox, bobID); code != http.StatusOK || col["id"] != outbox {
			t.Errorf("GET %s: HTTP %d %v", outbox, code, col)
		}
	}
}

// TestInteropFollowAskedAgain: a server that lost track of its follow (or refreshes it)
// sends a new Follow; it gets an Accept echoing that one, and the follow stays one.
func TestInteropFollowAskedAgain(t *testing.T) {
	ctx := context.Background()
	remote := startRemote(t, "mastodon")
	inst := instancetest.Start(t, remote.peerOf())
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	remote.set("tacit", inst.URL)
	remote.set("tacit_host", inst.Host())
	remote.set("alice", alice.Account.URI)
	bobID := remote.serveFixture("actor")

	first := remote.deliver(alice.Account.InboxURL, bobID, "follow")
	remote.waitFor("the first Accept", ofType("Accept", first["id"].(string)))
	again := bobID + "#follows/again"
	remote.deliverDoc(alice.Account.InboxURL, bobID, map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
		"id": again, "type": "Follow", "actor": bobID, "object": alice.Account.URI})
	remote.waitFor("the Accept of the Follow sent again", ofType("Accept", again))
	if a, err := inst.Community.Unchecked().AccountByID(ctx, alice.Account.ID); err != nil || a.FollowersCount != 1 {
		t.Errorf("alice's followers after a Follow sent again: %v %d, want 1", err, a.FollowersCount)
	}
}
