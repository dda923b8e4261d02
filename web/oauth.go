package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/auth"
	"github.com/tacit-social/tacit/community"
)

// OAuth 2 as Mastodon clients expect it: app registration (POST /api/v1/apps), the
// authorization code flow with PKCE through a server-rendered login page, the password,
// client_credentials and refresh_token grants, revocation (RFC 7009) and the
// authorization server metadata (RFC 8414).

func (s *Server) mountOAuth(r *gin.Engine) {
	r.GET("/.well-known/oauth-authorization-server", s.oauthMetadata)
	r.GET("/oauth/authorize", s.authorizeForm)
	r.POST("/oauth/authorize", s.authorizeSubmit)
	r.POST("/oauth/token", s.oauthToken)
	r.POST("/oauth/revoke", s.oauthRevoke)
	r.POST("/api/v1/apps", s.createApp)
	// Any valid token may ask which app it belongs to, whatever its scopes; Mastodon
	// requires none (a "profile"-only token included).
	r.GET("/api/v1/apps/verify_credentials", requireApp(), s.verifyApp)
}

// applicationJSON is Mastodon's Application entity.
type applicationJSON struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Website      *string  `json:"website"`
	Scopes       []string `json:"scopes"`
	RedirectURI  string   `json:"redirect_uri"`
	RedirectURIs []string `json:"redirect_uris"`
	VapidKey     string   `json:"vapid_key"`
}

// credentialApplicationJSON is Mastodon's CredentialApplication: an Application with
// its client credentials, shown once when it is registered.
type credentialApplicationJSON struct {
	applicationJSON
	ClientID              string `json:"client_id"`
	ClientSecret          string `json:"client_secret"`
	ClientSecretExpiresAt int64  `json:"client_secret_expires_at"`
}

func applicationOf(app *auth.Application) applicationJSON {
	out := applicationJSON{
		ID:           community.FormatID(app.ID),
		Name:         app.Name,
		Scopes:       app.ScopeList(),
		RedirectURI:  app.RedirectURIs,
		RedirectURIs: app.RedirectURIList(),
	}
	if app.Website != "" {
		w := app.Website
		out.Website = &w
	}
	return out
}

func (s *Server) createApp(c *gin.Context) {
	if !s.limits.allowCredentials(c) {
		tooManyRequests(c)
		return
	}
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	app, err := s.auth.CreateApplication(c.Request.Context(), auth.NewApplication{
		Name:         p.Get("client_name"),
		Website:      p.Get("website"),
		RedirectURIs: p.Strings("redirect_uris"),
		Scopes:       p.Strings("scopes"),
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, credentialApplicationJSON{
		applicationJSON: applicationOf(app),
		ClientID:        app.ClientID,
		ClientSecret:    app.ClientSecret,
	})
}

func (s *Server) verifyApp(c *gin.Context) {
	app, err := s.auth.ApplicationByID(c.Request.Context(), currentToken(c).ApplicationID)
	if err != nil {
		if community.KindOf(err) == community.KindNotFound {
			// The application is gone under its token: the token authenticates nothing.
			abort(c, http.StatusUnauthorized, "The access token is invalid")
			return
		}
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, applicationOf(app))
}

// oauthMetadata is RFC 8414's discovery document, with the fields Mastodon 4.3 serves.
func (s *Server) oauthMetadata(c *gin.Context) {
	base := s.cfg.BaseURL()
	grants := []string{"authorization_code", "password", "client_credentials", "refresh_token"}
	if !s.passwordLogin() {
		grants = []string{"authorization_code", "client_credentials", "refresh_token"}
	}
	c.JSON(http.StatusOK, gin.H{
		"issuer":                                base + "/",
		"service_documentation":                 "https://docs.joinmastodon.org/",
		"authorization_endpoint":                base + "/oauth/authorize",
		"token_endpoint":                        base + "/oauth/token",
		"app_registration_endpoint":             base + "/api/v1/apps",
		"revocation_endpoint":                   base + "/oauth/revoke",
		"scopes_supported":                      auth.AllScopes(),
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"code_challenge_methods_supported":      []string{auth.PKCEMethodS256},
		"grant_types_supported":                 grants,
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
	})
}

// tokenJSON is Mastodon's Token entity, plus the refresh token when one is issued.
type tokenJSON struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	CreatedAt    int64  `json:"created_at"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// oauthFail ends a token or revocation request with RFC 6749's error body. Errors that
// are not OAuth errors go through the usual mapping.
func (s *Server) oauthFail(c *gin.Context, err error) {
	oe, ok := auth.AsOAuthError(err)
	if !ok {
		s.fail(c, err)
		return
	}
	status := http.StatusBadRequest
	switch oe.Code {
	case auth.ErrInvalidClient.Code:
		status = http.StatusUnauthorized
		if _, _, basic := c.Request.BasicAuth(); basic {
			c.Header("WWW-Authenticate", `Basic realm="`+s.cfg.Host+`"`)
		}
	case auth.ErrUnauthorizedClient.Code:
		status = http.StatusForbidden
	}
	c.AbortWithStatusJSON(status, apiError{Error: oe.Code, ErrorDescription: oe.Description})
}

// clientCredentials reads the client's id and secret from HTTP Basic authentication
// (client_secret_basic) or else from the body (client_secret_post).
func clientCredentials(c *gin.Context, p *params) (id, secret string) {
	if user, pass, ok := c.Request.BasicAuth(); ok {
		// RFC 6749 2.3.1: both parts are form-encoded before going into the header.
		if u, err := url.QueryUnescape(user); err == nil {
			user = u
		}
		if s, err := url.QueryUnescape(pass); err == nil {
			pass = s
		}
		return user, pass
	}
	return p.Get("client_id"), p.Get("client_secret")
}

// errTooManyLogins refuses a password check for a login name that failed too often.
var errTooManyLogins = errors.New("too many failed logins")

// checkPassword authenticates a user by username or e-mail, within the login throttle
// (see auth.LoginAllowed): failures count per account, whichever name was typed, and
// per client address.
func (s *Server) checkPassword(c *gin.Context, login, password string) (*community.User, *community.Account, error) {
	ctx := c.Request.Context()
	addr := clientAddress(c)
	subject, err := s.auth.LoginSubject(ctx, login)
	if err != nil {
		return nil, nil, err
	}
	if !s.auth.LoginAllowed(subject, addr) {
		s.log.WarnContext(ctx, "login refused: too many failed attempts", "login", login, "client", addr)
		return nil, nil, errTooManyLogins
	}
	user, acct, err := s.community.Authenticate(ctx, login, password)
	switch {
	case errors.Is(err, community.ErrBadLogin):
		s.auth.LoginFailed(subject, addr)
	case err == nil:
		s.auth.LoginSucceeded(subject, addr)
	}
	return user, acct, err
}

// requestedScopes reads the scope parameter of a token request: known scopes only,
// "read" when none, and never more than the application registered.
func requestedScopes(p *params, app *auth.Application) ([]string, error) {
	scopes, unknown := auth.ParseScopes(strings.Join(p.Strings("scope"), " "))
	if len(unknown) > 0 {
		return nil, &auth.OAuthError{Code: auth.ErrInvalidScope.Code, Description: "Unknown scope: " + unknown[0]}
	}
	if len(scopes) == 0 {
		scopes = []string{"read"}
	}
	if !auth.Subset(scopes, app.ScopeList()) {
		return nil, auth.ErrInvalidScope
	}
	return scopes, nil
}

func (s *Server) oauthToken(c *gin.Context) {
	// RFC 6749 5.1: token responses must not be cached anywhere.
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	p, err := readParams(c)
	if err != nil {
		s.oauthFail(c, auth.InvalidRequest("The request body cannot be read: "+err.Error()))
		return
	}
	grant := p.Get("grant_type")
	switch grant {
	case "authorization_code", "password", "client_credentials", "refresh_token":
	case "":
		s.oauthFail(c, auth.InvalidRequest("The grant_type parameter is missing."))
		return
	default:
		s.oauthFail(c, auth.ErrUnsupportedGrantType)
		return
	}
	// Every grant but a refresh mints a new token; a refresh replaces one.
	if grant != "refresh_token" && !s.limits.allowCredentials(c) {
		tooManyRequests(c)
		return
	}
	ctx := c.Request.Context()
	id, secret := clientCredentials(c, p)
	app, err := s.auth.AuthenticateClient(ctx, id, secret)
	if err != nil {
		s.oauthFail(c, err)
		return
	}
	var tok *auth.IssuedToken
	switch grant {
	case "authorization_code":
		tok, err = s.auth.ExchangeCode(ctx, app, auth.CodeExchange{
			Code:         p.Get("code"),
			RedirectURI:  p.Get("redirect_uri"),
			CodeVerifier: p.Get("code_verifier"),
		})
	case "refresh_token":
		var scopes []string
		if p.Get("scope") != "" {
			var unknown []string
			scopes, unknown = auth.ParseScopes(p.Get("scope"))
			if len(unknown) > 0 {
				s.oauthFail(c, &auth.OAuthError{Code: auth.ErrInvalidScope.Code, Description: "Unknown scope: " + unknown[0]})
				return
			}
		}
		tok, err = s.auth.RefreshToken(ctx, app, p.Get("refresh_token"), scopes)
	case "client_credentials":
		var scopes []string
		if scopes, err = requestedScopes(p, app); err == nil {
			tok, err = s.auth.IssueToken(ctx, app.ID, 0, 0, scopes, false)
		}
	case "password":
		tok, err = s.passwordGrant(c, p, app)
		if errors.Is(err, errTooManyLogins) {
			tooManyRequests(c)
			return
		}
	}
	if err != nil {
		s.oauthFail(c, err)
		return
	}
	c.JSON(http.StatusOK, tokenJSON{
		AccessToken:  tok.AccessToken,
		TokenType:    "Bearer",
		Scope:        tok.Token.Scopes,
		CreatedAt:    tok.Token.CreatedAt.Unix(),
		RefreshToken: tok.RefreshToken,
	})
}

// passwordGrant is the resource owner password grant: the user's login (username or
// e-mail) and password, straight from a trusted client.
func (s *Server) passwordGrant(c *gin.Context, p *params, app *auth.Application) (*auth.IssuedToken, error) {
	if !s.passwordLogin() {
		return nil, &auth.OAuthError{Code: auth.ErrUnsupportedGrantType.Code, Description: errPasswordsOff}
	}
	login, password := strings.TrimSpace(p.Get("username")), p.Get("password")
	if login == "" || password == "" {
		return nil, auth.InvalidRequest("The username and password parameters are required.")
	}
	scopes, err := requestedScopes(p, app)
	if err != nil {
		return nil, err
	}
	ctx := c.Request.Context()
	user, acct, err := s.checkPassword(c, login, password)
	switch {
	case errors.Is(err, community.ErrBadLogin):
		return nil, auth.ErrInvalidGrant
	case community.KindOf(err) == community.KindForbidden:
		return nil, &auth.OAuthError{Code: auth.ErrInvalidGrant.Code, Description: err.Error()}
	case err != nil:
		return nil, err
	}
	return s.auth.IssueToken(ctx, app.ID, user.ID, acct.ID, scopes, true)
}

// oauthRevoke is RFC 7009 revocation with Mastodon's answers: 200 {} for any token,
// 403 unauthorized_client when the client's own credentials are wrong.
func (s *Server) oauthRevoke(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	p, err := readParams(c)
	if err != nil {
		s.oauthFail(c, auth.InvalidRequest("The request body cannot be read: "+err.Error()))
		return
	}
	ctx := c.Request.Context()
	id, secret := clientCredentials(c, p)
	app, err := s.auth.AuthenticateClient(ctx, id, secret)
	if errors.Is(err, auth.ErrInvalidClient) {
		s.oauthFail(c, auth.ErrUnauthorizedClient)
		return
	}
	if err != nil {
		s.oauthFail(c, err)
		return
	}
	token := p.Get("token")
	if token == "" {
		s.oauthFail(c, auth.InvalidRequest("The token parameter is missing."))
		return
	}
	if err := s.auth.RevokeToken(ctx, app, token); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{})
}
