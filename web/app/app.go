// Package app is Tacit's own web app: server-rendered pages for people, at the
// instance's root, on the same gin engine as the Mastodon API. It is a second
// presenter of the domain beside the API: every page reads and writes through
// community.Service, auth.Service and search.Searcher, exactly as the API handlers do,
// and never decides on its own who may see what.
//
// JavaScript is an enhancement only (htmx for in-place actions): every flow is a
// plain form that answers with a redirect (POST-redirect-GET).
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/auth"
	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/search"
	"github.com/tacit-social/tacit/sso"
	"github.com/tacit-social/tacit/web"
)

// ClientID names the instance's own web application, which a migration registers
// (store/migrations/*/00036_web_application.sql). Web sessions are its access tokens.
const ClientID = web.SessionClientID

// sessionScopes are what a web session may do: everything a person can do through
// the pages, nothing of the administration API.
var sessionScopes = []string{"read", "write", "follow"}

// Deps are what the web app needs from the rest of the program.
type Deps struct {
	Config    config.Config
	Community *community.Service
	Auth      *auth.Service
	// Search answers "who knows …?"; nil shows the experts page as unavailable.
	Search *search.Searcher
	Logger *slog.Logger

	// Federation reports deliveries to other instances for the admin pages; nil shows
	// the federation page as unavailable.
	Federation FederationStatus
	// SSO signs people in through the company's identity provider; nil when single
	// sign-on is not configured.
	SSO *sso.Provider
}

// App serves the web pages of one instance.
type App struct {
	cfg       config.Config
	community *community.Service
	auth      *auth.Service
	search    *search.Searcher
	log       *slog.Logger
	// webApp is the application whose tokens are web sessions.
	webApp *auth.Application
	// secure marks cookies Secure: the instance is served over https.
	secure bool
	// engine is the gin engine the pages are mounted on; live streams are handed
	// back to it (live.go).
	engine *gin.Engine

	// federation reports deliveries to other instances (admin_federation.go).
	federation FederationStatus
	// sso is the company's identity provider; nil without single sign-on.
	sso *sso.Provider
}

// New prepares the web app; it loads the web application's registration.
func New(ctx context.Context, d Deps) (*App, error) {
	a := &App{
		cfg:       d.Config,
		community: d.Community,
		auth:      d.Auth,
		search:    d.Search,
		log:       d.Logger,
		secure:    d.Config.Protocol == config.ProtocolHTTPS,
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	a.federation = d.Federation
	a.sso = d.SSO
	webApp, err := d.Auth.ApplicationByClientID(ctx, ClientID)
	if err != nil {
		return nil, fmt.Errorf("load the web application %q (is the database migrated?): %w", ClientID, err)
	}
	a.webApp = webApp
	return a, nil
}

// Routes mounts the pages on the engine the API runs on, so that they share its
// request log, panic recovery and rate limits. The profile and status pages are not
// mounted here: their addresses belong to federation, which hands browsers to
// ProfilePage and StatusPage.
func (a *App) Routes(e *gin.Engine) {
	a.engine = e
	e.GET("/assets/*file", a.asset)
	e.GET("/live/:timeline", a.page(a.live))
	e.GET("/", a.page(a.index))
	e.GET("/timelines/:name", a.page(a.timeline))
	e.GET("/tags/:tag", a.page(a.tagPage))
	e.GET("/login", a.page(a.loginForm))
	e.POST("/login", a.form(a.login))
	e.POST("/logout", a.form(a.logout))
	e.GET("/auth/sso", a.page(a.ssoStart))
	e.GET("/auth/sso/callback", a.page(a.ssoCallback))
	e.GET("/signup", a.page(a.signupForm))
	e.POST("/signup", a.form(a.signup))
	e.GET("/notifications", a.page(a.signedIn(a.notifications)))
	e.GET("/bookmarks", a.page(a.signedIn(a.bookmarks)))
	e.GET("/experts", a.page(a.signedIn(a.experts)))
	e.GET("/settings", a.page(a.signedIn(a.settingsForm)))
	a.mountCompose(e)
	e.GET("/statuses/:id/edit", a.page(a.signedIn(a.editForm)))
	e.POST("/statuses/:id/:action", a.form(a.signedIn(a.statusAction)))
	e.POST("/accounts/:id/:action", a.form(a.signedIn(a.accountAction)))
	a.mountBoards(e)
	a.mountModeration(e)
	a.mountAdmin(e)
	a.mountData(e)
}

// ProfilePage serves /@user to browsers (federation serves it to ActivityPub clients).
func (a *App) ProfilePage(c *gin.Context) { a.page(a.profile)(c) }

// StatusPage serves /@user/:id to browsers.
func (a *App) StatusPage(c *gin.Context) { a.page(a.status)(c) }

// handler is a page or form handler with the request's session (nil when signed out).
type handler func(c *gin.Context, s *session)

// page wraps a GET handler: it resolves the session and sets the security headers.
func (a *App) page(h handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		s, ok := a.loadSession(c)
		if !ok {
			return
		}
		h(c, s)
	}
}

// form wraps a state-changing handler: the CSRF token must match (else 403 and
// nothing is written), then the handler runs.
func (a *App) form(h handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBytes)
		if err := c.Request.ParseForm(); err != nil {
			a.renderError(c, nil, http.StatusBadRequest, "error.bad_form")
			return
		}
		s, ok := a.loadSession(c)
		if !ok {
			return
		}
		if !a.checkCSRF(c, s) {
			a.log.WarnContext(c.Request.Context(), "web form refused: CSRF token missing or wrong",
				"path", c.Request.URL.Path, "request_id", c.GetString("request_id"))
			a.renderError(c, s, http.StatusForbidden, "error.csrf")
			return
		}
		h(c, s)
	}
}

// signedIn sends signed-out visitors to the sign-in page.
func (a *App) signedIn(h handler) handler {
	return func(c *gin.Context, s *session) {
		if s == nil {
			if c.Request.Method == http.MethodGet {
				a.redirect(c, "/login?next="+urlQueryEscape(c.Request.URL.RequestURI()))
				return
			}
			a.redirect(c, "/login")
			return
		}
		h(c, s)
	}
}

// maxFormBytes bounds a form body: the longest forms (a post, a profile) hold a few
// hundred characters.
const maxFormBytes = 64 << 10
