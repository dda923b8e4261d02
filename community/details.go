package community

import (
	"context"
	"fmt"
)

// StatusDetails is everything needed to show a set of statuses to one viewer, loaded
// with one query per kind of fact rather than one per status.
type StatusDetails struct {
	Accounts map[int64]*Account          // authors, reblogged authors, mentioned accounts
	Statuses map[int64]*Status           // reblogged originals, by id
	Mentions map[int64][]int64           // status id → mentioned account ids, in order
	Tags     map[int64][]Tag             // status id → hashtags
	Media    map[int64][]MediaAttachment // status id → attachments, in order
	Polls    map[int64]*Poll             // status id → poll
	// OwnVotes are the viewer's choices by poll id.
	OwnVotes map[int64][]int
	// The viewer's own relation to each status (by status id); empty when logged out.
	Favourited map[int64]bool
	Reblogged  map[int64]bool
	Bookmarked map[int64]bool
	Pinned     map[int64]bool
}

// LoadStatusDetails gathers the details of statuses (and of the statuses they reblog).
func (s *Service) LoadStatusDetails(ctx context.Context, v Viewer, statuses []Status) (*StatusDetails, error) {
	d := &StatusDetails{
		Accounts: map[int64]*Account{}, Statuses: map[int64]*Status{},
		Mentions: map[int64][]int64{}, Tags: map[int64][]Tag{},
		Media: map[int64][]MediaAttachment{}, Polls: map[int64]*Poll{}, OwnVotes: map[int64][]int{},
		Favourited: map[int64]bool{}, Reblogged: map[int64]bool{}, Bookmarked: map[int64]bool{}, Pinned: map[int64]bool{},
	}
	if len(statuses) == 0 {
		return d, nil
	}
	db := s.read(ctx)
	var reblogIDs []int64
	for _, st := range statuses {
		if st.ReblogOfID != nil {
			reblogIDs = append(reblogIDs, *st.ReblogOfID)
		}
	}
	all := append([]Status(nil), statuses...)
	if len(reblogIDs) > 0 {
		var originals []Status
		if err := db.Where("id IN ?", uniqueIDs(reblogIDs)).Find(&originals).Error; err != nil {
			return nil, fmt.Errorf("load reblogged statuses: %w", err)
		}
		for i := range originals {
			d.Statuses[originals[i].ID] = &originals[i]
		}
		all = append(all, originals...)
	}
	statusIDs := make([]int64, 0, len(all))
	accountIDs := make([]int64, 0, len(all))
	for _, st := range all {
		statusIDs = append(statusIDs, st.ID)
		accountIDs = append(accountIDs, st.AccountID)
	}
	statusIDs = uniqueIDs(statusIDs)

	var mentions []Mention
	if err := db.Where("status_id IN ?", statusIDs).Order("id").Find(&mentions).Error; err != nil {
		return nil, fmt.Errorf("load mentions: %w", err)
	}
	for _, m := range mentions {
		d.Mentions[m.StatusID] = append(d.Mentions[m.StatusID], m.AccountID)
		accountIDs = append(accountIDs, m.AccountID)
	}
	accounts, err := s.AccountsByID(ctx, accountIDs)
	if err != nil {
		return nil, err
	}
	d.Accounts = accounts

	var tagRows []struct {
		StatusID int64
		Tag
	}
	if err := db.Table("status_tags").Select("status_tags.status_id, tags.*").
		Joins("JOIN tags ON tags.id = status_tags.tag_id").
		Where("status_tags.status_id IN ?", statusIDs).Order("tags.name").Scan(&tagRows).Error; err != nil {
		return nil, fmt.Errorf("load tags: %w", err)
	}
	for _, r := range tagRows {
		d.Tags[r.StatusID] = append(d.Tags[r.StatusID], r.Tag)
	}

	if d.Media, err = statusMediaTx(db, statusIDs); err != nil {
		return nil, err
	}
	var polls []Poll
	if err := db.Where("status_id IN ?", statusIDs).Find(&polls).Error; err != nil {
		return nil, fmt.Errorf("load polls: %w", err)
	}
	pollIDs := make([]int64, 0, len(polls))
	for i := range polls {
		d.Polls[polls[i].StatusID] = &polls[i]
		pollIDs = append(pollIDs, polls[i].ID)
	}

	me := v.AccountID()
	if me == 0 {
		return d, nil
	}
	if len(pollIDs) > 0 {
		var votes []PollVote
		if err := db.Where("account_id = ? AND poll_id IN ?", me, pollIDs).Order("choice").Find(&votes).Error; err != nil {
			return nil, fmt.Errorf("load own votes: %w", err)
		}
		for _, v := range votes {
			d.OwnVotes[v.PollID] = append(d.OwnVotes[v.PollID], v.Choice)
		}
	}
	for _, q := range []struct {
		table, col string
		dst        map[int64]bool
	}{
		{"favourites", "status_id", d.Favourited},
		{"statuses", "reblog_of_id", d.Reblogged},
		{"bookmarks", "status_id", d.Bookmarked},
		{"status_pins", "status_id", d.Pinned},
	} {
		var ids []int64
		if err := db.Table(q.table).Where("account_id = ? AND "+q.col+" IN ?", me, statusIDs).
			Pluck(q.col, &ids).Error; err != nil {
			return nil, fmt.Errorf("load %s: %w", q.table, err)
		}
		for _, id := range ids {
			q.dst[id] = true
		}
	}
	return d, nil
}
