// Package web serves Tacit over HTTP: the Mastodon client API, OAuth 2, and the
// instance's discovery documents. It translates between HTTP and the domain; the rules
// themselves live in the domain packages.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/auth"
	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/pagecache"
	"github.com/tacit-social/tacit/search"
	"github.com/tacit-social/tacit/store"
	"github.com/tacit-social/tacit/streaming"
)

// Version is Tacit's own version; the API reports it inside a Mastodon version string.
const Version = "0.1.0"

// mastodonAPIVersion is the Mastodon release whose client API Tacit follows.
const mastodonAPIVersion = "4.3.0"

// MastodonVersion is the version string clients parse to decide which features to use.
const MastodonVersion = mastodonAPIVersion + " (compatible; Tacit " + Version + ")"

// Deps are what the web layer needs from the rest of the program.
type Deps struct {
	Config    config.Config
	Community *community.Service
	Auth      *auth.Service
	Logger    *slog.Logger
	// Ping checks that the database answers, for /health.
	Ping func(ctx context.Context) error
	// Routes lets other adapters (federation) mount their own endpoints.
	Routes []func(*gin.Engine)
	// Resolver looks up remote accounts and statuses for search with resolve=true; nil
	// makes resolve=true behave like resolve=false.
	Resolver Resolver
	// Search answers searches (people, posts, hashtags, experts); nil answers them
	// with 503.
	Search *search.Searcher
	// ObserveRequest, when set, is told of every answered request (the metrics).
	ObserveRequest RequestObserver
}

// Server is the HTTP front of one instance.
type Server struct {
	cfg       config.Config
	community *community.Service
	auth      *auth.Service
	log       *slog.Logger
	ping      func(ctx context.Context) error
	engine    *gin.Engine
	resolver  Resolver
	hub       *streaming.Hub
	// recheck overrides how often streams check their token (tests); 0 is the default.
	recheck atomic.Int64
	// heartbeat overrides the event streams' keep-alive interval (tests); 0 is the
	// default.
	heartbeat atomic.Int64
	searcher  *search.Searcher
	limits    *limits
	routes    routeMatcher
	// pages keeps the answers to the most read GETs until the next write.
	pages *pagecache.Cache
}

// New builds the server and its routes.
func New(d Deps) *Server {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{
		cfg:       d.Config,
		community: d.Community,
		auth:      d.Auth,
		log:       d.Logger,
		ping:      d.Ping,
		engine:    gin.New(),
		resolver:  d.Resolver,
		searcher:  d.Search,
		pages:     pagecache.New(store.ChangesOf(d.Community.DB())),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.hub = streaming.New(streaming.Options{Community: d.Community, Renderer: streamRenderer{s}, Logger: s.log})
	bus := d.Community.Events()
	if bus != nil {
		bus.Subscribe(s.hub.Handle)
	}
	s.watchRevocations(bus)
	e := s.engine
	e.HandleMethodNotAllowed = false
	e.RedirectTrailingSlash = false
	// Only the configured proxies may say who the client is: gin trusts every proxy
	// by default, and then anyone can claim any address with X-Forwarded-For and
	// escape the per-address limits. Config.Validate has checked the entries.
	if err := e.SetTrustedProxies(d.Config.TrustedProxies); err != nil {
		s.log.Error("trusted_proxies: ignored", "err", err)
		_ = e.SetTrustedProxies(nil)
	}
	s.limits = newLimits(d.Config.RateLimit)
	e.Use(s.logRequests, observeRequests(d.ObserveRequest), s.recover, cors, s.limits.beforeAuth, s.authenticate, s.limits.afterAuth, s.refuseBadText)

	e.GET("/health", s.health)
	s.mountOAuth(e)
	s.mountInstance(e)
	api := e.Group("/api")
	s.mountAccounts(api)
	s.mountStatuses(api)
	s.mountTimelines(api)
	s.mountNotifications(api)
	s.mountSearch(api)
	s.mountMedia(api)
	s.mountPolls(api)
	s.mountMediaFiles(e)
	s.mountLists(api)
	s.mountFilters(api)
	s.mountConversations(api)
	s.mountTags(api)
	s.mountScheduled(api)
	s.mountSuggestions(api)
	s.mountTrends(api)
	s.mountStreaming(api)
	s.mountExperts(api)
	s.mountBoards(api)
	s.mountReports(api)
	s.mountAdmin(api)
	s.mountExport(api)
	own := routeSet(e)
	for _, r := range d.Routes {
		r(e)
	}
	s.limits.serverRoutes = map[string]bool{}
	for r := range routeSet(e) {
		if !own[r] {
			s.limits.serverRoutes[r] = true
		}
	}
	e.NoRoute(func(c *gin.Context) {
		if strings.HasPrefix(c.Request.URL.Path, "/api/") {
			abort(c, http.StatusNotFound, "Record not found")
			return
		}
		c.String(http.StatusNotFound, "Not found")
	})
	return s
}

// Handler is the server as an http.Handler. It accepts a trailing slash on every
// route, as Mastodon does (see serveHTTP).
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Server) health(c *gin.Context) {
	if s.ping != nil {
		if err := s.ping(c.Request.Context()); err != nil {
			s.log.ErrorContext(c.Request.Context(), "health check: database does not answer", "err", err)
			c.String(http.StatusServiceUnavailable, "database unavailable")
			return
		}
	}
	c.String(http.StatusOK, "OK")
}

// recover turns a panic into a logged 500 instead of a dropped connection.
func (s *Server) recover(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			s.log.ErrorContext(c.Request.Context(), "panic while serving", "request_id", requestID(c), "panic", r)
			abort(c, http.StatusInternalServerError, "Internal server error")
		}
	}()
	c.Next()
}

// anyOrigin reports whether the path answers scripts of any origin (cors).
func anyOrigin(p string) bool {
	return strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/oauth/token") || strings.HasPrefix(p, "/oauth/revoke") ||
		strings.HasPrefix(p, "/.well-known/") || strings.HasPrefix(p, "/nodeinfo/")
}

// cors lets browser-based clients (Elk, Phanpy, Pinafore…) call the API from their own
// origin, as Mastodon does. Credentials travel in the Authorization header, never in
// cookies, so a wildcard origin is safe.
func cors(c *gin.Context) {
	if !anyOrigin(c.Request.URL.Path) {
		c.Next()
		return
	}
	h := c.Writer.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "Link, X-RateLimit-Reset, X-RateLimit-Limit, X-RateLimit-Remaining, X-Request-Id, Idempotency-Key")
	if c.Request.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "POST, PUT, DELETE, GET, PATCH, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key, Accept")
		h.Set("Access-Control-Max-Age", "86400")
		c.AbortWithStatus(http.StatusNoContent)
		return
	}
	c.Next()
}
