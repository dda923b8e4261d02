package federation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/federation/activitystreams"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/media/mediatest"
)

type fetchedFile struct {
	code        int
	contentType string
}

// fetchFile loads a media URL as a reader's app does: a plain GET without a token.
func fetchFile(t *testing.T, url string) fetchedFile {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return fetchedFile{resp.StatusCode, resp.Header.Get("Content-Type")}
}

// copyOn finds the copy of a status on another instance, through that instance's API
// as one of its users sees it.
func copyOn(t *testing.T, inst *instancetest.Instance, token, uri string) *mastodon.Status {
	t.Helper()
	st, err := inst.Community.StatusByURI(context.Background(), uri)
	if err != nil {
		return nil
	}
	out, err := inst.Client(token).GetStatus(context.Background(), mastodon.ID(community.FormatID(st.ID)))
	if err != nil {
		t.Fatalf("read the copy of %s: %v", uri, err)
	}
	return out
}

// TestMediaAndPollsAcrossInstances: three instances of one company. A post with a
// picture and a poll from A arrive on B and C; the picture is shown from A's address;
// votes cast on B and C are counted at A, and A's new counts reach both.
func TestMediaAndPollsAcrossInstances(t *testing.T) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 3, instancetest.Options{})
	a, b, c := insts[0], insts[1], insts[2]
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
	bob := b.CreateUser(t, "bob", instancetest.UserOptions{})
	carol := c.CreateUser(t, "carol", instancetest.UserOptions{})
	ac := a.Client(alice.Token)

	att, err := ac.UploadMediaFromMedia(ctx, &mastodon.Media{
		File: bytes.NewReader(mediatest.JPEG(mediatest.Marked(640, 480), 1)), Description: "The new office", Focus: "0.2,0.4"})
	if err != nil {
		t.Fatal(err)
	}
	withPicture, err := ac.PostStatus(ctx, &mastodon.Toot{Status: "We moved!", MediaIDs: []mastodon.ID{att.ID}, Visibility: "public"})
	if err != nil {
		t.Fatal(err)
	}
	withPoll, err := ac.PostStatus(ctx, &mastodon.Toot{Status: "Which floor for the party?", Visibility: "public",
		Poll: &mastodon.TootPoll{Options: []string{"Ground", "Roof"}, ExpiresInSeconds: 3600}})
	if err != nil {
		t.Fatal(err)
	}

	// The picture arrives on B as a remote attachment, shown from A.
	var onB *mastodon.Status
	eventually(t, "the post with a picture to reach B", func() bool {
		onB = copyOn(t, b, bob.Token, withPicture.URI)
		return onB != nil
	})
	if len(onB.MediaAttachments) != 1 {
		t.Fatalf("attachments on B: %+v", onB.MediaAttachments)
	}
	m := onB.MediaAttachments[0]
	if m.Type != "image" || m.URL != att.URL || m.RemoteURL != att.URL || m.Description != "The new office" ||
		m.BlurHash != att.BlurHash || m.Meta.Original.Width != 640 || m.Meta.Focus.X != 0.2 || m.Meta.Focus.Y != 0.4 {
		t.Errorf("attachment on B: %+v, uploaded %+v", m, att)
	}
	if f := fetchFile(t, m.URL); f.code != http.StatusOK || f.contentType != "image/jpeg" {
		t.Errorf("B's readers cannot load the picture from A: %+v", f.code)
	}

	// The poll arrives on B and C; bob and carol vote there.
	var pollB, pollC *mastodon.Status
	eventually(t, "the poll to reach B and C", func() bool {
		pollB, pollC = copyOn(t, b, bob.Token, withPoll.URI), copyOn(t, c, carol.Token, withPoll.URI)
		return pollB != nil && pollC != nil
	})
	if pollB.Poll == nil || len(pollB.Poll.Options) != 2 || pollB.Poll.Options[1].Title != "Roof" || pollB.Poll.Expired {
		t.Fatalf("poll on B: %+v", pollB.Poll)
	}
	voted, err := b.Client(bob.Token).PollVote(ctx, pollB.Poll.ID, 1)
	if err != nil {
		t.Fatalf("bob votes on B: %v", err)
	}
	if !voted.Voted || voted.Options[1].VotesCount != 1 {
		t.Errorf("bob's vote on B: %+v", voted)
	}
	eventually(t, "bob's vote to be counted on A", func() bool {
		p, err := ac.GetPoll(ctx, withPoll.Poll.ID)
		return err == nil && p.VotesCount == 1 && p.Options[1].VotesCount == 1
	})
	eventually(t, "A's new counts to reach C", func() bool {
		p, err := c.Client(carol.Token).GetPoll(ctx, pollC.Poll.ID)
		return err == nil && p.VotesCount == 1 && p.Options[1].VotesCount == 1 && !p.Voted
	})
	if _, err := c.Client(carol.Token).PollVote(ctx, pollC.Poll.ID, 0); err != nil {
		t.Fatalf("carol votes on C: %v", err)
	}
	eventually(t, "carol's vote to be counted on A and its counts to reach B", func() bool {
		p, err := b.Client(bob.Token).GetPoll(ctx, pollB.Poll.ID)
		return err == nil && p.VotesCount == 2 && p.VotersCount == 2 && p.Options[0].VotesCount == 1 && p.Voted
	})
	pa, err := ac.GetPoll(ctx, withPoll.Poll.ID)
	if err != nil || pa.VotesCount != 2 || pa.VotersCount != 2 {
		t.Errorf("on A: %v %+v", err, pa)
	}
	// A second vote from bob, replayed by B or sent again, is not counted twice.
	if _, err := b.Client(bob.Token).PollVote(ctx, pollB.Poll.ID, 0); err == nil {
		t.Error("bob voted twice on B")
	}

	// The poll ends on A: A sends the closed Question, and B, where it now ends too,
	// tells bob.
	pollID, _ := community.ParseID(string(withPoll.Poll.ID))
	if err := a.DB.Model(&community.Poll{}).Where("id = ?", pollID).Update("expires_at", time.Now().Add(-time.Second)).Error; err != nil {
		t.Fatal(err)
	}
	if n, err := a.Community.EndExpiredPolls(ctx); err != nil || n != 1 {
		t.Fatalf("ending the poll on A: %d, %v", n, err)
	}
	eventually(t, "the end of the poll to reach B", func() bool {
		p, err := b.Client(bob.Token).GetPoll(ctx, pollB.Poll.ID)
		return err == nil && p.Expired
	})
	if n, err := b.Community.EndExpiredPolls(ctx); err != nil || n != 1 {
		t.Errorf("ending the poll's copy on B: %d, %v", n, err)
	}
	ns, err := b.Client(bob.Token).GetNotifications(ctx, nil)
	if err != nil || len(ns) == 0 || ns[0].Type != "poll" || ns[0].Status == nil || ns[0].Status.ID != pollB.ID {
		t.Errorf("bob's notifications on B: %v %+v", err, ns)
	}

	// A followers-only picture reaches the instance of a follower and no other.
	remoteAlice, err := b.Federator.ResolveAccount(ctx, "alice@"+a.Host())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Client(bob.Token).AccountFollow(ctx, mastodon.ID(community.FormatID(remoteAlice.ID))); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bob's follow to be accepted", func() bool {
		acct, err := a.Community.AccountByID(ctx, alice.Account.ID)
		return err == nil && acct.FollowersCount == 1
	})
	private, err := ac.UploadMediaFromBytes(ctx, mediatest.JPEG(mediatest.Marked(120, 90), 0))
	if err != nil {
		t.Fatal(err)
	}
	followersOnly, err := ac.PostStatus(ctx, &mastodon.Toot{Status: "For my followers", Visibility: "private", MediaIDs: []mastodon.ID{private.ID}})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the followers-only picture to reach bob on B", func() bool {
		st := copyOn(t, b, bob.Token, followersOnly.URI)
		return st != nil && len(st.MediaAttachments) == 1 && st.MediaAttachments[0].URL == private.URL
	})

	// A department post with a picture stays on A.
	dept, err := ac.UploadMediaFromBytes(ctx, mediatest.JPEG(mediatest.Marked(100, 100), 0))
	if err != nil {
		t.Fatal(err)
	}
	local := a.PostStatus(t, alice.Token, map[string][]string{"status": {"Only us"}, "scope": {"department"}, "media_ids[]": {string(dept.ID)}})
	marker := a.PostStatus(t, alice.Token, map[string][]string{"status": {"Marker after the department post"}})
	// A later public post has reached C: a delivery of the earlier posts to C, had A
	// queued one, would have been queued before it and found C as ready.
	eventually(t, "the marker post to reach B and C", func() bool {
		return copyOn(t, b, bob.Token, marker.URI) != nil && copyOn(t, c, carol.Token, marker.URI) != nil
	})
	var leaked int64
	c.DB.Model(&community.MediaAttachment{}).Where("remote_url = ?", private.URL).Count(&leaked)
	if _, err := c.Community.StatusByURI(ctx, followersOnly.URI); err == nil || leaked != 0 {
		t.Errorf("the followers-only post or its picture's address reached C (%d rows)", leaked)
	}

	if copyOn(t, b, bob.Token, local.URI) != nil {
		t.Error("a department post with a picture reached B")
	}
}

// TestQuestionAndVoteDocuments: the documents themselves, as Mastodon peers read them:
// a poll is a Question with oneOf and replies.totalItems; an attachment is a Document;
// a vote is a Note named after the option, answering the Question.
func TestQuestionAndVoteDocuments(t *testing.T) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 2, instancetest.Options{})
	a, b := insts[0], insts[1]
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
	st, err := a.Client(alice.Token).PostStatus(ctx, &mastodon.Toot{Status: "Tea or coffee?", Visibility: "public",
		Poll: &mastodon.TootPoll{Options: []string{"Tea", "Coffee"}, ExpiresInSeconds: 600, Multiple: true}})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := community.ParseID(string(st.ID))
	row, _ := a.Community.StatusByID(ctx, id)
	author, _ := a.Community.AccountByID(ctx, row.AccountID)
	doc, err := a.Federator.ObjectJSON(ctx, row, author)
	if err != nil {
		t.Fatal(err)
	}
	var q map[string]any
	if err := json.Unmarshal(doc, &q); err != nil {
		t.Fatal(err)
	}
	anyOf, _ := q["anyOf"].([]any)
	if q["type"] != "Question" || len(anyOf) != 2 || q["endTime"] == nil || q["votersCount"] != float64(0) {
		t.Fatalf("question: %s", doc)
	}
	first, _ := anyOf[0].(map[string]any)
	replies, _ := first["replies"].(map[string]any)
	if first["name"] != "Tea" || replies["totalItems"] != float64(0) {
		t.Errorf("option: %v", first)
	}
	parsed, err := activitystreams.ParseObject(doc)
	if err != nil || parsed.Poll == nil || !parsed.Poll.Multiple || len(parsed.Poll.Options) != 2 || parsed.Poll.EndTime.IsZero() {
		t.Errorf("Tacit cannot read its own Question back: %v %+v", err, parsed)
	}

	// A vote as Mastodon writes it, with a fragment in its id, is read as a vote.
	vote, err := activitystreams.VoteJSON("https://"+b.Host()+"/users/bob#votes/7", "https://"+b.Host()+"/users/bob",
		row.URI, author.URI, "Coffee")
	if err != nil {
		t.Fatal(err)
	}
	pv, err := activitystreams.ParseObject(vote)
	if err != nil || !pv.IsVote() || pv.Name != "Coffee" || pv.InReplyTo != row.URI {
		t.Errorf("vote: %v %+v\n%s", err, pv, vote)
	}
	if !strings.Contains(string(vote), `"to":["`+author.URI+`"]`) {
		t.Errorf("a vote must be addressed to the poll's author only: %s", vote)
	}
}
