package community

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// Trends are computed from what this instance holds (its own posts and those its peers
// delivered), when asked: hashtags by how many people used them lately, statuses by
// interactions with time decay. Only public statuses of world or company scope count,
// so that a trend is something everyone in the company can see (a department post
// never trends, here or anywhere else, since it never leaves its instance), and of
// those only what the viewer may read and does not silence.

// TrendWindow is how far back trends look.
const TrendWindow = HistoryDays * 24 * time.Hour

// maxTrendCandidates bounds the statuses the status trends rank: the most
// interacted-with of the week, before time decay reorders them. Trends pages stop there.
const maxTrendCandidates = 200

// maxTagUses bounds the hashtag uses the tag trends count (the most recent first).
const maxTagUses = 20_000

// TrendingTags returns hashtags ranked by the people who used them over the last week,
// a day's authors counting half as much as the next day's, skipping offset and
// returning at most limit.
func (s *Service) TrendingTags(ctx context.Context, v Viewer, offset, limit int) ([]TagInfo, error) {
	now := s.clock()
	type use struct {
		TagID     int64
		StatusID  int64
		AccountID int64
	}
	var uses []use
	db := s.read(ctx).Table("status_tags").Select("status_tags.tag_id, status_tags.status_id, statuses.account_id").
		Joins("JOIN statuses ON statuses.id = status_tags.status_id").
		Where("status_tags.status_id >= ? AND statuses.scope IN ?", IDAt(now.Add(-TrendWindow)), []Scope{ScopeWorld, ScopeCompany})
	if err := s.publicSQL(db, v, PublicQuery{}).Order("status_tags.status_id DESC").Limit(maxTagUses).Find(&uses).Error; err != nil {
		return nil, fmt.Errorf("load tag uses: %w", err)
	}
	// A person counts once per hashtag per day.
	type key struct{ tag, account, day int64 }
	seen := map[key]bool{}
	score := map[int64]float64{}
	for _, u := range uses {
		day := int64(now.Sub(TimeOf(u.StatusID)) / (24 * time.Hour))
		k := key{u.TagID, u.AccountID, day}
		if seen[k] {
			continue
		}
		seen[k] = true
		score[u.TagID] += math.Pow(0.5, float64(day))
	}
	ids := make([]int64, 0, len(score))
	for id := range score {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b int64) int {
		if score[a] != score[b] {
			if score[a] > score[b] {
				return -1
			}
			return 1
		}
		return cmp.Compare(b, a) // newer hashtags first among equals
	})
	if offset >= len(ids) {
		return []TagInfo{}, nil
	}
	ids = ids[offset:min(len(ids), offset+limit)]
	var tags []Tag
	if err := s.read(ctx).Where("id IN ?", ids).Find(&tags).Error; err != nil {
		return nil, fmt.Errorf("load tags: %w", err)
	}
	names := map[int64]string{}
	for _, t := range tags {
		names[t.ID] = t.Name
	}
	following := map[int64]bool{}
	if me := v.AccountID(); me != 0 {
		var followed []int64
		if err := s.read(ctx).Model(&TagFollow{}).Where("account_id = ? AND tag_id IN ?", me, ids).
			Pluck("tag_id", &followed).Error; err != nil {
			return nil, fmt.Errorf("load tag follows: %w", err)
		}
		for _, id := range followed {
			following[id] = true
		}
	}
	out := make([]TagInfo, 0, len(ids))
	for _, id := range ids {
		out = append(out, TagInfo{ID: id, Name: names[id], Following: following[id]})
	}
	return out, nil
}

// TrendingStatuses returns recent public statuses ranked by favourites and reblogs,
// decaying with age (a post's interactions weigh as 1/(hours+2)^1.5), without what the
// viewer's filters hide in public timelines; offset and limit page the ranking.
func (s *Service) TrendingStatuses(ctx context.Context, v Viewer, offset, limit int) (StatusPage, error) {
	now := s.clock()
	// First the most interacted-with recent public posts, on cheap column conditions
	// only; then the audience rules on those few, which costs far less than applying
	// them to every post of the week.
	var top []int64
	if err := s.read(ctx).Table("statuses").
		Where(`statuses.id >= ? AND statuses.scope IN ? AND statuses.visibility = ? AND statuses.reblog_of_id IS NULL
			AND statuses.favourites_count + statuses.reblogs_count > 0`,
			IDAt(now.Add(-TrendWindow)), []Scope{ScopeWorld, ScopeCompany}, VisibilityPublic).
		Order("statuses.favourites_count + statuses.reblogs_count DESC, statuses.id DESC").
		Limit(maxTrendCandidates).Pluck("statuses.id", &top).Error; err != nil {
		return StatusPage{}, fmt.Errorf("load trending statuses: %w", err)
	}
	if len(top) == 0 {
		return StatusPage{Statuses: []Status{}}, nil
	}
	var candidates []Status
	db := s.read(ctx).Table("statuses").Select("statuses.*").Where("statuses.id IN ?", top)
	if err := s.publicSQL(db, v, PublicQuery{}).Find(&candidates).Error; err != nil {
		return StatusPage{}, fmt.Errorf("load trending statuses: %w", err)
	}
	score := func(st *Status) float64 {
		hours := max(0, now.Sub(st.CreatedAt).Hours())
		return float64(st.FavouritesCount+st.ReblogsCount) / math.Pow(hours+2, 1.5)
	}
	slices.SortStableFunc(candidates, func(a, b Status) int { return cmp.Compare(score(&b), score(&a)) })
	var filters *FilterSet
	if me := v.AccountID(); me != 0 {
		var err error
		if filters, err = s.ActiveFilters(ctx, me); err != nil {
			return StatusPage{}, err
		}
	}
	// The SQL already kept only what the viewer may read, so the per-status checks
	// (FilterVisible, filters) run on the best-ranked slice only, growing it if they
	// drop some.
	want := offset + limit
	var kept []Status
	for from := 0; from < len(candidates) && len(kept) < want; {
		to := min(len(candidates), from+2*(want-len(kept)))
		visible, err := s.FilterVisible(ctx, v, candidates[from:to])
		if err != nil {
			return StatusPage{}, err
		}
		if visible, err = s.dropHidden(ctx, filters, FilterPublic, visible); err != nil {
			return StatusPage{}, err
		}
		kept = append(kept, visible...)
		from = to
	}
	page := StatusPage{Statuses: []Status{}, Filters: filters}
	if offset < len(kept) {
		page.Statuses = kept[offset:min(len(kept), want)]
	}
	return page, nil
}
