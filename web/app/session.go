package app

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"time"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/auth"
	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/sso"
	"github.com/tacit-social/tacit/web"
)

// A web session is an access token of the instance's own web application (ClientID),
// issued at sign-in and held by the browser in an HttpOnly cookie. The server keeps
// only its hash, in the tokens table, so every rule that ends API sessions ends web
// sessions too: revoking the token, a password reset, a suspension, a disabled login.
// Each request checks the token the way the API's authenticate middleware does.
//
// CSRF: a signed-in form carries an HMAC of the session token (the attacker's page
// can neither read the HttpOnly cookie nor compute the HMAC without it). The sign-in
// form, before there is a session, uses a random double-submit cookie. On top of
// that, a POST whose Origin or Sec-Fetch-Site shows another site is refused, and the
// session cookie is SameSite=Lax.

const (
	// sessionCookie is named by the API's middleware, which counts a session's page
	// views against its account's rate limit rather than its address's.
	sessionCookie = web.SessionCookie
	csrfCookie    = "tacit_csrf"
	csrfField     = "csrf"
	// sessionMaxAge is how long the browser keeps the cookie; the token itself lives
	// until it is revoked (sign-out, or any of the rules above).
	sessionMaxAge = 30 * 24 * time.Hour
)

// session is a signed-in browser's login.
type session struct {
	raw     string
	token   *auth.Token
	user    *community.User
	account *community.Account
	csrf    string
}

// viewer is who reads: the signed-in account, or the logged-out visitor.
func viewerOf(s *session) community.Viewer {
	if s == nil {
		return community.Anonymous
	}
	return community.AsAccount(s.account)
}

// loadSession sets the headers every page carries and resolves the session cookie.
// A cookie that no longer names a live session is cleared and the visitor is signed
// out; ok is false when the request has been answered (a server error).
func (a *App) loadSession(c *gin.Context) (*session, bool) {
	setSecurityHeaders(c)
	raw, err := c.Cookie(sessionCookie)
	if err != nil || raw == "" {
		return nil, true
	}
	ctx := c.Request.Context()
	tok, err := a.auth.LookupToken(ctx, raw)
	if errors.Is(err, auth.ErrInvalidToken) {
		a.clearCookie(c, sessionCookie)
		return nil, true
	}
	if err != nil {
		a.fail(c, nil, err)
		return nil, false
	}
	// Only the web application's tokens are sessions: an API token pasted into the
	// cookie does not make one.
	if tok.ApplicationID != a.webApp.ID || tok.UserID == nil {
		a.clearCookie(c, sessionCookie)
		return nil, true
	}
	user, acct, err := a.community.Unchecked().UserByID(ctx, *tok.UserID)
	if community.KindOf(err) == community.KindNotFound {
		a.clearCookie(c, sessionCookie)
		return nil, true
	}
	if err != nil {
		a.fail(c, nil, err)
		return nil, false
	}
	if user.Disabled {
		a.clearCookie(c, sessionCookie)
		return nil, true
	}
	return &session{raw: raw, token: tok, user: user, account: acct, csrf: sessionCSRF(raw)}, true
}

// sessionCSRF is the CSRF token of a session (web.SessionCSRF), shared with the OAuth
// authorize page, which accepts a signed-in browser's consent.
func sessionCSRF(raw string) string { return web.SessionCSRF(raw) }

// csrfToken is the token the page's forms carry: the session's, or for a signed-out
// visitor the double-submit cookie's, which it sets when missing.
func (a *App) csrfToken(c *gin.Context, s *session) string {
	if s != nil {
		return s.csrf
	}
	if v, err := c.Cookie(csrfCookie); err == nil && len(v) >= 32 {
		return v
	}
	// One new token per request, however many forms ask for it.
	if v := c.GetString(csrfContextKey); v != "" {
		return v
	}
	v := randomToken()
	a.setCookie(c, csrfCookie, v, 0)
	c.Set(csrfContextKey, v)
	return v
}

// csrfContextKey keeps the double-submit token made for this request.
const csrfContextKey = "tacit.web.csrf"

// checkCSRF reports whether a state-changing request comes from one of this site's
// own forms.
func (a *App) checkCSRF(c *gin.Context, s *session) bool {
	if origin := c.GetHeader("Origin"); origin != "" && origin != a.cfg.BaseURL() {
		return false
	}
	if c.GetHeader("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	sent := c.Request.PostForm.Get(csrfField)
	var want string
	if s != nil {
		want = s.csrf
	} else if v, err := c.Cookie(csrfCookie); err == nil && len(v) >= 32 {
		want = v
	}
	return want != "" && subtle.ConstantTimeCompare([]byte(sent), []byte(want)) == 1
}

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// setCookie sets one of the app's cookies: HttpOnly, SameSite=Lax, Secure under
// https, for the whole site. maxAge 0 makes a cookie that ends with the browser.
func (a *App) setCookie(c *gin.Context, name, value string, maxAge time.Duration) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   int(maxAge.Seconds()),
		HttpOnly: true,
		Secure:   a.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

func (a *App) clearCookie(c *gin.Context, name string) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode,
	})
}

// loginPage is the sign-in form's data.
type loginPage struct {
	Login string
	Next  string
	Error string
	// SSOLabel is the company sign-in button's text; "" without single sign-on.
	SSOLabel string
	// PasswordLogin shows the password form.
	PasswordLogin bool
}

// loginData is the sign-in page's data with the ways to sign in this instance offers.
func (a *App) loginData(login, next string) loginPage {
	data := loginPage{Login: login, Next: next, PasswordLogin: a.passwordLogin()}
	if a.sso != nil {
		data.SSOLabel = a.sso.Label()
	}
	return data
}

// passwordLogin reports whether passwords sign in (sso.password_login).
func (a *App) passwordLogin() bool { return a.sso == nil || a.sso.PasswordLogin() }

// loginForm is GET /login.
func (a *App) loginForm(c *gin.Context, s *session) {
	next := localPath(c.Query("next"))
	if s != nil {
		a.redirect(c, next)
		return
	}
	a.render(c, s, http.StatusOK, "login", T("login.heading", a.instanceName(c.Request.Context())), "", a.loginData("", next))
}

// login is POST /login: the same accounts, password rules and sign-in throttle as the
// API's password grant and the OAuth authorize page.
func (a *App) login(c *gin.Context, s *session) {
	form := c.Request.PostForm
	login, password := strings.TrimSpace(form.Get("login")), form.Get("password")
	data := a.loginData(login, localPath(form.Get("next")))
	title := T("login.heading", a.instanceName(c.Request.Context()))
	if !data.PasswordLogin {
		data.Error = T("login.no_passwords")
		a.render(c, s, http.StatusForbidden, "login", title, "", data)
		return
	}
	if login == "" || password == "" {
		data.Error = T("login.missing")
		a.render(c, s, http.StatusUnprocessableEntity, "login", title, "", data)
		return
	}
	user, acct, err := a.checkPassword(c, login, password)
	switch {
	case errors.Is(err, errTooManyLogins):
		data.Error = T("login.too_many")
		a.render(c, s, http.StatusTooManyRequests, "login", title, "", data)
		return
	case errors.Is(err, community.ErrBadLogin):
		data.Error = T("login.bad")
		a.render(c, s, http.StatusUnprocessableEntity, "login", title, "", data)
		return
	case community.KindOf(err) == community.KindForbidden:
		data.Error = err.Error()
		a.render(c, s, http.StatusForbidden, "login", title, "", data)
		return
	case err != nil:
		a.fail(c, s, err)
		return
	}
	a.startSession(c, s, user, acct, "password", data.Next)
}

// startSession signs the browser in as acct, however the person proved who they are
// (a password, the company's identity provider), and sends it on to next.
func (a *App) startSession(c *gin.Context, s *session, user *community.User, acct *community.Account, method, next string) {
	ctx := c.Request.Context()
	// A new sign-in replaces the browser's previous session, if any.
	if s != nil {
		if err := a.auth.RevokeToken(ctx, a.webApp, s.raw); err != nil {
			a.fail(c, s, err)
			return
		}
	}
	tok, err := a.auth.IssueToken(ctx, a.webApp.ID, user.ID, acct.ID, sessionScopes, false)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	a.setCookie(c, sessionCookie, tok.AccessToken, sessionMaxAge)
	a.log.InfoContext(ctx, "web sign-in", "request_id", c.GetString("request_id"), "account_id", acct.ID,
		"token_id", tok.Token.ID, "method", method)
	a.redirect(c, next)
}

// ssoCookie carries a sign-in through the company's identity provider from its
// start to its callback (sso.Provider.Begin); only the two /auth/sso paths see it.
const (
	ssoCookie     = "tacit_sso"
	ssoCookiePath = "/auth/sso"
)

// ssoStart is GET /auth/sso: the browser goes to the company's identity provider,
// to come back to the callback and then to next.
func (a *App) ssoStart(c *gin.Context, s *session) {
	if a.sso == nil {
		a.notFound(c, s)
		return
	}
	ctx := c.Request.Context()
	next := localPath(c.Query("next"))
	authURL, cookie, err := a.sso.Begin(ctx, next)
	if err != nil {
		a.log.ErrorContext(ctx, "sso: cannot start a sign-in", "request_id", c.GetString("request_id"), "err", err)
		data := a.loginData("", next)
		data.Error = T("sso.unavailable")
		a.render(c, s, http.StatusBadGateway, "login", T("login.heading", a.instanceName(ctx)), "", data)
		return
	}
	a.setSSOCookie(c, cookie, sso.FlowTTL)
	a.redirect(c, authURL)
}

// ssoCallback is GET /auth/sso/callback: the provider's answer is checked, the person
// signed in (their account created the first time) and the browser given a session,
// exactly as a password sign-in does.
func (a *App) ssoCallback(c *gin.Context, s *session) {
	if a.sso == nil {
		a.notFound(c, s)
		return
	}
	ctx := c.Request.Context()
	cookie, _ := c.Cookie(ssoCookie)
	a.setSSOCookie(c, "", -1)
	title := T("login.heading", a.instanceName(ctx))
	refuse := func(status int, msg string) {
		data := a.loginData("", "/")
		data.Error = msg
		a.render(c, s, status, "login", title, "", data)
	}
	res, err := a.sso.Finish(ctx, cookie, c.Request.URL.Query())
	switch {
	case errors.Is(err, sso.ErrFlow):
		refuse(http.StatusBadRequest, T("sso.flow"))
		return
	case errors.Is(err, sso.ErrProvider):
		refuse(http.StatusForbidden, T("sso.provider"))
		return
	case errors.Is(err, sso.ErrToken):
		refuse(http.StatusBadRequest, T("sso.token"))
		return
	case errors.Is(err, sso.ErrNotAllowed):
		refuse(http.StatusForbidden, T("sso.not_allowed"))
		return
	case err != nil:
		a.log.ErrorContext(ctx, "sso: sign-in failed", "request_id", c.GetString("request_id"), "err", err)
		refuse(http.StatusBadGateway, T("sso.unavailable"))
		return
	}
	user, acct, err := a.community.SignInExternal(ctx, res.Claims)
	if community.KindOf(err) == community.KindForbidden {
		refuse(http.StatusForbidden, err.Error())
		return
	}
	if err != nil {
		a.fail(c, s, err)
		return
	}
	a.startSession(c, s, user, acct, "sso", localPath(res.Next))
}

// setSSOCookie sets (or with maxAge < 0 clears) the sign-in flow's cookie. SameSite
// Lax still sends it on the provider's redirect back, a top-level GET.
func (a *App) setSSOCookie(c *gin.Context, value string, maxAge time.Duration) {
	seconds := int(maxAge.Seconds())
	if maxAge < 0 {
		seconds = -1
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: ssoCookie, Value: value, Path: ssoCookiePath, MaxAge: seconds,
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode,
	})
}

// logout is POST /logout: the session's token is revoked, not only forgotten.
func (a *App) logout(c *gin.Context, s *session) {
	if s != nil {
		if err := a.auth.RevokeToken(c.Request.Context(), a.webApp, s.raw); err != nil {
			a.fail(c, s, err)
			return
		}
		a.log.InfoContext(c.Request.Context(), "web sign-out", "request_id", c.GetString("request_id"), "account_id", s.account.ID)
	}
	a.clearCookie(c, sessionCookie)
	a.redirect(c, "/")
}

// errTooManyLogins refuses a password check for a login that failed too often.
var errTooManyLogins = errors.New("too many failed logins")

// checkPassword authenticates within the sign-in throttle (auth.LoginAllowed), as the
// API's checkPassword does: failures count per account, whichever name was typed, and
// per client address.
func (a *App) checkPassword(c *gin.Context, login, password string) (*community.User, *community.Account, error) {
	ctx := c.Request.Context()
	addr := clientAddress(c)
	subject, err := a.auth.LoginSubject(ctx, login)
	if err != nil {
		return nil, nil, err
	}
	if !a.auth.LoginAllowed(subject, addr) {
		a.log.WarnContext(ctx, "web sign-in refused: too many failed attempts", "login", login, "client", addr)
		return nil, nil, errTooManyLogins
	}
	user, acct, err := a.community.Authenticate(ctx, login, password)
	switch {
	case errors.Is(err, community.ErrBadLogin):
		a.auth.LoginFailed(subject, addr)
	case err == nil:
		a.auth.LoginSucceeded(subject, addr)
	}
	return user, acct, err
}

// clientAddress is the client as the sign-in throttle counts it, the same way the API
// does: gin's ClientIP (X-Forwarded-For only from trusted proxies), IPv6 by its /64.
func clientAddress(c *gin.Context) string {
	ip := c.ClientIP()
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.Unmap()
	if addr.Is6() {
		if p, err := addr.Prefix(64); err == nil {
			return p.String()
		}
	}
	return addr.String()
}

// localPath keeps a redirect target on this site: a path, never another origin
// ("//host", "/\host") or a scheme. Control characters are refused too: browsers drop
// tabs and newlines from addresses, which turns "/\t/host" into "//host".
func localPath(p string) string {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") ||
		strings.ContainsFunc(p, unicode.IsControl) {
		return "/"
	}
	return p
}
