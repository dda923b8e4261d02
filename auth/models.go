package auth

import "time"

// Application is an OAuth 2 client registered through POST /api/v1/apps.
type Application struct {
	ID           int64     `gorm:"primaryKey;autoIncrement:false"`
	Name         string    `gorm:"not null"`
	Website      string    `gorm:"not null;default:''"`
	RedirectURIs string    `gorm:"not null"` // newline-separated, as registered
	Scopes       string    `gorm:"not null"` // space-separated
	ClientID     string    `gorm:"not null;uniqueIndex"`
	ClientSecret string    `gorm:"not null"`
	CreatedAt    time.Time `gorm:"not null"`
}

// Token is an access token. Only a SHA-256 hash of the token (and of its refresh token)
// is stored, so a database leak does not hand out sessions.
type Token struct {
	ID            int64  `gorm:"primaryKey;autoIncrement:false"`
	ApplicationID int64  `gorm:"not null"`
	UserID        *int64 // nil for client_credentials tokens, which act for the app only
	AccountID     *int64
	Scopes        string `gorm:"not null"`
	TokenHash     string `gorm:"not null;uniqueIndex"`
	RefreshHash   *string
	CreatedAt     time.Time `gorm:"not null"`
	LastUsedAt    *time.Time
	RevokedAt     *time.Time
}

// AuthorizationCode is a one-time code from the authorize page, exchanged at /oauth/token.
type AuthorizationCode struct {
	CodeHash            string    `gorm:"primaryKey"`
	ApplicationID       int64     `gorm:"not null"`
	UserID              int64     `gorm:"not null"`
	AccountID           int64     `gorm:"not null;default:0"` // the user's account, for the token the code buys
	RedirectURI         string    `gorm:"not null"`
	Scopes              string    `gorm:"not null"`
	CodeChallenge       string    `gorm:"not null;default:''"`
	CodeChallengeMethod string    `gorm:"not null;default:''"`
	ExpiresAt           time.Time `gorm:"not null"`
	CreatedAt           time.Time `gorm:"not null"`
	// ConsumedAt and TokenID record the code's one use. A used code is kept until it
	// expires so that a replay is recognised and the token it bought revoked
	// (RFC 6749 section 4.1.2).
	ConsumedAt *time.Time
	TokenID    *int64
}
