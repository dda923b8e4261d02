package web

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/auth"
	"github.com/tacit-social/tacit/community"
)

// The authorize page: where a person signs in and allows a client to use their
// account. It is plain server-rendered HTML that works without JavaScript, under a
// strict Content-Security-Policy.

//go:embed templates/*.html
var templateFiles embed.FS

// pageTemplates holds one template set per page, each the shared layout plus the page.
var pageTemplates = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"authorize", "code", "error", "form_post"} {
		out[name] = template.Must(template.New(name).ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html"))
	}
	return out
}()

// pageBase is what the layout needs.
type pageBase struct {
	Title        string
	InstanceName string
	Host         string
}

// pageBase names the instance as its admins set it; if the settings cannot be read,
// the page still renders with the configured name.
func (s *Server) pageBase(ctx context.Context, title string) pageBase {
	name := s.cfg.InstanceName
	if settings, err := s.community.Settings(ctx); err != nil {
		s.log.ErrorContext(ctx, "read instance settings", "err", err)
	} else {
		name = settings.Name
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = s.cfg.Host
	}
	return pageBase{Title: title, InstanceName: name, Host: s.cfg.Host}
}

// renderPage writes an HTML page with the security headers every page carries.
// formTargets are CSP sources the page's forms may lead to besides its own origin;
// scriptNonce, when set, admits the one inline script that carries it.
func (s *Server) renderPage(c *gin.Context, status int, name string, data any, formTargets []string, scriptNonce string) {
	var buf bytes.Buffer
	if err := pageTemplates[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.ErrorContext(c.Request.Context(), "render page", "page", name, "request_id", requestID(c), "err", err)
		setPageHeaders(c, pageCSP(nil, ""))
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("Internal server error"))
		c.Abort()
		return
	}
	setPageHeaders(c, pageCSP(formTargets, scriptNonce))
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
	c.Abort()
}

// setPageHeaders keeps the page out of frames (clickjacking a consent button), out of
// caches (it may show a code), and keeps its URL, which carries the OAuth request, out
// of Referer headers.
func setPageHeaders(c *gin.Context, csp string) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

// pageCSP allows inline styles and nothing else to load. form-action lists the page's
// own origin and the client's redirect target: Chromium and Safari check form-action
// against every redirect that follows a form submission, so the 302 back to the client
// after "Authorize" would otherwise be blocked.
func pageCSP(formTargets []string, scriptNonce string) string {
	parts := []string{"default-src 'none'", "style-src 'unsafe-inline'"}
	if scriptNonce != "" {
		parts = append(parts, "script-src 'nonce-"+scriptNonce+"'")
	}
	parts = append(parts, "form-action "+strings.Join(append([]string{"'self'"}, formTargets...), " "),
		"frame-ancestors 'none'", "base-uri 'none'")
	return strings.Join(parts, "; ")
}

var (
	cspHostSource   = regexp.MustCompile(`^[a-z][a-z0-9+.-]*://[A-Za-z0-9.-]+(:[0-9]+)?$`)
	cspSchemeSource = regexp.MustCompile(`^[a-z][a-z0-9+.-]*:$`)
)

// cspSource is the CSP source expression that admits navigation to a redirect URI: its
// origin for http(s), its scheme for a native app's private scheme.
func cspSource(redirect string) []string {
	if redirect == auth.OOBRedirect {
		return nil
	}
	u, err := url.Parse(redirect)
	if err != nil || u.Scheme == "" {
		return nil
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme == "http" || scheme == "https" {
		if src := scheme + "://" + u.Host; cspHostSource.MatchString(src) {
			return []string{src}
		}
	}
	// Private schemes, and hosts a CSP source cannot spell (IPv6 literals).
	if src := scheme + ":"; cspSchemeSource.MatchString(src) {
		return []string{src}
	}
	return nil
}

// authRequest is an authorization request, read from the query string when the page
// is shown and again from the form's hidden fields when it is submitted: nothing the
// first reading concluded is trusted the second time.
type authRequest struct {
	ClientID            string
	RedirectURI         string
	ResponseType        string
	ResponseMode        string
	Scope               string
	State               string
	CodeChallenge       string
	CodeChallengeMethod string

	app    *auth.Application
	scopes []string
}

// pageURL is the authorize page's own address for this request, where a sign-in
// through the company's identity provider comes back to.
func (r *authRequest) pageURL() string {
	v := url.Values{}
	for k, val := range map[string]string{
		"client_id": r.ClientID, "redirect_uri": r.RedirectURI, "response_type": r.ResponseType,
		"response_mode": r.ResponseMode, "scope": r.Scope, "state": r.State,
		"code_challenge": r.CodeChallenge, "code_challenge_method": r.CodeChallengeMethod,
	} {
		if val != "" {
			v.Set(k, val)
		}
	}
	return "/oauth/authorize?" + v.Encode()
}

// authFailure is a refused authorization request.
type authFailure struct {
	code        string
	description string
	// onPage means the client or its redirect URI is unknown, so the error is shown to
	// the person instead of being sent back (RFC 6749 4.1.2.1): never redirect to a
	// URI that was not registered.
	onPage bool
}

func readAuthRequest(v url.Values) *authRequest {
	return &authRequest{
		ClientID:            v.Get("client_id"),
		RedirectURI:         v.Get("redirect_uri"),
		ResponseType:        v.Get("response_type"),
		ResponseMode:        v.Get("response_mode"),
		Scope:               v.Get("scope"),
		State:               v.Get("state"),
		CodeChallenge:       v.Get("code_challenge"),
		CodeChallengeMethod: v.Get("code_challenge_method"),
	}
}

// checkAuthRequest validates an authorization request. Client and redirect URI come
// first, because until both are known good an error cannot be sent back.
func (s *Server) checkAuthRequest(c *gin.Context, r *authRequest) (*authFailure, error) {
	if r.ClientID == "" {
		return &authFailure{"invalid_request", "The request has no client_id.", true}, nil
	}
	app, err := s.auth.ApplicationByClientID(c.Request.Context(), r.ClientID)
	if community.KindOf(err) == community.KindNotFound {
		return &authFailure{"invalid_client", "No application with this client_id is registered on this server.", true}, nil
	}
	if err != nil {
		return nil, err
	}
	r.app = app
	if r.RedirectURI == "" {
		if uris := app.RedirectURIList(); len(uris) == 1 {
			r.RedirectURI = uris[0]
		} else {
			return &authFailure{"invalid_request", "The request has no redirect_uri, and the application registered several.", true}, nil
		}
	}
	if !app.AllowsRedirect(r.RedirectURI) {
		return &authFailure{"invalid_request", "The redirect_uri is not one the application registered.", true}, nil
	}
	// From here on, errors go back to the client.
	switch r.ResponseMode {
	case "", "query", "fragment":
	case "form_post":
		if u, err := url.Parse(r.RedirectURI); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			r.ResponseMode = ""
			return &authFailure{"invalid_request", "response_mode=form_post needs an http(s) redirect_uri.", false}, nil
		}
	default:
		r.ResponseMode = ""
		return &authFailure{"invalid_request", "response_mode must be query, fragment or form_post.", false}, nil
	}
	switch r.ResponseType {
	case "code":
	case "":
		return &authFailure{"invalid_request", "The request has no response_type; it must be code.", false}, nil
	default:
		return &authFailure{"unsupported_response_type", "Only response_type=code is supported.", false}, nil
	}
	scopes, unknown := auth.ParseScopes(r.Scope)
	if len(unknown) > 0 {
		return &authFailure{"invalid_scope", "Unknown scope: " + unknown[0], false}, nil
	}
	if len(scopes) == 0 {
		scopes = []string{"read"}
	}
	if !auth.Subset(scopes, app.ScopeList()) {
		return &authFailure{"invalid_scope", "The requested scope exceeds the scopes the application registered.", false}, nil
	}
	r.scopes = scopes
	if r.CodeChallenge != "" || r.CodeChallengeMethod != "" {
		if r.CodeChallengeMethod != auth.PKCEMethodS256 {
			return &authFailure{"invalid_request", "code_challenge_method must be S256; plain is not accepted.", false}, nil
		}
		if !auth.ValidPKCEValue(r.CodeChallenge) {
			return &authFailure{"invalid_request", "code_challenge must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_' or '~'.", false}, nil
		}
	}
	return nil, nil
}

// SessionClientID names the web app's own application (web/app), whose access tokens
// are browser sessions held in SessionCookie.
const SessionClientID = "tacit-web"

// SessionCSRF is the CSRF token of a browser session: an HMAC keyed by the session
// token, so it needs no storage and changes with every sign-in. The web app's forms
// and the authorize page's consent form carry it.
func SessionCSRF(raw string) string {
	m := hmac.New(sha256.New, []byte(raw))
	m.Write([]byte("tacit web csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// browserLogin is the person a browser is signed in as in the web app.
type browserLogin struct {
	user    *community.User
	account *community.Account
	csrf    string
}

// browserSession resolves the web app's session cookie as web/app does, with the
// same checks: a live token of the web application, a login that is not disabled.
// nil when the browser has none. Only the authorize page uses it, and only for a
// consent form that carries the session's CSRF token.
func (s *Server) browserSession(c *gin.Context) (*browserLogin, error) {
	raw, err := c.Cookie(SessionCookie)
	if err != nil || raw == "" {
		return nil, nil
	}
	ctx := c.Request.Context()
	tok, err := s.auth.LookupToken(ctx, raw)
	if errors.Is(err, auth.ErrInvalidToken) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if tok.UserID == nil {
		return nil, nil
	}
	webApp, err := s.auth.ApplicationByClientID(ctx, SessionClientID)
	if community.KindOf(err) == community.KindNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if tok.ApplicationID != webApp.ID {
		return nil, nil
	}
	user, acct, err := s.community.Unchecked().UserByID(ctx, *tok.UserID)
	if community.KindOf(err) == community.KindNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if user.Disabled {
		return nil, nil
	}
	return &browserLogin{user: user, account: acct, csrf: SessionCSRF(raw)}, nil
}

// passwordLogin reports whether passwords sign in here (sso.password_login).
func (s *Server) passwordLogin() bool { return s.cfg.SSO.PasswordLogin || !s.cfg.SSO.Enabled() }

// errPasswordsOff refuses a password where the instance signs people in through the
// company's identity provider only.
const errPasswordsOff = "Passwords are turned off on this server: sign in with your company account."

// authorizeForm shows the login and consent page (GET /oauth/authorize).
func (s *Server) authorizeForm(c *gin.Context) {
	r := readAuthRequest(c.Request.URL.Query())
	fail, err := s.checkAuthRequest(c, r)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	if fail != nil {
		s.refuseAuthorization(c, r, fail)
		return
	}
	s.renderAuthorize(c, http.StatusOK, r, "", "")
}

// authorizeSubmit handles the page's form (POST /oauth/authorize): Deny sends the
// person back with access_denied; Authorize checks who decides (the browser's
// session with its CSRF token, or a password) and sends them back with a code.
func (s *Server) authorizeSubmit(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes)
	if err := c.Request.ParseForm(); err != nil {
		s.renderError(c, http.StatusBadRequest, "invalid_request", "The form could not be read.")
		return
	}
	form := c.Request.PostForm
	r := readAuthRequest(form)
	fail, err := s.checkAuthRequest(c, r)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	if fail != nil {
		s.refuseAuthorization(c, r, fail)
		return
	}
	if form.Get("decision") == "deny" {
		s.refuseAuthorization(c, r, &authFailure{code: "access_denied", description: "The user denied the request."})
		return
	}
	user, acct, ok := s.authorizingUser(c, r, form)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	grant := auth.Grant{
		ApplicationID: r.app.ID,
		UserID:        user.ID,
		AccountID:     acct.ID,
		RedirectURI:   r.RedirectURI,
		Scopes:        r.scopes,
		CodeChallenge: r.CodeChallenge,
	}
	code, err := s.auth.CreateAuthorizationCode(ctx, grant)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	s.log.InfoContext(ctx, "authorization granted", "request_id", requestID(c), "account_id", acct.ID,
		"application_id", r.app.ID, "scopes", strings.Join(r.scopes, " "))
	if r.RedirectURI == auth.OOBRedirect {
		s.renderPage(c, http.StatusOK, "code", codePage{
			pageBase: s.pageBase(c.Request.Context(), "Authorization code"),
			App:      appInfoOf(r.app),
			Code:     code,
			Minutes:  int(auth.CodeTTL.Minutes()),
		}, nil, "")
		return
	}
	s.sendBack(c, r, url.Values{"code": {code}})
}

// authorizingUser is who decides on the request: the browser's signed-in session
// when the form carries its CSRF token (the consent form of a signed-in person), else
// the login and password typed into the form. ok is false when the page has answered.
func (s *Server) authorizingUser(c *gin.Context, r *authRequest, form url.Values) (*community.User, *community.Account, bool) {
	if sent := form.Get("csrf"); sent != "" {
		sess, err := s.browserSession(c)
		if err != nil {
			s.pageFail(c, err)
			return nil, nil, false
		}
		if sess == nil {
			s.renderAuthorize(c, http.StatusUnauthorized, r, "", "Your session has ended. Sign in again.")
			return nil, nil, false
		}
		// This page's Referrer-Policy (no-referrer) makes browsers send "Origin: null"
		// with its own forms, so only another site's origin is refused here; the token,
		// which no other site can compute, is what proves the form is this page's.
		origin := c.GetHeader("Origin")
		crossSite := c.GetHeader("Sec-Fetch-Site") == "cross-site" ||
			(origin != "" && origin != "null" && origin != s.cfg.BaseURL())
		if crossSite || subtle.ConstantTimeCompare([]byte(sent), []byte(sess.csrf)) != 1 {
			s.log.WarnContext(c.Request.Context(), "authorize refused: CSRF token missing or wrong", "request_id", requestID(c))
			s.renderError(c, http.StatusForbidden, "invalid_request", "This form did not come from this server's page. Go back to the application and start again.")
			return nil, nil, false
		}
		return sess.user, sess.account, true
	}
	if !s.passwordLogin() {
		s.renderAuthorize(c, http.StatusForbidden, r, "", errPasswordsOff)
		return nil, nil, false
	}
	login, password := strings.TrimSpace(form.Get("login")), form.Get("password")
	if login == "" || password == "" {
		s.renderAuthorize(c, http.StatusUnprocessableEntity, r, login, "Enter your username or email address and your password.")
		return nil, nil, false
	}
	user, acct, err := s.checkPassword(c, login, password)
	switch {
	case errors.Is(err, errTooManyLogins):
		s.renderAuthorize(c, http.StatusTooManyRequests, r, login,
			"Too many failed sign-in attempts for this account. Wait a few minutes, then try again.")
		return nil, nil, false
	case errors.Is(err, community.ErrBadLogin):
		s.renderAuthorize(c, http.StatusUnprocessableEntity, r, login, "Invalid username/email or password.")
		return nil, nil, false
	case community.KindOf(err) == community.KindForbidden:
		s.renderAuthorize(c, http.StatusForbidden, r, login, err.Error())
		return nil, nil, false
	case err != nil:
		s.pageFail(c, err)
		return nil, nil, false
	}
	return user, acct, true
}

// refuseAuthorization reports a refused request: on the page when the client cannot
// be trusted or asked for the out-of-band flow, else back to the client.
func (s *Server) refuseAuthorization(c *gin.Context, r *authRequest, f *authFailure) {
	if f.onPage || r.RedirectURI == auth.OOBRedirect {
		status := http.StatusBadRequest
		if f.code == "access_denied" {
			status = http.StatusOK
		}
		s.renderError(c, status, f.code, f.description)
		return
	}
	s.sendBack(c, r, url.Values{"error": {f.code}, "error_description": {f.description}})
}

// sendBack returns the authorization response to the client's redirect URI, in the
// response mode it asked for.
func (s *Server) sendBack(c *gin.Context, r *authRequest, v url.Values) {
	if r.State != "" {
		v.Set("state", r.State)
	}
	switch r.ResponseMode {
	case "form_post":
		nonce := newNonce()
		var fields []formField
		for _, k := range []string{"code", "error", "error_description", "state"} {
			if v.Has(k) {
				fields = append(fields, formField{Name: k, Value: v.Get(k)})
			}
		}
		s.renderPage(c, http.StatusOK, "form_post", formPostPage{
			pageBase: s.pageBase(c.Request.Context(), "Returning to "+r.app.Name),
			App:      appInfoOf(r.app),
			Action:   r.RedirectURI,
			Fields:   fields,
			Nonce:    nonce,
		}, cspSource(r.RedirectURI), nonce)
	case "fragment":
		s.redirect(c, r.RedirectURI+"#"+v.Encode())
	default:
		target := r.RedirectURI
		if i := strings.IndexByte(target, '?'); i >= 0 && i < len(target)-1 {
			target += "&" + v.Encode()
		} else {
			target = strings.TrimSuffix(target, "?") + "?" + v.Encode()
		}
		s.redirect(c, target)
	}
}

func (s *Server) redirect(c *gin.Context, location string) {
	setPageHeaders(c, pageCSP(nil, ""))
	c.Header("Location", location)
	c.AbortWithStatus(http.StatusFound)
}

func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawStdEncoding.EncodeToString(b[:])
}

// pageFail is s.fail for HTML pages: logged, and a plain error page for the person.
func (s *Server) pageFail(c *gin.Context, err error) {
	s.log.ErrorContext(c.Request.Context(), "authorize page failed", "request_id", requestID(c), "err", err)
	s.renderError(c, http.StatusInternalServerError, "server_error",
		"Something went wrong on this server. Try again in a moment.")
}

// errorHeadings say in plain words what went wrong, for the codes a person may see.
var errorHeadings = map[string]string{
	"invalid_client":  "Unknown application",
	"invalid_request": "This sign-in link is not valid",
	"access_denied":   "Access denied",
	"server_error":    "Something went wrong",
}

func (s *Server) renderError(c *gin.Context, status int, code, description string) {
	heading := errorHeadings[code]
	if heading == "" {
		heading = "This sign-in request cannot be completed"
	}
	if code == "access_denied" {
		description = "You did not allow the application to use your account. You can close this page."
	}
	s.renderPage(c, status, "error", errorPage{
		pageBase:    s.pageBase(c.Request.Context(), heading),
		Heading:     heading,
		Description: description,
		Code:        code,
	}, nil, "")
}

// appInfo is how the page shows an application.
type appInfo struct {
	Name        string
	Initial     string
	Website     string
	WebsiteHost string
}

func appInfoOf(app *auth.Application) appInfo {
	info := appInfo{Name: app.Name, Initial: "?"}
	if r, _ := utf8.DecodeRuneInString(strings.TrimSpace(app.Name)); r != utf8.RuneError && unicode.IsPrint(r) {
		info.Initial = string(unicode.ToUpper(r))
	}
	if u, err := url.Parse(app.Website); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		info.Website, info.WebsiteHost = app.Website, u.Host
	}
	return info
}

// scopeLine is one requested permission in plain words.
type scopeLine struct {
	Scope   string
	Text    string
	Changes bool // the scope lets the app change things, not only read them
}

type authorizePage struct {
	pageBase
	App      appInfo
	Scopes   []scopeLine
	Request  *authRequest
	Login    string
	Error    string
	ReturnTo string // where the person goes afterwards, "" for the out-of-band flow
	// SignedInAs is the username of the browser's web session, which decides without
	// a password; CSRF is that session's token for the consent form.
	SignedInAs string
	CSRF       string
	// SSOLabel and SSOStart offer the company's identity provider ("" without).
	SSOLabel string
	SSOStart string
	// PasswordLogin shows the login and password fields.
	PasswordLogin bool
}

type codePage struct {
	pageBase
	App     appInfo
	Code    string
	Minutes int
}

type errorPage struct {
	pageBase
	Heading     string
	Description string
	Code        string
}

type formField struct{ Name, Value string }

type formPostPage struct {
	pageBase
	App    appInfo
	Action string
	Fields []formField
	Nonce  string
}

func (s *Server) renderAuthorize(c *gin.Context, status int, r *authRequest, login, errMsg string) {
	data := authorizePage{
		pageBase: s.pageBase(c.Request.Context(), "Authorize "+r.app.Name),
		App:      appInfoOf(r.app),
		Request:  r,
		Login:    login,
		Error:    errMsg,

		PasswordLogin: s.passwordLogin(),
	}
	sess, err := s.browserSession(c)
	if err != nil {
		s.log.ErrorContext(c.Request.Context(), "authorize page: read the browser's session", "request_id", requestID(c), "err", err)
	}
	if sess != nil {
		data.SignedInAs, data.CSRF = sess.account.Username, sess.csrf
	}
	if s.cfg.SSO.Enabled() {
		data.SSOLabel = s.cfg.SSO.ButtonLabel
		data.SSOStart = "/auth/sso?next=" + url.QueryEscape(r.pageURL())
	}
	for _, sc := range r.scopes {
		data.Scopes = append(data.Scopes, scopeLine{
			Scope:   sc,
			Text:    scopeText(sc),
			Changes: strings.HasPrefix(sc, "write") || strings.HasPrefix(sc, "admin:write") || sc == "follow",
		})
	}
	if r.RedirectURI != auth.OOBRedirect {
		if u, err := url.Parse(r.RedirectURI); err == nil {
			data.ReturnTo = u.Host
			if data.ReturnTo == "" {
				data.ReturnTo = u.Scheme + ":"
			}
		}
	}
	s.renderPage(c, status, "authorize", data, cspSource(r.RedirectURI), "")
}

// scopeWords describe each scope for the person deciding whether to allow it.
var scopeWords = map[string]string{
	"read":        "Read all your account's data: posts, timelines, notifications, follows and lists",
	"write":       "Change all your account's data: post, follow, favourite, edit your profile",
	"follow":      "Manage who you follow, block and mute",
	"push":        "Receive your notifications as push messages",
	"profile":     "See your profile: name, username and picture",
	"admin:read":  "Read all data on this server (moderators and administrators only)",
	"admin:write": "Moderate and change all data on this server (moderators and administrators only)",

	"read:accounts":      "See your account and the profiles you can see",
	"read:blocks":        "See who you block",
	"read:bookmarks":     "See your bookmarks",
	"read:favourites":    "See your favourites",
	"read:filters":       "See your filters",
	"read:follows":       "See who you follow and who follows you",
	"read:lists":         "See your lists",
	"read:mutes":         "See who you mute",
	"read:notifications": "See your notifications",
	"read:search":        "Search on your behalf",
	"read:statuses":      "See posts, including those only you may see",

	"write:accounts":      "Change your profile and account settings",
	"write:blocks":        "Block and unblock people",
	"write:bookmarks":     "Add and remove bookmarks",
	"write:conversations": "Mute and delete conversations",
	"write:favourites":    "Favourite and unfavourite posts",
	"write:filters":       "Create and change filters",
	"write:follows":       "Follow and unfollow people",
	"write:lists":         "Create and change lists",
	"write:media":         "Upload pictures and other media",
	"write:mutes":         "Mute and unmute people and conversations",
	"write:notifications": "Clear your notifications",
	"write:reports":       "Report people and posts to moderators",
	"write:statuses":      "Publish, edit and delete posts",
}

func scopeText(sc string) string {
	if t, ok := scopeWords[sc]; ok {
		return t
	}
	if strings.HasPrefix(sc, "admin:read:") {
		return "Read server moderation data: " + strings.ReplaceAll(strings.TrimPrefix(sc, "admin:read:"), "_", " ")
	}
	if strings.HasPrefix(sc, "admin:write:") {
		return "Moderate on this server: " + strings.ReplaceAll(strings.TrimPrefix(sc, "admin:write:"), "_", " ")
	}
	return sc
}
