package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// aaFixture is one instance with the kinds of account the audience rule tells apart.
type aaFixture struct {
	inst                       *instancetest.Instance
	admin, alice, bob, sam     *instancetest.User
	shy                        *instancetest.User
	deptBoard, worldBoard, cmp string // board account ids
	liked                      string // alice's world post, favourited by bob and sam
}

// aaSetup creates, on inst: alice and bob (colleagues; bob follows alice and sam), sam
// (who follows bob and is then suspended), shy (out of discovery, with a bio saying
// "xylophone", as alice's does), a department, a company and a world board, and a
// world post of alice's that bob and sam favourited.
func aaSetup(t *testing.T, inst *instancetest.Instance) *aaFixture {
	t.Helper()
	ctx := context.Background()
	f := &aaFixture{inst: inst}
	f.admin = inst.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin,
		Scopes: []string{"read", "write", "follow", "admin:read", "admin:write"}})
	f.alice = inst.CreateUser(t, "alice", instancetest.UserOptions{})
	f.bob = inst.CreateUser(t, "bob", instancetest.UserOptions{})
	f.sam = inst.CreateUser(t, "sam", instancetest.UserOptions{})
	f.shy = inst.CreateUser(t, "shy", instancetest.UserOptions{})
	no := false
	bio := "I play the xylophone"
	for _, u := range []struct {
		user *instancetest.User
		in   community.ProfileUpdate
	}{
		{f.alice, community.ProfileUpdate{Note: &bio}},
		{f.shy, community.ProfileUpdate{Note: &bio, Discoverable: &no}},
		{f.sam, community.ProfileUpdate{Note: &bio}},
	} {
		if _, _, err := inst.Community.UpdateProfile(ctx, u.user.Account.ID, u.in); err != nil {
			t.Fatal(err)
		}
	}
	for _, target := range []*instancetest.User{f.alice, f.sam} {
		if _, err := inst.Client(f.bob.Token).AccountFollow(ctx, accID(target.Account)); err != nil {
			t.Fatalf("bob follows %s: %v", target.Account.Username, err)
		}
	}
	for _, follower := range []*instancetest.User{f.alice, f.sam} {
		if _, err := inst.Client(follower.Token).AccountFollow(ctx, accID(f.bob.Account)); err != nil {
			t.Fatalf("%s follows bob: %v", follower.Account.Username, err)
		}
	}
	for _, b := range []struct {
		name, scope string
		id          *string
	}{{"secretboard", "department", &f.deptBoard}, {"openboard", "world", &f.worldBoard}, {"teamboard", "company", &f.cmp}} {
		a := inst.Call(t, http.MethodPost, "/api/v1/tacit/boards", f.admin.Token, url.Values{
			"name": {b.name}, "description": {"About " + b.name}, "scope": {b.scope}})
		var created struct{ ID string }
		if a.Code != http.StatusOK || json.Unmarshal(a.Body, &created) != nil || created.ID == "" {
			t.Fatalf("create board %s: %d %s", b.name, a.Code, a.Body)
		}
		*b.id = created.ID
	}
	f.liked = inst.PostStatus(t, f.alice.Token, url.Values{"status": {"Hello world"}, "scope": {"world"}}).ID
	for _, u := range []*instancetest.User{f.bob, f.sam} {
		if _, err := inst.Client(u.Token).Favourite(ctx, mastodon.ID(f.liked)); err != nil {
			t.Fatalf("%s favourites: %v", u.Account.Username, err)
		}
	}
	a := inst.Call(t, http.MethodPost, "/api/v1/admin/accounts/"+community.FormatID(f.sam.Account.ID)+"/action",
		f.admin.Token, url.Values{"type": {"suspend"}})
	if a.Code != http.StatusOK {
		t.Fatalf("suspend sam: %d %s", a.Code, a.Body)
	}
	inst.SyncSearch(t)
	return f
}

// accts returns the acct of each account in a JSON list of accounts (or suggestions).
func aaAccts(t *testing.T, body []byte) []string {
	t.Helper()
	var list []struct {
		Acct    string
		Account *struct{ Acct string }
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	out := []string{}
	for _, x := range list {
		if x.Account != nil {
			out = append(out, x.Account.Acct)
		} else {
			out = append(out, x.Acct)
		}
	}
	slices.Sort(out)
	return out
}

// TestAccountAudience: in company mode (the default), every client API path that shows
// an account applies one rule: a suspended account is shown nowhere, an account out of
// discovery is found only by its exact username, and logged-out clients are asked to
// log in rather than shown who works here. Each refusal has its positive control.
func TestAccountAudience(t *testing.T) {
	t.Parallel()
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		f := aaSetup(t, inst)
		samID := community.FormatID(f.sam.Account.ID)
		aliceID := community.FormatID(f.alice.Account.ID)
		bobID := community.FormatID(f.bob.Account.ID)
		get := func(token, path string) instancetest.Answer {
			t.Helper()
			return inst.Call(t, http.MethodGet, path, token, nil)
		}
		list := func(token, path string) []string {
			t.Helper()
			a := get(token, path)
			if a.Code != http.StatusOK {
				t.Fatalf("GET %s: %d %s", path, a.Code, a.Body)
			}
			return aaAccts(t, a.Body)
		}

		// Logged out in company mode: every path that shows people or peers asks for a
		// login; with a token, the same requests answer.
		for _, path := range []string{
			"/api/v1/accounts/" + aliceID, "/api/v1/accounts/lookup?acct=alice",
			"/api/v1/accounts/" + aliceID + "/statuses", "/api/v1/accounts/" + bobID + "/followers",
			"/api/v1/accounts/" + bobID + "/following", "/api/v1/accounts/" + aliceID + "/featured_tags",
			"/api/v1/accounts/" + aliceID + "/endorsements", "/api/v1/directory", "/api/v2/search?q=alice",
			"/api/v1/instance/peers", "/api/v1/accounts/" + f.worldBoard,
		} {
			if a := get("", path); a.Code != http.StatusUnauthorized {
				t.Errorf("logged-out GET %s = %d %s, want 401", path, a.Code, a.Body)
			}
			if a := get(f.bob.Token, path); a.Code != http.StatusOK {
				t.Errorf("GET %s as bob = %d %s, want 200", path, a.Code, a.Body)
			}
		}
		// Boards are accounts too: a stranger sees none of them, even a world board.
		if got := list("", "/api/v1/tacit/boards"); len(got) != 0 {
			t.Errorf("boards listed to a logged-out visitor in company mode: %v", got)
		}
		if got := list(f.bob.Token, "/api/v1/tacit/boards"); len(got) != 3 {
			t.Errorf("boards listed to bob: %v, want all three", got)
		}

		// A suspended account: not shown, looked up, listed, searched or suggested;
		// a colleague is, by the same requests.
		for _, path := range []string{"/api/v1/accounts/" + samID, "/api/v1/accounts/lookup?acct=sam",
			"/api/v1/accounts/" + samID + "/statuses", "/api/v1/accounts/" + samID + "/followers",
			"/api/v1/accounts/" + samID + "/following", "/api/v1/accounts/" + samID + "/featured_tags"} {
			if a := get(f.bob.Token, path); a.Code != http.StatusNotFound {
				t.Errorf("GET %s as bob = %d %s, want 404 for a suspended account", path, a.Code, a.Body)
			}
		}
		if a := get(f.bob.Token, "/api/v1/accounts/lookup?acct=alice"); a.Code != http.StatusOK {
			t.Errorf("lookup of alice: %d %s", a.Code, a.Body)
		}
		if got, want := list(f.bob.Token, "/api/v1/directory?local=true"), []string{"admin", "alice", "bob"}; !slices.Equal(got, want) {
			t.Errorf("directory: %v, want %v (not the suspended sam, nor shy)", got, want)
		}
		if got, want := list(f.alice.Token, "/api/v1/accounts/"+bobID+"/followers"), []string{"alice"}; !slices.Equal(got, want) {
			t.Errorf("bob's followers: %v, want %v", got, want)
		}
		if got, want := list(f.alice.Token, "/api/v1/accounts/"+bobID+"/following"), []string{"alice"}; !slices.Equal(got, want) {
			t.Errorf("bob's follows: %v, want %v", got, want)
		}
		// Who favourited a world post: colleagues see bob but not the suspended sam; a
		// logged-out visitor reads the post but learns nobody's name from it.
		favs := "/api/v1/statuses/" + f.liked + "/favourited_by"
		if got := list(f.alice.Token, favs); !slices.Equal(got, []string{"bob"}) {
			t.Errorf("favourited by, for alice: %v, want bob only", got)
		}
		if a := get("", "/api/v1/statuses/"+f.liked); a.Code != http.StatusOK {
			t.Errorf("logged-out read of a world post: %d %s", a.Code, a.Body)
		}
		if got := list("", favs); len(got) != 0 {
			t.Errorf("favourited by, logged out in company mode: %v, want nobody", got)
		}
		if got := list(f.admin.Token, "/api/v2/suggestions"); !slices.Contains(got, "bob") || slices.Contains(got, "sam") {
			t.Errorf("suggestions for the admin: %v, want bob and never the suspended sam", got)
		}
		for _, q := range []string{"sam", "xylophone"} {
			got := list(f.bob.Token, "/api/v1/accounts/search?"+url.Values{"q": {q}}.Encode())
			if slices.Contains(got, "sam") {
				t.Errorf("search %q finds the suspended account: %v", q, got)
			}
		}

		// Out of discovery: found by exact username only, never by words of the bio;
		// alice, with the same bio, is found by it.
		if got := list(f.bob.Token, "/api/v1/accounts/search?q=xylophone"); !slices.Equal(got, []string{"alice"}) {
			t.Errorf("search by bio: %v, want alice only", got)
		}
		if got := list(f.bob.Token, "/api/v1/accounts/search?q=shy"); !slices.Equal(got, []string{"shy"}) {
			t.Errorf("search by exact username: %v, want shy", got)
		}
		a := get(f.bob.Token, "/api/v2/search?"+url.Values{"q": {"xylophone"}, "type": {"accounts"}}.Encode())
		var v2 struct{ Accounts []struct{ Acct string } }
		if a.Code != http.StatusOK || json.Unmarshal(a.Body, &v2) != nil || len(v2.Accounts) != 1 || v2.Accounts[0].Acct != "alice" {
			t.Errorf("v2 search by bio: %d %s, want alice only", a.Code, a.Body)
		}

		// A local colleague sees the department board; the suspended sam's own login is
		// disabled, so it cannot look either.
		if a := get(f.bob.Token, "/api/v1/accounts/"+f.deptBoard); a.Code != http.StatusOK {
			t.Errorf("department board for a colleague: %d %s", a.Code, a.Body)
		}
		if _, err := inst.Client(f.sam.Token).GetAccount(context.Background(), accID(f.alice.Account)); err == nil {
			t.Error("the suspended account still reads profiles")
		}
	})
}

// TestAccountAudienceOpenMode: in open mode logged-out visitors see people and world
// boards, as on Mastodon, but never a suspended account or a board of a narrower scope.
func TestAccountAudienceOpenMode(t *testing.T) {
	t.Parallel()
	open := instancetest.Options{Configure: func(c *config.Config) { c.Federation.Mode = config.FederationOpen }}
	instancetest.Each(t, open, func(t *testing.T, inst *instancetest.Instance) {
		f := aaSetup(t, inst)
		cl := inst.Client("")
		ctx := context.Background()
		for _, c := range []struct {
			name string
			id   string
			want bool
		}{
			{"alice", community.FormatID(f.alice.Account.ID), true},
			{"the world board", f.worldBoard, true},
			{"the suspended sam", community.FormatID(f.sam.Account.ID), false},
			{"the company board", f.cmp, false},
			{"the department board", f.deptBoard, false},
		} {
			_, err := cl.GetAccount(ctx, mastodon.ID(c.id))
			if c.want && err != nil {
				t.Errorf("logged out, %s: %v, want shown", c.name, err)
			}
			if !c.want && accAPIStatus(err) != http.StatusNotFound {
				t.Errorf("logged out, %s: %v, want 404", c.name, err)
			}
		}
		a := inst.Call(t, http.MethodGet, "/api/v1/directory?local=true", "", nil)
		if got, want := aaAccts(t, a.Body), []string{"admin", "alice", "bob"}; a.Code != http.StatusOK || !slices.Equal(got, want) {
			t.Errorf("logged-out directory: %d %v, want %v", a.Code, got, want)
		}
		a = inst.Call(t, http.MethodGet, "/api/v1/tacit/boards", "", nil)
		if got := aaAccts(t, a.Body); a.Code != http.StatusOK || len(got) != 1 {
			t.Errorf("logged-out boards: %d %s, want the world board only", a.Code, a.Body)
		}
		if peers, err := cl.GetInstancePeers(ctx); err != nil || peers == nil {
			t.Errorf("logged-out peers in open mode: %v %v", peers, err)
		}
	})
}
