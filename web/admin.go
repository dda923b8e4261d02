package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// Reports (POST /api/v1/reports) and Mastodon's admin API for the instance's
// moderators: reports, accounts, domain blocks and domain allows. Who may do what is
// the domain's decision (role moderator or admin); the scopes are Mastodon's.

// Report is Mastodon's Report entity, as the reporter sees it.
type Report struct {
	ID            string   `json:"id"`
	ActionTaken   bool     `json:"action_taken"`
	ActionTakenAt *string  `json:"action_taken_at"`
	Category      string   `json:"category"`
	Comment       string   `json:"comment"`
	Forwarded     bool     `json:"forwarded"`
	CreatedAt     string   `json:"created_at"`
	StatusIDs     []string `json:"status_ids"`
	RuleIDs       []string `json:"rule_ids"`
	TargetAccount Account  `json:"target_account"`
}

// AdminAccount is Mastodon's Admin::Account entity.
type AdminAccount struct {
	ID                     string      `json:"id"`
	Username               string      `json:"username"`
	Domain                 *string     `json:"domain"`
	CreatedAt              string      `json:"created_at"`
	Email                  *string     `json:"email"`
	IP                     *string     `json:"ip"`
	IPs                    []any       `json:"ips"`
	Locale                 string      `json:"locale"`
	InviteRequest          *string     `json:"invite_request"`
	Role                   AccountRole `json:"role"`
	Confirmed              bool        `json:"confirmed"`
	Approved               bool        `json:"approved"`
	Disabled               bool        `json:"disabled"`
	Silenced               bool        `json:"silenced"`
	Suspended              bool        `json:"suspended"`
	Sensitized             bool        `json:"sensitized"`
	Account                Account     `json:"account"`
	CreatedByApplicationID *string     `json:"created_by_application_id"`
	InvitedByAccountID     *string     `json:"invited_by_account_id"`
}

// AdminReport is Mastodon's Admin::Report entity, with where a forwarded report came
// from and the board it concerns.
type AdminReport struct {
	ID                   string        `json:"id"`
	ActionTaken          bool          `json:"action_taken"`
	ActionTakenAt        *string       `json:"action_taken_at"`
	Category             string        `json:"category"`
	Comment              string        `json:"comment"`
	Forwarded            bool          `json:"forwarded"`
	CreatedAt            string        `json:"created_at"`
	UpdatedAt            string        `json:"updated_at"`
	Account              AdminAccount  `json:"account"`
	TargetAccount        AdminAccount  `json:"target_account"`
	AssignedAccount      *AdminAccount `json:"assigned_account"`
	ActionTakenByAccount *AdminAccount `json:"action_taken_by_account"`
	Statuses             []Status      `json:"statuses"`
	Rules                []any         `json:"rules"`
	Tacit                ReportTacit   `json:"tacit"`
}

// ReportTacit carries Tacit's report fields.
type ReportTacit struct {
	// Origin is the host of the instance that forwarded the report ("" when filed here).
	Origin  string  `json:"origin"`
	BoardID *string `json:"board_id"`
}

// AdminDomainBlock is Mastodon's Admin::DomainBlock entity.
type AdminDomainBlock struct {
	ID             string  `json:"id"`
	Domain         string  `json:"domain"`
	Digest         string  `json:"digest"`
	CreatedAt      string  `json:"created_at"`
	Severity       string  `json:"severity"`
	RejectMedia    bool    `json:"reject_media"`
	RejectReports  bool    `json:"reject_reports"`
	PrivateComment *string `json:"private_comment"`
	PublicComment  *string `json:"public_comment"`
	Obfuscate      bool    `json:"obfuscate"`
}

// AdminDomainAllow is Mastodon's Admin::DomainAllow entity.
type AdminDomainAllow struct {
	ID        string `json:"id"`
	Domain    string `json:"domain"`
	CreatedAt string `json:"created_at"`
}

func (s *Server) mountReports(r *gin.RouterGroup) {
	r.POST("/v1/reports", requireUser("write:reports"), s.createReport)
}

func (s *Server) mountAdmin(r *gin.RouterGroup) {
	r.GET("/v1/admin/accounts", requireUser("admin:read:accounts"), s.adminAccounts(false))
	r.GET("/v2/admin/accounts", requireUser("admin:read:accounts"), s.adminAccounts(true))
	r.GET("/v1/admin/accounts/:id", requireUser("admin:read:accounts"), s.adminAccount)
	r.POST("/v1/admin/accounts/:id/action", requireUser("admin:write:accounts"), s.adminAccountAction)
	for _, undo := range []community.AccountActionType{community.AccountActionUnsilence,
		community.AccountActionUnsuspend, community.AccountActionEnable} {
		r.POST("/v1/admin/accounts/:id/"+string(undo), requireUser("admin:write:accounts"), s.adminUndo(undo))
	}
	r.POST("/v1/admin/accounts/:id/approve", requireUser("admin:write:accounts"), s.adminApprove(true))
	r.POST("/v1/admin/accounts/:id/reject", requireUser("admin:write:accounts"), s.adminApprove(false))

	r.GET("/v1/admin/reports", requireUser("admin:read:reports"), s.adminReports)
	r.GET("/v1/admin/reports/:id", requireUser("admin:read:reports"), s.adminReport)
	for path, act := range map[string]community.ReportAction{
		"assign_to_self": community.ReportAssign, "unassign": community.ReportUnassign,
		"resolve": community.ReportResolve, "reopen": community.ReportReopen,
	} {
		r.POST("/v1/admin/reports/:id/"+path, requireUser("admin:write:reports"), s.adminHandleReport(act))
	}

	mountDomainRules(s, r, domainRules[community.DomainBlock, community.DomainBlockInput, AdminDomainBlock]{
		name: "domain_blocks", list: s.community.ListDomainBlocks, get: s.community.GetDomainBlock,
		input: domainBlockInput, create: s.community.CreateDomainBlock, update: s.community.UpdateDomainBlock,
		remove: s.community.DeleteDomainBlock, entity: domainBlock,
		id: func(b *community.DomainBlock) int64 { return b.ID },
	})
	mountDomainRules(s, r, domainRules[community.DomainAllow, string, AdminDomainAllow]{
		name: "domain_allows", list: s.community.ListDomainAllows, get: s.community.GetDomainAllow,
		input: domainAllowInput, create: s.community.CreateDomainAllow,
		remove: s.community.DeleteDomainAllow, entity: domainAllow,
		id: func(a *community.DomainAllow) int64 { return a.ID },
	})
}

func (s *Server) report(r *community.Report, target *community.Account) Report {
	ids := make([]string, len(r.StatusIDs))
	for i, id := range r.StatusIDs {
		ids[i] = community.FormatID(id)
	}
	return Report{
		ID: community.FormatID(r.ID), ActionTaken: r.ActionTaken, ActionTakenAt: apiTimePtr(r.ActionTakenAt),
		Category: string(r.Category), Comment: r.Comment, Forwarded: r.Forwarded, CreatedAt: apiTime(r.CreatedAt),
		StatusIDs: ids, RuleIDs: []string{}, TargetAccount: s.account(target),
	}
}

// createReport is POST /api/v1/reports.
func (s *Server) createReport(c *gin.Context) {
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	target, err := parseID(p.Get("account_id"), community.Invalid("Missing or invalid account_id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	in := community.NewReport{TargetAccountID: target, Comment: p.Get("comment"),
		Category: community.ReportCategory(p.Get("category"))}
	for _, raw := range nonEmpty(p.Strings("status_ids")) {
		id, err := parseID(raw, community.ErrNotFound)
		if err != nil {
			s.fail(c, err)
			return
		}
		in.StatusIDs = append(in.StatusIDs, id)
	}
	if in.Forward, _, err = p.Bool("forward"); err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	r, err := s.community.CreateReport(ctx, currentAccount(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	acct, err := s.community.Unchecked().AccountByID(ctx, r.TargetAccountID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.report(r, acct))
}

func (s *Server) adminAccountEntity(v *community.AdminAccountView) AdminAccount {
	a := v.Account
	out := AdminAccount{
		ID: community.FormatID(a.ID), Username: a.Username, CreatedAt: apiTime(a.CreatedAt), IPs: []any{},
		Locale: "", Role: roles[community.RoleUser], Confirmed: true, Approved: true,
		Silenced: v.Sanction.Silenced, Suspended: v.Sanction.Suspended, Account: s.account(a),
	}
	if !a.IsLocal() {
		out.Domain = strPtr(a.Domain)
	}
	if u := v.User; u != nil {
		out.Locale, out.Disabled, out.Approved = u.Locale, u.Disabled, u.Approved
		if u.RegistrationReason != "" {
			out.InviteRequest = strPtr(u.RegistrationReason)
		}
		if u.Email != "" {
			out.Email = strPtr(u.Email)
		}
		out.Role = roles[u.Role]
	}
	return out
}

// adminAccounts lists accounts; v2 takes Mastodon's newer parameter names.
func (s *Server) adminAccounts(v2 bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := s.mustParams(c)
		if !ok {
			return
		}
		q := community.AdminAccountQuery{Username: p.Get("username"), DisplayName: p.Get("display_name"),
			Email: p.Get("email"), Domain: p.Get("by_domain"), Page: pageOf(c, 100, 200)}
		// Accounts waiting for approval are a list of their own (v1: pending=true).
		pending := false
		if v2 {
			switch p.Get("origin") {
			case "local":
				q.Local = true
			case "remote":
				q.Remote = true
			}
			switch p.Get("status") {
			case "silenced":
				q.Silenced = true
			case "suspended":
				q.Suspended = true
			case "disabled":
				q.Disabled = true
			case "pending":
				pending = true
			}
			q.Staff = p.Get("permissions") == "staff"
		} else {
			for key, dst := range map[string]*bool{"local": &q.Local, "remote": &q.Remote, "silenced": &q.Silenced,
				"suspended": &q.Suspended, "disabled": &q.Disabled, "staff": &q.Staff, "pending": &pending} {
				v, _, err := p.Bool(key)
				if err != nil {
					s.fail(c, err)
					return
				}
				*dst = v
			}
		}
		var views []community.AdminAccountView
		var err error
		if pending {
			views, err = s.community.PendingAccounts(c.Request.Context(), currentAccount(c), q.Page)
		} else {
			views, err = s.community.AdminAccounts(c.Request.Context(), currentAccount(c), q)
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		out := make([]AdminAccount, 0, len(views))
		for i := range views {
			out = append(out, s.adminAccountEntity(&views[i]))
		}
		if len(views) > 0 {
			s.setLinkHeader(c, views[0].Account.ID, views[len(views)-1].Account.ID)
		}
		c.JSON(http.StatusOK, out)
	}
}

func (s *Server) adminAccount(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	v, err := s.community.AdminAccount(c.Request.Context(), currentAccount(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.adminAccountEntity(v))
}

// adminAccountAction is POST /api/v1/admin/accounts/:id/action; Mastodon answers {}.
func (s *Server) adminAccountAction(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	in := community.AccountAction{Type: community.AccountActionType(strings.TrimSpace(p.Get("type"))), Text: p.Get("text")}
	if in.Type == "" {
		s.fail(c, community.Invalid("Missing type: one of none, disable, silence, suspend"))
		return
	}
	if raw := p.Get("report_id"); raw != "" {
		if in.ReportID, err = parseID(raw, community.Invalid("Invalid report_id")); err != nil {
			s.fail(c, err)
			return
		}
	}
	if _, err := s.community.ActOnAccount(c.Request.Context(), currentAccount(c), id, in); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{})
}

func (s *Server) adminUndo(kind community.AccountActionType) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := pathID(c, "id")
		if err != nil {
			s.fail(c, err)
			return
		}
		v, err := s.community.ActOnAccount(c.Request.Context(), currentAccount(c), id, community.AccountAction{Type: kind})
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, s.adminAccountEntity(v))
	}
}

// adminReports renders reports with their accounts and statuses, a few queries for the
// whole list.
func (s *Server) adminReportList(ctx context.Context, reports []community.Report) ([]AdminReport, error) {
	var accountIDs, statusIDs []int64
	for _, r := range reports {
		accountIDs = append(accountIDs, r.AccountIDs()...)
		statusIDs = append(statusIDs, r.StatusIDs...)
	}
	byID, err := s.community.Unchecked().AccountsByID(ctx, accountIDs)
	if err != nil {
		return nil, err
	}
	list := make([]community.Account, 0, len(byID))
	for _, a := range byID {
		list = append(list, *a)
	}
	views, err := s.community.AdminAccountViews(ctx, list)
	if err != nil {
		return nil, err
	}
	admins := map[int64]AdminAccount{}
	for i := range views {
		admins[views[i].Account.ID] = s.adminAccountEntity(&views[i])
	}
	statusRows, err := s.community.ReportStatuses(ctx, &community.Report{StatusIDs: statusIDs})
	if err != nil {
		return nil, err
	}
	// Moderators see the reported statuses whoever may read them: judging them is
	// their job. They are rendered as the instance sees them, without a viewer.
	rendered, err := s.statuses(ctx, community.Anonymous, statusRows)
	if err != nil {
		return nil, err
	}
	byStatus := map[string]Status{}
	for _, st := range rendered {
		byStatus[st.ID] = st
	}
	ref := func(id *int64) *AdminAccount {
		if id == nil {
			return nil
		}
		if a, ok := admins[*id]; ok {
			return &a
		}
		return nil
	}
	out := make([]AdminReport, 0, len(reports))
	for _, r := range reports {
		target, ok := admins[r.TargetAccountID]
		if !ok {
			continue
		}
		reporter := target
		if a := ref(r.AccountID); a != nil {
			reporter = *a
		}
		ar := AdminReport{
			ID: community.FormatID(r.ID), ActionTaken: r.ActionTaken, ActionTakenAt: apiTimePtr(r.ActionTakenAt),
			Category: string(r.Category), Comment: r.Comment, Forwarded: r.Forwarded, CreatedAt: apiTime(r.CreatedAt),
			UpdatedAt: apiTime(r.UpdatedAt), Account: reporter, TargetAccount: target,
			AssignedAccount: ref(r.AssignedAccountID), ActionTakenByAccount: ref(r.ActionTakenByAccountID),
			Statuses: []Status{}, Rules: []any{},
			Tacit: ReportTacit{Origin: r.Origin, BoardID: idPtr(r.BoardAccountID)},
		}
		for _, id := range r.StatusIDs {
			if st, ok := byStatus[community.FormatID(id)]; ok {
				ar.Statuses = append(ar.Statuses, st)
			}
		}
		out = append(out, ar)
	}
	return out, nil
}

func (s *Server) adminReports(c *gin.Context) {
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	q := community.ReportQuery{Page: pageOf(c, 100, 200)}
	var err error
	if q.Resolved, _, err = p.Bool("resolved"); err != nil {
		s.fail(c, err)
		return
	}
	q.AccountID, _ = community.ParseID(p.Get("account_id"))
	q.TargetAccountID, _ = community.ParseID(p.Get("target_account_id"))
	ctx := c.Request.Context()
	reports, err := s.community.AdminReports(ctx, currentAccount(c), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.adminReportList(ctx, reports)
	if err != nil {
		s.fail(c, err)
		return
	}
	if len(reports) > 0 {
		s.setLinkHeader(c, reports[0].ID, reports[len(reports)-1].ID)
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) renderAdminReport(c *gin.Context, r *community.Report) {
	out, err := s.adminReportList(c.Request.Context(), []community.Report{*r})
	if err != nil {
		s.fail(c, err)
		return
	}
	if len(out) == 0 {
		s.fail(c, community.ErrNotFound)
		return
	}
	c.JSON(http.StatusOK, out[0])
}

func (s *Server) adminReport(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	r, err := s.community.AdminReport(c.Request.Context(), currentAccount(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderAdminReport(c, r)
}

func (s *Server) adminHandleReport(act community.ReportAction) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := pathID(c, "id")
		if err != nil {
			s.fail(c, err)
			return
		}
		r, err := s.community.HandleReport(c.Request.Context(), currentAccount(c), id, act)
		if err != nil {
			s.fail(c, err)
			return
		}
		s.renderAdminReport(c, r)
	}
}

func optionalText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func domainBlock(b *community.DomainBlock) AdminDomainBlock {
	sum := sha256.Sum256([]byte(b.Domain))
	return AdminDomainBlock{
		ID: community.FormatID(b.ID), Domain: b.Domain, Digest: hex.EncodeToString(sum[:]), CreatedAt: apiTime(b.CreatedAt),
		Severity: b.Severity, RejectMedia: b.RejectMedia, RejectReports: b.RejectReports,
		PrivateComment: optionalText(b.PrivateComment), PublicComment: optionalText(b.PublicComment), Obfuscate: b.Obfuscate,
	}
}

// domainBlockInput reads a domain block's parameters; absent ones stay nil.
func domainBlockInput(p *params) (community.DomainBlockInput, error) {
	in := community.DomainBlockInput{Domain: p.Get("domain"), PrivateComment: p.StringPtr("private_comment"),
		PublicComment: p.StringPtr("public_comment")}
	if sev := strings.TrimSpace(p.Get("severity")); sev != "" {
		v := community.DomainSeverity(sev)
		in.Severity = &v
	}
	for key, dst := range map[string]**bool{"reject_media": &in.RejectMedia, "reject_reports": &in.RejectReports,
		"obfuscate": &in.Obfuscate} {
		v, err := p.BoolPtr(key)
		if err != nil {
			return in, err
		}
		*dst = v
	}
	return in, nil
}

func domainAllow(a *community.DomainAllow) AdminDomainAllow {
	return AdminDomainAllow{ID: community.FormatID(a.ID), Domain: a.Domain, CreatedAt: apiTime(a.CreatedAt)}
}

// domainAllowInput reads the one parameter of a domain allow.
func domainAllowInput(p *params) (string, error) { return p.Get("domain"), nil }

// domainRules is one of the admin API's two lists of domain rules, blocks and allows,
// which Mastodon serves alike under /api/v1/admin/<name> with scopes named after it.
type domainRules[R, In, E any] struct {
	name   string
	list   func(context.Context, *community.Account, community.Page) ([]R, error)
	get    func(context.Context, *community.Account, int64) (*R, error)
	input  func(*params) (In, error)
	create func(context.Context, *community.Account, In) (*R, error)
	update func(context.Context, *community.Account, int64, In) (*R, error) // nil: the rule cannot be changed, only replaced
	remove func(context.Context, *community.Account, int64) error
	id     func(*R) int64 // for the Link header
	entity func(*R) E
}

func mountDomainRules[R, In, E any](s *Server, r *gin.RouterGroup, rules domainRules[R, In, E]) {
	path := "/v1/admin/" + rules.name
	read, write := "admin:read:"+rules.name, "admin:write:"+rules.name
	r.GET(path, requireUser(read), listDomainRules(s, rules))
	r.GET(path+"/:id", requireUser(read), showRecord(s, rules.get, rules.entity))
	r.POST(path, requireUser(write), createRecord(s, rules.input, rules.create, rules.entity))
	if rules.update != nil {
		r.PUT(path+"/:id", requireUser(write), updateRecord(s, rules.input, rules.update, rules.entity))
	}
	r.DELETE(path+"/:id", requireUser(write), deleteRecord(s, rules.remove))
}

// listDomainRules answers with a page of rules and its Link header.
func listDomainRules[R, In, E any](s *Server, rules domainRules[R, In, E]) gin.HandlerFunc {
	return func(c *gin.Context) {
		list, err := rules.list(c.Request.Context(), currentAccount(c), pageOf(c, 100, 200))
		if err != nil {
			s.fail(c, err)
			return
		}
		out := make([]E, 0, len(list))
		for i := range list {
			out = append(out, rules.entity(&list[i]))
		}
		if len(list) > 0 {
			s.setLinkHeader(c, rules.id(&list[0]), rules.id(&list[len(list)-1]))
		}
		c.JSON(http.StatusOK, out)
	}
}
