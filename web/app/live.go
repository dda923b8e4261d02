package app

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// Live updates: a timeline page opens an EventSource on /live/<timeline>, which this
// handler passes to the API's Server-Sent Events endpoint with the session's token
// added on the server side, in the Authorization header. The page never holds the
// token (the cookie is HttpOnly), and the stream gets the API's audience rules,
// filters and revocation checks unchanged. The script only says that new posts
// arrived and offers to show them: the page itself stays server-rendered.

// liveStreams maps a timeline to its stream under /api/v1/streaming/.
var liveStreams = map[string]string{
	"home":       "user",
	"department": "public/local",
	"company":    "public",
	"world":      "public",
	"tag":        "hashtag",
}

// liveSource is the address a timeline page listens to, "" for none.
func liveSource(timeline, tag string) string {
	if _, ok := liveStreams[timeline]; !ok {
		return ""
	}
	if timeline == "tag" {
		return "/live/tag?tag=" + url.QueryEscape(tag)
	}
	return "/live/" + timeline
}

// live is GET /live/:timeline.
func (a *App) live(c *gin.Context, s *session) {
	path, ok := liveStreams[c.Param("timeline")]
	if !ok {
		a.notFound(c, s)
		return
	}
	if s == nil {
		c.String(http.StatusUnauthorized, "Sign in first")
		c.Abort()
		return
	}
	req := c.Request.Clone(c.Request.Context())
	req.URL.Path = "/api/v1/streaming/" + path
	q := url.Values{}
	if tag := community.NormalizeTag(c.Query("tag")); tag != "" {
		q.Set("tag", tag)
	}
	req.URL.RawQuery = q.Encode()
	req.RequestURI = req.URL.RequestURI()
	req.Header.Set("Authorization", "Bearer "+s.raw)
	req.Header.Del("Cookie")
	c.Request = req
	a.engine.HandleContext(c)
}
