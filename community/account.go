package community

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
)

// Limits on what a profile may hold, the same as Mastodon's so that clients' own checks agree.
const (
	MaxUsernameLen    = 30
	MaxDisplayNameLen = 30
	MaxNoteLen        = 500
	MaxFields         = 4
	MaxFieldNameLen   = 255
	MaxFieldValueLen  = 255
	MinPasswordLen    = 8
	// bcrypt ignores everything after 72 bytes; refusing longer passwords avoids the
	// surprise of two different passwords that both work.
	MaxPasswordLen = 72
	bcryptCost     = 11
)

var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// NewLocalAccount is what it takes to create an account on this instance.
type NewLocalAccount struct {
	Username    string
	Password    string
	Email       string
	Role        Role
	DisplayName string
	Locked      bool
	// NoPassword creates an account that signs in only through the company's identity
	// provider: Password must be empty, and password sign-in fails for it until an
	// admin sets a password.
	NoPassword bool
	// Pending creates an account that waits for a moderator's approval: it cannot
	// sign in, and it is announced (AccountCreated) only once approved.
	Pending bool
	// Locale, Reason and InviteID come with a sign-up (account_registration.go): the
	// person's language, what they told the moderators, and the invite they used.
	Locale   string
	Reason   string
	InviteID *int64
	// alsoStore writes, in the transaction that creates the account, the rows that
	// must exist with it (a provisioned person's record), so that none is left without
	// the other.
	alsoStore func(tx *gorm.DB, acct *Account) error
}

// CreateLocalAccount validates and stores a new local account with its login.
func (s *Service) CreateLocalAccount(ctx context.Context, in NewLocalAccount) (*Account, *User, error) {
	if err := ValidateUsername(in.Username); err != nil {
		return nil, nil, err
	}
	if in.NoPassword {
		if in.Password != "" {
			return nil, nil, Invalid("An account without a password cannot be given one")
		}
	} else if err := ValidatePassword(in.Password, in.Username); err != nil {
		return nil, nil, err
	}
	email := strings.TrimSpace(in.Email)
	if email != "" {
		if _, err := mail.ParseAddress(email); err != nil || strings.ContainsAny(email, " <>") {
			return nil, nil, Invalid("Email is not a valid address: %q", email)
		}
	}
	role := in.Role
	if role == "" {
		role = RoleUser
	}
	if err := ValidateRole(role); err != nil {
		return nil, nil, err
	}
	if utf8.RuneCountInString(in.DisplayName) > MaxDisplayNameLen {
		return nil, nil, Invalid("Display name is too long (maximum is %d characters)", MaxDisplayNameLen)
	}
	// An empty hash matches no password: bcrypt refuses it as malformed.
	hash := ""
	if !in.NoPassword {
		var err error
		if hash, err = HashPassword(in.Password); err != nil {
			return nil, nil, err
		}
	}
	acct, user := s.newLocalRows(in.Username, in.DisplayName, role, s.clock())
	acct.Locked = in.Locked
	user.Email = strings.ToLower(email)
	user.PasswordHash = hash
	user.Approved = !in.Pending
	if in.Locale != "" {
		user.Locale = in.Locale
	}
	user.RegistrationReason, user.InviteID = in.Reason, in.InviteID
	err := s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		var n int64
		if err := tx.Model(&Account{}).Where("lower(username) = lower(?) AND domain = ''", in.Username).Count(&n).Error; err != nil {
			return fmt.Errorf("check username: %w", err)
		}
		if n > 0 {
			return Conflict("Username %q is already taken", in.Username)
		}
		if retired, err := usernameRetired(tx, in.Username); err != nil {
			return err
		} else if retired {
			return Conflict("Username %q belonged to a deleted account and cannot be used again", in.Username)
		}
		if user.Email != "" {
			if err := tx.Model(&User{}).Where("email = ? AND email <> ''", user.Email).Count(&n).Error; err != nil {
				return fmt.Errorf("check email: %w", err)
			}
			if n > 0 {
				return Conflict("Email %q is already in use", user.Email)
			}
		}
		if err := tx.Create(acct).Error; err != nil {
			return fmt.Errorf("create account: %w", err)
		}
		if err := tx.Create(user).Error; err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		if in.alsoStore != nil {
			if err := in.alsoStore(tx, acct); err != nil {
				return err
			}
		}
		if !in.Pending {
			*ev = append(*ev, AccountCreated{Account: *acct})
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return acct, user, nil
}

// newLocalRows builds the rows of a new local account and its login, approved and
// without a password or e-mail address; the caller completes and stores them.
func (s *Service) newLocalRows(username, displayName string, role Role, now time.Time) (*Account, *User) {
	acct := &Account{
		ID:           NewID(),
		DisplayName:  displayName,
		Discoverable: true,
		Fields:       Fields{},
		CreatedAt:    now,
		UpdatedAt:    now,
	}
	s.nameLocalAccount(acct, username)
	user := &User{
		ID:                NewID(),
		AccountID:         acct.ID,
		Role:              role,
		Locale:            "en",
		DefaultVisibility: VisibilityPublic,
		Approved:          true,
		CreatedAt:         now,
		UpdatedAt:         now,
	}
	return acct, user
}

// nameLocalAccount gives a new local account its username and the addresses made
// from it.
func (s *Service) nameLocalAccount(acct *Account, username string) {
	acct.Username = username
	acct.URI = s.AccountURI(username)
	acct.URL = s.AccountURL(username)
	acct.InboxURL = acct.URI + "/inbox"
	acct.SharedInboxURL = s.baseURL + "/inbox"
	acct.FollowersURL = acct.URI + "/followers"
}

// ValidateUsername checks a local username.
func ValidateUsername(u string) error {
	switch {
	case u == "":
		return Invalid("Username can't be blank")
	case len(u) > MaxUsernameLen:
		return Invalid("Username is too long (maximum is %d characters)", MaxUsernameLen)
	case !usernamePattern.MatchString(u):
		return Invalid("Username %q may only contain letters, numbers and underscores", u)
	}
	return nil
}

// commonPasswords are refused outright; the length rule catches most others.
var commonPasswords = map[string]bool{
	"password": true, "password1": true, "12345678": true, "123456789": true, "1234567890": true,
	"qwertyuiop": true, "qwerty123": true, "iloveyou": true, "11111111": true, "00000000": true,
	"abcdefgh": true, "abc12345": true, "letmein1": true, "welcome1": true, "passw0rd": true,
	"changeme": true, "sunshine": true, "football": true, "baseball": true, "trustno1": true,
}

// ValidatePassword refuses empty, short, over-long and easily guessed passwords.
func ValidatePassword(pw, username string) error {
	switch {
	case pw == "":
		return Invalid("Password can't be blank")
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return Invalid("Password is too short (minimum is %d characters)", MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return Invalid("Password is too long (maximum is %d bytes)", MaxPasswordLen)
	case commonPasswords[strings.ToLower(pw)]:
		return Invalid("Password is too common; choose another one")
	case username != "" && strings.Contains(strings.ToLower(pw), strings.ToLower(username)):
		return Invalid("Password must not contain the username")
	case strings.Count(pw, pw[:1]) == len(pw):
		return Invalid("Password must not repeat a single character")
	}
	return nil
}

// ValidateRole checks a role name.
func ValidateRole(r Role) error {
	switch r {
	case RoleUser, RoleModerator, RoleAdmin:
		return nil
	}
	return Invalid("Role %q is not one of user, moderator, admin", r)
}

// HashPassword hashes a password for storage.
func HashPassword(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcryptCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// ErrBadLogin is returned for an unknown login or a wrong password, without saying which.
var ErrBadLogin = &Error{Kind: KindInvalid, Msg: "Invalid username/email or password"}

// Authenticate checks a username or e-mail address and a password.
func (s *Service) Authenticate(ctx context.Context, login, password string) (*User, *Account, error) {
	login = strings.TrimSpace(login)
	if login == "" || password == "" {
		return nil, nil, ErrBadLogin
	}
	var user User
	q := s.read(ctx)
	var err error
	if strings.Contains(login, "@") {
		err = q.Where("email = ? AND email <> ''", strings.ToLower(login)).Take(&user).Error
	} else {
		err = q.Joins("JOIN accounts ON accounts.id = users.account_id").
			Where("lower(accounts.username) = lower(?) AND accounts.domain = ''", login).Take(&user).Error
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		// Spend the same time as a real check so that timing does not reveal which
		// logins exist.
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, nil, ErrBadLogin
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load user: %w", err)
	}
	if user.PasswordHash == "" {
		// An account that signs in only through the identity provider: as slow as a
		// wrong password, so that timing does not tell such accounts apart.
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, nil, ErrBadLogin
	}
	if bcrypt.CompareHashAndPassword([]byte(user.PasswordHash), []byte(password)) != nil {
		return nil, nil, ErrBadLogin
	}
	if user.Disabled {
		return nil, nil, Forbidden("Your login is currently disabled")
	}
	if !user.Approved {
		return nil, nil, ErrPendingApproval
	}
	acct, err := s.accountByID(ctx, user.AccountID)
	if err != nil {
		return nil, nil, err
	}
	now := s.clock()
	if err := s.db.WithContext(ctx).Model(&User{}).Where("id = ?", user.ID).Update("last_sign_in_at", now).Error; err != nil {
		return nil, nil, fmt.Errorf("record sign-in: %w", err)
	}
	return &user, acct, nil
}

// dummyHash is compared with when no account matches a login, so that an unknown name
// costs as long as a wrong password. It is a constant, a bcrypt hash of "not a real
// password" at bcryptCost, rather than computed when the package loads: computing it
// cost every process start (serve and each admin command) about 100–200 ms of CPU.
// TestDummyHashCost keeps its cost equal to bcryptCost.
var dummyHash = []byte("$2a$11$iW3qut9.B/bd82HPY9GlFehWr3xNVq2GkDelVFQQYxymdA7xgXPP.")

// accountByID loads one account.
func (s *Service) accountByID(ctx context.Context, id int64) (*Account, error) {
	a, err := s.accounts.Load(id, func() (*Account, error) {
		var a Account
		if err := s.read(ctx).Take(&a, id).Error; err != nil {
			return nil, notFound(err, "account")
		}
		return &a, nil
	})
	if err != nil {
		return nil, err
	}
	return a.clone(), nil
}

// accountsByID loads several accounts at once, keyed by id; missing ids are absent.
func (s *Service) accountsByID(ctx context.Context, ids []int64) (map[int64]*Account, error) {
	out := make(map[int64]*Account, len(ids))
	var missing []int64
	for _, id := range uniqueIDs(ids) {
		if a, ok := s.accounts.Get(id); ok {
			out[id] = a.clone()
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	ticket := s.accounts.Begin()
	var rows []Account
	if err := s.read(ctx).Where("id IN ?", missing).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load accounts: %w", err)
	}
	for i := range rows {
		out[rows[i].ID] = &rows[i]
		s.accounts.Put(ticket, rows[i].ID, rows[i].clone())
	}
	return out, nil
}

// UserByAccountID loads the login of a local account.
func (s *Service) UserByAccountID(ctx context.Context, accountID int64) (*User, error) {
	var u User
	if err := s.read(ctx).Where("account_id = ?", accountID).Take(&u).Error; err != nil {
		return nil, notFound(err, "user")
	}
	return &u, nil
}

// userByID loads a login by its own id.
func (s *Service) userByID(ctx context.Context, id int64) (*User, *Account, error) {
	cached, err := s.users.Load(id, func() (*User, error) {
		var u User
		if err := s.read(ctx).Take(&u, id).Error; err != nil {
			return nil, notFound(err, "user")
		}
		return &u, nil
	})
	if err != nil {
		return nil, nil, err
	}
	u := *cached
	a, err := s.accountByID(ctx, u.AccountID)
	if err != nil {
		return nil, nil, err
	}
	return &u, a, nil
}

// LocalAccount finds a local account by username, case-insensitively.
func (s *Service) LocalAccount(ctx context.Context, username string) (*Account, error) {
	return s.accountByHandle(ctx, username, "")
}

// accountByHandle finds an account by username (case-insensitively) and domain ("" for
// local accounts), from memory when it was read before.
func (s *Service) accountByHandle(ctx context.Context, username, domain string) (*Account, error) {
	a, err := s.handles.Load(asciiLower(username)+"@"+domain, func() (*Account, error) {
		var a Account
		err := s.read(ctx).Where("lower(username) = lower(?) AND domain = ?", username, domain).Take(&a).Error
		if err != nil {
			return nil, notFound(err, "account")
		}
		return &a, nil
	})
	if err != nil {
		return nil, err
	}
	return a.clone(), nil
}

// asciiLower lowers ASCII letters only, as SQLite's lower() does, so that two handles
// share a key only when the database would find the same row for both.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// LookupAccount finds a known account by its handle: "user", "@user", "user@host" (this
// instance's own host counts as local).
func (s *Service) LookupAccount(ctx context.Context, acct string) (*Account, error) {
	acct = strings.TrimPrefix(strings.TrimSpace(acct), "@")
	username, domain, _ := strings.Cut(acct, "@")
	domain = strings.ToLower(domain)
	if username == "" {
		return nil, ErrNotFound
	}
	if domain == "" || domain == s.host {
		return s.LocalAccount(ctx, username)
	}
	return s.accountByHandle(ctx, username, domain)
}

// SetRole changes a local account's role.
func (s *Service) SetRole(ctx context.Context, username string, role Role) error {
	if err := ValidateRole(role); err != nil {
		return err
	}
	acct, err := s.LocalAccount(ctx, username)
	if err != nil {
		return fmt.Errorf("account %q: %w", username, err)
	}
	return s.db.WithContext(ctx).Model(&User{}).Where("account_id = ?", acct.ID).
		Updates(map[string]any{"role": role, "updated_at": s.clock()}).Error
}

// ResetPassword sets a new password for a local account.
func (s *Service) ResetPassword(ctx context.Context, username, password string) error {
	acct, err := s.LocalAccount(ctx, username)
	if err != nil {
		return fmt.Errorf("account %q: %w", username, err)
	}
	if err := ValidatePassword(password, acct.Username); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	return s.db.WithContext(ctx).Model(&User{}).Where("account_id = ?", acct.ID).
		Updates(map[string]any{"password_hash": hash, "updated_at": s.clock()}).Error
}
