package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// Trends from this instance's own activity (see community/feed_trends.go). Anyone may read
// them, with any token or none, as in Mastodon; logged out, only world-scope posts
// count.

func (s *Server) mountTrends(r *gin.RouterGroup) {
	r.GET("/v1/trends", s.trendingTags)
	r.GET("/v1/trends/tags", s.trendingTags)
	r.GET("/v1/trends/statuses", s.trendingStatuses)
	r.GET("/v1/trends/links", s.trendingLinks)
}

// offsetPage reads offset and limit, as trends are paged.
func offsetPage(c *gin.Context, def, most int) (offset, limit int) {
	offset, _ = strconv.Atoi(c.Query("offset"))
	offset = min(max(offset, 0), 10_000)
	n, _ := strconv.Atoi(c.Query("limit"))
	return offset, community.Page{Limit: n}.Normalize(def, most).Limit
}

// setOffsetLink writes the Link header of an offset-paged list: next when the page was
// full, prev when it did not start at the beginning.
func (s *Server) setOffsetLink(c *gin.Context, offset, limit, n int) {
	base := s.cfg.BaseURL() + c.Request.URL.Path
	var links []string
	q := c.Request.URL.Query()
	if n == limit {
		next := cloneValues(q)
		next.Set("offset", strconv.Itoa(offset+limit))
		links = append(links, fmt.Sprintf(`<%s?%s>; rel="next"`, base, next.Encode()))
	}
	if offset > 0 {
		prev := cloneValues(q)
		prev.Set("offset", strconv.Itoa(max(0, offset-limit)))
		links = append(links, fmt.Sprintf(`<%s?%s>; rel="prev"`, base, prev.Encode()))
	}
	if len(links) > 0 {
		c.Header("Link", strings.Join(links, ", "))
	}
}

func (s *Server) trendingTags(c *gin.Context) {
	offset, limit := offsetPage(c, 10, 20)
	tags, err := s.community.TrendingTags(c.Request.Context(), viewer(c), offset, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.tagEntities(c.Request.Context(), viewer(c), tags)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.setOffsetLink(c, offset, limit, len(out))
	c.JSON(http.StatusOK, out)
}

func (s *Server) trendingStatuses(c *gin.Context) {
	offset, limit := offsetPage(c, 20, 40)
	page, err := s.community.TrendingStatuses(c.Request.Context(), viewer(c), offset, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.statusesFiltered(c.Request.Context(), viewer(c), page.Statuses, page.Filters)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.setOffsetLink(c, offset, limit, len(out))
	c.JSON(http.StatusOK, out)
}

// trendingLinks answers an empty list: trending links rank preview cards, and Tacit
// does not fetch link previews yet, so there is nothing to rank. An empty list (rather
// than 404) keeps clients' explore pages working.
func (s *Server) trendingLinks(c *gin.Context) {
	c.JSON(http.StatusOK, []struct{}{})
}
