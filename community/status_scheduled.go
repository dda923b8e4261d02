package community

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"
)

// Limits on scheduled statuses, as in Mastodon: at least MinScheduleOffset ahead, at
// most MaxScheduledStatuses waiting per account and MaxScheduledPerDay on one day.
const (
	MinScheduleOffset    = 5 * time.Minute
	MaxScheduledStatuses = 300
	MaxScheduledPerDay   = 25
)

// ScheduledStatus is a status its author asked to be published later. Params holds
// what they composed (JSON of ScheduledParams); the uploads it will carry point at it
// (MediaAttachment.ScheduledStatusID).
type ScheduledStatus struct {
	ID          int64     `gorm:"primaryKey;autoIncrement:false"`
	AccountID   int64     `gorm:"not null"`
	ScheduledAt time.Time `gorm:"not null"`
	Params      string    `gorm:"not null"`
	CreatedAt   time.Time `gorm:"not null"`
}

// ScheduledParams is what a scheduled status will be published with. The audience is
// stored as it was resolved when scheduling, so that a later change of the author's
// defaults does not widen it.
type ScheduledParams struct {
	Text          string         `json:"text"`
	SpoilerText   string         `json:"spoiler_text,omitempty"`
	Sensitive     bool           `json:"sensitive,omitempty"`
	Language      string         `json:"language,omitempty"`
	InReplyToID   *int64         `json:"in_reply_to_id,omitempty"`
	Visibility    Visibility     `json:"visibility"`
	Scope         Scope          `json:"scope"`
	ApplicationID *int64         `json:"application_id,omitempty"`
	Idempotency   string         `json:"idempotency,omitempty"`
	MediaIDs      []int64        `json:"media_ids,omitempty"`
	Poll          *ScheduledPoll `json:"poll,omitempty"`
}

// ScheduledPoll is the poll of a scheduled status; its duration runs from publication.
type ScheduledPoll struct {
	Options    []string `json:"options"`
	ExpiresIn  int64    `json:"expires_in"` // seconds
	Multiple   bool     `json:"multiple"`
	HideTotals bool     `json:"hide_totals"`
}

// Decode returns the stored parameters.
func (ss *ScheduledStatus) Decode() (ScheduledParams, error) {
	var p ScheduledParams
	if err := json.Unmarshal([]byte(ss.Params), &p); err != nil {
		return p, fmt.Errorf("decode scheduled status %d: %w", ss.ID, err)
	}
	return p, nil
}

// newStatus turns the parameters back into what CreateStatus takes.
func (p ScheduledParams) newStatus() NewStatus {
	in := NewStatus{
		Text:          p.Text,
		SpoilerText:   p.SpoilerText,
		Sensitive:     p.Sensitive,
		Language:      p.Language,
		InReplyToID:   p.InReplyToID,
		Audience:      AudienceRequest{Visibility: p.Visibility, Scope: p.Scope},
		ApplicationID: p.ApplicationID,
		MediaIDs:      p.MediaIDs,
	}
	if p.Poll != nil {
		in.Poll = &NewPoll{Options: p.Poll.Options, ExpiresIn: time.Duration(p.Poll.ExpiresIn) * time.Second,
			Multiple: p.Poll.Multiple, HideTotals: p.Poll.HideTotals}
	}
	return in
}

// ScheduleStatus checks a new status as CreateStatus would and keeps it to be
// published at `at`, with its uploads reserved for it.
func (s *Service) ScheduleStatus(ctx context.Context, author *Account, user *User, in NewStatus, at time.Time) (*ScheduledStatus, error) {
	if author == nil {
		return nil, ErrForbidden
	}
	now := s.clock()
	at = at.UTC().Truncate(time.Microsecond)
	if at.Before(now.Add(MinScheduleOffset)) {
		return nil, Invalid("Validation failed: Scheduled at The scheduled date must be at least %d minutes in the future", int(MinScheduleOffset/time.Minute))
	}
	checked, err := s.checkNewStatus(ctx, author, user, in)
	if err != nil {
		return nil, err
	}
	params := ScheduledParams{
		Text: in.Text, SpoilerText: in.SpoilerText, Sensitive: in.Sensitive, Language: checked.lang,
		Visibility: checked.vis, Scope: checked.scope, ApplicationID: in.ApplicationID,
		Idempotency: in.IdempotencyKey, MediaIDs: checked.mediaIDs,
	}
	if checked.parent != nil {
		params.InReplyToID = &checked.parent.ID
	}
	if in.Poll != nil {
		params.Poll = &ScheduledPoll{Options: in.Poll.Options, ExpiresIn: int64(in.Poll.ExpiresIn / time.Second),
			Multiple: in.Poll.Multiple, HideTotals: in.Poll.HideTotals}
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("encode scheduled status: %w", err)
	}
	ss := &ScheduledStatus{ID: NewID(), AccountID: author.ID, ScheduledAt: at, Params: string(raw), CreatedAt: now}
	err = s.tx(ctx, func(tx *gorm.DB, _ *[]Event) error {
		if err := s.checkScheduleLimits(tx, author.ID, 0, at); err != nil {
			return err
		}
		if err := tx.Create(ss).Error; err != nil {
			return fmt.Errorf("create scheduled status: %w", err)
		}
		for _, id := range checked.mediaIDs {
			res := tx.Model(&MediaAttachment{}).
				Where("id = ? AND account_id = ? AND purpose = ? AND status_id IS NULL AND scheduled_status_id IS NULL", id, author.ID, PurposeAttachment).
				Updates(map[string]any{"scheduled_status_id": ss.ID, "updated_at": now})
			if res.Error != nil {
				return fmt.Errorf("reserve media: %w", res.Error)
			}
			if res.RowsAffected == 0 {
				return Invalid("Media with ID %s was not found or is attached to another post", FormatID(id))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ss, nil
}

// checkScheduleLimits refuses a schedule past Mastodon's limits; except is a schedule
// being moved, which does not count against itself.
func (s *Service) checkScheduleLimits(tx *gorm.DB, accountID, except int64, at time.Time) error {
	// Locking the account's row makes concurrent schedules count one after the other.
	if err := tx.Model(&Account{}).Where("id = ?", accountID).UpdateColumn("updated_at", gorm.Expr("updated_at")).Error; err != nil {
		return fmt.Errorf("lock account: %w", err)
	}
	var total, day int64
	if err := tx.Model(&ScheduledStatus{}).Where("account_id = ? AND id <> ?", accountID, except).Count(&total).Error; err != nil {
		return fmt.Errorf("count scheduled statuses: %w", err)
	}
	if total >= MaxScheduledStatuses {
		return Invalid("Validation failed: You have exceeded the limit of %d scheduled posts", MaxScheduledStatuses)
	}
	start := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
	if err := tx.Model(&ScheduledStatus{}).Where("account_id = ? AND id <> ? AND scheduled_at >= ? AND scheduled_at < ?",
		accountID, except, start, start.AddDate(0, 0, 1)).Count(&day).Error; err != nil {
		return fmt.Errorf("count scheduled statuses: %w", err)
	}
	if day >= MaxScheduledPerDay {
		return Invalid("Validation failed: You have exceeded the limit of %d scheduled posts for that day", MaxScheduledPerDay)
	}
	return nil
}

// ScheduledPage is a page of scheduled statuses, paged by their ids.
type ScheduledPage struct {
	Statuses           []ScheduledStatus
	NewestID, OldestID int64
}

// ScheduledStatuses lists the account's scheduled statuses, most recently scheduled
// first, as Mastodon pages them.
func (s *Service) ScheduledStatuses(ctx context.Context, account *Account, p Page) (*ScheduledPage, error) {
	if account == nil {
		return nil, ErrForbidden
	}
	rows, err := findPage[ScheduledStatus](s.read(ctx).Where("account_id = ?", account.ID), p, "id", "scheduled statuses")
	if err != nil {
		return nil, err
	}
	out := &ScheduledPage{Statuses: rows}
	if len(rows) > 0 {
		out.NewestID, out.OldestID = rows[0].ID, rows[len(rows)-1].ID
	}
	return out, nil
}

// GetScheduledStatus returns one of the account's scheduled statuses.
func (s *Service) GetScheduledStatus(ctx context.Context, account *Account, id int64) (*ScheduledStatus, error) {
	if account == nil {
		return nil, ErrNotFound
	}
	var ss ScheduledStatus
	if err := s.read(ctx).Where("id = ? AND account_id = ?", id, account.ID).Take(&ss).Error; err != nil {
		return nil, notFound(err, "scheduled status")
	}
	return &ss, nil
}

// RescheduleStatus moves one of the account's scheduled statuses to another time,
// under the same rules as scheduling it.
func (s *Service) RescheduleStatus(ctx context.Context, account *Account, id int64, at time.Time) (*ScheduledStatus, error) {
	ss, err := s.GetScheduledStatus(ctx, account, id)
	if err != nil {
		return nil, err
	}
	at = at.UTC().Truncate(time.Microsecond)
	if at.Before(s.clock().Add(MinScheduleOffset)) {
		return nil, Invalid("Validation failed: Scheduled at The scheduled date must be at least %d minutes in the future", int(MinScheduleOffset/time.Minute))
	}
	err = s.tx(ctx, func(tx *gorm.DB, _ *[]Event) error {
		if err := s.checkScheduleLimits(tx, account.ID, id, at); err != nil {
			return err
		}
		res := tx.Model(&ScheduledStatus{}).Where("id = ? AND account_id = ?", id, account.ID).Update("scheduled_at", at)
		if res.Error != nil {
			return fmt.Errorf("reschedule status: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound // published meanwhile
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	ss.ScheduledAt = at
	return ss, nil
}

// DeleteScheduledStatus cancels one of the account's scheduled statuses; its uploads
// become unattached again (and are pruned a day later unless used).
func (s *Service) DeleteScheduledStatus(ctx context.Context, account *Account, id int64) error {
	if account == nil {
		return ErrNotFound
	}
	return s.tx(ctx, func(tx *gorm.DB, _ *[]Event) error {
		res := tx.Where("id = ? AND account_id = ?", id, account.ID).Delete(&ScheduledStatus{})
		if res.Error != nil {
			return fmt.Errorf("delete scheduled status: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return releaseScheduledMedia(tx, id, s.clock())
	})
}

// releaseScheduledMedia clears the uploads' link to a schedule that is gone (the
// column has no foreign key; see the migration).
func releaseScheduledMedia(tx *gorm.DB, id int64, now time.Time) error {
	if err := tx.Model(&MediaAttachment{}).Where("scheduled_status_id = ?", id).
		Updates(map[string]any{"scheduled_status_id": nil, "updated_at": now}).Error; err != nil {
		return fmt.Errorf("release scheduled media: %w", err)
	}
	return nil
}

// ScheduledMedia returns the uploads reserved by scheduled statuses, by schedule, in
// the order they will be attached.
func (s *Service) ScheduledMedia(ctx context.Context, list []ScheduledStatus) (map[int64][]MediaAttachment, error) {
	out := map[int64][]MediaAttachment{}
	ids := make([]int64, 0, len(list))
	for _, ss := range list {
		ids = append(ids, ss.ID)
	}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []MediaAttachment
	if err := s.read(ctx).Where("scheduled_status_id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load scheduled media: %w", err)
	}
	byID := map[int64]MediaAttachment{}
	for _, m := range rows {
		byID[m.ID] = m
	}
	for _, ss := range list {
		p, err := ss.Decode()
		if err != nil {
			return nil, err
		}
		for _, id := range p.MediaIDs {
			if m, ok := byID[id]; ok && m.ScheduledStatusID != nil && *m.ScheduledStatusID == ss.ID {
				out[ss.ID] = append(out[ss.ID], m)
			}
		}
	}
	return out, nil
}

// PublishDueStatuses publishes the scheduled statuses whose time has come (at or before
// now), oldest first, and returns how many it published. It reads the database, so
// what was due while the server was down goes out at the next run. Each is created with
// an idempotency key of its own before its schedule is removed: a crash in between
// publishes it once, not twice. A schedule that can no longer be published (its reply
// target or author gone, an upload deleted) is dropped, as in Mastodon, and logged on
// log (nil means the Service's logger).
func (s *Service) PublishDueStatuses(ctx context.Context, now time.Time, log *slog.Logger) (int, error) {
	if log == nil {
		log = s.log
	}
	var due []ScheduledStatus
	if err := s.read(ctx).Where("scheduled_at <= ?", now.UTC()).Order("scheduled_at, id").Limit(100).Find(&due).Error; err != nil {
		return 0, fmt.Errorf("load due scheduled statuses: %w", err)
	}
	published := 0
	for i := range due {
		ss := &due[i]
		err := s.publishScheduled(ctx, ss)
		switch {
		case err == nil:
			published++
		case KindOf(err) != 0:
			log.WarnContext(ctx, "dropped a scheduled status that can no longer be published",
				"scheduled_status_id", ss.ID, "account_id", ss.AccountID, "reason", err.Error())
		default:
			return published, err
		}
		if err := s.tx(ctx, func(tx *gorm.DB, _ *[]Event) error {
			if err := tx.Where("id = ?", ss.ID).Delete(&ScheduledStatus{}).Error; err != nil {
				return fmt.Errorf("delete published schedule: %w", err)
			}
			return releaseScheduledMedia(tx, ss.ID, s.clock())
		}); err != nil {
			return published, err
		}
	}
	return published, nil
}

func (s *Service) publishScheduled(ctx context.Context, ss *ScheduledStatus) error {
	p, err := ss.Decode()
	if err != nil {
		return Invalid("%s", err.Error())
	}
	author, err := s.accountByID(ctx, ss.AccountID)
	if err != nil {
		return err
	}
	user, err := s.UserByAccountID(ctx, ss.AccountID)
	if err != nil {
		return err
	}
	if user.Disabled {
		return Forbidden("the account is disabled")
	}
	in := p.newStatus()
	in.IdempotencyKey = "scheduled-" + FormatID(ss.ID)
	in.scheduledID = ss.ID
	_, err = s.CreateStatus(ctx, author, user, in)
	return err
}
