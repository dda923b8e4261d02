package federation_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
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
			if db == "postgres" && os.Getenv(instancetest.PostgresEnv) == "" {
				b.Skipf("%s is not set", instancetest.PostgresEnv)
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
		for countRemoteStatuses(b, a, author.Account.URI) < n {
			time.Sleep(50 * time.Millisecond)
		}
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
				if _, err := inst.Community.StatusByURI(ctx, st.URI); err == nil {
					break
				}
				time.Sleep(time.Millisecond)
			}
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-to-all-10")
}
