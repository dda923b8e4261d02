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
		w := &boardsOnOne{ctx: context.Background(), inst: inst}
		w.admin = inst.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin})
		w.alice = inst.CreateUser(t, "alice", instancetest.UserOptions{})
		w.bob = inst.CreateUser(t, "bob", instancetest.UserOptions{})
		w.board = newBoard(t, inst, w.admin, "ideas", "Ideas")
		w.boardID = community.FormatID(w.board.Account.ID)

		w.follow(t)
		w.submit(t)
		w.voteAndDiscuss(t)
		w.loggedOut(t)
		w.sortAndFilter(t)
		w.noModeration(t)
		w.csrfRefused(t)
		w.moderate(t)
		w.removeMergeMove(t)
		w.ban(t)
		w.removeIdea(t)
	})
}

// boardsOnOne is what TestBoardsOnOneInstance's steps share: the instance, its people
// and their browsers, the board, the idea and the form token in use.
type boardsOnOne struct {
	ctx                  context.Context
	inst                 *instancetest.Instance
	admin, alice, bob    *instancetest.User
	board                *community.BoardInfo
	boardID              string
	ab, bb, mb           *browser // alice's, bob's and the moderator's
	token                string
	ideaPath, secondPath string
	ideaID               int64
}

// Alice finds the board on the boards page and follows it.
func (w *boardsOnOne) follow(t *testing.T) {
	w.ab = newBrowser(t, w.inst)
	w.ab.signIn("alice")
	wantPage(t, "the boards page", w.ab.get("/boards"), http.StatusOK, `href="/boards/ideas"`, "Make work better", "Follow Ideas",
		"Department: "+w.inst.Host())
	wantRedirect(t, "follow the board", w.ab.post("/accounts/"+w.boardID+"/follow",
		url.Values{"csrf": {w.ab.csrf("/boards")}, "back": {"/boards"}}), "/boards")
	wantPage(t, "the boards page after following", w.ab.get("/boards"), http.StatusOK, "Unfollow Ideas")
}

// Submitting: a refused idea comes back with what was typed and why.
func (w *boardsOnOne) submit(t *testing.T) {
	w.token = w.ab.csrf("/boards/ideas")
	wantPage(t, "an idea without a title", w.ab.post("/boards/ideas/ideas", url.Values{"csrf": {w.token}, "body": {"kept text"}}),
		http.StatusUnprocessableEntity, "kept text", `role="alert"`)
	p := w.ab.post("/boards/ideas/ideas", url.Values{"csrf": {w.token}, "title": {"Standing desks"}, "body": {"For the support floor."}})
	if p.Code != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/boards/ideas/ideas/") {
		t.Fatalf("submit an idea: %d %q\n%s", p.Code, p.Header.Get("Location"), p.Body)
	}
	w.ideaPath = p.Header.Get("Location")
	w.ideaID = mustID(t, w.ideaPath)
	wantPage(t, "the idea page", w.ab.get(w.ideaPath), http.StatusOK, "Standing desks", "For the support floor.",
		"0 votes", "Vote for this idea", ">New<", "Reply")
}

// Voting and discussing, as bob.
func (w *boardsOnOne) voteAndDiscuss(t *testing.T) {
	w.bb = newBrowser(t, w.inst)
	w.bb.signIn("bob")
	w.token = w.bb.csrf(w.ideaPath)
	wantRedirect(t, "vote", w.bb.post(w.ideaPath+"/vote", url.Values{"csrf": {w.token}, "back": {w.ideaPath}}), w.ideaPath)
	if v := ideaState(t, w.inst, w.bob, w.ideaID); !v.Voted || v.Idea.VotesCount != 1 {
		t.Fatalf("after the vote: voted %v, %d votes", v.Voted, v.Idea.VotesCount)
	}
	wantPage(t, "the idea after the vote", w.bb.get(w.ideaPath), http.StatusOK, "1 vote<", "Withdraw your vote")
	wantRedirect(t, "unvote", w.bb.post(w.ideaPath+"/unvote", url.Values{"csrf": {w.token}, "back": {w.ideaPath}}), w.ideaPath)
	if v := ideaState(t, w.inst, w.bob, w.ideaID); v.Voted || v.Idea.VotesCount != 0 {
		t.Fatalf("after the unvote: voted %v, %d votes", v.Voted, v.Idea.VotesCount)
	}
	// With htmx the answer is the vote count and button alone, turned.
	frag := w.bb.post(w.ideaPath+"/vote", url.Values{"csrf": {w.token}, "back": {w.ideaPath}}, "HX-Request", "true")
	if frag.Code != http.StatusOK || !strings.HasPrefix(frag.Body, `<div class="vote">`) || strings.Contains(frag.Body, "<html") ||
		!strings.Contains(frag.Body, "Withdraw your vote") || !strings.Contains(frag.Body, "1 vote<") {
		t.Fatalf("htmx vote: %d\n%s", frag.Code, frag.Body)
	}
	wantRedirect(t, "reply", w.bb.post("/statuses", url.Values{"csrf": {w.token}, "text": {"Yes, and for the call centre"},
		"in_reply_to_id": {community.FormatID(w.ideaID)}, "scope": {"company"}, "visibility": {"public"}, "back": {w.ideaPath}}), w.ideaPath)
	wantPage(t, "the discussion", w.bb.get(w.ideaPath), http.StatusOK, "Yes, and for the call centre")
	wantPage(t, "the board after the reply", w.bb.get("/boards/ideas"), http.StatusOK, "1 reply<")
}

// A logged-out visitor learns nothing of a company board.
func (w *boardsOnOne) loggedOut(t *testing.T) {
	for _, path := range []string{"/boards/ideas", w.ideaPath} {
		wantPage(t, "logged out, "+path, newBrowser(t, w.inst).get(path), http.StatusNotFound)
	}
	if p := newBrowser(t, w.inst).get("/boards"); strings.Contains(p.Body, "/boards/ideas") {
		t.Error("the boards page lists a company board to a logged-out visitor")
	}
}

// Sorting and filtering.
func (w *boardsOnOne) sortAndFilter(t *testing.T) {
	wantPage(t, "top ideas", w.bb.get("/boards/ideas?sort=top"), http.StatusOK, "Standing desks", "1 vote<")
	wantPage(t, "planned ideas", w.bb.get("/boards/ideas?sort=new&status=planned"), http.StatusOK, "No ideas here yet.")
	wantPage(t, "an unknown order", w.bb.get("/boards/ideas?sort=loudest"), http.StatusUnprocessableEntity)
}

// No moderation for bob: no controls, and a forged form is refused with nothing written.
func (w *boardsOnOne) noModeration(t *testing.T) {
	for _, path := range []string{"/boards/ideas", w.ideaPath} {
		if p := w.bb.get(path); strings.Contains(p.Body, "Moderate this idea") || strings.Contains(p.Body, "Ban a person") ||
			strings.Contains(p.Body, "Moderation history") {
			t.Errorf("bob, no moderator, sees moderation controls on %s", path)
		}
	}
	for action, form := range map[string]url.Values{
		"status": {"status": {"declined"}, "comment": {"no"}}, "lock": {}, "pin": {}, "remove": {},
	} {
		form.Set("csrf", w.token)
		wantPage(t, "bob's forged "+action, w.bb.post(w.ideaPath+"/"+action, form), http.StatusForbidden)
	}
	wantPage(t, "bob's forged ban", w.bb.post("/boards/ideas/bans", url.Values{"csrf": {w.token}, "action": {"ban"}, "account": {"alice"}}),
		http.StatusForbidden)
	if v := ideaState(t, w.inst, w.bob, w.ideaID); v.Idea.State != community.IdeaNew || v.Idea.Locked || v.Idea.PinnedAt != nil {
		t.Fatalf("bob's forged moderation changed the idea: %+v", v.Idea)
	}
}

// CSRF: every new form refuses a post without its token, and writes nothing.
func (w *boardsOnOne) csrfRefused(t *testing.T) {
	for path, form := range map[string]url.Values{
		"/boards/ideas/ideas":  {"title": {"sneaky"}},
		w.ideaPath + "/unvote": {},
		w.ideaPath + "/status": {"status": {"planned"}},
		"/boards/ideas/bans":   {"action": {"ban"}, "account": {"bob"}},
	} {
		wantPage(t, "POST "+path+" without CSRF", w.bb.post(path, form), http.StatusForbidden)
		form.Set("csrf", "forged")
		wantPage(t, "POST "+path+" with a wrong CSRF token", w.bb.post(path, form), http.StatusForbidden)
	}
	if v := ideaState(t, w.inst, w.bob, w.ideaID); !v.Voted || v.Idea.State != community.IdeaNew {
		t.Fatalf("forms without CSRF changed the idea: voted %v, %s", v.Voted, v.Idea.State)
	}
}

// The board's moderator.
func (w *boardsOnOne) moderate(t *testing.T) {
	w.mb = newBrowser(t, w.inst)
	w.mb.signIn("admin")
	wantPage(t, "the board for its moderator", w.mb.get("/boards/ideas"), http.StatusOK, "Moderate this idea", "Ban a person from this board")
	w.token = w.mb.csrf(w.ideaPath)
	wantRedirect(t, "set the status", w.mb.post(w.ideaPath+"/status", url.Values{"csrf": {w.token}, "back": {w.ideaPath},
		"status": {"planned"}, "comment": {"Ordered for March"}}), w.ideaPath)
	wantPage(t, "a workflow step the domain refuses", w.mb.post(w.ideaPath+"/status", url.Values{"csrf": {w.token}, "status": {"new"}}),
		http.StatusUnprocessableEntity)
	wantRedirect(t, "lock", w.mb.post(w.ideaPath+"/lock", url.Values{"csrf": {w.token}, "back": {w.ideaPath}}), w.ideaPath)
	wantRedirect(t, "pin", w.mb.post(w.ideaPath+"/pin", url.Values{"csrf": {w.token}, "back": {w.ideaPath}}), w.ideaPath)
	v := ideaState(t, w.inst, w.alice, w.ideaID)
	if v.Idea.State != community.IdeaPlanned || v.Idea.StateComment != "Ordered for March" || !v.Idea.Locked || v.Idea.PinnedAt == nil {
		t.Fatalf("after the moderator's forms: %+v", v.Idea)
	}
	p := w.ab.get(w.ideaPath)
	wantPage(t, "the moderated idea for alice", p, http.StatusOK, ">Planned<", "Ordered for March", ">Locked<", ">Pinned<",
		"the discussion is closed")
	if strings.Contains(p.Body, `name="in_reply_to_id"`) || strings.Contains(p.Body, "Moderate this idea") {
		t.Error("a locked idea offers alice a reply box, or moderation controls")
	}
	wantPage(t, "the history for the moderator", w.mb.get(w.ideaPath), http.StatusOK, "Status set to Planned", "Unlock the discussion", "Unpin")
	// Whoever reads the idea follows its decisions, with the moderators' comments, but
	// not the rest of the moderation log.
	if p := w.bb.get(w.ideaPath); !strings.Contains(p.Body, "Decisions so far") || !strings.Contains(p.Body, "Status set to Planned") ||
		strings.Contains(p.Body, "Moderation history") || strings.Contains(p.Body, "Thread locked") {
		t.Errorf("bob's view of the idea's history:\n%s", p.Body)
	}
}

// Removing a reply, merging, moving.
func (w *boardsOnOne) removeMergeMove(t *testing.T) {
	_, replies, err := w.inst.Community.StatusContext(w.ctx, community.AsAccount(w.admin.Account), w.ideaID)
	if err != nil || len(replies) != 1 {
		t.Fatalf("replies: %v %d", err, len(replies))
	}
	wantRedirect(t, "remove the reply", w.mb.post(w.ideaPath+"/remove", url.Values{"csrf": {w.token}, "back": {w.ideaPath},
		"post": {community.FormatID(replies[0].ID)}, "reason": {"off topic"}}), w.ideaPath)
	if p := w.ab.get(w.ideaPath); strings.Contains(p.Body, "call centre") {
		t.Error("the removed reply still shows")
	}
	second := w.ab.post("/boards/ideas/ideas", url.Values{"csrf": {w.ab.csrf("/boards/ideas")}, "title": {"Desks that stand"}})
	w.secondPath = second.Header.Get("Location")
	wantPage(t, "the merge choices", w.mb.get(w.secondPath), http.StatusOK, "Standing desks (votes: 1)")
	wantRedirect(t, "merge", w.mb.post(w.secondPath+"/merge", url.Values{"csrf": {w.token}, "back": {w.secondPath},
		"into": {community.FormatID(w.ideaID)}}), w.secondPath)
	wantPage(t, "the merged idea", w.ab.get(w.secondPath), http.StatusOK, ">Merged<", `href="`+w.ideaPath+`"`)

	newBoard(t, w.inst, w.admin, "facilities", "Facilities")
	wantPage(t, "the move choices", w.mb.get(w.ideaPath), http.StatusOK, "@facilities")
	facilities, err := w.inst.Community.LocalAccount(w.ctx, "facilities")
	if err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, "move", w.mb.post(w.ideaPath+"/move", url.Values{"csrf": {w.token}, "back": {w.ideaPath},
		"board": {community.FormatID(facilities.ID)}}), w.ideaPath)
	moved := "/boards/facilities/ideas/" + community.FormatID(w.ideaID)
	wantRedirect(t, "the old address of the moved idea", w.ab.get(w.ideaPath), moved)
	wantPage(t, "the moved idea", w.ab.get(moved), http.StatusOK, "Standing desks")
}

// Banning bob: his next idea is refused.
func (w *boardsOnOne) ban(t *testing.T) {
	wantRedirect(t, "ban bob", w.mb.post("/boards/ideas/bans", url.Values{"csrf": {w.token}, "action": {"ban"}, "account": {"@bob"},
		"reason": {"spam"}}), "/boards/ideas?banned=ban")
	wantPage(t, "the ban's notice", w.mb.get("/boards/ideas?banned=ban"), http.StatusOK, "The person is banned from this board.")
	if p := w.bb.post("/boards/ideas/ideas", url.Values{"csrf": {w.bb.csrf("/boards/ideas")}, "title": {"Banned idea"}}); p.Code == http.StatusSeeOther {
		t.Fatalf("a banned person submitted an idea: %d", p.Code)
	}
	wantPage(t, "ban an unknown person", w.mb.post("/boards/ideas/bans", url.Values{"csrf": {w.token}, "action": {"ban"}, "account": {"nobody"}}),
		http.StatusUnprocessableEntity, "Nobody called nobody")
	wantRedirect(t, "lift the ban", w.mb.post("/boards/ideas/bans", url.Values{"csrf": {w.token}, "action": {"unban"}, "account": {"bob"}}),
		"/boards/ideas?banned=unban")
}

// Remove the merged idea: back to the board, and the idea is gone.
func (w *boardsOnOne) removeIdea(t *testing.T) {
	wantRedirect(t, "remove an idea", w.mb.post(w.secondPath+"/remove", url.Values{"csrf": {w.token}, "back": {w.secondPath}}), "/boards/ideas")
	wantPage(t, "the removed idea", w.ab.get(w.secondPath), http.StatusNotFound)
	wantPage(t, "an unknown board", w.ab.get("/boards/nothing"), http.StatusNotFound)
	wantPage(t, "a person's account as a board", w.ab.get("/boards/alice"), http.StatusNotFound)
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
