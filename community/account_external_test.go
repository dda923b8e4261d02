package community

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"
)

const testIssuer = "https://id.example.com/realms/company"

// The first sign-in creates the account from the claims; later ones find it by the
// provider's subject alone and bring its name, e-mail and role up to date.
func TestSignInExternalCreatesThenUpdates(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		s := testService(db)
		ctx := context.Background()
		claims := ExternalClaims{Issuer: testIssuer, Subject: "f3a1-77", Username: "Ana.Lima@example.com",
			Email: "Ana.Lima@example.com", EmailVerified: true, DisplayName: "Ana Lima", Role: RoleModerator}
		user, acct, err := s.SignInExternal(ctx, claims)
		if err != nil {
			t.Fatalf("first sign-in: %v", err)
		}
		if acct.Username != "Ana_Lima" || acct.DisplayName != "Ana Lima" || user.Email != "ana.lima@example.com" ||
			user.Role != RoleModerator || user.PasswordHash != "" {
			t.Fatalf("created %q %q %q %q hash=%q", acct.Username, acct.DisplayName, user.Email, user.Role, user.PasswordHash)
		}
		if _, _, err := s.Authenticate(ctx, "Ana_Lima", ""); err != ErrBadLogin {
			t.Errorf("password sign-in of an account of the provider: %v", err)
		}

		// The provider renamed her, changed her address and took her out of the
		// moderators' group; her username stays.
		claims.Username, claims.DisplayName, claims.Email, claims.Role = "ana.souza", "Ana Souza", "ana.souza@example.com", RoleUser
		user2, acct2, err := s.SignInExternal(ctx, claims)
		if err != nil {
			t.Fatalf("second sign-in: %v", err)
		}
		if acct2.ID != acct.ID || acct2.Username != "Ana_Lima" || acct2.DisplayName != "Ana Souza" ||
			user2.Email != "ana.souza@example.com" || user2.Role != RoleUser {
			t.Fatalf("updated: id %d/%d %q %q %q %q", acct2.ID, acct.ID, acct2.Username, acct2.DisplayName, user2.Email, user2.Role)
		}
		stored, err := s.UserByAccountID(ctx, acct.ID)
		if err != nil || stored.Role != RoleUser || stored.Email != "ana.souza@example.com" || stored.LastSignInAt == nil {
			t.Fatalf("stored login %+v, %v", stored, err)
		}
		if a, err := s.LocalAccount(ctx, "Ana_Lima"); err != nil || a.DisplayName != "Ana Souza" {
			t.Fatalf("stored account %+v, %v", a, err)
		}

		// Claims without group information leave the role alone.
		if err := s.SetRole(ctx, "Ana_Lima", RoleAdmin); err != nil {
			t.Fatal(err)
		}
		claims.Role = ""
		if user3, _, err := s.SignInExternal(ctx, claims); err != nil || user3.Role != RoleAdmin {
			t.Fatalf("sign-in without groups: role %v, %v", user3, err)
		}

		// The same subject at another issuer is another person.
		other := claims
		other.Issuer = "https://other.example.com"
		if _, a, err := s.SignInExternal(ctx, other); err != nil || a.ID == acct.ID || a.Username != "ana_souza" {
			t.Fatalf("other issuer: %+v, %v", a, err)
		}
	})
}

// A username or an e-mail address the provider sends never links to an account that
// exists: a local "bob" keeps his account and his address, the newcomer gets "bob_2".
func TestSignInExternalNeverTakesOverLocalAccounts(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		s := testService(db)
		ctx := context.Background()
		bob, bobUser, err := s.CreateLocalAccount(ctx, NewLocalAccount{Username: "bob", Password: "a good passphrase", Email: "bob@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		for _, verified := range []bool{false, true} {
			user, acct, err := s.SignInExternal(ctx, ExternalClaims{Issuer: testIssuer, Subject: "bob-" + map[bool]string{false: "u", true: "v"}[verified],
				Username: "bob", Email: "bob@example.com", EmailVerified: verified, DisplayName: "Not Bob", Role: RoleAdmin})
			if err != nil {
				t.Fatalf("verified=%v: %v", verified, err)
			}
			if acct.ID == bob.ID || user.Email != "" {
				t.Fatalf("verified=%v: linked to bob or took his address: %+v %+v", verified, acct, user)
			}
			want := map[bool]string{false: "bob_2", true: "bob_3"}[verified]
			if acct.Username != want {
				t.Errorf("verified=%v: username %q, want %q", verified, acct.Username, want)
			}
		}
		if _, _, err := s.Authenticate(ctx, "bob@example.com", "a good passphrase"); err != nil {
			t.Fatalf("bob signs in as before: %v", err)
		}
		if u, _ := s.UserByAccountID(ctx, bob.ID); u.Role != bobUser.Role || u.Email != "bob@example.com" {
			t.Fatalf("bob's login changed: %+v", u)
		}
		if a, _ := s.LocalAccount(ctx, "bob"); a.DisplayName != "" {
			t.Fatalf("bob's account changed: %+v", a)
		}
		// An unverified address is not kept even when free.
		if u, _, err := s.SignInExternal(ctx, ExternalClaims{Issuer: testIssuer, Subject: "carol", Username: "carol",
			Email: "carol@example.com"}); err != nil || u.Email != "" {
			t.Fatalf("unverified address kept: %+v, %v", u, err)
		}
	})
}

// A disabled login or a suspended account does not sign in through the provider.
func TestSignInExternalRefusesDisabledAndSuspended(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		s := testService(db)
		ctx := context.Background()
		for _, c := range []struct {
			subject string
			lock    func(acct *Account, user *User) error
		}{
			{"disabled", func(_ *Account, u *User) error {
				return db.Model(&User{}).Where("id = ?", u.ID).Update("disabled", true).Error
			}},
			{"suspended", func(a *Account, _ *User) error {
				return db.Create(&AccountSanction{AccountID: a.ID, Suspended: true, UpdatedAt: time.Now()}).Error
			}},
		} {
			claims := ExternalClaims{Issuer: testIssuer, Subject: c.subject, Username: c.subject}
			user, acct, err := s.SignInExternal(ctx, claims)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.lock(acct, user); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.SignInExternal(ctx, claims); KindOf(err) != KindForbidden {
				t.Errorf("%s: got %v, want forbidden", c.subject, err)
			}
		}
		if _, _, err := s.SignInExternal(ctx, ExternalClaims{Issuer: testIssuer}); KindOf(err) != KindInvalid {
			t.Errorf("no subject: got %v, want invalid", err)
		}
	})
}

func TestExternalUsername(t *testing.T) {
	for in, want := range map[string]string{
		"alice":                                "alice",
		"Alice.Smith@example.com":              "Alice_Smith",
		"josé-maría":                           "jose_maria",
		"  _bob__jones_ ":                      "bob_jones",
		"李":                                    "",
		"a.very.long.name.that.goes.on.and.on": "a_very_long_name_that_goes_on",
	} {
		if got := externalUsername(in); got != want {
			t.Errorf("externalUsername(%q) = %q, want %q", in, got, want)
		}
		if got := externalUsername(in); got != "" && ValidateUsername(got) != nil {
			t.Errorf("externalUsername(%q) = %q breaks the rules", in, got)
		}
	}
}

// First sign-ins of one person at once (two tabs, an app and the browser) make one
// account: the losers of the race find the winner's and sign in to it.
func TestSignInExternalConcurrentFirstSignIns(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		s := testService(db)
		claims := ExternalClaims{Issuer: testIssuer, Subject: "race-1", Username: "racer", Email: "racer@example.com", EmailVerified: true}
		const n = 6
		ids := make(chan int64, n)
		errs := make(chan error, n)
		for range n {
			go func() {
				_, acct, err := s.SignInExternal(context.Background(), claims)
				if err != nil {
					errs <- err
					return
				}
				ids <- acct.ID
			}()
		}
		var first int64
		for range n {
			select {
			case err := <-errs:
				t.Fatalf("sign-in: %v", err)
			case id := <-ids:
				if first == 0 {
					first = id
				} else if id != first {
					t.Fatalf("two accounts for one person: %d and %d", first, id)
				}
			}
		}
		var accounts int64
		if err := db.Model(&Account{}).Where("username LIKE 'racer%'").Count(&accounts).Error; err != nil || accounts != 1 {
			t.Fatalf("%d accounts named racer…, %v", accounts, err)
		}
	})
}
