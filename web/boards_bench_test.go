package web_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/store/storetest"
)

// Idea boards under load: a board of 2,000 ideas from 50 people, each idea with up to 9
// votes, listed in the three orders, and a vote cast and withdrawn. Run with:
//
//	go test ./web -run '^$' -bench Idea -benchtime=300x -benchmem
//
// and TACIT_TEST_POSTGRES set for PostgreSQL. docs/performance.md has figures.

type ideaWorld struct {
	benchWorld
	boardID, ideaID string
}

func newIdeaWorld(b *testing.B, postgres bool) *ideaWorld {
	b.Helper()
	if postgres {
		storetest.PostgresURL(b) // skips the benchmark when PostgreSQL is not configured
	}
	inst := instancetest.Start(b, instancetest.Options{Postgres: postgres})
	ctx := context.Background()
	viewer := inst.CreateUser(b, "viewer", instancetest.UserOptions{Role: community.RoleAdmin})
	board, err := inst.Community.CreateBoard(ctx, viewer.Account, community.NewBoard{Name: "ideas"})
	if err != nil {
		b.Fatal(err)
	}
	var people []*community.Account
	for i := range 50 {
		people = append(people, inst.CreateUser(b, fmt.Sprintf("person%d", i), instancetest.UserOptions{}).Account)
	}
	var last *community.Status
	for i := range 2000 {
		st, err := inst.Community.CreateIdea(ctx, people[i%len(people)], board.Account.ID, community.NewIdea{
			Title: fmt.Sprintf("Idea %d", i), Body: "Why it would help, and how we could start.",
		})
		if err != nil {
			b.Fatal(err)
		}
		for _, voter := range people[:i%10] {
			if _, err := inst.Community.Favourite(ctx, voter, st.ID); err != nil {
				b.Fatal(err)
			}
		}
		last = st
	}
	return &ideaWorld{benchWorld: benchWorld{inst: inst, viewer: viewer},
		boardID: community.FormatID(board.Account.ID), ideaID: community.FormatID(last.ID)}
}

func eachIdeaDatabase(b *testing.B, fn func(b *testing.B, w *ideaWorld)) {
	for _, db := range []struct {
		name     string
		postgres bool
	}{{"sqlite", false}, {"postgres", true}} {
		b.Run(db.name, func(b *testing.B) {
			w := newIdeaWorld(b, db.postgres)
			before := instancetest.ProcessCPU(b)
			fn(b, w)
			b.ReportMetric(float64((instancetest.ProcessCPU(b)-before).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

func BenchmarkIdeaList(b *testing.B) {
	eachIdeaDatabase(b, func(b *testing.B, w *ideaWorld) {
		for _, sort := range []string{"new", "top", "trending"} {
			b.Run(sort, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					w.do(b, http.MethodGet, "/api/v1/tacit/boards/"+w.boardID+"/ideas?limit=20&sort="+sort, nil)
				}
			})
		}
	})
}

func BenchmarkIdeaVote(b *testing.B) {
	eachIdeaDatabase(b, func(b *testing.B, w *ideaWorld) {
		b.ReportAllocs()
		for b.Loop() {
			w.do(b, http.MethodPost, "/api/v1/tacit/ideas/"+w.ideaID+"/vote", nil)
			w.do(b, http.MethodDelete, "/api/v1/tacit/ideas/"+w.ideaID+"/vote", nil)
		}
	})
}
