package federation

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/federation/activitystreams"
)

const (
	asContext = "https://www.w3.org/ns/activitystreams"
	// outboxPageSize is the number of activities on one page of an outbox, as Mastodon.
	outboxPageSize = 20
	// featuredMax bounds the featured collection; Mastodon lets an account pin 5.
	featuredMax = 20
)

// collection serves a local account's followers or following as counts only: who
// follows whom is not something a peer needs in order to deliver, and lists would
// reveal it.
func (f *Federator) collection(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		r, ok := f.authorize(c)
		if !ok {
			return
		}
		acct, ok := f.servedAccount(c, r)
		if !ok {
			return
		}
		total := acct.FollowersCount
		if kind == "following" {
			total = acct.FollowingCount
		}
		writeCollection(c, map[string]any{"id": acct.URI + "/" + kind, "type": "OrderedCollection", "totalItems": total})
	}
}

// outbox serves what a local account published that the requester may read, newest
// first, a page at a time: the collection names its first page, and each page the next
// (?page=true&max_id=…). Direct messages are never listed.
func (f *Federator) outbox(c *gin.Context) {
	r, ok := f.authorize(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	acct, ok := f.servedAccount(c, r)
	if !ok {
		return
	}
	id := acct.URI + "/outbox"
	if c.Query("page") != "true" {
		writeCollection(c, map[string]any{
			"id": id, "type": "OrderedCollection", "totalItems": acct.StatusesCount,
			"first": id + "?page=true",
		})
		return
	}
	page := community.Page{Limit: outboxPageSize}
	if v, ok := community.ParseID(c.Query("max_id")); ok {
		page.MaxID = v
	}
	res, err := f.c.AccountStatuses(ctx, r.viewer, acct.ID, community.AccountStatusesQuery{Page: page})
	if err != nil {
		f.fail(c, "outbox", err)
		return
	}
	items := f.renderItems(ctx, res.Statuses, acct, true)
	pageID := id + "?page=true"
	if page.MaxID != 0 {
		pageID += "&max_id=" + community.FormatID(page.MaxID)
	}
	doc := map[string]any{"id": pageID, "type": "OrderedCollectionPage", "partOf": id, "orderedItems": items}
	if res.OldestID != 0 {
		doc["next"] = id + "?" + url.Values{"page": {"true"}, "max_id": {community.FormatID(res.OldestID)}}.Encode()
	}
	writeCollection(c, doc)
}

// featured serves the notes a local account pinned, as far as the requester may read
// them, embedded so that a peer shows them without fetching each.
func (f *Federator) featured(c *gin.Context) {
	r, ok := f.authorize(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	acct, ok := f.servedAccount(c, r)
	if !ok {
		return
	}
	res, err := f.c.AccountStatuses(ctx, r.viewer, acct.ID, community.AccountStatusesQuery{
		Pinned: true, Page: community.Page{Limit: featuredMax},
	})
	if err != nil {
		f.fail(c, "featured collection", err)
		return
	}
	items := f.renderItems(ctx, res.Statuses, acct, false)
	writeCollection(c, map[string]any{
		"id": acct.URI + "/collections/featured", "type": "OrderedCollection",
		"totalItems": len(items), "orderedItems": items,
	})
}

// renderItems renders statuses as activities (Create or Announce) or as bare notes.
// Direct messages and what does not federate are left out.
func (f *Federator) renderItems(ctx context.Context, statuses []community.Status, author *community.Account, asActivities bool) []json.RawMessage {
	items := []json.RawMessage{}
	for i := range statuses {
		st := &statuses[i]
		if st.Visibility == community.VisibilityDirect || st.Scope == community.ScopeDepartment {
			continue
		}
		var body []byte
		var err error
		switch {
		case asActivities:
			body, err = f.statusActivity(ctx, st, author, "Create")
		case st.ReblogOfID == nil:
			body, err = f.noteJSON(ctx, st, author)
		default:
			continue
		}
		if errors.Is(err, activitystreams.ErrNotFederated) {
			continue
		}
		if err != nil {
			f.log.WarnContext(ctx, "render collection item", "status_id", st.ID, "err", err)
			continue
		}
		items = append(items, body)
	}
	return items
}

func (f *Federator) fail(c *gin.Context, what string, err error) {
	if community.KindOf(err) == community.KindNotFound {
		c.AbortWithStatus(http.StatusNotFound)
		return
	}
	f.log.ErrorContext(c.Request.Context(), what, "path", c.Request.URL.Path, "err", err)
	c.AbortWithStatus(http.StatusInternalServerError)
}

// companyCollection stands for "every logged-in account of the company": company-scope
// posts are addressed to it. It has no items to list.
func (f *Federator) companyCollection(c *gin.Context) {
	if _, ok := f.authorize(c); !ok {
		return
	}
	writeCollection(c, map[string]any{
		"id": f.CompanyURI(), "type": "Collection", "summary": "Every account of the company's instances",
	})
}

func writeCollection(c *gin.Context, doc map[string]any) {
	doc["@context"] = asContext
	body, err := json.Marshal(doc)
	if err != nil {
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	writeActivityJSON(c, http.StatusOK, body)
}
