package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
)

// trendingTagNames reads /api/v1/trends/tags (or the /api/v1/trends alias) as token.
func trendingTagNames(t *testing.T, inst *instancetest.Instance, path, token string) ([]string, []map[string]string) {
	t.Helper()
	a := inst.Call(t, http.MethodGet, path, token, nil)
	var tags []struct {
		Name    string              `json:"name"`
		History []map[string]string `json:"history"`
	}
	if a.Code != http.StatusOK || json.Unmarshal(a.Body, &tags) != nil {
		t.Fatalf("GET %s: %d %s", path, a.Code, a.Body)
	}
	var names []string
	var first []map[string]string
	for i, tg := range tags {
		names = append(names, tg.Name)
		if i == 0 {
			first = tg.History
		}
	}
	return names, first
}

// TestTrends: hashtags trend by the people using them, statuses by favourites and
// reblogs; only public world or company posts count, logged-out visitors see world
// posts only, and a viewer never sees a trending post of someone who blocks them.
func TestTrends(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		ana := inst.CreateUser(t, "ana", instancetest.UserOptions{})
		ben := inst.CreateUser(t, "ben", instancetest.UserOptions{})
		cai := inst.CreateUser(t, "cai", instancetest.UserOptions{})
		dan := inst.CreateUser(t, "dan", instancetest.UserOptions{})
		post := func(u *instancetest.User, text, vis, scope string) string {
			return inst.PostStatusAsAsked(t, u.Token, url.Values{"status": {text}, "visibility": {vis}, "scope": {scope}}).ID
		}
		for _, u := range []*instancetest.User{ana, ben, cai} {
			post(u, "Kickoff #alpha", "public", "company")
			post(u, "Our team #secret", "public", "department")
			post(u, "Between us #hidden", "private", "company")
		}
		post(ana, "Hello world #beta", "public", "world")
		post(ana, "Again #beta", "public", "world")

		names, history := trendingTagNames(t, inst, "/api/v1/trends/tags", ben.Token)
		if !slices.Equal(names, []string{"alpha", "beta"}) {
			t.Errorf("trending tags = %v, want [alpha beta]", names)
		}
		if len(history) != 7 || history[0]["uses"] != "3" || history[0]["accounts"] != "3" {
			t.Errorf("alpha's history = %v", history)
		}
		if alias, _ := trendingTagNames(t, inst, "/api/v1/trends", ben.Token); !slices.Equal(alias, names) {
			t.Errorf("/api/v1/trends = %v, want %v", alias, names)
		}
		if anon, _ := trendingTagNames(t, inst, "/api/v1/trends/tags", ""); !slices.Equal(anon, []string{"beta"}) {
			t.Errorf("logged-out trending tags = %v, want [beta]", anon)
		}
		a := inst.Call(t, http.MethodGet, "/api/v1/trends/tags", ben.Token, url.Values{"limit": {"1"}})
		if a.Header.Get("Link") == "" {
			t.Errorf("a full page of trends has no Link header")
		}

		if _, err := inst.Client(ben.Token).AccountFollow(ctx, mastodon.ID(fmt.Sprint(ana.Account.ID))); err != nil {
			t.Fatal(err)
		}
		hot := post(ana, "Big news", "public", "company")
		warm := post(ana, "Some news", "public", "world")
		dept := post(ana, "Department news", "public", "department")
		priv := post(ana, "Private news", "private", "company")
		post(ana, "Nobody cares", "public", "world")
		for _, fav := range []struct {
			who *instancetest.User
			ids []string
		}{{ben, []string{hot, warm, dept, priv}}, {cai, []string{hot, dept}}} {
			for _, id := range fav.ids {
				if _, err := inst.Client(fav.who.Token).Favourite(ctx, mastodon.ID(id)); err != nil {
					t.Fatal(err)
				}
			}
		}
		trending := func(token string) []string {
			t.Helper()
			list, err := inst.Client(token).GetTrendingStatuses(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			return ids(list)
		}
		if got := trending(cai.Token); !slices.Equal(got, []string{hot, warm}) {
			t.Errorf("trending statuses = %v, want [%s %s] (not %s, %s)", got, hot, warm, dept, priv)
		}
		if got := trending(""); !slices.Equal(got, []string{warm}) {
			t.Errorf("logged-out trending statuses = %v, want [%s]", got, warm)
		}
		if _, err := inst.Client(ana.Token).AccountBlock(ctx, mastodon.ID(fmt.Sprint(dan.Account.ID))); err != nil {
			t.Fatal(err)
		}
		if got := trending(dan.Token); len(got) != 0 {
			t.Errorf("dan, blocked by ana, sees her trending posts: %v", got)
		}
		if a := inst.Call(t, http.MethodGet, "/api/v1/trends/links", "", nil); a.Code != http.StatusOK || string(a.Body) != "[]" {
			t.Errorf("trending links: %d %s", a.Code, a.Body)
		}
	})
}

// TestTrendsAcrossInstances: a company post from a peer trends on the instance it was
// delivered to; a department post never reaches it, so never trends there.
func TestTrendsAcrossInstances(t *testing.T) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 2, instancetest.Options{})
	a, b := insts[0], insts[1]
	author := b.CreateUser(t, "author", instancetest.UserOptions{})
	reader := a.CreateUser(t, "reader", instancetest.UserOptions{})
	onA, err := a.Federator.ResolveAccount(ctx, "author@"+b.Host())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Community.Follow(ctx, reader.Account, onA.ID, community.FollowOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "the follow to be accepted", func() bool {
		rel, err := a.Community.Relationship(ctx, reader.Account.ID, onA.ID)
		return err == nil && rel.Following
	})
	b.PostStatus(t, author.Token, url.Values{"status": {"Department only #deptonly"}, "visibility": {"public"}, "scope": {"department"}})
	shared := b.PostStatus(t, author.Token, url.Values{"status": {"For everyone #shared"}, "visibility": {"public"}, "scope": {"company"}})
	var local community.Status
	eventually.Holds(t, "the company post to arrive", func() bool {
		return a.DB.Where("uri = ?", shared.URI).Take(&local).Error == nil
	})
	names, _ := trendingTagNames(t, a, "/api/v1/trends/tags", reader.Token)
	if !slices.Equal(names, []string{"shared"}) {
		t.Errorf("trending tags on A = %v, want [shared]", names)
	}
	// Trends are what the whole company may see: not even its own instance trends a
	// department post.
	if bNames, _ := trendingTagNames(t, b, "/api/v1/trends/tags", author.Token); !slices.Equal(bNames, []string{"shared"}) {
		t.Errorf("trending tags on B = %v, want [shared]", bNames)
	}
	if _, err := a.Client(reader.Token).Favourite(ctx, mastodon.ID(fmt.Sprint(local.ID))); err != nil {
		t.Fatal(err)
	}
	list, err := a.Client(reader.Token).GetTrendingStatuses(ctx, nil)
	if err != nil || len(list) != 1 || list[0].URI != shared.URI {
		t.Errorf("trending statuses on A: %v %v", err, ids(list))
	}
}
