package community

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Legal holds keep a local account's posts out of the instance's retention rules
// (retention.go) while a litigation or an investigation needs them. A hold stops only
// the automatic deletion: the person may still delete their own posts, as the law
// that compels the company to preserve records binds the company, and an admin who
// must keep a copy exports the account first (docs/retention.md).

// Audit log actions of legal holds.
const (
	ActionLegalHold        = "legal_hold"
	ActionLegalHoldRelease = "legal_hold_release"
)

// LegalHold is one held account.
type LegalHold struct {
	AccountID      int64  `gorm:"primaryKey;autoIncrement:false"`
	Reason         string `gorm:"not null;default:''"`
	SetByAccountID *int64
	CreatedAt      time.Time `gorm:"not null"`
}

// MaxLegalHoldReason bounds the reason recorded with a hold, in characters.
const MaxLegalHoldReason = 1000

// SetLegalHold puts a local account under legal hold (on) or releases it, and records
// the decision in the moderation log. actor is the admin deciding on the web app; nil
// is the operator at the command line. Setting a hold that exists, or releasing one
// that does not, changes nothing and logs nothing.
func (s *Service) SetLegalHold(ctx context.Context, actor *Account, accountID int64, on bool, reason string) error {
	if actor != nil {
		if err := s.requireAdmin(ctx, actor); err != nil {
			return err
		}
	}
	target, err := s.accountByID(ctx, accountID)
	if err != nil {
		return err
	}
	if !target.IsLocal() {
		return Invalid("Only this instance's accounts can be held: other instances keep their own posts")
	}
	reason = truncateRunes(strings.TrimSpace(reason), MaxLegalHoldReason)
	return s.tx(ctx, func(tx *gorm.DB, _ *[]Event) error {
		var res *gorm.DB
		action := ActionLegalHold
		if on {
			hold := LegalHold{AccountID: target.ID, Reason: reason, CreatedAt: s.clock()}
			if actor != nil {
				hold.SetByAccountID = &actor.ID
			}
			res = tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&hold)
		} else {
			action = ActionLegalHoldRelease
			res = tx.Where("account_id = ?", target.ID).Delete(&LegalHold{})
		}
		if res.Error != nil {
			return fmt.Errorf("store legal hold: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		return s.logStaffAction(tx, actor, action, target.URI, reason, "")
	})
}

// LegalHoldOf returns the hold on an account, or nil when it is not held.
func (s *Service) LegalHoldOf(ctx context.Context, accountID int64) (*LegalHold, error) {
	var h LegalHold
	err := s.db.WithContext(ctx).Where("account_id = ?", accountID).Take(&h).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load legal hold: %w", err)
	}
	return &h, nil
}

// HeldAccountIDs returns the ids of the held accounts among ids, for a page that
// lists people.
func (s *Service) HeldAccountIDs(ctx context.Context, ids []int64) (map[int64]bool, error) {
	held := make(map[int64]bool)
	if len(ids) == 0 {
		return held, nil
	}
	var rows []int64
	if err := s.db.WithContext(ctx).Model(&LegalHold{}).Where("account_id IN ?", ids).
		Pluck("account_id", &rows).Error; err != nil {
		return nil, fmt.Errorf("load legal holds: %w", err)
	}
	for _, id := range rows {
		held[id] = true
	}
	return held, nil
}
