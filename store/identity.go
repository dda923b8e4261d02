package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Identity is the public host and protocol an instance was first started with. They are
// part of every account id, key id and ActivityPub address the instance has minted, so
// they may never change under an existing database.
type Identity struct {
	Host     string
	Protocol string
}

// ErrNoIdentity means the database has never been started as an instance.
var ErrNoIdentity = errors.New("store: the database records no instance host yet")

// IdentityRecord is the single row of instance_identity.
type IdentityRecord struct {
	ID        int64 `gorm:"primaryKey"`
	Host      string
	Protocol  string
	CreatedAt time.Time
}

// TableName is the table of the record.
func (IdentityRecord) TableName() string { return "instance_identity" }

// CheckIdentity compares want with the identity recorded in db. When none is recorded
// yet, record says what to do: true records want (the first start of an instance), false
// returns ErrNoIdentity (an admin command must not be the one to decide the host).
// A recorded identity that differs from want is an error naming both, so that the
// operator sees which setting is wrong.
func CheckIdentity(ctx context.Context, db *gorm.DB, want Identity, record bool) error {
	var row IdentityRecord
	err := db.WithContext(ctx).Where("id = 1").Take(&row).Error
	switch {
	case err == nil:
	case errors.Is(err, gorm.ErrRecordNotFound):
		if !record {
			return ErrNoIdentity
		}
		row = IdentityRecord{ID: 1, Host: want.Host, Protocol: want.Protocol, CreatedAt: Now()}
		// Two processes starting at once on a new database: the first row wins and the
		// other compares against it below.
		if err := db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
			return fmt.Errorf("store: record instance host: %w", err)
		}
		if err := db.WithContext(ctx).Where("id = 1").Take(&row).Error; err != nil {
			return fmt.Errorf("store: read instance host: %w", err)
		}
	default:
		return fmt.Errorf("store: read instance host: %w", err)
	}
	if row.Host != want.Host || row.Protocol != want.Protocol {
		return fmt.Errorf("store: this database belongs to %s://%s, but the configuration says %s://%s: "+
			"set TACIT_HOST and TACIT_PROTOCOL (or host and protocol in the configuration file) to the values the instance was first started with",
			row.Protocol, row.Host, want.Protocol, want.Host)
	}
	return nil
}
