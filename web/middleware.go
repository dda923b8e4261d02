package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/auth"
	"github.com/tacit-social/tacit/community"
)

// Context keys set by the middleware.
const (
	ctxRequestID = "request_id"
	ctxToken     = "token"
	ctxUser      = "user"
	ctxAccount   = "account"
	// ctxBodyLimit raises the request body limit for routes that take files.
	ctxBodyLimit = "body_limit"
)

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

// authenticate resolves the access token, if any, into the token, user and account of
// the request. A token that was sent but is not valid is refused at once: clients rely
// on 401 to notice a revoked login.
func (s *Server) authenticate(c *gin.Context) {
	raw := bearerToken(c)
	if raw == "" {
		c.Next()
		return
	}
	ctx := c.Request.Context()
	tok, err := s.auth.LookupToken(ctx, raw)
	if errors.Is(err, auth.ErrInvalidToken) {
		abort(c, http.StatusUnauthorized, "The access token is invalid")
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Set(ctxToken, tok)
	if tok.UserID != nil {
		user, acct, err := s.community.UserByID(ctx, *tok.UserID)
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
		c.Set(ctxUser, user)
		c.Set(ctxAccount, acct)
	}
	c.Next()
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

// rateLimiter is a fixed-window counter per client key (token, else IP), the same
// budget Mastodon gives: N requests per window, reported in X-RateLimit-* headers.
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

func (rl *rateLimiter) middleware(c *gin.Context) {
	// Media files are fetched without a token, many per page, and often from one office
	// address: counting them against the API's per-IP budget would lock a whole office
	// out of its timelines. They are static files and cheap to serve.
	if rl.limit <= 0 || strings.HasPrefix(c.Request.URL.Path, "/media/") {
		c.Next()
		return
	}
	key := "ip:" + c.ClientIP()
	if raw := bearerToken(c); raw != "" {
		key = "tok:" + raw
	}
	now := time.Now()
	rl.mu.Lock()
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
	n, reset := w.n, w.start.Add(rl.window)
	rl.mu.Unlock()

	remaining := rl.limit - n
	if remaining < 0 {
		remaining = 0
	}
	c.Header("X-RateLimit-Limit", strconv.Itoa(rl.limit))
	c.Header("X-RateLimit-Remaining", strconv.Itoa(remaining))
	c.Header("X-RateLimit-Reset", reset.UTC().Format(time.RFC3339))
	if n > rl.limit {
		abort(c, http.StatusTooManyRequests, "Too many requests")
		return
	}
	c.Next()
}
