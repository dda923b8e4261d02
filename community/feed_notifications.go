package community

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// NotificationQuery selects a page of a viewer's notifications.
type NotificationQuery struct {
	Page Page
	// Types keeps only these kinds; empty keeps all. Unknown kinds match nothing.
	Types []NotificationType
	// ExcludeTypes leaves these kinds out.
	ExcludeTypes []NotificationType
	// AccountID keeps only notifications caused by this account; 0 keeps all.
	AccountID int64
}

// NotificationItem is a notification with the account that caused it and the status
// it is about (nil for kinds without one), ready to show.
type NotificationItem struct {
	Notification
	From   *Account
	Status *Status
}

// hasStatus reports whether a notification kind is about a status, so that one whose
// status is gone or hidden from the viewer means nothing and is left out.
func (t NotificationType) hasStatus() bool {
	switch t {
	case NotifyMention, NotifyFavourite, NotifyReblog, NotifyUpdate, NotifyStatus, NotifyPoll:
		return true
	}
	return false
}

// notificationsSQL selects the viewer's notifications matching q, without those
// caused by accounts the viewer blocks, or mutes with notifications (the same rule
// notify applies when it records them, applied again because blocks and mutes may
// come later). Paging uses notifications_account_id_id_idx.
func (s *Service) notificationsSQL(ctx context.Context, viewer *Account, q NotificationQuery) *gorm.DB {
	db := s.read(ctx).Model(&Notification{}).Where("notifications.account_id = ?", viewer.ID)
	if len(q.Types) > 0 {
		db = db.Where("notifications.type IN ?", q.Types)
	}
	if len(q.ExcludeTypes) > 0 {
		db = db.Where("notifications.type NOT IN ?", q.ExcludeTypes)
	}
	if q.AccountID != 0 {
		db = db.Where("notifications.from_account_id = ?", q.AccountID)
	}
	return db.Where(`(NOT EXISTS (SELECT 1 FROM blocks
			WHERE blocks.account_id = @me AND blocks.target_account_id = notifications.from_account_id)
		AND NOT EXISTS (SELECT 1 FROM mutes
			WHERE mutes.account_id = @me AND mutes.target_account_id = notifications.from_account_id
			AND mutes.notifications = TRUE AND (mutes.expires_at IS NULL OR mutes.expires_at > @now)))`,
		map[string]any{"me": viewer.ID, "now": s.clock()})
}

// Notifications lists the viewer's notifications, newest first. Notifications about a
// status the viewer may no longer read (it was deleted, narrowed, or its author now
// blocks them) are left out.
func (s *Service) Notifications(ctx context.Context, viewer *Account, q NotificationQuery) ([]NotificationItem, error) {
	if viewer == nil {
		return nil, ErrForbidden
	}
	fetch := func(w Page) ([]Notification, error) {
		db, _ := w.apply(s.notificationsSQL(ctx, viewer, q), "notifications.id")
		var rows []Notification
		if err := db.Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("list notifications: %w", err)
		}
		return rows, nil
	}
	var items []NotificationItem
	keep := func(rows []Notification) ([]Notification, error) {
		kept, err := s.notificationItems(ctx, viewer, rows)
		if err != nil {
			return nil, err
		}
		items = append(items, kept...)
		out := make([]Notification, len(kept))
		for i := range kept {
			out[i] = kept[i].Notification
		}
		return out, nil
	}
	rows, err := fillPage(q.Page, fetch, func(n *Notification) int64 { return n.ID }, keep)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]NotificationItem, len(items))
	for _, it := range items {
		byID[it.ID] = it
	}
	out := make([]NotificationItem, 0, len(rows))
	for _, n := range rows {
		out = append(out, byID[n.ID])
	}
	return out, nil
}

// Notification loads one of the viewer's notifications; someone else's, or one the
// viewer could not see in the list, is not found.
func (s *Service) Notification(ctx context.Context, viewer *Account, id int64) (*NotificationItem, error) {
	if viewer == nil {
		return nil, ErrForbidden
	}
	var rows []Notification
	if err := s.notificationsSQL(ctx, viewer, NotificationQuery{}).Where("notifications.id = ?", id).
		Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load notification: %w", err)
	}
	items, err := s.notificationItems(ctx, viewer, rows)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, ErrNotFound
	}
	return &items[0], nil
}

// notificationItems attaches accounts and statuses to notifications, in batches, and
// drops those whose causing account is gone, whose status the viewer may not read, or
// whose status the viewer's filters hide in notifications.
func (s *Service) notificationItems(ctx context.Context, viewer *Account, rows []Notification) ([]NotificationItem, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	accountIDs := make([]int64, 0, len(rows))
	var statusIDs []int64
	for _, n := range rows {
		accountIDs = append(accountIDs, n.FromAccountID)
		if n.StatusID != nil {
			statusIDs = append(statusIDs, *n.StatusID)
		}
	}
	accounts, err := s.accountsByID(ctx, accountIDs)
	if err != nil {
		return nil, err
	}
	statuses := map[int64]*Status{}
	var filters *FilterSet
	if len(statusIDs) > 0 {
		if filters, err = s.ActiveFilters(ctx, viewer.ID); err != nil {
			return nil, err
		}
	}
	now := s.clock()
	if len(statusIDs) > 0 {
		var list []Status
		if err := s.read(ctx).Where("id IN ?", uniqueIDs(statusIDs)).Find(&list).Error; err != nil {
			return nil, fmt.Errorf("load notification statuses: %w", err)
		}
		// FilterVisible checks a reblog together with the status it shares.
		visible, err := s.FilterVisible(ctx, AsAccount(viewer), list)
		if err != nil {
			return nil, err
		}
		var originalIDs []int64
		for i := range visible {
			statuses[visible[i].ID] = &visible[i]
			if visible[i].ReblogOfID != nil {
				originalIDs = append(originalIDs, *visible[i].ReblogOfID)
			}
		}
		if len(originalIDs) > 0 {
			var originals []Status
			if err := s.read(ctx).Where("id IN ?", uniqueIDs(originalIDs)).Find(&originals).Error; err != nil {
				return nil, fmt.Errorf("load reblogged statuses: %w", err)
			}
			for i := range originals {
				statuses[originals[i].ID] = &originals[i]
			}
		}
	}
	out := make([]NotificationItem, 0, len(rows))
	for _, n := range rows {
		it := NotificationItem{Notification: n, From: accounts[n.FromAccountID]}
		if it.From == nil {
			continue
		}
		if n.StatusID != nil {
			it.Status = statuses[*n.StatusID]
			// A reblog notification is about the viewer's status that was shared,
			// which is what Mastodon shows in it, whichever of the two was recorded.
			if it.Status != nil && n.Type == NotifyReblog && it.Status.ReblogOfID != nil {
				it.Status = statuses[*it.Status.ReblogOfID]
			}
		}
		if n.Type.hasStatus() && it.Status == nil {
			continue
		}
		// A status the viewer's filters hide in notifications takes its notification
		// with it (the viewer's own statuses are never filtered).
		if it.Status != nil && Hides(filters.Match(NewFilterTarget(it.Status), now), FilterNotifications) {
			continue
		}
		out = append(out, it)
	}
	return out, nil
}

// DismissNotification deletes one of the viewer's notifications.
func (s *Service) DismissNotification(ctx context.Context, viewer *Account, id int64) error {
	if viewer == nil {
		return ErrForbidden
	}
	res := s.db.WithContext(ctx).Where("id = ? AND account_id = ?", id, viewer.ID).Delete(&Notification{})
	if res.Error != nil {
		return fmt.Errorf("dismiss notification: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// ClearNotifications deletes all of the viewer's notifications.
func (s *Service) ClearNotifications(ctx context.Context, viewer *Account) error {
	if viewer == nil {
		return ErrForbidden
	}
	if err := s.db.WithContext(ctx).Where("account_id = ?", viewer.ID).Delete(&Notification{}).Error; err != nil {
		return fmt.Errorf("clear notifications: %w", err)
	}
	return nil
}

// UnreadNotifications counts, up to limit, the viewer's notifications matching q that
// are newer than their notifications marker. Counting stops at limit so that the
// answer costs the same for someone with a million unread notifications; it does not
// check statuses' visibility, so it may count a few that the list leaves out.
func (s *Service) UnreadNotifications(ctx context.Context, viewer *Account, q NotificationQuery, limit int) (int64, error) {
	if viewer == nil {
		return 0, ErrForbidden
	}
	var lastRead []int64
	if err := s.read(ctx).Model(&Marker{}).Where("account_id = ? AND timeline = ?", viewer.ID, MarkerNotifications).
		Pluck("last_read_id", &lastRead).Error; err != nil {
		return 0, fmt.Errorf("load notifications marker: %w", err)
	}
	db := s.notificationsSQL(ctx, viewer, q).Select("notifications.id")
	if len(lastRead) > 0 {
		db = db.Where("notifications.id > ?", lastRead[0])
	}
	var n int64
	if err := s.read(ctx).Table("(?) AS unread", db.Limit(limit)).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count unread notifications: %w", err)
	}
	return n, nil
}
