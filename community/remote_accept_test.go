package community

import (
	"context"
	"fmt"
	"testing"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/store/storetest"
)

// TestAcceptActivitiesManyChunks: a batch longer than one INSERT (chunks of 256, 32,
// 8 …) still reports each id new exactly once, at its first mention, also when the
// repeat falls in a later chunk or the id was recorded before.
func TestAcceptActivitiesManyChunks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		s := salesService(db)
		old := "https://hq.example/activities/old"
		if fresh, err := s.AcceptActivity(ctx, old, func(*gorm.DB) error { return nil }); err != nil || !fresh {
			t.Fatalf("first delivery: %v, %v", fresh, err)
		}
		var uris []string
		var want []bool
		for i := range 300 {
			uris = append(uris, fmt.Sprintf("https://hq.example/activities/%d", i))
			want = append(want, true)
		}
		// Repeats of ids from the first chunk, in the later ones, and an old id.
		uris = append(uris, uris[0], old, uris[255], uris[299])
		want = append(want, false, false, false, false)
		fresh, err := s.AcceptActivities(ctx, uris, func(_ *gorm.DB, fresh []bool) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if fresh[i] != want[i] {
				t.Errorf("activity %d (%s): fresh %v, want %v", i, uris[i], fresh[i], want[i])
			}
		}
		var n int64
		if err := db.Model(&ReceivedActivity{}).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != 301 {
			t.Errorf("%d activity ids recorded, want 301", n)
		}
	})
}
