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

func TestIdeaBoardOnOneInstance(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		admin := inst.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin})
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		bob := inst.CreateUser(t, "bob", instancetest.UserOptions{})

		// Only staff create boards, with a clear error for the others.
		a := inst.Call(t, http.MethodPost, "/api/v1/tacit/boards", alice.Token, url.Values{"name": {"ideas"}})
		if a.Code != http.StatusForbidden || !strings.Contains(a.ErrorText(), "moderators and admins") {
			t.Errorf("a user creating a board: HTTP %d %s", a.Code, a.Body)
		}
		var board boardJSON
		inst.Call(t, http.MethodPost, "/api/v1/tacit/boards", admin.Token, url.Values{
			"name": {"ideas"}, "display_name": {"Ideas"}, "description": {"Make work better"}, "scope": {"company"},
		}).Decode(t, http.StatusOK, &board)
		if !board.Account.Group || board.Name != "ideas" || board.Scope != "company" || len(board.Moderators) != 1 ||
			board.Moderators[0].Acct != "admin" || board.ID != board.Account.ID {
			t.Fatalf("created board: %+v", board)
		}
		if a := inst.Call(t, http.MethodPost, "/api/v1/tacit/boards", admin.Token, url.Values{"name": {"ideas"}}); a.Code != http.StatusUnprocessableEntity {
			t.Errorf("a second board with the same name: HTTP %d", a.Code)
		}

		// In a Mastodon client the board is a group account one follows.
		bobClient := inst.Client(bob.Token)
		acct, err := bobClient.AccountLookup(ctx, "ideas")
		if err != nil || string(acct.ID) != board.Account.ID {
			t.Fatalf("lookup of the board: %v %+v", err, acct)
		}
		if _, err := bobClient.AccountFollow(ctx, acct.ID); err != nil {
			t.Fatal(err)
		}

		var idea, other ideaJSON
		inst.Call(t, http.MethodPost, "/api/v1/tacit/boards/"+board.ID+"/ideas", alice.Token, url.Values{
			"title": {"Standing desks"}, "body": {"For the support floor, please."},
		}).Decode(t, http.StatusOK, &idea)
		if idea.Title != "Standing desks" || idea.Status != "new" || idea.Votes != 0 || idea.Board.ID != board.ID ||
			idea.Account.Acct != "alice" {
			t.Fatalf("created idea: %+v", idea)
		}
		inst.Call(t, http.MethodPost, "/api/v1/tacit/boards/"+board.ID+"/ideas", bob.Token, url.Values{
			"title": {"Desks that stand"}, "body": {"Same as the other one."},
		}).Decode(t, http.StatusOK, &other)
		if a := inst.Call(t, http.MethodPost, "/api/v1/tacit/boards/"+board.ID+"/ideas", bob.Token, url.Values{"title": {""}}); a.Code != http.StatusUnprocessableEntity {
			t.Errorf("an idea without a title: HTTP %d", a.Code)
		}

		// Bob's home timeline shows the board's share of the idea, title first; the
		// status carries tacit.idea.
		home, err := bobClient.GetTimelineHome(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var shared bool
		for _, st := range home {
			if st.Reblog != nil && string(st.Reblog.ID) == idea.ID && st.Account.Acct == "ideas" {
				shared = strings.HasPrefix(st.Reblog.Content, "<p>Standing desks</p>")
			}
		}
		if !shared {
			t.Errorf("bob's home timeline lacks the board's share of the idea with its title first: %d statuses", len(home))
		}
		raw := inst.Call(t, http.MethodGet, "/api/v1/statuses/"+idea.ID, bob.Token, nil)
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

		// Votes: a favourite is a vote; voting twice counts once.
		if _, err := bobClient.Favourite(ctx, mastodon.ID(idea.ID)); err != nil {
			t.Fatal(err)
		}
		inst.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+idea.ID+"/vote", bob.Token, nil).Decode(t, http.StatusOK, &idea)
		if idea.Votes != 1 || !idea.Voted {
			t.Errorf("after bob's favourite and vote: votes %d voted %v", idea.Votes, idea.Voted)
		}
		inst.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+other.ID+"/vote", bob.Token, nil).Decode(t, http.StatusOK, &other)
		inst.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+other.ID+"/vote", alice.Token, nil).Decode(t, http.StatusOK, &other)
		if other.Votes != 2 {
			t.Errorf("other idea votes = %d, want 2", other.Votes)
		}

		// Sorting: top puts the idea with two votes first.
		var list []ideaJSON
		inst.Call(t, http.MethodGet, "/api/v1/tacit/boards/"+board.ID+"/ideas?sort=top", bob.Token, nil).Decode(t, http.StatusOK, &list)
		if len(list) != 2 || list[0].ID != other.ID {
			t.Errorf("top ideas: %+v", list)
		}
		inst.Call(t, http.MethodGet, "/api/v1/tacit/boards/"+board.ID+"/ideas?sort=new", bob.Token, nil).Decode(t, http.StatusOK, &list)
		if len(list) != 2 || list[0].ID != other.ID {
			t.Errorf("new ideas: %+v", list)
		}
		inst.Call(t, http.MethodGet, "/api/v1/tacit/boards/"+board.ID+"/ideas?sort=trending", bob.Token, nil).Decode(t, http.StatusOK, &list)
		if len(list) != 2 || list[0].ID != other.ID {
			t.Errorf("trending ideas: %+v", list)
		}

		// Only moderators change an idea's status; the workflow is enforced.
		a = inst.Call(t, http.MethodPut, "/api/v1/tacit/ideas/"+idea.ID+"/status", bob.Token, url.Values{"status": {"planned"}})
		if a.Code != http.StatusForbidden || !strings.Contains(a.ErrorText(), "moderators") {
			t.Errorf("bob changing the status: HTTP %d %s", a.Code, a.Body)
		}
		inst.Call(t, http.MethodPut, "/api/v1/tacit/ideas/"+idea.ID+"/status", admin.Token, url.Values{
			"status": {"under_review"}, "comment": {"Asking facilities"}}).Decode(t, http.StatusOK, &idea)
		if idea.Status != "under_review" || idea.StatusComment != "Asking facilities" {
			t.Errorf("after the status change: %+v", idea)
		}
		inst.Call(t, http.MethodPut, "/api/v1/tacit/ideas/"+idea.ID+"/status", admin.Token, url.Values{"status": {"done"}}).Decode(t, http.StatusOK, &idea)
		if a := inst.Call(t, http.MethodPut, "/api/v1/tacit/ideas/"+idea.ID+"/status", admin.Token, url.Values{"status": {"new"}}); a.Code != http.StatusUnprocessableEntity {
			t.Errorf("done back to new: HTTP %d %s", a.Code, a.Body)
		}
		inst.Call(t, http.MethodGet, "/api/v1/tacit/boards/"+board.ID+"/ideas?status=done", bob.Token, nil).Decode(t, http.StatusOK, &list)
		if len(list) != 1 || list[0].ID != idea.ID {
			t.Errorf("done ideas: %+v", list)
		}

		// Merge: the other idea goes into the first; bob voted for both and counts once.
		inst.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+other.ID+"/merge", admin.Token, url.Values{"into": {idea.ID}}).Decode(t, http.StatusOK, &other)
		if other.MergedIntoID == nil || *other.MergedIntoID != idea.ID || !other.Locked {
			t.Errorf("merged idea: %+v", other)
		}
		inst.Call(t, http.MethodGet, "/api/v1/tacit/ideas/"+idea.ID, bob.Token, nil).Decode(t, http.StatusOK, &idea)
		if idea.Votes != 2 {
			t.Errorf("votes after the merge = %d, want 2 (bob once, alice once)", idea.Votes)
		}

		// Lock: replies are refused, except from moderators.
		inst.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+idea.ID+"/lock", admin.Token, nil).Decode(t, http.StatusOK, &idea)
		reply := inst.Call(t, http.MethodPost, "/api/v1/statuses", bob.Token, url.Values{"status": {"Me too"}, "in_reply_to_id": {idea.ID}})
		if reply.Code != http.StatusForbidden || !strings.Contains(reply.ErrorText(), "locked") {
			t.Errorf("reply to a locked idea: HTTP %d %s", reply.Code, reply.Body)
		}
		inst.PostStatus(t, admin.Token, url.Values{"status": {"Locked while we decide"}, "in_reply_to_id": {idea.ID}})
		inst.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+idea.ID+"/unlock", admin.Token, nil).Decode(t, http.StatusOK, &idea)
		bobReply := inst.PostStatus(t, bob.Token, url.Values{"status": {"Me too"}, "in_reply_to_id": {idea.ID}})

		// Pin puts an idea first.
		inst.Call(t, http.MethodPost, "/api/v1/tacit/ideas/"+idea.ID+"/pin", admin.Token, nil).Decode(t, http.StatusOK, &idea)
		if !idea.Pinned {
			t.Error("pin did not pin")
		}

		// Remove a reply with a reason; ban bob, who can then neither post nor vote.
		var entry struct {
			Action string `json:"action"`
			Reason string `json:"reason"`
			Origin string `json:"origin"`
		}
		inst.Call(t, http.MethodPost, "/api/v1/tacit/statuses/"+bobReply.ID+"/remove", admin.Token,
			url.Values{"reason": {"Off topic"}}).Decode(t, http.StatusOK, &entry)
		if entry.Action != "remove" || entry.Reason != "Off topic" || entry.Origin != inst.Host() {
			t.Errorf("removal entry: %+v", entry)
		}
		if _, err := bobClient.GetStatus(ctx, mastodon.ID(bobReply.ID)); err == nil {
			t.Error("the removed reply is still there")
		}
		inst.Call(t, http.MethodPost, "/api/v1/tacit/boards/"+board.ID+"/bans", admin.Token,
			url.Values{"account_id": {community.FormatID(bob.Account.ID)}, "reason": {"Spam"}}).Decode(t, http.StatusOK, nil)
		a = inst.Call(t, http.MethodPost, "/api/v1/tacit/boards/"+board.ID+"/ideas", bob.Token, url.Values{"title": {"Again"}})
		if a.Code != http.StatusForbidden || !strings.Contains(a.ErrorText(), "banned") {
			t.Errorf("a banned account posting: HTTP %d %s", a.Code, a.Body)
		}

		// The audit log, for moderators only, filterable.
		var log []struct {
			Action  string `json:"action"`
			BoardID string `json:"board_id"`
			Account struct {
				Acct string `json:"acct"`
			} `json:"account"`
		}
		if a := inst.Call(t, http.MethodGet, "/api/v1/tacit/moderation/log", bob.Token, nil); a.Code != http.StatusForbidden {
			t.Errorf("bob reading the log: HTTP %d", a.Code)
		}
		inst.Call(t, http.MethodGet, "/api/v1/tacit/moderation/log?board_id="+board.ID, admin.Token, nil).Decode(t, http.StatusOK, &log)
		var actions []string
		for _, e := range log {
			actions = append(actions, e.Action)
			if e.Account.Acct != "admin" || e.BoardID != board.ID {
				t.Errorf("log entry %+v", e)
			}
		}
		want := "ban remove pin unlock lock merge status status"
		if strings.Join(actions, " ") != want {
			t.Errorf("log actions = %q, want %q", strings.Join(actions, " "), want)
		}
		inst.Call(t, http.MethodGet, "/api/v1/tacit/moderation/log?action=status", admin.Token, nil).Decode(t, http.StatusOK, &log)
		if len(log) != 2 {
			t.Errorf("status entries = %d, want 2", len(log))
		}
	})
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
		got, err := inst.Community.IdeaOf(ctx, idea.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.VotesCount != voters {
			t.Errorf("votes = %d, want %d", got.VotesCount, voters)
		}
	})
}
