package community

import (
	"context"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
)

// Live feeds (streaming) receive statuses as they are stored instead of reading a
// timeline. LiveAudience answers, for one status and everyone watching, the questions
// the timelines answer in SQL: may they read it (mayRead, the one rule), do they block
// or mute its author, and does it belong in their home feed or in a list. The Go
// statements of the timeline rules here (homeMember, listMember, publicMember) must
// agree with HomeTimeline, ListTimeline, PublicTimeline and TagTimeline; the streaming
// tests compare what each viewer receives live with what they then read.

// LiveQuery names who is watching.
type LiveQuery struct {
	// Accounts are the local accounts with live feeds open.
	Accounts []*Account
	// Lists are the lists whose live feeds are open (their owners need not be in Accounts).
	Lists []int64
	// Deleted says the status is already gone: only who may have read it matters, and
	// Mentions stands for its mention rows.
	Deleted  bool
	Mentions []int64
}

// LiveAudience is what LiveAudience found for one status.
type LiveAudience struct {
	st        Status
	original  *Status
	tags      []string
	anonymous bool
	readers   map[int64]bool
	silenced  map[int64]bool
	home      map[int64]bool
	lists     map[int64]bool
}

// Proper is the status itself or, for a reblog, the status it shares (nil when that is
// gone): what filters match and what clients show.
func (a *LiveAudience) Proper() *Status {
	if a.st.ReblogOfID == nil {
		return &a.st
	}
	return a.original
}

// MayRead reports whether the account (nil: logged out) may read the status and, for a
// reblog, the status it shares.
func (a *LiveAudience) MayRead(acct *Account) bool {
	if acct == nil {
		return a.anonymous
	}
	return a.readers[acct.ID]
}

// InHome reports whether the status belongs in the account's home feed.
func (a *LiveAudience) InHome(accountID int64) bool { return a.home[accountID] }

// InList reports whether the status belongs in a list's feed.
func (a *LiveAudience) InList(listID int64) bool { return a.lists[listID] }

// InPublic reports whether the status belongs in the public feed as the account (nil:
// logged out) sees it, with PublicQuery's Local and Remote choice.
func (a *LiveAudience) InPublic(acct *Account, local, remote bool) bool {
	return publicMember(&a.st, local, remote) && a.seenInPublic(acct)
}

// InTag reports whether the status belongs in a hashtag's feed (tag as typed, any case)
// as the account (nil: logged out) sees it.
func (a *LiveAudience) InTag(acct *Account, tag string, local, remote bool) bool {
	tag = NormalizeTag(tag)
	if !tagMember(&a.st, local, remote) || !a.seenInPublic(acct) {
		return false
	}
	for _, t := range a.tags {
		if t == tag {
			return true
		}
	}
	return false
}

// seenInPublic: public and hashtag feeds show what the viewer may read, without what
// they block or mute.
func (a *LiveAudience) seenInPublic(acct *Account) bool {
	if acct == nil {
		return a.anonymous
	}
	return a.readers[acct.ID] && !a.silenced[acct.ID]
}

// LiveAudience works out who sees st live. It costs a fixed number of queries per
// maxBatchIDs watchers, whatever their number.
func (s *Service) LiveAudience(ctx context.Context, st *Status, q LiveQuery) (*LiveAudience, error) {
	db := s.read(ctx)
	a := &LiveAudience{st: *st, readers: map[int64]bool{}, silenced: map[int64]bool{},
		home: map[int64]bool{}, lists: map[int64]bool{}}

	original, reachesNobody, err := s.liveOriginal(db, st, q.Deleted)
	if err != nil {
		return nil, err
	}
	if reachesNobody {
		return a, nil
	}
	a.original = original

	lists, viewers, err := liveViewers(db, q)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(viewers))
	for _, v := range viewers {
		ids = append(ids, v.ID)
	}
	ids = uniqueIDs(ids)

	if err := s.liveReaders(db, a, st, original, viewers, q); err != nil {
		return nil, err
	}
	if q.Deleted {
		return a, nil
	}
	if st.Visibility == VisibilityPublic && st.ReblogOfID == nil {
		if err := db.Table("tags").Joins("JOIN status_tags ON status_tags.tag_id = tags.id").
			Where("status_tags.status_id = ?", st.ID).Pluck("tags.name", &a.tags).Error; err != nil {
			return nil, fmt.Errorf("load tags: %w", err)
		}
	}
	if len(ids) == 0 {
		return a, nil
	}

	authors := []int64{st.AccountID}
	if original != nil {
		authors = append(authors, original.AccountID)
	}
	if a.silenced, err = silencedAmong(db, ids, authors, s.clock()); err != nil {
		return nil, err
	}
	// The timelines' rules look at follows of the author and of whom the status answers.
	targets := []int64{st.AccountID}
	if st.InReplyToAccountID != nil {
		targets = append(targets, *st.InReplyToAccountID)
	}
	follows, exclusive, err := s.liveFollows(ctx, db, st, ids, targets)
	if err != nil {
		return nil, err
	}
	if err := a.placeInHomes(db, q.Accounts, ids, follows, exclusive); err != nil {
		return nil, err
	}
	if len(lists) > 0 {
		if err := a.placeInLists(db, lists, q.Lists, targets, follows); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// liveOriginal loads what a reblog shares. reachesNobody: it is gone while the reblog
// is not, so the reblog reaches nobody.
func (s *Service) liveOriginal(db *gorm.DB, st *Status, deleted bool) (original *Status, reachesNobody bool, err error) {
	if st.ReblogOfID == nil {
		return nil, false, nil
	}
	o, err := s.loadStatusRow(db, *st.ReblogOfID)
	switch {
	case err == nil:
		return o, false, nil
	case KindOf(err) == KindNotFound && deleted:
		// Deleted with what it shared: who could read the reblog is what matters.
		return nil, false, nil
	case KindOf(err) == KindNotFound:
		return nil, true, nil
	default:
		return nil, false, err
	}
}

// liveViewers is everyone concerned: the watchers and the owners of the watched lists
// (no lists for a deleted status, which only needs its readers).
func liveViewers(db *gorm.DB, q LiveQuery) ([]List, []*Account, error) {
	var lists []List
	if len(q.Lists) > 0 && !q.Deleted {
		if err := db.Where("id IN ?", q.Lists).Find(&lists).Error; err != nil {
			return nil, nil, fmt.Errorf("load lists: %w", err)
		}
	}
	viewers := append([]*Account(nil), q.Accounts...)
	for _, l := range lists {
		viewers = append(viewers, &Account{ID: l.AccountID}) // lists belong to local accounts
	}
	return lists, viewers, nil
}

// liveReaders sets who among viewers, and whether a logged-out visitor, may read st
// and, for a reblog, the original it shares (nil when it is gone).
func (s *Service) liveReaders(db *gorm.DB, a *LiveAudience, st, original *Status, viewers []*Account, q LiveQuery) error {
	var mentioned []int64
	if q.Deleted {
		mentioned = q.Mentions
		if mentioned == nil {
			mentioned = []int64{}
		}
	}
	readers, err := s.readersOf(db, st, viewers, mentioned)
	if err != nil {
		return err
	}
	a.anonymous = s.mayRead(Anonymous, st, audienceFacts{})
	if original != nil {
		also, err := s.readersOf(db, original, viewers, nil)
		if err != nil {
			return err
		}
		for id := range readers {
			if !also[id] {
				delete(readers, id)
			}
		}
		a.anonymous = a.anonymous && s.mayRead(Anonymous, original, audienceFacts{})
	}
	a.readers = readers
	return nil
}

// liveFollows loads, for the viewers ids, their follows of targets (follower →
// followed → follow) and which of them keep st's author in an exclusive list.
func (s *Service) liveFollows(ctx context.Context, db *gorm.DB, st *Status, ids, targets []int64) (map[int64]map[int64]*Follow, map[int64]bool, error) {
	follows := map[int64]map[int64]*Follow{}
	add := func(rows []Follow) {
		for i := range rows {
			f := &rows[i]
			if follows[f.AccountID] == nil {
				follows[f.AccountID] = map[int64]*Follow{}
			}
			follows[f.AccountID][f.TargetAccountID] = f
		}
	}
	// When the targets have no more followers than there are watchers, reading their
	// followers walks one index; asking for each watcher makes SQLite build a
	// temporary index of the watchers first, half of the query's cost.
	byTarget, err := s.fewFollowers(ctx, targets, len(ids))
	if err != nil {
		return nil, nil, err
	}
	if byTarget {
		rows, err := followsOf(db.Where("target_account_id IN ?", targets))
		if err != nil {
			return nil, nil, err
		}
		watching := make(map[int64]bool, len(ids))
		for _, id := range ids {
			watching[id] = true
		}
		add(slices.DeleteFunc(rows, func(f Follow) bool { return !watching[f.AccountID] }))
	}
	var exclusive map[int64]bool
	for rest := ids; len(rest) > 0; {
		batch := rest[:min(len(rest), maxBatchIDs)]
		rest = rest[len(batch):]
		if !byTarget {
			rows, err := followsOf(db.Where("account_id IN ? AND target_account_id IN ?", batch, targets))
			if err != nil {
				return nil, nil, err
			}
			add(rows)
		}
		var owners []int64
		if err := db.Table("list_accounts").Joins("JOIN lists ON lists.id = list_accounts.list_id").
			Where("lists.exclusive AND list_accounts.account_id = ? AND lists.account_id IN ?", st.AccountID, batch).
			Pluck("lists.account_id", &owners).Error; err != nil {
			return nil, nil, fmt.Errorf("load exclusive lists: %w", err)
		}
		for _, id := range owners {
			if exclusive == nil {
				exclusive = map[int64]bool{}
			}
			exclusive[id] = true
		}
	}
	return follows, exclusive, nil
}

// followsOf reads the follows q selects, only what homeMember and listMember look at:
// whole rows (times, URIs) cost more to decode than SQLite's work, a thousand rows per
// post.
func followsOf(q *gorm.DB) ([]Follow, error) {
	var rows []Follow
	if err := q.Select("account_id", "target_account_id", "show_reblogs").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load follows: %w", err)
	}
	return rows, nil
}

// fewFollowers reports whether accounts have, together, no more followers than n. The
// counts come from the accounts' rows in memory; a count that drifted only changes
// which query liveFollows asks.
func (s *Service) fewFollowers(ctx context.Context, accounts []int64, n int) (bool, error) {
	found, err := s.accountsByID(ctx, accounts)
	if err != nil {
		return false, err
	}
	var total int64
	for _, a := range found {
		total += a.FollowersCount
	}
	return total <= int64(n), nil
}

// placeInHomes marks the watchers whose home feed the status belongs in.
func (a *LiveAudience) placeInHomes(db *gorm.DB, watchers []*Account, ids []int64,
	follows map[int64]map[int64]*Follow, exclusive map[int64]bool) error {
	// Watchers following one of the status's hashtags (only public originals have
	// tags here).
	tagFollowers := map[int64]bool{}
	if len(a.tags) > 0 && len(watchers) > 0 {
		for rest := ids; len(rest) > 0; {
			batch := rest[:min(len(rest), maxBatchIDs)]
			rest = rest[len(batch):]
			var who []int64
			if err := db.Table("tag_follows").Joins("JOIN status_tags ON status_tags.tag_id = tag_follows.tag_id").
				Where("status_tags.status_id = ? AND tag_follows.account_id IN ?", a.st.ID, batch).
				Pluck("tag_follows.account_id", &who).Error; err != nil {
				return fmt.Errorf("load tag follows: %w", err)
			}
			for _, id := range who {
				tagFollowers[id] = true
			}
		}
	}
	for _, v := range watchers {
		if a.readers[v.ID] && !a.silenced[v.ID] && homeMember(&a.st, v.ID, follows[v.ID], exclusive[v.ID], tagFollowers[v.ID]) {
			a.home[v.ID] = true
		}
	}
	return nil
}

// placeInLists marks the watched lists whose feed the status belongs in.
func (a *LiveAudience) placeInLists(db *gorm.DB, lists []List, listIDs, targets []int64, follows map[int64]map[int64]*Follow) error {
	members := map[int64]map[int64]bool{} // list → member accounts among targets
	var rows []ListAccount
	if err := db.Where("list_id IN ? AND account_id IN ?", listIDs, targets).Find(&rows).Error; err != nil {
		return fmt.Errorf("load list members: %w", err)
	}
	for _, r := range rows {
		if members[r.ListID] == nil {
			members[r.ListID] = map[int64]bool{}
		}
		members[r.ListID][r.AccountID] = true
	}
	for _, l := range lists {
		if a.readers[l.AccountID] && !a.silenced[l.AccountID] && listMember(&a.st, &l, members[l.ID], follows[l.AccountID]) {
			a.lists[l.ID] = true
		}
	}
	return nil
}

// silencedAmong returns which of viewers block or mute (a mute that has not expired)
// one of authors: silencedSQL's rule.
func silencedAmong(db *gorm.DB, viewers, authors []int64, now time.Time) (map[int64]bool, error) {
	out := map[int64]bool{}
	for rest := viewers; len(rest) > 0; {
		batch := rest[:min(len(rest), maxBatchIDs)]
		rest = rest[len(batch):]
		var ids []int64
		if err := db.Model(&Block{}).Where("account_id IN ? AND target_account_id IN ?", batch, authors).
			Pluck("account_id", &ids).Error; err != nil {
			return nil, fmt.Errorf("load blocks: %w", err)
		}
		for _, id := range ids {
			out[id] = true
		}
		ids = nil
		if err := db.Model(&Mute{}).Where("account_id IN ? AND target_account_id IN ? AND (expires_at IS NULL OR expires_at > ?)",
			batch, authors, now).Pluck("account_id", &ids).Error; err != nil {
			return nil, fmt.Errorf("load mutes: %w", err)
		}
		for _, id := range ids {
			out[id] = true
		}
	}
	return out, nil
}

// homeMember is homeSQL's rule for one status and one viewer me who may read it and
// does not silence its author: their own statuses and reblogs; those of accounts they
// follow (not replies to people they do not follow, reblogs only with show_reblogs,
// nothing from members of their exclusive lists); direct statuses that mention them;
// public statuses (not reblogs) carrying a hashtag they follow (followsTag). follows
// are me's follows of the status's author and of whom it answers.
func homeMember(st *Status, me int64, follows map[int64]*Follow, inExclusiveList, followsTag bool) bool {
	if st.AccountID == me {
		return true
	}
	if followsTag && st.Visibility == VisibilityPublic && st.ReblogOfID == nil {
		return true
	}
	if f := follows[st.AccountID]; f != nil && !inExclusiveList {
		reply := st.InReplyToAccountID
		replyOK := reply == nil || *reply == st.AccountID || *reply == me || follows[*reply] != nil
		reblogOK := st.ReblogOfID == nil || f.ShowReblogs
		if replyOK && reblogOK {
			return true
		}
	}
	// Someone else's direct status that me may read mentions me.
	return st.Visibility == VisibilityDirect
}

// listMember is ListTimeline's rule for one status: by a member, not direct, replies as
// the replies policy says, reblogs as the owner's show_reblogs says. members are the
// list's members among the status's author and whom it answers; ownerFollows the
// owner's follows of those two.
func listMember(st *Status, l *List, members map[int64]bool, ownerFollows map[int64]*Follow) bool {
	if !members[st.AccountID] || st.Visibility == VisibilityDirect {
		return false
	}
	if r := st.InReplyToAccountID; r != nil && *r != st.AccountID && *r != l.AccountID {
		switch {
		case l.RepliesPolicy == RepliesFollowed && ownerFollows[*r] != nil:
		case l.RepliesPolicy == RepliesList && members[*r]:
		default:
			return false
		}
	}
	if st.ReblogOfID != nil {
		if f := ownerFollows[st.AccountID]; f != nil && !f.ShowReblogs {
			return false
		}
	}
	return true
}

// originMember applies PublicQuery's local/remote choice.
func originMember(st *Status, local, remote bool) bool {
	switch {
	case local && !remote:
		return st.Local
	case remote && !local:
		return !st.Local
	}
	return true
}

// publicMember is PublicTimeline's rule: public statuses, no reblogs, no replies to
// someone else.
func publicMember(st *Status, local, remote bool) bool {
	selfThread := (st.InReplyToID == nil && st.InReplyToAccountID == nil) ||
		(st.InReplyToAccountID != nil && *st.InReplyToAccountID == st.AccountID)
	return tagMember(st, local, remote) && selfThread
}

// tagMember is TagTimeline's rule, apart from the tag: public statuses, no reblogs,
// replies included.
func tagMember(st *Status, local, remote bool) bool {
	return st.Visibility == VisibilityPublic && st.ReblogOfID == nil && originMember(st, local, remote)
}
