package community

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// AccountPin is an endorsement: AccountID features TargetAccountID, whom they follow,
// on their profile. It hangs off the follow (FollowID): unfollowing, or a block that
// ends the follow, ends it too.
type AccountPin struct {
	ID              int64     `gorm:"primaryKey;autoIncrement:false"`
	AccountID       int64     `gorm:"not null"`
	TargetAccountID int64     `gorm:"not null"`
	FollowID        int64     `gorm:"not null"`
	CreatedAt       time.Time `gorm:"not null"`
}

// Endorse features an account the endorser follows on their profile, as Mastodon's
// account pin does; endorsing it again changes nothing.
func (s *Service) Endorse(ctx context.Context, me *Account, targetID int64) error {
	if me == nil {
		return ErrForbidden
	}
	if _, err := s.AccountFor(ctx, AsAccount(me), targetID); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *gorm.DB, _ *[]Event) error {
		var f Follow
		err := tx.Where("account_id = ? AND target_account_id = ?", me.ID, targetID).Take(&f).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return Invalid("Validation failed: You must be already following the person you want to endorse")
		}
		if err != nil {
			return fmt.Errorf("load follow: %w", err)
		}
		pin := AccountPin{ID: NewID(), AccountID: me.ID, TargetAccountID: targetID, FollowID: f.ID, CreatedAt: s.clock()}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&pin).Error; err != nil {
			return fmt.Errorf("endorse account: %w", err)
		}
		return nil
	})
}

// Unendorse takes an account off the endorser's profile; not endorsing it is no error.
func (s *Service) Unendorse(ctx context.Context, me *Account, targetID int64) error {
	if me == nil {
		return ErrForbidden
	}
	if _, err := s.accountByID(ctx, targetID); err != nil {
		return err
	}
	if err := s.db.WithContext(ctx).Where("account_id = ? AND target_account_id = ?", me.ID, targetID).
		Delete(&AccountPin{}).Error; err != nil {
		return fmt.Errorf("unendorse account: %w", err)
	}
	return nil
}

// Endorsements lists the accounts accountID features, most recently endorsed first.
// An account that blocks the viewer shows them nobody, as for its follows.
func (s *Service) Endorsements(ctx context.Context, v Viewer, accountID int64, p Page) (*RelatedAccounts, error) {
	if hidden, err := s.hiddenFrom(ctx, v, accountID); err != nil || hidden {
		return &RelatedAccounts{Accounts: []*Account{}}, err
	}
	return s.relatedAccounts(ctx, &v, s.read(ctx).Model(&AccountPin{}).Where("account_id = ?", accountID),
		p, "target_account_id", "endorsements")
}
