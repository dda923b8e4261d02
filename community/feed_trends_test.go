package community

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/tacit-social/tacit/store/storetest"
)

// benchTrendsWorld seeds a busy week of a department: 300 accounts, 20,000 public
// statuses over 7 days, one in four with one of 50 hashtags and one in five with
// favourites.
func benchTrendsWorld(b *testing.B) (*Service, *Account) {
	db := storetest.Open(b)
	s := salesService(db)
	accounts := make([]*Account, 300)
	for i := range accounts {
		accounts[i] = storeAccount(b, s, fmt.Sprintf("u%d", i))
	}
	now := s.clock()
	rows := make([]Status, 20000)
	for i := range rows {
		at := now.Add(-time.Duration(len(rows)-i) * 30 * time.Second)
		rows[i] = Status{ID: IDAt(at) + int64(i%1000), AccountID: accounts[(i*7919)%len(accounts)].ID,
			Text: "x", Visibility: VisibilityPublic, Scope: ScopeCompany, Local: true, CreatedAt: at, UpdatedAt: at}
		if i%5 == 0 {
			rows[i].FavouritesCount = int64(i % 13)
		}
	}
	quiet := db.Session(&gorm.Session{Logger: logger.Discard})
	if err := quiet.CreateInBatches(rows, 500).Error; err != nil {
		b.Fatal(err)
	}
	tags := make([]Tag, 50)
	for i := range tags {
		tags[i] = Tag{ID: NewID(), Name: fmt.Sprintf("topic%d", i), CreatedAt: now}
	}
	if err := quiet.Create(&tags).Error; err != nil {
		b.Fatal(err)
	}
	var links []StatusTag
	for i := 0; i < len(rows); i += 4 {
		links = append(links, StatusTag{StatusID: rows[i].ID, TagID: tags[(i*31)%len(tags)].ID})
	}
	if err := quiet.CreateInBatches(links, 500).Error; err != nil {
		b.Fatal(err)
	}
	return s, accounts[0]
}

// BenchmarkTrendingTags ranks the week's hashtags for a logged-in viewer.
func BenchmarkTrendingTags(b *testing.B) {
	s, me := benchTrendsWorld(b)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		tags, err := s.TrendingTags(ctx, AsAccount(me), 0, 10)
		if err != nil || len(tags) != 10 {
			b.Fatalf("trending tags: %d, %v", len(tags), err)
		}
	}
}

// BenchmarkTrendingStatuses ranks the week's statuses for a logged-in viewer.
func BenchmarkTrendingStatuses(b *testing.B) {
	s, me := benchTrendsWorld(b)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		page, err := s.TrendingStatuses(ctx, AsAccount(me), 0, 20)
		if err != nil || len(page.Statuses) != 20 {
			b.Fatalf("trending statuses: %d, %v", len(page.Statuses), err)
		}
	}
}
