package community

import (
	"context"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The timelines that have read markers, as in Mastodon.
const (
	MarkerHome          = "home"
	MarkerNotifications = "notifications"
)

// ValidMarkerTimeline reports whether a timeline can have a read marker.
func ValidMarkerTimeline(name string) bool {
	return name == MarkerHome || name == MarkerNotifications
}

// GetMarkers returns the account's read markers for the named timelines, keyed by
// timeline. Names that are not marker timelines, and timelines never marked, are
// absent.
func (s *Service) GetMarkers(ctx context.Context, accountID int64, timelines []string) (map[string]Marker, error) {
	out := map[string]Marker{}
	var names []string
	for _, t := range timelines {
		if ValidMarkerTimeline(t) {
			names = append(names, t)
		}
	}
	if len(names) == 0 {
		return out, nil
	}
	var rows []Marker
	if err := s.read(ctx).Where("account_id = ? AND timeline IN ?", accountID, names).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load markers: %w", err)
	}
	for _, m := range rows {
		out[m.Timeline] = m
	}
	return out, nil
}

// SaveMarker records the last item the account read in a timeline and returns the
// marker, whose version goes up by one with every save. Clients on several devices
// save concurrently, so the write is a single upsert rather than read-then-write:
// two saves never fail on the primary key, and each bumps the version once.
func (s *Service) SaveMarker(ctx context.Context, accountID int64, timeline string, lastReadID int64) (*Marker, error) {
	if !ValidMarkerTimeline(timeline) {
		return nil, Invalid("Timeline %q has no marker; use home or notifications", timeline)
	}
	if lastReadID <= 0 {
		return nil, Invalid("Last read id is invalid")
	}
	m := Marker{AccountID: accountID, Timeline: timeline, LastReadID: lastReadID, UpdatedAt: s.clock()}
	err := s.tx(ctx, func(tx *gorm.DB, _ *[]Event) error {
		err := tx.Clauses(clause.OnConflict{
			Columns: []clause.Column{{Name: "account_id"}, {Name: "timeline"}},
			DoUpdates: clause.Assignments(map[string]any{
				"last_read_id": lastReadID,
				"updated_at":   m.UpdatedAt,
				"version":      gorm.Expr("markers.version + 1"),
			}),
		}).Create(&m).Error
		if err != nil {
			return fmt.Errorf("save marker: %w", err)
		}
		if err := tx.Where("account_id = ? AND timeline = ?", accountID, timeline).Take(&m).Error; err != nil {
			return fmt.Errorf("reload marker: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}
