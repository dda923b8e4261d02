package community

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"gorm.io/gorm"
)

// Accounts of the company's identity provider (single sign-on). The provider names a
// person by its issuer and a subject that never changes; that pair, recorded in
// external_identities, is the only thing that finds the account again. A username or
// an e-mail address the provider sends never links a sign-in to an account that
// exists: whoever controls a name at the provider would otherwise take over the local
// account that happens to carry it.
//
// Accounts provisioned ahead of the first sign-in (SCIM) belong to the same provider,
// which names them in both channels by one id: the externalId it sent to SCIM comes
// back as a claim of the ID token (ExternalClaims.ProvisionedID). A first sign-in
// whose ProvisionedID matches a provisioned account not yet linked to this issuer
// records its ExternalIdentity and signs into it. Nothing here guesses such a link
// from matching names.

// ExternalClaims are what the identity provider asserts about a person at sign-in,
// read by the adapter from an ID token it has verified.
type ExternalClaims struct {
	// Issuer and Subject identify the person at the provider.
	Issuer  string
	Subject string
	// Username is the username a new account asks for; it is fitted to the username
	// rules, and a free variant is taken when it is in use.
	Username string
	// Email is kept only when EmailVerified, and only while no other login uses it.
	Email         string
	EmailVerified bool
	DisplayName   string
	// ProvisionedID is the externalId the provider's SCIM provisioning gave the
	// person, read from the claim the instance names; "" when there is none.
	ProvisionedID string
	// Role is what the provider's groups give; "" when the claims carry no group
	// information, which leaves the role as it is (a new account is a user).
	Role Role
}

// ExternalIdentity ties a local account to its person at an identity provider.
type ExternalIdentity struct {
	ID           int64  `gorm:"primaryKey;autoIncrement:false"`
	AccountID    int64  `gorm:"not null"`
	Issuer       string `gorm:"not null"`
	Subject      string `gorm:"not null"`
	CreatedAt    time.Time
	LastSignInAt *time.Time
}

// SignInExternal signs in the person the identity provider vouches for: the account
// recorded for their issuer and subject, its name, e-mail and role brought up to date
// from the claims; or, the first time, a new account without a password. A disabled
// login or a suspended account is refused (KindForbidden).
func (s *Service) SignInExternal(ctx context.Context, c ExternalClaims) (*User, *Account, error) {
	c.Issuer, c.Subject = strings.TrimSpace(c.Issuer), strings.TrimSpace(c.Subject)
	if c.Issuer == "" || c.Subject == "" {
		return nil, nil, Invalid("The identity provider did not name the person (issuer and subject are required)")
	}
	if c.Role != "" {
		if err := ValidateRole(c.Role); err != nil {
			return nil, nil, err
		}
	}
	c.Email = externalEmail(c)
	c.DisplayName = truncateRunes(strings.TrimSpace(c.DisplayName), MaxDisplayNameLen)
	// Two first sign-ins of one person at once, or of two people wanting one username,
	// meet on a unique key (PostgreSQL; SQLite's one writer serialises them): once
	// more, the loser finds the winner's rows and takes another name or the account.
	var err error
	for range 3 {
		var u *User
		var a *Account
		if u, a, err = s.signInExternalOnce(ctx, c); !errors.Is(err, gorm.ErrDuplicatedKey) {
			return u, a, err
		}
	}
	return nil, nil, err
}

func (s *Service) signInExternalOnce(ctx context.Context, c ExternalClaims) (*User, *Account, error) {
	var id ExternalIdentity
	err := s.read(ctx).Where("issuer = ? AND subject = ?", c.Issuer, c.Subject).Take(&id).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		linked, err := s.linkProvisioned(ctx, c)
		switch {
		case err != nil:
			return nil, nil, err
		case linked == nil:
			return s.createExternal(ctx, c)
		}
		return s.updateExternal(ctx, linked, c)
	case err != nil:
		return nil, nil, fmt.Errorf("find external identity: %w", err)
	}
	return s.updateExternal(ctx, &id, c)
}

// externalEmail is the address worth keeping: verified by the provider, well formed,
// lowercased; "" otherwise.
func externalEmail(c ExternalClaims) string {
	email := strings.ToLower(strings.TrimSpace(c.Email))
	if !c.EmailVerified || email == "" {
		return ""
	}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		return ""
	}
	return email
}

// updateExternal refuses a login that may not sign in, then brings the account up to
// date with the claims and records the sign-in.
func (s *Service) updateExternal(ctx context.Context, id *ExternalIdentity, c ExternalClaims) (*User, *Account, error) {
	user, err := s.UserByAccountID(ctx, id.AccountID)
	if err != nil {
		return nil, nil, err
	}
	acct, err := s.accountByID(ctx, id.AccountID)
	if err != nil {
		return nil, nil, err
	}
	if user.Disabled {
		return nil, nil, Forbidden("Your login is currently disabled")
	}
	if suspended, err := s.IsSuspended(ctx, acct.ID); err != nil {
		return nil, nil, err
	} else if suspended {
		return nil, nil, Forbidden("Your account is suspended")
	}
	now := s.clock()
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		userChanges := map[string]any{"last_sign_in_at": now}
		if c.Role != "" && c.Role != user.Role {
			userChanges["role"], user.Role = c.Role, c.Role
		}
		if c.Email != "" && c.Email != user.Email {
			free, err := emailFree(tx, c.Email, user.ID)
			if err != nil {
				return err
			}
			if free {
				userChanges["email"], user.Email = c.Email, c.Email
			}
		}
		if len(userChanges) > 1 {
			userChanges["updated_at"] = now
		}
		if err := tx.Model(&User{}).Where("id = ?", user.ID).Updates(userChanges).Error; err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		user.LastSignInAt = &now
		if c.DisplayName != "" && c.DisplayName != acct.DisplayName {
			if err := tx.Model(&Account{}).Where("id = ?", acct.ID).
				Updates(map[string]any{"display_name": c.DisplayName, "updated_at": now}).Error; err != nil {
				return fmt.Errorf("update account: %w", err)
			}
			acct.DisplayName, acct.UpdatedAt = c.DisplayName, now
			*ev = append(*ev, AccountUpdated{Account: *acct})
		}
		if err := tx.Model(&ExternalIdentity{}).Where("id = ?", id.ID).Update("last_sign_in_at", now).Error; err != nil {
			return fmt.Errorf("record sign-in: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return user, acct, nil
}

// createExternal creates the account of a first sign-in, without a password, under
// the wanted username or a free variant of it.
func (s *Service) createExternal(ctx context.Context, c ExternalClaims) (*User, *Account, error) {
	base := externalUsername(c.Username)
	if base == "" {
		base = externalUsername(c.Email)
	}
	if base == "" {
		base = "user"
	}
	role := c.Role
	if role == "" {
		role = RoleUser
	}
	now := s.clock()
	// The company's provider vouches for the person: no approval to wait for.
	acct, user := s.newLocalRows("", c.DisplayName, role, now)
	user.LastSignInAt = &now
	identity := &ExternalIdentity{ID: NewID(), AccountID: acct.ID, Issuer: c.Issuer, Subject: c.Subject, CreatedAt: now, LastSignInAt: &now}
	err := s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		username, err := freeUsername(tx, base)
		if err != nil {
			return err
		}
		s.nameLocalAccount(acct, username)
		// An address another login uses stays with it: the new account goes without.
		if c.Email != "" {
			free, err := emailFree(tx, c.Email, 0)
			if err != nil {
				return err
			}
			if free {
				user.Email = c.Email
			}
		}
		if err := tx.Create(acct).Error; err != nil {
			return fmt.Errorf("create account: %w", err)
		}
		if err := tx.Create(user).Error; err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		if err := tx.Create(identity).Error; err != nil {
			return fmt.Errorf("record external identity: %w", err)
		}
		*ev = append(*ev, AccountCreated{Account: *acct})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return user, acct, nil
}

// emailFree reports whether no login but userID's uses email.
func emailFree(tx *gorm.DB, email string, userID int64) (bool, error) {
	var n int64
	if err := tx.Model(&User{}).Where("email = ? AND id <> ?", email, userID).Count(&n).Error; err != nil {
		return false, fmt.Errorf("check email: %w", err)
	}
	return n == 0, nil
}

// maxUsernameVariants bounds the search for a free username ("alice", "alice_2"…).
const maxUsernameVariants = 100

// freeUsername is base, or the first of base_2, base_3… that no local account holds
// and no deleted one held.
func freeUsername(tx *gorm.DB, base string) (string, error) {
	for i := 1; i <= maxUsernameVariants; i++ {
		name := base
		if i > 1 {
			suffix := "_" + strconv.Itoa(i)
			name = strings.TrimRight(base[:min(len(base), MaxUsernameLen-len(suffix))], "_") + suffix
		}
		var n int64
		if err := tx.Model(&Account{}).Where("lower(username) = lower(?) AND domain = ''", name).Count(&n).Error; err != nil {
			return "", fmt.Errorf("check username: %w", err)
		}
		if n > 0 {
			continue
		}
		retired, err := usernameRetired(tx, name)
		if err != nil {
			return "", err
		}
		if !retired {
			return name, nil
		}
	}
	return "", Conflict("No free username near %q", base)
}

// externalUsername fits what the provider sends (often an e-mail address or a name
// with dots) to the username rules: the part before "@", accents dropped, every run
// of other characters made one "_", at most MaxUsernameLen long; "" when nothing is
// left.
func externalUsername(want string) string {
	want, _, _ = strings.Cut(strings.TrimSpace(want), "@")
	var b strings.Builder
	for _, r := range norm.NFD.String(want) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// The accent of a decomposed letter: "é" becomes "e".
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
		default:
			if s := b.String(); s != "" && !strings.HasSuffix(s, "_") {
				b.WriteByte('_')
			}
		}
	}
	name := strings.TrimRight(b.String(), "_")
	if len(name) > MaxUsernameLen {
		name = strings.TrimRight(name[:MaxUsernameLen], "_")
	}
	return name
}

// linkProvisioned finds the account SCIM provisioned for a person signing in for the
// first time, by the id both channels share, and records the link. It returns nil
// when there is no such account, or when it is already linked to another subject of
// this issuer: a second person cannot claim it.
func (s *Service) linkProvisioned(ctx context.Context, c ExternalClaims) (*ExternalIdentity, error) {
	pid := strings.TrimSpace(c.ProvisionedID)
	if pid == "" {
		return nil, nil
	}
	var p ProvisionedUser
	err := s.read(ctx).Where("external_id = ?", pid).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find provisioned account: %w", err)
	}
	var taken int64
	if err := s.read(ctx).Model(&ExternalIdentity{}).Where("account_id = ? AND issuer = ?", p.AccountID, c.Issuer).Count(&taken).Error; err != nil {
		return nil, fmt.Errorf("check external identity: %w", err)
	}
	if taken > 0 {
		return nil, nil
	}
	id := &ExternalIdentity{ID: NewID(), AccountID: p.AccountID, Issuer: c.Issuer, Subject: c.Subject, CreatedAt: s.clock()}
	if err := s.db.WithContext(ctx).Create(id).Error; err != nil {
		return nil, fmt.Errorf("link provisioned account: %w", err)
	}
	return id, nil
}

// SignInMethods are the ways a login signs in, as its admins see them.
type SignInMethods struct {
	// Password: a password is set (an admin may have set one for a provider's account).
	Password bool
	// Providers are the issuers of the identity providers the person signed in through.
	Providers []string
	// ProvisionedAs is the provider's userName when SCIM provisions the account, ""
	// when it does not; ProvisionedActive is the provider's active flag.
	ProvisionedAs     string
	ProvisionedActive bool
}

// SignInMethodsOf tells staff how the login of a local account signs in.
func (s *Service) SignInMethodsOf(ctx context.Context, actor *Account, accountID int64) (SignInMethods, error) {
	var m SignInMethods
	if err := s.requireStaff(ctx, actor); err != nil {
		return m, err
	}
	user, err := s.UserByAccountID(ctx, accountID)
	if err != nil {
		return m, err
	}
	m.Password = user.PasswordHash != ""
	db := s.read(ctx)
	if err := db.Model(&ExternalIdentity{}).Where("account_id = ?", accountID).Order("created_at").
		Pluck("issuer", &m.Providers).Error; err != nil {
		return m, fmt.Errorf("load external identities: %w", err)
	}
	var p ProvisionedUser
	err = db.Where("account_id = ?", accountID).Take(&p).Error
	switch {
	case err == nil:
		m.ProvisionedAs, m.ProvisionedActive = p.UserName, p.Active
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return m, fmt.Errorf("load provisioning: %w", err)
	}
	return m, nil
}
