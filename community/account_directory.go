package community

import (
	"context"
	"fmt"
)

// DirectoryQuery selects a page of the people directory.
type DirectoryQuery struct {
	// Local keeps only this instance's accounts; otherwise every known account of the
	// company is listed.
	Local bool
	// Order is "active" (most recent post first, the default) or "new" (newest account
	// first).
	Order         string
	Limit, Offset int
}

// Directory lists the accounts that opted into discovery, as Mastodon's profile
// directory does, among those the viewer may see (account_audience.go), leaving out
// those that block the viewer.
func (s *Service) Directory(ctx context.Context, v Viewer, q DirectoryQuery) ([]*Account, error) {
	if q.Limit <= 0 {
		return []*Account{}, nil
	}
	db := s.read(ctx).Model(&Account{}).Where("accounts.discoverable AND NOT accounts.is_group").
		Scopes(s.visibleAccountSQL(v))
	if q.Local {
		db = db.Where("accounts.domain = ''")
	}
	if me := v.AccountID(); me != 0 {
		db = db.Where("NOT EXISTS (SELECT 1 FROM blocks WHERE blocks.account_id = accounts.id AND blocks.target_account_id = ?)", me)
	}
	switch q.Order {
	case "new":
		db = db.Order("accounts.id DESC")
	case "", "active":
		// Accounts that never posted come last, on both databases.
		db = db.Order("CASE WHEN accounts.last_status_at IS NULL THEN 1 ELSE 0 END").
			Order("accounts.last_status_at DESC").Order("accounts.id DESC")
	default:
		return nil, Invalid("order must be active or new")
	}
	var rows []Account
	if err := db.Limit(q.Limit).Offset(max(q.Offset, 0)).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list directory: %w", err)
	}
	out := make([]*Account, len(rows))
	for i := range rows {
		out[i] = &rows[i]
	}
	return s.VisibleAccounts(ctx, v, out)
}
