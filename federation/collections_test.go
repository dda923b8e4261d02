package federation_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/tacit-social/tacit/instance/instancetest"
)

type collectionDoc struct {
	ID           string            `json:"id"`
	Type         string            `json:"type"`
	TotalItems   int               `json:"totalItems"`
	First        string            `json:"first"`
	Next         string            `json:"next"`
	OrderedItems []json.RawMessage `json:"orderedItems"`
}

// itemIDs returns the ids of the notes in a collection page: the object's id for
// activities, the item's own for notes.
func (d collectionDoc) itemIDs(t *testing.T) []string {
	t.Helper()
	var ids []string
	for _, raw := range d.OrderedItems {
		var item struct {
			ID     string          `json:"id"`
			Type   string          `json:"type"`
			Object json.RawMessage `json:"object"`
		}
		if err := json.Unmarshal(raw, &item); err != nil {
			t.Fatal(err)
		}
		if item.Type == "Create" {
			var note struct{ ID string }
			if err := json.Unmarshal(item.Object, &note); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, note.ID)
			continue
		}
		ids = append(ids, item.ID)
	}
	return ids
}

func fetchCollection(t *testing.T, from *instancetest.Instance, rawURL string) collectionDoc {
	t.Helper()
	body, err := from.Federator.Fetch(context.Background(), rawURL)
	if err != nil {
		t.Fatalf("fetch %s: %v", rawURL, err)
	}
	var d collectionDoc
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatalf("%s: %v\n%s", rawURL, err, body)
	}
	return d
}

// TestOutboxAndFeatured: a peer reads an account's outbox page by page and its pinned
// posts, and finds exactly what the audience rules let another instance read.
func TestOutboxAndFeatured(t *testing.T) {
	insts := instancetest.StartCompany(t, 2, instancetest.Options{})
	a, b := insts[0], insts[1]
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
	b.CreateUser(t, "bob", instancetest.UserOptions{})

	var shared []string
	for i := range 22 {
		shared = append(shared, a.PostStatus(t, alice.Token, url.Values{"status": {"Note " + strconv.Itoa(i)}, "scope": {"company"}}).URI)
	}
	unlisted := a.PostStatus(t, alice.Token, url.Values{"status": {"Quietly"}, "visibility": {"unlisted"}, "scope": {"company"}}).URI
	hidden := map[string]string{
		a.PostStatus(t, alice.Token, url.Values{"status": {"Department only"}, "scope": {"department"}}).URI:        "department",
		a.PostStatus(t, alice.Token, url.Values{"status": {"Followers only"}, "visibility": {"private"}}).URI:       "followers-only",
		a.PostStatus(t, alice.Token, url.Values{"status": {"@alice a note to self"}, "visibility": {"direct"}}).URI: "direct",
	}
	pinned := a.PostStatus(t, alice.Token, url.Values{"status": {"Read this first"}, "scope": {"company"}})
	secretPin := a.PostStatus(t, alice.Token, url.Values{"status": {"Pinned, department"}, "scope": {"department"}})
	for _, id := range []string{pinned.ID, secretPin.ID} {
		if ans := a.Call(t, http.MethodPost, "/api/v1/statuses/"+id+"/pin", alice.Token, nil); ans.Code != http.StatusOK {
			t.Fatalf("pin: HTTP %d %s", ans.Code, ans.Body)
		}
	}
	hidden[secretPin.URI] = "department pin"

	outboxURL := a.URL + "/users/alice/outbox"
	outbox := fetchCollection(t, b, outboxURL)
	if outbox.Type != "OrderedCollection" || outbox.First == "" || outbox.TotalItems == 0 {
		t.Fatalf("outbox = %+v", outbox)
	}
	seen := map[string]bool{}
	pages := 0
	for next := outbox.First; next != "" && pages < 5; pages++ {
		page := fetchCollection(t, b, next)
		if page.Type != "OrderedCollectionPage" {
			t.Fatalf("page %s is a %s", next, page.Type)
		}
		for _, id := range page.itemIDs(t) {
			if seen[id] {
				t.Errorf("%s listed twice", id)
			}
			seen[id] = true
		}
		if len(page.OrderedItems) == 0 {
			break
		}
		next = page.Next
	}
	if pages < 2 {
		t.Errorf("the outbox fit on %d page(s); want the peer to have followed a next link", pages)
	}
	for _, id := range append(append(shared, unlisted), pinned.URI) {
		if !seen[id] {
			t.Errorf("outbox lacks %s", id)
		}
	}
	for id, what := range hidden {
		if seen[id] {
			t.Errorf("outbox shows the %s post %s to a peer", what, id)
		}
	}

	featured := fetchCollection(t, b, a.URL+"/users/alice/collections/featured")
	ids := featured.itemIDs(t)
	if len(ids) != 1 || ids[0] != pinned.URI || featured.TotalItems != 1 {
		t.Errorf("featured = %v (total %d), want only %s", ids, featured.TotalItems, pinned.URI)
	}

	// Company mode: nobody else reads either.
	for _, u := range []string{outboxURL, outboxURL + "?page=true", a.URL + "/users/alice/collections/featured"} {
		if code, _ := get(t, u); code != http.StatusUnauthorized {
			t.Errorf("unsigned GET %s: HTTP %d, want 401", u, code)
		}
	}
}
