package community

import (
	"context"
	"errors"
	"fmt"

	"github.com/tacit-social/tacit/media"
)

// What a person's archive is made of (the export package writes it). Every method here
// takes the owner, the account whose data it reads: a person asking for their own, or
// the operator or an admin asking on their behalf (AccountForExport). Nothing here
// shows one person's data to another.

// FollowEntry is one account the owner follows, with the follow's settings.
type FollowEntry struct {
	Account     *Account
	ShowReblogs bool
	Notify      bool
}

// MuteEntry is one account the owner mutes.
type MuteEntry struct {
	Account       *Account
	Notifications bool // the mute hides its notifications too
}

// ListMember is one account in one of the owner's lists.
type ListMember struct {
	Title   string
	Account *Account
}

// AccountForExport returns a local account for an admin who exports it on the
// person's request (the admin pages); the operator uses LocalAccount.
func (s *Service) AccountForExport(ctx context.Context, actor *Account, accountID int64) (*Account, error) {
	if err := s.requireAdmin(ctx, actor); err != nil {
		return nil, err
	}
	acct, err := s.accountByID(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if !acct.IsLocal() {
		return nil, Invalid("Only this instance's accounts can be exported here")
	}
	return acct, nil
}

// OwnStatuses returns up to limit of the owner's statuses (boosts included) with ids
// above afterID, oldest first: the archive walks them in pages.
func (s *Service) OwnStatuses(ctx context.Context, owner *Account, afterID int64, limit int) ([]Status, error) {
	var rows []Status
	if err := s.read(ctx).Where("account_id = ? AND id > ?", owner.ID, afterID).
		Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load own statuses: %w", err)
	}
	return rows, nil
}

// OpenOwnMedia opens the original file of one of the owner's uploads.
func (s *Service) OpenOwnMedia(ctx context.Context, owner *Account, m *MediaAttachment) (media.File, error) {
	if s.files == nil || m.AccountID != owner.ID || m.FileKey == "" {
		return nil, ErrNotFound
	}
	f, err := s.files.Open(ctx, m.FileKey+"/"+m.OriginalName)
	if errors.Is(err, media.ErrNotExist) {
		return nil, ErrNotFound
	}
	return f, err
}

// OwnProfileImage returns the upload behind the owner's avatar or header, or nil when
// it has none of its own.
func (s *Service) OwnProfileImage(ctx context.Context, owner *Account, purpose MediaPurpose) (*MediaAttachment, error) {
	current := owner.AvatarURL
	if purpose == PurposeHeader {
		current = owner.HeaderURL
	}
	if current == "" {
		return nil, nil
	}
	var rows []MediaAttachment
	if err := s.read(ctx).Where("account_id = ? AND purpose = ? AND file_key <> ''", owner.ID, purpose).
		Order("id DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load profile images: %w", err)
	}
	for i := range rows {
		if s.MediaURL(rows[i].FileKey+"/"+rows[i].OriginalName) == current {
			return &rows[i], nil
		}
	}
	return nil, nil
}

// OwnFollows returns the accounts the owner follows, newest follow first.
func (s *Service) OwnFollows(ctx context.Context, owner *Account) ([]FollowEntry, error) {
	var rows []Follow
	if err := s.read(ctx).Where("account_id = ?", owner.ID).Order("id DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load follows: %w", err)
	}
	accounts, err := accountsOf(ctx, s, rows, func(f Follow) int64 { return f.TargetAccountID })
	if err != nil {
		return nil, err
	}
	out := make([]FollowEntry, 0, len(rows))
	for _, f := range rows {
		if a := accounts[f.TargetAccountID]; a != nil {
			out = append(out, FollowEntry{Account: a, ShowReblogs: f.ShowReblogs, Notify: f.Notify})
		}
	}
	return out, nil
}

// OwnBlocks returns the accounts the owner blocks, newest first.
func (s *Service) OwnBlocks(ctx context.Context, owner *Account) ([]*Account, error) {
	var rows []Block
	if err := s.read(ctx).Where("account_id = ?", owner.ID).Order("id DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load blocks: %w", err)
	}
	accounts, err := accountsOf(ctx, s, rows, func(b Block) int64 { return b.TargetAccountID })
	if err != nil {
		return nil, err
	}
	out := make([]*Account, 0, len(rows))
	for _, b := range rows {
		if a := accounts[b.TargetAccountID]; a != nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// OwnMutes returns the accounts the owner mutes (mutes that have not expired), newest
// first.
func (s *Service) OwnMutes(ctx context.Context, owner *Account) ([]MuteEntry, error) {
	var rows []Mute
	if err := s.read(ctx).Where("account_id = ? AND (expires_at IS NULL OR expires_at > ?)", owner.ID, s.clock()).
		Order("id DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load mutes: %w", err)
	}
	accounts, err := accountsOf(ctx, s, rows, func(m Mute) int64 { return m.TargetAccountID })
	if err != nil {
		return nil, err
	}
	out := make([]MuteEntry, 0, len(rows))
	for _, m := range rows {
		if a := accounts[m.TargetAccountID]; a != nil {
			out = append(out, MuteEntry{Account: a, Notifications: m.Notifications})
		}
	}
	return out, nil
}

// OwnBookmarkURIs returns the ActivityPub ids of the statuses the owner bookmarked,
// newest bookmark first.
func (s *Service) OwnBookmarkURIs(ctx context.Context, owner *Account) ([]string, error) {
	return s.ownStatusURIs(ctx, "bookmarks", owner)
}

// OwnFavouriteURIs returns the ActivityPub ids of the statuses the owner liked, newest
// like first.
func (s *Service) OwnFavouriteURIs(ctx context.Context, owner *Account) ([]string, error) {
	return s.ownStatusURIs(ctx, "favourites", owner)
}

func (s *Service) ownStatusURIs(ctx context.Context, table string, owner *Account) ([]string, error) {
	uris := []string{}
	err := s.read(ctx).Table(table).Joins("JOIN statuses ON statuses.id = "+table+".status_id").
		Where(table+".account_id = ? AND statuses.uri <> ''", owner.ID).Order(table+".id DESC").
		Pluck("statuses.uri", &uris).Error
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", table, err)
	}
	return uris, nil
}

// OwnListMembers returns the members of the owner's lists, by list title then in the
// order they were added.
func (s *Service) OwnListMembers(ctx context.Context, owner *Account) ([]ListMember, error) {
	var rows []struct {
		Title     string
		AccountID int64
	}
	err := s.read(ctx).Table("list_accounts").Select("lists.title, list_accounts.account_id").
		Joins("JOIN lists ON lists.id = list_accounts.list_id").
		Where("lists.account_id = ?", owner.ID).Order("lists.title, lists.id, list_accounts.id").
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("load list members: %w", err)
	}
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.AccountID)
	}
	accounts, err := s.accountsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]ListMember, 0, len(rows))
	for _, r := range rows {
		if a := accounts[r.AccountID]; a != nil {
			out = append(out, ListMember{Title: r.Title, Account: a})
		}
	}
	return out, nil
}

// accountsOf loads the accounts rows name, by id.
func accountsOf[T any](ctx context.Context, s *Service, rows []T, id func(T) int64) (map[int64]*Account, error) {
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, id(r))
	}
	return s.accountsByID(ctx, ids)
}
