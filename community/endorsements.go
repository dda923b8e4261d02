package community

import "time"

// AccountPin is an endorsement: AccountID features TargetAccountID, whom they follow,
// on their profile. It hangs off the follow (FollowID): unfollowing ends it.
type AccountPin struct {
	ID              int64     `gorm:"primaryKey;autoIncrement:false"`
	AccountID       int64     `gorm:"not null"`
	TargetAccountID int64     `gorm:"not null"`
	FollowID        int64     `gorm:"not null"`
	CreatedAt       time.Time `gorm:"not null"`
}
