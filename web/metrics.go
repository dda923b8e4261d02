package web

import (
	"time"

	"github.com/gin-gonic/gin"
)

// RequestObserver is told of every answered request: its method, the route template
// that matched ("" for none) and the status sent. Routes, not paths, keep the
// observer's labels bounded whatever addresses clients make up.
type RequestObserver func(method, route string, status int, took time.Duration)

// observeRequests reports each request to observe once it has been answered.
func observeRequests(observe RequestObserver) gin.HandlerFunc {
	if observe == nil {
		return func(c *gin.Context) { c.Next() }
	}
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		observe(c.Request.Method, c.FullPath(), c.Writer.Status(), time.Since(start))
	}
}

// StreamingConnections counts the open streaming connections, for the metrics.
func (s *Server) StreamingConnections() int { return s.hub.Stats().Connections }
