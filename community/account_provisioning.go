package community

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
	"gorm.io/gorm"
)

// Provisioning: the company's identity provider creates, updates, deactivates and
// removes the instance's accounts, and puts them in groups that decide their role
// (SCIM 2.0 is the protocol; this file knows nothing of it). A provisioned account is
// an ordinary local account without a password, plus a record of what the provider
// calls it. Deactivation is a suspension applied in the provider's name: the login is
// disabled, the account disappears for everyone (peers' fetches of it and its posts
// answer 404, the directory leaves it out) and nothing it wrote is lost, so that
// re-activation restores it whole. The caller revokes the account's tokens.

// ProvisionedUser is what the identity provider knows of a local account.
type ProvisionedUser struct {
	AccountID int64 `gorm:"primaryKey;autoIncrement:false"`
	// UserName is the provider's unique name for the person (Entra ID sends the user
	// principal name, alice@corp.example); the account's username is derived from it
	// once, at creation (ProvisionedUsername), and never changes after.
	UserName      string `gorm:"not null"`
	ExternalID    string `gorm:"not null;default:''"`
	GivenName     string `gorm:"not null;default:''"`
	FamilyName    string `gorm:"not null;default:''"`
	FormattedName string `gorm:"not null;default:''"`
	DisplayName   string `gorm:"not null;default:''"`
	// EmailType is the type the provider gave the login's address ("work"…).
	EmailType string `gorm:"not null;default:''"`
	Active    bool   `gorm:"not null;default:true"`
	// SuspendedByProvisioning: the provider's deactivation suspended the account (it
	// was not suspended before), so its re-activation lifts the suspension; one a
	// moderator decided stays.
	SuspendedByProvisioning bool `gorm:"not null;default:false"`
	// DeprovisionedAt is when the provider removed the person: the account stays,
	// suspended, with everything it wrote, and the provider no longer sees it.
	DeprovisionedAt *time.Time
	CreatedAt       time.Time `gorm:"not null"`
	UpdatedAt       time.Time `gorm:"not null"`
}

// ProvisionedGroup is a group of the identity provider. Groups named in the
// configuration's role groups give their members a role; others are kept so that the
// provider sees what it pushed, and give nothing.
type ProvisionedGroup struct {
	ID          int64     `gorm:"primaryKey;autoIncrement:false"`
	DisplayName string    `gorm:"not null"`
	ExternalID  string    `gorm:"not null;default:''"`
	CreatedAt   time.Time `gorm:"not null"`
	UpdatedAt   time.Time `gorm:"not null"`
}

// ProvisionedGroupMember puts a provisioned account in a provisioned group.
type ProvisionedGroupMember struct {
	GroupID   int64 `gorm:"primaryKey;autoIncrement:false"`
	AccountID int64 `gorm:"primaryKey;autoIncrement:false"`
}

// ProvisionedAccount is a provisioned person as the provider sees them.
type ProvisionedAccount struct {
	ProvisionedUser
	Account *Account
	Email   string
	Role    Role
	Groups  []ProvisionedGroup
}

// ProvisionedGroupView is a group with its members' accounts.
type ProvisionedGroupView struct {
	ProvisionedGroup
	Members []*Account
}

// UserProvision is the whole of a person as the provider sends it: creation and
// replacement take every field.
type UserProvision struct {
	UserName, ExternalID                              string
	GivenName, FamilyName, FormattedName, DisplayName string
	Email, EmailType                                  string
	Active                                            bool
}

// GroupProvision is the whole of a group as the provider sends it.
type GroupProvision struct {
	DisplayName, ExternalID string
	// Members are the accounts of provisioned people.
	Members []int64
}

// ProvisionedFilter narrows a list of provisioned people or groups; empty fields
// match everything. Names compare without regard to case.
type ProvisionedFilter struct {
	Name       string // userName of people, displayName of groups
	ExternalID string
	ID         int64
}

// ProvisioningOptions configure Provisioning.
type ProvisioningOptions struct {
	// RoleOf is the role that membership of the named groups gives; each group is
	// named both by its display name and by its external id.
	RoleOf func(groups []string) Role
	// DeleteAccounts makes deprovisioning delete the account for good, as `tacit
	// admin delete-user` does, instead of suspending it.
	DeleteAccounts bool
}

// Provisioning applies an identity provider's changes to the instance's accounts.
type Provisioning struct {
	s    *Service
	opts ProvisioningOptions
}

// Provisioning returns the service's provisioning with opts.
func (s *Service) Provisioning(opts ProvisioningOptions) *Provisioning {
	if opts.RoleOf == nil {
		opts.RoleOf = func([]string) Role { return RoleUser }
	}
	return &Provisioning{s: s, opts: opts}
}

// ProvisionedUsername maps a provider's userName to a Tacit username,
// deterministically: the part before the last "@" (a user principal name or an
// address names the person before it), lowercased, accents dropped, every run of
// other characters made one underscore, cut to MaxUsernameLen. "Zoë.Martin@corp.example"
// becomes "zoe_martin". It returns "" when nothing usable is left.
func ProvisionedUsername(userName string) string {
	local := strings.TrimSpace(userName)
	if i := strings.LastIndex(local, "@"); i > 0 {
		local = local[:i]
	}
	var b strings.Builder
	underscore := false
	for _, r := range norm.NFD.String(strings.ToLower(local)) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue // the accent of a decomposed letter
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			underscore = false
		case !underscore && b.Len() > 0:
			b.WriteByte('_')
			underscore = true
		}
	}
	out := strings.TrimRight(b.String(), "_")
	if len(out) > MaxUsernameLen {
		out = strings.TrimRight(out[:MaxUsernameLen], "_")
	}
	return out
}

// displayNameOf is the profile name a provisioned person gets: the provider's display
// name, else the formatted name, else given and family name, cut to the limit.
func displayNameOf(in UserProvision) string {
	name := strings.TrimSpace(in.DisplayName)
	if name == "" {
		name = strings.TrimSpace(in.FormattedName)
	}
	if name == "" {
		name = strings.TrimSpace(strings.TrimSpace(in.GivenName) + " " + strings.TrimSpace(in.FamilyName))
	}
	return truncateRunes(name, MaxDisplayNameLen)
}

// validate checks what the provider sent and normalises it.
func (in *UserProvision) validate() error {
	in.UserName = strings.TrimSpace(in.UserName)
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))
	if in.UserName == "" {
		return Invalid("userName is required")
	}
	if len(in.UserName) > 256 {
		return Invalid("userName is too long (maximum is 256 characters)")
	}
	if in.Email != "" {
		if _, err := mail.ParseAddress(in.Email); err != nil || strings.ContainsAny(in.Email, " <>") {
			return Invalid("Email is not a valid address: %q", in.Email)
		}
	}
	return nil
}

// CreateUser provisions a person: a new local account without a password, named by
// ProvisionedUsername. A userName the provider removed before (DeleteUser without
// account deletion) brings its suspended account back instead, with everything it
// wrote; an account of that username that signs in only through the provider, with
// the same address, is taken over (see adoptable). A userName already provisioned,
// or whose username is taken otherwise, is a conflict.
func (p *Provisioning) CreateUser(ctx context.Context, by string, in UserProvision) (*ProvisionedAccount, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	var prev ProvisionedUser
	err := p.s.read(ctx).Where("lower(user_name) = lower(?)", in.UserName).Take(&prev).Error
	switch {
	case err == nil && prev.DeprovisionedAt == nil:
		return nil, Conflict("userName %q is already provisioned", in.UserName)
	case err == nil:
		return p.update(ctx, by, prev.AccountID, in, true)
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return nil, fmt.Errorf("check userName: %w", err)
	}
	username := ProvisionedUsername(in.UserName)
	if err := ValidateUsername(username); err != nil {
		return nil, Invalid("userName %q gives no usable username", in.UserName)
	}
	acct, err := p.adoptable(ctx, username, in.Email)
	if err != nil {
		return nil, err
	}
	now := p.s.clock()
	record := func(tx *gorm.DB, acct *Account) error {
		rec := ProvisionedUser{AccountID: acct.ID, UserName: in.UserName, Active: true, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&rec).Error; err != nil {
			return fmt.Errorf("record provisioned user: %w", err)
		}
		return nil
	}
	if acct == nil {
		// The account and its record are made together: a failure leaves neither.
		if acct, _, err = p.s.CreateLocalAccount(ctx, NewLocalAccount{
			Username: username, Email: in.Email, DisplayName: displayNameOf(in), NoPassword: true, Role: RoleUser,
			alsoStore: record,
		}); err != nil {
			return nil, err
		}
	} else if err := record(p.s.db.WithContext(ctx), acct); err != nil {
		return nil, err
	}
	return p.update(ctx, by, acct.ID, in, false)
}

// adoptable returns the local account named username when provisioning may take it
// over: it has no password (it signs in only through the identity provider, as an
// account the company's sign-in created on first use does), the provider does not
// manage it yet, and its login has the address the provider sends. Any other account
// of that name keeps it, and creation answers a conflict.
func (p *Provisioning) adoptable(ctx context.Context, username, email string) (*Account, error) {
	if email == "" {
		return nil, nil
	}
	acct, err := p.s.LocalAccount(ctx, username)
	if KindOf(err) == KindNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var n int64
	err = p.s.read(ctx).Model(&User{}).
		Where("account_id = ? AND password_hash = '' AND email = ?", acct.ID, email).
		Where("NOT EXISTS (SELECT 1 FROM provisioned_users WHERE provisioned_users.account_id = users.account_id)").
		Count(&n).Error
	if err != nil {
		return nil, fmt.Errorf("check account to adopt: %w", err)
	}
	if n == 0 {
		return nil, nil
	}
	return acct, nil
}

// User returns a provisioned person by account id; removed ones are not found.
func (p *Provisioning) User(ctx context.Context, accountID int64) (*ProvisionedAccount, error) {
	rec, err := p.record(ctx, p.s.db, accountID)
	if err != nil {
		return nil, err
	}
	views, err := p.userViews(ctx, []ProvisionedUser{*rec})
	if err != nil {
		return nil, err
	}
	return &views[0], nil
}

// record loads a provisioned person who has not been removed.
func (p *Provisioning) record(ctx context.Context, db *gorm.DB, accountID int64) (*ProvisionedUser, error) {
	var rec ProvisionedUser
	err := db.WithContext(ctx).Where("account_id = ? AND deprovisioned_at IS NULL", accountID).Take(&rec).Error
	if err != nil {
		return nil, notFound(err, "provisioned user")
	}
	return &rec, nil
}

// Users lists the provisioned people f matches, in the order they were created:
// those from offset (0-based), at most limit of them (limit < 0: all), and how many
// match in all.
func (p *Provisioning) Users(ctx context.Context, f ProvisionedFilter, offset, limit int) ([]ProvisionedAccount, int64, error) {
	db := p.s.read(ctx).Model(&ProvisionedUser{}).Where("deprovisioned_at IS NULL")
	if f.Name != "" {
		db = db.Where("lower(user_name) = lower(?)", f.Name)
	}
	if f.ExternalID != "" {
		db = db.Where("external_id = ?", f.ExternalID)
	}
	if f.ID != 0 {
		db = db.Where("account_id = ?", f.ID)
	}
	var total int64
	if err := db.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count provisioned users: %w", err)
	}
	var recs []ProvisionedUser
	if err := db.Order("account_id").Offset(offset).Limit(limit).Find(&recs).Error; err != nil {
		return nil, 0, fmt.Errorf("list provisioned users: %w", err)
	}
	views, err := p.userViews(ctx, recs)
	return views, total, err
}

// ReplaceUser sets everything the provider knows of a person to in. Deactivation
// (Active false) suspends the account in the provider's name: its login is disabled
// and its streams end as the change commits; re-activation lifts that suspension.
// The username stays as it was created.
func (p *Provisioning) ReplaceUser(ctx context.Context, by string, accountID int64, in UserProvision) (*ProvisionedAccount, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	return p.update(ctx, by, accountID, in, false)
}

// update applies in to a provisioned person; revive brings back one the provider
// removed.
func (p *Provisioning) update(ctx context.Context, by string, accountID int64, in UserProvision, revive bool) (*ProvisionedAccount, error) {
	s := p.s
	acct, err := s.accountByID(ctx, accountID)
	if err != nil {
		return nil, err
	}
	user, err := s.UserByAccountID(ctx, accountID)
	if err != nil {
		return nil, err
	}
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		var rec ProvisionedUser
		q := tx.Where("account_id = ?", accountID)
		if !revive {
			q = q.Where("deprovisioned_at IS NULL")
		}
		if err := q.Take(&rec).Error; err != nil {
			return notFound(err, "provisioned user")
		}
		if err := checkProvisionUnique(tx, accountID, in); err != nil {
			return err
		}
		now := s.clock()
		wasActive := rec.Active && rec.DeprovisionedAt == nil
		rec.UserName, rec.ExternalID = in.UserName, in.ExternalID
		rec.GivenName, rec.FamilyName = in.GivenName, in.FamilyName
		rec.FormattedName, rec.DisplayName, rec.EmailType = in.FormattedName, in.DisplayName, in.EmailType
		rec.Active, rec.DeprovisionedAt, rec.UpdatedAt = in.Active, nil, now
		renamed := false
		if name := displayNameOf(in); name != "" && name != acct.DisplayName {
			acct.DisplayName, acct.UpdatedAt, renamed = name, now, true
			if err := tx.Model(&Account{}).Where("id = ?", acct.ID).
				Updates(map[string]any{"display_name": name, "updated_at": now}).Error; err != nil {
				return fmt.Errorf("update display name: %w", err)
			}
		}
		if in.Email != user.Email {
			if err := tx.Model(&User{}).Where("id = ?", user.ID).
				Updates(map[string]any{"email": in.Email, "updated_at": now}).Error; err != nil {
				return fmt.Errorf("update email: %w", err)
			}
		}
		if err := p.applyActive(tx, ev, by, &rec, acct, user, wasActive); err != nil {
			return err
		}
		if err := tx.Select("*").Omit("created_at").Updates(&rec).Error; err != nil {
			return fmt.Errorf("update provisioned user: %w", err)
		}
		if !rec.Active || (!renamed && wasActive) {
			return nil
		}
		// The profile goes to the peers while the person may be seen: a suspended
		// one's stays hidden with the rest of the account, and goes out, with any
		// change made meanwhile, once the provider activates them again.
		var suspended int64
		if err := tx.Model(&AccountSanction{}).Where("account_id = ? AND suspended", acct.ID).Count(&suspended).Error; err != nil {
			return fmt.Errorf("check suspension: %w", err)
		}
		if suspended == 0 {
			*ev = append(*ev, AccountUpdated{Account: *acct})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p.User(ctx, accountID)
}

// checkProvisionUnique refuses a userName another provisioned person has and an
// e-mail address another login has.
func checkProvisionUnique(tx *gorm.DB, accountID int64, in UserProvision) error {
	var n int64
	if err := tx.Model(&ProvisionedUser{}).Where("lower(user_name) = lower(?) AND account_id <> ?", in.UserName, accountID).
		Count(&n).Error; err != nil {
		return fmt.Errorf("check userName: %w", err)
	}
	if n > 0 {
		return Conflict("userName %q is already provisioned", in.UserName)
	}
	if in.Email == "" {
		return nil
	}
	if err := tx.Model(&User{}).Where("email = ? AND account_id <> ?", in.Email, accountID).Count(&n).Error; err != nil {
		return fmt.Errorf("check email: %w", err)
	}
	if n > 0 {
		return Conflict("Email %q is already in use", in.Email)
	}
	return nil
}

// applyActive suspends or restores the account when the provider's active flag
// changed: a deactivation suspends an account nobody suspended yet; a re-activation
// lifts only the suspension a deactivation applied.
func (p *Provisioning) applyActive(tx *gorm.DB, ev *[]Event, by string, rec *ProvisionedUser, acct *Account, user *User, wasActive bool) error {
	if rec.Active == wasActive && !(rec.Active && rec.SuspendedByProvisioning) {
		return nil
	}
	var suspended int64
	if err := tx.Model(&AccountSanction{}).Where("account_id = ? AND suspended", acct.ID).Count(&suspended).Error; err != nil {
		return fmt.Errorf("check suspension: %w", err)
	}
	actor := accountActor{system: by}
	switch {
	case !rec.Active && suspended == 0:
		rec.SuspendedByProvisioning = true
		return p.s.actOnAccountTx(tx, ev, actor, acct, user, AccountAction{Type: AccountActionSuspend,
			Text: "Deactivated by the identity provider"})
	case rec.Active && rec.SuspendedByProvisioning:
		rec.SuspendedByProvisioning = false
		if suspended == 0 {
			return nil
		}
		return p.s.actOnAccountTx(tx, ev, actor, acct, user, AccountAction{Type: AccountActionUnsuspend,
			Text: "Re-activated by the identity provider"})
	}
	return nil
}

// DeleteUser removes a provisioned person. The account is suspended as on
// deactivation and kept, with everything it wrote, unless the options ask for
// deletion: then it is deleted for good and the peers are told. deleted reports which.
func (p *Provisioning) DeleteUser(ctx context.Context, by string, accountID int64) (deleted bool, err error) {
	rec, err := p.record(ctx, p.s.db, accountID)
	if err != nil {
		return false, err
	}
	acct, err := p.s.accountByID(ctx, accountID)
	if err != nil {
		return false, err
	}
	if p.opts.DeleteAccounts {
		return true, p.s.DeleteLocalAccount(ctx, acct.Username)
	}
	user, err := p.s.UserByAccountID(ctx, accountID)
	if err != nil {
		return false, err
	}
	err = p.s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		wasActive := rec.Active
		now := p.s.clock()
		rec.Active, rec.UpdatedAt = false, now
		if err := p.applyActive(tx, ev, by, rec, acct, user, wasActive); err != nil {
			return err
		}
		rec.DeprovisionedAt = &now
		if err := tx.Select("*").Omit("created_at").Updates(rec).Error; err != nil {
			return fmt.Errorf("update provisioned user: %w", err)
		}
		// A removed person is in no group, and so has no role from one.
		if err := tx.Where("account_id = ?", accountID).Delete(&ProvisionedGroupMember{}).Error; err != nil {
			return fmt.Errorf("leave groups: %w", err)
		}
		return p.syncRoles(tx, by, []int64{accountID})
	})
	return false, err
}

// userViews completes provisioned records with their accounts, logins and groups.
func (p *Provisioning) userViews(ctx context.Context, recs []ProvisionedUser) ([]ProvisionedAccount, error) {
	out := make([]ProvisionedAccount, 0, len(recs))
	if len(recs) == 0 {
		return out, nil
	}
	ids := make([]int64, len(recs))
	for i, r := range recs {
		ids[i] = r.AccountID
	}
	accounts, err := p.s.accountsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	var users []User
	if err := p.s.read(ctx).Where("account_id IN ?", ids).Find(&users).Error; err != nil {
		return nil, fmt.Errorf("load logins: %w", err)
	}
	groups, err := p.groupsOf(p.s.read(ctx), ids)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		v := ProvisionedAccount{ProvisionedUser: r, Account: accounts[r.AccountID], Role: RoleUser, Groups: groups[r.AccountID]}
		if v.Account == nil {
			return nil, fmt.Errorf("provisioned user %d has no account", r.AccountID)
		}
		for _, u := range users {
			if u.AccountID == r.AccountID {
				v.Email, v.Role = u.Email, u.Role
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// groupsOf returns the groups of each of the accounts.
func (p *Provisioning) groupsOf(db *gorm.DB, accountIDs []int64) (map[int64][]ProvisionedGroup, error) {
	var rows []struct {
		AccountID int64
		ProvisionedGroup
	}
	err := db.Table("provisioned_group_members").
		Select("provisioned_group_members.account_id, provisioned_groups.*").
		Joins("JOIN provisioned_groups ON provisioned_groups.id = provisioned_group_members.group_id").
		Where("provisioned_group_members.account_id IN ?", accountIDs).
		Order("provisioned_groups.id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("load groups of provisioned users: %w", err)
	}
	out := map[int64][]ProvisionedGroup{}
	for _, r := range rows {
		out[r.AccountID] = append(out[r.AccountID], r.ProvisionedGroup)
	}
	return out, nil
}

// syncRoles gives each of the accounts the role its groups give, and records each
// change in the audit log in the provider's name.
func (p *Provisioning) syncRoles(tx *gorm.DB, by string, accountIDs []int64) error {
	accountIDs = uniqueIDs(accountIDs)
	if len(accountIDs) == 0 {
		return nil
	}
	groups, err := p.groupsOf(tx, accountIDs)
	if err != nil {
		return err
	}
	var users []User
	if err := tx.Where("account_id IN ?", accountIDs).Find(&users).Error; err != nil {
		return fmt.Errorf("load logins: %w", err)
	}
	for _, u := range users {
		var names []string
		for _, g := range groups[u.AccountID] {
			names = append(names, g.DisplayName)
			if g.ExternalID != "" {
				names = append(names, g.ExternalID)
			}
		}
		role := p.opts.RoleOf(names)
		if role == u.Role {
			continue
		}
		if err := tx.Model(&User{}).Where("id = ?", u.ID).
			Updates(map[string]any{"role": role, "updated_at": p.s.clock()}).Error; err != nil {
			return fmt.Errorf("set role: %w", err)
		}
		acct, err := accountTx(tx, u.AccountID)
		if err != nil {
			return err
		}
		if err := p.s.logAccountAction(tx, accountActor{system: by}, ActionSetRole, acct.URI, "", string(role)); err != nil {
			return err
		}
	}
	return nil
}

// CreateGroup stores a provider's group with its members, and gives them the role
// it brings. A display name already used is a conflict.
func (p *Provisioning) CreateGroup(ctx context.Context, by string, in GroupProvision) (*ProvisionedGroupView, error) {
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	if in.DisplayName == "" {
		return nil, Invalid("displayName is required")
	}
	now := p.s.clock()
	g := ProvisionedGroup{ID: NewID(), DisplayName: in.DisplayName, ExternalID: in.ExternalID, CreatedAt: now, UpdatedAt: now}
	err := p.s.tx(ctx, func(tx *gorm.DB, _ *[]Event) error {
		if err := checkGroupName(tx, 0, in.DisplayName); err != nil {
			return err
		}
		if err := tx.Create(&g).Error; err != nil {
			return fmt.Errorf("create group: %w", err)
		}
		return p.setMembers(tx, by, g.ID, in.Members)
	})
	if err != nil {
		return nil, err
	}
	return p.Group(ctx, g.ID)
}

// checkGroupName refuses a display name another group has.
func checkGroupName(tx *gorm.DB, id int64, name string) error {
	var n int64
	if err := tx.Model(&ProvisionedGroup{}).Where("lower(display_name) = lower(?) AND id <> ?", name, id).
		Count(&n).Error; err != nil {
		return fmt.Errorf("check group name: %w", err)
	}
	if n > 0 {
		return Conflict("A group is already named %q", name)
	}
	return nil
}

// setMembers makes members the group's members, and syncs the roles of everyone who
// joined or left.
func (p *Provisioning) setMembers(tx *gorm.DB, by string, groupID int64, members []int64) error {
	members = uniqueIDs(members)
	if len(members) > 0 {
		var live int64
		if err := tx.Model(&ProvisionedUser{}).Where("account_id IN ? AND deprovisioned_at IS NULL", members).
			Count(&live).Error; err != nil {
			return fmt.Errorf("check members: %w", err)
		}
		if int(live) != len(members) {
			return Invalid("Every member must be a provisioned user")
		}
	}
	var before []int64
	if err := tx.Model(&ProvisionedGroupMember{}).Where("group_id = ?", groupID).Pluck("account_id", &before).Error; err != nil {
		return fmt.Errorf("load members: %w", err)
	}
	var left []int64
	for _, id := range before {
		if !slices.Contains(members, id) {
			left = append(left, id)
		}
	}
	if len(left) > 0 {
		if err := tx.Where("group_id = ? AND account_id IN ?", groupID, left).Delete(&ProvisionedGroupMember{}).Error; err != nil {
			return fmt.Errorf("remove members: %w", err)
		}
	}
	for _, id := range members {
		if slices.Contains(before, id) {
			continue
		}
		if err := tx.Create(&ProvisionedGroupMember{GroupID: groupID, AccountID: id}).Error; err != nil {
			return fmt.Errorf("add member: %w", err)
		}
	}
	return p.syncRoles(tx, by, append(before, members...))
}

// Group returns a provider's group with its members.
func (p *Provisioning) Group(ctx context.Context, id int64) (*ProvisionedGroupView, error) {
	views, _, err := p.Groups(ctx, ProvisionedFilter{ID: id}, 0, 1)
	if err != nil {
		return nil, err
	}
	if len(views) == 0 {
		return nil, ErrNotFound
	}
	return &views[0], nil
}

// Groups lists the provider's groups f matches, as Users lists people.
func (p *Provisioning) Groups(ctx context.Context, f ProvisionedFilter, offset, limit int) ([]ProvisionedGroupView, int64, error) {
	db := p.s.read(ctx).Model(&ProvisionedGroup{})
	if f.Name != "" {
		db = db.Where("lower(display_name) = lower(?)", f.Name)
	}
	if f.ExternalID != "" {
		db = db.Where("external_id = ?", f.ExternalID)
	}
	if f.ID != 0 {
		db = db.Where("id = ?", f.ID)
	}
	var total int64
	if err := db.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count groups: %w", err)
	}
	var groups []ProvisionedGroup
	if err := db.Order("id").Offset(offset).Limit(limit).Find(&groups).Error; err != nil {
		return nil, 0, fmt.Errorf("list groups: %w", err)
	}
	out := make([]ProvisionedGroupView, 0, len(groups))
	for _, g := range groups {
		var ids []int64
		if err := p.s.read(ctx).Model(&ProvisionedGroupMember{}).Where("group_id = ?", g.ID).Order("account_id").
			Pluck("account_id", &ids).Error; err != nil {
			return nil, 0, fmt.Errorf("load members: %w", err)
		}
		accounts, err := p.s.accountsByID(ctx, ids)
		if err != nil {
			return nil, 0, err
		}
		v := ProvisionedGroupView{ProvisionedGroup: g}
		for _, id := range ids {
			if a := accounts[id]; a != nil {
				v.Members = append(v.Members, a)
			}
		}
		out = append(out, v)
	}
	return out, total, nil
}

// ReplaceGroup sets a group's name, external id and members to in, and syncs the
// roles of the members who joined or left (a new name may give or take a role too).
func (p *Provisioning) ReplaceGroup(ctx context.Context, by string, id int64, in GroupProvision) (*ProvisionedGroupView, error) {
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	if in.DisplayName == "" {
		return nil, Invalid("displayName is required")
	}
	err := p.s.tx(ctx, func(tx *gorm.DB, _ *[]Event) error {
		var g ProvisionedGroup
		if err := tx.Take(&g, id).Error; err != nil {
			return notFound(err, "group")
		}
		if err := checkGroupName(tx, id, in.DisplayName); err != nil {
			return err
		}
		if err := tx.Model(&ProvisionedGroup{}).Where("id = ?", id).Updates(map[string]any{
			"display_name": in.DisplayName, "external_id": in.ExternalID, "updated_at": p.s.clock(),
		}).Error; err != nil {
			return fmt.Errorf("update group: %w", err)
		}
		return p.setMembers(tx, by, id, in.Members)
	})
	if err != nil {
		return nil, err
	}
	return p.Group(ctx, id)
}

// DeleteGroup removes a group; its members lose the role it gave them.
func (p *Provisioning) DeleteGroup(ctx context.Context, by string, id int64) error {
	return p.s.tx(ctx, func(tx *gorm.DB, _ *[]Event) error {
		var g ProvisionedGroup
		if err := tx.Take(&g, id).Error; err != nil {
			return notFound(err, "group")
		}
		var members []int64
		if err := tx.Model(&ProvisionedGroupMember{}).Where("group_id = ?", id).Pluck("account_id", &members).Error; err != nil {
			return fmt.Errorf("load members: %w", err)
		}
		if err := tx.Delete(&ProvisionedGroup{}, id).Error; err != nil {
			return fmt.Errorf("delete group: %w", err)
		}
		return p.syncRoles(tx, by, members)
	})
}

// IsProvisioned reports whether the identity provider manages an account (also one
// it removed), for the admin pages.
func (s *Service) IsProvisioned(ctx context.Context, accountID int64) (bool, error) {
	var n int64
	if err := s.read(ctx).Model(&ProvisionedUser{}).Where("account_id = ?", accountID).Count(&n).Error; err != nil {
		return false, fmt.Errorf("check provisioning: %w", err)
	}
	return n > 0, nil
}
