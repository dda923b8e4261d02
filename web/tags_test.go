package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/store/storetest"
)

// TestFollowedTags follows hashtags with go-mastodon: the Tag entity says following and
// counts today's uses; the followed list pages with a Link header; public posts with a
// followed hashtag reach the home timeline, followers-only ones do not; unfollowing
// stops it.
func TestFollowedTags(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		ana := inst.CreateUser(t, "ana", instancetest.UserOptions{})
		ben := inst.CreateUser(t, "ben", instancetest.UserOptions{})
		cai := inst.CreateUser(t, "cai", instancetest.UserOptions{})
		c := inst.Client(ana.Token)
		started := time.Now()

		public := inst.PostStatusAsAsked(t, ben.Token, url.Values{"status": {"Shipping #Golang 1.26"}, "visibility": {"public"}}).ID
		inst.PostStatusAsAsked(t, cai.Token, url.Values{"status": {"Me too #golang"}, "visibility": {"public"}})
		private := inst.PostStatusAsAsked(t, ben.Token, url.Values{"status": {"Followers only #golang"}, "visibility": {"private"}}).ID
		unlisted := inst.PostStatusAsAsked(t, ben.Token, url.Values{"status": {"Quietly #golang"}, "visibility": {"unlisted"}}).ID
		department := inst.PostStatusAsAsked(t, cai.Token, url.Values{"status": {"Department #golang"}, "visibility": {"public"}, "scope": {"department"}}).ID

		tag, err := c.TagInfo(ctx, "GoLang")
		if err != nil || tag.Name != "golang" || tag.Following {
			t.Fatalf("tag info: %v %+v", err, tag)
		}
		storetest.SkipIfCrossed(t, started, storetest.Day)
		// Three public posts by two people today (private and unlisted ones do not count).
		if len(tag.History) != 7 || tag.History[0].Uses != 3 || tag.History[0].Accounts != 2 {
			t.Errorf("history = %+v, want 7 days starting with 3 uses by 2 accounts", tag.History)
		}
		if a := inst.Call(t, http.MethodGet, "/api/v1/tags/not-a-tag!", ana.Token, nil); a.Code != http.StatusNotFound {
			t.Errorf("invalid hashtag: %d %s", a.Code, a.Body)
		}
		fresh, err := c.TagInfo(ctx, "nobodyusedthis")
		if err != nil || fresh.Following || len(fresh.History) != 0 {
			t.Errorf("unused hashtag: %v %+v", err, fresh)
		}

		home := func() []string {
			t.Helper()
			tl, err := c.GetTimelineHome(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			return ids(tl)
		}
		if got := home(); slices.Contains(got, public) {
			t.Fatalf("home before following the hashtag has %s", public)
		}
		if tag, err = c.TagFollow(ctx, "#golang"); err != nil || !tag.Following {
			t.Fatalf("follow: %v %+v", err, tag)
		}
		if _, err = c.TagFollow(ctx, "golang"); err != nil {
			t.Errorf("following again: %v", err)
		}
		if tag, err = c.TagInfo(ctx, "golang"); err != nil || !tag.Following {
			t.Errorf("tag info after follow: %v %+v", err, tag)
		}
		got := home()
		if !slices.Contains(got, public) || !slices.Contains(got, department) {
			t.Errorf("home %v misses the public posts %s and %s", got, public, department)
		}
		if slices.Contains(got, private) || slices.Contains(got, unlisted) {
			t.Errorf("home %v has a followers-only (%s) or unlisted (%s) post of someone ana does not follow", got, private, unlisted)
		}

		for _, name := range []string{"rust", "zig", "ocaml"} {
			if _, err := c.TagFollow(ctx, name); err != nil {
				t.Fatal(err)
			}
		}
		a := inst.Call(t, http.MethodGet, "/api/v1/followed_tags", ana.Token, url.Values{"limit": {"2"}})
		var page []struct {
			Name      string `json:"name"`
			Following bool   `json:"following"`
		}
		if a.Code != http.StatusOK || json.Unmarshal(a.Body, &page) != nil || len(page) != 2 || page[0].Name != "ocaml" || !page[0].Following {
			t.Fatalf("followed tags page: %d %s", a.Code, a.Body)
		}
		link := a.Header.Get("Link")
		next := strings.TrimSuffix(strings.TrimPrefix(strings.Split(link, ";")[0], "<"), ">")
		if a = inst.Call(t, http.MethodGet, next, ana.Token, nil); json.Unmarshal(a.Body, &page) != nil || len(page) != 2 || page[0].Name != "rust" || page[1].Name != "golang" {
			t.Errorf("second page (%s): %s", link, a.Body)
		}
		all, err := c.TagsFollowed(ctx, nil)
		if err != nil || len(all) != 4 {
			t.Errorf("followed tags: %v, %d", err, len(all))
		}

		if tag, err = c.TagUnfollow(ctx, "golang"); err != nil || tag.Following {
			t.Fatalf("unfollow: %v %+v", err, tag)
		}
		if got := home(); slices.Contains(got, public) {
			t.Errorf("home after unfollowing still has %s", public)
		}
		if a := inst.Call(t, http.MethodPost, "/api/v1/tags/golang/follow", "", nil); a.Code != http.StatusUnauthorized {
			t.Errorf("follow logged out: %d", a.Code)
		}
		// Logged out, Tag has no following.
		if a := inst.Call(t, http.MethodGet, "/api/v1/tags/golang", "", nil); a.Code != http.StatusOK || strings.Contains(string(a.Body), "following") {
			t.Errorf("logged-out tag: %d %s", a.Code, a.Body)
		}
	})
}
