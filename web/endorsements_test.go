package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/instance/instancetest"
)

// TestEndorsements: only a followed account can be endorsed; the relationship says
// endorsed; the endorsements list (through go-mastodon) and the profile's list show it;
// unpinning and unfollowing both end it.
func TestEndorsements(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		ana := inst.CreateUser(t, "ana", instancetest.UserOptions{})
		ben := inst.CreateUser(t, "ben", instancetest.UserOptions{})
		cai := inst.CreateUser(t, "cai", instancetest.UserOptions{})
		c := inst.Client(ana.Token)
		benID, caiID := fmt.Sprint(ben.Account.ID), fmt.Sprint(cai.Account.ID)
		pin := func(id, action string) (int, mastodon.Relationship) {
			t.Helper()
			a := inst.Call(t, http.MethodPost, "/api/v1/accounts/"+id+"/"+action, ana.Token, nil)
			var rel mastodon.Relationship
			if a.Code == http.StatusOK {
				if err := json.Unmarshal(a.Body, &rel); err != nil {
					t.Fatal(err)
				}
			}
			return a.Code, rel
		}
		if code, _ := pin(benID, "pin"); code != http.StatusUnprocessableEntity {
			t.Errorf("endorsing someone ana does not follow: %d", code)
		}
		if code, _ := pin("12345", "pin"); code != http.StatusNotFound {
			t.Errorf("endorsing nobody: %d", code)
		}
		for _, id := range []string{benID, caiID} {
			if _, err := c.AccountFollow(ctx, mastodon.ID(id)); err != nil {
				t.Fatal(err)
			}
			if code, rel := pin(id, "pin"); code != http.StatusOK || !rel.Endorsed || !rel.Following {
				t.Fatalf("pin %s: %d %+v", id, code, rel)
			}
		}
		if code, _ := pin(benID, "pin"); code != http.StatusOK {
			t.Errorf("pinning again: %d", code)
		}
		list, err := c.GetEndorsements(ctx, nil)
		if err != nil || len(list) != 2 || string(list[0].ID) != caiID || string(list[1].ID) != benID {
			t.Fatalf("endorsements: %v %+v", err, list)
		}
		// Colleagues can see whom ana features, and the relationship says it; strangers
		// cannot in company mode.
		path := fmt.Sprintf("/api/v1/accounts/%d/endorsements", ana.Account.ID)
		if a := inst.Call(t, http.MethodGet, path, "", nil); a.Code != http.StatusUnauthorized {
			t.Errorf("ana's endorsements logged out in company mode: %d %s, want 401", a.Code, a.Body)
		}
		a := inst.Call(t, http.MethodGet, path, ben.Token, nil)
		var shown []mastodon.Account
		if a.Code != http.StatusOK || json.Unmarshal(a.Body, &shown) != nil || len(shown) != 2 {
			t.Errorf("ana's profile endorsements: %d %s", a.Code, a.Body)
		}
		rels, err := c.GetAccountRelationships(ctx, []string{benID, caiID})
		if err != nil || len(rels) != 2 || !rels[0].Endorsed || !rels[1].Endorsed {
			t.Errorf("relationships: %v %+v", err, rels)
		}

		if code, rel := pin(caiID, "unpin"); code != http.StatusOK || rel.Endorsed || !rel.Following {
			t.Errorf("unpin: %d %+v", code, rel)
		}
		if _, err := c.AccountUnfollow(ctx, mastodon.ID(benID)); err != nil {
			t.Fatal(err)
		}
		if list, err = c.GetEndorsements(ctx, nil); err != nil || len(list) != 0 {
			t.Errorf("endorsements after unpin and unfollow: %v %d", err, len(list))
		}
	})
}
