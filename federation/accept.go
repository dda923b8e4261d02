package federation

import (
	"context"
	"errors"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/federation/queue"
)

// Accepting a delivery means recording its activity id and queueing it in one
// transaction, before answering 202. Deliveries that arrive while such a transaction
// is being written wait for it and are then written together, in the next one: a
// transaction costs about the same for one activity as for a hundred (on SQLite, the
// one write lock; on PostgreSQL, a round trip and a flush to disk), so a busy inbox
// commits far less often than it receives, and a quiet one commits each delivery at
// once, without waiting for company.

// maxAcceptBatch bounds the deliveries recorded in one transaction.
const maxAcceptBatch = 256

// acceptTimeout bounds one accepting transaction. The transaction is not bound to
// the request that happens to write it, since it writes the others' too.
const acceptTimeout = 30 * time.Second

// acceptRequest is one delivery waiting to be recorded.
type acceptRequest struct {
	job   queue.Job // its DedupeKey is the activity id
	fresh bool
	err   error
	// wake receives true when this request must write the next transaction, false
	// when its result is ready.
	wake chan bool
}

// acceptBatcher writes the pending deliveries' transactions one at a time. There is
// no goroutine of its own: the request that finds no transaction under way writes
// one, with every delivery pending at that moment (its own first), and then hands
// the turn to the oldest delivery that arrived meanwhile, if any.
type acceptBatcher struct {
	write func(ctx context.Context, reqs []*acceptRequest)

	mu      sync.Mutex
	busy    bool
	pending []*acceptRequest
}

// accept records job's activity id and queues job if the id is new, and reports
// whether it was. A request waiting for its turn does not give up when its own
// context ends: the turn it would pass on would be lost, and the wait is bounded by
// acceptTimeout per transaction ahead of it.
func (b *acceptBatcher) accept(ctx context.Context, job queue.Job) (bool, error) {
	r := &acceptRequest{job: job, wake: make(chan bool, 1)}
	b.mu.Lock()
	b.pending = append(b.pending, r)
	lead := !b.busy
	b.busy = true
	b.mu.Unlock()
	if !lead {
		lead = <-r.wake
	}
	if lead {
		b.lead(ctx)
	}
	return r.fresh, r.err
}

// lead writes one transaction with the pending requests, then passes the turn on.
func (b *acceptBatcher) lead(ctx context.Context) {
	b.mu.Lock()
	n := min(len(b.pending), maxAcceptBatch)
	batch := make([]*acceptRequest, n)
	copy(batch, b.pending)
	b.pending = append(b.pending[:0], b.pending[n:]...)
	b.mu.Unlock()

	// Deferred, so that the others are answered and the turn passes on even if
	// writing panics (the panic then fails the leader's request alone).
	defer b.passTurn(batch)
	for _, r := range batch {
		r.err = errNotRecorded
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), acceptTimeout)
	defer cancel()
	b.write(wctx, batch)
}

// errNotRecorded answers the requests of a transaction that could not be written.
var errNotRecorded = errors.New("the activity could not be recorded")

// passTurn answers the requests of a written batch but its leader, batch[0] (the
// request that found the batcher idle, or the oldest pending one, woken to lead),
// and wakes the oldest pending request to lead the next transaction.
func (b *acceptBatcher) passTurn(batch []*acceptRequest) {
	for _, r := range batch[1:] {
		r.wake <- false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.pending) == 0 {
		b.busy = false
		return
	}
	b.pending[0].wake <- true
}

// writeAccepted records the activity ids of reqs and queues the new ones, in one
// transaction; if that fails, one request at a time, so that one that cannot be
// written does not fail the others.
func (f *Federator) writeAccepted(ctx context.Context, reqs []*acceptRequest) {
	ids := make([]string, len(reqs))
	for i, r := range reqs {
		ids[i] = r.job.DedupeKey
	}
	// The jobs are leased to this process as they are written and handed to its
	// workers after the commit, without a claim; should the process die first, their
	// lease expires and a claim finds them (see queue.EnqueueLeasedTx).
	var leased []queue.Job
	fresh, err := f.c.AcceptActivities(ctx, ids, func(tx *gorm.DB, fresh []bool) error {
		var jobs []queue.Job
		for i, r := range reqs {
			if fresh[i] {
				jobs = append(jobs, r.job)
			}
		}
		var err error
		leased, err = f.q.EnqueueLeasedTx(tx, jobs...)
		return err
	})
	if err == nil {
		for i, r := range reqs {
			r.fresh, r.err = fresh[i], nil
		}
		if len(leased) > 0 {
			f.q.Offer(ctx, leased)
		} else {
			f.q.Wake()
		}
		return
	}
	if len(reqs) == 1 {
		reqs[0].err = err
		return
	}
	// One at a time, the rare path: queued runnable, for a claim.
	for _, r := range reqs {
		r.fresh, r.err = f.c.AcceptActivity(ctx, r.job.DedupeKey, func(tx *gorm.DB) error { return f.q.EnqueueTx(tx, r.job) })
	}
	f.q.Wake()
}
