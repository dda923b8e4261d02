package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/federation/queue"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
	"github.com/tacit-social/tacit/web/browsertest"
)

// TestBoardsModerationAdminInBrowser uses the boards, moderation and admin pages in a
// real browser on a company of three departments: a person on C finds A's board on
// C's boards page and votes with the keyboard; a moderator of the board on B sets the
// idea's status with a comment and locks it from the idea page, and C shows both; an
// admin of A works a report through the queue and sends a dead delivery again. Every
// page is checked with axe-core at desktop and phone sizes, in light and dark; with
// TACIT_SCREENSHOTS=docs/screenshots it refreshes the pictures of docs/moderators.md.
func TestBoardsModerationAdminInBrowser(t *testing.T) {
	br := browsertest.New(t)
	ctx := context.Background()

	// A peer that refuses every delivery, so that A has a dead letter to send again.
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "gone", http.StatusGone)
	}))
	t.Cleanup(refusing.Close)
	peer := strings.TrimPrefix(refusing.URL, "http://")
	insts := instancetest.StartCompany(t, 3, instancetest.Options{Configure: func(c *config.Config) {
		c.Federation.Peers = append(c.Federation.Peers, peer)
	}})
	a, b, c := insts[0], insts[1], insts[2]
	w := &boardsModerationAdmin{br: br, ctx: ctx, refusing: refusing, peer: peer, a: a, b: b, c: c}
	w.admin = a.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin})
	w.alice = a.CreateUser(t, "alice", instancetest.UserOptions{})
	w.dana = a.CreateUser(t, "dana", instancetest.UserOptions{})
	w.carol = b.CreateUser(t, "carol", instancetest.UserOptions{})
	w.erin = c.CreateUser(t, "erin", instancetest.UserOptions{})

	w.moderatedBoard(t)
	w.ideas(t)
	w.erinVotes(t)
	w.carolModerates(t)
	w.erinSeesModeration(t)
	w.report(t)
	w.adminPages(t)
}

// boardsModerationAdmin is what TestBoardsModerationAdminInBrowser's steps share:
// the browser, the three instances and the refusing peer, the people, A's board and
// where its first idea is on each instance.
type boardsModerationAdmin struct {
	br                              *browsertest.Browser
	ctx                             context.Context
	refusing                        *httptest.Server
	peer                            string
	a, b, c                         *instancetest.Instance
	admin, alice, dana, carol, erin *instancetest.User
	board                           *community.BoardInfo
	boardOnB                        *community.Account
	remoteBoard, ideaOnB, ideaOnC   string
	ideaOnA                         int64
}

// A's board, with carol of B among its moderators, as in TestBoardsAcrossInstances.
func (w *boardsModerationAdmin) moderatedBoard(t *testing.T) {
	w.board = newBoard(t, w.a, w.admin, "ideas", "Ideas")
	var err error
	w.boardOnB, err = w.b.Federator.ResolveAccount(w.ctx, "ideas@"+w.a.Host())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.c.Federator.ResolveAccount(w.ctx, "ideas@"+w.a.Host()); err != nil {
		t.Fatal(err)
	}
	carolOnA, err := w.a.Federator.ResolveAccount(w.ctx, "carol@"+w.b.Host())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.a.Community.SetBoardModerator(w.ctx, w.admin.Account, w.board.Account.ID, carolOnA.ID, false); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "B lists carol as a moderator of the board", func() bool {
		ok, err := w.b.Community.MayModerateBoard(w.ctx, w.carol.Account, w.boardOnB.ID)
		return err == nil && ok
	})
}

// Two ideas by alice, through the domain as the API's POST does; the first one is
// the one voted on and moderated.
func (w *boardsModerationAdmin) ideas(t *testing.T) {
	var ideaURI string
	for _, title := range []string{"Bike racks by the entrance", "Quiet room on every floor"} {
		st, err := w.a.Community.CreateIdea(w.ctx, w.alice.Account, w.board.Account.ID, community.NewIdea{
			Title: title, Body: "Many of us would use it every day.",
		})
		if err != nil {
			t.Fatalf("submit %q: %v", title, err)
		}
		if ideaURI == "" {
			ideaURI = st.URI
		}
	}
	idOn := func(inst *instancetest.Instance) int64 {
		t.Helper()
		var id int64
		eventually.Holds(t, "the idea on "+inst.Host(), func() bool {
			// The test's own bookkeeping: which id the idea has there. Pages are read
			// through the browser.
			st, err := inst.Community.Unchecked().StatusByURI(w.ctx, ideaURI)
			if err != nil {
				return false
			}
			id = st.ID
			return true
		})
		return id
	}
	w.remoteBoard = "/boards/ideas@" + w.a.Host()
	w.ideaOnB = w.remoteBoard + "/ideas/" + community.FormatID(idOn(w.b))
	w.ideaOnC = w.remoteBoard + "/ideas/" + community.FormatID(idOn(w.c))
	w.ideaOnA = idOn(w.a)
}

// Erin, on C, finds the board on C's boards page, opens the idea and votes with
// the keyboard.
func (w *boardsModerationAdmin) erinVotes(t *testing.T) {
	signInByKeyboard(t, w.br, w.c.URL, "erin")
	visit(t, w.br, w.c.URL+"/boards", http.StatusOK, "boards", true)
	press(t, w.br, `a[href="`+w.remoteBoard+`"]`)
	waitFor(t, w.br, "the board's page", `location.pathname === `+strconv.Quote(w.remoteBoard))
	waitFor(t, w.br, "the idea on the board", `document.body.innerText.includes("Bike racks by the entrance")`)
	visit(t, w.br, w.c.URL+w.remoteBoard, http.StatusOK, "board", true)
	press(t, w.br, `a[href="`+w.ideaOnC+`"]`)
	waitFor(t, w.br, "the idea's page", `location.pathname === `+strconv.Quote(w.ideaOnC))
	press(t, w.br, `.vote button[aria-pressed="false"]`)
	waitFor(t, w.br, "the vote to turn into its withdrawal", `!!document.querySelector('.vote button[aria-pressed="true"]')`)
	eventually.Holds(t, "erin's vote counted on A", func() bool {
		v, err := w.a.Community.GetIdea(w.ctx, community.AsAccount(w.alice.Account), w.ideaOnA)
		return err == nil && v.Idea.VotesCount == 1
	})
}

// Carol, on B, moderates the idea from its page: a status with a comment, then
// the lock.
func (w *boardsModerationAdmin) carolModerates(t *testing.T) {
	signInByKeyboard(t, w.br, w.b.URL, "carol")
	w.br.Do(chromedp.Navigate(w.b.URL + w.ideaOnB))
	waitFor(t, w.br, "the moderation form", `!!document.querySelector('form[action$="/status"] select[name=status]')`)
	press(t, w.br, `details.moderation summary`)
	choose(t, w.br, `form[action$="/status"] select[name=status]`, "planned")
	typeInto(t, w.br, `form[action$="/status"] textarea[name=comment]`, "Racks arrive in May")
	press(t, w.br, `form[action$="/status"] button[type=submit]`)
	waitFor(t, w.br, "the status comment on B", `document.body.innerText.includes("Racks arrive in May") && !!document.querySelector('form[action$="/lock"]')`)
	press(t, w.br, `details.moderation summary`)
	press(t, w.br, `form[action$="/lock"] button`)
	waitFor(t, w.br, "the lock on B", `!!document.querySelector('form[action$="/unlock"]')`)
	visit(t, w.br, w.b.URL+w.ideaOnB, http.StatusOK, "idea", true)
	// The moderation controls, opened, are checked and pictured too.
	press(t, w.br, `details.moderation summary`)
	waitFor(t, w.br, "the moderation controls to open", `document.querySelector("details.moderation").open`)
	w.br.CheckAccessibilityEverywhere("the idea's moderation controls (" + w.ideaOnB + ")")
	w.br.Screenshot("web-idea-moderation-desktop")
}

// Back on C, erin's page of the idea shows the status, its comment and the lock.
func (w *boardsModerationAdmin) erinSeesModeration(t *testing.T) {
	signInByKeyboard(t, w.br, w.c.URL, "erin")
	eventually.Holds(t, "the status and the lock on C's page", func() bool {
		browsertest.Run(w.br, chromedp.Navigate(w.c.URL+w.ideaOnC))
		return pageShows(w.br, "Racks arrive in May") && pageShows(w.br, "Planned") && pageShows(w.br, "the discussion is closed")
	})
	if browsertest.Run(w.br, chromedp.Evaluate[bool](`!!document.querySelector("textarea[name=text]")`)) {
		t.Error("C offers erin a reply box on the locked idea")
	}
	if v := ideaState(t, w.c, w.erin, mustID(t, w.ideaOnC)); v.Idea.State != community.IdeaPlanned || !v.Idea.Locked {
		t.Errorf("the idea on C: %s, locked %v", v.Idea.State, v.Idea.Locked)
	}
}

// A report filed through the API on A, worked through A's queue by its admin.
func (w *boardsModerationAdmin) report(t *testing.T) {
	spam := w.a.PostStatus(t, w.dana.Token, url.Values{"status": {"Cheap watches, ask me how"}, "scope": {"company"}})
	w.a.Call(t, http.MethodPost, "/api/v1/reports", w.alice.Token, url.Values{
		"account_id": {community.FormatID(w.dana.Account.ID)}, "status_ids[]": {spam.ID},
		"comment": {"Selling watches in the company timeline"}, "category": {"spam"},
	}).Decode(t, http.StatusOK, nil)
	reports, err := w.a.Community.AdminReports(w.ctx, w.admin.Account, community.ReportQuery{})
	if err != nil || len(reports) != 1 {
		t.Fatalf("reports on A: %d, %v", len(reports), err)
	}
	report := reports[0].ID
	reportState := func() *community.Report {
		t.Helper()
		r, err := w.a.Community.AdminReport(w.ctx, w.admin.Account, report)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	signInByKeyboard(t, w.br, w.a.URL, "admin")
	visit(t, w.br, w.a.URL+"/moderation", http.StatusOK, "moderation", true)
	press(t, w.br, `form[action$="/assign"] button`)
	waitFor(t, w.br, "the assignment's notice", `document.body.innerText.includes("The report is assigned to you.")`)
	if r := reportState(); r.AssignedAccountID == nil || *r.AssignedAccountID != w.admin.Account.ID {
		t.Fatalf("assign to me: %+v", r)
	}
	press(t, w.br, `form.resolve input[name=type][value=silence]`)
	typeInto(t, w.br, `form.resolve input[name=text]`, "Second time this month")
	press(t, w.br, `form.resolve button[type=submit]`)
	waitFor(t, w.br, "the resolution's notice", `document.body.innerText.includes("The report is resolved.")`)
	if r := reportState(); !r.ActionTaken {
		t.Fatalf("resolve: %+v", r)
	}
	if v, err := w.a.Community.AdminAccount(w.ctx, w.admin.Account, w.dana.Account.ID); err != nil || !v.Sanction.Silenced {
		t.Fatalf("resolving with the limit left dana unlimited (%v)", err)
	}
	press(t, w.br, `a[href="/moderation?resolved=1"]`)
	waitFor(t, w.br, "the resolved reports", `!!document.querySelector('form[action$="/reopen"]')`)
	press(t, w.br, `form[action$="/reopen"] button`)
	waitFor(t, w.br, "the reopening's notice", `document.body.innerText.includes("The report is open again.")`)
	if r := reportState(); r.ActionTaken {
		t.Fatalf("reopen: %+v", r)
	}
	visit(t, w.br, w.a.URL+"/moderation/log", http.StatusOK, "moderation-log", true)
	for _, entry := range []string{"Report assigned", "Account limited", "Report reopened"} {
		if !pageShows(w.br, entry) {
			t.Errorf("the audit log lacks %q", entry)
		}
	}
}

// The admin pages, and a dead delivery to the refusing peer sent again.
func (w *boardsModerationAdmin) adminPages(t *testing.T) {
	dead := community.NewID()
	payload, _ := json.Marshal(map[string]any{"inbox": w.refusing.URL + "/inbox",
		"activity": json.RawMessage(`{"id":"` + w.a.URL + `/activities/dead","type":"Create"}`)})
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := w.a.DB.Create(&queue.DeadLetter{ID: dead, Kind: "deliver", Host: w.peer, Payload: string(payload),
		Attempts: 1, Reason: queue.ReasonPermanent, LastError: "peer answered 410 Gone", CreatedAt: now, DiedAt: now}).Error; err != nil {
		t.Fatal(err)
	}
	visit(t, w.br, w.a.URL+"/admin", http.StatusOK, "admin-people", true)
	visit(t, w.br, w.a.URL+"/admin/people/"+community.FormatID(w.dana.Account.ID), http.StatusOK, "admin-person", false)
	visit(t, w.br, w.a.URL+"/admin/domains", http.StatusOK, "admin-domains", false)
	visit(t, w.br, w.a.URL+"/admin/instance", http.StatusOK, "admin-instance", false)
	visit(t, w.br, w.a.URL+"/admin/federation", http.StatusOK, "admin-federation", true)
	deadPath := "/admin/federation/dead?host=" + url.QueryEscape(w.peer)
	press(t, w.br, `a[href="`+deadPath+`"]`)
	waitFor(t, w.br, "the dead deliveries", `!!document.querySelector('input[name=ids][value="`+community.FormatID(dead)+`"]')`)
	w.br.CheckAccessibilityEverywhere("the dead deliveries (" + deadPath + ")")
	press(t, w.br, `form[action$="/retry"]:has(input[name=ids][value="`+community.FormatID(dead)+`"]) button`)
	waitFor(t, w.br, "the retry's notice", `document.body.innerText.includes("1 queued to be sent again.")`)
	// The peer refuses it again; what matters is that it went through the queue once
	// more.
	eventually.Holds(t, "the retried delivery to be tried again", func() bool {
		var again queue.DeadLetter
		var jobs int64
		w.a.DB.Model(&queue.Job{}).Where("id = ?", dead).Count(&jobs)
		err := w.a.DB.Where("id = ?", dead).Take(&again).Error
		return jobs == 0 && err == nil && again.DiedAt.After(again.CreatedAt)
	})
}

// press puts the keyboard focus on the element matched by the CSS selector and
// presses Enter (a button or link) or Space (a radio button), as a person without a
// mouse does.
func press(t *testing.T, b *browsertest.Browser, selector string) {
	t.Helper()
	focus(t, b, selector)
	key := "\r"
	if browsertest.Run(b, chromedp.Evaluate[bool](`document.activeElement.type === "radio"`)) {
		key = " "
	}
	b.Do(chromedp.KeyEvent(key))
}

// choose picks the option with value in the select matched by the CSS selector.
func choose(t *testing.T, b *browsertest.Browser, selector, value string) {
	t.Helper()
	ok := browsertest.Run(b, chromedp.Evaluate[bool](`(s => { if (!s) return false; s.value = `+strconv.Quote(value)+
		`; s.dispatchEvent(new Event("change", {bubbles: true})); return s.value === `+strconv.Quote(value)+` })(document.querySelector(`+strconv.Quote(selector)+`))`))
	if !ok {
		t.Fatalf("no option %q in %q", value, selector)
	}
}

// typeInto puts the keyboard focus on the field matched by the CSS selector and
// types text.
func typeInto(t *testing.T, b *browsertest.Browser, selector, text string) {
	t.Helper()
	focus(t, b, selector)
	b.Do(chromedp.KeyEvent(text))
}

// focus puts the keyboard focus on the element matched by the CSS selector. (Tabbing
// there is what signInByKeyboard checks; the pages here have too many controls to
// count Tabs to each.)
func focus(t *testing.T, b *browsertest.Browser, selector string) {
	t.Helper()
	focused := browsertest.Run(b, chromedp.Evaluate[bool](
		`(e => { if (!e) return false; e.focus(); return document.activeElement === e })(document.querySelector(`+strconv.Quote(selector)+`))`))
	if !focused {
		t.Fatalf("no element to focus at %q on %s", selector, browsertest.Run(b, chromedp.Location()))
	}
}
