package community

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// AccountDeleted: an account and everything it wrote are gone. For a local account,
// RemoteFollowers are the remote accounts that followed it, whose instances must learn
// of the deletion along with every peer.
type AccountDeleted struct {
	Account         Account
	RemoteFollowers []*Account
}

func (AccountDeleted) eventName() string { return "account.deleted" }

// DeleteLocalAccount deletes a local account for good: its login and tokens, posts,
// follows, favourites and everything else it owns. A tombstone keeps the username
// from being taken again (peers still hold the old actor id) and keeps the key that
// signs the Delete sent to peers.
func (s *Service) DeleteLocalAccount(ctx context.Context, username string) error {
	acct, err := s.LocalAccount(ctx, username)
	if err != nil {
		return err
	}
	// The key must exist before the account goes: the Delete is signed with it.
	private, public, err := s.AccountKeys(ctx, acct.ID)
	if err != nil {
		return err
	}
	// Its uploads go with it: their rows by the cascade, their files once it commits.
	var files []MediaAttachment
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		files = nil
		if err := tx.Where("account_id = ? AND file_key <> ''", acct.ID).Find(&files).Error; err != nil {
			return fmt.Errorf("load media: %w", err)
		}
		var followers []*Account
		err := tx.Where("domain <> '' AND id IN (SELECT account_id FROM follows WHERE target_account_id = ?)", acct.ID).
			Find(&followers).Error
		if err != nil {
			return fmt.Errorf("load remote followers: %w", err)
		}
		tomb := AccountTombstone{
			AccountID: acct.ID, Username: acct.Username, URI: acct.URI,
			PrivateKeyPEM: private, PublicKeyPEM: public, DeletedAt: s.clock(),
		}
		if err := tx.Create(&tomb).Error; err != nil {
			return fmt.Errorf("store account tombstone: %w", err)
		}
		if err := removeAccount(tx, ev, acct.ID); err != nil {
			return err
		}
		*ev = append(*ev, AccountDeleted{Account: *acct, RemoteFollowers: followers})
		return nil
	})
	if err != nil {
		return err
	}
	s.deleteFiles(ctx, files)
	return nil
}

// removeAccount deletes an account row and, by the database's cascades, everything
// that hangs off it, after taking its follows, replies, reblogs and favourites off the
// counters of the accounts and statuses they were counted on.
func removeAccount(tx *gorm.DB, ev *[]Event, accountID int64) error {
	adjust := []struct {
		what, sql string
	}{
		{"followers", `UPDATE accounts SET followers_count = CASE WHEN followers_count > 0 THEN followers_count - 1 ELSE 0 END
			WHERE id IN (SELECT target_account_id FROM follows WHERE account_id = ?)`},
		{"following", `UPDATE accounts SET following_count = CASE WHEN following_count > 0 THEN following_count - 1 ELSE 0 END
			WHERE id IN (SELECT account_id FROM follows WHERE target_account_id = ?)`},
		{"replies", `UPDATE statuses SET replies_count = CASE WHEN replies_count > 0 THEN replies_count - 1 ELSE 0 END
			WHERE id IN (SELECT in_reply_to_id FROM statuses WHERE account_id = ? AND in_reply_to_id IS NOT NULL
				AND visibility IN ('public','unlisted'))`},
		{"reblogs", `UPDATE statuses SET reblogs_count = CASE WHEN reblogs_count > 0 THEN reblogs_count - 1 ELSE 0 END
			WHERE id IN (SELECT reblog_of_id FROM statuses WHERE account_id = ? AND reblog_of_id IS NOT NULL)`},
		{"favourites", `UPDATE statuses SET favourites_count = CASE WHEN favourites_count > 0 THEN favourites_count - 1 ELSE 0 END
			WHERE id IN (SELECT status_id FROM favourites WHERE account_id = ?)`},
	}
	for _, a := range adjust {
		if err := tx.Exec(a.sql, accountID).Error; err != nil {
			return fmt.Errorf("uncount %s: %w", a.what, err)
		}
	}
	var statuses []Status
	if err := tx.Where("account_id = ?", accountID).Find(&statuses).Error; err != nil {
		return fmt.Errorf("load statuses: %w", err)
	}
	// The mentions go with the statuses; live feeds still need them to tell who may
	// have seen each one.
	var mentionRows []Mention
	if err := tx.Where("status_id IN (?)", tx.Model(&Status{}).Select("id").Where("account_id = ?", accountID)).
		Find(&mentionRows).Error; err != nil {
		return fmt.Errorf("load mentions: %w", err)
	}
	mentions := map[int64][]int64{}
	for _, m := range mentionRows {
		mentions[m.StatusID] = append(mentions[m.StatusID], m.AccountID)
	}
	var direct []int64
	for _, st := range statuses {
		if st.Visibility == VisibilityDirect {
			direct = append(direct, st.ID)
		}
	}
	// Others' conversations fall back to their previous status.
	if err := detachFromConversations(tx, direct); err != nil {
		return err
	}
	if err := tx.Delete(&Account{}, accountID).Error; err != nil {
		return fmt.Errorf("delete account: %w", err)
	}
	for _, st := range statuses {
		*ev = append(*ev, StatusDeleted{Status: st, Mentions: mentions[st.ID], WithAccount: true})
	}
	return nil
}

// AccountTombstone finds what remains of a deleted local account, by id or, when id
// is 0, by username.
func (s *Service) AccountTombstone(ctx context.Context, id int64, username string) (*AccountTombstone, error) {
	var t AccountTombstone
	q := s.read(ctx)
	if id != 0 {
		q = q.Where("account_id = ?", id)
	} else {
		q = q.Where("lower(username) = lower(?)", username)
	}
	if err := q.Take(&t).Error; err != nil {
		return nil, notFound(err, "account tombstone")
	}
	return &t, nil
}

// usernameRetired reports whether a deleted local account held username.
func usernameRetired(tx *gorm.DB, username string) (bool, error) {
	var t AccountTombstone
	err := tx.Where("lower(username) = lower(?)", username).Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check deleted usernames: %w", err)
	}
	return true, nil
}
