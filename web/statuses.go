package web

import (
	"context"
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
	r.GET("/v1/statuses/:id", optionalUser("read:statuses"), s.cached(s.getStatus))
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

// renderStatus answers with one status as the current viewer sees it.
func (s *Server) renderStatus(c *gin.Context, st *community.Status) {
	out, err := s.status(c.Request.Context(), viewer(c), st)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// refuseSchedule refuses an edit that asks for a schedule: a published status cannot
// be scheduled, and ignoring the parameter would change it at once.
func refuseSchedule(p *params) error {
	if strings.TrimSpace(p.Get("scheduled_at")) != "" {
		return community.Invalid("A published post cannot be scheduled")
	}
	return nil
}

// mediaIDs reads media_ids[]; an id that is not a number is a missing upload.
func mediaIDs(p *params) ([]int64, error) {
	var ids []int64
	for _, raw := range nonEmpty(p.Strings("media_ids")) {
		id, err := parseID(strings.TrimSpace(raw), community.Invalid("Media with ID %s was not found or is attached to another post", raw))
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// mediaAttributes reads media_attributes[] of an edit: id, description, focus.
func mediaAttributes(p *params) ([]community.MediaAttributes, error) {
	objs, _ := p.Objects("media_attributes")
	var out []community.MediaAttributes
	for _, o := range objs {
		id, err := parseID(o["id"], community.Invalid("media_attributes needs the id of each attachment"))
		if err != nil {
			return nil, err
		}
		a := community.MediaAttributes{ID: id}
		if d, ok := o["description"]; ok {
			a.Description = &d
		}
		if f, ok := o["focus"]; ok {
			a.Focus = &f
		}
		out = append(out, a)
	}
	return out, nil
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
	scheduledAt, scheduled, err := scheduledAtParam(p)
	if err != nil {
		s.fail(c, err)
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
		s.fail(c, err)
		return
	}
	if !set && user != nil {
		sensitive = user.DefaultSensitive
	}
	in.Sensitive = sensitive
	if in.Audience.LocalOnly, _, err = p.Bool("local_only"); err != nil {
		s.fail(c, err)
		return
	}
	if raw := strings.TrimSpace(p.Get("in_reply_to_id")); raw != "" {
		id, err := parseID(raw, community.ErrReplyTargetNotFound)
		if err != nil {
			s.fail(c, err)
			return
		}
		in.InReplyToID = &id
	}
	if tok := currentToken(c); tok != nil {
		appID := tok.ApplicationID
		in.ApplicationID = &appID
	}
	if in.MediaIDs, err = mediaIDs(p); err != nil {
		s.fail(c, err)
		return
	}
	if in.Poll, err = pollParams(p); err != nil {
		s.fail(c, err)
		return
	}
	if scheduled {
		ss, err := s.community.ScheduleStatus(c.Request.Context(), currentAccount(c), user, in, scheduledAt)
		s.renderScheduled(c, ss, err)
		return
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
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
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
		s.fail(c, community.Invalid("Too many ids (maximum is %d)", maxStatusIDs))
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
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	if err := refuseSchedule(p); err != nil {
		s.fail(c, err)
		return
	}
	sensitive, err := p.BoolPtr("sensitive")
	if err != nil {
		s.fail(c, err)
		return
	}
	in := community.EditInput{
		Text:        p.Get("status"),
		SpoilerText: p.StringPtr("spoiler_text"),
		Sensitive:   sensitive,
		Language:    p.StringPtr("language"),
	}
	if in.MediaIDs, err = mediaIDs(p); err != nil {
		s.fail(c, err)
		return
	}
	if in.MediaAttributes, err = mediaAttributes(p); err != nil {
		s.fail(c, err)
		return
	}
	if in.Poll, err = pollParams(p); err != nil {
		s.fail(c, err)
		return
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
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
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
		s.fail(c, community.ErrNotFound)
		return
	}
	// Rendered before deleting, while its mentions and tags still exist.
	out, err := s.status(ctx, viewer(c), st)
	if err != nil {
		s.fail(c, err)
		return
	}
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	deleteMedia, _, err := p.Bool("delete_media")
	if err != nil {
		s.fail(c, err)
		return
	}
	deleted, err := s.community.DeleteStatusWithMedia(ctx, acct, id, deleteMedia)
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
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
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
	authors, err := s.community.Unchecked().AccountsByID(ctx, authorIDs)
	if err != nil {
		s.fail(c, err)
		return
	}
	// Revisions do not record attachments: the newest shows the current ones.
	st, err := s.community.GetStatus(ctx, viewer(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	current, err := s.community.StatusMedia(ctx, []int64{st.ID})
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]StatusEdit, 0, len(edits))
	for i, e := range edits {
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
		if i == len(edits)-1 {
			for j := range current[st.ID] {
				out[len(out)-1].MediaAttachments = append(out[len(out)-1].MediaAttachments, s.mediaAttachment(&current[st.ID][j]))
			}
		}
	}
	c.JSON(http.StatusOK, out)
}

// statusSource is GET /api/v1/statuses/:id/source.
func (s *Server) statusSource(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
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
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
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
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
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
		id, err := pathID(c, "id")
		if err != nil {
			s.fail(c, err)
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
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
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
