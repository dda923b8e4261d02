package app

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// The administrators' pages: people (roles, suspension, passwords), federation
// (admin_federation.go), domain blocks and allows, and the instance's settings. They
// call the domain functions the admin API and `tacit admin` use; the role changes
// and password resets go through the domain's admin-checked versions, which record
// them in the audit log.

func (a *App) mountAdmin(e *gin.Engine) {
	e.GET("/admin", a.page(a.signedIn(a.adminOnly(a.peoplePage))))
	e.GET("/admin/people/:id", a.page(a.signedIn(a.adminOnly(a.personPage))))
	e.POST("/admin/people/:id/:action", a.form(a.signedIn(a.adminOnly(a.personAction))))
	e.GET("/admin/domains", a.page(a.signedIn(a.adminOnly(a.domainsPage))))
	e.POST("/admin/domains/:list", a.form(a.signedIn(a.adminOnly(a.addDomainRule))))
	e.POST("/admin/domains/:list/:id/delete", a.form(a.signedIn(a.adminOnly(a.removeDomainRule))))
	e.GET("/admin/instance", a.page(a.signedIn(a.adminOnly(a.instancePage))))
	e.POST("/admin/instance", a.form(a.signedIn(a.adminOnly(a.saveInstance))))
	a.mountAdminFederation(e)
	a.mountInvites(e)
}

// adminOnly lets only the instance's admins in (community.Service.IsAdmin). The
// domain calls behind the pages check again.
func (a *App) adminOnly(h handler) handler {
	return func(c *gin.Context, s *session) {
		ok, err := a.community.IsAdmin(c.Request.Context(), s.account)
		if err != nil {
			a.fail(c, s, err)
			return
		}
		if !ok {
			a.renderError(c, s, http.StatusForbidden, "admin.admins_only")
			return
		}
		h(c, s)
	}
}

// adminTab names the admin page shown, for the admin pages' own navigation.
type adminTab struct {
	Current string
}

// personView is an account as the people list shows it.
type personView struct {
	accountView
	Email     string
	Role      string
	RoleText  string
	Suspended bool
	Silenced  bool
	Disabled  bool
	Self      bool
	// Pending: the account waits for approval; Reason is what the person wrote.
	Pending bool
	Reason  string
}

func (a *App) personView(s *session, v *community.AdminAccountView) personView {
	p := personView{accountView: a.accountView(v.Account), Suspended: v.Sanction.Suspended,
		Silenced: v.Sanction.Silenced, Self: v.Account.ID == s.account.ID}
	if u := v.User; u != nil {
		p.Email, p.Role, p.Disabled = u.Email, string(u.Role), u.Disabled
		p.Pending, p.Reason = !u.Approved, u.RegistrationReason
	}
	p.RoleText = T("admin.role." + p.Role)
	return p
}

type peoplePage struct {
	Tab    adminTab
	Query  string
	People []personView
	Pager  pager
	// Signups are the accounts that wait for approval, first on the page.
	Signups signupsView
	Notice  string
}

// signupsView lists the accounts waiting for approval, with the forms that decide
// them: on the admin people page and on the moderation page, which post to Path.
type signupsView struct {
	Pending []personView
	Path    string
	CSRF    string
}

// pendingSignups loads the accounts waiting for approval for a page whose forms post
// to path.
func (a *App) pendingSignups(c *gin.Context, s *session, path string) (signupsView, error) {
	v := signupsView{Path: path, CSRF: s.csrf}
	pending, err := a.community.PendingAccounts(c.Request.Context(), s.account, community.Page{Limit: maxPendingShown})
	if err != nil {
		return v, err
	}
	for i := range pending {
		v.Pending = append(v.Pending, a.personView(s, &pending[i]))
	}
	return v, nil
}

// peoplePage is GET /admin: the instance's people, or those whose username, name or
// e-mail address starts with ?q=.
func (a *App) peoplePage(c *gin.Context, s *session) {
	ctx := c.Request.Context()
	p := peoplePage{Tab: adminTab{"people"}, Query: strings.TrimSpace(c.Query("q"))}
	if n := c.Query("done"); n != "" {
		p.Notice = notice("admin.people.done." + n)
	}
	var err error
	if p.Signups, err = a.pendingSignups(c, s, "/admin/people"); err != nil {
		a.fail(c, s, err)
		return
	}
	maxID, _ := community.ParseID(c.Query("max_id"))
	page := community.Page{MaxID: maxID, Limit: pageSize}
	queries := []community.AdminAccountQuery{{Local: true, Page: page}}
	if p.Query != "" {
		q := strings.TrimPrefix(p.Query, "@")
		queries = []community.AdminAccountQuery{
			{Local: true, Username: q, Page: page}, {Local: true, DisplayName: q, Page: page}, {Local: true, Email: q, Page: page},
		}
	}
	seen := map[int64]bool{}
	var oldest int64
	read := 0
	for _, q := range queries {
		views, err := a.community.AdminAccounts(ctx, s.account, q)
		if err != nil {
			a.fail(c, s, err)
			return
		}
		read = max(read, len(views))
		for i := range views {
			v := &views[i]
			if oldest == 0 || v.Account.ID < oldest {
				oldest = v.Account.ID
			}
			// Boards and the instance's own actor have no login: not people to manage.
			if v.User == nil || seen[v.Account.ID] {
				continue
			}
			seen[v.Account.ID] = true
			p.People = append(p.People, a.personView(s, v))
		}
	}
	if p.Query == "" {
		p.Pager = pagerFor("/admin", maxID, oldest, read)
	}
	a.render(c, s, http.StatusOK, "admin_people", T("admin.people.heading"), "admin", p)
}

type personPage struct {
	Tab    adminTab
	Person personView
	// SignIn is how the person signs in: password, the company's provider, SCIM.
	SignIn community.SignInMethods
	Roles  []choice
	Notice string
	Error  string
}

// personPage is GET /admin/people/:id.
func (a *App) personPage(c *gin.Context, s *session) {
	a.renderPerson(c, s, http.StatusOK, "")
}

func (a *App) renderPerson(c *gin.Context, s *session, status int, errText string) {
	id, ok := community.ParseID(c.Param("id"))
	if !ok {
		a.notFound(c, s)
		return
	}
	v, err := a.community.AdminAccount(c.Request.Context(), s.account, id)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	if v.User == nil {
		a.notFound(c, s)
		return
	}
	p := personPage{Tab: adminTab{"people"}, Person: a.personView(s, v), Error: errText}
	if p.SignIn, err = a.community.SignInMethodsOf(c.Request.Context(), s.account, id); err != nil {
		a.fail(c, s, err)
		return
	}
	if n := c.Query("done"); n != "" && errText == "" {
		p.Notice = notice("admin.person.done." + n)
	}
	for _, r := range []community.Role{community.RoleUser, community.RoleModerator, community.RoleAdmin} {
		p.Roles = append(p.Roles, choice{Value: string(r), Label: T("admin.role." + string(r)), Checked: r == v.User.Role})
	}
	a.render(c, s, status, "admin_person", v.Account.Acct(), "admin", p)
}

// maxPendingShown is how many accounts waiting for approval the people page lists.
const maxPendingShown = 100

// personAction is POST /admin/people/:id/:action: role, suspend, unsuspend,
// unsilence, enable, password, and approve or reject an account that waits.
func (a *App) personAction(c *gin.Context, s *session) {
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
	case "role":
		err = a.community.ChangeRole(ctx, s.account, id, community.Role(form.Get("role")))
	case "suspend":
		_, err = a.community.ActOnAccount(ctx, s.account, id, community.AccountAction{
			Type: community.AccountActionSuspend, Text: form.Get("text")})
	case "unsuspend", "unsilence", "enable":
		// Undoing what a moderator did to the account from a report.
		_, err = a.community.ActOnAccount(ctx, s.account, id, community.AccountAction{Type: community.AccountActionType(action)})
	case "approve", "reject":
		a.decidePending(c, s, id, action, "/admin")
		return
	case "password":
		if err = a.community.ChangePassword(ctx, s.account, id, form.Get("password")); err == nil {
			// As `tacit admin reset-password`: a reset is what one does when a
			// password leaked, so the sessions made with it end too.
			_, err = a.auth.RevokeAccountTokens(ctx, id)
		}
	default:
		a.notFound(c, s)
		return
	}
	if community.KindOf(err) == community.KindInvalid {
		a.renderPerson(c, s, http.StatusUnprocessableEntity, err.Error())
		return
	}
	if err != nil {
		a.fail(c, s, err)
		return
	}
	a.log.InfoContext(ctx, "web admin changed an account", "request_id", c.GetString("request_id"),
		"admin_account_id", s.account.ID, "account_id", id, "action", action)
	a.redirect(c, "/admin/people/"+community.FormatID(id)+"?done="+action)
}

// decidePending approves or rejects an account that waits for approval, and goes back
// to the page the decision was made on (back): a rejected account has no page any more.
func (a *App) decidePending(c *gin.Context, s *session, id int64, action, back string) {
	ctx := c.Request.Context()
	var err error
	if action == "approve" {
		err = a.community.ApproveAccount(ctx, s.account, id)
	} else {
		err = a.community.RejectAccount(ctx, s.account, id)
	}
	if err != nil {
		a.fail(c, s, err)
		return
	}
	a.log.InfoContext(ctx, "web admin decided on a sign-up", "request_id", c.GetString("request_id"),
		"admin_account_id", s.account.ID, "account_id", id, "action", action)
	a.redirect(c, back+"?done="+action)
}

// domainRuleView is a domain block or allow as the list shows it.
type domainRuleView struct {
	ID        string
	Domain    string
	Severity  string
	Comment   string
	CreatedAt string
}

type domainsPage struct {
	Tab        adminTab
	Blocks     []domainRuleView
	Allows     []domainRuleView
	Severities []choice
	Notice     string
}

// maxDomainRules is how many blocks and allows the page lists; an instance of a
// company has a handful.
const maxDomainRules = 200

// domainsPage is GET /admin/domains: the domain blocks and allows, as the API's
// /api/v1/admin/domain_blocks and domain_allows list them.
func (a *App) domainsPage(c *gin.Context, s *session) {
	ctx := c.Request.Context()
	blocks, err := a.community.ListDomainBlocks(ctx, s.account, community.Page{Limit: maxDomainRules})
	if err != nil {
		a.fail(c, s, err)
		return
	}
	allows, err := a.community.ListDomainAllows(ctx, s.account, community.Page{Limit: maxDomainRules})
	if err != nil {
		a.fail(c, s, err)
		return
	}
	p := domainsPage{Tab: adminTab{"domains"}}
	for _, b := range blocks {
		p.Blocks = append(p.Blocks, domainRuleView{ID: community.FormatID(b.ID), Domain: b.Domain,
			Severity: T("admin.domains.severity." + b.Severity), Comment: b.PrivateComment,
			CreatedAt: b.CreatedAt.UTC().Format(timeLayout)})
	}
	for _, al := range allows {
		p.Allows = append(p.Allows, domainRuleView{ID: community.FormatID(al.ID), Domain: al.Domain,
			CreatedAt: al.CreatedAt.UTC().Format(timeLayout)})
	}
	for _, sev := range []community.DomainSeverity{community.SeveritySuspend, community.SeveritySilence} {
		p.Severities = append(p.Severities, choice{Value: string(sev), Label: T("admin.domains.severity." + string(sev)),
			Checked: sev == community.SeveritySuspend})
	}
	if n := c.Query("done"); n != "" {
		p.Notice = notice("admin.domains.done." + n)
	}
	a.render(c, s, http.StatusOK, "admin_domains", T("admin.domains.heading"), "admin", p)
}

// addDomainRule is POST /admin/domains/blocks and /admin/domains/allows.
func (a *App) addDomainRule(c *gin.Context, s *session) {
	ctx := c.Request.Context()
	form := c.Request.PostForm
	var err error
	switch c.Param("list") {
	case "blocks":
		sev := community.DomainSeverity(form.Get("severity"))
		comment := strings.TrimSpace(form.Get("comment"))
		_, err = a.community.CreateDomainBlock(ctx, s.account, community.DomainBlockInput{
			Domain: form.Get("domain"), Severity: &sev, PrivateComment: &comment})
	case "allows":
		_, err = a.community.CreateDomainAllow(ctx, s.account, form.Get("domain"))
	default:
		a.notFound(c, s)
		return
	}
	if err != nil {
		a.fail(c, s, err)
		return
	}
	a.redirect(c, "/admin/domains?done=add_"+c.Param("list"))
}

// removeDomainRule is POST /admin/domains/:list/:id/delete.
func (a *App) removeDomainRule(c *gin.Context, s *session) {
	ctx := c.Request.Context()
	id, ok := community.ParseID(c.Param("id"))
	if !ok {
		a.notFound(c, s)
		return
	}
	var err error
	switch c.Param("list") {
	case "blocks":
		err = a.community.DeleteDomainBlock(ctx, s.account, id)
	case "allows":
		err = a.community.DeleteDomainAllow(ctx, s.account, id)
	default:
		a.notFound(c, s)
		return
	}
	if err != nil {
		a.fail(c, s, err)
		return
	}
	a.redirect(c, "/admin/domains?done=remove_"+c.Param("list"))
}

// setting is one read-only line of the instance page.
type setting struct {
	Label string
	Value string
}

type instancePage struct {
	Tab adminTab
	// Name, Description and Rules (one a line) are the form's fields, as saved or as
	// typed when the domain refused them.
	Name        string
	Description string
	Rules       string
	Scopes      []choice
	// Registration settings: the mode's choices, approval, and the allowed e-mail
	// domains one a line.
	RegistrationModes []choice
	ApprovalRequired  bool
	EmailDomains      string
	Error             string
	Saved             bool
	// Settings and Peers come from the configuration and are read-only here.
	Settings []setting
	Peers    []string
}

// instancePage is GET /admin/instance: the instance's settings an admin may edit,
// and those that live in the configuration only (config.Config, read at start),
// with where to change them.
func (a *App) instancePage(c *gin.Context, s *session) {
	settings, err := a.community.Settings(c.Request.Context())
	if err != nil {
		a.fail(c, s, err)
		return
	}
	p := a.instanceForm(settings.Name, settings.Description, strings.Join(settings.Rules, "\n"), settings.DefaultScope)
	p.setRegistrations(settings.Registrations.Mode, settings.Registrations.ApprovalRequired,
		strings.Join(settings.Registrations.AllowedEmailDomains, "\n"))
	p.Saved = c.Query("done") == "saved"
	a.render(c, s, http.StatusOK, "admin_instance", T("admin.instance.heading"), "admin", p)
}

// saveInstance is POST /admin/instance. A refusal shows the form again with what
// was typed and the domain's reason.
func (a *App) saveInstance(c *gin.Context, s *session) {
	ctx := c.Request.Context()
	form := c.Request.PostForm
	rulesText := form.Get("rules")
	in := community.InstanceSettings{
		Name:         form.Get("name"),
		Description:  form.Get("description"),
		Rules:        strings.Split(strings.ReplaceAll(rulesText, "\r\n", "\n"), "\n"),
		DefaultScope: community.Scope(form.Get("default_scope")),
		Registrations: community.Registrations{
			Mode:                community.RegistrationMode(form.Get("registrations")),
			ApprovalRequired:    form.Get("approval_required") == "on",
			AllowedEmailDomains: strings.FieldsFunc(form.Get("email_domains"), isListSeparator),
		},
	}
	_, err := a.community.UpdateSettings(ctx, s.account, in)
	if community.KindOf(err) == community.KindInvalid {
		p := a.instanceForm(in.Name, in.Description, rulesText, in.DefaultScope)
		p.setRegistrations(in.Registrations.Mode, in.Registrations.ApprovalRequired, form.Get("email_domains"))
		p.Error = err.Error()
		a.render(c, s, http.StatusUnprocessableEntity, "admin_instance", T("admin.instance.heading"), "admin", p)
		return
	}
	if err != nil {
		a.fail(c, s, err)
		return
	}
	a.log.InfoContext(ctx, "web admin changed the instance settings", "request_id", c.GetString("request_id"),
		"admin_account_id", s.account.ID)
	a.redirect(c, "/admin/instance?done=saved")
}

// setRegistrations fills in the registration part of the form.
func (p *instancePage) setRegistrations(mode community.RegistrationMode, approval bool, domains string) {
	for _, m := range []community.RegistrationMode{community.RegistrationsClosed, community.RegistrationsInvite, community.RegistrationsOpen} {
		p.RegistrationModes = append(p.RegistrationModes, choice{Value: string(m),
			Label: T("admin.instance.registrations." + string(m)), Checked: m == mode})
	}
	p.ApprovalRequired, p.EmailDomains = approval, domains
}

// isListSeparator splits a list typed one item a line, or with commas or spaces.
func isListSeparator(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ' ' || r == '\t' }

// instanceForm is the instance page with its form filled in.
func (a *App) instanceForm(name, description, rules string, scope community.Scope) instancePage {
	cfg := a.cfg
	none := T("admin.instance.none")
	orNone := func(v string) string {
		if strings.TrimSpace(v) == "" {
			return none
		}
		return v
	}
	p := instancePage{Tab: adminTab{"instance"}, Name: name, Description: description, Rules: rules,
		Settings: []setting{
			{T("admin.instance.host"), cfg.Host},
			{T("admin.instance.contact"), orNone(cfg.ContactEmail)},
			{T("admin.instance.department"), orNone(cfg.Department)},
			{T("admin.instance.federation_mode"), T("admin.instance.mode." + cfg.Federation.Mode)},
		}}
	for _, sc := range scopeOrder {
		p.Scopes = append(p.Scopes, choice{Value: string(sc), Label: T("audience." + string(sc)), Checked: sc == scope})
	}
	p.Peers = append(p.Peers, cfg.Federation.Peers...)
	return p
}
