package community

import (
	"context"
	"fmt"
	"math/bits"
	"strings"
	"time"

	"gorm.io/gorm"
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
		recorded, err := recordActivities(tx, uris, s.clock())
		if err != nil {
			return err
		}
		// The first mention of an id the insert wrote is the new one; a repeat of it in
		// the same batch is a replay like any other.
		for i, uri := range uris {
			if recorded[uri] {
				fresh[i] = true
				delete(recorded, uri)
			}
		}
		return keep(tx, fresh)
	})
	if err != nil {
		return nil, err
	}
	return fresh, nil
}

// recordActivities inserts the ids that are not recorded yet and returns those it
// inserted. One multi-row INSERT … ON CONFLICT DO NOTHING RETURNING (SQLite and
// PostgreSQL both have it) instead of one statement per id: a statement costs 30–50 µs
// in gorm and the driver before the database does anything. The rows go in chunks of
// power-of-two sizes, so that the statement texts stay few (each connection keeps its
// compiled statements by text).
func recordActivities(tx *gorm.DB, uris []string, now time.Time) (map[string]bool, error) {
	recorded := make(map[string]bool, len(uris))
	for rest := uris; len(rest) > 0; {
		n := 1 << (bits.Len(uint(len(rest))) - 1) // the largest power of two that fits
		n = min(n, maxRecordChunk)
		var sql strings.Builder
		sql.WriteString("INSERT INTO received_activities (uri, received_at) VALUES (?, ?)")
		args := make([]any, 0, 2*n)
		args = append(args, rest[0], now)
		for _, uri := range rest[1:n] {
			sql.WriteString(", (?, ?)")
			args = append(args, uri, now)
		}
		sql.WriteString(" ON CONFLICT DO NOTHING RETURNING uri")
		var inserted []string
		if err := tx.Raw(sql.String(), args...).Scan(&inserted).Error; err != nil {
			return nil, fmt.Errorf("record %d activities: %w", n, err)
		}
		for _, uri := range inserted {
			recorded[uri] = true
		}
		rest = rest[n:]
	}
	return recorded, nil
}

// maxRecordChunk bounds the rows of one INSERT (two parameters each).
const maxRecordChunk = 256
