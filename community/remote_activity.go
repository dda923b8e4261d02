package community

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Incoming activities take effect once: their ids are remembered for a while, so a
// peer that delivers an activity again (a retry, a replay) changes nothing.

// AcceptActivity records an incoming activity id and, the first time only, runs keep
// in the same transaction (federation queues the activity there), so that an activity
// is kept exactly when its id is recorded and a replay is dropped on arrival. It
// reports whether the id was new.
func (s *Service) AcceptActivity(ctx context.Context, uri string, keep func(tx *gorm.DB) error) (bool, error) {
	fresh := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&ReceivedActivity{URI: uri, ReceivedAt: s.clock()})
		if res.Error != nil {
			return fmt.Errorf("record activity: %w", res.Error)
		}
		if fresh = res.RowsAffected == 1; !fresh {
			return nil
		}
		return keep(tx)
	})
	if err != nil {
		return false, err
	}
	return fresh, nil
}

// PruneReceivedActivities forgets activity ids older than before. A replay older than
// the signature date window is refused before its id is even looked at, so ids need
// only outlive that window.
func (s *Service) PruneReceivedActivities(ctx context.Context, before time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("received_at < ?", before.UTC()).Delete(&ReceivedActivity{})
	if res.Error != nil {
		return 0, fmt.Errorf("prune received activities: %w", res.Error)
	}
	return res.RowsAffected, nil
}
