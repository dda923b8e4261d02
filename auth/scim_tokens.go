package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/community"
)

// SCIMToken is a bearer token an admin made for the company's identity provider, which
// provisions accounts with it over SCIM. Like access tokens, only a SHA-256 hash of the
// secret is stored. A token acts for no account: what it does is recorded under its
// name.
type SCIMToken struct {
	ID         int64     `gorm:"primaryKey;autoIncrement:false"`
	Name       string    `gorm:"not null"`
	TokenHash  string    `gorm:"not null;uniqueIndex"`
	CreatedAt  time.Time `gorm:"not null"`
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// TableName is the table of SCIM tokens.
func (SCIMToken) TableName() string { return "scim_tokens" }

// MaxSCIMTokenName bounds a SCIM token's name, which the audit log shows.
const MaxSCIMTokenName = 64

// scimTokenUse is how often a token's last use is written: once a minute is precise
// enough for an admin deciding whether a token is still in use, and spares the
// database a write on every request of a provisioning run.
const scimTokenUse = time.Minute

// ErrSCIMTokenNotFound means no live SCIM token has the name or id given.
var ErrSCIMTokenNotFound = errors.New("no such SCIM token")

// CreateSCIMToken makes a new SCIM token named name and returns its secret, which
// exists only in the answer. Names identify live tokens: one name, one live token.
func (s *Service) CreateSCIMToken(ctx context.Context, name string) (string, *SCIMToken, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", nil, errors.New("a SCIM token needs a name")
	case len(name) > MaxSCIMTokenName:
		return "", nil, fmt.Errorf("a SCIM token's name has at most %d characters", MaxSCIMTokenName)
	}
	secret := newSecret(32)
	t := &SCIMToken{ID: community.NewID(), Name: name, TokenHash: hashSecret(secret), CreatedAt: s.clock()}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&SCIMToken{}).Where("name = ? AND revoked_at IS NULL", name).Count(&n).Error; err != nil {
			return fmt.Errorf("check SCIM token name: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("a live SCIM token is already named %q: revoke it first, or choose another name", name)
		}
		if err := tx.Create(t).Error; err != nil {
			return fmt.Errorf("create SCIM token: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// LookupSCIMToken finds the live SCIM token whose secret is raw, and notes its use.
func (s *Service) LookupSCIMToken(ctx context.Context, raw string) (*SCIMToken, error) {
	if raw == "" {
		return nil, ErrInvalidToken
	}
	db := s.db.WithContext(ctx)
	var t SCIMToken
	err := db.Where("token_hash = ? AND revoked_at IS NULL", hashSecret(raw)).Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, fmt.Errorf("load SCIM token: %w", err)
	}
	now := s.clock()
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= scimTokenUse {
		if err := db.Model(&SCIMToken{}).Where("id = ?", t.ID).Update("last_used_at", now).Error; err != nil {
			return nil, fmt.Errorf("note SCIM token use: %w", err)
		}
		t.LastUsedAt = &now
	}
	return &t, nil
}

// SCIMTokens lists the SCIM tokens, live and revoked, newest first.
func (s *Service) SCIMTokens(ctx context.Context) ([]SCIMToken, error) {
	var out []SCIMToken
	if err := s.db.WithContext(ctx).Order("id DESC").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list SCIM tokens: %w", err)
	}
	return out, nil
}

// RevokeSCIMToken revokes the live SCIM token named nameOrID (its name, or its id).
// The provider's next request with it is refused.
func (s *Service) RevokeSCIMToken(ctx context.Context, nameOrID string) (*SCIMToken, error) {
	nameOrID = strings.TrimSpace(nameOrID)
	db := s.db.WithContext(ctx).Where("revoked_at IS NULL")
	if id, ok := community.ParseID(nameOrID); ok {
		db = db.Where("name = ? OR id = ?", nameOrID, id)
	} else {
		db = db.Where("name = ?", nameOrID)
	}
	var t SCIMToken
	err := db.Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrSCIMTokenNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find SCIM token: %w", err)
	}
	now := s.clock()
	if err := s.db.WithContext(ctx).Model(&SCIMToken{}).Where("id = ?", t.ID).Update("revoked_at", now).Error; err != nil {
		return nil, fmt.Errorf("revoke SCIM token: %w", err)
	}
	t.RevokedAt = &now
	return &t, nil
}
