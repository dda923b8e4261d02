package community

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"
)

// relEach runs fn on a fresh SQLite database and, when configured, PostgreSQL, with a
// service whose profiles are public, as in open mode: accounts of any server may follow
// and be seen here. The account rule in company mode has its own test.
func relEach(t *testing.T, fn func(t *testing.T, s *Service, db *gorm.DB)) {
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		fn(t, NewService(db, Options{Host: "tacit.test", BaseURL: "https://tacit.test", PublicProfiles: true}), db)
	})
}

func relCounts(t *testing.T, s *Service, id int64) (followers, following int64) {
	t.Helper()
	a, err := s.accountByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a.FollowersCount, a.FollowingCount
}

// TestRelationshipsQueryCount checks that asking about many accounts costs the same
// number of queries as asking about one.
func TestRelationshipsQueryCount(t *testing.T) {
	t.Parallel()
	relEach(t, func(t *testing.T, s *Service, db *gorm.DB) {
		ctx := context.Background()
		me := storeAccount(t, s, "me")
		var ids []int64
		for i := range 12 {
			var opts []accountOption
			if i%3 == 0 {
				opts = append(opts, lockedAccount())
			}
			other := storeAccount(t, s, fmt.Sprintf("other%d", i), opts...)
			ids = append(ids, other.ID)
			switch i % 4 {
			case 0:
				if err := s.Follow(ctx, me, other.ID, FollowOptions{}); err != nil {
					t.Fatal(err)
				}
			case 1:
				if err := s.Follow(ctx, other, me.ID, FollowOptions{}); err != nil {
					t.Fatal(err)
				}
			case 2:
				if err := s.Block(ctx, other, me.ID); err != nil {
					t.Fatal(err)
				}
			case 3:
				if err := s.Mute(ctx, me, other.ID, true, 0); err != nil {
					t.Fatal(err)
				}
			}
		}
		var queries atomic.Int64
		if err := db.Callback().Query().Before("gorm:query").Register("count_queries", func(*gorm.DB) {
			queries.Add(1)
		}); err != nil {
			t.Fatal(err)
		}
		count := func(ids []int64) (int64, []RelationshipFacts) {
			queries.Store(0)
			facts, err := s.Relationships(ctx, me.ID, ids)
			if err != nil {
				t.Fatal(err)
			}
			return queries.Load(), facts
		}
		one, _ := count(ids[:1])
		many, facts := count(ids)
		if one != many || many > 5 {
			t.Errorf("queries: %d for one account, %d for %d accounts; want the same, at most 5", one, many, len(ids))
		}
		if len(facts) != len(ids) {
			t.Fatalf("got %d facts for %d ids", len(facts), len(ids))
		}
		for i, f := range facts {
			want := RelationshipFacts{ID: ids[i]}
			switch i % 4 {
			case 0:
				if i%3 == 0 {
					want.Requested, want.ShowingReblogs = true, true
				} else {
					want.Following, want.ShowingReblogs = true, true
				}
			case 1:
				want.FollowedBy = true // me is not locked
			case 2:
				want.BlockedBy = true
			case 3:
				want.Muting, want.MutingNotifications = true, true
			}
			if f != want {
				t.Errorf("facts[%d] = %+v, want %+v", i, f, want)
			}
		}
	})
}

func TestConcurrentFollowsCountOnce(t *testing.T) {
	t.Parallel()
	relEach(t, func(t *testing.T, s *Service, db *gorm.DB) {
		ctx := context.Background()
		target := storeAccount(t, s, "target")
		fan := storeAccount(t, s, "fan")
		var fans []*Account
		for i := range 6 {
			fans = append(fans, storeAccount(t, s, fmt.Sprintf("fan%d", i)))
		}
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for range 6 {
			wg.Add(1)
			go func() { defer wg.Done(); errs <- s.Follow(ctx, fan, target.ID, FollowOptions{}) }()
		}
		for _, f := range fans {
			wg.Add(1)
			go func() { defer wg.Done(); errs <- s.Follow(ctx, f, target.ID, FollowOptions{}) }()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("concurrent follow: %v", err)
			}
		}
		if followers, _ := relCounts(t, s, target.ID); followers != 7 {
			t.Errorf("followers_count = %d, want 7", followers)
		}
		if _, following := relCounts(t, s, fan.ID); following != 1 {
			t.Errorf("fan following_count = %d, want 1", following)
		}
		var rows int64
		db.Model(&Follow{}).Where("target_account_id = ?", target.ID).Count(&rows)
		var notes int64
		db.Model(&Notification{}).Where("account_id = ? AND type = ?", target.ID, NotifyFollow).Count(&notes)
		if rows != 7 || notes != 7 {
			t.Errorf("%d follows and %d notifications, want 7 of each", rows, notes)
		}

		// Blocking ends the follows both ways and keeps the counters right.
		if err := s.Follow(ctx, target, fan.ID, FollowOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := s.Block(ctx, target, fan.ID); err != nil {
			t.Fatal(err)
		}
		if followers, following := relCounts(t, s, target.ID); followers != 6 || following != 0 {
			t.Errorf("target after block: %d followers, %d following; want 6, 0", followers, following)
		}
		if followers, following := relCounts(t, s, fan.ID); followers != 0 || following != 0 {
			t.Errorf("fan after block: %d followers, %d following; want 0, 0", followers, following)
		}
		db.Model(&Notification{}).Where("account_id = ? AND from_account_id = ?", target.ID, fan.ID).Count(&notes)
		if notes != 0 {
			t.Errorf("the ended follow's notification is still there")
		}
		if err := s.Follow(ctx, fan, target.ID, FollowOptions{}); KindOf(err) != KindForbidden {
			t.Errorf("follow after being blocked: %v, want forbidden", err)
		}
	})
}

// TestFollowRemoteAccountWaitsForAcceptance: a follow of an account on another server
// stays a request until that server answers, whatever its locked flag says.
func TestFollowRemoteAccountWaitsForAcceptance(t *testing.T) {
	t.Parallel()
	relEach(t, func(t *testing.T, s *Service, db *gorm.DB) {
		ctx := context.Background()
		var events []Event
		var mu sync.Mutex
		s.events = &Bus{}
		s.events.Subscribe(func(_ context.Context, e Event) { mu.Lock(); events = append(events, e); mu.Unlock() })
		me := storeAccount(t, s, "me")
		remote := storeAccount(t, s, "far", remoteAt("other.example"))
		if err := s.Follow(ctx, me, remote.ID, FollowOptions{}); err != nil {
			t.Fatal(err)
		}
		r, err := s.Relationship(ctx, me.ID, remote.ID)
		if err != nil || !r.Requested || r.Following {
			t.Fatalf("relationship = %+v, %v; want requested", r, err)
		}
		if len(events) != 1 {
			t.Fatalf("events = %v", events)
		}
		if f, ok := events[0].(Followed); !ok || !f.Pending || f.Follow.TargetAccountID != remote.ID {
			t.Errorf("event = %#v, want a pending Followed", events[0])
		}
		// The remote server accepts: federation authorizes on the remote account's behalf.
		if err := s.AuthorizeFollowRequest(ctx, remote, me.ID); err != nil {
			t.Fatal(err)
		}
		if r, _ := s.Relationship(ctx, me.ID, remote.ID); !r.Following || r.Requested {
			t.Errorf("after acceptance: %+v", r)
		}
		if _, following := relCounts(t, s, me.ID); following != 1 {
			t.Errorf("following_count = %d", following)
		}
		// A remote account may follow a local one directly.
		if err := s.Follow(ctx, remote, me.ID, FollowOptions{}); err != nil {
			t.Fatal(err)
		}
		if r, _ := s.Relationship(ctx, me.ID, remote.ID); !r.FollowedBy {
			t.Errorf("remote follower not recorded: %+v", r)
		}
		other := storeAccount(t, s, "faraway", remoteAt("third.example"))
		if err := s.Follow(ctx, remote, other.ID, FollowOptions{}); KindOf(err) != KindInvalid {
			t.Errorf("follow between two remote accounts: %v, want invalid", err)
		}
	})
}
