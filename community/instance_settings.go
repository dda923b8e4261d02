package community

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tacit-social/tacit/store"
)

// The instance's settings: its name, description, rules and the scope of posts whose
// client did not choose one. The configuration file gives their first values; once an
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
)

// InstanceSettings are the instance's editable settings.
type InstanceSettings struct {
	Name        string
	Description string
	Rules       []string
	// DefaultScope applies to posts whose author and client did not choose one.
	DefaultScope Scope
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
}

func (InstanceSettingsRecord) TableName() string { return "instance_settings" }

// RuleList is the rules column, a JSON list of strings.
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
		v = InstanceSettings{Name: row.Name, Description: row.Description, Rules: row.Rules, DefaultScope: row.DefaultScope}
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return InstanceSettings{}, fmt.Errorf("load instance settings: %w", err)
	}
	if v.Rules == nil {
		v.Rules = []string{}
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
	v, err := validateSettings(in)
	if err != nil {
		return InstanceSettings{}, err
	}
	row := InstanceSettingsRecord{ID: 1, Name: v.Name, Description: v.Description, Rules: v.Rules,
		DefaultScope: v.DefaultScope, UpdatedAt: s.clock()}
	err = s.tx(ctx, func(tx *gorm.DB, _ *[]Event) error {
		if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error; err != nil {
			return fmt.Errorf("save instance settings: %w", err)
		}
		detail := fmt.Sprintf("name %q, default scope %s, %d rules", v.Name, v.DefaultScope, len(v.Rules))
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
	return v, nil
}

func cloneSettings(v InstanceSettings) InstanceSettings {
	v.Rules = append([]string{}, v.Rules...)
	return v
}
