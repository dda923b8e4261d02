package community

import (
	"strings"
	"testing"
	"time"
)

func TestKeywordMatching(t *testing.T) {
	for _, tc := range []struct {
		text, keyword string
		whole, want   bool
	}{
		{"the finale was great", "finale", true, true},
		{"all the finales", "finale", true, false},
		{"all the finales", "finale", false, true},
		{"finale!", "finale", true, true},
		{"semifinale", "finale", true, false},
		{"a café here", "café", true, true},
		{"a cafés here", "café", true, false},
		{"price: #crypto now", "#crypto", true, true}, // starts with a non-word character: no boundary needed before
		{"price:#crypto now", "#crypto", true, true},  // still none needed
		{"x finale_ y", "finale", true, false},        // underscore is a word character
		{"finale finales", "finales", true, true},     // a later occurrence can be whole
		{"semifinale finale", "finale", true, true},   // the first occurrence is not, the second is
		{"deadline", "dead line", true, false},        // phrases match as written
		{"the dead line moved", "dead line", true, true},
		{"", "x", false, false},
	} {
		if got := keywordIn(tc.text, tc.keyword, tc.whole); got != tc.want {
			t.Errorf("keywordIn(%q, %q, whole=%v) = %v, want %v", tc.text, tc.keyword, tc.whole, got, tc.want)
		}
	}
}

func TestFilterSetMatch(t *testing.T) {
	now := time.Now()
	past := now.Add(-time.Minute)
	fs := &FilterSet{owner: 1, filters: []activeFilter{
		{filter: Filter{ID: 10, Action: FilterWarn, Context: FilterContexts{FilterHome}},
			keywords: []FilterKeyword{{Keyword: "Rust", WholeWord: true}, {Keyword: "golang", WholeWord: false}}},
		{filter: Filter{ID: 11, Action: FilterHide, Context: FilterContexts{FilterPublic}, ExpiresAt: &past},
			keywords: []FilterKeyword{{Keyword: "rust"}}},
		{filter: Filter{ID: 12, Action: FilterHide, Context: FilterContexts{FilterThread}}, statuses: map[int64]bool{99: true}},
	}}
	st := &Status{ID: 99, AccountID: 2, Content: "<p>Learning <b>Rust</b> and Golang</p>", SpoilerText: "tech"}
	m := fs.Match(NewFilterTarget(st), now)
	if len(m) != 2 || m[0].Filter.ID != 10 || strings.Join(m[0].Keywords, ",") != "Rust,golang" || m[1].Filter.ID != 12 || m[1].StatusIDs[0] != 99 {
		t.Fatalf("matches = %+v", m)
	}
	if !Hides(m, FilterThread) || Hides(m, FilterHome) || Hides(m, FilterPublic) {
		t.Error("Hides: the hide filter is for threads only (the public one has expired)")
	}
	own := &Status{ID: 99, AccountID: 1, Content: "Rust"}
	if got := fs.Match(NewFilterTarget(own), now); got != nil {
		t.Errorf("own status matched %+v", got)
	}
	var none *FilterSet
	if none.Match(NewFilterTarget(st), now) != nil || !none.Empty() {
		t.Error("a nil filter set matched")
	}
}

// FuzzKeywordIn: whatever people write and filter, matching does not panic; a keyword
// matched as a whole word is also matched as a part, and a part match is a substring.
func FuzzKeywordIn(f *testing.F) {
	for _, seed := range [][2]string{
		{"the finale", "finale"}, {"semifinale", "finale"}, {"café au lait", "café"}, {"#tag!", "#tag"},
		{"\xff\xfe broken utf8", "\xfe"}, {"ǅ title-case", "ǆ"}, {"", ""}, {"aaa", "aa"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, text, keyword string) {
		text, keyword = strings.ToLower(text), strings.ToLower(keyword)
		whole := keywordIn(text, keyword, true)
		part := keywordIn(text, keyword, false)
		if whole && !part {
			t.Fatalf("%q matched %q as a whole word but not as a part", text, keyword)
		}
		if part != (keyword != "" && strings.Contains(text, keyword)) {
			t.Fatalf("part match of %q in %q = %v", keyword, text, part)
		}
	})
}
