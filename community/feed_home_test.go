package community

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/tacit-social/tacit/store/storetest"
)

// homeIDs pages through reader's whole home timeline, 40 at a time, and returns the
// ids newest first.
func homeIDs(t *testing.T, s *Service, reader *Account, p Page) []int64 {
	t.Helper()
	var ids []int64
	for {
		page, err := s.HomeTimeline(context.Background(), reader, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range page.Statuses {
			ids = append(ids, st.ID)
		}
		if len(page.Statuses) < p.Limit {
			return ids
		}
		p.MaxID = page.OldestID
	}
}

// TestHomeFeed: a home timeline read through the reader's feed in memory holds what
// the home query holds, whatever happened since the feed was built: statuses that
// arrive with ids of the past (from peers), follows made since, more statuses than a
// feed keeps, and since_id polling.
func TestHomeFeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := salesService(db)
		reader := storeAccount(t, s, "reader")
		author := storeAccount(t, s, "author")
		later := storeAccount(t, s, "later")
		stranger := storeAccount(t, s, "stranger")
		tlFollow(t, s, reader, author, true)

		first := tlPost(t, s, author, "first", VisibilityPublic, ScopeCompany, nil)
		tlPost(t, s, stranger, "not followed", VisibilityPublic, ScopeCompany, nil)
		if got := homeIDs(t, s, reader, Page{Limit: 40}); len(got) != 1 || got[0] != first.ID {
			t.Fatalf("home = %v, want the followed author's status", got)
		}

		// A status from the past, as a peer's delivery stores it after a delay.
		old := Status{ID: IDAt(s.clock().Add(-48 * time.Hour)), AccountID: author.ID, Text: "delivered late",
			Visibility: VisibilityPublic, Scope: ScopeCompany, Local: false,
			CreatedAt: s.clock().Add(-48 * time.Hour), UpdatedAt: s.clock()}
		if err := db.Create(&old).Error; err != nil {
			t.Fatal(err)
		}
		if got := homeIDs(t, s, reader, Page{Limit: 40}); len(got) != 2 || got[1] != old.ID {
			t.Errorf("home after a late delivery = %v, want it to hold %d", got, old.ID)
		}

		// A follow made since the feed was built brings that account's past statuses.
		past := tlPost(t, s, later, "written before the follow", VisibilityPublic, ScopeCompany, nil)
		homeIDs(t, s, reader, Page{Limit: 40})
		tlFollow(t, s, reader, later, true)
		got := homeIDs(t, s, reader, Page{Limit: 40})
		if len(got) != 3 || got[0] != past.ID {
			t.Errorf("home after a follow = %v, want %d first", got, past.ID)
		}

		// since_id polling sees only what is new.
		newest := got[0]
		if got := homeIDs(t, s, reader, Page{Limit: 40, SinceID: newest}); len(got) != 0 {
			t.Errorf("since_id of the newest: %v", got)
		}
		fresh := tlPost(t, s, author, "fresh", VisibilityPublic, ScopeCompany, nil)
		if got := homeIDs(t, s, reader, Page{Limit: 40, SinceID: newest}); len(got) != 1 || got[0] != fresh.ID {
			t.Errorf("since_id after a post: %v, want [%d]", got, fresh.ID)
		}

		// More statuses than a feed keeps: paging goes on below the feed's floor.
		now := s.clock()
		many := make([]Status, homeFeedSize+60)
		for i := range many {
			at := now.Add(-time.Duration(i+1) * time.Minute)
			many[i] = Status{ID: IDAt(at) + 7, AccountID: author.ID, Text: "many", Visibility: VisibilityPublic,
				Scope: ScopeCompany, Local: true, CreatedAt: at, UpdatedAt: at}
		}
		if err := db.Session(&gorm.Session{Logger: logger.Discard}).CreateInBatches(many, 200).Error; err != nil {
			t.Fatal(err)
		}
		s.feeds.mu.Lock()
		clear(s.feeds.feeds) // built afresh, with more candidates than it keeps
		s.feeds.order.Init()
		s.feeds.mu.Unlock()
		all := homeIDs(t, s, reader, Page{Limit: 40})
		if want := 4 + len(many); len(all) != want {
			t.Errorf("paging through the home timeline gave %d statuses, want %d", len(all), want)
		}
		for i := 1; i < len(all); i++ {
			if all[i] >= all[i-1] {
				t.Fatalf("home not newest first at %d: %d after %d", i, all[i], all[i-1])
			}
		}
	})
}
