package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

func (s *Server) mountLists(r *gin.RouterGroup) {
	r.GET("/v1/lists", requireUser("read:lists"), s.lists)
	r.POST("/v1/lists", requireUser("write:lists"), s.createList)
	r.GET("/v1/lists/:id", requireUser("read:lists"), s.getList)
	r.PUT("/v1/lists/:id", requireUser("write:lists"), s.updateList)
	r.DELETE("/v1/lists/:id", requireUser("write:lists"), s.deleteList)
	r.GET("/v1/lists/:id/accounts", requireUser("read:lists"), s.listAccounts)
	r.POST("/v1/lists/:id/accounts", requireUser("write:lists"), s.addListAccounts)
	r.DELETE("/v1/lists/:id/accounts", requireUser("write:lists"), s.removeListAccounts)
	r.GET("/v1/accounts/:id/lists", requireUser("read:lists"), s.accountLists)
	r.GET("/v1/timelines/list/:id", requireUser("read:lists"), s.listTimeline)
}

func listEntity(l *community.List) List {
	return List{ID: community.FormatID(l.ID), Title: l.Title, RepliesPolicy: string(l.RepliesPolicy), Exclusive: l.Exclusive}
}

func listEntities(lists []community.List) []List {
	out := make([]List, 0, len(lists))
	for i := range lists {
		out = append(out, listEntity(&lists[i]))
	}
	return out
}

// listInput reads title, replies_policy and exclusive.
func listInput(p *params) (community.ListInput, error) {
	var in community.ListInput
	in.Title = p.StringPtr("title")
	if raw, ok := p.String("replies_policy"); ok && raw != "" {
		policy := community.RepliesPolicy(raw)
		in.RepliesPolicy = &policy
	}
	exclusive, err := p.BoolPtr("exclusive")
	if err != nil {
		return in, err
	}
	in.Exclusive = exclusive
	return in, nil
}

func (s *Server) lists(c *gin.Context) {
	lists, err := s.community.Lists(c.Request.Context(), currentAccount(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listEntities(lists))
}

func (s *Server) getList(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	l, err := s.community.GetList(c.Request.Context(), currentAccount(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listEntity(l))
}

func (s *Server) createList(c *gin.Context) {
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	in, err := listInput(p)
	if err != nil {
		s.fail(c, err)
		return
	}
	l, err := s.community.CreateList(c.Request.Context(), currentAccount(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listEntity(l))
}

func (s *Server) updateList(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	in, err := listInput(p)
	if err != nil {
		s.fail(c, err)
		return
	}
	l, err := s.community.UpdateList(c.Request.Context(), currentAccount(c), id, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listEntity(l))
}

func (s *Server) deleteList(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.community.DeleteList(c.Request.Context(), currentAccount(c), id); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{})
}

// listAccounts pages a list's members; limit=0 asks for all of them, as in Mastodon.
func (s *Server) listAccounts(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	p := pageOf(c, defaultAccountsLimit, maxAccountsLimit)
	if n, err := strconv.Atoi(strings.TrimSpace(c.Query("limit"))); err == nil && n == 0 {
		p.Limit = 0
	}
	list, err := s.community.ListMembers(c.Request.Context(), currentAccount(c), id, p)
	s.accountList(c, list, err)
}

// accountIDsParam reads account_ids[]; an id that does not parse names nobody (404).
func accountIDsParam(p *params) ([]int64, error) {
	var ids []int64
	for _, raw := range p.Strings("account_ids") {
		id, err := parseID(strings.TrimSpace(raw), community.ErrNotFound)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (s *Server) addListAccounts(c *gin.Context) {
	s.changeListAccounts(c, s.community.AddToList)
}

func (s *Server) removeListAccounts(c *gin.Context) {
	s.changeListAccounts(c, s.community.RemoveFromList)
}

func (s *Server) changeListAccounts(c *gin.Context, change func(ctx context.Context, owner *community.Account, listID int64, ids []int64) error) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	ids, err := accountIDsParam(p)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := change(c.Request.Context(), currentAccount(c), id, ids); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{})
}

func (s *Server) accountLists(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	lists, err := s.community.ListsWith(c.Request.Context(), currentAccount(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listEntities(lists))
}

func (s *Server) listTimeline(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	page, err := s.community.ListTimeline(c.Request.Context(), currentAccount(c), id, pageOf(c, community.DefaultLimit, community.MaxLimit))
	s.renderStatusPage(c, page, err)
}
