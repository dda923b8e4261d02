package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/tacit-social/tacit/community"
)

// RevocationHandler is told the ids of tokens that were just revoked, after the
// revocation is stored. It runs in the revoker's goroutine and must be quick.
type RevocationHandler func(tokenIDs []int64)

// OnRevoke registers h for every revocation made through this Service from now on:
// OAuth revocation, refresh (the old token), a replayed authorization code, and
// RevokeAccountTokens. Revocations by another process reach this one through
// RevokedSince.
func (s *Service) OnRevoke(h RevocationHandler) {
	s.hooksMu.Lock()
	defer s.hooksMu.Unlock()
	s.onRevoke = append(s.onRevoke, h)
}

// revoked tells the handlers about ids (zeros, for "none", are left out).
func (s *Service) revoked(ids ...int64) {
	live := ids[:0:0]
	for _, id := range ids {
		if id != 0 {
			live = append(live, id)
		}
	}
	if len(live) == 0 {
		return
	}
	ids = live
	s.hooksMu.RLock()
	hs := s.onRevoke
	s.hooksMu.RUnlock()
	for _, h := range hs {
		h(ids)
	}
}

// RevokeAccountTokens revokes every live token acting for an account: its password
// was reset, or it was suspended or deleted. It returns how many were revoked.
func (s *Service) RevokeAccountTokens(ctx context.Context, accountID int64) (int, error) {
	var ids []int64
	db := s.db.WithContext(ctx)
	if err := db.Model(&Token{}).Where("account_id = ? AND revoked_at IS NULL", accountID).Pluck("id", &ids).Error; err != nil {
		return 0, fmt.Errorf("find tokens of account %d: %w", accountID, err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	if err := db.Model(&Token{}).Where("id IN ? AND revoked_at IS NULL", ids).Update("revoked_at", s.clock()).Error; err != nil {
		return 0, fmt.Errorf("revoke tokens of account %d: %w", accountID, err)
	}
	s.revoked(ids...)
	return len(ids), nil
}

// RevokedSince returns the ids of tokens revoked at or after since, by any process
// sharing the database.
func (s *Service) RevokedSince(ctx context.Context, since time.Time) ([]int64, error) {
	var ids []int64
	err := s.db.WithContext(ctx).Model(&Token{}).
		Where("revoked_at IS NOT NULL AND revoked_at >= ?", since.UTC().Truncate(time.Microsecond)).Pluck("id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("list revoked tokens: %w", err)
	}
	return ids, nil
}

// DisabledSince returns the accounts whose login was disabled (by moderators, or
// with a suspension) and changed at or after since, by any process sharing the
// database: their streams must end like those of revoked tokens.
func (s *Service) DisabledSince(ctx context.Context, since time.Time) ([]int64, error) {
	var ids []int64
	err := s.db.WithContext(ctx).Model(&community.User{}).
		Where("disabled = ? AND updated_at >= ?", true, since.UTC().Truncate(time.Microsecond)).Pluck("account_id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("list disabled logins: %w", err)
	}
	return ids, nil
}
