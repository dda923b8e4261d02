package community

import (
	"fmt"

	"gorm.io/gorm"
)

// notify records a notification for recipient inside tx, unless it would be noise:
// nobody is notified of their own actions, and a recipient who blocks the actor, or
// mutes them with notifications, hears nothing. Only local accounts get notifications.
func (s *Service) notify(tx *gorm.DB, ev *[]Event, recipient *Account, fromID int64, typ NotificationType, statusID *int64) error {
	if recipient == nil || !recipient.IsLocal() || recipient.ID == fromID {
		return nil
	}
	var silenced int64
	err := tx.Raw(`SELECT
		(SELECT COUNT(*) FROM blocks WHERE account_id = ? AND target_account_id = ?) +
		(SELECT COUNT(*) FROM mutes WHERE account_id = ? AND target_account_id = ? AND notifications
			AND (expires_at IS NULL OR expires_at > ?))`,
		recipient.ID, fromID, recipient.ID, fromID, s.clock()).Scan(&silenced).Error
	if err != nil {
		return fmt.Errorf("check notification filters: %w", err)
	}
	if silenced > 0 {
		return nil
	}
	n := Notification{
		ID:            NewID(),
		AccountID:     recipient.ID,
		FromAccountID: fromID,
		Type:          typ,
		StatusID:      statusID,
		CreatedAt:     s.clock(),
	}
	if err := tx.Create(&n).Error; err != nil {
		return fmt.Errorf("create notification: %w", err)
	}
	*ev = append(*ev, NotificationCreated{Notification: n})
	return nil
}
