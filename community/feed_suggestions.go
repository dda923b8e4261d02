package community

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// SuggestionDismissal records that AccountID does not want TargetAccountID suggested.
type SuggestionDismissal struct {
	ID              int64     `gorm:"primaryKey;autoIncrement:false"`
	AccountID       int64     `gorm:"not null"`
	TargetAccountID int64     `gorm:"not null"`
	CreatedAt       time.Time `gorm:"not null"`
}

// SuggestionSource says why an account is suggested (Mastodon's sources).
type SuggestionSource string

// The sources Tacit uses.
const (
	// SuggestFriendsOfFriends: followed by accounts the viewer follows.
	SuggestFriendsOfFriends SuggestionSource = "friends_of_friends"
	// SuggestMostFollowed: among the most followed accounts of this instance.
	SuggestMostFollowed SuggestionSource = "most_followed"
)

// Suggestion is an account to follow and why.
type Suggestion struct {
	Account *Account
	Sources []SuggestionSource
}

// MaxSuggestions bounds one answer, as Mastodon's limit does.
const MaxSuggestions = 80

// Suggestions proposes accounts for viewer to follow: first those followed by the most
// of the accounts viewer follows, then the most followed accounts of this instance.
// Never the viewer, anyone they follow or asked to follow, anyone they block or mute or
// who blocks them, anyone who opted out of discovery, a disabled login, or anyone they
// dismissed, and never an account the viewer may not see (a suspended one).
func (s *Service) Suggestions(ctx context.Context, viewer *Account, limit int) ([]Suggestion, error) {
	if viewer == nil {
		return nil, ErrForbidden
	}
	limit = max(1, min(limit, MaxSuggestions))
	eligible := func(db *gorm.DB) *gorm.DB {
		return db.Scopes(s.visibleAccountSQL(AsAccount(viewer))).Where(`accounts.id <> @me AND accounts.discoverable
			AND accounts.id NOT IN (SELECT target_account_id FROM follows WHERE account_id = @me)
			AND accounts.id NOT IN (SELECT target_account_id FROM follow_requests WHERE account_id = @me)
			AND accounts.id NOT IN (SELECT target_account_id FROM blocks WHERE account_id = @me)
			AND accounts.id NOT IN (SELECT account_id FROM blocks WHERE target_account_id = @me)
			AND accounts.id NOT IN (SELECT target_account_id FROM mutes WHERE account_id = @me
				AND (expires_at IS NULL OR expires_at > @now))
			AND accounts.id NOT IN (SELECT target_account_id FROM suggestion_dismissals WHERE account_id = @me)
			AND NOT EXISTS (SELECT 1 FROM users WHERE users.account_id = accounts.id AND users.disabled)`,
			map[string]any{"me": viewer.ID, "now": s.clock()})
	}
	type ranked struct {
		ID    int64
		Score int64
	}
	var friends []ranked
	if err := s.read(ctx).Table("follows AS theirs").
		Select("theirs.target_account_id AS id, COUNT(*) AS score").
		Joins("JOIN accounts ON accounts.id = theirs.target_account_id").
		Where("theirs.account_id IN (SELECT target_account_id FROM follows WHERE account_id = ?)", viewer.ID).
		Scopes(eligible).
		Group("theirs.target_account_id").Order("score DESC, theirs.target_account_id").Limit(limit).
		Find(&friends).Error; err != nil {
		return nil, fmt.Errorf("load friends of friends: %w", err)
	}
	var popular []ranked
	if err := s.read(ctx).Table("accounts").Select("accounts.id, accounts.followers_count AS score").
		Where("accounts.domain = '' AND accounts.followers_count > 0").Scopes(eligible).
		Order("accounts.followers_count DESC, accounts.id").Limit(limit).Find(&popular).Error; err != nil {
		return nil, fmt.Errorf("load most followed accounts: %w", err)
	}

	sources := map[int64][]SuggestionSource{}
	var order []int64
	for _, r := range friends {
		order = append(order, r.ID)
		sources[r.ID] = []SuggestionSource{SuggestFriendsOfFriends}
	}
	for _, r := range popular {
		if _, ok := sources[r.ID]; !ok {
			order = append(order, r.ID)
		}
		sources[r.ID] = append(sources[r.ID], SuggestMostFollowed)
	}
	if len(order) > limit {
		order = order[:limit]
	}
	accounts, err := s.accountsByID(ctx, order)
	if err != nil {
		return nil, err
	}
	list := make([]*Account, 0, len(order))
	for _, id := range order {
		if a := accounts[id]; a != nil {
			list = append(list, a)
		}
	}
	visible, err := s.VisibleAccounts(ctx, AsAccount(viewer), list)
	if err != nil {
		return nil, err
	}
	out := make([]Suggestion, 0, len(visible))
	for _, a := range visible {
		out = append(out, Suggestion{Account: a, Sources: sources[a.ID]})
	}
	return out, nil
}

// DismissSuggestion stops suggesting an account to viewer.
func (s *Service) DismissSuggestion(ctx context.Context, viewer *Account, targetID int64) error {
	if viewer == nil {
		return ErrForbidden
	}
	if _, err := s.AccountFor(ctx, AsAccount(viewer), targetID); err != nil {
		return err
	}
	row := SuggestionDismissal{ID: NewID(), AccountID: viewer.ID, TargetAccountID: targetID, CreatedAt: s.clock()}
	if err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return fmt.Errorf("dismiss suggestion: %w", err)
	}
	return nil
}
