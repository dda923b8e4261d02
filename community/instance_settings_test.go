package community

import (
	"slices"
	"strings"
	"testing"

	"gorm.io/gorm"
)

// TestInstanceSettings: the configured settings apply until an admin saves others;
// only admins save them, within the limits; each save is in the audit log, and the
// default scope of new posts follows.
func TestInstanceSettings(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := NewService(db, Options{Host: "tacit.test", BaseURL: "https://tacit.test", DefaultScope: ScopeCompany,
			InstanceName: "Research", InstanceDescription: "Where ideas start.", InstanceRules: []string{"Be kind."}})
		create := func(name string, role Role) *Account {
			t.Helper()
			a, _, err := s.CreateLocalAccount(ctx, NewLocalAccount{Username: name, Password: "a long enough passphrase",
				Email: name + "@example.com", Role: role})
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		admin, mod, alice := create("admin", RoleAdmin), create("mod", RoleModerator), create("alice", RoleUser)
		aliceUser, err := s.UserByAccountID(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}

		got, err := s.Settings(ctx)
		if err != nil || got.Name != "Research" || got.Description != "Where ideas start." ||
			!slices.Equal(got.Rules, []string{"Be kind."}) || got.DefaultScope != ScopeCompany {
			t.Fatalf("configured settings: %+v %v", got, err)
		}

		want := InstanceSettings{Name: " Research lab ", Description: "Ideas.", DefaultScope: ScopeDepartment,
			Rules: []string{" Be kind. ", "", "No customer data in world posts."}}
		for _, actor := range []*Account{mod, alice, nil} {
			if _, err := s.UpdateSettings(ctx, actor, want); KindOf(err) != KindForbidden {
				t.Errorf("UpdateSettings by %v: %v, want forbidden", actor, err)
			}
		}
		tooMany := make([]string, MaxInstanceRules+1)
		for i := range tooMany {
			tooMany[i] = "A rule."
		}
		for name, bad := range map[string]InstanceSettings{
			"empty name":       {Name: "  ", DefaultScope: ScopeWorld},
			"long name":        {Name: strings.Repeat("n", MaxInstanceNameLength+1), DefaultScope: ScopeWorld},
			"long description": {Name: "R", Description: strings.Repeat("d", MaxInstanceDescriptionLength+1), DefaultScope: ScopeWorld},
			"long rule":        {Name: "R", Rules: []string{strings.Repeat("r", MaxInstanceRuleLength+1)}, DefaultScope: ScopeWorld},
			"too many rules":   {Name: "R", Rules: tooMany, DefaultScope: ScopeWorld},
			"unknown scope":    {Name: "R", DefaultScope: "galaxy"},
		} {
			if _, err := s.UpdateSettings(ctx, admin, bad); KindOf(err) != KindInvalid {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
		if got, _ := s.Settings(ctx); got.Name != "Research" {
			t.Errorf("refused saves changed the settings: %+v", got)
		}

		saved, err := s.UpdateSettings(ctx, admin, want)
		if err != nil {
			t.Fatal(err)
		}
		if saved.Name != "Research lab" || saved.Description != "Ideas." || saved.DefaultScope != ScopeDepartment ||
			!slices.Equal(saved.Rules, []string{"Be kind.", "No customer data in world posts."}) {
			t.Errorf("saved settings: %+v", saved)
		}
		if got, err := s.Settings(ctx); err != nil || got.Name != "Research lab" || len(got.Rules) != 2 {
			t.Errorf("settings after the save: %+v %v", got, err)
		}
		if sc := s.DefaultScope(); sc != ScopeDepartment {
			t.Errorf("DefaultScope after the save: %s", sc)
		}
		st, err := s.CreateStatus(ctx, alice, aliceUser, NewStatus{Text: "hello"})
		if err != nil || st.Scope != ScopeDepartment {
			t.Errorf("a post without a scope: %v %v", st, err)
		}

		// Another service over the same database (another process) reads the saved row.
		other := NewService(db, Options{Host: "tacit.test", BaseURL: "https://tacit.test", InstanceName: "Research"})
		if got, err := other.Settings(ctx); err != nil || got.Name != "Research lab" {
			t.Errorf("another service's settings: %+v %v", got, err)
		}

		log, err := s.ModerationLog(ctx, admin, ModerationLogQuery{Action: ActionUpdateSettings})
		if err != nil || len(log) != 1 || log[0].ActorAccountID == nil || *log[0].ActorAccountID != admin.ID ||
			!strings.Contains(log[0].Detail, "Research lab") {
			t.Errorf("audit log: %+v %v", log, err)
		}
	})
}
