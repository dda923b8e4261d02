package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// TestSearchFinalAudienceCheck covers what the search index's prefilter lets through
// and only the domain's final check (FilterVisible) stops: followers-only posts of
// strangers for a viewer who follows more accounts than the prefilter names, and posts
// of suspended authors, which the index does not know about. Each has its positive
// control: a followers-only post of someone the viewer follows, and a public post.
func TestSearchFinalAudienceCheck(t *testing.T) {
	t.Parallel()
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		admin := inst.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin,
			Scopes: []string{"read", "write", "admin:read", "admin:write"}})
		reader := inst.CreateUser(t, "reader", instancetest.UserOptions{})
		stranger := inst.CreateUser(t, "stranger", instancetest.UserOptions{})
		suspended := inst.CreateUser(t, "suspended", instancetest.UserOptions{})
		// More follows than the prefilter names (search's maxFollowTerms is 32).
		var friend *instancetest.User
		for i := range 34 {
			u := inst.CreateUser(t, fmt.Sprintf("friend%02d", i), instancetest.UserOptions{})
			if err := inst.Community.Follow(ctx, reader.Account, u.Account.ID, community.FollowOptions{}); err != nil {
				t.Fatal(err)
			}
			friend = u
		}
		post := func(u *instancetest.User, text, vis string) string {
			return inst.PostStatus(t, u.Token, url.Values{"status": {text}, "visibility": {vis}}).ID
		}
		friendsPrivate := post(friend, "quokka notes for my followers", "private")
		strangerPublic := post(stranger, "quokka notes for everyone", "public")
		post(stranger, "quokka notes for my followers only", "private")
		strangerWombat := post(stranger, "wombat facts", "public")
		post(suspended, "wombat secrets", "public")
		if a := inst.Call(t, http.MethodPost, "/api/v1/admin/accounts/"+community.FormatID(suspended.Account.ID)+"/action",
			admin.Token, url.Values{"type": {"suspend"}}); a.Code != http.StatusOK {
			t.Fatalf("suspend: %d %s", a.Code, a.Body)
		}
		inst.SyncSearch(t)

		for _, c := range []struct {
			q    string
			want []string
		}{
			{"quokka", []string{friendsPrivate, strangerPublic}},
			{"wombat", []string{strangerWombat}},
		} {
			r := swMust(t, inst, reader.Token, url.Values{"q": {c.q}, "type": {"statuses"}})
			var got []string
			for _, st := range r.Statuses {
				got = append(got, st.ID)
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(c.want))
			if !slices.Equal(got, want) {
				t.Errorf("search %q: %v, want %v", c.q, got, want)
			}
		}
	})
}
