package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/web/mastoschema"
)

// nwNotification is what the tests read of a notification.
type nwNotification struct {
	ID       string
	Type     string
	GroupKey string `json:"group_key"`
	Account  struct{ Username string }
	Status   *struct {
		ID      string
		Content string
	}
}

// nwList fetches and validates a notification list and returns "type:username" items.
func nwList(t *testing.T, inst *instancetest.Instance, path, token string) ([]string, []nwNotification, instancetest.Answer) {
	t.Helper()
	a := inst.Call(t, http.MethodGet, path, token, nil)
	if a.Code != http.StatusOK {
		t.Fatalf("%s: %d %s", path, a.Code, a.Body)
	}
	if err := mastoschema.ValidateList("Notification", a.Body); err != nil {
		t.Errorf("%s: %v", path, err)
	}
	var list []nwNotification
	if err := json.Unmarshal(a.Body, &list); err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, n := range list {
		out = append(out, n.Type+":"+n.Account.Username)
		if n.GroupKey != "ungrouped-"+n.ID {
			t.Errorf("notification %s: group_key %q", n.ID, n.GroupKey)
		}
		if hasStatus := n.Type != "follow" && n.Type != "follow_request"; hasStatus != (n.Status != nil) {
			t.Errorf("%s notification: status %+v", n.Type, n.Status)
		}
	}
	return out, list, a
}

func TestNotificationsAPI(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		bob := inst.CreateUser(t, "bob", instancetest.UserOptions{})
		carol := inst.CreateUser(t, "carol", instancetest.UserOptions{})
		readOnly := inst.CreateUser(t, "reader", instancetest.UserOptions{Scopes: []string{"read"}})

		mine := inst.PostStatus(t, alice.Token, twText("alice writes")).ID
		if _, err := inst.Client(bob.Token).AccountFollow(ctx, twID(alice.Account)); err != nil {
			t.Fatal(err)
		}
		inst.PostStatus(t, bob.Token, twText("@alice hello"))
		if _, err := inst.Client(carol.Token).Favourite(ctx, mastodon.ID(mine)); err != nil {
			t.Fatal(err)
		}
		if _, err := inst.Client(bob.Token).Reblog(ctx, mastodon.ID(mine)); err != nil {
			t.Fatal(err)
		}
		all := []string{"reblog:bob", "favourite:carol", "mention:bob", "follow:bob"}

		got, list, _ := nwList(t, inst, "/api/v1/notifications", alice.Token)
		twSame(t, "notifications", got, all)
		if list[0].Status == nil || list[0].Status.ID != mine {
			t.Errorf("reblog notification's status = %+v, want alice's post %s", list[0].Status, mine)
		}

		// go-mastodon reads the same list.
		viaClient, err := inst.Client(alice.Token).GetNotifications(ctx, nil)
		if err != nil || len(viaClient) != 4 || viaClient[3].Type != "follow" {
			t.Errorf("go-mastodon notifications: %d, %v", len(viaClient), err)
		}
		excluded, err := inst.Client(alice.Token).GetNotificationsExclude(ctx, &[]string{"follow", "favourite"}, nil)
		if err != nil || len(excluded) != 2 {
			t.Errorf("go-mastodon exclude: %d, %v; want 2", len(excluded), err)
		}

		for _, c := range []struct {
			query string
			want  []string
		}{
			{"types[]=mention&types[]=follow", []string{"mention:bob", "follow:bob"}},
			{"exclude_types[]=mention&exclude_types[]=reblog", []string{"favourite:carol", "follow:bob"}},
			{"account_id=" + string(twID(bob.Account)), []string{"reblog:bob", "mention:bob", "follow:bob"}},
			{"account_id=nobody", []string{}},
			{"types[]=poll", []string{}},
		} {
			got, _, _ := nwList(t, inst, "/api/v1/notifications?"+c.query, alice.Token)
			twSame(t, c.query, got, c.want)
		}

		// Paging through the Link header, by notification id.
		var paged []string
		next := "/api/v1/notifications?limit=3"
		for range 4 {
			got, _, a := nwList(t, inst, next, alice.Token)
			if len(got) == 0 {
				break
			}
			paged = append(paged, got...)
			next = twLinks(t, a.Header)["next"]
		}
		twSame(t, "paged", paged, all)

		// One notification, through go-mastodon and raw; someone else's is not found.
		one, err := inst.Client(alice.Token).GetNotification(ctx, mastodon.ID(list[2].ID))
		if err != nil || one.Type != "mention" || one.Status == nil {
			t.Errorf("GetNotification: %+v, %v", one, err)
		}
		a := inst.Call(t, http.MethodGet, "/api/v1/notifications/"+list[2].ID, alice.Token, nil)
		if err := mastoschema.Validate("Notification", a.Body); a.Code != http.StatusOK || err != nil {
			t.Errorf("notification: %d, %v", a.Code, err)
		}
		inst.Call(t, http.MethodGet, "/api/v1/notifications/"+list[2].ID, bob.Token, nil).WantError(t, "someone else's notification", http.StatusNotFound, "")
		inst.Call(t, http.MethodGet, "/api/v1/notifications/12345", alice.Token, nil).WantError(t, "no such notification", http.StatusNotFound, "")
		inst.Call(t, http.MethodGet, "/api/v1/notifications/abc", alice.Token, nil).WantError(t, "a bad id", http.StatusNotFound, "")

		// unread_count follows the notifications marker.
		var count struct{ Count int64 }
		a = inst.Call(t, http.MethodGet, "/api/v1/notifications/unread_count", alice.Token, nil)
		if json.Unmarshal(a.Body, &count); a.Code != http.StatusOK || count.Count != 4 {
			t.Errorf("unread_count: %d %s, want 4", a.Code, a.Body)
		}
		inst.Call(t, http.MethodPost, "/api/v1/markers", alice.Token, url.Values{"notifications[last_read_id]": {list[1].ID}})
		a = inst.Call(t, http.MethodGet, "/api/v1/notifications/unread_count?types[]=reblog&types[]=mention", alice.Token, nil)
		if json.Unmarshal(a.Body, &count); count.Count != 1 {
			t.Errorf("unread reblogs and mentions after the marker: %s, want 1", a.Body)
		}

		// A mention whose status is deleted disappears with it.
		var mention struct{ ID string }
		json.Unmarshal(inst.Call(t, http.MethodPost, "/api/v1/statuses", carol.Token, twText("@alice brief")).Body, &mention)
		got, _, _ = nwList(t, inst, "/api/v1/notifications?types[]=mention", alice.Token)
		twSame(t, "with carol's mention", got, []string{"mention:carol", "mention:bob"})
		if err := inst.Client(carol.Token).DeleteStatus(ctx, mastodon.ID(mention.ID)); err != nil {
			t.Fatal(err)
		}
		got, _, _ = nwList(t, inst, "/api/v1/notifications?types[]=mention", alice.Token)
		twSame(t, "after the delete", got, []string{"mention:bob"})

		// Blocking an account hides its notifications.
		if _, err := inst.Client(alice.Token).AccountBlock(ctx, twID(carol.Account)); err != nil {
			t.Fatal(err)
		}
		got, _, _ = nwList(t, inst, "/api/v1/notifications", alice.Token)
		twSame(t, "after blocking carol", got, []string{"reblog:bob", "mention:bob", "follow:bob"})

		// Dismiss one (go-mastodon and raw), then clear.
		inst.Call(t, http.MethodPost, "/api/v1/notifications/"+list[0].ID+"/dismiss", bob.Token, nil).WantError(t, "dismiss someone else's", http.StatusNotFound, "")
		inst.Call(t, http.MethodPost, "/api/v1/notifications/"+list[0].ID+"/dismiss", readOnly.Token, nil).WantError(t, "dismiss without write:notifications", http.StatusForbidden, "")
		if err := inst.Client(alice.Token).DismissNotification(ctx, mastodon.ID(list[0].ID)); err != nil {
			t.Fatal(err)
		}
		got, _, _ = nwList(t, inst, "/api/v1/notifications", alice.Token)
		twSame(t, "after dismiss", got, []string{"mention:bob", "follow:bob"})
		a = inst.Call(t, http.MethodPost, "/api/v1/notifications/"+list[2].ID+"/dismiss", alice.Token, nil)
		if a.Code != http.StatusOK || string(a.Body) != "{}" {
			t.Errorf("raw dismiss: %d %s", a.Code, a.Body)
		}
		inst.PostStatus(t, alice.Token, twText("@bob your turn"))
		if err := inst.Client(alice.Token).ClearNotifications(ctx); err != nil {
			t.Fatal(err)
		}
		got, _, a = nwList(t, inst, "/api/v1/notifications", alice.Token)
		if len(got) != 0 || string(a.Body) != "[]" || a.Header.Get("Link") != "" {
			t.Errorf("after clear: %s, Link %q", a.Body, a.Header.Get("Link"))
		}
		got, _, _ = nwList(t, inst, "/api/v1/notifications", bob.Token)
		twSame(t, "bob's notifications survive alice's clear", got, []string{"mention:alice"})

		inst.Call(t, http.MethodGet, "/api/v1/notifications", "", nil).WantError(t, "logged out", http.StatusUnauthorized, "")
		inst.Call(t, http.MethodPost, "/api/v1/notifications/clear", readOnly.Token, nil).WantError(t, "clear without write:notifications", http.StatusForbidden, "")
	})
}

func TestMarkersAPI(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		readOnly := inst.CreateUser(t, "reader", instancetest.UserOptions{Scopes: []string{"read"}})
		get := func(query string) map[string]json.RawMessage {
			t.Helper()
			a := inst.Call(t, http.MethodGet, "/api/v1/markers"+query, alice.Token, nil)
			if a.Code != http.StatusOK {
				t.Fatalf("markers: %d %s", a.Code, a.Body)
			}
			var out map[string]json.RawMessage
			if err := json.Unmarshal(a.Body, &out); err != nil {
				t.Fatal(err)
			}
			for name, m := range out {
				if err := mastoschema.Validate("Marker", m); err != nil {
					t.Errorf("marker %s: %v", name, err)
				}
			}
			return out
		}
		type marker struct {
			LastReadID string `json:"last_read_id"`
			Version    int64
		}
		read := func(raw json.RawMessage) marker {
			var m marker
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatalf("marker %s: %v", raw, err)
			}
			return m
		}
		both := "?timeline[]=home&timeline[]=notifications"
		if got := get(both); len(got) != 0 {
			t.Errorf("markers before any save: %v", got)
		}

		a := inst.Call(t, http.MethodPost, "/api/v1/markers", alice.Token, url.Values{"home[last_read_id]": {"1001"}})
		var saved map[string]json.RawMessage
		if json.Unmarshal(a.Body, &saved); a.Code != http.StatusOK || len(saved) != 1 || read(saved["home"]) != (marker{"1001", 0}) {
			t.Fatalf("save home: %d %s", a.Code, a.Body)
		}
		a = inst.Call(t, http.MethodPost, "/api/v1/markers", alice.Token, map[string]any{
			"home": map[string]any{"last_read_id": "1002"}, "notifications": map[string]any{"last_read_id": "7"},
		})
		if json.Unmarshal(a.Body, &saved); a.Code != http.StatusOK || read(saved["home"]) != (marker{"1002", 1}) ||
			read(saved["notifications"]) != (marker{"7", 0}) {
			t.Fatalf("save both as JSON: %d %s", a.Code, a.Body)
		}
		got := get(both)
		if len(got) != 2 || read(got["home"]) != (marker{"1002", 1}) || read(got["notifications"]) != (marker{"7", 0}) {
			t.Errorf("markers: %v", got)
		}
		if got := get("?timeline[]=home&timeline[]=public"); len(got) != 1 || got["home"] == nil {
			t.Errorf("only home asked: %v", got)
		}

		inst.Call(t, http.MethodPost, "/api/v1/markers", alice.Token, url.Values{"home[last_read_id]": {"abc"}}).WantError(t, "bad id", http.StatusUnprocessableEntity, "")
		a = inst.Call(t, http.MethodPost, "/api/v1/markers", alice.Token, url.Values{})
		if a.Code != http.StatusOK || string(a.Body) != "{}" {
			t.Errorf("save nothing: %d %s, want {}", a.Code, a.Body)
		}
		inst.Call(t, http.MethodPost, "/api/v1/markers", readOnly.Token, url.Values{"home[last_read_id]": {"5"}}).WantError(t, "save without write:statuses", http.StatusForbidden, "")
		inst.Call(t, http.MethodGet, "/api/v1/markers", "", nil).WantError(t, "logged out", http.StatusUnauthorized, "")
	})
}
