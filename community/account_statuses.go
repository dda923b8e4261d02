package community

import (
	"context"
	"fmt"
	"strings"
)

// AccountStatusesQuery selects the statuses shown on a profile.
type AccountStatusesQuery struct {
	Page Page
	// Pinned lists only the statuses the account pinned, most recently pinned first.
	Pinned bool
	// ExcludeReplies drops replies to others but keeps self-replies (threads), as Mastodon does.
	ExcludeReplies bool
	ExcludeReblogs bool
	// OnlyMedia keeps statuses with media attachments.
	OnlyMedia bool
	// Tagged keeps statuses with this hashtag (with or without '#', any case).
	Tagged string
}

// AccountStatusesPage is a page of a profile's statuses. NewestID and OldestID are the
// paging keys of the rows read (status ids, or pin ids for pinned statuses) before the
// audience filter dropped any, so that following them never skips a status; both are
// 0 for an empty page.
type AccountStatusesPage struct {
	Statuses []Status
	NewestID int64
	OldestID int64
}

// AccountStatuses lists what viewer v may see of an account's statuses, newest first,
// without those the viewer's filters hide on profiles.
// The account must exist (ErrNotFound otherwise); if it blocks the viewer the list is empty.
func (s *Service) AccountStatuses(ctx context.Context, v Viewer, accountID int64, q AccountStatusesQuery) (*AccountStatusesPage, error) {
	empty := &AccountStatusesPage{Statuses: []Status{}}
	hidden, err := s.hiddenFrom(ctx, v, accountID)
	if err != nil || hidden {
		return empty, err
	}
	p := q.Page.Normalize(DefaultLimit, MaxLimit)
	db := s.read(ctx).Model(&Status{}).Scopes(s.visibleSQL(v)).Where("statuses.account_id = ?", accountID)
	if q.ExcludeReplies {
		db = db.Where("(statuses.in_reply_to_id IS NULL OR statuses.in_reply_to_account_id = ?)", accountID)
	}
	if q.ExcludeReblogs {
		db = db.Where("statuses.reblog_of_id IS NULL")
	}
	if q.OnlyMedia {
		db = db.Where(hasMediaSQL)
	}
	if tag := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(q.Tagged), "#")); tag != "" {
		db = db.Where(`EXISTS (SELECT 1 FROM status_tags JOIN tags ON tags.id = status_tags.tag_id
			WHERE status_tags.status_id = statuses.id AND tags.name = ?)`, tag)
	}

	out := &AccountStatusesPage{}
	var rows []Status
	if q.Pinned {
		type pinned struct {
			Status
			PinID int64
		}
		pins, err := findPage[pinned](db.Select("statuses.*, status_pins.id AS pin_id").
			Joins("JOIN status_pins ON status_pins.status_id = statuses.id AND status_pins.account_id = statuses.account_id"),
			p, "status_pins.id", "pinned statuses")
		if err != nil {
			return nil, err
		}
		if len(pins) > 0 {
			out.NewestID, out.OldestID = pins[0].PinID, pins[len(pins)-1].PinID
		}
		for _, r := range pins {
			rows = append(rows, r.Status)
		}
	} else {
		rows, err = findPage[Status](db, p, "statuses.id", "account statuses")
		if err != nil {
			return nil, err
		}
		if len(rows) > 0 {
			out.NewestID, out.OldestID = rows[0].ID, rows[len(rows)-1].ID
		}
	}
	visible, err := s.FilterVisible(ctx, v, rows)
	if err != nil {
		return nil, fmt.Errorf("filter account statuses: %w", err)
	}
	if v.AccountID() != 0 {
		filters, err := s.ActiveFilters(ctx, v.AccountID())
		if err != nil {
			return nil, err
		}
		if visible, err = s.dropHidden(ctx, filters, FilterAccount, visible); err != nil {
			return nil, err
		}
	}
	if visible == nil {
		visible = []Status{}
	}
	out.Statuses = visible
	return out, nil
}
