package community

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// StatusPage is one page of a status list, newest first. NewestID and OldestID are the
// ids the list is paged by at the two ends of the page (status ids for timelines,
// bookmark or favourite ids for those lists); both are 0 when the page is empty.
type StatusPage struct {
	Statuses []Status
	NewestID int64
	OldestID int64
	// Filters are the viewer's active filters when the list loaded them (to leave out
	// what they hide), so that rendering the page need not load them again.
	Filters *FilterSet
}

// pagedStatus is a status with the id its list is paged by.
type pagedStatus struct {
	Status
	PageID int64
}

// maxFillRounds bounds the extra queries a page may cost when the visibility check
// drops rows that the SQL let through: past it a page comes back short, not slow.
const maxFillRounds = 4

// fillPage reads one page of a list through fetch, which runs the query for a window
// and returns its rows in query order (ascending when the window has a MinID). keep
// decides which rows the viewer gets. When keep drops rows, the window moves on past
// the last row read and fetches again, so that a page is short only at the end of the
// list: a client that sees fewer rows than it asked for assumes there are no more.
func fillPage[T any](p Page, fetch func(Page) ([]T, error), pageID func(*T) int64, keep func([]T) ([]T, error)) ([]T, error) {
	ascending := p.MinID > 0
	var out []T
	window := p
	for round := 0; ; round++ {
		rows, err := fetch(window)
		if err != nil {
			return nil, err
		}
		kept, err := keep(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, kept...)
		if len(rows) < window.Limit || len(out) >= p.Limit || round == maxFillRounds {
			break
		}
		last := pageID(&rows[len(rows)-1])
		if ascending {
			window.MinID = last
		} else {
			window.MaxID = last
		}
	}
	if len(out) > p.Limit {
		out = out[:p.Limit]
	}
	if ascending {
		slices.Reverse(out)
	}
	return out, nil
}

// Status timelines are read in time windows; see windowed.
const (
	// firstWindow is the width of the first slice of a status timeline: a busy feed
	// fills a page from the last hours.
	firstWindow = 6 * time.Hour
	// maxWindows bounds the slices read before the rest of the list is read in one go.
	maxWindows = 3
)

// windowed reads one window of a status list ordered by id in slices of growing width,
// then everything left, stopping as soon as it has w.Limit rows.
//
// Timelines that gather statuses from many authors (home) cannot be read in id order
// from one index: the database collects every matching row of every author in the
// window and sorts them, so that with a year of a busy feed behind it, a page of 20
// cost 150 ms on SQLite. Status ids are time-ordered, so bounding the window by recent
// ids keeps that set small when the feed is busy (a page then costs one query). Each
// further slice is sized from the density seen so far; a quiet feed runs at most
// maxWindows cheap slices and then the unbounded query, which is cheap precisely
// because few rows match. Rows come back in query order (ascending when w has a
// MinID), and fewer than w.Limit only at the end of the list, as fillPage expects.
func (s *Service) windowed(w Page, query func(Page) ([]pagedStatus, error)) ([]pagedStatus, error) {
	ascending := w.MinID > 0
	// edge is where the slices start: MinID going up, MaxID (or now) going down.
	edge := w.MinID
	if !ascending {
		if edge = w.MaxID; edge == 0 {
			edge = IDAt(s.clock())
		}
	}
	start := TimeOf(edge)
	var out []pagedStatus
	cur := w
	span := firstWindow
	for range maxWindows {
		var bound int64
		if ascending {
			bound = IDAt(start.Add(span))
			if w.MaxID > 0 && bound >= w.MaxID {
				break
			}
			cur.MaxID = bound
		} else {
			bound = IDAt(start.Add(-span))
			if bound-1 <= w.SinceID {
				break
			}
			cur.SinceID = bound - 1
		}
		cur.Limit = w.Limit - len(out)
		rows, err := query(cur)
		if err != nil {
			return nil, err
		}
		if out = append(out, rows...); len(out) >= w.Limit {
			return out, nil
		}
		// Continue past this slice with one wide enough, at the density seen so far,
		// for about twice the rows still missing.
		if ascending {
			cur.MinID = bound - 1
		} else {
			cur.MaxID = bound
		}
		grow := time.Duration(8)
		if len(out) > 0 {
			grow = time.Duration(max(2, 2*w.Limit/len(out)))
		}
		span *= grow
	}
	if ascending {
		cur.MaxID = w.MaxID
	} else {
		cur.SinceID = w.SinceID
	}
	cur.Limit = w.Limit - len(out)
	rows, err := query(cur)
	if err != nil {
		return nil, err
	}
	return append(out, rows...), nil
}

// statusPage pages a status query on col (statuses.id, bookmarks.id…) for the viewer.
// base must select "statuses.*" and col AS page_id, and already restrict the rows
// with visibleSQL; FilterVisible then has the last word on every row, and the viewer's
// filters that hide statuses in context fc (none when fc is "") drop theirs. With
// inWindows the list is read in time windows (see windowed); lists whose index already
// yields rows in col order do without.
func (s *Service) statusPage(ctx context.Context, v Viewer, p Page, col string, inWindows bool, fc FilterContext, base func() *gorm.DB) (StatusPage, error) {
	reader := func(query pageQuery) pageQuery { return query }
	if inWindows {
		reader = func(query pageQuery) pageQuery {
			return func(w Page) ([]pagedStatus, error) { return s.windowed(w, query) }
		}
	}
	return s.statusPageWith(ctx, v, p, col, reader, fc, base)
}

// pageQuery reads one window of a status list, in query order.
type pageQuery func(Page) ([]pagedStatus, error)

// statusPageWith is statusPage with the way windows are read given: reader turns the
// plain query of one window into the function fillPage calls.
func (s *Service) statusPageWith(ctx context.Context, v Viewer, p Page, col string, reader func(pageQuery) pageQuery, fc FilterContext, base func() *gorm.DB) (StatusPage, error) {
	var filters *FilterSet
	if fc != "" && v.AccountID() != 0 {
		var err error
		if filters, err = s.ActiveFilters(ctx, v.AccountID()); err != nil {
			return StatusPage{}, err
		}
	}
	query := func(w Page) ([]pagedStatus, error) {
		q, _ := w.apply(base(), col)
		var rows []pagedStatus
		if err := q.Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("list statuses: %w", err)
		}
		return rows, nil
	}
	fetch := reader(query)
	keep := func(rows []pagedStatus) ([]pagedStatus, error) {
		list := make([]Status, len(rows))
		for i := range rows {
			list[i] = rows[i].Status
		}
		visible, err := s.FilterVisible(ctx, v, list)
		if err != nil {
			return nil, err
		}
		if visible, err = s.dropHidden(ctx, filters, fc, visible); err != nil {
			return nil, err
		}
		ok := make(map[int64]bool, len(visible))
		for _, st := range visible {
			ok[st.ID] = true
		}
		out := rows[:0:0]
		for _, r := range rows {
			// A status with several of a hashtag timeline's tags comes once per tag.
			if ok[r.ID] {
				out = append(out, r)
				ok[r.ID] = false
			}
		}
		return out, nil
	}
	rows, err := fillPage(p, fetch, func(r *pagedStatus) int64 { return r.PageID }, keep)
	if err != nil {
		return StatusPage{}, err
	}
	page := StatusPage{Statuses: make([]Status, len(rows)), Filters: filters}
	for i := range rows {
		page.Statuses[i] = rows[i].Status
	}
	if len(rows) > 0 {
		page.NewestID = rows[0].PageID
		page.OldestID = rows[len(rows)-1].PageID
	}
	return page, nil
}

// silencedSQL leaves out statuses by accounts the viewer blocks or mutes (mutes that
// have not expired), and reblogs of such accounts' statuses.
func silencedSQL(me int64, now time.Time) func(*gorm.DB) *gorm.DB {
	return silencedSQLWith(me, now, everyFact)
}

// silencedSQLWith is silencedSQL, or nothing when the viewer blocks and mutes nobody
// (and nobody blocks them).
func silencedSQLWith(me int64, now time.Time, facts readerFacts) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		if !facts.blocks && !facts.mutes {
			return db
		}
		// Each condition carries its own parentheses: gorm adds them only when it spots
		// " AND " or " OR " with spaces around, which multi-line SQL may not have.
		return db.Where(`(NOT EXISTS (SELECT 1 FROM blocks
				WHERE blocks.account_id = @me AND blocks.target_account_id = statuses.account_id)
			AND NOT EXISTS (SELECT 1 FROM mutes
				WHERE mutes.account_id = @me AND mutes.target_account_id = statuses.account_id
				AND (mutes.expires_at IS NULL OR mutes.expires_at > @now))
			AND (statuses.reblog_of_id IS NULL OR NOT EXISTS (
				SELECT 1 FROM statuses AS originals WHERE originals.id = statuses.reblog_of_id AND (
					EXISTS (SELECT 1 FROM blocks
						WHERE blocks.account_id = @me AND blocks.target_account_id = originals.account_id)
					OR EXISTS (SELECT 1 FROM mutes
						WHERE mutes.account_id = @me AND mutes.target_account_id = originals.account_id
						AND (mutes.expires_at IS NULL OR mutes.expires_at > @now))))))`,
			map[string]any{"me": me, "now": now})
	}
}

// HomeTimeline is the viewer's home feed: their own statuses and reblogs, those of the
// accounts they follow (except members of the viewer's exclusive lists, whose posts
// live in those lists only), direct statuses that mention them, and public statuses
// (not reblogs, replies included, as in Mastodon) carrying a hashtag they follow. Statuses the
// viewer's filters hide in the home context are left out. homeMember states the same
// rule in Go for one status (live feeds); the two must agree.
//
// Tacit builds the feed when it is read (fan-out on read): one query per page, or a
// few in a quiet feed (see windowed). Following Mastodon, a followed account's reply
// appears only when it answers the viewer, the author themself or someone else the
// viewer follows, so that the feed is not filled with halves of conversations;
// reblogs are hidden for follows with show_reblogs off; statuses and reblogs by muted
// or blocked accounts, and reblogs of their statuses, are left out.
//
// Query plans, checked with EXPLAIN QUERY PLAN on SQLite and EXPLAIN ANALYZE on
// PostgreSQL over 300 accounts and 100,000 statuses (a year of a busy department), the
// viewer following 40 accounts:
//   - SQLite, left to itself, runs the author condition as a MULTI-INDEX OR over
//     statuses_account_id_id_idx and then sorts every candidate in the window by id:
//     every candidate pays for the visibility and silencing probes before the sort.
//     The unary + on statuses.account_id and statuses.id keeps those terms off the
//     indexes, so SQLite walks the primary key backwards inside the window instead,
//     probing follows/mentions per row, and stops at the limit. That halved a dense
//     feed (800 followed posts in the window: 5.2 ms to 2.5 ms a page, request
//     included) and cut a sparse one (40 of 300 accounts followed, 20,000 statuses
//     over 60 days) from 1.8 to 1.3 ms. The rest is mostly statement parsing, which
//     this pure-Go driver repeats on every execution.
//   - PostgreSQL walks statuses_pkey backwards inside the window (Index Cond on id) and
//     filters each row with hashed subplans over follows and mentions, stopping at the
//     limit; execution takes about 0.2 ms, planning the statement about 2 ms.
//
// The cost of a page grows with the number of statuses the followed accounts wrote
// inside the window, not with the size of the instance.
//
// Followed hashtags are a correlated EXISTS, probed only for public rows the other
// branches left out: two index lookups per row (status_tags by status, tag_follows by
// viewer and tag). An IN over every status carrying a followed hashtag would build that
// whole set, which grows with the hashtag's history, on every page.
func (s *Service) HomeTimeline(ctx context.Context, viewer *Account, p Page) (StatusPage, error) {
	if viewer == nil {
		return StatusPage{}, ErrForbidden
	}
	facts, err := s.readerFactsFor(ctx, viewer.ID)
	if err != nil {
		return StatusPage{}, err
	}
	base := func() *gorm.DB { return s.homeSQL(ctx, viewer, facts) }
	// A reader who follows hashtags gets public statuses of anyone: their feed would
	// be most of the instance, so their home is read from the statuses as before.
	if s.feeds == nil || facts.tagFollows {
		return s.statusPage(ctx, AsAccount(viewer), p, "statuses.id", true, FilterHome, base)
	}
	feed, err := s.homeFeed(ctx, viewer.ID)
	if err != nil {
		return StatusPage{}, err
	}
	return s.statusPageWith(ctx, AsAccount(viewer), p, "statuses.id", s.homeReader(feed), FilterHome, base)
}

// homeSQL selects the rows of viewer's home feed, before paging, leaving out the
// conditions facts rule out.
func (s *Service) homeSQL(ctx context.Context, viewer *Account, facts readerFacts) *gorm.DB {
	followedTags := ""
	if facts.tagFollows {
		followedTags = `OR (statuses.visibility = 'public' AND statuses.reblog_of_id IS NULL
				AND EXISTS (SELECT 1 FROM status_tags JOIN tag_follows ON tag_follows.tag_id = status_tags.tag_id
					WHERE status_tags.status_id = statuses.id AND tag_follows.account_id = @me))`
	}
	return s.read(ctx).Table("statuses").Select("statuses.*, statuses.id AS page_id").
		Where(`(+statuses.account_id = @me
			OR (+statuses.account_id IN (SELECT follows.target_account_id FROM follows WHERE follows.account_id = @me)
				AND +statuses.account_id NOT IN (SELECT list_accounts.account_id FROM list_accounts
					JOIN lists ON lists.id = list_accounts.list_id WHERE lists.account_id = @me AND lists.exclusive)
				AND (statuses.in_reply_to_account_id IS NULL
					OR statuses.in_reply_to_account_id = statuses.account_id
					OR statuses.in_reply_to_account_id = @me
					OR statuses.in_reply_to_account_id IN
						(SELECT follows.target_account_id FROM follows WHERE follows.account_id = @me))
				AND (statuses.reblog_of_id IS NULL OR NOT EXISTS (SELECT 1 FROM follows
					WHERE follows.account_id = @me AND follows.target_account_id = statuses.account_id
					AND follows.show_reblogs = FALSE)))
			OR (statuses.visibility = 'direct'
				AND +statuses.id IN (SELECT mentions.status_id FROM mentions WHERE mentions.account_id = @me))
			`+followedTags+`)`,
			map[string]any{"me": viewer.ID}).
		Scopes(silencedSQLWith(viewer.ID, s.clock(), facts), s.visibleSQLWith(AsAccount(viewer), facts))
}

// PublicQuery selects a public or hashtag timeline.
type PublicQuery struct {
	Page Page
	// Local keeps only statuses written on this instance, Remote only the others;
	// both or neither keep everything, as in Mastodon.
	Local, Remote bool
	// OnlyMedia keeps only statuses with media attachments.
	OnlyMedia bool
	// Scope keeps only statuses of that scope (the web app's world timeline: what may
	// also be read outside the company); "" keeps every scope the viewer may read.
	Scope Scope
}

// originSQL applies the local/remote choice.
func (q PublicQuery) originSQL(db *gorm.DB) *gorm.DB {
	switch {
	case q.Local && !q.Remote:
		return db.Where("statuses.local = ?", true)
	case q.Remote && !q.Local:
		return db.Where("statuses.local = ?", false)
	}
	return db
}

// publicSQL adds to db (a query joining statuses) what the public and hashtag
// timelines have in common: public statuses (not unlisted), no reblogs, nothing by
// accounts the viewer blocks or mutes, and only what the viewer may read, which for a
// logged-out visitor means world scope.
func (s *Service) publicSQL(db *gorm.DB, v Viewer, q PublicQuery) *gorm.DB {
	return s.publicSQLWith(db, v, q, everyFact)
}

// publicSQLWith is publicSQL without the conditions facts rule out.
func (s *Service) publicSQLWith(db *gorm.DB, v Viewer, q PublicQuery, facts readerFacts) *gorm.DB {
	// Logged out, the scope is one value and statuses_visibility_scope_id_idx yields
	// the rows in id order. For an account the scope sits inside an OR, so that index
	// would give only visibility's rows, to be sorted: the whole window's public
	// statuses on every page. Written as an expression, visibility stays off the
	// index and the primary key is walked backwards inside the window, stopping at
	// the page (TestPublicTimelinePlan). Most statuses are public, so few are skipped.
	visibility := "statuses.visibility = ?"
	if v.AccountID() != 0 {
		visibility = "statuses.visibility || '' = ?"
	}
	db = db.Where(visibility+" AND statuses.reblog_of_id IS NULL", VisibilityPublic).
		Scopes(q.originSQL, s.visibleSQLWith(v, facts), notSilencedSQLWith(facts))
	if q.OnlyMedia {
		db = db.Where(hasMediaSQL)
	}
	if q.Scope != "" {
		db = db.Where("statuses.scope = ?", q.Scope)
	}
	if me := v.AccountID(); me != 0 {
		db = db.Scopes(silencedSQLWith(me, s.clock(), facts))
	}
	return db
}

// PublicTimeline is the instance's public timeline: public statuses that are not
// replies to someone else (self-threads stay), newest first, as far as the viewer may
// read them. Logged out that is world-scope posts only; a local account also sees
// company posts and this department's own department posts.
//
// Logged out, SQLite walks statuses_visibility_scope_id_idx (visibility=? AND scope=?
// AND id<?) in id order and stops at the limit. For an account the scope condition
// sits inside visibleSQL's OR, so only visibility=? of that index applies and the rows
// must be sorted (or, with statistics, statuses_pkey is walked and filtered, as
// PostgreSQL does): the time windows (see windowed) keep that sort to recent posts.
func (s *Service) PublicTimeline(ctx context.Context, v Viewer, q PublicQuery) (StatusPage, error) {
	facts, err := s.readerFactsFor(ctx, v.AccountID())
	if err != nil {
		return StatusPage{}, err
	}
	return s.statusPage(ctx, v, q.Page, "statuses.id", true, FilterPublic, func() *gorm.DB { return s.publicBase(ctx, v, q, facts) })
}

// publicBase selects the rows of the public timeline, before paging.
func (s *Service) publicBase(ctx context.Context, v Viewer, q PublicQuery, facts readerFacts) *gorm.DB {
	return s.publicSQLWith(s.read(ctx).Table("statuses").Select("statuses.*, statuses.id AS page_id"), v, q, facts).
		Where(`((statuses.in_reply_to_id IS NULL AND statuses.in_reply_to_account_id IS NULL)
			OR statuses.in_reply_to_account_id = statuses.account_id)`)
}

// TagQuery selects a hashtag timeline.
type TagQuery struct {
	PublicQuery
	// Any adds hashtags a status may have instead of the main one; All lists hashtags
	// it must also have; None lists hashtags it must not have.
	Any, All, None []string
}

// NormalizeTag turns a hashtag as typed ("#Golang") into the stored form ("golang").
func NormalizeTag(name string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(name), "#"))
}

// TagTimeline lists public statuses with a hashtag (case-insensitively), replies
// included, as far as the viewer may read them.
func (s *Service) TagTimeline(ctx context.Context, v Viewer, tag string, q TagQuery) (StatusPage, error) {
	normalize := func(names []string) []string {
		out := make([]string, 0, len(names))
		for _, n := range names {
			if n = NormalizeTag(n); n != "" && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
		return out
	}
	anyOf := normalize(append([]string{tag}, q.Any...))
	allOf := normalize(q.All)
	noneOf := normalize(q.None)
	if len(anyOf) == 0 {
		return StatusPage{}, nil
	}
	// Resolving the names first lets the page query walk status_tags by tag id.
	var tags []Tag
	names := slices.Concat(anyOf, allOf, noneOf)
	if err := s.read(ctx).Where("name IN ?", names).Find(&tags).Error; err != nil {
		return StatusPage{}, fmt.Errorf("load tags: %w", err)
	}
	ids := make(map[string]int64, len(tags))
	for _, t := range tags {
		ids[t.Name] = t.ID
	}
	var anyIDs, noneIDs []int64
	for _, n := range anyOf {
		if id, ok := ids[n]; ok {
			anyIDs = append(anyIDs, id)
		}
	}
	allIDs := make([]int64, 0, len(allOf))
	for _, n := range allOf {
		id, ok := ids[n]
		if !ok {
			return StatusPage{}, nil // a hashtag nobody has used: no status has it
		}
		allIDs = append(allIDs, id)
	}
	for _, n := range noneOf {
		if id, ok := ids[n]; ok {
			noneIDs = append(noneIDs, id)
		}
	}
	if len(anyIDs) == 0 {
		return StatusPage{}, nil
	}
	// The page walks status_tags_tag_id_status_id_idx backwards, which is already in
	// status id order: no sort, and it stops after the page. Statuses are probed by
	// primary key for the other conditions.
	base := func() *gorm.DB {
		db := s.read(ctx).Table("status_tags").Select("statuses.*, status_tags.status_id AS page_id").
			Joins("JOIN statuses ON statuses.id = status_tags.status_id").
			Where("status_tags.tag_id IN ?", anyIDs)
		for _, id := range allIDs {
			db = db.Where(`EXISTS (SELECT 1 FROM status_tags AS also
				WHERE also.status_id = statuses.id AND also.tag_id = ?)`, id)
		}
		if len(noneIDs) > 0 {
			db = db.Where(`NOT EXISTS (SELECT 1 FROM status_tags AS excluded
				WHERE excluded.status_id = statuses.id AND excluded.tag_id IN ?)`, noneIDs)
		}
		return s.publicSQL(db, v, q.PublicQuery)
	}
	return s.statusPage(ctx, v, q.Page, "status_tags.status_id", false, FilterPublic, base)
}

// Bookmarks lists the statuses the viewer bookmarked, most recently bookmarked first,
// paged by bookmark id. Bookmarked statuses the viewer may no longer read are left out.
func (s *Service) Bookmarks(ctx context.Context, viewer *Account, p Page) (StatusPage, error) {
	return s.savedStatuses(ctx, viewer, p, "bookmarks")
}

// Favourites lists the statuses the viewer favourited, most recently favourited first,
// paged by favourite id. Statuses the viewer may no longer read are left out.
func (s *Service) Favourites(ctx context.Context, viewer *Account, p Page) (StatusPage, error) {
	return s.savedStatuses(ctx, viewer, p, "favourites")
}

// savedStatuses pages a table of (account_id, status_id) rows owned by the viewer.
// Bookmarks use bookmarks_account_id_id_idx; favourites have no (account_id, id)
// index, so they are found through favourites_account_id_status_id_key and sorted:
// a person's own favourites are few enough for that.
func (s *Service) savedStatuses(ctx context.Context, viewer *Account, p Page, table string) (StatusPage, error) {
	if viewer == nil {
		return StatusPage{}, ErrForbidden
	}
	v := AsAccount(viewer)
	base := func() *gorm.DB {
		return s.read(ctx).Table("statuses").Select("statuses.*, "+table+".id AS page_id").
			Joins("JOIN "+table+" ON "+table+".status_id = statuses.id").
			Where(table+".account_id = ?", viewer.ID).
			Scopes(s.visibleSQL(v))
	}
	return s.statusPage(ctx, v, p, table+".id", false, "", base)
}
