package app

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// The admins' invites page: make an invite with a limit of uses and a lifetime, copy
// its sign-up link, revoke it. The same domain calls as `tacit admin invite`.

// inviteView is an invite as the list shows it.
type inviteView struct {
	Code    string
	Link    string
	State   string
	Active  bool
	Uses    string
	Expires string
	Comment string
	New     bool
}

type invitesPage struct {
	Tab      adminTab
	Invites  []inviteView
	MaxUses  []choice
	Lifetime []choice
	Notice   string
	Error    string
	// Closed: registrations are closed, so invites do not work yet.
	Closed bool
}

// inviteUses and inviteLifetimes are the form's choices, Mastodon's.
var (
	inviteUses      = []int{0, 1, 5, 10, 25, 50, 100}
	inviteLifetimes = []time.Duration{0, 30 * time.Minute, time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}
)

func (a *App) mountInvites(e *gin.Engine) {
	e.GET("/admin/invites", a.page(a.signedIn(a.adminOnly(a.invitesPage))))
	e.POST("/admin/invites", a.form(a.signedIn(a.adminOnly(a.createInvite))))
	e.POST("/admin/invites/:code/revoke", a.form(a.signedIn(a.adminOnly(a.revokeInvite))))
}

// invitesPage is GET /admin/invites.
func (a *App) invitesPage(c *gin.Context, s *session) {
	a.renderInvites(c, s, http.StatusOK, "")
}

func (a *App) renderInvites(c *gin.Context, s *session, status int, errText string) {
	ctx := c.Request.Context()
	invites, err := a.community.Invites(ctx, s.account)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	settings, err := a.community.Settings(ctx)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	p := invitesPage{Tab: adminTab{"people"}, Error: errText,
		Closed: settings.Registrations.Mode == community.RegistrationsClosed}
	if n := c.Query("done"); n != "" && errText == "" {
		p.Notice = notice("admin.invites.done." + n)
	}
	now := time.Now()
	for i := range invites {
		inv := &invites[i]
		v := inviteView{Code: inv.Code, Link: a.community.InviteURL(inv.Code), Comment: inv.Comment,
			State: T("admin.invites.state." + string(inv.State(now))), Active: inv.State(now) == community.InviteActive,
			Uses: T("admin.invites.uses_of", inv.Uses, inv.MaxUses), Expires: T("admin.invites.never"),
			New: inv.Code == c.Query("code")}
		if inv.MaxUses == 0 {
			v.Uses = T("admin.invites.uses_any", inv.Uses)
		}
		if inv.ExpiresAt != nil {
			v.Expires = inv.ExpiresAt.UTC().Format(timeLayout)
		}
		p.Invites = append(p.Invites, v)
	}
	for _, n := range inviteUses {
		label := T("admin.invites.any_uses")
		if n > 0 {
			label = T("admin.invites.n_uses", n)
		}
		p.MaxUses = append(p.MaxUses, choice{Value: strconv.Itoa(n), Label: label, Checked: n == 1})
	}
	for _, d := range inviteLifetimes {
		p.Lifetime = append(p.Lifetime, choice{Value: d.String(), Label: lifetimeLabel(d), Checked: d == 7*24*time.Hour})
	}
	a.render(c, s, status, "admin_invites", T("admin.invites.heading"), "admin", p)
}

func lifetimeLabel(d time.Duration) string {
	switch {
	case d == 0:
		return T("admin.invites.never")
	case d < time.Hour:
		return T("admin.invites.minutes", int(d/time.Minute))
	case d < 24*time.Hour:
		return T("admin.invites.hours", int(d/time.Hour))
	}
	return T("admin.invites.days", int(d/(24*time.Hour)))
}

// createInvite is POST /admin/invites.
func (a *App) createInvite(c *gin.Context, s *session) {
	form := c.Request.PostForm
	uses, err := strconv.Atoi(form.Get("max_uses"))
	if err != nil {
		a.renderInvites(c, s, http.StatusUnprocessableEntity, T("admin.invites.bad_uses"))
		return
	}
	lifetime, err := time.ParseDuration(form.Get("expires_in"))
	if err != nil {
		a.renderInvites(c, s, http.StatusUnprocessableEntity, T("admin.invites.bad_lifetime"))
		return
	}
	inv, err := a.community.CreateInvite(c.Request.Context(), s.account, community.NewInvite{
		MaxUses: uses, ExpiresIn: lifetime, Comment: form.Get("comment")})
	if community.KindOf(err) == community.KindInvalid {
		a.renderInvites(c, s, http.StatusUnprocessableEntity, err.Error())
		return
	}
	if err != nil {
		a.fail(c, s, err)
		return
	}
	a.redirect(c, "/admin/invites?done=created&code="+inv.Code+"#invite-"+inv.Code)
}

// revokeInvite is POST /admin/invites/:code/revoke.
func (a *App) revokeInvite(c *gin.Context, s *session) {
	if err := a.community.RevokeInvite(c.Request.Context(), s.account, c.Param("code")); err != nil {
		a.fail(c, s, err)
		return
	}
	a.redirect(c, "/admin/invites?done=revoked")
}
