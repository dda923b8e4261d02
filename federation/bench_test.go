package federation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/federation/activitystreams"
	"github.com/tacit-social/tacit/federation/signature"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/store/storetest"
)

// Federation benchmarks run whole instances in this process over loopback; every
// activity is signed, sent over HTTP, verified, queued and applied. Run with:
//
//	go test ./federation -run '^$' -bench . -benchtime=1x
//
// docs/performance.md has figures.

// followAcross makes follower (on one instance) follow target (on another) and waits
// until the follow is accepted.
func followAcross(b testing.TB, from *instancetest.Instance, follower *community.Account, to *instancetest.Instance, target *community.Account) {
	ctx := context.Background()
	remote, err := from.Federator.ResolveAccount(ctx, target.Username+"@"+to.Host())
	if err != nil {
		b.Fatalf("resolve: %v", err)
	}
	if err := from.Community.Follow(ctx, follower, remote.ID, community.FollowOptions{}); err != nil {
		b.Fatalf("follow: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		rel, err := from.Community.Relationship(ctx, follower.ID, remote.ID)
		if err == nil && rel.Following {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Fatal("follow was not accepted")
}

func countRemoteStatuses(b testing.TB, inst *instancetest.Instance, authorURI string) int64 {
	var n int64
	err := inst.DB.Table("statuses").Joins("JOIN accounts ON accounts.id = statuses.account_id").
		Where("accounts.uri = ?", authorURI).Count(&n).Error
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkInboxThroughput: one author on B posts N statuses for the company; the
// benchmark ends when A has received and stored all of them. It reports activities per
// second through the whole pipeline (queue, signing, HTTP, verification, inbox queue,
// processing).
func BenchmarkInboxThroughput(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			if db == "postgres" && os.Getenv(storetest.EnvPostgres) == "" {
				b.Skipf("%s is not set", storetest.EnvPostgres)
			}
			inboxThroughput(b, instancetest.Options{Postgres: db == "postgres"})
		})
	}
}

func inboxThroughput(b *testing.B, opt instancetest.Options) {
	const n = 500
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		insts := instancetest.StartCompany(b, 2, opt)
		a, src := insts[0], insts[1]
		reader := a.CreateUser(b, "reader", instancetest.UserOptions{})
		author := src.CreateUser(b, "author", instancetest.UserOptions{})
		followAcross(b, a, reader.Account, src, author.Account)
		user, err := src.Community.UserByAccountID(ctx, author.Account.ID)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		for i := range n {
			if _, err := src.Community.CreateStatus(ctx, author.Account, user, community.NewStatus{
				Text: fmt.Sprintf("Post %d #benchmark", i), Audience: community.AudienceRequest{Scope: community.ScopeCompany},
			}); err != nil {
				b.Fatal(err)
			}
		}
		posted := time.Since(start)
		for countRemoteStatuses(b, a, author.Account.URI) < n {
			time.Sleep(50 * time.Millisecond)
		}
		b.Logf("posting took %s, all stored after %s", posted, time.Since(start))
		b.ReportMetric(n/time.Since(start).Seconds(), "activities/s")
	}
}

// BenchmarkFanOutTenInstances: followers on 10 instances; the time for one post to be
// stored on all of them.
func BenchmarkFanOutTenInstances(b *testing.B) {
	ctx := context.Background()
	insts := instancetest.StartCompany(b, 11, instancetest.Options{})
	origin := insts[0]
	author := origin.CreateUser(b, "author", instancetest.UserOptions{})
	user, err := origin.Community.UserByAccountID(ctx, author.Account.ID)
	if err != nil {
		b.Fatal(err)
	}
	for i, inst := range insts[1:] {
		follower := inst.CreateUser(b, fmt.Sprintf("follower%d", i), instancetest.UserOptions{})
		followAcross(b, inst, follower.Account, origin, author.Account)
	}
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		st, err := origin.Community.CreateStatus(ctx, author.Account, user, community.NewStatus{
			Text: "Fan-out", Audience: community.AudienceRequest{Visibility: community.VisibilityPrivate},
		})
		if err != nil {
			b.Fatal(err)
		}
		for _, inst := range insts[1:] {
			for {
				if _, err := inst.Community.Unchecked().StatusByURI(ctx, st.URI); err == nil {
					break
				}
				time.Sleep(time.Millisecond)
			}
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-to-all-10")
}

// BenchmarkSignedInbox measures the receiving side alone: N Create{Note} activities,
// signed with the author's key, POSTed by 8 concurrent senders to A's shared inbox; the
// benchmark ends when A has verified, queued and stored all of them.
func BenchmarkSignedInbox(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			if db == "postgres" && os.Getenv(storetest.EnvPostgres) == "" {
				b.Skipf("%s is not set", storetest.EnvPostgres)
			}
			signedInbox(b, instancetest.Options{Postgres: db == "postgres"})
		})
	}
}

func signedInbox(b *testing.B, opt instancetest.Options) {
	const senders = 8
	n := benchActivities(b, 1000)
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		insts := instancetest.StartCompany(b, 2, opt)
		a, src := insts[0], insts[1]
		reader := a.CreateUser(b, "reader", instancetest.UserOptions{})
		author := src.CreateUser(b, "author", instancetest.UserOptions{})
		followAcross(b, a, reader.Account, src, author.Account)
		priv, _, err := src.Community.AccountKeys(ctx, author.Account.ID)
		if err != nil {
			b.Fatal(err)
		}
		key, err := signature.ParsePrivateKeyPEM(priv)
		if err != nil {
			b.Fatal(err)
		}
		bodies := make([][]byte, n)
		for i := range bodies {
			id := fmt.Sprintf("%s/statuses/bench%d", author.Account.URI, i)
			note, err := activitystreams.NoteJSON(activitystreams.Note{
				Status: &community.Status{URI: id, URL: id, Content: fmt.Sprintf("<p>Post %d</p>", i),
					Visibility: community.VisibilityPublic, Scope: community.ScopeCompany, CreatedAt: time.Now()},
				Author: author.Account, To: []string{src.URL + "/ap/company"}, Cc: []string{author.Account.URI + "/followers"},
			})
			if err != nil {
				b.Fatal(err)
			}
			bodies[i], err = activitystreams.Activity("Create", id+"/activity", author.Account.URI, json.RawMessage(note),
				[]string{src.URL + "/ap/company"}, []string{author.Account.URI + "/followers"})
			if err != nil {
				b.Fatal(err)
			}
		}
		// Senders are other machines: their signing (RSA, ~1.5 ms each) is done before
		// the clock starts, so that the figure is the receiver's own cost. A signature's
		// date stays acceptable for far longer than the benchmark runs.
		reqs := make([]*http.Request, n)
		for i, body := range bodies {
			req, _ := http.NewRequest(http.MethodPost, a.URL+"/inbox", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/activity+json")
			if err := signature.SignRequest(req, body, author.Account.URI+"#main-key", key); err != nil {
				b.Fatal(err)
			}
			reqs[i] = req
		}
		stopProfile := profileTimed(b)
		b.StartTimer()
		start := time.Now()
		cpuBefore := instancetest.ProcessCPU(b)
		work := make(chan *http.Request)
		var wg sync.WaitGroup
		for range senders {
			wg.Go(func() {
				for req := range work {
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted {
						b.Errorf("inbox answered %d", resp.StatusCode)
					}
				}
			})
		}
		for _, req := range reqs {
			work <- req
		}
		close(work)
		wg.Wait()
		accepted := time.Since(start)
		for countRemoteStatuses(b, a, author.Account.URI) < int64(n) {
			time.Sleep(20 * time.Millisecond)
		}
		total := time.Since(start)
		cpu := instancetest.ProcessCPU(b) - cpuBefore
		stopProfile()
		b.ReportMetric(float64(n)/accepted.Seconds(), "accepted/s")
		b.ReportMetric(float64(n)/total.Seconds(), "processed/s")
		b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/activity")
	}
}

// profileEnv names a file to which a benchmark writes a CPU profile of its timed
// part alone; -cpuprofile also covers starting instances and signing requests, which
// drown the receiving side.
const profileEnv = "TACIT_BENCH_CPUPROFILE"

// profileTimed starts the CPU profile that profileEnv asks for and returns the
// function that stops it.
func profileTimed(b *testing.B) func() {
	path := os.Getenv(profileEnv)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatalf("cpu profile: %v", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatalf("cpu profile: %v", err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Errorf("cpu profile: %v", err)
		}
	}
}

// activitiesEnv overrides how many activities BenchmarkSignedInbox sends, for
// profiles that need more samples than the default run gives.
const activitiesEnv = "TACIT_BENCH_ACTIVITIES"

func benchActivities(b *testing.B, def int) int {
	v := os.Getenv(activitiesEnv)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive number", activitiesEnv, v)
	}
	return n
}
