package web

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// pageOf reads max_id, since_id, min_id and limit. Ids that do not parse are ignored,
// as Mastodon does; the limit is clamped to [1, max].
func pageOf(c *gin.Context, def, max int) community.Page {
	var p community.Page
	p.MaxID, _ = community.ParseID(c.Query("max_id"))
	p.SinceID, _ = community.ParseID(c.Query("since_id"))
	p.MinID, _ = community.ParseID(c.Query("min_id"))
	fmt.Sscan(c.Query("limit"), &p.Limit)
	return p.Normalize(def, max)
}

// setLinkHeader writes Mastodon's Link header for a page whose items span newest..oldest
// (the ids by which the list is paged, which for notifications or bookmarks are not the
// ids of the entities shown). Other query parameters are kept.
func (s *Server) setLinkHeader(c *gin.Context, newest, oldest int64) {
	if newest == 0 || oldest == 0 {
		return
	}
	base := s.cfg.BaseURL() + c.Request.URL.Path
	q := c.Request.URL.Query()
	for _, k := range []string{"max_id", "since_id", "min_id"} {
		q.Del(k)
	}
	next := cloneValues(q)
	next.Set("max_id", community.FormatID(oldest))
	prev := cloneValues(q)
	prev.Set("min_id", community.FormatID(newest))
	links := []string{
		fmt.Sprintf(`<%s?%s>; rel="next"`, base, next.Encode()),
		fmt.Sprintf(`<%s?%s>; rel="prev"`, base, prev.Encode()),
	}
	c.Header("Link", strings.Join(links, ", "))
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
