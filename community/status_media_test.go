package community

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/store/storetest"
)

// TestRemoteMediaAndPolls: what a peer says about a post's attachments and poll is
// kept within bounds, an edit replaces the attachments, new counts are not an edit,
// and the post's deletion takes its rows along.
func TestRemoteMediaAndPolls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		s := salesService(db)
		bob := storeAccount(t, s, "bob", remoteAt("hq.example"), received())
		end := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		in := RemoteStatus{
			URI: "https://hq.example/users/bob/statuses/9", AuthorID: bob.ID, ContentHTML: "<p>Look</p>",
			Visibility: VisibilityPublic, Scope: ScopeCompany, Published: time.Now().Add(-time.Minute),
			Attachments: []RemoteAttachment{
				{URL: "https://cdn.hq.example/a.jpg", MediaType: "image/jpeg", Description: "first", Width: 10, Height: 5, FocusX: 0.5, FocusY: -1},
				{URL: "javascript:alert(1)", MediaType: "image/png"},
				{URL: "https://cdn.hq.example/b.mp4", MediaType: "video/mp4", Blurhash: `bad"hash`},
			},
			Poll: &RemotePoll{Options: []PollOption{{Title: "Yes", VotesCount: 2}, {Title: " ", VotesCount: 9}, {Title: "No", VotesCount: -4}},
				ExpiresAt: end},
		}
		st, err := s.ReceiveStatus(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		media, _ := s.StatusMedia(ctx, []int64{st.ID})
		list := media[st.ID]
		if len(list) != 2 || list[0].Type != MediaImage || list[0].Focus != "0.50,-1.00" || list[1].Type != MediaVideo || list[1].Blurhash != "" {
			t.Fatalf("remote media: %+v", list)
		}
		if u, p := s.AttachmentURLs(&list[0]); u != "https://cdn.hq.example/a.jpg" || p != u {
			t.Errorf("remote media is shown from %s, %s", u, p)
		}
		poll, _ := s.pollOf(ctx, st.ID)
		if poll == nil || len(poll.Options) != 2 || poll.VotesCount != 2 || poll.VotersCount != 2 || !poll.ExpiresAt.Equal(end) {
			t.Fatalf("remote poll: %+v", poll)
		}

		// New counts arrive as an update of the post: counted, not an edit.
		in.Poll.Options = []PollOption{{Title: "Yes", VotesCount: 5}, {Title: "No", VotesCount: 1}}
		in.Poll.VotersCount = 6
		if st, err = s.ReceiveStatus(ctx, in); err != nil {
			t.Fatal(err)
		}
		poll, _ = s.pollOf(ctx, st.ID)
		if poll.VotesCount != 6 || poll.Options[0].VotesCount != 5 || st.EditedAt != nil {
			t.Errorf("after new counts: poll %+v, edited %v", poll, st.EditedAt)
		}
		// A new description is an edit, and replaces the attachments.
		in.Attachments = in.Attachments[:1]
		in.Attachments[0].Description = "second"
		in.Edited = time.Now()
		if st, err = s.ReceiveStatus(ctx, in); err != nil {
			t.Fatal(err)
		}
		media, _ = s.StatusMedia(ctx, []int64{st.ID})
		if len(media[st.ID]) != 1 || media[st.ID][0].Description != "second" || st.EditedAt == nil {
			t.Errorf("after the edit: %+v, edited %v", media[st.ID], st.EditedAt)
		}
		if err := s.DeleteRemoteStatus(ctx, bob, in.URI); err != nil {
			t.Fatal(err)
		}
		var rows int64
		db.Model(&MediaAttachment{}).Count(&rows)
		if rows != 0 {
			t.Errorf("%d media rows outlive their remote post", rows)
		}
	})
}

// TestReceivePollVote: remote votes on a local poll are counted by the rules.
func TestReceivePollVote(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		s := salesService(db)
		me := storeAccount(t, s, "me")
		bob := storeAccount(t, s, "bob", remoteAt("hq.example"), received())
		eve := storeAccount(t, s, "eve", remoteAt("elsewhere.example"), received())
		st, err := s.CreateStatus(ctx, me, nil, NewStatus{Text: "Vote", Poll: &NewPoll{Options: []string{"A", "B"}, ExpiresIn: time.Hour}})
		if err != nil {
			t.Fatal(err)
		}
		vote := func(voter *Account, option, uri string) error {
			return s.ReceivePollVote(ctx, voter, st.URI, option, uri)
		}
		if err := vote(bob, "B", "https://hq.example/users/bob#votes/1"); err != nil {
			t.Fatal(err)
		}
		if err := vote(bob, "B", "https://hq.example/users/bob#votes/1"); err != nil {
			t.Errorf("the same vote again: %v", err)
		}
		if err := vote(bob, "A", "https://hq.example/users/bob#votes/2"); KindOf(err) != KindInvalid {
			t.Errorf("a second choice on a single-choice poll: %v", err)
		}
		if err := vote(bob, "C", "https://hq.example/users/bob#votes/3"); KindOf(err) != KindInvalid {
			t.Errorf("an option the poll does not have: %v", err)
		}
		if err := vote(bob, "A", "https://elsewhere.example/votes/4"); KindOf(err) != KindForbidden {
			t.Errorf("a vote id on another host: %v", err)
		}
		// A company post is not for an instance outside the company.
		if err := vote(eve, "A", "https://elsewhere.example/users/eve#votes/1"); KindOf(err) != KindNotFound {
			t.Errorf("a stranger's vote: %v", err)
		}
		if err := s.ReceivePollVote(ctx, bob, "https://sales.example/users/me/statuses/404", "A", "https://hq.example/users/bob#votes/5"); KindOf(err) != KindNotFound {
			t.Errorf("a vote on nothing: %v", err)
		}
		poll, _ := s.pollOf(ctx, st.ID)
		if poll.VotesCount != 1 || poll.Options[1].VotesCount != 1 || poll.VotersCount != 1 {
			t.Errorf("counts: %+v", poll)
		}
	})
}
