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

// OOBRedirect is the redirect URI that asks the authorize page to show the code
// instead of redirecting (command-line clients).
const OOBRedirect = "urn:ietf:wg:oauth:2.0:oob"

// NewApplication is what POST /api/v1/apps registers.
type NewApplication struct {
	Name         string
	Website      string
	RedirectURIs []string
	Scopes       []string
}

// CreateApplication registers an OAuth client with fresh credentials.
func (s *Service) CreateApplication(ctx context.Context, in NewApplication) (*Application, error) {
	app := &Application{
		ID:           community.NewID(),
		Name:         strings.TrimSpace(in.Name),
		Website:      strings.TrimSpace(in.Website),
		RedirectURIs: strings.Join(in.RedirectURIs, "\n"),
		Scopes:       strings.Join(in.Scopes, " "),
		ClientID:     newSecret(32),
		ClientSecret: newSecret(32),
		CreatedAt:    time.Now().UTC(),
	}
	if err := s.db.WithContext(ctx).Create(app).Error; err != nil {
		return nil, fmt.Errorf("create application: %w", err)
	}
	return app, nil
}

// ApplicationByClientID finds a registered client.
func (s *Service) ApplicationByClientID(ctx context.Context, clientID string) (*Application, error) {
	var app Application
	err := s.db.WithContext(ctx).Where("client_id = ?", clientID).Take(&app).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, community.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load application: %w", err)
	}
	return &app, nil
}

// IssuedToken is a token as handed to the client: the secrets exist only here.
type IssuedToken struct {
	Token        *Token
	AccessToken  string
	RefreshToken string
}

// IssueToken creates an access token for an application, acting for a user (userID and
// accountID non-zero) or for the application alone. withRefresh adds a refresh token.
func (s *Service) IssueToken(ctx context.Context, appID, userID, accountID int64, scopes []string, withRefresh bool) (*IssuedToken, error) {
	access := newSecret(32)
	t := &Token{
		ID:            community.NewID(),
		ApplicationID: appID,
		Scopes:        strings.Join(scopes, " "),
		TokenHash:     hashSecret(access),
		CreatedAt:     time.Now().UTC(),
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
	if err := s.db.WithContext(ctx).Create(t).Error; err != nil {
		return nil, fmt.Errorf("create token: %w", err)
	}
	return out, nil
}
