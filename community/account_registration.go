package community

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// Sign-up without the company's identity provider: Mastodon's registration, within
// the instance's registration settings (instance_settings.go), the invites staff hand
// out, and the approval moderators give accounts that signed up while approval is
// required.
//
// An invite is used by taking one of its uses with a single conditional UPDATE before
// the account is made, so that two people signing up at once cannot both take its last
// use; a sign-up that then fails gives its use back. An account invited by staff is
// approved at once: the invite is the approval.

// Audit log actions of registrations and invites.
const (
	ActionApproveAccount = "approve_account"
	ActionRejectAccount  = "reject_account"
	ActionCreateInvite   = "create_invite"
	ActionRevokeInvite   = "revoke_invite"
)

// Limits of registrations and invites.
const (
	MaxRegistrationReason = 1000
	MaxInviteComment      = 200
	MaxInviteUses         = 1000
	MaxInviteLifetime     = 365 * 24 * time.Hour
	MinInviteLifetime     = time.Minute
	maxListedInvites      = 200
	inviteCodeLength      = 12
)

// ErrPendingApproval refuses the login of an account that waits for a moderator.
var ErrPendingApproval = &Error{Kind: KindForbidden, Msg: "Your login is currently pending approval"}

// Registration is what a person signing up sends (Mastodon's POST /api/v1/accounts).
type Registration struct {
	Username string
	Email    string
	Password string
	// Agreement: the person accepted the instance's rules.
	Agreement bool
	Locale    string
	// Reason is what the person tells the moderators, when approval is required.
	Reason     string
	InviteCode string
}

// Registered is the account a registration made.
type Registered struct {
	Account *Account
	User    *User
	// Pending: the account waits for a moderator's approval.
	Pending bool
}

// Field error codes, Mastodon's.
const (
	ErrCodeBlank     = "ERR_BLANK"
	ErrCodeInvalid   = "ERR_INVALID"
	ErrCodeTooLong   = "ERR_TOO_LONG"
	ErrCodeTooShort  = "ERR_TOO_SHORT"
	ErrCodeTaken     = "ERR_TAKEN"
	ErrCodeReserved  = "ERR_RESERVED"
	ErrCodeAccepted  = "ERR_ACCEPTED"
	ErrCodeBlocked   = "ERR_BLOCKED"
	ErrCodeInclusion = "ERR_INCLUSION"
)

// FieldError is one problem with one field of a registration.
type FieldError struct {
	Field       string // username, email, password, agreement, locale, reason
	Code        string // ErrCode…
	Description string
}

// RegistrationError lists every problem of a registration, field by field, so that a
// sign-up form can show each beside its field. It is a KindInvalid error.
type RegistrationError struct {
	Fields []FieldError
}

func (e *RegistrationError) Error() string {
	parts := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		parts = append(parts, f.Description)
	}
	return "Validation failed: " + strings.Join(parts, ", ")
}

// Unwrap makes the error a KindInvalid domain error.
func (e *RegistrationError) Unwrap() error { return &Error{Kind: KindInvalid, Msg: e.Error()} }

// Register signs a person up within the registration settings: closed refuses
// everyone; invite needs a valid invite code; open takes anyone whose e-mail domain
// is allowed (an invite lets others in too). The person must accept the rules. While
// approval is required, an account made without an invite waits for a moderator
// (ApproveAccount) and cannot sign in until then.
func (s *Service) Register(ctx context.Context, r Registration) (*Registered, error) {
	settings, err := s.Settings(ctx)
	if err != nil {
		return nil, err
	}
	reg := settings.Registrations
	r.Username, r.Email = strings.TrimSpace(r.Username), strings.ToLower(strings.TrimSpace(r.Email))
	r.InviteCode, r.Reason = strings.TrimSpace(r.InviteCode), strings.TrimSpace(r.Reason)
	switch {
	case reg.Mode == RegistrationsClosed:
		return nil, Forbidden("Registrations are closed on this server")
	case reg.Mode == RegistrationsInvite && r.InviteCode == "":
		return nil, Forbidden("Signing up on this server needs an invite")
	}
	var invite *Invite
	if r.InviteCode != "" {
		if invite, err = s.CheckInvite(ctx, r.InviteCode); err != nil {
			return nil, err
		}
	}
	fields, err := s.registrationProblems(ctx, r, reg, invite != nil)
	if err != nil {
		return nil, err
	}
	if len(fields) > 0 {
		return nil, &RegistrationError{Fields: fields}
	}
	if invite != nil {
		if invite, err = s.takeInvite(ctx, r.InviteCode); err != nil {
			return nil, err
		}
	}
	pending := reg.ApprovalRequired && invite == nil
	in := NewLocalAccount{Username: r.Username, Password: r.Password, Email: r.Email, Pending: pending,
		Locale: r.Locale, Reason: r.Reason}
	if invite != nil {
		in.InviteID = &invite.ID
	}
	acct, user, err := s.CreateLocalAccount(ctx, in)
	if err != nil {
		if invite != nil {
			s.giveBackInvite(ctx, invite.ID)
		}
		if KindOf(err) == KindConflict {
			// Someone took the name or address since the checks: say which.
			if fields, ferr := s.registrationProblems(ctx, r, reg, invite != nil); ferr == nil && len(fields) > 0 {
				return nil, &RegistrationError{Fields: fields}
			}
		}
		return nil, err
	}
	return &Registered{Account: acct, User: user, Pending: pending}, nil
}

// registrationProblems checks every field and lists what is wrong with each.
func (s *Service) registrationProblems(ctx context.Context, r Registration, reg Registrations, invited bool) ([]FieldError, error) {
	var out []FieldError
	add := func(field, code, format string, args ...any) {
		out = append(out, FieldError{Field: field, Code: code, Description: fmt.Sprintf(format, args...)})
	}
	switch {
	case r.Username == "":
		add("username", ErrCodeBlank, "Username can't be blank")
	case len(r.Username) > MaxUsernameLen:
		add("username", ErrCodeTooLong, "Username is too long (maximum is %d characters)", MaxUsernameLen)
	case !usernamePattern.MatchString(r.Username):
		add("username", ErrCodeInvalid, "Username may only contain letters, numbers and underscores")
	default:
		code, err := s.usernameProblem(ctx, r.Username)
		if err != nil {
			return nil, err
		}
		switch code {
		case ErrCodeTaken:
			add("username", code, "Username has already been taken")
		case ErrCodeReserved:
			add("username", code, "Username is reserved")
		}
	}
	if fe, err := s.emailProblem(ctx, r.Email, reg, invited); err != nil {
		return nil, err
	} else if fe != nil {
		out = append(out, *fe)
	}
	if err := ValidatePassword(r.Password, r.Username); err != nil {
		code := ErrCodeInvalid
		switch {
		case r.Password == "":
			code = ErrCodeBlank
		case utf8.RuneCountInString(r.Password) < MinPasswordLen:
			code = ErrCodeTooShort
		case len(r.Password) > MaxPasswordLen:
			code = ErrCodeTooLong
		}
		add("password", code, "%s", err.Error())
	}
	if !r.Agreement {
		add("agreement", ErrCodeAccepted, "Agreement must be accepted")
	}
	if r.Locale != "" && !localePattern.MatchString(r.Locale) {
		add("locale", ErrCodeInclusion, "Locale is not included in the list")
	}
	if utf8.RuneCountInString(r.Reason) > MaxRegistrationReason {
		add("reason", ErrCodeTooLong, "Reason is too long (maximum is %d characters)", MaxRegistrationReason)
	}
	return out, nil
}

// usernameProblem says whether a local username is taken (by an account, a board or
// a deleted account) or reserved for the instance's own addresses.
func (s *Service) usernameProblem(ctx context.Context, username string) (string, error) {
	if reservedUsernames[strings.ToLower(username)] {
		return ErrCodeReserved, nil
	}
	var n int64
	db := s.read(ctx)
	if err := db.Model(&Account{}).Where("lower(username) = lower(?) AND domain = ''", username).Count(&n).Error; err != nil {
		return "", fmt.Errorf("check username: %w", err)
	}
	if n > 0 {
		return ErrCodeTaken, nil
	}
	retired, err := usernameRetired(db, username)
	if err != nil {
		return "", err
	}
	if retired {
		return ErrCodeTaken, nil
	}
	return "", nil
}

// localePattern is a language tag such as en, pt-BR or zh_Hant.
var localePattern = regexp.MustCompile(`^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8}){0,2}$`)

// reservedUsernames are names people would take for the instance itself.
var reservedUsernames = map[string]bool{
	"admin": true, "administrator": true, "root": true, "support": true, "help": true, "moderator": true,
	"postmaster": true, "webmaster": true, "hostmaster": true, "abuse": true, "security": true, "noreply": true,
	"instance": true, "tacit": true,
}

// emailProblem checks the address: present, well formed, not in use, and of an
// allowed domain when the sign-up is not invited.
func (s *Service) emailProblem(ctx context.Context, email string, reg Registrations, invited bool) (*FieldError, error) {
	problem := func(code, desc string) (*FieldError, error) {
		return &FieldError{Field: "email", Code: code, Description: desc}, nil
	}
	if email == "" {
		return problem(ErrCodeBlank, "Email can't be blank")
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || strings.ContainsAny(email, " <>") {
		return problem(ErrCodeInvalid, "Email is invalid")
	}
	if !invited && !EmailDomainAllowed(email, reg.AllowedEmailDomains) {
		return problem(ErrCodeBlocked, "Email is of a domain that may not sign up here")
	}
	var n int64
	if err := s.read(ctx).Model(&User{}).Where("email = ? AND email <> ''", email).Count(&n).Error; err != nil {
		return nil, fmt.Errorf("check email: %w", err)
	}
	if n > 0 {
		return problem(ErrCodeTaken, "Email has already been taken")
	}
	return nil, nil
}

// EmailDomainAllowed reports whether an address is of one of the domains, or of a
// subdomain of one; every address is when the list is empty.
func EmailDomainAllowed(email string, domains []string) bool {
	if len(domains) == 0 {
		return true
	}
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return false
	}
	host := strings.ToLower(email[at+1:])
	for _, d := range domains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// Invite is an invite code staff hand out: MaxUses sign-ups (0: any number) until
// ExpiresAt (nil: never), unless revoked.
type Invite struct {
	ID                 int64  `gorm:"primaryKey;autoIncrement:false"`
	Code               string `gorm:"not null"`
	CreatedByAccountID *int64
	Comment            string `gorm:"not null;default:''"`
	MaxUses            int    `gorm:"not null"`
	Uses               int    `gorm:"not null"`
	ExpiresAt          *time.Time
	RevokedAt          *time.Time
	CreatedAt          time.Time `gorm:"not null"`
}

// TableName implements gorm's tabler.
func (Invite) TableName() string { return "invites" }

// InviteState is whether an invite can still be used, and if not, why.
type InviteState string

// Invite states.
const (
	InviteActive  InviteState = "active"
	InviteExpired InviteState = "expired"
	InviteUsedUp  InviteState = "used_up"
	InviteRevoked InviteState = "revoked"
)

// State says whether the invite can be used at now.
func (i *Invite) State(now time.Time) InviteState {
	switch {
	case i.RevokedAt != nil:
		return InviteRevoked
	case i.ExpiresAt != nil && !now.Before(*i.ExpiresAt):
		return InviteExpired
	case i.MaxUses > 0 && i.Uses >= i.MaxUses:
		return InviteUsedUp
	}
	return InviteActive
}

// NewInvite is what an invite is made with.
type NewInvite struct {
	// MaxUses is how many accounts may sign up with it; 0 is any number.
	MaxUses int
	// ExpiresIn is how long it lasts; 0 is for ever.
	ExpiresIn time.Duration
	// Comment is a note for staff (whom it was for).
	Comment string
}

// CreateInvite makes an invite, as one of the instance's moderators or admins; a nil
// actor is the server's operator at the command line (`tacit admin invite`).
func (s *Service) CreateInvite(ctx context.Context, actor *Account, in NewInvite) (*Invite, error) {
	if actor != nil {
		if err := s.requireStaff(ctx, actor); err != nil {
			return nil, err
		}
	}
	in.Comment = strings.TrimSpace(in.Comment)
	switch {
	case in.MaxUses < 0 || in.MaxUses > MaxInviteUses:
		return nil, Invalid("Max uses must be between 0 (any number) and %d", MaxInviteUses)
	case in.ExpiresIn != 0 && (in.ExpiresIn < MinInviteLifetime || in.ExpiresIn > MaxInviteLifetime):
		return nil, Invalid("An invite expires after a minute at the soonest and a year at the latest")
	case utf8.RuneCountInString(in.Comment) > MaxInviteComment:
		return nil, Invalid("Comment is too long (maximum is %d characters)", MaxInviteComment)
	}
	now := s.clock()
	inv := &Invite{ID: NewID(), Code: newInviteCode(), Comment: in.Comment, MaxUses: in.MaxUses, CreatedAt: now}
	if actor != nil {
		inv.CreatedByAccountID = &actor.ID
	}
	if in.ExpiresIn != 0 {
		at := now.Add(in.ExpiresIn)
		inv.ExpiresAt = &at
	}
	err := s.tx(ctx, func(tx *gorm.DB, _ *[]Event) error {
		if err := tx.Create(inv).Error; err != nil {
			return fmt.Errorf("create invite: %w", err)
		}
		return s.logStaffAction(tx, actor, ActionCreateInvite, s.InviteURL(inv.Code), "", inviteDetail(inv))
	})
	if err != nil {
		return nil, err
	}
	return inv, nil
}

func inviteDetail(inv *Invite) string {
	uses, expires := "any number of uses", "never expires"
	if inv.MaxUses > 0 {
		uses = fmt.Sprintf("%d uses", inv.MaxUses)
	}
	if inv.ExpiresAt != nil {
		expires = "expires " + inv.ExpiresAt.Format(time.RFC3339)
	}
	d := uses + ", " + expires
	if inv.Comment != "" {
		d += ": " + inv.Comment
	}
	return d
}

// InviteURL is the sign-up page's address with an invite code.
func (s *Service) InviteURL(code string) string { return s.baseURL + "/signup?invite=" + code }

// inviteAlphabet leaves out letters and digits people confuse (0/o, 1/l/i).
const inviteAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// newInviteCode draws a code of about 59 bits: too many to guess at the sign-up rate
// limit.
func newInviteCode() string {
	b := make([]byte, inviteCodeLength)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = inviteAlphabet[int(b[i])%len(inviteAlphabet)]
	}
	return string(b)
}

// Invites lists the instance's invites, newest first, for its moderators and admins
// (a nil actor: the operator at the command line).
func (s *Service) Invites(ctx context.Context, actor *Account) ([]Invite, error) {
	if actor != nil {
		if err := s.requireStaff(ctx, actor); err != nil {
			return nil, err
		}
	}
	var out []Invite
	if err := s.read(ctx).Order("id DESC").Limit(maxListedInvites).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list invites: %w", err)
	}
	return out, nil
}

// RevokeInvite ends an invite before its time; accounts made with it stay.
func (s *Service) RevokeInvite(ctx context.Context, actor *Account, code string) error {
	if actor != nil {
		if err := s.requireStaff(ctx, actor); err != nil {
			return err
		}
	}
	code = strings.ToLower(strings.TrimSpace(code))
	return s.tx(ctx, func(tx *gorm.DB, _ *[]Event) error {
		res := tx.Model(&Invite{}).Where("code = ? AND revoked_at IS NULL", code).Update("revoked_at", s.clock())
		if res.Error != nil {
			return fmt.Errorf("revoke invite: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return &Error{Kind: KindNotFound, Msg: "No invite with this code, or it was already revoked"}
		}
		return s.logStaffAction(tx, actor, ActionRevokeInvite, s.InviteURL(code), "", "")
	})
}

// CheckInvite returns the invite with code if it can be used, and otherwise a
// Forbidden error that says why.
func (s *Service) CheckInvite(ctx context.Context, code string) (*Invite, error) {
	var inv Invite
	err := s.read(ctx).Where("code = ?", strings.ToLower(strings.TrimSpace(code))).Take(&inv).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, Forbidden("This invite code is not valid")
	}
	if err != nil {
		return nil, fmt.Errorf("load invite: %w", err)
	}
	if err := inviteRefusal(inv.State(s.clock())); err != nil {
		return nil, err
	}
	return &inv, nil
}

func inviteRefusal(st InviteState) error {
	switch st {
	case InviteExpired:
		return Forbidden("This invite has expired")
	case InviteUsedUp:
		return Forbidden("This invite has been used as many times as it allows")
	case InviteRevoked:
		return Forbidden("This invite has been revoked")
	}
	return nil
}

// takeInvite takes one use of an invite in one conditional statement, which the
// database runs for one sign-up at a time: of two sign-ups racing for the last use,
// one finds nothing to update and is refused.
func (s *Service) takeInvite(ctx context.Context, code string) (*Invite, error) {
	code = strings.ToLower(code)
	now := s.clock()
	res := s.db.WithContext(ctx).Model(&Invite{}).
		Where("code = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) AND (max_uses = 0 OR uses < max_uses)", code, now).
		UpdateColumn("uses", gorm.Expr("uses + 1"))
	if res.Error != nil {
		return nil, fmt.Errorf("use invite: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		if _, err := s.CheckInvite(ctx, code); err != nil {
			return nil, err
		}
		// Usable again by the time of the read (a failed sign-up gave its use back):
		// refused all the same, as it was not when this one asked.
		return nil, inviteRefusal(InviteUsedUp)
	}
	var taken Invite
	if err := s.read(ctx).Where("code = ?", code).Take(&taken).Error; err != nil {
		return nil, fmt.Errorf("load invite: %w", err)
	}
	return &taken, nil
}

// giveBackInvite returns a use taken by a sign-up that then failed. It runs on a
// context of its own: the request's may be what ended.
func (s *Service) giveBackInvite(ctx context.Context, id int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := s.db.WithContext(ctx).Model(&Invite{}).Where("id = ? AND uses > 0", id).
		UpdateColumn("uses", gorm.Expr("uses - 1")).Error
	if err != nil {
		s.log.ErrorContext(ctx, "give back the use of an invite", "invite_id", id, "err", err)
	}
}

// PendingAccounts lists the accounts that wait for a moderator's approval, newest
// first, for the instance's moderators and admins.
func (s *Service) PendingAccounts(ctx context.Context, actor *Account, page Page) ([]AdminAccountView, error) {
	if err := s.requireStaff(ctx, actor); err != nil {
		return nil, err
	}
	db := s.read(ctx).Model(&Account{}).
		Where("accounts.domain = '' AND EXISTS (SELECT 1 FROM users WHERE users.account_id = accounts.id AND NOT users.approved)")
	rows, err := findPage[Account](db, page.Normalize(100, 200), "accounts.id", "accounts")
	if err != nil {
		return nil, err
	}
	return s.adminViews(ctx, rows)
}

// pendingUser loads the login of an account that waits for approval, as a moderator.
func (s *Service) pendingUser(ctx context.Context, actor *Account, accountID int64) (*Account, *User, error) {
	if err := s.requireStaff(ctx, actor); err != nil {
		return nil, nil, err
	}
	acct, err := s.accountByID(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	user, err := s.UserByAccountID(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	if user.Approved {
		return nil, nil, Forbidden("This account is not waiting for approval")
	}
	return acct, user, nil
}

// ApproveAccount lets an account that signed up while approval was required sign in,
// as a moderator; it is announced (AccountCreated) only now.
func (s *Service) ApproveAccount(ctx context.Context, actor *Account, accountID int64) error {
	acct, user, err := s.pendingUser(ctx, actor, accountID)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		res := tx.Model(&User{}).Where("id = ? AND NOT approved", user.ID).
			Updates(map[string]any{"approved": true, "updated_at": s.clock()})
		if res.Error != nil {
			return fmt.Errorf("approve account: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return Forbidden("This account is not waiting for approval")
		}
		*ev = append(*ev, AccountCreated{Account: *acct})
		return s.logStaffAction(tx, actor, ActionApproveAccount, acct.URI, "", acct.Username)
	})
}

// RejectAccount deletes an account that waits for approval, as a moderator. Nothing
// of it was ever announced, so it leaves no tombstone: its username and e-mail address
// may sign up again.
func (s *Service) RejectAccount(ctx context.Context, actor *Account, accountID int64) error {
	acct, user, err := s.pendingUser(ctx, actor, accountID)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		// Touching the row locks it until the deletion commits, so that an approval
		// racing this rejection waits and then finds nothing to approve; approved
		// meanwhile, the row no longer matches and the approval wins.
		res := tx.Model(&User{}).Where("id = ? AND NOT approved", user.ID).Update("updated_at", s.clock())
		if res.Error != nil {
			return fmt.Errorf("check account: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return Forbidden("This account is not waiting for approval")
		}
		if err := removeAccount(tx, ev, acct.ID); err != nil {
			return err
		}
		return s.logStaffAction(tx, actor, ActionRejectAccount, acct.URI, "", acct.Username+" <"+user.Email+">")
	})
}
