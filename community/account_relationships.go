package community

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// FollowRequestCount is how many follow requests wait for the account's approval.
func (s *Service) FollowRequestCount(ctx context.Context, accountID int64) (int64, error) {
	var n int64
	if err := s.read(ctx).Model(&FollowRequest{}).Where("target_account_id = ?", accountID).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count follow requests: %w", err)
	}
	return n, nil
}

// RelationshipFacts is how one account (the viewer) stands towards another (ID).
type RelationshipFacts struct {
	ID                  int64
	Following           bool
	ShowingReblogs      bool
	Notifying           bool
	FollowedBy          bool
	Blocking            bool
	BlockedBy           bool
	Muting              bool
	MutingNotifications bool
	MutingExpiresAt     *time.Time
	Requested           bool
	RequestedBy         bool
	// Endorsed: the viewer features the account on their profile.
	Endorsed bool
}

// MaxRelationshipIDs bounds one Relationships call, so that a single request cannot
// build an unbounded IN list.
const MaxRelationshipIDs = 1000

// Relationships reports how viewerID stands towards each of ids, in the order asked,
// once per account; ids of unknown accounts are left out, as Mastodon does. It costs one
// query per kind of relation whatever the number of ids.
func (s *Service) Relationships(ctx context.Context, viewerID int64, ids []int64) ([]RelationshipFacts, error) {
	ids = uniqueIDs(ids)
	if len(ids) == 0 {
		return []RelationshipFacts{}, nil
	}
	if len(ids) > MaxRelationshipIDs {
		return nil, Invalid("Too many accounts (maximum is %d)", MaxRelationshipIDs)
	}
	db := s.read(ctx)
	var known []int64
	if err := db.Model(&Account{}).Where("id IN ?", ids).Pluck("id", &known).Error; err != nil {
		return nil, fmt.Errorf("load accounts: %w", err)
	}
	exists := make(map[int64]bool, len(known))
	for _, id := range known {
		exists[id] = true
	}
	facts := make(map[int64]*RelationshipFacts, len(known))
	out := make([]RelationshipFacts, 0, len(known))
	for _, id := range ids {
		if exists[id] {
			out = append(out, RelationshipFacts{ID: id})
		}
	}
	for i := range out {
		facts[out[i].ID] = &out[i]
	}
	if len(out) == 0 {
		return out, nil
	}
	// In both directions: the viewer's own rows and the rows pointing at the viewer.
	both := "(account_id = ? AND target_account_id IN ?) OR (target_account_id = ? AND account_id IN ?)"

	// An endorsement hangs off the viewer's follow, so it comes with the follows.
	var follows []struct {
		Follow   `gorm:"embedded"`
		Endorsed bool
	}
	if err := db.Table("follows").
		Select("follows.*, EXISTS (SELECT 1 FROM account_pins WHERE account_pins.follow_id = follows.id) AS endorsed").
		Where(both, viewerID, known, viewerID, known).Find(&follows).Error; err != nil {
		return nil, fmt.Errorf("load follows: %w", err)
	}
	for _, f := range follows {
		if f.AccountID == viewerID {
			if r := facts[f.TargetAccountID]; r != nil {
				r.Following, r.ShowingReblogs, r.Notifying, r.Endorsed = true, f.ShowReblogs, f.Notify, f.Endorsed
			}
		}
		if f.TargetAccountID == viewerID {
			if r := facts[f.AccountID]; r != nil {
				r.FollowedBy = true
			}
		}
	}

	var requests []FollowRequest
	if err := db.Where(both, viewerID, known, viewerID, known).Find(&requests).Error; err != nil {
		return nil, fmt.Errorf("load follow requests: %w", err)
	}
	for _, fr := range requests {
		if fr.AccountID == viewerID {
			if r := facts[fr.TargetAccountID]; r != nil && !r.Following {
				// Mastodon shows the options the request will carry once accepted.
				r.Requested, r.ShowingReblogs, r.Notifying = true, fr.ShowReblogs, fr.Notify
			}
		}
		if fr.TargetAccountID == viewerID {
			if r := facts[fr.AccountID]; r != nil {
				r.RequestedBy = true
			}
		}
	}

	var blocks []Block
	if err := db.Where(both, viewerID, known, viewerID, known).Find(&blocks).Error; err != nil {
		return nil, fmt.Errorf("load blocks: %w", err)
	}
	for _, b := range blocks {
		if b.AccountID == viewerID {
			if r := facts[b.TargetAccountID]; r != nil {
				r.Blocking = true
			}
		}
		if b.TargetAccountID == viewerID {
			if r := facts[b.AccountID]; r != nil {
				r.BlockedBy = true
			}
		}
	}

	var mutes []Mute
	if err := db.Where("account_id = ? AND target_account_id IN ?", viewerID, known).
		Scopes(s.activeMutes).Find(&mutes).Error; err != nil {
		return nil, fmt.Errorf("load mutes: %w", err)
	}
	for _, m := range mutes {
		if r := facts[m.TargetAccountID]; r != nil {
			r.Muting, r.MutingNotifications, r.MutingExpiresAt = true, m.Notifications, m.ExpiresAt
		}
	}

	return out, nil
}

// Relationship is Relationships for a single account; ErrNotFound if it does not exist.
func (s *Service) Relationship(ctx context.Context, viewerID, targetID int64) (*RelationshipFacts, error) {
	list, err := s.Relationships(ctx, viewerID, []int64{targetID})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, ErrNotFound
	}
	return &list[0], nil
}

// activeMutes keeps the mutes that have not expired: an expired mute is no mute at all,
// even before anything cleans it up.
func (s *Service) activeMutes(db *gorm.DB) *gorm.DB {
	return db.Where("(mutes.expires_at IS NULL OR mutes.expires_at > ?)", s.clock())
}

// FollowOptions are the settings of a follow; nil leaves the current value (or the
// default for a new follow: reblogs shown, no notifications).
type FollowOptions struct {
	Reblogs *bool
	Notify  *bool
	// URI is the id of the Follow activity a remote follower sent. It is kept with the
	// follow so that the Accept echoes it and a later Undo or Reject names it: some
	// servers (GoToSocial) find follows by that id alone.
	URI string
}

// followURI is the id of the Follow activity a local account sends to a remote one,
// from the follow request's id. It is stored with the follow so that the Undo sent
// later embeds the very Follow the other server knows.
func followURI(actor *Account, requestID int64) string {
	return actor.URI + "#follows/" + FormatID(requestID)
}

// Follow makes actor follow the target, or asks to when the target approves followers
// by hand (locked) or lives on another server (which answers later). Following again
// only updates the options. Accounts that block each other cannot follow.
func (s *Service) Follow(ctx context.Context, actor *Account, targetID int64, opt FollowOptions) error {
	if actor.ID == targetID {
		return Invalid("You cannot follow yourself")
	}
	// Nobody follows an account they may not see (a suspended one, a department board
	// of another instance): it answers as if it did not exist.
	target, err := s.AccountFor(ctx, AsAccount(actor), targetID)
	if err != nil {
		return err
	}
	if !actor.IsLocal() && !target.IsLocal() {
		return Invalid("Neither account lives on this server")
	}
	reblogs, notify := true, false
	if opt.Reblogs != nil {
		reblogs = *opt.Reblogs
	}
	if opt.Notify != nil {
		notify = *opt.Notify
	}
	changes := map[string]any{}
	if opt.Reblogs != nil {
		changes["show_reblogs"] = *opt.Reblogs
	}
	if opt.Notify != nil {
		changes["notify"] = *opt.Notify
	}
	return s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		blocked, err := s.blockedEitherWay(tx, actor.ID, target.ID)
		if err != nil {
			return err
		}
		if blocked {
			return ErrForbidden
		}
		// Already following or asking: only the options change. A remote follower that
		// asks again (with a new Follow id, or the same one) gets its answer again, as
		// Mastodon does: its server may have lost the first.
		if opt.URI != "" && !actor.IsLocal() {
			changes["uri"] = opt.URI
		}
		for i, model := range []any{&Follow{}, &FollowRequest{}} {
			q := tx.Model(model).Where("account_id = ? AND target_account_id = ?", actor.ID, target.ID)
			var n int64
			if err := q.Count(&n).Error; err != nil {
				return fmt.Errorf("check follow: %w", err)
			}
			if n == 0 {
				continue
			}
			if len(changes) > 0 {
				if err := tx.Model(model).Where("account_id = ? AND target_account_id = ?", actor.ID, target.ID).
					Updates(changes).Error; err != nil {
					return fmt.Errorf("update follow options: %w", err)
				}
			}
			if i == 0 && !actor.IsLocal() {
				var f Follow
				if err := tx.Where("account_id = ? AND target_account_id = ?", actor.ID, target.ID).Take(&f).Error; err != nil {
					return fmt.Errorf("read follow: %w", err)
				}
				*ev = append(*ev, Followed{Follow: f, Repeated: true})
			}
			return nil
		}
		now := s.clock()
		uri := ""
		if !actor.IsLocal() {
			uri = opt.URI
		}
		if target.Locked || !target.IsLocal() {
			fr := FollowRequest{ID: NewID(), AccountID: actor.ID, TargetAccountID: target.ID,
				ShowReblogs: reblogs, Notify: notify, URI: uri, CreatedAt: now}
			if actor.IsLocal() {
				fr.URI = followURI(actor, fr.ID)
			}
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&fr)
			if res.Error != nil {
				return fmt.Errorf("create follow request: %w", res.Error)
			}
			if res.RowsAffected == 0 {
				return nil
			}
			*ev = append(*ev, Followed{Follow: Follow(fr), Pending: true})
			return s.notify(tx, ev, target, actor.ID, NotifyFollowRequest, nil)
		}
		f := Follow{ID: NewID(), AccountID: actor.ID, TargetAccountID: target.ID,
			ShowReblogs: reblogs, Notify: notify, URI: uri, CreatedAt: now}
		inserted, err := s.insertFollow(tx, &f)
		if err != nil || !inserted {
			return err
		}
		*ev = append(*ev, Followed{Follow: f})
		return s.notify(tx, ev, target, actor.ID, NotifyFollow, nil)
	})
}

// insertFollow stores a follow and counts it on both accounts, unless an identical
// follow already exists (a concurrent request won the race).
func (s *Service) insertFollow(tx *gorm.DB, f *Follow) (bool, error) {
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(f)
	if res.Error != nil {
		return false, fmt.Errorf("create follow: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return false, nil
	}
	if err := addCount(tx, f.AccountID, "following_count", 1); err != nil {
		return false, err
	}
	if err := addCount(tx, f.TargetAccountID, "followers_count", 1); err != nil {
		return false, err
	}
	return true, nil
}

// addCount moves one of an account's counters; it never goes below zero.
func addCount(tx *gorm.DB, accountID int64, col string, delta int) error {
	expr := gorm.Expr(col+" + ?", delta)
	if delta < 0 {
		expr = gorm.Expr("CASE WHEN "+col+" + ? < 0 THEN 0 ELSE "+col+" + ? END", delta, delta)
	}
	if err := tx.Model(&Account{}).Where("id = ?", accountID).UpdateColumn(col, expr).Error; err != nil {
		return fmt.Errorf("update %s: %w", col, err)
	}
	return nil
}

func (s *Service) blockedEitherWay(tx *gorm.DB, a, b int64) (bool, error) {
	var n int64
	err := tx.Model(&Block{}).Where("(account_id = ? AND target_account_id = ?) OR (account_id = ? AND target_account_id = ?)",
		a, b, b, a).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("check blocks: %w", err)
	}
	return n > 0, nil
}

// removeFollow ends the follow from → to, if any, with its counters and the
// notification it caused (Mastodon drops it with the follow). byTarget says the
// followed account ended it. It reports whether a follow or a pending request was
// removed.
func (s *Service) removeFollow(tx *gorm.DB, ev *[]Event, from, to int64, byTarget bool) (bool, error) {
	// The Follow activity's id goes with the event, for the Undo or Reject that names it.
	var uris []string
	for _, model := range []any{&Follow{}, &FollowRequest{}} {
		var got []string
		if err := tx.Model(model).Where("account_id = ? AND target_account_id = ?", from, to).Pluck("uri", &got).Error; err != nil {
			return false, fmt.Errorf("read follow: %w", err)
		}
		uris = append(uris, got...)
	}
	uri := ""
	for _, u := range uris {
		if u != "" {
			uri = u
			break
		}
	}
	res := tx.Where("account_id = ? AND target_account_id = ?", from, to).Delete(&Follow{})
	if res.Error != nil {
		return false, fmt.Errorf("delete follow: %w", res.Error)
	}
	followed := res.RowsAffected > 0
	if followed {
		if err := addCount(tx, from, "following_count", -1); err != nil {
			return false, err
		}
		if err := addCount(tx, to, "followers_count", -1); err != nil {
			return false, err
		}
	}
	res = tx.Where("account_id = ? AND target_account_id = ?", from, to).Delete(&FollowRequest{})
	if res.Error != nil {
		return false, fmt.Errorf("delete follow request: %w", res.Error)
	}
	requested := res.RowsAffected > 0
	if !followed && !requested {
		return false, nil
	}
	if err := tx.Where("account_id = ? AND from_account_id = ? AND type IN ?", to, from,
		[]NotificationType{NotifyFollow, NotifyFollowRequest}).Delete(&Notification{}).Error; err != nil {
		return false, fmt.Errorf("delete follow notifications: %w", err)
	}
	*ev = append(*ev, Unfollowed{AccountID: from, TargetAccountID: to, URI: uri, ByTarget: byTarget})
	return true, nil
}

// Unfollow ends actor's follow of the target, or withdraws the pending request.
func (s *Service) Unfollow(ctx context.Context, actor *Account, targetID int64) error {
	if _, err := s.accountByID(ctx, targetID); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		_, err := s.removeFollow(tx, ev, actor.ID, targetID, false)
		return err
	})
}

// RemoveFollower ends followerID's follow of target (or its pending request) on the
// target's behalf: a remote account rejecting a follow it had accepted, as Mastodon's
// "remove follower" does.
func (s *Service) RemoveFollower(ctx context.Context, target *Account, followerID int64) error {
	if _, err := s.accountByID(ctx, followerID); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		removed, err := s.removeFollow(tx, ev, followerID, target.ID, true)
		if err == nil && !removed {
			return ErrNotFound
		}
		return err
	})
}

// AuthorizeFollowRequest accepts the request requesterID sent to target. As in
// Mastodon, nobody is notified: the target acted, and the requester simply sees the
// follow take effect.
func (s *Service) AuthorizeFollowRequest(ctx context.Context, target *Account, requesterID int64) error {
	return s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		var fr FollowRequest
		if err := tx.Where("account_id = ? AND target_account_id = ?", requesterID, target.ID).Take(&fr).Error; err != nil {
			return notFound(err, "follow request")
		}
		if err := tx.Delete(&fr).Error; err != nil {
			return fmt.Errorf("delete follow request: %w", err)
		}
		if err := s.dropRequestNotification(tx, target.ID, requesterID); err != nil {
			return err
		}
		f := Follow{ID: NewID(), AccountID: fr.AccountID, TargetAccountID: fr.TargetAccountID,
			ShowReblogs: fr.ShowReblogs, Notify: fr.Notify, URI: fr.URI, CreatedAt: s.clock()}
		inserted, err := s.insertFollow(tx, &f)
		if err != nil || !inserted {
			return err
		}
		*ev = append(*ev, Followed{Follow: f})
		return nil
	})
}

// RejectFollowRequest declines the request requesterID sent to target.
func (s *Service) RejectFollowRequest(ctx context.Context, target *Account, requesterID int64) error {
	return s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		var uris []string
		if err := tx.Model(&FollowRequest{}).Where("account_id = ? AND target_account_id = ?", requesterID, target.ID).
			Pluck("uri", &uris).Error; err != nil {
			return fmt.Errorf("read follow request: %w", err)
		}
		res := tx.Where("account_id = ? AND target_account_id = ?", requesterID, target.ID).Delete(&FollowRequest{})
		if res.Error != nil {
			return fmt.Errorf("delete follow request: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		if err := s.dropRequestNotification(tx, target.ID, requesterID); err != nil {
			return err
		}
		uri := ""
		if len(uris) > 0 {
			uri = uris[0]
		}
		*ev = append(*ev, Unfollowed{AccountID: requesterID, TargetAccountID: target.ID, URI: uri, ByTarget: true})
		return nil
	})
}

// dropRequestNotification removes the follow_request notification once the request is
// answered, as Mastodon does: it would otherwise offer to answer it again.
func (s *Service) dropRequestNotification(tx *gorm.DB, targetID, requesterID int64) error {
	err := tx.Where("account_id = ? AND from_account_id = ? AND type = ?", targetID, requesterID, NotifyFollowRequest).
		Delete(&Notification{}).Error
	if err != nil {
		return fmt.Errorf("delete follow request notification: %w", err)
	}
	return nil
}

// Block makes actor block the target: follows and follow requests end in both
// directions, and each stops seeing the other's posts.
func (s *Service) Block(ctx context.Context, actor *Account, targetID int64) error {
	if actor.ID == targetID {
		return Invalid("You cannot block yourself")
	}
	if _, err := s.accountByID(ctx, targetID); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		b := Block{ID: NewID(), AccountID: actor.ID, TargetAccountID: targetID, CreatedAt: s.clock()}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&b)
		if res.Error != nil {
			return fmt.Errorf("create block: %w", res.Error)
		}
		if res.RowsAffected == 1 {
			*ev = append(*ev, Blocked{Block: b})
		}
		if _, err := s.removeFollow(tx, ev, actor.ID, targetID, false); err != nil {
			return err
		}
		_, err := s.removeFollow(tx, ev, targetID, actor.ID, true)
		return err
	})
}

// Unblock lifts actor's block of the target. Follows ended by the block stay ended.
func (s *Service) Unblock(ctx context.Context, actor *Account, targetID int64) error {
	if _, err := s.accountByID(ctx, targetID); err != nil {
		return err
	}
	var b Block
	err := s.read(ctx).Where("account_id = ? AND target_account_id = ?", actor.ID, targetID).Take(&b).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load block: %w", err)
	}
	res := s.db.WithContext(ctx).Delete(&Block{}, b.ID)
	if res.Error != nil {
		return fmt.Errorf("delete block: %w", res.Error)
	}
	if res.RowsAffected == 1 {
		s.events.Publish(ctx, Blocked{Block: b, Undone: true})
	}
	return nil
}

// MaxMuteDuration bounds a timed mute (a year); longer means "forever" (0).
const MaxMuteDuration = 365 * 24 * 60 * 60

// Mute hides the target's posts from actor, and their notifications too when
// notifications is true. duration is in seconds; 0 mutes until undone. Muting again
// replaces the settings.
func (s *Service) Mute(ctx context.Context, actor *Account, targetID int64, notifications bool, duration int) error {
	if actor.ID == targetID {
		return Invalid("You cannot mute yourself")
	}
	if duration < 0 {
		return Invalid("Duration must be a positive number of seconds, or 0")
	}
	if duration > MaxMuteDuration {
		return Invalid("Duration is too long (maximum is %d seconds; 0 mutes indefinitely)", MaxMuteDuration)
	}
	if _, err := s.accountByID(ctx, targetID); err != nil {
		return err
	}
	now := s.clock()
	m := Mute{ID: NewID(), AccountID: actor.ID, TargetAccountID: targetID, Notifications: notifications, CreatedAt: now}
	if duration > 0 {
		exp := now.Add(time.Duration(duration) * time.Second)
		m.ExpiresAt = &exp
	}
	return s.tx(ctx, func(tx *gorm.DB, _ *[]Event) error {
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&m).Error; err != nil {
			return fmt.Errorf("create mute: %w", err)
		}
		// Set the options in a second statement, so that muting again updates an
		// existing mute's options.
		err := tx.Model(&Mute{}).Where("account_id = ? AND target_account_id = ?", actor.ID, targetID).
			Updates(map[string]any{"notifications": notifications, "expires_at": m.ExpiresAt}).Error
		if err != nil {
			return fmt.Errorf("update mute: %w", err)
		}
		return nil
	})
}

// Unmute lifts actor's mute of the target.
func (s *Service) Unmute(ctx context.Context, actor *Account, targetID int64) error {
	if _, err := s.accountByID(ctx, targetID); err != nil {
		return err
	}
	err := s.read(ctx).Where("account_id = ? AND target_account_id = ?", actor.ID, targetID).Delete(&Mute{}).Error
	if err != nil {
		return fmt.Errorf("delete mute: %w", err)
	}
	return nil
}

// RelatedAccounts is a page of accounts listed through a relation (follows, blocks,
// mutes, requests). The list is paged by the relation's ids, not the accounts', so
// NewestID and OldestID are those; both are 0 for an empty page.
type RelatedAccounts struct {
	Accounts []*Account
	NewestID int64
	OldestID int64
}

// relationRef is one row of a relation: its id (the paging key) and the other account.
type relationRef struct {
	ID  int64
	Ref int64
}

// relatedAccounts pages q (a query on a relation table) by id and loads the accounts
// named by refCol, in the relation's order. With a viewer, only the accounts the
// viewer may see are listed; without, the list is its owner's own (blocks, mutes,
// requests) and lists everyone, so that they can be undone.
func (s *Service) relatedAccounts(ctx context.Context, v *Viewer, q *gorm.DB, p Page, refCol, what string) (*RelatedAccounts, error) {
	p = p.Normalize(DefaultLimit, MaxLimit*2)
	rows, err := findPage[relationRef](q.Select("id, "+refCol+" AS ref"), p, "id", what)
	if err != nil {
		return nil, err
	}
	out := &RelatedAccounts{Accounts: make([]*Account, 0, len(rows))}
	if len(rows) == 0 {
		return out, nil
	}
	out.NewestID, out.OldestID = rows[0].ID, rows[len(rows)-1].ID
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.Ref
	}
	accounts, err := s.accountsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if a := accounts[r.Ref]; a != nil {
			out.Accounts = append(out.Accounts, a)
		}
	}
	if v != nil {
		// The page keys above come from the rows read, so paging never skips anyone.
		if out.Accounts, err = s.VisibleAccounts(ctx, *v, out.Accounts); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Followers lists the accounts that follow accountID, most recent follows first. An
// account that blocks the viewer shows them nobody.
func (s *Service) Followers(ctx context.Context, v Viewer, accountID int64, p Page) (*RelatedAccounts, error) {
	if hidden, err := s.hiddenFrom(ctx, v, accountID); err != nil || hidden {
		return &RelatedAccounts{Accounts: []*Account{}}, err
	}
	return s.relatedAccounts(ctx, &v, s.read(ctx).Model(&Follow{}).Where("target_account_id = ?", accountID),
		p, "account_id", "followers")
}

// Following lists the accounts accountID follows, most recent follows first.
func (s *Service) Following(ctx context.Context, v Viewer, accountID int64, p Page) (*RelatedAccounts, error) {
	if hidden, err := s.hiddenFrom(ctx, v, accountID); err != nil || hidden {
		return &RelatedAccounts{Accounts: []*Account{}}, err
	}
	return s.relatedAccounts(ctx, &v, s.read(ctx).Model(&Follow{}).Where("account_id = ?", accountID),
		p, "target_account_id", "following")
}

// hiddenFrom checks that the account exists and that the viewer may see it
// (ErrNotFound otherwise), and reports whether it blocks the viewer, in which case its
// lists look empty to them.
func (s *Service) hiddenFrom(ctx context.Context, v Viewer, accountID int64) (bool, error) {
	if _, err := s.AccountFor(ctx, v, accountID); err != nil {
		return false, err
	}
	me := v.AccountID()
	if me == 0 || me == accountID {
		return false, nil
	}
	var n int64
	if err := s.read(ctx).Model(&Block{}).Where("account_id = ? AND target_account_id = ?", accountID, me).
		Count(&n).Error; err != nil {
		return false, fmt.Errorf("check blocks: %w", err)
	}
	return n > 0, nil
}

// ListFollowRequests lists the accounts waiting for accountID's approval, newest first.
func (s *Service) ListFollowRequests(ctx context.Context, accountID int64, p Page) (*RelatedAccounts, error) {
	return s.relatedAccounts(ctx, nil, s.read(ctx).Model(&FollowRequest{}).Where("target_account_id = ?", accountID),
		p, "account_id", "follow requests")
}

// Blocks lists the accounts accountID blocks, most recent first.
func (s *Service) Blocks(ctx context.Context, accountID int64, p Page) (*RelatedAccounts, error) {
	return s.relatedAccounts(ctx, nil, s.read(ctx).Model(&Block{}).Where("account_id = ?", accountID),
		p, "target_account_id", "blocks")
}

// Mutes lists the accounts accountID mutes (expired mutes excluded), most recent first.
func (s *Service) Mutes(ctx context.Context, accountID int64, p Page) (*RelatedAccounts, error) {
	return s.relatedAccounts(ctx, nil, s.read(ctx).Model(&Mute{}).Where("account_id = ?", accountID).Scopes(s.activeMutes),
		p, "target_account_id", "mutes")
}
