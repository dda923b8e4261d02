package community

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tacit-social/tacit/markup"
)

// TagFollow is a hashtag an account follows: public statuses carrying it reach the
// account's home timeline (homeSQL and homeMember).
type TagFollow struct {
	ID        int64     `gorm:"primaryKey;autoIncrement:false"`
	AccountID int64     `gorm:"not null"`
	TagID     int64     `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null"`
}

// TagInfo is a hashtag as one viewer sees it. ID is 0 for a valid name nobody has
// used yet.
type TagInfo struct {
	ID        int64
	Name      string
	Following bool
}

// validTagName normalizes a hashtag name and checks that a post could carry it: the
// same parser that finds hashtags in posts must find exactly this one.
func validTagName(raw string) (string, error) {
	name := NormalizeTag(raw)
	tags := markup.Parse("#" + name).Tags
	if name == "" || len(tags) != 1 || NormalizeTag(tags[0]) != name {
		return "", &Error{Kind: KindNotFound, Msg: "Record not found"}
	}
	return name, nil
}

// Tag returns the hashtag called name (any case, with or without '#') and whether the
// viewer follows it. A valid name nobody has used yet is answered too (ID 0), as
// Mastodon does, so that a client can follow it; an invalid one is not found.
func (s *Service) Tag(ctx context.Context, v Viewer, raw string) (*TagInfo, error) {
	name, err := validTagName(raw)
	if err != nil {
		return nil, err
	}
	out := &TagInfo{Name: name}
	var t Tag
	err = s.read(ctx).Where("name = ?", name).Take(&t).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return out, nil
	case err != nil:
		return nil, fmt.Errorf("load tag: %w", err)
	}
	out.ID = t.ID
	if me := v.AccountID(); me != 0 {
		var n int64
		if err := s.read(ctx).Model(&TagFollow{}).Where("account_id = ? AND tag_id = ?", me, t.ID).Count(&n).Error; err != nil {
			return nil, fmt.Errorf("load tag follow: %w", err)
		}
		out.Following = n > 0
	}
	return out, nil
}

// FollowTag makes account follow a hashtag, creating the hashtag if nobody has used it
// yet. Following it again changes nothing.
func (s *Service) FollowTag(ctx context.Context, account *Account, raw string) (*TagInfo, error) {
	if account == nil {
		return nil, ErrForbidden
	}
	name, err := validTagName(raw)
	if err != nil {
		return nil, err
	}
	var out *TagInfo
	err = s.tx(ctx, func(tx *gorm.DB, _ *[]Event) error {
		now := s.clock()
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&Tag{ID: NewID(), Name: name, CreatedAt: now}).Error; err != nil {
			return fmt.Errorf("create tag: %w", err)
		}
		var t Tag
		if err := tx.Where("name = ?", name).Take(&t).Error; err != nil {
			return fmt.Errorf("load tag: %w", err)
		}
		f := TagFollow{ID: NewID(), AccountID: account.ID, TagID: t.ID, CreatedAt: now}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&f).Error; err != nil {
			return fmt.Errorf("follow tag: %w", err)
		}
		out = &TagInfo{ID: t.ID, Name: t.Name, Following: true}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UnfollowTag ends account's follow of a hashtag; not following it is not an error.
func (s *Service) UnfollowTag(ctx context.Context, account *Account, raw string) (*TagInfo, error) {
	if account == nil {
		return nil, ErrForbidden
	}
	name, err := validTagName(raw)
	if err != nil {
		return nil, err
	}
	out := &TagInfo{Name: name}
	var t Tag
	err = s.read(ctx).Where("name = ?", name).Take(&t).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return out, nil
	case err != nil:
		return nil, fmt.Errorf("load tag: %w", err)
	}
	out.ID = t.ID
	if err := s.db.WithContext(ctx).Where("account_id = ? AND tag_id = ?", account.ID, t.ID).Delete(&TagFollow{}).Error; err != nil {
		return nil, fmt.Errorf("unfollow tag: %w", err)
	}
	return out, nil
}

// FollowedTagPage is a page of the hashtags someone follows, paged by follow id.
type FollowedTagPage struct {
	Tags               []TagInfo
	NewestID, OldestID int64
}

// FollowedTags lists the hashtags account follows, most recently followed first.
func (s *Service) FollowedTags(ctx context.Context, account *Account, p Page) (*FollowedTagPage, error) {
	if account == nil {
		return nil, ErrForbidden
	}
	type row struct {
		ID    int64
		TagID int64
		Name  string
	}
	q := s.read(ctx).Table("tag_follows").Select("tag_follows.id, tag_follows.tag_id, tags.name").
		Joins("JOIN tags ON tags.id = tag_follows.tag_id").Where("tag_follows.account_id = ?", account.ID)
	rows, err := findPage[row](q, p.Normalize(100, 200), "tag_follows.id", "followed tags")
	if err != nil {
		return nil, err
	}
	out := &FollowedTagPage{Tags: make([]TagInfo, 0, len(rows))}
	if len(rows) == 0 {
		return out, nil
	}
	out.NewestID, out.OldestID = rows[0].ID, rows[len(rows)-1].ID
	for _, r := range rows {
		out.Tags = append(out.Tags, TagInfo{ID: r.TagID, Name: r.Name, Following: true})
	}
	return out, nil
}

// TagDay is one day of a hashtag's use: statuses carrying it and distinct authors.
type TagDay struct {
	Day      time.Time // midnight UTC
	Uses     int
	Accounts int
}

// HistoryDays is how many days a hashtag's history covers, as in Mastodon.
const HistoryDays = 7

// TagHistories returns, for each hashtag id, its use over the last HistoryDays days
// (today first), counting the public statuses the viewer may read, as hashtag
// timelines do, so that counts never reveal posts the viewer could not see.
func (s *Service) TagHistories(ctx context.Context, v Viewer, tagIDs []int64) (map[int64][]TagDay, error) {
	now := s.clock()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	since := today.AddDate(0, 0, -(HistoryDays - 1))
	out := make(map[int64][]TagDay, len(tagIDs))
	for _, id := range tagIDs {
		days := make([]TagDay, HistoryDays)
		for i := range days {
			days[i].Day = today.AddDate(0, 0, -i)
		}
		out[id] = days
	}
	if len(tagIDs) == 0 {
		return out, nil
	}
	type use struct {
		TagID     int64
		StatusID  int64
		AccountID int64
	}
	var uses []use
	db := s.read(ctx).Table("status_tags").Select("status_tags.tag_id, status_tags.status_id, statuses.account_id").
		Joins("JOIN statuses ON statuses.id = status_tags.status_id").
		Where("status_tags.tag_id IN ? AND status_tags.status_id >= ?", uniqueIDs(tagIDs), IDAt(since))
	if err := s.publicSQL(db, v, PublicQuery{}).Find(&uses).Error; err != nil {
		return nil, fmt.Errorf("load tag uses: %w", err)
	}
	authors := map[[2]int64]map[int64]bool{} // (tag, day) → accounts
	for _, u := range uses {
		at := TimeOf(u.StatusID).UTC()
		day := int(today.Sub(time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)) / (24 * time.Hour))
		if day < 0 || day >= HistoryDays {
			continue
		}
		out[u.TagID][day].Uses++
		k := [2]int64{u.TagID, int64(day)}
		if authors[k] == nil {
			authors[k] = map[int64]bool{}
		}
		if !authors[k][u.AccountID] {
			authors[k][u.AccountID] = true
			out[u.TagID][day].Accounts++
		}
	}
	return out, nil
}
