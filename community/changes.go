package community

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Reads for adapters that keep a copy of the domain's content in step (the search
// index): what changed since a point in time, everything in id order for a rebuild,
// and which ids still exist. Events tell such adapters about changes as they happen;
// these let them catch up with what they missed (a crash, a full queue, a write made
// by another process such as an admin command).

// ChangeCursor is a position in the stream of rows ordered by (updated_at, id).
type ChangeCursor struct {
	Since time.Time
	After int64
}

// ChangedAccounts returns up to limit accounts whose updated_at is after the cursor (or
// equal to it with a larger id), oldest change first.
func (s *Service) ChangedAccounts(ctx context.Context, c ChangeCursor, limit int) ([]Account, error) {
	var rows []Account
	err := s.read(ctx).Scopes(afterCursor("accounts", c)).
		Order("accounts.updated_at, accounts.id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list changed accounts: %w", err)
	}
	return rows, nil
}

// ChangedStatuses returns up to limit statuses (reblogs excluded: they have no text of
// their own) changed after the cursor, oldest change first.
func (s *Service) ChangedStatuses(ctx context.Context, c ChangeCursor, limit int) ([]Status, error) {
	var rows []Status
	err := s.read(ctx).Scopes(afterCursor("statuses", c)).Where("statuses.reblog_of_id IS NULL").
		Order("statuses.updated_at, statuses.id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list changed statuses: %w", err)
	}
	return rows, nil
}

// NewTags returns up to limit hashtags created after the cursor, oldest first.
func (s *Service) NewTags(ctx context.Context, c ChangeCursor, limit int) ([]Tag, error) {
	var rows []Tag
	err := s.read(ctx).Where("tags.created_at > ? OR (tags.created_at = ? AND tags.id > ?)", c.Since, c.Since, c.After).
		Order("tags.created_at, tags.id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list new tags: %w", err)
	}
	return rows, nil
}

func afterCursor(table string, c ChangeCursor) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		return db.Where(table+".updated_at > ? OR ("+table+".updated_at = ? AND "+table+".id > ?)", c.Since, c.Since, c.After)
	}
}

// AccountsAfter returns up to limit accounts with an id above after, in id order.
func (s *Service) AccountsAfter(ctx context.Context, after int64, limit int) ([]Account, error) {
	var rows []Account
	if err := s.read(ctx).Where("id > ?", after).Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return rows, nil
}

// LocalAccountsAfter returns up to limit local accounts with an id above after, in id
// order.
func (s *Service) LocalAccountsAfter(ctx context.Context, after int64, limit int) ([]Account, error) {
	var rows []Account
	if err := s.read(ctx).Where("id > ? AND domain = ''", after).Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list local accounts: %w", err)
	}
	return rows, nil
}

// StatusesAfter returns up to limit statuses (not reblogs) with an id above after, in
// id order.
func (s *Service) StatusesAfter(ctx context.Context, after int64, limit int) ([]Status, error) {
	var rows []Status
	if err := s.read(ctx).Where("id > ? AND reblog_of_id IS NULL", after).Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list statuses: %w", err)
	}
	return rows, nil
}

// TagsAfter returns up to limit hashtags with an id above after, in id order.
func (s *Service) TagsAfter(ctx context.Context, after int64, limit int) ([]Tag, error) {
	var rows []Tag
	if err := s.read(ctx).Where("id > ?", after).Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	return rows, nil
}

// ContentCounts is how many accounts, statuses (not reblogs) and hashtags exist.
type ContentCounts struct{ Accounts, Statuses, Tags int64 }

// CountContent counts what a full rebuild of an index has to read.
func (s *Service) CountContent(ctx context.Context) (ContentCounts, error) {
	var c ContentCounts
	db := s.read(ctx)
	if err := db.Model(&Account{}).Count(&c.Accounts).Error; err != nil {
		return c, fmt.Errorf("count accounts: %w", err)
	}
	if err := db.Model(&Status{}).Where("reblog_of_id IS NULL").Count(&c.Statuses).Error; err != nil {
		return c, fmt.Errorf("count statuses: %w", err)
	}
	if err := db.Model(&Tag{}).Count(&c.Tags).Error; err != nil {
		return c, fmt.Errorf("count tags: %w", err)
	}
	return c, nil
}

// ExistingIDs returns which of ids still name a row of the given kind ("accounts",
// "statuses" or "tags").
func (s *Service) ExistingIDs(ctx context.Context, table string, ids []int64) (map[int64]bool, error) {
	out := make(map[int64]bool, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var model any
	switch table {
	case "accounts":
		model = &Account{}
	case "statuses":
		model = &Status{}
	case "tags":
		model = &Tag{}
	default:
		return nil, fmt.Errorf("existing ids: unknown table %q", table)
	}
	var found []int64
	if err := s.read(ctx).Model(model).Where("id IN ?", uniqueIDs(ids)).Pluck("id", &found).Error; err != nil {
		return nil, fmt.Errorf("check %s: %w", table, err)
	}
	for _, id := range found {
		out[id] = true
	}
	return out, nil
}

// StatusTags returns the hashtags of each status.
func (s *Service) StatusTags(ctx context.Context, statusIDs []int64) (map[int64][]Tag, error) {
	out := map[int64][]Tag{}
	if len(statusIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		StatusID  int64
		ID        int64
		Name      string
		CreatedAt time.Time
	}
	err := s.read(ctx).Table("status_tags").Select("status_tags.status_id, tags.id, tags.name, tags.created_at").
		Joins("JOIN tags ON tags.id = status_tags.tag_id").
		Where("status_tags.status_id IN ?", uniqueIDs(statusIDs)).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("load status tags: %w", err)
	}
	for _, r := range rows {
		out[r.StatusID] = append(out[r.StatusID], Tag{ID: r.ID, Name: r.Name, CreatedAt: r.CreatedAt})
	}
	return out, nil
}

// statusesByID loads statuses by id, keyed by id, without any visibility check.
func (s *Service) statusesByID(ctx context.Context, ids []int64) (map[int64]*Status, error) {
	out := make(map[int64]*Status, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []Status
	if err := s.read(ctx).Where("id IN ?", uniqueIDs(ids)).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load statuses: %w", err)
	}
	for i := range rows {
		out[rows[i].ID] = &rows[i]
	}
	return out, nil
}

// statusIDsByURI maps the ActivityPub ids of stored statuses to their ids here; unknown
// URIs are absent.
func (s *Service) statusIDsByURI(ctx context.Context, uris []string) (map[string]int64, error) {
	out := make(map[string]int64, len(uris))
	if len(uris) == 0 {
		return out, nil
	}
	var rows []struct {
		ID  int64
		URI string
	}
	if err := s.read(ctx).Model(&Status{}).Select("id, uri").Where("uri IN ? AND uri <> ''", uris).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("look up statuses by uri: %w", err)
	}
	for _, r := range rows {
		out[r.URI] = r.ID
	}
	return out, nil
}

// accountsByURI loads stored accounts by ActivityPub id, keyed by id; unknown ones are
// absent.
func (s *Service) accountsByURI(ctx context.Context, uris []string) (map[string]*Account, error) {
	out := make(map[string]*Account, len(uris))
	if len(uris) == 0 {
		return out, nil
	}
	var rows []Account
	if err := s.read(ctx).Where("uri IN ? AND uri <> ''", uris).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load accounts by uri: %w", err)
	}
	for i := range rows {
		out[rows[i].URI] = &rows[i]
	}
	return out, nil
}

// StatusAudiences loads, by id, what the audience rule and ranking need of statuses
// (author, visibility, scope, origin, reply, favourites, date) without their text: a
// search checks hundreds of candidates and shows a few. The rows are complete enough
// for FilterVisible; load the others with StatusesByID.
func (s *Service) StatusAudiences(ctx context.Context, ids []int64) (map[int64]*Status, error) {
	out := make(map[int64]*Status, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []Status
	err := s.read(ctx).Select("id, account_id, visibility, scope, local, reblog_of_id, in_reply_to_id, favourites_count, created_at").
		Where("id IN ?", uniqueIDs(ids)).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("load statuses: %w", err)
	}
	for i := range rows {
		out[rows[i].ID] = &rows[i]
	}
	return out, nil
}
