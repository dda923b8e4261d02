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

// notificationStory is what TestNotificationsAPI's steps share: alice and the
// notifications bob and carol give her (all, and list as the API first gave them).
type notificationStory struct {
	ctx                         context.Context
	inst                        *instancetest.Instance
	alice, bob, carol, readOnly *instancetest.User
	mine                        string // alice's post
	all                         []string
	list                        []nwNotification
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
		w := &notificationStory{ctx: ctx, inst: inst, alice: alice, bob: bob, carol: carol, readOnly: readOnly, mine: mine,
			all: []string{"reblog:bob", "favourite:carol", "mention:bob", "follow:bob"}}
		w.listAndFilter(t)
		w.paging(t)
		w.one(t)
		w.unreadCount(t)
		w.deletedAndBlocked(t)
		w.dismissAndClear(t)
	})
}

// listAndFilter: alice's four notifications, newest first, through the API and go-mastodon, and filtered.
func (w *notificationStory) listAndFilter(t *testing.T) {
	var got []string
	got, w.list, _ = nwList(t, w.inst, "/api/v1/notifications", w.alice.Token)
	twSame(t, "notifications", got, w.all)
	if w.list[0].Status == nil || w.list[0].Status.ID != w.mine {
		t.Errorf("reblog notification's status = %+v, want alice's post %s", w.list[0].Status, w.mine)
	}

	// go-mastodon reads the same list.
	viaClient, err := w.inst.Client(w.alice.Token).GetNotifications(w.ctx, nil)
	if err != nil || len(viaClient) != 4 || viaClient[3].Type != "follow" {
		t.Errorf("go-mastodon notifications: %d, %v", len(viaClient), err)
	}
	excluded, err := w.inst.Client(w.alice.Token).GetNotificationsExclude(w.ctx, &[]string{"follow", "favourite"}, nil)
	if err != nil || len(excluded) != 2 {
		t.Errorf("go-mastodon exclude: %d, %v; want 2", len(excluded), err)
	}

	for _, c := range []struct {
		query string
		want  []string
	}{
		{"types[]=mention&types[]=follow", []string{"mention:bob", "follow:bob"}},
		{"exclude_types[]=mention&exclude_types[]=reblog", []string{"favourite:carol", "follow:bob"}},
		{"account_id=" + string(twID(w.bob.Account)), []string{"reblog:bob", "mention:bob", "follow:bob"}},
		{"account_id=nobody", []string{}},
		{"types[]=poll", []string{}},
	} {
		got, _, _ := nwList(t, w.inst, "/api/v1/notifications?"+c.query, w.alice.Token)
		twSame(t, c.query, got, c.want)
	}
}

// Paging through the Link header, by notification id.
func (w *notificationStory) paging(t *testing.T) {
	var paged []string
	next := "/api/v1/notifications?limit=3"
	for range 4 {
		got, _, a := nwList(t, w.inst, next, w.alice.Token)
		if len(got) == 0 {
			break
		}
		paged = append(paged, got...)
		next = twLinks(t, a.Header)["next"]
	}
	twSame(t, "paged", paged, w.all)
}

// One notification, through go-mastodon and raw; someone else's is not found.
func (w *notificationStory) one(t *testing.T) {
	one, err := w.inst.Client(w.alice.Token).GetNotification(w.ctx, mastodon.ID(w.list[2].ID))
	if err != nil || one.Type != "mention" || one.Status == nil {
		t.Errorf("GetNotification: %+v, %v", one, err)
	}
	a := w.inst.Call(t, http.MethodGet, "/api/v1/notifications/"+w.list[2].ID, w.alice.Token, nil)
	if err := mastoschema.Validate("Notification", a.Body); a.Code != http.StatusOK || err != nil {
		t.Errorf("notification: %d, %v", a.Code, err)
	}
	w.inst.Call(t, http.MethodGet, "/api/v1/notifications/"+w.list[2].ID, w.bob.Token, nil).WantError(t, "someone else's notification", http.StatusNotFound, "")
	w.inst.Call(t, http.MethodGet, "/api/v1/notifications/12345", w.alice.Token, nil).WantError(t, "no such notification", http.StatusNotFound, "")
	w.inst.Call(t, http.MethodGet, "/api/v1/notifications/abc", w.alice.Token, nil).WantError(t, "a bad id", http.StatusNotFound, "")
}

// unread_count follows the notifications marker.
func (w *notificationStory) unreadCount(t *testing.T) {
	var count struct{ Count int64 }
	a := w.inst.Call(t, http.MethodGet, "/api/v1/notifications/unread_count", w.alice.Token, nil)
	if json.Unmarshal(a.Body, &count); a.Code != http.StatusOK || count.Count != 4 {
		t.Errorf("unread_count: %d %s, want 4", a.Code, a.Body)
	}
	w.inst.Call(t, http.MethodPost, "/api/v1/markers", w.alice.Token, url.Values{"notifications[last_read_id]": {w.list[1].ID}})
	a = w.inst.Call(t, http.MethodGet, "/api/v1/notifications/unread_count?types[]=reblog&types[]=mention", w.alice.Token, nil)
	if json.Unmarshal(a.Body, &count); count.Count != 1 {
		t.Errorf("unread reblogs and mentions after the marker: %s, want 1", a.Body)
	}
}

// A mention whose status is deleted disappears with it.
func (w *notificationStory) deletedAndBlocked(t *testing.T) {
	var mention struct{ ID string }
	json.Unmarshal(w.inst.Call(t, http.MethodPost, "/api/v1/statuses", w.carol.Token, twText("@alice brief")).Body, &mention)
	got, _, _ := nwList(t, w.inst, "/api/v1/notifications?types[]=mention", w.alice.Token)
	twSame(t, "with carol's mention", got, []string{"mention:carol", "mention:bob"})
	if err := w.inst.Client(w.carol.Token).DeleteStatus(w.ctx, mastodon.ID(mention.ID)); err != nil {
		t.Fatal(err)
	}
	got, _, _ = nwList(t, w.inst, "/api/v1/notifications?types[]=mention", w.alice.Token)
	twSame(t, "after the delete", got, []string{"mention:bob"})

	// Blocking an account hides its notifications.
	if _, err := w.inst.Client(w.alice.Token).AccountBlock(w.ctx, twID(w.carol.Account)); err != nil {
		t.Fatal(err)
	}
	got, _, _ = nwList(t, w.inst, "/api/v1/notifications", w.alice.Token)
	twSame(t, "after blocking carol", got, []string{"reblog:bob", "mention:bob", "follow:bob"})
}

// Dismiss one (go-mastodon and raw), then clear.
func (w *notificationStory) dismissAndClear(t *testing.T) {
	w.inst.Call(t, http.MethodPost, "/api/v1/notifications/"+w.list[0].ID+"/dismiss", w.bob.Token, nil).WantError(t, "dismiss someone else's", http.StatusNotFound, "")
	w.inst.Call(t, http.MethodPost, "/api/v1/notifications/"+w.list[0].ID+"/dismiss", w.readOnly.Token, nil).WantError(t, "dismiss without write:notifications", http.StatusForbidden, "")
	if err := w.inst.Client(w.alice.Token).DismissNotification(w.ctx, mastodon.ID(w.list[0].ID)); err != nil {
		t.Fatal(err)
	}
	got, _, _ := nwList(t, w.inst, "/api/v1/notifications", w.alice.Token)
	twSame(t, "after dismiss", got, []string{"mention:bob", "follow:bob"})
	a := w.inst.Call(t, http.MethodPost, "/api/v1/notifications/"+w.list[2].ID+"/dismiss", w.alice.Token, nil)
	if a.Code != http.StatusOK || string(a.Body) != "{}" {
		t.Errorf("raw dismiss: %d %s", a.Code, a.Body)
	}
	w.inst.PostStatus(t, w.alice.Token, twText("@bob your turn"))
	if err := w.inst.Client(w.alice.Token).ClearNotifications(w.ctx); err != nil {
		t.Fatal(err)
	}
	got, _, a = nwList(t, w.inst, "/api/v1/notifications", w.alice.Token)
	if len(got) != 0 || string(a.Body) != "[]" || a.Header.Get("Link") != "" {
		t.Errorf("after clear: %s, Link %q", a.Body, a.Header.Get("Link"))
	}
	got, _, _ = nwList(t, w.inst, "/api/v1/notifications", w.bob.Token)
	twSame(t, "bob's notifications survive alice's clear", got, []string{"mention:alice"})

	w.inst.Call(t, http.MethodGet, "/api/v1/notifications", "", nil).WantError(t, "logged out", http.StatusUnauthorized, "")
	w.inst.Call(t, http.MethodPost, "/api/v1/notifications/clear", w.readOnly.Token, nil).WantError(t, "clear without write:notifications", http.StatusForbidden, "")
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
