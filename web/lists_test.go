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

	"github.com/tacit-social/tacit/instance/instancetest"
)

func ids(statuses []*mastodon.Status) []string {
	out := make([]string, 0, len(statuses))
	for _, st := range statuses {
		out = append(out, string(st.ID))
	}
	return out
}

// TestListsWithClient manages lists with go-mastodon: create, rename, members (only
// followed accounts), the list timeline, the lists an account is in, removal; and
// unfollowing takes an account out of every list.
func TestListsWithClient(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		ana := inst.CreateUser(t, "ana", instancetest.UserOptions{})
		ben := inst.CreateUser(t, "ben", instancetest.UserOptions{})
		cai := inst.CreateUser(t, "cai", instancetest.UserOptions{})
		dee := inst.CreateUser(t, "dee", instancetest.UserOptions{})
		c := inst.Client(ana.Token)
		benID, caiID, deeID := mastodon.ID(fmt.Sprint(ben.Account.ID)), mastodon.ID(fmt.Sprint(cai.Account.ID)), mastodon.ID(fmt.Sprint(dee.Account.ID))
		for _, id := range []mastodon.ID{benID, caiID} {
			if _, err := c.AccountFollow(ctx, id); err != nil {
				t.Fatal(err)
			}
		}

		list, err := c.CreateList(ctx, "Platform team")
		if err != nil || list.Title != "Platform team" {
			t.Fatalf("create list: %v %+v", err, list)
		}
		if _, err := c.CreateList(ctx, "   "); err == nil {
			t.Error("a blank title was accepted")
		}
		if list, err = c.RenameList(ctx, list.ID, "Platform"); err != nil || list.Title != "Platform" {
			t.Fatalf("rename list: %v %+v", err, list)
		}
		if err := c.AddToList(ctx, list.ID, benID, caiID); err != nil {
			t.Fatalf("add members: %v", err)
		}
		if err := c.AddToList(ctx, list.ID, benID); err != nil {
			t.Errorf("adding a member again: %v", err)
		}
		if err := c.AddToList(ctx, list.ID, deeID); err == nil {
			t.Error("an account ana does not follow was added to her list")
		}
		members, err := c.GetListAccounts(ctx, list.ID)
		if err != nil || len(members) != 2 {
			t.Fatalf("list members: %v, %d members", err, len(members))
		}
		in, err := c.GetAccountLists(ctx, caiID)
		if err != nil || len(in) != 1 || in[0].ID != list.ID {
			t.Fatalf("lists containing cai: %v %+v", err, in)
		}

		benPost := inst.PostStatusAsAsked(t, ben.Token, url.Values{"status": {"Ben on the platform"}}).ID
		deePost := inst.PostStatusAsAsked(t, dee.Token, url.Values{"status": {"Dee is not in the list"}}).ID
		caiPost := inst.PostStatusAsAsked(t, cai.Token, url.Values{"status": {"Cai on the platform"}}).ID
		timeline, err := c.GetTimelineList(ctx, list.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ids(timeline), []string{caiPost, benPost}; !slices.Equal(got, want) {
			t.Errorf("list timeline = %v, want %v (not %s)", got, want, deePost)
		}

		// Someone else's list is not found, to read or to change.
		other := inst.Client(ben.Token)
		if _, err := other.GetList(ctx, list.ID); err == nil {
			t.Error("ben read ana's list")
		}
		if _, err := other.GetTimelineList(ctx, list.ID, nil); err == nil {
			t.Error("ben read ana's list timeline")
		}
		if lists, err := other.GetLists(ctx); err != nil || len(lists) != 0 {
			t.Errorf("ben's lists: %v %+v", err, lists)
		}

		// Unfollowing takes cai out of the list.
		if _, err := c.AccountUnfollow(ctx, caiID); err != nil {
			t.Fatal(err)
		}
		if members, err := c.GetListAccounts(ctx, list.ID); err != nil || len(members) != 1 || members[0].ID != benID {
			t.Errorf("members after unfollowing cai: %v %+v", err, members)
		}
		if err := c.RemoveFromList(ctx, list.ID, benID); err != nil {
			t.Fatal(err)
		}
		if members, err := c.GetListAccounts(ctx, list.ID); err != nil || len(members) != 0 {
			t.Errorf("members after removing ben: %v %+v", err, members)
		}
		if err := c.DeleteList(ctx, list.ID); err != nil {
			t.Fatal(err)
		}
		if lists, err := c.GetLists(ctx); err != nil || len(lists) != 0 {
			t.Errorf("lists after deletion: %v %+v", err, lists)
		}
	})
}

type listEntity struct {
	ID            string `json:"id"`
	Title         string `json:"title"`
	RepliesPolicy string `json:"replies_policy"`
	Exclusive     bool   `json:"exclusive"`
}

func statusIDs(t *testing.T, a instancetest.Answer) []string {
	t.Helper()
	if a.Code != http.StatusOK {
		t.Fatalf("timeline: %d %s", a.Code, a.Body)
	}
	var list []struct{ ID string }
	if err := json.Unmarshal(a.Body, &list); err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(list))
	for _, st := range list {
		out = append(out, st.ID)
	}
	return out
}

// TestListRepliesPolicyAndExclusive checks what go-mastodon cannot set: each replies
// policy keeps exactly the replies it names, and an exclusive list takes its members'
// posts out of the home timeline.
func TestListRepliesPolicyAndExclusive(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		ana := inst.CreateUser(t, "ana", instancetest.UserOptions{})
		ben := inst.CreateUser(t, "ben", instancetest.UserOptions{})
		cai := inst.CreateUser(t, "cai", instancetest.UserOptions{}) // followed, not in the lists
		dee := inst.CreateUser(t, "dee", instancetest.UserOptions{}) // not followed
		c := inst.Client(ana.Token)
		for _, u := range []*instancetest.User{ben, cai} {
			if _, err := c.AccountFollow(ctx, mastodon.ID(fmt.Sprint(u.Account.ID))); err != nil {
				t.Fatal(err)
			}
		}
		lists := map[string]string{}
		for _, policy := range []string{"followed", "list", "none"} {
			a := inst.Call(t, http.MethodPost, "/api/v1/lists", ana.Token, map[string]any{"title": policy, "replies_policy": policy})
			var l listEntity
			if a.Code != http.StatusOK || json.Unmarshal(a.Body, &l) != nil || l.RepliesPolicy != policy {
				t.Fatalf("create list with replies_policy %s: %d %s", policy, a.Code, a.Body)
			}
			lists[policy] = l.ID
			if a := inst.Call(t, http.MethodPost, "/api/v1/lists/"+l.ID+"/accounts", ana.Token,
				url.Values{"account_ids[]": {fmt.Sprint(ben.Account.ID)}}); a.Code != http.StatusOK {
				t.Fatalf("add ben: %d %s", a.Code, a.Body)
			}
		}
		if a := inst.Call(t, http.MethodPost, "/api/v1/lists", ana.Token, url.Values{"title": {"x"}, "replies_policy": {"everyone"}}); a.Code != http.StatusUnprocessableEntity {
			t.Errorf("unknown replies policy: %d %s", a.Code, a.Body)
		}

		caiRoot := inst.PostStatusAsAsked(t, cai.Token, url.Values{"status": {"Cai asks"}}).ID
		deeRoot := inst.PostStatusAsAsked(t, dee.Token, url.Values{"status": {"Dee asks"}}).ID
		anaRoot := inst.PostStatusAsAsked(t, ana.Token, url.Values{"status": {"Ana asks"}}).ID
		benRoot := inst.PostStatusAsAsked(t, ben.Token, url.Values{"status": {"Ben asks"}}).ID
		toCai := inst.PostStatusAsAsked(t, ben.Token, url.Values{"status": {"@cai answer"}, "in_reply_to_id": {caiRoot}}).ID
		toDee := inst.PostStatusAsAsked(t, ben.Token, url.Values{"status": {"@dee answer"}, "in_reply_to_id": {deeRoot}}).ID
		toAna := inst.PostStatusAsAsked(t, ben.Token, url.Values{"status": {"@ana answer"}, "in_reply_to_id": {anaRoot}}).ID
		toSelf := inst.PostStatusAsAsked(t, ben.Token, url.Values{"status": {"and more"}, "in_reply_to_id": {benRoot}}).ID

		want := map[string][]string{
			"followed": {toSelf, toAna, toCai, benRoot},
			"list":     {toSelf, toAna, benRoot},
			"none":     {toSelf, toAna, benRoot},
		}
		for policy, id := range lists {
			got := statusIDs(t, inst.Call(t, http.MethodGet, "/api/v1/timelines/list/"+id, ana.Token, nil))
			if !slices.Equal(got, want[policy]) {
				t.Errorf("replies_policy %s: list timeline %v, want %v (to dee: %s)", policy, got, want[policy], toDee)
			}
		}

		// Home shows ben until a list holding him turns exclusive.
		home := statusIDs(t, inst.Call(t, http.MethodGet, "/api/v1/timelines/home", ana.Token, nil))
		if !slices.Contains(home, benRoot) {
			t.Fatalf("home %v lacks ben's post %s", home, benRoot)
		}
		a := inst.Call(t, http.MethodPut, "/api/v1/lists/"+lists["list"], ana.Token, map[string]any{"exclusive": true})
		var l listEntity
		if a.Code != http.StatusOK || json.Unmarshal(a.Body, &l) != nil || !l.Exclusive || l.Title != "list" {
			t.Fatalf("make exclusive: %d %s", a.Code, a.Body)
		}
		home = statusIDs(t, inst.Call(t, http.MethodGet, "/api/v1/timelines/home", ana.Token, nil))
		for _, id := range []string{benRoot, toSelf, toAna, toCai} {
			if slices.Contains(home, id) {
				t.Errorf("home still shows ben's %s with an exclusive list holding him", id)
			}
		}
		if !slices.Contains(home, caiRoot) || !slices.Contains(home, anaRoot) {
			t.Errorf("home %v lost cai's or ana's own posts", home)
		}
	})
}
