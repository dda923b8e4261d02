package community

import (
	"context"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ReceiveStatuses stores several statuses that arrived from other instances, as
// ReceiveStatus does for each, in order. It returns one result and one error per
// status.
//
// A busy peer delivers many posts at once, and a transaction per post spends most of
// its time beginning and committing (on SQLite, taking the one write lock; on
// PostgreSQL, a round trip and a flush). So the statuses are written in one
// transaction, and the authors are loaded once. Should that transaction fail, it is
// rolled back and every status is stored again in a transaction of its own: one
// status that cannot be stored never keeps the others out, and each gets its own
// error. A status appearing twice is stored once and then found, as a second delivery
// of it would be.
func (s *Service) ReceiveStatuses(ctx context.Context, ins []RemoteStatus) ([]*Status, []error) {
	outs := make([]*Status, len(ins))
	errs := make([]error, len(ins))
	prepared := make([]*preparedStatus, len(ins))
	authors := map[int64]*Account{}
	var todo []int
	for i, in := range ins {
		p, err := s.prepareRemoteStatus(ctx, in, authors)
		if err != nil {
			errs[i] = err
			continue
		}
		prepared[i] = p
		todo = append(todo, i)
	}
	if len(todo) > 1 {
		batch := make([]*Status, len(ins))
		err := s.txRetryingRace(ctx, func(tx *gorm.DB, ev *[]Event) error {
			for _, i := range todo {
				var out Status
				if err := s.storeRemoteStatus(tx, ev, prepared[i], &out); err != nil {
					return fmt.Errorf("status %s: %w", ins[i].URI, err)
				}
				batch[i] = &out
			}
			return nil
		})
		if err == nil {
			for _, i := range todo {
				outs[i] = batch[i]
			}
			return outs, errs
		}
		if ctx.Err() != nil {
			for _, i := range todo {
				errs[i] = err
			}
			return outs, errs
		}
	}
	for _, i := range todo {
		outs[i], errs[i] = s.storePrepared(ctx, prepared[i])
	}
	return outs, errs
}

// AcceptActivities is AcceptActivity for several incoming activities in one
// transaction: it records each id and reports, per id, whether it was new; keep runs
// once, in the same transaction, with that report, and must keep exactly the new ones
// (federation queues them). An id given twice is new at most once, the first time.
// An inbox receiving many deliveries at once thus commits once for all of them.
func (s *Service) AcceptActivities(ctx context.Context, uris []string, keep func(tx *gorm.DB, fresh []bool) error) ([]bool, error) {
	fresh := make([]bool, len(uris))
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		clear(fresh)
		for i, uri := range uris {
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&ReceivedActivity{URI: uri, ReceivedAt: s.clock()})
			if res.Error != nil {
				return fmt.Errorf("record activity %s: %w", uri, res.Error)
			}
			fresh[i] = res.RowsAffected == 1
		}
		return keep(tx, fresh)
	})
	if err != nil {
		return nil, err
	}
	return fresh, nil
}
