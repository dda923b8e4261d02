package queue

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// writeTimeout bounds the bookkeeping writes after a handler returns. They use a
// context detached from Run's, so that a shutdown still records what finished.
const writeTimeout = 10 * time.Second

// Run claims runnable jobs of the kinds in handlers and runs them, at most
// Options.Workers at a time, until ctx ends. Then it cancels the handlers still
// running, puts their jobs back as runnable (they did not finish: the attempt does
// not count), waits for them, and returns nil. It returns an error at once if
// handlers is empty or Run is already active on this Queue.
//
// One dispatcher claims jobs in batches (one short transaction for up to all free
// workers) and starts a goroutine per job, which keeps SQLite's single write lock
// taken once per batch rather than once per idle worker.
func (q *Queue) Run(ctx context.Context, handlers map[string]Handler) error {
	if len(handlers) == 0 {
		return errors.New("queue: run: no handlers")
	}
	q.runMu.Lock()
	if q.running {
		q.runMu.Unlock()
		return errors.New("queue: run: already running")
	}
	q.running = true
	q.runMu.Unlock()
	defer func() {
		q.runMu.Lock()
		q.running = false
		q.runMu.Unlock()
	}()

	kinds := make([]string, 0, len(handlers))
	for k := range handlers {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds) // one SQL text, so one prepared statement

	var wg sync.WaitGroup
	wg.Go(func() { q.sweepLoop(ctx) })

	// freed is signalled when a job finishes: a worker (and maybe a host slot) is
	// free, and a retry may have come due.
	freed := make(chan struct{}, 1)
	var mu sync.Mutex
	inflight := 0
	poll := time.NewTicker(q.opts.PollInterval)
	defer poll.Stop()

	for ctx.Err() == nil {
		mu.Lock()
		free := q.opts.Workers - inflight
		mu.Unlock()
		if free > 0 {
			jobs, err := q.claim(ctx, kinds, free)
			if err != nil && ctx.Err() == nil {
				q.log.WarnContext(ctx, "queue: claim failed", "err", err)
			}
			for _, job := range jobs {
				mu.Lock()
				inflight++
				mu.Unlock()
				wg.Go(func() {
					q.work(ctx, handlers[job.Kind], job)
					mu.Lock()
					inflight--
					mu.Unlock()
					signal(freed)
				})
			}
		}
		select {
		case <-ctx.Done():
		case <-q.wake:
		case <-freed:
		case <-poll.C:
		}
	}
	wg.Wait()
	return nil
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// claim leases up to n runnable jobs of the given kinds and returns them with their
// new attempt count.
//
// The transaction first reads candidates (id, kind, host only: payloads can be large
// and most candidates of a busy host are skipped), lets the fairness rules choose,
// leases the chosen ones and then reads them in full. On PostgreSQL the candidate
// rows are locked FOR UPDATE SKIP LOCKED, so concurrent claimers (other processes)
// pass over each other's rows instead of waiting or taking the same job; on SQLite
// the transaction starts with BEGIN IMMEDIATE (the store's _txlock=immediate), which
// serializes claimers outright. Either way a job, once claimed, has run_at in the
// future and no other claimer sees it until its lease ends.
func (q *Queue) claim(ctx context.Context, kinds []string, n int) ([]Job, error) {
	now := q.now()
	excluded := q.fair.excluded(now)
	var (
		jobs     []Job
		admitted []candidate
	)
	err := q.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		sel := tx.Model(&Job{}).Select("id", "kind", "host").
			Where("run_at <= ?", now).Where("kind IN ?", kinds)
		for _, kind := range sortedKeys(excluded) {
			sel = sel.Where("NOT (kind = ? AND host IN ?)", kind, excluded[kind])
		}
		// Over-fetch: some candidates may belong to a host that reaches its limit
		// within this batch.
		sel = sel.Order("run_at").Limit(4 * n)
		if q.pg {
			sel = sel.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate, Options: clause.LockingOptionsSkipLocked})
		}
		var cands []candidate
		if err := sel.Find(&cands).Error; err != nil {
			return fmt.Errorf("select: %w", err)
		}
		admitted = q.fair.admit(cands, n, now)
		if len(admitted) == 0 {
			return nil
		}
		ids := make([]int64, len(admitted))
		for i, c := range admitted {
			ids[i] = c.ID
		}
		until := now.Add(q.opts.Lease)
		err := tx.Model(&Job{}).Where("id IN ?", ids).Updates(map[string]any{
			"attempts":     gorm.Expr("attempts + 1"),
			"run_at":       until,
			"locked_until": until,
		}).Error
		if err != nil {
			return fmt.Errorf("lease: %w", err)
		}
		if err := tx.Where("id IN ?", ids).Find(&jobs).Error; err != nil {
			return fmt.Errorf("load: %w", err)
		}
		return nil
	})
	if err != nil {
		q.fair.release(admitted)
		return nil, fmt.Errorf("queue: claim: %w", err)
	}
	if len(jobs) != len(admitted) { // cannot happen: the rows were locked
		got := map[int64]bool{}
		for _, j := range jobs {
			got[j.ID] = true
		}
		var lost []candidate
		for _, c := range admitted {
			if !got[c.ID] {
				lost = append(lost, c)
			}
		}
		q.fair.release(lost)
	}
	return jobs, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// work runs one claimed job and records the result.
func (q *Queue) work(ctx context.Context, h Handler, job Job) {
	hctx, cancel := context.WithTimeout(ctx, q.opts.Timeout)
	err := call(hctx, h, job)
	cancel()

	wctx, cancelWrite := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancelWrite()
	if werr := q.finish(wctx, ctx.Err() != nil, job, err); werr != nil {
		// The job keeps its lease and runs again when it expires.
		q.log.ErrorContext(wctx, "queue: recording job result failed",
			"kind", job.Kind, "host", job.Host, "job", job.ID, "err", werr)
	}
}

// call runs h, turning a panic into an error so that one bad job cannot take the
// process down (it is retried and, if it keeps panicking, dead-lettered).
func call(ctx context.Context, h Handler, job Job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return h(ctx, job)
}

// finish records a handler's result. Every write is fenced by (id, attempts): if the
// lease expired and another worker claimed the job meanwhile, attempts has moved on
// and this worker's late result changes nothing.
func (q *Queue) finish(ctx context.Context, shuttingDown bool, job Job, err error) error {
	now := q.now()
	db := q.db.WithContext(ctx)
	fenced := func() *gorm.DB {
		return db.Model(&Job{}).Where("id = ? AND attempts = ?", job.ID, job.Attempts)
	}

	if err == nil {
		q.fair.done(job.Kind, job.Host, hostAnswered, 0, q.opts.Backoff, now)
		if err := fenced().Delete(&Job{}).Error; err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		return nil
	}

	if shuttingDown {
		// Interrupted, not failed: make it runnable at once for the next process and
		// give the attempt back.
		q.fair.done(job.Kind, job.Host, hostNeutral, 0, q.opts.Backoff, now)
		return fenced().Updates(map[string]any{
			"attempts":     gorm.Expr("attempts - 1"),
			"run_at":       now,
			"locked_until": nil,
		}).Error
	}

	msg := truncate(err.Error())
	if IsPermanent(err) {
		q.fair.done(job.Kind, job.Host, hostAnswered, 0, q.opts.Backoff, now)
		q.log.WarnContext(ctx, "queue: job failed permanently",
			"kind", job.Kind, "host", job.Host, "job", job.ID, "attempts", job.Attempts, "err", err)
		return q.bury(ctx, job, ReasonPermanent, msg, now)
	}

	var ra *retryAfterError
	retryAfter := time.Duration(0)
	if errors.As(err, &ra) {
		retryAfter = ra.after
	}
	pause, failures := q.fair.done(job.Kind, job.Host, hostFailed, retryAfter, q.opts.Backoff, now)
	if pause > 0 {
		q.pauseHost(ctx, job.Kind, job.Host, now.Add(pause), failures)
	}

	switch {
	case job.Attempts >= q.opts.MaxAttempts:
		q.log.WarnContext(ctx, "queue: job failed, giving up",
			"kind", job.Kind, "host", job.Host, "job", job.ID, "attempts", job.Attempts, "err", err)
		return q.bury(ctx, job, ReasonMaxAttempts, msg, now)
	case now.Sub(job.CreatedAt) >= q.opts.MaxAge:
		q.log.WarnContext(ctx, "queue: job failed, too old to retry",
			"kind", job.Kind, "host", job.Host, "job", job.ID, "attempts", job.Attempts, "err", err)
		return q.bury(ctx, job, ReasonExpired, msg, now)
	}
	delay := retryAfter
	if delay == 0 {
		delay = q.opts.Backoff(job.Attempts)
	}
	q.log.WarnContext(ctx, "queue: job failed, will retry",
		"kind", job.Kind, "host", job.Host, "job", job.ID, "attempts", job.Attempts,
		"retry_in", delay.Round(time.Second), "err", err)
	return fenced().Updates(map[string]any{
		"run_at":       now.Add(delay),
		"locked_until": nil,
		"last_error":   msg,
	}).Error
}

// pauseHost reschedules the host's runnable jobs to the end of its pause.
func (q *Queue) pauseHost(ctx context.Context, kind, host string, until time.Time, failures int) {
	q.log.WarnContext(ctx, "queue: host failing, pausing its jobs",
		"kind", kind, "host", host, "failures", failures, "until", until)
	err := q.db.WithContext(ctx).Model(&Job{}).
		Where("kind = ? AND host = ? AND run_at < ?", kind, host, until).
		Update("run_at", until).Error
	if err != nil {
		// The in-memory pause still holds for this process.
		q.log.ErrorContext(ctx, "queue: pausing host failed", "kind", kind, "host", host, "err", err)
	}
}

// bury moves a job to the dead-letter table, unless another worker owns it now.
func (q *Queue) bury(ctx context.Context, job Job, reason, msg string, now time.Time) error {
	return q.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Where("id = ? AND attempts = ?", job.ID, job.Attempts).Delete(&Job{})
		if res.Error != nil {
			return fmt.Errorf("delete: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		return tx.Create(deadLetter(job, reason, msg, now)).Error
	})
}

func deadLetter(job Job, reason, msg string, now time.Time) *DeadLetter {
	return &DeadLetter{
		ID:        job.ID,
		Kind:      job.Kind,
		Host:      job.Host,
		Payload:   job.Payload,
		DedupeKey: job.DedupeKey,
		Attempts:  job.Attempts,
		Reason:    reason,
		LastError: msg,
		CreatedAt: job.CreatedAt,
		DiedAt:    now,
	}
}

func truncate(s string) string {
	if len(s) <= maxErrorLen {
		return s
	}
	// Cut on a rune boundary so that PostgreSQL accepts the text.
	cut := maxErrorLen
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
