package community

import (
	"fmt"
	"slices"

	"gorm.io/gorm"
)

// Page selects a window of a list ordered by id, newest first, the way Mastodon
// paginates: MaxID (older than), SinceID (newer than, newest first), MinID (newer than,
// immediately after it). Zero values are unset.
type Page struct {
	MaxID   int64
	SinceID int64
	MinID   int64
	Limit   int
	// ids, when set, restricts the page to these rows (a home feed's candidates).
	ids []int64
}

// Default and maximum page sizes, as in Mastodon.
const (
	DefaultLimit = 20
	MaxLimit     = 40
)

// Normalize clamps the limit into [1, max] with def as the default.
func (p Page) Normalize(def, max int) Page {
	if p.Limit <= 0 {
		p.Limit = def
	}
	if p.Limit > max {
		p.Limit = max
	}
	return p
}

// apply restricts and orders a query on column col. With MinID the rows nearest to it
// are wanted, so the query runs oldest first and ascending reports true: the caller
// reverses the rows (see finish) so that every page reads newest first.
func (p Page) apply(db *gorm.DB, col string) (q *gorm.DB, ascending bool) {
	if len(p.ids) > 0 {
		db = db.Where(col+" IN ?", p.ids)
	}
	if p.MaxID > 0 {
		db = db.Where(col+" < ?", p.MaxID)
	}
	if p.SinceID > 0 {
		db = db.Where(col+" > ?", p.SinceID)
	}
	if p.MinID > 0 {
		return db.Where(col+" > ?", p.MinID).Order(col + " ASC").Limit(p.Limit), true
	}
	return db.Order(col + " DESC").Limit(p.Limit), false
}

// findPage runs a paged query into dst, newest first.
func findPage[T any](db *gorm.DB, p Page, col string, what string) ([]T, error) {
	q, asc := p.apply(db, col)
	var rows []T
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	if asc {
		slices.Reverse(rows)
	}
	return rows, nil
}
