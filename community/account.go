package community

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/tacit-social/tacit/markup"
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
}

// CreateLocalAccount validates and stores a new local account with its login.
func (s *Service) CreateLocalAccount(ctx context.Context, in NewLocalAccount) (*Account, *User, error) {
	if err := ValidateUsername(in.Username); err != nil {
		return nil, nil, err
	}
	if err := ValidatePassword(in.Password, in.Username); err != nil {
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
	hash, err := HashPassword(in.Password)
	if err != nil {
		return nil, nil, err
	}
	now := s.clock()
	acct := &Account{
		ID:           NewID(),
		Username:     in.Username,
		DisplayName:  in.DisplayName,
		Locked:       in.Locked,
		Discoverable: true,
		Fields:       Fields{},
		CreatedAt:    now,
		UpdatedAt:    now,
	}
	acct.URI = s.AccountURI(acct.Username)
	acct.URL = s.AccountURL(acct.Username)
	acct.InboxURL = acct.URI + "/inbox"
	acct.SharedInboxURL = s.baseURL + "/inbox"
	acct.FollowersURL = acct.URI + "/followers"
	user := &User{
		ID:                NewID(),
		AccountID:         acct.ID,
		Email:             strings.ToLower(email),
		PasswordHash:      hash,
		Role:              role,
		Locale:            "en",
		DefaultVisibility: VisibilityPublic,
		CreatedAt:         now,
		UpdatedAt:         now,
	}
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
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
		*ev = append(*ev, AccountCreated{Account: *acct})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return acct, user, nil
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
	if bcrypt.CompareHashAndPassword([]byte(user.PasswordHash), []byte(password)) != nil {
		return nil, nil, ErrBadLogin
	}
	if user.Disabled {
		return nil, nil, Forbidden("Your login is currently disabled")
	}
	acct, err := s.AccountByID(ctx, user.AccountID)
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

// AccountByID loads one account.
func (s *Service) AccountByID(ctx context.Context, id int64) (*Account, error) {
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

// AccountsByID loads several accounts at once, keyed by id; missing ids are absent.
func (s *Service) AccountsByID(ctx context.Context, ids []int64) (map[int64]*Account, error) {
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

// UserByID loads a login by its own id.
func (s *Service) UserByID(ctx context.Context, id int64) (*User, *Account, error) {
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
	a, err := s.AccountByID(ctx, u.AccountID)
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

// FieldInput is a profile field as the owner types it.
type FieldInput struct{ Name, Value string }

// ProfileUpdate changes some of a local account's profile and posting defaults; nil
// fields are left alone.
type ProfileUpdate struct {
	DisplayName  *string
	Note         *string
	Fields       *[]FieldInput
	Locked       *bool
	Bot          *bool
	Discoverable *bool
	AvatarURL    *string
	HeaderURL    *string
	// AvatarFile and HeaderFile are uploaded pictures; they win over the URLs.
	AvatarFile        io.Reader
	HeaderFile        io.Reader
	DefaultVisibility *Visibility
	DefaultScope      *Scope
	DefaultSensitive  *bool
	DefaultLanguage   *string
	// Expertise replaces the account's expertise topics (see NormalizeExpertise).
	Expertise *[]string
}

// UpdateProfile validates and applies a profile update, returning the new account.
func (s *Service) UpdateProfile(ctx context.Context, accountID int64, in ProfileUpdate) (*Account, *User, error) {
	acct, err := s.AccountByID(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	user, err := s.UserByAccountID(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	if err := s.applyProfile(ctx, acct, &in); err != nil {
		return nil, nil, err
	}
	if err := applyPostingDefaults(user, in); err != nil {
		return nil, nil, err
	}
	// Pictures are processed and stored before the transaction; if it fails, they are
	// deleted again, and the pictures they replace are deleted only once it commits.
	uploaded, err := s.uploadProfileImages(ctx, acct, in)
	if err != nil {
		return nil, nil, err
	}
	var replaced []MediaAttachment
	now := s.clock()
	acct.UpdatedAt, user.UpdatedAt = now, now
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		var err error
		if replaced, err = replaceProfileImages(tx, acct.ID, uploaded, in); err != nil {
			return err
		}
		if err := tx.Select("*").Omit("followers_count", "following_count", "statuses_count", "last_status_at", "created_at").
			Updates(acct).Error; err != nil {
			return fmt.Errorf("update account: %w", err)
		}
		if err := tx.Select("default_visibility", "default_scope", "default_sensitive", "default_language", "updated_at").
			Updates(user).Error; err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		*ev = append(*ev, AccountUpdated{Account: *acct})
		return nil
	})
	if err != nil {
		s.deleteFiles(ctx, uploaded)
		return nil, nil, err
	}
	s.deleteFiles(ctx, replaced)
	return acct, user, nil
}

// applyProfile checks and copies the profile's own part of in onto acct. A picture URL
// equal to the current one is cleared from in: unchanged, it leaves the uploaded
// picture in place.
func (s *Service) applyProfile(ctx context.Context, acct *Account, in *ProfileUpdate) error {
	if in.DisplayName != nil {
		if utf8.RuneCountInString(*in.DisplayName) > MaxDisplayNameLen {
			return Invalid("Display name is too long (maximum is %d characters)", MaxDisplayNameLen)
		}
		acct.DisplayName = strings.TrimSpace(*in.DisplayName)
	}
	if in.Note != nil {
		if utf8.RuneCountInString(*in.Note) > MaxNoteLen {
			return Invalid("Note is too long (maximum is %d characters)", MaxNoteLen)
		}
		acct.NoteSource = *in.Note
		acct.Note = s.renderText(ctx, *in.Note)
	}
	if in.Fields != nil {
		fields, err := s.renderFields(ctx, *in.Fields)
		if err != nil {
			return err
		}
		acct.Fields = fields
	}
	if in.Expertise != nil {
		topics, err := NormalizeExpertise(*in.Expertise)
		if err != nil {
			return err
		}
		acct.Expertise = topics
	}
	setIfGiven(&acct.Locked, in.Locked)
	setIfGiven(&acct.Bot, in.Bot)
	setIfGiven(&acct.Discoverable, in.Discoverable)
	for _, u := range []struct {
		name string
		in   **string
		dst  *string
	}{{"Avatar", &in.AvatarURL, &acct.AvatarURL}, {"Header", &in.HeaderURL, &acct.HeaderURL}} {
		if *u.in == nil {
			continue
		}
		if **u.in == *u.dst {
			*u.in = nil // unchanged: the uploaded picture stays
			continue
		}
		// Only this instance's own files are shown as a local account's pictures: a URL
		// given here could name an internal address, which every reader's browser (and
		// every peer copying the profile) would then load. "" removes the picture; the
		// current URL is accepted as it is, as clients send the profile back.
		if **u.in != "" {
			return Invalid("%s must be uploaded as a picture, not given as a URL", u.name)
		}
		*u.dst = ""
	}
	return nil
}

// applyPostingDefaults checks and copies the posting defaults of in onto user.
func applyPostingDefaults(user *User, in ProfileUpdate) error {
	if in.DefaultVisibility != nil {
		if err := ValidateVisibility(*in.DefaultVisibility); err != nil {
			return err
		}
		user.DefaultVisibility = *in.DefaultVisibility
	}
	if in.DefaultScope != nil {
		if *in.DefaultScope != "" {
			if err := ValidateScope(*in.DefaultScope); err != nil {
				return err
			}
		}
		user.DefaultScope = *in.DefaultScope
	}
	setIfGiven(&user.DefaultSensitive, in.DefaultSensitive)
	if in.DefaultLanguage != nil {
		if err := validateLanguage(*in.DefaultLanguage); err != nil {
			return err
		}
		user.DefaultLanguage = *in.DefaultLanguage
	}
	return nil
}

func setIfGiven[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// uploadProfileImages processes and stores the uploaded avatar and header and points
// acct at them. On failure nothing it stored is left behind.
func (s *Service) uploadProfileImages(ctx context.Context, acct *Account, in ProfileUpdate) ([]MediaAttachment, error) {
	var uploaded []MediaAttachment
	for _, img := range []struct {
		purpose MediaPurpose
		file    io.Reader
		dst     *string
	}{{PurposeAvatar, in.AvatarFile, &acct.AvatarURL}, {PurposeHeader, in.HeaderFile, &acct.HeaderURL}} {
		if img.file == nil {
			continue
		}
		m, err := s.processProfileImage(ctx, acct, img.purpose, img.file)
		if err != nil {
			s.deleteFiles(ctx, uploaded)
			return nil, err
		}
		uploaded = append(uploaded, *m)
		*img.dst = s.MediaURL(m.OriginalKey())
	}
	return uploaded, nil
}

// replaceProfileImages stores the uploaded pictures' rows in place of the account's
// current ones, and drops the rows of a picture changed by URL. It returns the rows it
// replaced, whose files go once the transaction commits.
func replaceProfileImages(tx *gorm.DB, accountID int64, uploaded []MediaAttachment, in ProfileUpdate) ([]MediaAttachment, error) {
	var replaced []MediaAttachment
	for _, m := range uploaded {
		var old []MediaAttachment
		if err := tx.Where("account_id = ? AND purpose = ?", accountID, m.Purpose).Find(&old).Error; err != nil {
			return nil, fmt.Errorf("load profile images: %w", err)
		}
		if err := tx.Where("account_id = ? AND purpose = ?", accountID, m.Purpose).Delete(&MediaAttachment{}).Error; err != nil {
			return nil, fmt.Errorf("replace profile image: %w", err)
		}
		replaced = append(replaced, old...)
		if err := tx.Create(&m).Error; err != nil {
			return nil, fmt.Errorf("store profile image: %w", err)
		}
	}
	// A picture given as a URL replaces an uploaded one too.
	for _, u := range []struct {
		purpose MediaPurpose
		set     bool
	}{{PurposeAvatar, in.AvatarFile == nil && in.AvatarURL != nil}, {PurposeHeader, in.HeaderFile == nil && in.HeaderURL != nil}} {
		if !u.set {
			continue
		}
		var old []MediaAttachment
		if err := tx.Where("account_id = ? AND purpose = ?", accountID, u.purpose).Find(&old).Error; err != nil {
			return nil, fmt.Errorf("load profile images: %w", err)
		}
		if err := tx.Where("account_id = ? AND purpose = ?", accountID, u.purpose).Delete(&MediaAttachment{}).Error; err != nil {
			return nil, fmt.Errorf("drop profile image: %w", err)
		}
		replaced = append(replaced, old...)
	}
	return replaced, nil
}

func (s *Service) renderFields(ctx context.Context, in []FieldInput) (Fields, error) {
	if len(in) > MaxFields {
		return nil, Invalid("Too many profile fields (maximum is %d)", MaxFields)
	}
	out := Fields{}
	for _, f := range in {
		name, value := strings.TrimSpace(f.Name), strings.TrimSpace(f.Value)
		if name == "" && value == "" {
			continue
		}
		if utf8.RuneCountInString(name) > MaxFieldNameLen || utf8.RuneCountInString(value) > MaxFieldValueLen {
			return nil, Invalid("Profile field is too long (maximum is %d characters)", MaxFieldValueLen)
		}
		out = append(out, Field{Name: name, Value: s.renderInline(ctx, value), Source: value})
	}
	return out, nil
}

// renderText turns typed text into safe HTML, linking mentions of known accounts.
func (s *Service) renderText(ctx context.Context, text string) string {
	return markup.Render(text, s.linker(ctx))
}

// renderInline renders a short single-line value (profile fields) without the paragraph.
func (s *Service) renderInline(ctx context.Context, text string) string {
	html := s.renderText(ctx, text)
	html = strings.TrimPrefix(html, "<p>")
	return strings.TrimSuffix(html, "</p>")
}

func (s *Service) linker(ctx context.Context) markup.Linker {
	return markup.Linker{
		MentionURL: func(m markup.Mention) (string, bool) {
			a, err := s.LookupAccount(ctx, m.Username+"@"+m.Domain)
			if err != nil {
				return "", false
			}
			return a.URL, true
		},
		TagURL: s.TagURL,
	}
}

func isHTTPURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
