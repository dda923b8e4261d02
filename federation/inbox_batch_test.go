package federation_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/federation/activitystreams"
	"github.com/tacit-social/tacit/federation/queue"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// TestInboxBatch: received activities queued together are applied together (the
// queue hands them to one batch run), and the batch changes nothing of what each
// would do alone: a malformed activity, or a Create the sender may not make, fails on
// its own; the same Create twice stores one post; a Create and then a Delete of the
// same post leave no post; the Creates around them are all stored.
func TestInboxBatch(t *testing.T) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 2, instancetest.Options{})
	a, b := insts[0], insts[1]
	author := b.CreateUser(t, "author", instancetest.UserOptions{})
	other := b.CreateUser(t, "other", instancetest.UserOptions{})
	if _, err := a.Federator.ResolveAccount(ctx, "author@"+b.Host()); err != nil {
		t.Fatal(err)
	}
	actor := author.Account.URI
	company := []string{b.URL + "/ap/company"}
	followers := []string{actor + "/followers"}
	create := func(name string, attributedTo *community.Account) []byte {
		t.Helper()
		id := actor + "/statuses/" + name
		note, err := activitystreams.NoteJSON(activitystreams.Note{
			Status: &community.Status{URI: id, URL: id, Content: "<p>" + name + "</p>",
				Visibility: community.VisibilityPublic, Scope: community.ScopeCompany, CreatedAt: time.Now()},
			Author: attributedTo, To: company, Cc: followers,
		})
		if err != nil {
			t.Fatal(err)
		}
		body, err := activitystreams.Activity("Create", id+"/activity", actor, json.RawMessage(note), company, followers)
		if err != nil {
			t.Fatal(err)
		}
		return body
	}
	del := func(name string) []byte {
		t.Helper()
		id := actor + "/statuses/" + name
		body, err := activitystreams.Activity("Delete", id+"#delete", actor, id, company, followers)
		if err != nil {
			t.Fatal(err)
		}
		return body
	}
	activities := [][]byte{
		create("one", author.Account),
		[]byte(`{"type":"Create","id":"not an activity"}`),
		create("two", author.Account),
		create("two", author.Account), // the same Create again, as a job that ran twice would
		create("forged", other.Account),
		create("three", author.Account),
		del("three"),
		create("four", author.Account),
	}
	// One Enqueue is one statement, so the dispatcher sees all of the jobs or none;
	// increasing run_at times in the past keep their order.
	start := time.Now().Add(-time.Minute)
	jobs := make([]queue.Job, len(activities))
	for i, act := range activities {
		payload, err := json.Marshal(map[string]any{"signer": actor, "activity": json.RawMessage(act)})
		if err != nil {
			t.Fatal(err)
		}
		jobs[i] = queue.Job{Kind: "inbox", Host: b.Host(), Payload: string(payload),
			RunAt: start.Add(time.Duration(i) * time.Millisecond)}
	}
	if err := a.Queue.Enqueue(ctx, jobs...); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := a.Queue.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		k := st.Kinds["inbox"]
		if k.Pending+k.Running+k.Retrying == 0 {
			if k.Dead != 2 {
				t.Errorf("dead letters: %d, want 2 (the malformed activity and the forged Create)", k.Dead)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("inbox jobs not done: %+v", k)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for name, want := range map[string]bool{"one": true, "two": true, "three": false, "four": true, "forged": false} {
		_, err := a.Community.Unchecked().StatusByURI(ctx, actor+"/statuses/"+name)
		if got := err == nil; got != want {
			t.Errorf("post %s stored: %v, want %v (err %v)", name, got, want, err)
		}
	}
	if n := countRemoteStatuses(t, a, actor); n != 3 {
		t.Errorf("%d posts stored, want 3", n)
	}
}
