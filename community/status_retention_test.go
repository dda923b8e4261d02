package community

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
)

// retentionWorld is an instance whose clock a test moves, with posts of every scope and
// visibility written at several ages by alice and by bob, whose account is held.
type retentionWorld struct {
	s          *Service
	now        *time.Time
	alice, bob *Account
	deleted    func() []int64
	// posts by "author scope visibility age", e.g. "alice department direct 800".
	posts map[string]int64
}

func newRetentionWorld(t *testing.T, db *gorm.DB) *retentionWorld {
	t.Helper()
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	now := start
	var mu sync.Mutex
	var deleted []int64
	bus := &Bus{}
	bus.Subscribe(func(_ context.Context, e Event) {
		if d, ok := e.(StatusDeleted); ok {
			mu.Lock()
			deleted = append(deleted, d.Status.ID)
			mu.Unlock()
		}
	})
	s := NewService(db, Options{Host: "sales.example", BaseURL: "https://sales.example",
		DefaultScope: ScopeCompany, Events: bus, Now: func() time.Time { return now }})
	w := &retentionWorld{s: s, now: &now, posts: map[string]int64{},
		alice: storeAccount(t, s, "alice"), bob: storeAccount(t, s, "bob"),
		deleted: func() []int64 {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(deleted)
		}}
	for _, age := range []int{800, 400, 10} {
		now = start.Add(-time.Duration(age) * 24 * time.Hour)
		for _, author := range []*Account{w.alice, w.bob} {
			for _, sc := range []Scope{ScopeWorld, ScopeCompany, ScopeDepartment} {
				for _, vis := range []Visibility{VisibilityPublic, VisibilityUnlisted, VisibilityPrivate, VisibilityDirect} {
					key := fmt.Sprintf("%s %s %s %d", author.Username, sc, vis, age)
					w.posts[key] = tlPost(t, s, author, key, vis, sc, nil).ID
				}
			}
		}
	}
	now = start
	return w
}

// TestRetention: a pass deletes exactly the local posts older than a matching rule,
// through the domain's deletion (one StatusDeleted each), and spares held accounts,
// other instances' posts, boosts and ideas; the plan counts what the passes delete.
func TestRetention(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		w := newRetentionWorld(t, db)
		s := w.s
		admin := storeAccount(t, s, "root")
		if err := s.SetLegalHold(ctx, admin, w.bob.ID, true, "case 42"); err == nil {
			t.Error("an account without the admin role set a legal hold")
		}
		if err := s.SetLegalHold(ctx, nil, w.bob.ID, true, "case 42"); err != nil {
			t.Fatalf("hold bob: %v", err)
		}
		// What no rule deletes, however old: another instance's post, a boost, an idea.
		*w.now = w.now.Add(-1000 * 24 * time.Hour)
		remote := storeAccount(t, s, "zed", remoteAt("hq.example"))
		remotePost := tlRemotePost(t, s, remote, "remote", ScopeCompany)
		boost, err := s.Reblog(ctx, w.alice, remotePost.ID, VisibilityPublic)
		if err != nil {
			t.Fatalf("boost: %v", err)
		}
		board := storeAccount(t, s, "ideas")
		idea := tlPost(t, s, w.alice, "an idea", VisibilityDirect, ScopeDepartment, nil)
		if err := db.Create(&Idea{StatusID: idea.ID, BoardAccountID: board.ID, Title: "t",
			CreatedAt: *w.now, UpdatedAt: *w.now}).Error; err != nil {
			t.Fatal(err)
		}
		*w.now = w.now.Add(1000 * 24 * time.Hour)
		if plan, err := s.RetentionPlanNow(ctx, []RetentionRule{{OlderThan: 900 * 24 * time.Hour}}); err != nil || plan.Total != 0 {
			t.Errorf("plan for posts older than 900 days = %+v, %v; want none (only a remote post, a boost and an idea are)", plan, err)
		}

		rules := []RetentionRule{
			{Scope: ScopeDepartment, OlderThan: 730 * 24 * time.Hour},
			{Visibility: VisibilityDirect, OlderThan: 365 * 24 * time.Hour},
		}
		var want []int64
		for key, id := range w.posts {
			var author, sc, vis string
			var age int
			fmt.Sscanf(key, "%s %s %s %d", &author, &sc, &vis, &age)
			if author == "alice" && ((sc == "department" && age > 730) || (vis == "direct" && age > 365)) {
				want = append(want, id)
			}
		}
		slices.Sort(want)
		plan, err := s.RetentionPlanNow(ctx, rules)
		if err != nil {
			t.Fatal(err)
		}
		if plan.Total != int64(len(want)) || len(want) != 9 || plan.Rules[0].Posts != 4 || plan.Rules[1].Posts != 6 {
			t.Errorf("plan = %+v, want 4 and 6 posts, 9 in all (expected set has %d)", plan, len(want))
		}
		first, err := s.ApplyRetention(ctx, rules, 5)
		if err != nil || first.Deleted != 5 || first.Remaining != 4 {
			t.Errorf("first pass = %+v, %v; want 5 deleted, 4 remaining", first, err)
		}
		second, err := s.ApplyRetention(ctx, rules, 5)
		if err != nil || second.Deleted != 4 || second.Remaining != 0 {
			t.Errorf("second pass = %+v, %v; want 4 deleted, none remaining", second, err)
		}
		got := w.deleted()
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("deleted %v, want %v", got, want)
		}
		var left []int64
		if err := db.Model(&Status{}).Order("id").Pluck("id", &left).Error; err != nil {
			t.Fatal(err)
		}
		for _, id := range want {
			if slices.Contains(left, id) {
				t.Errorf("status %d still stored", id)
			}
		}
		for _, id := range []int64{remotePost.ID, boost.ID, idea.ID, w.posts["bob department direct 800"]} {
			if !slices.Contains(left, id) {
				t.Errorf("status %d was deleted; it is not the rules' to delete", id)
			}
		}
		if want, got := 36+3+(36-len(want)), len(left); got != want {
			t.Errorf("%d statuses left, want %d", got, want)
		}

		// Released, bob's posts are the rules' again, and the log shows both decisions.
		if err := s.SetLegalHold(ctx, nil, w.bob.ID, false, ""); err != nil {
			t.Fatal(err)
		}
		plan, err = s.RetentionPlanNow(ctx, rules)
		if err != nil || plan.Total != 9 {
			t.Errorf("plan after release = %+v, %v; want bob's 9", plan, err)
		}
		var actions []string
		if err := db.Model(&ModerationLogEntry{}).Where("target_uri = ? OR object_uri = ?", w.bob.URI, w.bob.URI).
			Order("id").Pluck("action", &actions).Error; err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(actions, []string{ActionLegalHold, ActionLegalHoldRelease}) {
			t.Errorf("moderation log = %v, want hold then release", actions)
		}
	})
}

func TestRetentionRefusesBadRules(t *testing.T) {
	s := testService(nil)
	for _, r := range []RetentionRule{{OlderThan: 0}, {Scope: "team", OlderThan: time.Hour}, {Visibility: "secret", OlderThan: time.Hour}} {
		if _, err := s.RetentionPlanNow(context.Background(), []RetentionRule{r}); KindOf(err) != KindInvalid {
			t.Errorf("rule %+v: err = %v, want invalid", r, err)
		}
	}
}
