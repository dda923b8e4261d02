package community

import (
	"container/list"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tacit-social/tacit/store"
)

// Home feeds in memory
//
// The home query (homeSQL) walks the statuses of its time window newest first and
// keeps those of followed accounts: with a reader who follows a few of many busy
// accounts, it probes hundreds of rows for a page of 20. A home feed keeps, per
// reader, the ids of recent statuses that may belong to their home: their own,
// those of the accounts they follow, and every direct status. That is a superset;
// a page reads its rows by primary key and still passes them through homeSQL (and
// then FilterVisible), so blocks, mutes, lists, reblog settings, visibility and
// sanctions are decided on every read exactly as before. The feed only spares the
// walk through statuses that could never be in it.
//
// A feed is complete above its floor: every status newer than floor that may belong
// to the reader is in ids. New statuses are added on the next read (a query over the
// statuses newer than the newest the feed has seen, run only when the store's change
// feed says statuses changed); a change of anyone's follows drops every feed, which
// is rebuilt on its next read. Below the floor, and for readers who follow hashtags
// (whose home takes public statuses of anyone), the home query runs as before.

const (
	// homeFeedSize is how many candidate ids a feed keeps.
	homeFeedSize = 400
	// homeFeedReaders is how many readers' feeds are kept.
	homeFeedReaders = 2_000
	// homeFeedSpan is how far back a new feed looks.
	homeFeedSpan = 14 * 24 * time.Hour
)

type homeFeed struct {
	reader int64
	ids    []int64 // newest first
	floor  int64   // every candidate newer than floor is in ids
	seen   uint64  // statuses generation the feed is complete for
}

// homeFeeds are the feeds of the most recent readers.
type homeFeeds struct {
	mu    sync.Mutex
	feeds map[int64]*list.Element
	order *list.List
	// gen counts changes of the statuses table; recent holds the ids each of the
	// last ones touched (statuses arrive from peers with ids of the past, so "newer
	// than the newest seen" would miss them), and rebuildBelow is the generation of
	// the last change that named no ids: feeds older than it are read again.
	gen          uint64
	recent       []statusChange
	rebuildBelow uint64
	follows      uint64 // bumped by every change of the follows table
}

type statusChange struct {
	gen uint64
	ids []int64
}

// recentStatusChanges bounds what homeFeeds remembers; a feed further behind is
// rebuilt.
const recentStatusChanges = 1024

func newHomeFeeds(changes *store.Changes) *homeFeeds {
	if changes == nil {
		return nil
	}
	h := &homeFeeds{feeds: map[int64]*list.Element{}, order: list.New()}
	changes.Subscribe([]string{"statuses", "follows"}, func(ch store.Change) {
		h.mu.Lock()
		defer h.mu.Unlock()
		if ch.Table == "" || ch.Table == "statuses" {
			h.gen++
			if ch.IDs == nil {
				h.rebuildBelow = h.gen
			} else {
				if len(h.recent) == recentStatusChanges {
					h.recent = slices.Delete(h.recent, 0, 1)
				}
				h.recent = append(h.recent, statusChange{gen: h.gen, ids: ch.IDs})
			}
		}
		if ch.Table == "" || ch.Table == "follows" {
			h.follows++
			clear(h.feeds)
			h.order.Init()
		}
	})
	return h
}

// changedSince returns the status ids changed after generation seen, or false when
// they are not all known.
func (h *homeFeeds) changedSince(seen uint64) ([]int64, bool) {
	if seen < h.rebuildBelow || len(h.recent) == 0 || h.recent[0].gen > seen+1 {
		return nil, false
	}
	var ids []int64
	for _, ch := range h.recent {
		if ch.gen > seen {
			ids = append(ids, ch.ids...)
		}
	}
	return ids, true
}

// homeCandidatesSQL is the feed's superset of the home rule: the reader's own
// statuses, those of the accounts they follow, and every direct status.
const homeCandidatesSQL = `(statuses.account_id = @me
	OR statuses.account_id IN (SELECT follows.target_account_id FROM follows WHERE follows.account_id = @me)
	OR statuses.visibility = 'direct')`

// homeFeed returns reader's feed brought up to date.
func (s *Service) homeFeed(ctx context.Context, reader int64) (*homeFeed, error) {
	h := s.feeds
	h.mu.Lock()
	gen, followGen := h.gen, h.follows
	var current *homeFeed
	var changed []int64
	if el, ok := h.feeds[reader]; ok {
		h.order.MoveToFront(el)
		f := el.Value.(*homeFeed)
		if f.seen == gen {
			h.mu.Unlock()
			return f, nil // feeds are never changed in place
		}
		var known bool
		if changed, known = h.changedSince(f.seen); known {
			current = f
		}
	}
	h.mu.Unlock()

	next := &homeFeed{reader: reader, seen: gen}
	db := s.read(ctx).Model(&Status{})
	var fresh []int64
	if current == nil {
		since := IDAt(s.clock().Add(-homeFeedSpan))
		err := db.Where("statuses.id > @since AND "+homeCandidatesSQL, map[string]any{"since": since, "me": reader}).
			Order("statuses.id DESC").Limit(homeFeedSize).Pluck("statuses.id", &fresh).Error
		if err != nil {
			return nil, fmt.Errorf("load home feed: %w", err)
		}
		next.ids, next.floor = fresh, since
		if len(fresh) == homeFeedSize {
			next.floor = fresh[len(fresh)-1] - 1
		}
	} else {
		changed = uniqueIDs(changed)
		if len(changed) > 0 {
			err := db.Where("statuses.id IN @ids AND statuses.id > @floor AND "+homeCandidatesSQL,
				map[string]any{"ids": changed, "floor": current.floor, "me": reader}).
				Pluck("statuses.id", &fresh).Error
			if err != nil {
				return nil, fmt.Errorf("update home feed: %w", err)
			}
		}
		ids := append(slices.Clone(current.ids), fresh...)
		slices.SortFunc(ids, cmpDesc)
		next.ids, next.floor = slices.Compact(ids), current.floor
		if len(next.ids) > homeFeedSize {
			next.ids = next.ids[:homeFeedSize]
			next.floor = next.ids[homeFeedSize-1] - 1
		}
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	// Keep it only if no follow changed while it was read (it may miss a newly
	// followed account); it still serves this read, which began before that change.
	if h.follows == followGen {
		if el, ok := h.feeds[reader]; ok {
			el.Value = next
			h.order.MoveToFront(el)
		} else {
			h.feeds[reader] = h.order.PushFront(next)
			for h.order.Len() > homeFeedReaders {
				oldest := h.order.Back()
				h.order.Remove(oldest)
				delete(h.feeds, oldest.Value.(*homeFeed).reader)
			}
		}
	}
	return next, nil
}

// homeReader reads windows of reader's home timeline from their feed: the candidates
// of the window, in chunks, through the home query; below the feed's floor (or going
// up from a min_id), the home query reads the window as it always did.
func (s *Service) homeReader(feed *homeFeed) func(pageQuery) pageQuery {
	return func(query pageQuery) pageQuery {
		return func(w Page) ([]pagedStatus, error) {
			if w.MinID > 0 || feed == nil {
				return s.windowed(w, query)
			}
			var candidates []int64
			for _, id := range feed.ids {
				if (w.MaxID == 0 || id < w.MaxID) && id > w.SinceID {
					candidates = append(candidates, id)
				}
			}
			var out []pagedStatus
			for len(candidates) > 0 && len(out) < w.Limit {
				chunk := candidates[:min(len(candidates), 2*w.Limit)]
				candidates = candidates[len(chunk):]
				rows, err := query(Page{ids: chunk, Limit: w.Limit - len(out)})
				if err != nil {
					return nil, err
				}
				out = append(out, rows...)
			}
			if len(out) < w.Limit && len(candidates) == 0 && feed.floor > w.SinceID {
				// The feed ran out above the window's end: the rest comes from the
				// statuses at or below its floor.
				rest := w
				rest.MaxID = feed.floor + 1
				if w.MaxID > 0 && w.MaxID < rest.MaxID {
					rest.MaxID = w.MaxID
				}
				rest.Limit = w.Limit - len(out)
				more, err := s.windowed(rest, query)
				if err != nil {
					return nil, err
				}
				out = append(out, more...)
			}
			// Chunks go newest first and the rest lies below them: out is in order.
			return out, nil
		}
	}
}

func cmpDesc(a, b int64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}
