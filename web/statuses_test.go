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

// stStatus is the part of a Status entity these tests read, including what go-mastodon
// does not decode.
type stStatus struct {
	ID          string    `json:"id"`
	Content     string    `json:"content"`
	Text        *string   `json:"text"`
	SpoilerText string    `json:"spoiler_text"`
	Visibility  string    `json:"visibility"`
	LocalOnly   bool      `json:"local_only"`
	InReplyToID *string   `json:"in_reply_to_id"`
	Pinned      *bool     `json:"pinned"`
	Reblog      *stStatus `json:"reblog"`
	Poll        any       `json:"poll"`
	Mentions    []struct {
		Acct string `json:"acct"`
	} `json:"mentions"`
	Tacit struct {
		Scope string `json:"scope"`
	} `json:"tacit"`
}

// stDecodeStatus decodes a 200 answer holding a Status, checked against the schema.
func stDecodeStatus(t *testing.T, what string, a instancetest.Answer) stStatus {
	t.Helper()
	if a.Code != http.StatusOK {
		t.Fatalf("%s: status %d: %s", what, a.Code, a.Body)
	}
	if err := mastoschema.Validate("Status", a.Body); err != nil {
		t.Errorf("%s: %v", what, err)
	}
	var st stStatus
	if err := json.Unmarshal(a.Body, &st); err != nil {
		t.Fatalf("%s: decode: %v", what, err)
	}
	return st
}

func stAccountID(a *community.Account) mastodon.ID { return mastodon.ID(community.FormatID(a.ID)) }

// stNotificationCount counts an account's notifications of one type about a status ("" for
// any status) straight from the database: the notifications API is tested elsewhere.
func stNotificationCount(t *testing.T, inst *instancetest.Instance, accountID int64, typ community.NotificationType, statusID mastodon.ID) int64 {
	t.Helper()
	q := inst.Community.DB().Model(&community.Notification{}).Where("account_id = ? AND type = ?", accountID, typ)
	if statusID != "" {
		q = q.Where("status_id = ?", string(statusID))
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// stStatusesCount reads an account's statuses_count from the database.
func stStatusesCount(t *testing.T, inst *instancetest.Instance, a *community.Account) int64 {
	t.Helper()
	got, err := inst.Community.Unchecked().AccountByID(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got.StatusesCount
}

func stIDs(list []*mastodon.Status) []mastodon.ID {
	out := make([]mastodon.ID, 0, len(list))
	for _, s := range list {
		out = append(out, s.ID)
	}
	return out
}

// TestStatusLifecycle follows one thread through everything a status goes through:
// posting with markup, replies, context, interactions, edits and deletion.
// stLifecycle is what TestStatusLifecycle's steps share: three users and the thread
// they build around alice's root post.
type stLifecycle struct {
	ctx                                    context.Context
	inst                                   *instancetest.Instance
	alice, bob, carol                      *instancetest.User
	ac, bc, cc                             *mastodon.Client
	root, bobReply, aliceReply, carolReply *mastodon.Status
	rb                                     *mastodon.Status // carol's reblog of root
}

func TestStatusLifecycle(t *testing.T) {
	t.Parallel()
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		bob := inst.CreateUser(t, "bob", instancetest.UserOptions{})
		carol := inst.CreateUser(t, "carol", instancetest.UserOptions{})
		w := &stLifecycle{ctx: context.Background(), inst: inst, alice: alice, bob: bob, carol: carol,
			ac: inst.Client(alice.Token), bc: inst.Client(bob.Token), cc: inst.Client(carol.Token)}
		w.postRoot(t)
		w.thread(t)
		w.favourite(t)
		w.reblog(t)
		w.bookmarkAndHistory(t)
		w.edit(t)
		w.takeBack(t)
		w.deleteAll(t)
	})
}

// postRoot: a post with markup, a mention and a tag is escaped, linked and notified.
func (w *stLifecycle) postRoot(t *testing.T) {
	var err error
	w.root, err = w.ac.PostStatus(w.ctx, &mastodon.Toot{
		Status:      "Hello <script>alert(1)</script> @bob and @nobody, see https://example.com/a?b=c #GoLang",
		SpoilerText: "cw", Language: "en", Visibility: "public",
	})
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;",
		`<a href="` + w.bob.Account.URL + `" class="u-url mention">@<span>bob</span></a>`,
		"@nobody",
		`href="https://example.com/a?b=c"`,
		`/tags/GoLang" class="mention hashtag" rel="tag">#<span>GoLang</span></a>`,
	} {
		if !strings.Contains(w.root.Content, want) {
			t.Errorf("content %q lacks %q", w.root.Content, want)
		}
	}
	if strings.Contains(w.root.Content, "<script>") {
		t.Errorf("content not escaped: %s", w.root.Content)
	}
	if len(w.root.Mentions) != 1 || w.root.Mentions[0].Acct != "bob" {
		t.Errorf("mentions = %+v, want bob only", w.root.Mentions)
	}
	if len(w.root.Tags) != 1 || w.root.Tags[0].Name != "golang" {
		t.Errorf("tags = %+v, want golang", w.root.Tags)
	}
	if !w.root.Sensitive || w.root.SpoilerText != "cw" || w.root.Language != "en" || w.root.Visibility != "public" {
		t.Errorf("sensitive=%v spoiler=%q language=%q visibility=%q", w.root.Sensitive, w.root.SpoilerText, w.root.Language, w.root.Visibility)
	}
	if n := stNotificationCount(t, w.inst, w.bob.Account.ID, community.NotifyMention, w.root.ID); n != 1 {
		t.Errorf("bob's mention notifications = %d, want 1", n)
	}
	if got, err := w.cc.GetStatus(w.ctx, w.root.ID); err != nil || got.Content != w.root.Content {
		t.Errorf("carol reads the post: %v", err)
	}
}

// A thread: bob and alice answer the root, then carol answers bob.
func (w *stLifecycle) thread(t *testing.T) {
	var err error
	w.bobReply, err = w.bc.PostStatus(w.ctx, &mastodon.Toot{Status: "@alice nice", InReplyToID: w.root.ID})
	if err != nil {
		t.Fatal(err)
	}
	if w.bobReply.InReplyToID != string(w.root.ID) || w.bobReply.InReplyToAccountID != string(stAccountID(w.alice.Account)) {
		t.Errorf("reply points to %v by %v", w.bobReply.InReplyToID, w.bobReply.InReplyToAccountID)
	}
	w.aliceReply, err = w.ac.PostStatus(w.ctx, &mastodon.Toot{Status: "second branch", InReplyToID: w.root.ID})
	if err != nil {
		t.Fatal(err)
	}
	w.carolReply, err = w.cc.PostStatus(w.ctx, &mastodon.Toot{Status: "deeper", InReplyToID: w.bobReply.ID})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := w.bc.GetStatus(w.ctx, w.root.ID); got == nil || got.RepliesCount != 2 {
		t.Errorf("root replies_count = %+v, want 2", got)
	}
	cx, err := w.cc.GetStatusContext(w.ctx, w.root.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := stIDs(cx.Descendants), []mastodon.ID{w.bobReply.ID, w.carolReply.ID, w.aliceReply.ID}; !slices.Equal(got, want) {
		t.Errorf("descendants = %v, want %v (depth first)", got, want)
	}
	if len(cx.Ancestors) != 0 {
		t.Errorf("root has ancestors %v", stIDs(cx.Ancestors))
	}
	cx, err = w.ac.GetStatusContext(w.ctx, w.carolReply.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := stIDs(cx.Ancestors), []mastodon.ID{w.root.ID, w.bobReply.ID}; !slices.Equal(got, want) {
		t.Errorf("ancestors = %v, want %v", got, want)
	}
}

// Favourites, counted once and notified once.
func (w *stLifecycle) favourite(t *testing.T) {
	for range 2 {
		fav, err := w.bc.Favourite(w.ctx, w.root.ID)
		if err != nil || fav.Favourited != true || fav.FavouritesCount != 1 {
			t.Fatalf("favourite: %v %+v", err, fav)
		}
	}
	if n := stNotificationCount(t, w.inst, w.alice.Account.ID, community.NotifyFavourite, w.root.ID); n != 1 {
		t.Errorf("alice's favourite notifications = %d, want 1", n)
	}
	if accts, err := w.ac.GetFavouritedBy(w.ctx, w.root.ID, nil); err != nil || len(accts) != 1 || accts[0].Username != "bob" {
		t.Errorf("favourited_by = %v %v, want bob", err, accts)
	}
}

// Reblogs: the answer wraps the original; reblogging twice returns the same reblog.
func (w *stLifecycle) reblog(t *testing.T) {
	var err error
	w.rb, err = w.cc.Reblog(w.ctx, w.root.ID)
	if err != nil || w.rb.Reblog == nil || w.rb.Reblog.ID != w.root.ID || w.rb.Reblog.ReblogsCount != 1 || w.rb.Reblog.Reblogged != true {
		t.Fatalf("reblog: %v %+v", err, w.rb)
	}
	if again, err := w.cc.Reblog(w.ctx, w.root.ID); err != nil || again.ID != w.rb.ID {
		t.Errorf("second reblog: %v, id %v want %v", err, again, w.rb.ID)
	}
	if n := stStatusesCount(t, w.inst, w.carol.Account); n != 2 {
		t.Errorf("carol statuses_count = %d, want 2 (a reply and a reblog)", n)
	}
	if accts, err := w.bc.GetRebloggedBy(w.ctx, w.root.ID, nil); err != nil || len(accts) != 1 || accts[0].Username != "carol" {
		t.Errorf("reblogged_by = %v %v, want carol", err, accts)
	}
	if n := stNotificationCount(t, w.inst, w.alice.Account.ID, community.NotifyReblog, w.root.ID); n != 1 {
		t.Errorf("alice's reblog notifications = %d, want 1", n)
	}
}

// Bookmarks come and go; an unedited status has a history of one.
func (w *stLifecycle) bookmarkAndHistory(t *testing.T) {
	if st, err := w.bc.Bookmark(w.ctx, w.root.ID); err != nil || st.Bookmarked != true {
		t.Errorf("bookmark: %v %+v", err, st)
	}
	if st, err := w.bc.Unbookmark(w.ctx, w.root.ID); err != nil || st.Bookmarked != false {
		t.Errorf("unbookmark: %v %+v", err, st)
	}

	// History of a status never edited is the status itself.
	if hist, err := w.ac.GetStatusHistory(w.ctx, w.bobReply.ID); err != nil || len(hist) != 1 || hist[0].Content != w.bobReply.Content {
		t.Errorf("history of an unedited status: %v %+v", err, hist)
	}
}

// Edit: new text, tags and mentions; the history keeps the original first.
func (w *stLifecycle) edit(t *testing.T) {
	edited, err := w.ac.UpdateStatus(w.ctx, &mastodon.Toot{Status: "Edited: now about #Rust with @bob and @carol"}, w.root.ID)
	if err != nil {
		t.Fatalf("edit: %v", err)
	}
	if !strings.Contains(edited.Content, "Edited: now about") || edited.EditedAt.IsZero() || edited.SpoilerText != "cw" {
		t.Errorf("edited status: content %q edited_at %v spoiler %q", edited.Content, edited.EditedAt, edited.SpoilerText)
	}
	if len(edited.Tags) != 1 || edited.Tags[0].Name != "rust" {
		t.Errorf("tags after edit = %+v, want rust only", edited.Tags)
	}
	var accts []string
	for _, m := range edited.Mentions {
		accts = append(accts, m.Acct)
	}
	if slices.Sort(accts); !slices.Equal(accts, []string{"bob", "carol"}) {
		t.Errorf("mentions after edit = %v, want bob and carol", accts)
	}
	if n := stNotificationCount(t, w.inst, w.carol.Account.ID, community.NotifyMention, w.root.ID); n != 1 {
		t.Errorf("carol's mention notifications = %d, want 1 (newly mentioned)", n)
	}
	if n := stNotificationCount(t, w.inst, w.bob.Account.ID, community.NotifyMention, w.root.ID); n != 1 {
		t.Errorf("bob's mention notifications = %d, want still 1", n)
	}
	for _, u := range []*instancetest.User{w.bob, w.carol} {
		if n := stNotificationCount(t, w.inst, u.Account.ID, community.NotifyUpdate, w.root.ID); n != 1 {
			t.Errorf("%s's update notifications = %d, want 1 (they interacted)", u.Account.Username, n)
		}
	}
	if n := stNotificationCount(t, w.inst, w.alice.Account.ID, community.NotifyUpdate, ""); n != 0 {
		t.Errorf("alice notified of her own edit")
	}
	if _, err := w.ac.UpdateStatus(w.ctx, &mastodon.Toot{Status: "Edited twice #Rust"}, w.root.ID); err != nil {
		t.Fatal(err)
	}
	hist, err := w.bc.GetStatusHistory(w.ctx, w.root.ID)
	if err != nil || len(hist) != 3 {
		t.Fatalf("history: %v, %d revisions, want 3", err, len(hist))
	}
	for i, want := range []string{"GoLang", "Edited: now", "Edited twice"} {
		if !strings.Contains(hist[i].Content, want) || hist[i].Account.Username != "alice" {
			t.Errorf("revision %d = %q by %s, want it to contain %q", i, hist[i].Content, hist[i].Account.Username, want)
		}
	}
	if !hist[0].CreatedAt.Before(hist[2].CreatedAt) {
		t.Errorf("revisions not oldest first: %v, %v", hist[0].CreatedAt, hist[2].CreatedAt)
	}
	if src, err := w.ac.GetStatusSource(w.ctx, w.root.ID); err != nil || src.Text != "Edited twice #Rust" || src.SpoilerText != "cw" || src.ID != w.root.ID {
		t.Errorf("source: %v %+v", err, src)
	}
}

// Taking interactions back.
func (w *stLifecycle) takeBack(t *testing.T) {
	if st, err := w.bc.Unfavourite(w.ctx, w.root.ID); err != nil || st.Favourited != false || st.FavouritesCount != 0 {
		t.Errorf("unfavourite: %v %+v", err, st)
	}
	if n := stNotificationCount(t, w.inst, w.alice.Account.ID, community.NotifyFavourite, w.root.ID); n != 0 {
		t.Errorf("favourite notification kept after unfavourite")
	}
	if accts, err := w.ac.GetFavouritedBy(w.ctx, w.root.ID, nil); err != nil || len(accts) != 0 {
		t.Errorf("favourited_by after unfavourite = %v %v", err, accts)
	}
	if st, err := w.cc.Unreblog(w.ctx, w.root.ID); err != nil || st.ID != w.root.ID || st.Reblogged != false || st.ReblogsCount != 0 {
		t.Errorf("unreblog: %v %+v", err, st)
	}
	if _, err := w.ac.GetStatus(w.ctx, w.rb.ID); !isStatus(err, http.StatusNotFound) {
		t.Errorf("reblog after unreblog: %v, want 404", err)
	}
	if n := stStatusesCount(t, w.inst, w.carol.Account); n != 1 {
		t.Errorf("carol statuses_count after unreblog = %d, want 1", n)
	}
}

// Deleting: counters follow, the answer carries the source for redrafting.
func (w *stLifecycle) deleteAll(t *testing.T) {
	if err := w.ac.DeleteStatus(w.ctx, w.aliceReply.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := w.bc.GetStatus(w.ctx, w.root.ID); got == nil || got.RepliesCount != 1 {
		t.Errorf("root replies_count after deleting a reply = %+v, want 1", got)
	}
	if _, err := w.cc.Reblog(w.ctx, w.root.ID); err != nil {
		t.Fatal(err)
	}
	del := w.inst.Call(t, http.MethodDelete, "/api/v1/statuses/"+string(w.root.ID), w.alice.Token, nil)
	st := stDecodeStatus(t, "delete", del)
	if st.ID != string(w.root.ID) || st.Text == nil || *st.Text != "Edited twice #Rust" || st.SpoilerText != "cw" {
		t.Errorf("delete answer: id %s text %v spoiler %q", st.ID, st.Text, st.SpoilerText)
	}
	if _, err := w.bc.GetStatus(w.ctx, w.root.ID); !isStatus(err, http.StatusNotFound) {
		t.Errorf("deleted status: %v, want 404", err)
	}
	if n := stStatusesCount(t, w.inst, w.alice.Account); n != 0 {
		t.Errorf("alice statuses_count = %d, want 0", n)
	}
	if n := stStatusesCount(t, w.inst, w.carol.Account); n != 1 {
		t.Errorf("carol statuses_count = %d, want 1 (her reblog went with the status)", n)
	}
	if orphan, err := w.cc.GetStatus(w.ctx, w.bobReply.ID); err != nil {
		t.Errorf("reply to a deleted status: %v, want kept", err)
	} else if orphan.InReplyToID != nil {
		t.Errorf("reply to a deleted status: in_reply_to_id %v, want none", orphan.InReplyToID)
	}
	if err := w.ac.DeleteStatus(w.ctx, w.root.ID); !isStatus(err, http.StatusNotFound) {
		t.Errorf("deleting twice: %v, want 404", err)
	}
}

// TestStatusErrors checks the errors clients meet, with Mastodon's codes and bodies.
// stErrors is what TestStatusErrors's steps share: alice's status at path, and users
// with too few scopes to touch it.
type stErrors struct {
	inst                       *instancetest.Instance
	alice, bob, reader, poster *instancetest.User
	mine                       stStatus
	path                       string
}

// post posts as alice.
func (w *stErrors) post(t *testing.T, form url.Values) instancetest.Answer {
	return w.inst.Call(t, http.MethodPost, "/api/v1/statuses", w.alice.Token, form)
}

func TestStatusErrors(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	bob := inst.CreateUser(t, "bob", instancetest.UserOptions{})
	reader := inst.CreateUser(t, "reader", instancetest.UserOptions{Scopes: []string{"read"}})
	poster := inst.CreateUser(t, "poster", instancetest.UserOptions{Scopes: []string{"read:statuses", "write:statuses"}})
	w := &stErrors{inst: inst, alice: alice, bob: bob, reader: reader, poster: poster}
	w.mine = stDecodeStatus(t, "post", w.post(t, url.Values{"status": {"mine"}}))
	w.path = "/api/v1/statuses/" + w.mine.ID
	w.refusedPosts(t)
	w.clientShapes(t)
	w.missingStatuses(t)
	w.othersStatus(t)
	w.scopesAndLimits(t)
}

// refusedPosts: posting needs a login, the scope and valid parameters.
func (w *stErrors) refusedPosts(t *testing.T) {
	w.inst.Call(t, http.MethodPost, "/api/v1/statuses", "", url.Values{"status": {"hi"}}).
		WantError(t, "post logged out", http.StatusUnauthorized, "")
	w.inst.Call(t, http.MethodPost, "/api/v1/statuses", w.reader.Token, url.Values{"status": {"hi"}}).
		WantError(t, "post with a read-only token", http.StatusForbidden, "outside the authorized scopes")
	w.inst.Call(t, http.MethodGet, w.path+"/source", "", nil).
		WantError(t, "source logged out", http.StatusUnauthorized, "")

	for _, tc := range []struct {
		name string
		form url.Values
		msg  string
	}{
		{"empty text", url.Values{"status": {"  "}}, "Text can't be blank"},
		{"no text", url.Values{"spoiler_text": {"only a warning"}}, "Text can't be blank"},
		{"too long", url.Values{"status": {strings.Repeat("é", 501)}}, "character limit of 500"},
		{"too long with the warning", url.Values{"status": {strings.Repeat("a", 490)}, "spoiler_text": {strings.Repeat("b", 11)}}, "character limit"},
		{"bad visibility", url.Values{"status": {"hi"}, "visibility": {"everyone"}}, "Visibility"},
		{"bad scope", url.Values{"status": {"hi"}, "scope": {"galaxy"}}, "Scope"},
		{"local_only against scope", url.Values{"status": {"hi"}, "local_only": {"true"}, "scope": {"world"}}, "local_only"},
		{"bad local_only", url.Values{"status": {"hi"}, "local_only": {"perhaps"}}, "local_only"},
		{"bad sensitive", url.Values{"status": {"hi"}, "sensitive": {"perhaps"}}, "sensitive"},
		{"bad language", url.Values{"status": {"hi"}, "language": {"English"}}, "Language"},
		{"someone else's or no media", url.Values{"status": {"hi"}, "media_ids[]": {"1234"}}, "Media with ID 1234 was not found"},
		{"poll too short", url.Values{"status": {"hi"}, "poll[options][]": {"a", "b"}, "poll[expires_in]": {"60"}}, "Poll duration is too short"},
		{"poll of one option", url.Values{"status": {"hi"}, "poll[options][]": {"a"}, "poll[expires_in]": {"600"}}, "at least 2 options"},
		{"poll of five options", url.Values{"status": {"hi"}, "poll[options][]": {"a", "b", "c", "d", "e"}, "poll[expires_in]": {"600"}}, "more than 4 options"},
		{"poll with the same option twice", url.Values{"status": {"hi"}, "poll[options][]": {"a", "a"}, "poll[expires_in]": {"600"}}, "different"},
		{"poll option too long", url.Values{"status": {"hi"}, "poll[options][]": {"a", strings.Repeat("b", 51)}, "poll[expires_in]": {"600"}}, "too long"},
		{"poll too long", url.Values{"status": {"hi"}, "poll[options][]": {"a", "b"}, "poll[expires_in]": {"99999999"}}, "too long"},
		{"scheduled too soon", url.Values{"status": {"hi"}, "scheduled_at": {time.Now().Add(4 * time.Minute).UTC().Format(time.RFC3339)}}, "at least 5 minutes"},
		{"scheduled at no time", url.Values{"status": {"hi"}, "scheduled_at": {"tomorrow"}}, "not a valid date"},
		{"scheduled and too long", url.Values{"status": {strings.Repeat("a", 501)}, "scheduled_at": {"2099-01-01T00:00:00Z"}}, "character limit"},
	} {
		w.post(t, tc.form).WantError(t, tc.name, http.StatusUnprocessableEntity, tc.msg)
	}
}

// An empty media list is what some clients always send: it is ignored.
func (w *stErrors) clientShapes(t *testing.T) {
	stDecodeStatus(t, "empty media_ids", w.post(t, url.Values{"status": {"no media"}, "media_ids[]": {""}}))
	// Web clients send JSON, with empty media and a null poll.
	jsonPost := func(body string) instancetest.Answer {
		return w.inst.Call(t, http.MethodPost, "/api/v1/statuses", w.alice.Token, json.RawMessage(body))
	}
	fromJSON := stDecodeStatus(t, "JSON post", jsonPost(`{"status":"from JSON","media_ids":[],"poll":null,"sensitive":true,"visibility":"unlisted","local_only":true}`))
	if fromJSON.Visibility != "unlisted" || !fromJSON.LocalOnly {
		t.Errorf("JSON post: visibility %s local_only %v", fromJSON.Visibility, fromJSON.LocalOnly)
	}
	jsonPoll := stDecodeStatus(t, "JSON poll", jsonPost(`{"status":"poll","poll":{"options":["a","b"],"expires_in":300,"multiple":true}}`))
	if p, _ := jsonPoll.Poll.(map[string]any); p == nil || p["multiple"] != true || len(p["options"].([]any)) != 2 {
		t.Errorf("JSON poll: %v", jsonPoll.Poll)
	}
	jsonPost(`{"status":"media","media_ids":["12"]}`).
		WantError(t, "JSON media", http.StatusUnprocessableEntity, "Media with ID 12 was not found")
}

// missingStatuses: a status that does not exist is 404 to every action.
func (w *stErrors) missingStatuses(t *testing.T) {
	missing := community.FormatID(community.NewID())
	w.post(t, url.Values{"status": {"hi"}, "in_reply_to_id": {missing}}).
		WantError(t, "reply to nothing", http.StatusNotFound, "does not appear to exist")
	w.post(t, url.Values{"status": {"hi"}, "in_reply_to_id": {"nonsense"}}).
		WantError(t, "reply to a malformed id", http.StatusNotFound, "does not appear to exist")
	for _, p := range []string{"/api/v1/statuses/" + missing, "/api/v1/statuses/abc", "/api/v1/statuses/-5",
		"/api/v1/statuses/" + missing + "/context", "/api/v1/statuses/" + missing + "/history",
		"/api/v1/statuses/" + missing + "/favourited_by"} {
		w.inst.Call(t, http.MethodGet, p, w.alice.Token, nil).WantError(t, "GET "+p, http.StatusNotFound, "Record not found")
	}
	for _, action := range []string{"favourite", "reblog", "bookmark", "pin", "unfavourite"} {
		w.inst.Call(t, http.MethodPost, "/api/v1/statuses/"+missing+"/"+action, w.alice.Token, nil).
			WantError(t, action+" of nothing", http.StatusNotFound, "Record not found")
	}
}

// Someone else's status cannot be edited or deleted, and looks missing.
func (w *stErrors) othersStatus(t *testing.T) {
	w.inst.Call(t, http.MethodPut, w.path, w.bob.Token, url.Values{"status": {"hijacked"}}).
		WantError(t, "edit by someone else", http.StatusNotFound, "Record not found")
	w.inst.Call(t, http.MethodDelete, w.path, w.bob.Token, nil).
		WantError(t, "delete by someone else", http.StatusNotFound, "Record not found")
	w.inst.Call(t, http.MethodPut, w.path, w.alice.Token, url.Values{"status": {""}}).
		WantError(t, "edit to nothing", http.StatusUnprocessableEntity, "Text can't be blank")
	w.inst.Call(t, http.MethodPut, w.path, w.alice.Token, url.Values{"status": {"x"}, "language": {"??"}}).
		WantError(t, "edit to a bad language", http.StatusUnprocessableEntity, "Language")
}

// Each action needs its own scope, as Mastodon documents.
func (w *stErrors) scopesAndLimits(t *testing.T) {
	for _, tc := range []struct {
		action string
		code   int
	}{
		{"favourite", http.StatusForbidden},   // write:favourites
		{"bookmark", http.StatusForbidden},    // write:bookmarks
		{"pin", http.StatusForbidden},         // write:accounts
		{"reblog", http.StatusOK},             // write:statuses
		{"unreblog", http.StatusOK},           // write:statuses
		{"unfavourite", http.StatusForbidden}, // write:favourites
	} {
		got := w.inst.Call(t, http.MethodPost, w.path+"/"+tc.action, w.poster.Token, nil)
		if got.Code != tc.code {
			t.Errorf("%s with write:statuses only: %d, want %d (%s)", tc.action, got.Code, tc.code, got.Body)
		}
	}
	w.inst.Call(t, http.MethodPost, w.path+"/favourite", w.reader.Token, nil).
		WantError(t, "favourite with a read-only token", http.StatusForbidden, "outside the authorized scopes")

	many := url.Values{}
	for range 41 {
		many.Add("id[]", w.mine.ID)
	}
	w.inst.Call(t, http.MethodGet, "/api/v1/statuses", w.alice.Token, many).
		WantError(t, "too many ids", http.StatusUnprocessableEntity, "Too many ids")

	key := strings.Repeat("k", community.MaxIdempotencyKeyLen+1)
	w.inst.Call(t, http.MethodPost, "/api/v1/statuses", w.alice.Token, url.Values{"status": {"hi"}}, "Idempotency-Key", key).
		WantError(t, "long idempotency key", http.StatusUnprocessableEntity, "Idempotency-Key")
}

// TestStatusAudience checks who reads what, who is notified, and how replies and scopes
// combine.
// stAudience is what TestStatusAudience's steps share: alice, who is followed by
// follower, colleagues who are not, a remote account, and alice's posts that later
// steps read again.
type stAudience struct {
	ctx                             context.Context
	inst                            *instancetest.Instance
	alice, follower, stranger, dave *instancetest.User
	remote                          *community.Account
	private, company, world         stStatus
}

// post posts through the API and decodes the status.
func (w *stAudience) post(t *testing.T, token string, form url.Values) stStatus {
	t.Helper()
	return stDecodeStatus(t, "post "+form.Get("status"), w.inst.Call(t, http.MethodPost, "/api/v1/statuses", token, form))
}

// get is the status code of reading a status.
func (w *stAudience) get(t *testing.T, token, id string) int {
	return w.inst.Call(t, http.MethodGet, "/api/v1/statuses/"+id, token, nil).Code
}

func TestStatusAudience(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})
	ctx := context.Background()
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	follower := inst.CreateUser(t, "follower", instancetest.UserOptions{})
	stranger := inst.CreateUser(t, "stranger", instancetest.UserOptions{})
	dave := inst.CreateUser(t, "dave", instancetest.UserOptions{})
	if err := inst.Community.Follow(ctx, follower.Account, alice.Account.ID, community.FollowOptions{}); err != nil {
		t.Fatalf("follow: %v", err)
	}
	now := time.Now().UTC()
	remote := &community.Account{ID: community.NewID(), Username: "zed", Domain: "peer.example", Fields: community.Fields{},
		URL: "https://peer.example/@zed", URI: "https://peer.example/users/zed", CreatedAt: now, UpdatedAt: now}
	if err := inst.Community.DB().Create(remote).Error; err != nil {
		t.Fatal(err)
	}
	w := &stAudience{ctx: ctx, inst: inst, alice: alice, follower: follower, stranger: stranger, dave: dave, remote: remote}
	w.followersOnly(t)
	w.department(t)
	w.scopes(t)
	w.blockedMention(t)
	w.severalAtOnce(t)
	w.favouritedByPages(t)
}

// Followers only, mentioning dave who does not follow: dave reads it and is notified.
func (w *stAudience) followersOnly(t *testing.T) {
	w.private = w.post(t, w.alice.Token, url.Values{"status": {"@dave secret"}, "visibility": {"private"}})
	for _, tc := range []struct {
		who   string
		token string
		code  int
	}{{"author", w.alice.Token, 200}, {"follower", w.follower.Token, 200}, {"mentioned", w.dave.Token, 200},
		{"stranger", w.stranger.Token, 404}, {"logged out", "", 404}} {
		if got := w.get(t, tc.token, w.private.ID); got != tc.code {
			t.Errorf("private post read by %s: %d, want %d", tc.who, got, tc.code)
		}
	}
	if n := stNotificationCount(t, w.inst, w.dave.Account.ID, community.NotifyMention, mastodon.ID(w.private.ID)); n != 1 {
		t.Errorf("mentioned non-follower notified %d times, want 1", n)
	}
	w.inst.Call(t, http.MethodGet, "/api/v1/statuses/"+w.private.ID+"/context", w.stranger.Token, nil).
		WantError(t, "context of a hidden status", http.StatusNotFound, "Record not found")
	w.inst.Call(t, http.MethodPost, "/api/v1/statuses/"+w.private.ID+"/favourite", w.stranger.Token, nil).
		WantError(t, "favourite of a hidden status", http.StatusNotFound, "Record not found")
	w.inst.Call(t, http.MethodPost, "/api/v1/statuses", w.stranger.Token, url.Values{"status": {"let me in"}, "in_reply_to_id": {w.private.ID}}).
		WantError(t, "reply to a hidden status", http.StatusNotFound, "does not appear to exist")

	// A follower's reply to it cannot be wider than it.
	reply := w.post(t, w.follower.Token, url.Values{"status": {"agreed"}, "in_reply_to_id": {w.private.ID}, "visibility": {"public"}, "scope": {"world"}})
	if reply.Visibility != "private" || reply.Tacit.Scope != "company" {
		t.Errorf("reply to a private company post: %s/%s, want private/company", reply.Visibility, reply.Tacit.Scope)
	}

	// Direct: only the mentioned read it.
	direct := w.post(t, w.alice.Token, url.Values{"status": {"@dave psst"}, "visibility": {"direct"}})
	if w.get(t, w.follower.Token, direct.ID) != 404 || w.get(t, w.dave.Token, direct.ID) != 200 {
		t.Errorf("direct message audience wrong")
	}
}

// Department: local_only is the glitch-soc way of asking for it.
func (w *stAudience) department(t *testing.T) {
	for _, form := range []url.Values{
		{"status": {"dept only"}, "local_only": {"true"}},
		{"status": {"dept only"}, "scope": {"department"}},
		{"status": {"dept only"}, "scope": {"department"}, "local_only": {"1"}},
	} {
		st := w.post(t, w.alice.Token, form)
		if !st.LocalOnly || st.Tacit.Scope != "department" {
			t.Errorf("%v: local_only=%v scope=%q, want true/department", form, st.LocalOnly, st.Tacit.Scope)
		}
	}
	// A department post mentioning a remote account links it but never notifies it.
	dept := w.post(t, w.alice.Token, url.Values{"status": {"@zed@peer.example and @dave, inside only"}, "local_only": {"true"}})
	if len(dept.Mentions) != 2 || !strings.Contains(dept.Content, `href="https://peer.example/@zed"`) {
		t.Errorf("department post mentions %+v, content %s", dept.Mentions, dept.Content)
	}
	if n := stNotificationCount(t, w.inst, w.remote.ID, community.NotifyMention, ""); n != 0 {
		t.Errorf("remote account notified of a department post")
	}
	if n := stNotificationCount(t, w.inst, w.dave.Account.ID, community.NotifyMention, mastodon.ID(dept.ID)); n != 1 {
		t.Errorf("local account mentioned in a department post notified %d times, want 1", n)
	}
}

// Scopes: the instance default is company, hidden from logged-out visitors; world is
// not; a reply to a company post asking for world stays company.
func (w *stAudience) scopes(t *testing.T) {
	w.company = w.post(t, w.alice.Token, url.Values{"status": {"company news"}})
	w.world = w.post(t, w.alice.Token, url.Values{"status": {"hello world"}, "scope": {"world"}})
	if w.company.Tacit.Scope != "company" || w.company.LocalOnly || w.world.Tacit.Scope != "world" {
		t.Errorf("scopes: %q (local_only %v), %q", w.company.Tacit.Scope, w.company.LocalOnly, w.world.Tacit.Scope)
	}
	if w.get(t, "", w.company.ID) != 404 || w.get(t, "", w.world.ID) != 200 || w.get(t, w.stranger.Token, w.company.ID) != 200 {
		t.Errorf("logged out reads company post: %d, world post: %d", w.get(t, "", w.company.ID), w.get(t, "", w.world.ID))
	}
	narrowed := w.post(t, w.stranger.Token, url.Values{"status": {"reply"}, "in_reply_to_id": {w.company.ID}, "scope": {"world"}})
	if narrowed.Tacit.Scope != "company" || narrowed.Visibility != "public" {
		t.Errorf("reply to a company post asking for world: %s/%s, want public/company", narrowed.Visibility, narrowed.Tacit.Scope)
	}
	ctxAnon := w.inst.Call(t, http.MethodGet, "/api/v1/statuses/"+w.world.ID+"/context", "", nil)
	if ctxAnon.Code != 200 || mastoschema.Validate("Context", ctxAnon.Body) != nil {
		t.Errorf("context logged out: %d %s", ctxAnon.Code, ctxAnon.Body)
	}
}

// An author who blocks someone does not reach them with a mention: they may not read it.
func (w *stAudience) blockedMention(t *testing.T) {
	if err := w.inst.Community.Block(w.ctx, w.alice.Account, w.stranger.Account.ID); err != nil {
		t.Fatal(err)
	}
	blockedMention := w.post(t, w.alice.Token, url.Values{"status": {"@stranger you will not hear this"}})
	if n := stNotificationCount(t, w.inst, w.stranger.Account.ID, community.NotifyMention, mastodon.ID(blockedMention.ID)); n != 0 {
		t.Errorf("blocked account notified of a mention")
	}
	if w.get(t, w.stranger.Token, blockedMention.ID) != 404 {
		t.Errorf("blocked account reads the author's post")
	}
}

// Several statuses at once: the visible ones, in the order asked.
func (w *stAudience) severalAtOnce(t *testing.T) {
	q := url.Values{"id[]": {w.world.ID, w.private.ID, "bogus", w.company.ID, community.FormatID(community.NewID())}}
	multi := w.inst.Call(t, http.MethodGet, "/api/v1/statuses", w.dave.Token, q)
	var list []stStatus
	if err := mastoschema.ValidateList("Status", multi.Body); err != nil || json.Unmarshal(multi.Body, &list) != nil {
		t.Fatalf("GET /statuses: %v %s", err, multi.Body)
	}
	var got []string
	for _, st := range list {
		got = append(got, st.ID)
	}
	if want := []string{w.world.ID, w.private.ID, w.company.ID}; !slices.Equal(got, want) {
		t.Errorf("GET /statuses as dave = %v, want %v", got, want)
	}
	if anon := w.inst.Call(t, http.MethodGet, "/api/v1/statuses", "", url.Values{"id[]": {w.company.ID}}); anon.Code != 200 || string(anon.Body) != "[]" {
		t.Errorf("GET /statuses logged out for a company post: %d %s, want []", anon.Code, anon.Body)
	}
}

// favourited_by pages with a Link header, newest first.
func (w *stAudience) favouritedByPages(t *testing.T) {
	for _, u := range []*instancetest.User{w.follower, w.dave, w.alice} {
		if _, err := w.inst.Client(u.Token).Favourite(w.ctx, mastodon.ID(w.world.ID)); err != nil {
			t.Fatal(err)
		}
	}
	// Read by a colleague: logged out, company mode shows nobody's name.
	page := w.inst.Call(t, http.MethodGet, "/api/v1/statuses/"+w.world.ID+"/favourited_by", w.dave.Token, url.Values{"limit": {"2"}})
	if err := mastoschema.ValidateList("Account", page.Body); err != nil {
		t.Error(err)
	}
	if link := page.Header.Get("Link"); !strings.Contains(link, `rel="next"`) || !strings.Contains(link, "max_id=") {
		t.Errorf("favourited_by Link header = %q", link)
	}
	pg := &mastodon.Pagination{Limit: 2}
	first, err := w.inst.Client(w.dave.Token).GetFavouritedBy(w.ctx, mastodon.ID(w.world.ID), pg)
	if err != nil || len(first) != 2 || first[0].Username != "alice" || first[1].Username != "dave" {
		t.Fatalf("favourited_by page 1: %v %v", err, first)
	}
	second, err := w.inst.Client(w.dave.Token).GetFavouritedBy(w.ctx, mastodon.ID(w.world.ID), &mastodon.Pagination{MaxID: pg.MaxID, Limit: 2})
	if err != nil || len(second) != 1 || second[0].Username != "follower" {
		t.Errorf("favourited_by page 2 (max_id %s): %v %v", pg.MaxID, err, second)
	}
}

// TestReblogRules checks what may be shared, and how.
func TestReblogRules(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})
	ctx := context.Background()
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	follower := inst.CreateUser(t, "follower", instancetest.UserOptions{})
	carol := inst.CreateUser(t, "carol", instancetest.UserOptions{})
	if err := inst.Community.Follow(ctx, follower.Account, alice.Account.ID, community.FollowOptions{}); err != nil {
		t.Fatal(err)
	}
	post := func(form url.Values) stStatus {
		t.Helper()
		return stDecodeStatus(t, "post", inst.Call(t, http.MethodPost, "/api/v1/statuses", alice.Token, form))
	}
	reblog := func(token, id string, form any) instancetest.Answer {
		return inst.Call(t, http.MethodPost, "/api/v1/statuses/"+id+"/reblog", token, form)
	}

	private := post(url.Values{"status": {"followers only @carol"}, "visibility": {"private"}})
	reblog(follower.Token, private.ID, nil).WantError(t, "follower reblogs a private post", http.StatusForbidden, "This action is not allowed")
	reblog(carol.Token, private.ID, nil).WantError(t, "mentioned account reblogs a private post", http.StatusForbidden, "This action is not allowed")
	own := stDecodeStatus(t, "own private reblog", reblog(alice.Token, private.ID, url.Values{"visibility": {"public"}}))
	if own.Visibility != "private" || own.Reblog == nil || own.Reblog.ID != private.ID {
		t.Errorf("reblog of one's own private post: visibility %s, reblog %+v", own.Visibility, own.Reblog)
	}

	direct := post(url.Values{"status": {"@carol just us"}, "visibility": {"direct"}})
	reblog(carol.Token, direct.ID, nil).WantError(t, "reblog of a direct message", http.StatusForbidden, "This action is not allowed")
	reblog(alice.Token, direct.ID, nil).WantError(t, "own reblog of a direct message", http.StatusForbidden, "This action is not allowed")

	stranger := inst.CreateUser(t, "stranger", instancetest.UserOptions{})
	reblog(stranger.Token, private.ID, nil).WantError(t, "stranger reblogs a private post", http.StatusNotFound, "Record not found")

	dept := post(url.Values{"status": {"inside"}, "local_only": {"true"}})
	rb := stDecodeStatus(t, "unlisted reblog", reblog(carol.Token, dept.ID, url.Values{"visibility": {"unlisted"}}))
	if rb.Visibility != "unlisted" || rb.Tacit.Scope != "department" || !rb.LocalOnly {
		t.Errorf("reblog: visibility %s scope %s local_only %v, want unlisted/department/true", rb.Visibility, rb.Tacit.Scope, rb.LocalOnly)
	}
	pub := post(url.Values{"status": {"share me"}})
	reblog(carol.Token, pub.ID, url.Values{"visibility": {"direct"}}).
		WantError(t, "reblog as direct", http.StatusUnprocessableEntity, "Visibility")

	// Naming the reblog instead of the original acts on the original.
	first := stDecodeStatus(t, "reblog", reblog(carol.Token, pub.ID, nil))
	second := stDecodeStatus(t, "reblog of a reblog", reblog(follower.Token, first.ID, nil))
	if second.Reblog == nil || second.Reblog.ID != pub.ID {
		t.Errorf("reblog of a reblog shares %+v, want the original %s", second.Reblog, pub.ID)
	}
	fav, err := inst.Client(follower.Token).Favourite(ctx, mastodon.ID(first.ID))
	if err != nil || fav.ID != mastodon.ID(pub.ID) || fav.FavouritesCount != 1 {
		t.Errorf("favourite through a reblog: %v %+v", err, fav)
	}
	if st, err := inst.Client(alice.Token).GetStatus(ctx, mastodon.ID(pub.ID)); err != nil || st.ReblogsCount != 2 {
		t.Errorf("reblogs_count = %v %v, want 2", err, st)
	}
	// Editing a reblog is refused; deleting it is an unreblog.
	inst.Call(t, http.MethodPut, "/api/v1/statuses/"+first.ID, carol.Token, url.Values{"status": {"mine now"}}).
		WantError(t, "edit of a reblog", http.StatusForbidden, "Reblogs can't be edited")
	if err := inst.Client(carol.Token).DeleteStatus(ctx, mastodon.ID(first.ID)); err != nil {
		t.Fatal(err)
	}
	if st, err := inst.Client(alice.Token).GetStatus(ctx, mastodon.ID(pub.ID)); err != nil || st.ReblogsCount != 1 {
		t.Errorf("reblogs_count after deleting a reblog = %v %v, want 1", err, st)
	}
	if n := stNotificationCount(t, inst, alice.Account.ID, community.NotifyReblog, mastodon.ID(pub.ID)); n != 1 {
		t.Errorf("reblog notifications after one reblog was deleted = %d, want 1", n)
	}
}

// TestPinsAndIdempotency checks the pin rules and Idempotency-Key.
func TestPinsAndIdempotency(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	bob := inst.CreateUser(t, "bob", instancetest.UserOptions{})
	pin := func(token, id, action string) instancetest.Answer {
		return inst.Call(t, http.MethodPost, "/api/v1/statuses/"+id+"/"+action, token, nil)
	}
	post := func(token string, form url.Values, headers ...string) stStatus {
		t.Helper()
		return stDecodeStatus(t, "post", inst.Call(t, http.MethodPost, "/api/v1/statuses", token, form, headers...))
	}

	var ids []string
	for i := range community.MaxPinnedStatuses + 1 {
		vis := "public"
		if i == 0 {
			vis = "private" // followers-only posts may be pinned too
		}
		ids = append(ids, post(alice.Token, url.Values{"status": {fmt.Sprintf("pin %d", i)}, "visibility": {vis}}).ID)
	}
	for _, id := range ids[:community.MaxPinnedStatuses] {
		if st := stDecodeStatus(t, "pin", pin(alice.Token, id, "pin")); st.Pinned == nil || !*st.Pinned {
			t.Errorf("pin %s: pinned = %v", id, st.Pinned)
		}
	}
	if st := stDecodeStatus(t, "pin again", pin(alice.Token, ids[0], "pin")); st.Pinned == nil || !*st.Pinned {
		t.Errorf("pinning twice: pinned = %v", st.Pinned)
	}
	last := ids[community.MaxPinnedStatuses]
	pin(alice.Token, last, "pin").WantError(t, "sixth pin", http.StatusUnprocessableEntity, "maximum number")
	bobs := post(bob.Token, url.Values{"status": {"bob's"}})
	pin(alice.Token, bobs.ID, "pin").WantError(t, "pin someone else's", http.StatusUnprocessableEntity, "Someone else's post")
	direct := post(alice.Token, url.Values{"status": {"@bob dm"}, "visibility": {"direct"}})
	pin(alice.Token, direct.ID, "pin").WantError(t, "pin a direct message", http.StatusUnprocessableEntity, "only visible to mentioned users")
	if st := stDecodeStatus(t, "unpin", pin(alice.Token, ids[1], "unpin")); st.Pinned == nil || *st.Pinned {
		t.Errorf("unpin: pinned = %v", st.Pinned)
	}
	stDecodeStatus(t, "unpin twice", pin(alice.Token, ids[1], "unpin"))
	if st := stDecodeStatus(t, "pin after unpin", pin(alice.Token, last, "pin")); st.Pinned == nil || !*st.Pinned {
		t.Errorf("pin after unpin: pinned = %v", st.Pinned)
	}
	// pinned is only told to the author.
	if st := stDecodeStatus(t, "get", inst.Call(t, http.MethodGet, "/api/v1/statuses/"+last, bob.Token, nil)); st.Pinned != nil {
		t.Errorf("pinned shown to someone else: %v", *st.Pinned)
	}

	// Idempotency-Key: a retried post returns the first status.
	before := stStatusesCount(t, inst, alice.Account)
	form := url.Values{"status": {"retried"}}
	first := post(alice.Token, form, "Idempotency-Key", "retry-1")
	again := post(alice.Token, form, "Idempotency-Key", "retry-1")
	if again.ID != first.ID {
		t.Errorf("same Idempotency-Key gave %s then %s", first.ID, again.ID)
	}
	if n := stStatusesCount(t, inst, alice.Account); n != before+1 {
		t.Errorf("statuses_count rose by %d, want 1", n-before)
	}
	if other := post(alice.Token, form, "Idempotency-Key", "retry-2"); other.ID == first.ID {
		t.Errorf("another key returned the same status")
	}
	if other := post(bob.Token, form, "Idempotency-Key", "retry-1"); other.ID == first.ID {
		t.Errorf("another account's key returned alice's status")
	}
	// Once the first status is deleted, retrying posts again.
	stDecodeStatus(t, "delete", inst.Call(t, http.MethodDelete, "/api/v1/statuses/"+first.ID, alice.Token, nil))
	if reposted := post(alice.Token, form, "Idempotency-Key", "retry-1"); reposted.ID == first.ID {
		t.Errorf("retry after delete returned the deleted status")
	}
}
