package community

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The instance's own moderation of accounts: what its moderators see of them, and the
// sanctions they apply (silence, suspend, restore). The domains federation is cut from
// or opened to are in moderation_domains.go. Every action is written to the audit log.

// AdminAccountView is an account as the instance's moderators see it.
type AdminAccountView struct {
	Account  *Account
	User     *User // nil for remote accounts and boards
	Sanction AccountSanction
}

// AdminAccountQuery filters the accounts moderators list.
type AdminAccountQuery struct {
	Local, Remote                        bool
	Silenced, Suspended, Disabled, Staff bool
	Username, DisplayName, Email, Domain string
	Page                                 Page
}

// AdminAccounts lists accounts for the instance's moderators, newest first.
func (s *Service) AdminAccounts(ctx context.Context, actor *Account, q AdminAccountQuery) ([]AdminAccountView, error) {
	if err := s.requireStaff(ctx, actor); err != nil {
		return nil, err
	}
	db := s.read(ctx).Model(&Account{})
	switch {
	case q.Local && !q.Remote:
		db = db.Where("accounts.domain = ''")
	case q.Remote && !q.Local:
		db = db.Where("accounts.domain <> ''")
	}
	if q.Domain != "" {
		db = db.Where("accounts.domain = ?", strings.ToLower(q.Domain))
	}
	if q.Username != "" {
		db = db.Where("lower(accounts.username) LIKE ? ESCAPE '!'", likePrefix(strings.ToLower(q.Username)))
	}
	if q.DisplayName != "" {
		db = db.Where("lower(accounts.display_name) LIKE ? ESCAPE '!'", "%"+strings.TrimSuffix(likePrefix(strings.ToLower(q.DisplayName)), "%")+"%")
	}
	if q.Silenced {
		db = db.Where("EXISTS (SELECT 1 FROM account_sanctions WHERE account_sanctions.account_id = accounts.id AND account_sanctions.silenced)")
	}
	if q.Suspended {
		db = db.Where("EXISTS (SELECT 1 FROM account_sanctions WHERE account_sanctions.account_id = accounts.id AND account_sanctions.suspended)")
	}
	if q.Disabled {
		db = db.Where("EXISTS (SELECT 1 FROM users WHERE users.account_id = accounts.id AND users.disabled)")
	}
	if q.Staff {
		db = db.Where("EXISTS (SELECT 1 FROM users WHERE users.account_id = accounts.id AND users.role IN ('moderator','admin'))")
	}
	if q.Email != "" {
		db = db.Where("EXISTS (SELECT 1 FROM users WHERE users.account_id = accounts.id AND users.email LIKE ? ESCAPE '!')",
			likePrefix(strings.ToLower(q.Email)))
	}
	rows, err := findPage[Account](db, q.Page.Normalize(100, 200), "accounts.id", "accounts")
	if err != nil {
		return nil, err
	}
	return s.adminViews(ctx, rows)
}

// AdminAccount returns one account for the instance's moderators.
func (s *Service) AdminAccount(ctx context.Context, actor *Account, id int64) (*AdminAccountView, error) {
	if err := s.requireStaff(ctx, actor); err != nil {
		return nil, err
	}
	a, err := s.accountByID(ctx, id)
	if err != nil {
		return nil, err
	}
	views, err := s.adminViews(ctx, []Account{*a})
	if err != nil {
		return nil, err
	}
	return &views[0], nil
}

// AdminAccountViews completes accounts with their logins and sanctions.
func (s *Service) AdminAccountViews(ctx context.Context, accounts []Account) ([]AdminAccountView, error) {
	return s.adminViews(ctx, accounts)
}

func (s *Service) adminViews(ctx context.Context, accounts []Account) ([]AdminAccountView, error) {
	out := make([]AdminAccountView, 0, len(accounts))
	if len(accounts) == 0 {
		return out, nil
	}
	ids := make([]int64, len(accounts))
	for i, a := range accounts {
		ids[i] = a.ID
	}
	var users []User
	if err := s.read(ctx).Where("account_id IN ?", ids).Find(&users).Error; err != nil {
		return nil, fmt.Errorf("load users: %w", err)
	}
	var sanctions []AccountSanction
	if err := s.read(ctx).Where("account_id IN ?", ids).Find(&sanctions).Error; err != nil {
		return nil, fmt.Errorf("load sanctions: %w", err)
	}
	for i := range accounts {
		v := AdminAccountView{Account: &accounts[i], Sanction: AccountSanction{AccountID: accounts[i].ID}}
		for j := range users {
			if users[j].AccountID == accounts[i].ID {
				v.User = &users[j]
			}
		}
		for _, sa := range sanctions {
			if sa.AccountID == accounts[i].ID {
				v.Sanction = sa
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// AccountActionType is what moderators do to an account (Mastodon's admin actions).
type AccountActionType string

// Account actions.
const (
	AccountActionNone      AccountActionType = "none"
	AccountActionDisable   AccountActionType = "disable"
	AccountActionSilence   AccountActionType = "silence"
	AccountActionSuspend   AccountActionType = "suspend"
	AccountActionSensitive AccountActionType = "sensitive"
	// The undoing actions, which Mastodon offers as their own endpoints.
	AccountActionUnsilence AccountActionType = "unsilence"
	AccountActionUnsuspend AccountActionType = "unsuspend"
	AccountActionEnable    AccountActionType = "enable"
)

// AccountAction is a moderator's decision about an account, possibly settling a report.
type AccountAction struct {
	Type     AccountActionType
	ReportID int64
	Text     string
}

// AccountSanctioned: moderators silenced, suspended or restored an account.
type AccountSanctioned struct {
	Account  Account
	Sanction AccountSanction
}

func (AccountSanctioned) eventName() string { return "account.sanctioned" }

// ActOnAccount applies a moderator's decision to an account: silenced accounts stay
// out of public timelines; suspended ones are hidden everywhere and, when local, can
// no longer log in (remote ones can no longer deliver here); disabled local accounts
// cannot log in. A report named with the action is resolved by it. Moderators act on
// users; only admins act on other staff, and nobody on themselves.
func (s *Service) ActOnAccount(ctx context.Context, actor *Account, id int64, in AccountAction) (*AdminAccountView, error) {
	if err := s.requireStaff(ctx, actor); err != nil {
		return nil, err
	}
	target, err := s.accountByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if target.ID == actor.ID {
		return nil, Forbidden("You cannot act on your own account")
	}
	actorRole, err := s.roleOf(ctx, s.db, actor)
	if err != nil {
		return nil, err
	}
	targetRole, err := s.roleOf(ctx, s.db, target)
	if err != nil {
		return nil, err
	}
	if targetRole != RoleUser && actorRole != RoleAdmin {
		return nil, Forbidden("Only admins can act on the instance's moderators and admins")
	}
	user, err := s.loginOf(ctx, target)
	if err != nil {
		return nil, err
	}
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		return s.actOnAccountTx(tx, ev, accountActor{account: actor}, target, user, in)
	})
	if err != nil {
		return nil, err
	}
	return s.AdminAccount(ctx, actor, id)
}

// accountActor is who applies an account action: one of the instance's moderators
// (account), or, with no account, a part of the system acting under a name of its own
// (provisioning from the company's identity provider), which the audit log shows as
// the actor.
type accountActor struct {
	account *Account
	system  string
}

// logAccountAction records an account action in the audit log under its actor.
func (s *Service) logAccountAction(tx *gorm.DB, by accountActor, action, objectURI, reason, detail string) error {
	if by.account != nil {
		return s.logStaffAction(tx, by.account, action, objectURI, reason, detail)
	}
	_, err := s.logModeration(tx, nil, ModerationLogEntry{ActorURI: by.system, Action: action, ObjectURI: objectURI,
		Reason: reason, Detail: detail}, nil, nil)
	return err
}

// loginOf is a local account's login, or nil for remote accounts and accounts that
// have none.
func (s *Service) loginOf(ctx context.Context, target *Account) (*User, error) {
	if !target.IsLocal() {
		return nil, nil
	}
	u, err := s.UserByAccountID(ctx, target.ID)
	if err == nil {
		return u, nil
	}
	if KindOf(err) == KindNotFound {
		return nil, nil
	}
	return nil, err
}

// actOnAccountTx applies an account action in tx, after the caller checked that by
// may apply it to target; user is target's login (nil if it has none).
func (s *Service) actOnAccountTx(tx *gorm.DB, ev *[]Event, by accountActor, target *Account, user *User, in AccountAction) error {
	text := truncateRunes(strings.TrimSpace(in.Text), MaxModerationReason)
	var sa AccountSanction
	err := tx.Where("account_id = ?", target.ID).Take(&sa).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		sa = AccountSanction{AccountID: target.ID}
	} else if err != nil {
		return fmt.Errorf("load sanction: %w", err)
	}
	disabled := user != nil && user.Disabled
	var action string
	switch in.Type {
	case AccountActionNone, "":
		action = ActionWarn
	case AccountActionSilence:
		sa.Silenced, action = true, ActionSilence
	case AccountActionUnsilence:
		sa.Silenced, action = false, ActionUnsilence
	case AccountActionSuspend:
		sa.Suspended, action = true, ActionSuspend
		disabled = user != nil
	case AccountActionUnsuspend:
		sa.Suspended, action = false, ActionUnsuspend
		disabled = false
	case AccountActionDisable:
		if user == nil {
			return Invalid("Only local accounts with a login can be disabled")
		}
		disabled, action = true, ActionDisable
	case AccountActionEnable:
		if user == nil {
			return Invalid("Only local accounts with a login can be enabled")
		}
		disabled, action = false, ActionEnable
	case AccountActionSensitive:
		return Invalid("Marking accounts' media as sensitive is not supported on this server")
	default:
		return Invalid("Type %q is not one of none, disable, silence, suspend", in.Type)
	}
	sa.UpdatedAt = s.clock()
	if err := tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "account_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"silenced", "suspended", "updated_at"}),
	}).Create(&sa).Error; err != nil {
		return fmt.Errorf("store sanction: %w", err)
	}
	if user != nil && user.Disabled != disabled {
		if err := tx.Model(&User{}).Where("id = ?", user.ID).
			Updates(map[string]any{"disabled": disabled, "updated_at": s.clock()}).Error; err != nil {
			return fmt.Errorf("disable login: %w", err)
		}
	}
	*ev = append(*ev, AccountSanctioned{Account: *target, Sanction: sa})
	if err := s.logAccountAction(tx, by, action, target.URI, text, ""); err != nil {
		return err
	}
	if in.ReportID == 0 {
		return nil
	}
	if by.account == nil {
		return Invalid("Only moderators resolve reports")
	}
	r, err := reportByID(tx, in.ReportID)
	if err != nil {
		return err
	}
	return s.handleReportTx(tx, by.account, r, ReportResolve)
}

// IsSuspended reports whether moderators suspended an account.
func (s *Service) IsSuspended(ctx context.Context, accountID int64) (bool, error) {
	var n int64
	if err := s.read(ctx).Model(&AccountSanction{}).Where("account_id = ? AND suspended", accountID).Count(&n).Error; err != nil {
		return false, fmt.Errorf("check suspension: %w", err)
	}
	return n > 0, nil
}

// notSilencedSQL keeps silenced accounts, and accounts of silenced domains, out of
// public timelines; their followers still see them at home.
func notSilencedSQL(db *gorm.DB) *gorm.DB { return notSilencedSQLWith(everyFact)(db) }

// notSilencedSQLWith is notSilencedSQL without the conditions facts rule out.
func notSilencedSQLWith(facts readerFacts) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		if facts.sanctions {
			db = db.Where(`NOT EXISTS (SELECT 1 FROM account_sanctions
				WHERE account_sanctions.account_id = statuses.account_id AND account_sanctions.silenced)`)
		}
		if facts.silencedDomains {
			db = db.Where(`NOT EXISTS (SELECT 1 FROM accounts AS silenced_authors JOIN domain_blocks
				ON domain_blocks.domain = silenced_authors.domain AND domain_blocks.severity = 'silence'
				WHERE silenced_authors.id = statuses.account_id)`)
		}
		return db
	}
}

// likePrefix turns s into a LIKE pattern matching what starts with it, with LIKE's
// special characters escaped (ESCAPE '!').
func likePrefix(s string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return r.Replace(s) + "%"
}
