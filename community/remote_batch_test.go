package community

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/store/storetest"
)

// TestReceiveStatusesBatch: a batch is stored as the statuses one by one would be,
// and one status that cannot be stored does not keep the others out.
func TestReceiveStatusesBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		s := salesService(db)
		bob := storeAccount(t, s, "bob", remoteAt("hq.example"), received())
		carol := storeAccount(t, s, "carol", remoteAt("hq.example"), received())
		taken, err := s.ReceiveStatus(ctx, RemoteStatus{URI: "https://hq.example/users/carol/statuses/mine", AuthorID: carol.ID,
			ContentHTML: "<p>Carol's</p>", Visibility: VisibilityPublic, Scope: ScopeCompany})
		if err != nil {
			t.Fatal(err)
		}
		post := func(uri, text string) RemoteStatus {
			return RemoteStatus{URI: uri, AuthorID: bob.ID, ContentHTML: "<p>" + text + "</p>",
				Visibility: VisibilityPublic, Scope: ScopeCompany, Tags: []string{"batch"}}
		}
		ins := []RemoteStatus{
			post("https://hq.example/users/bob/statuses/1", "one"),
			// Fails inside the transaction (another account's status): the batch is
			// rolled back and stored again one status at a time.
			post(taken.URI, "not bob's"),
			post("https://hq.example/users/bob/statuses/2", "two"),
			// Fails before the transaction (its id is on another server).
			post("https://elsewhere.example/users/bob/statuses/3", "three"),
			// The same post twice: stored once.
			post("https://hq.example/users/bob/statuses/4", "four"),
			post("https://hq.example/users/bob/statuses/4", "four"),
		}
		outs, errs := s.ReceiveStatuses(ctx, ins)
		for i, wantErr := range []bool{false, true, false, true, false, false} {
			if (errs[i] != nil) != wantErr {
				t.Errorf("status %d: err %v, want an error: %v", i, errs[i], wantErr)
			}
			if (outs[i] != nil) == wantErr {
				t.Errorf("status %d: result %v with err %v", i, outs[i], errs[i])
			}
		}
		if KindOf(errs[1]) != KindForbidden {
			t.Errorf("another account's status: %v, want forbidden", errs[1])
		}
		if outs[4] != nil && outs[5] != nil && outs[4].ID != outs[5].ID {
			t.Errorf("the same post twice became two statuses: %d and %d", outs[4].ID, outs[5].ID)
		}
		var n int64
		db.Model(&Status{}).Where("account_id = ?", bob.ID).Count(&n)
		if n != 3 {
			t.Errorf("bob has %d statuses, want 3", n)
		}
		if st, _ := s.statusByURI(ctx, taken.URI); st == nil || st.AccountID != carol.ID || st.Content != taken.Content {
			t.Errorf("carol's status was changed: %+v", st)
		}
		var counted Account
		db.Take(&counted, bob.ID)
		if counted.StatusesCount != 3 {
			t.Errorf("statuses_count = %d, want 3", counted.StatusesCount)
		}

		// All good: one transaction, every status stored.
		outs, errs = s.ReceiveStatuses(ctx, []RemoteStatus{post("https://hq.example/users/bob/statuses/5", "five"),
			post("https://hq.example/users/bob/statuses/6", "six")})
		for i := range outs {
			if errs[i] != nil || outs[i] == nil {
				t.Errorf("status %d of a good batch: %v", i, errs[i])
			}
		}
	})
}

// TestAcceptActivitiesDropReplays: in a batch, an id already received, or given
// twice, is new only once, and only new ones are kept.
func TestAcceptActivitiesDropReplays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		s := salesService(db)
		old := "https://hq.example/activities/old"
		if fresh, err := s.AcceptActivity(ctx, old, func(*gorm.DB) error { return nil }); err != nil || !fresh {
			t.Fatalf("first delivery: %v, %v", fresh, err)
		}
		a, b := "https://hq.example/activities/a", "https://hq.example/activities/b"
		var kept []bool
		fresh, err := s.AcceptActivities(ctx, []string{a, old, b, a}, func(_ *gorm.DB, fresh []bool) error {
			kept = append([]bool(nil), fresh...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []bool{true, false, true, false}
		for i := range want {
			if fresh[i] != want[i] || kept[i] != want[i] {
				t.Errorf("activity %d: fresh %v, kept %v, want %v", i, fresh[i], kept[i], want[i])
			}
		}
	})
}
