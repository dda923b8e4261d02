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

func TestAdminAPI(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		mod := inst.CreateUser(t, "mod", instancetest.UserOptions{Role: community.RoleModerator, Scopes: staffScopes})
		admin := inst.CreateUser(t, "boss", instancetest.UserOptions{Role: community.RoleAdmin, Scopes: staffScopes})
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{Scopes: staffScopes})
		mallory := inst.CreateUser(t, "mallory", instancetest.UserOptions{})
		plain := inst.CreateUser(t, "plain", instancetest.UserOptions{Role: community.RoleModerator})

		// Role and scope both guard the admin API.
		if a := inst.Call(t, http.MethodGet, "/api/v1/admin/reports", alice.Token, nil); a.Code != http.StatusForbidden {
			t.Errorf("a user listing reports: HTTP %d", a.Code)
		}
		if a := inst.Call(t, http.MethodGet, "/api/v1/admin/reports", plain.Token, nil); a.Code != http.StatusForbidden ||
			!strings.Contains(a.ErrorText(), "scopes") {
			t.Errorf("a moderator's token without admin scopes: HTTP %d %s", a.Code, a.Body)
		}

		// A report through go-mastodon, then the moderators' queue.
		spam := inst.PostStatus(t, mallory.Token, url.Values{"status": {"Cheap watches"}})
		filed, err := inst.Client(alice.Token).Report(ctx, mastodon.ID(community.FormatID(mallory.Account.ID)),
			[]mastodon.ID{mastodon.ID(spam.ID)}, "Spam")
		if err != nil {
			t.Fatal(err)
		}
		if a := inst.Call(t, http.MethodPost, "/api/v1/reports", alice.Token, url.Values{
			"account_id": {community.FormatID(mallory.Account.ID)}, "status_ids[]": {spam.ID}, "category": {"nonsense"},
		}); a.Code != http.StatusUnprocessableEntity {
			t.Errorf("a report with an unknown category: HTTP %d", a.Code)
		}
		var reports []adminReportJSON
		inst.Call(t, http.MethodGet, "/api/v1/admin/reports", mod.Token, nil).Decode(t, http.StatusOK, &reports)
		if len(reports) != 1 || reports[0].ID != string(filed.ID) || reports[0].TargetAccount.Username != "mallory" ||
			len(reports[0].Statuses) != 1 || reports[0].Statuses[0].ID != spam.ID || reports[0].Comment != "Spam" {
			t.Fatalf("open reports: %+v", reports)
		}
		var r adminReportJSON
		inst.Call(t, http.MethodPost, "/api/v1/admin/reports/"+reports[0].ID+"/assign_to_self", mod.Token, nil).Decode(t, http.StatusOK, &r)
		if r.AssignedAccount == nil || r.AssignedAccount.Username != "mod" {
			t.Errorf("assigned report: %+v", r)
		}

		// Silencing mallory, with the report: resolved, and her posts leave the public
		// timeline, where they were (the control of the check below).
		if !inPublicTimeline(t, inst, alice.Token, spam.ID) {
			t.Fatal("mallory's post is not in the public timeline before she is silenced")
		}
		inst.Call(t, http.MethodPost, "/api/v1/admin/accounts/"+community.FormatID(mallory.Account.ID)+"/action",
			mod.Token, url.Values{"type": {"silence"}, "report_id": {r.ID}, "text": {"Spam"}}).Decode(t, http.StatusOK, nil)
		inst.Call(t, http.MethodGet, "/api/v1/admin/reports/"+r.ID, mod.Token, nil).Decode(t, http.StatusOK, &r)
		if !r.ActionTaken {
			t.Error("the report was not resolved by the action")
		}
		inst.Call(t, http.MethodGet, "/api/v1/admin/reports?resolved=true", mod.Token, nil).Decode(t, http.StatusOK, &reports)
		if len(reports) != 1 {
			t.Errorf("resolved reports = %d, want 1", len(reports))
		}
		inst.Call(t, http.MethodPost, "/api/v1/admin/reports/"+r.ID+"/reopen", mod.Token, nil).Decode(t, http.StatusOK, &r)
		if r.ActionTaken {
			t.Error("reopen did not reopen")
		}
		if inPublicTimeline(t, inst, alice.Token, spam.ID) {
			t.Error("a silenced account's post is in the public timeline")
		}
		// Silenced is not suspended: her post is still there to read.
		if _, err := inst.Client(alice.Token).GetStatus(ctx, mastodon.ID(spam.ID)); err != nil {
			t.Errorf("a silenced account's post cannot be read: %v", err)
		}
		var acct adminAccountJSON
		inst.Call(t, http.MethodGet, "/api/v1/admin/accounts/"+community.FormatID(mallory.Account.ID), mod.Token, nil).Decode(t, http.StatusOK, &acct)
		if !acct.Silenced || acct.Suspended || acct.Email == nil || *acct.Email != "mallory@example.com" {
			t.Errorf("mallory as admins see her: %+v", acct)
		}
		var silenced []adminAccountJSON
		inst.Call(t, http.MethodGet, "/api/v1/admin/accounts?silenced=true", mod.Token, nil).Decode(t, http.StatusOK, &silenced)
		if len(silenced) != 1 || silenced[0].Username != "mallory" {
			t.Errorf("silenced accounts: %+v", silenced)
		}
		inst.Call(t, http.MethodGet, "/api/v2/admin/accounts?origin=local&permissions=staff", mod.Token, nil).Decode(t, http.StatusOK, &silenced)
		if len(silenced) != 3 {
			t.Errorf("staff accounts: %+v", silenced)
		}

		// Suspension hides her posts and ends her login; moderators cannot act on admins.
		inst.Call(t, http.MethodPost, "/api/v1/admin/accounts/"+community.FormatID(mallory.Account.ID)+"/action",
			mod.Token, url.Values{"type": {"suspend"}}).Decode(t, http.StatusOK, nil)
		if _, err := inst.Client(alice.Token).GetStatus(ctx, mastodon.ID(spam.ID)); !isStatus(err, http.StatusNotFound) {
			t.Errorf("a suspended account's post: %v, want 404", err)
		}
		if a := inst.Call(t, http.MethodGet, "/api/v1/accounts/"+community.FormatID(mallory.Account.ID), alice.Token, nil); a.Code != http.StatusNotFound {
			t.Errorf("a suspended account's profile: HTTP %d, want 404", a.Code)
		}
		if a := inst.Call(t, http.MethodGet, "/api/v1/accounts/verify_credentials", mallory.Token, nil); a.Code != http.StatusForbidden {
			t.Errorf("a suspended account's token: HTTP %d", a.Code)
		}
		if a := inst.Call(t, http.MethodPost, "/api/v1/admin/accounts/"+community.FormatID(admin.Account.ID)+"/action",
			mod.Token, url.Values{"type": {"suspend"}}); a.Code != http.StatusForbidden {
			t.Errorf("a moderator suspending an admin: HTTP %d", a.Code)
		}
		inst.Call(t, http.MethodPost, "/api/v1/admin/accounts/"+community.FormatID(mallory.Account.ID)+"/unsuspend",
			mod.Token, nil).Decode(t, http.StatusOK, &acct)
		if acct.Suspended || acct.Disabled {
			t.Errorf("after unsuspend: %+v", acct)
		}
		if _, err := inst.Client(alice.Token).GetStatus(ctx, mastodon.ID(spam.ID)); err != nil {
			t.Errorf("the post after unsuspend: %v", err)
		}

		// Domain blocks and allows: create, read, update, list, delete.
		var block struct {
			ID             string  `json:"id"`
			Domain         string  `json:"domain"`
			Severity       string  `json:"severity"`
			RejectReports  bool    `json:"reject_reports"`
			PrivateComment *string `json:"private_comment"`
		}
		inst.Call(t, http.MethodPost, "/api/v1/admin/domain_blocks", admin.Token, url.Values{
			"domain": {"Spam.Example"}, "severity": {"silence"}, "private_comment": {"spam"}}).Decode(t, http.StatusOK, &block)
		if block.Domain != "spam.example" || block.Severity != "silence" || block.PrivateComment == nil {
			t.Errorf("domain block: %+v", block)
		}
		if a := inst.Call(t, http.MethodPost, "/api/v1/admin/domain_blocks", admin.Token, url.Values{"domain": {"spam.example"}}); a.Code != http.StatusUnprocessableEntity {
			t.Errorf("blocking a domain twice: HTTP %d", a.Code)
		}
		if a := inst.Call(t, http.MethodPost, "/api/v1/admin/domain_blocks", admin.Token, url.Values{"domain": {"not a domain"}}); a.Code != http.StatusUnprocessableEntity {
			t.Errorf("blocking nonsense: HTTP %d", a.Code)
		}
		inst.Call(t, http.MethodPut, "/api/v1/admin/domain_blocks/"+block.ID, admin.Token, url.Values{
			"severity": {"suspend"}, "reject_reports": {"true"}}).Decode(t, http.StatusOK, &block)
		if block.Severity != "suspend" || !block.RejectReports {
			t.Errorf("updated domain block: %+v", block)
		}
		if !inst.Community.DomainBlocked("a.spam.example") {
			t.Error("a subdomain of a suspended domain is not blocked")
		}
		var blocks []struct {
			Domain string `json:"domain"`
		}
		inst.Call(t, http.MethodGet, "/api/v1/admin/domain_blocks", mod.Token, nil).Decode(t, http.StatusOK, &blocks)
		if len(blocks) != 1 {
			t.Errorf("domain blocks: %+v", blocks)
		}
		inst.Call(t, http.MethodDelete, "/api/v1/admin/domain_blocks/"+block.ID, admin.Token, nil).Decode(t, http.StatusOK, nil)
		if inst.Community.DomainBlocked("spam.example") {
			t.Error("the block holds after its deletion")
		}
		var allow struct {
			ID     string `json:"id"`
			Domain string `json:"domain"`
		}
		inst.Call(t, http.MethodPost, "/api/v1/admin/domain_allows", admin.Token, url.Values{"domain": {"partner.example"}}).Decode(t, http.StatusOK, &allow)
		if !inst.Community.DomainAllowed("partner.example") {
			t.Error("an allowed domain is not allowed")
		}
		inst.Call(t, http.MethodGet, "/api/v1/admin/domain_allows/"+allow.ID, mod.Token, nil).Decode(t, http.StatusOK, &allow)
		inst.Call(t, http.MethodDelete, "/api/v1/admin/domain_allows/"+allow.ID, admin.Token, nil).Decode(t, http.StatusOK, nil)
		if inst.Community.DomainAllowed("partner.example") {
			t.Error("the allow holds after its deletion")
		}

		// All of it is in the audit log.
		var log []struct {
			Action string `json:"action"`
		}
		inst.Call(t, http.MethodGet, "/api/v1/tacit/moderation/log?limit=40", admin.Token, nil).Decode(t, http.StatusOK, &log)
		var actions []string
		for _, e := range log {
			actions = append(actions, e.Action)
		}
		want := "disallow_domain allow_domain unblock_domain update_domain_block block_domain unsuspend suspend reopen_report resolve_report silence assign_report"
		if strings.Join(actions, " ") != want {
			t.Errorf("log = %q\nwant %q", strings.Join(actions, " "), want)
		}
	})
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
