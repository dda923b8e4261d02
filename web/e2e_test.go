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
// journeyLogin registers an app and logs in with the password, as a client does.
func journeyLogin(t *testing.T, inst *instancetest.Instance, username string) *mastodon.Client {
	t.Helper()
	ctx := context.Background()
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

// clientJourney is what TestClientJourney's steps share: ana and ben logged in through
// their own apps, ben's posts and ana's reply to the last of them (target).
type clientJourney struct {
	ctx         context.Context
	inst        *instancetest.Instance
	ana, ben    *mastodon.Client
	me, benAcct *mastodon.Account
	posted      []mastodon.ID
	target      mastodon.ID
	reply       *mastodon.Status
}

func TestClientJourney(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		inst.CreateUser(t, "ana", instancetest.UserOptions{})
		inst.CreateUser(t, "ben", instancetest.UserOptions{})

		ana, ben := journeyLogin(t, inst, "ana"), journeyLogin(t, inst, "ben")

		me, err := ana.GetAccountCurrentUser(ctx)
		if err != nil || me.Username != "ana" {
			t.Fatalf("verify_credentials: %v %+v", err, me)
		}
		benAcct, err := ben.GetAccountCurrentUser(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w := &clientJourney{ctx: ctx, inst: inst, ana: ana, ben: ben, me: me, benAcct: benAcct}
		w.followAndPage(t)
		w.interact(t)
		w.notifications(t)
		w.editAndDelete(t)
		w.errorCases(t)
	})
}

// Ana follows Ben; Ben posts seven times; Ana pages through her home timeline.
func (w *clientJourney) followAndPage(t *testing.T) {
	rel, err := w.ana.AccountFollow(w.ctx, w.benAcct.ID)
	if err != nil || !rel.Following {
		t.Fatalf("follow: %v %+v", err, rel)
	}
	for i := range 7 {
		st, err := w.ben.PostStatus(w.ctx, &mastodon.Toot{Status: fmt.Sprintf("Note %d about #kubernetes", i), Visibility: "public"})
		if err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
		w.posted = append(w.posted, st.ID)
	}
	var seen []mastodon.ID
	pg := &mastodon.Pagination{Limit: 3}
	for range 10 {
		page, err := w.ana.GetTimelineHome(w.ctx, pg)
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
	if len(seen) != len(w.posted) {
		t.Fatalf("home timeline paged %d statuses, want %d: %v", len(seen), len(w.posted), seen)
	}
	for i, id := range seen {
		if want := w.posted[len(w.posted)-1-i]; id != want {
			t.Errorf("home timeline position %d = %s, want %s (newest first)", i, id, want)
		}
	}
}

// Interactions on Ben's last post.
func (w *clientJourney) interact(t *testing.T) {
	w.target = w.posted[len(w.posted)-1]
	if st, err := w.ana.Favourite(w.ctx, w.target); err != nil || !st.Favourited.(bool) || st.FavouritesCount != 1 {
		t.Fatalf("favourite: %v %+v", err, st)
	}
	rb, err := w.ana.Reblog(w.ctx, w.target)
	if err != nil || rb.Reblog == nil || rb.Reblog.ID != w.target {
		t.Fatalf("reblog: %v %+v", err, rb)
	}
	w.reply, err = w.ana.PostStatus(w.ctx, &mastodon.Toot{Status: "@ben agreed, and here is why", InReplyToID: w.target})
	if err != nil || fmt.Sprint(w.reply.InReplyToID) != string(w.target) {
		t.Fatalf("reply: %v %+v", err, w.reply)
	}
	cx, err := w.ben.GetStatusContext(w.ctx, w.target)
	if err != nil || len(cx.Descendants) != 1 || cx.Descendants[0].ID != w.reply.ID {
		t.Fatalf("context: %v %+v", err, cx)
	}
	cx, err = w.ben.GetStatusContext(w.ctx, w.reply.ID)
	if err != nil || len(cx.Ancestors) != 1 || cx.Ancestors[0].ID != w.target {
		t.Fatalf("context of the reply: %v %+v", err, cx)
	}
}

// Ben hears about all of it.
func (w *clientJourney) notifications(t *testing.T) {
	notes, err := w.ben.GetNotifications(w.ctx, nil)
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
}

// Ana edits her reply; Ben sees the new text and the history.
func (w *clientJourney) editAndDelete(t *testing.T) {
	edited, err := w.ana.UpdateStatus(w.ctx, &mastodon.Toot{Status: "@ben agreed, and here is why: reasons"}, w.reply.ID)
	if err != nil || !strings.Contains(edited.Content, "reasons") {
		t.Fatalf("edit: %v %+v", err, edited)
	}
	hist, err := w.ben.GetStatusHistory(w.ctx, w.reply.ID)
	if err != nil || len(hist) != 2 {
		t.Fatalf("history: %v (%d revisions)", err, len(hist))
	}

	// Delete: gone for everyone, and the counters follow.
	if err := w.ana.DeleteStatus(w.ctx, w.reply.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := w.ben.GetStatus(w.ctx, w.reply.ID); !isStatus(err, http.StatusNotFound) {
		t.Errorf("deleted status: err = %v, want 404", err)
	}
	st, err := w.ben.GetStatus(w.ctx, w.target)
	if err != nil || st.RepliesCount != 0 || st.ReblogsCount != 1 || st.FavouritesCount != 1 {
		t.Errorf("counters after delete: %v %+v", err, st)
	}
}

// Error cases a client meets.
func (w *clientJourney) errorCases(t *testing.T) {
	anon := w.inst.Client("")
	if _, err := anon.PostStatus(w.ctx, &mastodon.Toot{Status: "hello"}); !isStatus(err, http.StatusUnauthorized) {
		t.Errorf("post logged out: err = %v, want 401", err)
	}
	bad := w.inst.Client("not-a-token")
	if _, err := bad.GetAccountCurrentUser(w.ctx); !isStatus(err, http.StatusUnauthorized) {
		t.Errorf("bad token: err = %v, want 401", err)
	}
	readOnly := w.inst.CreateUser(t, "reader", instancetest.UserOptions{Scopes: []string{"read"}})
	if _, err := w.inst.Client(readOnly.Token).PostStatus(w.ctx, &mastodon.Toot{Status: "hello"}); !isStatus(err, http.StatusForbidden) {
		t.Errorf("post with a read-only token: err = %v, want 403", err)
	}
	if _, err := w.ana.GetStatus(w.ctx, mastodon.ID(community.FormatID(community.NewID()))); !isStatus(err, http.StatusNotFound) {
		t.Errorf("unknown status: err = %v, want 404", err)
	}
	if _, err := w.ana.PostStatus(w.ctx, &mastodon.Toot{Status: "   "}); !isStatus(err, http.StatusUnprocessableEntity) {
		t.Errorf("empty status: err = %v, want 422", err)
	}
	if _, err := w.ana.PostStatus(w.ctx, &mastodon.Toot{Status: strings.Repeat("a", 501)}); !isStatus(err, http.StatusUnprocessableEntity) {
		t.Errorf("too long status: err = %v, want 422", err)
	}
	if _, err := w.ana.PostStatus(w.ctx, &mastodon.Toot{Status: "hi", Visibility: "everyone"}); !isStatus(err, http.StatusUnprocessableEntity) {
		t.Errorf("bad visibility: err = %v, want 422", err)
	}
	if _, err := w.ana.AccountFollow(w.ctx, w.me.ID); !isStatus(err, http.StatusUnprocessableEntity) && !isStatus(err, http.StatusForbidden) {
		t.Errorf("following oneself: err = %v, want 422 or 403", err)
	}
	if err := w.ana.RevokeToken(w.ctx); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if _, err := w.ana.GetAccountCurrentUser(w.ctx); !isStatus(err, http.StatusUnauthorized) {
		t.Errorf("revoked token: err = %v, want 401", err)
	}
}
