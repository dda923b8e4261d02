package federation_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/federation"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
)

// TestAccountDeleteAcrossInstances: an account deleted on its instance disappears, with
// what it wrote and its follows, from the peers that knew it; a peer that never knew it
// takes the Delete without fuss; the actor answers 410 Gone; nothing is left queued.
func TestAccountDeleteAcrossInstances(t *testing.T) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 3, instancetest.Options{})
	a, b, c := insts[0], insts[1], insts[2]
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
	bob := b.CreateUser(t, "bob", instancetest.UserOptions{})

	aliceOnB, err := b.Federator.ResolveAccount(ctx, "alice@"+a.Host())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Client(bob.Token).AccountFollow(ctx, mastodon.ID(community.FormatID(aliceOnB.ID))); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "the follow", func() bool {
		me, err := a.Community.Unchecked().AccountByID(ctx, alice.Account.ID)
		return err == nil && me.FollowersCount == 1
	})
	uri := a.PostStatus(t, alice.Token, url.Values{"status": {"Leaving the company, thanks all"}, "visibility": {"private"}}).URI
	bobPost := b.PostStatus(t, bob.Token, url.Values{"status": {"A reply to remember"}, "scope": {"company"}}).URI
	eventually.Holds(t, "alice's post on B", func() bool { _, err := b.Community.Unchecked().StatusByURI(ctx, uri); return err == nil })
	onB, _ := b.Community.Unchecked().StatusByURI(ctx, uri)
	if _, err := b.Client(bob.Token).Favourite(ctx, mastodon.ID(community.FormatID(onB.ID))); err != nil {
		t.Fatal(err)
	}
	settle(t, a, b, c)

	if err := a.Community.DeleteLocalAccount(ctx, "alice"); err != nil {
		t.Fatalf("delete alice: %v", err)
	}
	eventually.Holds(t, "B to forget alice", func() bool {
		_, err := b.Community.Unchecked().AccountByURI(ctx, aliceOnB.URI)
		return community.KindOf(err) == community.KindNotFound
	})
	if _, err := b.Community.Unchecked().StatusByURI(ctx, uri); community.KindOf(err) != community.KindNotFound {
		t.Errorf("alice's post is still on B: %v", err)
	}
	bobNow, err := b.Community.Unchecked().AccountByID(ctx, bob.Account.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bobNow.FollowingCount != 0 {
		t.Errorf("bob still counts %d accounts followed", bobNow.FollowingCount)
	}
	if _, err := b.Community.Unchecked().StatusByURI(ctx, bobPost); err != nil {
		t.Errorf("bob's own post went with alice: %v", err)
	}
	settle(t, a, b, c)
	for _, inst := range insts {
		var dead int64
		if err := inst.DB.Table("queue_dead_letters").Count(&dead).Error; err != nil || dead != 0 {
			t.Errorf("%s: %d dead letters (%v): the Delete was not taken everywhere", inst.Host(), dead, err)
		}
	}

	// The actor is gone for good: a peer's signed fetch says so, the name stays taken.
	body, err := b.Federator.Fetch(ctx, aliceOnB.URI)
	var se *federation.StatusError
	if err == nil {
		t.Errorf("B fetched the deleted actor: %s", body)
	} else if !errors.As(err, &se) || se.Code != http.StatusGone {
		t.Errorf("fetch deleted actor: %v, want HTTP 410", err)
	}
	if _, err := b.Federator.ResolveAccount(ctx, "alice@"+a.Host()); err == nil {
		t.Error("B resolved the deleted account again")
	}
	// Asked by a colleague: logged out, company mode refuses every profile anyway.
	colleague := a.CreateUser(t, "colleague", instancetest.UserOptions{})
	ans := a.Call(t, http.MethodGet, "/api/v1/accounts/lookup?acct=alice", colleague.Token, nil)
	if ans.Code != http.StatusNotFound {
		t.Errorf("lookup of the deleted account on A: HTTP %d", ans.Code)
	}
	if _, err := a.Client(alice.Token).GetAccountCurrentUser(ctx); err == nil {
		t.Error("the deleted account's token still works")
	}
}
