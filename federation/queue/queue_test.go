package queue

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/instance/instancetest/eventually"
	"github.com/tacit-social/tacit/store"
	"github.com/tacit-social/tacit/store/storetest"
)

// testOptions are fast-moving options: a short poll and no back-off, so retries
// happen within milliseconds. Tests never assert on durations; they wait for
// conditions with a generous deadline.
func testOptions(t testing.TB) Options {
	return Options{
		Logger:       storetest.Logger(t),
		PollInterval: 10 * time.Millisecond,
		Backoff:      func(int) time.Duration { return time.Millisecond },
	}
}

// start runs q in the background until the test ends (or stop is called) and
// checks that Run returns.
func start(t *testing.T, q *Queue, handlers map[string]Handler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx, handlers) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("Run did not return after its context was cancelled")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func countJobs(t *testing.T, db *gorm.DB, where string, args ...any) int64 {
	t.Helper()
	var n int64
	q := db.Model(&Job{})
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func deadLetters(t *testing.T, db *gorm.DB) []DeadLetter {
	t.Helper()
	var out []DeadLetter
	if err := db.Order("id").Find(&out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

// counter counts handler calls per job id.
type counter struct {
	mu    sync.Mutex
	calls map[int64]int
	total atomic.Int64
}

func newCounter() *counter { return &counter{calls: map[int64]int{}} }

func (c *counter) add(id int64) {
	c.mu.Lock()
	c.calls[id]++
	c.mu.Unlock()
	c.total.Add(1)
}

func TestEnqueueRunsJobOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		q := New(db, testOptions(t))
		got := make(chan Job, 10)
		start(t, q, map[string]Handler{"deliver": func(_ context.Context, j Job) error {
			got <- j
			return nil
		}})
		if err := q.Enqueue(t.Context(), Job{Kind: "deliver", Host: "b.example", Payload: `{"inbox":"https://b.example/inbox"}`}); err != nil {
			t.Fatal(err)
		}
		var j Job
		select {
		case j = <-got:
		case <-time.After(30 * time.Second):
			t.Fatal("handler not called")
		}
		if j.Kind != "deliver" || j.Host != "b.example" || j.Payload != `{"inbox":"https://b.example/inbox"}` || j.Attempts != 1 || j.ID == 0 {
			t.Errorf("handler got %+v", j)
		}
		eventually.Holds(t, "the job is deleted", func() bool { return countJobs(t, db, "") == 0 })
		select {
		case again := <-got:
			t.Errorf("handler called twice: %+v", again)
		default:
		}
		if d := deadLetters(t, db); len(d) != 0 {
			t.Errorf("dead letters: %+v", d)
		}
	})
}

func TestEnqueueDedupes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		q := New(db, testOptions(t))
		ctx := t.Context()
		key := "https://a.example/activities/1 https://b.example/inbox"
		job := Job{Kind: "deliver", Host: "b.example", DedupeKey: key}
		// Twice in one batch, then again in another call.
		if err := q.Enqueue(ctx, job, job); err != nil {
			t.Fatal(err)
		}
		if err := q.Enqueue(ctx, job); err != nil {
			t.Fatal(err)
		}
		// Same key, other kind: another job. Empty keys never collide.
		if err := q.Enqueue(ctx, Job{Kind: "inbox", DedupeKey: key}, Job{Kind: "deliver"}, Job{Kind: "deliver"}); err != nil {
			t.Fatal(err)
		}
		if n := countJobs(t, db, "kind = ? AND dedupe_key = ?", "deliver", key); n != 1 {
			t.Errorf("%d deliver jobs with the key, want 1", n)
		}
		if n := countJobs(t, db, ""); n != 4 {
			t.Errorf("%d jobs, want 4", n)
		}

		c := newCounter()
		start(t, q, map[string]Handler{
			"deliver": func(_ context.Context, j Job) error { c.add(j.ID); return nil },
			"inbox":   func(_ context.Context, j Job) error { c.add(j.ID); return nil },
		})
		eventually.Holds(t, "every job ran", func() bool { return countJobs(t, db, "") == 0 })
		if n := c.total.Load(); n != 4 {
			t.Errorf("%d handler calls, want 4", n)
		}
		// Once done, the key is free again.
		if err := q.Enqueue(ctx, job); err != nil {
			t.Fatal(err)
		}
		eventually.Holds(t, "the re-enqueued job ran", func() bool { return c.total.Load() == 5 })
	})
}

func TestEnqueueRejectsJobWithoutKind(t *testing.T) {
	t.Parallel()
	q := New(storetest.Open(t), testOptions(t))
	if err := q.Enqueue(t.Context(), Job{Host: "x"}); err == nil {
		t.Error("Enqueue without a kind succeeded")
	}
	if err := q.Enqueue(t.Context()); err != nil {
		t.Errorf("Enqueue of nothing: %v", err)
	}
}

func TestTransientErrorIsRetried(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		opts := testOptions(t)
		var backoffMu sync.Mutex
		var backoffs []int
		opts.Backoff = func(attempt int) time.Duration {
			backoffMu.Lock()
			backoffs = append(backoffs, attempt)
			backoffMu.Unlock()
			return time.Millisecond
		}
		q := New(db, opts)
		var mu sync.Mutex
		var seen []Job
		start(t, q, map[string]Handler{"deliver": func(_ context.Context, j Job) error {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, j)
			if j.Attempts < 3 {
				return fmt.Errorf("peer answered 502 (try %d)", j.Attempts)
			}
			return nil
		}})
		if err := q.Enqueue(t.Context(), Job{Kind: "deliver", Host: "b.example"}); err != nil {
			t.Fatal(err)
		}
		eventually.Holds(t, "the job succeeded", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(seen) == 3 && countJobs(t, db, "") == 0
		})
		mu.Lock()
		defer mu.Unlock()
		for i, j := range seen {
			if j.Attempts != i+1 {
				t.Errorf("call %d: attempts = %d", i+1, j.Attempts)
			}
			if want := fmt.Sprintf("peer answered 502 (try %d)", i); i > 0 && j.LastError != want {
				t.Errorf("call %d: last error %q, want %q", i+1, j.LastError, want)
			}
		}
		backoffMu.Lock()
		defer backoffMu.Unlock()
		// Attempts 1 and 2 were retried; the second failure in a row also paused the
		// host, with the back-off of one failure.
		if !containsAll(backoffs, 1, 2) {
			t.Errorf("Backoff called with %v, want 1 and 2 among them", backoffs)
		}
		if d := deadLetters(t, db); len(d) != 0 {
			t.Errorf("dead letters: %+v", d)
		}
	})
}

func containsAll(xs []int, want ...int) bool {
	for _, w := range want {
		found := false
		for _, x := range xs {
			found = found || x == w
		}
		if !found {
			return false
		}
	}
	return true
}

func TestPermanentErrorDeadLetters(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		q := New(db, testOptions(t))
		c := newCounter()
		stop := start(t, q, map[string]Handler{"deliver": func(_ context.Context, j Job) error {
			c.add(j.ID)
			return Permanent(fmt.Errorf("peer answered 410 Gone"))
		}})
		if err := q.Enqueue(t.Context(), Job{Kind: "deliver", Host: "b.example", Payload: "p", DedupeKey: "k"}); err != nil {
			t.Fatal(err)
		}
		eventually.Holds(t, "the job is dead", func() bool { return len(deadLetters(t, db)) == 1 })
		d := deadLetters(t, db)[0]
		if d.Reason != ReasonPermanent || d.LastError != "peer answered 410 Gone" || d.Attempts != 1 ||
			d.Kind != "deliver" || d.Host != "b.example" || d.Payload != "p" || d.DedupeKey != "k" || d.DiedAt.IsZero() {
			t.Errorf("dead letter %+v", d)
		}
		if n := countJobs(t, db, ""); n != 0 {
			t.Errorf("%d jobs left", n)
		}
		if n := c.total.Load(); n != 1 {
			t.Errorf("handler called %d times, want 1", n)
		}
		st, err := q.Stats(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Kinds["deliver"]; got != (KindStats{Dead: 1}) {
			t.Errorf("stats %+v", got)
		}

		// An operator requeues it; this time the peer accepts.
		stop()
		ok := make(chan struct{})
		q2 := New(db, testOptions(t))
		start(t, q2, map[string]Handler{"deliver": func(_ context.Context, j Job) error {
			if j.ID == d.ID && j.Attempts == 1 && j.LastError == d.LastError {
				close(ok)
				return nil
			}
			return Permanent(fmt.Errorf("unexpected job %+v", j))
		}})
		n, err := q2.Requeue(t.Context(), d.ID, 12345)
		if err != nil || n != 1 {
			t.Fatalf("Requeue = %d, %v; want 1", n, err)
		}
		select {
		case <-ok:
		case <-time.After(30 * time.Second):
			t.Fatal("requeued job not run")
		}
		eventually.Holds(t, "the requeued job is done", func() bool {
			return countJobs(t, db, "") == 0 && len(deadLetters(t, db)) == 0
		})
	})
}

func TestMaxAttemptsDeadLetters(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		opts := testOptions(t)
		opts.MaxAttempts = 3
		q := New(db, opts)
		c := newCounter()
		start(t, q, map[string]Handler{"deliver": func(_ context.Context, j Job) error {
			c.add(j.ID)
			return fmt.Errorf("connection refused (attempt %d)", j.Attempts)
		}})
		if err := q.Enqueue(t.Context(), Job{Kind: "deliver", Host: "down.example"}); err != nil {
			t.Fatal(err)
		}
		eventually.Holds(t, "the job is dead", func() bool { return len(deadLetters(t, db)) == 1 })
		d := deadLetters(t, db)[0]
		if d.Reason != ReasonMaxAttempts || d.Attempts != 3 || d.LastError != "connection refused (attempt 3)" {
			t.Errorf("dead letter %+v", d)
		}
		if n := c.total.Load(); n != 3 {
			t.Errorf("handler called %d times, want 3", n)
		}
	})
}

func TestMaxAgeExpiresJobs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		ctx := t.Context()
		q := New(db, testOptions(t))
		// Waiting for a retry far away (as a paused host's backlog would).
		if err := q.Enqueue(ctx, Job{Kind: "deliver", Host: "gone.example", RunAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		// Fails once more after its 48 hours: given up instead of rescheduled.
		if err := q.Enqueue(ctx, Job{Kind: "inbox", Host: "gone.example"}); err != nil {
			t.Fatal(err)
		}
		// A dead letter past its retention, and a recent one.
		old, recent := store.Now().Add(-15*24*time.Hour), store.Now().Add(-24*time.Hour)
		for i, died := range []time.Time{old, recent} {
			if err := db.Create(&DeadLetter{ID: int64(i + 1), Kind: "deliver", Reason: ReasonPermanent, CreatedAt: died, DiedAt: died}).Error; err != nil {
				t.Fatal(err)
			}
		}

		opts := testOptions(t)
		opts.Now = func() time.Time { return time.Now().Add(49 * time.Hour) }
		later := New(db, opts)
		claimed, err := later.claim(ctx, []string{"inbox"}, 1)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim = %+v, %v", claimed, err)
		}
		// The sweep passes over a job a worker holds.
		if err := later.sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if n := countJobs(t, db, "kind = ?", "inbox"); n != 1 {
			t.Fatalf("%d inbox jobs after the sweep, want the leased one", n)
		}
		if err := later.finish(ctx, false, claimed[0], errors.New("cannot fetch the actor")); err != nil {
			t.Fatal(err)
		}
		d := deadLetters(t, db)
		if len(d) != 3 || d[0].ID != 2 {
			t.Fatalf("dead letters after sweep: %+v", d)
		}
		byKind := map[string]DeadLetter{}
		for _, x := range d[1:] {
			byKind[x.Kind] = x
		}
		if x := byKind["deliver"]; x.Reason != ReasonExpired || x.LastError != "never attempted" || x.Attempts != 0 {
			t.Errorf("expired delivery %+v", x)
		}
		if x := byKind["inbox"]; x.Reason != ReasonExpired || x.Attempts != 1 || x.LastError != "cannot fetch the actor" {
			t.Errorf("inbox dead letter %+v", x)
		}
		if n := countJobs(t, db, ""); n != 0 {
			t.Errorf("%d jobs left", n)
		}
	})
}

// TestCrashedWorkerJobIsRunAgain is the kill -9 story within one test process: a
// queue claims a job and then never finishes it (its process "died"); once the lease
// expires, another Queue on the same database runs it.
func TestCrashedWorkerJobIsRunAgain(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		ctx := t.Context()
		dead := New(db, testOptions(t))
		if err := dead.Enqueue(ctx, Job{Kind: "deliver", Host: "b.example", Payload: "body"}); err != nil {
			t.Fatal(err)
		}
		claimed, err := dead.claim(ctx, []string{"deliver"}, 8)
		if err != nil || len(claimed) != 1 || claimed[0].Attempts != 1 || claimed[0].LockedUntil == nil {
			t.Fatalf("claim = %+v, %v", claimed, err)
		}
		// The lease holds: nobody else gets the job now.
		if again, err := New(db, testOptions(t)).claim(ctx, []string{"deliver"}, 8); err != nil || len(again) != 0 {
			t.Fatalf("second claim during the lease = %+v, %v", again, err)
		}
		st, err := dead.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Kinds["deliver"]; got != (KindStats{Running: 1}) {
			t.Errorf("stats during the lease %+v", got)
		}

		// A process started after the lease expired.
		opts := testOptions(t)
		opts.Now = func() time.Time { return time.Now().Add(DefaultLease + time.Minute) }
		restarted := New(db, opts)
		st, err = restarted.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Kinds["deliver"]; got != (KindStats{Retrying: 1}) {
			t.Errorf("stats after the lease %+v", got)
		}
		expectRerun(t, db, restarted, "deliver", claimed[0].ID)
	})
}

// expectRerun runs q and waits until it has run job id of kind a second time (its
// first run abandoned with its lease), with the payload "body", and finished it.
func expectRerun(t *testing.T, db *gorm.DB, q *Queue, kind string, id int64) {
	t.Helper()
	got := make(chan Job, 1)
	start(t, q, map[string]Handler{kind: func(_ context.Context, j Job) error {
		got <- j
		return nil
	}})
	select {
	case j := <-got:
		if j.ID != id || j.Attempts != 2 || j.Payload != "body" {
			t.Errorf("rerun job %+v", j)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the abandoned job was not run again")
	}
	eventually.Holds(t, "the job is done", func() bool { return countJobs(t, db, "") == 0 })
}

// TestStaleWorkerCannotFinishReclaimedJob: a worker that outlived its lease reports
// late; the job belongs to whoever claimed it since.
func TestStaleWorkerCannotFinishReclaimedJob(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		ctx := t.Context()
		slow := New(db, testOptions(t))
		if err := slow.Enqueue(ctx, Job{Kind: "deliver", Host: "b.example"}); err != nil {
			t.Fatal(err)
		}
		first, err := slow.claim(ctx, []string{"deliver"}, 1)
		if err != nil || len(first) != 1 {
			t.Fatalf("claim = %+v, %v", first, err)
		}
		opts := testOptions(t)
		opts.Now = func() time.Time { return time.Now().Add(DefaultLease + time.Minute) }
		other := New(db, opts)
		second, err := other.claim(ctx, []string{"deliver"}, 1)
		if err != nil || len(second) != 1 || second[0].Attempts != 2 {
			t.Fatalf("reclaim = %+v, %v", second, err)
		}

		if err := slow.finish(ctx, false, first[0], nil); err != nil {
			t.Fatal(err)
		}
		if err := slow.finish(ctx, false, first[0], Permanent(errors.New("late"))); err != nil {
			t.Fatal(err)
		}
		if err := slow.finish(ctx, false, first[0], errors.New("late")); err != nil {
			t.Fatal(err)
		}
		var j Job
		if err := db.First(&j, first[0].ID).Error; err != nil {
			t.Fatalf("the stale worker removed the job: %v", err)
		}
		if j.Attempts != 2 || j.LastError != "" || j.LockedUntil == nil {
			t.Errorf("the stale worker changed the job: %+v", j)
		}
		if d := deadLetters(t, db); len(d) != 0 {
			t.Errorf("the stale worker buried the job: %+v", d)
		}
		if err := other.finish(ctx, false, second[0], nil); err != nil {
			t.Fatal(err)
		}
		if n := countJobs(t, db, ""); n != 0 {
			t.Errorf("the current owner could not finish the job")
		}
	})
}

// TestShutdownPutsUnfinishedJobsBack: cancelling Run cancels the handlers; their
// jobs are runnable at once by the next process, the attempt not counted.
func TestShutdownPutsUnfinishedJobsBack(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		ctx := t.Context()
		q := New(db, testOptions(t))
		started := make(chan struct{}, 1)
		stop := start(t, q, map[string]Handler{"deliver": func(ctx context.Context, j Job) error {
			started <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		}})
		if err := q.Enqueue(ctx, Job{Kind: "deliver", Host: "b.example"}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-started:
		case <-time.After(30 * time.Second):
			t.Fatal("handler not called")
		}
		stop()
		var j Job
		if err := db.First(&j).Error; err != nil {
			t.Fatal(err)
		}
		if j.Attempts != 0 || j.LockedUntil != nil || j.RunAt.After(store.Now()) {
			t.Errorf("job after shutdown %+v", j)
		}

		// No clock games: the next process runs it straight away.
		done := make(chan Job, 1)
		start(t, New(db, testOptions(t)), map[string]Handler{"deliver": func(_ context.Context, j Job) error {
			done <- j
			return nil
		}})
		select {
		case j := <-done:
			if j.Attempts != 1 {
				t.Errorf("attempts = %d, want 1", j.Attempts)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the put-back job was not run")
		}
	})
}

// TestDeadHostDoesNotBlockLiveHost: host a hangs every request; a hundred jobs for
// host b complete meanwhile, and a never holds more than PerHost workers.
func TestDeadHostDoesNotBlockLiveHost(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		ctx := t.Context()
		opts := testOptions(t)
		opts.Timeout = 10 * time.Minute // hung requests hold their worker the whole test
		q := New(db, opts)
		var mu sync.Mutex
		hung, maxHung := 0, 0
		var aCalls, bDone atomic.Int64
		stop := start(t, q, map[string]Handler{"deliver": func(ctx context.Context, j Job) error {
			if j.Host == "a.example" {
				aCalls.Add(1)
				mu.Lock()
				hung++
				maxHung = max(maxHung, hung)
				mu.Unlock()
				<-ctx.Done()
				mu.Lock()
				hung--
				mu.Unlock()
				return ctx.Err()
			}
			bDone.Add(1)
			return nil
		}})
		// The dead host's jobs first, so they are first in line.
		var jobs []Job
		for range 20 {
			jobs = append(jobs, Job{Kind: "deliver", Host: "a.example"})
		}
		if err := q.Enqueue(ctx, jobs...); err != nil {
			t.Fatal(err)
		}
		jobs = jobs[:0]
		for range 100 {
			jobs = append(jobs, Job{Kind: "deliver", Host: "b.example"})
		}
		if err := q.Enqueue(ctx, jobs...); err != nil {
			t.Fatal(err)
		}
		eventually.Holds(t, "host b's jobs are done", func() bool {
			return bDone.Load() == 100 && countJobs(t, db, "host = ?", "b.example") == 0
		})
		mu.Lock()
		if maxHung != DefaultPerHost {
			t.Errorf("at most %d jobs for the dead host ran at once, want %d", maxHung, DefaultPerHost)
		}
		mu.Unlock()
		if n := aCalls.Load(); n != DefaultPerHost {
			t.Errorf("%d calls for the dead host, want %d (the others wait their turn)", n, DefaultPerHost)
		}
		stop()
		if n := countJobs(t, db, "host = ? AND attempts = 0 AND locked_until IS NULL", "a.example"); n != 20 {
			t.Errorf("%d of the dead host's 20 jobs are intact after shutdown", n)
		}
	})
}

// TestFailingHostIsPaused: after two failures in a row, the host's other jobs wait
// for the pause instead of each failing in turn; other hosts are unaffected.
func TestFailingHostIsPaused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		ctx := t.Context()
		opts := testOptions(t)
		opts.Backoff = func(int) time.Duration { return time.Hour }
		q := New(db, opts)
		var aCalls atomic.Int64
		bDone := make(chan struct{})
		start(t, q, map[string]Handler{
			"deliver": func(_ context.Context, j Job) error {
				if j.Host == "b.example" {
					close(bDone)
					return nil
				}
				aCalls.Add(1)
				return errors.New("503 Service Unavailable")
			},
			"inbox": func(context.Context, Job) error {
				return RetryAfter(30*time.Minute, errors.New("429 Too Many Requests"))
			},
		})
		var jobs []Job
		for range 5 {
			jobs = append(jobs, Job{Kind: "deliver", Host: "a.example"})
		}
		if err := q.Enqueue(ctx, jobs...); err != nil {
			t.Fatal(err)
		}
		eventually.Holds(t, "host a's jobs are all postponed", func() bool {
			return countJobs(t, db, "host = ? AND run_at > ?", "a.example", store.Now().Add(30*time.Minute)) == 5
		})
		if n := aCalls.Load(); n != 2 {
			t.Errorf("%d calls to the failing host, want 2", n)
		}
		if err := q.Enqueue(ctx, Job{Kind: "deliver", Host: "b.example"}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-bDone:
		case <-time.After(30 * time.Second):
			t.Fatal("a live host's job did not run while another host is paused")
		}

		// Retry-After: the job and its host wait as long as the peer asked.
		if err := q.Enqueue(ctx, Job{Kind: "inbox", Host: "c.example"}, Job{Kind: "inbox", Host: "c.example", RunAt: time.Now().Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		eventually.Holds(t, "host c's jobs are postponed", func() bool {
			return countJobs(t, db, "host = ? AND run_at > ?", "c.example", store.Now().Add(20*time.Minute)) == 2
		})
		var j Job
		if err := db.Where("host = ? AND attempts = 1", "c.example").First(&j).Error; err != nil {
			t.Fatal(err)
		}
		if j.LastError != "429 Too Many Requests" {
			t.Errorf("last error %q", j.LastError)
		}
	})
}

// TestTwoQueuesRunEachJobOnce: two processes (two connection pools) share one
// database; every job runs exactly once and never on both at the same time.
func TestTwoQueuesRunEachJobOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		ctx := t.Context()
		other := reopen(t, db)
		const n = 500
		jobs := make([]Job, n)
		for i := range jobs {
			jobs[i] = Job{Kind: "deliver", Host: fmt.Sprintf("h%d.example", i%25)}
		}
		if err := New(db, testOptions(t)).Enqueue(ctx, jobs...); err != nil {
			t.Fatal(err)
		}

		var mu sync.Mutex
		calls := map[int64]int{}
		running := map[int64]bool{}
		perQueue := [2]int{}
		overlaps := 0
		handler := func(which int) Handler {
			return func(_ context.Context, j Job) error {
				mu.Lock()
				if running[j.ID] {
					overlaps++
				}
				running[j.ID] = true
				calls[j.ID]++
				perQueue[which]++
				mu.Unlock()
				time.Sleep(time.Millisecond) // widen the window a double claim would need
				mu.Lock()
				delete(running, j.ID)
				mu.Unlock()
				return nil
			}
		}
		start(t, New(db, testOptions(t)), map[string]Handler{"deliver": handler(0)})
		start(t, New(other, testOptions(t)), map[string]Handler{"deliver": handler(1)})
		eventually.Holds(t, "every job is done", func() bool { return countJobs(t, db, "") == 0 })

		mu.Lock()
		defer mu.Unlock()
		if overlaps != 0 {
			t.Errorf("%d jobs ran on both queues at once", overlaps)
		}
		if len(calls) != n {
			t.Errorf("%d distinct jobs ran, want %d", len(calls), n)
		}
		for id, c := range calls {
			if c != 1 {
				t.Errorf("job %d ran %d times", id, c)
			}
		}
		t.Logf("jobs per queue: %v", perQueue)
	})
}

// reopen opens a second connection pool on db's database, as another process would.
func reopen(t testing.TB, db *gorm.DB) *gorm.DB {
	t.Helper()
	var (
		other *gorm.DB
		err   error
	)
	switch store.Dialect(db) {
	case store.DialectSQLite:
		var seq int
		var name, file string
		if err := db.Raw("PRAGMA database_list").Row().Scan(&seq, &name, &file); err != nil {
			t.Fatal(err)
		}
		other, err = store.Open(context.Background(), "", file, storetest.Logger(t))
	default:
		var schema string
		if err := db.Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
			t.Fatal(err)
		}
		u, perr := url.Parse(os.Getenv(storetest.EnvPostgres))
		if perr != nil {
			t.Fatal(perr)
		}
		v := u.Query()
		v.Set("search_path", schema)
		u.RawQuery = v.Encode()
		other, err = store.Open(context.Background(), u.String(), "", storetest.Logger(t))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close(other) })
	return other
}

func TestStats(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		ctx := t.Context()
		q := New(db, testOptions(t))
		if err := q.Enqueue(ctx, Job{Kind: "deliver", Host: "a"}, Job{Kind: "deliver", Host: "b"}, Job{Kind: "deliver", Host: "c"}, Job{Kind: "inbox"}); err != nil {
			t.Fatal(err)
		}
		claimed, err := q.claim(ctx, []string{"deliver"}, 2)
		if err != nil || len(claimed) != 2 {
			t.Fatalf("claim = %+v, %v", claimed, err)
		}
		if err := q.finish(ctx, false, claimed[0], errors.New("timeout")); err != nil {
			t.Fatal(err)
		}
		if err := db.Create(&DeadLetter{ID: 1, Kind: "deliver", Reason: ReasonPermanent, CreatedAt: store.Now(), DiedAt: store.Now()}).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Create(&DeadLetter{ID: 2, Kind: "fetch", Reason: ReasonExpired, CreatedAt: store.Now(), DiedAt: store.Now()}).Error; err != nil {
			t.Fatal(err)
		}
		st, err := q.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]KindStats{
			"deliver": {Pending: 1, Running: 1, Retrying: 1, Dead: 1},
			"inbox":   {Pending: 1},
			"fetch":   {Dead: 1},
		}
		if len(st.Kinds) != len(want) {
			t.Errorf("stats %+v, want %+v", st.Kinds, want)
		}
		for k, w := range want {
			if st.Kinds[k] != w {
				t.Errorf("stats[%s] = %+v, want %+v", k, st.Kinds[k], w)
			}
		}
		dl, err := q.DeadLetters(ctx, 10)
		if err != nil || len(dl) != 2 || dl[0].ID != 2 {
			t.Errorf("DeadLetters = %+v, %v", dl, err)
		}
	})
}

func TestRunRefusesMisuse(t *testing.T) {
	t.Parallel()
	q := New(storetest.Open(t), testOptions(t))
	if err := q.Run(t.Context(), nil); err == nil {
		t.Error("Run without handlers succeeded")
	}
	started := make(chan struct{})
	start(t, q, map[string]Handler{"x": func(context.Context, Job) error { return nil }})
	go func() {
		// Wait until the first Run holds the queue.
		for {
			q.runMu.Lock()
			r := q.running
			q.runMu.Unlock()
			if r {
				close(started)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	<-started
	if err := q.Run(t.Context(), map[string]Handler{"x": func(context.Context, Job) error { return nil }}); err == nil {
		t.Error("a second concurrent Run succeeded")
	}
}

func TestHandlerPanicIsAFailure(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t)
	opts := testOptions(t)
	opts.MaxAttempts = 1
	q := New(db, opts)
	start(t, q, map[string]Handler{"x": func(context.Context, Job) error { panic("bad payload") }})
	if err := q.Enqueue(t.Context(), Job{Kind: "x"}); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "the job is dead", func() bool { return len(deadLetters(t, db)) == 1 })
	if d := deadLetters(t, db)[0]; !strings.HasPrefix(d.LastError, "panic: bad payload") {
		t.Errorf("last error %q", d.LastError)
	}
}

func TestDefaultBackoff(t *testing.T) {
	t.Parallel()
	for attempt, nominal := range map[int]time.Duration{
		1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 4: 4 * time.Minute,
		7: 32 * time.Minute, 8: time.Hour, 20: time.Hour, 1000: time.Hour,
	} {
		for range 50 {
			d := DefaultBackoff(attempt)
			lo := time.Duration(float64(nominal) * 0.75)
			hi := min(time.Duration(float64(nominal)*1.25), time.Hour)
			if attempt == 8 {
				lo = time.Duration(float64(64*time.Minute) * 0.75)
			}
			if d < lo || d > hi {
				t.Errorf("DefaultBackoff(%d) = %v, want within [%v, %v]", attempt, d, lo, hi)
			}
		}
	}
}

func TestFairnessAdmit(t *testing.T) {
	t.Parallel()
	now := time.Now()
	backoff := func(int) time.Duration { return time.Minute }
	f := fairness{perHost: 2, failingCap: 2, hosts: map[hostKey]*hostState{}}
	var cands []candidate
	for i := range 5 {
		cands = append(cands, candidate{ID: int64(i), Kind: "d", Host: "a"})
	}
	for i := range 5 {
		cands = append(cands, candidate{ID: int64(10 + i), Kind: "d", Host: "b"})
	}
	cands = append(cands, candidate{ID: 20, Kind: "i", Host: "a"}, candidate{ID: 21, Kind: "d"}, candidate{ID: 22, Kind: "d"})

	got := f.admit(cands, 8, now)
	ids := func(cs []candidate) []int64 {
		var out []int64
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	if want := []int64{0, 1, 10, 11, 20, 21, 22}; fmt.Sprint(ids(got)) != fmt.Sprint(want) {
		t.Errorf("admitted %v, want %v (2 per kind and host, no limit without a host)", ids(got), want)
	}
	if ex := f.excluded(now); fmt.Sprint(ex["d"]) != "[a b]" && fmt.Sprint(ex["d"]) != "[b a]" {
		t.Errorf("excluded %v", ex)
	}
	if got := f.admit(cands[:10], 8, now); len(got) != 0 {
		t.Errorf("admitted %v beyond the limits", ids(got))
	}

	// One failure: one job at a time for that host (the other one is still running).
	if p, _ := f.done("d", "a", hostFailed, 0, backoff, now); p != 0 {
		t.Errorf("paused after one failure")
	}
	if st := f.hosts[hostKey{"d", "a"}]; st == nil || st.failures != 1 || st.inflight != 1 {
		t.Fatalf("host a state %+v", st)
	}
	if got := f.admit(cands[:5], 8, now); len(got) != 0 {
		t.Errorf("failing host with a job in flight: admitted %v", ids(got))
	}
	// Second failure in a row: paused.
	if p, n := f.done("d", "a", hostFailed, 0, backoff, now); p != time.Minute || n != 2 {
		t.Errorf("second failure: pause %v after %d failures", p, n)
	}
	if got := f.admit(cands[:5], 8, now); len(got) != 0 {
		t.Errorf("paused host: admitted %v", ids(got))
	}
	if got := f.admit(cands[:5], 8, now.Add(2*time.Minute)); len(got) != 1 {
		t.Errorf("after the pause: admitted %v, want one probe", ids(got))
	}
	f.done("d", "a", hostAnswered, 0, backoff, now)
	if st := f.hosts[hostKey{"d", "a"}]; st != nil {
		t.Errorf("healthy idle host still tracked: %+v", st)
	}
	f.release([]candidate{{ID: 20, Kind: "i", Host: "a"}})
	if st := f.hosts[hostKey{"i", "a"}]; st != nil {
		t.Errorf("released host still tracked: %+v", st)
	}

	// Failing hosts share failingCap workers.
	g := fairness{perHost: 2, failingCap: 2, hosts: map[hostKey]*hostState{}}
	for _, h := range []string{"x", "y", "z"} {
		g.hosts[hostKey{"d", h}] = &hostState{failures: 1}
	}
	failing := []candidate{{1, "d", "x"}, {2, "d", "y"}, {3, "d", "z"}, {4, "d", "healthy"}}
	if got := g.admit(failing, 8, now); fmt.Sprint(ids(got)) != "[1 2 4]" {
		t.Errorf("admitted %v, want two failing hosts and the healthy one", ids(got))
	}
}

// BenchmarkThroughput measures jobs per second through the queue (claim, no-op
// handler, delete) with the default options, jobs spread over 64 hosts. Enqueue
// speed is reported as enqueued/s. Run with -benchtime=20000x for stable figures.
func BenchmarkThroughput(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchmarkThroughput(b, storetest.Open(b)) })
	b.Run("postgres", func(b *testing.B) { benchmarkThroughput(b, storetest.OpenPostgres(b)) })
}

func benchmarkThroughput(b *testing.B, db *gorm.DB) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := New(db, Options{Logger: storetest.Logger(b)})
	// As federation enqueues them: one batch per activity, fanned out to 64 hosts.
	const hosts = 64
	jobs := make([]Job, b.N)
	for i := range jobs {
		jobs[i] = Job{Kind: "deliver", Host: fmt.Sprintf("h%d.example", i%hosts), Payload: `{"type":"Create"}`}
	}
	began := time.Now()
	for batch := range slices.Chunk(jobs, hosts) {
		if err := q.Enqueue(ctx, batch...); err != nil {
			b.Fatal(err)
		}
	}
	enqueued := time.Since(began)

	b.ResetTimer()
	var handled atomic.Int64
	done := make(chan error, 1)
	go func() {
		done <- q.Run(ctx, map[string]Handler{"deliver": func(context.Context, Job) error {
			handled.Add(1)
			return nil
		}})
	}()
	for {
		var left int64
		if handled.Load() == int64(b.N) {
			if err := db.Model(&Job{}).Count(&left).Error; err != nil {
				b.Fatal(err)
			}
			if left == 0 {
				break
			}
		}
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
	b.ReportMetric(float64(b.N)/enqueued.Seconds(), "enqueued/s")
	cancel()
	<-done
}

// BenchmarkClaimPastBacklog measures one claim when 10,000 runnable jobs of a host
// at its concurrency limit come first: the claim must pass over them (through the
// index) to reach another host's job. That is the cost a hot or failing peer's
// backlog adds to every claim.
func BenchmarkClaimPastBacklog(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchmarkClaimPastBacklog(b, storetest.Open(b)) })
	b.Run("postgres", func(b *testing.B) { benchmarkClaimPastBacklog(b, storetest.OpenPostgres(b)) })
}

func benchmarkClaimPastBacklog(b *testing.B, db *gorm.DB) {
	ctx := context.Background()
	q := New(db, Options{Logger: storetest.Logger(b)})
	backlog := make([]Job, 10000)
	for i := range backlog {
		backlog[i] = Job{Kind: "deliver", Host: "hot.example", Payload: `{"type":"Create"}`}
	}
	if err := q.Enqueue(ctx, backlog...); err != nil {
		b.Fatal(err)
	}
	others := make([]Job, b.N)
	for i := range others {
		others[i] = Job{Kind: "deliver", Host: fmt.Sprintf("h%d.example", i), Payload: `{"type":"Create"}`}
	}
	if err := q.Enqueue(ctx, others...); err != nil {
		b.Fatal(err)
	}
	if err := db.Exec("ANALYZE").Error; err != nil {
		b.Fatal(err)
	}
	// The hot host is at its limit.
	q.fair.hosts[hostKey{"deliver", "hot.example"}] = &hostState{inflight: DefaultPerHost}
	kinds := []string{"deliver"}
	b.ResetTimer()
	for range b.N {
		jobs, err := q.claim(ctx, kinds, 1)
		if err != nil || len(jobs) != 1 || jobs[0].Host == "hot.example" {
			b.Fatalf("claim = %+v, %v", jobs, err)
		}
	}
}

// TestBatchHandler: jobs of a batched kind run in batches of one host, in the order
// they became runnable, at most BatchSize at a time; each job's own result decides
// what becomes of it, and a panic fails the whole batch.
func TestBatchHandler(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		opts := testOptions(t)
		opts.BatchSize = 4
		q := New(db, opts)
		ctx := t.Context()
		base := time.Now().Add(-time.Minute)
		var jobs []Job
		for i := range 6 {
			for _, host := range []string{"a.example", "b.example"} {
				jobs = append(jobs, Job{Kind: "inbox", Host: host, Payload: fmt.Sprintf("%s %d", host, i),
					RunAt: base.Add(time.Duration(i) * time.Millisecond)})
			}
		}
		jobs = append(jobs, Job{Kind: "inbox", Host: "c.example", Payload: "panic"})
		// Enqueued before Run starts, so that the first claims find them all.
		if err := q.Enqueue(ctx, jobs...); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var batches [][]string
		runs := map[string]int{}
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- q.RunBatches(ctx, nil, map[string]BatchHandler{"inbox": func(_ context.Context, js []Job) []error {
				errs := make([]error, len(js))
				var payloads []string
				mu.Lock()
				defer mu.Unlock()
				for i, j := range js {
					if j.Payload == "panic" {
						runs[j.Payload]++
						if runs[j.Payload] == 1 {
							panic("boom")
						}
						continue
					}
					payloads = append(payloads, j.Payload)
					runs[j.Payload]++
					switch {
					case strings.HasSuffix(j.Payload, " 1"):
						errs[i] = Permanent(errors.New("malformed"))
					case strings.HasSuffix(j.Payload, " 2") && runs[j.Payload] == 1:
						errs[i] = errors.New("try again")
					}
				}
				if len(payloads) > 0 {
					batches = append(batches, payloads)
				}
				return errs
			}})
		}()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("RunBatches: %v", err)
			}
		})
		eventually.Holds(t, "every job is done or dead", func() bool { return countJobs(t, db, "") == 0 })
		mu.Lock()
		defer mu.Unlock()
		for _, b := range batches {
			if len(b) > 4 {
				t.Errorf("batch of %d, over BatchSize: %v", len(b), b)
			}
			for i := range b {
				if i > 0 && strings.Fields(b[i])[0] != strings.Fields(b[0])[0] {
					t.Errorf("batch mixes hosts: %v", b)
				}
			}
		}
		// The first batch of a host holds its first four jobs, in order. (A host's
		// batches run at the same time, PerHost of them.)
		first := map[string][]string{}
		for _, b := range batches {
			if strings.HasSuffix(b[0], " 0") {
				first[strings.Fields(b[0])[0]] = b
			}
		}
		for _, host := range []string{"a.example", "b.example"} {
			want := []string{host + " 0", host + " 1", host + " 2", host + " 3"}
			if !slices.Equal(first[host], want) {
				t.Errorf("first batch of %s: %v, want %v", host, first[host], want)
			}
			if runs[host+" 2"] != 2 || runs[host+" 0"] != 1 || runs[host+" 1"] != 1 {
				t.Errorf("%s: runs %v: the failed job must run again, the others once", host, runs)
			}
		}
		dead := deadLetters(t, db)
		if len(dead) != 2 {
			t.Errorf("dead letters: %+v, want the two malformed jobs", dead)
		}
		if runs["panic"] != 2 {
			t.Errorf("the job of the batch that panicked ran %d times, want 2", runs["panic"])
		}
	})
}
