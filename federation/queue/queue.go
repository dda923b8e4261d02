// Package queue is a durable job queue kept in the instance's database (SQLite or
// PostgreSQL). Federation uses it twice: for outgoing deliveries (one job per
// activity and shared inbox) and for received activities, so that the inbox can
// answer 202 as soon as the activity is stored and process it afterwards.
//
// # Guarantees
//
//   - Durable: a job is a row, written before Enqueue returns. Nothing is kept only
//     in memory, so a crash (kill -9, power loss) loses no job: the next process
//     carries on from the table.
//   - At least once: a worker leases a job (run_at is pushed to the end of the lease)
//     before running it and deletes it when the handler succeeds. If the process
//     dies in between, the lease expires and the job runs again, so a job may run
//     twice; receivers deduplicate by activity id, as ActivityPub expects anyway.
//   - Never twice at the same time: a claim leases with an UPDATE that re-checks the
//     job is still runnable (and, on PostgreSQL, reads its candidates FOR UPDATE
//     SKIP LOCKED), so two claimers never get the same job; each handler's context
//     ends well before its lease does. Writes after a run are fenced by the attempt
//     number, so a worker that outlived its lease cannot delete or reschedule a job
//     another worker has since claimed.
//   - Retries: a transient error reschedules the job with exponential back-off and
//     jitter (30s, 1m, 2m, … capped at 1h); after MaxAttempts, or once the job is
//     older than MaxAge, or at once for a Permanent error, the job moves to the
//     dead-letter table, where operators can read the last error and Requeue it.
//     Dead letters are deleted after DeadLetterRetention.
//   - Fairness: at most PerHost jobs per (kind, host) run at once in a process; a
//     host that fails twice in a row is paused with the same back-off, and hosts
//     that are failing share at most half of the workers. A dead peer therefore
//     costs a bounded number of workers and never delays deliveries to live ones.
//
// # Clocks
//
// Times are taken from the process clock (Options.Now), not the database's, so the
// same code runs on both dialects and tests can move time. Several processes on one
// PostgreSQL database must have synchronised clocks; they need them anyway for HTTP
// signatures, whose Date header is checked within a few minutes. A clock ahead by more
// than a lease could re-run a job that is still running elsewhere.
//
// # Crash test plan (kill -9)
//
// The unit tests simulate crashes (an abandoned lease, a stale worker); the
// process-level test comes with the federation integration:
//
//  1. Start instance A (its SQLite file, then again on PostgreSQL) and a peer B
//     whose inbox counts received activity ids and, for the first minute, sleeps 2s
//     per request so that deliveries are in flight.
//  2. Make A post 200 statuses addressed to B, so 200 delivery jobs are queued.
//  3. While deliveries are in flight, kill -9 A's process (os.Process.Kill on the
//     child started by the test), without any shutdown.
//  4. Restart A on the same database with Options.Lease shortened to a few seconds
//     (so the test need not wait two minutes), and wait until Stats reports no job
//     pending, running or retrying.
//  5. Check: B received every one of the 200 activity ids at least once; duplicates
//     exist only for jobs that were running, or had run but were not yet recorded,
//     at the kill (a few times Workers at most); the
//     dead-letter table is empty; A's log shows no job lost. Repeat with the kill
//     during Enqueue (mid-fan-out) and during the claim transaction: a half-written
//     transaction must leave either all or none of its rows.
//  6. Variant: B is down for the first kill and up after the restart; the jobs
//     retried with back-off are delivered once B is up, and deliveries to a third,
//     live peer C are not delayed meanwhile.
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/store"
)

// Job is one unit of work, and the row that stores it in queue_jobs.
//
// Callers of Enqueue set Kind, Host, Payload, DedupeKey and optionally RunAt and ID
// (a community.NewID, when the caller needs to know it before the job runs); the
// queue fills the rest. A handler receives the job as claimed: Attempts counts this
// attempt (1 on the first run) and LastError holds the previous attempt's error.
type Job struct {
	ID int64 `gorm:"primaryKey;autoIncrement:false"`
	// Kind selects the handler ("deliver", "inbox", …).
	Kind string `gorm:"not null"`
	// Host is the peer the job talks to (the inbox's host for a delivery, the
	// sender's for a received activity). Fairness limits and pauses apply per kind
	// and host; an empty Host opts out of them.
	Host string `gorm:"not null;default:''"`
	// Payload is the handler's input, usually JSON (for a delivery: the inbox URL,
	// the signing key id and the activity).
	Payload string `gorm:"not null;default:''"`
	// DedupeKey, when not empty, makes a second Enqueue of the same key and kind a
	// no-op while the first job is still queued (e.g. activity id + inbox URL). Once
	// a job is done its key is free again: replays of old activities are the
	// receiver's to drop.
	DedupeKey string `gorm:"not null;default:''"`
	Attempts  int    `gorm:"not null;default:0"`
	// RunAt is when the job may next run. While a job is leased it is the end of the
	// lease, which is what makes a crashed worker's job runnable again.
	RunAt time.Time `gorm:"not null"`
	// LockedUntil is set while a worker holds the job (for Stats and for expiry);
	// scheduling itself only looks at RunAt.
	LockedUntil *time.Time
	LastError   string    `gorm:"not null;default:''"`
	CreatedAt   time.Time `gorm:"not null"`
}

// TableName implements gorm's schema.Tabler.
func (Job) TableName() string { return "queue_jobs" }

// Reasons a job ends up in the dead-letter table.
const (
	ReasonPermanent   = "permanent"    // the handler returned Permanent(err)
	ReasonMaxAttempts = "max_attempts" // Options.MaxAttempts transient failures
	ReasonExpired     = "expired"      // older than Options.MaxAge
)

// DeadLetter is a job given up on, kept for operators (row of queue_dead_letters).
// It keeps the job's id, so a requeued job is recognisable in logs.
type DeadLetter struct {
	ID        int64     `gorm:"primaryKey;autoIncrement:false"`
	Kind      string    `gorm:"not null"`
	Host      string    `gorm:"not null;default:''"`
	Payload   string    `gorm:"not null;default:''"`
	DedupeKey string    `gorm:"not null;default:''"`
	Attempts  int       `gorm:"not null;default:0"`
	Reason    string    `gorm:"not null"`
	LastError string    `gorm:"not null;default:''"`
	CreatedAt time.Time `gorm:"not null"`
	DiedAt    time.Time `gorm:"not null"`
}

// TableName implements gorm's schema.Tabler.
func (DeadLetter) TableName() string { return "queue_dead_letters" }

// Handler runs one job. It must honour ctx: the context ends at Options.Timeout
// (well before the lease, so that no other worker can start the same job meanwhile)
// and when the queue shuts down. A nil error completes the job; Permanent(err) gives
// it up at once; RetryAfter(d, err) retries no sooner than d; any other error is
// retried with back-off.
type Handler func(ctx context.Context, job Job) error

// BatchHandler runs several jobs of one kind and one host in one call, so that it can
// share work between them (one database transaction for a batch of received
// activities). jobs are in the order they became runnable. It returns one error per
// job, in the same order, each meaning what a Handler's error means for that job. It
// must honour ctx as a Handler does; the timeout applies to the whole call.
type BatchHandler func(ctx context.Context, jobs []Job) []error

// Options tunes a Queue. Zero values mean the documented defaults.
type Options struct {
	// Workers is how many jobs (or batches, see RunBatches) run at once in this
	// process (default 8).
	Workers int
	// PerHost is how many jobs of one kind and host run at once in this process
	// (default 2); for a kind run by a BatchHandler, how many batches. Tacit runs one
	// process per instance, so this is the instance's limit; several processes on one
	// PostgreSQL database may run PerHost each.
	PerHost int
	// BatchSize is how many jobs of one kind and host a BatchHandler receives at most
	// in one call (default 32). Larger batches share more work; the handler's timeout
	// covers the whole batch.
	BatchSize int
	// Lease is how long a claimed job stays reserved for its worker (default 2m). A
	// job whose process died runs again once its lease expires. It is raised to
	// 2×Timeout if shorter.
	Lease time.Duration
	// Timeout bounds each handler run (default Lease/2).
	Timeout time.Duration
	// PollInterval is how often workers look for jobs that became runnable without a
	// local Enqueue: retries coming due, jobs enqueued by another process (default
	// 1s). A local Enqueue wakes the workers at once.
	PollInterval time.Duration
	// MaxAttempts is how many transient failures a job survives (default 20, about
	// 14 hours with the default back-off).
	MaxAttempts int
	// MaxAge gives up a job this long after it was enqueued (default 48h).
	MaxAge time.Duration
	// DeadLetterRetention is how long dead letters are kept (default 14 days).
	DeadLetterRetention time.Duration
	// Backoff returns the delay before the next attempt after the attempt-th
	// failure (attempt ≥ 1); it also paces the pauses of failing hosts. Default
	// DefaultBackoff.
	Backoff func(attempt int) time.Duration
	// Now is the clock (default store.Now). Tests move it to expire leases.
	Now func() time.Time
	// Logger receives one line per failed job and per paused host (default
	// slog.Default()).
	Logger *slog.Logger
	// Observe, when set, is told every job's outcome (ok, retry, refused, dead or
	// interrupted) and how long its run took, for the instance's metrics.
	Observe func(kind, host, outcome string, took time.Duration)
}

// Defaults.
const (
	DefaultWorkers             = 8
	DefaultPerHost             = 2
	DefaultBatchSize           = 32
	DefaultLease               = 2 * time.Minute
	DefaultPollInterval        = time.Second
	DefaultMaxAttempts         = 20
	DefaultMaxAge              = 48 * time.Hour
	DefaultDeadLetterRetention = 14 * 24 * time.Hour
)

// Back-off curve of DefaultBackoff.
const (
	backoffBase = 30 * time.Second
	backoffCap  = time.Hour
)

// sweepInterval is how often a running queue expires old jobs and deletes old dead
// letters. Both are housekeeping: minutes of delay do not matter.
const sweepInterval = 5 * time.Minute

// maxErrorLen bounds the stored error text: a peer's error page can be large and the
// first lines say what went wrong.
const maxErrorLen = 2000

// DefaultBackoff is 30s, 1m, 2m, 4m… doubling per attempt, each ±25% at random so
// that jobs that failed together (a peer was down) do not all retry in the same
// second, and never more than an hour.
func DefaultBackoff(attempt int) time.Duration {
	d := backoffCap
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 8 { // 30s << 7 = 64m, already past the cap
		d = backoffBase << (attempt - 1)
	}
	d = time.Duration(float64(d) * (0.75 + 0.5*rand.Float64()))
	return min(d, backoffCap)
}

// Queue enqueues jobs and runs them. It is safe for concurrent use; Run may be
// active at most once at a time per Queue, but any number of Queues (in one process
// or several) may share a database.
type Queue struct {
	db   *gorm.DB
	opts Options
	log  *slog.Logger
	pg   bool

	// wake is signalled by Enqueue so that a local job starts within milliseconds
	// instead of at the next poll. Capacity 1: one pending signal is enough.
	wake chan struct{}

	fair fairness

	// offered is signalled by Offer: jobs wait in local, already leased, for the
	// dispatcher (see local.go). Capacity 1, as wake.
	offered   chan struct{}
	localMu   sync.Mutex
	local     []Job // in the order offered
	localOpen bool  // Run is active and takes offers

	runMu   sync.Mutex
	running bool
}

// New returns a Queue over db, whose schema must be migrated (store.Open does it).
func New(db *gorm.DB, opts Options) *Queue {
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.PerHost <= 0 {
		opts.PerHost = DefaultPerHost
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.Timeout <= 0 {
		opts.Timeout = opts.Lease / 2
	}
	if opts.Lease < 2*opts.Timeout {
		opts.Lease = 2 * opts.Timeout
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.DeadLetterRetention <= 0 {
		opts.DeadLetterRetention = DefaultDeadLetterRetention
	}
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff
	}
	if opts.Now == nil {
		opts.Now = store.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Queue{
		db:      db,
		opts:    opts,
		log:     opts.Logger,
		pg:      store.Dialect(db) == store.DialectPostgres,
		wake:    make(chan struct{}, 1),
		offered: make(chan struct{}, 1),
		fair: fairness{
			perHost: opts.PerHost,
			// Failing hosts together may hold half of the workers, so that a
			// company-wide outage of several peers still leaves room for live ones.
			failingCap: max(1, opts.Workers/2),
			hosts:      map[hostKey]*hostState{},
		},
	}
}

// now is the queue's clock in the form both dialects store exactly.
func (q *Queue) now() time.Time { return q.opts.Now().UTC().Truncate(time.Microsecond) }

// Enqueue stores jobs (in one statement per 500) and wakes this Queue's workers.
// Jobs whose (Kind, DedupeKey) is already queued are skipped silently.
func (q *Queue) Enqueue(ctx context.Context, jobs ...Job) error {
	if err := q.insert(q.db.WithContext(ctx), jobs); err != nil {
		return err
	}
	q.Wake()
	return nil
}

// EnqueueTx stores jobs within the caller's transaction, so that they exist if and
// only if the caller's other writes commit (e.g. a status and its deliveries). Call
// Wake after the commit for the jobs to start at once; otherwise the next poll finds
// them.
func (q *Queue) EnqueueTx(tx *gorm.DB, jobs ...Job) error {
	return q.insert(tx, jobs)
}

// Wake tells this Queue's workers to look for runnable jobs now.
func (q *Queue) Wake() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *Queue) insert(db *gorm.DB, jobs []Job) error {
	if len(jobs) == 0 {
		return nil
	}
	rows, err := q.rows(jobs)
	if err != nil {
		return err
	}
	// ON CONFLICT DO NOTHING without a target covers the partial unique index on
	// (kind, dedupe_key) on both dialects, including duplicates within one batch.
	err = db.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 500).Error
	if err != nil {
		return fmt.Errorf("queue: enqueue: %w", err)
	}
	return nil
}

// rows are jobs as Enqueue stores them: runnable at RunAt (now by default), with an
// id (a new one unless given).
func (q *Queue) rows(jobs []Job) ([]Job, error) {
	now := q.now()
	rows := make([]Job, len(jobs))
	for i, j := range jobs {
		if j.Kind == "" {
			return nil, errors.New("queue: enqueue: job without a kind")
		}
		runAt := now
		if !j.RunAt.IsZero() {
			runAt = j.RunAt.UTC().Truncate(time.Microsecond)
		}
		id := j.ID
		if id == 0 {
			id = community.NewID()
		}
		rows[i] = Job{
			ID:        id,
			Kind:      j.Kind,
			Host:      j.Host,
			Payload:   j.Payload,
			DedupeKey: j.DedupeKey,
			RunAt:     runAt,
			CreatedAt: now,
		}
	}
	return rows, nil
}

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent wraps err so that the queue gives the job up at once (dead letter)
// instead of retrying: a peer's 4xx other than 408 and 429, an activity that cannot
// be parsed. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or an error it wraps, came from Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// retryAfterError asks for the next attempt no sooner than after.
type retryAfterError struct {
	after time.Duration
	err   error
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// RetryAfter wraps err so that the job is retried after d (at most an hour) rather
// than after the back-off, and its host is paused as long: a peer's 429 or 503 with
// a Retry-After header. It still counts as an attempt. RetryAfter(d, nil) is nil.
func RetryAfter(d time.Duration, err error) error {
	if err == nil {
		return nil
	}
	return &retryAfterError{after: min(max(d, 0), backoffCap), err: err}
}
