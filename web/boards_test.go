package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// boardJSON and ideaJSON are the parts of Tacit's board and idea entities tests read.
type boardJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Description string `json:"description"`
	Scope       string `json:"scope"`
	Account     struct {
		ID    string `json:"id"`
		Group bool   `json:"group"`
		Acct  string `json:"acct"`
	} `json:"account"`
	Moderators []struct {
		ID   string `json:"id"`
		Acct string `json:"acct"`
	} `json:"moderators"`
}

type ideaJSON struct {
	ID            string  `json:"id"`
	Title         string  `json:"title"`
	Body          string  `json:"body"`
	Status        string  `json:"status"`
	StatusComment string  `json:"status_comment"`
	Votes         int64   `json:"votes"`
	Voted         bool    `json:"voted"`
	Locked        bool    `json:"locked"`
	Pinned        bool    `json:"pinned"`
	MergedIntoID  *string `json:"merged_into_id"`
	URI           string  `json:"uri"`
	URL           string  `json:"url"`
	CreatedAt     string  `json:"created_at"`
	Board         struct {
		ID string `json:"id"`
	} `json:"board"`
	Account struct {
		Acct string `json:"acct"`
	} `json:"account"`
}

// boardStory is what TestIdeaBoardOnOneInstance's steps share: the admin's board,
// alice's idea and bob's other one, and bob's reply that is later removed.
type boardStory struct {
	ctx               context.Context
	inst              *instancetest.Instance
	admin, alice, bob *instancetest.User
	bobClient         *mastodon.Client
	board             boardJSON
	idea, other       ideaJSON
	bobReply          instancetest.PostedStatus
}

func TestIdeaBoardOnOneInstance(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		admin := inst.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin})
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		bob := inst.CreateUser(t, "bob", instancetest.UserOptions{})
		w := &boardStory{ctx: ctx, inst: inst, admin: admin, alice: alice, bob: bob, bobClient: inst.Client(bob.Token)}
		w.createBoard(t)
		w.followAndPropose(t)
		w.homeTimeline(t)
		w.vote(t)
		w.sort(t)
		w.workflow(t)
		w.merge(t)
		w.lockAndPin(t)
		w.removeAndBan(t)
		w.auditLog(t)
	})
}

// Only staff create boards, with a clear error for the others.
func (w *boardStory) createBoard(t *testing.T) {
	a := w.inst.Call(t, http.MethodPost, "/api/v1/tacit/boards", w.alice.Token, url.Values{"name": {"ideas"}})
	if a.Code != http.StatusForbidden || !strings.Contains(a.ErrorText(), "moderators and admins") {
		t.Errorf("a user creating a board: HTTP %d %s", a.Code, a.Body)
	}
	w.inst.Call(t, http.MethodPost, "/api/v1/tacit/boards", w.admin.Token, url.Values{
		"name": {"ideas"}, "display_name": {"Ideas"}, "description": {"Make work better"}, "scope": {"company"},
	}).Decode(t, http.StatusOK, &w.board)
	if !w.board.Account.Group || w.board.Name != "ideas" || w.board.Scope != "company" || len(w.board.Moderators) != 1 ||
		w.board.Moderators[0].Acct != "admin" || w.board.ID != w.board.Account.ID {
		t.Fatalf("created board: %+v", w.board)
	}
	if a := w.inst.Call(t, http.MethodPost, "/api/v1/tacit/boards", w.admin.Token, url.Values{"name": {"ideas"}}); a.Code != http.StatusUnprocessableEntity {
		t.Errorf("a second board with the same name: HTTP %d", a.Code)
	}
}

// In a Mastodon client the board is a group account one follows.
func (w *boardStory) followAndPropose(t *testing.T) {
	w.bobClient = w.inst.Client(w.bob.Token)
	acct, err := w.bobClient.AccountLookup(w.ctx, "ideas")
	if err != nil || string(acct.ID) != w.board.Account.ID {
		t.Fatalf("lookup of the board: %v %+v", err, acct)
	}
	if _, err := w.bobClient.AccountFollow(w.ctx, acct.ID); err != nil {
		t.Fatal(err)
	}

	w.inst.Call(t, http.MethodPost, "/api/v1/tacit/boards/"+w.board.ID+"/ideas", w.alice.Token, url.Values{
		"title": {"Standing desks"}, "body": {"For the support floor, please."},
	}).Decode(t, http.StatusOK, &w.idea)
	if w.idea.Title != "Standing desks" || w.idea.Status != "new" || w.idea.Votes != 0 || w.idea.Board.ID != w.board.ID ||
		w.idea.Account.Acct != "alice" {
		t.Fatalf("created idea: %+v", w.idea)
	}
	w.inst.Call(t, http.MethodPost, "/api/v1/tacit/boards/"+w.board.ID+"/ideas", w.bob.Token, url.Values{
		"title": {"Desks that stand"}, "body": {"Same as the other one."},
	}).Decode(t, http.StatusOK, &w.other)
	if a := w.inst.Call(t, http.MethodPost, "/api/v1/tacit/boards/"+w.board.ID+"/ideas", w.bob.Token, url.Values{"title": {""}}); a.Code != http.StatusUnprocessableEntity {
		t.Errorf("an idea without a title: HTTP %d", a.Code)
	}
}

// Bob's home timeline shows the board's share of the idea, title first; the
// status carries tacit.idea.
func (w *boardStory) homeTimeline(t *testing.T) {
	home, err := w.bobClient.GetTimelineHome(w.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var shared bool
	for _, st := range home {
		if st.Reblog != nil && string(st.Reblog.ID) == w.idea.ID && st.Account.Acct == "ideas" {
			shared = strings.HasPrefix(st.Reblog.Content, "<p>Standing desks</p>")
		}
	}
	if !shared {
		t.Errorf("bob's home timeline lacks the board's share of the idea with its title first: %d statuses", len(home))
	}
	raw := w.inst.Call(t, http.MethodGet, "/api/v1/statuses/"+w.idea.ID, w.bob.Token, nil)
	var st struct {
		Tacit struct {
			Idea *struct {
				Title  string `json:"title"`
				Status string `json:"status"`
				Votes  int64  `json:"votes"`
			} `json:"idea"`
		} `json:"tacit"`
	}
	raw.Decode(t, http.StatusOK, &st)
	if st.Tacit.Idea == nil || st.Tacit.Idea.Title != "Standing desks" || st.Tacit.Idea.Status != "new" {
		t.Errorf("status JSON of an idea: %s", raw.Body)
	}
}

// Votes: a favourite is a vote; voting twice counts once.
func (w *boardStory) vote(t *testing.T) {
	if _, err := w.bobClient.Favourite(w.ctx, mastodon.ID(w.idea.ID)); err != nil {
		t.Fatal(err)
	}
	w.inst.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+w.idea.ID+"/vote", w.bob.Token, nil).Decode(t, http.StatusOK, &w.idea)
	if w.idea.Votes != 1 || !w.idea.Voted {
		t.Errorf("after bob's favourite and vote: votes %d voted %v", w.idea.Votes, w.idea.Voted)
	}
	w.inst.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+w.other.ID+"/vote", w.bob.Token, nil).Decode(t, http.StatusOK, &w.other)
	w.inst.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+w.other.ID+"/vote", w.alice.Token, nil).Decode(t, http.StatusOK, &w.other)
	if w.other.Votes != 2 {
		t.Errorf("other idea votes = %d, want 2", w.other.Votes)
	}
}

// Sorting: top puts the idea with two votes first.
func (w *boardStory) sort(t *testing.T) {
	var list []ideaJSON
	w.inst.Call(t, http.MethodGet, "/api/v1/tacit/boards/"+w.board.ID+"/ideas?sort=top", w.bob.Token, nil).Decode(t, http.StatusOK, &list)
	if len(list) != 2 || list[0].ID != w.other.ID {
		t.Errorf("top ideas: %+v", list)
	}
	w.inst.Call(t, http.MethodGet, "/api/v1/tacit/boards/"+w.board.ID+"/ideas?sort=new", w.bob.Token, nil).Decode(t, http.StatusOK, &list)
	if len(list) != 2 || list[0].ID != w.other.ID {
		t.Errorf("new ideas: %+v", list)
	}
	w.inst.Call(t, http.MethodGet, "/api/v1/tacit/boards/"+w.board.ID+"/ideas?sort=trending", w.bob.Token, nil).Decode(t, http.StatusOK, &list)
	if len(list) != 2 || list[0].ID != w.other.ID {
		t.Errorf("trending ideas: %+v", list)
	}
}

// Only moderators change an idea's status; the workflow is enforced.
func (w *boardStory) workflow(t *testing.T) {
	a := w.inst.Call(t, http.MethodPut, "/api/v1/tacit/ideas/"+w.idea.ID+"/status", w.bob.Token, url.Values{"status": {"planned"}})
	if a.Code != http.StatusForbidden || !strings.Contains(a.ErrorText(), "moderators") {
		t.Errorf("bob changing the status: HTTP %d %s", a.Code, a.Body)
	}
	w.inst.Call(t, http.MethodPut, "/api/v1/tacit/ideas/"+w.idea.ID+"/status", w.admin.Token, url.Values{
		"status": {"under_review"}, "comment": {"Asking facilities"}}).Decode(t, http.StatusOK, &w.idea)
	if w.idea.Status != "under_review" || w.idea.StatusComment != "Asking facilities" {
		t.Errorf("after the status change: %+v", w.idea)
	}
	w.inst.Call(t, http.MethodPut, "/api/v1/tacit/ideas/"+w.idea.ID+"/status", w.admin.Token, url.Values{"status": {"done"}}).Decode(t, http.StatusOK, &w.idea)
	if a := w.inst.Call(t, http.MethodPut, "/api/v1/tacit/ideas/"+w.idea.ID+"/status", w.admin.Token, url.Values{"status": {"new"}}); a.Code != http.StatusUnprocessableEntity {
		t.Errorf("done back to new: HTTP %d %s", a.Code, a.Body)
	}
	var list []ideaJSON
	w.inst.Call(t, http.MethodGet, "/api/v1/tacit/boards/"+w.board.ID+"/ideas?status=done", w.bob.Token, nil).Decode(t, http.StatusOK, &list)
	if len(list) != 1 || list[0].ID != w.idea.ID {
		t.Errorf("done ideas: %+v", list)
	}
}

// Merge: the other idea goes into the first; bob voted for both and counts once.
func (w *boardStory) merge(t *testing.T) {
	w.inst.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+w.other.ID+"/merge", w.admin.Token, url.Values{"into": {w.idea.ID}}).Decode(t, http.StatusOK, &w.other)
	if w.other.MergedIntoID == nil || *w.other.MergedIntoID != w.idea.ID || !w.other.Locked {
		t.Errorf("merged idea: %+v", w.other)
	}
	w.inst.Call(t, http.MethodGet, "/api/v1/tacit/ideas/"+w.idea.ID, w.bob.Token, nil).Decode(t, http.StatusOK, &w.idea)
	if w.idea.Votes != 2 {
		t.Errorf("votes after the merge = %d, want 2 (bob once, alice once)", w.idea.Votes)
	}
}

// Lock: replies are refused, except from moderators.
func (w *boardStory) lockAndPin(t *testing.T) {
	w.inst.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+w.idea.ID+"/lock", w.admin.Token, nil).Decode(t, http.StatusOK, &w.idea)
	reply := w.inst.Call(t, http.MethodPost, "/api/v1/statuses", w.bob.Token, url.Values{"status": {"Me too"}, "in_reply_to_id": {w.idea.ID}})
	if reply.Code != http.StatusForbidden || !strings.Contains(reply.ErrorText(), "locked") {
		t.Errorf("reply to a locked idea: HTTP %d %s", reply.Code, reply.Body)
	}
	w.inst.PostStatus(t, w.admin.Token, url.Values{"status": {"Locked while we decide"}, "in_reply_to_id": {w.idea.ID}})
	w.inst.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+w.idea.ID+"/unlock", w.admin.Token, nil).Decode(t, http.StatusOK, &w.idea)
	w.bobReply = w.inst.PostStatus(t, w.bob.Token, url.Values{"status": {"Me too"}, "in_reply_to_id": {w.idea.ID}})

	// Pin puts an idea first.
	w.inst.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+w.idea.ID+"/pin", w.admin.Token, nil).Decode(t, http.StatusOK, &w.idea)
	if !w.idea.Pinned {
		t.Error("pin did not pin")
	}
}

// Remove a reply with a reason; ban bob, who can then neither post nor vote.
func (w *boardStory) removeAndBan(t *testing.T) {
	var entry struct {
		Action string `json:"action"`
		Reason string `json:"reason"`
		Origin string `json:"origin"`
	}
	w.inst.Call(t, http.MethodPost, "/api/v1/tacit/statuses/"+w.bobReply.ID+"/remove", w.admin.Token,
		url.Values{"reason": {"Off topic"}}).Decode(t, http.StatusOK, &entry)
	if entry.Action != "remove" || entry.Reason != "Off topic" || entry.Origin != w.inst.Host() {
		t.Errorf("removal entry: %+v", entry)
	}
	if _, err := w.bobClient.GetStatus(w.ctx, mastodon.ID(w.bobReply.ID)); err == nil {
		t.Error("the removed reply is still there")
	}
	w.inst.Call(t, http.MethodPost, "/api/v1/tacit/boards/"+w.board.ID+"/bans", w.admin.Token,
		url.Values{"account_id": {community.FormatID(w.bob.Account.ID)}, "reason": {"Spam"}}).Decode(t, http.StatusOK, nil)
	a := w.inst.Call(t, http.MethodPost, "/api/v1/tacit/boards/"+w.board.ID+"/ideas", w.bob.Token, url.Values{"title": {"Again"}})
	if a.Code != http.StatusForbidden || !strings.Contains(a.ErrorText(), "banned") {
		t.Errorf("a banned account posting: HTTP %d %s", a.Code, a.Body)
	}
}

// The audit log, for moderators only, filterable.
func (w *boardStory) auditLog(t *testing.T) {
	var log []struct {
		Action  string `json:"action"`
		BoardID string `json:"board_id"`
		Account struct {
			Acct string `json:"acct"`
		} `json:"account"`
	}
	if a := w.inst.Call(t, http.MethodGet, "/api/v1/tacit/moderation/log", w.bob.Token, nil); a.Code != http.StatusForbidden {
		t.Errorf("bob reading the log: HTTP %d", a.Code)
	}
	w.inst.Call(t, http.MethodGet, "/api/v1/tacit/moderation/log?board_id="+w.board.ID, w.admin.Token, nil).Decode(t, http.StatusOK, &log)
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
		if e.Account.Acct != "admin" || e.BoardID != w.board.ID {
			t.Errorf("log entry %+v", e)
		}
	}
	want := "ban remove pin unlock lock merge status status"
	if strings.Join(actions, " ") != want {
		t.Errorf("log actions = %q, want %q", strings.Join(actions, " "), want)
	}
	w.inst.Call(t, http.MethodGet, "/api/v1/tacit/moderation/log?action=status", w.admin.Token, nil).Decode(t, http.StatusOK, &log)
	if len(log) != 2 {
		t.Errorf("status entries = %d, want 2", len(log))
	}
}

// TestConcurrentIdeaVotes: votes cast at the same moment are all counted, once each.
func TestConcurrentIdeaVotes(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		admin := inst.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin})
		board, err := inst.Community.CreateBoard(ctx, admin.Account, community.NewBoard{Name: "ideas"})
		if err != nil {
			t.Fatal(err)
		}
		idea, err := inst.Community.CreateIdea(ctx, admin.Account, board.Account.ID, community.NewIdea{Title: "Popular"})
		if err != nil {
			t.Fatal(err)
		}
		const voters = 12
		var users []*instancetest.User
		for i := range voters {
			users = append(users, inst.CreateUser(t, fmt.Sprintf("voter%d", i), instancetest.UserOptions{}))
		}
		var wg sync.WaitGroup
		for _, u := range users {
			wg.Add(2)
			for range 2 { // each votes twice at once: still one vote
				go func() {
					defer wg.Done()
					if _, err := inst.Community.Favourite(ctx, u.Account, idea.ID); err != nil {
						t.Error(err)
					}
				}()
			}
		}
		wg.Wait()
		got, err := inst.Community.Unchecked().IdeaOf(ctx, idea.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.VotesCount != voters {
			t.Errorf("votes = %d, want %d", got.VotesCount, voters)
		}
	})
}
