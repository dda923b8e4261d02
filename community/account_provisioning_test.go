package community

import (
	"slices"
	"testing"

	"gorm.io/gorm"
)

func TestProvisionedUsername(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"alice", "alice"},
		{"Alice.Martin@corp.example", "alice_martin"},
		{"Zoë.Müller-Lüdenscheidt@corp.example", "zoe_muller_ludenscheidt"},
		{"first@sub@corp.example", "first_sub"},
		{"  bob_smith  ", "bob_smith"},
		{"__x..y__@corp", "x_y"},
		{"a.very.long.name.that.goes.on.and.on@corp.example", "a_very_long_name_that_goes_on"},
		{"+++@corp.example", ""},
		{"@corp.example", "corp_example"},
		{"李小龙@corp.example", ""},
	} {
		if got := ProvisionedUsername(c.in); got != c.want {
			t.Errorf("ProvisionedUsername(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := ProvisionedUsername(c.in); got != "" && ValidateUsername(got) != nil {
			t.Errorf("ProvisionedUsername(%q) = %q, not a valid username", c.in, got)
		}
	}
}

// TestProvisioningRespectsModerators: the provider's re-activation lifts only the
// suspension its deactivation applied; one a moderator decided stays. Every change
// is in the audit log under the provider's name.
func TestProvisioningRespectsModerators(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := testService(db)
		mod, _, err := s.CreateLocalAccount(ctx, NewLocalAccount{Username: "mod", Password: "a long enough passphrase", Role: RoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		p := s.Provisioning(ProvisioningOptions{})
		in := UserProvision{UserName: "erin@corp.example", GivenName: "Erin", FamilyName: "Walsh", Email: "erin@corp.example", Active: true}
		erin, err := p.CreateUser(ctx, "scim:test", in)
		if err != nil {
			t.Fatal(err)
		}
		if erin.Account.Username != "erin" || erin.Account.DisplayName != "Erin Walsh" {
			t.Fatalf("created: %+v", erin.Account)
		}
		suspended := func() bool {
			t.Helper()
			ok, err := s.IsSuspended(ctx, erin.AccountID)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if _, err := s.ActOnAccount(ctx, mod, erin.AccountID, AccountAction{Type: AccountActionSuspend, Text: "spam"}); err != nil {
			t.Fatal(err)
		}
		in.Active = false
		if _, err := p.ReplaceUser(ctx, "scim:test", erin.AccountID, in); err != nil {
			t.Fatal(err)
		}
		in.Active = true
		if _, err := p.ReplaceUser(ctx, "scim:test", erin.AccountID, in); err != nil {
			t.Fatal(err)
		}
		if !suspended() {
			t.Fatal("the provider's re-activation lifted a moderator's suspension")
		}
		if _, err := s.ActOnAccount(ctx, mod, erin.AccountID, AccountAction{Type: AccountActionUnsuspend}); err != nil {
			t.Fatal(err)
		}
		in.Active = false
		if _, err := p.ReplaceUser(ctx, "scim:test", erin.AccountID, in); err != nil {
			t.Fatal(err)
		}
		if !suspended() {
			t.Fatal("deactivation did not suspend")
		}
		in.Active = true
		if _, err := p.ReplaceUser(ctx, "scim:test", erin.AccountID, in); err != nil {
			t.Fatal(err)
		}
		if suspended() {
			t.Fatal("re-activation did not lift the provider's suspension")
		}
		log, err := s.ModerationLog(ctx, mod, ModerationLogQuery{ObjectURI: erin.Account.URI})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range log {
			by := e.ActorURI
			if e.ActorAccountID != nil && *e.ActorAccountID == mod.ID {
				by = "mod"
			}
			got = append(got, e.Action+" by "+by)
		}
		want := []string{"unsuspend by scim:test", "suspend by scim:test", "unsuspend by mod", "suspend by mod"}
		if !slices.Equal(got, want) {
			t.Fatalf("audit log: %v, want %v", got, want)
		}
	})
}

// TestProvisionedRoles: groups give roles by display name or external id, the
// strongest wins, and leaving or renaming a group takes the role away.
func TestProvisionedRoles(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := testService(db)
		p := s.Provisioning(ProvisioningOptions{RoleOf: func(groups []string) Role {
			switch {
			case slices.Contains(groups, "admins"):
				return RoleAdmin
			case slices.Contains(groups, "0b9c-mods"):
				return RoleModerator
			}
			return RoleUser
		}})
		frank, err := p.CreateUser(ctx, "scim:test", UserProvision{UserName: "frank", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		role := func() Role {
			t.Helper()
			u, err := s.UserByAccountID(ctx, frank.AccountID)
			if err != nil {
				t.Fatal(err)
			}
			return u.Role
		}
		mods, err := p.CreateGroup(ctx, "scim:test", GroupProvision{DisplayName: "Moderators", ExternalID: "0b9c-mods",
			Members: []int64{frank.AccountID}})
		if err != nil {
			t.Fatal(err)
		}
		if role() != RoleModerator {
			t.Fatalf("role by external id: %s", role())
		}
		others, err := p.CreateGroup(ctx, "scim:test", GroupProvision{DisplayName: "Everyone", Members: []int64{frank.AccountID}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.ReplaceGroup(ctx, "scim:test", others.ID, GroupProvision{DisplayName: "admins", Members: []int64{frank.AccountID}}); err != nil {
			t.Fatal(err)
		}
		if role() != RoleAdmin {
			t.Fatalf("role after a group became admins: %s", role())
		}
		if err := p.DeleteGroup(ctx, "scim:test", others.ID); err != nil {
			t.Fatal(err)
		}
		if role() != RoleModerator {
			t.Fatalf("role after the admins group went: %s", role())
		}
		if _, err := p.DeleteUser(ctx, "scim:test", frank.AccountID); err != nil {
			t.Fatal(err)
		}
		if role() != RoleUser {
			t.Fatalf("role after removal: %s", role())
		}
		if g, err := p.Group(ctx, mods.ID); err != nil || len(g.Members) != 0 {
			t.Fatalf("group after its member's removal: %+v %v", g, err)
		}
	})
}

// TestProvisioningDeletesWhenAsked: with DeleteAccounts, removal deletes the account
// for good and keeps its username from coming back.
func TestProvisioningDeletesWhenAsked(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := testService(db)
		p := s.Provisioning(ProvisioningOptions{DeleteAccounts: true})
		gina, err := p.CreateUser(ctx, "scim:test", UserProvision{UserName: "gina@corp.example", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		deleted, err := p.DeleteUser(ctx, "scim:test", gina.AccountID)
		if err != nil || !deleted {
			t.Fatalf("delete: %v %v", deleted, err)
		}
		if _, err := s.LocalAccount(ctx, "gina"); KindOf(err) != KindNotFound {
			t.Fatalf("the account is still there: %v", err)
		}
		if _, err := p.CreateUser(ctx, "scim:test", UserProvision{UserName: "gina@corp.example", Active: true}); KindOf(err) != KindConflict {
			t.Fatalf("re-creating a deleted account's name: %v", err)
		}
	})
}

// TestProvisioningAdoptsProviderAccounts: an account that signs in only through the
// identity provider (created on first sign-in) is taken over by the provider's
// creation of the same person; an account with a password, or another address, is not.
func TestProvisioningAdoptsProviderAccounts(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := testService(db)
		p := s.Provisioning(ProvisioningOptions{})
		hana, _, err := s.CreateLocalAccount(ctx, NewLocalAccount{Username: "hana", Email: "hana@corp.example", NoPassword: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateLocalAccount(ctx, NewLocalAccount{Username: "ivan", Email: "ivan@corp.example",
			Password: "a long enough passphrase"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateLocalAccount(ctx, NewLocalAccount{Username: "jo", Email: "jo@home.example", NoPassword: true}); err != nil {
			t.Fatal(err)
		}
		got, err := p.CreateUser(ctx, "scim:test", UserProvision{UserName: "Hana@corp.example", Email: "hana@corp.example",
			DisplayName: "Hana Sato", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		if got.AccountID != hana.ID || got.Account.DisplayName != "Hana Sato" {
			t.Fatalf("adopted %d %q, want the account %d renamed", got.AccountID, got.Account.DisplayName, hana.ID)
		}
		for _, in := range []UserProvision{
			{UserName: "ivan@corp.example", Email: "ivan@corp.example", Active: true},
			{UserName: "jo@corp.example", Email: "jo@corp.example", Active: true},
		} {
			if _, err := p.CreateUser(ctx, "scim:test", in); KindOf(err) != KindConflict {
				t.Errorf("CreateUser(%s): %v, want a conflict", in.UserName, err)
			}
		}
	})
}

// The first sign-in of a provisioned person finds the account SCIM made, through the
// id both channels carry; a second subject claiming the same id gets an account of
// its own, and a deactivated person cannot sign in.
func TestSignInFindsProvisionedAccount(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := testService(db)
		p := s.Provisioning(ProvisioningOptions{})
		in := UserProvision{UserName: "gail@corp.example", ExternalID: "00u1gail", DisplayName: "Gail", Email: "gail@corp.example", Active: true}
		gail, err := p.CreateUser(ctx, "scim:test", in)
		if err != nil {
			t.Fatal(err)
		}
		claims := ExternalClaims{Issuer: "https://id.corp.example", Subject: "00u1gail", ProvisionedID: "00u1gail", Username: "gail.w", DisplayName: "Gail W."}
		_, acct, err := s.SignInExternal(ctx, claims)
		if err != nil {
			t.Fatalf("first sign-in: %v", err)
		}
		if acct.ID != gail.AccountID {
			t.Fatalf("first sign-in made account %d (@%s), want the provisioned %d", acct.ID, acct.Username, gail.AccountID)
		}
		if _, again, err := s.SignInExternal(ctx, claims); err != nil || again.ID != gail.AccountID {
			t.Fatalf("second sign-in: %v, account %v", err, again)
		}
		other := claims
		other.Subject, other.Username = "00u9mallory", "mallory"
		if _, acct, err := s.SignInExternal(ctx, other); err != nil || acct.ID == gail.AccountID {
			t.Fatalf("another subject with the same id: %v, account %v", err, acct)
		}
		in.Active = false
		if _, err := p.ReplaceUser(ctx, "scim:test", gail.AccountID, in); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SignInExternal(ctx, claims); KindOf(err) != KindForbidden {
			t.Fatalf("sign-in after deactivation: %v, want forbidden", err)
		}
	})
}
