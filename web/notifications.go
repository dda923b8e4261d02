package web

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// Notification list sizes, as in Mastodon.
const (
	defaultNotificationLimit = 40
	maxNotificationLimit     = 80
	defaultUnreadLimit       = 100
	maxUnreadLimit           = 1000
)

func (s *Server) mountNotifications(r *gin.RouterGroup) {
	r.GET("/v1/notifications", requireUser("read:notifications"), s.cached(s.listNotifications))
	r.GET("/v1/notifications/unread_count", requireUser("read:notifications"), s.unreadNotifications)
	r.POST("/v1/notifications/clear", requireUser("write:notifications"), s.clearNotifications)
	r.GET("/v1/notifications/:id", requireUser("read:notifications"), s.getNotification)
	r.POST("/v1/notifications/:id/dismiss", requireUser("write:notifications"), s.dismissNotification)

	r.GET("/v1/markers", requireUser("read:statuses"), s.getMarkers)
	r.POST("/v1/markers", requireUser("write:statuses"), s.saveMarkers)
}

// notificationQuery reads types[], exclude_types[] and account_id.
func (s *Server) notificationQuery(c *gin.Context, p *params) community.NotificationQuery {
	var q community.NotificationQuery
	for _, t := range p.Strings("types") {
		q.Types = append(q.Types, community.NotificationType(t))
	}
	for _, t := range p.Strings("exclude_types") {
		q.ExcludeTypes = append(q.ExcludeTypes, community.NotificationType(t))
	}
	if raw := p.Get("account_id"); raw != "" {
		id, ok := community.ParseID(raw)
		if !ok {
			id = -1 // an id that names nobody: no notification comes from it
		}
		q.AccountID = id
	}
	return q
}

func (s *Server) listNotifications(c *gin.Context) {
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	q := s.notificationQuery(c, p)
	q.Page = pageOf(c, defaultNotificationLimit, maxNotificationLimit)
	ctx := c.Request.Context()
	items, err := s.community.Notifications(ctx, currentAccount(c), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.notifications(ctx, viewer(c), items)
	if err != nil {
		s.fail(c, err)
		return
	}
	if len(items) > 0 {
		s.setLinkHeader(c, items[0].ID, items[len(items)-1].ID)
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) getNotification(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	item, err := s.community.Notification(ctx, currentAccount(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.notifications(ctx, viewer(c), []community.NotificationItem{*item})
	if err != nil {
		s.fail(c, err)
		return
	}
	if len(out) == 0 {
		s.fail(c, community.ErrNotFound)
		return
	}
	c.JSON(http.StatusOK, out[0])
}

func (s *Server) dismissNotification(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.community.DismissNotification(c.Request.Context(), currentAccount(c), id); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{})
}

func (s *Server) clearNotifications(c *gin.Context) {
	if err := s.community.ClearNotifications(c.Request.Context(), currentAccount(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{})
}

func (s *Server) unreadNotifications(c *gin.Context) {
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	limit, err := p.Int("limit", defaultUnreadLimit)
	if err != nil {
		s.fail(c, badRequest(err.Error()))
		return
	}
	limit = min(max(limit, 1), maxUnreadLimit)
	n, err := s.community.UnreadNotifications(c.Request.Context(), currentAccount(c), s.notificationQuery(c, p), limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"count": n})
}

// notifications converts notifications for their recipient; the statuses among them
// are converted together, so a page costs a fixed number of queries.
func (s *Server) notifications(ctx context.Context, v community.Viewer, items []community.NotificationItem) ([]Notification, error) {
	var list []community.Status
	seen := map[int64]bool{}
	for _, it := range items {
		if it.Status != nil && !seen[it.Status.ID] {
			seen[it.Status.ID] = true
			list = append(list, *it.Status)
		}
	}
	rendered, err := s.statuses(ctx, v, list)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*Status, len(rendered))
	for i := range rendered {
		byID[rendered[i].ID] = &rendered[i]
	}
	out := make([]Notification, 0, len(items))
	for _, it := range items {
		id := community.FormatID(it.ID)
		n := Notification{
			ID:        id,
			Type:      string(it.Type),
			GroupKey:  "ungrouped-" + id,
			CreatedAt: apiTime(it.CreatedAt),
			Account:   s.account(it.From),
		}
		if it.Status != nil {
			n.Status = byID[community.FormatID(it.Status.ID)]
			if n.Status == nil {
				continue // its author's account is gone: nothing to show
			}
		}
		out = append(out, n)
	}
	return out, nil
}

// marker converts a read marker.
func marker(m community.Marker) Marker {
	return Marker{LastReadID: community.FormatID(m.LastReadID), Version: m.Version, UpdatedAt: apiTime(m.UpdatedAt)}
}

func (s *Server) getMarkers(c *gin.Context) {
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	markers, err := s.community.GetMarkers(c.Request.Context(), currentAccount(c).ID, p.Strings("timeline"))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make(map[string]Marker, len(markers))
	for name, m := range markers {
		out[name] = marker(m)
	}
	c.JSON(http.StatusOK, out)
}

// saveMarkers accepts home[last_read_id] and notifications[last_read_id] as form
// fields, or {"home": {"last_read_id": "…"}} as JSON, and answers with the markers it
// saved.
func (s *Server) saveMarkers(c *gin.Context) {
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	me := currentAccount(c)
	out := map[string]Marker{}
	for _, timeline := range []string{community.MarkerHome, community.MarkerNotifications} {
		raw, given := markerParam(p, timeline)
		if !given {
			continue
		}
		id, err := parseID(raw, community.Invalid("Validation failed: Last read id is invalid"))
		if err != nil {
			s.fail(c, err)
			return
		}
		m, err := s.community.SaveMarker(ctx, me.ID, timeline, id)
		if err != nil {
			s.fail(c, err)
			return
		}
		out[timeline] = marker(*m)
	}
	c.JSON(http.StatusOK, out)
}

// markerParam finds a timeline's last_read_id in a form or JSON body.
func markerParam(p *params, timeline string) (string, bool) {
	if v, ok := p.String(timeline + "[last_read_id]"); ok {
		return v, true
	}
	if obj, ok := p.json[timeline].(map[string]any); ok {
		switch v := obj["last_read_id"].(type) {
		case string:
			return v, true
		case float64:
			// A JSON number is exact only up to 2^53; a larger id has already lost digits
			// and would mark the wrong item, so it is refused as invalid.
			if v == float64(int64(v)) && v < 1<<53 {
				return community.FormatID(int64(v)), true
			}
		}
		return "", true
	}
	return "", false
}
