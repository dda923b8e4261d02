package community

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tacit-social/tacit/markup"
)

// Remote accounts: profiles that other instances own, stored as their instance
// describes them within the bounds of remote_status.go.

// RemoteAccount is a profile as another instance describes it.
type RemoteAccount struct {
	URI            string // the actor id; the account's identity
	Username       string
	Domain         string // host[:port] the account lives on
	DisplayName    string
	NoteHTML       string // unsanitized; sanitized here
	URL            string
	InboxURL       string
	SharedInboxURL string
	FollowersURL   string
	PublicKeyPEM   string
	AvatarURL      string
	HeaderURL      string
	Locked         bool
	Bot            bool
	Group          bool
	Discoverable   bool
	Fields         []Field // values unsanitized; sanitized here
	CreatedAt      time.Time
	// Expertise is the topics the account declares (Tacit peers); nil when the peer
	// does not say, which leaves the stored list alone.
	Expertise []string
	// FeaturedTags are the hashtags the profile shows; nil when the peer does not say.
	FeaturedTags []string
}

// UpsertRemoteAccount stores or refreshes a remote account, keyed by its actor id.
// Profile edits that arrive later (Update{Person}) come through here too.
func (s *Service) UpsertRemoteAccount(ctx context.Context, in RemoteAccount) (*Account, error) {
	if err := s.checkRemoteAccount(in); err != nil {
		return nil, err
	}
	now := s.clock()
	created := in.CreatedAt.UTC()
	if created.IsZero() || created.After(now) {
		created = now
	}
	acct := remoteAccountRow(in, now)
	var featured []string
	if in.FeaturedTags != nil {
		featured = remoteFeaturedTags(in.FeaturedTags)
	}
	// A profile that has not changed is not written again: peers' directories are pulled
	// periodically, and most of what they list is already known as it is.
	existing, same, err := s.storedAsIs(ctx, in, &acct, featured)
	if err != nil {
		return nil, err
	}
	if same {
		return existing, nil
	}
	var out Account
	err = s.txRetryingRace(ctx, func(tx *gorm.DB, ev *[]Event) error {
		var err error
		out, err = s.storeRemoteAccount(tx, ev, in, &acct, created, featured)
		return err
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		// Still a duplicate when run again: the name is taken under another id.
		return nil, Conflict("Account @%s@%s already exists with another id", in.Username, in.Domain)
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// checkRemoteAccount refuses an account whose identity is not its instance's to give.
func (s *Service) checkRemoteAccount(in RemoteAccount) error {
	if err := validateRemoteIdentity(in.URI, in.Domain); err != nil {
		return err
	}
	if in.Domain == s.host {
		return Invalid("Account %s claims this instance's own domain", in.URI)
	}
	if in.Username == "" || len(in.Username) > 255 || strings.ContainsAny(in.Username, "@/ \t\n") {
		return Invalid("Remote account %s has an invalid username", in.URI)
	}
	return nil
}

// remoteAccountRow is the row in describes: sanitized, cut to the bounds, and with
// every address on the account's own host. It has no id yet.
func remoteAccountRow(in RemoteAccount, now time.Time) Account {
	fields := Fields{}
	for i, f := range in.Fields {
		if i == maxRemoteFields {
			break
		}
		fields = append(fields, Field{
			Name:       truncateRunes(markup.PlainText(f.Name), maxRemoteNameRunes),
			Value:      markup.Sanitize(truncateBytes(f.Value, 4096)),
			VerifiedAt: f.VerifiedAt,
		})
	}
	acct := Account{
		Username:     in.Username,
		Domain:       strings.ToLower(in.Domain),
		DisplayName:  truncateRunes(strings.TrimSpace(in.DisplayName), maxRemoteNameRunes),
		Note:         markup.Sanitize(truncateBytes(in.NoteHTML, maxRemoteNoteBytes)),
		Fields:       fields,
		Locked:       in.Locked,
		Bot:          in.Bot,
		Group:        in.Group,
		Discoverable: in.Discoverable,
		AvatarURL:    remoteMediaURL(in.AvatarURL, in.Domain),
		HeaderURL:    remoteMediaURL(in.HeaderURL, in.Domain),
		URI:          in.URI,
		// Every address of an account is on its own host: a peer cannot make this
		// instance deliver to, or show links to, another server or an internal one.
		URL:            originURL(in.URL, in.Domain),
		InboxURL:       originURL(in.InboxURL, in.Domain),
		SharedInboxURL: originURL(in.SharedInboxURL, in.Domain),
		FollowersURL:   originURL(in.FollowersURL, in.Domain),
		PublicKeyPEM:   in.PublicKeyPEM,
		UpdatedAt:      now,
	}
	if acct.URL == "" {
		acct.URL = acct.URI
	}
	acct.Expertise = Topics{}
	if in.Expertise != nil {
		acct.Expertise = remoteExpertise(in.Expertise)
	}
	return acct
}

// storedAsIs reports whether the account is stored already exactly as acct would store
// it, and returns the stored row then. What in leaves out (expertise, key) is taken
// into acct from the stored row, as the update would keep it.
func (s *Service) storedAsIs(ctx context.Context, in RemoteAccount, acct *Account, featured []string) (*Account, bool, error) {
	existing, err := s.accountByURI(ctx, in.URI)
	if err != nil || existing.IsLocal() {
		return nil, false, nil // not known yet (or not readable now: the transaction reads it again)
	}
	if in.Expertise == nil {
		acct.Expertise = existing.Expertise
	}
	if in.PublicKeyPEM == "" {
		acct.PublicKeyPEM = existing.PublicKeyPEM
	}
	same, err := s.sameRemoteProfile(ctx, existing, acct, in.FeaturedTags != nil, featured)
	if err != nil || !same {
		return nil, false, err
	}
	return existing, true, nil
}

// storeRemoteAccount creates the account or updates the stored one, inside tx, and
// returns the row as stored.
func (s *Service) storeRemoteAccount(tx *gorm.DB, ev *[]Event, in RemoteAccount, acct *Account, created time.Time, featured []string) (Account, error) {
	var existing Account
	err := tx.Where("uri = ? AND uri <> ''", in.URI).Take(&existing).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		acct.ID = NewID()
		acct.CreatedAt = created
		if err := tx.Create(acct).Error; err != nil {
			return Account{}, fmt.Errorf("create remote account: %w", err)
		}
		if in.FeaturedTags != nil {
			if err := s.setFeaturedTags(tx, acct.ID, featured); err != nil {
				return Account{}, err
			}
		}
		*ev = append(*ev, AccountCreated{Account: *acct})
		return *acct, nil
	case err != nil:
		return Account{}, fmt.Errorf("load remote account: %w", err)
	}
	acct.ID, acct.CreatedAt = existing.ID, existing.CreatedAt
	if in.Expertise == nil {
		acct.Expertise = existing.Expertise
	}
	// A profile listed without its key (a peer's directory) keeps the known one.
	if in.PublicKeyPEM == "" {
		acct.PublicKeyPEM = existing.PublicKeyPEM
	}
	if err := tx.Model(&Account{}).Where("id = ?", existing.ID).Select(
		"username", "display_name", "note", "fields", "expertise", "locked", "bot", "is_group", "discoverable",
		"avatar_url", "header_url", "url", "inbox_url", "shared_inbox_url", "followers_url",
		"public_key_pem", "updated_at").Updates(acct).Error; err != nil {
		return Account{}, fmt.Errorf("update remote account: %w", err)
	}
	if in.FeaturedTags != nil {
		if err := s.setFeaturedTags(tx, existing.ID, featured); err != nil {
			return Account{}, err
		}
	}
	var out Account
	if err := tx.Take(&out, existing.ID).Error; err != nil {
		return Account{}, fmt.Errorf("reload remote account: %w", err)
	}
	*ev = append(*ev, AccountUpdated{Account: out})
	return out, nil
}

// sameRemoteProfile reports whether storing next over existing would change nothing.
func (s *Service) sameRemoteProfile(ctx context.Context, existing, next *Account, tagsStated bool, featured []string) (bool, error) {
	e, n := *existing, *next
	if e.Username != n.Username || e.DisplayName != n.DisplayName || e.Note != n.Note ||
		e.Locked != n.Locked || e.Bot != n.Bot || e.Group != n.Group || e.Discoverable != n.Discoverable ||
		e.AvatarURL != n.AvatarURL || e.HeaderURL != n.HeaderURL || e.URL != n.URL || e.InboxURL != n.InboxURL ||
		e.SharedInboxURL != n.SharedInboxURL || e.FollowersURL != n.FollowersURL || e.PublicKeyPEM != n.PublicKeyPEM ||
		!slices.Equal(e.Expertise, n.Expertise) || len(e.Fields) != len(n.Fields) {
		return false, nil
	}
	for i := range e.Fields {
		ef, nf := e.Fields[i], n.Fields[i]
		if ef.Name != nf.Name || ef.Value != nf.Value || (ef.VerifiedAt == nil) != (nf.VerifiedAt == nil) ||
			(ef.VerifiedAt != nil && !ef.VerifiedAt.Equal(*nf.VerifiedAt)) {
			return false, nil
		}
	}
	if !tagsStated {
		return true, nil
	}
	names, err := s.FeaturedTagNames(ctx, []int64{existing.ID})
	if err != nil {
		return false, err
	}
	return slices.Equal(names[existing.ID], featured), nil
}

// remoteFeaturedTags keeps the hashtag names a peer listed that are valid here,
// normalized, once each, at most MaxFeaturedTags.
func remoteFeaturedTags(in []string) []string {
	var out []string
	for _, raw := range in {
		name, err := NormalizeTagName(raw)
		if err != nil || slices.Contains(out, name) {
			continue
		}
		out = append(out, name)
		if len(out) == MaxFeaturedTags {
			break
		}
	}
	return out
}

// setFeaturedTags makes an account's featured tags exactly names, in that order.
func (s *Service) setFeaturedTags(tx *gorm.DB, accountID int64, names []string) error {
	if err := tx.Where("account_id = ?", accountID).Delete(&FeaturedTag{}).Error; err != nil {
		return fmt.Errorf("clear featured tags: %w", err)
	}
	for _, name := range names {
		tag, err := s.findOrCreateTag(tx, name)
		if err != nil {
			return err
		}
		ft := FeaturedTag{ID: NewID(), AccountID: accountID, TagID: tag.ID, CreatedAt: s.clock()}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&ft).Error; err != nil {
			return fmt.Errorf("create featured tag: %w", err)
		}
	}
	return nil
}

// Lookups by ActivityPub id say "uri <> ''" although no id is empty: the unique
// indexes on uri are partial (WHERE uri <> ''), and a database uses a partial index only
// for queries that imply its condition; without it, every lookup scans the table.

// accountByURI finds an account (local or remote) by its ActivityPub id.
func (s *Service) accountByURI(ctx context.Context, uri string) (*Account, error) {
	var a Account
	if err := s.read(ctx).Where("uri = ? AND uri <> ''", uri).Take(&a).Error; err != nil {
		return nil, notFound(err, "account")
	}
	return &a, nil
}

// DeleteRemoteAccount removes a remote account its instance deleted, with everything it
// wrote.
func (s *Service) DeleteRemoteAccount(ctx context.Context, a *Account) error {
	if a.IsLocal() {
		return Forbidden("A local account cannot be deleted from another instance")
	}
	return s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		if err := removeAccount(tx, ev, a.ID); err != nil {
			return err
		}
		*ev = append(*ev, AccountDeleted{Account: *a})
		return nil
	})
}
