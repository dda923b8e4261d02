package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/auth"
	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/federation"
)

// Context keys set by the middleware.
const (
	ctxRequestID = "request_id"
	ctxToken     = "token"
	ctxUser      = "user"
	ctxAccount   = "account"
	// ctxBodyLimit raises the request body limit for routes that take files.
	ctxBodyLimit = "body_limit"
	// ctxSessionAccount is the account of a page request's web session: it names whose
	// rate-limit budget the request spends and nothing else.
	ctxSessionAccount = "session_account"
)

// SessionCookie is the cookie in which the web app (web/app) keeps a browser's session:
// an access token of the instance's own web application.
const SessionCookie = "tacit_session"

func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// logRequests writes one log line per request, with an id that is also returned to the
// client in X-Request-Id so a report can be matched to the log.
func (s *Server) logRequests(c *gin.Context) {
	start := time.Now()
	id := c.GetHeader("X-Request-Id")
	if id == "" || len(id) > 64 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(ctxRequestID, id)
	c.Header("X-Request-Id", id)
	c.Next()
	s.log.InfoContext(c.Request.Context(), "request",
		"id", id, "method", c.Request.Method, "path", c.Request.URL.Path,
		"status", c.Writer.Status(), "duration_ms", float64(time.Since(start).Microseconds())/1000,
		"account_id", accountIDOf(c))
}

func accountIDOf(c *gin.Context) int64 {
	if a := currentAccount(c); a != nil {
		return a.ID
	}
	if a := sessionAccount(c); a != nil {
		return a.ID
	}
	return 0
}

// bearerToken finds the access token: Authorization header, access_token parameter
// (streaming and some older clients use the query string), or, for a WebSocket
// handshake, the Sec-WebSocket-Protocol header, where browser clients put it because
// they cannot set headers on a WebSocket.
func bearerToken(c *gin.Context) string {
	if h := c.GetHeader("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	if t := c.Query("access_token"); t != "" {
		return t
	}
	if isWebSocket(c.Request) {
		return websocketProtocol(c.Request)
	}
	return ""
}

// sessionToken is the web session's token from its cookie on a page request; "" on
// the paths that answer any origin (the API, OAuth's token endpoints, discovery; see
// cors), where a cookie must never identify anyone, and for media files, which are
// counted by nobody.
func sessionToken(c *gin.Context) string {
	p := c.Request.URL.Path
	if anyOrigin(p) || strings.HasPrefix(p, "/media/") {
		return ""
	}
	raw, err := c.Cookie(SessionCookie)
	if err != nil {
		return ""
	}
	return raw
}

// authenticate resolves the access token, if any, into the token, user and account of
// the request. A token that was sent but is not valid is refused at once: clients rely
// on 401 to notice a revoked login. Without a bearer token, a page request's session
// cookie is resolved too, but only to count the request against its account's budget.
func (s *Server) authenticate(c *gin.Context) {
	raw := bearerToken(c)
	if raw == "" {
		if session := sessionToken(c); session != "" {
			s.authenticateSession(c, session)
			return
		}
		c.Next()
		return
	}
	ctx := c.Request.Context()
	tok, err := s.auth.LookupToken(ctx, raw)
	if errors.Is(err, auth.ErrInvalidToken) {
		if !s.limits.invalidToken(c) {
			tooManyRequests(c)
			return
		}
		abort(c, http.StatusUnauthorized, "The access token is invalid")
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Set(ctxToken, tok)
	if tok.UserID != nil {
		user, acct, err := s.community.Unchecked().UserByID(ctx, *tok.UserID)
		if err != nil {
			if community.KindOf(err) == community.KindNotFound {
				abort(c, http.StatusUnauthorized, "The access token is invalid")
				return
			}
			s.fail(c, err)
			return
		}
		if user.Disabled {
			abort(c, http.StatusForbidden, "Your login is currently disabled")
			return
		}
		if !user.Approved {
			abort(c, http.StatusForbidden, community.ErrPendingApproval.Msg)
			return
		}
		c.Set(ctxUser, user)
		c.Set(ctxAccount, acct)
	}
	c.Next()
}

// authenticateSession resolves a web session's token with the checks authenticate
// makes of a bearer token, and keeps only its account, for the rate limits. The token
// authorizes nothing here: the pages check the session themselves (web/app), with
// their CSRF rules, and no handler of this package ever sees a cookie's token, so a
// cookie cannot stand in for a bearer token anywhere. A session that is not valid
// does not refuse the page, which then shows the visitor signed out, but counts per
// address like any token that is not valid.
func (s *Server) authenticateSession(c *gin.Context, raw string) {
	ctx := c.Request.Context()
	tok, err := s.auth.LookupToken(ctx, raw)
	if err != nil && !errors.Is(err, auth.ErrInvalidToken) {
		s.fail(c, err)
		return
	}
	var acct *community.Account
	if err == nil && tok.UserID != nil {
		user, a, err := s.community.Unchecked().UserByID(ctx, *tok.UserID)
		if err != nil && community.KindOf(err) != community.KindNotFound {
			s.fail(c, err)
			return
		}
		if err == nil && !user.Disabled {
			acct = a
		}
	}
	if acct == nil {
		if !s.limits.invalidToken(c) {
			tooManyRequests(c)
			return
		}
		c.Next()
		return
	}
	c.Set(ctxSessionAccount, acct)
	c.Next()
}

// sessionAccount is the account of the request's web session, as far as the rate
// limits are concerned.
func sessionAccount(c *gin.Context) *community.Account {
	if v, ok := c.Get(ctxSessionAccount); ok {
		return v.(*community.Account)
	}
	return nil
}

func currentToken(c *gin.Context) *auth.Token {
	if v, ok := c.Get(ctxToken); ok {
		return v.(*auth.Token)
	}
	return nil
}

func currentUser(c *gin.Context) *community.User {
	if v, ok := c.Get(ctxUser); ok {
		return v.(*community.User)
	}
	return nil
}

func currentAccount(c *gin.Context) *community.Account {
	if v, ok := c.Get(ctxAccount); ok {
		return v.(*community.Account)
	}
	return nil
}

// viewer is who is reading: the logged-in account or nobody.
func viewer(c *gin.Context) community.Viewer {
	return community.AsAccount(currentAccount(c))
}

// requireUser admits only requests with a user's token granting one of scopes.
func requireUser(scopes ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		tok := currentToken(c)
		if tok == nil || currentAccount(c) == nil {
			abort(c, http.StatusUnauthorized, "The access token is invalid")
			return
		}
		if !grantsAny(tok, scopes) {
			abort(c, http.StatusForbidden, "This action is outside the authorized scopes")
			return
		}
		c.Next()
	}
}

// optionalUser admits anyone, but a token that is present must grant one of scopes,
// as in Mastodon: a token is never silently ignored.
func optionalUser(scopes ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if tok := currentToken(c); tok != nil && !grantsAny(tok, scopes) {
			abort(c, http.StatusForbidden, "This action is outside the authorized scopes")
			return
		}
		c.Next()
	}
}

// requireApp admits any valid token (user or client credentials) granting one of scopes.
func requireApp(scopes ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		tok := currentToken(c)
		if tok == nil {
			abort(c, http.StatusUnauthorized, "The access token is invalid")
			return
		}
		if len(scopes) > 0 && !grantsAny(tok, scopes) {
			abort(c, http.StatusForbidden, "This action is outside the authorized scopes")
			return
		}
		c.Next()
	}
}

func grantsAny(tok *auth.Token, scopes []string) bool {
	granted := tok.ScopeList()
	for _, sc := range scopes {
		if auth.Grants(granted, sc) {
			return true
		}
	}
	return false
}

// rateLimiter is a fixed-window counter per key, the scheme Mastodon uses: N requests
// per window, reported in X-RateLimit-* headers. Keys name who is counted: "acct:"
// (a logged-in account, whatever token it uses), "app:" (an app-only token), "ip:" (a
// client address) and "peer:" (a verified federation peer).
type rateLimiter struct {
	limit  int
	window time.Duration
	mu     sync.Mutex
	counts map[string]*rateWindow
	swept  time.Time
}

type rateWindow struct {
	start time.Time
	n     int
}

func newRateLimiter(limit int, window time.Duration) *rateLimiter {
	return &rateLimiter{limit: limit, window: window, counts: map[string]*rateWindow{}}
}

// enabled reports whether the limiter counts at all (a limit of 0 disables it).
func (rl *rateLimiter) enabled() bool { return rl != nil && rl.limit > 0 }

// take counts one request for key and returns the count in the current window and
// when the window ends.
func (rl *rateLimiter) take(key string) (int, time.Time) {
	now := time.Now()
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if now.Sub(rl.swept) > rl.window {
		// Forget finished windows so the map does not grow with every client ever seen.
		for k, w := range rl.counts {
			if now.Sub(w.start) >= rl.window {
				delete(rl.counts, k)
			}
		}
		rl.swept = now
	}
	w := rl.counts[key]
	if w == nil || now.Sub(w.start) >= rl.window {
		w = &rateWindow{start: now}
		rl.counts[key] = w
	}
	w.n++
	return w.n, w.start.Add(rl.window)
}

// allow counts one request for key, sets the X-RateLimit-* headers and reports whether
// the request is within the limit. A disabled limiter allows everything.
func (rl *rateLimiter) allow(c *gin.Context, key string) bool {
	if !rl.enabled() {
		return true
	}
	n, reset := rl.take(key)
	remaining := rl.limit - n
	if remaining < 0 {
		remaining = 0
	}
	c.Header("X-RateLimit-Limit", strconv.Itoa(rl.limit))
	c.Header("X-RateLimit-Remaining", strconv.Itoa(remaining))
	c.Header("X-RateLimit-Reset", reset.UTC().Format(time.RFC3339))
	return n <= rl.limit
}

// limits are the server's rate limiters. Which one counts a request depends on who
// is asking, as far as that is known when the request arrives:
//   - anonymous client requests count per client address (clients), before anything
//     else runs;
//   - requests with a bearer token count per account, or per app token for app-only
//     tokens (clients), once the token is resolved: minting more tokens buys an
//     account no extra budget. A token that is not valid counts per address.
//   - page requests with a web session cookie count per the session's account too, so
//     that an office behind one address does not share one budget for its page views;
//     a session that is not valid counts per address.
//   - app registrations and token requests also count per address (credentials), so
//     that nobody mints tokens and apps without bound;
//   - signed federation requests count per verified peer host (peers), after the
//     signature check, at a budget sized for server-to-server traffic; one whose
//     signature fails counts per address like an anonymous client.
//
// The client address is clientAddress: X-Forwarded-For only from the configured
// trusted_proxies, IPv6 by /64.
type limits struct {
	clients     *rateLimiter
	credentials *rateLimiter
	peers       *rateLimiter
	// serverRoutes are the routes other adapters mount (federation): "METHOD
	// /pattern". Only there does a signature exempt a request from the client limit,
	// since only there is it checked.
	serverRoutes map[string]bool
}

func newLimits(cfg config.RateLimit) *limits {
	l := &limits{
		clients: newRateLimiter(cfg.Requests, cfg.Window),
		peers:   newRateLimiter(cfg.Federation, cfg.Window),
	}
	// rate_limit.requests = 0 turns the client limits off altogether (tests, or a
	// proxy in front that limits), credentials included.
	if cfg.Requests > 0 {
		l.credentials = newRateLimiter(cfg.Credentials, cfg.Window)
	}
	return l
}

func tooManyRequests(c *gin.Context) { abort(c, http.StatusTooManyRequests, "Too many requests") }

// beforeAuth counts anonymous requests per client address and hands signed federation
// requests a gate through which the federation handlers report the outcome of their
// signature check.
func (l *limits) beforeAuth(c *gin.Context) {
	// Media files are fetched without a token, many per page, and often from one office
	// address: counting them against the API's per-IP budget would lock a whole office
	// out of its timelines. They are static files and cheap to serve.
	if strings.HasPrefix(c.Request.URL.Path, "/media/") {
		c.Next()
		return
	}
	if hasSignature(c.Request) && l.serverRoutes[c.Request.Method+" "+c.FullPath()] {
		l.federation(c)
		return
	}
	// The web app's sign-up form makes accounts as POST /api/v1/accounts does.
	if c.Request.Method == http.MethodPost && c.Request.URL.Path == "/signup" && !l.allowCredentials(c) {
		tooManyRequests(c)
		return
	}
	if bearerToken(c) != "" || sessionToken(c) != "" {
		c.Next() // counted by authenticate or afterAuth, once the token is resolved
		return
	}
	if !l.clients.allow(c, "ip:"+clientAddress(c)) {
		tooManyRequests(c)
		return
	}
	c.Next()
}

// federation serves a signed server-to-server request. It is not counted yet: the
// handler verifies the signature and calls the gate, which counts the request against
// the verified peer's budget, or against the client address when the signature fails.
// A request that never reached a signature check (the instance actor, which is
// served to anyone so that peers can bootstrap their key checks) is counted against
// its address afterwards.
func (l *limits) federation(c *gin.Context) {
	consulted := false
	gate := federation.PeerGate(func(c *gin.Context, host string) bool {
		consulted = true
		if host == "" {
			return l.clients.allow(c, "ip:"+clientAddress(c))
		}
		return l.peers.allow(c, "peer:"+host)
	})
	c.Set(federation.PeerGateKey, gate)
	c.Next()
	if !consulted && l.clients.enabled() {
		l.clients.take("ip:" + clientAddress(c))
	}
}

// clientAddress is the client's address as the limits and the sign-in throttle count
// it: an IPv4 address as it is, an IPv6 address by its /64 network, since one
// subscriber commonly holds a whole /64 and could otherwise count as billions of
// clients. It comes from gin's ClientIP, which believes X-Forwarded-For only from the
// trusted proxies.
func clientAddress(c *gin.Context) string {
	ip := c.ClientIP()
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.String()
		}
	}
	return a.String()
}

// hasSignature reports whether r carries an HTTP signature (draft-cavage, in the
// Signature or Authorization header, or RFC 9421's Signature-Input).
func hasSignature(r *http.Request) bool {
	return r.Header.Get("Signature") != "" || r.Header.Get("Signature-Input") != "" ||
		strings.HasPrefix(r.Header.Get("Authorization"), "Signature ")
}

// routeSet lists an engine's routes as "METHOD /pattern".
func routeSet(e *gin.Engine) map[string]bool {
	out := map[string]bool{}
	for _, r := range e.Routes() {
		out[r.Method+" "+r.Path] = true
	}
	return out
}

// afterAuth counts requests that carried a valid bearer token or web session: per
// account for a user's token or a session, per token for an app-only token.
func (l *limits) afterAuth(c *gin.Context) {
	if strings.HasPrefix(c.Request.URL.Path, "/media/") {
		c.Next()
		return
	}
	var key string
	if tok := currentToken(c); tok != nil {
		key = "app:" + strconv.FormatInt(tok.ID, 10)
		if a := currentAccount(c); a != nil {
			key = "acct:" + strconv.FormatInt(a.ID, 10)
		}
	} else if a := sessionAccount(c); a != nil {
		key = "acct:" + strconv.FormatInt(a.ID, 10)
	} else {
		c.Next()
		return
	}
	if !l.clients.allow(c, key) {
		tooManyRequests(c)
		return
	}
	c.Next()
}

// invalidToken counts a request whose bearer token is not valid against its address,
// and reports whether it is still within the limit.
func (l *limits) invalidToken(c *gin.Context) bool {
	return l.clients.allow(c, "ip:"+clientAddress(c))
}

// allowCredentials counts an app registration or token request against its address.
func (l *limits) allowCredentials(c *gin.Context) bool {
	return l.credentials.allow(c, "ip:"+clientAddress(c))
}

// cached answers a GET from the page cache, per reader and request.
func (s *Server) cached(handler gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		var reader int64
		if a := currentAccount(c); a != nil {
			reader = a.ID
		}
		key := strconv.FormatInt(reader, 10) + " " + c.Request.URL.Path + "?" + c.Request.URL.RawQuery
		s.pages.Serve(c, key, handler)
	}
}
