package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/web/mastoschema"
)

// twText is a post's form with only text (and the instance's default audience).
func twText(text string) url.Values { return url.Values{"status": {text}} }

// twStatuses decodes and validates a list of statuses and returns their plain texts
// (reblogs as "RB:" and the shared text) and ids.
func twStatuses(t *testing.T, a instancetest.Answer) (texts, ids []string) {
	t.Helper()
	if a.Code != http.StatusOK {
		t.Fatalf("status list: %d %s", a.Code, a.Body)
	}
	if err := mastoschema.ValidateList("Status", a.Body); err != nil {
		t.Errorf("status list: %v", err)
	}
	var list []struct {
		ID      string
		Content string
		Reblog  *struct{ Content string }
	}
	if err := json.Unmarshal(a.Body, &list); err != nil {
		t.Fatal(err)
	}
	texts, ids = []string{}, []string{}
	for _, st := range list {
		if st.Reblog != nil {
			texts = append(texts, "RB:"+twPlain(st.Reblog.Content))
		} else {
			texts = append(texts, twPlain(st.Content))
		}
		ids = append(ids, st.ID)
	}
	return texts, ids
}

// twPlain strips the paragraph and link markup of simple test posts.
func twPlain(html string) string {
	var b strings.Builder
	in := false
	for _, r := range html {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// twLinks parses a Link header into rel → URL.
func twLinks(t *testing.T, h http.Header) map[string]string {
	t.Helper()
	out := map[string]string{}
	raw := h.Get("Link")
	if raw == "" {
		return out
	}
	for _, part := range strings.Split(raw, ",") {
		target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
		if !ok {
			t.Fatalf("malformed Link %q", raw)
		}
		rel := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(params), `rel="`), `"`)
		out[rel] = strings.Trim(target, "<>")
	}
	return out
}

func twSame(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func twID(a *community.Account) mastodon.ID { return mastodon.ID(community.FormatID(a.ID)) }

func TestHomeTimelineAPI(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		bob := inst.CreateUser(t, "bob", instancetest.UserOptions{})
		carol := inst.CreateUser(t, "carol", instancetest.UserOptions{})
		writeOnly := inst.CreateUser(t, "writer", instancetest.UserOptions{Scopes: []string{"write"}})
		if _, err := inst.Client(alice.Token).AccountFollow(ctx, twID(bob.Account)); err != nil {
			t.Fatal(err)
		}
		inst.PostStatus(t, bob.Token, twText("bob one"))
		inst.PostStatus(t, carol.Token, twText("carol one"))
		mine := inst.PostStatus(t, alice.Token, twText("alice one")).ID
		inst.PostStatus(t, bob.Token, twText("bob two"))
		if _, err := inst.Client(bob.Token).Reblog(ctx, mastodon.ID(mine)); err != nil {
			t.Fatal(err)
		}

		home, err := inst.Client(alice.Token).GetTimelineHome(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, st := range home {
			if st.Reblog != nil {
				got = append(got, "RB:"+twPlain(st.Reblog.Content))
				continue
			}
			got = append(got, twPlain(st.Content))
		}
		twSame(t, "home (go-mastodon)", got, []string{"RB:alice one", "bob two", "alice one", "bob one"})

		a := inst.Call(t, http.MethodGet, "/api/v1/timelines/home", alice.Token, nil)
		texts, ids := twStatuses(t, a)
		twSame(t, "home", texts, []string{"RB:alice one", "bob two", "alice one", "bob one"})
		links := twLinks(t, a.Header)
		if !strings.Contains(links["next"], "max_id="+ids[len(ids)-1]) || !strings.Contains(links["prev"], "min_id="+ids[0]) {
			t.Errorf("Link = %q; want next by max_id=%s and prev by min_id=%s", a.Header.Get("Link"), ids[len(ids)-1], ids[0])
		}

		// carol follows nobody: only her own post.
		texts, _ = twStatuses(t, inst.Call(t, http.MethodGet, "/api/v1/timelines/home", carol.Token, nil))
		twSame(t, "carol's home", texts, []string{"carol one"})
		// An empty home is [] with no Link header.
		a = inst.Call(t, http.MethodGet, "/api/v1/timelines/home", writeOnly.Token, nil)
		a.WantError(t, "home without read:statuses", http.StatusForbidden, "")
		a = inst.Call(t, http.MethodGet, "/api/v1/timelines/home?max_id=1", carol.Token, nil)
		if a.Code != http.StatusOK || strings.TrimSpace(string(a.Body)) != "[]" || a.Header.Get("Link") != "" {
			t.Errorf("empty page: %d %s, Link %q; want [] without Link", a.Code, a.Body, a.Header.Get("Link"))
		}
		inst.Call(t, http.MethodGet, "/api/v1/timelines/home", "", nil).WantError(t, "home logged out", http.StatusUnauthorized, "")
		inst.Call(t, http.MethodGet, "/api/v1/timelines/home", "nope", nil).WantError(t, "home with a bad token", http.StatusUnauthorized, "")
	})
}

// TestHomeTimelinePaging pages through seven posts two at a time by following the Link
// header: next (max_id) down, prev (min_id) back up, and since_id.
func TestHomeTimelinePaging(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})
	ctx := context.Background()
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	bob := inst.CreateUser(t, "bob", instancetest.UserOptions{})
	if _, err := inst.Client(alice.Token).AccountFollow(ctx, twID(bob.Account)); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 7 {
		tok := alice.Token
		if i%2 == 1 {
			tok = bob.Token
		}
		text := fmt.Sprintf("post %d", i)
		inst.PostStatus(t, tok, twText(text))
		want = append([]string{text}, want...)
	}

	var got []string
	next := "/api/v1/timelines/home?limit=2"
	var last instancetest.Answer
	for range 10 {
		a := inst.Call(t, http.MethodGet, next, alice.Token, nil)
		texts, _ := twStatuses(t, a)
		if len(texts) == 0 {
			break
		}
		if len(texts) > 2 {
			t.Fatalf("page of %d with limit=2", len(texts))
		}
		got = append(got, texts...)
		last = a
		next = twLinks(t, a.Header)["next"]
		if !strings.Contains(next, "limit=2") {
			t.Fatalf("next link %q lost the limit", next)
		}
	}
	twSame(t, "down through next links", got, want)

	got, _ = twStatuses(t, last)
	prev := twLinks(t, last.Header)["prev"]
	for range 10 {
		a := inst.Call(t, http.MethodGet, prev, alice.Token, nil)
		texts, _ := twStatuses(t, a)
		if len(texts) == 0 {
			break
		}
		got = append(texts, got...)
		prev = twLinks(t, a.Header)["prev"]
	}
	twSame(t, "up through prev links", got, want)

	// since_id: the newest posts above it; min_id: the ones right above it.
	_, ids := twStatuses(t, inst.Call(t, http.MethodGet, "/api/v1/timelines/home", alice.Token, nil))
	texts, _ := twStatuses(t, inst.Call(t, http.MethodGet, "/api/v1/timelines/home?limit=2&since_id="+ids[4], alice.Token, nil))
	twSame(t, "since_id", texts, want[:2])
	texts, _ = twStatuses(t, inst.Call(t, http.MethodGet, "/api/v1/timelines/home?limit=2&min_id="+ids[4], alice.Token, nil))
	twSame(t, "min_id", texts, want[2:4])

	// go-mastodon follows the same links through its Pagination.
	pg := &mastodon.Pagination{Limit: 3}
	var viaClient []string
	for range 5 {
		page, err := inst.Client(alice.Token).GetTimelineHome(ctx, pg)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range page {
			viaClient = append(viaClient, twPlain(st.Content))
		}
		if pg.MaxID == "" || len(page) == 0 {
			break
		}
		pg = &mastodon.Pagination{MaxID: pg.MaxID, Limit: 3}
	}
	twSame(t, "go-mastodon pages", viaClient, want)
}

func TestPublicTimelineAPI(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		reader := inst.CreateUser(t, "reader", instancetest.UserOptions{Scopes: []string{"read:statuses"}})
		world := inst.PostStatus(t, alice.Token, url.Values{"status": {"world post"}, "scope": {"world"}}).ID
		inst.PostStatus(t, alice.Token, url.Values{"status": {"company post"}, "scope": {"company"}})
		inst.PostStatus(t, alice.Token, url.Values{"status": {"department post"}, "scope": {"department"}})
		inst.PostStatus(t, alice.Token, url.Values{"status": {"world unlisted"}, "scope": {"world"}, "visibility": {"unlisted"}})
		inst.PostStatus(t, alice.Token, url.Values{"status": {"self reply"}, "scope": {"world"}, "in_reply_to_id": {world}})
		if _, err := inst.Client(alice.Token).Reblog(ctx, mastodon.ID(world)); err != nil {
			t.Fatal(err)
		}
		twRemotePost(t, inst, "pat", "hq.example", "remote world")

		texts, _ := twStatuses(t, inst.Call(t, http.MethodGet, "/api/v1/timelines/public", "", nil))
		twSame(t, "logged out", texts, []string{"remote world", "self reply", "world post"})
		texts, _ = twStatuses(t, inst.Call(t, http.MethodGet, "/api/v1/timelines/public", reader.Token, nil))
		twSame(t, "logged in", texts, []string{"remote world", "self reply", "department post", "company post", "world post"})
		texts, _ = twStatuses(t, inst.Call(t, http.MethodGet, "/api/v1/timelines/public?local=true", reader.Token, nil))
		twSame(t, "local", texts, []string{"self reply", "department post", "company post", "world post"})
		texts, _ = twStatuses(t, inst.Call(t, http.MethodGet, "/api/v1/timelines/public?remote=1", "", nil))
		twSame(t, "remote", texts, []string{"remote world"})
		texts, _ = twStatuses(t, inst.Call(t, http.MethodGet, "/api/v1/timelines/public?only_media=true", "", nil))
		twSame(t, "only media", texts, []string{})

		local, err := inst.Client("").GetTimelinePublic(ctx, true, nil)
		if err != nil || len(local) != 2 {
			t.Errorf("go-mastodon local public timeline logged out: %d statuses, %v; want 2", len(local), err)
		}

		inst.Call(t, http.MethodGet, "/api/v1/timelines/public?local=maybe", "", nil).WantError(t, "bad boolean", http.StatusBadRequest, "")
		noRead := inst.CreateUser(t, "noread", instancetest.UserOptions{Scopes: []string{"write"}})
		inst.Call(t, http.MethodGet, "/api/v1/timelines/public", noRead.Token, nil).WantError(t, "token without read:statuses", http.StatusForbidden, "")
	})
}

// twRemotePost stores a world-scope public status of a remote account (created if
// needed), as federation would: no client API creates one.
func twRemotePost(t *testing.T, inst *instancetest.Instance, username, domain, text string) *community.Account {
	t.Helper()
	now := time.Now().UTC()
	var acct community.Account
	err := inst.DB.Where("username = ? AND domain = ?", username, domain).Take(&acct).Error
	if err != nil {
		acct = community.Account{ID: community.NewID(), Username: username, Domain: domain, Fields: community.Fields{},
			URI: "https://" + domain + "/users/" + username, URL: "https://" + domain + "/@" + username,
			Discoverable: true, CreatedAt: now, UpdatedAt: now}
		if err := inst.DB.Create(&acct).Error; err != nil {
			t.Fatal(err)
		}
	}
	id := community.NewID()
	st := community.Status{ID: id, AccountID: acct.ID, URI: acct.URI + "/statuses/" + community.FormatID(id),
		Content: "<p>" + text + "</p>", Visibility: community.VisibilityPublic, Scope: community.ScopeWorld,
		Local: false, CreatedAt: now, UpdatedAt: now}
	if err := inst.DB.Create(&st).Error; err != nil {
		t.Fatal(err)
	}
	if err := inst.DB.Model(&acct).Update("statuses_count", acct.StatusesCount+1).Error; err != nil {
		t.Fatal(err)
	}
	return &acct
}

func TestTagTimelineAPI(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})
	ctx := context.Background()
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	world := func(text string) url.Values { return url.Values{"status": {text}, "scope": {"world"}} }
	inst.PostStatus(t, alice.Token, world("#Go only"))
	inst.PostStatus(t, alice.Token, world("#go and #rust"))
	inst.PostStatus(t, alice.Token, world("#rust only"))
	inst.PostStatus(t, alice.Token, url.Values{"status": {"#GO company"}, "scope": {"company"}})

	tagged, err := inst.Client("").GetTimelineHashtag(ctx, "GO", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tagged) != 2 {
		t.Errorf("logged out #GO: %d statuses, want the 2 world-scope ones", len(tagged))
	}
	for _, c := range []struct {
		path, token string
		want        []string
	}{
		{"/api/v1/timelines/tag/go", alice.Token, []string{"#GO company", "#go and #rust", "#Go only"}},
		{"/api/v1/timelines/tag/%23Go", "", []string{"#go and #rust", "#Go only"}},
		{"/api/v1/timelines/tag/go?any[]=rust", "", []string{"#rust only", "#go and #rust", "#Go only"}},
		{"/api/v1/timelines/tag/go?all[]=rust", "", []string{"#go and #rust"}},
		{"/api/v1/timelines/tag/go?none[]=rust", alice.Token, []string{"#GO company", "#Go only"}},
		{"/api/v1/timelines/tag/go?local=true&none[]=rust&none[]=nothing", "", []string{"#Go only"}},
		{"/api/v1/timelines/tag/go?remote=true", "", []string{}},
		{"/api/v1/timelines/tag/nothing", "", []string{}},
	} {
		texts, _ := twStatuses(t, inst.Call(t, http.MethodGet, c.path, c.token, nil))
		twSame(t, c.path, texts, c.want)
	}
	// Paging by status id through the Link header.
	a := inst.Call(t, http.MethodGet, "/api/v1/timelines/tag/go?limit=1", "", nil)
	first, _ := twStatuses(t, a)
	second, _ := twStatuses(t, inst.Call(t, http.MethodGet, twLinks(t, a.Header)["next"], "", nil))
	twSame(t, "two pages of one", append(first, second...), []string{"#go and #rust", "#Go only"})
}

func TestBookmarksAndFavouritesAPI(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		bob := inst.CreateUser(t, "bob", instancetest.UserOptions{})
		noScope := inst.CreateUser(t, "limited", instancetest.UserOptions{Scopes: []string{"read:statuses"}})
		var ids []string
		for i := range 4 {
			ids = append(ids, inst.PostStatus(t, bob.Token, twText(fmt.Sprintf("bob %d", i))).ID)
		}
		private := inst.PostStatus(t, bob.Token, url.Values{"status": {"@alice just for you"}, "visibility": {"direct"}}).ID
		c := inst.Client(alice.Token)
		// Saved out of order: the lists go by when they were saved.
		for _, id := range []string{ids[2], ids[0], private, ids[3], ids[1]} {
			if _, err := c.Bookmark(ctx, mastodon.ID(id)); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Favourite(ctx, mastodon.ID(id)); err != nil {
				t.Fatal(err)
			}
		}
		want := []string{"bob 1", "bob 3", "@alice just for you", "bob 0", "bob 2"}

		bookmarks, err := c.GetBookmarks(ctx, nil)
		if err != nil || len(bookmarks) != 5 || string(bookmarks[0].ID) != ids[1] {
			t.Errorf("go-mastodon bookmarks: %d, %v; want 5, the last bookmarked first", len(bookmarks), err)
		}
		favourites, err := c.GetFavourites(ctx, nil)
		if err != nil || len(favourites) != 5 || !favourites[0].Favourited.(bool) {
			t.Errorf("go-mastodon favourites: %d, %v", len(favourites), err)
		}

		for _, path := range []string{"/api/v1/bookmarks", "/api/v1/favourites"} {
			var got []string
			next := path + "?limit=2"
			for range 5 {
				a := inst.Call(t, http.MethodGet, next, alice.Token, nil)
				texts, pageIDs := twStatuses(t, a)
				if len(texts) == 0 {
					break
				}
				got = append(got, texts...)
				next = twLinks(t, a.Header)["next"]
				if strings.Contains(next, "max_id="+pageIDs[len(pageIDs)-1]+"&") || strings.HasSuffix(next, "max_id="+pageIDs[len(pageIDs)-1]) {
					t.Errorf("%s: next link %q pages by status id, want the %s' own ids", path, next, path[8:])
				}
			}
			twSame(t, path, got, want)
		}

		// A saved status that becomes invisible leaves the lists.
		if _, err := inst.Client(bob.Token).AccountBlock(ctx, twID(alice.Account)); err != nil {
			t.Fatal(err)
		}
		texts, _ := twStatuses(t, inst.Call(t, http.MethodGet, "/api/v1/bookmarks", alice.Token, nil))
		twSame(t, "bookmarks after the author blocked me", texts, []string{})

		inst.Call(t, http.MethodGet, "/api/v1/bookmarks", noScope.Token, nil).WantError(t, "bookmarks without read:bookmarks", http.StatusForbidden, "")
		inst.Call(t, http.MethodGet, "/api/v1/favourites", noScope.Token, nil).WantError(t, "favourites without read:favourites", http.StatusForbidden, "")
		inst.Call(t, http.MethodGet, "/api/v1/bookmarks", "", nil).WantError(t, "bookmarks logged out", http.StatusUnauthorized, "")
	})
}
