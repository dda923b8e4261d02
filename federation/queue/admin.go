package queue

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Stats is a snapshot of the queue for admin pages and health checks.
type Stats struct {
	// Kinds maps each kind with queued or dead jobs to its counts.
	Kinds map[string]KindStats
}

// KindStats counts one kind's jobs.
type KindStats struct {
	Pending  int64 // never attempted yet
	Running  int64 // leased by a worker now
	Retrying int64 // failed at least once, waiting for the next attempt
	Dead     int64 // in the dead-letter table
}

// Stats counts jobs per kind. Jobs of a process that died count as retrying once
// their lease has expired.
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	now := q.now()
	db := q.db.WithContext(ctx)
	var rows []struct {
		Kind     string
		Pending  int64
		Running  int64
		Retrying int64
	}
	err := db.Model(&Job{}).Select(`kind,
		COUNT(CASE WHEN attempts = 0 AND (locked_until IS NULL OR locked_until <= ?) THEN 1 END) AS pending,
		COUNT(CASE WHEN locked_until > ? THEN 1 END) AS running,
		COUNT(CASE WHEN attempts > 0 AND (locked_until IS NULL OR locked_until <= ?) THEN 1 END) AS retrying`,
		now, now, now).
		Group("kind").Scan(&rows).Error
	if err != nil {
		return Stats{}, fmt.Errorf("queue: stats: %w", err)
	}
	var dead []struct {
		Kind string
		N    int64
	}
	if err := db.Model(&DeadLetter{}).Select("kind, COUNT(*) AS n").Group("kind").Scan(&dead).Error; err != nil {
		return Stats{}, fmt.Errorf("queue: stats: %w", err)
	}
	st := Stats{Kinds: map[string]KindStats{}}
	for _, r := range rows {
		st.Kinds[r.Kind] = KindStats{Pending: r.Pending, Running: r.Running, Retrying: r.Retrying}
	}
	for _, d := range dead {
		k := st.Kinds[d.Kind]
		k.Dead = d.N
		st.Kinds[d.Kind] = k
	}
	return st, nil
}

// DeadLetters returns up to limit dead letters, most recently given up first.
func (q *Queue) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	var out []DeadLetter
	err := q.db.WithContext(ctx).Order("died_at DESC").Order("id DESC").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("queue: dead letters: %w", err)
	}
	return out, nil
}

// Requeue moves dead letters back into the queue as new jobs (attempts from zero,
// a fresh MaxAge), for an operator who fixed the cause. It returns how many were
// requeued; ids that are not dead letters are ignored, and so are jobs whose dedupe
// key has been enqueued again meanwhile.
func (q *Queue) Requeue(ctx context.Context, ids ...int64) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	now := q.now()
	n := 0
	err := q.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var dead []DeadLetter
		if err := tx.Where("id IN ?", ids).Find(&dead).Error; err != nil {
			return err
		}
		if len(dead) == 0 {
			return nil
		}
		jobs := make([]Job, len(dead))
		found := make([]int64, len(dead))
		for i, d := range dead {
			found[i] = d.ID
			jobs[i] = Job{
				ID:        d.ID,
				Kind:      d.Kind,
				Host:      d.Host,
				Payload:   d.Payload,
				DedupeKey: d.DedupeKey,
				RunAt:     now,
				LastError: d.LastError,
				CreatedAt: now,
			}
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&jobs)
		if res.Error != nil {
			return res.Error
		}
		n = int(res.RowsAffected)
		return tx.Where("id IN ?", found).Delete(&DeadLetter{}).Error
	})
	if err != nil {
		return 0, fmt.Errorf("queue: requeue: %w", err)
	}
	q.Wake()
	return n, nil
}

// sweepBatch bounds the rows one expiry transaction moves, so that it never holds
// SQLite's write lock for long.
const sweepBatch = 500

func (q *Queue) sweepLoop(ctx context.Context) {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		if err := q.sweep(ctx); err != nil && ctx.Err() == nil {
			q.log.WarnContext(ctx, "queue: sweep failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweep gives up jobs older than MaxAge that no worker holds (a paused host's
// backlog is never claimed, so it would otherwise wait forever) and deletes dead
// letters past their retention.
func (q *Queue) sweep(ctx context.Context) error {
	now := q.now()
	cutoff := now.Add(-q.opts.MaxAge)
	total := 0
	for {
		n, err := q.expire(ctx, cutoff, now)
		if err != nil {
			return err
		}
		total += n
		if n < sweepBatch {
			break
		}
	}
	if total > 0 {
		q.log.WarnContext(ctx, "queue: jobs expired", "count", total, "max_age", q.opts.MaxAge)
	}
	err := q.db.WithContext(ctx).Where("died_at < ?", now.Add(-q.opts.DeadLetterRetention)).
		Delete(&DeadLetter{}).Error
	if err != nil {
		return fmt.Errorf("queue: delete old dead letters: %w", err)
	}
	return nil
}

func (q *Queue) expire(ctx context.Context, cutoff, now time.Time) (int, error) {
	const expired = "created_at < ? AND (locked_until IS NULL OR locked_until <= ?)"
	// Nearly always nothing is that old: find out without taking SQLite's write lock.
	var probe []int64
	if err := q.db.WithContext(ctx).Model(&Job{}).Where(expired, cutoff, now).Limit(1).Pluck("id", &probe).Error; err != nil {
		return 0, fmt.Errorf("queue: expire: %w", err)
	}
	if len(probe) == 0 {
		return 0, nil
	}
	n := 0
	err := q.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		sel := tx.Where(expired, cutoff, now).Order("id").Limit(sweepBatch)
		if q.pg {
			sel = sel.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate, Options: clause.LockingOptionsSkipLocked})
		}
		var jobs []Job
		if err := sel.Find(&jobs).Error; err != nil {
			return err
		}
		if len(jobs) == 0 {
			return nil
		}
		dead := make([]*DeadLetter, len(jobs))
		ids := make([]int64, len(jobs))
		for i, j := range jobs {
			msg := j.LastError
			if msg == "" {
				msg = "never attempted"
			}
			dead[i] = deadLetter(j, ReasonExpired, msg, now)
			ids[i] = j.ID
		}
		if err := tx.Where("id IN ?", ids).Delete(&Job{}).Error; err != nil {
			return err
		}
		n = len(jobs)
		return tx.Create(dead).Error
	})
	if err != nil {
		return 0, fmt.Errorf("queue: expire: %w", err)
	}
	return n, nil
}
