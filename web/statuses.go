package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// maxStatusIDs is how many statuses GET /api/v1/statuses returns at once.
const maxStatusIDs = 40

func (s *Server) mountStatuses(r *gin.RouterGroup) {
	r.POST("/v1/statuses", requireUser("write:statuses"), s.createStatus)
	r.GET("/v1/statuses", optionalUser("read:statuses"), s.getStatuses)
	r.GET("/v1/statuses/:id", optionalUser("read:statuses"), s.getStatus)
	r.PUT("/v1/statuses/:id", requireUser("write:statuses"), s.editStatus)
	r.DELETE("/v1/statuses/:id", requireUser("write:statuses"), s.deleteStatus)
	r.GET("/v1/statuses/:id/history", optionalUser("read:statuses"), s.statusHistory)
	r.GET("/v1/statuses/:id/source", requireUser("read:statuses"), s.statusSource)
	r.GET("/v1/statuses/:id/context", optionalUser("read:statuses"), s.statusContext)
	r.GET("/v1/statuses/:id/favourited_by", optionalUser("read:statuses"), s.favouritedBy)
	r.GET("/v1/statuses/:id/reblogged_by", optionalUser("read:statuses"), s.rebloggedBy)

	r.POST("/v1/statuses/:id/favourite", requireUser("write:favourites"), s.interact(s.community.Favourite))
	r.POST("/v1/statuses/:id/unfavourite", requireUser("write:favourites"), s.interact(s.community.Unfavourite))
	r.POST("/v1/statuses/:id/reblog", requireUser("write:statuses"), s.reblog)
	r.POST("/v1/statuses/:id/unreblog", requireUser("write:statuses"), s.interact(s.community.Unreblog))
	r.POST("/v1/statuses/:id/bookmark", requireUser("write:bookmarks"), s.interact(s.community.Bookmark))
	r.POST("/v1/statuses/:id/unbookmark", requireUser("write:bookmarks"), s.interact(s.community.Unbookmark))
	r.POST("/v1/statuses/:id/pin", requireUser("write:accounts"), s.interact(s.community.Pin))
	r.POST("/v1/statuses/:id/unpin", requireUser("write:accounts"), s.interact(s.community.Unpin))
}

// statusIDParam reads the :id of the path; a malformed id is a missing status.
func statusIDParam(c *gin.Context) (int64, bool) {
	id, ok := community.ParseID(c.Param("id"))
	if !ok {
		notFound(c)
	}
	return id, ok
}

// renderStatus answers with one status as the current viewer sees it.
func (s *Server) renderStatus(c *gin.Context, st *community.Status) {
	out, err := s.status(c.Request.Context(), viewer(c), st)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// refuseUnsupported answers 422 for what Tacit cannot store yet, rather than silently
// posting something other than what the user composed.
func refuseUnsupported(c *gin.Context, p *params) bool {
	if ids := nonEmpty(p.Strings("media_ids")); len(ids) > 0 {
		abort(c, http.StatusUnprocessableEntity, "Media attachments are not supported on this server yet")
		return true
	}
	if pollRequested(p) {
		abort(c, http.StatusUnprocessableEntity, "Polls are not supported on this server yet")
		return true
	}
	if strings.TrimSpace(p.Get("scheduled_at")) != "" {
		abort(c, http.StatusUnprocessableEntity, "Scheduled posts are not supported on this server yet")
		return true
	}
	return false
}

// pollRequested reports whether the request carries poll options; clients that send
// JSON often include "poll": null, which is no poll.
func pollRequested(p *params) bool {
	if len(nonEmpty(p.Strings("poll[options]"))) > 0 {
		return true
	}
	if poll, ok := p.json["poll"].(map[string]any); ok {
		if options, ok := poll["options"].([]any); ok && len(options) > 0 {
			return true
		}
	}
	return false
}

func nonEmpty(list []string) []string {
	out := list[:0:0]
	for _, v := range list {
		if strings.TrimSpace(v) != "" {
			out = append(out, v)
		}
	}
	return out
}

// createStatus is POST /api/v1/statuses.
func (s *Server) createStatus(c *gin.Context) {
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	if refuseUnsupported(c, p) {
		return
	}
	user := currentUser(c)
	in := community.NewStatus{
		Text:           p.Get("status"),
		SpoilerText:    p.Get("spoiler_text"),
		Language:       p.Get("language"),
		IdempotencyKey: c.GetHeader("Idempotency-Key"),
		Audience: community.AudienceRequest{
			Visibility: community.Visibility(p.Get("visibility")),
			Scope:      community.Scope(p.Get("scope")),
		},
	}
	sensitive, set, err := p.Bool("sensitive")
	if err != nil {
		abort(c, http.StatusUnprocessableEntity, err.Error())
		return
	}
	if !set && user != nil {
		sensitive = user.DefaultSensitive
	}
	in.Sensitive = sensitive
	if in.Audience.LocalOnly, _, err = p.Bool("local_only"); err != nil {
		abort(c, http.StatusUnprocessableEntity, err.Error())
		return
	}
	if raw := strings.TrimSpace(p.Get("in_reply_to_id")); raw != "" {
		id, ok := community.ParseID(raw)
		if !ok {
			s.fail(c, community.ErrReplyTargetNotFound)
			return
		}
		in.InReplyToID = &id
	}
	if tok := currentToken(c); tok != nil {
		appID := tok.ApplicationID
		in.ApplicationID = &appID
	}
	st, err := s.community.CreateStatus(c.Request.Context(), currentAccount(c), user, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderStatus(c, st)
}

// getStatus is GET /api/v1/statuses/:id.
func (s *Server) getStatus(c *gin.Context) {
	id, ok := statusIDParam(c)
	if !ok {
		return
	}
	st, err := s.community.GetStatus(c.Request.Context(), viewer(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderStatus(c, st)
}

// getStatuses is GET /api/v1/statuses?id[]=…: the visible ones among the ids, in order.
func (s *Server) getStatuses(c *gin.Context) {
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	raw := p.Strings("id")
	if len(raw) > maxStatusIDs {
		abort(c, http.StatusUnprocessableEntity, fmt.Sprintf("Too many ids (maximum is %d)", maxStatusIDs))
		return
	}
	ids := make([]int64, 0, len(raw))
	for _, r := range raw {
		if id, ok := community.ParseID(r); ok {
			ids = append(ids, id)
		}
	}
	ctx := c.Request.Context()
	list, err := s.community.GetStatuses(ctx, viewer(c), ids)
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.statuses(ctx, viewer(c), list)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// editStatus is PUT /api/v1/statuses/:id.
func (s *Server) editStatus(c *gin.Context) {
	id, ok := statusIDParam(c)
	if !ok {
		return
	}
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	if refuseUnsupported(c, p) {
		return
	}
	sensitive, err := p.BoolPtr("sensitive")
	if err != nil {
		abort(c, http.StatusUnprocessableEntity, err.Error())
		return
	}
	in := community.EditInput{
		Text:        p.Get("status"),
		SpoilerText: p.StringPtr("spoiler_text"),
		Sensitive:   sensitive,
		Language:    p.StringPtr("language"),
	}
	st, err := s.community.EditStatus(c.Request.Context(), currentAccount(c), id, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderStatus(c, st)
}

// deleteStatus is DELETE /api/v1/statuses/:id. It answers with the deleted status and
// its source text, which clients use to "delete and redraft".
func (s *Server) deleteStatus(c *gin.Context) {
	id, ok := statusIDParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	acct := currentAccount(c)
	st, err := s.community.GetStatus(ctx, viewer(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	if st.AccountID != acct.ID {
		notFound(c)
		return
	}
	// Rendered before deleting, while its mentions and tags still exist.
	out, err := s.status(ctx, viewer(c), st)
	if err != nil {
		s.fail(c, err)
		return
	}
	deleted, err := s.community.DeleteStatus(ctx, acct, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	out.Text = strPtr(deleted.Text)
	out.SpoilerText = deleted.SpoilerText
	c.JSON(http.StatusOK, out)
}

// statusHistory is GET /api/v1/statuses/:id/history.
func (s *Server) statusHistory(c *gin.Context) {
	id, ok := statusIDParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	edits, err := s.community.StatusHistory(ctx, viewer(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	authorIDs := make([]int64, 0, len(edits))
	for _, e := range edits {
		authorIDs = append(authorIDs, e.AccountID)
	}
	authors, err := s.community.AccountsByID(ctx, authorIDs)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]StatusEdit, 0, len(edits))
	for _, e := range edits {
		a := authors[e.AccountID]
		if a == nil {
			continue
		}
		out = append(out, StatusEdit{
			Content:          e.Content,
			SpoilerText:      e.SpoilerText,
			Sensitive:        e.Sensitive,
			CreatedAt:        apiTime(e.CreatedAt),
			Account:          s.account(a),
			MediaAttachments: []MediaAttachment{},
			Emojis:           []CustomEmoji{},
		})
	}
	c.JSON(http.StatusOK, out)
}

// statusSource is GET /api/v1/statuses/:id/source.
func (s *Server) statusSource(c *gin.Context) {
	id, ok := statusIDParam(c)
	if !ok {
		return
	}
	text, spoiler, err := s.community.StatusSource(c.Request.Context(), viewer(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, StatusSource{ID: community.FormatID(id), Text: text, SpoilerText: spoiler})
}

// statusContext is GET /api/v1/statuses/:id/context.
func (s *Server) statusContext(c *gin.Context) {
	id, ok := statusIDParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	v := viewer(c)
	ancestors, descendants, err := s.community.StatusContext(ctx, v, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	// One conversion for both lists keeps the details to a fixed number of queries.
	all, err := s.statuses(ctx, v, append(append([]community.Status{}, ancestors...), descendants...))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := Context{Ancestors: []Status{}, Descendants: []Status{}}
	isAncestor := make(map[string]bool, len(ancestors))
	for _, a := range ancestors {
		isAncestor[community.FormatID(a.ID)] = true
	}
	for _, st := range all {
		if isAncestor[st.ID] {
			out.Ancestors = append(out.Ancestors, st)
		} else {
			out.Descendants = append(out.Descendants, st)
		}
	}
	c.JSON(http.StatusOK, out)
}

// favouritedBy is GET /api/v1/statuses/:id/favourited_by.
func (s *Server) favouritedBy(c *gin.Context) {
	s.interactors(c, s.community.FavouritedBy)
}

// rebloggedBy is GET /api/v1/statuses/:id/reblogged_by.
func (s *Server) rebloggedBy(c *gin.Context) {
	s.interactors(c, s.community.RebloggedBy)
}

func (s *Server) interactors(c *gin.Context,
	list func(ctx context.Context, v community.Viewer, id int64, p community.Page) (*community.InteractionPage, error)) {
	id, ok := statusIDParam(c)
	if !ok {
		return
	}
	page, err := list(c.Request.Context(), viewer(c), id, pageOf(c, community.DefaultLimit, community.MaxLimit))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.setLinkHeader(c, page.NewestID, page.OldestID)
	c.JSON(http.StatusOK, s.accounts(page.Accounts))
}

// interact wraps an action on a status by the current account that answers with the
// status, as favourite, bookmark, pin and their opposites do.
func (s *Server) interact(action func(ctx context.Context, actor *community.Account, id int64) (*community.Status, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := statusIDParam(c)
		if !ok {
			return
		}
		st, err := action(c.Request.Context(), currentAccount(c), id)
		if err != nil {
			s.fail(c, err)
			return
		}
		s.renderStatus(c, st)
	}
}

// reblog is POST /api/v1/statuses/:id/reblog; it answers with the reblog, which wraps
// the shared status.
func (s *Server) reblog(c *gin.Context) {
	id, ok := statusIDParam(c)
	if !ok {
		return
	}
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	st, err := s.community.Reblog(c.Request.Context(), currentAccount(c), id, community.Visibility(p.Get("visibility")))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderStatus(c, st)
}
