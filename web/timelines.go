package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

func (s *Server) mountTimelines(r *gin.RouterGroup) {
	r.GET("/v1/timelines/home", requireUser("read:statuses"), s.cached(s.homeTimeline))
	r.GET("/v1/timelines/public", optionalUser("read:statuses"), s.cached(s.publicTimeline))
	r.GET("/v1/timelines/tag/:hashtag", optionalUser("read:statuses"), s.cached(s.tagTimeline))
	r.GET("/v1/bookmarks", requireUser("read:bookmarks"), s.bookmarks)
	r.GET("/v1/favourites", requireUser("read:favourites"), s.favourites)
}

func (s *Server) homeTimeline(c *gin.Context) {
	page, err := s.community.HomeTimeline(c.Request.Context(), currentAccount(c), pageOf(c, community.DefaultLimit, community.MaxLimit))
	s.renderStatusPage(c, page, err)
}

// publicQuery reads the filters the public and hashtag timelines share.
func (s *Server) publicQuery(c *gin.Context) (community.PublicQuery, bool) {
	p, ok := s.mustParams(c)
	if !ok {
		return community.PublicQuery{}, false
	}
	q := community.PublicQuery{Page: pageOf(c, community.DefaultLimit, community.MaxLimit)}
	for _, f := range []struct {
		key string
		dst *bool
	}{{"local", &q.Local}, {"remote", &q.Remote}, {"only_media", &q.OnlyMedia}} {
		v, _, err := p.Bool(f.key)
		if err != nil {
			s.fail(c, badRequest(err.Error()))
			return q, false
		}
		*f.dst = v
	}
	return q, true
}

func (s *Server) publicTimeline(c *gin.Context) {
	q, ok := s.publicQuery(c)
	if !ok {
		return
	}
	page, err := s.community.PublicTimeline(c.Request.Context(), viewer(c), q)
	s.renderStatusPage(c, page, err)
}

func (s *Server) tagTimeline(c *gin.Context) {
	q, ok := s.publicQuery(c)
	if !ok {
		return
	}
	p, _ := readParams(c)
	tq := community.TagQuery{PublicQuery: q, Any: p.Strings("any"), All: p.Strings("all"), None: p.Strings("none")}
	page, err := s.community.TagTimeline(c.Request.Context(), viewer(c), c.Param("hashtag"), tq)
	s.renderStatusPage(c, page, err)
}

func (s *Server) bookmarks(c *gin.Context) {
	page, err := s.community.Bookmarks(c.Request.Context(), currentAccount(c), pageOf(c, community.DefaultLimit, community.MaxLimit))
	s.renderStatusPage(c, page, err)
}

func (s *Server) favourites(c *gin.Context) {
	page, err := s.community.Favourites(c.Request.Context(), currentAccount(c), pageOf(c, community.DefaultLimit, community.MaxLimit))
	s.renderStatusPage(c, page, err)
}

// renderStatusPage answers with a page of statuses and the Link header that pages
// through the list by its own ids (bookmark ids for bookmarks, and so on).
func (s *Server) renderStatusPage(c *gin.Context, page community.StatusPage, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.statusesFiltered(c.Request.Context(), viewer(c), page.Statuses, page.Filters)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.setLinkHeader(c, page.NewestID, page.OldestID)
	c.JSON(http.StatusOK, out)
}
