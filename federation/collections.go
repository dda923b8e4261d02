package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

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
	var statuses []community.Status
	if acct.Group && !f.departmentOnly(ctx, acct) {
		// A board features its pinned ideas (Lemmy's featured posts).
		if _, err := f.c.BoardByAccount(ctx, acct.ID); err == nil {
			if statuses, err = f.c.PinnedIdeas(ctx, r.viewer, acct.ID); err != nil {
				f.fail(c, "featured collection", err)
				return
			}
		}
	}
	if statuses == nil {
		res, err := f.c.AccountStatuses(ctx, r.viewer, acct.ID, community.AccountStatusesQuery{
			Pinned: true, Page: community.Page{Limit: featuredMax},
		})
		if err != nil {
			f.fail(c, "featured collection", err)
			return
		}
		statuses = res.Statuses
	}
	items := f.renderItems(ctx, statuses, nil, false)
	writeCollection(c, map[string]any{
		"id": acct.URI + "/collections/featured", "type": "OrderedCollection",
		"totalItems": len(items), "orderedItems": items,
	})
}

// renderItems renders statuses as activities (Create or Announce) or as bare notes.
// author is the statuses' author; nil when they have several (a board's pinned
// ideas), and a remote author's status is then listed by its id, which its own
// instance serves. Direct messages and what does not federate are left out.
func (f *Federator) renderItems(ctx context.Context, statuses []community.Status, author *community.Account, asActivities bool) []json.RawMessage {
	items := []json.RawMessage{}
	for i := range statuses {
		st := &statuses[i]
		if st.Visibility == community.VisibilityDirect || st.Scope == community.ScopeDepartment {
			continue
		}
		writer := author
		if writer == nil {
			a, err := f.c.Unchecked().AccountByID(ctx, st.AccountID)
			if err != nil {
				f.log.WarnContext(ctx, "render collection item", "status_id", st.ID, "err", err)
				continue
			}
			if !a.IsLocal() {
				if ref, err := json.Marshal(st.URI); err == nil {
					items = append(items, ref)
				}
				continue
			}
			writer = a
		}
		var body []byte
		var err error
		switch {
		case asActivities:
			body, err = f.statusActivity(ctx, st, writer, "Create")
		case st.ReblogOfID == nil:
			body, err = f.noteJSON(ctx, st, writer)
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

// repliesPageSize bounds the replies listed in a note's replies collection: Mastodon
// fetches the first page to fill a thread, and deeper replies come with their parents.
const repliesPageSize = 40

// statusOfRequest finds the local status a request's path names (its author's
// username and its id) as the requester may see it; a status the requester may not
// see is as missing as one that does not exist.
func (f *Federator) statusOfRequest(c *gin.Context, r requester) (*community.Status, *community.Account, bool) {
	ctx := c.Request.Context()
	id, ok := community.ParseID(c.Param("id"))
	if !ok {
		return nil, nil, false
	}
	st, err := f.c.GetStatus(ctx, r.viewer, id)
	if err != nil || !st.Local || st.Scope == community.ScopeDepartment {
		return nil, nil, false
	}
	author, err := f.c.Unchecked().AccountByID(ctx, st.AccountID)
	if err != nil || !strings.EqualFold(author.Username, c.Param("username")) {
		return nil, nil, false
	}
	return st, author, true
}

// statusActivityDoc serves the activity that published a local status, at the id it
// was sent with: the Create of a note, the Announce of a boost (whose status id is its
// activity id). Mastodon dereferences activity ids it is handed.
func (f *Federator) statusActivityDoc(c *gin.Context) {
	r, ok := f.authorize(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	st, author, ok := f.statusOfRequest(c, r)
	if !ok {
		c.AbortWithStatus(http.StatusNotFound)
		return
	}
	var body []byte
	var err error
	if st.ReblogOfID != nil && author.Group {
		body, _, _, err = f.boardAnnounce(ctx, st, author)
	} else {
		body, err = f.statusActivity(ctx, st, author, "Create")
	}
	if errors.Is(err, activitystreams.ErrNotFederated) || community.KindOf(err) == community.KindNotFound {
		c.AbortWithStatus(http.StatusNotFound)
		return
	}
	if err != nil {
		f.fail(c, "status activity", err)
		return
	}
	writeActivityJSON(c, http.StatusOK, withContext(body))
}

// replies serves a local note's replies collection: the ids of the direct replies the
// requester may see, oldest first, on one page embedded as "first", the shape
// Mastodon reads when it fetches a thread.
func (f *Federator) replies(c *gin.Context) {
	r, ok := f.authorize(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	st, _, ok := f.statusOfRequest(c, r)
	if !ok || st.ReblogOfID != nil {
		c.AbortWithStatus(http.StatusNotFound)
		return
	}
	_, descendants, err := f.c.StatusContext(ctx, r.viewer, st.ID)
	if err != nil {
		f.fail(c, "replies", err)
		return
	}
	items := []string{}
	for _, d := range descendants {
		if d.InReplyToID == nil || *d.InReplyToID != st.ID || d.Visibility == community.VisibilityDirect ||
			d.Scope == community.ScopeDepartment {
			continue
		}
		if len(items) == repliesPageSize {
			break
		}
		items = append(items, d.URI)
	}
	id := st.URI + "/replies"
	page := map[string]any{"id": id + "?page=true", "type": "CollectionPage", "partOf": id, "items": items}
	if c.Query("page") == "true" {
		writeCollection(c, page)
		return
	}
	writeCollection(c, map[string]any{"id": id, "type": "Collection", "first": page})
}

// instanceOutbox is the instance actor's outbox: the instance publishes nothing of its
// own, but an actor without one is malformed to some servers.
func (f *Federator) instanceOutbox(c *gin.Context) {
	writeCollection(c, map[string]any{
		"id": f.InstanceActorURI() + "/outbox", "type": "OrderedCollection", "totalItems": 0, "orderedItems": []any{},
	})
}

// withContext gives a rendered activity the full @context when it has none.
func withContext(body []byte) []byte {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	if _, ok := m["@context"]; ok {
		return body
	}
	m["@context"] = activitystreams.Context()
	out, err := marshalJSON(m)
	if err != nil {
		return body
	}
	return out
}

// marshalJSON encodes without HTML escaping, as every document Tacit renders: content
// is HTML, and "<" written as \u003c triples the size of every tag.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
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
