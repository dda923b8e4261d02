package queue

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

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
// One dispatcher claims jobs for all free workers at once and starts a goroutine per
// job (per batch, see RunBatches); one recorder writes the outcomes, batching those
// that finished together. The queue's writes thus come from two goroutines, not from
// every worker, and SQLite's single write lock is taken once per batch rather than
// once or twice per job.
func (q *Queue) Run(ctx context.Context, handlers map[string]Handler) error {
	return q.RunBatches(ctx, handlers, nil)
}

// RunBatches is Run with kinds whose jobs run in batches besides: a claim leases up
// to Options.BatchSize runnable jobs of such a kind and one host together, and one
// worker hands them to the kind's BatchHandler in one call. A batch counts as one
// job for Options.Workers and Options.PerHost; a failing host's probe is a batch of
// one. A kind must be in handlers or in batches, not in both.
func (q *Queue) RunBatches(ctx context.Context, handlers map[string]Handler, batches map[string]BatchHandler) error {
	if len(handlers) == 0 && len(batches) == 0 {
		return errors.New("queue: run: no handlers")
	}
	for k := range batches {
		if _, ok := handlers[k]; ok {
			return fmt.Errorf("queue: run: kind %q has both a handler and a batch handler", k)
		}
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

	kinds := make([]string, 0, len(handlers)+len(batches))
	for k := range handlers {
		kinds = append(kinds, k)
	}
	for k := range batches {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds) // one SQL text, so one prepared statement
	batchSize := func(kind string) int {
		if batches[kind] != nil {
			return q.opts.BatchSize
		}
		return 1
	}

	var wg sync.WaitGroup
	wg.Go(func() { q.sweepLoop(ctx) })

	// freed is signalled when a job finishes: a worker (and maybe a host slot) is
	// free, and a retry may have come due.
	freed := make(chan struct{}, 1)
	results := make(chan []decision, q.opts.Workers)
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		q.recorder(ctx, results, freed)
	}()
	var mu sync.Mutex
	inflight := 0
	poll := time.NewTicker(q.opts.PollInterval)
	defer poll.Stop()

	// drained: the last claim left no runnable job behind that it could have taken
	// with more free workers. A finished job then needs no claim of its own: jobs
	// enqueued here wake the dispatcher, and the poll finds the others (retries
	// coming due, other processes' jobs). Without this, every job cost two or three
	// claims, most of them finding nothing.
	drained := false
	start := func(units [][]Job) {
		for _, unit := range units {
			mu.Lock()
			inflight++
			mu.Unlock()
			wg.Go(func() {
				if bh := batches[unit[0].Kind]; bh != nil {
					q.workBatch(ctx, bh, unit, results)
				} else {
					q.work(ctx, handlers[unit[0].Kind], unit[0], results)
				}
				mu.Lock()
				inflight--
				mu.Unlock()
				signal(freed)
			})
		}
	}
	q.openLocal()
	for ctx.Err() == nil {
		mu.Lock()
		free := q.opts.Workers - inflight
		mu.Unlock()
		// Jobs this process enqueued and leased come first: they need no claim.
		units, stale := q.takeLocal(q.now(), free, batchSize)
		if len(stale) > 0 {
			results <- q.releases(stale)
			drained = false
		}
		start(units)
		free -= len(units)
		if free > 0 && !drained {
			units, all, err := q.claimUnits(ctx, kinds, free, batchSize)
			drained = all
			if err != nil && ctx.Err() == nil {
				q.log.WarnContext(ctx, "queue: claim failed", "err", err)
			}
			start(units)
		}
		select {
		case <-ctx.Done():
		case <-q.wake:
			drained = false
		case <-q.offered:
		case <-freed:
		case <-poll.C:
			drained = false
		}
	}
	// Offered jobs that did not start go back to the table, runnable: the next Run,
	// here or elsewhere, claims them without waiting for their lease to end.
	left := q.closeLocal()
	wg.Wait()
	if len(left) > 0 {
		results <- q.releases(left)
	}
	close(results)
	<-recorded
	return nil
}

func signal(c chan<- struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// claim leases up to n runnable jobs of the given kinds, one at a time as a Handler
// runs them, and returns them with their new attempt count.
func (q *Queue) claim(ctx context.Context, kinds []string, n int) ([]Job, error) {
	units, _, err := q.claimUnits(ctx, kinds, n, nil)
	var jobs []Job
	for _, u := range units {
		jobs = append(jobs, u...)
	}
	return jobs, err
}

// claimUnits leases runnable jobs of the given kinds for up to n runs and returns
// them grouped by run, with their new attempt count. batchSize tells how many jobs
// of a kind (and one host) one run takes; nil means one. drained reports that every
// runnable job was taken: none was left out by a limit of this claim or of fairness.
//
// It first reads candidates (id, kind, host only: payloads can be large and
// candidates of a busy host are skipped), lets the fairness rules choose, then
// leases the chosen ones and reads them in full with one UPDATE … RETURNING (both
// dialects have it). The UPDATE re-checks run_at, so a job another claimer leased
// since the read is left alone: once claimed, a job's run_at is in the future and
// no claimer sees it until its lease ends.
//
// On PostgreSQL both steps share a transaction and the candidates are read FOR
// UPDATE SKIP LOCKED, so concurrent claimers (other processes) pass over each
// other's rows instead of waiting for them. On SQLite the read happens outside any
// write transaction (WAL readers do not block the writer) and the lease is a single
// statement, so the write lock is held only for the UPDATE, however many rows the
// read had to pass over.
func (q *Queue) claimUnits(ctx context.Context, kinds []string, n int, batchSize func(kind string) int) (units [][]Job, drained bool, err error) {
	now := q.now()
	excluded := q.fair.excluded(now)
	perRun := 1
	if batchSize != nil {
		for _, k := range kinds {
			perRun = max(perRun, batchSize(k))
		}
	}
	var (
		jobs     []Job
		admitted [][]candidate
	)
	lease := func(db *gorm.DB) error {
		sel := db.Model(&Job{}).Select("id", "kind", "host").
			Where("run_at <= ?", now).Where("kind IN ?", kinds)
		for _, kind := range sortedKeys(excluded) {
			sel = sel.Where("NOT (kind = ? AND host IN ?)", kind, excluded[kind])
		}
		// Over-fetch: some candidates may belong to a host that reaches its limit
		// within this batch.
		limit := n*perRun + 3*n
		sel = sel.Order("run_at").Limit(limit)
		if q.pg {
			sel = sel.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate, Options: clause.LockingOptionsSkipLocked})
		}
		var cands []candidate
		if err := sel.Find(&cands).Error; err != nil {
			return fmt.Errorf("select: %w", err)
		}
		admitted = q.fair.admitUnits(cands, n, now, batchSize)
		taken := 0
		for _, u := range admitted {
			taken += len(u)
		}
		drained = len(excluded) == 0 && len(cands) < limit && taken == len(cands)
		if len(admitted) == 0 {
			return nil
		}
		var ids []int64
		for _, u := range admitted {
			for _, c := range u {
				ids = append(ids, c.ID)
			}
		}
		until := now.Add(q.opts.Lease)
		err := db.Model(&jobs).Clauses(clause.Returning{}).
			Where("id IN ? AND run_at <= ?", ids, now).
			Updates(map[string]any{
				"attempts":     gorm.Expr("attempts + 1"),
				"run_at":       until,
				"locked_until": until,
			}).Error
		if err != nil {
			return fmt.Errorf("lease: %w", err)
		}
		return nil
	}
	if q.pg {
		err = q.progressTx(ctx, lease)
	} else {
		err = lease(q.db.WithContext(ctx))
	}
	if err != nil {
		q.fair.releaseUnits(admitted)
		return nil, false, fmt.Errorf("queue: claim: %w", err)
	}
	// RETURNING gives rows in no particular order: rebuild the runs in the order
	// admitted. A job missing was leased by another process between the read and the
	// UPDATE (SQLite only: on PostgreSQL the rows were locked); a run that lost all
	// of its jobs gives its slot back.
	got := make(map[int64]Job, len(jobs))
	for _, j := range jobs {
		got[j.ID] = j
	}
	var lost [][]candidate
	for _, u := range admitted {
		var unit []Job
		for _, c := range u {
			if j, ok := got[c.ID]; ok {
				unit = append(unit, j)
			}
		}
		if len(unit) == 0 {
			lost = append(lost, u)
			continue
		}
		units = append(units, unit)
	}
	q.fair.releaseUnits(lost)
	return units, drained, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// work runs one claimed job and hands the outcome to the recorder.
func (q *Queue) work(ctx context.Context, h Handler, job Job, results chan<- []decision) {
	start := time.Now()
	hctx, cancel := context.WithTimeout(ctx, q.opts.Timeout)
	err := call(hctx, h, job)
	cancel()
	results <- q.observed([]decision{q.decide(ctx, ctx.Err() != nil, job, err)}, start)
}

// workBatch runs claimed jobs of one kind and host through their BatchHandler and
// hands the outcomes to the recorder.
func (q *Queue) workBatch(ctx context.Context, h BatchHandler, jobs []Job, results chan<- []decision) {
	start := time.Now()
	hctx, cancel := context.WithTimeout(ctx, q.opts.Timeout)
	errs := callBatch(hctx, h, jobs)
	cancel()
	results <- q.observed(q.decideRun(ctx, ctx.Err() != nil, jobs, errs), start)
}

// callBatch runs h as call runs a Handler; a panic, or a wrong number of results,
// fails every job of the batch.
func callBatch(ctx context.Context, h BatchHandler, jobs []Job) (errs []error) {
	defer func() {
		if r := recover(); r != nil {
			err := fmt.Errorf("panic: %v\n%s", r, debug.Stack())
			errs = make([]error, len(jobs))
			for i := range errs {
				errs[i] = err
			}
		}
	}()
	errs = h(ctx, jobs)
	if len(errs) != len(jobs) {
		err := fmt.Errorf("batch handler returned %d results for %d jobs", len(errs), len(jobs))
		errs = make([]error, len(jobs))
		for i := range errs {
			errs[i] = err
		}
	}
	return errs
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

// op is what becomes of a job after a run.
type op int

const (
	opDelete  op = iota // done
	opRelease           // interrupted by shutdown: runnable now, attempt not counted
	opRetry             // transient failure: runnable at runAt
	opBury              // given up: to the dead-letter table
)

// decision is a finished run's outcome, to be written by record.
type decision struct {
	job    Job
	op     op
	runAt  time.Time
	reason string
	msg    string
	// pauseUntil, when set, reschedules the host's runnable jobs (see fairness).
	pauseUntil time.Time
}

// decide turns a handler's result into a decision, updating the in-memory host
// state at once (so that the very next claim honours a pause) and logging failures.
func (q *Queue) decide(ctx context.Context, shuttingDown bool, job Job, err error) decision {
	return q.decideRun(ctx, shuttingDown, []Job{job}, []error{err})[0]
}

// decideRun turns the results of one run (one job, or a batch of one kind and host)
// into decisions. The run tells the host's state once: it failed if any job failed
// transiently, else it answered if any job succeeded or failed for good.
func (q *Queue) decideRun(ctx context.Context, shuttingDown bool, jobs []Job, errs []error) []decision {
	now := q.now()
	ds := make([]decision, len(jobs))
	outcome := hostNeutral
	firstFailed := -1
	var retryAfter time.Duration
	for i, job := range jobs {
		err := errs[i]
		ds[i].job = job
		switch {
		case err == nil:
			ds[i].op = opDelete
			if outcome == hostNeutral {
				outcome = hostAnswered
			}
			continue
		case shuttingDown:
			ds[i].op, ds[i].runAt = opRelease, now
			continue
		}
		ds[i].msg = errorText(err)
		if IsPermanent(err) {
			q.log.WarnContext(ctx, "queue: job failed permanently",
				"kind", job.Kind, "host", job.Host, "job", job.ID, "attempts", job.Attempts, "err", err)
			ds[i].op, ds[i].reason = opBury, ReasonPermanent
			if outcome == hostNeutral {
				outcome = hostAnswered
			}
			continue
		}
		outcome = hostFailed
		if firstFailed < 0 {
			firstFailed = i
		}
		var ra *retryAfterError
		if errors.As(err, &ra) {
			retryAfter = max(retryAfter, ra.after)
		}
	}
	pause, failures := q.fair.done(jobs[0].Kind, jobs[0].Host, outcome, retryAfter, q.opts.Backoff, now)
	if pause > 0 {
		ds[firstFailed].pauseUntil = now.Add(pause)
		q.log.WarnContext(ctx, "queue: host failing, pausing its jobs",
			"kind", jobs[0].Kind, "host", jobs[0].Host, "failures", failures, "until", ds[firstFailed].pauseUntil)
	}
	if outcome != hostFailed {
		return ds
	}
	for i, job := range jobs {
		err := errs[i]
		if err == nil || shuttingDown || IsPermanent(err) {
			continue
		}
		log := q.log.With("kind", job.Kind, "host", job.Host, "job", job.ID, "attempts", job.Attempts, "err", err)
		switch {
		case job.Attempts >= q.opts.MaxAttempts:
			log.WarnContext(ctx, "queue: job failed, giving up")
			ds[i].op, ds[i].reason = opBury, ReasonMaxAttempts
		case now.Sub(job.CreatedAt) >= q.opts.MaxAge:
			log.WarnContext(ctx, "queue: job failed, too old to retry")
			ds[i].op, ds[i].reason = opBury, ReasonExpired
		default:
			var delay time.Duration
			var ra *retryAfterError
			if errors.As(err, &ra) {
				delay = ra.after
			}
			if delay == 0 {
				delay = q.opts.Backoff(job.Attempts)
			}
			log.WarnContext(ctx, "queue: job failed, will retry", "retry_in", delay.Round(time.Second))
			ds[i].op, ds[i].runAt = opRetry, now.Add(delay)
		}
	}
	return ds
}

// observed tells Options.Observe the outcomes of a run that started at start.
func (q *Queue) observed(ds []decision, start time.Time) []decision {
	if q.opts.Observe == nil {
		return ds
	}
	took := time.Since(start)
	for _, d := range ds {
		outcome := "ok"
		switch {
		case d.op == opRelease:
			outcome = "interrupted"
		case d.op == opRetry:
			outcome = "retry"
		case d.op == opBury && d.reason == ReasonPermanent:
			outcome = "refused"
		case d.op == opBury:
			outcome = "dead"
		}
		q.opts.Observe(d.job.Kind, d.job.Host, outcome, took)
	}
	return ds
}

// finish decides and records one run synchronously.
func (q *Queue) finish(ctx context.Context, shuttingDown bool, job Job, err error) error {
	return q.record(ctx, []decision{q.decide(ctx, shuttingDown, job, err)})
}

// recordBatch bounds the decisions written in one transaction.
const recordBatch = 256

// recorder writes the decisions of finished runs, batching whatever has piled up
// into one transaction. On SQLite, where every write transaction takes the one
// write lock, this turns a transaction per job, with the workers queueing for the
// lock in SQLite's sleeping busy handler, into one per batch; on PostgreSQL it saves
// round trips. It returns when results is closed and drained.
func (q *Queue) recorder(ctx context.Context, results <-chan []decision, written chan<- struct{}) {
	ctx = context.WithoutCancel(ctx) // record what finished even while shutting down
	for ds := range results {
		batch := ds
	drain:
		for len(batch) < recordBatch {
			select {
			case ds, ok := <-results:
				if !ok {
					break drain
				}
				batch = append(batch, ds...)
			default:
				break drain
			}
		}
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		if err := q.record(wctx, batch); err != nil {
			// Those jobs keep their lease and run again when it expires.
			q.log.ErrorContext(wctx, "queue: recording job results failed", "jobs", len(batch), "err", err)
		}
		cancel()
		signal(written)
	}
}

// record writes decisions in one transaction; if that fails, one at a time, so that
// one bad row cannot hold back the others.
//
// Every write is fenced by (id, attempts): if the lease expired and another worker
// claimed the job meanwhile, attempts has moved on and this late result changes
// nothing.
func (q *Queue) record(ctx context.Context, ds []decision) error {
	err := q.writeAtomically(ctx, ds)
	if err != nil && len(ds) > 1 {
		var errs []error
		for _, d := range ds {
			if err := q.writeAtomically(ctx, []decision{d}); err != nil {
				errs = append(errs, fmt.Errorf("job %d: %w", d.job.ID, err))
			}
		}
		err = errors.Join(errs...)
	}
	for _, d := range ds {
		if !d.pauseUntil.IsZero() {
			q.pauseHost(ctx, d.job.Kind, d.job.Host, d.pauseUntil)
		}
	}
	if err != nil {
		return fmt.Errorf("queue: record: %w", err)
	}
	return nil
}

// writeAtomically runs write in one transaction.
func (q *Queue) writeAtomically(ctx context.Context, ds []decision) error {
	return q.progressTx(ctx, func(tx *gorm.DB) error { return q.write(tx, ds) })
}

// progressTx runs fn in a transaction that records progress (a claim, outcomes of
// runs). On PostgreSQL it commits with synchronous_commit off: the commit returns
// without waiting for the WAL flush, which was most of a claim's time (one fsync
// per claim and per batch of outcomes). If PostgreSQL itself then crashed, the last
// fraction of a second of such commits could be lost, and the jobs concerned would
// run again, which at-least-once delivery allows. A crash of Tacit's own process
// loses nothing: the server has the commit. Enqueue keeps the default, so a job
// is durable once Enqueue returns. SQLite needs no such care: in WAL mode with
// synchronous=NORMAL its commits do not wait for the disk anyway.
func (q *Queue) progressTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return q.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if q.pg {
			if err := tx.Exec("SET LOCAL synchronous_commit TO OFF").Error; err != nil {
				return err
			}
		}
		return fn(tx)
	})
}

func (q *Queue) write(tx *gorm.DB, ds []decision) error {
	now := q.now()
	fenced := func(j Job) *gorm.DB {
		return tx.Model(&Job{}).Where("id = ? AND attempts = ?", j.ID, j.Attempts)
	}
	// Successes, the bulk, in one DELETE per attempt count (nearly always just 1).
	done := map[int][]int64{}
	var dead []*DeadLetter
	for _, d := range ds {
		j := d.job
		switch d.op {
		case opDelete:
			done[j.Attempts] = append(done[j.Attempts], j.ID)
		case opRelease:
			err := fenced(j).Updates(map[string]any{
				"attempts":     gorm.Expr("attempts - 1"),
				"run_at":       d.runAt,
				"locked_until": nil,
			}).Error
			if err != nil {
				return fmt.Errorf("release: %w", err)
			}
		case opRetry:
			err := fenced(j).Updates(map[string]any{
				"run_at":       d.runAt,
				"locked_until": nil,
				"last_error":   d.msg,
			}).Error
			if err != nil {
				return fmt.Errorf("reschedule: %w", err)
			}
		case opBury:
			res := tx.Where("id = ? AND attempts = ?", j.ID, j.Attempts).Delete(&Job{})
			if res.Error != nil {
				return fmt.Errorf("bury: %w", res.Error)
			}
			if res.RowsAffected == 1 {
				dead = append(dead, deadLetter(j, d.reason, d.msg, now))
			}
		}
	}
	for attempts, ids := range done {
		if err := tx.Where("attempts = ? AND id IN ?", attempts, ids).Delete(&Job{}).Error; err != nil {
			return fmt.Errorf("delete: %w", err)
		}
	}
	if len(dead) > 0 {
		if err := tx.Create(dead).Error; err != nil {
			return fmt.Errorf("bury: %w", err)
		}
	}
	return nil
}

// pauseHost reschedules the host's runnable jobs to the end of its pause.
func (q *Queue) pauseHost(ctx context.Context, kind, host string, until time.Time) {
	err := q.db.WithContext(ctx).Model(&Job{}).
		Where("kind = ? AND host = ? AND run_at < ?", kind, host, until).
		Update("run_at", until).Error
	if err != nil {
		// The in-memory pause still holds for this process.
		q.log.ErrorContext(ctx, "queue: pausing host failed", "kind", kind, "host", host, "err", err)
	}
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

// errorText is err's message as stored: valid UTF-8 without NUL (PostgreSQL text
// accepts nothing else, and a peer's error body may be anything), at most
// maxErrorLen bytes.
func errorText(err error) string {
	s := strings.ToValidUTF8(err.Error(), "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	if len(s) <= maxErrorLen {
		return s
	}
	cut := maxErrorLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
