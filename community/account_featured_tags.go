package community

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tacit-social/tacit/markup"
)

// Limits on featured tags, as in Mastodon.
const (
	MaxFeaturedTags = 10
	MaxTagLength    = 100
	// MaxTagSuggestions is how many of an account's own hashtags are suggested for featuring.
	MaxTagSuggestions = 10
)

// FeaturedTagInfo is a featured tag with what a profile shows about it: how many of the
// account's public posts use it and when the last one was written.
type FeaturedTagInfo struct {
	ID            int64
	AccountID     int64
	TagID         int64
	Name          string
	StatusesCount int64
	LastStatusAt  *time.Time
	CreatedAt     time.Time
}

// NormalizeTagName turns what a user typed ("#Go", "go") into a stored hashtag name,
// refusing anything that would not be read as a hashtag in a post.
func NormalizeTagName(raw string) (string, error) {
	name := strings.TrimPrefix(strings.TrimSpace(raw), "#")
	if name == "" {
		return "", Invalid("Hashtag can't be blank")
	}
	if utf8.RuneCountInString(name) > MaxTagLength {
		return "", Invalid("Hashtag is too long (maximum is %d characters)", MaxTagLength)
	}
	// The same rule as hashtags in posts, so that a featured tag always matches the
	// posts that use it.
	if tags := markup.Parse("#" + name).Tags; len(tags) != 1 || tags[0] != name {
		return "", Invalid("Hashtag %q may only contain letters, numbers and underscores, and needs a letter", name)
	}
	return strings.ToLower(name), nil
}

// ListFeaturedTags lists the hashtags an account features, oldest first as Mastodon
// shows them, with their statistics. The statistics count only public and unlisted
// posts the viewer may read, since the list is shown on a public profile.
func (s *Service) ListFeaturedTags(ctx context.Context, v Viewer, accountID int64) ([]FeaturedTagInfo, error) {
	if _, err := s.AccountFor(ctx, v, accountID); err != nil {
		return nil, err
	}
	var list []FeaturedTagInfo
	err := s.read(ctx).Table("featured_tags").
		Select("featured_tags.id, featured_tags.account_id, featured_tags.tag_id, featured_tags.created_at, tags.name").
		Joins("JOIN tags ON tags.id = featured_tags.tag_id").
		Where("featured_tags.account_id = ?", accountID).Order("featured_tags.id").Scan(&list).Error
	if err != nil {
		return nil, fmt.Errorf("list featured tags: %w", err)
	}
	if list == nil {
		list = []FeaturedTagInfo{}
	}
	if err := s.featuredTagStats(ctx, v, accountID, list); err != nil {
		return nil, err
	}
	return list, nil
}

// featuredTagStats fills the statistics of featured tags with one grouped query.
func (s *Service) featuredTagStats(ctx context.Context, v Viewer, accountID int64, list []FeaturedTagInfo) error {
	if len(list) == 0 {
		return nil
	}
	tagIDs := make([]int64, len(list))
	for i, ft := range list {
		tagIDs[i] = ft.TagID
	}
	// The newest status id stands for the date of the last post: ids are time-ordered,
	// and an aggregate over a timestamp column comes back as text on SQLite.
	var stats []struct {
		TagID  int64
		Count  int64
		LastID int64
	}
	err := s.read(ctx).Model(&Status{}).Scopes(s.visibleSQL(v)).
		Select("status_tags.tag_id AS tag_id, COUNT(*) AS count, MAX(statuses.id) AS last_id").
		Joins("JOIN status_tags ON status_tags.status_id = statuses.id").
		Where("statuses.account_id = ? AND statuses.visibility IN ? AND status_tags.tag_id IN ?",
			accountID, []Visibility{VisibilityPublic, VisibilityUnlisted}, tagIDs).
		Group("status_tags.tag_id").Scan(&stats).Error
	if err != nil {
		return fmt.Errorf("count featured tag statuses: %w", err)
	}
	byTag := make(map[int64]int, len(stats))
	for i, st := range stats {
		byTag[st.TagID] = i
	}
	for i := range list {
		j, ok := byTag[list[i].TagID]
		if !ok {
			continue
		}
		list[i].StatusesCount = stats[j].Count
		t := TimeOf(stats[j].LastID)
		list[i].LastStatusAt = &t
	}
	return nil
}

// FeatureTag adds a hashtag to an account's profile.
func (s *Service) FeatureTag(ctx context.Context, accountID int64, name string) (*FeaturedTagInfo, error) {
	name, err := NormalizeTagName(name)
	if err != nil {
		return nil, err
	}
	var ft FeaturedTag
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		tag, err := s.findOrCreateTag(tx, name)
		if err != nil {
			return err
		}
		var featured []int64
		if err := tx.Model(&FeaturedTag{}).Where("account_id = ?", accountID).Pluck("tag_id", &featured).Error; err != nil {
			return fmt.Errorf("count featured tags: %w", err)
		}
		for _, id := range featured {
			if id == tag.ID {
				return Conflict("You already feature #%s", name)
			}
		}
		if len(featured) >= MaxFeaturedTags {
			return Invalid("You can feature at most %d hashtags", MaxFeaturedTags)
		}
		ft = FeaturedTag{ID: NewID(), AccountID: accountID, TagID: tag.ID, CreatedAt: s.clock()}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&ft)
		if res.Error != nil {
			return fmt.Errorf("create featured tag: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return Conflict("You already feature #%s", name)
		}
		return s.profileChanged(tx, ev, accountID)
	})
	if err != nil {
		return nil, err
	}
	list := []FeaturedTagInfo{{ID: ft.ID, AccountID: ft.AccountID, TagID: ft.TagID, Name: name, CreatedAt: ft.CreatedAt}}
	owner, err := s.accountByID(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if err := s.featuredTagStats(ctx, AsAccount(owner), accountID, list); err != nil {
		return nil, err
	}
	return &list[0], nil
}

// findOrCreateTag returns the tag with this (normalized) name, creating it if needed;
// a concurrent creation of the same tag is not an error.
func (s *Service) findOrCreateTag(tx *gorm.DB, name string) (*Tag, error) {
	t := Tag{ID: NewID(), Name: name, CreatedAt: s.clock()}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&t).Error; err != nil {
		return nil, fmt.Errorf("create tag: %w", err)
	}
	var out Tag
	if err := tx.Where("name = ?", name).Take(&out).Error; err != nil {
		return nil, fmt.Errorf("load tag: %w", err)
	}
	return &out, nil
}

// UnfeatureTag removes one of the account's featured tags; someone else's is not found.
func (s *Service) UnfeatureTag(ctx context.Context, accountID, featuredTagID int64) error {
	return s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		res := tx.Where("id = ? AND account_id = ?", featuredTagID, accountID).Delete(&FeaturedTag{})
		if res.Error != nil {
			return fmt.Errorf("delete featured tag: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return s.profileChanged(tx, ev, accountID)
	})
}

// profileChanged records that something shown on a profile (its featured tags) changed:
// the account's updated_at moves, so that readers catching up on changed profiles (the
// search index) see it, and AccountUpdated tells subscribers (federation sends the new
// profile to the peers).
func (s *Service) profileChanged(tx *gorm.DB, ev *[]Event, accountID int64) error {
	if err := tx.Model(&Account{}).Where("id = ?", accountID).Update("updated_at", s.clock()).Error; err != nil {
		return fmt.Errorf("touch account: %w", err)
	}
	var a Account
	if err := tx.Take(&a, accountID).Error; err != nil {
		return fmt.Errorf("reload account: %w", err)
	}
	*ev = append(*ev, AccountUpdated{Account: a})
	return nil
}

// FeaturedTagNames returns the names of the hashtags each account features, oldest
// first, for the given accounts.
func (s *Service) FeaturedTagNames(ctx context.Context, accountIDs []int64) (map[int64][]string, error) {
	out := map[int64][]string{}
	if len(accountIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		AccountID int64
		Name      string
	}
	err := s.read(ctx).Table("featured_tags").Select("featured_tags.account_id, tags.name").
		Joins("JOIN tags ON tags.id = featured_tags.tag_id").
		Where("featured_tags.account_id IN ?", uniqueIDs(accountIDs)).
		Order("featured_tags.id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("load featured tags: %w", err)
	}
	for _, r := range rows {
		out[r.AccountID] = append(out[r.AccountID], r.Name)
	}
	return out, nil
}

// FeaturedTagSuggestions are the hashtags the account uses most in its own posts and
// does not feature yet, most used first.
func (s *Service) FeaturedTagSuggestions(ctx context.Context, accountID int64) ([]Tag, error) {
	var tags []Tag
	err := s.read(ctx).Table("tags").Select("tags.id, tags.name, tags.created_at").
		Joins("JOIN status_tags ON status_tags.tag_id = tags.id").
		Joins("JOIN statuses ON statuses.id = status_tags.status_id").
		Where("statuses.account_id = ?", accountID).
		Where("NOT EXISTS (SELECT 1 FROM featured_tags WHERE featured_tags.account_id = ? AND featured_tags.tag_id = tags.id)", accountID).
		Group("tags.id, tags.name, tags.created_at").
		Order("COUNT(*) DESC, tags.name").Limit(MaxTagSuggestions).Scan(&tags).Error
	if err != nil {
		return nil, fmt.Errorf("suggest featured tags: %w", err)
	}
	if tags == nil {
		tags = []Tag{}
	}
	return tags, nil
}
