package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// shownStatus is what these tests read of a rendered status.
type shownStatus struct {
	ID      string `json:"id"`
	Content string `json:"content"`
	Account struct {
		ID          string `json:"id"`
		DisplayName string `json:"display_name"`
		Note        string `json:"note"`
	} `json:"account"`
	Tags []struct {
		Name string `json:"name"`
	} `json:"tags"`
	Mentions []struct {
		Acct string `json:"acct"`
	} `json:"mentions"`
	MediaAttachments []struct {
		Description string `json:"description"`
	} `json:"media_attachments"`
}

// TestNoStaleCopies: rows kept in memory (accounts, logins, tokens, applications, the
// parts of statuses) never outlive a change. Each change is made through a different
// path, right after a read that filled the caches, and the next read must show it.
func TestNoStaleCopies(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		author := inst.CreateUser(t, "author", instancetest.UserOptions{})
		reader := inst.CreateUser(t, "reader", instancetest.UserOptions{})
		inst.CreateUser(t, "carol", instancetest.UserOptions{})
		admin := inst.CreateUser(t, "boss", instancetest.UserOptions{Role: community.RoleAdmin,
			Scopes: []string{"read", "write", "follow", "admin:read", "admin:write"}})
		authorID := community.FormatID(author.Account.ID)
		if a := inst.Call(t, http.MethodPost, "/api/v1/accounts/"+authorID+"/follow", reader.Token, nil); a.Code != http.StatusOK {
			t.Fatalf("follow: %d %s", a.Code, a.Body)
		}
		home := func() []shownStatus {
			t.Helper()
			a := inst.Call(t, http.MethodGet, "/api/v1/timelines/home", reader.Token, nil)
			var list []shownStatus
			if a.Code != http.StatusOK || json.Unmarshal(a.Body, &list) != nil {
				t.Fatalf("home: %d %s", a.Code, a.Body)
			}
			return list
		}
		posted := inst.PostStatus(t, author.Token, url.Values{"status": {"first #alpha @carol"}, "visibility": {"public"}})
		if list := home(); len(list) != 1 || len(list[0].Tags) != 1 || list[0].Tags[0].Name != "alpha" || len(list[0].Mentions) != 1 {
			t.Fatalf("home before the changes: %+v", list)
		}

		// The author's profile, through the API: the author shown with every status.
		if a := inst.Call(t, http.MethodPatch, "/api/v1/accounts/update_credentials", author.Token,
			url.Values{"display_name": {"Renamed"}}); a.Code != http.StatusOK {
			t.Fatalf("update_credentials: %d %s", a.Code, a.Body)
		}
		if list := home(); list[0].Account.DisplayName != "Renamed" {
			t.Errorf("after a profile change, home shows the author as %q", list[0].Account.DisplayName)
		}

		// The status's parts, through an edit: hashtags and mentions (an edit adds
		// mentions and never removes one, as in Mastodon, so that nobody who was
		// told of a post loses it).
		if a := inst.Call(t, http.MethodPut, "/api/v1/statuses/"+posted.ID, author.Token,
			url.Values{"status": {"edited #beta @carol @reader"}}); a.Code != http.StatusOK {
			t.Fatalf("edit: %d %s", a.Code, a.Body)
		}
		if list := home(); len(list[0].Tags) != 1 || list[0].Tags[0].Name != "beta" || len(list[0].Mentions) != 2 {
			t.Errorf("after an edit, home shows tags %+v and mentions %+v", list[0].Tags, list[0].Mentions)
		}

		// The counters on the author, changed by a new post in another request.
		before := accountStatuses(t, inst, reader.Token, authorID)
		second := inst.PostStatus(t, author.Token, url.Values{"status": {"second"}, "visibility": {"public"}})
		if after := accountStatuses(t, inst, reader.Token, authorID); after != before+1 {
			t.Errorf("statuses_count %d after a post, was %d", after, before)
		}

		// A deleted post never comes back.
		if a := inst.Call(t, http.MethodDelete, "/api/v1/statuses/"+second.ID, author.Token, nil); a.Code != http.StatusOK {
			t.Fatalf("delete: %d %s", a.Code, a.Body)
		}
		for _, st := range home() {
			if st.ID == second.ID {
				t.Error("a deleted status is still on the home timeline")
			}
		}
		if a := inst.Call(t, http.MethodGet, "/api/v1/statuses/"+second.ID, reader.Token, nil); a.Code != http.StatusNotFound {
			t.Errorf("a deleted status: %d, want 404", a.Code)
		}

		// A blocked account's posts disappear at once.
		if a := inst.Call(t, http.MethodPost, "/api/v1/accounts/"+authorID+"/block", reader.Token, nil); a.Code != http.StatusOK {
			t.Fatalf("block: %d %s", a.Code, a.Body)
		}
		if list := home(); len(list) != 0 {
			t.Errorf("after a block, home still shows %d statuses of the blocked account", len(list))
		}

		// A login disabled by an admin stops working at once, token cached or not.
		if a := inst.Call(t, http.MethodGet, "/api/v1/accounts/verify_credentials", author.Token, nil); a.Code != http.StatusOK {
			t.Fatalf("verify_credentials: %d", a.Code)
		}
		if a := inst.Call(t, http.MethodPost, "/api/v1/admin/accounts/"+authorID+"/action", admin.Token,
			url.Values{"type": {"disable"}}); a.Code != http.StatusOK {
			t.Fatalf("disable: %d %s", a.Code, a.Body)
		}
		if a := inst.Call(t, http.MethodGet, "/api/v1/accounts/verify_credentials", author.Token, nil); a.Code != http.StatusForbidden {
			t.Errorf("a disabled login: %d, want 403", a.Code)
		}

		// A revoked token stops working at once.
		if a := inst.Call(t, http.MethodGet, "/api/v1/accounts/verify_credentials", reader.Token, nil); a.Code != http.StatusOK {
			t.Fatalf("verify_credentials: %d", a.Code)
		}
		if _, err := inst.Auth.RevokeAccountTokens(t.Context(), reader.Account.ID); err != nil {
			t.Fatal(err)
		}
		if a := inst.Call(t, http.MethodGet, "/api/v1/accounts/verify_credentials", reader.Token, nil); a.Code != http.StatusUnauthorized {
			t.Errorf("a revoked token: %d, want 401", a.Code)
		}
	})
}

func accountStatuses(t *testing.T, inst *instancetest.Instance, token, id string) int {
	t.Helper()
	a := inst.Call(t, http.MethodGet, "/api/v1/accounts/"+id, token, nil)
	var acct struct {
		StatusesCount int `json:"statuses_count"`
	}
	if a.Code != http.StatusOK || json.Unmarshal(a.Body, &acct) != nil {
		t.Fatalf("account: %d %s", a.Code, a.Body)
	}
	return acct.StatusesCount
}

// TestPagesPerReader: answers kept in memory are kept per reader and request: one
// reader's favourite never shows on another's page, a page asked again comes with the
// same Link header, and a favourite shows on the next read.
func TestPagesPerReader(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	author := inst.CreateUser(t, "author", instancetest.UserOptions{})
	a := inst.CreateUser(t, "ann", instancetest.UserOptions{})
	b := inst.CreateUser(t, "bob", instancetest.UserOptions{})
	posted := inst.PostStatus(t, author.Token, url.Values{"status": {"hello"}, "visibility": {"public"}})
	read := func(token string) (favourited bool, link string) {
		t.Helper()
		ans := inst.Call(t, http.MethodGet, "/api/v1/timelines/public?limit=1", token, nil)
		var list []struct {
			Favourited bool `json:"favourited"`
		}
		if ans.Code != http.StatusOK || json.Unmarshal(ans.Body, &list) != nil || len(list) != 1 {
			t.Fatalf("public: %d %s", ans.Code, ans.Body)
		}
		return list[0].Favourited, ans.Header.Get("Link")
	}
	_, firstLink := read(a.Token)
	read(b.Token)
	if ans := inst.Call(t, http.MethodPost, "/api/v1/statuses/"+posted.ID+"/favourite", a.Token, nil); ans.Code != http.StatusOK {
		t.Fatalf("favourite: %d", ans.Code)
	}
	if fav, link := read(a.Token); !fav || link != firstLink || link == "" {
		t.Errorf("ann after her favourite: favourited %v, Link %q (was %q)", fav, link, firstLink)
	}
	if fav, _ := read(b.Token); fav {
		t.Error("bob's page shows ann's favourite")
	}
	if fav, _ := read(a.Token); !fav {
		t.Error("ann's page asked again lost her favourite")
	}
}
