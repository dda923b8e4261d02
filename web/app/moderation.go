package app

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// The instance's moderators' pages: the reports queue and the audit log. They read
// and act through the same domain calls as the API's /api/v1/admin/reports and
// /api/v1/tacit/moderation_log, which refuse anyone but the instance's moderators and
// admins; the pages answer those with 403, as the API does.

func (a *App) mountModeration(e *gin.Engine) {
	e.GET("/moderation", a.page(a.signedIn(a.staffOnly(a.reportsPage))))
	e.POST("/moderation/reports/:id/:action", a.form(a.signedIn(a.staffOnly(a.reportAction))))
	e.GET("/moderation/log", a.page(a.signedIn(a.staffOnly(a.auditLogPage))))
	e.POST("/moderation/signups/:id/:action", a.form(a.signedIn(a.staffOnly(a.signupAction))))
}

// signupAction is POST /moderation/signups/:id/approve or /reject: moderators decide on
// sign-ups from their own page, since the admin pages are for admins.
func (a *App) signupAction(c *gin.Context, s *session) {
	id, ok := community.ParseID(c.Param("id"))
	action := c.Param("action")
	if !ok || (action != "approve" && action != "reject") {
		a.notFound(c, s)
		return
	}
	a.decidePending(c, s, id, action, "/moderation")
}

// staffOnly lets only the instance's moderators and admins in: the domain's own
// check (community.Service.IsStaff), which every call the pages make repeats.
func (a *App) staffOnly(h handler) handler {
	return func(c *gin.Context, s *session) {
		ok, err := a.community.IsStaff(c.Request.Context(), s.account)
		if err != nil {
			a.fail(c, s, err)
			return
		}
		if !ok {
			a.renderError(c, s, http.StatusForbidden, "moderation.staff_only")
			return
		}
		h(c, s)
	}
}

// reportView is one report as the queue shows it.
type reportView struct {
	ID          string
	Target      accountView
	Reporter    *accountView
	Origin      string // the instance that forwarded it, "" when filed here
	Forwarded   bool
	Category    string
	Comment     string
	CreatedText string
	CreatedISO  string
	Assigned    *accountView
	AssignedMe  bool
	Resolved    bool
	ResolvedBy  *accountView
	Statuses    []statusView
}

type reportsPage struct {
	// Signups wait for a moderator's approval; shown above the open reports.
	Signups  signupsView
	Resolved bool
	Reports  []reportView
	Pager    pager
	Notice   string
	Actions  []choice
	CSRF     string
	Back     string
}

// resolveActions are what a moderator may do to the reported account when resolving:
// the account actions of the API's POST /api/v1/admin/accounts/:id/action.
var resolveActions = []community.AccountActionType{
	community.AccountActionNone, community.AccountActionSilence, community.AccountActionSuspend, community.AccountActionDisable,
}

// reportsPage is GET /moderation: open reports, or resolved ones with ?resolved=1.
func (a *App) reportsPage(c *gin.Context, s *session) {
	ctx := c.Request.Context()
	resolved := c.Query("resolved") == "1"
	maxID, _ := community.ParseID(c.Query("max_id"))
	reports, err := a.community.AdminReports(ctx, s.account, community.ReportQuery{
		Resolved: resolved, Page: community.Page{MaxID: maxID, Limit: pageSize},
	})
	if err != nil {
		a.fail(c, s, err)
		return
	}
	views, err := a.reportViews(c, s, reports)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	path := "/moderation"
	if resolved {
		path += "?resolved=1"
	}
	var oldest int64
	if len(reports) > 0 {
		oldest = reports[len(reports)-1].ID
	}
	p := reportsPage{Resolved: resolved, Reports: views, CSRF: s.csrf, Back: c.Request.URL.RequestURI(),
		Pager: pagerFor(path, maxID, oldest, len(reports))}
	if resolved {
		// pagerFor joins with "?"; the resolved list already has a query.
		p.Pager.Older = strings.Replace(p.Pager.Older, "?max_id=", "&max_id=", 1)
	}
	if n := c.Query("done"); n != "" {
		p.Notice = notice("moderation.done." + n)
	}
	if !resolved {
		if p.Signups, err = a.pendingSignups(c, s, "/moderation/signups"); err != nil {
			a.fail(c, s, err)
			return
		}
	}
	for _, t := range resolveActions {
		p.Actions = append(p.Actions, choice{Value: string(t), Label: T("moderation.action." + string(t)),
			Checked: t == community.AccountActionNone})
	}
	a.render(c, s, http.StatusOK, "moderation", T("moderation.heading"), "moderation", p)
}

// reportViews loads what the reports name, a few queries for the whole page, as the
// API's adminReportList does. Reported posts are shown whoever may read them:
// judging them is the moderators' job, and ReportStatuses is a moderator's read.
func (a *App) reportViews(c *gin.Context, s *session, reports []community.Report) ([]reportView, error) {
	ctx := c.Request.Context()
	var accountIDs, statusIDs []int64
	for _, r := range reports {
		accountIDs = append(accountIDs, r.AccountIDs()...)
		statusIDs = append(statusIDs, r.StatusIDs...)
	}
	accounts, err := a.community.Unchecked().AccountsByID(ctx, accountIDs)
	if err != nil {
		return nil, err
	}
	rows, err := a.community.ReportStatuses(ctx, &community.Report{StatusIDs: statusIDs})
	if err != nil {
		return nil, err
	}
	statuses, err := a.statusViews(ctx, community.Anonymous, rows, &formContext{})
	if err != nil {
		return nil, err
	}
	byID := map[string]statusView{}
	for _, v := range statuses {
		byID[v.ID] = v
	}
	ref := func(id *int64) *accountView {
		if id == nil || accounts[*id] == nil {
			return nil
		}
		v := a.accountView(accounts[*id])
		return &v
	}
	out := make([]reportView, 0, len(reports))
	for _, r := range reports {
		target := accounts[r.TargetAccountID]
		if target == nil {
			continue
		}
		v := reportView{
			ID: community.FormatID(r.ID), Target: a.accountView(target), Reporter: ref(r.AccountID),
			Origin: r.Origin, Forwarded: r.Forwarded, Category: T("moderation.category." + string(r.Category)),
			Comment: r.Comment, CreatedText: r.CreatedAt.UTC().Format(timeLayout),
			CreatedISO: r.CreatedAt.UTC().Format("2006-01-02T15:04:05Z07:00"),
			Assigned:   ref(r.AssignedAccountID), Resolved: r.ActionTaken, ResolvedBy: ref(r.ActionTakenByAccountID),
		}
		v.AssignedMe = r.AssignedAccountID != nil && *r.AssignedAccountID == s.account.ID
		for _, id := range r.StatusIDs {
			if st, ok := byID[community.FormatID(id)]; ok {
				v.Statuses = append(v.Statuses, st)
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// reportAction is POST /moderation/reports/:id/:action (assign, unassign, resolve,
// reopen). Resolving with an action on the account goes through ActOnAccount with the
// report, which resolves it in the same transaction, as the API's account action with
// report_id does.
func (a *App) reportAction(c *gin.Context, s *session) {
	ctx := c.Request.Context()
	id, ok := community.ParseID(c.Param("id"))
	if !ok {
		a.notFound(c, s)
		return
	}
	form := c.Request.PostForm
	action := c.Param("action")
	var err error
	switch action {
	case "assign":
		_, err = a.community.HandleReport(ctx, s.account, id, community.ReportAssign)
	case "unassign":
		_, err = a.community.HandleReport(ctx, s.account, id, community.ReportUnassign)
	case "reopen":
		_, err = a.community.HandleReport(ctx, s.account, id, community.ReportReopen)
	case "resolve":
		err = a.resolveReport(c, s, id, community.AccountActionType(form.Get("type")), form.Get("text"))
	default:
		a.notFound(c, s)
		return
	}
	if err != nil {
		a.fail(c, s, err)
		return
	}
	a.redirect(c, withQuery(localPath(form.Get("back")), "done", action))
}

func (a *App) resolveReport(c *gin.Context, s *session, id int64, kind community.AccountActionType, text string) error {
	ctx := c.Request.Context()
	if kind == "" || kind == community.AccountActionNone {
		_, err := a.community.HandleReport(ctx, s.account, id, community.ReportResolve)
		return err
	}
	r, err := a.community.AdminReport(ctx, s.account, id)
	if err != nil {
		return err
	}
	_, err = a.community.ActOnAccount(ctx, s.account, r.TargetAccountID, community.AccountAction{Type: kind, ReportID: id, Text: text})
	return err
}

// withQuery sets one query parameter of a local address.
func withQuery(target, key, value string) string {
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.RequestURI()
}

// logEntryView is one line of the audit log.
type logEntryView struct {
	Moderator   *accountView
	ActorURI    string
	Action      string
	Object      string
	Target      string
	Reason      string
	Detail      string
	Origin      string
	CreatedText string
	CreatedISO  string
}

type auditLogPage struct {
	Moderator string
	Action    string
	Target    string
	Actions   []choice
	Entries   []logEntryView
	Pager     pager
	Error     string
}

// logActions are the actions the audit log filter offers, in a sensible order.
var logActions = []string{
	community.ActionAssignReport, community.ActionUnassignReport, community.ActionResolveReport, community.ActionReopenReport,
	community.ActionWarn, community.ActionSilence, community.ActionUnsilence, community.ActionSuspend, community.ActionUnsuspend,
	community.ActionDisable, community.ActionEnable, community.ActionSetRole, community.ActionResetPassword,
	community.ActionBlockDomain, community.ActionUpdateBlock, community.ActionUnblockDomain,
	community.ActionAllowDomain, community.ActionDisallowDomain,
	community.ActionLock, community.ActionUnlock, community.ActionRemove, community.ActionPin, community.ActionUnpin,
	community.ActionBan, community.ActionUnban, community.ActionMove, community.ActionMerge, community.ActionStatus,
	community.ActionAddModerator, community.ActionRemoveModerator,
	community.ActionApproveAccount, community.ActionRejectAccount, community.ActionCreateInvite, community.ActionRevokeInvite,
	community.ActionLegalHold, community.ActionLegalHoldRelease, community.ActionUpdateSettings,
}

// auditLogPage is GET /moderation/log, filtered by moderator, action and target (an
// account's handle, whose entries name it as their object).
func (a *App) auditLogPage(c *gin.Context, s *session) {
	ctx := c.Request.Context()
	p := auditLogPage{
		Moderator: strings.TrimSpace(c.Query("moderator")), Action: strings.TrimSpace(c.Query("action")),
		Target: strings.TrimSpace(c.Query("target")),
	}
	p.Actions = append(p.Actions, choice{Value: "", Label: T("moderation.log.any_action"), Checked: p.Action == ""})
	for _, act := range logActions {
		p.Actions = append(p.Actions, choice{Value: act, Label: T("moderation.log.action." + act), Checked: p.Action == act})
	}
	maxID, _ := community.ParseID(c.Query("max_id"))
	q := community.ModerationLogQuery{Action: p.Action, Page: community.Page{MaxID: maxID, Limit: pageSize}}
	// Handles name accounts; one that names nobody shows an empty log with a note,
	// not the whole log.
	empty := false
	if p.Moderator != "" {
		acct, err := a.community.LookupAccount(ctx, p.Moderator)
		if err != nil {
			p.Error, empty = T("moderation.log.unknown", p.Moderator), true
		} else {
			q.ActorID = acct.ID
		}
	}
	if p.Target != "" {
		acct, err := a.community.LookupAccount(ctx, p.Target)
		if err != nil {
			p.Error, empty = T("moderation.log.unknown", p.Target), true
		} else {
			q.ObjectURI = acct.URI
		}
	}
	var entries []community.ModerationLogEntry
	if !empty {
		var err error
		if entries, err = a.community.ModerationLog(ctx, s.account, q); err != nil {
			a.fail(c, s, err)
			return
		}
	}
	var ids []int64
	for _, e := range entries {
		if e.ActorAccountID != nil {
			ids = append(ids, *e.ActorAccountID)
		}
	}
	accounts, err := a.community.Unchecked().AccountsByID(ctx, ids)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	for _, e := range entries {
		v := logEntryView{
			ActorURI: e.ActorURI, Action: T("moderation.log.action." + e.Action), Object: e.ObjectURI,
			Target: e.TargetURI, Reason: e.Reason, Detail: e.Detail, Origin: e.Origin,
			CreatedText: e.CreatedAt.UTC().Format(timeLayout), CreatedISO: e.CreatedAt.UTC().Format("2006-01-02T15:04:05Z07:00"),
		}
		if e.ActorAccountID != nil && accounts[*e.ActorAccountID] != nil {
			m := a.accountView(accounts[*e.ActorAccountID])
			v.Moderator = &m
		}
		p.Entries = append(p.Entries, v)
	}
	var oldest int64
	if len(entries) > 0 {
		oldest = entries[len(entries)-1].ID
	}
	filter := url.Values{}
	for k, v := range map[string]string{"moderator": p.Moderator, "action": p.Action, "target": p.Target} {
		if v != "" {
			filter.Set(k, v)
		}
	}
	p.Pager = pagerFor("/moderation/log", maxID, oldest, len(entries))
	if len(filter) > 0 {
		if p.Pager.Older != "" {
			p.Pager.Older += "&" + filter.Encode()
		}
		if p.Pager.Newest != "" {
			p.Pager.Newest += "?" + filter.Encode()
		}
	}
	a.render(c, s, http.StatusOK, "moderation_log", T("moderation.log.heading"), "moderation", p)
}

// notice is the text of a "done" notice named in the address after a form, or ""
// for a name that is not one (the address is anyone's to type).
func notice(key string, args ...any) string {
	if _, ok := messages[key]; !ok {
		return ""
	}
	return T(key, args...)
}

// staffLink is the navigation's one entry for the instance's staff: admins land on
// the admin pages (which link the reports), moderators on the reports. It only
// chooses a link; every page asks the domain again.
func staffLink(s *session) string {
	switch s.user.Role {
	case community.RoleAdmin:
		return "admin"
	case community.RoleModerator:
		return "moderation"
	}
	return ""
}
