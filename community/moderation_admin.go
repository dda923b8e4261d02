package community

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The instance's own moderation: sanctions on accounts, and the domains federation is
// cut from (blocks) or opened to (allows). Every action is written to the audit log.

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
	a, err := s.AccountByID(ctx, id)
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
	target, err := s.AccountByID(ctx, id)
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
	var user *User
	if target.IsLocal() {
		if u, err := s.UserByAccountID(ctx, target.ID); err == nil {
			user = u
		} else if KindOf(err) != KindNotFound {
			return nil, err
		}
	}
	text := truncateRunes(strings.TrimSpace(in.Text), MaxModerationReason)
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
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
		if err := s.logStaffAction(tx, actor, action, target.URI, text, ""); err != nil {
			return err
		}
		if in.ReportID == 0 {
			return nil
		}
		r, err := reportByID(tx, in.ReportID)
		if err != nil {
			return err
		}
		return s.handleReportTx(tx, actor, r, ReportResolve)
	})
	if err != nil {
		return nil, err
	}
	return s.AdminAccount(ctx, actor, id)
}

// IsSuspended reports whether moderators suspended an account.
func (s *Service) IsSuspended(ctx context.Context, accountID int64) (bool, error) {
	var n int64
	if err := s.read(ctx).Model(&AccountSanction{}).Where("account_id = ? AND suspended", accountID).Count(&n).Error; err != nil {
		return false, fmt.Errorf("check suspension: %w", err)
	}
	return n > 0, nil
}

// Domain rules. Federation asks about a host on every request, so the rules are kept
// in memory and replaced whenever a moderator changes them.

// DomainSeverity is how far a domain block goes.
type DomainSeverity string

// Domain block severities, as Mastodon's.
const (
	// SeveritySuspend cuts federation with the domain: nothing is received from it,
	// delivered to it, or fetched from it (Tacit's default).
	SeveritySuspend DomainSeverity = "suspend"
	// SeveritySilence keeps the domain's posts out of public timelines.
	SeveritySilence DomainSeverity = "silence"
	// SeverityNoop only applies the reject_media and reject_reports flags.
	SeverityNoop DomainSeverity = "noop"
)

type domainRules struct {
	blocks map[string]DomainBlock
	allows map[string]bool
}

// domainCache holds the rules; loaded on first use.
type domainCache struct {
	mu    sync.RWMutex
	rules *domainRules
}

func (s *Service) rules() *domainRules {
	s.domains.mu.RLock()
	r := s.domains.rules
	s.domains.mu.RUnlock()
	if r != nil {
		return r
	}
	if err := s.reloadDomainRules(context.Background()); err != nil {
		s.log.Error("load domain rules", "err", err)
		return &domainRules{}
	}
	s.domains.mu.RLock()
	defer s.domains.mu.RUnlock()
	return s.domains.rules
}

// reloadDomainRules reads the rules from the database into memory.
func (s *Service) reloadDomainRules(ctx context.Context) error {
	var blocks []DomainBlock
	if err := s.read(ctx).Find(&blocks).Error; err != nil {
		return fmt.Errorf("load domain blocks: %w", err)
	}
	var allows []DomainAllow
	if err := s.read(ctx).Find(&allows).Error; err != nil {
		return fmt.Errorf("load domain allows: %w", err)
	}
	r := &domainRules{blocks: make(map[string]DomainBlock, len(blocks)), allows: make(map[string]bool, len(allows))}
	for _, b := range blocks {
		r.blocks[b.Domain] = b
	}
	for _, a := range allows {
		r.allows[a.Domain] = true
	}
	s.domains.mu.Lock()
	s.domains.rules = r
	s.domains.mu.Unlock()
	return nil
}

// domainCandidates are the names a host matches rules under: itself, itself without
// its port, and its parent domains (a rule for example.com covers a.example.com).
func domainCandidates(host string) []string {
	host = strings.ToLower(strings.TrimSpace(host))
	out := []string{host}
	name := host
	if h, _, ok := strings.Cut(host, ":"); ok && !strings.Contains(h, "[") {
		name = h
		out = append(out, name)
	}
	for {
		_, parent, ok := strings.Cut(name, ".")
		if !ok || !strings.Contains(parent, ".") {
			break
		}
		out = append(out, parent)
		name = parent
	}
	return out
}

// domainBlock returns the block that covers host, or nil.
func (s *Service) domainBlock(host string) *DomainBlock {
	r := s.rules()
	if len(r.blocks) == 0 {
		return nil
	}
	for _, d := range domainCandidates(host) {
		if b, ok := r.blocks[d]; ok {
			return &b
		}
	}
	return nil
}

// DomainBlocked reports whether federation with host is cut (a suspend block).
func (s *Service) DomainBlocked(host string) bool {
	b := s.domainBlock(host)
	return b != nil && DomainSeverity(b.Severity) == SeveritySuspend
}

// DomainAllowed reports whether host was opened to federation by a domain allow.
func (s *Service) DomainAllowed(host string) bool {
	r := s.rules()
	for _, d := range domainCandidates(host) {
		if r.allows[d] {
			return true
		}
	}
	return false
}

// NormalizeDomain checks and lowercases a domain as moderators type it: a host name,
// possibly with a port, without scheme or path.
func NormalizeDomain(raw string) (string, error) {
	d := strings.ToLower(strings.TrimSpace(raw))
	d = strings.TrimPrefix(strings.TrimPrefix(d, "https://"), "http://")
	d = strings.TrimSuffix(d, "/")
	if d == "" {
		return "", Invalid("Domain can't be blank")
	}
	u, err := url.Parse("http://" + d)
	if err != nil || u.Host != d || u.User != nil || strings.ContainsAny(d, "/?#@ *") || len(d) > 253 {
		return "", Invalid("%q is not a domain name", raw)
	}
	return d, nil
}

// DomainBlockInput is a domain block as moderators set it; nil fields keep their
// value on update.
type DomainBlockInput struct {
	Domain         string
	Severity       *DomainSeverity
	RejectMedia    *bool
	RejectReports  *bool
	PrivateComment *string
	PublicComment  *string
	Obfuscate      *bool
}

// DomainRulesChanged: a domain block or allow changed, so that adapters caching
// connections or keys for the domain drop them.
type DomainRulesChanged struct{ Domain string }

func (DomainRulesChanged) eventName() string { return "domain.rules" }

// ListDomainBlocks lists the domain blocks, newest first.
func (s *Service) ListDomainBlocks(ctx context.Context, actor *Account, p Page) ([]DomainBlock, error) {
	if err := s.requireStaff(ctx, actor); err != nil {
		return nil, err
	}
	return findPage[DomainBlock](s.read(ctx).Model(&DomainBlock{}), p.Normalize(100, 200), "id", "domain blocks")
}

// GetDomainBlock returns one domain block.
func (s *Service) GetDomainBlock(ctx context.Context, actor *Account, id int64) (*DomainBlock, error) {
	if err := s.requireStaff(ctx, actor); err != nil {
		return nil, err
	}
	var b DomainBlock
	if err := s.read(ctx).Take(&b, id).Error; err != nil {
		return nil, notFound(err, "domain block")
	}
	return &b, nil
}

func applyBlockInput(b *DomainBlock, in DomainBlockInput) error {
	if in.Severity != nil {
		switch *in.Severity {
		case SeveritySuspend, SeveritySilence, SeverityNoop:
			b.Severity = string(*in.Severity)
		default:
			return Invalid("Severity %q is not one of silence, suspend, noop", *in.Severity)
		}
	}
	if in.RejectMedia != nil {
		b.RejectMedia = *in.RejectMedia
	}
	if in.RejectReports != nil {
		b.RejectReports = *in.RejectReports
	}
	if in.PrivateComment != nil {
		b.PrivateComment = truncateRunes(*in.PrivateComment, MaxModerationReason)
	}
	if in.PublicComment != nil {
		b.PublicComment = truncateRunes(*in.PublicComment, MaxModerationReason)
	}
	if in.Obfuscate != nil {
		b.Obfuscate = *in.Obfuscate
	}
	return nil
}

// ErrDomainBlockExists is returned when a domain is blocked already.
var ErrDomainBlockExists = Conflict("This domain is already blocked")

// CreateDomainBlock blocks a domain; with the default severity (suspend) federation
// with it stops at once.
func (s *Service) CreateDomainBlock(ctx context.Context, actor *Account, in DomainBlockInput) (*DomainBlock, error) {
	if err := s.requireStaff(ctx, actor); err != nil {
		return nil, err
	}
	domain, err := NormalizeDomain(in.Domain)
	if err != nil {
		return nil, err
	}
	if domain == strings.ToLower(s.host) {
		return nil, Invalid("An instance cannot block itself")
	}
	now := s.clock()
	b := &DomainBlock{ID: NewID(), Domain: domain, Severity: string(SeveritySuspend), CreatedAt: now, UpdatedAt: now}
	if err := applyBlockInput(b, in); err != nil {
		return nil, err
	}
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(b)
		if res.Error != nil {
			return fmt.Errorf("create domain block: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrDomainBlockExists
		}
		*ev = append(*ev, DomainRulesChanged{Domain: domain})
		return s.logStaffAction(tx, actor, ActionBlockDomain, domain, b.PrivateComment, b.Severity)
	})
	if err != nil {
		return nil, err
	}
	return b, s.reloadDomainRules(ctx)
}

// UpdateDomainBlock changes a domain block.
func (s *Service) UpdateDomainBlock(ctx context.Context, actor *Account, id int64, in DomainBlockInput) (*DomainBlock, error) {
	b, err := s.GetDomainBlock(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if err := applyBlockInput(b, in); err != nil {
		return nil, err
	}
	b.UpdatedAt = s.clock()
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		if err := tx.Model(&DomainBlock{}).Where("id = ?", id).Select("severity", "reject_media", "reject_reports",
			"private_comment", "public_comment", "obfuscate", "updated_at").Updates(b).Error; err != nil {
			return fmt.Errorf("update domain block: %w", err)
		}
		*ev = append(*ev, DomainRulesChanged{Domain: b.Domain})
		return s.logStaffAction(tx, actor, ActionUpdateBlock, b.Domain, b.PrivateComment, b.Severity)
	})
	if err != nil {
		return nil, err
	}
	return b, s.reloadDomainRules(ctx)
}

// DeleteDomainBlock lifts a domain block.
func (s *Service) DeleteDomainBlock(ctx context.Context, actor *Account, id int64) error {
	b, err := s.GetDomainBlock(ctx, actor, id)
	if err != nil {
		return err
	}
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		if err := tx.Delete(&DomainBlock{}, id).Error; err != nil {
			return fmt.Errorf("delete domain block: %w", err)
		}
		*ev = append(*ev, DomainRulesChanged{Domain: b.Domain})
		return s.logStaffAction(tx, actor, ActionUnblockDomain, b.Domain, "", "")
	})
	if err != nil {
		return err
	}
	return s.reloadDomainRules(ctx)
}

// ListDomainAllows lists the domain allows, newest first.
func (s *Service) ListDomainAllows(ctx context.Context, actor *Account, p Page) ([]DomainAllow, error) {
	if err := s.requireStaff(ctx, actor); err != nil {
		return nil, err
	}
	return findPage[DomainAllow](s.read(ctx).Model(&DomainAllow{}), p.Normalize(100, 200), "id", "domain allows")
}

// GetDomainAllow returns one domain allow.
func (s *Service) GetDomainAllow(ctx context.Context, actor *Account, id int64) (*DomainAllow, error) {
	if err := s.requireStaff(ctx, actor); err != nil {
		return nil, err
	}
	var a DomainAllow
	if err := s.read(ctx).Take(&a, id).Error; err != nil {
		return nil, notFound(err, "domain allow")
	}
	return &a, nil
}

// CreateDomainAllow opens federation to a domain outside the company (world-scope
// content only, as in open mode); allowing it again returns the existing allow.
func (s *Service) CreateDomainAllow(ctx context.Context, actor *Account, domain string) (*DomainAllow, error) {
	if err := s.requireStaff(ctx, actor); err != nil {
		return nil, err
	}
	d, err := NormalizeDomain(domain)
	if err != nil {
		return nil, err
	}
	a := &DomainAllow{ID: NewID(), Domain: d, CreatedAt: s.clock()}
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(a)
		if res.Error != nil {
			return fmt.Errorf("create domain allow: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return tx.Where("domain = ?", d).Take(a).Error
		}
		*ev = append(*ev, DomainRulesChanged{Domain: d})
		return s.logStaffAction(tx, actor, ActionAllowDomain, d, "", "")
	})
	if err != nil {
		return nil, err
	}
	return a, s.reloadDomainRules(ctx)
}

// DeleteDomainAllow closes a domain opened by an allow.
func (s *Service) DeleteDomainAllow(ctx context.Context, actor *Account, id int64) error {
	a, err := s.GetDomainAllow(ctx, actor, id)
	if err != nil {
		return err
	}
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		if err := tx.Delete(&DomainAllow{}, id).Error; err != nil {
			return fmt.Errorf("delete domain allow: %w", err)
		}
		*ev = append(*ev, DomainRulesChanged{Domain: a.Domain})
		return s.logStaffAction(tx, actor, ActionDisallowDomain, a.Domain, "", "")
	})
	if err != nil {
		return err
	}
	return s.reloadDomainRules(ctx)
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
