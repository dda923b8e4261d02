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

// TestModerationReports: a moderator works through a report filed through the API
// and one forwarded from the company's other instance: assigns, resolves with an
// action on the account, reopens, and finds it all in the audit log.
func TestModerationReports(t *testing.T) { eachDatabase(t, testModerationReports) }

func testModerationReports(t *testing.T, opts instancetest.Options) {
	insts := instancetest.StartCompany(t, 2, opts)
	w := &moderationReports{ctx: context.Background(), a: insts[0], b: insts[1]}
	w.mod = w.a.CreateUser(t, "mod", instancetest.UserOptions{Role: community.RoleModerator})
	w.alice = w.a.CreateUser(t, "alice", instancetest.UserOptions{})
	w.carol = w.a.CreateUser(t, "carol", instancetest.UserOptions{})
	w.dave = w.b.CreateUser(t, "dave", instancetest.UserOptions{})

	w.reportHere(t)
	w.reportForwarded(t)
	w.reportsQueue(t)
	w.work(t)
	w.auditLog(t)
}

// moderationReports is what testModerationReports's steps share: the two
// departments, the people, the two reports and the moderator's browser.
type moderationReports struct {
	ctx                     context.Context
	a, b                    *instancetest.Instance
	mod, alice, carol, dave *instancetest.User
	here, forwarded         community.Report
	m                       *browser
}

// Carol reports alice's post through the API of their own department.
func (w *moderationReports) reportHere(t *testing.T) {
	post := w.a.PostStatus(t, w.alice.Token, url.Values{"status": {"buy cheap watches"}, "scope": {"company"}})
	w.a.Call(t, http.MethodPost, "/api/v1/reports", w.carol.Token, url.Values{
		"account_id": {community.FormatID(w.alice.Account.ID)}, "status_ids[]": {post.ID},
		"comment": {"Spam filed here"}, "category": {"spam"},
	}).Decode(t, http.StatusOK, nil)
}

// Dave, in the other department, reports alice; the report is forwarded to A.
func (w *moderationReports) reportForwarded(t *testing.T) {
	aliceOnB, err := w.b.Federator.ResolveAccount(w.ctx, "alice@"+w.a.Host())
	if err != nil {
		t.Fatal(err)
	}
	w.b.Call(t, http.MethodPost, "/api/v1/reports", w.dave.Token, url.Values{
		"account_id": {community.FormatID(aliceOnB.ID)}, "comment": {"Spam seen from B"}, "forward": {"true"},
	}).Decode(t, http.StatusOK, nil)
	eventually.Holds(t, "the forwarded report on A", func() bool {
		reports, err := w.a.Community.AdminReports(w.ctx, w.mod.Account, community.ReportQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reports {
			switch r.Comment {
			case "Spam filed here":
				w.here = r
			case "Spam seen from B":
				w.forwarded = r
			}
		}
		return w.forwarded.ID != 0 && w.here.ID != 0
	})
	if w.forwarded.Origin != w.b.Host() {
		t.Fatalf("the forwarded report's origin: %q", w.forwarded.Origin)
	}
}

// The moderator's queue shows both reports, the forwarded one with where it came from.
func (w *moderationReports) reportsQueue(t *testing.T) {
	w.m = newBrowser(t, w.a)
	w.m.signIn("mod")
	queue := w.m.get("/moderation")
	for _, want := range []string{"Spam filed here", "Spam seen from B", "buy cheap watches", "Forwarded by the instance " + w.b.Host(),
		"@carol", "Assign to me", "Resolve report", `href="/moderation"`} {
		if !strings.Contains(queue.Body, want) {
			t.Errorf("the reports queue lacks %q:\n%s", want, queue.Body)
		}
	}
}

// The moderator assigns the report filed here, resolves it with a limit on alice and
// reopens it, and resolves the forwarded one without an action.
func (w *moderationReports) work(t *testing.T) {
	csrf := w.m.csrf("/moderation")
	report := func(r community.Report) *community.Report {
		t.Helper()
		got, err := w.a.Community.AdminReport(w.ctx, w.mod.Account, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	act := func(r community.Report, action string, form url.Values) {
		t.Helper()
		form.Set("csrf", csrf)
		form.Set("back", "/moderation")
		p := w.m.post("/moderation/reports/"+community.FormatID(r.ID)+"/"+action, form)
		if p.Code != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/moderation?done="+action) {
			t.Fatalf("%s: %d %q\n%s", action, p.Code, p.Header.Get("Location"), p.Body)
		}
	}

	act(w.here, "assign", url.Values{})
	if got := report(w.here); got.AssignedAccountID == nil || *got.AssignedAccountID != w.mod.Account.ID {
		t.Fatalf("assign to me: %+v", got)
	}
	if p := w.m.get("/moderation"); !strings.Contains(p.Body, "Unassign me") {
		t.Error("the queue does not show the report as assigned to the moderator")
	}
	act(w.here, "resolve", url.Values{"type": {"silence"}, "text": {"repeated spam"}})
	if got := report(w.here); !got.ActionTaken || got.ActionTakenByAccountID == nil || *got.ActionTakenByAccountID != w.mod.Account.ID {
		t.Fatalf("resolve: %+v", got)
	}
	view, err := w.a.Community.AdminAccount(w.ctx, w.mod.Account, w.alice.Account.ID)
	if err != nil || !view.Sanction.Silenced {
		t.Fatalf("resolving with silence left alice unsilenced (%v)", err)
	}
	if p := w.m.get("/moderation?resolved=1"); !strings.Contains(p.Body, "Spam filed here") || !strings.Contains(p.Body, "Reopen report") {
		t.Errorf("the resolved list lacks the report:\n%s", p.Body)
	}
	act(w.here, "reopen", url.Values{})
	if got := report(w.here); got.ActionTaken {
		t.Fatalf("reopen: %+v", got)
	}

	act(w.forwarded, "resolve", url.Values{"type": {"none"}})
	if got := report(w.forwarded); !got.ActionTaken {
		t.Fatalf("resolve the forwarded report: %+v", got)
	}
}

// The audit log, whole and filtered (the filter's own list names every action, so
// only the entries are looked at).
func (w *moderationReports) auditLog(t *testing.T) {
	entries := func(path string) string {
		t.Helper()
		p := w.m.get(path)
		_, list, ok := strings.Cut(p.Body, `<ol class="log">`)
		if p.Code != http.StatusOK || !ok {
			t.Fatalf("GET %s: %d\n%s", path, p.Code, p.Body)
		}
		list, _, _ = strings.Cut(list, "</ol>")
		return list
	}
	log := entries("/moderation/log")
	for _, want := range []string{"Report assigned", "Report resolved", "Account limited", "Report reopened", "repeated spam"} {
		if !strings.Contains(log, want) {
			t.Errorf("the audit log lacks %q", want)
		}
	}
	if l := entries("/moderation/log?action=silence"); !strings.Contains(l, "Account limited") || strings.Contains(l, "Report assigned") {
		t.Errorf("the log filtered by action:\n%s", l)
	}
	if l := entries("/moderation/log?target=" + url.QueryEscape("@alice")); !strings.Contains(l, "Account limited") || strings.Contains(l, "Report assigned") {
		t.Errorf("the log filtered by target:\n%s", l)
	}
	if l := entries("/moderation/log?moderator=mod"); !strings.Contains(l, "Report reopened") {
		t.Errorf("the log filtered by moderator:\n%s", l)
	}
	if l := entries("/moderation/log?moderator=carol"); strings.Contains(l, "Report reopened") || !strings.Contains(l, "No entries.") {
		t.Errorf("the log of someone who did nothing:\n%s", l)
	}
	if p := w.m.get("/moderation/log?moderator=nobody"); !strings.Contains(p.Body, "No account nobody is known here.") {
		t.Errorf("the log filtered by an unknown moderator:\n%s", p.Body)
	}
}

// TestModerationRefusesOthers: people who are not moderators get 403 on every page
// and form, and their forms write nothing; moderators get 403 on the admin pages;
// signed-out visitors are sent to sign in.
func TestModerationRefusesOthers(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, testModerationRefusesOthers)
}

func testModerationRefusesOthers(t *testing.T, inst *instancetest.Instance) {
	ctx := context.Background()
	mod := inst.CreateUser(t, "mod", instancetest.UserOptions{Role: community.RoleModerator})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	bob := inst.CreateUser(t, "bob", instancetest.UserOptions{})
	inst.Call(t, http.MethodPost, "/api/v1/reports", bob.Token, url.Values{
		"account_id": {community.FormatID(alice.Account.ID)}, "comment": {"please look"},
	}).Decode(t, http.StatusOK, nil)
	reports, err := inst.Community.AdminReports(ctx, mod.Account, community.ReportQuery{})
	if err != nil || len(reports) != 1 {
		t.Fatalf("reports: %v %v", reports, err)
	}
	rid := community.FormatID(reports[0].ID)
	aliceID := community.FormatID(alice.Account.ID)

	if p := newBrowser(t, inst).get("/moderation"); p.Code != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/login") {
		t.Errorf("signed out /moderation: %d %q", p.Code, p.Header.Get("Location"))
	}
	if p := newBrowser(t, inst).get("/admin"); p.Code != http.StatusSeeOther {
		t.Errorf("signed out /admin: %d", p.Code)
	}

	user := newBrowser(t, inst)
	user.signIn("bob")
	home := user.get("/")
	if strings.Contains(home.Body, `href="/moderation"`) || strings.Contains(home.Body, `href="/admin"`) {
		t.Error("a person who is not staff sees a moderation link")
	}
	token := user.csrf("/")
	for _, path := range []string{"/moderation", "/moderation?resolved=1", "/moderation/log", "/admin", "/admin/people/" + aliceID,
		"/admin/federation", "/admin/domains", "/admin/instance"} {
		if p := user.get(path); p.Code != http.StatusForbidden || strings.Contains(p.Body, "please look") {
			t.Errorf("a member's GET %s: %d", path, p.Code)
		}
	}
	forms := []struct{ path, field, value string }{
		{"/moderation/reports/" + rid + "/resolve", "type", "suspend"},
		{"/moderation/reports/" + rid + "/assign", "", ""},
		{"/admin/people/" + aliceID + "/role", "role", "admin"},
		{"/admin/people/" + aliceID + "/suspend", "", ""},
		{"/admin/people/" + aliceID + "/password", "password", "another long passphrase"},
		{"/admin/domains/blocks", "domain", "evil.example"},
		{"/admin/domains/allows", "domain", "friend.example"},
		{"/admin/federation/dead/discard", "host", "peer.example"},
	}
	for _, f := range forms {
		form := url.Values{"csrf": {token}}
		if f.field != "" {
			form.Set(f.field, f.value)
		}
		if p := user.post(f.path, form); p.Code != http.StatusForbidden {
			t.Errorf("a member's POST %s: %d", f.path, p.Code)
		}
	}

	// A moderator moderates, but does not administer.
	m := newBrowser(t, inst)
	m.signIn("mod")
	if p := m.get("/"); !strings.Contains(p.Body, `href="/moderation"`) {
		t.Error("a moderator's navigation has no moderation link")
	}
	if p := m.get("/moderation"); p.Code != http.StatusOK {
		t.Errorf("a moderator's /moderation: %d", p.Code)
	}
	modToken := m.csrf("/moderation")
	for _, path := range []string{"/admin", "/admin/federation", "/admin/domains", "/admin/instance"} {
		if p := m.get(path); p.Code != http.StatusForbidden {
			t.Errorf("a moderator's GET %s: %d", path, p.Code)
		}
	}
	for _, f := range forms[2:] {
		form := url.Values{"csrf": {modToken}}
		if f.field != "" {
			form.Set(f.field, f.value)
		}
		if p := m.post(f.path, form); p.Code != http.StatusForbidden {
			t.Errorf("a moderator's POST %s: %d", f.path, p.Code)
		}
	}

	// Forged forms: every moderation and admin form without the session's token.
	for _, f := range forms {
		for _, headers := range [][]string{nil, {"Origin", "https://evil.example"}} {
			form := url.Values{}
			if headers != nil {
				form.Set("csrf", modToken)
			}
			if f.field != "" {
				form.Set(f.field, f.value)
			}
			if p := m.post(f.path, form, headers...); p.Code != http.StatusForbidden {
				t.Errorf("forged POST %s (%v): %d", f.path, headers, p.Code)
			}
		}
	}

	// Nothing was written.
	r, err := inst.Community.AdminReport(ctx, mod.Account, reports[0].ID)
	if err != nil || r.ActionTaken || r.AssignedAccountID != nil {
		t.Errorf("refused forms changed the report: %+v %v", r, err)
	}
	view, err := inst.Community.AdminAccount(ctx, mod.Account, alice.Account.ID)
	if err != nil || view.Sanction.Suspended || view.User.Role != community.RoleUser {
		t.Errorf("refused forms changed alice: %+v %v", view, err)
	}
	if _, _, err := inst.Community.Authenticate(ctx, "alice", instancetest.Password("alice")); err != nil {
		t.Errorf("refused forms changed alice's password: %v", err)
	}
	blocks, _ := inst.Community.ListDomainBlocks(ctx, mod.Account, community.Page{})
	allows, _ := inst.Community.ListDomainAllows(ctx, mod.Account, community.Page{})
	if len(blocks)+len(allows) != 0 {
		t.Errorf("refused forms added domain rules: %v %v", blocks, allows)
	}
	log, err := inst.Community.ModerationLog(ctx, mod.Account, community.ModerationLogQuery{})
	if err != nil || len(log) != 0 {
		t.Errorf("refused forms wrote the audit log: %v %v", log, err)
	}
}

// TestModerationMessageKeys: the texts chosen at run time are in the catalog.
func TestModerationMessageKeys(t *testing.T) {
	var keys []string
	for _, s := range []string{"none", "silence", "suspend", "disable"} {
		keys = append(keys, "moderation.action."+s)
	}
	for _, s := range []string{"spam", "legal", "violation", "other"} {
		keys = append(keys, "moderation.category."+s)
	}
	for _, s := range []string{"assign", "unassign", "resolve", "reopen"} {
		keys = append(keys, "moderation.done."+s)
	}
	for _, s := range []string{community.ActionAssignReport, community.ActionUnassignReport, community.ActionResolveReport,
		community.ActionReopenReport, community.ActionWarn, community.ActionSilence, community.ActionUnsilence,
		community.ActionSuspend, community.ActionUnsuspend, community.ActionDisable, community.ActionEnable,
		community.ActionSetRole, community.ActionResetPassword, community.ActionBlockDomain, community.ActionUpdateBlock,
		community.ActionUnblockDomain, community.ActionAllowDomain, community.ActionDisallowDomain, community.ActionLock,
		community.ActionUnlock, community.ActionRemove, community.ActionPin, community.ActionUnpin, community.ActionBan,
		community.ActionUnban, community.ActionMove, community.ActionMerge, community.ActionStatus,
		community.ActionAddModerator, community.ActionRemoveModerator} {
		keys = append(keys, "moderation.log.action."+s)
	}
	for _, s := range []string{"user", "moderator", "admin"} {
		keys = append(keys, "admin.role."+s)
	}
	for _, s := range []string{"role", "suspend", "unsuspend", "unsilence", "enable", "password"} {
		keys = append(keys, "admin.person.done."+s)
	}
	for _, s := range []string{"suspend", "silence", "noop"} {
		keys = append(keys, "admin.domains.severity."+s)
	}
	for _, s := range []string{"add_blocks", "remove_blocks", "add_allows", "remove_allows"} {
		keys = append(keys, "admin.domains.done."+s)
	}
	for _, s := range []string{"permanent", "max_attempts", "expired"} {
		keys = append(keys, "admin.federation.reason."+s)
	}
	for _, s := range []string{"retry", "discard"} {
		keys = append(keys, "admin.federation.done."+s)
	}
	for _, s := range []string{"company", "open"} {
		keys = append(keys, "admin.instance.mode."+s)
	}
	keys = append(keys, "nav.admin", "nav.moderation")
	for _, k := range keys {
		if app.T(k) == k {
			t.Errorf("message %q is not in the catalog", k)
		}
	}
}

// Moderators who are not admins decide on sign-ups from the moderation page; a user
// cannot.
func TestModeratorsDecideSignups(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		inst.CreateUser(t, "mod", instancetest.UserOptions{Role: community.RoleModerator})
		inst.CreateUser(t, "bob", instancetest.UserOptions{})
		pending := func(name string) *community.Account {
			t.Helper()
			acct, _, err := inst.Community.CreateLocalAccount(ctx, community.NewLocalAccount{
				Username: name, Password: "a long sign-up phrase", Email: name + "@example.com", Pending: true})
			if err != nil {
				t.Fatal(err)
			}
			return acct
		}
		erin, frank := pending("erin"), pending("frank")
		approved := func(a *community.Account) bool {
			t.Helper()
			u, err := inst.Community.UserByAccountID(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			return u.Approved
		}

		mod := newBrowser(t, inst)
		mod.signIn("mod")
		page := mod.get("/moderation")
		erinPath := "/moderation/signups/" + community.FormatID(erin.ID)
		if !strings.Contains(page.Body, erinPath+"/approve") || !strings.Contains(page.Body, "@frank") {
			t.Fatalf("the moderation page lists no sign-ups:\n%s", page.Body)
		}
		csrf := mod.csrf("/moderation")

		user := newBrowser(t, inst)
		user.signIn("bob")
		if p := user.post(erinPath+"/approve", url.Values{"csrf": {user.csrf("/")}}); p.Code != http.StatusForbidden || approved(erin) {
			t.Fatalf("a user approving a sign-up: %d, approved %v", p.Code, approved(erin))
		}

		if p := mod.post(erinPath+"/approve", url.Values{"csrf": {csrf}}); p.Code != http.StatusSeeOther || p.Header.Get("Location") != "/moderation?done=approve" {
			t.Fatalf("approve: %d %q", p.Code, p.Header.Get("Location"))
		}
		if !approved(erin) {
			t.Fatal("erin is not approved")
		}
		if p := mod.post("/moderation/signups/"+community.FormatID(frank.ID)+"/reject", url.Values{"csrf": {csrf}}); p.Code != http.StatusSeeOther {
			t.Fatalf("reject: %d", p.Code)
		}
		if _, err := inst.Community.UserByAccountID(ctx, frank.ID); community.KindOf(err) != community.KindNotFound {
			t.Fatalf("frank after rejection: %v", err)
		}
		if p := mod.get("/moderation?done=reject"); strings.Contains(p.Body, "@frank") || !strings.Contains(p.Body, "username is free again") {
			t.Errorf("after the decisions:\n%s", p.Body)
		}
	})
}
