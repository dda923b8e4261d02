package community

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"gorm.io/gorm"
)

// Reading statuses: GetStatus, GetStatuses and StatusContext check the audience rule
// for a viewer; loadStatusRow and StatusByID do not, for callers that decide who sees
// what themselves.

// loadStatusRow loads one status row, whoever may see it.
func (s *Service) loadStatusRow(db *gorm.DB, id int64) (*Status, error) {
	var st Status
	if err := db.Take(&st, id).Error; err != nil {
		return nil, notFound(err, "status")
	}
	return &st, nil
}

// GetStatus returns a status the viewer may see; anything else is ErrNotFound.
func (s *Service) GetStatus(ctx context.Context, v Viewer, id int64) (*Status, error) {
	st, err := s.loadStatusRow(s.read(ctx), id)
	if err != nil {
		return nil, err
	}
	ok, err := s.CanSee(ctx, v, st)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	return st, nil
}

// GetStatuses returns the statuses among ids that the viewer may see, in the order
// asked, without duplicates.
func (s *Service) GetStatuses(ctx context.Context, v Viewer, ids []int64) ([]Status, error) {
	ids = uniqueIDs(ids)
	if len(ids) == 0 {
		return []Status{}, nil
	}
	var rows []Status
	if err := s.read(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load statuses: %w", err)
	}
	byID := make(map[int64]Status, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	ordered := make([]Status, 0, len(rows))
	for _, id := range ids {
		if r, ok := byID[id]; ok {
			ordered = append(ordered, r)
		}
	}
	return s.FilterVisible(ctx, v, ordered)
}

// statusByID loads a status without any visibility check, for adapters that decide
// who sees it themselves (federation addressing its own statuses).
func (s *Service) statusByID(ctx context.Context, id int64) (*Status, error) {
	return s.loadStatusRow(s.read(ctx), id)
}

// StatusContext returns the thread around a status: its ancestors, oldest first, and
// its descendants in thread order (each reply followed by its own replies), keeping
// only what the viewer may see and their filters do not hide in threads. A hidden reply
// hides itself, not its visible replies.
func (s *Service) StatusContext(ctx context.Context, v Viewer, id int64) (ancestors, descendants []Status, err error) {
	st, err := s.GetStatus(ctx, v, id)
	if err != nil {
		return nil, nil, err
	}
	db := s.read(ctx)

	ancestors = []Status{}
	seen := map[int64]bool{st.ID: true}
	for next := st.InReplyToID; next != nil && len(ancestors) < maxAncestors && !seen[*next]; {
		seen[*next] = true
		var p Status
		err := db.Take(&p, *next).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("load ancestor: %w", err)
		}
		ancestors = append(ancestors, p)
		next = p.InReplyToID
	}
	slices.Reverse(ancestors)
	if ancestors, err = s.FilterVisible(ctx, v, ancestors); err != nil {
		return nil, nil, err
	}

	children := map[int64][]Status{}
	level := []int64{st.ID}
	total := 0
	for depth := 0; depth < maxDescendantDepth && len(level) > 0 && total < maxDescendants; depth++ {
		var rows []Status
		if err := db.Where("in_reply_to_id IN ?", level).Order("id").Limit(maxDescendants - total).
			Find(&rows).Error; err != nil {
			return nil, nil, fmt.Errorf("load replies: %w", err)
		}
		level = level[:0:0]
		for _, r := range rows {
			children[*r.InReplyToID] = append(children[*r.InReplyToID], r)
			level = append(level, r.ID)
		}
		total += len(rows)
	}
	ordered := make([]Status, 0, total)
	var walk func(parent int64)
	walk = func(parent int64) {
		for _, c := range children[parent] {
			ordered = append(ordered, c)
			walk(c.ID)
		}
	}
	walk(st.ID)
	if descendants, err = s.FilterVisible(ctx, v, ordered); err != nil {
		return nil, nil, err
	}
	if v.AccountID() != 0 {
		filters, err := s.ActiveFilters(ctx, v.AccountID())
		if err != nil {
			return nil, nil, err
		}
		if ancestors, err = s.dropHidden(ctx, filters, FilterThread, ancestors); err != nil {
			return nil, nil, err
		}
		if descendants, err = s.dropHidden(ctx, filters, FilterThread, descendants); err != nil {
			return nil, nil, err
		}
	}
	return ancestors, descendants, nil
}
