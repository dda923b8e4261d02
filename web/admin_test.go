package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
)

var staffScopes = []string{"read", "write", "follow", "push", "admin:read", "admin:write"}

type adminAccountJSON struct {
	ID        string  `json:"id"`
	Username  string  `json:"username"`
	Email     *string `json:"email"`
	Silenced  bool    `json:"silenced"`
	Suspended bool    `json:"suspended"`
	Disabled  bool    `json:"disabled"`
	Role      struct {
		Name string `json:"name"`
	} `json:"role"`
}

type adminReportJSON struct {
	ID              string `json:"id"`
	ActionTaken     bool   `json:"action_taken"`
	Comment         string `json:"comment"`
	Category        string `json:"category"`
	AssignedAccount *struct {
		Username string `json:"username"`
	} `json:"assigned_account"`
	TargetAccount struct {
		Username string `json:"username"`
	} `json:"target_account"`
	Statuses []struct {
		ID string `json:"id"`
	} `json:"statuses"`
}

// adminStory is what TestAdminAPI's steps share: staff, alice who reports mallory's
// spam, and the report and account as the admin API last answered them.
type adminStory struct {
	ctx                               context.Context
	inst                              *instancetest.Instance
	mod, admin, alice, mallory, plain *instancetest.User
	spam                              instancetest.PostedStatus
	r                                 adminReportJSON
	acct                              adminAccountJSON
}

func TestAdminAPI(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		mod := inst.CreateUser(t, "mod", instancetest.UserOptions{Role: community.RoleModerator, Scopes: staffScopes})
		admin := inst.CreateUser(t, "boss", instancetest.UserOptions{Role: community.RoleAdmin, Scopes: staffScopes})
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{Scopes: staffScopes})
		mallory := inst.CreateUser(t, "mallory", instancetest.UserOptions{})
		plain := inst.CreateUser(t, "plain", instancetest.UserOptions{Role: community.RoleModerator})
		w := &adminStory{ctx: ctx, inst: inst, mod: mod, admin: admin, alice: alice, mallory: mallory, plain: plain}
		w.guards(t)
		w.report(t)
		w.silence(t)
		w.suspend(t)
		w.domains(t)
		w.auditLog(t)
	})
}

// Role and scope both guard the admin API.
func (w *adminStory) guards(t *testing.T) {
	if a := w.inst.Call(t, http.MethodGet, "/api/v1/admin/reports", w.alice.Token, nil); a.Code != http.StatusForbidden {
		t.Errorf("a user listing reports: HTTP %d", a.Code)
	}
	if a := w.inst.Call(t, http.MethodGet, "/api/v1/admin/reports", w.plain.Token, nil); a.Code != http.StatusForbidden ||
		!strings.Contains(a.ErrorText(), "scopes") {
		t.Errorf("a moderator's token without admin scopes: HTTP %d %s", a.Code, a.Body)
	}
}

// A report through go-mastodon, then the moderators' queue.
func (w *adminStory) report(t *testing.T) {
	w.spam = w.inst.PostStatus(t, w.mallory.Token, url.Values{"status": {"Cheap watches"}})
	filed, err := w.inst.Client(w.alice.Token).Report(w.ctx, mastodon.ID(community.FormatID(w.mallory.Account.ID)),
		[]mastodon.ID{mastodon.ID(w.spam.ID)}, "Spam")
	if err != nil {
		t.Fatal(err)
	}
	if a := w.inst.Call(t, http.MethodPost, "/api/v1/reports", w.alice.Token, url.Values{
		"account_id": {community.FormatID(w.mallory.Account.ID)}, "status_ids[]": {w.spam.ID}, "category": {"nonsense"},
	}); a.Code != http.StatusUnprocessableEntity {
		t.Errorf("a report with an unknown category: HTTP %d", a.Code)
	}
	var reports []adminReportJSON
	w.inst.Call(t, http.MethodGet, "/api/v1/admin/reports", w.mod.Token, nil).Decode(t, http.StatusOK, &reports)
	if len(reports) != 1 || reports[0].ID != string(filed.ID) || reports[0].TargetAccount.Username != "mallory" ||
		len(reports[0].Statuses) != 1 || reports[0].Statuses[0].ID != w.spam.ID || reports[0].Comment != "Spam" {
		t.Fatalf("open reports: %+v", reports)
	}
	w.inst.Call(t, http.MethodPost, "/api/v1/admin/reports/"+reports[0].ID+"/assign_to_self", w.mod.Token, nil).Decode(t, http.StatusOK, &w.r)
	if w.r.AssignedAccount == nil || w.r.AssignedAccount.Username != "mod" {
		t.Errorf("assigned report: %+v", w.r)
	}
}

// Silencing mallory, with the report: resolved, and her posts leave the public
// timeline, where they were (the control of the check below).
func (w *adminStory) silence(t *testing.T) {
	if !inPublicTimeline(t, w.inst, w.alice.Token, w.spam.ID) {
		t.Fatal("mallory's post is not in the public timeline before she is silenced")
	}
	w.inst.Call(t, http.MethodPost, "/api/v1/admin/accounts/"+community.FormatID(w.mallory.Account.ID)+"/action",
		w.mod.Token, url.Values{"type": {"silence"}, "report_id": {w.r.ID}, "text": {"Spam"}}).Decode(t, http.StatusOK, nil)
	w.inst.Call(t, http.MethodGet, "/api/v1/admin/reports/"+w.r.ID, w.mod.Token, nil).Decode(t, http.StatusOK, &w.r)
	if !w.r.ActionTaken {
		t.Error("the report was not resolved by the action")
	}
	var reports []adminReportJSON
	w.inst.Call(t, http.MethodGet, "/api/v1/admin/reports?resolved=true", w.mod.Token, nil).Decode(t, http.StatusOK, &reports)
	if len(reports) != 1 {
		t.Errorf("resolved reports = %d, want 1", len(reports))
	}
	w.inst.Call(t, http.MethodPost, "/api/v1/admin/reports/"+w.r.ID+"/reopen", w.mod.Token, nil).Decode(t, http.StatusOK, &w.r)
	if w.r.ActionTaken {
		t.Error("reopen did not reopen")
	}
	if inPublicTimeline(t, w.inst, w.alice.Token, w.spam.ID) {
		t.Error("a silenced account's post is in the public timeline")
	}
	// Silenced is not suspended: her post is still there to read.
	if _, err := w.inst.Client(w.alice.Token).GetStatus(w.ctx, mastodon.ID(w.spam.ID)); err != nil {
		t.Errorf("a silenced account's post cannot be read: %v", err)
	}
	w.inst.Call(t, http.MethodGet, "/api/v1/admin/accounts/"+community.FormatID(w.mallory.Account.ID), w.mod.Token, nil).Decode(t, http.StatusOK, &w.acct)
	if !w.acct.Silenced || w.acct.Suspended || w.acct.Email == nil || *w.acct.Email != "mallory@example.com" {
		t.Errorf("mallory as admins see her: %+v", w.acct)
	}
	var silenced []adminAccountJSON
	w.inst.Call(t, http.MethodGet, "/api/v1/admin/accounts?silenced=true", w.mod.Token, nil).Decode(t, http.StatusOK, &silenced)
	if len(silenced) != 1 || silenced[0].Username != "mallory" {
		t.Errorf("silenced accounts: %+v", silenced)
	}
	w.inst.Call(t, http.MethodGet, "/api/v2/admin/accounts?origin=local&permissions=staff", w.mod.Token, nil).Decode(t, http.StatusOK, &silenced)
	if len(silenced) != 3 {
		t.Errorf("staff accounts: %+v", silenced)
	}
}

// Suspension hides her posts and ends her login; moderators cannot act on admins.
func (w *adminStory) suspend(t *testing.T) {
	w.inst.Call(t, http.MethodPost, "/api/v1/admin/accounts/"+community.FormatID(w.mallory.Account.ID)+"/action",
		w.mod.Token, url.Values{"type": {"suspend"}}).Decode(t, http.StatusOK, nil)
	if _, err := w.inst.Client(w.alice.Token).GetStatus(w.ctx, mastodon.ID(w.spam.ID)); !isStatus(err, http.StatusNotFound) {
		t.Errorf("a suspended account's post: %v, want 404", err)
	}
	if a := w.inst.Call(t, http.MethodGet, "/api/v1/accounts/"+community.FormatID(w.mallory.Account.ID), w.alice.Token, nil); a.Code != http.StatusNotFound {
		t.Errorf("a suspended account's profile: HTTP %d, want 404", a.Code)
	}
	if a := w.inst.Call(t, http.MethodGet, "/api/v1/accounts/verify_credentials", w.mallory.Token, nil); a.Code != http.StatusForbidden {
		t.Errorf("a suspended account's token: HTTP %d", a.Code)
	}
	if a := w.inst.Call(t, http.MethodPost, "/api/v1/admin/accounts/"+community.FormatID(w.admin.Account.ID)+"/action",
		w.mod.Token, url.Values{"type": {"suspend"}}); a.Code != http.StatusForbidden {
		t.Errorf("a moderator suspending an admin: HTTP %d", a.Code)
	}
	w.inst.Call(t, http.MethodPost, "/api/v1/admin/accounts/"+community.FormatID(w.mallory.Account.ID)+"/unsuspend",
		w.mod.Token, nil).Decode(t, http.StatusOK, &w.acct)
	if w.acct.Suspended || w.acct.Disabled {
		t.Errorf("after unsuspend: %+v", w.acct)
	}
	if _, err := w.inst.Client(w.alice.Token).GetStatus(w.ctx, mastodon.ID(w.spam.ID)); err != nil {
		t.Errorf("the post after unsuspend: %v", err)
	}
}

// Domain blocks and allows: create, read, update, list, delete.
func (w *adminStory) domains(t *testing.T) {
	var block struct {
		ID             string  `json:"id"`
		Domain         string  `json:"domain"`
		Severity       string  `json:"severity"`
		RejectReports  bool    `json:"reject_reports"`
		PrivateComment *string `json:"private_comment"`
	}
	w.inst.Call(t, http.MethodPost, "/api/v1/admin/domain_blocks", w.admin.Token, url.Values{
		"domain": {"Spam.Example"}, "severity": {"silence"}, "private_comment": {"spam"}}).Decode(t, http.StatusOK, &block)
	if block.Domain != "spam.example" || block.Severity != "silence" || block.PrivateComment == nil {
		t.Errorf("domain block: %+v", block)
	}
	if a := w.inst.Call(t, http.MethodPost, "/api/v1/admin/domain_blocks", w.admin.Token, url.Values{"domain": {"spam.example"}}); a.Code != http.StatusUnprocessableEntity {
		t.Errorf("blocking a domain twice: HTTP %d", a.Code)
	}
	if a := w.inst.Call(t, http.MethodPost, "/api/v1/admin/domain_blocks", w.admin.Token, url.Values{"domain": {"not a domain"}}); a.Code != http.StatusUnprocessableEntity {
		t.Errorf("blocking nonsense: HTTP %d", a.Code)
	}
	w.inst.Call(t, http.MethodPut, "/api/v1/admin/domain_blocks/"+block.ID, w.admin.Token, url.Values{
		"severity": {"suspend"}, "reject_reports": {"true"}}).Decode(t, http.StatusOK, &block)
	if block.Severity != "suspend" || !block.RejectReports {
		t.Errorf("updated domain block: %+v", block)
	}
	if !w.inst.Community.DomainBlocked("a.spam.example") {
		t.Error("a subdomain of a suspended domain is not blocked")
	}
	var blocks []struct {
		Domain string `json:"domain"`
	}
	w.inst.Call(t, http.MethodGet, "/api/v1/admin/domain_blocks", w.mod.Token, nil).Decode(t, http.StatusOK, &blocks)
	if len(blocks) != 1 {
		t.Errorf("domain blocks: %+v", blocks)
	}
	w.inst.Call(t, http.MethodDelete, "/api/v1/admin/domain_blocks/"+block.ID, w.admin.Token, nil).Decode(t, http.StatusOK, nil)
	if w.inst.Community.DomainBlocked("spam.example") {
		t.Error("the block holds after its deletion")
	}
	var allow struct {
		ID     string `json:"id"`
		Domain string `json:"domain"`
	}
	w.inst.Call(t, http.MethodPost, "/api/v1/admin/domain_allows", w.admin.Token, url.Values{"domain": {"partner.example"}}).Decode(t, http.StatusOK, &allow)
	if !w.inst.Community.DomainAllowed("partner.example") {
		t.Error("an allowed domain is not allowed")
	}
	w.inst.Call(t, http.MethodGet, "/api/v1/admin/domain_allows/"+allow.ID, w.mod.Token, nil).Decode(t, http.StatusOK, &allow)
	w.inst.Call(t, http.MethodDelete, "/api/v1/admin/domain_allows/"+allow.ID, w.admin.Token, nil).Decode(t, http.StatusOK, nil)
	if w.inst.Community.DomainAllowed("partner.example") {
		t.Error("the allow holds after its deletion")
	}
}

// All of it is in the audit log.
func (w *adminStory) auditLog(t *testing.T) {
	var log []struct {
		Action string `json:"action"`
	}
	w.inst.Call(t, http.MethodGet, "/api/v1/tacit/moderation/log?limit=40", w.admin.Token, nil).Decode(t, http.StatusOK, &log)
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
	}
	want := "disallow_domain allow_domain unblock_domain update_domain_block block_domain unsuspend suspend reopen_report resolve_report silence assign_report"
	if strings.Join(actions, " ") != want {
		t.Errorf("log = %q\nwant %q", strings.Join(actions, " "), want)
	}
}

// inPublicTimeline reports whether the local public timeline, read with token, lists
// the status; it fails the test if the timeline cannot be read, so that "not listed"
// never stands for an error.
func inPublicTimeline(t *testing.T, inst *instancetest.Instance, token, statusID string) bool {
	t.Helper()
	list, err := inst.Client(token).GetTimelinePublic(context.Background(), true, &mastodon.Pagination{Limit: 40})
	if err != nil {
		t.Fatalf("public timeline: %v", err)
	}
	for _, st := range list {
		if string(st.ID) == statusID {
			return true
		}
	}
	return false
}
