package app

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
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

// sessionCSRF is the CSRF token of a session: an HMAC keyed by the session token, so
// it needs no storage and changes with every sign-in.
func sessionCSRF(raw string) string {
	m := hmac.New(sha256.New, []byte(raw))
	m.Write([]byte("tacit web csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

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
}

// loginForm is GET /login.
func (a *App) loginForm(c *gin.Context, s *session) {
	next := localPath(c.Query("next"))
	if s != nil {
		a.redirect(c, next)
		return
	}
	a.render(c, s, http.StatusOK, "login", T("login.heading", a.instanceName(c.Request.Context())), "", loginPage{Next: next})
}

// login is POST /login: the same accounts, password rules and sign-in throttle as the
// API's password grant and the OAuth authorize page.
func (a *App) login(c *gin.Context, s *session) {
	form := c.Request.PostForm
	login, password := strings.TrimSpace(form.Get("login")), form.Get("password")
	data := loginPage{Login: login, Next: localPath(form.Get("next"))}
	title := T("login.heading", a.instanceName(c.Request.Context()))
	if login == "" || password == "" {
		data.Error = T("login.missing")
		a.render(c, s, http.StatusUnprocessableEntity, "login", title, "", data)
		return
	}
	ctx := c.Request.Context()
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
	a.log.InfoContext(ctx, "web sign-in", "request_id", c.GetString("request_id"), "account_id", acct.ID, "token_id", tok.Token.ID)
	a.redirect(c, data.Next)
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
