package community

import (
	"context"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/store/storetest"
)

func TestMarkers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := salesService(db)
		ctx := context.Background()
		me := storeAccount(t, s, "me")
		other := storeAccount(t, s, "other")

		got, err := s.GetMarkers(ctx, me.ID, []string{MarkerHome, MarkerNotifications})
		if err != nil || len(got) != 0 {
			t.Fatalf("markers before any save: %v, %v", got, err)
		}
		m, err := s.SaveMarker(ctx, me.ID, MarkerHome, 100)
		if err != nil || m.Version != 0 || m.LastReadID != 100 {
			t.Fatalf("first save: %+v, %v; want version 0", m, err)
		}
		m, err = s.SaveMarker(ctx, me.ID, MarkerHome, 200)
		if err != nil || m.Version != 1 || m.LastReadID != 200 {
			t.Fatalf("second save: %+v, %v; want version 1", m, err)
		}
		if _, err := s.SaveMarker(ctx, other.ID, MarkerHome, 5); err != nil {
			t.Fatal(err)
		}
		got, err = s.GetMarkers(ctx, me.ID, []string{MarkerHome, MarkerNotifications, "public"})
		if err != nil || len(got) != 1 || got[MarkerHome].LastReadID != 200 || got[MarkerHome].Version != 1 {
			t.Fatalf("markers: %+v, %v", got, err)
		}

		// Devices saving at once: no save fails, and each bumps the version once.
		const saves = 8
		var wg sync.WaitGroup
		errs := make(chan error, saves)
		for i := range saves {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.SaveMarker(ctx, me.ID, MarkerNotifications, int64(1000+i))
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("concurrent save: %v", err)
			}
		}
		got, _ = s.GetMarkers(ctx, me.ID, []string{MarkerNotifications})
		if got[MarkerNotifications].Version != saves-1 {
			t.Errorf("version after %d concurrent saves = %d, want %d", saves, got[MarkerNotifications].Version, saves-1)
		}

		for _, bad := range []struct {
			timeline string
			id       int64
		}{{"public", 1}, {"", 1}, {MarkerHome, 0}, {MarkerHome, -3}} {
			if _, err := s.SaveMarker(ctx, me.ID, bad.timeline, bad.id); KindOf(err) != KindInvalid {
				t.Errorf("SaveMarker(%q, %d): err = %v, want invalid", bad.timeline, bad.id, err)
			}
		}
	})
}
