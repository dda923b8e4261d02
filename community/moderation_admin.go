package community

import (
	"context"

	"gorm.io/gorm"
)

// The instance's administrators: what only they may do to people's logins, from the
// web app's admin pages. `tacit admin set-role` and `reset-password` run as the
// operator and use SetRole and ResetPassword directly.

// Audit log actions of administrators.
const (
	ActionSetRole       = "set_role"
	ActionResetPassword = "reset_password"
)

// IsAdmin reports whether a local account is one of the instance's admins.
func (s *Service) IsAdmin(ctx context.Context, a *Account) (bool, error) {
	role, err := s.roleOf(ctx, s.db, a)
	if err != nil {
		return false, err
	}
	return role == RoleAdmin, nil
}

// requireAdmin refuses anyone but the instance's admins.
func (s *Service) requireAdmin(ctx context.Context, a *Account) error {
	ok, err := s.IsAdmin(ctx, a)
	if err != nil {
		return err
	}
	if !ok {
		return Forbidden("This action is reserved to the instance's admins")
	}
	return nil
}

// ChangeRole sets a local account's role, as an admin, and records it in the audit
// log. Admins do not change their own role, so that an instance never loses its last
// admin by a slip.
func (s *Service) ChangeRole(ctx context.Context, actor *Account, accountID int64, role Role) error {
	if err := s.requireAdmin(ctx, actor); err != nil {
		return err
	}
	if err := ValidateRole(role); err != nil {
		return err
	}
	if accountID == actor.ID {
		return Forbidden("You cannot change your own role")
	}
	user, err := s.UserByAccountID(ctx, accountID)
	if err != nil {
		return err
	}
	target, err := s.accountByID(ctx, accountID)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *gorm.DB, _ *[]Event) error {
		if err := tx.Model(&User{}).Where("id = ?", user.ID).
			Updates(map[string]any{"role": role, "updated_at": s.clock()}).Error; err != nil {
			return err
		}
		return s.logStaffAction(tx, actor, ActionSetRole, target.URI, "", string(role))
	})
}

// ChangePassword sets a new password for a local account, as an admin, and records
// it in the audit log (without the password). The caller revokes the account's
// sessions, as `tacit admin reset-password` does.
func (s *Service) ChangePassword(ctx context.Context, actor *Account, accountID int64, password string) error {
	if err := s.requireAdmin(ctx, actor); err != nil {
		return err
	}
	target, err := s.accountByID(ctx, accountID)
	if err != nil {
		return err
	}
	user, err := s.UserByAccountID(ctx, accountID)
	if err != nil {
		return err
	}
	if err := ValidatePassword(password, target.Username); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *gorm.DB, _ *[]Event) error {
		if err := tx.Model(&User{}).Where("id = ?", user.ID).
			Updates(map[string]any{"password_hash": hash, "updated_at": s.clock()}).Error; err != nil {
			return err
		}
		return s.logStaffAction(tx, actor, ActionResetPassword, target.URI, "", "")
	})
}
