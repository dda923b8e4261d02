package app

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// The sign-up page: the same registration as the API's POST /api/v1/accounts
// (community.Service.Register), within the instance's registration settings. A person
// whose account is made signs in at once; one whose account waits for a moderator is
// told so.

// signupPage is the sign-up form's data.
type signupPage struct {
	// Closed holds why the form is not shown ("" when it is).
	Closed string
	// Done is "pending" after a sign-up that waits for approval.
	Done     string
	Invite   string
	Username string
	Email    string
	Reason   string
	// AskReason: approval is required and there is no invite, so the moderators read
	// why the person signs up.
	AskReason bool
	Rules     []string
	// Domains are the e-mail domains open sign-up is limited to.
	Domains []string
	Error   string
	// Fields holds each field's problems, shown beside it.
	Fields map[string]*fieldProblems
}

// fieldProblems are what is wrong with one field of the form.
type fieldProblems struct {
	Field  string
	Errors []string
}

// signupFields are the form's fields that problems are shown beside.
var signupFields = []string{"username", "email", "password", "reason", "agreement"}

// signupForm is GET /signup: the form, or why there is none.
func (a *App) signupForm(c *gin.Context, s *session) {
	if s != nil {
		a.redirect(c, "/")
		return
	}
	if c.Query("done") == "pending" {
		a.render(c, s, http.StatusOK, "signup", T("signup.heading", a.instanceName(c.Request.Context())), "",
			signupPage{Done: "pending"})
		return
	}
	p, ok := a.signupData(c, c.Query("invite"))
	if !ok {
		return
	}
	a.renderSignup(c, s, http.StatusOK, p)
}

// signupData is the form for the current settings and invite, with Closed set when
// nobody may sign up with what the visitor has.
func (a *App) signupData(c *gin.Context, invite string) (signupPage, bool) {
	ctx := c.Request.Context()
	settings, err := a.community.Settings(ctx)
	if err != nil {
		a.fail(c, nil, err)
		return signupPage{}, false
	}
	reg := settings.Registrations
	p := signupPage{Invite: strings.TrimSpace(invite), Rules: settings.Rules, Fields: map[string]*fieldProblems{}}
	for _, f := range signupFields {
		p.Fields[f] = &fieldProblems{Field: f}
	}
	switch {
	case reg.Mode == community.RegistrationsClosed:
		p.Closed = T("signup.closed")
	case p.Invite != "":
		if _, err := a.community.CheckInvite(ctx, p.Invite); community.KindOf(err) == community.KindForbidden {
			p.Closed = err.Error()
		} else if err != nil {
			a.fail(c, nil, err)
			return signupPage{}, false
		}
	case reg.Mode == community.RegistrationsInvite:
		p.Closed = T("signup.invite_only")
	default:
		p.Domains = reg.AllowedEmailDomains
		p.AskReason = reg.ApprovalRequired
	}
	return p, true
}

func (a *App) renderSignup(c *gin.Context, s *session, status int, p signupPage) {
	a.render(c, s, status, "signup", T("signup.heading", a.instanceName(c.Request.Context())), "", p)
}

// signup is POST /signup.
func (a *App) signup(c *gin.Context, s *session) {
	if s != nil {
		a.redirect(c, "/")
		return
	}
	form := c.Request.PostForm
	p, ok := a.signupData(c, form.Get("invite"))
	if !ok {
		return
	}
	p.Username, p.Email, p.Reason = strings.TrimSpace(form.Get("username")), strings.TrimSpace(form.Get("email")), form.Get("reason")
	ctx := c.Request.Context()
	reg, err := a.community.Register(ctx, community.Registration{
		Username: p.Username, Email: p.Email, Password: form.Get("password"),
		Agreement: form.Get("agreement") == "on", Locale: "en", Reason: p.Reason, InviteCode: p.Invite,
	})
	var re *community.RegistrationError
	switch {
	case errors.As(err, &re):
		for _, f := range re.Fields {
			if fp := p.Fields[f.Field]; fp != nil {
				fp.Errors = append(fp.Errors, f.Description)
			} else {
				// A field the form does not have (the locale): shown at the top.
				p.Error += " " + f.Description
			}
		}
		p.Error = strings.TrimSpace(T("signup.fix") + p.Error)
		a.renderSignup(c, s, http.StatusUnprocessableEntity, p)
		return
	case community.KindOf(err) == community.KindForbidden:
		p.Closed = err.Error()
		a.renderSignup(c, s, http.StatusForbidden, p)
		return
	case err != nil:
		a.fail(c, s, err)
		return
	}
	a.log.InfoContext(ctx, "web sign-up", "request_id", c.GetString("request_id"), "account_id", reg.Account.ID,
		"pending", reg.Pending, "invited", reg.User.InviteID != nil)
	if reg.Pending {
		a.redirect(c, "/signup?done=pending")
		return
	}
	tok, err := a.auth.IssueToken(ctx, a.webApp.ID, reg.User.ID, reg.Account.ID, sessionScopes, false)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	a.setCookie(c, sessionCookie, tok.AccessToken, sessionMaxAge)
	a.redirect(c, "/")
}
