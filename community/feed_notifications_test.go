package community

import (
	"context"
	"slices"
	"testing"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/store/storetest"
)

// ntTypes lists the kinds of a page of notifications, newest first.
func ntTypes(items []NotificationItem) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, string(it.Type)+":"+it.From.Username)
	}
	return out
}

// notificationWorld is me, with six notifications from ann, bob and carol.
type notificationWorld struct {
	s                   *Service
	me, ann, bob, carol *Account
	mine                *Status // my post, which ann reblogs and bob favourites
}

// allNotifications are the notifications newNotificationWorld makes, newest first.
var allNotifications = []string{"mention:bob", "mention:carol", "reblog:ann", "favourite:bob", "mention:ann", "follow:ann"}

func newNotificationWorld(t *testing.T, db *gorm.DB) notificationWorld {
	t.Helper()
	ctx := context.Background()
	s := salesService(db)
	w := notificationWorld{s: s, me: storeAccount(t, s, "me"), ann: storeAccount(t, s, "ann"),
		bob: storeAccount(t, s, "bob"), carol: storeAccount(t, s, "carol")}
	w.mine = tlPost(t, s, w.me, "mine", VisibilityPublic, "", nil)
	tlFollow(t, s, w.ann, w.me, true)                             // follow:ann
	tlPost(t, s, w.ann, "@me hello", VisibilityPublic, "", nil)   // mention:ann
	if _, err := s.Favourite(ctx, w.bob, w.mine.ID); err != nil { // favourite:bob
		t.Fatal(err)
	}
	if _, err := s.Reblog(ctx, w.ann, w.mine.ID, ""); err != nil { // reblog:ann
		t.Fatal(err)
	}
	tlPost(t, s, w.carol, "@me soon hidden", VisibilityPublic, "", nil) // mention:carol
	tlPost(t, s, w.bob, "@me from bob", VisibilityDirect, "", nil)      // mention:bob
	return w
}

// list reads my notifications, checking that each shows the status it is about.
func (w notificationWorld) list(t *testing.T, q NotificationQuery) []string {
	t.Helper()
	q.Page.Limit = 40
	items, err := w.s.Notifications(context.Background(), w.me, q)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Type.hasStatus() && it.Status == nil {
			t.Errorf("%s notification without its status", it.Type)
		}
		if it.Type == NotifyReblog && (it.Status == nil || it.Status.ID != w.mine.ID) {
			t.Errorf("reblog notification shows %+v, want the reblogged status", it.Status)
		}
	}
	return ntTypes(items)
}

func TestNotifications(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := newNotificationWorld(t, db)
		checkNotificationFilters(t, w)
		checkNotificationsAfterBlockAndMute(t, w)
		items := checkOneNotificationAndUnread(t, w)
		checkDismissAndClear(t, w, items)
	})
}

// checkNotificationFilters: types, exclude_types, account_id, and paging by
// notification id, two at a time, newest first.
func checkNotificationFilters(t *testing.T, w notificationWorld) {
	t.Helper()
	tlSame(t, "all", w.list(t, NotificationQuery{}), allNotifications)
	tlSame(t, "types", w.list(t, NotificationQuery{Types: []NotificationType{NotifyMention, NotifyFollow}}),
		[]string{"mention:bob", "mention:carol", "mention:ann", "follow:ann"})
	tlSame(t, "exclude_types", w.list(t, NotificationQuery{ExcludeTypes: []NotificationType{NotifyMention}}),
		[]string{"reblog:ann", "favourite:bob", "follow:ann"})
	tlSame(t, "account_id", w.list(t, NotificationQuery{AccountID: w.ann.ID}), []string{"reblog:ann", "mention:ann", "follow:ann"})
	tlSame(t, "unknown type", w.list(t, NotificationQuery{Types: []NotificationType{"poll"}}), []string{})

	var got []string
	p := Page{Limit: 2}
	for range 5 {
		items, err := w.s.Notifications(context.Background(), w.me, NotificationQuery{Page: p})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) == 0 {
			break
		}
		got = append(got, ntTypes(items)...)
		p.MaxID = items[len(items)-1].ID
	}
	tlSame(t, "paged", got, allNotifications)
}

// checkNotificationsAfterBlockAndMute: carol blocks me, so her mention is about a
// status I may no longer read; a mute with notifications quiets bob's, a mute without
// hides nothing.
func checkNotificationsAfterBlockAndMute(t *testing.T, w notificationWorld) {
	t.Helper()
	ctx := context.Background()
	if err := w.s.Block(ctx, w.carol, w.me.ID); err != nil {
		t.Fatal(err)
	}
	if err := w.s.Mute(ctx, w.me, w.bob.ID, true, 0); err != nil {
		t.Fatal(err)
	}
	tlSame(t, "after block and mute", w.list(t, NotificationQuery{}), []string{"reblog:ann", "mention:ann", "follow:ann"})
	if err := w.s.Mute(ctx, w.me, w.bob.ID, false, 0); err != nil {
		t.Fatal(err)
	}
	tlSame(t, "mute without notifications", w.list(t, NotificationQuery{}),
		[]string{"mention:bob", "reblog:ann", "favourite:bob", "mention:ann", "follow:ann"})
}

// checkOneNotificationAndUnread reads one notification (someone else's is not found)
// and counts the unread ones until a marker says otherwise. It returns my
// notifications.
func checkOneNotificationAndUnread(t *testing.T, w notificationWorld) []NotificationItem {
	t.Helper()
	ctx := context.Background()
	s, me := w.s, w.me
	items, _ := s.Notifications(ctx, me, NotificationQuery{Page: Page{Limit: 40}})
	one, err := s.Notification(ctx, me, items[0].ID)
	if err != nil || one.ID != items[0].ID || one.From == nil {
		t.Fatalf("notification %d: %+v, %v", items[0].ID, one, err)
	}
	if _, err := s.Notification(ctx, w.ann, items[0].ID); KindOf(err) != KindNotFound {
		t.Errorf("someone else's notification: err = %v, want not found", err)
	}

	n, err := s.UnreadNotifications(ctx, me, NotificationQuery{}, 100)
	if err != nil || n != 6 {
		t.Errorf("unread = %d, %v; want 6 (the count does not check visibility)", n, err)
	}
	if _, err := s.SaveMarker(ctx, me.ID, MarkerNotifications, items[2].ID); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.UnreadNotifications(ctx, me, NotificationQuery{}, 100); n != 3 {
		t.Errorf("unread after marker = %d, want 3", n)
	}
	if n, _ := s.UnreadNotifications(ctx, me, NotificationQuery{}, 1); n != 1 {
		t.Errorf("unread with limit 1 = %d, want 1", n)
	}
	return items
}

// checkDismissAndClear dismisses one notification, then clears the rest; nobody
// else's are touched.
func checkDismissAndClear(t *testing.T, w notificationWorld, items []NotificationItem) {
	t.Helper()
	ctx := context.Background()
	s, me, ann := w.s, w.me, w.ann
	if err := s.DismissNotification(ctx, ann, items[0].ID); KindOf(err) != KindNotFound {
		t.Errorf("dismissing someone else's notification: err = %v, want not found", err)
	}
	if err := s.DismissNotification(ctx, me, items[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Notification(ctx, me, items[0].ID); KindOf(err) != KindNotFound {
		t.Errorf("dismissed notification: err = %v, want not found", err)
	}
	if err := s.DismissNotification(ctx, me, items[0].ID); KindOf(err) != KindNotFound {
		t.Errorf("dismissing twice: err = %v, want not found", err)
	}
	tlPost(t, s, me, "@ann hi", VisibilityPublic, "", nil)
	if err := s.ClearNotifications(ctx, me); err != nil {
		t.Fatal(err)
	}
	if got := w.list(t, NotificationQuery{}); len(got) != 0 {
		t.Errorf("after clear: %q", got)
	}
	annItems, _ := s.Notifications(ctx, ann, NotificationQuery{Page: Page{Limit: 40}})
	if !slices.Contains(ntTypes(annItems), "mention:me") {
		t.Errorf("clearing my notifications cleared ann's: %q", ntTypes(annItems))
	}
}
