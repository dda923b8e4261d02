package web

import (
	"net/http"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
)

// Mastodon answers /api/v1/instance/ exactly as /api/v1/instance, and clients rely on
// it: Mastodon.py reads the server's version from /api/v1/instance/, and toot opens
// /oauth/authorize/?… in the browser. gin can only redirect such requests, which
// changes a POST into a GET for many clients, so a trailing slash is removed before
// routing instead, when the path with it matches no route and the path without it
// does. Paths that match as they are (including routes registered with a slash) are
// left alone, so what a signature covers is never rewritten on its way to a handler.

// routeMatcher tells whether a path matches one of the engine's route patterns, for
// any method.
type routeMatcher struct {
	once     sync.Once
	patterns [][]string // segments; ":x" matches one segment, "*x" the rest
}

func (m *routeMatcher) load(e *gin.Engine) {
	m.once.Do(func() {
		seen := map[string]bool{}
		for _, r := range e.Routes() {
			if seen[r.Path] {
				continue
			}
			seen[r.Path] = true
			m.patterns = append(m.patterns, strings.Split(r.Path, "/"))
		}
	})
}

func (m *routeMatcher) matches(path string) bool {
	segs := strings.Split(path, "/")
	for _, p := range m.patterns {
		if matchSegments(p, segs) {
			return true
		}
	}
	return false
}

func matchSegments(pattern, segs []string) bool {
	for i, p := range pattern {
		if strings.HasPrefix(p, "*") {
			return true
		}
		if i >= len(segs) {
			return false
		}
		switch {
		case strings.HasPrefix(p, ":"):
			if segs[i] == "" {
				return false
			}
		case strings.Contains(p, ":"):
			// A parameter after a literal prefix within a segment (/@:username).
			prefix, _, _ := strings.Cut(p, ":")
			if !strings.HasPrefix(segs[i], prefix) || len(segs[i]) == len(prefix) {
				return false
			}
		case p != segs[i]:
			return false
		}
	}
	return len(pattern) == len(segs)
}

// serveHTTP routes a request, first removing a trailing slash that only a path
// without it would match.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
		s.routes.load(s.engine)
		trimmed := strings.TrimRight(p, "/")
		if trimmed != "" && !s.routes.matches(p) && s.routes.matches(trimmed) {
			u := *r.URL
			u.Path = trimmed
			if u.RawPath != "" {
				u.RawPath = strings.TrimRight(u.RawPath, "/")
			}
			r2 := r.Clone(r.Context())
			r2.URL = &u
			r2.RequestURI = u.RequestURI()
			r = r2
		}
	}
	s.engine.ServeHTTP(w, r)
}
