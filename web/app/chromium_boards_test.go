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
	admin := a.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin})
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
	dana := a.CreateUser(t, "dana", instancetest.UserOptions{})
	carol := b.CreateUser(t, "carol", instancetest.UserOptions{})
	erin := c.CreateUser(t, "erin", instancetest.UserOptions{})

	// A's board, with carol of B among its moderators, as in TestBoardsAcrossInstances.
	board := newBoard(t, a, admin, "ideas", "Ideas")
	boardOnB, err := b.Federator.ResolveAccount(ctx, "ideas@"+a.Host())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Federator.ResolveAccount(ctx, "ideas@"+a.Host()); err != nil {
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

	// Two ideas by alice, through the domain as the API's POST does; the first one is
	// the one voted on and moderated.
	var ideaURI string
	for _, title := range []string{"Bike racks by the entrance", "Quiet room on every floor"} {
		st, err := a.Community.CreateIdea(ctx, alice.Account, board.Account.ID, community.NewIdea{
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
			st, err := inst.Community.Unchecked().StatusByURI(ctx, ideaURI)
			if err != nil {
				return false
			}
			id = st.ID
			return true
		})
		return id
	}
	remoteBoard := "/boards/ideas@" + a.Host()
	ideaOnB := remoteBoard + "/ideas/" + community.FormatID(idOn(b))
	ideaOnC := remoteBoard + "/ideas/" + community.FormatID(idOn(c))
	ideaOnA := idOn(a)

	// Erin, on C, finds the board on C's boards page, opens the idea and votes with
	// the keyboard.
	signInByKeyboard(t, br, c.URL, "erin")
	visit(t, br, c.URL+"/boards", http.StatusOK, "boards", true)
	press(t, br, `a[href="`+remoteBoard+`"]`)
	waitFor(t, br, "the board's page", `location.pathname === `+strconv.Quote(remoteBoard))
	waitFor(t, br, "the idea on the board", `document.body.innerText.includes("Bike racks by the entrance")`)
	visit(t, br, c.URL+remoteBoard, http.StatusOK, "board", true)
	press(t, br, `a[href="`+ideaOnC+`"]`)
	waitFor(t, br, "the idea's page", `location.pathname === `+strconv.Quote(ideaOnC))
	press(t, br, `.vote button[aria-pressed="false"]`)
	waitFor(t, br, "the vote to turn into its withdrawal", `!!document.querySelector('.vote button[aria-pressed="true"]')`)
	eventually.Holds(t, "erin's vote counted on A", func() bool {
		v, err := a.Community.GetIdea(ctx, community.AsAccount(alice.Account), ideaOnA)
		return err == nil && v.Idea.VotesCount == 1
	})

	// Carol, on B, moderates the idea from its page: a status with a comment, then
	// the lock.
	signInByKeyboard(t, br, b.URL, "carol")
	br.Do(chromedp.Navigate(b.URL + ideaOnB))
	waitFor(t, br, "the moderation form", `!!document.querySelector('form[action$="/status"] select[name=status]')`)
	press(t, br, `details.moderation summary`)
	choose(t, br, `form[action$="/status"] select[name=status]`, "planned")
	typeInto(t, br, `form[action$="/status"] textarea[name=comment]`, "Racks arrive in May")
	press(t, br, `form[action$="/status"] button[type=submit]`)
	waitFor(t, br, "the status comment on B", `document.body.innerText.includes("Racks arrive in May") && !!document.querySelector('form[action$="/lock"]')`)
	press(t, br, `details.moderation summary`)
	press(t, br, `form[action$="/lock"] button`)
	waitFor(t, br, "the lock on B", `!!document.querySelector('form[action$="/unlock"]')`)
	visit(t, br, b.URL+ideaOnB, http.StatusOK, "idea", true)
	// The moderation controls, opened, are checked and pictured too.
	press(t, br, `details.moderation summary`)
	waitFor(t, br, "the moderation controls to open", `document.querySelector("details.moderation").open`)
	br.CheckAccessibilityEverywhere("the idea's moderation controls (" + ideaOnB + ")")
	br.Screenshot("web-idea-moderation-desktop")

	// Back on C, erin's page of the idea shows the status, its comment and the lock.
	signInByKeyboard(t, br, c.URL, "erin")
	eventually.Holds(t, "the status and the lock on C's page", func() bool {
		browsertest.Run(br, chromedp.Navigate(c.URL+ideaOnC))
		return pageShows(br, "Racks arrive in May") && pageShows(br, "Planned") && pageShows(br, "the discussion is closed")
	})
	if browsertest.Run(br, chromedp.Evaluate[bool](`!!document.querySelector("textarea[name=text]")`)) {
		t.Error("C offers erin a reply box on the locked idea")
	}
	if v := ideaState(t, c, erin, mustID(t, ideaOnC)); v.Idea.State != community.IdeaPlanned || !v.Idea.Locked {
		t.Errorf("the idea on C: %s, locked %v", v.Idea.State, v.Idea.Locked)
	}

	// A report filed through the API on A, worked through A's queue by its admin.
	spam := a.PostStatus(t, dana.Token, url.Values{"status": {"Cheap watches, ask me how"}, "scope": {"company"}})
	a.Call(t, http.MethodPost, "/api/v1/reports", alice.Token, url.Values{
		"account_id": {community.FormatID(dana.Account.ID)}, "status_ids[]": {spam.ID},
		"comment": {"Selling watches in the company timeline"}, "category": {"spam"},
	}).Decode(t, http.StatusOK, nil)
	reports, err := a.Community.AdminReports(ctx, admin.Account, community.ReportQuery{})
	if err != nil || len(reports) != 1 {
		t.Fatalf("reports on A: %d, %v", len(reports), err)
	}
	report := reports[0].ID
	reportState := func() *community.Report {
		t.Helper()
		r, err := a.Community.AdminReport(ctx, admin.Account, report)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	signInByKeyboard(t, br, a.URL, "admin")
	visit(t, br, a.URL+"/moderation", http.StatusOK, "moderation", true)
	press(t, br, `form[action$="/assign"] button`)
	waitFor(t, br, "the assignment's notice", `document.body.innerText.includes("The report is assigned to you.")`)
	if r := reportState(); r.AssignedAccountID == nil || *r.AssignedAccountID != admin.Account.ID {
		t.Fatalf("assign to me: %+v", r)
	}
	press(t, br, `form.resolve input[name=type][value=silence]`)
	typeInto(t, br, `form.resolve input[name=text]`, "Second time this month")
	press(t, br, `form.resolve button[type=submit]`)
	waitFor(t, br, "the resolution's notice", `document.body.innerText.includes("The report is resolved.")`)
	if r := reportState(); !r.ActionTaken {
		t.Fatalf("resolve: %+v", r)
	}
	if v, err := a.Community.AdminAccount(ctx, admin.Account, dana.Account.ID); err != nil || !v.Sanction.Silenced {
		t.Fatalf("resolving with the limit left dana unlimited (%v)", err)
	}
	press(t, br, `a[href="/moderation?resolved=1"]`)
	waitFor(t, br, "the resolved reports", `!!document.querySelector('form[action$="/reopen"]')`)
	press(t, br, `form[action$="/reopen"] button`)
	waitFor(t, br, "the reopening's notice", `document.body.innerText.includes("The report is open again.")`)
	if r := reportState(); r.ActionTaken {
		t.Fatalf("reopen: %+v", r)
	}
	visit(t, br, a.URL+"/moderation/log", http.StatusOK, "moderation-log", true)
	for _, entry := range []string{"Report assigned", "Account limited", "Report reopened"} {
		if !pageShows(br, entry) {
			t.Errorf("the audit log lacks %q", entry)
		}
	}

	// The admin pages, and a dead delivery to the refusing peer sent again.
	dead := community.NewID()
	payload, _ := json.Marshal(map[string]any{"inbox": refusing.URL + "/inbox",
		"activity": json.RawMessage(`{"id":"` + a.URL + `/activities/dead","type":"Create"}`)})
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := a.DB.Create(&queue.DeadLetter{ID: dead, Kind: "deliver", Host: peer, Payload: string(payload),
		Attempts: 1, Reason: queue.ReasonPermanent, LastError: "peer answered 410 Gone", CreatedAt: now, DiedAt: now}).Error; err != nil {
		t.Fatal(err)
	}
	visit(t, br, a.URL+"/admin", http.StatusOK, "admin-people", true)
	visit(t, br, a.URL+"/admin/people/"+community.FormatID(dana.Account.ID), http.StatusOK, "admin-person", false)
	visit(t, br, a.URL+"/admin/domains", http.StatusOK, "admin-domains", false)
	visit(t, br, a.URL+"/admin/instance", http.StatusOK, "admin-instance", false)
	visit(t, br, a.URL+"/admin/federation", http.StatusOK, "admin-federation", true)
	deadPath := "/admin/federation/dead?host=" + url.QueryEscape(peer)
	press(t, br, `a[href="`+deadPath+`"]`)
	waitFor(t, br, "the dead deliveries", `!!document.querySelector('input[name=ids][value="`+community.FormatID(dead)+`"]')`)
	br.CheckAccessibilityEverywhere("the dead deliveries (" + deadPath + ")")
	press(t, br, `form[action$="/retry"]:has(input[name=ids][value="`+community.FormatID(dead)+`"]) button`)
	waitFor(t, br, "the retry's notice", `document.body.innerText.includes("1 queued to be sent again.")`)
	// The peer refuses it again; what matters is that it went through the queue once
	// more.
	eventually.Holds(t, "the retried delivery to be tried again", func() bool {
		var again queue.DeadLetter
		var jobs int64
		a.DB.Model(&queue.Job{}).Where("id = ?", dead).Count(&jobs)
		err := a.DB.Where("id = ?", dead).Take(&again).Error
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
