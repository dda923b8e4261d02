package queue

import (
	"sync"
	"time"
)

// Fairness keeps a slow or dead peer from taking the workers that live peers need.
//
// Three rules, all per (kind, host) and all in memory (one process runs an
// instance; the database only ever sees their effect on run_at):
//
//   - at most perHost jobs in flight, so a peer that hangs every request holds at
//     most perHost workers until the handlers' timeout;
//   - after one transient failure the host is "failing": one job in flight at a time
//     (a probe), and all failing hosts together hold at most failingCap workers;
//   - after two failures in a row the host is paused with the back-off curve, and
//     its runnable jobs are rescheduled to the end of the pause in the database, so
//     that the claim query does not wade through them and other processes (and a
//     restarted one) see the pause too.
//
// A success or a permanent error (the peer answered) makes the host healthy again.
type fairness struct {
	perHost    int
	failingCap int

	mu    sync.Mutex
	hosts map[hostKey]*hostState
	// seen remembers when each host last answered or failed, for admin pages
	// (hosts.go); unlike hosts, it keeps healthy hosts.
	seen map[hostKey]*hostSeen
}

type hostKey struct{ kind, host string }

type hostState struct {
	inflight    int
	failures    int // consecutive transient failures
	pausedUntil time.Time
}

// outcome is what a finished job says about its host.
type outcome int

const (
	hostAnswered outcome = iota // success or permanent error
	hostFailed                  // transient error
	hostNeutral                 // interrupted by shutdown: says nothing
)

func (f *fairness) limit(st *hostState) int {
	if st.failures > 0 {
		return 1
	}
	return f.perHost
}

// failingInflight counts jobs in flight for failing hosts. The map holds only hosts
// with jobs in flight or failures, a handful, so counting beats bookkeeping.
func (f *fairness) failingInflight() int {
	n := 0
	for _, st := range f.hosts {
		if st.failures > 0 {
			n += st.inflight
		}
	}
	return n
}

// excluded lists, per kind, the hosts whose jobs cannot be admitted now; the claim
// query leaves them out so that its LIMIT is spent on admissible jobs.
func (f *fairness) excluded(now time.Time) map[string][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	failingFull := f.failingInflight() >= f.failingCap
	out := map[string][]string{}
	for k, st := range f.hosts {
		if st.pausedUntil.After(now) || st.inflight >= f.limit(st) || (st.failures > 0 && failingFull) {
			out[k.kind] = append(out[k.kind], k.host)
		}
	}
	return out
}

// candidate is a runnable job as the claim query first sees it.
type candidate struct {
	ID   int64
	Kind string
	Host string
}

// admit picks at most n of cands, in order, that the rules allow, and counts them
// in flight. Every admitted job must be given back with done.
func (f *fairness) admit(cands []candidate, n int, now time.Time) []candidate {
	var picked []candidate
	for _, u := range f.admitUnits(cands, n, now, nil) {
		picked = append(picked, u...)
	}
	return picked
}

// admitUnits picks, in order, the candidates of at most n runs that the rules allow,
// and counts each run in flight once. A run takes up to batchSize(kind) candidates of
// one kind and host (nil batchSize: one); a failing host's run is a single job, its
// probe. Every admitted run must be given back with done.
func (f *fairness) admitUnits(cands []candidate, n int, now time.Time, batchSize func(kind string) int) [][]candidate {
	f.mu.Lock()
	defer f.mu.Unlock()
	failing := f.failingInflight()
	var units [][]candidate
	open := map[hostKey]int{} // runs still taking jobs, by host: index in units
	for _, c := range cands {
		k := hostKey{c.Kind, c.Host}
		size := 1
		if batchSize != nil {
			size = batchSize(c.Kind)
		}
		if i, ok := open[k]; ok {
			units[i] = append(units[i], c)
			if len(units[i]) >= size {
				delete(open, k)
			}
			continue
		}
		if len(units) == n {
			if len(open) == 0 {
				break
			}
			continue
		}
		if c.Host != "" {
			st := f.hosts[k]
			if st == nil {
				st = &hostState{}
				f.hosts[k] = st
			}
			if st.pausedUntil.After(now) || st.inflight >= f.limit(st) {
				continue
			}
			if st.failures > 0 {
				if failing >= f.failingCap {
					continue
				}
				failing++
				size = 1
			}
			st.inflight++
		}
		units = append(units, []candidate{c})
		if size > 1 {
			open[k] = len(units) - 1
		}
	}
	// Drop the entries created for candidates that were not admitted.
	for _, c := range cands {
		f.forget(hostKey{c.Kind, c.Host})
	}
	return units
}

// done gives an admitted job back. For a failure it returns how long to pause the
// host (0: no pause), given the back-off curve; retryAfter > 0 is the peer's own
// request to wait.
func (f *fairness) done(kind, host string, o outcome, retryAfter time.Duration, backoff func(int) time.Duration, now time.Time) (pause time.Duration, failures int) {
	if host == "" {
		return 0, 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k := hostKey{kind, host}
	st := f.hosts[k]
	if st == nil { // cannot happen: admit created it
		return 0, 0
	}
	st.inflight--
	f.see(k, o, now)
	switch o {
	case hostAnswered:
		st.failures = 0
		st.pausedUntil = time.Time{}
	case hostFailed:
		st.failures++
		switch {
		case retryAfter > 0:
			pause = retryAfter
		case st.failures >= 2:
			pause = backoff(st.failures - 1)
		}
		if until := now.Add(pause); pause > 0 && until.After(st.pausedUntil) {
			st.pausedUntil = until
		}
	}
	failures = st.failures
	f.forget(k)
	return pause, failures
}

// inflight counts the runs of kind and host in flight.
func (f *fairness) inflight(kind, host string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st := f.hosts[hostKey{kind, host}]; st != nil {
		return st.inflight
	}
	return 0
}

// forget drops a host's entry once it holds no information. Caller holds f.mu.
func (f *fairness) forget(k hostKey) {
	if st := f.hosts[k]; st != nil && st.inflight == 0 && st.failures == 0 {
		delete(f.hosts, k)
	}
}

// releaseUnits gives back admitted runs whose claim did not commit.
func (f *fairness) releaseUnits(units [][]candidate) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range units {
		c := u[0]
		if c.Host == "" {
			continue
		}
		k := hostKey{c.Kind, c.Host}
		if st := f.hosts[k]; st != nil {
			st.inflight--
			f.forget(k)
		}
	}
}

// release gives back admitted single-job runs whose claim did not commit.
func (f *fairness) release(cands []candidate) {
	units := make([][]candidate, len(cands))
	for i, c := range cands {
		units[i] = []candidate{c}
	}
	f.releaseUnits(units)
}
