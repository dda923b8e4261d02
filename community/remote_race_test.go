package community

import (
	"context"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/store/storetest"
)

// TestReceiveSameStatusConcurrently stores one remote post from several goroutines at
// once, as when it is delivered while a search resolves it: every call succeeds and one
// row results. On PostgreSQL the racing inserts used to fail on the unique key.
func TestReceiveSameStatusConcurrently(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := salesService(db)
		author := storeAccount(t, s, "pat", remoteAt("hq.example"))
		in := RemoteStatus{
			URI: author.URI + "/statuses/1", AuthorID: author.ID, ContentHTML: "<p>Same post</p>",
			Visibility: VisibilityPublic, Scope: ScopeCompany, Published: time.Now().Add(-time.Minute),
		}
		const racers = 8
		var wg sync.WaitGroup
		errs := make(chan error, racers)
		start := make(chan struct{})
		for range racers {
			wg.Go(func() {
				<-start
				if _, err := s.ReceiveStatus(context.Background(), in); err != nil {
					errs <- err
				}
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("receive: %v", err)
		}
		var n int64
		if err := db.Model(&Status{}).Where("uri = ?", in.URI).Count(&n).Error; err != nil || n != 1 {
			t.Errorf("%d rows for the post (%v), want 1", n, err)
		}
	})
}
