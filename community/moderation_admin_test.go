package community

import (
	"testing"

	"gorm.io/gorm"
)

// TestAdminChangesLogins: only admins change roles and passwords, never their own
// role, and each change is in the audit log without the password.
func TestAdminChangesLogins(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := testService(db)
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

		for _, actor := range []*Account{mod, alice, nil} {
			if err := s.ChangeRole(ctx, actor, alice.ID, RoleAdmin); KindOf(err) != KindForbidden {
				t.Errorf("ChangeRole by %v: %v, want forbidden", actor, err)
			}
			if err := s.ChangePassword(ctx, actor, alice.ID, "another long passphrase"); KindOf(err) != KindForbidden {
				t.Errorf("ChangePassword by %v: %v, want forbidden", actor, err)
			}
		}
		if err := s.ChangeRole(ctx, admin, admin.ID, RoleUser); KindOf(err) != KindForbidden {
			t.Errorf("an admin changing their own role: %v", err)
		}
		if err := s.ChangeRole(ctx, admin, alice.ID, "owner"); KindOf(err) != KindInvalid {
			t.Errorf("an unknown role: %v", err)
		}
		if err := s.ChangeRole(ctx, admin, alice.ID, RoleModerator); err != nil {
			t.Fatal(err)
		}
		if staff, err := s.IsStaff(ctx, alice); err != nil || !staff {
			t.Errorf("alice after becoming moderator: staff %v (%v)", staff, err)
		}
		if err := s.ChangePassword(ctx, admin, alice.ID, "alice"); KindOf(err) != KindInvalid {
			t.Errorf("a weak password: %v", err)
		}
		if err := s.ChangePassword(ctx, admin, alice.ID, "another long passphrase"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Authenticate(ctx, "alice", "another long passphrase"); err != nil {
			t.Errorf("the new password: %v", err)
		}
		log, err := s.ModerationLog(ctx, admin, ModerationLogQuery{ObjectURI: alice.URI})
		if err != nil || len(log) != 2 || log[0].Action != ActionResetPassword || log[1].Action != ActionSetRole ||
			log[1].Detail != string(RoleModerator) || log[0].Detail != "" || *log[0].ActorAccountID != admin.ID {
			t.Errorf("audit log: %+v %v", log, err)
		}
	})
}
