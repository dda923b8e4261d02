package community

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// RepliesPolicy says which replies by list members a list timeline shows, besides
// replies to the list's owner and self-replies, which it always shows.
type RepliesPolicy string

// The replies policies, as in Mastodon.
const (
	// RepliesFollowed shows replies to any account the owner follows.
	RepliesFollowed RepliesPolicy = "followed"
	// RepliesList shows replies to members of the list.
	RepliesList RepliesPolicy = "list"
	// RepliesNone shows no replies to other people.
	RepliesNone RepliesPolicy = "none"
)

// Limits on lists. Mastodon allows 50 lists; the member limit keeps a list timeline
// query (an IN over the members) bounded.
const (
	MaxLists          = 50
	MaxListAccounts   = 500
	MaxListTitleRunes = 100
)

// List is a named group of accounts the owner follows, with its own timeline.
// Exclusive lists take their members' posts out of the owner's home timeline.
type List struct {
	ID            int64         `gorm:"primaryKey;autoIncrement:false"`
	AccountID     int64         `gorm:"not null"`
	Title         string        `gorm:"not null"`
	RepliesPolicy RepliesPolicy `gorm:"not null;default:'list'"`
	Exclusive     bool          `gorm:"not null;default:false"`
	CreatedAt     time.Time     `gorm:"not null"`
	UpdatedAt     time.Time     `gorm:"not null"`
}

// ListAccount is a member of a list. It belongs to the follow that allows it: when the
// follow ends, the database removes the membership.
type ListAccount struct {
	ID        int64     `gorm:"primaryKey;autoIncrement:false"`
	ListID    int64     `gorm:"not null"`
	AccountID int64     `gorm:"not null"`
	FollowID  int64     `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null"`
}

// ListInput creates or changes a list; nil fields keep their value (or the default).
type ListInput struct {
	Title         *string
	RepliesPolicy *RepliesPolicy
	Exclusive     *bool
}

func (in ListInput) apply(l *List) error {
	if in.Title != nil {
		title := strings.TrimSpace(*in.Title)
		if title == "" {
			return Invalid("Validation failed: Title can't be blank")
		}
		if utf8.RuneCountInString(title) > MaxListTitleRunes {
			return Invalid("Validation failed: Title is too long (maximum is %d characters)", MaxListTitleRunes)
		}
		l.Title = title
	}
	if in.RepliesPolicy != nil {
		switch p := *in.RepliesPolicy; p {
		case RepliesFollowed, RepliesList, RepliesNone:
			l.RepliesPolicy = p
		default:
			return Invalid("Validation failed: Replies policy %q is not one of followed, list, none", p)
		}
	}
	if in.Exclusive != nil {
		l.Exclusive = *in.Exclusive
	}
	return nil
}

// Lists returns the owner's lists, oldest first as Mastodon shows them.
func (s *Service) Lists(ctx context.Context, owner *Account) ([]List, error) {
	if owner == nil {
		return nil, ErrForbidden
	}
	var lists []List
	if err := s.read(ctx).Where("account_id = ?", owner.ID).Order("id").Find(&lists).Error; err != nil {
		return nil, fmt.Errorf("load lists: %w", err)
	}
	return lists, nil
}

// GetList returns one of the owner's lists; anyone else's is not found.
func (s *Service) GetList(ctx context.Context, owner *Account, id int64) (*List, error) {
	if owner == nil {
		return nil, ErrNotFound
	}
	var l List
	if err := s.read(ctx).Where("id = ? AND account_id = ?", id, owner.ID).Take(&l).Error; err != nil {
		return nil, notFound(err, "list")
	}
	return &l, nil
}

// CreateList makes a new list for owner. A title is required.
func (s *Service) CreateList(ctx context.Context, owner *Account, in ListInput) (*List, error) {
	if owner == nil {
		return nil, ErrForbidden
	}
	if in.Title == nil {
		return nil, Invalid("Validation failed: Title can't be blank")
	}
	now := s.clock()
	l := &List{ID: NewID(), AccountID: owner.ID, RepliesPolicy: RepliesList, CreatedAt: now, UpdatedAt: now}
	if err := in.apply(l); err != nil {
		return nil, err
	}
	err := s.tx(ctx, func(tx *gorm.DB, _ *[]Event) error {
		// Locking the owner's row makes concurrent creations count one after the other.
		if err := tx.Model(&Account{}).Where("id = ?", owner.ID).UpdateColumn("updated_at", gorm.Expr("updated_at")).Error; err != nil {
			return fmt.Errorf("lock account: %w", err)
		}
		var n int64
		if err := tx.Model(&List{}).Where("account_id = ?", owner.ID).Count(&n).Error; err != nil {
			return fmt.Errorf("count lists: %w", err)
		}
		if n >= MaxLists {
			return Invalid("Validation failed: You cannot have more than %d lists", MaxLists)
		}
		if err := tx.Create(l).Error; err != nil {
			return fmt.Errorf("create list: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// UpdateList changes one of the owner's lists.
func (s *Service) UpdateList(ctx context.Context, owner *Account, id int64, in ListInput) (*List, error) {
	l, err := s.GetList(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	if err := in.apply(l); err != nil {
		return nil, err
	}
	l.UpdatedAt = s.clock()
	res := s.db.WithContext(ctx).Model(&List{}).Where("id = ? AND account_id = ?", l.ID, owner.ID).
		Select("title", "replies_policy", "exclusive", "updated_at").Updates(l)
	if res.Error != nil {
		return nil, fmt.Errorf("update list: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, ErrNotFound
	}
	return l, nil
}

// DeleteList removes one of the owner's lists with its memberships.
func (s *Service) DeleteList(ctx context.Context, owner *Account, id int64) error {
	if owner == nil {
		return ErrNotFound
	}
	res := s.db.WithContext(ctx).Where("id = ? AND account_id = ?", id, owner.ID).Delete(&List{})
	if res.Error != nil {
		return fmt.Errorf("delete list: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// ListMembers returns a page of a list's members, most recently added first (paged by
// membership id, as Mastodon does). A Limit of 0 returns them all, which Mastodon allows
// for this list only; NewestID and OldestID are then 0 (no further pages).
func (s *Service) ListMembers(ctx context.Context, owner *Account, listID int64, p Page) (*RelatedAccounts, error) {
	if _, err := s.GetList(ctx, owner, listID); err != nil {
		return nil, err
	}
	q := s.read(ctx).Model(&ListAccount{}).Where("list_id = ?", listID)
	if p.Limit > 0 {
		return s.relatedAccounts(ctx, nil, q, p, "account_id", "list members")
	}
	// Everyone: a list has at most MaxListAccounts members.
	var ids []int64
	if err := q.Order("id DESC").Limit(MaxListAccounts).Pluck("account_id", &ids).Error; err != nil {
		return nil, fmt.Errorf("list list members: %w", err)
	}
	accounts, err := s.accountsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := &RelatedAccounts{Accounts: make([]*Account, 0, len(ids))}
	for _, id := range ids {
		if a := accounts[id]; a != nil {
			out.Accounts = append(out.Accounts, a)
		}
	}
	return out, nil
}

// AddToList adds accounts the owner follows to one of their lists. Adding an account
// already there is not an error; adding one the owner does not follow is refused, as in
// Mastodon, since a list timeline shows only what the home timeline could.
func (s *Service) AddToList(ctx context.Context, owner *Account, listID int64, accountIDs []int64) error {
	if _, err := s.GetList(ctx, owner, listID); err != nil {
		return err
	}
	accountIDs = uniqueIDs(accountIDs)
	if len(accountIDs) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *gorm.DB, _ *[]Event) error {
		var follows []Follow
		if err := tx.Where("account_id = ? AND target_account_id IN ?", owner.ID, accountIDs).Find(&follows).Error; err != nil {
			return fmt.Errorf("load follows: %w", err)
		}
		byTarget := make(map[int64]int64, len(follows))
		for _, f := range follows {
			byTarget[f.TargetAccountID] = f.ID
		}
		now := s.clock()
		rows := make([]ListAccount, 0, len(accountIDs))
		for _, id := range accountIDs {
			followID, ok := byTarget[id]
			if !ok {
				var n int64
				if err := tx.Model(&Account{}).Where("id = ?", id).Count(&n).Error; err != nil {
					return fmt.Errorf("check account: %w", err)
				}
				if n == 0 {
					return ErrNotFound
				}
				return Invalid("Validation failed: You must be following this account to add it to a list")
			}
			rows = append(rows, ListAccount{ID: NewID(), ListID: listID, AccountID: id, FollowID: followID, CreatedAt: now})
		}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error; err != nil {
			return fmt.Errorf("add list members: %w", err)
		}
		var n int64
		if err := tx.Model(&ListAccount{}).Where("list_id = ?", listID).Count(&n).Error; err != nil {
			return fmt.Errorf("count list members: %w", err)
		}
		if n > MaxListAccounts {
			return Invalid("Validation failed: A list cannot have more than %d accounts", MaxListAccounts)
		}
		return nil
	})
}

// RemoveFromList takes accounts out of one of the owner's lists.
func (s *Service) RemoveFromList(ctx context.Context, owner *Account, listID int64, accountIDs []int64) error {
	if _, err := s.GetList(ctx, owner, listID); err != nil {
		return err
	}
	if len(accountIDs) == 0 {
		return nil
	}
	if err := s.db.WithContext(ctx).Where("list_id = ? AND account_id IN ?", listID, accountIDs).
		Delete(&ListAccount{}).Error; err != nil {
		return fmt.Errorf("remove list members: %w", err)
	}
	return nil
}

// ListsWith returns the owner's lists that contain an account.
func (s *Service) ListsWith(ctx context.Context, owner *Account, accountID int64) ([]List, error) {
	if owner == nil {
		return nil, ErrForbidden
	}
	if _, err := s.accountByID(ctx, accountID); err != nil {
		return nil, err
	}
	var lists []List
	if err := s.read(ctx).Where("account_id = ? AND id IN (?)", owner.ID,
		s.read(ctx).Model(&ListAccount{}).Select("list_id").Where("account_id = ?", accountID)).
		Order("id").Find(&lists).Error; err != nil {
		return nil, fmt.Errorf("load lists: %w", err)
	}
	return lists, nil
}

// ListTimeline is a list's feed: statuses and reblogs by its members that the owner may
// read, newest first, with replies as the list's replies policy says (replies to the
// owner and self-replies always), leaving out what the owner's filters hide in the home
// context. Direct statuses are not shown in lists (they belong in conversations), and
// reblogs follow the owner's show_reblogs setting for the member, as in the home feed.
// listMember below states the same rule for one status in Go; the two must agree.
func (s *Service) ListTimeline(ctx context.Context, owner *Account, listID int64, p Page) (StatusPage, error) {
	l, err := s.GetList(ctx, owner, listID)
	if err != nil {
		return StatusPage{}, err
	}
	v := AsAccount(owner)
	base := func() *gorm.DB {
		return s.read(ctx).Table("statuses").Select("statuses.*, statuses.id AS page_id").
			Where(`+statuses.account_id IN (SELECT list_accounts.account_id FROM list_accounts WHERE list_accounts.list_id = @list)
			AND statuses.visibility <> 'direct'
			AND (statuses.in_reply_to_account_id IS NULL
				OR statuses.in_reply_to_account_id = statuses.account_id
				OR statuses.in_reply_to_account_id = @me
				OR (@policy = 'followed' AND statuses.in_reply_to_account_id IN
					(SELECT follows.target_account_id FROM follows WHERE follows.account_id = @me))
				OR (@policy = 'list' AND statuses.in_reply_to_account_id IN
					(SELECT list_accounts.account_id FROM list_accounts WHERE list_accounts.list_id = @list)))
			AND (statuses.reblog_of_id IS NULL OR NOT EXISTS (SELECT 1 FROM follows
				WHERE follows.account_id = @me AND follows.target_account_id = statuses.account_id
				AND follows.show_reblogs = FALSE))`,
				map[string]any{"list": l.ID, "me": owner.ID, "policy": string(l.RepliesPolicy)}).
			Scopes(silencedSQL(owner.ID, s.clock()), s.visibleSQL(v))
	}
	return s.statusPage(ctx, v, p, "statuses.id", true, FilterHome, base)
}
