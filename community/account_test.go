package community

import (
	"context"
	"testing"

	"gorm.io/gorm"
)

// An account created for the identity provider has no password: no password signs it
// in, not even an empty one, and it cannot be created with one by mistake.
func TestPasswordlessAccount(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		s := testService(db)
		ctx := context.Background()
		if _, _, err := s.CreateLocalAccount(ctx, NewLocalAccount{Username: "sso_only", Password: "correct horse battery", NoPassword: true}); KindOf(err) != KindInvalid {
			t.Fatalf("a password with NoPassword: got %v, want invalid", err)
		}
		_, user, err := s.CreateLocalAccount(ctx, NewLocalAccount{Username: "sso_only", Email: "sso@example.com", NoPassword: true})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if user.PasswordHash != "" {
			t.Fatalf("password hash = %q, want none", user.PasswordHash)
		}
		for _, pw := range []string{"", "anything at all", "$2a$11$"} {
			for _, login := range []string{"sso_only", "sso@example.com"} {
				if _, _, err := s.Authenticate(ctx, login, pw); err != ErrBadLogin {
					t.Errorf("Authenticate(%q, %q) = %v, want ErrBadLogin", login, pw, err)
				}
			}
		}
		if err := s.ResetPassword(ctx, "sso_only", "a new passphrase 42"); err != nil {
			t.Fatalf("an admin sets a password: %v", err)
		}
		if _, _, err := s.Authenticate(ctx, "sso_only", "a new passphrase 42"); err != nil {
			t.Fatalf("sign in with the password an admin set: %v", err)
		}
	})
}
