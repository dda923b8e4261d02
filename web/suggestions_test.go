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

// TestSuggestions: friends of friends come first, ranked by how many of the viewer's
// follows follow them, then the most followed local accounts; never the viewer, anyone
// they follow, block or mute, anyone blocking them, anyone not discoverable, and not
// someone dismissed.
func TestSuggestions(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		users := map[string]*instancetest.User{}
		for _, name := range []string{"me", "f1", "f2", "fof1", "fof2", "star", "blocked", "blocker", "muted", "hidden", "dismissed", "loner"} {
			users[name] = inst.CreateUser(t, name, instancetest.UserOptions{})
		}
		id := func(name string) mastodon.ID { return mastodon.ID(fmt.Sprint(users[name].Account.ID)) }
		follow := func(who string, whom ...string) {
			for _, w := range whom {
				if _, err := inst.Client(users[who].Token).AccountFollow(ctx, id(w)); err != nil {
					t.Fatal(err)
				}
			}
		}
		follow("me", "f1", "f2")
		follow("f1", "fof1", "fof2", "blocked", "muted", "hidden", "blocker", "dismissed", "me")
		follow("f2", "fof2", "star")
		follow("loner", "star")
		follow("fof1", "star")
		me := inst.Client(users["me"].Token)
		if _, err := me.AccountBlock(ctx, id("blocked")); err != nil {
			t.Fatal(err)
		}
		if _, err := me.AccountMute(ctx, id("muted")); err != nil {
			t.Fatal(err)
		}
		if _, err := inst.Client(users["blocker"].Token).AccountBlock(ctx, id("me")); err != nil {
			t.Fatal(err)
		}
		if a := inst.Call(t, http.MethodPatch, "/api/v1/accounts/update_credentials", users["hidden"].Token, url.Values{"discoverable": {"false"}}); a.Code != http.StatusOK {
			t.Fatalf("update credentials: %d %s", a.Code, a.Body)
		}
		if a := inst.Call(t, http.MethodDelete, "/api/v1/suggestions/"+string(id("dismissed")), users["me"].Token, nil); a.Code != http.StatusOK {
			t.Fatalf("dismiss: %d %s", a.Code, a.Body)
		}

		a := inst.Call(t, http.MethodGet, "/api/v2/suggestions", users["me"].Token, nil)
		var got []struct {
			Sources []string `json:"sources"`
			Account struct {
				Username string `json:"username"`
			} `json:"account"`
		}
		if a.Code != http.StatusOK || json.Unmarshal(a.Body, &got) != nil {
			t.Fatalf("suggestions: %d %s", a.Code, a.Body)
		}
		var names []string
		for _, s := range got {
			names = append(names, s.Account.Username)
		}
		// fof2 (two of my follows) before fof1 and star (one each, fof1 first by id);
		// then the most followed local accounts not already there.
		if len(names) < 3 || !slices.Equal(names[:3], []string{"fof2", "fof1", "star"}) {
			t.Errorf("suggestions = %v, want fof2, fof1, star first", names)
		}
		for _, never := range []string{"me", "f1", "f2", "blocked", "blocker", "muted", "hidden", "dismissed"} {
			if slices.Contains(names, never) {
				t.Errorf("suggestions %v include %s", names, never)
			}
		}
		if len(got) > 2 && !slices.Equal(got[2].Sources, []string{"friends_of_friends", "most_followed"}) {
			t.Errorf("star's sources = %v", got[2].Sources)
		}
		v1 := inst.Call(t, http.MethodGet, "/api/v1/suggestions", users["me"].Token, url.Values{"limit": {"1"}})
		var accounts []mastodon.Account
		if v1.Code != http.StatusOK || json.Unmarshal(v1.Body, &accounts) != nil || len(accounts) != 1 || accounts[0].Username != "fof2" {
			t.Errorf("v1 suggestions: %d %s", v1.Code, v1.Body)
		}
		if a := inst.Call(t, http.MethodDelete, "/api/v1/suggestions/999", users["me"].Token, nil); a.Code != http.StatusNotFound {
			t.Errorf("dismissing nobody: %d", a.Code)
		}
	})
}
