package app

import (
	"context"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// unreadLimit bounds the count in the navigation: past it the link says "99+", and the
// count costs the same however many notifications wait.
const unreadLimit = 100

// unreadNotifications is the count the navigation shows beside "Notifications": the
// domain's count of notifications past the notifications marker, the one
// /api/v1/notifications/unread_count answers. A failure only leaves the count out.
func (a *App) unreadNotifications(c *gin.Context, s *session) string {
	ctx := c.Request.Context()
	n, err := a.community.UnreadNotifications(ctx, s.account, community.NotificationQuery{}, unreadLimit)
	if err != nil {
		a.log.WarnContext(ctx, "count unread notifications", "request_id", c.GetString("request_id"), "err", err)
		return ""
	}
	switch {
	case n <= 0:
		return ""
	case n >= unreadLimit:
		return T("nav.unread_many", unreadLimit-1)
	}
	return strconv.FormatInt(n, 10)
}

// markNotificationsRead moves the notifications marker up to newest when it is behind:
// seeing the newest notifications reads them, for the API's clients too (the marker
// is theirs), and the count in the navigation starts again from there. An unchanged
// marker is not saved again, which would only raise its version.
func (a *App) markNotificationsRead(ctx context.Context, s *session, newest int64) error {
	markers, err := a.community.GetMarkers(ctx, s.account.ID, []string{community.MarkerNotifications})
	if err != nil {
		return err
	}
	if m, ok := markers[community.MarkerNotifications]; ok && m.LastReadID >= newest {
		return nil
	}
	_, err = a.community.SaveMarker(ctx, s.account.ID, community.MarkerNotifications, newest)
	return err
}
