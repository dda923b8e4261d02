package community

import (
	"context"
	"strings"
	"testing"

	"gorm.io/gorm"
)

func TestNormalizeTagName(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"golang", "golang", true},
		{"#GoLang", "golang", true},
		{"  #snake_case2 ", "snake_case2", true},
		{"日本語", "日本語", true},
		{"Ärger", "ärger", true},
		{"", "", false},
		{"#", "", false},
		{"1234", "", false},
		{"two words", "", false},
		{"dash-ed", "", false},
		{"##double", "", false},
		{"a.b", "", false},
		{strings.Repeat("x", MaxTagLength), strings.Repeat("x", MaxTagLength), true},
		{strings.Repeat("x", MaxTagLength+1), "", false},
	}
	for _, tc := range tests {
		got, err := NormalizeTagName(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("NormalizeTagName(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && KindOf(err) != KindInvalid {
			t.Errorf("NormalizeTagName(%q): error kind %v, want invalid", tc.in, KindOf(err))
		}
	}
}

func TestFeaturedTagStatistics(t *testing.T) {
	t.Parallel()
	relEach(t, func(t *testing.T, s *Service, db *gorm.DB) {
		ctx := context.Background()
		me := storeAccount(t, s, "me")
		other := storeAccount(t, s, "other")
		post := func(author *Account, text string, vis Visibility, sc Scope) {
			t.Helper()
			if _, err := s.CreateStatus(ctx, author, nil, NewStatus{Text: text,
				Audience: AudienceRequest{Visibility: vis, Scope: sc}}); err != nil {
				t.Fatal(err)
			}
		}
		post(me, "#ops one", VisibilityPublic, ScopeWorld)
		post(me, "#ops two", VisibilityUnlisted, ScopeCompany)
		post(me, "#ops hidden", VisibilityPrivate, ScopeCompany)
		post(me, "#ops secret", VisibilityDirect, ScopeCompany)
		post(other, "#ops not mine", VisibilityPublic, ScopeWorld)

		for _, name := range []string{"ops", "unused"} {
			if _, err := s.FeatureTag(ctx, me.ID, name); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			name string
			v    Viewer
			want int64
		}{{"owner", AsAccount(me), 2}, {"colleague", AsAccount(other), 2}, {"logged out", Anonymous, 1}} {
			list, err := s.ListFeaturedTags(ctx, tc.v, me.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 2 || list[0].Name != "ops" || list[0].StatusesCount != tc.want || list[0].LastStatusAt == nil ||
				list[1].Name != "unused" || list[1].StatusesCount != 0 || list[1].LastStatusAt != nil {
				t.Errorf("%s: %+v", tc.name, list)
			}
		}
		if _, err := s.FeatureTag(ctx, me.ID, "#OPS"); KindOf(err) != KindConflict {
			t.Errorf("featuring twice: %v, want conflict", err)
		}
		list, _ := s.ListFeaturedTags(ctx, AsAccount(me), me.ID)
		if err := s.UnfeatureTag(ctx, other.ID, list[0].ID); KindOf(err) != KindNotFound {
			t.Errorf("unfeature someone else's: %v, want not found", err)
		}
		if err := s.UnfeatureTag(ctx, me.ID, list[0].ID); err != nil {
			t.Errorf("unfeature: %v", err)
		}
		sugg, err := s.FeaturedTagSuggestions(ctx, me.ID)
		if err != nil || len(sugg) != 1 || sugg[0].Name != "ops" {
			t.Errorf("suggestions = %+v, %v", sugg, err)
		}
	})
}
