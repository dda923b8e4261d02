package queue

import (
	"context"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/instance/instancetest/eventually"
	"github.com/tacit-social/tacit/store/storetest"
)

// waitOffers waits until q's Run takes offers.
func waitOffers(t *testing.T, q *Queue) {
	t.Helper()
	eventually.Holds(t, "Run takes offers", func() bool {
		q.localMu.Lock()
		defer q.localMu.Unlock()
		return q.localOpen
	})
}

// enqueueLeased writes jobs with EnqueueLeasedTx in a transaction of its own.
func enqueueLeased(t *testing.T, q *Queue, db *gorm.DB, jobs ...Job) []Job {
	t.Helper()
	var leased []Job
	err := db.Transaction(func(tx *gorm.DB) error {
		var err error
		leased, err = q.EnqueueLeasedTx(tx, jobs...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return leased
}

// TestOfferRunsWithoutClaim: an offered job is leased in the table for the whole
// default lease, so no claim can find it; the handler gets it anyway, at once.
func TestOfferRunsWithoutClaim(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		q := New(db, testOptions(t))
		got := make(chan Job, 10)
		start(t, q, map[string]Handler{"inbox": func(_ context.Context, j Job) error {
			got <- j
			return nil
		}})
		waitOffers(t, q)
		leased := enqueueLeased(t, q, db, Job{Kind: "inbox", Host: "b.example", Payload: "p", DedupeKey: "https://b.example/1"})
		if len(leased) != 1 || leased[0].Attempts != 1 || leased[0].LockedUntil == nil {
			t.Fatalf("leased %+v", leased)
		}
		if n := countJobs(t, db, "attempts = 1 AND run_at > ?", time.Now().Add(time.Minute)); n != 1 {
			t.Fatalf("%d jobs leased in the table, want 1", n)
		}
		q.Offer(t.Context(), leased)
		select {
		case j := <-got:
			if j.ID != leased[0].ID || j.Attempts != 1 || j.Payload != "p" {
				t.Errorf("handler got %+v", j)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the offered job did not run")
		}
		eventually.Holds(t, "the job is deleted", func() bool { return countJobs(t, db, "") == 0 })
		select {
		case again := <-got:
			t.Errorf("handler called twice: %+v", again)
		default:
		}
	})
}

// TestLeasedJobSurvivesCrash: the process dies between the commit and the offer;
// nobody runs the job during its lease, and a process started after it runs it.
func TestLeasedJobSurvivesCrash(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		dead := New(db, testOptions(t))
		dead.openLocal() // as if Run were active, then the process dies before Offer
		leased := enqueueLeased(t, dead, db, Job{Kind: "inbox", Host: "b.example", Payload: "body"})
		if len(leased) != 1 {
			t.Fatalf("leased %+v", leased)
		}
		if again, err := New(db, testOptions(t)).claim(t.Context(), []string{"inbox"}, 8); err != nil || len(again) != 0 {
			t.Fatalf("claim during the lease = %+v, %v", again, err)
		}
		opts := testOptions(t)
		opts.Now = func() time.Time { return time.Now().Add(DefaultLease + time.Minute) }
		expectRerun(t, db, New(db, opts), "inbox", leased[0].ID)
	})
}

// TestEnqueueLeasedFallsBack: without Run, or with a duplicate in the batch, the jobs
// are queued runnable as Enqueue queues them; an offer Run cannot take is released.
func TestEnqueueLeasedFallsBack(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		q := New(db, testOptions(t))
		runnable := "attempts = 0 AND locked_until IS NULL AND run_at <= ?"

		if leased := enqueueLeased(t, q, db, Job{Kind: "inbox", Host: "b.example", DedupeKey: "k1"}); leased != nil {
			t.Errorf("leased %+v without Run", leased)
		}
		if n := countJobs(t, db, runnable, time.Now().Add(time.Second)); n != 1 {
			t.Fatalf("%d runnable jobs, want 1", n)
		}

		q.openLocal()
		leased := enqueueLeased(t, q, db, Job{Kind: "inbox", Host: "b.example", DedupeKey: "k1"}, Job{Kind: "inbox", Host: "b.example", DedupeKey: "k2"})
		if leased != nil {
			t.Errorf("leased %+v with a duplicate in the batch", leased)
		}
		if n := countJobs(t, db, runnable, time.Now().Add(time.Second)); n != 2 {
			t.Fatalf("%d runnable jobs, want 2 (the duplicate skipped)", n)
		}

		leased = enqueueLeased(t, q, db, Job{Kind: "inbox", Host: "b.example", DedupeKey: "k3"})
		if len(leased) != 1 {
			t.Fatalf("leased %+v", leased)
		}
		q.closeLocal() // Run ended between the commit and the offer
		q.Offer(t.Context(), leased)
		if n := countJobs(t, db, runnable, time.Now().Add(time.Second)); n != 3 {
			t.Fatalf("%d runnable jobs, want 3 (the offer released)", n)
		}
	})
}

// TestTakeLocal: offered jobs that can no longer finish within their lease are
// handed back as stale; a host's jobs wait while it has two batches in flight, until
// they fill a batch.
func TestTakeLocal(t *testing.T) {
	opts := testOptions(t)
	opts.BatchSize = 3
	opts.PerHost = 8
	q := New(storetest.OpenSQLite(t), opts)
	now := time.Now().UTC()
	lease := now.Add(q.opts.Lease)
	job := func(id int64, host string, runAt time.Time) Job {
		return Job{ID: id, Kind: "inbox", Host: host, Attempts: 1, RunAt: runAt}
	}
	size := func(string) int { return 3 }
	q.openLocal()
	q.local = []Job{job(1, "a", now.Add(q.opts.Timeout)), job(2, "a", lease), job(3, "b", lease)}
	units, stale := q.takeLocal(now, 1, size)
	if len(stale) != 1 || stale[0].ID != 1 {
		t.Errorf("stale %+v, want job 1", stale)
	}
	if len(units) != 1 || len(units[0]) != 1 || units[0][0].ID != 2 {
		t.Fatalf("units %+v, want [[2]]", units)
	}
	// Host a has one run in flight: a second may start beside it, as b's first.
	q.local = append(q.local, job(7, "a", lease))
	units, _ = q.takeLocal(now, 8, size)
	if len(units) != 2 || units[0][0].ID != 3 || units[1][0].ID != 7 {
		t.Fatalf("units %+v, want [[3] [7]]", units)
	}
	// Two runs of a in flight: its next two wait.
	q.local = append(q.local, job(4, "a", lease), job(5, "a", lease))
	if units, _ = q.takeLocal(now, 8, size); len(units) != 0 {
		t.Fatalf("units %+v, want none", units)
	}
	// A third fills a batch: it starts beside those in flight.
	q.local = append(q.local, job(6, "a", lease))
	units, _ = q.takeLocal(now, 8, size)
	if len(units) != 1 || len(units[0]) != 3 || units[0][0].ID != 4 || units[0][2].ID != 6 {
		t.Fatalf("units %+v, want [[4 5 6]]", units)
	}
	if left := q.closeLocal(); len(left) != 0 {
		t.Errorf("left %+v", left)
	}
}

// TestShutdownReleasesOffers: offered jobs waiting for a worker when Run stops go
// back to the table, runnable, their attempt not counted.
func TestShutdownReleasesOffers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		opts := testOptions(t)
		opts.Workers = 1
		q := New(db, opts)
		started := make(chan struct{}, 10)
		var once sync.Once
		stop := start(t, q, map[string]Handler{"inbox": func(ctx context.Context, j Job) error {
			once.Do(func() { started <- struct{}{} })
			<-ctx.Done()
			return ctx.Err()
		}})
		waitOffers(t, q)
		var leased []Job
		for range 3 {
			leased = append(leased, enqueueLeased(t, q, db, Job{Kind: "inbox", Host: "b.example"})...)
		}
		q.Offer(t.Context(), leased)
		<-started
		stop()
		if n := countJobs(t, db, "attempts = 0 AND locked_until IS NULL"); n != 3 {
			t.Errorf("%d jobs runnable after shutdown, want 3", n)
		}
	})
}
