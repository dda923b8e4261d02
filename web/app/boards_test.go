package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
	"github.com/tacit-social/tacit/web/app"
)

// newBoard creates a company board through the domain, as the API's POST /boards does.
func newBoard(t *testing.T, inst *instancetest.Instance, creator *instancetest.User, name, display string) *community.BoardInfo {
	t.Helper()
	info, err := inst.Community.CreateBoard(context.Background(), creator.Account, community.NewBoard{
		Name: name, DisplayName: display, Description: "Make work better", Scope: community.ScopeCompany,
	})
	if err != nil {
		t.Fatalf("create board %s: %v", name, err)
	}
	return info
}

// ideaState reads an idea as a person sees it, through the domain.
func ideaState(t *testing.T, inst *instancetest.Instance, as *instancetest.User, id int64) *community.IdeaView {
	t.Helper()
	v, err := inst.Community.GetIdea(context.Background(), community.AsAccount(as.Account), id)
	if err != nil {
		t.Fatalf("idea %d on %s: %v", id, inst.Host(), err)
	}
	return v
}

// wantPage fails unless the page answered code and shows every text.
func wantPage(t *testing.T, what string, p page, code int, texts ...string) {
	t.Helper()
	if p.Code != code {
		t.Fatalf("%s: HTTP %d, want %d\n%s", what, p.Code, code, p.Body)
	}
	for _, text := range texts {
		if !strings.Contains(p.Body, text) {
			t.Errorf("%s does not show %q", what, text)
		}
	}
}

// wantRedirect fails unless a form answered 303 to location.
func wantRedirect(t *testing.T, what string, p page, location string) {
	t.Helper()
	if p.Code != http.StatusSeeOther || p.Header.Get("Location") != location {
		t.Fatalf("%s: HTTP %d to %q, want 303 to %q\n%s", what, p.Code, p.Header.Get("Location"), location, p.Body)
	}
}

// TestBoardsOnOneInstance: follow a board, submit an idea, vote and unvote, discuss,
// sort and filter; a person who does not moderate gets no controls and a forged
// moderation form is refused; the board's moderator sets the status, locks, pins,
// merges, moves, removes and bans.
func TestBoardsOnOneInstance(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		admin := inst.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin})
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		bob := inst.CreateUser(t, "bob", instancetest.UserOptions{})
		board := newBoard(t, inst, admin, "ideas", "Ideas")
		boardID := community.FormatID(board.Account.ID)

		ab := newBrowser(t, inst)
		ab.signIn("alice")
		wantPage(t, "the boards page", ab.get("/boards"), http.StatusOK, `href="/boards/ideas"`, "Make work better", "Follow Ideas",
			"Department: "+inst.Host())
		wantRedirect(t, "follow the board", ab.post("/accounts/"+boardID+"/follow",
			url.Values{"csrf": {ab.csrf("/boards")}, "back": {"/boards"}}), "/boards")
		wantPage(t, "the boards page after following", ab.get("/boards"), http.StatusOK, "Unfollow Ideas")

		// Submitting: a refused idea comes back with what was typed and why.
		token := ab.csrf("/boards/ideas")
		wantPage(t, "an idea without a title", ab.post("/boards/ideas/ideas", url.Values{"csrf": {token}, "body": {"kept text"}}),
			http.StatusUnprocessableEntity, "kept text", `role="alert"`)
		p := ab.post("/boards/ideas/ideas", url.Values{"csrf": {token}, "title": {"Standing desks"}, "body": {"For the support floor."}})
		if p.Code != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/boards/ideas/ideas/") {
			t.Fatalf("submit an idea: %d %q\n%s", p.Code, p.Header.Get("Location"), p.Body)
		}
		ideaPath := p.Header.Get("Location")
		ideaID := mustID(t, ideaPath)
		wantPage(t, "the idea page", ab.get(ideaPath), http.StatusOK, "Standing desks", "For the support floor.",
			"0 votes", "Vote for this idea", ">New<", "Reply")

		// Voting and discussing, as bob.
		bb := newBrowser(t, inst)
		bb.signIn("bob")
		token = bb.csrf(ideaPath)
		wantRedirect(t, "vote", bb.post(ideaPath+"/vote", url.Values{"csrf": {token}, "back": {ideaPath}}), ideaPath)
		if v := ideaState(t, inst, bob, ideaID); !v.Voted || v.Idea.VotesCount != 1 {
			t.Fatalf("after the vote: voted %v, %d votes", v.Voted, v.Idea.VotesCount)
		}
		wantPage(t, "the idea after the vote", bb.get(ideaPath), http.StatusOK, "1 vote<", "Withdraw your vote")
		wantRedirect(t, "unvote", bb.post(ideaPath+"/unvote", url.Values{"csrf": {token}, "back": {ideaPath}}), ideaPath)
		if v := ideaState(t, inst, bob, ideaID); v.Voted || v.Idea.VotesCount != 0 {
			t.Fatalf("after the unvote: voted %v, %d votes", v.Voted, v.Idea.VotesCount)
		}
		// With htmx the answer is the vote count and button alone, turned.
		frag := bb.post(ideaPath+"/vote", url.Values{"csrf": {token}, "back": {ideaPath}}, "HX-Request", "true")
		if frag.Code != http.StatusOK || !strings.HasPrefix(frag.Body, `<div class="vote">`) || strings.Contains(frag.Body, "<html") ||
			!strings.Contains(frag.Body, "Withdraw your vote") || !strings.Contains(frag.Body, "1 vote<") {
			t.Fatalf("htmx vote: %d\n%s", frag.Code, frag.Body)
		}
		wantRedirect(t, "reply", bb.post("/statuses", url.Values{"csrf": {token}, "text": {"Yes, and for the call centre"},
			"in_reply_to_id": {community.FormatID(ideaID)}, "scope": {"company"}, "visibility": {"public"}, "back": {ideaPath}}), ideaPath)
		wantPage(t, "the discussion", bb.get(ideaPath), http.StatusOK, "Yes, and for the call centre")
		wantPage(t, "the board after the reply", bb.get("/boards/ideas"), http.StatusOK, "1 reply<")

		// A logged-out visitor learns nothing of a company board.
		for _, path := range []string{"/boards/ideas", ideaPath} {
			wantPage(t, "logged out, "+path, newBrowser(t, inst).get(path), http.StatusNotFound)
		}
		if p := newBrowser(t, inst).get("/boards"); strings.Contains(p.Body, "/boards/ideas") {
			t.Error("the boards page lists a company board to a logged-out visitor")
		}

		// Sorting and filtering.
		wantPage(t, "top ideas", bb.get("/boards/ideas?sort=top"), http.StatusOK, "Standing desks", "1 vote<")
		wantPage(t, "planned ideas", bb.get("/boards/ideas?sort=new&status=planned"), http.StatusOK, "No ideas here yet.")
		wantPage(t, "an unknown order", bb.get("/boards/ideas?sort=loudest"), http.StatusUnprocessableEntity)

		// No moderation for bob: no controls, and a forged form is refused with nothing written.
		for _, path := range []string{"/boards/ideas", ideaPath} {
			if p := bb.get(path); strings.Contains(p.Body, "Moderate this idea") || strings.Contains(p.Body, "Ban a person") ||
				strings.Contains(p.Body, "Moderation history") {
				t.Errorf("bob, no moderator, sees moderation controls on %s", path)
			}
		}
		for action, form := range map[string]url.Values{
			"status": {"status": {"declined"}, "comment": {"no"}}, "lock": {}, "pin": {}, "remove": {},
		} {
			form.Set("csrf", token)
			wantPage(t, "bob's forged "+action, bb.post(ideaPath+"/"+action, form), http.StatusForbidden)
		}
		wantPage(t, "bob's forged ban", bb.post("/boards/ideas/bans", url.Values{"csrf": {token}, "action": {"ban"}, "account": {"alice"}}),
			http.StatusForbidden)
		if v := ideaState(t, inst, bob, ideaID); v.Idea.State != community.IdeaNew || v.Idea.Locked || v.Idea.PinnedAt != nil {
			t.Fatalf("bob's forged moderation changed the idea: %+v", v.Idea)
		}

		// CSRF: every new form refuses a post without its token, and writes nothing.
		for path, form := range map[string]url.Values{
			"/boards/ideas/ideas": {"title": {"sneaky"}},
			ideaPath + "/unvote":  {},
			ideaPath + "/status":  {"status": {"planned"}},
			"/boards/ideas/bans":  {"action": {"ban"}, "account": {"bob"}},
		} {
			wantPage(t, "POST "+path+" without CSRF", bb.post(path, form), http.StatusForbidden)
			form.Set("csrf", "forged")
			wantPage(t, "POST "+path+" with a wrong CSRF token", bb.post(path, form), http.StatusForbidden)
		}
		if v := ideaState(t, inst, bob, ideaID); !v.Voted || v.Idea.State != community.IdeaNew {
			t.Fatalf("forms without CSRF changed the idea: voted %v, %s", v.Voted, v.Idea.State)
		}

		// The board's moderator.
		mb := newBrowser(t, inst)
		mb.signIn("admin")
		wantPage(t, "the board for its moderator", mb.get("/boards/ideas"), http.StatusOK, "Moderate this idea", "Ban a person from this board")
		token = mb.csrf(ideaPath)
		wantRedirect(t, "set the status", mb.post(ideaPath+"/status", url.Values{"csrf": {token}, "back": {ideaPath},
			"status": {"planned"}, "comment": {"Ordered for March"}}), ideaPath)
		wantPage(t, "a workflow step the domain refuses", mb.post(ideaPath+"/status", url.Values{"csrf": {token}, "status": {"new"}}),
			http.StatusUnprocessableEntity)
		wantRedirect(t, "lock", mb.post(ideaPath+"/lock", url.Values{"csrf": {token}, "back": {ideaPath}}), ideaPath)
		wantRedirect(t, "pin", mb.post(ideaPath+"/pin", url.Values{"csrf": {token}, "back": {ideaPath}}), ideaPath)
		v := ideaState(t, inst, alice, ideaID)
		if v.Idea.State != community.IdeaPlanned || v.Idea.StateComment != "Ordered for March" || !v.Idea.Locked || v.Idea.PinnedAt == nil {
			t.Fatalf("after the moderator's forms: %+v", v.Idea)
		}
		p = ab.get(ideaPath)
		wantPage(t, "the moderated idea for alice", p, http.StatusOK, ">Planned<", "Ordered for March", ">Locked<", ">Pinned<",
			"the discussion is closed")
		if strings.Contains(p.Body, `name="in_reply_to_id"`) || strings.Contains(p.Body, "Moderate this idea") {
			t.Error("a locked idea offers alice a reply box, or moderation controls")
		}
		wantPage(t, "the history for the moderator", mb.get(ideaPath), http.StatusOK, "Status set to Planned", "Unlock the discussion", "Unpin")
		// Whoever reads the idea follows its decisions, with the moderators' comments, but
		// not the rest of the moderation log.
		if p := bb.get(ideaPath); !strings.Contains(p.Body, "Decisions so far") || !strings.Contains(p.Body, "Status set to Planned") ||
			strings.Contains(p.Body, "Moderation history") || strings.Contains(p.Body, "Thread locked") {
			t.Errorf("bob's view of the idea's history:\n%s", p.Body)
		}

		// Removing a reply, merging, moving.
		_, replies, err := inst.Community.StatusContext(ctx, community.AsAccount(admin.Account), ideaID)
		if err != nil || len(replies) != 1 {
			t.Fatalf("replies: %v %d", err, len(replies))
		}
		wantRedirect(t, "remove the reply", mb.post(ideaPath+"/remove", url.Values{"csrf": {token}, "back": {ideaPath},
			"post": {community.FormatID(replies[0].ID)}, "reason": {"off topic"}}), ideaPath)
		if p := ab.get(ideaPath); strings.Contains(p.Body, "call centre") {
			t.Error("the removed reply still shows")
		}
		second := ab.post("/boards/ideas/ideas", url.Values{"csrf": {ab.csrf("/boards/ideas")}, "title": {"Desks that stand"}})
		secondPath := second.Header.Get("Location")
		wantPage(t, "the merge choices", mb.get(secondPath), http.StatusOK, "Standing desks (votes: 1)")
		wantRedirect(t, "merge", mb.post(secondPath+"/merge", url.Values{"csrf": {token}, "back": {secondPath},
			"into": {community.FormatID(ideaID)}}), secondPath)
		wantPage(t, "the merged idea", ab.get(secondPath), http.StatusOK, ">Merged<", `href="`+ideaPath+`"`)

		newBoard(t, inst, admin, "facilities", "Facilities")
		wantPage(t, "the move choices", mb.get(ideaPath), http.StatusOK, "@facilities")
		facilities, err := inst.Community.LocalAccount(ctx, "facilities")
		if err != nil {
			t.Fatal(err)
		}
		wantRedirect(t, "move", mb.post(ideaPath+"/move", url.Values{"csrf": {token}, "back": {ideaPath},
			"board": {community.FormatID(facilities.ID)}}), ideaPath)
		moved := "/boards/facilities/ideas/" + community.FormatID(ideaID)
		wantRedirect(t, "the old address of the moved idea", ab.get(ideaPath), moved)
		wantPage(t, "the moved idea", ab.get(moved), http.StatusOK, "Standing desks")

		// Banning bob: his next idea is refused.
		wantRedirect(t, "ban bob", mb.post("/boards/ideas/bans", url.Values{"csrf": {token}, "action": {"ban"}, "account": {"@bob"},
			"reason": {"spam"}}), "/boards/ideas?banned=ban")
		wantPage(t, "the ban's notice", mb.get("/boards/ideas?banned=ban"), http.StatusOK, "The person is banned from this board.")
		if p := bb.post("/boards/ideas/ideas", url.Values{"csrf": {bb.csrf("/boards/ideas")}, "title": {"Banned idea"}}); p.Code == http.StatusSeeOther {
			t.Fatalf("a banned person submitted an idea: %d", p.Code)
		}
		wantPage(t, "ban an unknown person", mb.post("/boards/ideas/bans", url.Values{"csrf": {token}, "action": {"ban"}, "account": {"nobody"}}),
			http.StatusUnprocessableEntity, "Nobody called nobody")
		wantRedirect(t, "lift the ban", mb.post("/boards/ideas/bans", url.Values{"csrf": {token}, "action": {"unban"}, "account": {"bob"}}),
			"/boards/ideas?banned=unban")

		// Remove the merged idea: back to the board, and the idea is gone.
		wantRedirect(t, "remove an idea", mb.post(secondPath+"/remove", url.Values{"csrf": {token}, "back": {secondPath}}), "/boards/ideas")
		wantPage(t, "the removed idea", ab.get(secondPath), http.StatusNotFound)
		wantPage(t, "an unknown board", ab.get("/boards/nothing"), http.StatusNotFound)
		wantPage(t, "a person's account as a board", ab.get("/boards/alice"), http.StatusNotFound)
	})
}

// TestBoardsAcrossInstances: a company of two. The board lives on A; dave on B votes
// on it, and carol on B, one of its moderators, plans an idea and locks it from B's
// pages; A shows the change.
func TestBoardsAcrossInstances(t *testing.T) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 2, instancetest.Options{})
	a, b := insts[0], insts[1]
	admin := a.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin})
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
	carol := b.CreateUser(t, "carol", instancetest.UserOptions{})
	dave := b.CreateUser(t, "dave", instancetest.UserOptions{})
	board := newBoard(t, a, admin, "ideas", "Ideas")
	boardOnB, err := b.Federator.ResolveAccount(ctx, "ideas@"+a.Host())
	if err != nil {
		t.Fatal(err)
	}
	carolOnA, err := a.Federator.ResolveAccount(ctx, "carol@"+b.Host())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Community.SetBoardModerator(ctx, admin.Account, board.Account.ID, carolOnA.ID, false); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "B lists carol as a moderator of the board", func() bool {
		ok, err := b.Community.MayModerateBoard(ctx, carol.Account, boardOnB.ID)
		return err == nil && ok
	})

	ab := newBrowser(t, a)
	ab.signIn("alice")
	p := ab.post("/boards/ideas/ideas", url.Values{"csrf": {ab.csrf("/boards/ideas")}, "title": {"Bike racks"}})
	if p.Code != http.StatusSeeOther {
		t.Fatalf("alice submits an idea on A: %d\n%s", p.Code, p.Body)
	}
	pathOnA := p.Header.Get("Location")
	uri := ideaState(t, a, alice, mustID(t, pathOnA)).Status.URI
	var idOnB int64
	eventually.Holds(t, "the idea on B", func() bool {
		st, err := b.Community.Unchecked().StatusByURI(ctx, uri)
		if err != nil {
			return false
		}
		idOnB = st.ID
		return true
	})
	boardOnBPath := "/boards/ideas@" + a.Host()
	pathOnB := boardOnBPath + "/ideas/" + community.FormatID(idOnB)

	db := newBrowser(t, b)
	db.signIn("dave")
	wantPage(t, "the remote board on B", db.get(boardOnBPath), http.StatusOK, "Bike racks", "Department: "+a.Host())
	wantPage(t, "the boards page on B", db.get("/boards"), http.StatusOK, `href="`+boardOnBPath+`"`)
	token := db.csrf(pathOnB)
	wantRedirect(t, "dave votes on B", db.post(pathOnB+"/vote", url.Values{"csrf": {token}, "back": {pathOnB}}), pathOnB)
	eventually.Holds(t, "dave's vote counted on A", func() bool {
		return ideaState(t, a, alice, mustID(t, pathOnA)).Idea.VotesCount == 1
	})
	if p := db.get(pathOnB); strings.Contains(p.Body, "Moderate this idea") {
		t.Error("dave, no moderator, sees moderation controls")
	}
	wantPage(t, "dave's forged status change", db.post(pathOnB+"/status", url.Values{"csrf": {token}, "status": {"declined"}}),
		http.StatusForbidden)
	wantPage(t, "dave's forged lock", db.post(pathOnB+"/lock", url.Values{"csrf": {token}}), http.StatusForbidden)
	if v := ideaState(t, b, dave, idOnB); v.Idea.State != community.IdeaNew || v.Idea.Locked {
		t.Fatalf("dave's forged forms changed the idea on B: %+v", v.Idea)
	}

	cb := newBrowser(t, b)
	cb.signIn("carol")
	wantPage(t, "the idea for carol on B", cb.get(pathOnB), http.StatusOK, "Moderate this idea")
	token = cb.csrf(pathOnB)
	wantRedirect(t, "carol plans the idea on B", cb.post(pathOnB+"/status", url.Values{"csrf": {token}, "back": {pathOnB},
		"status": {"planned"}, "comment": {"Racks arrive in May"}}), pathOnB)
	wantRedirect(t, "carol locks the idea on B", cb.post(pathOnB+"/lock", url.Values{"csrf": {token}, "back": {pathOnB}}), pathOnB)
	eventually.Holds(t, "the status and the lock on A", func() bool {
		v := ideaState(t, a, alice, mustID(t, pathOnA))
		return v.Idea.State == community.IdeaPlanned && v.Idea.Locked
	})
	wantPage(t, "the idea on A", ab.get(pathOnA), http.StatusOK, ">Planned<", "Racks arrive in May", ">Locked<", "the discussion is closed")
	// B applied carol's actions at once, then takes A's word on the idea as it arrives.
	eventually.Holds(t, "A's state of the idea back on B", func() bool {
		v := ideaState(t, b, carol, idOnB)
		return v.Idea.State == community.IdeaPlanned && v.Idea.Locked
	})
	wantPage(t, "the history for carol on B", cb.get(pathOnB), http.StatusOK, "Status set to Planned", "Racks arrive in May", "Unlock the discussion")
}

// TestBoardMessageKeys: the texts the board pages pick by workflow status and order.
func TestBoardMessageKeys(t *testing.T) {
	var keys []string
	for _, st := range []string{"new", "under_review", "planned", "done", "declined"} {
		keys = append(keys, "board.state."+st)
	}
	for _, so := range []string{"new", "top", "trending"} {
		keys = append(keys, "board.sort."+so)
	}
	keys = append(keys, "board.ban.done.ban", "board.ban.done.unban", "idea.votes.one", "idea.replies.one")
	for _, k := range keys {
		if app.T(k) == k {
			t.Errorf("message %q is not in the catalog", k)
		}
	}
}
