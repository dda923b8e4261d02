package federation_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/federation/activitystreams"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
	"github.com/tacit-social/tacit/media/mediatest"
)

// copyOn finds the copy of a status on another instance, through that instance's API
// as one of its users sees it.
func copyOn(t *testing.T, inst *instancetest.Instance, token, uri string) *mastodon.Status {
	t.Helper()
	st, err := inst.Community.Unchecked().StatusByURI(context.Background(), uri)
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
// picture and a poll from A arrive on B and C; the picture is shown from B's copy;
// votes cast on B and C are counted at A, and A's new counts reach both.
func TestMediaAndPollsAcrossInstances(t *testing.T) {
	insts := instancetest.StartCompany(t, 3, instancetest.Options{})
	s := mediaAndPolls{a: insts[0], b: insts[1], c: insts[2]}
	s.alice = s.a.CreateUser(t, "alice", instancetest.UserOptions{})
	s.bob = s.b.CreateUser(t, "bob", instancetest.UserOptions{})
	s.carol = s.c.CreateUser(t, "carol", instancetest.UserOptions{})
	s.pictureReachesB(t)
	withPoll, pollB := s.pollVotedOnBAndC(t)
	s.pollEnds(t, withPoll, pollB)
	s.picturesStayInTheirAudience(t)
}

// mediaAndPolls is the company of TestMediaAndPollsAcrossInstances: alice on A, bob on
// B, carol on C.
type mediaAndPolls struct {
	a, b, c           *instancetest.Instance
	alice, bob, carol *instancetest.User
}

// pictureReachesB: alice's post with a picture arrives on B as a remote attachment,
// and B serves its own copy.
func (s mediaAndPolls) pictureReachesB(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	b, bob := s.b, s.bob
	ac := s.a.Client(s.alice.Token)
	att, err := ac.UploadMediaFromMedia(ctx, &mastodon.Media{
		File: bytes.NewReader(mediatest.JPEG(mediatest.Marked(640, 480), 1)), Description: "The new office", Focus: "0.2,0.4"})
	if err != nil {
		t.Fatal(err)
	}
	withPicture, err := ac.PostStatus(ctx, &mastodon.Toot{Status: "We moved!", MediaIDs: []mastodon.ID{att.ID}, Visibility: "public"})
	if err != nil {
		t.Fatal(err)
	}
	// The picture arrives on B as a remote attachment, shown from A.
	var onB *mastodon.Status
	eventually.Holds(t, "the post with a picture to reach B", func() bool {
		onB = copyOn(t, b, bob.Token, withPicture.URI)
		return onB != nil
	})
	if len(onB.MediaAttachments) != 1 {
		t.Fatalf("attachments on B: %+v", onB.MediaAttachments)
	}
	m := onB.MediaAttachments[0]
	// B serves its own copy, fetched from A; the original address is kept as remote_url.
	if m.Type != "image" || !strings.HasPrefix(m.URL, b.URL+"/media_proxy/") || m.RemoteURL != att.URL || m.Description != "The new office" ||
		m.BlurHash != att.BlurHash || m.Meta.Original.Width != 640 || m.Meta.Focus.X != 0.2 || m.Meta.Focus.Y != 0.4 {
		t.Errorf("attachment on B: %+v, uploaded %+v", m, att)
	}
	if f := instancetest.Fetch(t, m.URL); f.Code != http.StatusOK || f.Header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("B's readers cannot load B's copy of the picture: %+v", f)
	}
}

// pollVotedOnBAndC: alice's poll arrives on B and C; votes cast there are counted at A,
// and A's new counts reach both. It returns the poll on A and its copy on B.
func (s mediaAndPolls) pollVotedOnBAndC(t *testing.T) (withPoll, pollB *mastodon.Status) {
	t.Helper()
	ctx := context.Background()
	b, c, bob, carol := s.b, s.c, s.bob, s.carol
	ac := s.a.Client(s.alice.Token)
	withPoll, err := ac.PostStatus(ctx, &mastodon.Toot{Status: "Which floor for the party?", Visibility: "public",
		Poll: &mastodon.TootPoll{Options: []string{"Ground", "Roof"}, ExpiresInSeconds: 3600}})
	if err != nil {
		t.Fatal(err)
	}

	// The poll arrives on B and C; bob and carol vote there.
	var pollC *mastodon.Status
	eventually.Holds(t, "the poll to reach B and C", func() bool {
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
	eventually.Holds(t, "bob's vote to be counted on A", func() bool {
		p, err := ac.GetPoll(ctx, withPoll.Poll.ID)
		return err == nil && p.VotesCount == 1 && p.Options[1].VotesCount == 1
	})
	eventually.Holds(t, "A's new counts to reach C", func() bool {
		p, err := c.Client(carol.Token).GetPoll(ctx, pollC.Poll.ID)
		return err == nil && p.VotesCount == 1 && p.Options[1].VotesCount == 1 && !p.Voted
	})
	if _, err := c.Client(carol.Token).PollVote(ctx, pollC.Poll.ID, 0); err != nil {
		t.Fatalf("carol votes on C: %v", err)
	}
	eventually.Holds(t, "carol's vote to be counted on A and its counts to reach B", func() bool {
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
	return withPoll, pollB
}

// pollEnds on A: A sends the closed Question, and B, where it now ends too, tells bob.
func (s mediaAndPolls) pollEnds(t *testing.T, withPoll, pollB *mastodon.Status) {
	t.Helper()
	ctx := context.Background()
	a, b, bob := s.a, s.b, s.bob
	pollID, _ := community.ParseID(string(withPoll.Poll.ID))
	if err := a.DB.Model(&community.Poll{}).Where("id = ?", pollID).Update("expires_at", time.Now().Add(-time.Second)).Error; err != nil {
		t.Fatal(err)
	}
	if n, err := a.Community.EndExpiredPolls(ctx); err != nil || n != 1 {
		t.Fatalf("ending the poll on A: %d, %v", n, err)
	}
	eventually.Holds(t, "the end of the poll to reach B", func() bool {
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
}

// picturesStayInTheirAudience: a followers-only picture reaches the instance of a
// follower and no other; a department post with a picture stays on A.
func (s mediaAndPolls) picturesStayInTheirAudience(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	a, b, c, alice, bob, carol := s.a, s.b, s.c, s.alice, s.bob, s.carol
	ac := a.Client(alice.Token)
	// A followers-only picture reaches the instance of a follower and no other.
	remoteAlice, err := b.Federator.ResolveAccount(ctx, "alice@"+a.Host())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Client(bob.Token).AccountFollow(ctx, mastodon.ID(community.FormatID(remoteAlice.ID))); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "bob's follow to be accepted", func() bool {
		acct, err := a.Community.Unchecked().AccountByID(ctx, alice.Account.ID)
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
	eventually.Holds(t, "the followers-only picture to reach bob on B", func() bool {
		st := copyOn(t, b, bob.Token, followersOnly.URI)
		return st != nil && len(st.MediaAttachments) == 1 && st.MediaAttachments[0].RemoteURL == private.URL
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
	eventually.Holds(t, "the marker post to reach B and C", func() bool {
		return copyOn(t, b, bob.Token, marker.URI) != nil && copyOn(t, c, carol.Token, marker.URI) != nil
	})
	var leaked int64
	c.DB.Model(&community.MediaAttachment{}).Where("remote_url = ?", private.URL).Count(&leaked)
	if _, err := c.Community.Unchecked().StatusByURI(ctx, followersOnly.URI); err == nil || leaked != 0 {
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
	row, _ := a.Community.Unchecked().StatusByID(ctx, id)
	author, _ := a.Community.Unchecked().AccountByID(ctx, row.AccountID)
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

// canary is an HTTP server standing for an internal service (a metadata endpoint, an
// admin page): it counts every request that reaches it.
func canary(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "image/png")
		w.Write(mediatest.PNG(mediatest.Marked(8, 8)))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// TestHostileMediaURLs: a peer's posts and profiles name pictures anywhere (an internal
// service on loopback, the cloud metadata address, a file, another instance of the
// company). Only pictures on the peer's own host are kept; readers get this instance's
// copy, fetched through the federation client's rules; nothing ever reaches the
// internal service, not even through rows stored before the rule existed.
func TestHostileMediaURLs(t *testing.T) {
	internal, hits := canary(t)
	s := startHostileMedia(t, internal)
	onB := s.hostileAttachments(t)
	s.avatarCopied(t)
	s.hostileProfilePictures(t)
	s.legacyRows(t, onB)
	if n := hits.Load(); n != 0 {
		t.Errorf("the internal service was reached %d times", n)
	}
}

// hostileMedia is A, with alice, and B, with bob who follows her; internal is a
// service inside B's network that nothing may reach.
type hostileMedia struct {
	a, b        *instancetest.Instance
	alice, bob  *instancetest.User
	remoteAlice *community.Account // alice's account on B
	internal    *httptest.Server
}

func startHostileMedia(t *testing.T, internal *httptest.Server) hostileMedia {
	t.Helper()
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 2, instancetest.Options{})
	a, b := insts[0], insts[1]
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
	bob := b.CreateUser(t, "bob", instancetest.UserOptions{})
	bc := b.Client(bob.Token)

	remoteAlice, err := b.Federator.ResolveAccount(ctx, "alice@"+a.Host())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bc.AccountFollow(ctx, mastodon.ID(community.FormatID(remoteAlice.ID))); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "bob's follow to be accepted", func() bool {
		acct, err := a.Community.Unchecked().AccountByID(ctx, alice.Account.ID)
		return err == nil && acct.FollowersCount == 1
	})
	return hostileMedia{a: a, b: b, alice: alice, bob: bob, remoteAlice: remoteAlice, internal: internal}
}

// hostileAttachments: a post whose attachments name an internal service, the metadata
// address, a file, another peer's API, and one genuine picture on A. B keeps only the
// picture, shown from its own copy. It returns the post on B.
func (s hostileMedia) hostileAttachments(t *testing.T) *mastodon.Status {
	t.Helper()
	ctx := context.Background()
	a, b, alice, bob, internal := s.a, s.b, s.alice, s.bob, s.internal
	ac := a.Client(alice.Token)
	att, err := ac.UploadMediaFromBytes(ctx, mediatest.JPEG(mediatest.Marked(64, 48), 0))
	if err != nil {
		t.Fatal(err)
	}

	// A post whose attachments name an internal service, the metadata address, a file,
	// another peer's API, and one genuine picture on A.
	noteID := alice.Account.URI + "/statuses/hostile-media"
	doc := func(id string) map[string]any {
		return map[string]any{"type": "Document", "mediaType": "image/png", "url": id}
	}
	deliverAs(t, a, alice.Account, b.URL+"/inbox", map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       noteID + "/activity", "type": "Create", "actor": alice.Account.URI,
		"to": []string{"https://www.w3.org/ns/activitystreams#Public"},
		"object": map[string]any{
			"id": noteID, "type": "Note", "attributedTo": alice.Account.URI, "content": "<p>Pictures</p>",
			"to":        []string{"https://www.w3.org/ns/activitystreams#Public"},
			"published": time.Now().UTC().Format(time.RFC3339),
			"attachment": []any{
				doc(internal.URL + "/secret.png"),
				doc("http://169.254.169.254/latest/meta-data/iam.png"),
				doc("file:///etc/passwd"),
				doc(b.URL + "/api/v1/accounts/verify_credentials"),
				doc(att.URL),
			},
		},
	})
	var onB *mastodon.Status
	eventually.Holds(t, "the post to reach B", func() bool {
		onB = copyOn(t, b, bob.Token, noteID)
		return onB != nil
	})
	if len(onB.MediaAttachments) != 1 || onB.MediaAttachments[0].RemoteURL != att.URL {
		t.Fatalf("attachments kept on B: %+v", onB.MediaAttachments)
	}
	m := onB.MediaAttachments[0]
	if !strings.HasPrefix(m.URL, b.URL+"/media_proxy/") || !strings.HasPrefix(m.PreviewURL, b.URL+"/media_proxy/") {
		t.Errorf("B shows the picture from %s, not from its own copy", m.URL)
	}
	for _, u := range []string{m.URL, m.PreviewURL} {
		if f := instancetest.Fetch(t, u); f.Code != http.StatusOK || f.Header.Get("Content-Type") != "image/jpeg" {
			t.Errorf("B's copy %s: %+v", u, f)
		}
	}
	// A proxy address nobody signed is not served.
	sigEnd := len(m.URL) - len("/original") - 1
	flipped := byte('0')
	if m.URL[sigEnd] == '0' {
		flipped = '1'
	}
	if f := instancetest.Fetch(t, m.URL[:sigEnd]+string(flipped)+"/original"); f.Code != http.StatusNotFound {
		t.Errorf("a forged proxy address: HTTP %d", f.Code)
	}
	return onB
}

// avatarCopied: alice's avatar reaches B as B's copy of A's file.
func (s hostileMedia) avatarCopied(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	b, bc := s.b, s.b.Client(s.bob.Token)
	ac, remoteAlice := s.a.Client(s.alice.Token), s.remoteAlice
	png := mediatest.PNG(mediatest.Marked(500, 500))
	if _, err := ac.AccountUpdate(ctx, &mastodon.Profile{Avatar: "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)}); err != nil {
		t.Fatal(err)
	}
	var avatar string
	eventually.Holds(t, "alice's avatar to reach B", func() bool {
		acct, err := bc.GetAccount(ctx, mastodon.ID(community.FormatID(remoteAlice.ID)))
		avatar = ""
		if err == nil {
			avatar = acct.Avatar
		}
		return strings.HasPrefix(avatar, b.URL+"/media_proxy/")
	})
	if f := instancetest.Fetch(t, avatar); f.Code != http.StatusOK || f.Header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("B's copy of alice's avatar: %+v", f)
	}
}

// hostileProfilePictures: A's actor document names the internal service as avatar and
// the metadata address as header (a peer misbehaving, or compromised): B keeps neither.
func (s hostileMedia) hostileProfilePictures(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	a, b, alice, internal, remoteAlice := s.a, s.b, s.alice, s.internal, s.remoteAlice
	bc := b.Client(s.bob.Token)
	var err error
	if err := a.DB.Model(&community.Account{}).Where("id = ?", alice.Account.ID).Updates(map[string]any{
		"display_name": "Alice, moved", "avatar_url": internal.URL + "/avatar.png",
		"header_url": "http://169.254.169.254/latest/meta-data/"}).Error; err != nil {
		t.Fatal(err)
	}
	deliverAs(t, a, alice.Account, b.URL+"/inbox", map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       alice.Account.URI + "#updates/hostile", "type": "Update", "actor": alice.Account.URI,
		"to": []string{"https://www.w3.org/ns/activitystreams#Public"}, "object": alice.Account.URI,
	})
	var shown *mastodon.Account
	eventually.Holds(t, "the profile update to reach B", func() bool {
		shown, err = bc.GetAccount(ctx, mastodon.ID(community.FormatID(remoteAlice.ID)))
		return err == nil && shown.DisplayName == "Alice, moved"
	})
	for _, u := range []string{shown.Avatar, shown.Header} {
		if !strings.HasPrefix(u, b.URL+"/") {
			t.Errorf("B shows a picture from %s", u)
		}
		instancetest.Fetch(t, u)
	}
	stored, err := b.Community.Unchecked().AccountByID(ctx, remoteAlice.ID)
	if err != nil || stored.AvatarURL != "" || stored.HeaderURL != "" {
		t.Errorf("B stored alice's pictures as %q and %q (%v)", stored.AvatarURL, stored.HeaderURL, err)
	}
}

// legacyRows: rows stored before the rule existed, an attachment of onB and an avatar
// that name the internal service. B neither shows their address nor fetches it.
func (s hostileMedia) legacyRows(t *testing.T, onB *mastodon.Status) {
	t.Helper()
	ctx := context.Background()
	b, internal, remoteAlice := s.b, s.internal, s.remoteAlice
	bc := b.Client(s.bob.Token)
	stID, _ := community.ParseID(string(onB.ID))
	legacy := community.MediaAttachment{ID: community.NewID(), AccountID: remoteAlice.ID, StatusID: &stID,
		Purpose: community.PurposeAttachment, Type: community.MediaImage, RemoteURL: internal.URL + "/legacy.png",
		Position: 5, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := b.DB.Create(&legacy).Error; err != nil {
		t.Fatal(err)
	}
	if err := b.DB.Model(&community.Account{}).Where("id = ?", remoteAlice.ID).
		Update("avatar_url", internal.URL+"/legacy-avatar.png").Error; err != nil {
		t.Fatal(err)
	}
	again, err := bc.GetStatus(ctx, onB.ID)
	if err != nil || len(again.MediaAttachments) != 2 {
		t.Fatalf("the post with the old row: %v %+v", err, again)
	}
	for _, ma := range again.MediaAttachments {
		if ma.RemoteURL != legacy.RemoteURL {
			continue
		}
		if !strings.HasPrefix(ma.URL, b.URL+"/media_proxy/") {
			t.Errorf("B shows an old row's picture from %s", ma.URL)
		}
		if f := instancetest.Fetch(t, ma.URL); f.Code == http.StatusOK {
			t.Errorf("B fetched an internal address for an old row: %+v", f)
		}
	}
	shown, err := bc.GetAccount(ctx, mastodon.ID(community.FormatID(remoteAlice.ID)))
	if err != nil || strings.Contains(shown.Avatar, internal.Listener.Addr().String()) {
		t.Errorf("B shows an old avatar address: %v %q", err, shown.Avatar)
	}
	instancetest.Fetch(t, shown.Avatar)
}

// TestHostilePeerProfileAddresses: a company peer (here a bare server standing for a
// compromised one) describes an account whose picture is an internal service, whose
// header is a file, whose profile page is the metadata address, and whose inbox and
// followers collection are another instance's. B keeps none of those addresses: it
// shows no picture from elsewhere, links nowhere else, and would deliver nowhere else.
func TestHostilePeerProfileAddresses(t *testing.T) {
	ctx := context.Background()
	internal, hits := canary(t)
	peer := httptest.NewUnstartedServer(nil)
	peerHost := peer.Listener.Addr().String()
	insts := instancetest.StartCompany(t, 2, instancetest.Options{Configure: func(cfg *config.Config) {
		cfg.Federation.Peers = append(cfg.Federation.Peers, peerHost)
	}})
	a, b := insts[0], insts[1]
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
	bob := b.CreateUser(t, "bob", instancetest.UserOptions{})
	actorURI := "http://" + peerHost + "/users/mallory"
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	publicKey := map[string]any{"id": actorURI + "#main-key", "owner": actorURI,
		"publicKeyPem": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))}
	peer.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/webfinger":
			w.Header().Set("Content-Type", "application/jrd+json")
			json.NewEncoder(w).Encode(map[string]any{"subject": "acct:mallory@" + peerHost,
				"links": []any{map[string]any{"rel": "self", "type": "application/activity+json", "href": actorURI}}})
		case "/users/mallory":
			w.Header().Set("Content-Type", "application/activity+json")
			json.NewEncoder(w).Encode(map[string]any{
				"@context": "https://www.w3.org/ns/activitystreams",
				"id":       actorURI, "type": "Person", "preferredUsername": "mallory", "name": "Mallory",
				"publicKey": publicKey,
				"url":       "http://169.254.169.254/latest/meta-data/",
				"inbox":     "http://" + a.Host() + "/users/alice/inbox",
				"followers": alice.Account.URI + "/followers",
				"endpoints": map[string]any{"sharedInbox": "http://" + a.Host() + "/inbox"},
				"icon":      map[string]any{"type": "Image", "mediaType": "image/png", "url": internal.URL + "/avatar.png"},
				"image":     map[string]any{"type": "Image", "mediaType": "image/png", "url": "file:///etc/passwd"},
			})
		default:
			http.NotFound(w, r)
		}
	})
	peer.Start()
	t.Cleanup(peer.Close)

	mallory, err := b.Federator.ResolveAccount(ctx, "mallory@"+peerHost)
	if err != nil {
		t.Fatalf("resolve the peer's account: %v", err)
	}
	if mallory.AvatarURL != "" || mallory.HeaderURL != "" || mallory.InboxURL != "" || mallory.SharedInboxURL != "" ||
		mallory.FollowersURL != "" || mallory.URL != actorURI {
		t.Errorf("B kept another host's addresses: avatar %q header %q inbox %q shared %q followers %q url %q",
			mallory.AvatarURL, mallory.HeaderURL, mallory.InboxURL, mallory.SharedInboxURL, mallory.FollowersURL, mallory.URL)
	}
	shown, err := b.Client(bob.Token).GetAccount(ctx, mastodon.ID(community.FormatID(mallory.ID)))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{shown.Avatar, shown.Header, shown.URL} {
		if strings.Contains(u, internal.Listener.Addr().String()) || strings.Contains(u, "169.254") || strings.HasPrefix(u, "file:") {
			t.Errorf("B shows %q", u)
		}
	}
	instancetest.Fetch(t, shown.Avatar)
	if n := hits.Load(); n != 0 {
		t.Errorf("the internal service was reached %d times", n)
	}
}

// TestPeerExpertsEvidenceLinks: a peer's answer to a company-wide experts search links
// each post of evidence to its web address. An address on another host (here the
// metadata address, as a compromised peer would send it) is not passed on to readers.
func TestPeerExpertsEvidenceLinks(t *testing.T) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 2, instancetest.Options{Configure: func(c *config.Config) {
		c.Search.DirectoryInterval = 0
	}})
	a, b := insts[0], insts[1]
	kate := a.CreateUser(t, "kate", instancetest.UserOptions{})
	topics := []string{"Kubernetes"}
	if _, _, err := a.Community.UpdateProfile(ctx, kate.Account.ID, community.ProfileUpdate{Expertise: &topics}); err != nil {
		t.Fatal(err)
	}
	good := a.PostStatus(t, kate.Token, url.Values{"status": {"Kubernetes upgrades, the careful way"}, "scope": {"company"}})
	bad := a.PostStatus(t, kate.Token, url.Values{"status": {"Kubernetes operators explained"}, "scope": {"company"}})
	if err := a.DB.Model(&community.Status{}).Where("id = ?", mustID(t, bad.ID)).
		Update("url", "http://169.254.169.254/latest/meta-data/").Error; err != nil {
		t.Fatal(err)
	}
	a.SyncSearch(t)

	experts, err := b.Federator.PeerExperts(ctx, a.Host(), nil, "kubernetes", 5)
	if err != nil || len(experts) != 1 {
		t.Fatalf("PeerExperts: %+v %v", experts, err)
	}
	var kept []string
	for _, st := range experts[0].Evidence.Statuses {
		kept = append(kept, st.URI)
		if strings.Contains(st.URL, "169.254") {
			t.Errorf("evidence %s links to %s", st.URI, st.URL)
		}
	}
	if !slices.Contains(kept, good.URI) {
		t.Errorf("the genuine evidence is missing: %v", kept)
	}
}
