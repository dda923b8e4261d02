package community

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/tacit-social/tacit/store"
	"github.com/tacit-social/tacit/store/storetest"
)

// tlPost writes a status through the domain, as a client would.
func tlPost(t testing.TB, s *Service, author *Account, text string, vis Visibility, sc Scope, replyTo *Status) *Status {
	t.Helper()
	in := NewStatus{Text: text, Audience: AudienceRequest{Visibility: vis, Scope: sc}}
	if replyTo != nil {
		in.InReplyToID = &replyTo.ID
	}
	st, err := s.CreateStatus(context.Background(), author, nil, in)
	if err != nil {
		t.Fatalf("post %q: %v", text, err)
	}
	return st
}

// tlRemotePost stores a status that arrived from another server.
func tlRemotePost(t testing.TB, s *Service, author *Account, text string, sc Scope) *Status {
	t.Helper()
	now := s.clock()
	st := &Status{ID: NewID(), AccountID: author.ID, URI: author.URI + "/statuses/" + text, Text: text,
		Content: "<p>" + text + "</p>", Visibility: VisibilityPublic, Scope: sc, Local: false, CreatedAt: now, UpdatedAt: now}
	if err := s.db.Create(st).Error; err != nil {
		t.Fatalf("store remote status: %v", err)
	}
	return st
}

func tlFollow(t testing.TB, s *Service, from, to *Account, reblogs bool) {
	t.Helper()
	if err := s.Follow(context.Background(), from, to.ID, FollowOptions{Reblogs: &reblogs}); err != nil {
		t.Fatalf("%s follows %s: %v", from.Username, to.Username, err)
	}
}

// tlTexts lists the texts of a page (a reblog shows as "RB:<text of the original>").
func tlTexts(t testing.TB, s *Service, page StatusPage) []string {
	t.Helper()
	out := []string{}
	for _, st := range page.Statuses {
		if st.ReblogOfID != nil {
			var orig Status
			if err := s.db.Take(&orig, *st.ReblogOfID).Error; err != nil {
				t.Fatalf("load reblogged: %v", err)
			}
			out = append(out, "RB:"+orig.Text)
			continue
		}
		out = append(out, st.Text)
	}
	return out
}

func tlSame(t testing.TB, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func TestHomeTimeline(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := salesService(db)
		ctx := context.Background()
		me := storeAccount(t, s, "me")
		friend := storeAccount(t, s, "friend")
		quiet := storeAccount(t, s, "quiet") // followed without reblogs
		stranger := storeAccount(t, s, "stranger")
		muted := storeAccount(t, s, "muted")
		blocked := storeAccount(t, s, "blocked")
		tlFollow(t, s, me, friend, true)
		tlFollow(t, s, me, quiet, false)
		tlFollow(t, s, me, muted, true)

		strangerPost := tlPost(t, s, stranger, "stranger post", VisibilityPublic, "", nil)
		tlPost(t, s, me, "my post", VisibilityPublic, "", nil)
		friendPost := tlPost(t, s, friend, "friend post", VisibilityPublic, "", nil)
		tlPost(t, s, friend, "friend private", VisibilityPrivate, "", nil)
		tlPost(t, s, friend, "friend answers a stranger", VisibilityPublic, "", strangerPost)
		tlPost(t, s, friend, "friend continues a thread", VisibilityPublic, "", friendPost)
		tlPost(t, s, quiet, "quiet answers friend", VisibilityPublic, "", friendPost)
		mine := tlPost(t, s, me, "mine again", VisibilityPublic, "", nil)
		tlPost(t, s, friend, "friend answers me", VisibilityPublic, "", mine)
		tlPost(t, s, stranger, "@me a direct word", VisibilityDirect, "", nil)
		tlPost(t, s, stranger, "@me a private word", VisibilityPrivate, "", nil)
		mutedPost := tlPost(t, s, muted, "muted post", VisibilityPublic, "", nil)
		blockedPost := tlPost(t, s, blocked, "blocked post", VisibilityPublic, "", nil)
		for _, id := range []int64{strangerPost.ID, mutedPost.ID, blockedPost.ID} {
			if _, err := s.Reblog(ctx, friend, id, ""); err != nil {
				t.Fatalf("reblog: %v", err)
			}
		}
		if _, err := s.Reblog(ctx, quiet, strangerPost.ID, ""); err != nil {
			t.Fatalf("reblog: %v", err)
		}
		if err := s.Mute(ctx, me, muted.ID, true, 0); err != nil {
			t.Fatalf("mute: %v", err)
		}
		if err := s.Block(ctx, me, blocked.ID); err != nil {
			t.Fatalf("block: %v", err)
		}

		page, err := s.HomeTimeline(ctx, me, Page{Limit: 40})
		if err != nil {
			t.Fatalf("home: %v", err)
		}
		tlSame(t, "home timeline", tlTexts(t, s, page), []string{
			"RB:stranger post", // friend's reblog; quiet's is hidden (show_reblogs off)
			"@me a direct word",
			"friend answers me",
			"mine again",
			"quiet answers friend",
			"friend continues a thread",
			"friend private",
			"friend post",
			"my post",
		})
		if page.NewestID != page.Statuses[0].ID || page.OldestID != page.Statuses[len(page.Statuses)-1].ID {
			t.Errorf("paging ids %d..%d do not match the page ends", page.NewestID, page.OldestID)
		}

		// A mute that has expired hides nothing any more.
		past := s.clock().Add(-time.Minute)
		if err := db.Model(&Mute{}).Where("account_id = ?", me.ID).Update("expires_at", past).Error; err != nil {
			t.Fatal(err)
		}
		page, err = s.HomeTimeline(ctx, me, Page{Limit: 40})
		if err != nil {
			t.Fatalf("home: %v", err)
		}
		got := tlTexts(t, s, page)
		if !slices.Contains(got, "muted post") || !slices.Contains(got, "RB:muted post") {
			t.Errorf("after the mute expired, home = %q; want the muted account's post and its reblog", got)
		}
		if slices.Contains(got, "blocked post") || slices.Contains(got, "RB:blocked post") {
			t.Errorf("home = %q shows a blocked account", got)
		}

		if _, err := s.HomeTimeline(ctx, nil, Page{Limit: 20}); KindOf(err) != KindForbidden {
			t.Errorf("home timeline without a viewer: err = %v, want forbidden", err)
		}
	})
}

// TestHomeTimelinePaging walks the timeline in pages of two with max_id, then back
// with min_id, and checks since_id: every post exactly once, newest first.
func TestHomeTimelinePaging(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := salesService(db)
		ctx := context.Background()
		me := storeAccount(t, s, "me")
		friend := storeAccount(t, s, "friend")
		tlFollow(t, s, me, friend, true)
		var want []string
		for i := range 7 {
			author := me
			if i%2 == 1 {
				author = friend
			}
			st := tlPost(t, s, author, fmt.Sprintf("post %d", i), VisibilityPublic, "", nil)
			want = append([]string{st.Text}, want...)
		}

		var got []string
		p := Page{Limit: 2}
		var oldest StatusPage
		for range 10 {
			page, err := s.HomeTimeline(ctx, me, p)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Statuses) == 0 {
				break
			}
			got = append(got, tlTexts(t, s, page)...)
			oldest = page
			p = Page{Limit: 2, MaxID: page.OldestID}
		}
		tlSame(t, "max_id walk", got, want)

		// Back up from the oldest page with min_id.
		got = tlTexts(t, s, oldest)
		p = Page{Limit: 2, MinID: oldest.NewestID}
		for range 10 {
			page, err := s.HomeTimeline(ctx, me, p)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Statuses) == 0 {
				break
			}
			got = append(tlTexts(t, s, page), got...)
			p = Page{Limit: 2, MinID: page.NewestID}
		}
		tlSame(t, "min_id walk", got, want)

		// since_id gives the newest statuses above it, min_id the ones right above it.
		all, err := s.HomeTimeline(ctx, me, Page{Limit: 40})
		if err != nil {
			t.Fatal(err)
		}
		mid := all.Statuses[4].ID
		since, _ := s.HomeTimeline(ctx, me, Page{Limit: 2, SinceID: mid})
		tlSame(t, "since_id", tlTexts(t, s, since), want[:2])
		minPage, _ := s.HomeTimeline(ctx, me, Page{Limit: 2, MinID: mid})
		tlSame(t, "min_id", tlTexts(t, s, minPage), want[2:4])
	})
}

// TestTimelineRefill: a reblog the SQL lets through but FilterVisible drops (its
// original's author blocks the viewer) must not make the page short.
func TestTimelineRefill(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := salesService(db)
		ctx := context.Background()
		me := storeAccount(t, s, "me")
		friend := storeAccount(t, s, "friend")
		carol := storeAccount(t, s, "carol")
		tlFollow(t, s, me, friend, true)
		tlPost(t, s, friend, "older", VisibilityPublic, "", nil)
		tlPost(t, s, friend, "old", VisibilityPublic, "", nil)
		for i := range 3 {
			st := tlPost(t, s, carol, fmt.Sprintf("carol %d", i), VisibilityPublic, "", nil)
			if _, err := s.Reblog(ctx, friend, st.ID, ""); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Block(ctx, carol, me.ID); err != nil {
			t.Fatal(err)
		}
		page, err := s.HomeTimeline(ctx, me, Page{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		tlSame(t, "page after hidden reblogs", tlTexts(t, s, page), []string{"old", "older"})
	})
}

func TestPublicTimeline(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := salesService(db)
		ctx := context.Background()
		me := storeAccount(t, s, "me")
		ann := storeAccount(t, s, "ann")
		muted := storeAccount(t, s, "muted")
		peer := storeAccount(t, s, "pat", remoteAt("hq.example"))

		world := tlPost(t, s, ann, "world public", VisibilityPublic, ScopeWorld, nil)
		tlPost(t, s, ann, "company public", VisibilityPublic, ScopeCompany, nil)
		tlPost(t, s, ann, "department public", VisibilityPublic, ScopeDepartment, nil)
		tlPost(t, s, ann, "world unlisted", VisibilityUnlisted, ScopeWorld, nil)
		tlPost(t, s, ann, "world private", VisibilityPrivate, ScopeWorld, nil)
		tlPost(t, s, ann, "self thread", VisibilityPublic, ScopeWorld, world)
		tlPost(t, s, me, "reply to ann", VisibilityPublic, ScopeWorld, world)
		tlPost(t, s, muted, "muted world", VisibilityPublic, ScopeWorld, nil)
		if _, err := s.Reblog(ctx, me, world.ID, ""); err != nil {
			t.Fatal(err)
		}
		tlRemotePost(t, s, peer, "remote-company", ScopeCompany)
		tlRemotePost(t, s, peer, "remote-world", ScopeWorld)
		if err := s.Mute(ctx, me, muted.ID, false, 0); err != nil {
			t.Fatal(err)
		}

		list := func(v Viewer, q PublicQuery) []string {
			t.Helper()
			q.Page.Limit = 40
			page, err := s.PublicTimeline(ctx, v, q)
			if err != nil {
				t.Fatal(err)
			}
			return tlTexts(t, s, page)
		}
		tlSame(t, "logged out", list(Anonymous, PublicQuery{}),
			[]string{"remote-world", "muted world", "self thread", "world public"})
		tlSame(t, "logged in", list(AsAccount(me), PublicQuery{}),
			[]string{"remote-world", "remote-company", "self thread", "department public", "company public", "world public"})
		tlSame(t, "local", list(AsAccount(me), PublicQuery{Local: true}),
			[]string{"self thread", "department public", "company public", "world public"})
		tlSame(t, "remote", list(AsAccount(me), PublicQuery{Remote: true}),
			[]string{"remote-world", "remote-company"})
		tlSame(t, "local and remote", list(Anonymous, PublicQuery{Local: true, Remote: true}),
			[]string{"remote-world", "muted world", "self thread", "world public"})
		tlSame(t, "only media", list(Anonymous, PublicQuery{OnlyMedia: true}), []string{})
		tlSame(t, "world scope, logged in", list(AsAccount(me), PublicQuery{Scope: ScopeWorld}),
			[]string{"remote-world", "self thread", "world public"})
		tlSame(t, "company scope, local", list(AsAccount(me), PublicQuery{Scope: ScopeCompany, Local: true}),
			[]string{"company public"})
		// A remote account of a peer sees company posts but never department ones.
		tlSame(t, "peer account", list(AsAccount(peer), PublicQuery{Local: true}),
			[]string{"muted world", "self thread", "company public", "world public"})
	})
}

func TestTagTimeline(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := salesService(db)
		ctx := context.Background()
		ann := storeAccount(t, s, "ann")
		tlPost(t, s, ann, "#Go only", VisibilityPublic, ScopeWorld, nil)
		tlPost(t, s, ann, "#go and #rust", VisibilityPublic, ScopeWorld, nil)
		tlPost(t, s, ann, "#rust only", VisibilityPublic, ScopeWorld, nil)
		tlPost(t, s, ann, "#GO #sql", VisibilityPublic, ScopeCompany, nil)
		tlPost(t, s, ann, "#go unlisted", VisibilityUnlisted, ScopeWorld, nil)

		list := func(v Viewer, tag string, q TagQuery) []string {
			t.Helper()
			q.Page.Limit = 40
			page, err := s.TagTimeline(ctx, v, tag, q)
			if err != nil {
				t.Fatal(err)
			}
			return tlTexts(t, s, page)
		}
		me := AsAccount(ann)
		tlSame(t, "#go", list(me, "go", TagQuery{}), []string{"#GO #sql", "#go and #rust", "#Go only"})
		tlSame(t, "#GO logged out", list(Anonymous, "#GO", TagQuery{}), []string{"#go and #rust", "#Go only"})
		tlSame(t, "any", list(me, "sql", TagQuery{Any: []string{"rust"}}), []string{"#GO #sql", "#rust only", "#go and #rust"})
		tlSame(t, "all", list(me, "go", TagQuery{All: []string{"Rust"}}), []string{"#go and #rust"})
		tlSame(t, "all unknown", list(me, "go", TagQuery{All: []string{"nothing"}}), []string{})
		tlSame(t, "none", list(me, "go", TagQuery{None: []string{"rust", "nothing"}}), []string{"#GO #sql", "#Go only"})
		tlSame(t, "unknown tag", list(me, "nothing", TagQuery{}), []string{})
		tlSame(t, "empty tag", list(me, "#", TagQuery{}), []string{})
		tlSame(t, "local", list(me, "go", TagQuery{PublicQuery: PublicQuery{Remote: true}}), []string{})
	})
}

func TestBookmarksAndFavourites(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := salesService(db)
		ctx := context.Background()
		me := storeAccount(t, s, "me")
		ann := storeAccount(t, s, "ann")
		bob := storeAccount(t, s, "bob")
		var posts []*Status
		for i := range 4 {
			posts = append(posts, tlPost(t, s, ann, fmt.Sprintf("ann %d", i), VisibilityPublic, "", nil))
		}
		hidden := tlPost(t, s, bob, "bob", VisibilityPublic, "", nil)
		// Saved in an order other than the posts' own, to show paging by the saves' ids.
		order := []*Status{posts[2], posts[0], hidden, posts[3], posts[1]}
		for _, st := range order {
			if _, err := s.Bookmark(ctx, me, st.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Favourite(ctx, me, st.ID); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Block(ctx, bob, me.ID); err != nil {
			t.Fatal(err)
		}
		for name, list := range map[string]func(context.Context, *Account, Page) (StatusPage, error){
			"bookmarks": s.Bookmarks, "favourites": s.Favourites,
		} {
			var got []string
			p := Page{Limit: 2}
			for range 5 {
				page, err := list(ctx, me, p)
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Statuses) == 0 {
					break
				}
				if page.NewestID == page.Statuses[0].ID {
					t.Errorf("%s: paged by status id, want the %s' own ids", name, name)
				}
				got = append(got, tlTexts(t, s, page)...)
				p.MaxID = page.OldestID
			}
			tlSame(t, name, got, []string{"ann 1", "ann 3", "ann 0", "ann 2"})
		}
	})
}

// TestHomeTimelinePlan keeps the home feed walking the primary key inside its time
// window on SQLite, newest first, so it stops at the page's limit: a plan that scanned
// the whole table, or sorted every candidate in a temporary b-tree, would cost the
// whole window (or table) on every page.
func TestHomeTimelinePlan(t *testing.T) {
	t.Parallel()
	plan := planOf(t, func(s *Service, me *Account) *gorm.DB {
		w := Page{Limit: 20, SinceID: IDAt(s.clock().Add(-firstWindow)) - 1}
		q, _ := w.apply(s.homeSQL(context.Background(), me, everyFact), "statuses.id")
		return q
	})
	if !walksPrimaryKey(plan) {
		t.Errorf("home timeline plan does not walk the primary key inside its window:\n%v", plan)
	}
}

// planOf opens a SQLite database with one local account, builds a query with build,
// and returns SQLite's plan for it, one detail line each; it skips on PostgreSQL.
func planOf(t *testing.T, build func(s *Service, me *Account) *gorm.DB) []string {
	t.Helper()
	db := storetest.Open(t)
	if store.Dialect(db) != store.DialectSQLite {
		t.Skip("EXPLAIN QUERY PLAN is SQLite's")
	}
	s := salesService(db)
	q := build(s, storeAccount(t, s, "me"))
	stmt := q.Session(&gorm.Session{DryRun: true}).Find(&[]pagedStatus{}).Statement
	var plan []struct{ Detail string }
	if err := db.Raw("EXPLAIN QUERY PLAN "+stmt.SQL.String(), stmt.Vars...).Scan(&plan).Error; err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(plan))
	for i, p := range plan {
		out[i] = p.Detail
	}
	return out
}

// walksPrimaryKey reports whether a plan walks statuses by primary key range without
// scanning or sorting them.
func walksPrimaryKey(plan []string) bool {
	var ranged, scans, sorts bool
	for _, d := range plan {
		ranged = ranged || strings.HasPrefix(d, "SEARCH statuses USING INTEGER PRIMARY KEY (rowid")
		scans = scans || strings.HasPrefix(d, "SCAN statuses")
		sorts = sorts || strings.Contains(d, "TEMP B-TREE FOR ORDER BY")
	}
	return ranged && !scans && !sorts
}

// BenchmarkHomeTimeline reads the first page of a home feed over 60 days of a busy
// department: 300 accounts, 20,000 statuses, the viewer following 40 accounts.
func BenchmarkHomeTimeline(b *testing.B) { benchmarkHome(b, false) }

// BenchmarkHomeTimelineFollowedTags is the same feed with the viewer also following 3
// hashtags that one status in ten carries (2,000 statuses).
func BenchmarkHomeTimelineFollowedTags(b *testing.B) { benchmarkHome(b, true) }

func benchmarkHome(b *testing.B, withTags bool) {
	db := storetest.Open(b)
	s := salesService(db)
	ctx := context.Background()
	accounts := make([]*Account, 300)
	for i := range accounts {
		accounts[i] = storeAccount(b, s, fmt.Sprintf("u%d", i))
	}
	me := accounts[0]
	for i := 1; i <= 40; i++ {
		tlFollow(b, s, me, accounts[i*7], true)
	}
	now := s.clock()
	rows := make([]Status, 20000)
	for i := range rows {
		at := now.Add(-time.Duration(len(rows)-i) * 260 * time.Second)
		rows[i] = Status{ID: IDAt(at) + int64(i%1000), AccountID: accounts[(i*7919)%len(accounts)].ID,
			Text: "x", Visibility: VisibilityPublic, Scope: ScopeCompany, Local: true, CreatedAt: at, UpdatedAt: at}
	}
	// Seeding is slow enough to trip the slow-query log, which has nothing to say here.
	if err := db.Session(&gorm.Session{Logger: logger.Discard}).CreateInBatches(rows, 500).Error; err != nil {
		b.Fatal(err)
	}
	if withTags {
		var links []StatusTag
		for i, name := range []string{"golang", "release", "oncall"} {
			if _, err := s.FollowTag(ctx, me, name); err != nil {
				b.Fatal(err)
			}
			tag, err := s.Tag(ctx, AsAccount(me), name)
			if err != nil {
				b.Fatal(err)
			}
			for j := i; j < len(rows); j += 30 {
				links = append(links, StatusTag{StatusID: rows[j].ID, TagID: tag.ID})
			}
		}
		if err := db.Session(&gorm.Session{Logger: logger.Discard}).CreateInBatches(links, 500).Error; err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		page, err := s.HomeTimeline(ctx, me, Page{Limit: 20})
		if err != nil || len(page.Statuses) != 20 {
			b.Fatalf("home: %d statuses, %v", len(page.Statuses), err)
		}
	}
}

// TestPublicTimelinePlan keeps the public timeline of a logged-in reader walking the
// primary key inside its time window on SQLite, as the home feed does: the
// (visibility, scope, id) index serves logged-out readers, whose scope is one value,
// but for an account the scope sits inside an OR, and walking that index meant
// sorting every public status of the window on every page.
func TestPublicTimelinePlan(t *testing.T) {
	t.Parallel()
	plan := planOf(t, func(s *Service, me *Account) *gorm.DB {
		w := Page{Limit: 20, SinceID: IDAt(s.clock().Add(-firstWindow)) - 1}
		q, _ := w.apply(s.publicBase(context.Background(), AsAccount(me), PublicQuery{}, everyFact), "statuses.id")
		return q
	})
	if !walksPrimaryKey(plan) {
		t.Errorf("public timeline plan does not walk the primary key inside its window:\n%v", plan)
	}
}

// TestHomeFeedPlan: a page read from a home feed looks its candidates up by primary
// key, instead of walking the table for them.
func TestHomeFeedPlan(t *testing.T) {
	t.Parallel()
	plan := planOf(t, func(s *Service, me *Account) *gorm.DB {
		now := IDAt(s.clock())
		q, _ := Page{Limit: 20, ids: []int64{now, now - 1, now - 2}}.apply(s.homeSQL(context.Background(), me, readerFacts{}), "statuses.id")
		return q
	})
	var lookups, scans bool
	for _, d := range plan {
		lookups = lookups || strings.HasPrefix(d, "SEARCH statuses USING INTEGER PRIMARY KEY (rowid=?)")
		scans = scans || strings.HasPrefix(d, "SCAN statuses")
	}
	if !lookups || scans {
		t.Errorf("home feed plan (primary key lookups: %v, scans statuses: %v):\n%v", lookups, scans, plan)
	}
}
