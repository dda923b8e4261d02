package community

import (
	"context"
	"slices"
	"testing"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/store/storetest"
)

func TestNormalizeExpertise(t *testing.T) {
	got, err := NormalizeExpertise([]string{" Kubernetes ", "", "kubernetes", "site   reliability", "Go"})
	if err != nil || !slices.Equal(got, Topics{"Kubernetes", "site reliability", "Go"}) {
		t.Errorf("NormalizeExpertise = %q, %v", got, err)
	}
	many := make([]string, MaxExpertise+1)
	for i := range many {
		many[i] = string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	for name, in := range map[string][]string{
		"too many":      many,
		"too long":      {string(make([]rune, MaxExpertiseRunes+1))},
		"control chars": {"a\x00b"},
	} {
		if _, err := NormalizeExpertise(in); KindOf(err) != KindInvalid {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}

// TestRemoteExpertise: a peer's profile brings the expertise and featured hashtags it
// states; a profile that did not change is not written again; a profile without them
// (other software) leaves the stored ones alone.
func TestRemoteExpertise(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		var events []Event
		bus := &Bus{}
		bus.Subscribe(func(_ context.Context, e Event) { events = append(events, e) })
		s := NewService(db, Options{Host: "sales.example", BaseURL: "https://sales.example", Events: bus})
		in := RemoteAccount{URI: "https://hq.example/users/kate", Username: "kate", Domain: "hq.example",
			InboxURL: "https://hq.example/users/kate/inbox", Discoverable: true, PublicKeyPEM: "KEY",
			Expertise: []string{"Kubernetes", " kubernetes", "SRE"}, FeaturedTags: []string{"#Kubernetes", "not a tag!", "sre"}}
		a, err := s.UpsertRemoteAccount(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		names, err := s.FeaturedTagNames(ctx, []int64{a.ID})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.Expertise, Topics{"Kubernetes", "SRE"}) || !slices.Equal(names[a.ID], []string{"kubernetes", "sre"}) {
			t.Errorf("stored expertise %q, featured %q", a.Expertise, names[a.ID])
		}
		events = nil
		if _, err := s.UpsertRemoteAccount(ctx, in); err != nil {
			t.Fatal(err)
		}
		if len(events) != 0 {
			t.Errorf("an unchanged profile was written again: %v", events)
		}
		// Listed without key, expertise or hashtags: those stay.
		in.PublicKeyPEM, in.Expertise, in.FeaturedTags, in.DisplayName = "", nil, nil, "Kate"
		b, err := s.UpsertRemoteAccount(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		names, _ = s.FeaturedTagNames(ctx, []int64{a.ID})
		if b.PublicKeyPEM != "KEY" || len(b.Expertise) != 2 || len(names[a.ID]) != 2 || b.DisplayName != "Kate" {
			t.Errorf("after a partial profile: key %q expertise %q featured %q name %q", b.PublicKeyPEM, b.Expertise, names[a.ID], b.DisplayName)
		}
		if len(events) != 1 {
			t.Errorf("a changed profile: %d events, want 1", len(events))
		}
		// Stated empty: cleared.
		in.Expertise, in.FeaturedTags = []string{}, []string{}
		c, err := s.UpsertRemoteAccount(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		names, _ = s.FeaturedTagNames(ctx, []int64{a.ID})
		if len(c.Expertise) != 0 || len(names[a.ID]) != 0 {
			t.Errorf("cleared: expertise %q featured %q", c.Expertise, names[a.ID])
		}
		// Deleting the account says so.
		events = nil
		if err := s.DeleteRemoteAccount(ctx, c); err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].eventName() != "account.deleted" {
			t.Errorf("delete: %v", events)
		}
	})
}

// TestReadableScopesAgreesWithTheRule: the scopes search prefilters with are exactly
// those scopeAdmits lets each kind of viewer read.
func TestReadableScopesAgreesWithTheRule(t *testing.T) {
	s := NewService(nil, Options{Host: "sales.example", Peers: func(h string) bool { return h == "hq.example" }})
	viewers := map[string]Viewer{
		"anonymous":     Anonymous,
		"local":         AsAccount(&Account{ID: 1}),
		"peer account":  AsAccount(&Account{ID: 2, Domain: "hq.example"}),
		"other account": AsAccount(&Account{ID: 3, Domain: "elsewhere.example"}),
		"peer server":   {Server: "hq.example"},
		"other server":  {Server: "elsewhere.example"},
	}
	for name, v := range viewers {
		readable := s.ReadableScopes(v)
		for _, sc := range []Scope{ScopeWorld, ScopeCompany, ScopeDepartment} {
			st := &Status{Scope: sc, Local: true}
			if got, want := slices.Contains(readable, sc), s.scopeAdmits(v, st); got != want {
				t.Errorf("%s, %s: ReadableScopes %v, scopeAdmits %v", name, sc, got, want)
			}
		}
	}
}

// TestDirectoryAndSearchableAccounts: the directory lists discoverable accounts, never
// those blocking the viewer; searchable accounts leave blockers out and, with
// following, keep only followed accounts.
func TestDirectoryAndSearchableAccounts(t *testing.T) {
	relEach(t, func(t *testing.T, s *Service, db *gorm.DB) {
		ctx := context.Background()
		me := storeAccount(t, s, "me")
		friend := storeAccount(t, s, "friend")
		blocker := storeAccount(t, s, "blocker")
		remote := storeAccount(t, s, "far", remoteAt("hq.example"))
		shy := storeAccount(t, s, "shy")
		if err := db.Model(&Account{}).Where("id = ?", shy.ID).Update("discoverable", false).Error; err != nil {
			t.Fatal(err)
		}
		if err := s.Follow(ctx, me, friend.ID, FollowOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := s.Block(ctx, blocker, me.ID); err != nil {
			t.Fatal(err)
		}
		list := func(q DirectoryQuery) []string {
			t.Helper()
			q.Limit = 10
			got, err := s.Directory(ctx, AsAccount(me), q)
			if err != nil {
				t.Fatal(err)
			}
			out := []string{}
			for _, a := range got {
				out = append(out, a.Acct())
			}
			slices.Sort(out)
			return out
		}
		if got := list(DirectoryQuery{}); !slices.Equal(got, []string{"far@hq.example", "friend", "me"}) {
			t.Errorf("directory: %v", got)
		}
		if got := list(DirectoryQuery{Local: true, Order: "new"}); !slices.Equal(got, []string{"friend", "me"}) {
			t.Errorf("local directory: %v", got)
		}
		if _, err := s.Directory(ctx, Anonymous, DirectoryQuery{Order: "sideways", Limit: 1}); KindOf(err) != KindInvalid {
			t.Errorf("bad order: %v", err)
		}
		ids := []int64{blocker.ID, friend.ID, remote.ID, 999}
		got, err := s.SearchableAccounts(ctx, AsAccount(me), ids, false)
		if err != nil || len(got) != 2 || got[0].ID != friend.ID || got[1].ID != remote.ID {
			t.Errorf("searchable: %v %v", got, err)
		}
		got, err = s.SearchableAccounts(ctx, AsAccount(me), ids, true)
		if err != nil || len(got) != 1 || got[0].ID != friend.ID {
			t.Errorf("searchable, following: %v %v", got, err)
		}
		if got, _ := s.SearchableAccounts(ctx, Anonymous, ids, true); len(got) != 0 {
			t.Errorf("following while logged out: %v", got)
		}
	})
}
