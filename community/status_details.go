package community

import (
	"context"
	"fmt"
	"slices"
	"time"
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

	parts, err := s.statusParts(ctx, all)
	if err != nil {
		return nil, err
	}
	var withPoll []int64
	for id, p := range parts {
		if len(p.Mentions) > 0 {
			d.Mentions[id] = p.Mentions
			accountIDs = append(accountIDs, p.Mentions...)
		}
		if len(p.Tags) > 0 {
			d.Tags[id] = slices.Clone(p.Tags)
		}
		if len(p.Media) > 0 {
			d.Media[id] = slices.Clone(p.Media)
		}
		if p.HasPoll {
			withPoll = append(withPoll, id)
		}
	}
	accounts, err := s.accountsByID(ctx, accountIDs)
	if err != nil {
		return nil, err
	}
	d.Accounts = accounts

	// Polls change with every vote: always read fresh, and only where there is one.
	var polls []Poll
	if len(withPoll) > 0 {
		if err := db.Where("status_id IN ?", withPoll).Find(&polls).Error; err != nil {
			return nil, fmt.Errorf("load polls: %w", err)
		}
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
	rel, err := s.RelationsOf(ctx, []int64{me}, statusIDs, pollIDs)
	if err != nil {
		return nil, err
	}
	r := rel[me]
	d.Favourited, d.Reblogged, d.Bookmarked, d.Pinned, d.OwnVotes = r.Favourited, r.Reblogged, r.Bookmarked, r.Pinned, r.OwnVotes
	return d, nil
}

// statusParts are what a status shows besides its own row and that only an edit
// changes (an edit bumps the row's updated_at): the accounts it mentions, its
// hashtags, its attachments, and whether it has a poll.
type statusParts struct {
	Mentions []int64
	Tags     []Tag
	Media    []MediaAttachment
	HasPoll  bool
}

// partsKey names a status's parts as of one version of its row.
type partsKey struct {
	StatusID int64
	Version  int64 // the row's updated_at, in microseconds
}

func partsKeyOf(st *Status) partsKey {
	return partsKey{StatusID: st.ID, Version: st.UpdatedAt.UnixMicro()}
}

// cachedStatusParts is how many statuses' parts are kept in memory: a few pages of
// every active reader's timelines.
const cachedStatusParts = 20_000

// statusParts returns the parts of statuses by status id, from memory for the
// versions of the rows already seen and with one query per kind of part for the rest.
func (s *Service) statusParts(ctx context.Context, statuses []Status) (map[int64]*statusParts, error) {
	out := make(map[int64]*statusParts, len(statuses))
	var missing []int64
	versions := make(map[int64]partsKey, len(statuses))
	for i := range statuses {
		key := partsKeyOf(&statuses[i])
		if _, seen := versions[key.StatusID]; seen {
			continue
		}
		versions[key.StatusID] = key
		// A row read without its updated_at has no version to go by.
		if p, ok := s.parts.Get(key); ok && !statuses[i].UpdatedAt.IsZero() {
			out[key.StatusID] = p
		} else {
			missing = append(missing, key.StatusID)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	loaded := make(map[int64]*statusParts, len(missing))
	for _, id := range missing {
		loaded[id] = &statusParts{}
	}
	db := s.read(ctx)
	var mentions []Mention
	if err := db.Where("status_id IN ?", missing).Order("id").Find(&mentions).Error; err != nil {
		return nil, fmt.Errorf("load mentions: %w", err)
	}
	for _, m := range mentions {
		loaded[m.StatusID].Mentions = append(loaded[m.StatusID].Mentions, m.AccountID)
	}
	var tagRows []struct {
		StatusID int64
		Tag
	}
	if err := db.Table("status_tags").Select("status_tags.status_id, tags.*").
		Joins("JOIN tags ON tags.id = status_tags.tag_id").
		Where("status_tags.status_id IN ?", missing).Order("tags.name").Scan(&tagRows).Error; err != nil {
		return nil, fmt.Errorf("load tags: %w", err)
	}
	for _, r := range tagRows {
		loaded[r.StatusID].Tags = append(loaded[r.StatusID].Tags, r.Tag)
	}
	media, err := statusMediaTx(db, missing)
	if err != nil {
		return nil, err
	}
	for id, list := range media {
		loaded[id].Media = list
	}
	var polled []int64
	if err := db.Model(&Poll{}).Where("status_id IN ?", missing).Pluck("status_id", &polled).Error; err != nil {
		return nil, fmt.Errorf("load polls: %w", err)
	}
	for _, id := range polled {
		loaded[id].HasPoll = true
	}
	ticket := s.parts.Begin()
	for id, p := range loaded {
		if versions[id].Version != (time.Time{}).UnixMicro() {
			s.parts.Put(ticket, versions[id], p)
		}
		out[id] = p
	}
	return out, nil
}

// Relations are one account's own relations to statuses, by status id, and its votes
// by poll id.
type Relations struct {
	Favourited map[int64]bool
	Reblogged  map[int64]bool
	Bookmarked map[int64]bool
	Pinned     map[int64]bool
	OwnVotes   map[int64][]int
}

// RelationsOf loads how each of accountIDs relates to statusIDs and how they voted in
// pollIDs: five queries per maxBatchIDs accounts, so that live feeds can show one
// status to many viewers.
func (s *Service) RelationsOf(ctx context.Context, accountIDs, statusIDs, pollIDs []int64) (map[int64]*Relations, error) {
	out := make(map[int64]*Relations, len(accountIDs))
	for _, id := range accountIDs {
		out[id] = &Relations{Favourited: map[int64]bool{}, Reblogged: map[int64]bool{}, Bookmarked: map[int64]bool{},
			Pinned: map[int64]bool{}, OwnVotes: map[int64][]int{}}
	}
	if len(statusIDs) == 0 {
		return out, nil
	}
	db := s.read(ctx)
	accountIDs = uniqueIDs(accountIDs)
	for len(accountIDs) > 0 {
		batch := accountIDs[:min(len(accountIDs), maxBatchIDs)]
		accountIDs = accountIDs[len(batch):]
		if len(pollIDs) > 0 {
			var votes []PollVote
			if err := db.Where("account_id IN ? AND poll_id IN ?", batch, pollIDs).Order("choice").Find(&votes).Error; err != nil {
				return nil, fmt.Errorf("load own votes: %w", err)
			}
			for _, v := range votes {
				r := out[v.AccountID]
				r.OwnVotes[v.PollID] = append(r.OwnVotes[v.PollID], v.Choice)
			}
		}
		// One statement for the four relations: on SQLite four statements cost four
		// times the per-statement overhead for a handful of rows each.
		var rows []struct {
			Kind      string
			AccountID int64
			StatusID  int64
		}
		if err := db.Raw(`SELECT 'f' AS kind, account_id, status_id FROM favourites
				WHERE account_id IN @accounts AND status_id IN @statuses
			UNION ALL SELECT 'r', account_id, reblog_of_id FROM statuses
				WHERE account_id IN @accounts AND reblog_of_id IN @statuses
			UNION ALL SELECT 'b', account_id, status_id FROM bookmarks
				WHERE account_id IN @accounts AND status_id IN @statuses
			UNION ALL SELECT 'p', account_id, status_id FROM status_pins
				WHERE account_id IN @accounts AND status_id IN @statuses`,
			map[string]any{"accounts": batch, "statuses": statusIDs}).Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("load favourites, reblogs, bookmarks and pins: %w", err)
		}
		for _, r := range rows {
			rel := out[r.AccountID]
			switch r.Kind {
			case "f":
				rel.Favourited[r.StatusID] = true
			case "r":
				rel.Reblogged[r.StatusID] = true
			case "b":
				rel.Bookmarked[r.StatusID] = true
			case "p":
				rel.Pinned[r.StatusID] = true
			}
		}
	}
	return out, nil
}
