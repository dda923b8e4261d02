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

func TestNotifications(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := salesService(db)
		ctx := context.Background()
		me := storeAccount(t, s, "me")
		ann := storeAccount(t, s, "ann")
		bob := storeAccount(t, s, "bob")
		carol := storeAccount(t, s, "carol")

		mine := tlPost(t, s, me, "mine", VisibilityPublic, "", nil)
		tlFollow(t, s, ann, me, true)                             // follow:ann
		tlPost(t, s, ann, "@me hello", VisibilityPublic, "", nil) // mention:ann
		if _, err := s.Favourite(ctx, bob, mine.ID); err != nil { // favourite:bob
			t.Fatal(err)
		}
		if _, err := s.Reblog(ctx, ann, mine.ID, ""); err != nil { // reblog:ann
			t.Fatal(err)
		}
		hidden := tlPost(t, s, carol, "@me soon hidden", VisibilityPublic, "", nil) // mention:carol
		_ = hidden
		tlPost(t, s, bob, "@me from bob", VisibilityDirect, "", nil) // mention:bob

		list := func(q NotificationQuery) []string {
			t.Helper()
			q.Page.Limit = 40
			items, err := s.Notifications(ctx, me, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				if it.Type.hasStatus() && it.Status == nil {
					t.Errorf("%s notification without its status", it.Type)
				}
				if it.Type == NotifyReblog && (it.Status == nil || it.Status.ID != mine.ID) {
					t.Errorf("reblog notification shows %+v, want the reblogged status", it.Status)
				}
			}
			return ntTypes(items)
		}
		all := []string{"mention:bob", "mention:carol", "reblog:ann", "favourite:bob", "mention:ann", "follow:ann"}
		tlSame(t, "all", list(NotificationQuery{}), all)
		tlSame(t, "types", list(NotificationQuery{Types: []NotificationType{NotifyMention, NotifyFollow}}),
			[]string{"mention:bob", "mention:carol", "mention:ann", "follow:ann"})
		tlSame(t, "exclude_types", list(NotificationQuery{ExcludeTypes: []NotificationType{NotifyMention}}),
			[]string{"reblog:ann", "favourite:bob", "follow:ann"})
		tlSame(t, "account_id", list(NotificationQuery{AccountID: ann.ID}), []string{"reblog:ann", "mention:ann", "follow:ann"})
		tlSame(t, "unknown type", list(NotificationQuery{Types: []NotificationType{"poll"}}), []string{})

		// Paging by notification id, two at a time, newest first.
		var got []string
		p := Page{Limit: 2}
		for range 5 {
			items, err := s.Notifications(ctx, me, NotificationQuery{Page: p})
			if err != nil {
				t.Fatal(err)
			}
			if len(items) == 0 {
				break
			}
			got = append(got, ntTypes(items)...)
			p.MaxID = items[len(items)-1].ID
		}
		tlSame(t, "paged", got, all)

		// carol now blocks me: her mention is about a status I may no longer read.
		if err := s.Block(ctx, carol, me.ID); err != nil {
			t.Fatal(err)
		}
		// I mute bob with notifications: his notifications go quiet.
		if err := s.Mute(ctx, me, bob.ID, true, 0); err != nil {
			t.Fatal(err)
		}
		tlSame(t, "after block and mute", list(NotificationQuery{}), []string{"reblog:ann", "mention:ann", "follow:ann"})
		// A mute that keeps notifications hides nothing here.
		if err := s.Mute(ctx, me, bob.ID, false, 0); err != nil {
			t.Fatal(err)
		}
		tlSame(t, "mute without notifications", list(NotificationQuery{}),
			[]string{"mention:bob", "reblog:ann", "favourite:bob", "mention:ann", "follow:ann"})

		// One notification; someone else's is not found.
		items, _ := s.Notifications(ctx, me, NotificationQuery{Page: Page{Limit: 40}})
		one, err := s.Notification(ctx, me, items[0].ID)
		if err != nil || one.ID != items[0].ID || one.From == nil {
			t.Fatalf("notification %d: %+v, %v", items[0].ID, one, err)
		}
		if _, err := s.Notification(ctx, ann, items[0].ID); KindOf(err) != KindNotFound {
			t.Errorf("someone else's notification: err = %v, want not found", err)
		}

		// Unread: everything until a marker says otherwise.
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

		// Dismiss one, then clear the rest; nobody else's are touched.
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
		if got := list(NotificationQuery{}); len(got) != 0 {
			t.Errorf("after clear: %q", got)
		}
		annItems, _ := s.Notifications(ctx, ann, NotificationQuery{Page: Page{Limit: 40}})
		if !slices.Contains(ntTypes(annItems), "mention:me") {
			t.Errorf("clearing my notifications cleared ann's: %q", ntTypes(annItems))
		}
	})
}
