package community

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
)

func TestCountableLength(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("p", 80)
	tests := []struct {
		name string
		text string
		want int
	}{
		{"empty", "", 0},
		{"plain", "hello", 5},
		{"runes not bytes", "héllo wörld", 11},
		{"short link counts as 23", "see https://a.io", 4 + 23},
		{"long link counts as 23", "see " + long, 4 + 23},
		{"same link twice", long + " " + long, 23 + 1 + 23},
		{"link that starts another", "https://a.io https://a.io/longer/path", 23 + 1 + 23},
		{"local mention counts whole", "@bob hi", 7},
		{"remote mention counts its username", "@bob@sales.example.com hi", 7},
		{"remote mention with port", "@bob@sales.example.com:8443 hi", 7},
		{"remote mention in other case", "@Bob@Sales.Example.com hi", 7},
		{"not a mention", "mail bob@sales.example.com", 26},
		{"hashtag counts whole", "#golang", 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := countableLength(tc.text); got != tc.want {
				t.Errorf("countableLength(%q) = %d, want %d", tc.text, got, tc.want)
			}
		})
	}
}

func TestValidateStatusText(t *testing.T) {
	url := "https://example.com/" + strings.Repeat("x", 200)
	tests := []struct {
		name, text, spoiler string
		ok                  bool
	}{
		{"blank", " \n\t ", "", false},
		{"only a warning", "", "cw", false},
		{"exactly the limit", strings.Repeat("a", MaxStatusChars), "", true},
		{"one over", strings.Repeat("a", MaxStatusChars+1), "", false},
		{"warning counts", strings.Repeat("a", MaxStatusChars-2), "abc", false},
		{"links are cheap", strings.Repeat("a", MaxStatusChars-24) + " " + url, "", true},
		{"links still count", strings.Repeat("a", MaxStatusChars-23) + " " + url, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := validateStatusText(tc.text, tc.spoiler, false)
			if (err == nil) != tc.ok {
				t.Fatalf("validateStatusText = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && KindOf(err) != KindInvalid {
				t.Errorf("error kind = %v, want KindInvalid", KindOf(err))
			}
		})
	}
}

func TestTagNamesOf(t *testing.T) {
	got := tagNamesOf("#Go and #go and #Rust, not C# nor #1")
	if strings.Join(got, ",") != "go,rust" {
		t.Errorf("tagNamesOf = %v, want [go rust]", got)
	}
}

func TestConcurrentPostsShareNewTags(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		s := testService(db)
		ctx := context.Background()
		authors := []*Account{storeAccount(t, s, "a1"), storeAccount(t, s, "a2"), storeAccount(t, s, "a3"), storeAccount(t, s, "a4")}
		var wg sync.WaitGroup
		errs := make(chan error, len(authors))
		for i, a := range authors {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.CreateStatus(ctx, a, nil, NewStatus{Text: fmt.Sprintf("post %d about #NewTopic and #other", i)})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("create status: %v", err)
			}
		}
		var tags []Tag
		if err := s.db.Order("name").Find(&tags).Error; err != nil {
			t.Fatal(err)
		}
		if len(tags) != 2 || tags[0].Name != "newtopic" || tags[1].Name != "other" {
			t.Fatalf("tags = %+v, want exactly newtopic and other", tags)
		}
		var links int64
		s.db.Model(&StatusTag{}).Where("tag_id = ?", tags[0].ID).Count(&links)
		if links != int64(len(authors)) {
			t.Errorf("statuses tagged newtopic = %d, want %d", links, len(authors))
		}
		for _, a := range authors {
			got, _ := s.accountByID(ctx, a.ID)
			if got.StatusesCount != 1 || got.LastStatusAt == nil {
				t.Errorf("%s: statuses_count=%d last_status_at=%v, want 1 and set", a.Username, got.StatusesCount, got.LastStatusAt)
			}
		}
	})
}

func TestIdempotencyKeyConcurrent(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		s := testService(db)
		ctx := context.Background()
		a := storeAccount(t, s, "ida")
		const n = 6
		ids := make(chan int64, n)
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, err := s.CreateStatus(ctx, a, nil, NewStatus{Text: "only once", IdempotencyKey: "k-1"})
				if err != nil {
					errs <- err
					return
				}
				ids <- st.ID
			}()
		}
		wg.Wait()
		close(ids)
		close(errs)
		for err := range errs {
			// Two PostgreSQL transactions can both miss the key and race on its
			// primary key; the loser then reports the winner's status, never a second one.
			t.Errorf("create: %v", err)
		}
		distinct := map[int64]bool{}
		for id := range ids {
			distinct[id] = true
		}
		var count int64
		s.db.Model(&Status{}).Where("account_id = ?", a.ID).Count(&count)
		if len(distinct) != 1 || count != 1 {
			t.Errorf("got %d distinct statuses and %d rows, want 1 and 1", len(distinct), count)
		}

		// After the window the key may be reused.
		s.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		st, err := s.CreateStatus(ctx, a, nil, NewStatus{Text: "only once", IdempotencyKey: "k-1"})
		if err != nil {
			t.Fatal(err)
		}
		if distinct[st.ID] {
			t.Errorf("a key older than an hour still returned the first status")
		}
	})
}

func TestStatusContextOrderAndHiddenReplies(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		s := testService(db)
		ctx := context.Background()
		op, friend, stranger := storeAccount(t, s, "op"), storeAccount(t, s, "friend"), storeAccount(t, s, "stranger")
		post := func(a *Account, text string, parent *Status, vis Visibility) *Status {
			t.Helper()
			in := NewStatus{Text: text, Audience: AudienceRequest{Visibility: vis}}
			if parent != nil {
				in.InReplyToID = &parent.ID
			}
			st, err := s.CreateStatus(ctx, a, nil, in)
			if err != nil {
				t.Fatalf("post %q: %v", text, err)
			}
			return st
		}
		// op follows friend, so op may answer friend's followers-only reply; stranger
		// follows op, so stranger reads op's answer but not what it answers.
		now := s.clock()
		for _, f := range []Follow{
			{ID: NewID(), AccountID: op.ID, TargetAccountID: friend.ID, CreatedAt: now},
			{ID: NewID(), AccountID: stranger.ID, TargetAccountID: op.ID, CreatedAt: now},
		} {
			if err := s.db.Create(&f).Error; err != nil {
				t.Fatal(err)
			}
		}
		root := post(op, "root", nil, VisibilityPublic)
		r1 := post(friend, "r1", root, VisibilityPublic)
		r2 := post(op, "r2", root, VisibilityPublic)
		hidden := post(friend, "hidden", r1, VisibilityPrivate)
		under := post(op, "under hidden", hidden, VisibilityPublic)
		if under.Visibility != VisibilityPrivate {
			t.Errorf("reply to a private status: visibility %s, want private (replies never widen)", under.Visibility)
		}
		r11 := post(op, "r1.1", r1, VisibilityPublic)

		names := func(list []Status) string {
			var out []string
			for _, st := range list {
				out = append(out, st.Text)
			}
			return strings.Join(out, ",")
		}
		_, desc, err := s.StatusContext(ctx, AsAccount(friend), root.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := names(desc), "r1,hidden,r1.1,r2"; got != want {
			t.Errorf("descendants for friend = %s, want %s", got, want)
		}
		_, desc, err = s.StatusContext(ctx, AsAccount(stranger), root.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := names(desc), "r1,under hidden,r1.1,r2"; got != want {
			t.Errorf("descendants for stranger = %s, want %s (a hidden reply hides only itself)", got, want)
		}
		anc, _, err := s.StatusContext(ctx, AsAccount(stranger), under.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := names(anc), "root,r1"; got != want {
			t.Errorf("ancestors for a stranger = %s, want %s", got, want)
		}
		_, _ = r2, r11
		// Only public and unlisted replies count, as on Mastodon.
		got, _ := s.GetStatus(ctx, Anonymous, r1.ID)
		if got != nil {
			t.Errorf("company-scope status visible logged out")
		}
		r1Now, _ := s.loadStatusRow(s.db, r1.ID)
		if r1Now.RepliesCount != 1 {
			t.Errorf("r1 replies_count = %d, want 1 (the private reply does not count)", r1Now.RepliesCount)
		}
	})
}
