package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/community"
)

// CodeTTL is how long an authorization code may wait before it is exchanged. RFC 6749
// recommends at most ten minutes; clients exchange it within seconds.
const CodeTTL = 10 * time.Minute

// PKCEMethodS256 is the only PKCE method accepted: "plain" would hand the verifier to
// anyone who sees the authorization request (RFC 7636 section 4.2).
const PKCEMethodS256 = "S256"

// IssuedToken is a token as handed to the client: the secrets exist only here.
type IssuedToken struct {
	Token        *Token
	AccessToken  string
	RefreshToken string
}

// IssueToken creates an access token for an application, acting for a user (userID and
// accountID non-zero) or for the application alone. withRefresh adds a refresh token.
func (s *Service) IssueToken(ctx context.Context, appID, userID, accountID int64, scopes []string, withRefresh bool) (*IssuedToken, error) {
	return s.issueToken(s.db.WithContext(ctx), appID, userID, accountID, scopes, withRefresh)
}

func (s *Service) issueToken(tx *gorm.DB, appID, userID, accountID int64, scopes []string, withRefresh bool) (*IssuedToken, error) {
	access := newSecret(32)
	t := &Token{
		ID:            community.NewID(),
		ApplicationID: appID,
		Scopes:        strings.Join(scopes, " "),
		TokenHash:     hashSecret(access),
		CreatedAt:     s.clock(),
	}
	if userID != 0 {
		t.UserID, t.AccountID = &userID, &accountID
	}
	out := &IssuedToken{Token: t, AccessToken: access}
	if withRefresh {
		out.RefreshToken = newSecret(32)
		h := hashSecret(out.RefreshToken)
		t.RefreshHash = &h
	}
	if err := tx.Create(t).Error; err != nil {
		return nil, fmt.Errorf("create token: %w", err)
	}
	return out, nil
}

// Grant is what a user allowed an application on the authorize page; an authorization
// code stands for it until the application exchanges the code for a token.
type Grant struct {
	ApplicationID int64
	UserID        int64
	AccountID     int64
	RedirectURI   string
	Scopes        []string
	// CodeChallenge is the PKCE challenge, empty when the client sent none; its
	// method is always S256.
	CodeChallenge string
}

// CreateAuthorizationCode stores a grant and returns the one-time code for it. Only the
// code's hash is stored.
func (s *Service) CreateAuthorizationCode(ctx context.Context, g Grant) (string, error) {
	code := newSecret(32)
	now := s.clock()
	row := &AuthorizationCode{
		CodeHash:      hashSecret(code),
		ApplicationID: g.ApplicationID,
		UserID:        g.UserID,
		AccountID:     g.AccountID,
		RedirectURI:   g.RedirectURI,
		Scopes:        strings.Join(g.Scopes, " "),
		CodeChallenge: g.CodeChallenge,
		ExpiresAt:     now.Add(CodeTTL),
		CreatedAt:     now,
	}
	if g.CodeChallenge != "" {
		row.CodeChallengeMethod = PKCEMethodS256
	}
	db := s.db.WithContext(ctx)
	// Expired codes are useless, used or not; clearing them here keeps the table as
	// small as the number of logins in the last ten minutes.
	if err := db.Where("expires_at <= ?", now).Delete(&AuthorizationCode{}).Error; err != nil {
		return "", fmt.Errorf("delete expired authorization codes: %w", err)
	}
	if err := db.Create(row).Error; err != nil {
		return "", fmt.Errorf("create authorization code: %w", err)
	}
	return code, nil
}

// CodeExchange is a token request with grant_type=authorization_code.
type CodeExchange struct {
	Code string
	// RedirectURI must be the one of the authorization request; it may be left out
	// only when the application registered a single redirect URI.
	RedirectURI  string
	CodeVerifier string
}

// ExchangeCode turns an authorization code into an access and refresh token for app.
// The code is consumed in the same transaction, so that of two concurrent exchanges
// only one succeeds; a code presented again after its use also revokes the token it
// bought, since the code has evidently leaked (RFC 6749 section 4.1.2).
func (s *Service) ExchangeCode(ctx context.Context, app *Application, in CodeExchange) (*IssuedToken, error) {
	if in.Code == "" {
		return nil, InvalidRequest("The code parameter is missing.")
	}
	hash := hashSecret(in.Code)
	var (
		out       *IssuedToken
		replayed  bool
		revokedID int64
	)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row AuthorizationCode
		err := tx.Where("code_hash = ?", hash).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrInvalidGrant
		}
		if err != nil {
			return fmt.Errorf("load authorization code: %w", err)
		}
		now := s.clock()
		switch {
		case row.ApplicationID != app.ID:
			return ErrInvalidGrant
		case row.ConsumedAt != nil:
			replayed = true
			if row.TokenID != nil {
				if err := tx.Model(&Token{}).Where("id = ? AND revoked_at IS NULL", *row.TokenID).
					Update("revoked_at", now).Error; err != nil {
					return fmt.Errorf("revoke token of replayed code: %w", err)
				}
				revokedID = *row.TokenID
			}
			return nil
		case !now.Before(row.ExpiresAt):
			return ErrInvalidGrant
		case !redirectMatches(app, row.RedirectURI, in.RedirectURI):
			return ErrInvalidGrant
		case !verifyPKCE(row.CodeChallenge, in.CodeVerifier):
			return ErrInvalidGrant
		}
		res := tx.Model(&AuthorizationCode{}).Where("code_hash = ? AND consumed_at IS NULL", hash).
			Update("consumed_at", now)
		if res.Error != nil {
			return fmt.Errorf("consume authorization code: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return ErrInvalidGrant // a concurrent exchange won
		}
		out, err = s.issueToken(tx, app.ID, row.UserID, row.AccountID, strings.Fields(row.Scopes), true)
		if err != nil {
			return err
		}
		if err := tx.Model(&AuthorizationCode{}).Where("code_hash = ?", hash).
			Update("token_id", out.Token.ID).Error; err != nil {
			return fmt.Errorf("record token of authorization code: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if replayed {
		s.revoked(revokedID)
		return nil, ErrInvalidGrant
	}
	return out, nil
}

func redirectMatches(app *Application, granted, presented string) bool {
	if presented == "" {
		uris := app.RedirectURIList()
		return len(uris) == 1 && uris[0] == granted
	}
	return presented == granted
}

// verifyPKCE checks a code verifier against the challenge of the authorization request.
// A verifier without a challenge is refused as well: it means the request that got
// the code was not the one the client made.
func verifyPKCE(challenge, verifier string) bool {
	if challenge == "" {
		return verifier == ""
	}
	if !ValidPKCEValue(verifier) {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}

// ValidPKCEValue reports whether s has the form RFC 7636 requires of a code verifier
// and of a code challenge: 43 to 128 unreserved characters.
func ValidPKCEValue(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.', r == '_', r == '~':
		default:
			return false
		}
	}
	return true
}

// RefreshToken rotates a token: the refresh token's token is revoked and a new access
// and refresh token issued with the same or narrower scopes (none means the same).
func (s *Service) RefreshToken(ctx context.Context, app *Application, refresh string, scopes []string) (*IssuedToken, error) {
	if refresh == "" {
		return nil, InvalidRequest("The refresh_token parameter is missing.")
	}
	var (
		out       *IssuedToken
		revokedID int64
	)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var old Token
		err := tx.Where("refresh_hash = ?", hashSecret(refresh)).Take(&old).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrInvalidGrant
		}
		if err != nil {
			return fmt.Errorf("load token: %w", err)
		}
		if old.RevokedAt != nil || old.ApplicationID != app.ID {
			return ErrInvalidGrant
		}
		granted := old.ScopeList()
		if len(scopes) == 0 {
			scopes = granted
		} else if !Subset(scopes, granted) {
			return ErrInvalidScope
		}
		res := tx.Model(&Token{}).Where("id = ? AND revoked_at IS NULL", old.ID).Update("revoked_at", s.clock())
		if res.Error != nil {
			return fmt.Errorf("revoke refreshed token: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return ErrInvalidGrant // a concurrent refresh won
		}
		revokedID = old.ID
		var userID, accountID int64
		if old.UserID != nil && old.AccountID != nil {
			userID, accountID = *old.UserID, *old.AccountID
		}
		out, err = s.issueToken(tx, app.ID, userID, accountID, scopes, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.revoked(revokedID)
	return out, nil
}

// RevokeToken revokes the token whose access or refresh token is raw, if app owns it.
// Like RFC 7009 it is silent about tokens that are unknown, already revoked or another
// client's: the answer must not help anyone probe for tokens.
func (s *Service) RevokeToken(ctx context.Context, app *Application, raw string) error {
	if raw == "" {
		return nil
	}
	h := hashSecret(raw)
	db := s.db.WithContext(ctx)
	var ids []int64
	err := db.Model(&Token{}).
		Where("(token_hash = ? OR refresh_hash = ?) AND application_id = ? AND revoked_at IS NULL", h, h, app.ID).
		Pluck("id", &ids).Error
	if err != nil {
		return fmt.Errorf("find token to revoke: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	if err := db.Model(&Token{}).Where("id IN ? AND revoked_at IS NULL", ids).Update("revoked_at", s.clock()).Error; err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	s.revoked(ids...)
	return nil
}
