package community

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tacit-social/tacit/store"
)

// The instance's settings: its name, description, rules, the scope of posts whose
// client did not choose one, and who may sign up (account_registration.go). The configuration file gives their first values; once an
// admin saves them on the admin page, the saved row wins. Every request reads them
// (the posting paths, the instance documents, the web pages' titles), so the service
// keeps the current value in memory and drops it when the store's change feed reports
// a write to the table, by this process or another on the same database.

// ActionUpdateSettings is the audit log action of an admin saving the settings.
const ActionUpdateSettings = "update_instance_settings"

// Limits of the settings, checked by UpdateSettings.
const (
	MaxInstanceNameLength        = 100
	MaxInstanceDescriptionLength = 500
	MaxInstanceRules             = 20
	MaxInstanceRuleLength        = 300
	MaxAllowedEmailDomains       = 100
)

// RegistrationMode says who may sign up without the company's identity provider.
type RegistrationMode string

// Registration modes.
const (
	// RegistrationsClosed: nobody signs up; staff create accounts (or the identity
	// provider does).
	RegistrationsClosed RegistrationMode = "closed"
	// RegistrationsInvite: only with an invite code staff handed out.
	RegistrationsInvite RegistrationMode = "invite"
	// RegistrationsOpen: anyone whose e-mail domain is allowed, or with an invite.
	RegistrationsOpen RegistrationMode = "open"
)

// Registrations are the instance's sign-up settings.
type Registrations struct {
	Mode RegistrationMode
	// ApprovalRequired: accounts that sign up without an invite wait for a
	// moderator's approval before they can sign in.
	ApprovalRequired bool
	// AllowedEmailDomains limits open sign-up to these e-mail domains (and their
	// subdomains); empty allows any.
	AllowedEmailDomains []string
}

// ValidateRegistrationMode checks a registration mode's name.
func ValidateRegistrationMode(m RegistrationMode) error {
	switch m {
	case RegistrationsClosed, RegistrationsInvite, RegistrationsOpen:
		return nil
	}
	return Invalid("Registrations must be one of closed, invite, open, not %q", m)
}

// InstanceSettings are the instance's editable settings.
type InstanceSettings struct {
	Name        string
	Description string
	Rules       []string
	// DefaultScope applies to posts whose author and client did not choose one.
	DefaultScope Scope
	// Registrations say who may sign up. UpdateSettings keeps the current ones when
	// their Mode is empty.
	Registrations Registrations
}

// InstanceSettingsRecord is the single row of instance_settings, exported for the
// store's schema test.
type InstanceSettingsRecord struct {
	ID           int64 `gorm:"primaryKey;autoIncrement:false"`
	Name         string
	Description  string
	Rules        RuleList
	DefaultScope Scope
	UpdatedAt    time.Time
	// RegistrationsMode is "" in a row saved before registrations were settings: the
	// configured registrations apply then.
	RegistrationsMode   RegistrationMode
	ApprovalRequired    bool
	AllowedEmailDomains RuleList
}

func (InstanceSettingsRecord) TableName() string { return "instance_settings" }

// RuleList is a JSON list of strings: the rules and the allowed e-mail domains.
type RuleList []string

// Value implements driver.Valuer.
func (l RuleList) Value() (driver.Value, error) { return jsonListValue(l, "instance rules") }

// Scan implements sql.Scanner.
func (l *RuleList) Scan(src any) error {
	var list []string
	if err := scanJSONList(src, &list, "instance rules"); err != nil {
		return err
	}
	*l = list
	return nil
}

// instanceSettings holds the configured and the current settings.
type instanceSettings struct {
	configured InstanceSettings
	// current is nil until loaded and again after a change of the table.
	current atomic.Pointer[InstanceSettings]
	// mu and gen keep a load that began before a change from storing what it read
	// after the change dropped it.
	mu  sync.Mutex
	gen uint64
}

func newInstanceSettings(changes *store.Changes, configured InstanceSettings) *instanceSettings {
	if configured.DefaultScope == "" {
		configured.DefaultScope = ScopeCompany
	}
	if configured.Registrations.Mode == "" {
		configured.Registrations.Mode = RegistrationsClosed
	}
	is := &instanceSettings{configured: configured}
	if changes != nil {
		changes.Subscribe([]string{"instance_settings"}, func(ch store.Change) {
			if ch.Table != "" && ch.Table != "instance_settings" {
				return
			}
			is.mu.Lock()
			is.gen++
			is.current.Store(nil)
			is.mu.Unlock()
		})
	}
	return is
}

// Settings returns the instance's settings: the saved ones, or the configured ones
// until an admin saves them.
func (s *Service) Settings(ctx context.Context) (InstanceSettings, error) {
	if cur := s.settings.current.Load(); cur != nil {
		return cloneSettings(*cur), nil
	}
	s.settings.mu.Lock()
	gen := s.settings.gen
	s.settings.mu.Unlock()

	v := cloneSettings(s.settings.configured)
	var row InstanceSettingsRecord
	err := s.read(ctx).Where("id = 1").Take(&row).Error
	switch {
	case err == nil:
		v = InstanceSettings{Name: row.Name, Description: row.Description, Rules: row.Rules, DefaultScope: row.DefaultScope,
			Registrations: v.Registrations}
		if row.RegistrationsMode != "" {
			v.Registrations = Registrations{Mode: row.RegistrationsMode, ApprovalRequired: row.ApprovalRequired,
				AllowedEmailDomains: row.AllowedEmailDomains}
		}
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return InstanceSettings{}, fmt.Errorf("load instance settings: %w", err)
	}
	if v.Rules == nil {
		v.Rules = []string{}
	}
	if v.Registrations.AllowedEmailDomains == nil {
		v.Registrations.AllowedEmailDomains = []string{}
	}

	s.settings.mu.Lock()
	if s.settings.gen == gen {
		kept := cloneSettings(v)
		s.settings.current.Store(&kept)
	}
	s.settings.mu.Unlock()
	return v, nil
}

// DefaultScope is the instance's default post scope. It is nearly always in memory;
// its callers have no context to pass, so after a change it reads the settings with a
// deadline of its own, and if that fails it logs and answers the configured scope
// rather than failing the post.
func (s *Service) DefaultScope() Scope {
	if cur := s.settings.current.Load(); cur != nil {
		return cur.DefaultScope
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := s.Settings(ctx)
	if err != nil {
		s.log.Error("read the default scope; using the configured one", "err", err)
		return s.settings.configured.DefaultScope
	}
	return v.DefaultScope
}

// UpdateSettings saves the instance's settings, as an admin, records it in the audit
// log and returns what was saved (trimmed).
func (s *Service) UpdateSettings(ctx context.Context, actor *Account, in InstanceSettings) (InstanceSettings, error) {
	if err := s.requireAdmin(ctx, actor); err != nil {
		return InstanceSettings{}, err
	}
	if in.Registrations.Mode == "" {
		cur, err := s.Settings(ctx)
		if err != nil {
			return InstanceSettings{}, err
		}
		in.Registrations = cur.Registrations
	}
	v, err := validateSettings(in)
	if err != nil {
		return InstanceSettings{}, err
	}
	row := InstanceSettingsRecord{ID: 1, Name: v.Name, Description: v.Description, Rules: v.Rules,
		DefaultScope: v.DefaultScope, UpdatedAt: s.clock(), RegistrationsMode: v.Registrations.Mode,
		ApprovalRequired: v.Registrations.ApprovalRequired, AllowedEmailDomains: v.Registrations.AllowedEmailDomains}
	err = s.tx(ctx, func(tx *gorm.DB, _ *[]Event) error {
		if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error; err != nil {
			return fmt.Errorf("save instance settings: %w", err)
		}
		detail := fmt.Sprintf("name %q, default scope %s, %d rules, registrations %s (approval required: %t, %d e-mail domains)",
			v.Name, v.DefaultScope, len(v.Rules), v.Registrations.Mode, v.Registrations.ApprovalRequired,
			len(v.Registrations.AllowedEmailDomains))
		return s.logStaffAction(tx, actor, ActionUpdateSettings, s.baseURL+"/", "", detail)
	})
	if err != nil {
		return InstanceSettings{}, err
	}
	// The change feed has dropped the old value; reading now keeps the new one.
	return s.Settings(ctx)
}

// validateSettings trims the settings and checks them against the limits.
func validateSettings(in InstanceSettings) (InstanceSettings, error) {
	v := InstanceSettings{
		Name:         strings.TrimSpace(in.Name),
		Description:  strings.TrimSpace(in.Description),
		Rules:        []string{},
		DefaultScope: in.DefaultScope,
	}
	if n := utf8.RuneCountInString(v.Name); n == 0 || n > MaxInstanceNameLength {
		return InstanceSettings{}, Invalid("The name must have 1 to %d characters", MaxInstanceNameLength)
	}
	if utf8.RuneCountInString(v.Description) > MaxInstanceDescriptionLength {
		return InstanceSettings{}, Invalid("The description must have at most %d characters", MaxInstanceDescriptionLength)
	}
	for _, r := range in.Rules {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if utf8.RuneCountInString(r) > MaxInstanceRuleLength {
			return InstanceSettings{}, Invalid("Each rule must have at most %d characters", MaxInstanceRuleLength)
		}
		v.Rules = append(v.Rules, r)
	}
	if len(v.Rules) > MaxInstanceRules {
		return InstanceSettings{}, Invalid("There can be at most %d rules", MaxInstanceRules)
	}
	if err := ValidateScope(v.DefaultScope); err != nil {
		return InstanceSettings{}, err
	}
	reg, err := validateRegistrations(in.Registrations)
	if err != nil {
		return InstanceSettings{}, err
	}
	v.Registrations = reg
	return v, nil
}

// validateRegistrations checks the mode and turns the domains into their plain
// lowercase form, dropping blanks, a leading "@" and repeats.
func validateRegistrations(in Registrations) (Registrations, error) {
	out := Registrations{Mode: in.Mode, ApprovalRequired: in.ApprovalRequired, AllowedEmailDomains: []string{}}
	if err := ValidateRegistrationMode(in.Mode); err != nil {
		return Registrations{}, err
	}
	seen := map[string]bool{}
	for _, d := range in.AllowedEmailDomains {
		d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
		if d == "" || seen[d] {
			continue
		}
		if !emailDomainPattern.MatchString(d) {
			return Registrations{}, Invalid("%q is not an e-mail domain such as example.com", d)
		}
		seen[d] = true
		out.AllowedEmailDomains = append(out.AllowedEmailDomains, d)
	}
	if len(out.AllowedEmailDomains) > MaxAllowedEmailDomains {
		return Registrations{}, Invalid("There can be at most %d allowed e-mail domains", MaxAllowedEmailDomains)
	}
	return out, nil
}

// emailDomainPattern is a host name of at least two labels.
var emailDomainPattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func cloneSettings(v InstanceSettings) InstanceSettings {
	v.Rules = append([]string{}, v.Rules...)
	v.Registrations.AllowedEmailDomains = append([]string{}, v.Registrations.AllowedEmailDomains...)
	return v
}
