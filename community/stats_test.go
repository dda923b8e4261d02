package community

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/store/storetest"
)

func TestInstanceStatsAndActivity(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := salesService(db)
		ctx := context.Background()
		now := s.clock()
		user := func(a *Account, role Role, created time.Time, signIn *time.Time, disabled bool) *User {
			t.Helper()
			u := &User{ID: NewID(), AccountID: a.ID, Email: a.Username + "@example.com", PasswordHash: "x", Role: role,
				DefaultVisibility: VisibilityPublic, Disabled: disabled, CreatedAt: created, UpdatedAt: created, LastSignInAt: signIn}
			if err := db.Create(u).Error; err != nil {
				t.Fatal(err)
			}
			return u
		}
		lastWeek := now.AddDate(0, 0, -7)
		longAgo := now.AddDate(-1, 0, 0)
		admin := storeAccount(t, s, "admin")
		user(admin, RoleAdmin, longAgo, &now, false)
		ann := storeAccount(t, s, "ann")
		user(ann, RoleUser, lastWeek, nil, false)
		old := storeAccount(t, s, "old")
		user(old, RoleAdmin, longAgo.Add(-time.Hour), &longAgo, true) // disabled: neither counted nor contact
		pat := storeAccount(t, s, "pat", remoteAt("hq.example"))
		storeAccount(t, s, "sam", remoteAt("hq.example"))
		storeAccount(t, s, "zed", remoteAt("other.example"))

		tlPost(t, s, ann, "one", VisibilityPublic, "", nil) // ann is active through posting
		tlPost(t, s, ann, "two", VisibilityDirect, "", nil)
		tlRemotePost(t, s, pat, "remote", ScopeWorld)

		st, err := s.InstanceStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := InstanceStats{Users: 2, Statuses: 2, Domains: 2, ActiveMonth: 2, ActiveHalfyear: 2}
		if st != want {
			t.Errorf("stats = %+v, want %+v", st, want)
		}

		domains, err := s.KnownDomains(ctx)
		if err != nil || len(domains) != 2 || domains[0] != "hq.example" || domains[1] != "other.example" {
			t.Errorf("known domains = %q, %v", domains, err)
		}

		contact, cu, err := s.ContactAccount(ctx)
		if err != nil || contact == nil || contact.ID != admin.ID || cu.Email != "admin@example.com" {
			t.Errorf("contact = %+v, %+v, %v; want the enabled admin", contact, cu, err)
		}

		weeks, err := s.WeeklyActivity(ctx, 12)
		if err != nil {
			t.Fatal(err)
		}
		storetest.SkipIfCrossed(t, now, storetest.Week)
		if len(weeks) != 12 {
			t.Fatalf("%d weeks, want 12", len(weeks))
		}
		if weeks[0].Week.Weekday() != time.Monday || weeks[0].Week.After(now) || now.Sub(weeks[0].Week) >= 7*24*time.Hour {
			t.Errorf("first week starts %v; want the Monday of this week", weeks[0].Week)
		}
		var statuses, logins, registrations int64
		for i, w := range weeks {
			if i > 0 && !w.Week.Equal(weeks[i-1].Week.AddDate(0, 0, -7)) {
				t.Errorf("week %d starts %v, not a week before %v", i, w.Week, weeks[i-1].Week)
			}
			statuses += w.Statuses
			logins += w.Logins
			registrations += w.Registrations
		}
		if weeks[0].Statuses != 2 || statuses != 2 {
			t.Errorf("statuses by week: %+v; want the 2 local ones this week", weeks)
		}
		if weeks[0].Logins != 1 || logins != 1 {
			t.Errorf("logins by week: %+v; want the admin's, this week", weeks)
		}
		// ann registered seven days ago, which is always in the previous week.
		if registrations != 1 || weeks[1].Registrations != 1 {
			t.Errorf("registrations by week: %+v; want ann's, last week", weeks)
		}
	})
}
