package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// Followed hashtags and hashtag pages.

func (s *Server) mountTags(r *gin.RouterGroup) {
	// Any token (or none) may read a hashtag, as in Mastodon.
	r.GET("/v1/tags/:name", s.getTag)
	r.POST("/v1/tags/:name/follow", requireUser("write:follows"), s.followTag)
	r.POST("/v1/tags/:name/unfollow", requireUser("write:follows"), s.unfollowTag)
	r.GET("/v1/followed_tags", requireUser("read:follows"), s.followedTags)
}

// tagEntities renders hashtags with their history as the viewer may count it.
// Following is present only for a logged-in viewer, as in Mastodon.
func (s *Server) tagEntities(ctx context.Context, v community.Viewer, tags []community.TagInfo) ([]Tag, error) {
	ids := make([]int64, 0, len(tags))
	for _, t := range tags {
		if t.ID != 0 {
			ids = append(ids, t.ID)
		}
	}
	hist, err := s.community.TagHistories(ctx, v, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Tag, 0, len(tags))
	for _, t := range tags {
		e := Tag{ID: community.FormatID(t.ID), Name: t.Name, URL: s.community.TagURL(t.Name), History: []TagHistory{}}
		if t.ID == 0 {
			e.ID = "" // never stored: Mastodon has no id for it either
		}
		if days, ok := hist[t.ID]; ok {
			e.History = tagHistory(days)
		}
		if v.AccountID() != 0 {
			following := t.Following
			e.Following = &following
		}
		out = append(out, e)
	}
	return out, nil
}

func tagHistory(days []community.TagDay) []TagHistory {
	out := make([]TagHistory, 0, len(days))
	for _, d := range days {
		out = append(out, TagHistory{Day: strconv.FormatInt(d.Day.Unix(), 10), Uses: strconv.Itoa(d.Uses), Accounts: strconv.Itoa(d.Accounts)})
	}
	return out
}

func (s *Server) renderTag(c *gin.Context, t *community.TagInfo, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.tagEntities(c.Request.Context(), viewer(c), []community.TagInfo{*t})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out[0])
}

func (s *Server) getTag(c *gin.Context) {
	t, err := s.community.Tag(c.Request.Context(), viewer(c), c.Param("name"))
	s.renderTag(c, t, err)
}

func (s *Server) followTag(c *gin.Context) {
	t, err := s.community.FollowTag(c.Request.Context(), currentAccount(c), c.Param("name"))
	s.renderTag(c, t, err)
}

func (s *Server) unfollowTag(c *gin.Context) {
	t, err := s.community.UnfollowTag(c.Request.Context(), currentAccount(c), c.Param("name"))
	s.renderTag(c, t, err)
}

// followedTags pages the hashtags the user follows (100 by default, as Mastodon).
func (s *Server) followedTags(c *gin.Context) {
	page, err := s.community.FollowedTags(c.Request.Context(), currentAccount(c), pageOf(c, 100, 200))
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.tagEntities(c.Request.Context(), viewer(c), page.Tags)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.setLinkHeader(c, page.NewestID, page.OldestID)
	c.JSON(http.StatusOK, out)
}
