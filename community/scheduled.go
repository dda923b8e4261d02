package community

import "time"

// ScheduledStatus is a status its author asked to be published later. Params holds
// what they composed (JSON of ScheduledParams).
type ScheduledStatus struct {
	ID          int64     `gorm:"primaryKey;autoIncrement:false"`
	AccountID   int64     `gorm:"not null"`
	ScheduledAt time.Time `gorm:"not null"`
	Params      string    `gorm:"not null"`
	CreatedAt   time.Time `gorm:"not null"`
}
