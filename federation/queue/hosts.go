package queue

import (
	"context"
	"fmt"
	"time"
)

// What the queue can tell an administrator about each host it talks to: how many
// jobs wait for it, what went wrong last, and (since this process started) when it
// last answered. Completed jobs are deleted, so the database alone cannot say when a
// host last took a delivery; the fairness rules see every outcome and remember it.

// HostStats describes one host's jobs of one kind.
type HostStats struct {
	Host string
	// Queued counts jobs waiting (never tried, or waiting for a retry); Running those
	// leased by a worker now.
	Queued  int64
	Running int64
	Dead    int64
	// OldestQueued is when the oldest waiting job was enqueued (zero: none waits).
	OldestQueued time.Time
	// LastError is the latest error of a job still waiting for a retry.
	LastError string
	// LastAnswered and LastFailed are the last success (or permanent refusal: the host
	// answered) and the last transient failure seen by this process; zero when none
	// since it started.
	LastAnswered time.Time
	LastFailed   time.Time
	// Failures counts transient failures in a row; PausedUntil is set while the host
	// is paused after them.
	Failures    int
	PausedUntil time.Time
}

// hostSeen is what the fairness rules remember of a host's outcomes.
type hostSeen struct {
	answered time.Time
	failed   time.Time
}

// maxSeenHosts bounds the outcomes remembered: a company has a handful of peers, but
// open federation may reach many hosts.
const maxSeenHosts = 4096

// see records a finished run's outcome. Caller holds f.mu.
func (f *fairness) see(k hostKey, o outcome, now time.Time) {
	if o == hostNeutral {
		return
	}
	if f.seen == nil {
		f.seen = map[hostKey]*hostSeen{}
	}
	s := f.seen[k]
	if s == nil {
		if len(f.seen) >= maxSeenHosts {
			for old := range f.seen { // any one: the bound matters, not which goes
				delete(f.seen, old)
				break
			}
		}
		s = &hostSeen{}
		f.seen[k] = s
	}
	if o == hostAnswered {
		s.answered = now
	} else {
		s.failed = now
	}
}

// HostStats reports, for each host with jobs of kind queued or dead or with outcomes
// seen by this process, its counts and health.
func (q *Queue) HostStats(ctx context.Context, kind string) (map[string]HostStats, error) {
	now := q.now()
	db := q.db.WithContext(ctx)
	var rows []struct {
		Host    string
		Queued  int64
		Running int64
	}
	err := db.Model(&Job{}).Select(`host,
		COUNT(CASE WHEN locked_until IS NULL OR locked_until <= ? THEN 1 END) AS queued,
		COUNT(CASE WHEN locked_until > ? THEN 1 END) AS running`, now, now).
		Where("kind = ?", kind).Group("host").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("queue: host stats: %w", err)
	}
	out := map[string]HostStats{}
	for _, r := range rows {
		out[r.Host] = HostStats{Host: r.Host, Queued: r.Queued, Running: r.Running}
	}
	// The oldest job and the latest error, one row per host: a handful of peers,
	// each answered from the (kind, host) index.
	for host, st := range out {
		var oldest Job
		if err := db.Where("kind = ? AND host = ?", kind, host).Order("created_at").Limit(1).Find(&oldest).Error; err != nil {
			return nil, fmt.Errorf("queue: host stats: %w", err)
		}
		st.OldestQueued = oldest.CreatedAt
		var failing Job
		if err := db.Where("kind = ? AND host = ? AND last_error <> ''", kind, host).
			Order("run_at DESC").Limit(1).Find(&failing).Error; err != nil {
			return nil, fmt.Errorf("queue: host stats: %w", err)
		}
		st.LastError = failing.LastError
		out[host] = st
	}
	var dead []struct {
		Host string
		N    int64
	}
	if err := db.Model(&DeadLetter{}).Select("host, COUNT(*) AS n").Where("kind = ?", kind).
		Group("host").Scan(&dead).Error; err != nil {
		return nil, fmt.Errorf("queue: host stats: %w", err)
	}
	for _, d := range dead {
		st := out[d.Host]
		st.Host, st.Dead = d.Host, d.N
		out[d.Host] = st
	}
	q.fair.mu.Lock()
	defer q.fair.mu.Unlock()
	for k, seen := range q.fair.seen {
		if k.kind != kind {
			continue
		}
		st := out[k.host]
		st.Host, st.LastAnswered, st.LastFailed = k.host, seen.answered, seen.failed
		out[k.host] = st
	}
	for k, hs := range q.fair.hosts {
		if k.kind != kind {
			continue
		}
		st := out[k.host]
		st.Host, st.Failures = k.host, hs.failures
		if hs.pausedUntil.After(now) {
			st.PausedUntil = hs.pausedUntil
		}
		out[k.host] = st
	}
	return out, nil
}

// HostDeadLetters returns up to limit dead letters of one kind and host, most
// recently given up first.
func (q *Queue) HostDeadLetters(ctx context.Context, kind, host string, limit int) ([]DeadLetter, error) {
	var out []DeadLetter
	err := q.db.WithContext(ctx).Where("kind = ? AND host = ?", kind, host).
		Order("died_at DESC").Order("id DESC").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("queue: dead letters of %s: %w", host, err)
	}
	return out, nil
}

// Discard deletes dead letters for good, for an operator who decided they will never
// be delivered. It returns how many were deleted.
func (q *Queue) Discard(ctx context.Context, ids ...int64) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	res := q.db.WithContext(ctx).Where("id IN ?", ids).Delete(&DeadLetter{})
	if res.Error != nil {
		return 0, fmt.Errorf("queue: discard: %w", res.Error)
	}
	return int(res.RowsAffected), nil
}
