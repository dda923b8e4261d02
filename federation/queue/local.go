package queue

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Jobs enqueued by this process can skip the claim. EnqueueLeasedTx writes them
// already leased to this process (attempts 1, run_at at the end of the lease), and
// after the caller's commit Offer hands them to Run's dispatcher in memory: a claim
// is an UPDATE … RETURNING (a write, on SQLite the one write lock) that would only
// find the jobs this process has just written.
//
// Nothing is lost if the process dies between the commit and the run: the rows are
// in the table with an ordinary lease, which expires, and the next claim (here after
// a restart, or by another process) takes them as it takes a crashed worker's job.
// A leased job must start while its lease still outlasts the handler's timeout, as a
// claimed one does; a job that waited too long in memory, or that arrives while Run
// is not running or the dispatcher's list is full, is released instead (runnable
// now, the attempt not counted), so that the normal claim path runs it.

// maxLocal bounds the jobs waiting in memory for a worker. Beyond it offers are
// released to the table: a backlog that large is better read back in order than held.
const maxLocal = 4096

// EnqueueLeasedTx stores jobs within the caller's transaction, as EnqueueTx does,
// and, while Run is active, leases them to this process at once. It returns the
// leased jobs, as a claim would have returned them, for Offer after the commit; nil
// when it leased none (Run not active, or a job skipped as a duplicate): the caller
// then calls Wake after the commit, as after EnqueueTx.
func (q *Queue) EnqueueLeasedTx(tx *gorm.DB, jobs ...Job) ([]Job, error) {
	q.localMu.Lock()
	open := q.localOpen
	q.localMu.Unlock()
	if !open || len(jobs) == 0 {
		return nil, q.insert(tx, jobs)
	}
	rows, err := q.rows(jobs)
	if err != nil {
		return nil, err
	}
	until := rows[0].CreatedAt.Add(q.opts.Lease)
	ids := make([]int64, len(rows))
	for i := range rows {
		rows[i].Attempts = 1
		rows[i].RunAt = until
		rows[i].LockedUntil = &until
		ids[i] = rows[i].ID
	}
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 500)
	if res.Error != nil {
		return nil, fmt.Errorf("queue: enqueue: %w", res.Error)
	}
	if res.RowsAffected == int64(len(rows)) {
		return rows, nil
	}
	// Some job was a duplicate of one still queued and was not written: which one,
	// the insert does not say. None is handed over then; the written ones are made
	// runnable as Enqueue would have written them, for the next claim.
	err = tx.Model(&Job{}).Where("id IN ? AND attempts = 1", ids).Updates(map[string]any{
		"attempts":     0,
		"run_at":       rows[0].CreatedAt,
		"locked_until": nil,
	}).Error
	if err != nil {
		return nil, fmt.Errorf("queue: enqueue: unlease duplicates: %w", err)
	}
	return nil, nil
}

// Offer hands jobs leased by EnqueueLeasedTx, whose transaction has committed, to
// Run's workers. Those Run cannot take (it stopped, or too many are waiting) are
// released at once, so that a claim runs them.
func (q *Queue) Offer(ctx context.Context, jobs []Job) {
	if len(jobs) == 0 {
		return
	}
	q.localMu.Lock()
	if q.localOpen && len(q.local)+len(jobs) <= maxLocal {
		q.local = append(q.local, jobs...)
		q.localMu.Unlock()
		signal(q.offered)
		return
	}
	q.localMu.Unlock()
	if err := q.record(ctx, q.releases(jobs)); err != nil {
		// Their lease expires and a claim takes them then.
		q.log.ErrorContext(ctx, "queue: releasing offered jobs failed", "jobs", len(jobs), "err", err)
	}
	q.Wake()
}

// releases are the decisions that make leased jobs runnable now, the attempt not
// counted.
func (q *Queue) releases(jobs []Job) []decision {
	now := q.now()
	ds := make([]decision, len(jobs))
	for i, j := range jobs {
		ds[i] = decision{job: j, op: opRelease, runAt: now}
	}
	return ds
}

// openLocal starts accepting offers (Run starting).
func (q *Queue) openLocal() {
	q.localMu.Lock()
	q.localOpen = true
	q.localMu.Unlock()
}

// closeLocal stops accepting offers (Run ending) and returns the jobs still waiting.
func (q *Queue) closeLocal() []Job {
	q.localMu.Lock()
	defer q.localMu.Unlock()
	q.localOpen = false
	left := q.local
	q.local = nil
	return left
}

// takeLocal picks offered jobs for up to n runs, in order, as the fairness rules
// allow (the others keep waiting), and returns them grouped by run. stale are the
// jobs that can no longer start within their lease, to be released.
func (q *Queue) takeLocal(now time.Time, n int, batchSize func(kind string) int) (units [][]Job, stale []Job) {
	q.localMu.Lock()
	defer q.localMu.Unlock()
	if len(q.local) == 0 {
		return nil, nil
	}
	byID := make(map[int64]Job, len(q.local))
	cands := make([]candidate, 0, len(q.local))
	kept := q.local[:0]
	for _, j := range q.local {
		// A handler may run until Timeout: it must end before the lease does, or
		// another claimer could start the same job meanwhile.
		if !now.Add(q.opts.Timeout).Before(j.RunAt) {
			stale = append(stale, j)
			continue
		}
		kept = append(kept, j)
		byID[j.ID] = j
		cands = append(cands, candidate{ID: j.ID, Kind: j.Kind, Host: j.Host})
	}
	q.local = kept
	if n <= 0 || len(cands) == 0 {
		return nil, stale
	}
	cands = q.gather(cands, batchSize)
	admitted := q.fair.admitUnits(cands, n, now, batchSize)
	if len(admitted) == 0 {
		return nil, stale
	}
	taken := map[int64]bool{}
	for _, u := range admitted {
		unit := make([]Job, len(u))
		for i, c := range u {
			unit[i] = byID[c.ID]
			taken[c.ID] = true
		}
		units = append(units, unit)
	}
	kept = q.local[:0]
	for _, j := range q.local {
		if !taken[j.ID] {
			kept = append(kept, j)
		}
	}
	q.local = kept
	return units, stale
}

// gather holds back the offered jobs of a host that already has gatherAbove batches
// in flight, until they fill a batch: they then run together when that batch ends, instead of
// in many small batches at once, each a transaction of its own (the claim used to
// gather them the same way, by coming after the jobs had piled up). Jobs of kinds
// run one at a time are never held back.
func (q *Queue) gather(cands []candidate, batchSize func(kind string) int) []candidate {
	if batchSize == nil {
		return cands
	}
	pending := map[hostKey]int{}
	for _, c := range cands {
		pending[hostKey{c.Kind, c.Host}]++
	}
	hold := map[hostKey]bool{}
	for k, n := range pending {
		size := batchSize(k.kind)
		hold[k] = size > 1 && k.host != "" && n < size && q.fair.inflight(k.kind, k.host) >= gatherAbove
	}
	out := cands[:0]
	for _, c := range cands {
		if !hold[hostKey{c.Kind, c.Host}] {
			out = append(out, c)
		}
	}
	return out
}

// gatherAbove is how many batches of a host may run at once before its offered jobs
// wait to fill a batch. Two, not one: on PostgreSQL a batch waits for its commit's
// flush, and a second batch keeps the host's jobs moving meanwhile.
const gatherAbove = 2
