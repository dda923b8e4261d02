package activitystreams

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/tacit-social/tacit/community"
)

// Idea boards: a board's group actor, an idea's Page, Lemmy's Lock and the moderation
// activities, as Tacit writes and reads them.

func TestBoardActorRoundTrip(t *testing.T) {
	t.Parallel()
	acct := alice()
	acct.Username, acct.Group = "ideas", true
	acct.URI = "https://tacit.example.com/users/ideas"
	acct.InboxURL = acct.URI + "/inbox"
	b, err := ActorJSON(Actor{Account: acct, PublicKeyPEM: testPEM, Board: &BoardActor{
		Moderators:    []string{"https://tacit.example.com/users/alice", "https://sales.example.com/users/pat"},
		ModeratorsURL: acct.URI + "/moderators", Rules: "Be kind", Scope: community.ScopeCompany,
	}})
	if err != nil {
		t.Fatal(err)
	}
	m := decodeMap(t, b)
	if m["type"] != "Group" || m["attributedTo"] != acct.URI+"/moderators" || m["postingRestrictedToMods"] != false {
		t.Errorf("group actor: %s", b)
	}
	a, err := ParseActor(b)
	if err != nil {
		t.Fatal(err)
	}
	want := &ParsedBoard{Moderators: []string{"https://tacit.example.com/users/alice", "https://sales.example.com/users/pat"},
		Rules: "Be kind", Scope: "company"}
	if !reflect.DeepEqual(a.Board, want) {
		t.Errorf("board = %+v, want %+v", a.Board, want)
	}
	// A plain group (a Mastodon-style group, not a board) is no board.
	plain, err := ActorJSON(Actor{Account: acct, PublicKeyPEM: testPEM})
	if err != nil {
		t.Fatal(err)
	}
	if a, err := ParseActor(plain); err != nil || a.Board != nil {
		t.Errorf("a group without board properties: %v %+v", err, a)
	}
}

func TestIdeaPageRoundTrip(t *testing.T) {
	t.Parallel()
	n := noteFixture()
	changed := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	n.Idea = &IdeaPage{Title: "Quiet room", BodyHTML: "<p>On every floor.</p>", BoardURI: "https://tacit.example.com/users/ideas",
		State: &IdeaProps{Status: "planned", Comment: "Budget approved", StatusChanged: changed, Locked: true, Votes: 12, Version: 7}}
	b, err := NoteJSON(n)
	if err != nil {
		t.Fatal(err)
	}
	m := decodeMap(t, b)
	if m["type"] != "Page" || m["name"] != "Quiet room" || m["content"] != "<p>On every floor.</p>" ||
		m["audience"] != "https://tacit.example.com/users/ideas" {
		t.Errorf("page: %s", b)
	}
	if likes, _ := m["likes"].(map[string]any); likes["totalItems"] != float64(12) {
		t.Errorf("likes = %v", m["likes"])
	}
	o, err := ParseObject(b)
	if err != nil {
		t.Fatal(err)
	}
	if o.Type != "Page" || o.Name != "Quiet room" || o.Group != "https://tacit.example.com/users/ideas" {
		t.Errorf("parsed page: %+v", o)
	}
	want := &IdeaProps{Status: "planned", Comment: "Budget approved", StatusChanged: changed, Locked: true, Votes: 12, Version: 7}
	if !reflect.DeepEqual(o.Idea, want) {
		t.Errorf("idea = %+v, want %+v", o.Idea, want)
	}
}

func TestModerationActivities(t *testing.T) {
	t.Parallel()
	const mod = "https://tacit.example.com/users/maria"
	const post = "https://sales.example.com/users/pat/statuses/9"
	const board = "https://tacit.example.com/users/ideas"
	lock, err := ActivityWith("Lock", "https://tacit.example.com/moderation/1", mod, post, []string{board}, nil,
		map[string]any{"audience": board})
	if err != nil {
		t.Fatal(err)
	}
	undo, err := ActivityWith("Undo", "https://tacit.example.com/moderation/2", mod, json.RawMessage(lock), []string{board}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	announce, err := Activity("Announce", board+"/announces/2", board, json.RawMessage(undo), []string{PublicURI}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParseActivity(announce)
	if err != nil {
		t.Fatal(err)
	}
	inner := a.ObjectActivity
	if a.Actor != board || inner == nil || inner.Type != "Undo" || inner.ObjectActivity == nil ||
		inner.ObjectActivity.Type != "Lock" || inner.ObjectActivity.ObjectID != post || inner.ObjectActivity.Actor != mod {
		t.Fatalf("Announce{Undo{Lock}}: %+v / %+v", a, inner)
	}
	if m := decodeMap(t, lock); m["type"] != "Lock" || m["audience"] != board {
		t.Errorf("lock: %s", lock)
	}

	remove, err := ActivityWith("Remove", "https://tacit.example.com/moderation/3", mod, post, []string{board}, nil,
		map[string]any{"target": board, "summary": "Off topic"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseActivity(remove)
	if err != nil {
		t.Fatal(err)
	}
	if r.Type != "Remove" || r.Target != board || r.ObjectID != post || r.Raw["summary"] != "Off topic" {
		t.Errorf("remove: %+v", r)
	}
}

func TestBoardSamples(t *testing.T) {
	t.Parallel()
	lock, err := ParseActivity(sample(t, "lock_page.json"))
	if err != nil {
		t.Fatal(err)
	}
	if lock.Type != "Lock" || lock.ObjectID != "https://forum.example.net/post/77" || lock.Raw["summary"] != "Decided, thanks everyone" {
		t.Errorf("lock: %+v", lock)
	}
	undo, err := ParseActivity(sample(t, "announce_undo_lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	if in := undo.ObjectActivity; in == nil || in.ObjectActivity == nil || in.ObjectActivity.Type != "Lock" {
		t.Errorf("announce undo lock: %+v", undo)
	}
	remove, err := ParseActivity(sample(t, "remove_from_board.json"))
	if err != nil {
		t.Fatal(err)
	}
	if remove.Target != "https://tacit.example.com/users/ideas" || remove.ObjectID != "https://sales.example.com/users/pat/statuses/9" {
		t.Errorf("remove: %+v", remove)
	}
	update, err := ParseActivity(sample(t, "update_idea_state.json"))
	if err != nil {
		t.Fatal(err)
	}
	o := update.Object
	if o == nil || o.Type != "Page" || o.Group != "https://tacit.example.com/users/ideas" || o.Idea == nil {
		t.Fatalf("update of an idea's state: %+v", update)
	}
	want := IdeaProps{Status: "planned", Comment: "Budget approved", StatusChanged: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		Locked: true, Pinned: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC), Votes: 12, Version: 7}
	if *o.Idea != want {
		t.Errorf("idea = %+v, want %+v", *o.Idea, want)
	}
	page, err := ParseActivity(sample(t, "lemmy_announce_create_page.json"))
	if err != nil {
		t.Fatal(err)
	}
	if in := page.ObjectActivity; in == nil || in.Object == nil || in.Object.Group != "https://lemmy.example.com/c/ideas" ||
		in.Object.Name != "Standing desks for the support floor" {
		t.Errorf("Lemmy's Announce{Create{Page}}: %+v", page.ObjectActivity)
	}
}
