package federation_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/federation"
	"github.com/tacit-social/tacit/federation/signature"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
)

// Idea boards across three instances: the board lives on A; people on B and C follow
// it, post ideas, vote, reply, moderate and report.

type testIdea struct {
	ID            string  `json:"id"`
	Title         string  `json:"title"`
	Status        string  `json:"status"`
	StatusComment string  `json:"status_comment"`
	Votes         int64   `json:"votes"`
	Voted         bool    `json:"voted"`
	Locked        bool    `json:"locked"`
	Pinned        bool    `json:"pinned"`
	MergedIntoID  *string `json:"merged_into_id"`
	URI           string  `json:"uri"`
	Board         struct {
		ID string `json:"id"`
	} `json:"board"`
}

type testBoard struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Moderators []struct {
		Acct string `json:"acct"`
	} `json:"moderators"`
}

// staffScopes are a moderator's token's scopes: the usual ones and the admin API's.
var staffScopes = []string{"read", "write", "follow", "push", "admin:read", "admin:write"}

// company is three instances with a board on the first.
type company struct {
	a, b, c     *instancetest.Instance
	boardURI    string
	boardIDs    map[*instancetest.Instance]string // the board's account id on each instance
	admin       *instancetest.User                // staff of A, the board's first moderator
	bob         *instancetest.User                // on B
	carol, dave *instancetest.User                // on C
}

func startBoardCompany(t *testing.T) *company {
	t.Helper()
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 3, instancetest.Options{})
	co := &company{a: insts[0], b: insts[1], c: insts[2], boardIDs: map[*instancetest.Instance]string{}}
	co.admin = co.a.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin, Scopes: staffScopes})
	co.bob = co.b.CreateUser(t, "bob", instancetest.UserOptions{})
	co.carol = co.c.CreateUser(t, "carol", instancetest.UserOptions{})
	co.dave = co.c.CreateUser(t, "dave", instancetest.UserOptions{})
	var board testBoard
	co.a.Call(t, http.MethodPost, "/api/v1/tacit/boards", co.admin.Token, url.Values{
		"name": {"ideas"}, "display_name": {"Ideas"}, "description": {"Make work better"},
	}).Decode(t, http.StatusOK, &board)
	co.boardIDs[co.a] = board.ID
	local, err := co.a.Community.LocalAccount(ctx, "ideas")
	if err != nil {
		t.Fatal(err)
	}
	co.boardURI = local.URI
	for _, inst := range []*instancetest.Instance{co.b, co.c} {
		acct, err := inst.Federator.ResolveAccount(ctx, "ideas@"+co.a.Host())
		if err != nil {
			t.Fatalf("resolve the board from %s: %v", inst.Host(), err)
		}
		co.boardIDs[inst] = community.FormatID(acct.ID)
	}
	return co
}

// ideaOf reads an idea by its ActivityPub id through the API, as a user sees it.
func ideaOf(t *testing.T, inst *instancetest.Instance, token, uri string) (testIdea, bool) {
	t.Helper()
	st, err := inst.Community.Unchecked().StatusByURI(context.Background(), uri)
	if err != nil {
		return testIdea{}, false
	}
	a := inst.Call(t, http.MethodGet, "/api/v1/tacit/ideas/"+community.FormatID(st.ID), token, nil)
	if a.Code != http.StatusOK {
		return testIdea{}, false
	}
	var out testIdea
	a.Decode(t, http.StatusOK, &out)
	return out, true
}

// localID is the id of a status on an instance.
func localID(t *testing.T, inst *instancetest.Instance, uri string) string {
	t.Helper()
	st, err := inst.Community.Unchecked().StatusByURI(context.Background(), uri)
	if err != nil {
		t.Fatalf("status %s on %s: %v", uri, inst.Host(), err)
	}
	return community.FormatID(st.ID)
}

// accountOn is the id of an account on another instance (resolving it there).
func accountOn(t *testing.T, inst *instancetest.Instance, handle string) string {
	t.Helper()
	a, err := inst.Federator.ResolveAccount(context.Background(), handle)
	if err != nil {
		t.Fatalf("resolve %s on %s: %v", handle, inst.Host(), err)
	}
	return community.FormatID(a.ID)
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	id, ok := community.ParseID(s)
	if !ok {
		t.Fatalf("not an id: %q", s)
	}
	return id
}

// deliverAs posts an activity to an inbox signed with a local account's key, as its
// instance would: for activities the API would never send (forgeries, replays).
func deliverAs(t *testing.T, from *instancetest.Instance, acct *community.Account, inbox string, activity map[string]any) {
	t.Helper()
	if err := postAs(t, from, acct, inbox, activity); err != nil {
		t.Fatalf("deliver to %s: %v", inbox, err)
	}
}

// postAs is deliverAs returning the inbox's refusal.
func postAs(t *testing.T, from *instancetest.Instance, acct *community.Account, inbox string, activity map[string]any) error {
	t.Helper()
	ctx := context.Background()
	priv, _, err := from.Community.AccountKeys(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	key, err := signature.ParsePrivateKeyPEM(priv)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(activity)
	if err != nil {
		t.Fatal(err)
	}
	client := federation.NewClient(federation.HostPolicy{Peer: func(string) bool { return true }}, "test")
	return client.Post(ctx, inbox, body, federation.Signer{KeyID: acct.URI + "#main-key", Key: key})
}

// queueIdle reports whether an instance has no delivery or inbox job left to run.
func queueIdle(t *testing.T, inst *instancetest.Instance) bool {
	t.Helper()
	stats, err := inst.Queue.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range stats.Kinds {
		if k.Pending+k.Running+k.Retrying > 0 {
			return false
		}
	}
	return true
}

// refused waits until an inbox activity was given up on for good, with a reason.
func refused(t *testing.T, inst *instancetest.Instance, activityID, why string) {
	t.Helper()
	eventually.Holds(t, "the refusal of "+activityID, func() bool {
		dead, err := inst.Queue.DeadLetters(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dead {
			if d.DedupeKey == activityID && strings.Contains(d.LastError, why) {
				return true
			}
		}
		return false
	})
}

func TestBoardIdeasAndVotesAcrossInstances(t *testing.T) {
	co := startBoardCompany(t)
	s := &ideaVotes{company: co, alice: co.a.CreateUser(t, "alice", instancetest.UserOptions{})}
	s.boardEverywhere(t)
	s.carolFollowsTheBoard(t)
	s.bobPostsAnIdea(t)
	s.votesFromThreeInstances(t)
	s.duplicateMerged(t)

	// The status workflow, set on A, shows everywhere with its comment.
	a, b, c := co.a, co.b, co.c
	a.Call(t, http.MethodPut, "/api/v1/tacit/ideas/"+localID(t, a, s.idea.URI)+"/status", co.admin.Token,
		url.Values{"status": {"planned"}, "comment": {"Budget approved"}}).Decode(t, http.StatusOK, nil)
	s.sameEverywhere(t, "the planned status", func(i testIdea) bool {
		return i.Status == "planned" && i.StatusComment == "Budget approved"
	})
	raw := c.Call(t, http.MethodGet, "/api/v1/statuses/"+s.ideaOnC, co.carol.Token, nil)
	if !strings.Contains(string(raw.Body), `"status":"planned"`) {
		t.Errorf("tacit.idea of the status on C: %s", raw.Body)
	}

	// Bob withdraws his vote: 3 everywhere.
	b.Call(t, http.MethodDelete, "/api/v1/tacit/ideas/"+s.idea.ID+"/vote", co.bob.Token, nil).Decode(t, http.StatusOK, nil)
	s.sameEverywhere(t, "3 votes after bob's withdrawal", func(i testIdea) bool { return i.Votes == 3 })
}

// ideaVotes is the company of TestBoardIdeasAndVotesAcrossInstances with alice on A,
// and bob's idea once he has posted it.
type ideaVotes struct {
	*company
	alice   *instancetest.User
	idea    testIdea
	ideaOnC string // the idea's status id on C
}

// boardEverywhere: every instance shows the board with the same moderators.
func (s *ideaVotes) boardEverywhere(t *testing.T) {
	t.Helper()
	for _, x := range []struct {
		inst  *instancetest.Instance
		token string
	}{{s.b, s.bob.Token}, {s.c, s.carol.Token}} {
		inst := x.inst
		var board testBoard
		inst.Call(t, http.MethodGet, "/api/v1/tacit/boards/"+s.boardIDs[inst], x.token, nil).Decode(t, http.StatusOK, &board)
		if board.Name != "ideas" || len(board.Moderators) != 1 || board.Moderators[0].Acct != "admin@"+s.a.Host() {
			t.Errorf("the board seen from %s: %+v", inst.Host(), board)
		}
	}
}

// carolFollowsTheBoard from a Mastodon client: the board is a group account.
func (s *ideaVotes) carolFollowsTheBoard(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	carolClient := s.c.Client(s.carol.Token)
	rel, err := carolClient.AccountFollow(ctx, mastodon.ID(s.boardIDs[s.c]))
	if err != nil {
		t.Fatal(err)
	}
	if !rel.Requested && !rel.Following {
		t.Fatalf("follow of the board: %+v", rel)
	}
	eventually.Holds(t, "the board to accept carol", func() bool {
		rels, err := carolClient.GetAccountRelationships(ctx, []string{s.boardIDs[s.c]})
		return err == nil && len(rels) == 1 && rels[0].Following
	})
}

// bobPostsAnIdea from B; it reaches A and C as an idea of the board, carol's home
// timeline as the board's share, and the board relays an unlisted reply.
func (s *ideaVotes) bobPostsAnIdea(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	a, b, c := s.a, s.b, s.c
	carolClient := c.Client(s.carol.Token)
	b.Call(t, http.MethodPost, "/api/v1/tacit/boards/"+s.boardIDs[b]+"/ideas", s.bob.Token, url.Values{
		"title": {"Quiet room"}, "body": {"A room for focused work on every floor."},
	}).Decode(t, http.StatusOK, &s.idea)
	idea := s.idea
	if idea.Board.ID != s.boardIDs[b] || idea.Status != "new" {
		t.Fatalf("bob's idea: %+v", idea)
	}
	eventually.Holds(t, "the idea on A and C, as an idea of the board", func() bool {
		ia, okA := ideaOf(t, a, s.alice.Token, idea.URI)
		ic, okC := ideaOf(t, c, s.carol.Token, idea.URI)
		return okA && okC && ia.Title == "Quiet room" && ic.Board.ID == s.boardIDs[c]
	})
	s.ideaOnC = localID(t, c, idea.URI)

	// Carol sees the board's share in her home timeline, title first.
	eventually.Holds(t, "the board's share of the idea in carol's home timeline", func() bool {
		home, err := carolClient.GetTimelineHome(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range home {
			if st.Reblog != nil && st.Reblog.URI == idea.URI && st.Account.Acct == "ideas@"+a.Host() {
				return strings.HasPrefix(st.Reblog.Content, "<p>Quiet room</p>")
			}
		}
		return false
	})
	// ...and in the board's own account on C.
	boardStatuses, err := carolClient.GetAccountStatuses(ctx, mastodon.ID(s.boardIDs[c]), nil)
	if err != nil || len(boardStatuses) != 1 || boardStatuses[0].Reblog == nil || boardStatuses[0].Reblog.URI != idea.URI {
		t.Errorf("the board's account on C: %v, %d statuses", err, len(boardStatuses))
	}

	// An unlisted reply from B goes to the board only; the board relays it to its
	// followers, and C fetches it from B.
	unlisted := b.PostStatus(t, s.bob.Token, url.Values{"status": {"Details in the wiki"}, "visibility": {"unlisted"},
		"in_reply_to_id": {idea.ID}}).URI
	eventually.Holds(t, "the board to relay the unlisted reply to C", func() bool {
		_, err := c.Community.Unchecked().StatusByURI(ctx, unlisted)
		return err == nil
	})
}

// votesFromThreeInstances: carol with a Mastodon favourite, alice on A, bob twice on B
// (vote and favourite are the same vote); carol's vote delivered again, under another
// activity id, still counts once.
func (s *ideaVotes) votesFromThreeInstances(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	a, b, c := s.a, s.b, s.c
	idea := s.idea
	carolClient := c.Client(s.carol.Token)
	if _, err := carolClient.Favourite(ctx, mastodon.ID(s.ideaOnC)); err != nil {
		t.Fatal(err)
	}
	a.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+localID(t, a, idea.URI)+"/vote", s.alice.Token, nil).Decode(t, http.StatusOK, nil)
	b.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+idea.ID+"/vote", s.bob.Token, nil).Decode(t, http.StatusOK, nil)
	if _, err := b.Client(s.bob.Token).Favourite(ctx, mastodon.ID(idea.ID)); err != nil {
		t.Fatal(err)
	}
	s.sameEverywhere(t, "3 votes", func(i testIdea) bool { return i.Votes == 3 && i.Voted })
	st, err := carolClient.GetStatus(ctx, mastodon.ID(s.ideaOnC))
	if err != nil || st.FavouritesCount != 3 {
		t.Errorf("the idea's favourites count in carol's client: %v %d, want 3", err, st.FavouritesCount)
	}

	carolAcct := s.carol.Account
	deliverAs(t, c, carolAcct, a.URL+"/inbox", map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams", "id": carolAcct.URI + "#likes/again",
		"type": "Like", "actor": carolAcct.URI, "object": idea.URI,
	})
	eventually.Holds(t, "the repeated Like to be processed", func() bool {
		return queueIdle(t, a)
	})
	if got, _ := ideaOf(t, a, s.alice.Token, idea.URI); got.Votes != 3 {
		t.Errorf("votes on A after a repeated Like = %d, want 3", got.Votes)
	}
}

// duplicateMerged: a duplicate idea from C, voted by carol and dave, merged into bob's:
// carol voted for both and counts once.
func (s *ideaVotes) duplicateMerged(t *testing.T) {
	t.Helper()
	a, c := s.a, s.c
	var dup testIdea
	c.Call(t, http.MethodPost, "/api/v1/tacit/boards/"+s.boardIDs[c]+"/ideas", s.dave.Token, url.Values{
		"title": {"A silent room"}}).Decode(t, http.StatusOK, &dup)
	c.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+dup.ID+"/vote", s.carol.Token, nil).Decode(t, http.StatusOK, nil)
	c.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+dup.ID+"/vote", s.dave.Token, nil).Decode(t, http.StatusOK, nil)
	eventually.Holds(t, "2 votes for the duplicate on A", func() bool {
		got, ok := ideaOf(t, a, s.alice.Token, dup.URI)
		return ok && got.Votes == 2
	})
	a.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+localID(t, a, dup.URI)+"/merge", s.admin.Token,
		url.Values{"into": {localID(t, a, s.idea.URI)}}).Decode(t, http.StatusOK, nil)
	s.sameEverywhere(t, "4 votes after the merge", func(i testIdea) bool { return i.Votes == 4 })
	eventually.Holds(t, "the duplicate merged on C", func() bool {
		got, ok := ideaOf(t, c, s.dave.Token, dup.URI)
		return ok && got.MergedIntoID != nil && *got.MergedIntoID == s.ideaOnC && got.Locked
	})
}

// sameEverywhere waits until the idea, as alice, bob and carol see it on their
// instances, passes check.
func (s *ideaVotes) sameEverywhere(t *testing.T, what string, check func(testIdea) bool) {
	t.Helper()
	eventually.Holds(t, what+" on A, B and C", func() bool {
		for _, x := range []struct {
			inst  *instancetest.Instance
			token string
		}{{s.a, s.alice.Token}, {s.b, s.bob.Token}, {s.c, s.carol.Token}} {
			got, ok := ideaOf(t, x.inst, x.token, s.idea.URI)
			if !ok || !check(got) {
				return false
			}
		}
		return true
	})
}

func TestBoardModerationAcrossInstances(t *testing.T) {
	co := startBoardCompany(t)
	s := &boardModeration{company: co, bAdmin: co.b.CreateUser(t, "badmin", instancetest.UserOptions{Role: community.RoleModerator})}
	s.carolBecomesModerator(t)
	s.bobPostsAnIdeaAndReplies(t)
	s.forgedRemovalsRefused(t)
	s.carolRemovesTheOffTopicReply(t)
	s.carolLocksTheIdea(t)
	s.banPinStatusAndMove(t)
	s.checkModerationLogs(t)
}

// boardModeration is the company of TestBoardModerationAcrossInstances with a
// moderator on B, and bob's idea and two replies to it once posted.
type boardModeration struct {
	*company
	bAdmin         *instancetest.User
	idea           testIdea
	offTopic, kept instancetest.PostedStatus
}

// carolBecomesModerator: carol, on C, becomes a moderator of the board; every instance
// learns it.
func (s *boardModeration) carolBecomesModerator(t *testing.T) {
	t.Helper()
	a := s.a
	carolOnA := accountOn(t, a, "carol@"+s.c.Host())
	a.Call(t, http.MethodPost, "/api/v1/tacit/boards/"+s.boardIDs[a]+"/moderators", s.admin.Token,
		url.Values{"account_id": {carolOnA}}).Decode(t, http.StatusOK, nil)
	for _, x := range []struct {
		inst  *instancetest.Instance
		token string
	}{{s.b, s.bob.Token}, {s.c, s.carol.Token}} {
		inst := x.inst
		eventually.Holds(t, "carol listed as a moderator on "+inst.Host(), func() bool {
			var board testBoard
			inst.Call(t, http.MethodGet, "/api/v1/tacit/boards/"+s.boardIDs[inst], x.token, nil).Decode(t, http.StatusOK, &board)
			return len(board.Moderators) == 2
		})
	}
}

// bobPostsAnIdeaAndReplies from B: an off-topic reply and one that is kept.
func (s *boardModeration) bobPostsAnIdeaAndReplies(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	a, b, c := s.a, s.b, s.c
	b.Call(t, http.MethodPost, "/api/v1/tacit/boards/"+s.boardIDs[b]+"/ideas", s.bob.Token,
		url.Values{"title": {"Bike racks"}}).Decode(t, http.StatusOK, &s.idea)
	eventually.Holds(t, "the idea on A and C", func() bool {
		_, okA := ideaOf(t, a, s.admin.Token, s.idea.URI)
		_, okC := ideaOf(t, c, s.carol.Token, s.idea.URI)
		return okA && okC
	})
	s.offTopic = b.PostStatus(t, s.bob.Token, url.Values{"status": {"Buy my bike, cheap!"}, "in_reply_to_id": {s.idea.ID}})
	s.kept = b.PostStatus(t, s.bob.Token, url.Values{"status": {"Near the entrance, ideally."}, "in_reply_to_id": {s.idea.ID}})
	eventually.Holds(t, "bob's replies on A and C", func() bool {
		for _, inst := range []*instancetest.Instance{a, c} {
			for _, uri := range []string{s.offTopic.URI, s.kept.URI} {
				if _, err := inst.Community.Unchecked().StatusByURI(ctx, uri); err != nil {
					return false
				}
			}
		}
		return true
	})
}

// forgedRemovalsRefused: dave, no moderator, sends a Remove to the board; A refuses
// it, B (where the board does not live) ignores it, and C refuses him with a clear
// error.
func (s *boardModeration) forgedRemovalsRefused(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	a, b, c := s.a, s.b, s.c
	dave := s.dave.Account
	forged := dave.URI + "#forged-remove"
	deliverAs(t, c, dave, a.URL+"/inbox", map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams", "id": forged, "type": "Remove",
		"actor": dave.URI, "object": s.kept.URI, "target": s.boardURI,
	})
	refused(t, a, forged, "moderators")
	// The same sent straight to B, where the board does not live: nothing happens.
	forgedB := dave.URI + "#forged-remove-b"
	deliverAs(t, c, dave, b.URL+"/inbox", map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams", "id": forgedB, "type": "Remove",
		"actor": dave.URI, "object": s.kept.URI, "target": s.boardURI,
	})
	eventually.Holds(t, "B to process the forged removal", func() bool {
		return queueIdle(t, b)
	})
	for _, inst := range []*instancetest.Instance{a, b} {
		if _, err := inst.Community.Unchecked().StatusByURI(ctx, s.kept.URI); err != nil {
			t.Errorf("a forged removal removed the reply on %s", inst.Host())
		}
	}
	// Dave's own instance refuses him too, with a clear error.
	resp := c.Call(t, http.MethodPost, "/api/v1/tacit/statuses/"+localID(t, c, s.kept.URI)+"/remove", s.dave.Token, nil)
	if resp.Code != http.StatusForbidden || !strings.Contains(string(resp.Body), "moderators") {
		t.Errorf("dave removing on C: HTTP %d %s", resp.Code, resp.Body)
	}
}

// carolRemovesTheOffTopicReply, as moderator on C: it disappears everywhere, from B's
// and C's public timelines too.
func (s *boardModeration) carolRemovesTheOffTopicReply(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	a, b, c := s.a, s.b, s.c
	offTopic, kept := s.offTopic, s.kept
	c.Call(t, http.MethodPost, "/api/v1/tacit/statuses/"+localID(t, c, offTopic.URI)+"/remove", s.carol.Token,
		url.Values{"reason": {"Off topic"}}).Decode(t, http.StatusOK, nil)
	eventually.Holds(t, "the removed reply gone from A, B and C", func() bool {
		for _, inst := range []*instancetest.Instance{a, b, c} {
			if _, err := inst.Community.Unchecked().StatusByURI(ctx, offTopic.URI); community.KindOf(err) != community.KindNotFound {
				return false
			}
		}
		return true
	})
	for _, x := range []struct {
		inst  *instancetest.Instance
		token string
	}{{b, s.bob.Token}, {c, s.dave.Token}} {
		tl, err := x.inst.Client(x.token).GetTimelinePublic(ctx, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		sawKept := false
		for _, st := range tl {
			if st.URI == offTopic.URI {
				t.Errorf("the removed reply is in %s's public timeline", x.inst.Host())
			}
			sawKept = sawKept || st.URI == kept.URI
		}
		// The control: the reply that was kept, posted the same way, is listed.
		if !sawKept {
			t.Errorf("the kept reply is missing from %s's public timeline: the check above proves nothing", x.inst.Host())
		}
	}
}

// carolLocksTheIdea from C; the lock holds on A and B, and a later reply from C is
// refused by C, and by A if C sent it anyway.
func (s *boardModeration) carolLocksTheIdea(t *testing.T) {
	t.Helper()
	a, b, c := s.a, s.b, s.c
	idea, dave := s.idea, s.dave.Account
	c.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+localID(t, c, idea.URI)+"/lock", s.carol.Token, nil).Decode(t, http.StatusOK, nil)
	for _, inst := range []*instancetest.Instance{a, b} {
		eventually.Holds(t, "the lock on "+inst.Host(), func() bool {
			got, ok := ideaOf(t, inst, s.admin.Token, idea.URI)
			if inst == b {
				got, ok = ideaOf(t, inst, s.bob.Token, idea.URI)
			}
			return ok && got.Locked
		})
	}
	resp := c.Call(t, http.MethodPost, "/api/v1/statuses", s.dave.Token, url.Values{
		"status": {"Can I still say something?"}, "in_reply_to_id": {localID(t, c, idea.URI)}})
	if resp.Code != http.StatusForbidden || !strings.Contains(string(resp.Body), "locked") {
		t.Errorf("dave replying on C to a locked idea: HTTP %d %s", resp.Code, resp.Body)
	}
	lateReply := dave.URI + "/statuses/late"
	deliverAs(t, c, dave, a.URL+"/inbox", map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams", "id": lateReply + "/activity", "type": "Create",
		"actor": dave.URI, "to": []string{c.URL + "/ap/company"},
		"object": map[string]any{"id": lateReply, "type": "Note", "attributedTo": dave.URI, "content": "<p>Sneaking in</p>",
			"inReplyTo": idea.URI, "to": []string{c.URL + "/ap/company"}},
	})
	refused(t, a, lateReply+"/activity", "locked")
}

// banPinStatusAndMove: A bans dave from the board and C refuses his ideas; a pin from
// C and a status from A show on B; A's admin moves the idea to another board of A and
// C follows it there.
func (s *boardModeration) banPinStatusAndMove(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	a, b, c := s.a, s.b, s.c
	idea := s.idea
	daveOnA := accountOn(t, a, "dave@"+c.Host())
	a.Call(t, http.MethodPost, "/api/v1/tacit/boards/"+s.boardIDs[a]+"/bans", s.admin.Token,
		url.Values{"account_id": {daveOnA}, "reason": {"Spam"}}).Decode(t, http.StatusOK, nil)
	eventually.Holds(t, "C to refuse dave's ideas", func() bool {
		r := c.Call(t, http.MethodPost, "/api/v1/tacit/boards/"+s.boardIDs[c]+"/ideas", s.dave.Token, url.Values{"title": {"Let me in"}})
		return r.Code == http.StatusForbidden
	})

	c.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+localID(t, c, idea.URI)+"/pin", s.carol.Token, nil).Decode(t, http.StatusOK, nil)
	a.Call(t, http.MethodPut, "/api/v1/tacit/ideas/"+localID(t, a, idea.URI)+"/status", s.admin.Token,
		url.Values{"status": {"declined"}, "comment": {"No space"}}).Decode(t, http.StatusOK, nil)
	eventually.Holds(t, "pin and status on B", func() bool {
		got, ok := ideaOf(t, b, s.bob.Token, idea.URI)
		return ok && got.Pinned && got.Status == "declined"
	})

	var other testBoard
	a.Call(t, http.MethodPost, "/api/v1/tacit/boards", s.admin.Token, url.Values{"name": {"facilities"}}).Decode(t, http.StatusOK, &other)
	a.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+localID(t, a, idea.URI)+"/move", s.admin.Token,
		url.Values{"board": {other.ID}}).Decode(t, http.StatusOK, nil)
	eventually.Holds(t, "the idea on the new board on C", func() bool {
		got, ok := ideaOf(t, c, s.carol.Token, idea.URI)
		if !ok {
			return false
		}
		acct, err := c.Community.Unchecked().AccountByID(ctx, mustID(t, got.Board.ID))
		return err == nil && acct.Username == "facilities"
	})
}

// checkModerationLogs: every action is in the log on A, with who, what and from which
// instance; C's log holds what the board announced. B's staff read B's log.
func (s *boardModeration) checkModerationLogs(t *testing.T) {
	t.Helper()
	a, b, c := s.a, s.b, s.c
	type entry struct {
		Action    string `json:"action"`
		Origin    string `json:"origin"`
		Reason    string `json:"reason"`
		ObjectURI string `json:"object_uri"`
		Account   *struct {
			Acct string `json:"acct"`
		} `json:"account"`
	}
	var log []entry
	a.Call(t, http.MethodGet, "/api/v1/tacit/moderation/log?board_id="+s.boardIDs[a], s.admin.Token, nil).Decode(t, http.StatusOK, &log)
	var got []string
	for _, e := range log {
		got = append(got, e.Action+"@"+e.Origin)
		if e.Action == community.ActionRemove && (e.Reason != "Off topic" || e.ObjectURI != s.offTopic.URI ||
			e.Account == nil || e.Account.Acct != "carol@"+c.Host()) {
			t.Errorf("removal entry on A: %+v", e)
		}
	}
	want := []string{"move@" + a.Host(), "status@" + a.Host(), "pin@" + c.Host(), "ban@" + a.Host(), "lock@" + c.Host(),
		"remove@" + c.Host(), "add_moderator@" + a.Host()}
	slices.Sort(got)
	slices.Sort(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("A's log = %v, want %v", got, want)
	}
	var cl []entry
	defer func() {
		if t.Failed() {
			t.Logf("C's log: %+v", cl)
		}
	}()
	eventually.Holds(t, "C's log to hold the announced actions", func() bool {
		cl = nil
		c.Call(t, http.MethodGet, "/api/v1/tacit/moderation/log?board_id="+s.boardIDs[c], s.carol.Token, nil).Decode(t, http.StatusOK, &cl)
		if len(cl) > 6 {
			t.Fatalf("C's log: %+v", cl)
		}
		return len(cl) == 6 // the actions on this board but the moderator change, which is A's own
	})
	b.Call(t, http.MethodGet, "/api/v1/tacit/moderation/log?action=remove", s.bAdmin.Token, nil).Decode(t, http.StatusOK, &log)
	if len(log) != 1 || log[0].Origin != c.Host() {
		t.Errorf("B's log of removals: %+v", log)
	}
}

func TestReportsReachTheModerators(t *testing.T) {
	ctx := context.Background()
	co := startBoardCompany(t)
	a, b, c := co.a, co.b, co.c
	bAdmin := b.CreateUser(t, "badmin", instancetest.UserOptions{Role: community.RoleAdmin, Scopes: staffScopes})

	var idea testIdea
	b.Call(t, http.MethodPost, "/api/v1/tacit/boards/"+co.boardIDs[b]+"/ideas", co.bob.Token,
		url.Values{"title": {"Free crypto for everyone"}}).Decode(t, http.StatusOK, &idea)
	eventually.Holds(t, "the idea on C", func() bool {
		_, err := c.Community.Unchecked().StatusByURI(ctx, idea.URI)
		return err == nil
	})

	// Dave, on C, reports bob's idea and asks to forward the report.
	bobOnC := accountOn(t, c, "bob@"+b.Host())
	if _, err := c.Client(co.dave.Token).Report(ctx, mastodon.ID(bobOnC), []mastodon.ID{mastodon.ID(localID(t, c, idea.URI))}, "Spam"); err != nil {
		t.Fatal(err)
	}
	resp := c.Call(t, http.MethodPost, "/api/v1/reports", co.dave.Token, url.Values{
		"account_id": {bobOnC}, "status_ids[]": {localID(t, c, idea.URI)}, "comment": {"Spam, forwarded"},
		"forward": {"true"}, "category": {"spam"},
	})
	var filed struct {
		Forwarded bool `json:"forwarded"`
	}
	resp.Decode(t, http.StatusOK, &filed)
	if !filed.Forwarded {
		t.Errorf("the forwarded report says forwarded=false: %s", resp.Body)
	}

	type adminReport struct {
		ID            string `json:"id"`
		Comment       string `json:"comment"`
		ActionTaken   bool   `json:"action_taken"`
		TargetAccount struct {
			Username string `json:"username"`
		} `json:"target_account"`
		Statuses []struct {
			URI string `json:"uri"`
		} `json:"statuses"`
		Tacit struct {
			Origin  string  `json:"origin"`
			BoardID *string `json:"board_id"`
		} `json:"tacit"`
	}
	// The report reaches B's moderators (bob's instance) and A's (the board's).
	for _, x := range []struct {
		inst  *instancetest.Instance
		token string
	}{{b, bAdmin.Token}, {a, co.admin.Token}} {
		var reports []adminReport
		eventually.Holds(t, "the report on "+x.inst.Host(), func() bool {
			x.inst.Call(t, http.MethodGet, "/api/v1/admin/reports", x.token, nil).Decode(t, http.StatusOK, &reports)
			for _, r := range reports {
				if r.Comment == "Spam, forwarded" {
					return true
				}
			}
			return false
		})
		for _, r := range reports {
			if r.Comment != "Spam, forwarded" {
				continue
			}
			if r.TargetAccount.Username != "bob" || len(r.Statuses) != 1 || r.Statuses[0].URI != idea.URI || r.Tacit.Origin != c.Host() {
				t.Errorf("the report on %s: %+v", x.inst.Host(), r)
			}
			if x.inst == a && r.Tacit.BoardID == nil {
				t.Errorf("the report on A does not name the board: %+v", r)
			}
			// B's moderators resolve it there.
			if x.inst == b {
				var resolved adminReport
				b.Call(t, http.MethodPost, "/api/v1/admin/reports/"+r.ID+"/resolve", bAdmin.Token, nil).Decode(t, http.StatusOK, &resolved)
				if !resolved.ActionTaken {
					t.Error("resolve did not resolve")
				}
			}
		}
	}
	// The report not forwarded stays on C.
	var onC []adminReport
	cAdmin := c.CreateUser(t, "cadmin", instancetest.UserOptions{Role: community.RoleModerator, Scopes: staffScopes})
	c.Call(t, http.MethodGet, "/api/v1/admin/reports", cAdmin.Token, nil).Decode(t, http.StatusOK, &onC)
	if len(onC) != 2 {
		t.Errorf("reports on C = %d, want 2", len(onC))
	}
}

func TestDomainBlockCutsFederation(t *testing.T) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 2, instancetest.Options{})
	a, b := insts[0], insts[1]
	admin := a.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin, Scopes: staffScopes})
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{Scopes: staffScopes})
	bob := b.CreateUser(t, "bob", instancetest.UserOptions{})

	before := b.PostStatus(t, bob.Token, url.Values{"status": {"Before the block"}}).URI
	eventually.Holds(t, "B's post on A", func() bool {
		_, err := a.Community.Unchecked().StatusByURI(ctx, before)
		return err == nil
	})

	// Users cannot block domains; admins can, with Mastodon's admin API.
	if r := a.Call(t, http.MethodPost, "/api/v1/admin/domain_blocks", alice.Token, url.Values{"domain": {b.Host()}}); r.Code != http.StatusForbidden {
		t.Errorf("a user blocking a domain: HTTP %d", r.Code)
	}
	var block struct {
		ID       string `json:"id"`
		Domain   string `json:"domain"`
		Severity string `json:"severity"`
	}
	a.Call(t, http.MethodPost, "/api/v1/admin/domain_blocks", admin.Token, url.Values{
		"domain": {b.Host()}, "private_comment": {"testing"}}).Decode(t, http.StatusOK, &block)
	if block.Domain != b.Host() || block.Severity != "suspend" {
		t.Fatalf("domain block: %+v", block)
	}

	// At once: B's deliveries are refused, A neither fetches from B nor delivers there.
	after := b.PostStatus(t, bob.Token, url.Values{"status": {"After the block"}}).URI
	if _, err := a.Federator.Fetch(ctx, after); err == nil {
		t.Error("A fetched from a blocked domain")
	}
	b.CreateUser(t, "carl", instancetest.UserOptions{})
	if _, err := a.Federator.ResolveAccount(ctx, "carl@"+b.Host()); err == nil {
		t.Error("A resolved an account of a blocked domain")
	}
	err := postAs(t, b, bob.Account, a.URL+"/inbox", map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams", "id": bob.Account.URI + "#follows/1", "type": "Follow",
		"actor": bob.Account.URI, "object": alice.Account.URI,
	})
	var se *federation.StatusError
	if !errors.As(err, &se) || se.Code != http.StatusForbidden {
		t.Errorf("a delivery from a blocked domain: %v, want HTTP 403", err)
	}
	eventually.Holds(t, "B to give up delivering to A", func() bool {
		return queueIdle(t, b)
	})
	if _, err := a.Community.Unchecked().StatusByURI(ctx, after); err == nil {
		t.Error("a post from a blocked domain arrived")
	}
	if _, err := b.Federator.Fetch(ctx, a.URL+"/users/alice"); err == nil {
		t.Error("a blocked domain fetched an actor")
	}

	// Lifting the block restores federation.
	a.Call(t, http.MethodDelete, "/api/v1/admin/domain_blocks/"+block.ID, admin.Token, nil).Decode(t, http.StatusOK, nil)
	again := b.PostStatus(t, bob.Token, url.Values{"status": {"After the unblock"}}).URI
	eventually.Holds(t, "B's post on A after the unblock", func() bool {
		_, err := a.Community.Unchecked().StatusByURI(ctx, again)
		return err == nil
	})
}

func TestDepartmentBoardStaysHome(t *testing.T) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 2, instancetest.Options{})
	a, b := insts[0], insts[1]
	admin := a.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin})
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
	bob := b.CreateUser(t, "bob", instancetest.UserOptions{})
	var board testBoard
	a.Call(t, http.MethodPost, "/api/v1/tacit/boards", admin.Token, url.Values{
		"name": {"team"}, "scope": {"department"}}).Decode(t, http.StatusOK, &board)
	var idea testIdea
	a.Call(t, http.MethodPost, "/api/v1/tacit/boards/"+board.ID+"/ideas", alice.Token,
		url.Values{"title": {"Team lunch on Fridays"}}).Decode(t, http.StatusOK, &idea)
	raw := a.Call(t, http.MethodGet, "/api/v1/statuses/"+idea.ID, alice.Token, nil)
	if !strings.Contains(string(raw.Body), `"scope":"department"`) || !strings.Contains(string(raw.Body), `"local_only":true`) {
		t.Errorf("a department board's idea is not a department post: %s", raw.Body)
	}
	// Another instance cannot find the board, follow it, or receive its ideas.
	if _, err := b.Federator.ResolveAccount(ctx, "team@"+a.Host()); err == nil {
		t.Error("a department board resolved from another instance")
	}
	if _, err := b.Federator.Fetch(ctx, idea.URI); err == nil {
		t.Error("another instance fetched a department board's idea")
	}
	// A company post of A, sent after the idea, marks the end of what A sends B.
	marker := a.PostStatus(t, alice.Token, url.Values{"status": {"Company news"}}).URI
	eventually.Holds(t, "A's company post on B", func() bool {
		_, err := b.Community.Unchecked().StatusByURI(ctx, marker)
		return err == nil
	})
	if _, err := b.Community.Unchecked().StatusByURI(ctx, idea.URI); err == nil {
		t.Error("a department board's idea reached another instance")
	}
	var boards []testBoard
	b.Call(t, http.MethodGet, "/api/v1/tacit/boards", bob.Token, nil).Decode(t, http.StatusOK, &boards)
	if len(boards) != 0 {
		t.Errorf("boards on B: %+v", boards)
	}
}
