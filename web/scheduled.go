package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// Scheduled statuses: POST /api/v1/statuses with scheduled_at keeps the status for
// later (see createStatus); these endpoints list, move and cancel them.

func (s *Server) mountScheduled(r *gin.RouterGroup) {
	r.GET("/v1/scheduled_statuses", requireUser("read:statuses"), s.scheduledStatuses)
	r.GET("/v1/scheduled_statuses/:id", requireUser("read:statuses"), s.getScheduledStatus)
	r.PUT("/v1/scheduled_statuses/:id", requireUser("write:statuses"), s.rescheduleStatus)
	r.DELETE("/v1/scheduled_statuses/:id", requireUser("write:statuses"), s.deleteScheduledStatus)
}

// ScheduledStatus is Mastodon's ScheduledStatus entity.
type ScheduledStatus struct {
	ID               string            `json:"id"`
	ScheduledAt      string            `json:"scheduled_at"`
	Params           ScheduledParams   `json:"params"`
	MediaAttachments []MediaAttachment `json:"media_attachments"`
}

// ScheduledParams is the params object of a ScheduledStatus. Mastodon's schema gives
// in_reply_to_id and application_id as numbers.
type ScheduledParams struct {
	Text          string               `json:"text"`
	Poll          *ScheduledPollParams `json:"poll"`
	MediaIDs      []string             `json:"media_ids"`
	Sensitive     bool                 `json:"sensitive"`
	SpoilerText   string               `json:"spoiler_text"`
	Visibility    string               `json:"visibility"`
	InReplyToID   *int64               `json:"in_reply_to_id"`
	Language      *string              `json:"language"`
	ApplicationID int64                `json:"application_id"`
	ScheduledAt   *string              `json:"scheduled_at"`
	Idempotency   *string              `json:"idempotency"`
	WithRateLimit bool                 `json:"with_rate_limit"`
}

// ScheduledPollParams is the poll of a scheduled status.
type ScheduledPollParams struct {
	Options    []string `json:"options"`
	ExpiresIn  int64    `json:"expires_in"`
	Multiple   bool     `json:"multiple"`
	HideTotals bool     `json:"hide_totals"`
}

func (s *Server) scheduledEntities(c *gin.Context, list []community.ScheduledStatus) ([]ScheduledStatus, bool) {
	media, err := s.community.ScheduledMedia(c.Request.Context(), list)
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	out := make([]ScheduledStatus, 0, len(list))
	for i := range list {
		ss := &list[i]
		p, err := ss.Decode()
		if err != nil {
			s.fail(c, err)
			return nil, false
		}
		e := ScheduledStatus{
			ID:               community.FormatID(ss.ID),
			ScheduledAt:      apiTime(ss.ScheduledAt),
			MediaAttachments: []MediaAttachment{},
			Params: ScheduledParams{
				Text: p.Text, Sensitive: p.Sensitive, SpoilerText: p.SpoilerText,
				Visibility: string(p.Visibility), InReplyToID: p.InReplyToID,
			},
		}
		if p.Language != "" {
			e.Params.Language = &p.Language
		}
		if p.ApplicationID != nil {
			e.Params.ApplicationID = *p.ApplicationID
		}
		if p.Idempotency != "" {
			e.Params.Idempotency = &p.Idempotency
		}
		for _, id := range p.MediaIDs {
			e.Params.MediaIDs = append(e.Params.MediaIDs, community.FormatID(id))
		}
		if p.Poll != nil {
			e.Params.Poll = &ScheduledPollParams{Options: p.Poll.Options, ExpiresIn: p.Poll.ExpiresIn,
				Multiple: p.Poll.Multiple, HideTotals: p.Poll.HideTotals}
		}
		for j := range media[ss.ID] {
			e.MediaAttachments = append(e.MediaAttachments, s.mediaAttachment(&media[ss.ID][j]))
		}
		out = append(out, e)
	}
	return out, true
}

func (s *Server) renderScheduled(c *gin.Context, ss *community.ScheduledStatus, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	out, ok := s.scheduledEntities(c, []community.ScheduledStatus{*ss})
	if ok {
		c.JSON(http.StatusOK, out[0])
	}
}

// scheduledAtParam reads scheduled_at, an ISO 8601 time; "" when absent.
func scheduledAtParam(p *params) (time.Time, bool, error) {
	raw := strings.TrimSpace(p.Get("scheduled_at"))
	if raw == "" {
		return time.Time{}, false, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, raw); err == nil {
			return t, true, nil
		}
	}
	return time.Time{}, true, community.Invalid("Validation failed: Scheduled at is not a valid date and time")
}

func (s *Server) scheduledStatuses(c *gin.Context) {
	page, err := s.community.ScheduledStatuses(c.Request.Context(), currentAccount(c), pageOf(c, community.DefaultLimit, community.MaxLimit))
	if err != nil {
		s.fail(c, err)
		return
	}
	out, ok := s.scheduledEntities(c, page.Statuses)
	if !ok {
		return
	}
	s.setLinkHeader(c, page.NewestID, page.OldestID)
	c.JSON(http.StatusOK, out)
}

func (s *Server) getScheduledStatus(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	ss, err := s.community.GetScheduledStatus(c.Request.Context(), currentAccount(c), id)
	s.renderScheduled(c, ss, err)
}

func (s *Server) rescheduleStatus(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	at, set, err := scheduledAtParam(p)
	if err == nil && !set {
		err = community.Invalid("Validation failed: Scheduled at can't be blank")
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	ss, err := s.community.RescheduleStatus(c.Request.Context(), currentAccount(c), id, at)
	s.renderScheduled(c, ss, err)
}

func (s *Server) deleteScheduledStatus(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.community.DeleteScheduledStatus(c.Request.Context(), currentAccount(c), id); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{})
}
