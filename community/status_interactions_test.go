package community

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"gorm.io/gorm"
)

// runConcurrently runs fn n times at once and returns the errors.
func runConcurrently(n int, fn func(i int) error) []error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	return errs
}

func TestConcurrentInteractionsCountOnce(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		s := testService(db)
		ctx := context.Background()
		author, fan := storeAccount(t, s, "author"), storeAccount(t, s, "fan")
		st, err := s.CreateStatus(ctx, author, nil, NewStatus{Text: "like me"})
		if err != nil {
			t.Fatal(err)
		}
		reblogIDs := make([]int64, 6)
		errs := runConcurrently(6, func(i int) error {
			if i%2 == 0 {
				_, err := s.Favourite(ctx, fan, st.ID)
				return err
			}
			rb, err := s.Reblog(ctx, fan, st.ID, "")
			if err == nil {
				reblogIDs[i] = rb.ID
			}
			return err
		})
		for _, err := range errs {
			if err != nil {
				t.Fatalf("interaction: %v", err)
			}
		}
		got, _ := s.loadStatusRow(s.db, st.ID)
		if got.FavouritesCount != 1 || got.ReblogsCount != 1 {
			t.Errorf("favourites_count=%d reblogs_count=%d, want 1 and 1", got.FavouritesCount, got.ReblogsCount)
		}
		for i := 1; i < 6; i += 2 {
			if reblogIDs[i] != reblogIDs[1] {
				t.Errorf("reblogging twice returned different reblogs: %v", reblogIDs)
			}
		}
		fanNow, _ := s.accountByID(ctx, fan.ID)
		if fanNow.StatusesCount != 1 {
			t.Errorf("fan statuses_count = %d, want 1 (one reblog)", fanNow.StatusesCount)
		}
		var notes []Notification
		s.db.Where("account_id = ?", author.ID).Order("type").Find(&notes)
		if len(notes) != 2 || notes[0].Type != NotifyFavourite || notes[1].Type != NotifyReblog {
			t.Errorf("author notifications = %+v, want one favourite and one reblog", notes)
		}

		// Undoing twice, at once, also counts once.
		errs = runConcurrently(4, func(i int) error {
			var err error
			if i%2 == 0 {
				_, err = s.Unfavourite(ctx, fan, st.ID)
			} else {
				_, err = s.Unreblog(ctx, fan, st.ID)
			}
			return err
		})
		for _, err := range errs {
			if err != nil {
				t.Fatalf("undo: %v", err)
			}
		}
		got, _ = s.loadStatusRow(s.db, st.ID)
		fanNow, _ = s.accountByID(ctx, fan.ID)
		if got.FavouritesCount != 0 || got.ReblogsCount != 0 || fanNow.StatusesCount != 0 {
			t.Errorf("after undo: favourites=%d reblogs=%d fan statuses=%d, want 0 0 0",
				got.FavouritesCount, got.ReblogsCount, fanNow.StatusesCount)
		}
		var left int64
		s.db.Model(&Notification{}).Where("account_id = ?", author.ID).Count(&left)
		if left != 0 {
			t.Errorf("%d notifications left after the like and the reblog were taken back, want 0", left)
		}
	})
}

func TestPinLimitUnderConcurrency(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		s := testService(db)
		ctx := context.Background()
		a := storeAccount(t, s, "pinner")
		const n = MaxPinnedStatuses + 3
		ids := make([]int64, n)
		for i := range n {
			st, err := s.CreateStatus(ctx, a, nil, NewStatus{Text: fmt.Sprintf("post %d", i)})
			if err != nil {
				t.Fatal(err)
			}
			ids[i] = st.ID
		}
		errs := runConcurrently(n, func(i int) error {
			_, err := s.Pin(ctx, a, ids[i])
			return err
		})
		refused := 0
		for _, err := range errs {
			switch {
			case err == nil:
			case KindOf(err) == KindInvalid:
				refused++
			default:
				t.Fatalf("pin: %v", err)
			}
		}
		var pinned int64
		s.db.Model(&StatusPin{}).Where("account_id = ?", a.ID).Count(&pinned)
		if pinned != MaxPinnedStatuses || refused != n-MaxPinnedStatuses {
			t.Errorf("pinned %d, refused %d; want %d and %d", pinned, refused, MaxPinnedStatuses, n-MaxPinnedStatuses)
		}
	})
}

func TestDeleteStatusWithReblogsAndReplies(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		s := testService(db)
		ctx := context.Background()
		var events []Event
		var mu sync.Mutex
		s.events = &Bus{}
		s.events.Subscribe(func(_ context.Context, e Event) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, e)
		})
		author, r1, r2 := storeAccount(t, s, "author"), storeAccount(t, s, "r1"), storeAccount(t, s, "r2")
		parent, err := s.CreateStatus(ctx, r1, nil, NewStatus{Text: "parent"})
		if err != nil {
			t.Fatal(err)
		}
		st, err := s.CreateStatus(ctx, author, nil, NewStatus{Text: "doomed #tag @r1", InReplyToID: &parent.ID})
		if err != nil {
			t.Fatal(err)
		}
		reply, err := s.CreateStatus(ctx, r2, nil, NewStatus{Text: "orphan", InReplyToID: &st.ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []*Account{r1, r2} {
			if _, err := s.Reblog(ctx, a, st.ID, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Favourite(ctx, a, st.ID); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.DeleteStatus(ctx, r1, st.ID); KindOf(err) != KindNotFound {
			t.Fatalf("delete by someone else: err = %v, want not found", err)
		}
		mu.Lock()
		events = nil
		mu.Unlock()
		deleted, err := s.DeleteStatus(ctx, author, st.ID)
		if err != nil {
			t.Fatal(err)
		}
		if deleted.Text != "doomed #tag @r1" {
			t.Errorf("deleted text = %q", deleted.Text)
		}
		for _, a := range []*Account{author, r1, r2} {
			got, _ := s.accountByID(ctx, a.ID)
			want := int64(1) // r1: parent; r2: the reply; author: nothing left, not even the reblogs
			if a == author {
				want = 0
			}
			if got.StatusesCount != want {
				t.Errorf("%s statuses_count = %d, want %d", a.Username, got.StatusesCount, want)
			}
		}
		p, _ := s.loadStatusRow(s.db, parent.ID)
		if p.RepliesCount != 0 {
			t.Errorf("parent replies_count = %d, want 0", p.RepliesCount)
		}
		orphan, err := s.loadStatusRow(s.db, reply.ID)
		if err != nil || orphan.InReplyToID != nil {
			t.Errorf("reply to the deleted status: %v %+v, want kept with no parent", err, orphan)
		}
		for _, table := range []any{&Status{}, &Favourite{}, &Mention{}, &StatusTag{}, &Notification{}} {
			var n int64
			q := s.db.Model(table)
			switch table.(type) {
			case *Status:
				q = q.Where("id = ? OR reblog_of_id = ?", st.ID, st.ID)
			case *Notification:
				q = q.Where("status_id = ? OR type = ?", st.ID, NotifyReblog)
			default:
				q = q.Where("status_id = ?", st.ID)
			}
			if err := q.Count(&n).Error; err != nil || n != 0 {
				t.Errorf("%T rows left for the deleted status: %d (%v)", table, n, err)
			}
		}
		mu.Lock()
		deletes := 0
		for _, e := range events {
			if _, ok := e.(StatusDeleted); ok {
				deletes++
			}
		}
		mu.Unlock()
		if deletes != 3 {
			t.Errorf("StatusDeleted events = %d, want 3 (the status and its two reblogs)", deletes)
		}
	})
}
