package community

import "time"

// SuggestionDismissal records that AccountID does not want TargetAccountID suggested.
type SuggestionDismissal struct {
	ID              int64     `gorm:"primaryKey;autoIncrement:false"`
	AccountID       int64     `gorm:"not null"`
	TargetAccountID int64     `gorm:"not null"`
	CreatedAt       time.Time `gorm:"not null"`
}
