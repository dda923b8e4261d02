package community

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/store/storetest"
)

func TestUpsertRemoteAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		s := salesService(db)
		in := RemoteAccount{
			URI: "https://hq.example/users/bob", Username: "bob", Domain: "hq.example",
			DisplayName: "Bob", NoteHTML: `<p>Hi <script>alert(1)</script><a href="javascript:x()">x</a></p>`,
			Fields:    []Field{{Name: "Team", Value: `<b onclick="x()">Platform</b>`}},
			AvatarURL: "javascript:alert(1)", Discoverable: true,
		}
		a, err := s.UpsertRemoteAccount(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(a.Note, "script") || strings.Contains(a.Note, "javascript") {
			t.Errorf("note not sanitized: %q", a.Note)
		}
		if strings.Contains(a.Fields[0].Value, "onclick") {
			t.Errorf("field not sanitized: %q", a.Fields[0].Value)
		}
		if a.AvatarURL != "" {
			t.Errorf("avatar kept a javascript: URL: %q", a.AvatarURL)
		}
		if a.Acct() != "bob@hq.example" || a.IsLocal() {
			t.Errorf("acct = %q, local = %v", a.Acct(), a.IsLocal())
		}

		// A profile update refreshes the same row.
		in.DisplayName, in.Locked = "Robert", true
		b, err := s.UpsertRemoteAccount(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if b.ID != a.ID || b.DisplayName != "Robert" || !b.Locked {
			t.Errorf("update: id %d→%d, name %q, locked %v", a.ID, b.ID, b.DisplayName, b.Locked)
		}

		for name, bad := range map[string]RemoteAccount{
			"id on another host": {URI: "https://evil.example/users/bob", Username: "bob", Domain: "hq.example"},
			"our own domain":     {URI: "https://sales.example/users/eve", Username: "eve", Domain: "sales.example"},
			"relative id":        {URI: "/users/bob", Username: "bob", Domain: "hq.example"},
			"bad username":       {URI: "https://hq.example/users/x", Username: "x@y", Domain: "hq.example"},
		} {
			if _, err := s.UpsertRemoteAccount(ctx, bad); err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
	})
}

func TestReceiveStatus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		s := salesService(db)
		me := storeAccount(t, s, "me")
		other := storeAccount(t, s, "other")
		bob := storeAccount(t, s, "bob", remoteAt("hq.example"), received())
		stranger := storeAccount(t, s, "eve", remoteAt("elsewhere.example"), received())

		published := time.Now().Add(-time.Hour).UTC()
		st, err := s.ReceiveStatus(ctx, RemoteStatus{
			URI: "https://hq.example/users/bob/statuses/1", AuthorID: bob.ID,
			ContentHTML: `<p>Hello <span class="h-card"><a href="https://sales.example/@me" class="u-url mention">@<span>me</span></a></span> #Kubernetes<script>x</script></p>`,
			Visibility:  VisibilityPrivate, Scope: ScopeCompany,
			MentionURIs: []string{me.URI}, Tags: []string{"Kubernetes"}, Published: published,
		})
		if err != nil {
			t.Fatal(err)
		}
		if st.Local || strings.Contains(st.Content, "script") || !TimeOf(st.ID).Before(time.Now().Add(-30*time.Minute)) {
			t.Errorf("stored: local %v, content %q, id time %v", st.Local, st.Content, TimeOf(st.ID))
		}
		// Followers-only: the mentioned local account reads it, the other does not.
		if ok, err := s.CanSee(ctx, AsAccount(me), st); err != nil || !ok {
			t.Errorf("mentioned account cannot read the private remote status: %v", err)
		}
		if ok, err := s.CanSee(ctx, AsAccount(other), st); err != nil || ok {
			t.Errorf("unrelated local account reads a private remote status (err %v)", err)
		}
		var n int64
		db.Model(&Notification{}).Where("account_id = ? AND type = ?", me.ID, NotifyMention).Count(&n)
		if n != 1 {
			t.Errorf("mention notifications = %d, want 1", n)
		}

		// The same URI again is an edit, recorded in the history; a different author
		// may not touch it.
		if _, err := s.ReceiveStatus(ctx, RemoteStatus{URI: st.URI, AuthorID: bob.ID, ContentHTML: "<p>Edited</p>",
			Visibility: VisibilityPublic, Scope: ScopeWorld, Edited: time.Now()}); err != nil {
			t.Fatal(err)
		}
		edited, _ := s.statusByURI(ctx, st.URI)
		if edited.Content != "<p>Edited</p>" || edited.EditedAt == nil || edited.Visibility != VisibilityPrivate {
			t.Errorf("after edit: content %q, edited_at %v, visibility %s (an edit must not widen)", edited.Content, edited.EditedAt, edited.Visibility)
		}
		if _, err := s.ReceiveStatus(ctx, RemoteStatus{URI: st.URI, AuthorID: stranger.ID, ContentHTML: "x",
			Visibility: VisibilityPublic, Scope: ScopeWorld}); err == nil {
			t.Error("another account edited bob's status")
		}

		// A non-peer cannot send company posts; nobody sends department posts.
		if _, err := s.ReceiveStatus(ctx, RemoteStatus{URI: "https://elsewhere.example/users/eve/statuses/2", AuthorID: stranger.ID,
			ContentHTML: "x", Visibility: VisibilityPublic, Scope: ScopeCompany}); KindOf(err) != KindForbidden {
			t.Errorf("company post from a non-peer: err = %v", err)
		}
		if _, err := s.ReceiveStatus(ctx, RemoteStatus{URI: "https://hq.example/users/bob/statuses/3", AuthorID: bob.ID,
			ContentHTML: "x", Visibility: VisibilityPublic, Scope: ScopeDepartment}); err == nil {
			t.Error("department post accepted from another instance")
		}
		// A status id on another host than its author's is refused.
		if _, err := s.ReceiveStatus(ctx, RemoteStatus{URI: "https://elsewhere.example/statuses/4", AuthorID: bob.ID,
			ContentHTML: "x", Visibility: VisibilityPublic, Scope: ScopeWorld}); KindOf(err) != KindForbidden {
			t.Errorf("status on a foreign host: err = %v", err)
		}

		// A remote reply to a local company post cannot widen it to world.
		mine := tlPost(t, s, me, "company post", VisibilityPublic, ScopeCompany, nil)
		reply, err := s.ReceiveStatus(ctx, RemoteStatus{URI: "https://hq.example/users/bob/statuses/5", AuthorID: bob.ID,
			ContentHTML: "<p>reply</p>", Visibility: VisibilityPublic, Scope: ScopeWorld, InReplyToURI: mine.URI})
		if err != nil {
			t.Fatal(err)
		}
		if reply.Scope != ScopeCompany || reply.InReplyToID == nil || *reply.InReplyToID != mine.ID {
			t.Errorf("reply: scope %s, in_reply_to %v", reply.Scope, reply.InReplyToID)
		}

		// Deletes: only the author, and twice is fine.
		if err := s.DeleteRemoteStatus(ctx, stranger, reply.URI); KindOf(err) != KindForbidden {
			t.Errorf("delete by another account: err = %v", err)
		}
		if err := s.DeleteRemoteStatus(ctx, bob, reply.URI); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteRemoteStatus(ctx, bob, reply.URI); err != nil {
			t.Errorf("second delete: %v", err)
		}
		if _, err := s.statusByURI(ctx, reply.URI); KindOf(err) != KindNotFound {
			t.Errorf("deleted status still there: %v", err)
		}
	})
}

func TestRecipients(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		s := salesService(db)
		me := storeAccount(t, s, "me")
		peerFollower := storeAccount(t, s, "bob", remoteAt("hq.example"), received())
		outsideFollower := storeAccount(t, s, "eve", remoteAt("elsewhere.example"), received())
		mentioned := storeAccount(t, s, "carol", remoteAt("hq.example"), received())
		for _, f := range []*Account{peerFollower, outsideFollower} {
			if err := db.Create(&Follow{ID: NewID(), AccountID: f.ID, TargetAccountID: me.ID, ShowReblogs: true, CreatedAt: time.Now()}).Error; err != nil {
				t.Fatal(err)
			}
		}
		cases := []struct {
			vis      Visibility
			scope    Scope
			want     []*Account
			allPeers bool
		}{
			{VisibilityPublic, ScopeWorld, []*Account{peerFollower, outsideFollower, mentioned}, true},
			{VisibilityPublic, ScopeCompany, []*Account{peerFollower, mentioned}, true},
			{VisibilityUnlisted, ScopeCompany, []*Account{peerFollower, mentioned}, false},
			{VisibilityPrivate, ScopeWorld, []*Account{peerFollower, outsideFollower, mentioned}, false},
			{VisibilityPrivate, ScopeCompany, []*Account{peerFollower, mentioned}, false},
			{VisibilityDirect, ScopeCompany, []*Account{mentioned}, false},
			{VisibilityPublic, ScopeDepartment, nil, false},
			{VisibilityDirect, ScopeDepartment, nil, false},
		}
		for _, c := range cases {
			st := tlPost(t, s, me, string(c.vis)+" "+string(c.scope), c.vis, c.scope, nil)
			if err := db.Create(&Mention{ID: NewID(), StatusID: st.ID, AccountID: mentioned.ID}).Error; err != nil {
				t.Fatal(err)
			}
			r, err := s.Recipients(ctx, st)
			if err != nil {
				t.Fatal(err)
			}
			got := map[int64]bool{}
			for _, a := range r.Accounts {
				got[a.ID] = true
			}
			if len(got) != len(c.want) || r.AllPeers != c.allPeers {
				t.Errorf("%s/%s: %d recipients (all peers %v), want %d (all peers %v)", c.vis, c.scope, len(got), r.AllPeers, len(c.want), c.allPeers)
				continue
			}
			for _, w := range c.want {
				if !got[w.ID] {
					t.Errorf("%s/%s: %s is missing", c.vis, c.scope, w.Acct())
				}
			}
		}
	})
}

func TestReceivedActivitiesDropReplays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		s := salesService(db)
		uri := "https://hq.example/activities/1"
		kept := 0
		keep := func(*gorm.DB) error { kept++; return nil }
		for i, want := range []bool{true, false} {
			fresh, err := s.AcceptActivity(ctx, uri, keep)
			if err != nil || fresh != want {
				t.Fatalf("delivery %d: fresh = %v (%v), want %v", i+1, fresh, err, want)
			}
		}
		if kept != 1 {
			t.Errorf("a replay was kept: %d times in all", kept)
		}
		if _, err := s.AcceptActivity(ctx, "https://hq.example/activities/2", func(*gorm.DB) error {
			return errors.New("disk full")
		}); err == nil {
			t.Error("a failure to keep the activity was not reported")
		}
		if fresh, _ := s.AcceptActivity(ctx, "https://hq.example/activities/2", keep); !fresh {
			t.Error("an activity that could not be kept was remembered as received")
		}
		if n, err := s.PruneReceivedActivities(ctx, time.Now().Add(time.Minute)); err != nil || n != 2 {
			t.Fatalf("prune: %d, %v", n, err)
		}
		if fresh, _ := s.AcceptActivity(ctx, uri, keep); !fresh {
			t.Error("a pruned id is still remembered")
		}
	})
}

// TestIDForTimeIsUniqueWithinAMillisecond: posts from a peer often share a published
// millisecond (a burst, a migration); their ids must not collide.
func TestIDForTimeIsUniqueWithinAMillisecond(t *testing.T) {
	at := time.Now().Add(-time.Hour)
	seen := map[int64]bool{}
	for range 10000 {
		id := IDForTime(at)
		if seen[id] {
			t.Fatalf("IDForTime returned %d twice", id)
		}
		seen[id] = true
		if got := TimeOf(id); got.UnixMilli() != at.UnixMilli() {
			t.Fatalf("id %d is placed at %v, want %v", id, got, at)
		}
	}
}

func TestDeleteRemoteAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		s := salesService(db)
		me := storeAccount(t, s, "me")
		bob := storeAccount(t, s, "bob", remoteAt("hq.example"), received())
		tlFollow(t, s, me, bob, true)
		tlFollow(t, s, bob, me, true)
		mine := tlPost(t, s, me, "mine", VisibilityPublic, ScopeCompany, nil)
		if _, err := s.ReceiveStatus(ctx, RemoteStatus{URI: "https://hq.example/users/bob/statuses/1", AuthorID: bob.ID,
			ContentHTML: "<p>reply</p>", Visibility: VisibilityPublic, Scope: ScopeCompany, InReplyToURI: mine.URI}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Favourite(ctx, bob, mine.ID); err != nil {
			t.Fatal(err)
		}
		before, _ := s.accountByID(ctx, me.ID)
		counted, _ := s.statusByID(ctx, mine.ID)
		if before.FollowersCount != 1 || counted.RepliesCount != 1 || counted.FavouritesCount != 1 {
			t.Fatalf("counters before deletion: followers %d, replies %d, favourites %d",
				before.FollowersCount, counted.RepliesCount, counted.FavouritesCount)
		}
		if err := s.DeleteRemoteAccount(ctx, bob); err != nil {
			t.Fatal(err)
		}
		after, _ := s.accountByID(ctx, me.ID)
		st, _ := s.statusByID(ctx, mine.ID)
		if after.FollowersCount != 0 || after.FollowingCount != 0 || st.RepliesCount != 0 || st.FavouritesCount != 0 {
			t.Errorf("counters after deletion: followers %d, following %d, replies %d, favourites %d",
				after.FollowersCount, after.FollowingCount, st.RepliesCount, st.FavouritesCount)
		}
		if _, err := s.statusByURI(ctx, "https://hq.example/users/bob/statuses/1"); KindOf(err) != KindNotFound {
			t.Errorf("bob's status survived his deletion: %v", err)
		}
		if err := s.DeleteRemoteAccount(ctx, me); KindOf(err) != KindForbidden {
			t.Errorf("deleting a local account as remote: err = %v", err)
		}
	})
}

// BenchmarkRecipients finds the other instances' readers of a post whose author has
// 1,000 followers here and 20 on a peer: what federation asks after every post.
func BenchmarkRecipients(b *testing.B) {
	db := storetest.Open(b)
	s := salesService(db)
	ctx := context.Background()
	author := storeAccount(b, s, "author")
	now := s.clock()
	follows := make([]Follow, 0, 1020)
	for i := range 1020 {
		var f *Account
		if i < 1000 {
			f = storeAccount(b, s, fmt.Sprintf("local%d", i))
		} else {
			f = storeAccount(b, s, fmt.Sprintf("remote%d", i), remoteAt("hq.example"))
		}
		follows = append(follows, Follow{ID: NewID(), AccountID: f.ID, TargetAccountID: author.ID, ShowReblogs: true, CreatedAt: now})
	}
	if err := db.CreateInBatches(follows, 200).Error; err != nil {
		b.Fatal(err)
	}
	st := &Status{ID: NewID(), AccountID: author.ID, Visibility: VisibilityPublic, Scope: ScopeCompany, Local: true, CreatedAt: now, UpdatedAt: now}
	b.ResetTimer()
	for b.Loop() {
		r, err := s.Recipients(ctx, st)
		if err != nil || len(r.Accounts) != 20 {
			b.Fatalf("recipients: %d, %v", len(r.Accounts), err)
		}
	}
}
