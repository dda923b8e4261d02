package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/federation/activitystreams"
)

// renderPage renders a page of the owner's statuses as outbox items: a Create for a
// post, an Announce for a boost (left out when the boosted post is gone or hidden from
// the owner). It returns the uploads the items point at.
func (a *Archiver) renderPage(ctx context.Context, owner *community.Account, page []community.Status) ([][]byte, []community.MediaAttachment, error) {
	d, err := a.Community.LoadStatusDetails(ctx, community.AsAccount(owner), page)
	if err != nil {
		return nil, nil, err
	}
	var parentIDs []int64
	for _, st := range page {
		if st.InReplyToID != nil {
			parentIDs = append(parentIDs, *st.InReplyToID)
		}
	}
	// Only the parents' ids are written, which the owner's own post already names.
	parents, err := a.Community.Unchecked().StatusesByID(ctx, parentIDs)
	if err != nil {
		return nil, nil, err
	}
	ideas, err := a.Community.Unchecked().IdeasOf(ctx, statusIDs(page))
	if err != nil {
		return nil, nil, err
	}
	var boardIDs []int64
	for _, idea := range ideas {
		boardIDs = append(boardIDs, idea.BoardAccountID)
	}
	boards, err := a.Community.Unchecked().AccountsByID(ctx, boardIDs)
	if err != nil {
		return nil, nil, err
	}
	var items [][]byte
	var files []community.MediaAttachment
	for i := range page {
		st := &page[i]
		var item []byte
		if st.ReblogOfID != nil {
			item, err = a.announce(st, owner, d)
		} else {
			item, err = a.create(st, owner, d, parents, ideaPage(ideas[st.ID], boards))
			files = append(files, d.Media[st.ID]...)
		}
		if errors.Is(err, errSkip) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("export: status %d: %w", st.ID, err)
		}
		items = append(items, item)
	}
	return items, files, nil
}

// create renders a post as the Create activity that published it, its attachments
// pointing at their files in the archive.
func (a *Archiver) create(st *community.Status, owner *community.Account, d *community.StatusDetails,
	parents map[int64]*community.Status, idea *activitystreams.IdeaPage) ([]byte, error) {
	var mentions []*community.Account
	var mentionURIs []string
	for _, id := range d.Mentions[st.ID] {
		if m := d.Accounts[id]; m != nil {
			mentions = append(mentions, m)
			mentionURIs = append(mentionURIs, m.URI)
		}
	}
	to, cc, err := a.address(st, owner, mentionURIs)
	if err != nil {
		return nil, err
	}
	note := activitystreams.Note{Status: st, Author: owner, Mentions: mentions, TagURL: a.Community.TagURL, To: to, Cc: cc}
	if st.InReplyToID != nil && parents[*st.InReplyToID] != nil {
		note.InReplyToURI = parents[*st.InReplyToID].URI
	}
	for _, t := range d.Tags[st.ID] {
		note.Tags = append(note.Tags, t.Name)
	}
	for _, m := range d.Media[st.ID] {
		att := activitystreams.Attachment{URL: mediaPath(&m), MediaType: m.ContentType, Name: m.Description,
			Blurhash: m.Blurhash, Width: m.Width, Height: m.Height}
		if m.Focus != "" {
			x, y := m.FocusPoint()
			att.Focus = &[2]float64{x, y}
		}
		note.Attachments = append(note.Attachments, att)
	}
	if p := d.Polls[st.ID]; p != nil {
		note.Poll = &activitystreams.Poll{Options: p.Options, Multiple: p.Multiple, EndTime: p.ExpiresAt,
			Closed: p.Expired(time.Now()), VotersCount: p.VotersCount}
	}
	if idea != nil {
		note.Idea, note.Audience = idea, idea.BoardURI
		note.Cc = append(note.Cc, idea.BoardURI)
	}
	body, err := activitystreams.NoteJSON(note)
	if err != nil {
		return nil, err
	}
	act, err := activitystreams.Activity("Create", st.URI+"/activity", owner.URI, json.RawMessage(body), to, cc)
	if err != nil {
		return nil, err
	}
	return withoutContext(act, st.CreatedAt)
}

// announce renders a boost as its Announce.
func (a *Archiver) announce(st *community.Status, owner *community.Account, d *community.StatusDetails) ([]byte, error) {
	orig := d.Statuses[*st.ReblogOfID]
	if orig == nil {
		return nil, errSkip
	}
	to, cc, err := a.address(st, owner, nil)
	if err != nil {
		return nil, err
	}
	if author := d.Accounts[orig.AccountID]; author != nil {
		cc = append(cc, author.URI)
	}
	act, err := activitystreams.Activity("Announce", st.URI, owner.URI, orig.URI, to, cc)
	if err != nil {
		return nil, err
	}
	return withoutContext(act, st.CreatedAt)
}

// address is a status's addressing as peers receive it. A department-scope post is
// never sent to peers; in the archive it is addressed as the same visibility within
// the company would be, without the company collection, and its "scope" says
// department.
func (a *Archiver) address(st *community.Status, owner *community.Account, mentionURIs []string) (to, cc []string, err error) {
	followers := owner.FollowersURL
	if followers == "" {
		followers = owner.URI + "/followers"
	}
	if st.Scope != community.ScopeDepartment {
		addr, err := activitystreams.Address(st.Visibility, st.Scope, followers, a.CompanyURI, mentionURIs)
		return addr.To, addr.Cc, err
	}
	if st.Visibility == community.VisibilityDirect {
		return mentionURIs, nil, nil
	}
	return []string{followers}, mentionURIs, nil
}

// withoutContext drops an item's @context, which the outbox states once, as in
// Mastodon's archives, and gives it its publication time.
func withoutContext(act []byte, published time.Time) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(act, &m); err != nil {
		return nil, err
	}
	delete(m, "@context")
	m["published"] = published.UTC().Format(time.RFC3339)
	return marshal(m)
}

// ideaPage is what makes an idea's status a Page; nil for other statuses.
func ideaPage(idea *community.Idea, boards map[int64]*community.Account) *activitystreams.IdeaPage {
	if idea == nil || boards[idea.BoardAccountID] == nil {
		return nil
	}
	return &activitystreams.IdeaPage{Title: idea.Title, BodyHTML: idea.BodyHTML, BoardURI: boards[idea.BoardAccountID].URI}
}

func statusIDs(page []community.Status) []int64 {
	ids := make([]int64, 0, len(page))
	for _, st := range page {
		ids = append(ids, st.ID)
	}
	return ids
}
