package community

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// MaxPinnedStatuses is how many statuses an account may pin, as on Mastodon.
const MaxPinnedStatuses = 5

// Every interaction is idempotent: doing it twice leaves the same state as once, and
// undoing what was never done succeeds. Each requires the status to be visible to the
// actor (otherwise ErrNotFound), and a reblog stands for the status it shares, as on
// Mastodon, so that clients may send either id.

// interactionTarget returns the status an actor interacts with when naming id.
func (s *Service) interactionTarget(ctx context.Context, actor *Account, id int64) (*Status, error) {
	if actor == nil {
		return nil, ErrNotFound
	}
	st, err := s.GetStatus(ctx, AsAccount(actor), id)
	if err != nil {
		return nil, err
	}
	if st.ReblogOfID != nil {
		// GetStatus has checked that the shared status is visible too.
		return s.loadStatusRow(s.read(ctx), *st.ReblogOfID)
	}
	return st, nil
}

// accountTx loads an account inside a transaction.
func accountTx(tx *gorm.DB, id int64) (*Account, error) {
	var a Account
	if err := tx.Take(&a, id).Error; err != nil {
		return nil, notFound(err, "account")
	}
	return &a, nil
}

// Favourite likes a status and returns it (the shared status when id is a reblog).
func (s *Service) Favourite(ctx context.Context, actor *Account, id int64) (*Status, error) {
	st, err := s.interactionTarget(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		fav := Favourite{ID: NewID(), AccountID: actor.ID, StatusID: st.ID, CreatedAt: s.clock()}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&fav)
		if res.Error != nil {
			return fmt.Errorf("create favourite: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil // already liked
		}
		if err := s.recordVote(tx, ev, st.ID, actor, true); err != nil {
			return err
		}
		if err := tx.Model(&Status{}).Where("id = ?", st.ID).
			UpdateColumn("favourites_count", gorm.Expr("favourites_count + 1")).Error; err != nil {
			return fmt.Errorf("count favourite: %w", err)
		}
		author, err := accountTx(tx, st.AccountID)
		if err != nil {
			return err
		}
		if err := s.notify(tx, ev, author, actor.ID, NotifyFavourite, &st.ID); err != nil {
			return err
		}
		*ev = append(*ev, Favourited{Favourite: fav})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.loadStatusRow(s.read(ctx), st.ID)
}

// Unfavourite takes a like back and returns the status.
func (s *Service) Unfavourite(ctx context.Context, actor *Account, id int64) (*Status, error) {
	st, err := s.interactionTarget(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		var fav Favourite
		err := tx.Where("account_id = ? AND status_id = ?", actor.ID, st.ID).Take(&fav).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("load favourite: %w", err)
		}
		res := tx.Delete(&Favourite{}, fav.ID)
		if res.Error != nil {
			return fmt.Errorf("delete favourite: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil // taken back meanwhile
		}
		if err := s.recordVote(tx, ev, st.ID, actor, false); err != nil {
			return err
		}
		if err := tx.Model(&Status{}).Where("id = ?", st.ID).
			UpdateColumn("favourites_count", decrement("favourites_count")).Error; err != nil {
			return fmt.Errorf("uncount favourite: %w", err)
		}
		// As on Mastodon, a like taken back no longer shows in the author's notifications.
		if err := tx.Where("account_id = ? AND from_account_id = ? AND type = ? AND status_id = ?",
			st.AccountID, actor.ID, NotifyFavourite, st.ID).Delete(&Notification{}).Error; err != nil {
			return fmt.Errorf("delete favourite notification: %w", err)
		}
		*ev = append(*ev, Favourited{Favourite: fav, Undone: true})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.loadStatusRow(s.read(ctx), st.ID)
}

// Reblog shares a status on the actor's profile and returns the reblog. Only public
// and unlisted statuses may be shared, or one's own private ones (to one's followers
// again); never direct messages. visibility is public (the default), unlisted or
// private; the reblog of a private status is private. The reblog keeps the original's scope, so
// sharing never widens who may read it.
func (s *Service) Reblog(ctx context.Context, actor *Account, id int64, visibility Visibility) (*Status, error) {
	orig, err := s.interactionTarget(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	switch orig.Visibility {
	case VisibilityDirect:
		return nil, ErrForbidden
	case VisibilityPrivate:
		if orig.AccountID != actor.ID {
			return nil, ErrForbidden
		}
	}
	if visibility == "" {
		visibility = VisibilityPublic
	}
	switch visibility {
	case VisibilityPublic, VisibilityUnlisted, VisibilityPrivate:
	default:
		return nil, Invalid("Visibility %q is not one of public, unlisted, private", visibility)
	}
	if orig.Visibility == VisibilityPrivate {
		visibility = VisibilityPrivate
	}

	now := s.clock()
	reblog := &Status{
		ID:         NewID(),
		AccountID:  actor.ID,
		ReblogOfID: &orig.ID,
		Visibility: visibility,
		Scope:      orig.Scope,
		Local:      true,
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	reblog.URI = s.StatusURI(actor.Username, reblog.ID) + "/activity"
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		// The unique index on (reblog_of_id, account_id) decides between concurrent reblogs.
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(reblog)
		if res.Error != nil {
			return fmt.Errorf("create reblog: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			existing := Status{}
			if err := tx.Where("reblog_of_id = ? AND account_id = ?", orig.ID, actor.ID).Take(&existing).Error; err != nil {
				return fmt.Errorf("load reblog: %w", err)
			}
			reblog = &existing
			return nil
		}
		if err := s.countNewStatus(tx, reblog); err != nil {
			return err
		}
		author, err := accountTx(tx, orig.AccountID)
		if err != nil {
			return err
		}
		if err := s.notify(tx, ev, author, actor.ID, NotifyReblog, &orig.ID); err != nil {
			return err
		}
		*ev = append(*ev, StatusCreated{Status: *reblog})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return reblog, nil
}

// Unreblog removes the actor's reblog of a status and returns the status.
func (s *Service) Unreblog(ctx context.Context, actor *Account, id int64) (*Status, error) {
	orig, err := s.interactionTarget(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		var reblog Status
		err := tx.Where("reblog_of_id = ? AND account_id = ?", orig.ID, actor.ID).Take(&reblog).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("load reblog: %w", err)
		}
		removed, err := s.removeStatusRow(tx, &reblog)
		if err != nil || !removed {
			return err
		}
		*ev = append(*ev, StatusDeleted{Status: reblog})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.loadStatusRow(s.read(ctx), orig.ID)
}

// Bookmark saves a status privately and returns it.
func (s *Service) Bookmark(ctx context.Context, actor *Account, id int64) (*Status, error) {
	st, err := s.interactionTarget(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	b := Bookmark{ID: NewID(), AccountID: actor.ID, StatusID: st.ID, CreatedAt: s.clock()}
	if err := s.read(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&b).Error; err != nil {
		return nil, fmt.Errorf("create bookmark: %w", err)
	}
	return st, nil
}

// Unbookmark removes a bookmark and returns the status.
func (s *Service) Unbookmark(ctx context.Context, actor *Account, id int64) (*Status, error) {
	st, err := s.interactionTarget(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if err := s.read(ctx).Where("account_id = ? AND status_id = ?", actor.ID, st.ID).Delete(&Bookmark{}).Error; err != nil {
		return nil, fmt.Errorf("delete bookmark: %w", err)
	}
	return st, nil
}

// Pin shows one of the actor's own statuses at the top of their profile. Direct
// messages and reblogs cannot be pinned, and at most MaxPinnedStatuses can be.
func (s *Service) Pin(ctx context.Context, actor *Account, id int64) (*Status, error) {
	if actor == nil {
		return nil, ErrNotFound
	}
	st, err := s.GetStatus(ctx, AsAccount(actor), id)
	if err != nil {
		return nil, err
	}
	switch {
	case st.ReblogOfID != nil:
		return nil, Invalid("Validation failed: Boosts cannot be pinned")
	case st.AccountID != actor.ID:
		return nil, Invalid("Validation failed: Someone else's post cannot be pinned")
	case st.Visibility == VisibilityDirect:
		return nil, Invalid("Validation failed: Posts that are only visible to mentioned users cannot be pinned")
	}
	err = s.tx(ctx, func(tx *gorm.DB, _ *[]Event) error {
		// Touching the account row makes concurrent pins by one account take turns on
		// PostgreSQL (SQLite's write transactions already do), so the limit holds.
		if err := tx.Model(&Account{}).Where("id = ?", actor.ID).
			UpdateColumn("updated_at", gorm.Expr("updated_at")).Error; err != nil {
			return fmt.Errorf("lock account: %w", err)
		}
		var pinned []int64
		if err := tx.Model(&StatusPin{}).Where("account_id = ?", actor.ID).Pluck("status_id", &pinned).Error; err != nil {
			return fmt.Errorf("load pins: %w", err)
		}
		for _, p := range pinned {
			if p == st.ID {
				return nil
			}
		}
		if len(pinned) >= MaxPinnedStatuses {
			return Invalid("Validation failed: You have already pinned the maximum number of posts")
		}
		pin := StatusPin{ID: NewID(), AccountID: actor.ID, StatusID: st.ID, CreatedAt: s.clock()}
		if err := tx.Create(&pin).Error; err != nil {
			return fmt.Errorf("create pin: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// Unpin takes a status off the actor's profile and returns it.
func (s *Service) Unpin(ctx context.Context, actor *Account, id int64) (*Status, error) {
	if actor == nil {
		return nil, ErrNotFound
	}
	st, err := s.GetStatus(ctx, AsAccount(actor), id)
	if err != nil {
		return nil, err
	}
	if err := s.read(ctx).Where("account_id = ? AND status_id = ?", actor.ID, st.ID).Delete(&StatusPin{}).Error; err != nil {
		return nil, fmt.Errorf("delete pin: %w", err)
	}
	return st, nil
}

// InteractionPage is one page of the accounts that favourited or reblogged a status,
// with the ids (of the favourites or reblogs) that the page spans, for paging further.
type InteractionPage struct {
	Accounts []*Account
	// NewestID and OldestID are 0 when the page is empty.
	NewestID, OldestID int64
}

// FavouritedBy lists who liked a status the viewer may see, most recent first.
func (s *Service) FavouritedBy(ctx context.Context, v Viewer, id int64, p Page) (*InteractionPage, error) {
	st, err := s.GetStatus(ctx, v, id)
	if err != nil {
		return nil, err
	}
	if st.ReblogOfID != nil {
		st = &Status{ID: *st.ReblogOfID}
	}
	favs, err := findPage[Favourite](s.read(ctx).Where("status_id = ?", st.ID), p, "id", "favourites")
	if err != nil {
		return nil, err
	}
	page := &InteractionPage{Accounts: []*Account{}}
	ids := make([]int64, len(favs))
	for i, f := range favs {
		ids[i] = f.AccountID
	}
	if len(favs) > 0 {
		page.NewestID, page.OldestID = favs[0].ID, favs[len(favs)-1].ID
	}
	return s.fillInteractionPage(ctx, v, page, ids)
}

// RebloggedBy lists who shared a status the viewer may see, most recent first. Only
// reblogs the viewer could see themselves are listed.
func (s *Service) RebloggedBy(ctx context.Context, v Viewer, id int64, p Page) (*InteractionPage, error) {
	st, err := s.GetStatus(ctx, v, id)
	if err != nil {
		return nil, err
	}
	if st.ReblogOfID != nil {
		st = &Status{ID: *st.ReblogOfID}
	}
	q := s.read(ctx).Model(&Status{}).Where("statuses.reblog_of_id = ?", st.ID).Scopes(s.visibleSQL(v))
	reblogs, err := findPage[Status](q, p, "statuses.id", "reblogs")
	if err != nil {
		return nil, err
	}
	page := &InteractionPage{Accounts: []*Account{}}
	if len(reblogs) > 0 {
		page.NewestID, page.OldestID = reblogs[0].ID, reblogs[len(reblogs)-1].ID
	}
	visible, err := s.FilterVisible(ctx, v, reblogs)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(visible))
	for i, r := range visible {
		ids[i] = r.AccountID
	}
	return s.fillInteractionPage(ctx, v, page, ids)
}

func (s *Service) fillInteractionPage(ctx context.Context, v Viewer, page *InteractionPage, accountIDs []int64) (*InteractionPage, error) {
	accounts, err := s.accountsByID(ctx, accountIDs)
	if err != nil {
		return nil, err
	}
	var list []*Account
	for _, id := range accountIDs {
		if a := accounts[id]; a != nil {
			list = append(list, a)
		}
	}
	// Only the accounts the viewer may see; the page keys stay those of the rows read.
	visible, err := s.VisibleAccounts(ctx, v, list)
	if err != nil {
		return nil, err
	}
	page.Accounts = append(page.Accounts, visible...)
	return page, nil
}
