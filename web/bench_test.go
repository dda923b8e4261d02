package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/store/storetest"
)

// The benchmarks call the instance's HTTP handler directly, without a network in between,
// so ns/op is the server's own work per request: routing, authentication, queries,
// rendering and JSON encoding. Run with:
//
//	go test ./web -run '^$' -bench . -benchmem
//
// and with TACIT_TEST_POSTGRES set to include PostgreSQL. docs/performance.md has figures.

type benchWorld struct {
	inst   *instancetest.Instance
	viewer *instancetest.User
}

// newBenchWorld builds a realistic home timeline: the viewer follows 10 accounts that
// have posted 40 statuses each, among 400 more statuses by accounts they don't follow.
func newBenchWorld(b *testing.B, postgres bool) *benchWorld {
	b.Helper()
	if postgres {
		storetest.PostgresURL(b) // skips the benchmark when PostgreSQL is not configured
	}
	inst := instancetest.Start(b, instancetest.Options{Postgres: postgres})
	ctx := context.Background()
	viewer := inst.CreateUser(b, "viewer", instancetest.UserOptions{})
	for i := range 20 {
		author := inst.CreateUser(b, fmt.Sprintf("author%d", i), instancetest.UserOptions{})
		user, err := inst.Community.UserByAccountID(ctx, author.Account.ID)
		if err != nil {
			b.Fatal(err)
		}
		if i < 10 {
			if err := inst.Community.Follow(ctx, viewer.Account, author.Account.ID, community.FollowOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		for j := range 40 {
			vis := community.VisibilityPublic
			if j%4 == 3 {
				vis = community.VisibilityPrivate
			}
			_, err := inst.Community.CreateStatus(ctx, author.Account, user, community.NewStatus{
				Text:     fmt.Sprintf("Status %d from author %d about #kubernetes and https://example.com/docs/%d @viewer", j, i, j),
				Audience: community.AudienceRequest{Visibility: vis},
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	return &benchWorld{inst: inst, viewer: viewer}
}

func (w *benchWorld) do(b *testing.B, method, target string, form url.Values) {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, target, body)
	req.Host = w.inst.Host()
	req.Header.Set("Authorization", "Bearer "+w.viewer.Token)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	rec := httptest.NewRecorder()
	w.inst.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s %s: %d %s", method, target, rec.Code, rec.Body.String())
	}
}

// eachDatabase runs a benchmark on SQLite and PostgreSQL. Besides wall time it reports
// cpu-ns/op, the CPU time this process spent per request (user + system, from
// getrusage): the server's own cost, without the wait for PostgreSQL's round trips and
// commits, which ns/op includes.
func eachDatabase(b *testing.B, fn func(b *testing.B, w *benchWorld)) {
	for _, db := range []struct {
		name     string
		postgres bool
	}{{"sqlite", false}, {"postgres", true}} {
		b.Run(db.name, func(b *testing.B) {
			w := newBenchWorld(b, db.postgres)
			before := instancetest.ProcessCPU(b)
			fn(b, w)
			b.ReportMetric(float64((instancetest.ProcessCPU(b)-before).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

func BenchmarkHomeTimeline(b *testing.B) {
	eachDatabase(b, func(b *testing.B, w *benchWorld) {
		b.ReportAllocs()
		for b.Loop() {
			w.do(b, http.MethodGet, "/api/v1/timelines/home?limit=20", nil)
		}
	})
}

// BenchmarkCreateStatus posts one status at a time. cpu-ns/op counts what each post
// costs after the answer too (federation's check for recipients, indexing, streaming,
// the caches' change feed): the index is caught up before the CPU is read.
func BenchmarkCreateStatus(b *testing.B) {
	eachDatabase(b, func(b *testing.B, w *benchWorld) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			w.do(b, http.MethodPost, "/api/v1/statuses", url.Values{
				"status": {fmt.Sprintf("Benchmark post %d about #kubernetes for @author1, see https://example.com/x", i)},
			})
		}
		w.inst.SyncSearch(b)
	})
}

func BenchmarkVerifyCredentials(b *testing.B) {
	eachDatabase(b, func(b *testing.B, w *benchWorld) {
		b.ReportAllocs()
		for b.Loop() {
			w.do(b, http.MethodGet, "/api/v1/accounts/verify_credentials", nil)
		}
	})
}

func BenchmarkPublicTimeline(b *testing.B) {
	eachDatabase(b, func(b *testing.B, w *benchWorld) {
		b.ReportAllocs()
		for b.Loop() {
			w.do(b, http.MethodGet, "/api/v1/timelines/public?limit=20", nil)
		}
	})
}

func BenchmarkStatus(b *testing.B) {
	eachDatabase(b, func(b *testing.B, w *benchWorld) {
		page, err := w.inst.Community.PublicTimeline(context.Background(), community.AsAccount(w.viewer.Account),
			community.PublicQuery{Page: community.Page{Limit: 1}})
		if err != nil || len(page.Statuses) == 0 {
			b.Fatalf("no status to read: %v", err)
		}
		target := "/api/v1/statuses/" + community.FormatID(page.Statuses[0].ID)
		b.ReportAllocs()
		for b.Loop() {
			w.do(b, http.MethodGet, target, nil)
		}
	})
}
