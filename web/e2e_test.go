package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// TestClientJourney walks through what an employee does in a day with a Mastodon app,
// using the go-mastodon client for every step it supports: register the app, log in with
// a password, post, follow, read timelines page by page, favourite, reblog, reply, read
// the thread, get notified, edit, delete.
func TestClientJourney(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		inst.CreateUser(t, "ana", instancetest.UserOptions{})
		inst.CreateUser(t, "ben", instancetest.UserOptions{})

		login := func(username string) *mastodon.Client {
			app, err := mastodon.RegisterApp(ctx, &mastodon.AppConfig{
				Server: inst.URL, ClientName: "journey", Scopes: "read write follow push",
				Website: "https://example.com/journey",
			})
			if err != nil {
				t.Fatalf("register app: %v", err)
			}
			c := mastodon.NewClient(&mastodon.Config{Server: inst.URL, ClientID: app.ClientID, ClientSecret: app.ClientSecret})
			c.Transport = inst.Transport()
			if err := c.Authenticate(ctx, username, instancetest.Password(username)); err != nil {
				t.Fatalf("log in as %s: %v", username, err)
			}
			return c
		}
		ana, ben := login("ana"), login("ben")

		me, err := ana.GetAccountCurrentUser(ctx)
		if err != nil || me.Username != "ana" {
			t.Fatalf("verify_credentials: %v %+v", err, me)
		}
		benAcct, err := ben.GetAccountCurrentUser(ctx)
		if err != nil {
			t.Fatal(err)
		}

		// Ana follows Ben; Ben posts seven times; Ana pages through her home timeline.
		rel, err := ana.AccountFollow(ctx, benAcct.ID)
		if err != nil || !rel.Following {
			t.Fatalf("follow: %v %+v", err, rel)
		}
		var posted []mastodon.ID
		for i := range 7 {
			st, err := ben.PostStatus(ctx, &mastodon.Toot{Status: fmt.Sprintf("Note %d about #kubernetes", i), Visibility: "public"})
			if err != nil {
				t.Fatalf("post %d: %v", i, err)
			}
			posted = append(posted, st.ID)
		}
		var seen []mastodon.ID
		pg := &mastodon.Pagination{Limit: 3}
		for range 10 {
			page, err := ana.GetTimelineHome(ctx, pg)
			if err != nil {
				t.Fatalf("home timeline: %v", err)
			}
			if len(page) == 0 {
				break
			}
			for _, st := range page {
				seen = append(seen, st.ID)
			}
			pg = &mastodon.Pagination{MaxID: page[len(page)-1].ID, Limit: 3}
		}
		if len(seen) != len(posted) {
			t.Fatalf("home timeline paged %d statuses, want %d: %v", len(seen), len(posted), seen)
		}
		for i, id := range seen {
			if want := posted[len(posted)-1-i]; id != want {
				t.Errorf("home timeline position %d = %s, want %s (newest first)", i, id, want)
			}
		}

		// Interactions on Ben's last post.
		target := posted[len(posted)-1]
		if st, err := ana.Favourite(ctx, target); err != nil || !st.Favourited.(bool) || st.FavouritesCount != 1 {
			t.Fatalf("favourite: %v %+v", err, st)
		}
		rb, err := ana.Reblog(ctx, target)
		if err != nil || rb.Reblog == nil || rb.Reblog.ID != target {
			t.Fatalf("reblog: %v %+v", err, rb)
		}
		reply, err := ana.PostStatus(ctx, &mastodon.Toot{Status: "@ben agreed, and here is why", InReplyToID: target})
		if err != nil || fmt.Sprint(reply.InReplyToID) != string(target) {
			t.Fatalf("reply: %v %+v", err, reply)
		}
		cx, err := ben.GetStatusContext(ctx, target)
		if err != nil || len(cx.Descendants) != 1 || cx.Descendants[0].ID != reply.ID {
			t.Fatalf("context: %v %+v", err, cx)
		}
		cx, err = ben.GetStatusContext(ctx, reply.ID)
		if err != nil || len(cx.Ancestors) != 1 || cx.Ancestors[0].ID != target {
			t.Fatalf("context of the reply: %v %+v", err, cx)
		}

		// Ben hears about all of it.
		notes, err := ben.GetNotifications(ctx, nil)
		if err != nil {
			t.Fatalf("notifications: %v", err)
		}
		kinds := map[string]int{}
		for _, n := range notes {
			kinds[n.Type]++
			if n.Account.Username != "ana" {
				t.Errorf("notification %s from %s, want ana", n.Type, n.Account.Username)
			}
		}
		for _, k := range []string{"follow", "favourite", "reblog", "mention"} {
			if kinds[k] != 1 {
				t.Errorf("notifications of type %s = %d, want 1 (all: %v)", k, kinds[k], kinds)
			}
		}

		// Ana edits her reply; Ben sees the new text and the history.
		edited, err := ana.UpdateStatus(ctx, &mastodon.Toot{Status: "@ben agreed, and here is why: reasons"}, reply.ID)
		if err != nil || !strings.Contains(edited.Content, "reasons") {
			t.Fatalf("edit: %v %+v", err, edited)
		}
		hist, err := ben.GetStatusHistory(ctx, reply.ID)
		if err != nil || len(hist) != 2 {
			t.Fatalf("history: %v (%d revisions)", err, len(hist))
		}

		// Delete: gone for everyone, and the counters follow.
		if err := ana.DeleteStatus(ctx, reply.ID); err != nil {
			t.Fatalf("delete: %v", err)
		}
		if _, err := ben.GetStatus(ctx, reply.ID); !isStatus(err, http.StatusNotFound) {
			t.Errorf("deleted status: err = %v, want 404", err)
		}
		st, err := ben.GetStatus(ctx, target)
		if err != nil || st.RepliesCount != 0 || st.ReblogsCount != 1 || st.FavouritesCount != 1 {
			t.Errorf("counters after delete: %v %+v", err, st)
		}

		// Error cases a client meets.
		anon := inst.Client("")
		if _, err := anon.PostStatus(ctx, &mastodon.Toot{Status: "hello"}); !isStatus(err, http.StatusUnauthorized) {
			t.Errorf("post logged out: err = %v, want 401", err)
		}
		bad := inst.Client("not-a-token")
		if _, err := bad.GetAccountCurrentUser(ctx); !isStatus(err, http.StatusUnauthorized) {
			t.Errorf("bad token: err = %v, want 401", err)
		}
		readOnly := inst.CreateUser(t, "reader", instancetest.UserOptions{Scopes: []string{"read"}})
		if _, err := inst.Client(readOnly.Token).PostStatus(ctx, &mastodon.Toot{Status: "hello"}); !isStatus(err, http.StatusForbidden) {
			t.Errorf("post with a read-only token: err = %v, want 403", err)
		}
		if _, err := ana.GetStatus(ctx, mastodon.ID(community.FormatID(community.NewID()))); !isStatus(err, http.StatusNotFound) {
			t.Errorf("unknown status: err = %v, want 404", err)
		}
		if _, err := ana.PostStatus(ctx, &mastodon.Toot{Status: "   "}); !isStatus(err, http.StatusUnprocessableEntity) {
			t.Errorf("empty status: err = %v, want 422", err)
		}
		if _, err := ana.PostStatus(ctx, &mastodon.Toot{Status: strings.Repeat("a", 501)}); !isStatus(err, http.StatusUnprocessableEntity) {
			t.Errorf("too long status: err = %v, want 422", err)
		}
		if _, err := ana.PostStatus(ctx, &mastodon.Toot{Status: "hi", Visibility: "everyone"}); !isStatus(err, http.StatusUnprocessableEntity) {
			t.Errorf("bad visibility: err = %v, want 422", err)
		}
		if _, err := ana.AccountFollow(ctx, me.ID); !isStatus(err, http.StatusUnprocessableEntity) && !isStatus(err, http.StatusForbidden) {
			t.Errorf("following oneself: err = %v, want 422 or 403", err)
		}
		if err := ana.RevokeToken(ctx); err != nil {
			t.Fatalf("revoke: %v", err)
		}
		if _, err := ana.GetAccountCurrentUser(ctx); !isStatus(err, http.StatusUnauthorized) {
			t.Errorf("revoked token: err = %v, want 401", err)
		}
	})
}
