package federation_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
)

// TestInteropLemmy replays Lemmy's group federation (FEP-1b12) both ways: a Lemmy user
// follows a Tacit board, posts an idea to it, comments and votes, and receives the
// board's announces in the shapes Lemmy reads (the author's Create, addressed to the
// board, under its original id) and Mastodon-likes read (the Page itself); a Tacit user
// follows a Lemmy community and receives its announced posts once.
func TestInteropLemmy(t *testing.T) {
	r := startLemmy(t)
	r.lemmyFollowsTheBoard(t)
	idea := r.bobPostsAnIdea(t)
	r.moderatorPins(t, idea)
	r.lemmyPostsAnIdea(t)
	r.lemmyCommentsAndVotes(t, idea)
	r.bobReplies(t, idea)
	group, lemmyPost := r.aliceFollowsACommunity(t)
	r.aliceCommentsThere(t, group, lemmyPost)
}

// lemmyRun is a Tacit instance with a world-scope board, its admin, bob and alice;
// and a Lemmy server, peer of it, with a person.
type lemmyRun struct {
	inst              *instancetest.Instance
	remote            *remoteServer
	admin, bob, alice *instancetest.User
	board             testBoard
	boardAcct         *community.Account
	person            string // the Lemmy person's actor id
}

func startLemmy(t *testing.T) lemmyRun {
	t.Helper()
	ctx := context.Background()
	remote := startRemote(t, "lemmy")
	inst := instancetest.Start(t, remote.peerOf())
	admin := inst.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin, Scopes: staffScopes})
	bob := inst.CreateUser(t, "bob", instancetest.UserOptions{})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	var board testBoard
	inst.Call(t, http.MethodPost, "/api/v1/tacit/boards", admin.Token, url.Values{
		"name": {"ideas"}, "display_name": {"Ideas"}, "description": {"Make work better"}, "scope": {"world"},
	}).Decode(t, http.StatusOK, &board)
	boardAcct, err := inst.Community.LocalAccount(ctx, "ideas")
	if err != nil {
		t.Fatal(err)
	}
	remote.set("tacit", inst.URL)
	remote.set("board", boardAcct.URI)
	remote.set("alice", alice.Account.URI)
	person := remote.serveFixture("person")
	return lemmyRun{inst: inst, remote: remote, admin: admin, bob: bob, alice: alice, board: board, boardAcct: boardAcct, person: person}
}

// lemmyFollowsTheBoard: a Lemmy user follows the board; the Accept echoes the Follow.
func (r lemmyRun) lemmyFollowsTheBoard(t *testing.T) {
	t.Helper()
	remote, boardAcct, person := r.remote, r.boardAcct, r.person
	follow := remote.deliver(boardAcct.InboxURL, person, "follow_board")
	remote.waitFor("the board's Accept", ofType("Accept", follow["id"].(string)))
}

// bobPostsAnIdea: Lemmy gets the Create of the Page, addressed to the board and dated,
// whose id dereferences; Mastodon-likes get the Page's id.
func (r lemmyRun) bobPostsAnIdea(t *testing.T) testIdea {
	t.Helper()
	inst, remote, bob, board, boardAcct, person := r.inst, r.remote, r.bob, r.board, r.boardAcct, r.person
	var idea testIdea
	inst.Call(t, http.MethodPost, "/api/v1/tacit/boards/"+board.ID+"/ideas", bob.Token, url.Values{
		"title": {"Quiet room"}, "body": {"A room for focused work on every floor."},
	}).Decode(t, http.StatusOK, &idea)
	wrapped := remote.waitFor("the board's Announce{Create{Page}}", func(d delivery) bool {
		return d.Activity["type"] == "Announce" && innerObjectID(d.Activity) == idea.URI
	})
	create := checkAnnouncedCreate(t, wrapped, boardAcct.URI, "Page")
	if code, doc := remote.get(create["id"].(string), person); code != http.StatusOK || doc["type"] != "Create" {
		t.Errorf("GET the announced Create %s: HTTP %d %v", create["id"], code, doc["type"])
	}
	plain := remote.waitFor("the board's Announce{Page}", ofType("Announce", idea.URI))
	if code, doc := remote.get(plain.Activity["id"].(string), person); code != http.StatusOK || doc["type"] != "Announce" {
		t.Errorf("GET the board's Announce %s: HTTP %d %v", plain.Activity["id"], code, doc["type"])
	}
	return idea
}

// moderatorPins bob's idea: the board's featured collection lists it.
func (r lemmyRun) moderatorPins(t *testing.T, idea testIdea) {
	t.Helper()
	inst, remote, admin, boardAcct, person := r.inst, r.remote, r.admin, r.boardAcct, r.person
	inst.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+idea.ID+"/pin", admin.Token, nil).Decode(t, http.StatusOK, nil)
	if code, doc := remote.get(boardAcct.URI+"/collections/featured", person); code != http.StatusOK ||
		!slices.ContainsFunc(asSlice(doc["orderedItems"]), func(v any) bool { return idOfValue(v) == idea.URI }) {
		t.Errorf("the board's featured collection after a pin: HTTP %d %v", code, doc)
	}
}

// lemmyPostsAnIdea to the board: it becomes an idea of the board, and the board
// announces the Lemmy Create under its own id, with its addressing.
func (r lemmyRun) lemmyPostsAnIdea(t *testing.T) {
	t.Helper()
	inst, remote, alice, board, boardAcct, person := r.inst, r.remote, r.alice, r.board, r.boardAcct, r.person
	posted := remote.deliver(boardAcct.InboxURL, person, "create_page_to_board")
	pageID := idOfValue(posted["object"])
	var lemmyIdea testIdea
	eventually.Holds(t, "the Lemmy idea on the board", func() bool {
		var ok bool
		lemmyIdea, ok = ideaOf(t, inst, alice.Token, pageID)
		return ok && lemmyIdea.Board.ID == board.ID
	})
	if lemmyIdea.Title != "Standing desks for everyone" {
		t.Errorf("Lemmy idea title %q", lemmyIdea.Title)
	}
	relayed := remote.waitFor("the board's Announce of the Lemmy Create", func(d delivery) bool {
		return d.Activity["type"] == "Announce" && innerObjectID(d.Activity) == pageID
	})
	lemmyCreate := checkAnnouncedCreate(t, relayed, boardAcct.URI, "Page")
	if lemmyCreate["id"] != posted["id"] || lemmyCreate["actor"] != person {
		t.Errorf("the board announced a Create %v by %v, want Lemmy's %v", lemmyCreate["id"], lemmyCreate["actor"], posted["id"])
	}
	if obj, _ := lemmyCreate["object"].(map[string]any); obj["published"] != "2026-12-07T10:30:00Z" {
		t.Errorf("the announced Lemmy Page was published %v", obj["published"])
	}
}

// lemmyCommentsAndVotes on bob's idea.
func (r lemmyRun) lemmyCommentsAndVotes(t *testing.T, idea testIdea) {
	t.Helper()
	ctx := context.Background()
	inst, remote, bob, boardAcct, person := r.inst, r.remote, r.bob, r.boardAcct, r.person
	remote.set("idea", idea.URI)
	remote.set("idea_author", bob.Account.URI)
	comment := remote.deliver(boardAcct.InboxURL, person, "create_comment")
	eventually.Holds(t, "the Lemmy comment in the idea's thread", func() bool {
		st, err := inst.Community.Unchecked().StatusByURI(ctx, idOfValue(comment["object"]))
		return err == nil && st.InReplyToID != nil
	})
	remote.deliver(boardAcct.InboxURL, person, "like_idea")
	eventually.Holds(t, "the Lemmy vote", func() bool {
		got, ok := ideaOf(t, inst, bob.Token, idea.URI)
		return ok && got.Votes == 1
	})
}

// bobReplies in his idea's thread: Lemmy gets Announce{Create{Note}}.
func (r lemmyRun) bobReplies(t *testing.T, idea testIdea) {
	t.Helper()
	inst, remote, bob, boardAcct := r.inst, r.remote, r.bob, r.boardAcct
	reply := inst.PostStatus(t, bob.Token, url.Values{"status": {"Thanks! Facilities are on it."}, "in_reply_to_id": {idea.ID}})
	relayedReply := remote.waitFor("the board's Announce{Create{Note}} of bob's reply", func(d delivery) bool {
		return d.Activity["type"] == "Announce" && innerObjectID(d.Activity) == reply.URI
	})
	checkAnnouncedCreate(t, relayedReply, boardAcct.URI, "Note")
	remote.waitFor("the board's Announce{Note}", ofType("Announce", reply.URI))
}

// aliceFollowsACommunity of Lemmy and gets its posts, once each. It returns the
// community's actor id and its post's.
func (r lemmyRun) aliceFollowsACommunity(t *testing.T) (group, lemmyPost string) {
	t.Helper()
	ctx := context.Background()
	inst, remote, alice := r.inst, r.remote, r.alice
	group = remote.serveFixture("group")
	remote.serveFixture("moderators")
	remote.serveFixture("page")
	main, err := inst.Federator.ResolveAccount(ctx, "main@"+remote.host())
	if err != nil {
		t.Fatalf("resolve the Lemmy community: %v", err)
	}
	if _, err := inst.Client(alice.Token).AccountFollow(ctx, mastodon.ID(community.FormatID(main.ID))); err != nil {
		t.Fatal(err)
	}
	sent := remote.waitFor("alice's Follow of the community", ofType("Follow", group))
	remote.set("follow", sent.Activity["id"].(string))
	remote.deliver(alice.Account.InboxURL, group, "accept_follow")
	eventually.Holds(t, "alice to follow the community", func() bool {
		rel, err := inst.Community.Relationship(ctx, alice.Account.ID, main.ID)
		return err == nil && rel.Following
	})
	remote.deliver(inst.URL+"/inbox", group, "announce_create_page")
	remote.deliver(inst.URL+"/inbox", group, "announce_page")
	lemmyPost = remote.srv.URL + "/post/9"
	eventually.Holds(t, "the community's post on Tacit", func() bool {
		_, err := inst.Community.Unchecked().StatusByURI(ctx, lemmyPost)
		return err == nil
	})
	settleQueue(t, inst)
	if st, err := inst.Community.Unchecked().StatusByURI(ctx, lemmyPost); err != nil || st.ReblogsCount != 1 {
		t.Errorf("the community's post: %v, shared %d times, want once", err, st.ReblogsCount)
	}
	return group, lemmyPost
}

// aliceCommentsThere, on the community's post: the community gets the Create{Note},
// with itself as audience and in cc, as Lemmy requires of a comment. Then Lemmy deletes
// the post.
func (r lemmyRun) aliceCommentsThere(t *testing.T, group, lemmyPost string) {
	t.Helper()
	ctx := context.Background()
	inst, remote, alice, person := r.inst, r.remote, r.alice, r.person
	onTacit, err := inst.Community.Unchecked().StatusByURI(ctx, lemmyPost)
	if err != nil {
		t.Fatal(err)
	}
	comment2 := inst.PostStatus(t, alice.Token, url.Values{"status": {"Count me in"}, "in_reply_to_id": {community.FormatID(onTacit.ID)},
		"scope": {"world"}})
	toCommunity := remote.waitFor("alice's comment at the community", func(d delivery) bool {
		return d.Activity["type"] == "Create" && idOfValue(d.Activity["object"]) == comment2.URI && d.Path == "/inbox"
	})
	if note, _ := toCommunity.Activity["object"].(map[string]any); note["audience"] != group || note["inReplyTo"] != lemmyPost ||
		!slices.Contains(append(stringsOf(note["to"]), stringsOf(note["cc"])...), group) {
		t.Errorf("alice's comment as the community gets it: %v", note)
	}

	remote.deliver(inst.URL+"/inbox", person, "delete_page")
	eventually.Holds(t, "the Lemmy post to be deleted", func() bool {
		_, err := inst.Community.Unchecked().StatusByURI(ctx, lemmyPost)
		return community.KindOf(err) == community.KindNotFound
	})
}

// innerObjectID is the id of the object of the activity an Announce embeds, "" when
// it embeds none.
func innerObjectID(announce map[string]any) string {
	inner, ok := announce["object"].(map[string]any)
	if !ok {
		return ""
	}
	return idOfValue(inner["object"])
}

// checkAnnouncedCreate checks the Create a board announces as Lemmy reads it: the
// board in the object's to or cc, its audience, its publication time.
func checkAnnouncedCreate(t *testing.T, d delivery, boardURI, objectType string) map[string]any {
	t.Helper()
	create, _ := d.Activity["object"].(map[string]any)
	if create == nil || create["type"] != "Create" {
		t.Fatalf("announced %v, want a Create", d.Activity["object"])
	}
	requireFields(t, "announced Create", create, "id", "actor", "object", "to")
	obj, _ := create["object"].(map[string]any)
	if obj == nil {
		t.Fatalf("announced Create without its object: %v", create)
	}
	requireFields(t, "announced "+objectType, obj, "id", "type", "attributedTo", "content", "to", "cc", "published")
	if obj["type"] != objectType {
		t.Errorf("announced object type %v, want %s", obj["type"], objectType)
	}
	if addressed := append(stringsOf(obj["to"]), stringsOf(obj["cc"])...); !slices.Contains(addressed, boardURI) {
		t.Errorf("announced %s addressed to %v: Lemmy finds the board in to/cc", objectType, addressed)
	}
	if obj["audience"] != boardURI {
		t.Errorf("announced %s audience %v, want the board", objectType, obj["audience"])
	}
	return create
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}
