package export

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/store/storetest"
)

// TestOutboxPages: an account with more posts than one page of the outbox gets each
// of them once, oldest first, and totalItems counts them.
func TestOutboxPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		svc := community.NewService(db, community.Options{Host: "sales.example", BaseURL: "https://sales.example",
			DefaultScope: community.ScopeCompany})
		owner, _, err := svc.CreateLocalAccount(ctx, community.NewLocalAccount{Username: "alice", NoPassword: true})
		if err != nil {
			t.Fatal(err)
		}
		const posts = statusPage*2 + 7
		var want []string
		for i := range posts {
			st, err := svc.CreateStatus(ctx, owner, nil, community.NewStatus{Text: fmt.Sprintf("post %d", i)})
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, st.URI+"/activity")
		}
		var buf bytes.Buffer
		a := &Archiver{Community: svc, CompanyURI: "https://sales.example/ap/company"}
		if err := a.Write(ctx, &buf, owner); err != nil {
			t.Fatal(err)
		}
		z, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		f, err := z.Open("outbox.json")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(f)
		var outbox struct {
			TotalItems   int `json:"totalItems"`
			OrderedItems []struct {
				ID string `json:"id"`
			} `json:"orderedItems"`
		}
		if err := json.Unmarshal(body, &outbox); err != nil {
			t.Fatalf("outbox.json is not JSON: %v", err)
		}
		if outbox.TotalItems != posts || len(outbox.OrderedItems) != posts {
			t.Fatalf("totalItems %d, %d items; want %d", outbox.TotalItems, len(outbox.OrderedItems), posts)
		}
		for i, item := range outbox.OrderedItems {
			if item.ID != want[i] {
				t.Fatalf("item %d = %s, want %s", i, item.ID, want[i])
			}
		}
	})
}
