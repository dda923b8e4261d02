package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/federation/queue"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// TestAdminPeople: an admin changes a role, suspends (the person's web session ends)
// and unsuspends, and resets a password; each is in the audit log.
func TestAdminPeople(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, testAdminPeople)
}

func testAdminPeople(t *testing.T, inst *instancetest.Instance) {
	ctx := context.Background()
	admin := inst.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	aliceID := community.FormatID(alice.Account.ID)

	b := newBrowser(t, inst)
	b.signIn("admin")
	if p := b.get("/"); !strings.Contains(p.Body, `href="/admin"`) {
		t.Error("an admin's navigation has no administration link")
	}
	people := b.get("/admin")
	if people.Code != http.StatusOK || !strings.Contains(people.Body, "@alice") || !strings.Contains(people.Body, "/admin/people/"+aliceID) {
		t.Fatalf("the people list: %d\n%s", people.Code, people.Body)
	}
	if p := b.get("/admin?q=ali"); !strings.Contains(p.Body, "@alice") || strings.Contains(p.Body, "/admin/people/"+community.FormatID(admin.Account.ID)) {
		t.Errorf("searching people for ali:\n%s", p.Body)
	}
	if p := b.get("/admin?q=alice%40example.com"); !strings.Contains(p.Body, "@alice") {
		t.Errorf("searching people by e-mail address:\n%s", p.Body)
	}
	csrf := b.csrf("/admin/people/" + aliceID)
	act := func(action string, form url.Values) page {
		t.Helper()
		form.Set("csrf", csrf)
		return b.post("/admin/people/"+aliceID+"/"+action, form)
	}
	done := func(p page, action string) {
		t.Helper()
		if p.Code != http.StatusSeeOther || p.Header.Get("Location") != "/admin/people/"+aliceID+"?done="+action {
			t.Fatalf("%s: %d %q\n%s", action, p.Code, p.Header.Get("Location"), p.Body)
		}
	}
	role := func() community.Role {
		t.Helper()
		u, err := inst.Community.UserByAccountID(ctx, alice.Account.ID)
		if err != nil {
			t.Fatal(err)
		}
		return u.Role
	}

	done(act("role", url.Values{"role": {"moderator"}}), "role")
	if role() != community.RoleModerator {
		t.Fatalf("role after the change: %s", role())
	}
	if p := b.get("/admin/people/" + aliceID + "?done=role"); !strings.Contains(p.Body, "The role is changed.") {
		t.Error("no notice after the role change")
	}
	if p := act("role", url.Values{"role": {"emperor"}}); p.Code != http.StatusUnprocessableEntity || role() != community.RoleModerator {
		t.Errorf("an unknown role: %d, role %s", p.Code, role())
	}
	if p := b.post("/admin/people/"+community.FormatID(admin.Account.ID)+"/role", url.Values{"csrf": {csrf}, "role": {"user"}}); p.Code != http.StatusForbidden {
		t.Errorf("an admin demoting themselves: %d", p.Code)
	}
	done(act("role", url.Values{"role": {"user"}}), "role")

	// Suspending ends alice's web session at once; unsuspending lets her back in.
	session := newBrowser(t, inst)
	session.signIn("alice")
	done(act("suspend", url.Values{"text": {"leaked secrets"}}), "suspend")
	if p := session.get("/settings"); p.Code != http.StatusSeeOther {
		t.Fatalf("a suspended person's session still opens settings: %d", p.Code)
	}
	view, err := inst.Community.AdminAccount(ctx, admin.Account, alice.Account.ID)
	if err != nil || !view.Sanction.Suspended {
		t.Fatalf("alice is not suspended (%v)", err)
	}
	if p := b.get("/admin/people/" + aliceID); !strings.Contains(p.Body, "Lift the suspension") {
		t.Error("a suspended person's page offers no way to lift the suspension")
	}
	done(act("unsuspend", url.Values{}), "unsuspend")
	session = newBrowser(t, inst)
	session.signIn("alice")

	// What moderators did from a report is undone here too.
	for _, kind := range []community.AccountActionType{community.AccountActionSilence, community.AccountActionDisable} {
		if _, err := inst.Community.ActOnAccount(ctx, admin.Account, alice.Account.ID, community.AccountAction{Type: kind}); err != nil {
			t.Fatal(err)
		}
	}
	if p := b.get("/admin/people/" + aliceID); !strings.Contains(p.Body, "Lift the limit") || !strings.Contains(p.Body, "Enable sign-in") {
		t.Errorf("a limited, disabled person's page:\n%s", p.Body)
	}
	done(act("unsilence", url.Values{}), "unsilence")
	done(act("enable", url.Values{}), "enable")
	view, err = inst.Community.AdminAccount(ctx, admin.Account, alice.Account.ID)
	if err != nil || view.Sanction.Silenced || view.User.Disabled {
		t.Fatalf("alice after lifting the limit and enabling: %+v %v", view.Sanction, err)
	}
	session = newBrowser(t, inst)
	session.signIn("alice")

	// A new password works and ends the sessions made with the old one.
	if p := act("password", url.Values{"password": {"short"}}); p.Code != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "too short") {
		t.Errorf("a too short password: %d", p.Code)
	}
	done(act("password", url.Values{"password": {"a brand new passphrase"}}), "password")
	if p := session.get("/settings"); p.Code != http.StatusSeeOther {
		t.Fatalf("the session made with the old password still opens settings: %d", p.Code)
	}
	if _, _, err := inst.Community.Authenticate(ctx, "alice", "a brand new passphrase"); err != nil {
		t.Fatalf("the new password: %v", err)
	}

	log, err := inst.Community.ModerationLog(ctx, admin.Account, community.ModerationLogQuery{ObjectURI: alice.Account.URI})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
		if strings.Contains(e.Detail+e.Reason, "passphrase") {
			t.Errorf("the audit log holds the password: %+v", e)
		}
	}
	if got := strings.Join(actions, " "); got != "reset_password enable unsilence disable silence unsuspend suspend set_role set_role" {
		t.Errorf("audit log of alice: %s", got)
	}
}

// TestAdminDomains: an admin adds and removes a domain block and a domain allow.
// An admin sees how each person signs in: alice with a password; a person the
// company's directory provisioned, through its provider.
func TestAdminPersonSignInMethods(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	ctx := context.Background()
	inst.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	aliceID := community.FormatID(alice.Account.ID)
	b := newBrowser(t, inst)
	b.signIn("admin")
	if p := b.get("/admin/people/" + aliceID); !strings.Contains(p.Body, "A password") || strings.Contains(p.Body, "The company&#39;s sign-in") {
		t.Errorf("alice's sign-in methods:\n%s", p.Body)
	}
	gail, err := inst.Community.Provisioning(community.ProvisioningOptions{}).CreateUser(ctx, "scim:test",
		community.UserProvision{UserName: "gail@corp.example", ExternalID: "00u1gail", Email: "gail@corp.example", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := inst.Community.SignInExternal(ctx, community.ExternalClaims{Issuer: "https://id.corp.example", Subject: "00u1gail", ProvisionedID: "00u1gail"}); err != nil {
		t.Fatal(err)
	}
	if p := b.get("/admin/people/" + community.FormatID(gail.AccountID)); !strings.Contains(p.Body, "https://id.corp.example") ||
		!strings.Contains(p.Body, "gail@corp.example</span>") || strings.Contains(p.Body, "A password") {
		t.Errorf("a provisioned person's sign-in methods:\n%s", p.Body)
	}
}

func TestAdminDomains(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, testAdminDomains)
}

func testAdminDomains(t *testing.T, inst *instancetest.Instance) {
	ctx := context.Background()
	admin := inst.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin})
	b := newBrowser(t, inst)
	b.signIn("admin")
	csrf := b.csrf("/admin/domains")

	p := b.post("/admin/domains/blocks", url.Values{"csrf": {csrf}, "domain": {"Spam.Example"}, "severity": {"suspend"}, "comment": {"spam wave"}})
	if p.Code != http.StatusSeeOther || p.Header.Get("Location") != "/admin/domains?done=add_blocks" {
		t.Fatalf("block: %d %q\n%s", p.Code, p.Header.Get("Location"), p.Body)
	}
	if !inst.Community.DomainBlocked("spam.example") {
		t.Fatal("the blocked domain is not blocked")
	}
	page := b.get("/admin/domains?done=add_blocks")
	if !strings.Contains(page.Body, "spam.example") || !strings.Contains(page.Body, "spam wave") || !strings.Contains(page.Body, "The domain is blocked.") {
		t.Errorf("the domains page after blocking:\n%s", page.Body)
	}
	if p := b.post("/admin/domains/blocks", url.Values{"csrf": {csrf}, "domain": {"not a domain"}, "severity": {"suspend"}}); p.Code != http.StatusUnprocessableEntity {
		t.Errorf("blocking a malformed domain: %d", p.Code)
	}
	p = b.post("/admin/domains/allows", url.Values{"csrf": {csrf}, "domain": {"friend.example"}})
	if p.Code != http.StatusSeeOther || !inst.Community.DomainAllowed("friend.example") {
		t.Fatalf("allow: %d\n%s", p.Code, p.Body)
	}

	blocks, err := inst.Community.ListDomainBlocks(ctx, admin.Account, community.Page{})
	if err != nil || len(blocks) != 1 {
		t.Fatalf("blocks: %v %v", blocks, err)
	}
	allows, err := inst.Community.ListDomainAllows(ctx, admin.Account, community.Page{})
	if err != nil || len(allows) != 1 {
		t.Fatalf("allows: %v %v", allows, err)
	}
	if p := b.post("/admin/domains/blocks/"+community.FormatID(blocks[0].ID)+"/delete", url.Values{"csrf": {csrf}}); p.Code != http.StatusSeeOther {
		t.Fatalf("unblock: %d\n%s", p.Code, p.Body)
	}
	if p := b.post("/admin/domains/allows/"+community.FormatID(allows[0].ID)+"/delete", url.Values{"csrf": {csrf}}); p.Code != http.StatusSeeOther {
		t.Fatalf("disallow: %d\n%s", p.Code, p.Body)
	}
	if inst.Community.DomainBlocked("spam.example") || inst.Community.DomainAllowed("friend.example") {
		t.Error("the removed rules still apply")
	}
	if p := b.get("/admin/domains"); !strings.Contains(p.Body, "No domain is blocked.") || !strings.Contains(p.Body, "No domain is allowed.") {
		t.Errorf("the domains page after removing both:\n%s", p.Body)
	}
	log, err := inst.Community.ModerationLog(ctx, admin.Account, community.ModerationLogQuery{})
	if err != nil || len(log) != 4 {
		t.Errorf("audit log of the domain rules: %d entries (%v)", len(log), err)
	}
}

// TestAdminDeadDeliveries: the federation page shows a peer that refuses deliveries;
// an admin sends a dead delivery again and discards another.
func TestAdminDeadDeliveries(t *testing.T) {
	eachDatabase(t, testAdminDeadDeliveries)
}

func testAdminDeadDeliveries(t *testing.T, opts instancetest.Options) {
	ctx := context.Background()
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "gone", http.StatusGone)
	}))
	t.Cleanup(refusing.Close)
	peer := strings.TrimPrefix(refusing.URL, "http://")
	opts.Configure = func(c *config.Config) { c.Federation.Peers = []string{peer} }
	inst := instancetest.Start(t, opts)
	inst.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin})

	// Two deliveries the queue gave up on, as the queue's own tests make them.
	dead := func(id int64, activity string) {
		t.Helper()
		payload, _ := json.Marshal(map[string]any{"inbox": refusing.URL + "/inbox",
			"activity": json.RawMessage(`{"id":"` + inst.URL + `/activities/` + activity + `","type":"Create"}`)})
		now := time.Now().UTC().Truncate(time.Microsecond)
		if err := inst.DB.Create(&queue.DeadLetter{ID: id, Kind: "deliver", Host: peer, Payload: string(payload),
			Attempts: 1, Reason: queue.ReasonPermanent, LastError: "peer answered 410 Gone", CreatedAt: now, DiedAt: now}).Error; err != nil {
			t.Fatal(err)
		}
	}
	retryID, discardID := community.NewID(), community.NewID()
	dead(retryID, "first")
	dead(discardID, "second")

	b := newBrowser(t, inst)
	b.signIn("admin")
	fed := b.get("/admin/federation")
	for _, want := range []string{peer, "2 given up: review", "Not tried since the server started"} {
		if !strings.Contains(fed.Body, want) {
			t.Errorf("the federation page lacks %q:\n%s", want, fed.Body)
		}
	}
	list := b.get("/admin/federation/dead?host=" + url.QueryEscape(peer))
	for _, want := range []string{"/activities/first", "/activities/second", "Refused by the other instance", "peer answered 410 Gone", "Send again", "Discard"} {
		if !strings.Contains(list.Body, want) {
			t.Errorf("the dead deliveries page lacks %q:\n%s", want, list.Body)
		}
	}
	csrf := b.csrf("/admin/federation/dead?host=" + url.QueryEscape(peer))
	deadIDs := func() map[int64]bool {
		t.Helper()
		var rows []queue.DeadLetter
		if err := inst.DB.WithContext(ctx).Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		out := map[int64]bool{}
		for _, r := range rows {
			out[r.ID] = true
		}
		return out
	}

	// Another host's id is ignored: the form names the host it acts on.
	if p := b.post("/admin/federation/dead/discard", url.Values{"csrf": {csrf}, "host": {"elsewhere.example"},
		"ids": {community.FormatID(discardID)}}); p.Code != http.StatusSeeOther || !deadIDs()[discardID] {
		t.Fatalf("discarding under another host: %d, still dead %v", p.Code, deadIDs()[discardID])
	}

	p := b.post("/admin/federation/dead/retry", url.Values{"csrf": {csrf}, "host": {peer}, "ids": {community.FormatID(retryID)}})
	if p.Code != http.StatusSeeOther || !strings.Contains(p.Header.Get("Location"), "done=retry") {
		t.Fatalf("retry: %d %q\n%s", p.Code, p.Header.Get("Location"), p.Body)
	}
	if p := b.get(p.Header.Get("Location")); !strings.Contains(p.Body, "1 queued to be sent again.") {
		t.Errorf("no notice after the retry:\n%s", p.Body)
	}
	// The peer refuses it again, so it may be back among the dead by now; what matters
	// is that it went through the queue: it was delivered (and refused) once more.
	var again queue.DeadLetter
	waitUntil(t, "the retried delivery to be tried again", func() bool {
		var job int64
		inst.DB.Model(&queue.Job{}).Where("id = ?", retryID).Count(&job)
		err := inst.DB.Where("id = ?", retryID).Take(&again).Error
		return job == 0 && err == nil && again.DiedAt.After(again.CreatedAt)
	})

	p = b.post("/admin/federation/dead/discard", url.Values{"csrf": {csrf}, "host": {peer}, "ids": {community.FormatID(discardID)}})
	if p.Code != http.StatusSeeOther {
		t.Fatalf("discard: %d\n%s", p.Code, p.Body)
	}
	if deadIDs()[discardID] {
		t.Fatal("the discarded delivery is still dead")
	}
	var jobs int64
	inst.DB.Model(&queue.Job{}).Where("id = ?", discardID).Count(&jobs)
	if jobs != 0 {
		t.Fatal("the discarded delivery was queued")
	}

	// The peer answered (with a refusal), so it counts as reachable now.
	if p := b.get("/admin/federation"); !strings.Contains(p.Body, "state-ok") {
		t.Errorf("the federation page after the peer answered:\n%s", p.Body)
	}
}

// waitUntil polls cond for a few seconds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestAdminInstancePage: the instance's settings are shown, those of the configuration
// file only with where to change them.
func TestAdminInstancePage(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) { c.InstanceName = "Research" }})
	inst.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin})
	b := newBrowser(t, inst)
	b.signIn("admin")
	p := b.get("/admin/instance")
	for _, want := range []string{"Research", "configuration file", "Everyone in the company, all departments"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the instance page lacks %q:\n%s", want, p.Body)
		}
	}
}
