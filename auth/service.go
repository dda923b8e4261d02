package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/rowcache"
	"github.com/tacit-social/tacit/store"
)

// Service issues and checks OAuth 2 credentials. It is safe for concurrent use.
type Service struct {
	db     *gorm.DB
	now    func() time.Time
	logins loginThrottle

	hooksMu  sync.RWMutex
	onRevoke []RevocationHandler

	// tokens (by hash) and apps keep what every request reads; the store's change
	// feed drops a copy as soon as its row changes (a revocation included), from
	// this process or another.
	tokens *rowcache.Cache[string, *Token]
	apps   *rowcache.Cache[int64, *Application]
}

// Cache sizes: live tokens and applications kept in memory.
const (
	cachedTokens = 20_000
	cachedApps   = 2_000
)

// NewService returns a Service storing its state in db.
func NewService(db *gorm.DB) *Service {
	changes := store.ChangesOf(db)
	return &Service{
		db:     db,
		now:    time.Now,
		tokens: rowcache.New[string](changes, "tokens", cachedTokens, func(t *Token) int64 { return t.ID }),
		apps:   rowcache.New[int64](changes, "applications", cachedApps, func(a *Application) int64 { return a.ID }),
	}
}

// clock is the time stored in rows: UTC, at the microsecond precision both databases keep.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// ErrInvalidToken means the token is unknown or revoked.
var ErrInvalidToken = errors.New("The access token is invalid")

// LookupToken finds the live token whose secret is raw.
func (s *Service) LookupToken(ctx context.Context, raw string) (*Token, error) {
	if raw == "" {
		return nil, ErrInvalidToken
	}
	hash := hashSecret(raw)
	t, err := s.tokens.Load(hash, func() (*Token, error) {
		var t Token
		err := s.db.WithContext(ctx).Where("token_hash = ? AND revoked_at IS NULL", hash).Take(&t).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, ErrInvalidToken
		}
		if err != nil {
			return nil, fmt.Errorf("load token: %w", err)
		}
		return &t, nil
	})
	if err != nil {
		return nil, err
	}
	copied := *t
	return &copied, nil
}

// ScopeList returns the token's scopes.
func (t *Token) ScopeList() []string { return strings.Fields(t.Scopes) }

// newSecret returns a random URL-safe secret of n random bytes.
func newSecret(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand never fails on supported platforms; if it does, no secret is safe.
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashSecret is how tokens, refresh tokens and codes are stored: a high-entropy secret
// needs no slow hash, only one that does not reveal it.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
