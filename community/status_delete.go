package community

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// DeleteStatus removes a status by its author, together with its reblogs, and keeps
// every counter right. It returns the deleted row, whose Text lets clients offer
// "delete and redraft". The attachments are kept, detached, for a redraft to reuse
// (they are pruned with other unattached uploads).
func (s *Service) DeleteStatus(ctx context.Context, actor *Account, id int64) (*Status, error) {
	return s.DeleteStatusWithMedia(ctx, actor, id, false)
}

// DeleteStatusWithMedia is DeleteStatus; deleteMedia deletes the attachments and their
// files at once instead of keeping them for a redraft.
func (s *Service) DeleteStatusWithMedia(ctx context.Context, actor *Account, id int64, deleteMedia bool) (*Status, error) {
	if actor == nil {
		return nil, ErrNotFound
	}
	st, err := s.GetStatus(ctx, AsAccount(actor), id)
	if err != nil {
		return nil, err
	}
	if st.AccountID != actor.ID {
		return nil, ErrNotFound
	}
	var dropped []MediaAttachment
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		// Load again inside the transaction, so that the row returned is the last version.
		cur, err := s.loadStatusRow(tx, st.ID)
		if err != nil {
			return err
		}
		st = cur
		var reblogs []Status
		if err := tx.Where("reblog_of_id = ?", st.ID).Order("id").Find(&reblogs).Error; err != nil {
			return fmt.Errorf("load reblogs: %w", err)
		}
		var gone []Event
		for i := range reblogs {
			removed, err := s.removeStatusRow(tx, &reblogs[i])
			if err != nil {
				return err
			}
			if removed {
				gone = append(gone, StatusDeleted{Status: reblogs[i]})
			}
		}
		if deleteMedia {
			if err := tx.Where("status_id = ?", st.ID).Find(&dropped).Error; err != nil {
				return fmt.Errorf("load media: %w", err)
			}
			if err := tx.Where("status_id = ?", st.ID).Delete(&MediaAttachment{}).Error; err != nil {
				return fmt.Errorf("delete media: %w", err)
			}
		}
		// The mentions go with the status; live feeds still need them to tell who
		// may have seen it.
		mentions, err := mentionedIDs(tx, []int64{st.ID})
		if err != nil {
			return err
		}
		removed, err := s.removeStatusRow(tx, st)
		if err != nil {
			return err
		}
		if !removed {
			return ErrNotFound // deleted meanwhile
		}
		*ev = append(*ev, StatusDeleted{Status: *st, Mentions: mentions[st.ID]})
		*ev = append(*ev, gone...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.deleteFiles(ctx, dropped)
	return st, nil
}

// removeStatusRow deletes one status and uncounts it; the database removes what hangs
// off it (mentions, tags, favourites, bookmarks, pins, notifications, revisions). It
// reports false when the row was already gone, so that a concurrent deletion is never
// counted twice.
func (s *Service) removeStatusRow(tx *gorm.DB, st *Status) (bool, error) {
	if st.Visibility == VisibilityDirect {
		if err := detachFromConversations(tx, []int64{st.ID}); err != nil {
			return false, err
		}
	}
	// Attachments outlive the post (the foreign key detaches them) for a redraft; they
	// wait a day from now, not from their upload. A remote post's have no files here.
	if st.Local {
		if err := tx.Model(&MediaAttachment{}).Where("status_id = ?", st.ID).
			UpdateColumn("updated_at", s.clock()).Error; err != nil {
			return false, fmt.Errorf("detach media: %w", err)
		}
	} else if err := tx.Where("status_id = ?", st.ID).Delete(&MediaAttachment{}).Error; err != nil {
		return false, fmt.Errorf("delete remote media: %w", err)
	}
	res := tx.Delete(&Status{}, st.ID)
	if res.Error != nil {
		return false, fmt.Errorf("delete status: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return false, nil
	}
	if err := s.uncountStatus(tx, st); err != nil {
		return false, err
	}
	if st.ReblogOfID != nil {
		// The reblog notification points at the original, which stays.
		if err := tx.Where("from_account_id = ? AND type = ? AND status_id = ?", st.AccountID, NotifyReblog, *st.ReblogOfID).
			Delete(&Notification{}).Error; err != nil {
			return false, fmt.Errorf("delete reblog notification: %w", err)
		}
	}
	return true, nil
}
