package web

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// Conversation list sizes, as in Mastodon.
const (
	defaultConversationLimit = 20
	maxConversationLimit     = 40
)

func (s *Server) mountConversations(r *gin.RouterGroup) {
	r.GET("/v1/conversations", requireUser("read:statuses"), s.listConversations)
	r.DELETE("/v1/conversations/:id", requireUser("write:conversations"), s.removeConversation)
	r.POST("/v1/conversations/:id/read", requireUser("write:conversations"), s.readConversation)
}

// conversations converts conversations for their owner; the last statuses are
// converted together.
func (s *Server) conversations(ctx context.Context, viewer *community.Account, items []community.ConversationItem) ([]Conversation, error) {
	var list []community.Status
	for _, it := range items {
		if it.LastStatus != nil {
			list = append(list, *it.LastStatus)
		}
	}
	rendered, err := s.statuses(ctx, community.AsAccount(viewer), list)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*Status, len(rendered))
	for i := range rendered {
		byID[rendered[i].ID] = &rendered[i]
	}
	out := make([]Conversation, 0, len(items))
	for _, it := range items {
		conv := Conversation{ID: community.FormatID(it.ID), Unread: it.Unread, Accounts: make([]Account, 0, len(it.Accounts))}
		for _, a := range it.Accounts {
			conv.Accounts = append(conv.Accounts, s.account(a))
		}
		if it.LastStatus != nil {
			conv.LastStatus = byID[community.FormatID(it.LastStatus.ID)]
		}
		out = append(out, conv)
	}
	return out, nil
}

func (s *Server) listConversations(c *gin.Context) {
	ctx := c.Request.Context()
	me := currentAccount(c)
	page, err := s.community.Conversations(ctx, me, pageOf(c, defaultConversationLimit, maxConversationLimit))
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.conversations(ctx, me, page.Items)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.setLinkHeader(c, page.NewestID, page.OldestID)
	c.JSON(http.StatusOK, out)
}

func (s *Server) readConversation(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	me := currentAccount(c)
	item, err := s.community.MarkConversationRead(ctx, me, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.conversations(ctx, me, []community.ConversationItem{*item})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out[0])
}

func (s *Server) removeConversation(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.community.RemoveConversation(c.Request.Context(), currentAccount(c), id); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{})
}
