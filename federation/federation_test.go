package federation_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
)

// TestFollowAndDeliver: two company instances; an employee on A follows one on B, whose
// posts then reach A according to their audience, and whose likes reach B.
func TestFollowAndDeliver(t *testing.T) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 2, instancetest.Options{})
	a, b := insts[0], insts[1]
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
	bob := b.CreateUser(t, "bob", instancetest.UserOptions{})

	remoteBob, err := a.Federator.ResolveAccount(ctx, "bob@"+b.Host())
	if err != nil {
		t.Fatalf("resolve bob from A: %v", err)
	}
	if remoteBob.Acct() != "bob@"+b.Host() {
		t.Fatalf("resolved acct = %q", remoteBob.Acct())
	}
	aliceClient := a.Client(alice.Token)
	rel, err := aliceClient.AccountFollow(ctx, mastodon.ID(community.FormatID(remoteBob.ID)))
	if err != nil {
		t.Fatalf("follow: %v", err)
	}
	if rel.Following || !rel.Requested {
		t.Errorf("right after following a remote account: following %v, requested %v (want a pending request)", rel.Following, rel.Requested)
	}
	eventually.Holds(t, "B to accept the follow", func() bool {
		rels, err := aliceClient.GetAccountRelationships(ctx, []string{community.FormatID(remoteBob.ID)})
		return err == nil && len(rels) == 1 && rels[0].Following
	})
	if acct, _ := b.Community.Unchecked().AccountByID(ctx, bob.Account.ID); acct.FollowersCount != 1 {
		t.Errorf("bob's followers on B = %d, want 1", acct.FollowersCount)
	}

	// Bob posts for the company, for his followers and for his department only.
	companyURI := b.PostStatus(t, bob.Token, url.Values{"status": {"Company-wide news #release"}, "scope": {"company"}}).URI
	privateURI := b.PostStatus(t, bob.Token, url.Values{"status": {"For my followers"}, "visibility": {"private"}}).URI
	deptURI := b.PostStatus(t, bob.Token, url.Values{"status": {"Department only"}, "scope": {"department"}}).URI

	eventually.Holds(t, "the company post to reach A", func() bool {
		_, err := a.Community.Unchecked().StatusByURI(ctx, companyURI)
		return err == nil
	})
	eventually.Holds(t, "the followers-only post to reach A", func() bool {
		_, err := a.Community.Unchecked().StatusByURI(ctx, privateURI)
		return err == nil
	})
	home, err := aliceClient.GetTimelineHome(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, s := range home {
		texts = append(texts, s.Content)
	}
	if len(home) != 2 || !strings.Contains(strings.Join(texts, " "), "Company-wide news") {
		t.Errorf("alice's home on A: %d statuses %v, want the company and followers-only posts", len(home), texts)
	}
	for _, s := range home {
		if s.Account.Acct != "bob@"+b.Host() {
			t.Errorf("status from %q, want bob@%s", s.Account.Acct, b.Host())
		}
	}
	if _, err := a.Community.Unchecked().StatusByURI(ctx, deptURI); err == nil {
		t.Error("a department post reached another instance")
	}

	// A company post is visible to everyone logged in on A; the followers-only post
	// only to alice.
	carol := a.CreateUser(t, "carol", instancetest.UserOptions{})
	stored, _ := a.Community.Unchecked().StatusByURI(ctx, companyURI)
	if _, err := a.Client(carol.Token).GetStatus(ctx, mastodon.ID(community.FormatID(stored.ID))); err != nil {
		t.Errorf("carol on A cannot read bob's company post: %v", err)
	}
	if _, err := a.Client("").GetStatus(ctx, mastodon.ID(community.FormatID(stored.ID))); err == nil {
		t.Error("a logged-out visitor on A reads bob's company post")
	}
	storedPrivate, _ := a.Community.Unchecked().StatusByURI(ctx, privateURI)
	if _, err := a.Client(carol.Token).GetStatus(ctx, mastodon.ID(community.FormatID(storedPrivate.ID))); err == nil {
		t.Error("carol, who does not follow bob, reads his followers-only post on A")
	}

	// Alice likes the company post on A; the like is counted at the origin.
	if _, err := aliceClient.Favourite(ctx, mastodon.ID(community.FormatID(stored.ID))); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "the like to reach B", func() bool {
		st, err := b.Community.Unchecked().StatusByURI(ctx, companyURI)
		return err == nil && st.FavouritesCount == 1
	})

	// Bob edits and then deletes his post; both reach A.
	origin, _ := b.Community.Unchecked().StatusByURI(ctx, companyURI)
	if _, err := b.Client(bob.Token).UpdateStatus(ctx, &mastodon.Toot{Status: "Company-wide news, corrected"}, mastodon.ID(community.FormatID(origin.ID))); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "the edit to reach A", func() bool {
		st, err := a.Community.Unchecked().StatusByURI(ctx, companyURI)
		return err == nil && strings.Contains(st.Content, "corrected")
	})
	if err := b.Client(bob.Token).DeleteStatus(ctx, mastodon.ID(community.FormatID(origin.ID))); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "the delete to reach A", func() bool {
		_, err := a.Community.Unchecked().StatusByURI(ctx, companyURI)
		return community.KindOf(err) == community.KindNotFound
	})
}

// TestThreadsAcrossInstances: replies reach the author of what they answer, missing
// ancestors are fetched, reblogs and profile edits travel, across three instances.
func TestThreadsAcrossInstances(t *testing.T) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 3, instancetest.Options{})
	a, b, c := insts[0], insts[1], insts[2]
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
	bob := b.CreateUser(t, "bob", instancetest.UserOptions{})
	carol := c.CreateUser(t, "carol", instancetest.UserOptions{})
	remoteBobOnC, err := c.Federator.ResolveAccount(ctx, "bob@"+b.Host())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Client(carol.Token).AccountFollow(ctx, mastodon.ID(community.FormatID(remoteBobOnC.ID))); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "carol's follow to be accepted", func() bool {
		rel, err := c.Community.Relationship(ctx, carol.Account.ID, remoteBobOnC.ID)
		return err == nil && rel.Following
	})

	// A public company post reaches every instance; alice replies from A.
	publicURI := b.PostStatus(t, bob.Token, url.Values{"status": {"Proposal: move CI to the new runners"}, "scope": {"company"}}).URI
	eventually.Holds(t, "bob's post on A", func() bool { _, err := a.Community.Unchecked().StatusByURI(ctx, publicURI); return err == nil })
	onA, _ := a.Community.Unchecked().StatusByURI(ctx, publicURI)
	reply, err := a.Client(alice.Token).PostStatus(ctx, &mastodon.Toot{Status: "Yes, and the caches too", InReplyToID: mastodon.ID(community.FormatID(onA.ID))})
	if err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "the reply to be counted at the origin", func() bool {
		st, err := b.Community.Unchecked().StatusByURI(ctx, publicURI)
		return err == nil && st.RepliesCount == 1
	})
	eventually.Holds(t, "the reply to reach C, in the thread", func() bool {
		r, err := c.Community.Unchecked().StatusByURI(ctx, reply.URI)
		orig, err2 := c.Community.Unchecked().StatusByURI(ctx, publicURI)
		return err == nil && err2 == nil && r.InReplyToID != nil && *r.InReplyToID == orig.ID
	})

	// Alice boosts bob's post; the origin counts it.
	if _, err := a.Client(alice.Token).Reblog(ctx, mastodon.ID(community.FormatID(onA.ID))); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "the reblog to be counted at the origin", func() bool {
		st, err := b.Community.Unchecked().StatusByURI(ctx, publicURI)
		return err == nil && st.ReblogsCount == 1
	})

	// An unlisted post reaches only bob's followers (carol on C). carol's reply (unlisted
	// too: a reply never widens) reaches her follower alice on A, whose instance then
	// fetches the post it answers.
	carolOnA, err := a.Federator.ResolveAccount(ctx, "carol@"+c.Host())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Community.Follow(ctx, alice.Account, carolOnA.ID, community.FollowOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "alice's follow of carol to be accepted", func() bool {
		rel, err := a.Community.Relationship(ctx, alice.Account.ID, carolOnA.ID)
		return err == nil && rel.Following
	})
	unlistedURI := b.PostStatus(t, bob.Token, url.Values{"status": {"Unlisted thought"}, "scope": {"company"}, "visibility": {"unlisted"}}).URI
	eventually.Holds(t, "the unlisted post on C", func() bool { _, err := c.Community.Unchecked().StatusByURI(ctx, unlistedURI); return err == nil })
	if _, err := a.Community.Unchecked().StatusByURI(ctx, unlistedURI); err == nil {
		t.Fatal("an unlisted post reached an instance where nobody follows its author")
	}
	onC, _ := c.Community.Unchecked().StatusByURI(ctx, unlistedURI)
	carolReply, err := c.Client(carol.Token).PostStatus(ctx, &mastodon.Toot{Status: "Interesting", InReplyToID: mastodon.ID(community.FormatID(onC.ID)), Visibility: "public"})
	if err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "A to hold carol's reply under the fetched post", func() bool {
		r, err := a.Community.Unchecked().StatusByURI(ctx, carolReply.URI)
		parent, err2 := a.Community.Unchecked().StatusByURI(ctx, unlistedURI)
		return err == nil && err2 == nil && r.InReplyToID != nil && *r.InReplyToID == parent.ID
	})

	// Bob renames himself; every instance learns it.
	name := "Bob (Platform team)"
	if _, err := b.Client(bob.Token).AccountUpdate(ctx, &mastodon.Profile{DisplayName: &name}); err != nil {
		t.Fatal(err)
	}
	for _, inst := range []*instancetest.Instance{a, c} {
		eventually.Holds(t, "the profile edit on "+inst.Host(), func() bool {
			acct, err := inst.Community.LookupAccount(ctx, "bob@"+b.Host())
			return err == nil && acct.DisplayName == name
		})
	}
}

// TestLockedAccountAcrossInstances: following a locked account on another instance is a
// request until its owner decides; a rejection ends it on both sides.
func TestLockedAccountAcrossInstances(t *testing.T) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 2, instancetest.Options{})
	a, b := insts[0], insts[1]
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
	dana := a.CreateUser(t, "dana", instancetest.UserOptions{})
	bob := b.CreateUser(t, "bob", instancetest.UserOptions{Locked: true})
	bobOnA, err := a.Federator.ResolveAccount(ctx, "bob@"+b.Host())
	if err != nil {
		t.Fatal(err)
	}
	if !bobOnA.Locked {
		t.Error("bob's lock did not federate")
	}
	for _, u := range []*instancetest.User{alice, dana} {
		if _, err := a.Client(u.Token).AccountFollow(ctx, mastodon.ID(community.FormatID(bobOnA.ID))); err != nil {
			t.Fatal(err)
		}
	}
	bobClient := b.Client(bob.Token)
	var requests []*mastodon.Account
	eventually.Holds(t, "both requests on B", func() bool {
		requests, err = bobClient.GetFollowRequests(ctx, nil)
		return err == nil && len(requests) == 2
	})
	for _, r := range requests {
		switch r.Acct {
		case "alice@" + a.Host():
			if err := bobClient.FollowRequestAuthorize(ctx, r.ID); err != nil {
				t.Fatal(err)
			}
		case "dana@" + a.Host():
			if err := bobClient.FollowRequestReject(ctx, r.ID); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("unexpected request from %s", r.Acct)
		}
	}
	eventually.Holds(t, "alice to follow bob and dana's request to be gone", func() bool {
		ra, err1 := a.Community.Relationship(ctx, alice.Account.ID, bobOnA.ID)
		rd, err2 := a.Community.Relationship(ctx, dana.Account.ID, bobOnA.ID)
		return err1 == nil && err2 == nil && ra.Following && !rd.Following && !rd.Requested
	})
	// Only the accepted follower gets bob's followers-only posts.
	privateURI := b.PostStatus(t, bob.Token, url.Values{"status": {"Locked thoughts"}, "visibility": {"private"}}).URI
	eventually.Holds(t, "the private post on A", func() bool { _, err := a.Community.Unchecked().StatusByURI(ctx, privateURI); return err == nil })
	st, _ := a.Community.Unchecked().StatusByURI(ctx, privateURI)
	if _, err := a.Client(alice.Token).GetStatus(ctx, mastodon.ID(community.FormatID(st.ID))); err != nil {
		t.Errorf("alice cannot read bob's private post: %v", err)
	}
	if _, err := a.Client(dana.Token).GetStatus(ctx, mastodon.ID(community.FormatID(st.ID))); err == nil {
		t.Error("dana, whose request was rejected, reads bob's private post")
	}
}

// TestBlockAcrossInstances: a block made on B ends the follow on A and hides the
// blocker's posts from the blocked account there; unblocking lifts it.
func TestBlockAcrossInstances(t *testing.T) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 2, instancetest.Options{})
	a, b := insts[0], insts[1]
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
	carol := a.CreateUser(t, "carol", instancetest.UserOptions{})
	bob := b.CreateUser(t, "bob", instancetest.UserOptions{})
	bobOnA, err := a.Federator.ResolveAccount(ctx, "bob@"+b.Host())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Community.Follow(ctx, alice.Account, bobOnA.ID, community.FollowOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "the follow", func() bool {
		rel, err := a.Community.Relationship(ctx, alice.Account.ID, bobOnA.ID)
		return err == nil && rel.Following
	})
	aliceOnB, err := b.Community.LookupAccount(ctx, "alice@"+a.Host())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Client(bob.Token).AccountBlock(ctx, mastodon.ID(community.FormatID(aliceOnB.ID))); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "A to learn of the block", func() bool {
		rel, err := a.Community.Relationship(ctx, alice.Account.ID, bobOnA.ID)
		return err == nil && !rel.Following && rel.BlockedBy
	})
	uri := b.PostStatus(t, bob.Token, url.Values{"status": {"After the block"}, "scope": {"company"}}).URI
	eventually.Holds(t, "the post on A", func() bool { _, err := a.Community.Unchecked().StatusByURI(ctx, uri); return err == nil })
	st, _ := a.Community.Unchecked().StatusByURI(ctx, uri)
	if _, err := a.Client(alice.Token).GetStatus(ctx, mastodon.ID(community.FormatID(st.ID))); err == nil {
		t.Error("alice reads a post of the account that blocked her")
	}
	if _, err := a.Client(carol.Token).GetStatus(ctx, mastodon.ID(community.FormatID(st.ID))); err != nil {
		t.Errorf("carol cannot read bob's company post: %v", err)
	}
	if _, err := b.Client(bob.Token).AccountUnblock(ctx, mastodon.ID(community.FormatID(aliceOnB.ID))); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "A to learn of the unblock", func() bool {
		rel, err := a.Community.Relationship(ctx, alice.Account.ID, bobOnA.ID)
		return err == nil && !rel.BlockedBy
	})
	if _, err := a.Client(alice.Token).GetStatus(ctx, mastodon.ID(community.FormatID(st.ID))); err != nil {
		t.Errorf("after the unblock alice still cannot read bob's company post: %v", err)
	}
}
