package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/tacit-social/tacit/community"
)

// How the index keeps in step with the database.
//
// Domain events name what changed; the event handler only drops the id into a bounded
// channel, so indexing never slows the request that caused it. One goroutine drains
// the channel in batches, loads the named rows from the database (the current row wins,
// whatever order events arrived in; a missing row means a deleted document) and writes
// them to Bleve.
//
// What events cannot guarantee is caught up from the database: every index stores,
// atomically with its documents, a cursor in the (updated_at, id) order of its rows,
// up to which everything is indexed. At start, every minute and whenever the channel
// overflowed, rows changed since the cursor (minus a look-back that covers transactions
// committing out of order) are indexed again and the cursor moves. Deletions leave no
// row to find: an index that was not closed cleanly, or whose channel overflowed, is
// swept for documents whose rows are gone, and a search that meets such a document
// removes it.
const (
	queueSize     = 8192
	batchMax      = 512
	batchWait     = 50 * time.Millisecond
	catchUpEvery  = time.Minute
	lookBack      = 2 * time.Minute
	catchUpPage   = 1000
	rebuildPage   = 2000
	sweepMaxCheck = 1000
)

// change is one entry of the indexing queue.
type change struct {
	kind    string
	id      int64
	deleted bool
	// done, when set, marks a Sync: it is closed once everything queued before it is
	// written.
	done chan struct{}
	// queued is when the change entered the queue, for the index lag.
	queued time.Time
}

// Indexer feeds an Index from the domain's events and database.
type Indexer struct {
	ix  *Index
	c   *community.Service
	log *slog.Logger
	ch  chan change
	// overflow is set when a change had to be dropped: the next round catches up from
	// the database and sweeps for deletions.
	overflow atomic.Bool
	running  atomic.Bool
	// observeLag, when set, is told how long written changes waited (SetLagObserver).
	observeLag func(time.Duration)
}

// SetLagObserver makes the Indexer report, for every batch it writes, how long its
// oldest change waited, for the instance's metrics. Call it before Run.
func (x *Indexer) SetLagObserver(fn func(lag time.Duration)) { x.observeLag = fn }

// reportLag tells the lag observer how long the oldest of written changes waited;
// Sync markers carry no time.
func (x *Indexer) reportLag(written []change) {
	if x.observeLag == nil {
		return
	}
	for _, c := range written {
		if !c.queued.IsZero() {
			x.observeLag(time.Since(c.queued))
			return
		}
	}
}

// Pending counts the changes waiting in the queue.
func (x *Indexer) Pending() int { return len(x.ch) }

// NewIndexer returns an Indexer for ix over the domain c.
func NewIndexer(ix *Index, c *community.Service, log *slog.Logger) *Indexer {
	if log == nil {
		log = slog.Default()
	}
	return &Indexer{ix: ix, c: c, log: log, ch: make(chan change, queueSize)}
}

// Subscribe makes the Indexer follow the domain's events.
func (x *Indexer) Subscribe(bus *community.Bus) { bus.Subscribe(x.onEvent) }

func (x *Indexer) onEvent(_ context.Context, e community.Event) {
	switch ev := e.(type) {
	case community.StatusCreated:
		if !ev.Status.IsReblog() {
			x.enqueue(change{kind: kindPosts, id: ev.Status.ID})
		}
	case community.StatusUpdated:
		x.enqueue(change{kind: kindPosts, id: ev.Status.ID})
	case community.StatusDeleted:
		x.enqueue(change{kind: kindPosts, id: ev.Status.ID, deleted: true})
	case community.AccountCreated:
		x.enqueue(change{kind: kindPeople, id: ev.Account.ID})
	case community.AccountUpdated:
		x.enqueue(change{kind: kindPeople, id: ev.Account.ID})
	case community.AccountDeleted:
		x.enqueue(change{kind: kindPeople, id: ev.Account.ID, deleted: true})
	}
}

// enqueue never blocks: when the queue is full the change is dropped and the next
// round catches up from the database instead.
func (x *Indexer) enqueue(c change) {
	c.queued = time.Now()
	select {
	case x.ch <- c:
	default:
		x.overflow.Store(true)
	}
}

// forget queues the removal of documents whose rows a search found missing.
func (x *Indexer) forget(kind string, ids []int64) {
	for _, id := range ids {
		x.enqueue(change{kind: kind, id: id, deleted: true})
	}
}

// Sync waits until every change queued before it is written. Tests use it; the server
// never waits for the index.
func (x *Indexer) Sync(ctx context.Context) error {
	if !x.running.Load() {
		return errors.New("search: the indexer is not running")
	}
	done := make(chan struct{})
	select {
	case x.ch <- change{done: done}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run indexes until ctx ends: first whatever the index misses (a full build when it is
// new or outdated, otherwise the changes since its cursors and, after an unclean
// shutdown, a sweep), then the queue, with a catch-up every minute.
func (x *Indexer) Run(ctx context.Context) error {
	x.running.Store(true)
	defer x.running.Store(false)
	if !x.ix.Complete() {
		start := time.Now()
		if err := Build(ctx, x.ix, x.c, nil); err != nil {
			return err
		}
		x.log.InfoContext(ctx, "search index built from the database", "duration_ms", time.Since(start).Milliseconds())
	}
	sweep := x.ix.needsSweep
	tick := time.NewTicker(catchUpEvery)
	defer tick.Stop()
	for {
		if x.overflow.Swap(false) {
			x.log.WarnContext(ctx, "search indexing queue overflowed; catching up from the database")
			sweep = true
		}
		if err := x.catchUp(ctx); err != nil && ctx.Err() == nil {
			x.log.ErrorContext(ctx, "search catch-up", "err", err)
		}
		if sweep {
			if err := x.sweep(ctx); err != nil && ctx.Err() == nil {
				x.log.ErrorContext(ctx, "search sweep", "err", err)
			} else {
				sweep = false
			}
		}
		if err := x.drain(ctx, tick.C); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// drain writes queued changes in batches until the ticker fires or the queue
// overflowed, then returns so that Run catches up.
func (x *Indexer) drain(ctx context.Context, tick <-chan time.Time) error {
	for {
		var first change
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick:
			return nil
		case first = <-x.ch:
		}
		pending := []change{first}
		timer := time.NewTimer(batchWait)
	collect:
		for len(pending) < batchMax {
			select {
			case c := <-x.ch:
				pending = append(pending, c)
			case <-timer.C:
				break collect
			case <-ctx.Done():
				timer.Stop()
				return ctx.Err()
			}
		}
		timer.Stop()
		if err := x.write(ctx, pending); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// The rows are still in the database: a catch-up will index them.
			x.log.ErrorContext(ctx, "search indexing", "err", err, "changes", len(pending))
			x.overflow.Store(true)
		} else {
			x.reportLag(pending)
		}
		for _, c := range pending {
			if c.done != nil {
				close(c.done)
			}
		}
		if x.overflow.Load() {
			return nil
		}
	}
}

// write indexes the latest state of the rows the changes name.
func (x *Indexer) write(ctx context.Context, changes []change) error {
	want := map[string]map[int64]bool{} // kind -> id -> deleted
	for _, c := range changes {
		if c.done != nil {
			continue
		}
		if want[c.kind] == nil {
			want[c.kind] = map[int64]bool{}
		}
		want[c.kind][c.id] = c.deleted
	}
	bt := x.ix.newBatch()
	var accountIDs, statusIDs []int64
	for id, deleted := range want[kindPeople] {
		if deleted {
			bt.remove(kindPeople, id)
		} else {
			accountIDs = append(accountIDs, id)
		}
	}
	for id, deleted := range want[kindPosts] {
		if deleted {
			bt.remove(kindPosts, id)
		} else {
			statusIDs = append(statusIDs, id)
		}
	}
	for id, deleted := range want[kindTags] {
		if deleted {
			bt.remove(kindTags, id)
		}
	}
	accounts, err := x.c.Unchecked().AccountsByID(ctx, accountIDs)
	if err != nil {
		return err
	}
	list := make([]community.Account, 0, len(accounts))
	for _, id := range accountIDs {
		if a := accounts[id]; a != nil {
			list = append(list, *a)
		} else {
			bt.remove(kindPeople, id)
		}
	}
	if err := x.addPeople(ctx, bt, list); err != nil {
		return err
	}
	statuses, err := x.c.Unchecked().StatusesByID(ctx, statusIDs)
	if err != nil {
		return err
	}
	rows := make([]community.Status, 0, len(statuses))
	for _, id := range statusIDs {
		if st := statuses[id]; st != nil && !st.IsReblog() {
			rows = append(rows, *st)
		} else {
			bt.remove(kindPosts, id)
		}
	}
	if err := x.addPosts(ctx, bt, rows, true); err != nil {
		return err
	}
	return x.ix.apply(bt)
}

// addPeople adds accounts to a batch with their featured tags.
func (x *Indexer) addPeople(ctx context.Context, bt *batch, accounts []community.Account) error {
	if len(accounts) == 0 {
		return nil
	}
	ids := make([]int64, len(accounts))
	for i := range accounts {
		ids[i] = accounts[i].ID
	}
	featured, err := x.c.FeaturedTagNames(ctx, ids)
	if err != nil {
		return err
	}
	for i := range accounts {
		a := &accounts[i]
		if err := bt.put(kindPeople, a.ID, personDocument(Profile{Account: a, FeaturedTags: featured[a.ID]})); err != nil {
			return fmt.Errorf("search: person %d: %w", a.ID, err)
		}
	}
	return nil
}

// addPosts adds statuses to a batch with their hashtags, and with withTags the hashtags
// themselves to the hashtag index.
func (x *Indexer) addPosts(ctx context.Context, bt *batch, statuses []community.Status, withTags bool) error {
	if len(statuses) == 0 {
		return nil
	}
	ids := make([]int64, len(statuses))
	for i := range statuses {
		ids[i] = statuses[i].ID
	}
	tags, err := x.c.StatusTags(ctx, ids)
	if err != nil {
		return err
	}
	seenTags := map[int64]bool{}
	for i := range statuses {
		st := &statuses[i]
		names := make([]string, 0, len(tags[st.ID]))
		for _, t := range tags[st.ID] {
			names = append(names, t.Name)
			if withTags && !seenTags[t.ID] {
				seenTags[t.ID] = true
				if err := bt.put(kindTags, t.ID, tagDocument(&t)); err != nil {
					return fmt.Errorf("search: tag %d: %w", t.ID, err)
				}
			}
		}
		if err := bt.put(kindPosts, st.ID, postDocument(st, names)); err != nil {
			return fmt.Errorf("search: post %d: %w", st.ID, err)
		}
	}
	return nil
}

// catchUp indexes every row changed since each index's cursor, less the look-back,
// and moves the cursors.
func (x *Indexer) catchUp(ctx context.Context) error {
	if err := x.catchUpKind(ctx, kindPeople, func(c community.ChangeCursor) (int, community.ChangeCursor, *batch, error) {
		rows, err := x.c.ChangedAccounts(ctx, c, catchUpPage)
		if err != nil || len(rows) == 0 {
			return 0, c, nil, err
		}
		bt := x.ix.newBatch()
		if err := x.addPeople(ctx, bt, rows); err != nil {
			return 0, c, nil, err
		}
		last := rows[len(rows)-1]
		return len(rows), community.ChangeCursor{Since: last.UpdatedAt, After: last.ID}, bt, nil
	}); err != nil {
		return err
	}
	if err := x.catchUpKind(ctx, kindPosts, func(c community.ChangeCursor) (int, community.ChangeCursor, *batch, error) {
		rows, err := x.c.ChangedStatuses(ctx, c, catchUpPage)
		if err != nil || len(rows) == 0 {
			return 0, c, nil, err
		}
		bt := x.ix.newBatch()
		if err := x.addPosts(ctx, bt, rows, false); err != nil {
			return 0, c, nil, err
		}
		last := rows[len(rows)-1]
		return len(rows), community.ChangeCursor{Since: last.UpdatedAt, After: last.ID}, bt, nil
	}); err != nil {
		return err
	}
	return x.catchUpKind(ctx, kindTags, func(c community.ChangeCursor) (int, community.ChangeCursor, *batch, error) {
		rows, err := x.c.NewTags(ctx, c, catchUpPage)
		if err != nil || len(rows) == 0 {
			return 0, c, nil, err
		}
		bt := x.ix.newBatch()
		for i := range rows {
			if err := bt.put(kindTags, rows[i].ID, tagDocument(&rows[i])); err != nil {
				return 0, c, nil, err
			}
		}
		last := rows[len(rows)-1]
		return len(rows), community.ChangeCursor{Since: last.CreatedAt, After: last.ID}, bt, nil
	})
}

// catchUpKind pages through one kind's changes with next, writing each page together
// with the cursor it reaches.
func (x *Indexer) catchUpKind(ctx context.Context, kind string,
	next func(community.ChangeCursor) (int, community.ChangeCursor, *batch, error)) error {
	stored := x.ix.cursor(kind)
	cur := community.ChangeCursor{Since: stored.Since.Add(-lookBack)}
	for ctx.Err() == nil {
		n, to, bt, err := next(cur)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		st := indexState{Version: mappingVersion, Complete: true, Cursor: to}
		if to.Since.Before(stored.Since) || (to.Since.Equal(stored.Since) && to.After < stored.After) {
			st.Cursor = stored // re-reading the look-back never moves the cursor back
		}
		bt.setState(kind, st)
		if err := x.ix.apply(bt); err != nil {
			return err
		}
		cur = to
		if n < catchUpPage {
			return nil
		}
	}
	return ctx.Err()
}

// sweep removes documents whose rows no longer exist. It walks each index's documents
// in a snapshot and checks them against the database a thousand at a time.
func (x *Indexer) sweep(ctx context.Context) error {
	tables := map[string]string{kindPeople: "accounts", kindPosts: "statuses", kindTags: "tags"}
	removed := 0
	for _, kind := range kinds {
		n, err := x.sweepKind(ctx, kind, tables[kind])
		removed += n
		if err != nil {
			return err
		}
	}
	if removed > 0 {
		x.log.InfoContext(ctx, "search sweep removed documents of deleted rows", "documents", removed)
	}
	return nil
}

func (x *Indexer) sweepKind(ctx context.Context, kind, table string) (int, error) {
	adv, err := x.ix.idx[kind].Advanced()
	if err != nil {
		return 0, fmt.Errorf("search: sweep %s: %w", kind, err)
	}
	r, err := adv.Reader()
	if err != nil {
		return 0, fmt.Errorf("search: sweep %s: %w", kind, err)
	}
	defer r.Close()
	docs, err := r.DocIDReaderAll()
	if err != nil {
		return 0, fmt.Errorf("search: sweep %s: %w", kind, err)
	}
	defer docs.Close()
	removed := 0
	check := func(ids []int64) error {
		exists, err := x.c.ExistingIDs(ctx, table, ids)
		if err != nil {
			return err
		}
		bt := x.ix.newBatch()
		for _, id := range ids {
			if !exists[id] {
				bt.remove(kind, id)
			}
		}
		if bt.n == 0 {
			return nil
		}
		removed += bt.n
		return x.ix.apply(bt)
	}
	var ids []int64
	for ctx.Err() == nil {
		internal, err := docs.Next()
		if err != nil {
			return removed, fmt.Errorf("search: sweep %s: %w", kind, err)
		}
		if internal == nil {
			break
		}
		ext, err := r.ExternalID(internal)
		if err != nil {
			return removed, fmt.Errorf("search: sweep %s: %w", kind, err)
		}
		if id, ok := community.ParseID(ext); ok {
			ids = append(ids, id)
		}
		if len(ids) == sweepMaxCheck {
			if err := check(ids); err != nil {
				return removed, err
			}
			ids = ids[:0]
		}
	}
	if len(ids) > 0 && ctx.Err() == nil {
		if err := check(ids); err != nil {
			return removed, err
		}
	}
	return removed, ctx.Err()
}

// Build indexes everything in the database into ix, page by page in id order, then
// marks it complete with cursors from before the build began (minus the look-back), so
// that a catch-up covers whatever changed meanwhile. progress, when set, is told how
// many documents are done out of how many.
func Build(ctx context.Context, ix *Index, c *community.Service, progress func(done, total int64)) error {
	start := time.Now().UTC()
	counts, err := c.CountContent(ctx)
	if err != nil {
		return err
	}
	total := counts.Accounts + counts.Statuses + counts.Tags
	var done int64
	report := func(n int) {
		done += int64(n)
		if progress != nil {
			progress(min(done, total), total)
		}
	}
	if progress != nil {
		progress(0, total)
	}
	x := &Indexer{ix: ix, c: c}
	err = buildPages(ctx, ix, report, func(after int64) (*batch, int64, error) {
		rows, err := c.AccountsAfter(ctx, after, rebuildPage)
		if err != nil || len(rows) == 0 {
			return nil, 0, err
		}
		bt := ix.newBatch()
		return bt, rows[len(rows)-1].ID, x.addPeople(ctx, bt, rows)
	})
	if err != nil {
		return err
	}
	err = buildPages(ctx, ix, report, func(after int64) (*batch, int64, error) {
		rows, err := c.StatusesAfter(ctx, after, rebuildPage)
		if err != nil || len(rows) == 0 {
			return nil, 0, err
		}
		bt := ix.newBatch()
		return bt, rows[len(rows)-1].ID, x.addPosts(ctx, bt, rows, false)
	})
	if err != nil {
		return err
	}
	err = buildPages(ctx, ix, report, func(after int64) (*batch, int64, error) {
		rows, err := c.TagsAfter(ctx, after, rebuildPage)
		if err != nil || len(rows) == 0 {
			return nil, 0, err
		}
		bt := ix.newBatch()
		for i := range rows {
			if err := bt.put(kindTags, rows[i].ID, tagDocument(&rows[i])); err != nil {
				return nil, 0, err
			}
		}
		return bt, rows[len(rows)-1].ID, nil
	})
	if err != nil {
		return err
	}
	bt := ix.newBatch()
	for _, kind := range kinds {
		bt.setState(kind, indexState{Version: mappingVersion, Complete: true,
			Cursor: community.ChangeCursor{Since: start.Add(-lookBack)}})
	}
	return ix.apply(bt)
}

// buildPages writes the batches next makes, page after page in id order, until it
// returns none. The next page is read from the database and mapped while Bleve
// analyzes and writes the current one: the two halves of a build use different cores.
func buildPages(ctx context.Context, ix *Index, report func(int), next func(after int64) (*batch, int64, error)) error {
	type page struct {
		bt  *batch
		err error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan page, 1)
	go func() {
		defer close(pages)
		var after int64
		for ctx.Err() == nil {
			bt, last, err := next(after)
			if bt == nil && err == nil {
				return
			}
			select {
			case pages <- page{bt, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
			after = last
		}
	}()
	for p := range pages {
		if p.err != nil {
			return p.err
		}
		if err := ix.apply(p.bt); err != nil {
			return err
		}
		report(p.bt.n)
	}
	return ctx.Err()
}
